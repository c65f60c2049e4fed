"""Column-wise construction of the results DataFrames (see ``JobResults.to_polars``).

Every column is gathered into one Python list and handed to polars together with its dtype, so
polars never infers types from row dicts. One pass over the datapoints fills the datapoint
columns, one pass over the responses the per-response ones; the datapoint columns are repeated
onto the response rows with a single ``gather``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from ._types import NEITHER_BOTH, ClassificationResult, CompareResult

if TYPE_CHECKING:
    from ._types import JobResults

_METRICS = (
    ("votes", "aggregated_results", pl.Int64, 0),
    ("votes_ratio", "aggregated_results_ratios", pl.Float64, 0.0),
    ("summed_user_scores", "summed_user_scores", pl.Float64, 0.0),
    ("summed_user_scores_ratio", "summed_user_scores_ratios", pl.Float64, 0.0),
)
DEMOGRAPHICS = ("country", "language", "age", "gender", "occupation")


class _Columns:
    """Ordered column data plus the dtype each column gets."""

    def __init__(self) -> None:
        self.data: dict[str, Sequence[Any]] = {}
        self.schema: dict[str, pl.DataType | type[pl.DataType]] = {}

    def add(self, name: str, dtype: pl.DataType | type[pl.DataType], values: Sequence[Any]) -> None:
        self.data[name] = values
        self.schema[name] = dtype

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.data, schema=self.schema)


def results_frame(results: JobResults, *, split_details: bool) -> pl.DataFrame:
    """Build the frame documented on ``JobResults.to_polars``."""
    compare = results.info.type == "Compare"
    if compare:
        datapoints = compare_columns(cast("Sequence[CompareResult]", results.results))
    else:
        datapoints = classification_columns(cast("Sequence[ClassificationResult]", results.results))
    frame = datapoints.frame()
    if not split_details:
        return frame
    responses = _Responses(compare).collect(results.results)
    return frame.select(pl.all().gather(responses.index())).hstack(responses.series())


class _Codes(dict[Any, int]):
    """Dictionary-encodes a low-cardinality column: value -> dense code, first seen first."""

    def __missing__(self, key: Any) -> int:
        code = self[key] = len(self)
        return code

    def column(self, name: str, codes: list[int]) -> pl.Series:
        return pl.Series(name, list(self), pl.String).gather(pl.Series(codes, dtype=pl.UInt32))


class _Responses:
    """Per-response columns, filled in one pass with bound appends.

    The demographics repeat a handful of values over hundreds of thousands of responses: polars
    gets dense codes plus the few distinct strings instead of one scattered string object per
    row, which is the slow part of building string columns.
    """

    def __init__(self, compare: bool) -> None:
        self.compare = compare
        self.counts: list[int] = []
        self.answers: list[str | None] = []
        self.scores: list[float | None] = []
        self.encoders = [_Codes() for _ in DEMOGRAPHICS]
        self.codes: list[list[int]] = [[] for _ in DEMOGRAPHICS]

    def collect(self, items: Sequence[CompareResult | ClassificationResult]) -> _Responses:
        compare = self.compare
        add_count, add_answer, add_score = (
            self.counts.append,
            self.answers.append,
            self.scores.append,
        )
        country, language, age, gender, occupation = self.encoders
        add_country, add_language, add_age, add_gender, add_occupation = (
            c.append for c in self.codes
        )
        for item in items:
            details = item.detailed_results
            add_count(len(details))
            for response in details:
                user = response.user_details
                add_answer(response.voted_for if compare else response.selected_category)
                add_score(user.user_scores.global_)
                add_country(country[user.country])
                add_language(language[user.language])
                add_age(age[user.age])
                add_gender(gender[user.gender])
                add_occupation(occupation[user.occupation])
        return self

    def index(self) -> pl.Series:
        """Datapoint row of every response, to repeat the datapoint columns with."""
        counts = self.counts
        return pl.Series(
            "index", list(chain.from_iterable(map(repeat, range(len(counts)), counts))), pl.UInt32
        )

    def series(self) -> list[pl.Series]:
        return [
            pl.Series(
                "voted_for" if self.compare else "selected_category", self.answers, pl.String
            ),
            pl.Series("user_score", self.scores, pl.Float64),
            *(
                encoder.column(name, codes)
                for name, encoder, codes in zip(
                    DEMOGRAPHICS, self.encoders, self.codes, strict=True
                )
            ),
        ]


def _first_seen(keys: Iterable[Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(chain.from_iterable(keys)))


def _optional_text(
    columns: _Columns, name: str, values: list[str | None], *, always: bool = False
) -> None:
    if always or any(v is not None for v in values):
        columns.add(name, pl.String, values)


def _private_metadata(
    columns: _Columns, items: Sequence[CompareResult | ClassificationResult]
) -> None:
    metadata = [item.private_metadata or {} for item in items]
    for key in _first_seen(metadata):
        columns.add(f"private_metadata_{key}", pl.String, [m.get(key) for m in metadata])


def compare_columns(items: Sequence[CompareResult]) -> _Columns:
    # One pass fills every column, appends bound up front (this runs once per datapoint, tens of
    # thousands of times). Both/Neither values are collected unconditionally and their columns
    # kept only if some datapoint has them.
    a_names: list[str] = []
    b_names: list[str] = []
    a_urls: list[str | None] = []
    b_urls: list[str | None] = []
    a_conf: list[float | None] = []
    b_conf: list[float | None] = []
    # per metric: A, B, Both, Neither
    votes_cols: list[list[Any]] = [[], [], [], []]
    ratio_cols: list[list[Any]] = [[], [], [], []]
    score_cols: list[list[Any]] = [[], [], [], []]
    score_ratio_cols: list[list[Any]] = [[], [], [], []]
    add_va, add_vb, add_vboth, add_vneither = (c.append for c in votes_cols)
    add_ra, add_rb, add_rboth, add_rneither = (c.append for c in ratio_cols)
    add_sa, add_sb, add_sboth, add_sneither = (c.append for c in score_cols)
    add_qa, add_qb, add_qboth, add_qneither = (c.append for c in score_ratio_cols)
    has_urls = has_confidence = has_both = has_neither = False
    both, neither = NEITHER_BOTH
    for item in items:
        votes = item.aggregated_results
        urls = item.asset_urls
        a, b = _pair(urls or votes)
        a_names.append(a)
        b_names.append(b)
        if urls:
            has_urls = True
            a_urls.append(urls.get(a))
            b_urls.append(urls.get(b))
        else:
            a_urls.append(None)
            b_urls.append(None)
        if both in votes:
            has_both = True
        if neither in votes:
            has_neither = True
        add_va(votes.get(a, 0))
        add_vb(votes.get(b, 0))
        add_vboth(votes.get(both, 0))
        add_vneither(votes.get(neither, 0))
        values = item.aggregated_results_ratios
        add_ra(values.get(a, 0.0))
        add_rb(values.get(b, 0.0))
        add_rboth(values.get(both, 0.0))
        add_rneither(values.get(neither, 0.0))
        values = item.summed_user_scores
        add_sa(values.get(a, 0.0))
        add_sb(values.get(b, 0.0))
        add_sboth(values.get(both, 0.0))
        add_sneither(values.get(neither, 0.0))
        values = item.summed_user_scores_ratios
        add_qa(values.get(a, 0.0))
        add_qb(values.get(b, 0.0))
        add_qboth(values.get(both, 0.0))
        add_qneither(values.get(neither, 0.0))
        confidence = item.confidence_per_category
        if confidence is None:
            a_conf.append(None)
            b_conf.append(None)
        else:
            has_confidence = True
            a_conf.append(confidence.get(a))
            b_conf.append(confidence.get(b))

    columns = _Columns()
    columns.add("datapoint_index", pl.Int64, range(len(items)))
    _optional_text(columns, "context", [item.context for item in items], always=True)
    _optional_text(columns, "context_asset", [item.context_asset for item in items])
    columns.add("asset_a", pl.String, a_names)
    columns.add("asset_b", pl.String, b_names)
    if has_urls:
        columns.add("asset_a_url", pl.String, a_urls)
        columns.add("asset_b_url", pl.String, b_urls)
    columns.add("winner", pl.String, [item.winner for item in items])
    columns.add("winner_index", pl.Int64, [item.winner_index for item in items])
    labels = ["A", "B"] + (["Both"] if has_both else []) + (["Neither"] if has_neither else [])
    keep = [0, 1] + ([2] if has_both else []) + ([3] if has_neither else [])
    for (suffix, _, dtype, _), cols in zip(
        _METRICS, (votes_cols, ratio_cols, score_cols, score_ratio_cols), strict=True
    ):
        for label, i in zip(labels, keep, strict=True):
            columns.add(f"{label}_{suffix}", dtype, cols[i])
    if has_confidence:
        columns.add("A_confidence", pl.Float64, a_conf)
        columns.add("B_confidence", pl.Float64, b_conf)
    _private_metadata(columns, items)
    return columns


def _pair(keys: dict[str, Any]) -> tuple[str, str]:
    """The two assets of a compare item: the first two keys that are not Both/Neither."""
    it = iter(keys)
    a = next(it, "")
    b = next(it, "")
    if a in NEITHER_BOTH or b in NEITHER_BOTH:
        names = [k for k in keys if k not in NEITHER_BOTH]
        a = names[0] if names else ""
        b = names[1] if len(names) > 1 else ""
    return a, b


def classification_columns(items: Sequence[ClassificationResult]) -> _Columns:
    columns = _Columns()
    columns.add("datapoint_index", pl.Int64, range(len(items)))
    _optional_text(
        columns, "original_file_name", [item.original_file_name for item in items], always=True
    )
    _optional_text(columns, "context", [item.context for item in items], always=True)
    _optional_text(columns, "context_asset", [item.context_asset for item in items])

    categories = _first_seen(item.aggregated_results for item in items)
    maps_by_metric = [
        (suffix, dtype, zero, list(map(attrgetter(attr), items)))
        for suffix, attr, dtype, zero in _METRICS
    ]
    has_confidence = any(item.confidence_per_category is not None for item in items)
    confidence = [item.confidence_per_category or {} for item in items]
    for category in categories:
        for suffix, dtype, zero, maps in maps_by_metric:
            columns.add(f"{category}_{suffix}", dtype, [m.get(category, zero) for m in maps])
        if has_confidence:
            columns.add(f"{category}_confidence", pl.Float64, [c.get(category) for c in confidence])
    _private_metadata(columns, items)
    return columns
