"""``TransportSettings``: everything a ``Transport`` needs, checked once at construction."""

from __future__ import annotations

import math
import ssl as _ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import _constants as C


@dataclass(frozen=True)
class TransportSettings:
    """Hosts, credentials, timeouts (seconds), retry and pool settings of one ``Transport``.

    Authentication needs either ``client_id`` + ``client_secret`` (with ``auth_url``: tokens
    come from ``{auth_url}/connect/token``) or a ready ``token`` dict
    ``{"access_token", "token_type", "expires_at"}`` (epoch seconds; ``expires_in`` also
    accepted). With both, the token is used first and renewed with the credentials.
    Secrets are left out of ``repr``.
    """

    api_url: str
    auth_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    token: Mapping[str, Any] | None = field(default=None, repr=False)
    ssl: _ssl.SSLContext | None = None
    connect_timeout: float = C.CONNECT_TIMEOUT
    read_timeout: float = C.READ_TIMEOUT
    max_retries: int = C.MAX_RETRIES
    backoff_base: float = C.BACKOFF_BASE
    backoff_cap: float = C.BACKOFF_CAP
    retry_after_cap: float = C.RETRY_AFTER_CAP
    max_connections: int = C.MAX_CONNECTIONS
    scope: str = C.DEFAULT_SCOPE
    user_agent: str = C.DEFAULT_USER_AGENT

    def __post_init__(self) -> None:
        for name in ("api_url", "auth_url"):
            url = getattr(self, name)
            if url is None:
                continue
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValueError(f"{name} must be an http(s) URL, got {url!r}")
            object.__setattr__(self, name, url.rstrip("/"))
        for name in ("connect_timeout", "read_timeout"):
            _check_number(name, getattr(self, name), minimum=0, inclusive=False)
        for name in ("backoff_base", "backoff_cap", "retry_after_cap"):
            _check_number(name, getattr(self, name), minimum=0, inclusive=True)
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        if not isinstance(self.max_connections, int) or self.max_connections < 1:
            raise ValueError(
                f"max_connections must be an integer >= 1, got {self.max_connections!r}"
            )
        if self.token is not None:
            access_token = self.token.get("access_token")
            if not isinstance(access_token, str) or not access_token:
                raise ValueError("token must be a dict with a non-empty 'access_token'")
        has_credentials = bool(self.client_id) and bool(self.client_secret)
        if self.token is None and not has_credentials:
            raise ValueError("TransportSettings needs client_id and client_secret, or a token")
        if has_credentials and self.auth_url is None:
            raise ValueError("auth_url is required to exchange client credentials for a token")

    @property
    def token_url(self) -> str:
        """Where access tokens are requested: ``{auth_url}/connect/token``."""
        return f"{self.auth_url or self.api_url}/connect/token"

    @property
    def can_refresh(self) -> bool:
        """Whether new tokens can be requested (client credentials are known)."""
        return bool(self.client_id) and bool(self.client_secret)


def _check_number(name: str, value: Any, *, minimum: float, inclusive: bool) -> None:
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= minimum if inclusive else value > minimum)
    )
    if not ok:
        op = ">=" if inclusive else ">"
        raise ValueError(f"{name} must be a finite number {op} {minimum:g}, got {value!r}")
