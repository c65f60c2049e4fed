"""Names of stored assets: unique, safe on any file system, recognisable from their origin."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def unique_name(original: str) -> str:
    """``<stem>_<16 hex><ext>`` from a file name or URL basename, safe for any file system.
    The 64 random bits keep names unguessable: ``/media/{name}`` serves files without a
    token, as the pages that show them do."""
    base = PurePosixPath(original.replace("\\", "/")).name
    stem, ext = os.path.splitext(base)
    stem = _UNSAFE.sub("-", stem).strip("-.")[:100] or "asset"
    ext = _UNSAFE.sub("", ext)[:16]
    return f"{stem}_{secrets.token_hex(8)}{ext}"


def url_basename(url: str) -> str:
    """The last path segment of ``url``, decoded (``"asset"`` when there is none)."""
    return PurePosixPath(unquote(urlsplit(url).path)).name or "asset"
