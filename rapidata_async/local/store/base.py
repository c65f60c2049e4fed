"""The store's interfaces, one per aggregate, and the rows they hand out.

Everything here is a contract both implementations (``sqlite``, ``postgres``) keep and the
services and the engine rely on. Rules:

- Every method is a coroutine; no implementation blocks the event loop.
- Unknown ids raise ``domain.errors.NotFound`` (with ``field`` when the caller names the
  request field), broken rules ``Invalid``, state clashes ``Conflict``; never an HTTP error.
- Listings take a ``ListQuery`` with *logical* field names (``created_at``, ``name``,
  ``state``...); each implementation maps them to its own columns and rejects unknown names
  with ``Invalid`` naming ``sort`` or the filter.
- Request bodies are kept as msgspec-encoded wire structs; rows decode them back.
- Writes that belong together are one transaction. ``Jobs.record`` is idempotent per
  ``(job, datapoint, labeler)``: a response recorded twice (a resumed job, two processes
  during a lease hand-over) counts once.
- Tenants: every resource a client creates belongs to its tenant (``owner``). Methods a
  request reaches take a keyword-only ``owner`` *without a default*, so a call that forgets it
  does not type-check (and fails at run time): ``owner="<tenant>"`` sees only that tenant's
  rows (plus the shared seeded audiences, read-only) and answers ``NotFound`` for any other id,
  exactly as for an unknown one; ``owner=ANY_OWNER`` (None) is the unscoped view of the engine
  and of the pages reached by unguessable ids. Methods only the engine calls take no owner.
- Client secrets are stored as hashes (``credentials.hash_secret``), never in plain text; the
  token-signing key is not in the database at all.
- Work that several processes could do (running a job, recruiting an audience, finishing a URL
  batch) is taken with ``Leases.acquire`` first; a lease that is not renewed expires and the
  work returns to whoever acquires it next.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import msgspec

from ..._wire import asset as awire
from ..._wire import audience as auwire
from ..._wire import dataset as dwire
from ..._wire import job as jwire
from ..._wire import order as owire
from ..._wire import validation as vwire

OWNER_ID = "7b0c6f4e-0d52-4c55-9d7e-3f1d2c4a5b60"
OWNER_MAIL = "local@rapidata.local"
ORGANIZATION_ID = "local-organization"


# A tenant id, or ANY_OWNER for the unscoped view (the engine, pages by unguessable id).
Owner = str | None
ANY_OWNER: Owner = None


class StoreUnavailable(RuntimeError):
    """The database cannot be opened (bad URL or path, server down, wrong password, missing
    driver). The message is one line naming the database, never its password, and the cause."""


# -- listing queries ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Filter:
    """``field[op]=value`` with a logical field name; several values are alternatives."""

    field: str
    op: str  # eq neq gt gte lt lte contains not_contains starts_with ends_with in
    values: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Paging, ordering ``(field, descending)`` and filters, all by logical names."""

    page: int = 1
    page_size: int = 10
    order: tuple[tuple[str, bool], ...] = (("created_at", True),)
    filters: tuple[Filter, ...] = ()
    logic: str = "and"

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


# -- rows --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BatchRow:
    id: str
    correlation_id: str | None
    status: str  # Processing | Completed | Aborted
    created_at: str
    items: list[awire.BatchUploadUrlOutput]
    owner: str  # the tenant that created it


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
    validation_set_id: str | None = None
    """The validation set whose rapids a job of this revision mixes in (orders name one)."""


@dataclass(frozen=True, slots=True)
class AudienceRow:
    id: str
    name: str
    kind: str  # global | curated | custom
    domain: str | None
    status: str  # Created | Recruiting | Ready
    is_public: bool
    created_at: str
    owner_mail: str
    qualified_count: int
    graduated: int
    dropped: int
    body: auwire.CreateAudienceInput
    example_count: int
    recruiting_started_at: str | None = None


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    name: str
    definition_id: str
    revision_number: int
    audience_id: str
    audience_name: str | None  # None once the audience is gone
    pipeline_id: str
    state: str
    created_at: str
    owner_mail: str
    completed_at: str | None
    failed_at: str | None
    failure_message: str | None
    preceding_job_id: str | None
    total: int  # datapoints
    completed: int  # datapoints the referee closed
    response_count: int
    reason: str | None = None  # why a Running job is waiting (e.g. too few qualified labelers)
    # who may answer besides the audience's own filters (an order's user filters)
    filters: list[auwire.AudienceFilter] | None = None


