"""Argument checks that run before any request: each error names the offending field or item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._datapoint import has_foreign_scheme

MAX_INSTRUCTION = 250
DATA_TYPES = ("media", "text")


def name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: must be a non-empty string, got {value!r}")
    return value


def instruction(value: Any, field: str = "instruction") -> str:
    name(value, field)
    if len(value) > MAX_INSTRUCTION:
        raise ValueError(f"{field}: at most {MAX_INSTRUCTION} characters, got {len(value)}")
    return str(value)


def data_type(value: Any) -> str:
    if value not in DATA_TYPES:
        raise ValueError(f"data_type: must be one of {DATA_TYPES}, got {value!r}")
    return str(value)


def responses_per_datapoint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"responses_per_datapoint: must be an integer >= 1, got {value!r}")
    return value


def confidence_threshold(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"confidence_threshold: must be strictly between 0 and 1, got {value!r}")
    return float(value)


def asset(value: Any, field: str, kind: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field}: must be a non-empty string, got {value!r}")
    if kind == "media" and has_foreign_scheme(value):
        raise ValueError(f"{field}: only http(s) URLs or local paths are supported, got {value!r}")
    return value


def pairs(values: Any, kind: str, field: str = "datapoints") -> list[tuple[str, str]]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{field}: must be a non-empty list of pairs")
    out = []
    for i, pair in enumerate(values):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(
                f"{field}[{i}]: a compare datapoint must be a pair of 2 items, got {pair!r}"
            )
        a, b = asset(pair[0], f"{field}[{i}][0]", kind), asset(pair[1], f"{field}[{i}][1]", kind)
        if a == b:
            raise ValueError(f"{field}[{i}]: the two items of a pair must differ, got {a!r} twice")
        out.append((a, b))
    return out


def singles(values: Any, kind: str, field: str = "datapoints") -> list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{field}: must be a non-empty list")
    return [asset(v, f"{field}[{i}]", kind) for i, v in enumerate(values)]


def parallel(values: Any, n: int, field: str) -> list[Any] | None:
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"{field}: must be a list with one entry per datapoint")
    if len(values) != n:
        raise ValueError(f"{field}: has {len(values)} entries but there are {n} datapoints")
    return list(values)


def contexts(values: Any, n: int) -> list[str | None] | None:
    out = parallel(values, n, "contexts")
    if out is not None:
        for i, c in enumerate(out):
            if c is not None and not isinstance(c, str):
                raise ValueError(f"contexts[{i}]: must be a string, got {c!r}")
    return out


def media_contexts(values: Any, n: int) -> list[tuple[str, ...] | None] | None:
    """One media context per datapoint: a path/URL, or a list of them (3.27.1 shape)."""
    out = parallel(values, n, "media_contexts")
    if out is None:
        return None
    result: list[tuple[str, ...] | None] = []
    for i, item in enumerate(out):
        if item is None:
            result.append(None)
        elif isinstance(item, str):
            result.append((asset(item, f"media_contexts[{i}]", "media"),))
        elif isinstance(item, Sequence) and item:
            result.append(
                tuple(asset(a, f"media_contexts[{i}][{j}]", "media") for j, a in enumerate(item))
            )
        else:
            raise ValueError(f"media_contexts[{i}]: must be a path/URL or a list of them")
    return result


def answer_options(values: Any, field: str = "answer_options") -> list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) < 2:
        raise ValueError(f"{field}: must be a list of at least 2 options")
    seen: set[str] = set()
    for i, o in enumerate(values):
        if not isinstance(o, str) or not o.strip():
            raise ValueError(f"{field}[{i}]: options must be non-empty strings, got {o!r}")
        if o in seen:
            raise ValueError(f"{field}[{i}]: duplicate option {o!r}")
        seen.add(o)
    return list(values)


def a_b_names(values: Any) -> list[str] | None:
    if values is None:
        return None
    if (
        isinstance(values, (str, bytes))
        or not isinstance(values, Sequence)
        or len(values) != 2
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise ValueError(
            f"a_b_names: must be a list of exactly 2 non-empty strings, got {values!r}"
        )
    if values[0] == values[1]:
        raise ValueError("a_b_names: the two names must differ")
    return list(values)


def private_metadata(values: Any, n: int) -> list[dict[str, str] | None] | None:
    out = parallel(values, n, "private_metadata")
    if out is not None:
        for i, m in enumerate(out):
            if m is not None and not (
                isinstance(m, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items())
            ):
                raise ValueError(f"private_metadata[{i}]: must be a dict of str to str")
    return out


def amount(value: Any, field: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ValueError(f"{field}: must be an integer from 1 to 1000, got {value!r}")
    return value


def resource_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: must be a non-empty id, got {value!r}")
    return value
