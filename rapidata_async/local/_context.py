"""What every handler reaches through the app: the store, the runners, tokens, tasks, and
the tenant of the request.

``_app`` builds one ``Context`` and stores it on the application; handlers read it with
``ctx(request)``, and the caller's tenant (set by the authentication middleware) with
``tenant(request)``. This module only names the parts, it constructs none of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._clients import ClientDirectory
from ._limits import DEFAULT_MAX_UPLOAD_BYTES
from ._tasks import TaskManager
from ._tokens import TokenIssuer
from .engine import Engine
from .services._batches import BatchRunner
from .services._fetch import UrlFetcher
from .services._standings import Standings
from .store.base import Store
from .store.blobs import Blobs, NullBlobs


@dataclass
class Context:
    """Everything a handler needs, stored on the app under ``CONTEXT``."""

    store: Store
    runner: Engine
    tokens: TokenIssuer
    tasks: TaskManager
    # Finishes URL batch uploads (leased, resumed after a crash).
    batches: BatchRunner
    clients: ClientDirectory
    fetcher: UrlFetcher | None = None
    # Uploaded files (a directory beside a file DB, none in memory).
    blobs: Blobs = field(default_factory=NullBlobs)
    # The largest file POST /asset/file accepts (413 past it).
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    # Leaderboard standings, with their latest fits cached.
    standings: Standings = field(default_factory=Standings)
    # Requests per "METHOD /route/{template}", served at GET /_local/stats.
    stats: Counter[str] = field(default_factory=Counter)
    # What the pages keep between requests (the labeling page's job layouts), by name.
    pages: dict[str, Any] = field(default_factory=dict)


CONTEXT = web.AppKey("rapidata_local_context", Context)


if TYPE_CHECKING or hasattr(web, "RequestKey"):
    TENANT = web.RequestKey("rapidata_local_tenant", str)
else:  # aiohttp before 3.12 has no typed request keys
    TENANT = "rapidata_local_tenant"


def ctx(request: web.Request) -> Context:
    return request.app[CONTEXT]


def tenant(request: web.Request) -> str:
    """The tenant of the request's client (the owner of what it creates and may see); only
    routes that need a bearer token have one."""
    owner: str = request[TENANT]
    return owner