class ResponseRecord(msgspec.Struct, frozen=True, gc=False):
    """One labeler's answer to one datapoint of one job, as stored.

    ``labeler_id`` is stable per person: ``"sim:<n>"`` for simulated labelers, ``"human:<id>"``
    for people on the labeling page. ``seq`` orders a datapoint's responses by arrival.
    """

    # A struct rather than a dataclass: one is made per response (a million in a big run),
    # and a frozen dataclass costs ~10x more to build. Only strings and numbers inside, so the
    # garbage collector need not track it.

    job_id: str
    datapoint_id: str
    labeler_id: str
    answer: str
    user_score: float
    country: str
    language: str
    age: str
    gender: str
    occupation: str
    seq: int = 0


class ValidationAnswer(msgspec.Struct, frozen=True, gc=False):
    """One labeler's answer to one validation rapid shown in one job, as stored.

    ``rapid`` is the rapid's key (``domain.validation``); ``chance`` the probability of a
    right answer by guessing; ``prior`` the labeler's user score before any validation in this
    job and ``score`` their score for the job after this answer.
    """

    job_id: str
    labeler_id: str
    rapid: str
    answer: str
    correct: bool
    chance: float
    prior: float
    score: float


@dataclass(frozen=True, slots=True)
class JobWork:
    """All a job's run needs, read in one go: the job, what it labels, who labels it, and the
    responses collected so far (per datapoint, in arrival order) with the datapoints the
    referee already closed."""

    job: JobRow
    revision: RevisionRow
    audience: AudienceRow
    examples: list[auwire.AddExampleInput]
    datapoints: list[DatapointRow]
    responses: dict[str, list[ResponseRecord]] = field(default_factory=dict)
    done: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OrderRow:
    """A legacy order. ``state`` is the order's own (``Created``, ``Preview``) until it is
    submitted; from then on it follows its job (``Running`` reads ``Processing``)."""

    id: str
    name: str
    state: str
    created_at: str
    dataset_id: str
    pipeline_id: str
    job_id: str | None
    preceding_order_id: str | None
    failure_message: str | None
    body: owire.CreateOrderInput


@dataclass(frozen=True, slots=True)
class ValidationSetRow:
    """A validation set: its rapids are kept apart (``ValidationSets.rapids``)."""

    id: str
    name: str
    created_at: str
    owner_mail: str
    dimensions: list[str]
    rapid_count: int
    modalities: list[str]  # payload kinds of its rapids, e.g. ["Compare"]


@dataclass(frozen=True, slots=True)
class ClientRow:
    """A credential. ``tenant`` owns what the client creates: its own id for a client made by
    ``clients create``; a second credential of an existing tenant (the embedded backend's own
    on a reopened database) shares that tenant's data."""

    client_id: str
    tenant: str
    created_at: str


# -- interfaces --------------------------------------------------------------------------------
class Clients(Protocol):
    async def add(
        self,
        client_id: str,
        secret_hash: str,
        *,
        tenant: str | None = None,
        join_first: bool = False,
    ) -> str:
        """Store a credential (``secret_hash`` from ``credentials.hash_secret``) and return
        its tenant: ``tenant``, else with ``join_first`` the first client's tenant (decided
        atomically: processes starting together on a new database share one tenant), else
        the client's own id."""
        ...

    async def get(self, client_id: str) -> tuple[ClientRow, str] | None:
        """The client and its stored secret hash, or None when there is no such client."""
        ...

    async def list(self) -> builtins.list[ClientRow]:
        """Every client, oldest first."""
        ...

    async def remove(self, client_id: str) -> bool:
        """Delete the client (its tokens stop working); False when there was none."""
        ...


class Assets(Protocol):
    async def add(
        self,
        name: str,
        *,
        owner: str,
        original_name: str | None,
        source_url: str | None,
        size: int | None,
    ) -> None: ...

    async def missing(self, names: Sequence[str], *, owner: Owner) -> set[str]:
        """The names among ``names`` that ``owner`` never uploaded."""
        ...

    async def urls(self, names: Sequence[str]) -> dict[str, str]:
        """Source URL per asset name, for the names that came from a URL (the engine, pages)."""
        ...


class Batches(Protocol):
    async def save(self, batch: BatchRow) -> None:
        """Insert or replace a batch; its ``Completed`` items become assets of its owner."""
        ...

    async def get(self, batch_id: str, *, owner: Owner) -> BatchRow: ...

    async def find(
        self, correlation_id: str | None, batch_ids: Sequence[str], *, owner: Owner
    ) -> list[BatchRow]: ...

    async def in_status(self, status: str) -> list[str]:
        """Ids of batches in ``status`` (resume ``Processing`` ones after a crash)."""
        ...


