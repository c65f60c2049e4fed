"""``python -m rapidata_async serve``: a backend in the foreground, with its banner.

The banner says where the backend listens, the store, and how to connect: the first client's
secret (on a terminal only), or the command that creates a credential. With people in the
crowd (``--crowd human`` or ``mixed``) it also says how to let them label: on a terminal, an
invite link for the owner created just now; otherwise the ``labelers invite`` command.
"""

from __future__ import annotations

import errno
import logging
import ssl as ssl_module
import sys
from pathlib import Path

import anyio

from ._app import DEFAULT_DB, LocalBackend
from ._labelers import create_invite
from ._limits import DEFAULT_MAX_UPLOAD_BYTES
from .services._batches import LEASE_TTL
from .store import describe, is_postgres_url
from .store.base import StoreUnavailable

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8080,
    db: str | Path | None = DEFAULT_DB,
    *,
    pace: str = "realistic",
    speed: float = 60.0,
    seed: int = 0,
    fetch_urls: bool = False,
    allow_private_urls: bool = False,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    assets_dir: str | Path | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    lease_ttl: float = LEASE_TTL,
    key_file: str | Path | None = None,
    crowd: str = "simulated",
) -> int:
    """Run a backend in the foreground until Ctrl-C (``python -m rapidata_async serve``).

    Prints the URL and the store. On a new database it creates the first client credential
    and prints its secret with the one line that connects, but only to a terminal (never to
    a log or a pipe; then it says how to create a credential); on later starts, how to create
    one (``python -m rapidata_async clients create``). Data survives restarts of a file or
    PostgreSQL ``db``.
    ``pace``/``speed``/``lease_ttl``/``crowd``: see ``LocalBackend``. ``tls_cert``/``tls_key`` (PEM)
    serve https, e.g. for the official client, which only speaks https. Returns the exit
    status: 1, with a one-line message on stderr, when the port is taken or the database
    cannot be opened. A non-loopback ``host`` without TLS gets a warning: credentials and
    tokens would cross the network in clear text.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def main() -> None:
        ssl_ctx = None
        if tls_cert:
            ssl_ctx = ssl_module.create_default_context(ssl_module.Purpose.CLIENT_AUTH)
            ssl_ctx.load_cert_chain(tls_cert, tls_key)
        backend = LocalBackend(
            db=db,
            host=host,
            port=port,
            pace=pace,
            speed=speed,
            seed=seed,
            ssl=ssl_ctx,
            fetch_urls=fetch_urls,
            allow_private_urls=allow_private_urls,
            log_requests=True,
            assets_dir=assets_dir,
            max_upload_bytes=max_upload_bytes,
            lease_ttl=lease_ttl,
            key_file=key_file,
            own_credential=False,
            crowd=crowd,
        )
        # Entered directly (no task group around it), so a database that cannot be opened
        # raises StoreUnavailable itself.
        async with backend:
            assets = backend.store.assets_dir
            terminal = sys.stdout.isatty()
            invite = await _owner_invite(backend) if terminal and crowd != "simulated" else None
            print(
                banner(
                    backend,
                    assets.resolve() if assets is not None else None,
                    terminal=terminal,
                    db_option=_db_option(db),
                    invite=invite,
                ),
                flush=True,
            )
            await anyio.sleep_forever()

    warning = plaintext_warning(host, tls=bool(tls_cert))
    if warning:
        print(warning, file=sys.stderr, flush=True)
    try:
        anyio.run(main)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except BaseException as exc:
        if not _address_in_use(exc):
            raise
        print(
            f"error: {host}:{port} is already in use; stop what listens there or pick another "
            "port with --port",
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0


def _db_option(db: str | Path | None) -> str:
    """``--db`` as a command to type would take it; a PostgreSQL URL without its password."""
    if db is None:
        return " --db :memory:"
    if is_postgres_url(db):
        from .store.postgres import redact

        return f" --db '{redact(str(db))}' (with its password)"
    return f" --db {db}"


async def _owner_invite(backend: LocalBackend) -> str | None:
    """An invite link for the owner (the first client's tenant), or None without clients."""
    clients = await backend.store.clients.list()
    if not clients:
        return None
    invite = await create_invite(backend.store, owner=clients[0].tenant, name="owner", audiences=[])
    return invite.link(backend.url)


def banner(
    backend: LocalBackend,
    assets: Path | None,
    *,
    terminal: bool,
    db_option: str,
    invite: str | None = None,
) -> str:
    """What ``serve`` prints on start. The secret of a credential created just now appears
    only when ``terminal`` (stdout is a terminal, not a log file or a pipe), and so does
    ``invite``, a labeling-page invite link created for the owner."""
    url, cid, secret = backend.url, backend.client_id, backend.client_secret
    create = f"python -m rapidata_async clients create{db_option}"
    lines = [
        f"Rapidata local backend on {url}",
        f"  database:      {describe(backend.db)}",
        *([f"  assets:        {assets}"] if assets else []),
        f"  crowd:         {backend.crowd}",
    ]
    if backend.created_credential and terminal:
        lines += [
            f"  client_id:     {cid}",
            f"  client_secret: {secret}   (shown once: only its hash is stored)",
            "Connect with:",
            f"  AsyncRapidataClient(base_url={url!r}, client_id={cid!r}, client_secret={secret!r})",
            f"or: export RAPIDATA_BASE_URL={url} RAPIDATA_CLIENT_ID={cid} "
            f"RAPIDATA_CLIENT_SECRET={secret}",
        ]
    elif backend.created_credential:
        lines += [
            f"  client_id:     {cid} (created now; its secret is shown on a terminal only)",
            f"Create a credential to connect with: {create}",
        ]
    elif backend.db is None:
        lines.append("An in-memory backend shows its credential on a terminal only.")
    else:
        lines.append(f"Connect with a credential of this database; create one with: {create}")
    if backend.crowd != "simulated":
        if invite is not None:
            lines += [
                "Label in a browser (an invite for the owner; shown once, only its hash is "
                "stored):",
                f"  {invite}",
            ]
        if backend.db is None:
            lines.append("Invite people with: POST /_local/labelers (see docs/pages.md)")
        else:
            lines.append(
                "Invite people with: python -m rapidata_async labelers invite --name NAME"
                f"{db_option} --url {url}"
            )
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def _address_in_use(exc: BaseException) -> bool:
    """Whether ``exc`` (or one inside an exception group) is "address already in use"."""
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return True
    inner = getattr(exc, "exceptions", None)  # an exception group
    if isinstance(inner, (list, tuple)) and inner:
        return all(_address_in_use(e) for e in inner)
    return False


def plaintext_warning(host: str, *, tls: bool) -> str | None:
    """The warning for serving plain http on an address other machines may reach."""
    if tls or host in LOOPBACK_HOSTS or host.startswith("127."):
        return None
    return (
        f"WARNING: serving plain http on {host}, reachable beyond this machine: the client "
        "secret and bearer tokens cross the network unencrypted. Pass --tls-cert/--tls-key, "
        "or bind to 127.0.0.1."
    )
