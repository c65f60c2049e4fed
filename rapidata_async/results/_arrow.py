"""The fast way to a results document's frames, used when pyarrow is installed.

Two readers share the document, one per core: in a worker thread pyarrow's JSON parser (which
releases the GIL) reads every item's ``detailedResults`` into columns, with an explicit schema
derived from ``_wire.results.DetailedResponse``; meanwhile msgspec decodes the datapoint fields
(``detailedResults`` skipped) on the calling thread and the datapoint columns are built from them.
No per-response Python object is ever made, which is where the time and the memory go otherwise.

The result is used only when it provably means what the plain decode would: msgspec checked the
whole document's syntax and every datapoint field, pyarrow every response field's type, and a
missing or ``null`` object among the responses (which pyarrow cannot tell apart) sends the
document down the plain path. ``decode`` answers ``None`` whenever the plain path must decide,
including for every document the plain path rejects.
"""

from __future__ import annotations

import threading
import typing
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec
import polars as pl

from .._wire import results as wire
from ._frames import DEMOGRAPHICS, classification_columns, compare_columns
from ._types import ClassificationResult, CompareResult, CompareSummary

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow reads the document as a single block: the block must hold all of it.
_BLOCK_MARGIN = 1 << 10


class Frames(NamedTuple):
    """A document's frame parts: the datapoint columns, and the response columns with, per
    response, the row of its datapoint."""

    datapoints: pl.DataFrame
    rows: pl.Series
    responses: pl.DataFrame

    def frame(self, *, split_details: bool) -> pl.DataFrame:
        """The frame ``JobResults.to_polars`` documents."""
        if not split_details:
            return self.datapoints.clone()  # a caller may change its frame in place
        return self.datapoints.gather(self.rows).hstack(self.responses)


class Decoded(NamedTuple):
    info: wire.ResultsInfo
    kind: str
    summary: CompareSummary | None
    frames: Frames