class Datasets(Protocol):
    async def create(self, body: dwire.CreateDatasetInput, *, owner: str) -> str: ...

    async def get(
        self, dataset_id: str, *, owner: Owner, field: str | None = None
    ) -> DatasetRow: ...

    async def add_datapoint(
        self, dataset_id: str, body: dwire.CreateDatapointInput, *, owner: str
    ) -> tuple[str, bool]:
        """Insert a datapoint, ``(id, created)``. The same ``sortIndex`` with the same content
        is a retry and returns the existing id with ``created=False``; assets ``owner`` never
        uploaded raise ``Invalid`` naming each field."""
        ...

    async def datapoints(self, dataset_id: str, *, owner: Owner) -> list[DatapointRow]:
        """In ``sortIndex`` order (datapoints without one last, in insertion order)."""
        ...

    async def datapoint_count(self, dataset_id: str) -> int:
        """Unscoped: callers reach the dataset through a definition they already checked."""
        ...


class Definitions(Protocol):
    async def create(
        self,
        body: jwire.CreateJobDefinitionInput,
        definition_type: str,
        *,
        owner: str,
        validation_set_id: str | None = None,
    ) -> tuple[str, str]:
        """A new definition with its revision 1 on a dataset of ``owner``, naming
        ``validation_set_id`` (a set of ``owner``: else ``NotFound`` naming
        ``validationSetId``) when given; ``(definition_id, pipeline_id)``."""
        ...

    async def get(
        self, definition_id: str, *, owner: Owner, field: str | None = None
    ) -> DefinitionRow: ...

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[DefinitionRow], int]: ...

    async def revision(
        self, definition_id: str, number: int | None = None, *, owner: Owner
    ) -> RevisionRow:
        """Revision ``number``, or the latest when None."""
        ...


class Audiences(Protocol):
    async def create(self, body: auwire.CreateAudienceInput, *, owner: str) -> str: ...

    async def get(self, audience_id: str, *, owner: Owner, field: str | None = None) -> AudienceRow:
        """``owner``'s audience or a shared (public) one."""
        ...

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[AudienceRow], int]:
        """``owner``'s and the public (curated, global) audiences; public ones first, then the
        requested order."""
        ...

    async def add_example(
        self, audience_id: str, body: auwire.AddExampleInput, *, owner: str
    ) -> int:
        """Store a qualification example on an audience of ``owner`` (shared ones are
        read-only: ``NotFound``); how many the audience now has."""
        ...

    # builtins.list: inside these classes ``list`` names the listing method.
    async def examples(
        self, audience_id: str, *, owner: Owner
    ) -> builtins.list[auwire.AddExampleInput]: ...

    async def set_status(
        self,
        audience_id: str,
        status: str,
        *,
        only_if: str | None = None,
        counts: tuple[int, int, int] | None = None,
    ) -> bool:
        """Move to ``status`` (only from ``only_if`` when given); ``counts`` = (qualified,
        graduated, dropped). Entering ``Recruiting`` stamps ``recruiting_started_at``. True if
        the row changed."""
        ...

    async def in_status(self, status: str) -> builtins.list[str]: ...


