"""What every handler reaches through the app: the store, the runners, tokens, tasks.

``_app`` builds one ``Context`` and stores it on the application; handlers read it with
``ctx(request)``. This module only names the parts, it constructs none of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

from ._limits import DEFAULT_MAX_UPLOAD_BYTES
from ._tasks import TaskManager
from ._tokens import TokenIssuer
from .engine import Engine
from .services._batches import BatchRunner
from .services._fetch import UrlFetcher
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
    fetcher: UrlFetcher | None = None
    # Uploaded files (a directory beside a file DB, none in memory).
    blobs: Blobs = field(default_factory=NullBlobs)
    # The largest file POST /asset/file accepts (413 past it).
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    # Requests per "METHOD /route/{template}", served at GET /_local/stats.
    stats: Counter[str] = field(default_factory=Counter)


CONTEXT = web.AppKey("rapidata_local_context", Context)


def ctx(request: web.Request) -> Context:
    return request.app[CONTEXT]