def _without_responses(item: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """``item`` minus ``detailed_results``: the same names, types, defaults and requiredness."""
    fields: list[tuple[str, Any, Any]] = []
    for f in msgspec.structs.fields(item):
        if f.name == "detailed_results":
            continue
        if f.default is not msgspec.NODEFAULT:
            spec = msgspec.field(default=f.default, name=f.encode_name)
        elif f.default_factory is not msgspec.NODEFAULT:
            spec = msgspec.field(default_factory=f.default_factory, name=f.encode_name)
        else:
            spec = msgspec.field(name=f.encode_name)
        fields.append((f.name, f.type, spec))
    return msgspec.defstruct(
        f"{item.__name__}Datapoint", fields, kw_only=True, frozen=True, gc=False
    )


_CompareDatapoint = _without_responses(CompareResult)
_ClassificationDatapoint = _without_responses(ClassificationResult)
_datapoint_decoders: dict[str, msgspec.json.Decoder[Any]] = {
    "Compare": msgspec.json.Decoder(
        msgspec.defstruct(
            "CompareDatapoints",
            [
                ("info", wire.ResultsInfo),
                ("summary", CompareSummary | None, None),
                ("results", list[_CompareDatapoint]),  # type: ignore[valid-type]
            ],
            kw_only=True,
        )
    ),
    "Classification": msgspec.json.Decoder(
        msgspec.defstruct(
            "ClassificationDatapoints",
            [
                ("info", wire.ResultsInfo),
                ("results", list[_ClassificationDatapoint]),  # type: ignore[valid-type]
            ],
            kw_only=True,
        )
    ),
}


def decode(raw: bytes, kind: str) -> Decoded | None:
    """The document's ``info``, ``summary`` and frames, or ``None`` to take the plain path.

    ``kind`` is the type the document's head names; a document of another type, version or
    shape is the plain path's to judge.
    """
    worker = _ResponseReader(raw, answer="voted_for" if kind == "Compare" else "selected_category")
    worker.start()
    # msgspec holds the GIL for its whole decode: the worker must be inside the parser (which
    # runs without it) first, or it would wait for the GIL as long as msgspec runs.
    worker.parsing.wait()
    try:
        datapoints = _datapoints(raw, kind)
    finally:
        worker.join()
    if datapoints is None or worker.result is None:
        return None
    info, summary, frame = datapoints
    rows, responses = worker.result
    if worker.items != frame.height:
        return None
    return Decoded(info, kind, summary, Frames(frame, rows, responses))


def _datapoints(
    raw: bytes, kind: str
) -> tuple[wire.ResultsInfo, CompareSummary | None, pl.DataFrame] | None:
    """``info``, ``summary`` and the datapoint columns, or ``None`` if msgspec objects."""
    from ._types import check_version

    try:
        doc = _datapoint_decoders[kind].decode(raw)
        check_version(doc.info)
    except (msgspec.MsgspecError, ValueError):
        return None
    if (doc.info.type or doc.info.order_type) != kind:
        return None
    columns = (
        compare_columns(doc.results) if kind == "Compare" else classification_columns(doc.results)
    )
    # Only the columns live on: the datapoint structs go when this returns.
    return doc.info, getattr(doc, "summary", None), columns.frame()


def _spans_lines(raw: bytes) -> bool:
    """Whether the document is more than one line (a trailing newline aside): pyarrow then
    needs telling, which costs it a little on the usual one-line documents."""
    at = raw.find(b"\n")
    return at != -1 and not raw[at:].isspace()


def _arrow_type(tp: Any) -> pa.DataType:
    """The arrow type of a field of the response structs (optional text / number / struct)."""
    import pyarrow as pa

    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return pa.struct([(f.encode_name, _arrow_type(f.type)) for f in msgspec.structs.fields(tp)])
    (value,) = (t for t in typing.get_args(tp) if t is not type(None))
    return {str: pa.string(), float: pa.float64()}[value]


class _ResponseReader(threading.Thread):
    """Reads every response of the document into columns with pyarrow.

    ``result`` stays ``None`` if pyarrow is missing, rejects the document, or sees a response
    object that is absent or ``null``.
    """

    def __init__(self, raw: bytes, *, answer: str) -> None:
        super().__init__(name="results-reader", daemon=True)
        self.raw = raw
        self.answer = answer
        self.items = -1
        self.parsing = threading.Event()
        self.result: tuple[pl.Series, pl.DataFrame] | None = None

    def run(self) -> None:
        try:
            self.result = self._read()
        except Exception:  # any doubt: the plain path decides, and names the problem
            self.result = None
        finally:
            self.raw = b""
            self.parsing.set()

    def _read(self) -> tuple[pl.Series, pl.DataFrame] | None:
        import pyarrow as pa
        import pyarrow.json as pj

        response = _arrow_type(wire.DetailedResponse)
        schema = pa.schema(
            [("results", pa.list_(pa.struct([("detailedResults", pa.list_(response))])))]
        )
        options = (
            pj.ReadOptions(use_threads=False, block_size=len(self.raw) + _BLOCK_MARGIN),
            pj.ParseOptions(
                explicit_schema=schema,
                unexpected_field_behavior="ignore",
                newlines_in_values=_spans_lines(self.raw),
            ),
        )
        source = pa.BufferReader(self.raw)
        self.parsing.set()
        table = pj.read_json(source, read_options=options[0], parse_options=options[1])
        if table.num_rows != 1:
            return None
        items_list = table.column("results").chunk(0)
        items = items_list.flatten()
        details = items.field("detailedResults")
        responses = details.flatten()
        user = responses.field("userDetails")
        scores = user.field("userScores")
        if any(a.null_count for a in (items_list, items, details, responses, user, scores)):
            return None
        self.items = len(items)
        answer_key = "votedFor" if self.answer == "voted_for" else "selectedCategory"
        columns = [
            pl.Series(self.answer, responses.field(answer_key), pl.String),
            pl.Series("user_score", scores.field("global"), pl.Float64),
            *(pl.Series(name, user.field(name), pl.String) for name in DEMOGRAPHICS),
        ]
        rows = pl.Series("rows", details.value_parent_indices()).cast(pl.UInt32)
        del table, items_list, items, details, responses, user, scores
        pa.default_memory_pool().release_unused()  # the parser's buffers, kept by the pool
        return rows, pl.DataFrame(columns)
