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
from typing import Literal, Protocol

import msgspec

from ..._wire import asset as awire
from ..._wire import audience as auwire
from ..._wire import dataset as dwire
from ..._wire import job as jwire
from ..._wire import order as owire
from ..._wire import validation as vwire
from ..._wire.common import AssetInput

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
    tenant: str | None = None  # the tenant that created it (None: from before tenants)
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


class FlowConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A ranking flow's settings as stored (what ``GET /flow/{id}`` shows; each flow item
    keeps a copy of the settings it was created under)."""

    criteria: str
    starting_elo: int = 1200
    min_responses: int = 100
    max_responses: int = 100
    serve_timeout_seconds: int | None = None
    drain_duration_seconds: int | None = None
    audience_id: str | None = None
    validation_set_id: str | None = None
    serve_responses: int | None = None
    serve_to_response_ratio: float | None = None
    target_response_count: int | None = None
    feature_flags: list[tuple[str, str]] = []


@dataclass(frozen=True, slots=True)
class FlowRow:
    id: str
    name: str
    created_at: str
    config: FlowConfig
    item_count: int


@dataclass(frozen=True, slots=True)
class NewFlowItem:
    """What ``Flows.add_item`` stores: the dataset it ranks and its time to live."""

    dataset_id: str
    context: str | None
    context_asset: bytes | None  # the msgspec-encoded asset input, kept as sent
    ttl_seconds: int
    drain_seconds: int | None


@dataclass(frozen=True, slots=True)
class FlowItemRow:
    id: str
    flow_id: str
    dataset_id: str
    state: str  # Pending | Running | Completed | Failed | Stopping | Stopped | Incomplete
    context: str | None
    context_asset: bytes | None
    ttl_seconds: int
    drain_seconds: int | None
    config: FlowConfig
    created_at: str
    started_at: str | None
    completed_at: str | None
    failed_at: str | None
    failure_message: str | None
    owner: str


VoteOutcome = Literal["first", "second", "tie"]


class VoteRecord(msgspec.Struct, frozen=True, gc=False):
    """One labeler's verdict on one matchup of a ranking session (a flow item, a
    leaderboard), as stored.

    ``task_id`` names the matchup (unique per session); ``first``/``second`` are the ids of
    the two items as shown; ``context_key`` what the matchup was about beyond the items (a
    leaderboard's prompt identifier; None for flows). Demographics are None when unknown.
    ``created_at`` is set by the store when empty.
    """

    session_id: str
    task_id: str
    labeler_id: str
    first: str
    second: str
    outcome: VoteOutcome
    context_key: str | None = None
    country: str | None = None
    language: str | None = None
    gender: str | None = None
    age_group: str | None = None
    occupation: str | None = None
    created_at: str = ""


def vote_values(vote: VoteRecord, now: str) -> tuple[str | None, ...]:
    """A vote's columns in stored order (``created_at`` defaulting to ``now``), owner aside."""
    return (
        vote.session_id,
        vote.task_id,
        vote.labeler_id,
        vote.first,
        vote.second,
        vote.outcome,
        vote.context_key,
        vote.country,
        vote.language,
        vote.gender,
        vote.age_group,
        vote.occupation,
        vote.created_at or now,
    )


@dataclass(frozen=True, slots=True)
class VoteFilter:
    """Which votes of a session to count; None (or empty) means any. Each field lists the
    accepted values (a leaderboard's tags become ``context_keys``)."""

    context_keys: Sequence[str] | None = None
    country: Sequence[str] | None = None
    language: Sequence[str] | None = None
    gender: Sequence[str] | None = None
    age_group: Sequence[str] | None = None
    occupation: Sequence[str] | None = None

    def columns(self) -> list[tuple[str, list[str]]]:
        """``(column, accepted values)`` of the filters that are set, in a fixed order."""
        named = (
            ("context_key", self.context_keys),
            ("country", self.country),
            ("language", self.language),
            ("gender", self.gender),
            ("age_group", self.age_group),
            ("occupation", self.occupation),
        )
        return [(column, [str(v) for v in values]) for column, values in named if values]


@dataclass(frozen=True, slots=True)
class PairTally:
    """Votes of one ordered matchup side assignment: ``first`` shown first, ``second`` second."""

    first: str
    second: str
    first_won: int
    second_won: int
    ties: int


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


# -- MRI: benchmarks, prompts, leaderboards, participants, samples ----------------------------
class PromptTag(msgspec.Struct, frozen=True, omit_defaults=True):
    value: str
    category: str | None = None


class PromptSpec(msgspec.Struct, frozen=True, omit_defaults=True):
    """A benchmark prompt as stored: its identifier (unique per benchmark), text, asset shown
    with it, tags (never shown to labelers) and origin."""

    identifier: str
    text: str | None = None
    asset: AssetInput | None = None
    tags: list[PromptTag] = []
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class BenchmarkRow:
    id: str
    name: str
    created_at: str
    description: str | None = None
    min_assets_per_prompt: int | None = None


@dataclass(frozen=True, slots=True)
class PromptRow:
    id: str
    benchmark_id: str
    created_at: str
    spec: PromptSpec


class LeaderboardSpec(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a leaderboard asks and how it collects votes, with the defaults resolved."""

    name: str
    instruction: str
    response_budget: int
    min_responses: int
    audience_id: str = "global"
    show_prompt: bool = False
    show_prompt_asset: bool = False
    is_inversed: bool = False
    included_tags: list[str] = []
    excluded_tags: list[str] = []
    vote_aggregation: str = "MajorityVote"
    display_instruction: str | None = None
    feature_flags: list[tuple[str, str]] = []


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """``state``: ``Running`` while a run collects votes, else ``Idle``. ``target_votes``: the
    votes the runs asked for so far (each run adds its ``response_budget``)."""

    id: str
    benchmark_id: str
    created_at: str
    spec: LeaderboardSpec
    state: str
    target_votes: int
    owner: str


class ParticipantSpec(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    cost: float | None = None
    cost_unit: str | None = None
    family: str | None = None
    lab: str | None = None
    proprietary_name: str | None = None
    license_type: str | None = None


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    """``status``: ``Created`` until submitted, then ``Submitted``."""

    id: str
    benchmark_id: str
    created_at: str
    status: str
    spec: ParticipantSpec
    sample_count: int


@dataclass(frozen=True, slots=True)
class SampleRow:
    id: str
    participant_id: str
    identifier: str
    created_at: str
    asset: AssetInput


@dataclass(frozen=True, slots=True)
class LabelerRow:
    """A person invited to the labeling page by a tenant (``owner``). ``audiences``: the
    audiences besides the global one they may answer for (custom ones after passing the
    qualification examples); ``qualifications``: audience id -> (``Graduated`` | ``Dropped``,
    user score) of the custom audiences they went through."""

    id: str
    owner: str
    name: str
    audiences: list[str]
    created_at: str
    qualifications: dict[str, tuple[str, float]] = field(default_factory=dict)


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


class Labelers(Protocol):
    """People of the labeling page; their invite tokens are stored as hashes
    (``credentials.hash_secret``), like client secrets."""

    async def add(
        self,
        labeler_id: str,
        token_hash: str,
        *,
        owner: str,
        name: str,
        audiences: Sequence[str],
    ) -> LabelerRow: ...

    async def get(self, labeler_id: str) -> tuple[LabelerRow, str] | None:
        """The labeler and the stored hash of their token, or None (unscoped: the labeling
        page finds a person by the id in their invite token or session)."""
        ...

    async def list(self, *, owner: str) -> builtins.list[LabelerRow]:
        """``owner``'s labelers, oldest first."""
        ...

    async def set_qualification(
        self, labeler_id: str, audience_id: str, state: str, user_score: float
    ) -> None:
        """Record how the labeler did on a custom audience's examples (replaces an earlier
        outcome)."""
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

    async def originals(self, names: Sequence[str]) -> dict[str, str]:
        """Original file name per asset name, for the names uploaded as files (the engine,
        results)."""
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


class Flows(Protocol):
    async def create(self, name: str, config: FlowConfig, *, owner: str) -> FlowRow: ...

    async def get(self, flow_id: str, *, owner: Owner, field: str | None = None) -> FlowRow:
        """A flow not deleted (a deleted one is ``NotFound``, like an unknown id)."""
        ...

    async def list(self, query: ListQuery, *, owner: str) -> tuple[builtins.list[FlowRow], int]:
        """Filters and sorts: ``name``, ``created_at``."""
        ...

    async def update_config(self, flow_id: str, config: FlowConfig, *, owner: str) -> None: ...

    async def delete(self, flow_id: str, *, owner: str) -> None:
        """Soft delete: the flow disappears from every read; its unfinished items stop
        (``Pending`` ones at once, ``Running`` ones through ``Stopping``)."""
        ...

    async def add_item(self, flow_id: str, item: NewFlowItem, *, owner: str) -> FlowItemRow:
        """A ``Pending`` item with a copy of the flow's config; bumps the flow's item count."""
        ...

    async def item(self, item_id: str, *, owner: Owner, field: str | None = None) -> FlowItemRow:
        """An item of a flow not deleted (``ANY_OWNER``, the engine: of any flow)."""
        ...

    async def items(
        self, flow_id: str, query: ListQuery, *, owner: str
    ) -> tuple[builtins.list[FlowItemRow], int]:
        """Filters and sorts: ``state``, ``created_at``."""
        ...

    async def items_in_states(self, states: Sequence[str]) -> builtins.list[str]:
        """Ids of items in ``states`` (the engine), oldest first."""
        ...

    async def set_item_state(
        self,
        item_id: str,
        state: str,
        *,
        only_from: Sequence[str] | None = None,
        failure_message: str | None = None,
    ) -> bool:
        """Move an item to ``state`` (only from one of ``only_from`` when given), stamping
        ``started_at`` (Running), ``completed_at`` (Completed, Incomplete, Stopped) or
        ``failed_at`` (Failed). True if it changed."""
        ...


class Votes(Protocol):
    async def record(self, votes: Sequence[VoteRecord], *, owner: str) -> int:
        """Store votes of ``owner``'s sessions in one transaction; a vote whose
        ``(session_id, task_id, labeler_id)`` is already stored is skipped (a resumed run, two
        processes during a lease hand-over). Returns how many were new."""
        ...

    async def tallies(
        self, session_id: str, *, owner: Owner, where: VoteFilter | None = None
    ) -> builtins.list[PairTally]:
        """The session's votes grouped by ``(first, second)``, optionally filtered."""
        ...

    async def labeler_tallies(
        self, session_id: str, *, owner: Owner
    ) -> builtins.dict[str, builtins.list[PairTally]]:
        """The session's votes grouped by labeler, then by ``(first, second)``."""
        ...

    async def total(self, session_id: str, *, owner: Owner) -> int:
        """How many votes the session has."""
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


class Benchmarks(Protocol):
    """MRI benchmarks with their prompts, leaderboards, participants and samples. A benchmark
    belongs to its creator's tenant, and so does everything in it: another tenant's ids are
    ``NotFound`` (``field`` names the request field that carried the id)."""

    async def create(
        self,
        name: str,
        *,
        owner: str,
        description: str | None = None,
        min_assets_per_prompt: int | None = None,
    ) -> BenchmarkRow: ...

    async def get(
        self, benchmark_id: str, *, owner: Owner, field: str | None = None
    ) -> BenchmarkRow: ...

    async def list(
        self, query: ListQuery, *, owner: str
    ) -> tuple[builtins.list[BenchmarkRow], int]:
        """Logical fields: ``id``, ``name``, ``created_at``."""
        ...

    async def add_prompt(self, benchmark_id: str, spec: PromptSpec, *, owner: str) -> PromptRow:
        """``Conflict`` when the benchmark already has a prompt with this identifier."""
        ...

    async def prompts(
        self, benchmark_id: str, query: ListQuery | None, *, owner: Owner
    ) -> tuple[builtins.list[PromptRow], int]:
        """One page (``query``), or every prompt in registration order (None). Logical fields:
        ``id``, ``created_at``, ``identifier``, ``text``, ``origin_source``."""
        ...

    async def add_leaderboard(
        self, benchmark_id: str, spec: LeaderboardSpec, *, owner: str, target_votes: int
    ) -> LeaderboardRow:
        """A new leaderboard, ``Running`` when ``target_votes`` > 0, else ``Idle``."""
        ...

    async def leaderboard(
        self, leaderboard_id: str, *, owner: Owner, field: str | None = None
    ) -> LeaderboardRow: ...

    async def leaderboards(
        self, benchmark_id: str, query: ListQuery | None, *, owner: Owner
    ) -> tuple[builtins.list[LeaderboardRow], int]:
        """Logical fields: ``id``, ``name``, ``created_at``; None: all, oldest first."""
        ...

    async def set_target(self, leaderboard_id: str, target_votes: int, state: str) -> None:
        """The engine: a run's vote target and the leaderboard's state."""
        ...

    async def running_leaderboards(self) -> builtins.list[str]:
        """Ids of the leaderboards in ``Running`` (the engine's scan)."""
        ...

    async def add_participant(
        self, benchmark_id: str, spec: ParticipantSpec, *, owner: str
    ) -> ParticipantRow: ...

    async def participant(
        self, participant_id: str, *, owner: Owner, field: str | None = None
    ) -> ParticipantRow: ...

    async def participants(
        self, benchmark_id: str, query: ListQuery | None, *, owner: Owner
    ) -> tuple[builtins.list[ParticipantRow], int]:
        """Logical fields: ``id``, ``name``, ``status``, ``created_at``; None: all, oldest
        first."""
        ...

    async def add_sample(
        self, participant_id: str, identifier: str, asset: AssetInput, *, owner: str
    ) -> SampleRow:
        """``Invalid`` naming ``identifier`` when the benchmark has no such prompt,
        ``Conflict`` when the participant already has a sample for it."""
        ...

    async def samples(
        self, participant_id: str, query: ListQuery | None, *, owner: Owner
    ) -> tuple[builtins.list[SampleRow], int]:
        """Logical fields: ``identifier``, ``created_at``; None: all, oldest first."""
        ...

    async def submit(
        self, participant_ids: Sequence[str], *, owner: str
    ) -> builtins.list[ParticipantRow]:
        """Mark participants ``Submitted`` (all or none: ``NotFound`` naming
        ``participantIds[i]`` for one that is unknown); the rows as they are now."""
        ...

    async def benchmark_samples(self, benchmark_id: str) -> dict[str, dict[str, AssetInput]]:
        """The engine: per submitted participant, its samples (prompt identifier -> asset)."""
        ...


class Store(Protocol):
    """One backend database: the aggregates above, opened and closed together."""

    clients: Clients
    labelers: Labelers
    assets: Assets
    batches: Batches
    datasets: Datasets
    definitions: Definitions
    audiences: Audiences
    jobs: Jobs
    votes: Votes
    flows: Flows
    orders: Orders
    validation_sets: ValidationSets
    leases: Leases
    benchmarks: Benchmarks

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
        """Tests: wipe all data (labelers too) but credentials, assets and seeds."""
        ...
