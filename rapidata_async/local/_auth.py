"""OAuth2 client-credentials for the local backend: ``/connect/token`` and bearer checks.

Tokens are self-contained and signed (``_tokens``)::

    POST /connect/token   Authorization: Basic base64(id:secret)   grant_type=client_credentials
    -> {"access_token": "...", "token_type": "Bearer", "expires_in": 3600, "scope": "..."}

Secrets and tokens are never logged.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from aiohttp import hdrs, web

from ._context import ctx
from ._errors import Unauthorized
from ._http import public, read_body
from ._limits import TOKEN_FORM_BYTES
from ._tokens import TOKEN_LIFETIME
from .store.base import OWNER_MAIL

routes = web.RouteTableDef()


def _token_client(request: web.Request) -> str:
    """The client id the request's bearer token was issued to; 401 when there is none."""
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


async def authenticate(request: web.Request) -> str:
    """The tenant of the client behind the request's bearer token (which must still exist);
    401 ProblemDetails otherwise."""
    client_id = _token_client(request)
    owner = await ctx(request).clients.tenant_of(client_id)
    if owner is None:
        raise Unauthorized("The client of this bearer token was revoked.")
    return owner


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
    ``client_id``/``client_secret`` form fields; ``scope`` is echoed, not enforced. The form
    is at most ``TOKEN_FORM_BYTES`` (a 413 before the rest is read)."""
    raw = await read_body(request, TOKEN_FORM_BYTES)
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
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
    # No stored id holds a NUL (PostgreSQL refuses them in text): such an id names no client.
    known = "\x00" not in client_id
    owner = await ctx(request).clients.check_secret(client_id, client_secret) if known else None
    if owner is None:
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
    return web.json_response({"sub": _token_client(request), "email": OWNER_MAIL})
