"""The results document the local backend serves at ``GET /job/{jobId}/download-results``.

The service layer turns collected responses into ``ResultItem``s and asks for the JSON bytes::

    doc = build_results_document(
        "Compare",
        [ResultItem(0, ["a.jpg", "b.jpg"], [Vote("a.jpg", 0.81, "DE", "de", "25-34", "Female",
                                                  "Healthcare")])],
        early_stopping=False,
        index_identifiers=None,
    )

Shape (CALLS.md section 5): ``info {createdAt, version, type}``, ``results`` as a list in
``sort_index`` order and, for compare jobs, ``summary {A_wins_total, B_wins_total}``. The
official client's ``RapidataResults.to_pandas()`` routes on ``info.type`` and reads compare
asset names from ``assetUrls`` (else from ``aggregatedResults``), so every per-asset map of an
item uses the same keys.

The document's structs are ``rapidata_async._wire.results``, the very ones the SDK decodes it
into. Jobs of tens of thousands of datapoints go through here, so the document is assembled as
those Structs (fixed key order, no per-key dict building for fixed fields) and encoded in one
call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Literal

import msgspec

from .._wire.results import (
    ClassificationDocument,
    ClassificationResult,
    CompareDocument,
    CompareResult,
    CompareSummary,
    DetailedResponse,
    ResultsInfo,
    UserDetails,
    UserScores,
)
from .domain.confidence import confidence_per_category

__all__ = [
    "RESULTS_VERSION",
    "ResultItem",
    "Vote",
    "build_results_document",
    "confidence_per_category",
]

RESULTS_VERSION = "3.0.0"
"""Aggregator version written to ``info.version`` (the docs' samples show 3.0.0)."""

_BOTH = "Both"
_NEITHER = "Neither"
_DIGITS = 4


# -- inputs --------------------------------------------------------------------------------------
class Vote(msgspec.Struct, frozen=True, gc=False):
    """One labeler response.

    ``answer`` is one of the item's ``options`` (compare: an asset name; classify: a category) or,
    for compare jobs with AllowNeitherBoth, ``"Both"`` / ``"Neither"``.
    """

    answer: str
    user_score: float
    country: str
    language: str
    age: str
    gender: str
    occupation: str


class ResultItem(msgspec.Struct, gc=False):
    """Everything the document needs about one datapoint.

    ``options``: compare = the two asset names (uploaded ``fileName`` or the text), classify =
    the categories in display order. ``original_file_name``: classify only, the asset name or
    text of the datapoint. ``asset_urls`` is keyed by asset name and only written for compare
    items: the official client flattens any other map into one column per key, which for
    classification would mean one column per file name.
    """

    sort_index: int
    options: list[str]
    votes: list[Vote]
    context: str | None = None
    context_asset: str | None = None
    private_metadata: dict[str, str] | None = None
    original_file_name: str | None = None
    asset_urls: dict[str, str] | None = None


# ``confidence_per_category`` lives in ``domain.confidence``, which early stopping uses too;
# it is re-exported here so the document and the stopping rule cannot drift apart.
# Formula: P(c) ∝ Π_i (s_i·[v_i = c] + (1 − s_i)/K), unrounded.


_encoder = msgspec.json.Encoder()


# -- builder -------------------------------------------------------------------------------------
def build_results_document(
    kind: Literal["Compare", "Classification"],
    items: Sequence[ResultItem],
    *,
    early_stopping: bool,
    index_identifiers: Sequence[str] | None,
) -> bytes:
    """Encode the results JSON of a job (CALLS.md section 5) from its datapoints' votes.

    Per item: ``aggregatedResults`` (vote counts), ``aggregatedResultsRatios`` (count / all
    votes), ``summedUserScores`` (sum of the voters' global userScores) and
    ``summedUserScoresRatios`` (sum / all scores), every option listed even with 0 votes and
    ``Both``/``Neither`` only when someone chose them. Scores are rounded to 4 places; sums are
    taken over the rounded per-response scores so the document adds up. Compare items get
    ``winner``/``winner_index``: the asset with the larger summed user score, ties to the lower
    index, ``null`` when nobody voted for either asset (such items count in neither summary
    total). ``index_identifiers`` (compare ``a_b_names``) replace the asset names as keys and
    answers. ``early_stopping`` adds ``confidencePerCategory``.

    Raises ``ValueError`` naming the item (by ``sort_index``) when its options or answers do not
    fit ``kind``.
    """
    if kind not in ("Compare", "Classification"):
        raise ValueError(f"kind must be 'Compare' or 'Classification', got {kind!r}")
    identifiers = list(index_identifiers) if index_identifiers else None
    if identifiers is not None:
        if kind != "Compare":
            raise ValueError("index_identifiers only apply to Compare results")
        if len(identifiers) != 2:
            raise ValueError(f"index_identifiers must hold 2 names, got {len(identifiers)}")
    ordered = sorted(items, key=_sort_key)
    info = ResultsInfo(created_at=datetime.now(timezone.utc), version=RESULTS_VERSION, type=kind)
    if kind == "Compare":
        compare_items = [_compare_item(item, early_stopping, identifiers) for item in ordered]
        a_wins = sum(1 for it in compare_items if it.winner_index == 0)
        b_wins = sum(1 for it in compare_items if it.winner_index == 1)
        return _encoder.encode(
            CompareDocument(
                info=info,
                summary=CompareSummary(a_wins_total=a_wins, b_wins_total=b_wins),
                results=compare_items,
            )
        )
    return _encoder.encode(
        ClassificationDocument(
            info=info, results=[_classification_item(item, early_stopping) for item in ordered]
        )
    )


def _sort_key(item: ResultItem) -> int:
    return item.sort_index


class _Tally:
    """Counts, summed rounded scores and response structs of one item, in one pass."""

    __slots__ = ("counts", "pairs", "scores", "user_details")

    def __init__(self, keys: list[str]) -> None:
        self.counts = dict.fromkeys(keys, 0)
        self.scores = dict.fromkeys(keys, 0.0)
        self.pairs: list[tuple[str, float]] = []
        self.user_details: list[UserDetails] = []

    def add(self, key: str, vote: Vote) -> None:
        score = round(vote.user_score, _DIGITS)
        counts = self.counts
        if key in counts:
            counts[key] += 1
            self.scores[key] += score
        else:
            counts[key] = 1
            self.scores[key] = score
        self.pairs.append((key, score))
        self.user_details.append(
            UserDetails(
                vote.country,
                vote.language,
                UserScores(score),
                vote.age,
                vote.gender,
                vote.occupation,
            )
        )

    def maps(self) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        n = sum(self.counts.values())
        total = sum(self.scores.values())
        ratios = {k: round(c / n, _DIGITS) if n else 0.0 for k, c in self.counts.items()}
        summed = {k: round(s, _DIGITS) for k, s in self.scores.items()}
        summed_ratios = {
            k: round(s / total, _DIGITS) if total else 0.0 for k, s in self.scores.items()
        }
        return ratios, summed, summed_ratios


def _compare_item(
    item: ResultItem, early_stopping: bool, identifiers: list[str] | None
) -> CompareResult:
    if len(item.options) != 2:
        raise ValueError(
            f"result item {item.sort_index}: a compare item needs 2 options (asset names), "
            f"got {len(item.options)}"
        )
    keys = identifiers if identifiers is not None else list(item.options)
    key_of = {item.options[0]: keys[0], item.options[1]: keys[1], _BOTH: _BOTH, _NEITHER: _NEITHER}
    tally = _Tally(keys)
    for vote in item.votes:
        key = key_of.get(vote.answer)
        if key is None:
            raise ValueError(
                f"result item {item.sort_index}: answer {vote.answer!r} is neither one of the "
                f"assets {item.options!r} nor Both/Neither"
            )
        tally.add(key, vote)
    ratios, summed, summed_ratios = tally.maps()
    # Both/Neither only appear when chosen; keep them after the assets, Both first.
    for extra in (_BOTH, _NEITHER):
        if extra in tally.counts:
            count = tally.counts.pop(extra)
            tally.counts[extra] = count
            for mapping in (ratios, summed, summed_ratios):
                mapping[extra] = mapping.pop(extra)
    a_score, b_score = tally.scores[keys[0]], tally.scores[keys[1]]
    if tally.counts[keys[0]] == 0 and tally.counts[keys[1]] == 0:
        winner_index: int | None = None
    else:
        winner_index = 1 if round(b_score, _DIGITS) > round(a_score, _DIGITS) else 0
    confidence = None
    if early_stopping:
        confidence = {
            k: round(v, _DIGITS) for k, v in confidence_per_category(tally.pairs, keys).items()
        }
    asset_urls = None
    if item.asset_urls:
        asset_urls = {
            key: item.asset_urls[name]
            for name, key in zip(item.options, keys, strict=True)
            if name in item.asset_urls
        } or None
    return CompareResult(
        context=item.context,
        winner_index=winner_index,
        winner=None if winner_index is None else keys[winner_index],
        aggregated_results=tally.counts,
        aggregated_results_ratios=ratios,
        summed_user_scores=summed,
        summed_user_scores_ratios=summed_ratios,
        detailed_results=[
            DetailedResponse(key, None, details)
            for (key, _), details in zip(tally.pairs, tally.user_details, strict=True)
        ],
        context_asset=item.context_asset,
        confidence_per_category=confidence,
        asset_urls=asset_urls,
        private_metadata=item.private_metadata or None,
    )


def _classification_item(item: ResultItem, early_stopping: bool) -> ClassificationResult:
    if not item.options:
        raise ValueError(f"result item {item.sort_index}: a classification item needs categories")
    categories = list(item.options)
    known = set(categories)
    tally = _Tally(categories)
    for vote in item.votes:
        if vote.answer not in known:
            raise ValueError(
                f"result item {item.sort_index}: answer {vote.answer!r} is not one of the "
                f"categories {categories!r}"
            )
        tally.add(vote.answer, vote)
    ratios, summed, summed_ratios = tally.maps()
    confidence = None
    if early_stopping:
        confidence = {
            k: round(v, _DIGITS)
            for k, v in confidence_per_category(tally.pairs, categories).items()
        }
    return ClassificationResult(
        original_file_name=item.original_file_name,
        context=item.context,
        aggregated_results=tally.counts,
        aggregated_results_ratios=ratios,
        summed_user_scores=summed,
        summed_user_scores_ratios=summed_ratios,
        detailed_results=[
            DetailedResponse(None, key, details)
            for (key, _), details in zip(tally.pairs, tally.user_details, strict=True)
        ],
        context_asset=item.context_asset,
        confidence_per_category=confidence,
        private_metadata=item.private_metadata or None,
    )
