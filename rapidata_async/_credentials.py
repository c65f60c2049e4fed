"""Where the client id and secret come from, and how they are stored.

Order: explicit arguments, then ``RAPIDATA_CLIENT_ID`` / ``RAPIDATA_CLIENT_SECRET``, then
``~/.config/rapidata/credentials.json``. The file is a JSON object keyed by environment::

    {"rapidata.ai": {"client_id": "…", "client_secret": "…"}}

A flat ``{"client_id", "client_secret"}`` object (any environment) and the official client's
per-environment lists of credentials are read as well. ``save_credentials`` writes the file
with mode 0600 through an atomic replace. File access runs in a worker thread.

::

    await save_credentials("rapidata.ai", client_id, client_secret)
    client_id, client_secret = await resolve_credentials(environment="rapidata.ai")
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio

from ._constants import DEFAULT_ENVIRONMENT
from ._exceptions import MissingCredentialsError
from ._logging import logger

CREDENTIALS_PATH = Path("~/.config/rapidata/credentials.json")
"""Default location (``~`` is expanded when used)."""

ENV_CLIENT_ID = "RAPIDATA_CLIENT_ID"
ENV_CLIENT_SECRET = "RAPIDATA_CLIENT_SECRET"

__all__ = ["CREDENTIALS_PATH", "load_credentials", "resolve_credentials", "save_credentials"]


async def resolve_credentials(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    environment: str = DEFAULT_ENVIRONMENT,
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """``(client_id, client_secret)`` from the arguments, the environment or the file.

    Raises ``MissingCredentialsError`` when none of them has a complete pair, and
    ``ValueError`` when only one of the two arguments is given.
    """
    if client_id and client_secret:
        return client_id, client_secret
    if client_id or client_secret:
        missing = "client_secret" if client_id else "client_id"
        raise ValueError(f"{missing} is required when the other one is given")
    env = os.environ if environ is None else environ
    env_id, env_secret = env.get(ENV_CLIENT_ID), env.get(ENV_CLIENT_SECRET)
    if env_id and env_secret:
        return env_id, env_secret
    stored = await load_credentials(environment, path)
    if stored is not None:
        return stored
    file = _path(path)
    raise MissingCredentialsError(
        f"no Rapidata credentials for environment {environment!r}: pass client_id and "
        f"client_secret, set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}, or store them in {file} "
        "with save_credentials()"
    )


async def load_credentials(
    environment: str, path: str | os.PathLike[str] | None = None
) -> tuple[str, str] | None:
    """The stored ``(client_id, client_secret)`` for ``environment``, or None."""
    file = _path(path)
    data = await anyio.to_thread.run_sync(_read_json, file)
    if data is None:
        return None
    return _pick(data.get(environment)) or _pick(data)


async def save_credentials(
    environment: str,
    client_id: str,
    client_secret: str,
    path: str | os.PathLike[str] | None = None,
) -> Path:
    """Store the pair for ``environment`` (other environments are kept); returns the path.

    The file is created with mode 0600 (its directory 0700) and replaced atomically, so a
    crash never leaves a half-written file and the secret is never readable by others.
    """
    if not client_id or not client_secret:
        raise ValueError("client_id and client_secret must be non-empty")
    file = _path(path)
    await anyio.to_thread.run_sync(_write_entry, file, environment, client_id, client_secret)
    logger.debug("credentials saved", path=str(file), environment=environment)
    return file


def _path(path: str | os.PathLike[str] | None) -> Path:
    return Path(path if path is not None else CREDENTIALS_PATH).expanduser()


def _read_json(file: Path) -> dict[str, Any] | None:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        logger.warning("ignoring unreadable credentials file", path=str(file), error=str(exc))
        return None
    return data if isinstance(data, dict) else None


def _pick(entry: Any) -> tuple[str, str] | None:
    if isinstance(entry, list):
        # The official client keeps a list per environment; take the most recently used.
        entries = [e for e in entry if _pick(e) is not None]
        if not entries:
            return None
        entry = max(entries, key=lambda e: str(e.get("last_used") or ""))
    if isinstance(entry, dict):
        cid, secret = entry.get("client_id"), entry.get("client_secret")
        if isinstance(cid, str) and cid and isinstance(secret, str) and secret:
            return cid, secret
    return None


def _write_entry(file: Path, environment: str, client_id: str, client_secret: str) -> None:
    data: dict[str, Any] = {}
    if file.exists():
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{file} is not valid JSON ({exc}); fix or delete it before saving credentials"
            ) from exc
        if isinstance(loaded, dict):
            data = loaded
    data[environment] = {"client_id": client_id, "client_secret": client_secret}

    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{uuid.uuid4().hex}.tmp")
    # Created 0600 from the start: a chmod after writing would leave a window where the
    # secret is readable under a permissive umask.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), 0o600)  # the umask may have removed bits
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
