"""OAuth2 client-credentials tokens: the request, the answer, and a single-flight cache."""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import anyio
import msgspec

from .. import _constants as C
from .._exceptions import AuthenticationError, RapidataResponseValidationError
from ._errors import status_error
from ._settings import TransportSettings


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float | None
    """Epoch seconds; None when the issuer did not say (then it is renewed only on a 401)."""

    def __repr__(self) -> str:
        return f"Token(access_token='***', expires_at={self.expires_at!r})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, now: float) -> Token:
        expires_at = data.get("expires_at")
        expires_in = data.get("expires_in")
        if isinstance(expires_at, (int, float)):
            return cls(str(data["access_token"]), float(expires_at))
        if isinstance(expires_in, (int, float)):
            return cls(str(data["access_token"]), now + float(expires_in))
        return cls(str(data["access_token"]), None)

    def usable_for(self, seconds: float, *, now: float) -> bool:
        return self.expires_at is None or self.expires_at - now > seconds


class _TokenAnswer(msgspec.Struct):
    access_token: str
    token_type: str = "Bearer"
    expires_in: float | None = None


class _OAuthError(msgspec.Struct):
    error: str
    error_description: str | None = None


_token_decoder = msgspec.json.Decoder(_TokenAnswer)
_oauth_error_decoder = msgspec.json.Decoder(_OAuthError)


def token_request(settings: TransportSettings) -> tuple[dict[str, str], bytes]:
    """Headers and form body of the client-credentials request (client auth: HTTP Basic)."""
    # RFC 6749 §2.3.1: form-encode id and secret before joining them for Basic auth.
    pair = (
        f"{quote(settings.client_id or '', safe='')}:{quote(settings.client_secret or '', safe='')}"
    )
    headers = {
        "Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii"),
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        "User-Agent": settings.user_agent,
    }
    body = urlencode({"grant_type": "client_credentials", "scope": settings.scope}).encode()
    return headers, body


def parse_token_answer(
    status: int,
    reason: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    url: str,
    now: float,
) -> Token:
    """The token of a 200 answer; an OAuth error (``invalid_client`` …) raises
    ``AuthenticationError``, any other failure the usual typed status error."""
    if status == 200:
        try:
            answer = _token_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise RapidataResponseValidationError(
                f"token answer is not a valid OAuth token response: {exc}",
                method="POST",
                url=url,
                status_code=status,
            ) from exc
        expires_at = now + answer.expires_in if answer.expires_in is not None else None
        return Token(answer.access_token, expires_at)
    try:
        oauth = _oauth_error_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        oauth = None
    if oauth is not None:
        if oauth.error == "invalid_client":
            title = (
                "the client credentials were rejected (invalid_client): "
                "check client_id and client_secret"
            )
        else:
            title = f"the token request was refused ({oauth.error})"
            if oauth.error_description:
                title += f": {oauth.error_description}"
        raise AuthenticationError(
            title,
            method="POST",
            url=url,
            status_code=status,
            title=title,
            trace_id=headers.get("x-trace-id"),
        )
    raise status_error("POST", url, status, reason, headers, body)


class TokenCache:
    """Holds the current access token and renews it, one renewal at a time.

    ``fetch`` performs the token request. When many requests find the token about to expire at
    once, the first one renews it under the lock and the others reuse its result.
    """

    def __init__(self, settings: TransportSettings, fetch: Callable[[], Awaitable[Token]]) -> None:
        self._settings = settings
        self._fetch = fetch
        self._lock = anyio.Lock()
        self._token: Token | None = (
            Token.from_dict(settings.token, now=time.time()) if settings.token else None
        )
        self.fetch_count = 0
        """How many token requests were made (observability and tests)."""

    @property
    def can_refresh(self) -> bool:
        return self._settings.can_refresh

    async def get(self) -> str:
        """A token valid for more than ``TOKEN_LEEWAY`` seconds, renewing it when needed."""
        token = self._token
        if token is not None and token.usable_for(C.TOKEN_LEEWAY, now=time.time()):
            return token.access_token
        async with self._lock:
            token = self._token
            if token is not None and token.usable_for(C.TOKEN_LEEWAY, now=time.time()):
                return token.access_token
            if not self.can_refresh:
                # A ready token without credentials cannot be renewed: use it while it is valid.
                if token is not None and token.usable_for(0, now=time.time()):
                    return token.access_token
                raise AuthenticationError(
                    "the access token expired and there are no client credentials to renew it",
                    method="POST",
                    url=self._settings.token_url,
                    status_code=401,
                )
            self.fetch_count += 1
            self._token = await self._fetch()
            return self._token.access_token

    def invalidate(self, access_token: str) -> None:
        """Forget ``access_token`` (the server rejected it) unless it was already replaced."""
        if self._token is not None and self._token.access_token == access_token:
            self._token = None
