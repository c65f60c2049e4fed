"""What a ranking flow item produced: the ranked datapoints and the win/loss matrix."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import anyio
import msgspec

from .._wire import flow as wire

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

_PANDAS_HINT = "pip install 'rapidata-async[pandas]'"
_encoder = msgspec.json.Encoder()


def _require_pandas(call: str) -> None:
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{call} needs pandas and pyarrow: {_PANDAS_HINT}") from exc


class RankedDatapoint(msgspec.Struct, frozen=True, kw_only=True):
    """One datapoint of a ranking flow item, with its Elo score.

    ``ci_low``/``ci_high``, ``rank_low``/``rank_high`` and ``battles`` are ``None`` when the
    server does not report them (the Rapidata API does not; the local backend does).
    """

    key: str
    """What identifies the datapoint to you: the URL it was fetched from, else the uploaded
    file's original name, else the asset's identifier (the text, for text datapoints), else
    the datapoint id. A key that two datapoints share (two files ``a.jpg`` from different
    folders) gets ``#2``, ``#3``, … on its later ones: ``a.jpg``, ``a.jpg #2``. The win/loss
    matrix numbers its labels the same way, but in its own order, so such twins cannot be
    matched between the two: give datapoints distinct names where that matters."""
    id: str
    """The datapoint id."""
    elo: int
    """The Elo score; higher is preferred."""
    rank: int
    """1 for the highest Elo, then 2, 3, … (ties keep the server's order)."""
    ci_low: float | None = None
    """Lower end of the Elo confidence interval."""
    ci_high: float | None = None
    """Upper end of the Elo confidence interval."""
    rank_low: int | None = None
    """Best rank the datapoint could plausibly have (1 is best)."""
    rank_high: int | None = None
    """Worst rank the datapoint could plausibly have."""
    battles: int | None = None
    """Comparisons it took part in."""


class FlowItemResult(msgspec.Struct, frozen=True, kw_only=True):
    """The results of a ranking flow item (``GET /flow/ranking/item/{id}/results``).

    ``ranking`` lists the datapoints best first. ``datapoints`` is the official client's
    mapping of key to Elo.
    """

    ranking: tuple[RankedDatapoint, ...]
    """The datapoints ordered by Elo, highest first."""
    total_votes: int
    """Votes cast for this flow item."""

    @property
    def datapoints(self) -> dict[str, int]:
        """``{key: elo}`` in ranking order (the official ``FlowItemResult.datapoints``)."""
        return {d.key: d.elo for d in self.ranking}

    def __len__(self) -> int:
        return len(self.ranking)

    def to_polars(self) -> pl.DataFrame:
        """One row per datapoint, best first: ``rank``, ``key``, ``id``, ``elo`` (Int64),
        ``ci_low``, ``ci_high`` (Float64), ``rank_low``, ``rank_high``, ``battles`` (Int64;
        null where the server did not report them)."""
        import polars as pl

        rows = self.ranking
        return pl.DataFrame(
            {
                "rank": [d.rank for d in rows],
                "key": [d.key for d in rows],
                "id": [d.id for d in rows],
                "elo": [d.elo for d in rows],
                "ci_low": [d.ci_low for d in rows],
                "ci_high": [d.ci_high for d in rows],
                "rank_low": [d.rank_low for d in rows],
                "rank_high": [d.rank_high for d in rows],
                "battles": [d.battles for d in rows],
            },
            schema={
                "rank": pl.Int64,
                "key": pl.String,
                "id": pl.String,
                "elo": pl.Int64,
                "ci_low": pl.Float64,
                "ci_high": pl.Float64,
                "rank_low": pl.Int64,
                "rank_high": pl.Int64,
                "battles": pl.Int64,
            },
        )

    def to_pandas(self) -> pd.DataFrame:
        """``to_polars()`` converted to pandas (needs the ``pandas`` extra)."""
        _require_pandas("to_pandas()")
        return self.to_polars().to_pandas()

    def to_json_bytes(self) -> bytes:
        """The result as JSON: ``{"ranking": [{"key", "id", "elo", "rank", …}], "total_votes"}``
        (fields the server did not report are left out)."""
        return _encoder.encode(_without_nones(self))

    async def to_json(self, path: str | os.PathLike[str] = "./flow_results.json") -> None:
        """Write ``to_json_bytes()`` to ``path`` without blocking the event loop."""
        await anyio.Path(path).write_bytes(self.to_json_bytes())

    def __str__(self) -> str:
        return f"FlowItemResult(datapoints={len(self)}, total_votes={self.total_votes})\n" + str(
            self.to_polars()
        )


def _without_nones(result: FlowItemResult) -> dict[str, object]:
    return {
        "ranking": [
            {k: v for k, v in msgspec.structs.asdict(d).items() if v is not None}
            for d in result.ranking
        ],
        "total_votes": result.total_votes,
    }


def datapoint_key(datapoint: wire.RankingDatapointResult) -> str:
    """``sourceUrl``'s URL, else ``originalFilename``, else the asset identifier, else the id."""
    meta = datapoint.asset.metadata
    source = meta.get("sourceUrl")
    if isinstance(source, wire.SourceUrlMetadata) and source.url:
        return source.url
    original = meta.get("originalFilename")
    if isinstance(original, wire.OriginalFilenameMetadata) and original.original_filename:
        return original.original_filename
    return datapoint.asset.identifier or datapoint.id


def flow_item_result(out: wire.RankingResultsOutput) -> FlowItemResult:
    """The typed result of a results answer, ranked by Elo (stable for ties); keys that
    repeat are told apart in the server's order."""
    points = out.datapoints
    keys = _unique([datapoint_key(d) for d in points])
    order = sorted(range(len(points)), key=lambda k: -points[k].elo)
    return FlowItemResult(
        ranking=tuple(
            RankedDatapoint(
                key=keys[k],
                id=points[k].id,
                elo=points[k].elo,
                rank=rank,
                ci_low=points[k].ci_low,
                ci_high=points[k].ci_high,
                rank_low=points[k].rank_low,
                rank_high=points[k].rank_high,
                battles=points[k].battles,
            )
            for rank, k in enumerate(order, start=1)
        ),
        total_votes=out.total_votes,
    )


def _unique(labels: list[str]) -> list[str]:
    """``labels`` with repeats made distinct (``a.jpg``, ``a.jpg #2``): two files of one name
    in different folders share their original file name."""
    seen: set[str] = set()
    out = []
    for label in labels:
        name, n = label, 1
        while name in seen:
            n += 1
            name = f"{label} #{n}"
        seen.add(name)
        out.append(name)
    return out


def matrix_polars(out: wire.VoteMatrixOutput) -> pl.DataFrame:
    """The vote matrix as polars: first a ``datapoint`` column with the row labels (named
    ``datapoint_`` if a label is ``datapoint``), then one Float64 column per label; the cell
    in row ``a``, column ``b`` is how often ``a`` beat ``b``."""
    import polars as pl

    _check_matrix(out)
    labels = _unique(list(out.columns))
    first = "datapoint"
    while first in labels:
        first += "_"
    columns: dict[str, list[str] | list[float]] = {first: _unique(list(out.index))}
    schema: dict[str, type[pl.DataType]] = {first: pl.String}
    for j, label in enumerate(labels):
        columns[label] = [row[j] for row in out.data]
        schema[label] = pl.Float64
    return pl.DataFrame(columns, schema=schema)


def matrix_pandas(out: wire.VoteMatrixOutput) -> pd.DataFrame:
    """The vote matrix as pandas, indexed by the labels: ``matrix.loc[a, b]`` is how often
    ``a`` beat ``b`` (the official client's frame)."""
    _require_pandas("get_win_loss_matrix_pandas()")
    import pandas as pd

    _check_matrix(out)
    return pd.DataFrame(
        data=[list(row) for row in out.data],
        index=pd.Index(_unique(list(out.index))),
        columns=pd.Index(_unique(list(out.columns))),
    )


def _check_matrix(out: wire.VoteMatrixOutput) -> None:
    labels = len(out.columns)
    if len(out.data) != len(out.index) or any(len(row) != labels for row in out.data):
        raise ValueError(
            f"malformed vote matrix: {len(out.index)} row labels, {labels} column labels, "
            f"data rows of lengths {[len(row) for row in out.data]}"
        )
