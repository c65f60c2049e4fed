"""Typed, frozen views of a job's results document (``GET /job/{jobId}/download-results``).

The document's schema is ``rapidata_async._wire.results``, which the local backend writes with;
the public types here subclass its structs (adding a few derived properties), so the bytes decode
straight into them without an intermediate dict. Field names are snake_case; the camelCase keys
(and the document's own ``winner_index``, ``A_wins_total``, ``global``) are the wire names::

    results = JobResults.from_bytes(raw)
    for item in results.results:
        print(item.winner, item.summed_user_scores)
"""

from __future__ import annotations

import importlib.util
import os
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Union

import anyio
import msgspec

from .._wire import results as wire

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from ._arrow import Frames

__all__ = [
    "ClassificationResult",
    "CompareResult",
    "CompareSummary",
    "DetailedResponse",
    "JobResults",
    "ResultsInfo",
    "UserDetails",
    "UserScores",
    "aread_results",
    "read_results",
]

SUPPORTED_MAJOR_VERSIONS = frozenset({3})
"""Major versions of ``info.version`` this module understands (the 3.x list-shaped format)."""

NEITHER_BOTH = ("Both", "Neither")


class UserScores(wire.UserScores, frozen=True):
    """A labeler's reliability scores; ``global_`` is the document's ``global`` key."""


class UserDetails(wire.UserDetails, frozen=True):
    """Who answered: demographics as reported by the crowd, plus the userScores."""

    user_scores: UserScores = UserScores()

    @property
    def user_score(self) -> float | None:
        """The global userScore (what winners and confidence are weighted by)."""
        return self.user_scores.global_


class DetailedResponse(wire.DetailedResponse, frozen=True):
    """One labeler response: ``voted_for`` (compare) or ``selected_category`` (classification)."""

    user_details: UserDetails = UserDetails()

    @property
    def answer(self) -> str | None:
        """The chosen asset / category, whichever the job type uses."""
        return self.voted_for if self.voted_for is not None else self.selected_category


class CompareResult(wire.CompareResult, frozen=True, kw_only=True):
    """One compare datapoint.

    The four maps are keyed by asset name (or by the job's ``a_b_names``) and may hold
    ``"Both"``/``"Neither"`` when those answers were allowed and chosen.
    ``winner``/``winner_index`` follow the summed user scores; ``None`` when nobody picked an
    asset. ``confidence_per_category`` is present only when confidence stopping was used.
    """

    detailed_results: tuple[DetailedResponse, ...]

    @property
    def assets(self) -> tuple[str, str]:
        """The two compared assets in A, B order.

        ``asset_urls`` keeps the canonical order and never contains Both/Neither, so it wins;
        otherwise the vote map's keys are used.
        """
        source = self.asset_urls or self.aggregated_results
        names = [k for k in source if k not in NEITHER_BOTH]
        a = names[0] if names else ""
        b = names[1] if len(names) > 1 else ""
        return a, b


class ClassificationResult(wire.ClassificationResult, frozen=True, kw_only=True):
    """One classification datapoint; the maps are keyed by category."""

    detailed_results: tuple[DetailedResponse, ...]

    @property
    def categories(self) -> list[str]:
        """The categories in the document's order."""
        return list(self.aggregated_results)


class ResultsInfo(msgspec.Struct, frozen=True, rename="camel"):
    """``info`` of the document: when and by which aggregator version it was made, and its type
    (``type`` also holds the older ``orderType``)."""

    created_at: datetime | None
    version: str
    type: str


class CompareSummary(wire.CompareSummary, frozen=True):
    """Compare jobs only: how many datapoints option A (index 0) and B (index 1) won."""


class _Envelope(msgspec.Struct):
    # ``results`` stays raw here: a Raw is a zero-copy slice, so this pass only scans.
    info: wire.ResultsInfo | None = None
    results: msgspec.Raw = msgspec.Raw()
    summary: msgspec.Raw = msgspec.Raw()