class Jobs(Protocol):
    async def create(
        self,
        body: jwire.CreateJobInput,
        *,
        owner: str,
        name: str,
        revision: RevisionRow,
        total: int,
        filters: Sequence[auwire.AudienceFilter] | None = None,
    ) -> JobRow:
        """A new job of ``owner`` in ``Submitted``; ``filters`` narrow its audience's pool
        (an order's user filters)."""
        ...

    async def get(self, job_id: str, *, owner: Owner, field: str | None = None) -> JobRow: ...

    async def list(self, query: ListQuery, *, owner: Owner) -> tuple[list[JobRow], int]: ...

    async def set_state(
        self,
        job_id: str,
        state: str,
        *,
        failure_message: str | None = None,
        total: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Set the state (stamping ``completed_at``/``failed_at``), the failure message and
        the waiting ``reason`` (both cleared when None), and ``total`` when given."""
        ...

    async def set_reason(self, job_id: str, reason: str | None) -> None:
        """Only the waiting reason of a running job."""
        ...

    async def in_states(self, states: Sequence[str]) -> builtins.list[str]:
        """Ids in creation order."""
        ...

    async def work(self, job_id: str) -> JobWork: ...

    async def record(
        self, job_id: str, responses: Sequence[ResponseRecord], done: Sequence[str]
    ) -> int:
        """Append responses and close datapoints, in one transaction, and bump the job's
        ``response_count``/``completed`` by what was new. A response whose ``(job, datapoint,
        labeler)`` is already stored, or a datapoint already closed, is skipped. Returns how
        many responses were new."""
        ...


class Orders(Protocol):
    async def create(
        self, body: owire.CreateOrderInput, *, owner: str, dataset_id: str
    ) -> OrderRow:
        """A new order of ``owner`` in ``Created`` over ``dataset_id``."""
        ...

    async def get(self, order_id: str, *, owner: Owner, field: str | None = None) -> OrderRow: ...

    async def list(self, query: ListQuery, *, owner: str) -> tuple[builtins.list[OrderRow], int]:
        """Filters and sorts ``order_name``, ``state`` (as ``OrderRow.state`` reads) and
        ``order_date``."""
        ...

    async def update(
        self,
        order_id: str,
        *,
        owner: str,
        name: str | None = None,
        preceding_order_id: str | None = None,
        clear_preceding: bool = False,
    ) -> None:
        """Rename and/or set (or with ``clear_preceding`` clear) the preceding order."""
        ...

    async def move(
        self, order_id: str, state: str, *, owner: str, only_from: Sequence[str]
    ) -> bool:
        """Set the order's own state if it is one of ``only_from`` (and no job runs it);
        True if it changed."""
        ...

    async def attach_job(self, order_id: str, job_id: str, *, owner: str) -> None:
        """The job that runs the submitted order; from now on its state is the order's."""
        ...


class ValidationSets(Protocol):
    async def create(self, body: vwire.CreateValidationSetInput, *, owner: str) -> str: ...

    async def get(
        self, set_id: str, *, owner: Owner, field: str | None = None
    ) -> ValidationSetRow: ...

    async def list(self, query: ListQuery, *, owner: str) -> tuple[list[ValidationSetRow], int]:
        """``owner``'s sets; filters and sorts ``id``, ``name``, ``created_at``."""
        ...

    async def add_rapid(
        self, set_id: str, body: vwire.AddValidationRapidInput, *, owner: str
    ) -> int:
        """Append a rapid to a set of ``owner``; assets ``owner`` never uploaded raise
        ``Invalid`` naming each field. How many rapids the set now has."""
        ...

    async def update(
        self,
        set_id: str,
        *,
        owner: str,
        name: str | None = None,
        dimensions: Sequence[str] | None = None,
    ) -> None:
        """Change what is given (patch semantics)."""
        ...

    async def rapids(
        self, set_id: str, *, owner: Owner
    ) -> builtins.list[vwire.AddValidationRapidInput]:
        """The set's rapids in the order they were added."""
        ...

    async def record_answers(self, job_id: str, answers: Sequence[ValidationAnswer]) -> None:
        """Append a job's validation answers (the engine); an answer whose ``(job, labeler,
        rapid)`` is stored already is skipped."""
        ...

    async def answers(self, job_id: str) -> builtins.list[ValidationAnswer]:
        """A job's validation answers in arrival order (the engine resumes from them; the
        last one of a labeler holds their score)."""
        ...


class Leases(Protocol):
    async def acquire(self, kind: str, keys: Sequence[str], owner: str, ttl: float) -> list[str]:
        """Take the leases ``(kind, key)`` that are free, expired, or already ``owner``'s, for
        ``ttl`` seconds from now; returns the keys ``owner`` now holds."""
        ...

    async def renew(self, kind: str, keys: Sequence[str], owner: str, ttl: float) -> list[str]:
        """Extend the leases ``owner`` still holds; returns those keys (a lost one is gone)."""
        ...

    async def release(self, kind: str, keys: Sequence[str], owner: str) -> None: ...


class Store(Protocol):
    """One backend database: the aggregates above, opened and closed together."""

    clients: Clients
    assets: Assets
    batches: Batches
    datasets: Datasets
    definitions: Definitions
    audiences: Audiences
    jobs: Jobs
    orders: Orders
    validation_sets: ValidationSets
    leases: Leases

    @property
    def assets_dir(self) -> Path | None:
        """Where uploaded files are kept, or None to keep none (in-memory backends)."""
        ...

    async def open(self) -> None:
        """Create the schema if needed and the seeded audiences; upgrade older databases
        (owners, hashed secrets, no signing key)."""
        ...

    async def close(self) -> None: ...

    async def reset(self) -> None:
        """Tests: wipe all data but credentials, assets and seeds."""
        ...
