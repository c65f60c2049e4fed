"""Argument checks of the flow calls, run before any request; each error names its field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _validate as check

MIN_TIME_TO_LIVE = 10
MAX_TIME_TO_LIVE = 3600
MAX_CONTEXT_ASSETS = 10


def count(value: Any, field: str, minimum: int = 1) -> int:
    """An integer of at least ``minimum`` (``True`` is no integer here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{field}: must be an integer >= {minimum}, got {value!r}")
    return value


def optional_count(value: Any, field: str, minimum: int = 1) -> int | None:
    return None if value is None else count(value, field, minimum)


def thresholds(min_responses: int | None, max_responses: int | None, prefix: str) -> None:
    """``min_<prefix>`` may not exceed ``max_<prefix>`` when both are known."""
    if min_responses is not None and max_responses is not None and min_responses > max_responses:
        raise ValueError(
            f"min_{prefix}: {min_responses} is more than max_{prefix} ({max_responses})"
        )


def time_to_live(value: Any) -> int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_TIME_TO_LIVE <= value <= MAX_TIME_TO_LIVE
    ):
        raise ValueError(
            f"time_to_live: must be a whole number of seconds from {MIN_TIME_TO_LIVE} to "
            f"{MAX_TIME_TO_LIVE} (1 hour), got {value!r}"
        )
    return value


def ranking_datapoints(values: Any, kind: str) -> list[str]:
    """At least two items, none twice: a ranking compares distinct items."""
    items = check.singles(values, kind)
    if len(items) < 2:
        raise ValueError(f"datapoints: a ranking needs at least 2 items, got {len(items)}")
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if item in first:
            raise ValueError(f"datapoints[{i}]: {item!r} is already datapoints[{first[item]}]")
        first[item] = i
    return items


def context(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"context: must be a string, got {value!r}")
    return value


def context_assets(values: Any) -> list[str] | None:
    if values is None:
        return None
    if (
        isinstance(values, (str, bytes))
        or not isinstance(values, Sequence)
        or not 1 <= len(values) <= MAX_CONTEXT_ASSETS
    ):
        raise ValueError(
            f"context_assets: must be a list of 1 to {MAX_CONTEXT_ASSETS} paths or URLs, "
            f"got {values!r}"
        )
    return [check.asset(a, f"context_assets[{i}]", "media") for i, a in enumerate(values)]


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{field}: must be True or False, got {value!r}")
    return value


def optional_id(value: Any, field: str) -> str | None:
    return None if value is None else check.resource_id(value, field)