class _CompareDocument(wire.CompareDocument, frozen=True, kw_only=True):
    summary: CompareSummary | None = None
    results: list[CompareResult]


class _ClassificationDocument(wire.ClassificationDocument, frozen=True, kw_only=True):
    results: list[ClassificationResult]


_document_decoders: dict[str, msgspec.json.Decoder[Any]] = {
    "Compare": msgspec.json.Decoder(_CompareDocument),
    "Classification": msgspec.json.Decoder(_ClassificationDocument),
}
_envelope_decoder = msgspec.json.Decoder(_Envelope)
_items_decoders: dict[str, msgspec.json.Decoder[Any]] = {
    "Compare": msgspec.json.Decoder(list[CompareResult]),
    "Classification": msgspec.json.Decoder(list[ClassificationResult]),
}
_ITEM_TYPES: dict[str, type[msgspec.Struct]] = {
    "Compare": CompareResult,
    "Classification": ClassificationResult,
}
_summary_decoder = msgspec.json.Decoder(CompareSummary)
_raw_list_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_encoder = msgspec.json.Encoder()
_VERSION_RE = re.compile(r"^\s*v?(\d+)(?:\.|$)")
# ``info`` comes first in the documents the API (and the local backend) writes; reading its type
# from the head lets a document be decoded in one pass. The decoded ``info`` is checked again, so
# a wrong guess only costs the slower path.
_TYPE_SNIFF = re.compile(rb'"(?:type|orderType)"\s*:\s*"([A-Za-z]+)"')
_SNIFF_BYTES = 512

_PANDAS_HINT = "pip install 'rapidata-async[pandas]'"

ARROW_MIN_BYTES = 1 << 20
"""Documents from this size on are read by pyarrow when it is installed: below it, importing and
starting the reader costs more than it saves."""


class _Document(msgspec.Struct, omit_defaults=True):
    # What ``to_json_bytes`` writes for results built from items rather than decoded.
    info: ResultsInfo
    results: Union[list[CompareResult], list[ClassificationResult]]  # noqa: UP007
    summary: CompareSummary | None = None


