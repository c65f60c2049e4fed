"""Self-contained bearer tokens: ``<payload>.<signature>``, HMAC-SHA256 with the backend's key.

The key lives outside the database (``store.credentials.load_signing_key``), so a backend
that keeps its key file still honours the tokens it issued before a restart. A token lives
``TOKEN_LIFETIME`` seconds (the real service's hour); one that claims to live longer is
refused even when its signature is right::

    tokens = TokenIssuer(key)
    client_id = tokens.verify(tokens.issue("local-1234"))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

TOKEN_LIFETIME = 3600
VERIFIED_CACHE_SIZE = 1024
# Clock steps between processes sharing a key that an expiry may be ahead by.
CLOCK_SLACK = 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and verifies ``<payload>.<signature>`` bearer tokens."""

    def __init__(self, key: bytes, lifetime: int = TOKEN_LIFETIME) -> None:
        if not 0 < lifetime <= TOKEN_LIFETIME:
            raise ValueError(f"lifetime must be within 1..{TOKEN_LIFETIME} seconds")
        self._key = key
        self.lifetime = lifetime
        # token -> (client id, expiry): a client sends the same token with every request,
        # and checking the signature each time cost a noticeable share of a request.
        self._verified: dict[str, tuple[str, float]] = {}

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def derive(self, purpose: str) -> bytes:
        """A key for another use of the backend's key (the labeling page's session cookies),
        so that nothing signed for one purpose passes as another."""
        return hmac.new(self._key, f"derive:{purpose}".encode(), hashlib.sha256).digest()

    def issue(self, client_id: str) -> str:
        claims = {"sub": client_id, "exp": int(time.time()) + self.lifetime}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str) -> str | None:
        """The client id the token was issued to, or None if forged, expired, or claiming a
        longer life than a token gets."""
        known = self._verified.get(token)
        if known is not None:
            if known[1] >= time.time():
                return known[0]
            del self._verified[token]
            return None
        payload, _, signature = token.partition(".")
        if not payload or not signature or not payload.isascii():
            return None
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            claims = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(claims, dict):
            return None
        exp, now = claims.get("exp", 0), time.time()
        if not isinstance(exp, int | float) or exp < now:
            return None
        if exp > now + TOKEN_LIFETIME + CLOCK_SLACK:
            return None
        sub = claims.get("sub")
        if not isinstance(sub, str):
            return None
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (sub, float(claims["exp"]))
        return sub
