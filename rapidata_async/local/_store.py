"""The SQLite store of the local backend: one connection, one worker thread at a time.

Every method is a coroutine that runs its SQL in a worker thread, one call at a time and in
the order they came, so the event loop never waits on disk and the single connection is never
used by two threads at once. Calls that arrive while the thread is busy go together on its
next trip (see ``Store._run``). Request bodies are
kept as msgspec-encoded JSON columns; what listings filter and sort on lives in plain indexed
columns next to them::

    store = Store("rapidata-local.sqlite3")     # or None for in-memory
    await store.open()                         # schema, default credential, seeded audiences
    dataset_id = await store.create_dataset(wire.CreateDatasetInput(name="d"))
    await store.reset()                        # tests: wipe, keep credentials, assets, seeds
    await store.close()
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import msgspec

from .._wire import asset as awire
from .._wire import audience as auwire
from .._wire import dataset as dwire
from .._wire import job as jwire
from ._datapoints import asset_refs, check_schema, check_shape, example_asset_refs
from ._errors import BadRequest, not_found
from ._http import ListQuery
from ._results import Vote

T = TypeVar("T")

OWNER_ID = "7b0c6f4e-0d52-4c55-9d7e-3f1d2c4a5b60"
OWNER_MAIL = "local@rapidata.local"
ORGANIZATION_ID = "local-organization"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assets (
    name TEXT PRIMARY KEY, original_name TEXT, source_url TEXT, size INTEGER,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, correlation_id TEXT, status TEXT NOT NULL, created_at TEXT NOT NULL,
    items BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS batches_correlation ON batches (correlation_id);
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS datapoints (
    id TEXT PRIMARY KEY, dataset_id TEXT NOT NULL, sort_index INTEGER, body BLOB NOT NULL,
    digest BLOB NOT NULL, UNIQUE (dataset_id, sort_index, digest));
CREATE TABLE IF NOT EXISTS definitions (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, definition_type TEXT NOT NULL,
    created_at TEXT NOT NULL, owner_id TEXT NOT NULL, owner_mail TEXT NOT NULL,
    revision_count INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS definitions_created ON definitions (created_at);
CREATE TABLE IF NOT EXISTS revisions (
    definition_id TEXT NOT NULL, number INTEGER NOT NULL, pipeline_id TEXT NOT NULL,
    created_at TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (definition_id, number));
CREATE TABLE IF NOT EXISTS audiences (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, domain TEXT,
    status TEXT NOT NULL, is_public INTEGER NOT NULL, created_at TEXT NOT NULL,
    owner_mail TEXT NOT NULL, qualified_count INTEGER NOT NULL DEFAULT 0,
    graduated INTEGER NOT NULL DEFAULT 0, dropped INTEGER NOT NULL DEFAULT 0,
    body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS audiences_created ON audiences (created_at);
CREATE TABLE IF NOT EXISTS examples (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, audience_id TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS examples_audience ON examples (audience_id);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, definition_id TEXT NOT NULL,
    revision_number INTEGER NOT NULL, audience_id TEXT NOT NULL, pipeline_id TEXT NOT NULL,
    state TEXT NOT NULL, created_at TEXT NOT NULL, owner_mail TEXT NOT NULL,
    completed_at TEXT, failed_at TEXT, failure_message TEXT, preceding_job_id TEXT,
    total INTEGER NOT NULL DEFAULT 0, completed INTEGER NOT NULL DEFAULT 0,
    response_count INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_audience ON jobs (audience_id);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS job_items (
    job_id TEXT NOT NULL, datapoint_id TEXT NOT NULL, votes BLOB NOT NULL,
    PRIMARY KEY (job_id, datapoint_id));
"""

# Tables a reset wipes. Credentials and the signing key stay (clients hold tokens), and so do
# assets: SDKs cache uploaded file names across runs and send them again without re-uploading.
_RESET_TABLES = (
    "batches",
    "datasets",
    "datapoints",
    "definitions",
    "revisions",
    "audiences",
    "examples",
    "jobs",
    "job_items",
)


@dataclass(frozen=True, slots=True)
class SeedAudience:
    id: str
    name: str
    kind: str  # "global" | "curated"
    domain: str | None
    description: str
    created_at: str


