"""The public ``Datapoint``: one item of a dataset as the caller described it."""

from __future__ import annotations

import re

import msgspec

_URL = re.compile(r"^https?://", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class Datapoint(msgspec.Struct, frozen=True, kw_only=True):
    """One datapoint: its assets (1 for classification, 2 for compare) and contexts.

    ``sort_index`` is the datapoint's position in the caller's list; the API treats a repeated
    dataset + sortIndex as the same datapoint, which makes retries safe.
    """

    asset: tuple[str, ...]
    sort_index: int
    data_type: str = "media"
    context: str | None = None
    media_context: tuple[str, ...] | None = None
    answer_options: tuple[str, ...] | None = None
    private_metadata: dict[str, str] | None = None


def is_url(asset: str) -> bool:
    """Whether an asset string is fetched by the API (http/https) rather than uploaded."""
    return _URL.match(asset) is not None


def has_foreign_scheme(asset: str) -> bool:
    """An ``x://`` string that is not http(s): never a local path, never uploadable."""
    return _SCHEME.match(asset) is not None and not is_url(asset)
