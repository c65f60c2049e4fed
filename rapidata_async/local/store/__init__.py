"""The store seam: persistence of the local backend behind small interfaces per aggregate.

``base`` holds the interfaces and the row types; ``sqlite`` (embedded default) and
``postgres`` (asyncpg, the ``postgres`` extra) implement them. ``open_store(db)`` picks one from
the ``--db`` value: a ``postgresql://`` URL, a file path, or None for in-memory SQLite.
"""
