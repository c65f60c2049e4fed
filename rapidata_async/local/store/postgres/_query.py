"""Listing queries: a logical ``ListQuery`` turned into a PostgreSQL WHERE / ORDER BY.

Each aggregate names its listable fields in a ``Columns`` map (logical name -> SQL expression
and value type); anything else is refused with ``Invalid`` naming ``sort`` or the filter.
Values travel as ``$n`` parameters, typed by the column, never spliced into the SQL::

    sql = Sql()
    where = where_clause(query, JOB_COLUMNS, sql)       # " WHERE (j.state = $1)" or ""
    order = order_clause(query, JOB_COLUMNS, tiebreak="j.seq DESC")
    rows = await pool.fetch(f"SELECT ... {where}{order} LIMIT {sql.add(n)}", *sql.params)

Text comparisons match the SQLite store: ``=``/``<`` compare bytes (``COLLATE "C"``), the
pattern operators ignore case (SQLite's ``LIKE`` does) and treat ``%``, ``_`` and ``\\`` in the
value as plain characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...domain.errors import Invalid
from ..base import Filter, ListQuery

_COMPARE = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_PATTERN = {
    "contains": "%{}%",
    "not_contains": "%{}%",
    "starts_with": "{}%",
    "ends_with": "%{}",
}
_ARRAY = {"text": "text[]", "int": "bigint[]", "float": "float8[]", "bool": "boolean[]"}


@dataclass(frozen=True, slots=True)
class Column:
    """A listable field: its SQL expression and the type its values are converted to."""

    sql: str
    kind: str = "text"  # text | int | float | bool

    @property
    def ordered(self) -> str:
        return f'{self.sql} COLLATE "C"' if self.kind == "text" else self.sql


Columns = Mapping[str, Column]


class Sql:
    """Collects the ``$n`` parameters of one statement."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def add(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _typed(value: object, kind: str, name: str) -> Any:
    try:
        if kind == "int":
            return int(value)  # type: ignore[call-overload]
        if kind == "float":
            return float(value)  # type: ignore[arg-type]
        if kind == "bool":
            if isinstance(value, bool | int):
                return bool(value)
            lowered = str(value).lower()
            if lowered in ("true", "1", "false", "0"):
                return lowered in ("true", "1")
            raise ValueError(f"'{value}' is not true or false")
    except ValueError as exc:
        raise Invalid.field(name, str(exc) or f"'{value}' is not a {kind}.") from None
    return str(value)


def _filter(f: Filter, columns: Columns, sql: Sql) -> str:
    name = f"{f.field}[{f.op}]"
    column = columns.get(f.field)
    if column is None:
        raise Invalid.field(name, f"Cannot filter by '{f.field}'.")
    if f.op == "in":
        values = [_typed(v, column.kind, name) for v in f.values]
        return f"{column.sql} = ANY({sql.add(values)}::{_ARRAY[column.kind]})"
    if f.op in _COMPARE:
        compare = column.ordered if column.kind == "text" else column.sql
        alternatives = [
            f"{compare} {_COMPARE[f.op]} {sql.add(_typed(v, column.kind, name))}" for v in f.values
        ]
    elif f.op in _PATTERN:
        negate = "NOT " if f.op == "not_contains" else ""
        alternatives = [
            f"{column.sql}::text {negate}ILIKE "
            f"{sql.add(_PATTERN[f.op].format(escape_like(str(v))))} ESCAPE '\\'"
            for v in f.values
        ]
    else:
        raise Invalid.field(name, f"Unknown filter operator '{f.op}'.")
    if not alternatives:
        return "TRUE"
    # Several values are alternatives, except for the negations: none of them may match.
    joiner = " AND " if f.op in ("neq", "not_contains") else " OR "
    return "(" + joiner.join(alternatives) + ")"


def where_clause(
    query: ListQuery, columns: Columns, sql: Sql, scope: tuple[str, object] | None = None
) -> str:
    """`` WHERE ...`` for the query's filters joined by its logic, or ``""``. ``scope`` (a
    clause with ``{}`` where its one value goes, e.g. the tenant's) is ANDed with the filters
    whatever their logic."""
    if query.logic not in ("and", "or"):
        raise Invalid.field("logic", "Must be 'and' or 'or'.")
    scoped = scope[0].replace("{}", sql.add(scope[1])) if scope is not None else None
    clauses = [_filter(f, columns, sql) for f in query.filters]
    joined = f" {query.logic.upper()} ".join(clauses)
    if scoped is not None:
        return f" WHERE ({scoped})" + (f" AND ({joined})" if clauses else "")
    if not clauses:
        return ""
    return " WHERE " + joined


def order_clause(
    query: ListQuery, columns: Columns, *, tiebreak: str, prefix: tuple[str, ...] = ()
) -> str:
    """`` ORDER BY`` ``prefix``, the requested fields, then ``tiebreak``."""
    parts = list(prefix)
    for name, descending in query.order:
        column = columns.get(name)
        if column is None:
            allowed = ", ".join(sorted(columns))
            raise Invalid.field("sort", f"Cannot sort by '{name}'; use one of: {allowed}.")
        parts.append(f"{column.ordered} {'DESC' if descending else 'ASC'}")
    parts.append(tiebreak)
    return " ORDER BY " + ", ".join(parts)


def page_clause(query: ListQuery, sql: Sql) -> str:
    return f" LIMIT {sql.add(query.page_size)} OFFSET {sql.add(query.offset)}"