class JobResults:
    """The results of a job: ``info``, one item per datapoint (in datapoint order) and, for
    compare jobs, ``summary``. Immutable; equal when their info, summary and items are.

    Build it with ``JobResults.from_bytes(raw)`` / ``read_results(...)``; it keeps the original
    bytes so ``to_json`` writes exactly what the API returned. With pyarrow installed (the
    ``pandas`` extra), a large document is read straight into its frames and ``results`` is
    decoded from the bytes the first time it is used.
    """

    __slots__ = ("_document", "_frames", "_items", "info", "summary")

    info: ResultsInfo
    summary: CompareSummary | None
    _document: bytes
    _items: list[CompareResult] | list[ClassificationResult] | None
    _frames: Frames | None

    def __init__(
        self,
        *,
        info: ResultsInfo,
        results: list[CompareResult] | list[ClassificationResult],
        summary: CompareSummary | None = None,
        _document: bytes = b"",
    ) -> None:
        self._set(info, summary, _document, results, None)

    def _set(
        self,
        info: ResultsInfo,
        summary: CompareSummary | None,
        document: bytes,
        items: list[CompareResult] | list[ClassificationResult] | None,
        frames: Frames | None,
    ) -> None:
        setter = object.__setattr__
        setter(self, "info", info)
        setter(self, "summary", summary)
        setter(self, "_document", document)
        setter(self, "_items", items)
        setter(self, "_frames", frames)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"JobResults is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"JobResults is immutable: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JobResults):
            return NotImplemented
        if self.info != other.info or self.summary != other.summary:
            return False
        if self._document and self._document == other._document:
            return True
        return self.results == other.results

    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # equal by value: unhashable

    def __reduce__(self) -> tuple[Any, ...]:
        if self._document:
            return (JobResults.from_bytes, (self._document,))
        return (_from_items, (self.info, self.results, self.summary))

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> JobResults:
        """Decode a results document.

        Routes on ``info.type`` (older documents: ``info.orderType``). Raises ``ValueError``
        for invalid JSON, an unsupported ``info.version`` (not 3.x), a type other than
        ``Compare``/``Classification``, or items that do not match the type.
        """
        return decode_document(data if isinstance(data, bytes) else bytes(data))

    @property
    def results(self) -> list[CompareResult] | list[ClassificationResult]:
        """One item per datapoint, in datapoint order."""
        items = self._items
        if items is None:
            items = _decode(self._document)[2]
            object.__setattr__(self, "_items", items)
        return items

    # -- accessors ---------------------------------------------------------------------------
    @property
    def type(self) -> str:
        """``"Compare"`` or ``"Classification"``."""
        return self.info.type

    @property
    def response_count(self) -> int:
        """Number of individual labeler responses over all datapoints."""
        if self._frames is not None:
            return self._frames.rows.len()
        return sum(len(item.detailed_results) for item in self.results)

    def __len__(self) -> int:
        if self._frames is not None:
            return self._frames.datapoints.height
        return len(self.results)

    # -- frames ------------------------------------------------------------------------------
    def to_polars(self, split_details: bool = False) -> pl.DataFrame:
        """The results as a polars DataFrame with an explicit schema.

        ``split_details=False``: one row per datapoint. ``True``: one row per response, the
        datapoint columns repeated on each (a datapoint without responses has no row). Columns
        (optional ones appear only when at least one datapoint has them):

        Compare
            ``datapoint_index`` (Int64, position in the job), ``context``, ``context_asset``
            (opt.), ``asset_a``, ``asset_b`` (String), ``asset_a_url``, ``asset_b_url`` (opt.),
            ``winner`` (String), ``winner_index`` (Int64; null when nobody voted), then for
            ``X`` in ``A``, ``B`` (and ``Both``, ``Neither`` when chosen anywhere):
            ``X_votes`` (Int64; ``aggregatedResults``), ``X_votes_ratio``,
            ``X_summed_user_scores``, ``X_summed_user_scores_ratio`` (Float64) and
            ``A_confidence``/``B_confidence`` (Float64, with confidence stopping), then
            ``private_metadata_<key>`` (String, opt.).
        Classification
            ``datapoint_index``, ``original_file_name``, ``context``, ``context_asset`` (opt.),
            then for every category ``C`` (first-seen order): ``C_votes``, ``C_votes_ratio``,
            ``C_summed_user_scores``, ``C_summed_user_scores_ratio``, ``C_confidence`` (opt.),
            then ``private_metadata_<key>``.
        Per response (``split_details=True``)
            ``voted_for`` (compare) or ``selected_category`` (classification), ``user_score``
            (Float64, global userScore), ``country``, ``language``, ``age``, ``gender``,
            ``occupation`` (String).

        Porting from the official client's ``to_pandas()``: ``assetA`` -> ``asset_a``,
        ``A_aggregatedResults`` -> ``A_votes``, ``A_aggregatedResultsRatios`` ->
        ``A_votes_ratio``, ``A_summedUserScores`` -> ``A_summed_user_scores``,
        ``A_summedUserScoresRatios`` -> ``A_summed_user_scores_ratio``,
        ``A_confidencePerCategory`` -> ``A_confidence``, ``votedFor`` -> ``voted_for``,
        ``userDetails_userScores_global`` -> ``user_score``, ``userDetails_country`` ->
        ``country`` (likewise the other demographics). Classification is wide here (one row per
        datapoint, a column group per category) where the official frame has one row per
        option.
        """
        if self._frames is not None:
            return self._frames.frame(split_details=split_details)
        from ._frames import results_frame

        return results_frame(self, split_details=split_details)

    def to_pandas(self, split_details: bool = False) -> pd.DataFrame:
        """``to_polars(split_details)`` converted to pandas (needs the ``pandas`` extra)."""
        try:
            import pandas  # noqa: F401
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"to_pandas() needs pandas and pyarrow: {_PANDAS_HINT}") from exc
        return self.to_polars(split_details=split_details).to_pandas()

    # -- serialisation -----------------------------------------------------------------------
    def to_json_bytes(self) -> bytes:
        """The document as JSON: the bytes the API returned when decoded from them."""
        if self._document:
            return self._document
        return _encoder.encode(
            _Document(info=self.info, results=self.results, summary=self.summary)
        )

    async def to_json(self, path: str | os.PathLike[str] = "./results.json") -> None:
        """Write the document to ``path`` without blocking the event loop."""
        await anyio.Path(path).write_bytes(self.to_json_bytes())

    # -- display -----------------------------------------------------------------------------
    def __repr__(self) -> str:
        created = self.info.created_at
        return (
            f"JobResults(type={self.info.type!r}, datapoints={len(self)}, "
            f"responses={self.response_count}, "
            f"created_at={created.isoformat() if created else None!r})"
        )

    def __str__(self) -> str:
        head = repr(self)
        if self.summary is not None:
            head += f"\nA wins: {self.summary.a_wins_total}, B wins: {self.summary.b_wins_total}"
        return f"{head}\n{self.to_polars()}"