SEED_AUDIENCES = (
    SeedAudience(
        "global",
        "Global Audience",
        "global",
        None,
        "Everyone in the crowd: the broadest pool, ready for any task.",
        "2025-01-01T00:00:00.000000+00:00",
    ),
    SeedAudience(
        "a1ea11e0c0a1000000000001",
        "Alignment Audience",
        "curated",
        "alignment",
        "Labelers trained on judging how well an image matches its prompt.",
        "2025-01-02T00:00:00.000000+00:00",
    ),
    SeedAudience(
        "a1ea11e0c0a1000000000002",
        "Preference Audience",
        "curated",
        "preference",
        "Labelers trained on overall visual preference.",
        "2025-01-03T00:00:00.000000+00:00",
    ),
    SeedAudience(
        "a1ea11e0c0a1000000000003",
        "Coherence Audience",
        "curated",
        "coherence",
        "Labelers trained on spotting artifacts and incoherent content.",
        "2025-01-04T00:00:00.000000+00:00",
    ),
)
DEFAULT_RULE = auwire.TaskAccuracyRule(target_accuracy=0.75, min_tasks=10)


def new_id() -> str:
    """24 hex digits, the shape of the real API's ids."""
    return secrets.token_hex(12)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


# -- rows --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BatchRow:
    id: str
    correlation_id: str | None
    status: str
    created_at: str
    items: list[awire.BatchUploadUrlOutput]


@dataclass(frozen=True, slots=True)
class DatasetRow:
    id: str
    name: str
    created_at: str
    schema: list[dwire.DatasetSegmentDefinition] | None


@dataclass(frozen=True, slots=True)
class DatapointRow:
    id: str
    sort_index: int | None
    body: dwire.CreateDatapointInput


@dataclass(frozen=True, slots=True)
class DefinitionRow:
    id: str
    name: str
    definition_type: str
    created_at: str
    owner_id: str
    owner_mail: str
    revision_count: int


@dataclass(frozen=True, slots=True)
class RevisionRow:
    definition_id: str
    number: int
    pipeline_id: str
    created_at: str
    body: jwire.CreateJobDefinitionInput


@dataclass(frozen=True, slots=True)
class AudienceRow:
    id: str
    name: str
    kind: str
    domain: str | None
    status: str
    is_public: bool
    created_at: str
    owner_mail: str
    qualified_count: int
    graduated: int
    dropped: int
    body: auwire.CreateAudienceInput
    example_count: int


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    name: str
    definition_id: str
    revision_number: int
    audience_id: str
    audience_name: str | None
    pipeline_id: str
    state: str
    created_at: str
    owner_mail: str
    completed_at: str | None
    failed_at: str | None
    failure_message: str | None
    preceding_job_id: str | None
    total: int
    completed: int
    response_count: int


@dataclass(frozen=True, slots=True)
class JobWork:
    """All a job's run needs, read in one go."""

    job: JobRow
    revision: RevisionRow
    audience: AudienceRow
    examples: list[auwire.AddExampleInput]
    datapoints: list[DatapointRow]
    done: dict[str, list[Vote]]


_enc = msgspec.json.Encoder()
_batch_items = msgspec.json.Decoder(list[awire.BatchUploadUrlOutput])
_dataset_body = msgspec.json.Decoder(dwire.CreateDatasetInput)
_datapoint_body = msgspec.json.Decoder(dwire.CreateDatapointInput)
_definition_body = msgspec.json.Decoder(jwire.CreateJobDefinitionInput)
_audience_body = msgspec.json.Decoder(auwire.CreateAudienceInput)
_example_body = msgspec.json.Decoder(auwire.AddExampleInput)
_votes = msgspec.json.Decoder(list[Vote])

_AUDIENCE_COLS = (
    "a.id, a.name, a.kind, a.domain, a.status, a.is_public, a.created_at, a.owner_mail, "
    "a.qualified_count, a.graduated, a.dropped, a.body, "
    "(SELECT COUNT(*) FROM examples e WHERE e.audience_id = a.id)"
)
_JOB_COLS = (
    "j.id, j.name, j.definition_id, j.revision_number, j.audience_id, a.name, j.pipeline_id, "
    "j.state, j.created_at, j.owner_mail, j.completed_at, j.failed_at, j.failure_message, "
    "j.preceding_job_id, j.total, j.completed, j.response_count"
)
_DEFINITION_COLS = "id, name, definition_type, created_at, owner_id, owner_mail, revision_count"


