"""Self-contained bearer tokens: ``<payload>.<signature>``, HMAC-SHA256 with the store's key.

Checking one costs no database round trip, and a file-backed backend still honours the tokens
it issued before a restart::

    tokens = TokenIssuer(store.signing_key)
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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and verifies ``<payload>.<signature>`` bearer tokens."""

    def __init__(self, key: bytes, lifetime: int = TOKEN_LIFETIME) -> None:
        self._key = key
        self.lifetime = lifetime
        # token -> (client id, expiry): a client sends the same token with every request,
        # and checking the signature each time cost a noticeable share of a request.
        self._verified: dict[str, tuple[str, float]] = {}

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, client_id: str) -> str:
        claims = {"sub": client_id, "exp": int(time.time()) + self.lifetime}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str) -> str | None:
        """The client id the token was issued to, or None if forged or expired."""
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
        if not isinstance(claims, dict) or claims.get("exp", 0) < time.time():
            return None
        sub = claims.get("sub")
        if not isinstance(sub, str):
            return None
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (sub, float(claims["exp"]))
        return sub
