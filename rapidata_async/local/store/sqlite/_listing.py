"""Listing SQL from a logical ``ListQuery``: each aggregate names the columns its logical
filter and sort fields stand for; anything else is ``Invalid`` naming ``sort`` or the filter::

    JOBS = Columns(filters={"state": "j.state"}, sorts={"created_at": "j.created_at"})
    where, params = JOBS.where(query)
    order = JOBS.order(query, tiebreak="j.rowid DESC")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...domain.errors import Invalid
from ..base import ListQuery

_COMPARE = {"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_PATTERNS = {
    "contains": "%{}%",
    "not_contains": "%{}%",
    "starts_with": "{}%",
    "ends_with": "%{}",
}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class Columns:
    """Logical field name -> SQL expression, for filters and for sorting."""

    filters: Mapping[str, str]
    sorts: Mapping[str, str]

    def where(
        self, query: ListQuery, scope: tuple[str, Sequence[Any]] | None = None
    ) -> tuple[str, list[Any]]:
        """`` WHERE ...`` (or ``""``) and its parameters; ``scope`` (a clause and its
        parameters, e.g. the tenant's) is ANDed with the filters whatever their logic."""
        clauses: list[str] = []
        params: list[Any] = []
        for f in query.filters:
            col = self.filters.get(f.field)
            name = f"{f.field}[{f.op}]"
            if col is None:
                raise Invalid.field(name, f"Cannot filter by '{f.field}'.")
            if f.op == "in":
                clauses.append(f"{col} IN ({', '.join('?' * len(f.values))})")
                params.extend(f.values)
                continue
            alternatives: list[str] = []
            for value in f.values:
                if f.op in _COMPARE:
                    alternatives.append(f"{col} {_COMPARE[f.op]} ?")
                    params.append(value)
                    continue
                pattern = _PATTERNS.get(f.op)
                if pattern is None:
                    raise Invalid.field(name, f"Unknown filter operator '{f.op}'.")
                negate = "NOT " if f.op == "not_contains" else ""
                alternatives.append(f"{col} {negate}LIKE ? ESCAPE '\\'")
                params.append(pattern.format(_escape_like(str(value))))
            joiner = " AND " if f.op in ("neq", "not_contains") else " OR "
            clauses.append("(" + joiner.join(alternatives) + ")")
        logic = " OR " if query.logic == "or" else " AND "
        if scope is not None:
            if not clauses:
                return f" WHERE {scope[0]}", list(scope[1])
            return f" WHERE {scope[0]} AND ({logic.join(clauses)})", [*scope[1], *params]
        if not clauses:
            return "", params
        return " WHERE " + logic.join(clauses), params

    def order(self, query: ListQuery, *, prefix: Sequence[str] = (), tiebreak: str) -> str:
        """`` ORDER BY ...``: ``prefix``, the requested order, then ``tiebreak``."""
        parts = list(prefix)
        for name, descending in query.order:
            col = self.sorts.get(name)
            if col is None:
                allowed = ", ".join(sorted(self.sorts))
                raise Invalid.field("sort", f"Cannot sort by '{name}'; use one of: {allowed}.")
            parts.append(f"{col} {'DESC' if descending else 'ASC'}")
        parts.append(tiebreak)
        return " ORDER BY " + ", ".join(parts)

    def page(self, query: ListQuery) -> tuple[str, list[int]]:
        return " LIMIT ? OFFSET ?", [query.page_size, query.offset]
