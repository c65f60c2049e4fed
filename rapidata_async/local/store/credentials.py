"""Client secrets as scrypt hashes, the token-signing key file, and private files.

A stored secret is ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (base64url, a fresh 16-byte salt per
secret); the plain secret exists only in the answer to whoever created it::

    stored = hash_secret("s3cret")
    verify_secret("s3cret", stored)          # True, compared in constant time

The signing key never goes into the database: it lives in a file only its owner may read
(``load_signing_key``), or comes from ``RAPIDATA_LOCAL_SIGNING_KEY``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_PREFIX = "scrypt$"
KEY_ENV = "RAPIDATA_LOCAL_SIGNING_KEY"
# The least key material accepted from the environment (characters of text).
MIN_ENV_KEY_CHARS = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)


def new_client_id() -> str:
    return f"local-{secrets.token_hex(8)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def is_hashed(stored: str) -> bool:
    return stored.startswith(_PREFIX)


def hash_secret(secret: str) -> str:
    """The stored form of ``secret`` (slow on purpose: tens of milliseconds; not on the loop)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{_PREFIX}{SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored``; False for anything malformed."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = _unb64(digest)
        actual = _scrypt(secret, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


# -- private files -----------------------------------------------------------------------------
def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by the owner only (0700 for new ones)."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)


def touch_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (a database file before SQLite
    opens it: SQLite gives its ``-wal``/``-shm`` files the database's mode)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def load_signing_key(path: Path | None, *, use_env: bool = True) -> bytes:
    """The token-signing key: ``RAPIDATA_LOCAL_SIGNING_KEY`` when set (and ``use_env``), else
    the key in ``path`` (created with 32 random bytes, mode 0600, when missing), else
    (``path`` None) a fresh key that lives as long as the process. ``ValueError`` for a key
    that is too short or a key file that is not one."""
    env = os.environ.get(KEY_ENV) if use_env else None
    if env:
        if len(env) < MIN_ENV_KEY_CHARS:
            raise ValueError(f"{KEY_ENV} must hold at least {MIN_ENV_KEY_CHARS} characters")
        return hashlib.sha256(env.encode("utf-8")).digest()
    if path is None:
        return secrets.token_bytes(32)
    private_dir(path.parent)
    if not path.exists():
        # Written whole under another name, then linked into place: a process starting at the
        # same moment either wins the link or reads the complete key of the one that did.
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_bytes(32).hex() + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    text = path.read_text("ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise ValueError(f"{path} is not a signing key (64 hex digits)")
    return key
