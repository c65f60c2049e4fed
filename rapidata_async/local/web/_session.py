"""The labeling page's session cookie and its CSRF token.

The cookie is self-contained and signed with a key derived from the backend's signing key
(``TokenIssuer.derive``), so every process sharing the key honours it and nothing is stored:
``<payload>.<signature>``, the payload naming the labeler (none before sign-in), a random
session id and an expiry. It is ``HttpOnly``, ``SameSite=Strict``, ``Path=/label`` and
``Secure`` whenever the browser treats the page as a secure context (https, or a loopback
host). Every form carries ``csrf``, an HMAC of the session id: a POST whose token does not
match its cookie's session is refused (403), as is one whose ``Origin`` names another site.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from aiohttp import web

from .._context import ctx

COOKIE = "rapidata_label"
SESSION_SECONDS = 12 * 3600
"""How long a sign-in lasts."""
ANONYMOUS_SECONDS = 3600
"""How long the session of the sign-in form lasts (before the invite is checked)."""
_LOOPBACK = ("127.0.0.1", "::1", "[::1]", "localhost")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Session:
    """``labeler``: who signed in (None: the sign-in form's session); ``sid``: random."""

    labeler: str | None
    sid: str
    expires: int


class Sessions:
    """Issues and reads the session cookie of one backend."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def of(cls, request: web.Request) -> Sessions:
        return cls(ctx(request).tokens.derive("label-session"))

    def _sign(self, text: str) -> str:
        return _b64(hmac.new(self._key, text.encode("ascii"), hashlib.sha256).digest())

    def read(self, request: web.Request) -> Session | None:
        """The request's valid session, or None (no cookie, forged, expired)."""
        value = request.cookies.get(COOKIE, "")
        payload, _, signature = value.partition(".")
        if not payload or not signature or not payload.isascii() or not signature.isascii():
            return None
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            claims = json.loads(_unb64(payload))
            session = Session(claims["sub"], str(claims["sid"]), int(claims["exp"]))
        except (ValueError, binascii.Error, KeyError, TypeError):
            return None
        if session.expires < time.time() or not (
            session.labeler is None or isinstance(session.labeler, str)
        ):
            return None
        return session

    def start(
        self, request: web.Request, response: web.StreamResponse, labeler: str | None
    ) -> Session:
        """A new session (a new id: never the one from before sign-in) set as the cookie."""
        lifetime = SESSION_SECONDS if labeler is not None else ANONYMOUS_SECONDS
        session = Session(labeler, secrets.token_urlsafe(16), int(time.time()) + lifetime)
        claims = {"sub": session.labeler, "sid": session.sid, "exp": session.expires}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        response.set_cookie(
            COOKIE,
            f"{payload}.{self._sign(payload)}",
            max_age=lifetime,
            path="/label",
            httponly=True,
            samesite="Strict",
            secure=request.secure or request.url.host in _LOOPBACK,
        )
        return session

    def end(self, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/label")

    def csrf(self, session: Session) -> str:
        """The form token of ``session``."""
        return self._sign(f"csrf:{session.sid}")

    def check_post(self, request: web.Request, session: Session | None, token: str) -> bool:
        """Whether a form POST may proceed: a session, its CSRF token, and no foreign
        ``Origin``."""
        origin = request.headers.get("Origin")
        # "null": the pages' no-referrer policy makes browsers hide even their own origin.
        if origin not in (None, "null", str(request.url.origin())):
            return False
        if session is None or not token.isascii():
            return False
        return hmac.compare_digest(token, self.csrf(session))
