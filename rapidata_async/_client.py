"""``AsyncRapidataClient``: configuration, lifecycle and the resource managers.

async with AsyncRapidataClient(client_id=..., client_secret=...) as client:
    audience = (await client.audience.find_audiences("alignment"))[0]

async with AsyncRapidataClient(base_url="http://127.0.0.1:8080", ...) as client:  # local
    patient = client.with_options(timeout=120, max_retries=5)
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import os
import re
import ssl
from functools import cached_property
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import anyio

from . import _constants as C
from ._context import ClientContext
from ._credentials import resolve_credentials
from ._transport import Transport, TransportSettings
from ._uploads._cache import AssetCache
from .audience import AudienceManager
from .flow import FlowManager
from .job import JobManager
from .mri import RapidataBenchmarkManager
from .order import OrderManager
from .validation import ValidationSetManager

DEFAULT_ENVIRONMENT = C.DEFAULT_ENVIRONMENT
ENV_BASE_URL = "RAPIDATA_BASE_URL"
ENV_ENVIRONMENT = "RAPIDATA_ENVIRONMENT"

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


class _State(enum.Enum):
    UNOPENED = 1
    OPENED = 2
    CLOSED = 3


class AsyncRapidataClient:
    """The entry point: ``async with AsyncRapidataClient(...) as client``.

    Where it connects:

    - ``base_url`` (argument, else ``RAPIDATA_BASE_URL``): one server that answers the API,
      the token endpoint (``{base_url}/connect/token``) and the dashboard links, e.g. the local
      backend ``http://127.0.0.1:8080``;
    - otherwise ``environment`` (argument, else ``RAPIDATA_ENVIRONMENT``, else
      ``rapidata.ai``), the domain of the hosted service: API ``https://api.{env}``, token
      ``https://auth.{env}/connect/token``, dashboard ``https://app.{env}``.

    ``api_url``/``auth_url``/``app_url`` override single hosts. Credentials are only ever sent
    to a host you named: ``api_url`` without ``auth_url`` (or ``base_url``) is an error unless
    a ready ``token`` is given. Credentials: arguments, then ``RAPIDATA_CLIENT_ID`` /
    ``RAPIDATA_CLIENT_SECRET``, then ``~/.config/rapidata/credentials.json``; or a ready
    ``token`` dict.

    Timeouts (seconds): ``connect_timeout`` to open a connection (default 10), ``timeout`` the
    longest silence while waiting for an answer (default 30); a timed-out attempt is repeated
    once, other failures up to ``max_retries`` times (default 3). One HTTP connection pool per
    client, closed on exit (``aclose()``/``close()``); ``with_options()`` shares it.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        base_url: str | None = None,
        environment: str | None = None,
        api_url: str | None = None,
        auth_url: str | None = None,
        app_url: str | None = None,
        cert_path: str | None = None,
        token: dict[str, Any] | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        if base_url is not None and environment is not None:
            raise ValueError("pass either base_url (one server) or environment (hosted), not both")
        if base_url is None and environment is None:
            base_url = os.environ.get(ENV_BASE_URL) or None
        if base_url is not None:
            base = _check_base_url(base_url)
            self.environment: str = urlsplit(base).netloc
            default_api = default_auth = default_app = base
        else:
            env = environment or os.environ.get(ENV_ENVIRONMENT) or DEFAULT_ENVIRONMENT
            self.environment = _check_environment(env, from_env=environment is None)
            default_api = f"https://api.{self.environment}"
            default_auth = f"https://auth.{self.environment}"
            default_app = f"https://app.{self.environment}"
            if api_url is not None and auth_url is None and token is None:
                raise ValueError(
                    f"api_url={api_url!r} without auth_url: the client credentials would go to "
                    f"{default_auth}, a host you did not name. For a server that also issues "
                    "tokens (the local backend) pass base_url=...; otherwise pass auth_url too"
                )
        self.api_url: str = (api_url or default_api).rstrip("/")
        """Where API calls go."""
        self.auth_url: str = (auth_url or default_auth).rstrip("/")
        """Where the token request goes (``{auth_url}/connect/token``)."""
        self.app_url: str = (app_url or default_app).rstrip("/")
        """The base of the dashboard links ``preview()`` and ``view()`` return."""
        self._client_id = client_id
        self._client_secret = client_secret
        self._cert_path = cert_path
        self._token = token
        self._timeout = C.READ_TIMEOUT if timeout is None else timeout
        self._connect_timeout = C.CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        self._max_retries = C.MAX_RETRIES if max_retries is None else max_retries
        # Checked now, not at open: a bad value is the caller's mistake, on this line.
        TransportSettings(
            api_url=self.api_url,
            token={"access_token": "check"},
            read_timeout=self._timeout,
            connect_timeout=self._connect_timeout,
            max_retries=self._max_retries,
        )
        self._state = _State.UNOPENED
        self._ctx: ClientContext | None = None
        self._owns_pool = True

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
            read_timeout=self._timeout,
            connect_timeout=self._connect_timeout,
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
        """Close the connection pool. Safe to call twice; a client made by
        ``with_options()`` leaves the shared pool to the client it came from."""
        if self._state is _State.OPENED and self._ctx is not None and self._owns_pool:
            try:
                await self._ctx.asset_cache.aclose()
            finally:
                await self._ctx.transport.aclose()
        self._state = _State.CLOSED

    async def close(self) -> None:
        """Same as ``aclose()``."""
        await self.aclose()

    def with_options(
        self,
        *,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> AsyncRapidataClient:
        """A client using other timeouts or retries, sharing this client's connection pool,
        token and upload cache (``None`` keeps the current value). Only the original client
        closes the pool:

            slow = client.with_options(timeout=300, max_retries=6)
            results = await (await slow.job.get_job_by_id(job_id)).get_results()
        """
        ctx = self._context
        other = object.__new__(AsyncRapidataClient)
        other.__dict__.update(
            {
                k: v
                for k, v in self.__dict__.items()
                if k not in ("audience", "job", "flow", "mri", "order", "validation")
            }
        )
        other._timeout = self._timeout if timeout is None else timeout
        if connect_timeout is not None:
            other._connect_timeout = connect_timeout
        other._max_retries = self._max_retries if max_retries is None else max_retries
        transport = ctx.transport.with_settings(
            read_timeout=other._timeout,
            connect_timeout=other._connect_timeout,
            max_retries=other._max_retries,
        )
        other._ctx = dataclasses.replace(ctx, transport=transport)
        other._owns_pool = False
        return other

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
        pool_closed = self._ctx is not None and self._ctx.transport.is_closed
        if self._state is _State.CLOSED or pool_closed:
            raise RuntimeError(
                "the client is closed: open a new one with "
                "`async with AsyncRapidataClient(...) as client:`"
            )
        if self._state is _State.UNOPENED or self._ctx is None:
            raise RuntimeError(
                "the client is not open yet: use `async with AsyncRapidataClient(...) as "
                "client:`, or `client = AsyncRapidataClient(...); await client.open()` and "
                "`await client.close()` when done"
            )
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

    @cached_property
    def flow(self) -> FlowManager:
        """Ranking flows: ``create_ranking_flow``, ``find_flows``, ``get_flow_by_id``."""
        return FlowManager(self._context)

    @cached_property
    def mri(self) -> RapidataBenchmarkManager:
        """Benchmarks and leaderboards: ``create_new_benchmark``, ``find_benchmarks``, …"""
        return RapidataBenchmarkManager(self._context)

    @cached_property
    def order(self) -> OrderManager:
        """Legacy orders (SDK 3.20.1): ``create_compare_order``, ``get_order_by_id``, …; the
        first use warns (``DeprecationWarning``): prefer ``job`` and ``audience``."""
        return OrderManager(self._context)

    @cached_property
    def validation(self) -> ValidationSetManager:
        """Validation sets: ``create_compare_set``, ``create_classification_set``,
        ``get_validation_set_by_id``, ``find_validation_sets``."""
        return ValidationSetManager(self._context)


def _check_base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url must be an http(s) URL such as 'http://127.0.0.1:8080', got {url!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not have a query or fragment, got {url!r}")
    return url.strip().rstrip("/")


def _check_environment(env: str, *, from_env: bool) -> str:
    """The hosted service's domain (``rapidata.ai``), or a ValueError saying what to use."""
    source = f"{ENV_ENVIRONMENT}={env!r}" if from_env else f"environment={env!r}"
    value = env.strip().lower()
    is_address = False
    try:
        ipaddress.ip_address(value.split(":")[0] if value.count(":") == 1 else value)
        is_address = True
    except ValueError:
        pass
    if _DOMAIN.match(value) and not is_address:
        return value
    hint = f"http://{value}" if "://" not in value else value
    raise ValueError(
        f"{source} is not a domain of the hosted service (such as 'rapidata.ai', from which "
        "api., auth. and app. hosts derive). To use one server such as a local backend, set "
        f"{ENV_BASE_URL}={hint!r} or pass base_url={hint!r}"
    )
