"""The HTTP layer: one aiohttp session per client, OAuth2 tokens, retries, error mapping.

from rapidata_async._transport import Transport, TransportSettings
"""

from ._settings import TransportSettings
from ._transport import Transport

__all__ = ["Transport", "TransportSettings"]
