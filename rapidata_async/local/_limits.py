"""Size and shape limits of what the local backend accepts, and the checks that enforce them.

The OpenAPI contract gives no ``maxLength``; these caps are generous for real use and small
enough that one request cannot exhaust the server::

    check_bounds(body)               # 400 naming the field: a name > 1,000 characters, a text
                                     # > 100,000, an integer outside int64, nesting > 32 deep
    deepest_path(raw, MAX_DEPTH)     # "filters[0].filter.filter…": where raw JSON nests too deep
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ._errors import BadRequest

KIB = 1024
MIB = 1024 * KIB

# Request bodies, checked before they are read whole.
TOKEN_FORM_BYTES = 4 * KIB
DEFAULT_JSON_BYTES = 1 * MIB
LARGE_JSON_BYTES = 8 * MIB  # URL batches and context shortening carry many items
DEFAULT_MAX_UPLOAD_BYTES = 100 * MIB
# Multipart framing around the one file part (boundaries, part headers).
MULTIPART_SLACK = 16 * KIB

# Decoded values.
MAX_NAME_CHARS = 1_000
MAX_TEXT_CHARS = 100_000
MAX_DEPTH = 32
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

# Wire names of fields that name something (listed, shown in pages): capped as names.
NAME_FIELDS = frozenset({"name", "definitionName", "identifier"})


def _too_deep(path: str) -> BadRequest:
    message = f"Nested deeper than {MAX_DEPTH} levels."
    return BadRequest(f"The request body is invalid: {message}", errors={path or "$": [message]})


def _error(path: str, message: str) -> BadRequest:
    return BadRequest(f"The request body is invalid: '{path}': {message}", errors={path: [message]})


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_field_names: dict[type, tuple[tuple[str, str], ...]] = {}


def _fields(kind: type) -> tuple[tuple[str, str], ...]:
    names = _field_names.get(kind)
    if names is None:
        names = tuple((f.name, f.encode_name) for f in msgspec.structs.fields(kind))
        _field_names[kind] = names
    return names


_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def may_break_bounds(raw: bytes) -> bool:
    """Whether the JSON ``raw`` could hold anything ``check_bounds`` refuses: cheap byte tests
    that let small bodies (most datapoints) skip the walk. A text over a cap needs more bytes
    than the smallest cap, an integer outside int64 needs 19 digits in a row, and nesting
    deeper than MAX_DEPTH needs more than MAX_DEPTH opening brackets."""
    return (
        len(raw) > MAX_NAME_CHARS
        or raw.count(b"{") + raw.count(b"[") > MAX_DEPTH
        or _LONG_NUMBER.search(raw) is not None
    )


def check_bounds(value: Any, path: str = "", depth: int = 0) -> None:
    """Raise a 400 naming the first field of a decoded body that is out of bounds."""
    if depth > MAX_DEPTH:
        raise _too_deep(path)
    if isinstance(value, str):
        cap = MAX_NAME_CHARS if path.rpartition(".")[2] in NAME_FIELDS else MAX_TEXT_CHARS
        if len(value) > cap:
            raise _error(path, f"At most {cap} characters, got {len(value)}.")
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise _error(path, f"Must be between {INT64_MIN} and {INT64_MAX}.")
    elif isinstance(value, msgspec.Struct):
        for attr, wire_name in _fields(type(value)):
            check_bounds(getattr(value, attr), _join(path, wire_name), depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_bounds(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_bounds(key, path, depth + 1)
            check_bounds(item, _join(path, str(key)), depth + 1)


def deepest_path(raw: bytes, limit: int = MAX_DEPTH, *, shown: int = 4) -> str:
    """The field path (first ``shown`` steps) at which ``raw`` JSON nests past ``limit``;
    ``"$"`` when it does not. Only used to word the error, so it never raises."""
    text = raw.decode("utf-8", "replace")
    stack: list[list[Any]] = []  # [kind, key or index] per open container
    key = ""
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            end = i + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            key = text[i + 1 : end]
            i = end + 1
            continue
        if char in "{[":
            if stack and stack[-1][0] == "{":
                stack[-1][1] = key
            stack.append([char, 0 if char == "[" else ""])
            if len(stack) > limit:
                break
        elif char in "}]" and stack:
            stack.pop()
        elif char == "," and stack and stack[-1][0] == "[":
            stack[-1][1] = int(stack[-1][1]) + 1
        i += 1
    else:
        return "$"
    path = ""
    for _, step in stack[:-1][:shown]:
        path = f"{path}[{step}]" if isinstance(step, int) else _join(path, step)
    return path + ("…" if len(stack) - 1 > shown else "")
