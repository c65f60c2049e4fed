"""MRI: ``/benchmark…``, ``/benchmarks``, ``/leaderboard…``, ``/participant…`` (CALLS.md §9).

A benchmark holds prompts (an identifier unique per benchmark, text, an asset, tags, origin),
participants (the models) with one sample per prompt identifier, and leaderboards (an
instruction, who answers, how many votes a run collects). Submitting participants starts a
run on every leaderboard of the benchmark, and so does creating a leaderboard (unless
``skipInitialRun``): the engine's ranking runner then collects pairwise votes between the
submitted participants on prompts both have samples for (``engine._leaderboards``) until the
run's ``responseBudget`` is spent. Standings are a Bradley–Terry fit of those votes with
bootstrap intervals (``_standings``).

Everything belongs to the tenant that created the benchmark: another tenant's ids are 404.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from aiohttp import web

from ..._wire import mri as wire
from ..._wire.common import AssetInput, ExistingAssetInput
from .._context import ctx, tenant
from .._errors import field_error
from .._http import list_query, page_of, read_json, respond
from ..domain.errors import check_known_assets
from ..store.base import (
    ANY_OWNER,
    LeaderboardSpec,
    ListQuery,
    ParticipantRow,
    ParticipantSpec,
    PromptSpec,
    PromptTag,
    Store,
)
from . import _mri_out as out
from ._standings import StandingsFilter

routes: web.RouteTableDef = web.RouteTableDef()

MAX_SUBMIT = 100
"""Participant ids one ``POST /participants/submit`` takes (the hosted API's bound)."""
MAX_BUDGET = 100_000
"""Votes one leaderboard run may collect."""
MAX_MIN_RESPONSES = 1000
DEFAULT_BUDGET = 2000
"""``responseBudget`` when the request leaves it to the server (the ``low`` level)."""
DEFAULT_MIN_RESPONSES = 3
MAX_TAGS = 100
MAX_PROMPTS = 50_000
"""Prompts one benchmark holds."""
MAX_PARTICIPANTS = 500
"""Models one benchmark ranks (the items of a ranking session)."""
MAX_LEADERBOARDS = 100
"""Leaderboards one benchmark runs."""
_ONE = ListQuery(page=1, page_size=1)


def _check_room(field: str, total: int, limit: int, what: str) -> None:
    if total >= limit:
        raise field_error(field, f"A benchmark holds at most {limit} {what}.")


class CreatePromptIn(wire.CreatePromptInput):
    """3.27.1 ``segments`` or the Aug-2026 flat ``prompt``/``promptAsset``."""

    prompt: str | None = None
    prompt_asset: AssetInput | None = None


_benchmark_decoder = msgspec.json.Decoder(wire.CreateBenchmarkInput)
_prompt_decoder = msgspec.json.Decoder(CreatePromptIn)
_leaderboard_decoder = msgspec.json.Decoder(wire.CreateLeaderboardInput)
_participant_decoder = msgspec.json.Decoder(wire.CreateParticipantInput)
_sample_decoder = msgspec.json.Decoder(wire.CreateSampleInput)
_submit_decoder = msgspec.json.Decoder(wire.SubmitParticipantsInput)

_BENCHMARK_FILTERS = {"id": "id", "name": "name", "created_at": "created_at"}
_PROMPT_FILTERS = {
    "id": "id",
    "created_at": "created_at",
    "identifier": "identifier",
    "original_prompt": "text",
    "english_prompt": "text",
    "origin_source": "origin_source",
}
_LEADERBOARD_FILTERS = {"id": "id", "name": "name"}
_PARTICIPANT_FILTERS = {"id": "id", "name": "name", "status": "status"}
_SAMPLE_FILTERS = {"identifier": "identifier", "created_at": "created_at"}


def _non_empty(field: str, value: str) -> None:
    if not value.strip():
        raise field_error(field, f"The {field} must not be empty.")


async def _check_assets(store: Store, refs: list[tuple[str, str]], owner: str) -> None:
    """400 naming each field whose uploaded file ``owner`` never uploaded."""
    if refs:
        missing = await store.assets.missing([name for _, name in refs], owner=owner)
        check_known_assets(refs, {name for _, name in refs} - missing)


def _refs(asset: AssetInput | None, path: str) -> list[tuple[str, str]]:
    names = out.file_names(asset)
    if isinstance(asset, ExistingAssetInput):
        return [(path, names[0])]
    return [(f"{path}.assets[{i}]", name) for i, name in enumerate(names)]


# -- benchmarks ---------------------------------------------------------------------------------
@routes.post("/benchmark")
async def create_benchmark(request: web.Request) -> web.Response:
    body = await read_json(request, _benchmark_decoder)
    _non_empty("name", body.name)
    minimum = body.min_assets_per_prompt
    if minimum is not None and not 2 <= minimum <= MAX_MIN_RESPONSES:
        raise field_error("minAssetsPerPrompt", f"Must be between 2 and {MAX_MIN_RESPONSES}.")
    row = await ctx(request).store.benchmarks.create(
        body.name,
        owner=tenant(request),
        description=body.description,
        min_assets_per_prompt=minimum,
    )
    return respond(wire.CreateBenchmarkOutput(id=row.id))


@routes.get("/benchmark/{benchmarkId}")
async def get_benchmark(request: web.Request) -> web.Response:
    store = ctx(request).store
    row = await store.benchmarks.get(request.match_info["benchmarkId"], owner=tenant(request))
    return respond(out.benchmark_out(row))


@routes.get("/benchmarks")
async def list_benchmarks(request: web.Request) -> web.Response:
    query = list_query(request, filters=_BENCHMARK_FILTERS)
    rows, total = await ctx(request).store.benchmarks.list(query, owner=tenant(request))
    return respond(page_of([out.benchmark_item(r) for r in rows], total, query))


# -- prompts ------------------------------------------------------------------------------------
def _prompt_spec(body: CreatePromptIn) -> PromptSpec:
    _non_empty("identifier", body.identifier)
    text, asset = body.prompt, body.prompt_asset
    for i, segment in enumerate(body.segments or ()):
        if segment.kind == "Text":
            if segment.text is None:
                raise field_error(f"segments[{i}].text", "A Text segment needs its text.")
            if segment.key == wire.PROMPT_SEGMENT or text is None:
                text = segment.text
        else:
            if segment.asset is None:
                raise field_error(f"segments[{i}].asset", "An Asset segment needs its asset.")
            if segment.key == wire.PROMPT_ASSET_SEGMENT or asset is None:
                asset = segment.asset
    tags = list(body.tags or ())
    if len(tags) > MAX_TAGS:
        raise field_error("tags", f"At most {MAX_TAGS} tags per prompt.")
    for i, tag in enumerate(tags):
        _non_empty(f"tags[{i}].value", tag.value)
    return PromptSpec(
        identifier=body.identifier,
        text=text,
        asset=asset,
        tags=[PromptTag(t.value, t.category) for t in tags],
        origin=body.origin.source if body.origin is not None else None,
    )


@routes.post("/benchmark/{benchmarkId}/prompt")
async def add_prompt(request: web.Request) -> web.Response:
    body = await read_json(request, _prompt_decoder)
    spec = _prompt_spec(body)
    store, owner = ctx(request).store, tenant(request)
    benchmark_id = request.match_info["benchmarkId"]
    _, total = await store.benchmarks.prompts(benchmark_id, _ONE, owner=owner)
    _check_room("benchmarkId", total, MAX_PROMPTS, "prompts")
    refs = [
        ref
        for i, seg in enumerate(body.segments or ())
        for ref in _refs(seg.asset, f"segments[{i}].asset")
    ]
    await _check_assets(store, refs + _refs(body.prompt_asset, "promptAsset"), owner)
    row = await store.benchmarks.add_prompt(benchmark_id, spec, owner=owner)
    return respond(wire.CreatePromptOutput(id=row.id))


@routes.get("/benchmark/{benchmarkId}/prompts")
async def list_prompts(request: web.Request) -> web.Response:
    query = list_query(request, filters=_PROMPT_FILTERS, default_sort="created_at")
    store = ctx(request).store
    rows, total = await store.benchmarks.prompts(
        request.match_info["benchmarkId"], query, owner=tenant(request)
    )
    urls = await store.assets.urls([n for r in rows for n in out.file_names(r.spec.asset)])
    return respond(page_of([out.prompt_out(r, urls) for r in rows], total, query))


# -- leaderboards -------------------------------------------------------------------------------
def _int_in(field: str, value: int | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not low <= value <= high:
        raise field_error(field, f"Must be between {low} and {high}, got {value}.")
    return value


def _tags(field: str, values: list[str] | None) -> list[str]:
    tags = list(dict.fromkeys(values or ()))
    if len(tags) > MAX_TAGS:
        raise field_error(field, f"At most {MAX_TAGS} tags.")
    return tags


def _leaderboard_spec(body: wire.CreateLeaderboardInput, audience_id: str) -> LeaderboardSpec:
    _non_empty("name", body.name)
    _non_empty("instruction", body.instruction)
    return LeaderboardSpec(
        name=body.name,
        instruction=body.instruction,
        response_budget=_int_in(
            "responseBudget", body.response_budget, DEFAULT_BUDGET, 1, MAX_BUDGET
        ),
        min_responses=_int_in(
            "minResponses", body.min_responses, DEFAULT_MIN_RESPONSES, 1, MAX_MIN_RESPONSES
        ),
        audience_id=audience_id,
        show_prompt=body.show_prompt,
        show_prompt_asset=bool(body.show_prompt_asset),
        is_inversed=bool(body.is_inversed),
        included_tags=_tags("includedTags", body.included_tags),
        excluded_tags=_tags("excludedTags", body.excluded_tags),
        vote_aggregation=body.vote_aggregation or "AllVotes",
        display_instruction=body.display_instruction,
        feature_flags=[(f.key, f.value) for f in body.feature_flags or ()],
    )


@routes.post("/leaderboard")
async def create_leaderboard(request: web.Request) -> web.Response:
    body = await read_json(request, _leaderboard_decoder)
    context, owner = ctx(request), tenant(request)
    store = context.store
    audience_id = body.audience_id or "global"
    await store.audiences.get(audience_id, owner=owner, field="audienceId")
    spec = _leaderboard_spec(body, audience_id)
    if body.benchmark_id is not None:
        benchmark = await store.benchmarks.get(body.benchmark_id, owner=owner, field="benchmarkId")
    elif body.benchmark_name is not None and body.benchmark_name.strip():
        benchmark = await store.benchmarks.create(
            body.benchmark_name, owner=owner, description=body.benchmark_description
        )
    else:
        raise field_error("benchmarkId", "Name the benchmark: benchmarkId or benchmarkName.")
    _, boards = await store.benchmarks.leaderboards(benchmark.id, _ONE, owner=owner)
    _check_room("benchmarkId", boards, MAX_LEADERBOARDS, "leaderboards")
    participants, _ = await store.benchmarks.participants(benchmark.id, None, owner=owner)
    if body.skip_initial_run:
        # The models already in the benchmark count as submitted, without a run.
        waiting = [p.id for p in participants if p.status != "Submitted"]
        if waiting:
            await store.benchmarks.submit(waiting, owner=owner)
    # The initial run compares the models already submitted; with fewer than two there is
    # nothing to compare, and the first submissions start the run instead.
    submitted = sum(1 for p in participants if p.status == "Submitted")
    target = spec.response_budget if submitted >= 2 and not body.skip_initial_run else 0
    row = await store.benchmarks.add_leaderboard(
        benchmark.id, spec, owner=owner, target_votes=target
    )
    context.runner.start_ranking()
    return respond(
        wire.CreateLeaderboardOutput(
            id=row.id,
            benchmark_id=benchmark.id,
            show_prompt=spec.show_prompt,
            show_prompt_asset=spec.show_prompt_asset,
            response_budget=spec.response_budget,
            min_responses=spec.min_responses,
            is_inversed=spec.is_inversed,
            vote_aggregation=spec.vote_aggregation,  # type: ignore[arg-type]
        )
    )


@routes.get("/benchmark/{benchmarkId}/leaderboards")
async def list_leaderboards(request: web.Request) -> web.Response:
    query = list_query(request, filters=_LEADERBOARD_FILTERS, default_sort="created_at")
    rows, total = await ctx(request).store.benchmarks.leaderboards(
        request.match_info["benchmarkId"], query, owner=tenant(request)
    )
    return respond(page_of([out.leaderboard_out(r) for r in rows], total, query))


# Standings filters: query field -> StandingsFilter field. Each takes ``[in]`` (the 3.27.1
# client's form) or ``[eq]``; run_id and voted_at are accepted and ignored (one run per
# submission is not kept apart here).
_STANDINGS_FILTERS = {
    "tags": "tags",
    "prompt_identifier": "prompt_identifiers",
    "participant_id": "participant_ids",
    "country": "country",
    "language": "language",
    "gender": "gender",
    "age_bucket": "age_group",
    "occupation": "occupation",
}


def _standings_filter(request: web.Request) -> StandingsFilter:
    query = list_query(request, filters=_STANDINGS_FILTERS, default_sort="created_at")
    values: dict[str, set[str]] = {}
    for f in query.filters:
        if f.op not in ("in", "eq"):
            raise field_error(f"{f.field}[{f.op}]", "Only the 'in' and 'eq' operators apply here.")
        values.setdefault(f.field, set()).update(str(v) for v in f.values)
    return StandingsFilter(**{name: tuple(sorted(v)) for name, v in values.items()})


@routes.get("/leaderboard/{leaderboardId}/standings/query")
async def standings(request: web.Request) -> web.Response:
    """Bradley–Terry standings of the submitted participants from the votes passing the
    filters, best first (worst first for an inversed leaderboard), with 95 % intervals."""
    context = ctx(request)
    board = await context.store.benchmarks.leaderboard(
        request.match_info["leaderboardId"], owner=tenant(request)
    )
    flt = _standings_filter(request)
    return respond(await context.standings.query(context.store, board, flt))


# -- participants and samples -------------------------------------------------------------------
@routes.post("/benchmark/{benchmarkId}/participants")
async def create_participant(request: web.Request) -> web.Response:
    body = await read_json(request, _participant_decoder)
    _non_empty("name", body.name)
    if body.cost is not None and not (body.cost >= 0 and body.cost_unit is not None):
        raise field_error("cost", "A cost is a non-negative number given with its costUnit.")
    spec = ParticipantSpec(
        name=body.name,
        cost=body.cost,
        cost_unit=body.cost_unit,
        family=body.family,
        lab=body.lab,
        proprietary_name=body.proprietary_name,
        license_type=body.license_type,
    )
    store, owner = ctx(request).store, tenant(request)
    benchmark_id = request.match_info["benchmarkId"]
    _, total = await store.benchmarks.participants(benchmark_id, _ONE, owner=owner)
    _check_room("benchmarkId", total, MAX_PARTICIPANTS, "participants")
    row = await store.benchmarks.add_participant(benchmark_id, spec, owner=owner)
    return respond(wire.CreateParticipantOutput(participant_id=row.id, dataset_id=row.id))


@routes.get("/benchmark/{benchmarkId}/participants")
async def list_participants(request: web.Request) -> web.Response:
    query = list_query(request, filters=_PARTICIPANT_FILTERS, default_sort="created_at")
    rows, total = await ctx(request).store.benchmarks.participants(
        request.match_info["benchmarkId"], query, owner=tenant(request)
    )
    return respond(page_of([out.participant_out(r) for r in rows], total, query))


@routes.post("/participant/{participantId}/sample")
async def add_sample(request: web.Request) -> web.Response:
    """409 when the participant already has a sample for the identifier (the 3.27.1 client
    reads it as "already there")."""
    body = await read_json(request, _sample_decoder)
    _non_empty("identifier", body.identifier)
    store, owner = ctx(request).store, tenant(request)
    participant_id = request.match_info["participantId"]
    await store.benchmarks.participant(participant_id, owner=owner)
    await _check_assets(store, _refs(body.asset, "asset"), owner)
    row = await store.benchmarks.add_sample(
        participant_id, body.identifier, body.asset, owner=owner
    )
    return respond(wire.CreateSampleOutput(id=row.id))


@routes.get("/participant/{participantId}/samples")
async def list_samples(request: web.Request) -> web.Response:
    """A participant's samples with their prompts' texts and tags; ``fillMissing=true`` adds a
    placeholder per prompt without a sample; ``tags`` keeps samples whose prompt carries one."""
    query = list_query(request, filters=_SAMPLE_FILTERS, default_sort="created_at")
    store, owner = ctx(request).store, tenant(request)
    participant = await store.benchmarks.participant(
        request.match_info["participantId"], owner=owner
    )
    fill = request.query.get("fillMissing", "false").lower() in ("true", "1")
    wanted = set(request.query.getall("tags", []))
    prompts, _ = await store.benchmarks.prompts(participant.benchmark_id, None, owner=owner)
    by_identifier = {p.spec.identifier: p for p in prompts}
    filtered = fill or bool(wanted)  # then the page is cut here, from the whole list
    rows, total = await store.benchmarks.samples(
        participant.id, None if filtered else query, owner=owner
    )
    names = [n for r in rows for n in out.file_names(r.asset)]
    names += [n for p in prompts for n in out.file_names(p.spec.asset)]
    urls = await store.assets.urls(names)
    items: list[wire.SampleListItem] = [
        out.sample_out(r, by_identifier.get(r.identifier), urls) for r in rows
    ]
    if not filtered:
        return respond(page_of(items, total, query))
    if fill:
        have = {r.identifier for r in rows}
        items += [out.placeholder_out(p, urls) for p in prompts if p.spec.identifier not in have]
    if wanted:
        items = [item for item in items if wanted & set(item.tags)]
    page = items[query.offset : query.offset + query.page_size]
    return respond(page_of(page, len(items), query))


async def _submit(
    request: web.Request, ids: Sequence[str], *, single: bool = False
) -> list[ParticipantRow]:
    """Submit participants of one benchmark and start a run on each of its leaderboards."""
    if not ids:
        raise field_error("participantIds", "Name at least one participant.")
    if len(ids) > MAX_SUBMIT:
        raise field_error("participantIds", f"At most {MAX_SUBMIT} participants per request.")
    context, owner = ctx(request), tenant(request)
    store = context.store
    benchmarks: set[str] = set()
    for i, participant_id in enumerate(ids):
        field = "participantId" if single else f"participantIds[{i}]"
        row = await store.benchmarks.participant(participant_id, owner=owner, field=field)
        benchmarks.add(row.benchmark_id)
        if len(benchmarks) > 1:
            raise field_error(field, "The participants must belong to one benchmark.")
    rows = await store.benchmarks.submit(ids, owner=owner)
    for benchmark_id in benchmarks:
        boards, _ = await store.benchmarks.leaderboards(benchmark_id, None, owner=ANY_OWNER)
        for board in boards:
            # A running run grows by one budget; an idle leaderboard starts a run of one
            # budget from the votes it has.
            base = board.target_votes
            if board.state != "Running":
                base = await store.votes.total(board.id, owner=ANY_OWNER)
            target = base + board.spec.response_budget
            await store.benchmarks.set_target(board.id, target, "Running")
    context.runner.start_ranking()
    return rows


async def _underfilled(
    store: Store, rows: list[ParticipantRow], owner: str
) -> tuple[int, list[wire.ParticipantUnderfilledPrompts]]:
    """The benchmark's ``minAssetsPerPrompt`` (0: none) and the prompts each participant
    filled with fewer samples (one sample per identifier is kept here)."""
    if not rows:
        return 0, []
    benchmark = await store.benchmarks.get(rows[0].benchmark_id, owner=owner)
    minimum = benchmark.min_assets_per_prompt or 0
    if minimum < 2:
        return 0, []
    short = []
    for row in rows:
        samples, _ = await store.benchmarks.samples(row.id, None, owner=owner)
        prompts = [wire.UnderfilledPrompt(identifier=s.identifier, asset_count=1) for s in samples]
        if prompts:
            short.append(
                wire.ParticipantUnderfilledPrompts(
                    participant_id=row.id, underfilled_prompts=prompts
                )
            )
    return minimum, short


@routes.post("/participants/submit")
async def submit_participants(request: web.Request) -> web.Response:
    body = await read_json(request, _submit_decoder)
    rows = await _submit(request, body.participant_ids)
    minimum, short = await _underfilled(ctx(request).store, rows, tenant(request))
    warning = None
    if short:
        warning = wire.BatchMinAssetsPerPromptWarning(
            min_assets_per_prompt=minimum, underfilled_participants=short
        )
    return respond(
        wire.SubmitParticipantsOutput(
            valid_datapoints=sum(r.sample_count for r in rows),
            invalid_datapoints=0,
            min_assets_per_prompt_warning=warning,
        )
    )


@routes.post("/participants/{participantId}/submit")
async def submit_participant(request: web.Request) -> web.Response:
    """The Aug-2026 form: one participant, named in the path."""
    rows = await _submit(request, [request.match_info["participantId"]], single=True)
    minimum, short = await _underfilled(ctx(request).store, rows, tenant(request))
    warning = None
    if short:
        warning = wire.MinAssetsPerPromptWarning(
            min_assets_per_prompt=minimum, underfilled_prompts=short[0].underfilled_prompts
        )
    return respond(
        wire.SubmitParticipantOutput(
            valid_datapoints=sum(r.sample_count for r in rows),
            invalid_datapoints=0,
            min_assets_per_prompt_warning=warning,
        )
    )
