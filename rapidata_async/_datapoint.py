"""The public ``Datapoint``: one item of a dataset as the caller described it."""

from __future__ import annotations

import re

import msgspec

_URL = re.compile(r"^https?://", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class Datapoint(msgspec.Struct, frozen=True, kw_only=True):
    """One datapoint: its assets (1 for classification, 2 for compare) and contexts.

    ``sort_index`` is the datapoint's position in the caller's list. The API answers a
    datapoint sent again with the same ``sortIndex`` *and the same content* with the one it
    stored, which makes retries safe; other content under a used ``sortIndex`` is a new
    datapoint. Frozen: change a field with ``msgspec.structs.replace(dp, asset=(...))``.
    """

    asset: tuple[str, ...]
    """Paths, URLs or texts: one for classification, the pair (A, B) for compare."""
    sort_index: int
    """Position in the dataset; sent as ``sortIndex``."""
    data_type: str = "media"
    """``"media"`` (files and URLs, uploaded) or ``"text"`` (the items are the texts)."""
    context: str | None = None
    """Text shown with the task."""
    media_context: tuple[str, ...] | None = None
    """Paths or URLs of media shown with the task."""
    answer_options: tuple[str, ...] | None = None
    """The categories (classification)."""
    private_metadata: dict[str, str] | None = None
    """Key/value pairs stored with the datapoint, not shown to labelers; they come back as
    ``private_metadata_<key>`` result columns."""


def is_url(asset: str) -> bool:
    """Whether an asset string is fetched by the API (http/https) rather than uploaded."""
    return _URL.match(asset) is not None


def has_foreign_scheme(asset: str) -> bool:
    """An ``x://`` string that is not http(s): never a local path, never uploadable."""
    return _SCHEME.match(asset) is not None and not is_url(asset)
