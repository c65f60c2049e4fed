"""Ranking flows: their settings, their items (one ranking session per dataset), results.

A flow holds settings; each item ranks the datapoints of one dataset with the shared ranking
runner (``engine._ranking``) on the flow's audience (the global one unless ``audienceId``):

- every matchup collects ``minResponses`` votes from distinct labelers, no pair gathers more
  than ``maxResponses`` (``max(minResponses, maxResponses)``), and matchmaking
  (``matchmaking.next_pairs``) picks the next matchup from the votes so far. The item is
  ``Completed`` when matchmaking has nothing left to ask (every pair at its cap);
- its time to live (10–3600 s, 240 by default) counts from its creation: when it passes
  first, the item is ``Incomplete`` with the votes collected so far. The drain duration
  (the item's, else the flow's, else the serve timeout; at most half the time to live) before
  that no new matchup opens and open ones stop being handed out;
- the serve timeout: a matchup short of its votes that long after it opened is dropped
  (late answers are not counted) and matchmaking picks again;
- deleting the flow stops its items (``Stopping`` → ``Stopped``, ``Pending`` ones at once).

Results rate the datapoints with a Bradley–Terry fit on the flow's ``startingElo`` scale
(mean rating = startingElo, 400 points per factor 10 in the odds) with 95 % bootstrap
intervals and rank ranges (``ranking.standings``).

Validation (``validationSetId``): the set's rapids are shown among the matchups and each
labeler's answers update their score for the item (the jobs' rules, ``domain.validation``;
stored as validation answers under the item id). In the fit each labeler's votes count in
proportion to their last score there; labelers who answered no rapid count with the mean
score of those who did, and the weights are scaled so the weighted votes add up to the raw
number (the intervals keep their width). ``totalVotes``, ``battles`` and the vote matrix stay
raw counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import anyio.to_thread
import msgspec
import numpy as np

from ..._wire import flow as wire
from ..._wire.common import (
    AssetInput,
    ExistingAssetInput,
    FeatureFlag,
    MultiAssetInput,
    TextAssetInput,
)
from ..domain.errors import Conflict, Invalid
from ..domain.ranking import PairCounts, Rating, standings
from ..domain.tasks import TaskSpec, asset_label
from ..engine._ranking import RankingOutcome, RankingPlan, pair_counts
from ..store.base import (
    ANY_OWNER,
    DatapointRow,
    FlowConfig,
    FlowItemRow,
    NewFlowItem,
    PairTally,
    Store,
)
from ..store.seeds import parse_iso

GLOBAL_AUDIENCE = "global"
DEFAULT_MIN_RESPONSES = 20
DEFAULT_MAX_RESPONSES = 100
MAX_RESPONSES = 1000
DEFAULT_TTL = 240
TTL_RANGE = (10, 3600)
MAX_SECONDS = 3600
MAX_ELO = 100_000
MAX_FLOW_DATAPOINTS = 500
"""Datapoints one flow item may rank."""
FINAL_STATES = frozenset({"Completed", "Failed", "Stopped", "Incomplete"})
ACTIVE_STATES = ("Pending", "Running", "Stopping")
BOOTSTRAP_ROUNDS = 200

_asset_input = msgspec.json.Decoder(AssetInput)
_encode = msgspec.json.Encoder().encode


# -- settings -----------------------------------------------------------------------------------
def _int_in(field: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise Invalid.field(field, f"Must be between {low} and {high}, got {value}.")


def check_config(config: FlowConfig) -> FlowConfig:
    """Bounds of every setting (``Invalid`` naming the request field)."""
    if not config.criteria.strip():
        raise Invalid.field("criteria", "The ranking criteria must not be empty.")
    _int_in("startingElo", config.starting_elo, 0, MAX_ELO)
    _int_in("minResponses", config.min_responses, 1, MAX_RESPONSES)
    _int_in("maxResponses", config.max_responses, 1, MAX_RESPONSES)
    if config.max_responses < config.min_responses:
        raise Invalid.field(
            "maxResponses",
            f"Must be at least minResponses ({config.min_responses}), got {config.max_responses}.",
        )
    _int_in("serveTimeoutSeconds", config.serve_timeout_seconds, 1, MAX_SECONDS)
    _int_in("drainDurationSeconds", config.drain_duration_seconds, 0, MAX_SECONDS)
    _int_in("serveResponses", config.serve_responses, 1, MAX_RESPONSES)
    _int_in("targetResponseCount", config.target_response_count, 1, 10**6)
    return config


def _flags(flags: Sequence[FeatureFlag] | None) -> list[tuple[str, str]]:
    return [(f.key, f.value) for f in flags or ()]


def config_of(body: wire.CreateFlowInput) -> FlowConfig:
    """The settings of a new flow; unset counts follow the 3.27.1 client's defaults."""
    low, high = body.min_responses, body.max_responses
    if low is None:
        low = min(DEFAULT_MIN_RESPONSES, high) if high is not None else DEFAULT_MIN_RESPONSES
    if high is None:
        high = max(low, DEFAULT_MAX_RESPONSES)
    return check_config(
        FlowConfig(
            criteria=body.criteria,
            starting_elo=1200 if body.starting_elo is None else body.starting_elo,
            min_responses=low,
            max_responses=high,
            serve_timeout_seconds=body.serve_timeout_seconds,
            drain_duration_seconds=body.drain_duration_seconds,
            audience_id=body.audience_id,
            validation_set_id=body.validation_set_id,
            serve_responses=body.serve_responses,
            serve_to_response_ratio=body.serve_to_response_ratio,
            target_response_count=body.target_response_count,
            feature_flags=_flags(body.feature_flags),
        )
    )


