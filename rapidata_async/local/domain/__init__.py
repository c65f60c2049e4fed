"""Domain rules of the local backend: no I/O, no aiohttp, no SQL.

Referees, confidence, limits, tasks and the results document live here; the store and the
HTTP edge import from this package, never the other way round.
"""
