"""The results document of ``GET /job/{jobId}/download-results`` (CALLS.md section 5).

The local backend encodes it from these structs and the SDK decodes it into them (the public
types of ``rapidata_async.results`` subclass them), so the two sides share one definition::

    {"info": {"createdAt", "version", "type"},
     "summary": {"A_wins_total", "B_wins_total"},            # compare only
     "results": [{"context", "winner_index", "winner", "aggregatedResults", …,
                  "detailedResults": [{"votedFor", "userDetails": {…}}]}]}

Names are the document's own: camelCase, except ``winner_index``, ``A_wins_total``,
``B_wins_total`` and ``userScores.global``, spelled out below. Every struct omits its defaults
when encoded, so a default marks a key the document may leave out (``contextAsset``,
``confidencePerCategory``, ``assetUrls``, ``privateMetadata``) or one a reader tolerates missing
in older files; the writer never produces a default value for a key the document always has.
Keys always written, even as ``null`` or ``[]``, have no default: the official client's frames
expect them on every item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec


class _Results(msgspec.Struct, rename="camel", omit_defaults=True, frozen=True, gc=False):
    """Base of the document's structs: ``WireModel``'s options, plus frozen and gc=False."""


# frozen: decoded documents are shared read-only views (every subclass says so again, as type
# checkers ask); gc=False: a document holds hundreds of thousands of these, none in a cycle.


class UserScores(_Results, frozen=True):
    """``userScores``: the labeler's reliability; only ``global`` is written."""

    global_: float | None = msgspec.field(default=None, name="global")


class UserDetails(_Results, frozen=True):
    """``userDetails``: the labeler's demographics and scores."""

    country: str | None = None
    language: str | None = None
    user_scores: UserScores = UserScores()
    age: str | None = None
    gender: str | None = None
    occupation: str | None = None


class DetailedResponse(_Results, frozen=True):
    """An item of ``detailedResults``: ``votedFor`` (compare) or ``selectedCategory``."""

    voted_for: str | None = None
    selected_category: str | None = None
    user_details: UserDetails = UserDetails()


class CompareResult(_Results, frozen=True, kw_only=True):
    """An item of a compare document; the maps are keyed by asset name (or ``a_b_names``)."""

    context: str | None
    context_asset: str | None = None
    winner_index: int | None = msgspec.field(name="winner_index")
    winner: str | None
    aggregated_results: dict[str, int] = {}
    aggregated_results_ratios: dict[str, float] = {}
    summed_user_scores: dict[str, float] = {}
    summed_user_scores_ratios: dict[str, float] = {}
    confidence_per_category: dict[str, float] | None = None
    asset_urls: dict[str, str] | None = None
    private_metadata: dict[str, str] | None = None
    detailed_results: Sequence[DetailedResponse]


class ClassificationResult(_Results, frozen=True, kw_only=True):
    """An item of a classification document; the maps are keyed by category."""

    original_file_name: str | None
    context: str | None
    context_asset: str | None = None
    aggregated_results: dict[str, int] = {}
    aggregated_results_ratios: dict[str, float] = {}
    summed_user_scores: dict[str, float] = {}
    summed_user_scores_ratios: dict[str, float] = {}
    confidence_per_category: dict[str, float] | None = None
    private_metadata: dict[str, str] | None = None
    detailed_results: Sequence[DetailedResponse]


class ResultsInfo(_Results, frozen=True, kw_only=True):
    """``info``: when and by which aggregator version the document was made, and its type.

    The writer sets ``type``; files from before it was renamed carry ``orderType``.
    """

    created_at: datetime | None = None
    version: str | None = None
    type: str | None = None
    order_type: str | None = None


class CompareSummary(_Results, frozen=True, omit_defaults=False):
    """``summary`` of a compare document: datapoints won by asset A (index 0) and B (index 1)."""

    a_wins_total: int = msgspec.field(default=0, name="A_wins_total")
    b_wins_total: int = msgspec.field(default=0, name="B_wins_total")


class CompareDocument(_Results, frozen=True, kw_only=True):
    """A compare job's document."""

    info: ResultsInfo
    summary: CompareSummary | None = None
    results: Sequence[CompareResult]


class ClassificationDocument(_Results, frozen=True, kw_only=True):
    """A classification job's document."""

    info: ResultsInfo
    results: Sequence[ClassificationResult]