def updated(config: FlowConfig, body: wire.UpdateConfigInput) -> FlowConfig:
    """``config`` with the fields ``body`` sends; a ``null`` nullable resets it."""
    changes: dict[str, object] = {}
    for name in ("criteria", "starting_elo", "min_responses", "max_responses"):
        value = getattr(body, name)
        if value is not None:
            changes[name] = value
    if body.feature_flags is not None:
        changes["feature_flags"] = _flags(body.feature_flags)
    for name in (
        "audience_id",
        "serve_responses",
        "serve_to_response_ratio",
        "serve_timeout_seconds",
        "drain_duration_seconds",
        "target_response_count",
    ):
        value = getattr(body, name)
        if value is not msgspec.UNSET:
            changes[name] = value
    return check_config(msgspec.structs.replace(config, **changes))


async def check_audience(store: Store, audience_id: str | None, owner: str) -> None:
    """The flow's audience must exist for ``owner`` (a shared one or their own)."""
    if audience_id is not None:
        await store.audiences.get(audience_id, owner=owner, field="audienceId")


# -- items --------------------------------------------------------------------------------------
def _asset_of(dp: DatapointRow) -> AssetInput | None:
    body = dp.body
    """The datapoint's first asset segment, else its first text segment (as a text asset),
    else the flat ``asset`` of the Aug-2026 shape."""
    if body.segments is None:
        return body.asset
    for segment in body.segments:
        if segment.kind == "Asset" and segment.asset is not None:
            return segment.asset
    for segment in body.segments:
        if segment.kind == "Text" and segment.text is not None:
            return TextAssetInput(text=segment.text)
    return None


def item_assets(datapoints: Sequence[DatapointRow]) -> list[AssetInput]:
    """The asset of each datapoint of a flow item's dataset (``Invalid`` naming
    ``datasetId`` when the dataset cannot be ranked)."""
    if len(datapoints) < 2:
        raise Invalid.field(
            "datasetId",
            f"A flow item ranks at least 2 datapoints, the dataset has {len(datapoints)}.",
        )
    if len(datapoints) > MAX_FLOW_DATAPOINTS:
        raise Invalid.field(
            "datasetId",
            f"A flow item ranks at most {MAX_FLOW_DATAPOINTS} datapoints, "
            f"the dataset has {len(datapoints)}.",
        )
    assets: list[AssetInput] = []
    seen: dict[str, int] = {}
    for position, dp in enumerate(datapoints):
        asset = _asset_of(dp)
        if asset is None or isinstance(asset, MultiAssetInput):
            raise Invalid.field("datasetId", f"Datapoint {position} has no single asset to rank.")
        label = asset_label(asset)
        if label in seen:
            raise Invalid.field(
                "datasetId",
                f"Datapoints {seen[label]} and {position} show the same asset '{label[:80]}'.",
            )
        seen[label] = position
        assets.append(asset)
    return assets


def new_item(body: wire.CreateFlowItemInput) -> NewFlowItem:
    ttl = DEFAULT_TTL if body.time_to_live_in_seconds is None else body.time_to_live_in_seconds
    _int_in("timeToLiveInSeconds", ttl, *TTL_RANGE)
    _int_in("drainDurationInSeconds", body.drain_duration_in_seconds, 0, MAX_SECONDS)
    context_asset = _encode(body.context_asset) if body.context_asset is not None else None
    return NewFlowItem(
        body.dataset_id, body.context, context_asset, ttl, body.drain_duration_in_seconds
    )


def context_asset(row: FlowItemRow) -> AssetInput | None:
    return _asset_input.decode(row.context_asset) if row.context_asset is not None else None


