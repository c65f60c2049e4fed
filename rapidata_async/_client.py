"""``AsyncRapidataClient``: configuration, lifecycle and the resource managers.

async with AsyncRapidataClient(client_id=..., client_secret=...) as client:
    audience = (await client.audience.find_audiences("alignment"))[0]
"""

from __future__ import annotations

import enum
import os
import ssl
from functools import cached_property
from types import TracebackType
from typing import Any

import anyio

from . import _constants as C
from ._context import ClientContext
from ._credentials import resolve_credentials
from ._transport import Transport, TransportSettings
from ._uploads._cache import AssetCache
from .audience import AudienceManager
from .job import JobManager

DEFAULT_ENVIRONMENT = "rapidata.ai"


class _State(enum.Enum):
    UNOPENED = 1
    OPENED = 2
    CLOSED = 3


class AsyncRapidataClient:
    """The entry point: ``async with AsyncRapidataClient(...) as client``.

    Hosts come from ``environment`` (argument, else ``RAPIDATA_ENVIRONMENT``, else
    ``rapidata.ai``): API ``https://api.{env}``, token ``https://auth.{env}/connect/token``,
    dashboard ``https://app.{env}``; explicit ``api_url``/``auth_url``/``app_url`` win (that is how
    the local backend binds). Credentials: arguments, then ``RAPIDATA_CLIENT_ID`` /
    ``RAPIDATA_CLIENT_SECRET``, then ``~/.config/rapidata/credentials.json``; or a ready
    ``token`` dict. One HTTP connection pool per client, closed on exit.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        environment: str | None = None,
        api_url: str | None = None,
        auth_url: str | None = None,
        app_url: str | None = None,
        cert_path: str | None = None,
        token: dict[str, Any] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        env = environment or os.environ.get("RAPIDATA_ENVIRONMENT") or DEFAULT_ENVIRONMENT
        self.environment = env
        self.api_url = (api_url or f"https://api.{env}").rstrip("/")
        self.auth_url = (auth_url or f"https://auth.{env}").rstrip("/")
        self.app_url = (app_url or f"https://app.{env}").rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._cert_path = cert_path
        self._token = token
        self._timeout = timeout
        self._max_retries = C.MAX_RETRIES if max_retries is None else max_retries
        self._state = _State.UNOPENED
        self._ctx: ClientContext | None = None

    def __repr__(self) -> str:
        return f"AsyncRapidataClient(api_url={self.api_url!r})"

    # -- lifecycle --------------------------------------------------------------------------
    async def open(self) -> None:
        """Resolve credentials and open the connection pool (done by ``async with``)."""
        if self._state is not _State.UNOPENED:
            raise RuntimeError("an AsyncRapidataClient can be opened only once")
        client_id, client_secret = self._client_id, self._client_secret
        if self._token is None:
            client_id, client_secret = await resolve_credentials(
                client_id, client_secret, environment=self.environment
            )
        ssl_ctx = None
        if self._cert_path:
            ssl_ctx = await anyio.to_thread.run_sync(
                lambda: ssl.create_default_context(cafile=self._cert_path)
            )
        settings = TransportSettings(
            api_url=self.api_url,
            auth_url=self.auth_url,
            client_id=client_id,
            client_secret=client_secret,
            token=self._token,
            ssl=ssl_ctx,
            max_retries=self._max_retries,
            read_timeout=C.READ_TIMEOUT if self._timeout is None else self._timeout,
        )
        transport = Transport(settings)
        await transport.open()
        self._ctx = ClientContext(
            transport=transport,
            environment=self.environment,
            app_url=self.app_url,
            asset_cache=AssetCache(self.api_url),
        )
        self._state = _State.OPENED

    async def aclose(self) -> None:
        """Close the connection pool. Safe to call twice."""
        if self._state is _State.OPENED and self._ctx is not None:
            try:
                await self._ctx.asset_cache.aclose()
            finally:
                await self._ctx.transport.aclose()
        self._state = _State.CLOSED

    async def __aenter__(self) -> AsyncRapidataClient:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def _context(self) -> ClientContext:
        if self._state is _State.UNOPENED or self._ctx is None:
            raise RuntimeError(
                "the client is not open: use `async with AsyncRapidataClient(...) as client:`"
            )
        if self._state is _State.CLOSED:
            raise RuntimeError("the client is closed")
        return self._ctx

    # -- managers ---------------------------------------------------------------------------
    @cached_property
    def audience(self) -> AudienceManager:
        """Audiences: ``find_audiences``, ``get_audience_by_id``, ``create_audience``."""
        return AudienceManager(self._context)

    @cached_property
    def job(self) -> JobManager:
        """Job definitions and jobs: ``create_compare_job_definition``, ``find_jobs``, …"""
        return JobManager(self._context)
