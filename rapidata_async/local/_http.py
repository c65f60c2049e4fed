"""Handler plumbing shared by every service module: parse a body, answer a struct, page a list.

Knows HTTP and the wire, nothing of the backend's parts (those come from ``_context.ctx``).
A handler reads like this::

    @routes.post("/dataset")
    async def create_dataset(request: web.Request) -> web.Response:
        body = await read_json(request, _create_decoder)        # 400 naming the field on error
        dataset_id = await ctx(request).store.datasets.create(body)
        return respond(wire.CreateDatasetOutput(dataset_id=dataset_id))
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

import msgspec
from aiohttp import web
from multidict import MultiMapping

from .._wire._base import WireModel
from ._errors import BadRequest, PayloadTooLarge, field_error
from ._limits import (
    DEFAULT_JSON_BYTES,
    INT32_MAX,
    INT32_MIN,
    MAX_DEPTH,
    check_bounds,
    deepest_path,
    may_break_bounds,
)
from .store.base import Filter, ListQuery

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_encoder = msgspec.json.Encoder()


def public(handler: Handler) -> Handler:
    """Mark a route as reachable without a bearer token (token endpoint, app pages)."""
    handler.public = True  # type: ignore[attr-defined]
    return handler


# -- bodies ------------------------------------------------------------------------------------
_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")


def validation_error(exc: msgspec.ValidationError) -> BadRequest:
    """Turn msgspec's ``"<msg> - at `$.a.b`"`` into ``errors={"a.b": ["<msg>"]}``."""
    text = str(exc)
    match = _AT.match(text)
    message = match.group("msg") if match else text
    path = (match.group("path") or "") if match else ""
    path = path.removeprefix(".")
    missing = _MISSING.match(message)
    if missing:
        path = f"{path}.{missing.group('name')}" if path else missing.group("name")
        message = f"The {missing.group('name')} field is required."
    return BadRequest(f"The request body is invalid: {text}", errors={path or "$": [message]})


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body exceeds the limit of {limit} bytes for this endpoint.",
        errors={"$": [f"At most {limit} bytes."]},
    )


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes: a 413 as soon as the declared length or the
    bytes received pass it, without reading the rest."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(
    request: web.Request, decoder: msgspec.json.Decoder[T], *, max_bytes: int = DEFAULT_JSON_BYTES
) -> T:
    """Decode the JSON body with ``decoder``: 413 past ``max_bytes``; malformed, invalid or
    out-of-bounds bodies (``_limits.check_bounds``) and text holding NUL characters a 400
    naming the field."""
    return decode_json(await read_body(request, max_bytes), decoder)


