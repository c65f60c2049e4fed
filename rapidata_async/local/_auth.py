"""OAuth2 client-credentials for the local backend: ``/connect/token`` and bearer checks.

Tokens are self-contained and signed (HMAC-SHA256 with a key kept in the store), so checking
one costs no database round trip and a file-backed backend still honours the tokens it issued
before a restart::

    POST /connect/token   Authorization: Basic base64(id:secret)   grant_type=client_credentials
    -> {"access_token": "...", "token_type": "Bearer", "expires_in": 3600, "scope": "..."}

Secrets and tokens are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from urllib.parse import unquote

from aiohttp import hdrs, web

from ._errors import Unauthorized
from ._http import ctx, public
from ._store import OWNER_MAIL

TOKEN_LIFETIME = 3600
VERIFIED_CACHE_SIZE = 1024

routes = web.RouteTableDef()


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


def authenticate(request: web.Request) -> str:
    """The client id behind the request's bearer token; 401 ProblemDetails otherwise."""
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "This endpoint needs 'Authorization: Bearer <token>'; get a token from "
            "POST /connect/token with the backend's client credentials."
        )
    client_id = ctx(request).tokens.verify(token.strip())
    if client_id is None:
        raise Unauthorized("The bearer token is invalid or has expired; request a new one.")
    return client_id


def _basic_credentials(encoded: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, sep, password = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 2.3.1: both parts are form-urlencoded before the Basic encoding.
    return unquote(login), unquote(password)


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    response = web.json_response({"error": error, "error_description": description}, status=status)
    response.headers[hdrs.CACHE_CONTROL] = "no-store"
    if status == 401:
        response.headers[hdrs.WWW_AUTHENTICATE] = 'Basic realm="rapidata-local"'
    return response


@routes.post("/connect/token")
@public
async def token(request: web.Request) -> web.Response:
    """Client-credentials grant. Credentials by HTTP Basic (as authlib sends them) or as
    ``client_id``/``client_secret`` form fields; ``scope`` is echoed, not enforced."""
    form = await request.post()
    client_id = str(form.get("client_id", ""))
    client_secret = str(form.get("client_secret", ""))
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    if header[:6].lower() == "basic ":
        basic = _basic_credentials(header[6:])
        if basic is None:
            return _oauth_error(401, "invalid_client", "Malformed Basic credentials.")
        client_id, client_secret = basic
    if not client_id or not client_secret:
        return _oauth_error(401, "invalid_client", "Client credentials are required.")
    stored = await ctx(request).store.client_secret(client_id)
    if stored is None or not hmac.compare_digest(stored.encode(), client_secret.encode()):
        return _oauth_error(401, "invalid_client", "Unknown client or wrong secret.")
    grant_type = form.get("grant_type", "client_credentials")
    if grant_type != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", "Only the client_credentials grant is supported."
        )
    response = web.json_response(
        {
            "access_token": ctx(request).tokens.issue(client_id),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": str(form.get("scope", "openid email api")),
        }
    )
    response.headers[hdrs.CACHE_CONTROL] = "no-store"
    return response


@routes.get("/connect/userinfo")
async def userinfo(request: web.Request) -> web.Response:
    return web.json_response({"sub": authenticate(request), "email": OWNER_MAIL})