def _audience(row: Sequence[Any]) -> AudienceRow:
    return AudienceRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        bool(row[5]),
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        _audience_body.decode(row[11]),
        row[12],
    )


def _job(row: Sequence[Any]) -> JobRow:
    return JobRow(*row)


def _definition(row: Sequence[Any]) -> DefinitionRow:
    return DefinitionRow(*row)


# -- listing SQL -------------------------------------------------------------------------------
def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_COMPARE = {"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _where(query: ListQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for f in query.filters:
        col = f.column
        if f.op == "in":
            clauses.append(f"{col} IN ({', '.join('?' * len(f.values))})")
            params.extend(f.values)
            continue
        alternatives: list[str] = []
        for value in f.values:
            if f.op in _COMPARE:
                alternatives.append(f"{col} {_COMPARE[f.op]} ?")
                params.append(value)
                continue
            pattern = {
                "contains": "%{}%",
                "not_contains": "%{}%",
                "starts_with": "{}%",
                "ends_with": "%{}",
            }[f.op].format(_escape_like(str(value)))
            negate = "NOT " if f.op == "not_contains" else ""
            alternatives.append(f"{col} {negate}LIKE ? ESCAPE '\\'")
            params.append(pattern)
        joiner = " AND " if f.op in ("neq", "not_contains") else " OR "
        clauses.append("(" + joiner.join(alternatives) + ")")
    if not clauses:
        return "", params
    return " WHERE " + f" {query.logic.upper()} ".join(clauses), params


def _order(query: ListQuery, *, prefix: Sequence[str] = (), tiebreak: str) -> str:
    parts = list(prefix)
    parts += [f"{col} {'DESC' if desc else 'ASC'}" for col, desc in query.order]
    parts.append(tiebreak)
    return " ORDER BY " + ", ".join(parts)


class _Call:
    """One queued ``Store._run`` call. ``wake`` is set when it has run, or when its task is
    to drain the queue next (then ``finished`` is still false)."""

    __slots__ = ("args", "error", "finished", "fn", "value", "wake")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.value: Any = None
        self.error: BaseException | None = RuntimeError("the store call did not run")
        self.finished = False
        self.wake = anyio.Event()


def _run_calls(calls: list[_Call]) -> None:
    """The worker thread's side: each call in order, each one's outcome kept apart."""
    for call in calls:
        try:
            call.value = call.fn(*call.args)
            call.error = None
        except BaseException as exc:  # handed to the caller's task, which re-raises it
            call.error = exc


class Store:
    """SQLite persistence of the local backend (see the module docstring)."""

    def __init__(self, db: str | Path | None = None) -> None:
        self.path = Path(db) if db is not None else None
        self._conn: sqlite3.Connection | None = None
        self._queue: list[_Call] = []
        self._draining = False
        # Schemas of datasets seen by datapoint inserts; only touched in the worker thread.
        self._schemas: dict[str, list[dwire.DatasetSegmentDefinition] | None] = {}
        self.signing_key = b""

    @property
    def assets_dir(self) -> Path | None:
        """Where uploaded files go: beside a file DB, nowhere for an in-memory store."""
        if self.path is None:
            return None
        return self.path.with_name(self.path.stem + "_assets")

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the store is not open")
        return self._conn

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the worker thread, after every call queued before it.

        One request task at a time drains the queue: it runs everything queued so far in one
        thread trip, then hands over to the owner of the next queued call. Under load a trip
        carries many calls: the thread switch per call (and the GIL hand-offs around it), not
        SQLite, was what bounded the request rate.
        """
        call = _Call(fn, args)
        self._queue.append(call)
        if self._draining:
            try:
                await call.wake.wait()
            except BaseException:
                if not call.wake.is_set():
                    if call in self._queue:
                        self._queue.remove(call)  # never ran: drop it with its request
                elif not call.finished:
                    with anyio.CancelScope(shield=True):
                        await self._drain()  # handed the queue just now: pass it on
                raise
        else:
            self._draining = True
        if not call.finished:
            # Shielded: the other calls of this trip belong to other requests.
            with anyio.CancelScope(shield=True):
                await self._drain()
        if call.error is not None:
            raise call.error
        return call.value

    async def _drain(self) -> None:
        calls, self._queue = self._queue, []
        try:
            await anyio.to_thread.run_sync(_run_calls, calls)
        finally:
            for call in calls:
                call.finished = True
                call.wake.set()
            if self._queue:
                self._queue[0].wake.set()
            else:
                self._draining = False

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        target = str(self.path) if self.path is not None else ":memory:"
        # Autocommit (isolation_level=None): single statements commit on their own, multi-statement
        # writes use _tx.
        conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn = conn
        if self.path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.executescript(_SCHEMA)
        with self._tx():
            row = conn.execute("SELECT value FROM meta WHERE key = 'signing_key'").fetchone()
            if row is None:
                key = secrets.token_hex(32)
                conn.execute("INSERT INTO meta (key, value) VALUES ('signing_key', ?)", (key,))
            else:
                key = row[0]
            self.signing_key = bytes.fromhex(key)
            if conn.execute("SELECT 1 FROM clients LIMIT 1").fetchone() is None:
                conn.execute(
                    "INSERT INTO clients (client_id, client_secret, created_at) VALUES (?, ?, ?)",
                    (f"local-{secrets.token_hex(8)}", secrets.token_urlsafe(32), now_iso()),
                )
            self._seed(conn)

    def _seed(self, conn: sqlite3.Connection) -> None:
        for seed in SEED_AUDIENCES:
            body = auwire.CreateAudienceInput(
                name=seed.name,
                description=seed.description,
                filters=[],
                graduation_rule=DEFAULT_RULE,
            )
            conn.execute(
                "INSERT OR IGNORE INTO audiences (id, name, kind, domain, status, is_public, "
                "created_at, owner_mail, body) VALUES (?, ?, ?, ?, 'Ready', 1, ?, ?, ?)",
                (
                    seed.id,
                    seed.name,
                    seed.kind,
                    seed.domain,
                    seed.created_at,
                    "audiences@rapidata.ai",
                    _enc.encode(body),
                ),
            )

    async def close(self) -> None:
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None

    async def reset(self) -> None:
        await self._run(self._reset)

    def _reset(self) -> None:
        with self._tx() as conn:
            for table in _RESET_TABLES:
                conn.execute(f"DELETE FROM {table}")
            self._seed(conn)
        self._schemas.clear()

    # -- credentials ---------------------------------------------------------------------------
    async def default_client(self) -> tuple[str, str]:
        def run() -> tuple[str, str]:
            row = self.conn.execute(
                "SELECT client_id, client_secret FROM clients ORDER BY created_at, rowid LIMIT 1"
            ).fetchone()
            return row[0], row[1]

        return await self._run(run)

    async def client_secret(self, client_id: str) -> str | None:
        def run() -> str | None:
            row = self.conn.execute(
                "SELECT client_secret FROM clients WHERE client_id = ?", (client_id,)
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._run(run)

    # -- assets --------------------------------------------------------------------------------
    async def add_asset(
        self, name: str, *, original_name: str | None, source_url: str | None, size: int | None
    ) -> None:
        await self._run(
            self.conn.execute,
            "INSERT INTO assets (name, original_name, source_url, size, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (name, original_name, source_url, size, now_iso()),
        )

    def _missing_assets(self, refs: list[tuple[str, str]]) -> None:
        """Raise a 400 naming each field whose asset was never uploaded."""
        if not refs:
            return
        names = sorted({name for _, name in refs})
        marks = ", ".join("?" * len(names))
        known = {
            row[0]
            for row in self.conn.execute(f"SELECT name FROM assets WHERE name IN ({marks})", names)
        }
        errors = {
            path: [f"Unknown asset '{name}': upload it first (POST /asset/file or /asset/url)."]
            for path, name in refs
            if name not in known
        }
        if errors:
            raise BadRequest(
                "The request references assets that were never uploaded.", errors=errors
            )

    async def asset_urls(self, names: Sequence[str]) -> dict[str, str]:
        def run() -> dict[str, str]:
            out: dict[str, str] = {}
            unique = list(dict.fromkeys(names))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for name, url in self.conn.execute(
                    f"SELECT name, source_url FROM assets WHERE name IN ({marks}) "
                    "AND source_url IS NOT NULL",
                    chunk,
                ):
                    out[name] = url
            return out

        return await self._run(run)

    # -- URL batches ---------------------------------------------------------------------------
    async def save_batch(self, batch: BatchRow) -> None:
        """Insert or replace a batch, recording its completed items as assets."""

        def run() -> None:
            with self._tx() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO batches "
                    "(id, correlation_id, status, created_at, items) VALUES (?, ?, ?, ?, ?)",
                    (
                        batch.id,
                        batch.correlation_id,
                        batch.status,
                        batch.created_at,
                        _enc.encode(batch.items),
                    ),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO assets (name, original_name, source_url, size, "
                    "created_at) VALUES (?, NULL, ?, NULL, ?)",
                    [
                        (item.file_name, item.url, batch.created_at)
                        for item in batch.items
                        if item.status == "Completed" and item.file_name
                    ],
                )

        await self._run(run)

    def _batch(self, row: Sequence[Any]) -> BatchRow:
        return BatchRow(row[0], row[1], row[2], row[3], _batch_items.decode(row[4]))

    async def get_batch(self, batch_id: str) -> BatchRow:
        def run() -> BatchRow:
            row = self.conn.execute(
                "SELECT id, correlation_id, status, created_at, items FROM batches WHERE id = ?",
                (batch_id,),
            ).fetchone()
            if row is None:
                raise not_found("Batch upload", batch_id)
            return self._batch(row)

        return await self._run(run)

    async def find_batches(
        self, correlation_id: str | None, batch_ids: Sequence[str]
    ) -> list[BatchRow]:
        def run() -> list[BatchRow]:
            sql = "SELECT id, correlation_id, status, created_at, items FROM batches WHERE "
            params: list[str] = []
            clauses = []
            if correlation_id:
                clauses.append("correlation_id = ?")
                params.append(correlation_id)
            if batch_ids:
                clauses.append(f"id IN ({', '.join('?' * len(batch_ids))})")
                params.extend(batch_ids)
            rows = self.conn.execute(
                sql + " OR ".join(clauses) + " ORDER BY created_at, rowid", params
            )
            return [self._batch(row) for row in rows]

        return await self._run(run)

    # -- datasets and datapoints -----------------------------------------------------------------
    async def create_dataset(self, body: dwire.CreateDatasetInput) -> str:
        dataset_id = new_id()
        await self._run(
            self.conn.execute,
            "INSERT INTO datasets (id, name, created_at, body) VALUES (?, ?, ?, ?)",
            (dataset_id, body.name, now_iso(), _enc.encode(body)),
        )
        return dataset_id

    async def get_dataset(self, dataset_id: str) -> DatasetRow:
        def run() -> DatasetRow:
            row = self.conn.execute(
                "SELECT id, name, created_at, body FROM datasets WHERE id = ?", (dataset_id,)
            ).fetchone()
            if row is None:
                raise not_found("Dataset", dataset_id)
            return DatasetRow(row[0], row[1], row[2], _dataset_body.decode(row[3]).schema)

        return await self._run(run)

    async def add_datapoint(
        self, dataset_id: str, body: dwire.CreateDatapointInput
    ) -> tuple[str, bool]:
        """Insert a datapoint; ``(id, created)``. Idempotent on (dataset, sortIndex): a repeat
        returns the existing datapoint's id with ``created=False``."""
        check_shape(body)
        refs = asset_refs(body)
        encoded = _enc.encode(body)
        return await self._run(self._add_datapoint, dataset_id, body, refs, encoded)

    def _add_datapoint(
        self,
        dataset_id: str,
        body: dwire.CreateDatapointInput,
        refs: list[tuple[str, str]],
        encoded: bytes,
    ) -> tuple[str, bool]:
        conn = self.conn
        if dataset_id not in self._schemas:
            row = conn.execute("SELECT body FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
            if row is None:
                raise not_found("Dataset", dataset_id)
            self._schemas[dataset_id] = _dataset_body.decode(row[0]).schema
        schema = self._schemas[dataset_id]
        if schema:
            check_schema(schema, body)
        self._missing_assets(refs)
        # A repeat of the same datapoint (same sortIndex, same content) is a retry and answers
        # with the existing one. Other content under a used sortIndex is a new datapoint: the
        # official client renumbers its retried datapoints from 0.
        digest = hashlib.blake2b(encoded, digest_size=16).digest()
        datapoint_id = new_id()
        cur = conn.execute(
            "INSERT OR IGNORE INTO datapoints (id, dataset_id, sort_index, body, digest) "
            "VALUES (?, ?, ?, ?, ?)",
            (datapoint_id, dataset_id, body.sort_index, encoded, digest),
        )
        if cur.rowcount == 1:
            return datapoint_id, True
        row = conn.execute(
            "SELECT id FROM datapoints WHERE dataset_id = ? AND sort_index = ? AND digest = ?",
            (dataset_id, body.sort_index, digest),
        ).fetchone()
        return row[0], False

    def _datapoints(self, dataset_id: str) -> list[DatapointRow]:
        rows = self.conn.execute(
            "SELECT id, sort_index, body FROM datapoints WHERE dataset_id = ? "
            "ORDER BY sort_index IS NULL, sort_index, rowid",
            (dataset_id,),
        )
        return [DatapointRow(r[0], r[1], _datapoint_body.decode(r[2])) for r in rows]

    async def datapoints(self, dataset_id: str) -> list[DatapointRow]:
        return await self._run(self._datapoints, dataset_id)

    async def datapoint_count(self, dataset_id: str) -> int:
        def run() -> int:
            row = self.conn.execute(
                "SELECT COUNT(*) FROM datapoints WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()
            return int(row[0])

        return await self._run(run)

    # -- job definitions -------------------------------------------------------------------------
    async def create_definition(
        self, body: jwire.CreateJobDefinitionInput, definition_type: str
    ) -> tuple[str, str]:
        """A new definition with its revision 1; ``(definition_id, pipeline_id)``."""
        definition_id, pipeline_id, created = new_id(), new_id(), now_iso()

        def run() -> None:
            with self._tx() as conn:
                if (
                    conn.execute(
                        "SELECT 1 FROM datasets WHERE id = ?", (body.dataset_id,)
                    ).fetchone()
                    is None
                ):
                    raise not_found("Dataset", body.dataset_id, field="datasetId")
                conn.execute(
                    "INSERT INTO definitions (id, name, definition_type, created_at, owner_id, "
                    "owner_mail, revision_count) VALUES (?, ?, ?, ?, ?, ?, 1)",
                    (
                        definition_id,
                        body.definition_name,
                        definition_type,
                        created,
                        OWNER_ID,
                        OWNER_MAIL,
                    ),
                )
                conn.execute(
                    "INSERT INTO revisions (definition_id, number, pipeline_id, created_at, body) "
                    "VALUES (?, 1, ?, ?, ?)",
                    (definition_id, pipeline_id, created, _enc.encode(body)),
                )

        await self._run(run)
        return definition_id, pipeline_id

    async def get_definition(
        self, definition_id: str, *, field: str | None = None
    ) -> DefinitionRow:
        def run() -> DefinitionRow:
            row = self.conn.execute(
                f"SELECT {_DEFINITION_COLS} FROM definitions WHERE id = ?", (definition_id,)
            ).fetchone()
            if row is None:
                raise not_found("Job definition", definition_id, field=field)
            return _definition(row)

        return await self._run(run)

    async def list_definitions(self, query: ListQuery) -> tuple[list[DefinitionRow], int]:
        def run() -> tuple[list[DefinitionRow], int]:
            where, params = _where(query)
            total = self.conn.execute(f"SELECT COUNT(*) FROM definitions{where}", params)
            count = int(total.fetchone()[0])
            rows = self.conn.execute(
                f"SELECT {_DEFINITION_COLS} FROM definitions{where}"
                f"{_order(query, tiebreak='rowid DESC')} LIMIT ? OFFSET ?",
                [*params, query.page_size, query.offset],
            )
            return [_definition(r) for r in rows], count

        return await self._run(run)

    def _revision(self, definition_id: str, number: int | None) -> RevisionRow:
        sql = "SELECT definition_id, number, pipeline_id, created_at, body FROM revisions "
        if number is None:
            row = self.conn.execute(
                sql + "WHERE definition_id = ? ORDER BY number DESC LIMIT 1", (definition_id,)
            ).fetchone()
        else:
            row = self.conn.execute(
                sql + "WHERE definition_id = ? AND number = ?", (definition_id, number)
            ).fetchone()
        if row is None:
            if number is None:
                raise not_found("Job definition", definition_id)
            raise not_found(
                f"Revision {number} of job definition", definition_id, field="revisionNumber"
            )
        return RevisionRow(row[0], row[1], row[2], row[3], _definition_body.decode(row[4]))

    async def get_revision(self, definition_id: str, number: int | None = None) -> RevisionRow:
        return await self._run(self._revision, definition_id, number)

    # -- audiences -----------------------------------------------------------------------------
    async def create_audience(self, body: auwire.CreateAudienceInput) -> str:
        audience_id = new_id()
        await self._run(
            self.conn.execute,
            "INSERT INTO audiences (id, name, kind, domain, status, is_public, created_at, "
            "owner_mail, body) VALUES (?, ?, 'custom', NULL, 'Created', 0, ?, ?, ?)",
            (audience_id, body.name, now_iso(), OWNER_MAIL, _enc.encode(body)),
        )
        return audience_id

    def _audience(self, audience_id: str, field: str | None = None) -> AudienceRow:
        row = self.conn.execute(
            f"SELECT {_AUDIENCE_COLS} FROM audiences a WHERE a.id = ?", (audience_id,)
        ).fetchone()
        if row is None:
            raise not_found("Audience", audience_id, field=field)
        return _audience(row)

    async def get_audience(self, audience_id: str, *, field: str | None = None) -> AudienceRow:
        return await self._run(self._audience, audience_id, field)

    async def list_audiences(self, query: ListQuery) -> tuple[list[AudienceRow], int]:
        """Curated and public audiences come first, then the requested order (newest first by
        default), so a custom "Prompt Alignment Audience" never shadows the curated
        "Alignment Audience" in ``find_audiences("alignment")[0]``."""

        def run() -> tuple[list[AudienceRow], int]:
            where, params = _where(query)
            count = int(
                self.conn.execute(f"SELECT COUNT(*) FROM audiences a{where}", params).fetchone()[0]
            )
            rows = self.conn.execute(
                f"SELECT {_AUDIENCE_COLS} FROM audiences a{where}"
                f"{_order(query, prefix=['a.is_public DESC'], tiebreak='a.rowid DESC')} "
                "LIMIT ? OFFSET ?",
                [*params, query.page_size, query.offset],
            )
            return [_audience(r) for r in rows], count

        return await self._run(run)

    async def add_example(self, audience_id: str, body: auwire.AddExampleInput) -> int:
        """Store a qualification example; returns how many the audience now has."""
        refs = example_asset_refs(body.asset, body.context_asset)
        encoded = _enc.encode(body)

        def run() -> int:
            self._audience(audience_id)
            self._missing_assets(refs)
            self.conn.execute(
                "INSERT INTO examples (audience_id, body) VALUES (?, ?)", (audience_id, encoded)
            )
            row = self.conn.execute(
                "SELECT COUNT(*) FROM examples WHERE audience_id = ?", (audience_id,)
            ).fetchone()
            return int(row[0])

        return await self._run(run)

    def _examples(self, audience_id: str) -> list[auwire.AddExampleInput]:
        rows = self.conn.execute(
            "SELECT body FROM examples WHERE audience_id = ? ORDER BY seq", (audience_id,)
        )
        return [_example_body.decode(r[0]) for r in rows]

    async def examples(self, audience_id: str) -> list[auwire.AddExampleInput]:
        return await self._run(self._examples, audience_id)

    async def set_audience_status(
        self,
        audience_id: str,
        status: str,
        *,
        only_if: str | None = None,
        counts: tuple[int, int, int] | None = None,
    ) -> bool:
        """Move an audience to ``status`` (only from ``only_if`` when given); ``counts`` =
        (qualified, graduated, dropped). True if the row changed."""

        def run() -> bool:
            sql = "UPDATE audiences SET status = ?"
            params: list[Any] = [status]
            if counts is not None:
                sql += ", qualified_count = ?, graduated = ?, dropped = ?"
                params.extend(counts)
            sql += " WHERE id = ?"
            params.append(audience_id)
            if only_if is not None:
                sql += " AND status = ?"
                params.append(only_if)
            return self.conn.execute(sql, params).rowcount == 1

        return await self._run(run)

    async def audiences_in_status(self, status: str) -> list[str]:
        def run() -> list[str]:
            rows = self.conn.execute("SELECT id FROM audiences WHERE status = ?", (status,))
            return [r[0] for r in rows]

        return await self._run(run)

    # -- jobs ----------------------------------------------------------------------------------
    async def create_job(
        self,
        body: jwire.CreateJobInput,
        *,
        name: str,
        revision: RevisionRow,
        total: int,
    ) -> JobRow:
        job_id = new_id()

        def run() -> JobRow:
            self.conn.execute(
                "INSERT INTO jobs (id, name, definition_id, revision_number, audience_id, "
                "pipeline_id, state, created_at, owner_mail, preceding_job_id, total, body) "
                "VALUES (?, ?, ?, ?, ?, ?, 'Submitted', ?, ?, ?, ?, ?)",
                (
                    job_id,
                    name,
                    revision.definition_id,
                    revision.number,
                    body.audience_id,
                    revision.pipeline_id,
                    now_iso(),
                    OWNER_MAIL,
                    body.preceding_job_id,
                    total,
                    _enc.encode(body),
                ),
            )
            return self._job(job_id)

        return await self._run(run)

    def _job(self, job_id: str) -> JobRow:
        row = self.conn.execute(
            f"SELECT {_JOB_COLS} FROM jobs j LEFT JOIN audiences a ON a.id = j.audience_id "
            "WHERE j.id = ?",
            (job_id,),
        ).fetchone()
        if row is None:
            raise not_found("Job", job_id)
        return _job(row)

    async def get_job(self, job_id: str) -> JobRow:
        return await self._run(self._job, job_id)

    async def list_jobs(self, query: ListQuery) -> tuple[list[JobRow], int]:
        def run() -> tuple[list[JobRow], int]:
            where, params = _where(query)
            count = int(
                self.conn.execute(f"SELECT COUNT(*) FROM jobs j{where}", params).fetchone()[0]
            )
            rows = self.conn.execute(
                f"SELECT {_JOB_COLS} FROM jobs j LEFT JOIN audiences a ON a.id = j.audience_id"
                f"{where}{_order(query, tiebreak='j.rowid DESC')} LIMIT ? OFFSET ?",
                [*params, query.page_size, query.offset],
            )
            return [_job(r) for r in rows], count

        return await self._run(run)

    async def set_job_state(
        self,
        job_id: str,
        state: str,
        *,
        failure_message: str | None = None,
        total: int | None = None,
    ) -> None:
        def run() -> None:
            now = now_iso()
            self.conn.execute(
                "UPDATE jobs SET state = ?, "
                "completed_at = CASE WHEN ? = 'Completed' THEN ? ELSE completed_at END, "
                "failed_at = CASE WHEN ? = 'Failed' THEN ? ELSE NULL END, "
                "failure_message = ?, total = COALESCE(?, total) WHERE id = ?",
                (state, state, now, state, now, failure_message, total, job_id),
            )

        await self._run(run)

    async def job_ids_in_states(self, states: Sequence[str]) -> list[str]:
        def run() -> list[str]:
            marks = ", ".join("?" * len(states))
            rows = self.conn.execute(
                f"SELECT id FROM jobs WHERE state IN ({marks}) ORDER BY created_at, rowid",
                list(states),
            )
            return [r[0] for r in rows]

        return await self._run(run)

    async def job_work(self, job_id: str) -> JobWork:
        def run() -> JobWork:
            job = self._job(job_id)
            revision = self._revision(job.definition_id, job.revision_number)
            audience = self._audience(job.audience_id)
            rows = self.conn.execute(
                "SELECT datapoint_id, votes FROM job_items WHERE job_id = ?", (job_id,)
            )
            return JobWork(
                job,
                revision,
                audience,
                self._examples(audience.id),
                self._datapoints(revision.body.dataset_id),
                {r[0]: _votes.decode(r[1]) for r in rows},
            )

        return await self._run(run)

    async def finish_item(self, job_id: str, datapoint_id: str, votes: list[Vote]) -> None:
        """Persist one datapoint's responses and bump the job's counters, atomically."""
        encoded = _enc.encode(votes)

        def run() -> None:
            with self._tx() as conn:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO job_items (job_id, datapoint_id, votes) "
                    "VALUES (?, ?, ?)",
                    (job_id, datapoint_id, encoded),
                )
                if cur.rowcount == 1:
                    conn.execute(
                        "UPDATE jobs SET completed = completed + 1, "
                        "response_count = response_count + ? WHERE id = ?",
                        (len(votes), job_id),
                    )

        await self._run(run)