def decode_json(body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """``read_json`` for a body read already: 400 for malformed, invalid or out-of-bounds JSON
    and for text holding NUL characters, naming the field."""
    try:
        value = decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(
            "The request body is not valid JSON.", errors={"$": [f"Malformed JSON: {exc}"]}
        ) from None
    except RecursionError:
        # msgspec's decoder recurses per nesting level; deeper than Python allows is far
        # past MAX_DEPTH, so name the place and refuse like check_bounds does.
        path = deepest_path(body, MAX_DEPTH)
        message = f"Nested deeper than {MAX_DEPTH} levels."
        raise BadRequest(
            f"The request body is invalid: {message}", errors={path: [message]}
        ) from None
    if may_break_bounds(body):
        check_bounds(value)
    # JSON can carry NUL only as an escape, so the plain scan keeps the walk off the hot path.
    if b"\\u0000" in body and (nul := _nul_path(msgspec.json.decode(body))) is not None:
        raise field_error(nul or "$", _NUL_MESSAGE)
    return value


# No store keeps NUL characters in text (PostgreSQL refuses them), so no request may send them.
_NUL_MESSAGE = "Text must not contain NUL characters (\\u0000)."


def _nul_path(value: Any, path: str = "") -> str | None:
    """The field path (``a.b[0]``) of the first string in ``value`` holding a NUL, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_path(key, path) or _nul_path(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if (found := _nul_path(item, f"{path}[{i}]")) is not None:
                return found
    return None


def reject_nul(request: web.Request) -> None:
    """400 naming the query or path parameter whose decoded value holds a NUL character."""
    if "%00" not in request.raw_path and "\x00" not in request.raw_path:
        return
    params = [*request.query.items(), *request.match_info.items()]
    for name, value in params:
        if "\x00" in name or "\x00" in value:
            raise field_error(name.replace("\x00", ""), _NUL_MESSAGE)
    if "\x00" in request.path:
        raise field_error("$url", _NUL_MESSAGE)


def respond(obj: Any, *, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(obj), status=status, content_type="application/json")


def no_content() -> web.Response:
    return web.Response(status=204)


# -- query strings -----------------------------------------------------------------------------
def query_int(request: web.Request, name: str, default: int, *, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise field_error(name, f"'{raw}' is not a whole number.") from None
    if not lo <= value <= hi:
        raise field_error(name, f"Must be between {lo} and {hi}, got {value}.")
    return value


def path_int(request: web.Request, name: str, *, lo: int = INT32_MIN, hi: int = INT32_MAX) -> int:
    """A whole number from the path (int32 as the contract declares, unless told)."""
    raw = request.match_info[name]
    try:
        value = int(raw)
    except ValueError:
        raise field_error(name, f"'{raw}' is not a whole number.") from None
    if not lo <= value <= hi:
        raise field_error(name, f"Must be between {lo} and {hi}.")
    return value


OPERATORS = frozenset(
    {
        "eq",
        "neq",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "starts_with",
        "ends_with",
        "in",
        "not_contains",
    }
)
_DEEP = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_]*)\[(?P<op>[a-z_]+)\]$")


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(f"'{raw}' is not true or false")


def list_query(
    request: web.Request,
    *,
    filters: Mapping[str, str],
    booleans: frozenset[str] = frozenset(),
    default_sort: str = "-created_at",
) -> ListQuery:
    """Parse ``page``, ``page_size``, ``sort`` and ``field[op]=value`` filters into a logical
    ``ListQuery``.

    ``filters`` maps filterable query fields to logical field names (the store maps those to
    its columns and rejects sort names it does not know). An empty filter value means "no
    filter" (the SDKs send ``name[contains]=`` when the user gave no name); filters on unknown
    fields are ignored, as the real API ignores unknown query parameters, but a known field
    with an unknown operator is a 400.
    """
    query: MultiMapping[str] = request.query
    page = query_int(request, "page", 1, lo=1, hi=1_000_000)
    page_size = query_int(request, "page_size", 10, lo=1, hi=1000)
    order: list[tuple[str, bool]] = []
    for raw in query.getall("sort", []) or [default_sort]:
        for item in filter(None, (part.strip() for part in raw.split(","))):
            order.append((item.lstrip("-+"), item.startswith("-")))
    parsed: list[Filter] = []
    grouped: dict[tuple[str, str], list[str]] = {}
    for key, value in query.items():
        match = _DEEP.match(key)
        if match is None or match.group("field") not in filters:
            continue
        op = match.group("op")
        if op not in OPERATORS:
            raise field_error(key, f"Unknown filter operator '{op}'.")
        grouped.setdefault((match.group("field"), op), []).append(value)
    for (name, op), raw_values in grouped.items():
        values = [v for v in raw_values if v != ""]
        if not values:
            continue
        typed: list[Any] = values
        if name in booleans:
            try:
                typed = [_bool(v) for v in values]
            except ValueError as exc:
                raise field_error(f"{name}[{op}]", str(exc)) from None
        parsed.append(Filter(filters[name], op, tuple(typed)))
    logic = query.get("logic", "and").lower()
    if logic not in ("and", "or"):
        raise field_error("logic", "Must be 'and' or 'or'.")
    return ListQuery(page, page_size, tuple(order), tuple(parsed), logic)


class PageOut(WireModel, Generic[T], omit_defaults=False):
    """``{"items","total","page","pageSize","totalPages"}`` with every key always present."""

    items: list[T]
    total: int
    page: int
    page_size: int
    total_pages: int


def page_of(items: list[T], total: int, query: ListQuery) -> PageOut[T]:
    return PageOut(
        items=items,
        total=total,
        page=query.page,
        page_size=query.page_size,
        total_pages=math.ceil(total / query.page_size),
    )
