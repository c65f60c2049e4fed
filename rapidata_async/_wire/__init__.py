"""msgspec structs that mirror the Rapidata REST JSON, one module per service.

Both sides use them: the SDK encodes requests and decodes answers with them, and the local
backend decodes requests and encodes answers with the very same structs.
"""