def check_version(info: wire.ResultsInfo) -> None:
    match = _VERSION_RE.match(info.version or "")
    if match is None or int(match.group(1)) not in SUPPORTED_MAJOR_VERSIONS:
        raise ValueError(
            f"unsupported results version {info.version!r}: this SDK reads 3.x documents"
        )


def _from_items(
    info: ResultsInfo,
    results: list[CompareResult] | list[ClassificationResult],
    summary: CompareSummary | None,
) -> JobResults:
    return JobResults(info=info, results=results, summary=summary)


def decode_document(raw: bytes, *, arrow: bool | None = None) -> JobResults:
    """``JobResults.from_bytes``, with pyarrow where it can (``arrow=None``: when it is installed
    and the document is large enough to gain; ``False``: msgspec alone)."""
    if arrow is None:
        arrow = len(raw) >= ARROW_MIN_BYTES and _pyarrow_installed()
    sniffed = _TYPE_SNIFF.search(raw, 0, _SNIFF_BYTES) if arrow else None
    kind = sniffed.group(1).decode() if sniffed else None
    fast = None
    if kind in _document_decoders:
        from . import _arrow

        fast = _arrow.decode(raw, kind)
    items: list[Any] | None = None
    if fast is not None:
        info, kind, summary, frames = fast
    else:
        info, kind, items, summary = _decode(raw)
        frames = None
    results = object.__new__(JobResults)
    results._set(
        ResultsInfo(created_at=info.created_at, version=info.version or "", type=kind),
        summary,
        raw,
        items,
        frames,
    )
    return results


def _pyarrow_installed() -> bool:
    """Whether pyarrow can be imported, asked without importing it."""
    try:
        return importlib.util.find_spec("pyarrow") is not None
    except (ImportError, ValueError):
        return False


def _decode(raw: bytes) -> tuple[wire.ResultsInfo, str, list[Any], CompareSummary | None]:
    """``(info, type, items, summary)`` of a document, or ``ValueError`` saying what is wrong."""
    sniffed = _TYPE_SNIFF.search(raw, 0, _SNIFF_BYTES)
    kind = sniffed.group(1).decode() if sniffed else None
    decoder = _document_decoders.get(kind) if kind else None
    if kind and decoder is not None:
        try:
            doc = decoder.decode(raw)
        except msgspec.ValidationError:
            doc = None  # the careful path below names the problem
        except msgspec.DecodeError as exc:
            raise ValueError(f"results document is not valid JSON: {exc}") from exc
        if doc is not None and (doc.info.type or doc.info.order_type) == kind:
            check_version(doc.info)
            summary = doc.summary if isinstance(doc, _CompareDocument) else None
            return doc.info, kind, doc.results, summary
    return _decode_carefully(raw)