def expires_at(row: FlowItemRow) -> float:
    """Epoch seconds at which the item's time to live ends."""
    return (parse_iso(row.created_at) + timedelta(seconds=row.ttl_seconds)).timestamp()


def drain_seconds(row: FlowItemRow) -> float:
    """The drain window before expiry: the item's, else the flow's, else the serve timeout,
    at most half the time to live."""
    config = row.config
    drain = row.drain_seconds
    if drain is None:
        drain = config.drain_duration_seconds
    if drain is None:
        drain = config.serve_timeout_seconds or 0
    return min(float(drain), row.ttl_seconds / 2)


@dataclass(frozen=True)
class ItemMatchups:
    """A flow item's datapoints as a ``Matchups`` provider (ids: datapoint ids)."""

    item_id: str
    ids: list[str]
    labels: list[str]
    context: str | None

    def task(self, i: int, j: int) -> tuple[TaskSpec, str | None]:
        a, b = self.labels[i], self.labels[j]
        key = f"flow\x1f{self.item_id}\x1f{a}\x1f{b}"
        return TaskSpec(key, "compare", [a, b], context=self.context, pairwise=True), None


def _seed(item_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(item_id.encode(), digest_size=4).digest(), "big")


class FlowSessions:
    """Flow items as ranking sessions of the engine (kind ``flow``)."""

    kind = "flow"

    def __init__(self, store: Store) -> None:
        self.store = store

    async def runnable(self) -> list[str]:
        return await self.store.flows.items_in_states(ACTIVE_STATES)

    async def plan(self, session_id: str) -> RankingPlan | None:
        store = self.store
        row = await store.flows.item(session_id, owner=ANY_OWNER)
        if row.state == "Stopping":
            await store.flows.set_item_state(session_id, "Stopped", only_from=["Stopping"])
            return None
        if row.state in FINAL_STATES:
            return None
        datapoints = await store.datasets.datapoints(row.dataset_id, owner=ANY_OWNER)
        assets = item_assets(datapoints)
        await store.flows.set_item_state(session_id, "Running", only_from=["Pending"])
        config = row.config
        return RankingPlan(
            session_id=row.id,
            owner=row.owner,
            audience_id=config.audience_id or GLOBAL_AUDIENCE,
            matchups=ItemMatchups(
                row.id, [dp.id for dp in datapoints], [asset_label(a) for a in assets], row.context
            ),
            min_responses=config.min_responses,
            max_per_pair=max(config.min_responses, config.max_responses),
            deadline=expires_at(row),
            drain_seconds=drain_seconds(row),
            serve_timeout=config.serve_timeout_seconds,
            seed=_seed(row.id),
            validation_set_id=config.validation_set_id,
        )

    async def should_stop(self, session_id: str) -> bool:
        row = await self.store.flows.item(session_id, owner=ANY_OWNER)
        return row.state == "Stopping"

    async def finished(self, session_id: str, outcome: RankingOutcome) -> None:
        state = {"completed": "Completed", "expired": "Incomplete", "stopped": "Stopped"}[outcome]
        await self.store.flows.set_item_state(
            session_id, state, only_from=["Pending", "Running", "Stopping"]
        )

    async def failed(self, session_id: str, message: str) -> None:
        await self.store.flows.set_item_state(session_id, "Failed", failure_message=message)


# -- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemVotes:
    """A finished item's datapoints, how the API shows them, and their votes."""

    ids: list[str]
    assets: list[wire.Asset]
    keys: list[str]
    counts: PairCounts


def asset_out(asset: AssetInput, urls: dict[str, str], originals: dict[str, str]) -> wire.Asset:
    """An asset input as ``IAsset``, with the metadata the clients key results by."""
    if isinstance(asset, ExistingAssetInput):
        metadata: dict[str, wire.Metadata] = {}
        if asset.name in urls:
            metadata["sourceUrl"] = wire.SourceUrlMetadata(url=urls[asset.name])
        if asset.name in originals:
            metadata["originalFilename"] = wire.OriginalFilenameMetadata(
                original_filename=originals[asset.name]
            )
        return wire.FileAsset(
            file_name=asset.name, metadata=metadata, identifier=asset.identifier or asset.name
        )
    if isinstance(asset, MultiAssetInput):
        return wire.MultiAsset(
            assets=[asset_out(a, urls, originals) for a in asset.assets],
            metadata={},
            identifier=asset.identifier or asset_label(asset),
        )
    return wire.TextAsset(text=asset.text, metadata={}, identifier=asset.identifier or asset.text)


