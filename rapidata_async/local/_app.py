"""The local backend: an aiohttp app serving the Rapidata API, its token endpoint and app pages.

::

    async with LocalBackend() as backend:             # in-memory, 127.0.0.1, random port
        async with backend.client() as client:        # AsyncRapidataClient wired to it
            ...

    # or inside your own task group
    async with anyio.create_task_group() as tg:
        url = await tg.start(LocalBackend(db="local.sqlite3").serve)

    # a second tenant: its own credential, sees none of the first one's data
    client_id, secret = await backend.create_client()

Every answer carries an ``x-trace-id`` header; every error is a ProblemDetails body.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import socket
import ssl as ssl_module
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_urldispatcher import MatchInfoError
from anyio.abc import TaskStatus

from . import _auth
from ._auth import authenticate
from ._clients import ClientDirectory
from ._context import CONTEXT, TENANT, Context, ctx
from ._errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    from_domain,
)
from ._http import Handler, reject_nul, respond
from ._labelers import create_invite
from ._limits import DEFAULT_MAX_UPLOAD_BYTES, LARGE_JSON_BYTES
from ._server import ProblemSite
from ._tasks import TaskManager
from ._tokens import TokenIssuer
from .crowd.clock import Pace
from .crowd.population import Oracle, Quality
from .domain.errors import DomainError
from .engine import CROWD_MODES, Engine, LeaderboardSessions
from .services import (
    _flow_routes,
    assets,
    audiences,
    datasets,
    jobs,
    labelers,
    mri,
    orders,
    validation,
)
from .services._batches import LEASE_TTL, BatchRunner
from .services._fetch import DEFAULT_MAX_URL_BYTES, FETCH_CONCURRENCY, UrlFetcher
from .services.flows import FlowSessions
from .store import describe, is_postgres_url, open_store
from .store.base import Store, StoreUnavailable
from .store.blobs import blobs_for
from .store.credentials import KEY_ENV, load_signing_key
from .web import page_routes, security_headers

if TYPE_CHECKING:
    from .._client import AsyncRapidataClient

log = logging.getLogger("rapidata_async.local")

DEFAULT_DB = "rapidata-local.sqlite3"
# Where a PostgreSQL backend keeps uploaded files unless told otherwise: one directory that
# every process started from the same place shares.
DEFAULT_ASSETS_DIR = "rapidata-local-assets"
# The signing key's file inside the assets directory of a PostgreSQL backend (shared by every
# process of one database, like the uploads).
KEY_FILE_NAME = "signing.key"


def _trace_id(request: web.Request) -> str:
    """W3C-style id; reuses the caller's trace from ``traceparent`` so logs line up."""
    parts = request.headers.get("traceparent", "").split("-")
    trace = parts[1] if len(parts) == 4 and len(parts[1]) == 32 else secrets.token_hex(16)
    return f"00-{trace}-{secrets.token_hex(8)}-00"