def _decode_carefully(raw: bytes) -> tuple[wire.ResultsInfo, str, list[Any], CompareSummary | None]:
    """Envelope first, then the items: slower, but exact errors and type-less documents."""
    try:
        envelope = _envelope_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ValueError(f"not a Rapidata results document: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ValueError(f"results document is not valid JSON: {exc}") from exc
    info = envelope.info
    if info is None or not envelope.results:
        raise ValueError("not a Rapidata results document: 'info' or 'results' is missing")
    check_version(info)
    results_raw = bytes(envelope.results)
    if results_raw.lstrip()[:1] != b"[":
        raise ValueError(
            "unsupported results layout: 'results' must be a list (the object form with "
            "'globalAggregatedData'/'data' predates the current format)"
        )
    kind = info.type or info.order_type or _infer_type(results_raw)
    decoder = _items_decoders.get(kind) if kind else None
    if kind is None or decoder is None:
        raise ValueError(
            f"unsupported results type {kind!r}: expected 'Compare' or 'Classification'"
        )
    summary_raw = bytes(envelope.summary)
    try:
        items = decoder.decode(_with_always_written_keys(results_raw, _ITEM_TYPES[kind]))
        summary = (
            _summary_decoder.decode(summary_raw)
            if kind == "Compare" and summary_raw and summary_raw != b"null"
            else None
        )
    except msgspec.ValidationError as exc:
        raise ValueError(f"malformed {kind} results: {exc}") from exc
    return info, kind, items, summary


def _with_always_written_keys(results_raw: bytes, item_type: type[msgspec.Struct]) -> bytes:
    """``results`` with the keys the writer always sets (``context``, ``winner``,
    ``detailedResults``, …) added as ``null`` / ``[]`` to the items of files that lack them."""
    required = [
        (f.encode_name, f.name == "detailed_results")
        for f in msgspec.structs.fields(item_type)
        if f.required
    ]
    try:
        items = msgspec.json.decode(results_raw)
    except msgspec.DecodeError:
        return results_raw
    missing = False
    for item in items:
        if not isinstance(item, dict):
            return results_raw  # the typed decode names the problem
        for key, is_list in required:
            if key not in item:
                item[key] = [] if is_list else None
                missing = True
    return msgspec.json.encode(items) if missing else results_raw


def _infer_type(results_raw: bytes) -> str | None:
    """Type of a document whose ``info`` names none (early 3.x files, the docs' samples).

    Only such files pay for this extra pass, and it looks at the first item's keys only.
    """
    try:
        items = _raw_list_decoder.decode(results_raw)
        first = msgspec.json.decode(items[0]) if items else None
    except msgspec.MsgspecError:
        return None
    if not isinstance(first, dict):
        return None
    if "winner_index" in first or "winner" in first:
        return "Compare"
    details = first.get("detailedResults") or [{}]
    if "originalFileName" in first or (
        isinstance(details[0], dict) and "selectedCategory" in details[0]
    ):
        return "Classification"
    return None


def read_results(source: bytes | bytearray | memoryview | str | os.PathLike[str]) -> JobResults:
    """Decode a results document from bytes, or read it from a file path (``str`` is a path).

    Blocking file read: fine for scripts; in async code use ``aread_results``. Raises
    ``ValueError`` as ``JobResults.from_bytes`` does.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return JobResults.from_bytes(source)
    with open(source, "rb") as fh:
        return JobResults.from_bytes(fh.read())


async def aread_results(path: str | os.PathLike[str]) -> JobResults:
    """Read and decode a results file without blocking the event loop."""
    data = await anyio.Path(path).read_bytes()
    return JobResults.from_bytes(data)