def result_key(asset: wire.Asset, datapoint_id: str) -> str:
    """What the clients name a datapoint by: source URL, else original file name, else the
    asset's identifier, else the datapoint id."""
    for entry in asset.metadata.values():
        if isinstance(entry, wire.SourceUrlMetadata):
            return entry.url
    for entry in asset.metadata.values():
        if isinstance(entry, wire.OriginalFilenameMetadata):
            return entry.original_filename
    return asset.identifier or datapoint_id


async def item_votes(store: Store, row: FlowItemRow) -> ItemVotes:
    """The votes of a finished item (``Conflict`` while it runs)."""
    if row.state not in FINAL_STATES:
        raise Conflict(
            f"Flow item '{row.id}' is {row.state}; its results are ready once it is Completed, "
            "Incomplete, Stopped or Failed."
        )
    datapoints = await store.datasets.datapoints(row.dataset_id, owner=ANY_OWNER)
    inputs = [_asset_of(dp) for dp in datapoints]
    names = [a.name for a in inputs if isinstance(a, ExistingAssetInput)]
    urls = await store.assets.urls(names)
    originals = await store.assets.originals(names)
    ids = [dp.id for dp in datapoints]
    assets = [
        asset_out(a, urls, originals)
        if a is not None
        else wire.NullAsset(metadata={}, identifier=dp.id)
        for a, dp in zip(inputs, datapoints, strict=True)
    ]
    tallies = await store.votes.tallies(row.id, owner=ANY_OWNER)
    return ItemVotes(
        ids,
        assets,
        [result_key(a, i) for a, i in zip(assets, ids, strict=True)],
        pair_counts(ids, tallies),
    )


def weighted_counts(
    ids: Sequence[str], by_labeler: dict[str, list[PairTally]], scores: dict[str, float]
) -> PairCounts | None:
    """The votes among ``ids`` with each labeler's weighted by their validation score (the
    rule of the module docstring); None when no score applies (then the raw counts do)."""
    known = [scores[labeler] for labeler in by_labeler if labeler in scores]
    if not known:
        return None
    neutral = sum(known) / len(known)
    parts = [(scores.get(lab, neutral), pair_counts(ids, t)) for lab, t in by_labeler.items()]
    raw = sum(counts.total for _, counts in parts)
    weighted = sum(weight * counts.total for weight, counts in parts)
    if weighted <= 0:
        return None
    scale = raw / weighted
    total = PairCounts.empty(max(len(ids), 1))
    for weight, counts in parts:
        total = total.merged(
            PairCounts(counts.n_items, counts.pairs, counts.cells * (weight * scale))
        )
    return total


async def _fit_counts(store: Store, row: FlowItemRow, votes: ItemVotes) -> PairCounts:
    """What the ratings are fitted on: the votes weighted by validation when the flow names a
    validation set and its labelers answered some rapids, else the raw votes."""
    if row.config.validation_set_id is None:
        return votes.counts
    scores = {a.labeler_id: a.score for a in await store.validation_sets.answers(row.id)}
    if not scores:
        return votes.counts
    by_labeler = await store.votes.labeler_tallies(row.id, owner=ANY_OWNER)
    return weighted_counts(votes.ids, by_labeler, scores) or votes.counts


async def results(store: Store, row: FlowItemRow) -> wire.RankingResultsOutput:
    votes = await item_votes(store, row)
    fitted = await _fit_counts(store, row, votes)
    battles = dict(zip(votes.ids, votes.counts.per_item()[0].tolist(), strict=True))

    def rate() -> list[Rating]:
        return standings(
            fitted,
            votes.ids,
            rounds=BOOTSTRAP_ROUNDS,
            rng=np.random.default_rng(_seed(row.id)),
            center=float(row.config.starting_elo),
        )

    table = await anyio.to_thread.run_sync(rate)
    where = {dp: k for k, dp in enumerate(votes.ids)}
    return wire.RankingResultsOutput(
        datapoints=[
            wire.RankingDatapointResult(
                id=r.id,
                asset=votes.assets[where[r.id]],
                elo=round(r.score),
                ci_low=round(r.ci_low, 2),
                ci_high=round(r.ci_high, 2),
                rank_low=r.rank_low,
                rank_high=r.rank_high,
                battles=round(battles[r.id]),
            )
            for r in table
        ],
        total_votes=round(votes.counts.total),
    )


async def vote_matrix(store: Store, row: FlowItemRow) -> wire.VoteMatrixOutput:
    votes = await item_votes(store, row)
    matrix = votes.counts.matrix()
    return wire.VoteMatrixOutput(
        index=list(votes.keys),
        columns=list(votes.keys),
        data=[[float(x) for x in line] for line in matrix],
    )