def _problem(exc: ApiError, trace_id: str) -> web.Response:
    response = respond(exc.problem(trace_id), status=exc.status)
    response.content_type = "application/problem+json"
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _from_http(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return NotFound("No such endpoint.")
    if exc.status == 405:
        return MethodNotAllowed(f"{exc.reason}.")
    if exc.status == 413:
        return PayloadTooLarge("The request body is too large.")
    error = ApiError(exc.text or exc.reason, title=exc.reason)
    error.status = exc.status
    return error


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, run the handler, and turn every error into ProblemDetails."""
    trace_id = _trace_id(request)
    try:
        match = request.match_info
        if not isinstance(match, MatchInfoError) and match.route.resource is not None:
            request.app[CONTEXT].stats[f"{request.method} {match.route.resource.canonical}"] += 1
        if not isinstance(match, MatchInfoError) and not getattr(match.handler, "public", False):
            request[TENANT] = await authenticate(request)
        reject_nul(request)
        response = await handler(request)
    except ApiError as exc:
        response = _problem(exc, trace_id)
    except DomainError as exc:
        response = _problem(from_domain(exc), trace_id)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _problem(_from_http(exc), trace_id)
    except HttpProcessingError as exc:
        # A malformed body part or chunk met while a handler reads the body.
        error = BadRequest(f"The request body is malformed: {exc.message}")
        response = _problem(error, trace_id)
    except Exception:
        log.exception("unhandled error on %s %s (trace %s)", request.method, request.path, trace_id)
        response = _problem(ApiError("The server failed to handle the request."), trace_id)
    response.headers["x-trace-id"] = trace_id
    # No answer of this server is meant to be sniffed into another type (HTML, script).
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


_local_routes = web.RouteTableDef()


@_local_routes.get("/_local/stats")
async def local_stats(request: web.Request) -> web.Response:
    """Request counts per route since start or the last reset
    (``{"requests": {"POST /asset/file": 3, ...}}``), for a bearer token of the backend:
    lets tests and benchmarks see what a client really sent. Not part of the Rapidata API."""
    return respond({"requests": dict(ctx(request).stats)})


def create_app(context: Context) -> web.Application:
    """The aiohttp application serving every route over ``context``; ``LocalBackend`` runs it."""
    app = web.Application(
        middlewares=[security_headers, problem_middleware], client_max_size=LARGE_JSON_BYTES
    )
    app[CONTEXT] = context
    for table in (
        _auth.routes,
        assets.routes,
        datasets.routes,
        jobs.routes,
        orders.routes,
        audiences.routes,
        mri.routes,
        _flow_routes.routes,
        labelers.routes,
        validation.routes,
        page_routes(),
        _local_routes,
    ):
        app.add_routes(table)
    return app


class LocalBackend:
    """The embedded Rapidata backend (API, ``/connect/token``, app pages) on one address.

    ``db``: None keeps everything in memory; a path is a SQLite file that survives restarts
    (credential, data, unfinished jobs resume); a ``postgresql://`` URL a PostgreSQL database
    (the ``postgres`` extra) that several backends may share. Uploaded files go to
    ``assets_dir``: by default ``<db stem>_assets`` beside a SQLite file, nowhere in memory,
    and ``./rapidata-local-assets`` for PostgreSQL (point every process of one database at the
    same directory). ``seed`` makes the crowd reproducible; ``pace`` is how the
    simulated crowd's time passes: ``"instant"`` (no waiting: responses still arrive one at a
    time, as fast as they can be stored) or ``"realistic"``, where crowd time runs ``speed``
    times faster than the wall clock (a labeler answers in a few seconds of crowd time);
    ``oracle`` steers answers; ``quality`` (label -> rating points) is the latent quality by
    which the crowd judges ranking matchups (flows, leaderboards); ``crowd`` says who answers
    jobs: ``"simulated"`` (the simulated crowd), ``"human"`` (people on the labeling page
    ``/label``, invited with ``invite_labeler``: jobs wait for them) or ``"mixed"`` (both);
    ``fetch_urls`` downloads URL assets instead of only recording them: at most
    ``fetch_concurrency`` at once, each up to ``max_url_bytes``, media or text only, and never
    from private, loopback, link-local or multicast addresses unless ``allow_private_urls``.
    ``max_upload_bytes`` caps one uploaded file (``POST /asset/file`` answers 413 past it).
    ``lease_ttl``: seconds a process holds the work it took (a job, recruiting, a URL batch)
    without renewing it; when a process dies, another one takes its work over after that.

    Credentials: the backend holds one of its own for ``client()`` (``client_id``,
    ``client_secret``). On a new database it is the first client, a tenant of its own
    (``created_credential`` is True); on a database that already has clients the secret of
    those cannot be known (only hashes are stored), so with ``own_credential`` (default) the
    backend adds a fresh credential of the first client's tenant, which sees that tenant's
    data; without it (``serve``) it adds none. Tokens are signed with a key kept out of the
    database: ``key_file``, else ``RAPIDATA_LOCAL_SIGNING_KEY``, else ``<db>.key`` beside a
    SQLite file, ``<assets_dir>/signing.key`` for PostgreSQL, or a key of the process in
    memory. Processes sharing a PostgreSQL database must share the key.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        ssl: ssl_module.SSLContext | None = None,
        oracle: Oracle | None = None,
        fetch_urls: bool = False,
        *,
        pace: str = "instant",
        speed: float = 1.0,
        allow_private_urls: bool = False,
        max_url_bytes: int = DEFAULT_MAX_URL_BYTES,
        fetch_concurrency: int = FETCH_CONCURRENCY,
        log_requests: bool = False,
        assets_dir: str | Path | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        lease_ttl: float = LEASE_TTL,
        key_file: str | Path | None = None,
        own_credential: bool = True,
        quality: Quality | None = None,
        crowd: str = "simulated",
    ) -> None:
        self.pace: Pace = Pace(pace, speed)
        if crowd not in CROWD_MODES:
            raise ValueError(f"crowd must be one of {', '.join(CROWD_MODES)}, got {crowd!r}")
        self.crowd = crowd
        if not lease_ttl > 0:
            raise ValueError(f"lease_ttl must be > 0, got {lease_ttl}")
        if max_url_bytes <= 0:
            raise ValueError(f"max_url_bytes must be > 0, got {max_url_bytes}")
        if fetch_concurrency <= 0:
            raise ValueError(f"fetch_concurrency must be > 0, got {fetch_concurrency}")
        if max_upload_bytes <= 0:
            raise ValueError(f"max_upload_bytes must be > 0, got {max_upload_bytes}")
        self.db = db
        if assets_dir is None and is_postgres_url(db):
            assets_dir = DEFAULT_ASSETS_DIR
        self.assets_dir: Path | None = Path(assets_dir) if assets_dir is not None else None
        self.host = host
        self.port = port
        self.seed = seed
        self.ssl = ssl
        self.oracle = oracle
        self._quality = quality
        self.fetch_urls = fetch_urls
        self.allow_private_urls = allow_private_urls
        self.max_url_bytes = max_url_bytes
        self.fetch_concurrency = fetch_concurrency
        self.log_requests = log_requests
        self.max_upload_bytes = max_upload_bytes
        self.lease_ttl = lease_ttl
        self.url: str = ""
        self.key_file: Path | None = Path(key_file) if key_file is not None else None
        self.own_credential = own_credential
        self.client_id: str = ""
        self.client_secret: str = ""
        self.created_credential: bool = False
        self._context: Context | None = None
        self._tg: Any = None

    def __repr__(self) -> str:
        return f"LocalBackend(url={self.url!r}, db={describe(self.db)!r})"

    @property
    def context(self) -> Context:
        """What the running backend's handlers share (store, runner, tokens); tests only."""
        if self._context is None:
            raise RuntimeError("the backend is not running; use 'async with LocalBackend()'")
        return self._context

    @property
    def quality(self) -> Quality | None:
        """Latent quality (rating points) of a ranked item by its label (file name or text):
        how the simulated crowd judges ranking matchups (flows, leaderboards). None: a
        deterministic draw per label. Settable while running (tests)."""
        return self._quality

    @quality.setter
    def quality(self, quality: Quality | None) -> None:
        self._quality = quality
        if self._context is not None:
            self._context.runner.model.quality = quality

    @property
    def store(self) -> Store:
        """The running backend's store; tests only."""
        return self.context.store

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except BaseException:
            sock.close()
            raise
        return sock

    def _key_path(self, store: Store) -> Path | None:
        """Where the signing key lives when neither ``key_file`` nor the environment name one."""
        if is_postgres_url(self.db):
            assets = store.assets_dir or Path(DEFAULT_ASSETS_DIR)
            return assets / KEY_FILE_NAME
        if self.db is None:
            return None
        return Path(f"{self.db}.key")

    async def _signing_key(self, store: Store) -> bytes:
        try:
            if self.key_file is not None:
                return await anyio.to_thread.run_sync(
                    functools.partial(load_signing_key, self.key_file, use_env=False)
                )
            return await anyio.to_thread.run_sync(load_signing_key, self._key_path(store))
        except (OSError, ValueError) as exc:
            raise StoreUnavailable(
                f"cannot read the token-signing key ({self.key_file or KEY_ENV}): {exc}"
            ) from exc

    async def _own_credential(self, clients: ClientDirectory, store: Store) -> None:
        """The credential ``client()`` uses (see the class docstring)."""
        existing = await store.clients.list()
        if existing and not self.own_credential:
            return
        self.client_id, self.client_secret, _ = await clients.create(join_first=True)
        self.created_credential = not existing

    async def create_client(self) -> tuple[str, str]:
        """A new client credential ``(client_id, client_secret)``: a tenant of its own, which
        sees only what it creates (and the shared audiences)."""
        client_id, secret, _ = await self.context.clients.create()
        return client_id, secret

    async def invite_labeler(
        self, name: str, audiences: list[str] | None = None, *, tenant: str | None = None
    ) -> str:
        """A new person for the labeling page; returns their invite link (shown once: only
        a hash of its token is stored). They answer the global audience's jobs of ``tenant``
        (default: the backend's own credential's tenant) and, after passing their
        qualification examples, those of the custom ``audiences``."""
        owner = tenant or await self.context.clients.tenant_of(self.client_id)
        if owner is None:
            raise RuntimeError("the backend has no credential of its own; pass tenant=")
        invite = await create_invite(
            self.context.store, owner=owner, name=name, audiences=audiences or []
        )
        return invite.link(self.url)

    async def revoke_client(self, client_id: str) -> bool:
        """Delete a client: its tokens stop working at once. False if there was none."""
        return await self.context.clients.revoke(client_id)

    async def _prepare(self) -> tuple[socket.socket, Store, bytes]:
        """The steps that can fail on bad input (address in use, a database that cannot be
        opened: ``StoreUnavailable``); done before any task group exists so their errors
        surface as themselves."""
        sock = self._bind()
        try:
            store = open_store(self.db, assets_dir=self.assets_dir)
        except BaseException:
            sock.close()
            raise
        try:
            await store.open()
            key = await self._signing_key(store)
        except BaseException:
            sock.close()
            with anyio.CancelScope(shield=True):
                await store.close()
            raise
        return sock, store, key

    async def serve(self, *, task_status: TaskStatus[str] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled; reports the base URL through ``task_status``."""
        sock, store, key = await self._prepare()
        await self._serve(sock, store, key, task_status=task_status)

    async def _serve(
        self,
        sock: socket.socket,
        store: Store,
        key: bytes,
        *,
        task_status: TaskStatus[str] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        async with AsyncExitStack() as stack:
            stack.callback(sock.close)
            stack.push_async_callback(_shielded, store.close)
            directory = ClientDirectory(store.clients)
            await self._own_credential(directory, store)
            tg = await stack.enter_async_context(anyio.create_task_group())
            tasks = TaskManager(tg)
            # Names this process in the leases table: which host and pid holds what.
            owner = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"
            runner = Engine(
                store,
                tasks,
                seed=self.seed,
                pace=self.pace,
                oracle=self.oracle,
                quality=self._quality,
                owner=owner,
                lease_ttl=self.lease_ttl,
                # Renew well within the TTL, also when a test shortens it.
                scan_interval=min(1.0, self.lease_ttl / 4),
                crowd=self.crowd,
            )
            runner.register_ranking(LeaderboardSessions(store, runner.model.item_groups))
            runner.register_ranking(FlowSessions(store))
            blobs = blobs_for(store.assets_dir)
            fetcher = None
            if self.fetch_urls:
                fetcher = UrlFetcher(
                    blobs,
                    max_bytes=self.max_url_bytes,
                    allow_private=self.allow_private_urls,
                    concurrency=self.fetch_concurrency,
                )
                stack.push_async_callback(_shielded, fetcher.aclose)
            batches = BatchRunner(
                store,
                tasks,
                fetcher,
                owner=owner,
                lease_ttl=self.lease_ttl,
                scan_interval=runner.scan_interval,
            )
            context = Context(
                store=store,
                runner=runner,
                tokens=TokenIssuer(key),
                tasks=tasks,
                batches=batches,
                clients=directory,
                fetcher=fetcher,
                blobs=blobs,
                max_upload_bytes=self.max_upload_bytes,
            )
            access_log = logging.getLogger("aiohttp.access") if self.log_requests else None
            app_runner = web.AppRunner(
                create_app(context),
                access_log=access_log,
                handle_signals=False,
                shutdown_timeout=1.0,
            )
            await app_runner.setup()
            stack.push_async_callback(_shielded, app_runner.cleanup)
            # Runs before the cleanups above: background work stops first, and the task group
            # has finished before the store closes.
            stack.callback(tg.cancel_scope.cancel)
            site = ProblemSite(
                app_runner, sock, ssl_context=self.ssl, handler_kwargs={"access_log": access_log}
            )
            await site.start()
            port = sock.getsockname()[1]
            host = f"[{self.host}]" if ":" in self.host else self.host
            self.url = f"{'https' if self.ssl else 'http'}://{host}:{port}"
            self._context = context
            stack.callback(setattr, self, "_context", None)
            await runner.resume()
            await batches.resume()
            log.info("local backend listening on %s", self.url)
            task_status.started(self.url)
            await anyio.sleep_forever()

    async def __aenter__(self) -> LocalBackend:
        sock, store, key = await self._prepare()
        tg = anyio.create_task_group()
        await tg.__aenter__()
        try:
            await tg.start(functools.partial(self._serve, sock, store, key))
        except BaseException:
            tg.cancel_scope.cancel()
            await tg.__aexit__(*sys.exc_info())
            raise
        self._tg = tg
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        tg, self._tg = self._tg, None
        tg.cancel_scope.cancel()
        if exc is not None and not isinstance(exc, anyio.get_cancelled_exc_class()):
            # The body's own error goes to the caller as it is, not wrapped in an
            # ExceptionGroup by the server's task group (which only stops the server here).
            await tg.__aexit__(None, None, None)
            return None
        return await tg.__aexit__(exc_type, exc, tb)

    async def reset(self) -> None:
        """Wipe all data (tests): cancel running jobs first, keep the issued credentials, the
        uploaded assets and the seeded audiences."""
        context = self.context
        await context.tasks.cancel_all()
        await context.store.reset()
        await context.runner.restart()
        await context.batches.restart()
        context.stats.clear()
        context.pages.clear()

    def client(
        self, *, credential: tuple[str, str] | None = None, **kwargs: Any
    ) -> AsyncRapidataClient:
        """An ``AsyncRapidataClient`` wired to this backend, holding its own credential or
        ``credential`` (``(client_id, client_secret)``, e.g. from ``create_client``)."""
        from .._client import AsyncRapidataClient

        client_id, secret = credential or (self.client_id, self.client_secret)
        return AsyncRapidataClient(
            client_id,
            secret,
            api_url=self.url,
            auth_url=self.url,
            app_url=self.url,
            **kwargs,
        )


async def _shielded(close: Any) -> None:
    with anyio.CancelScope(shield=True):
        await close()
