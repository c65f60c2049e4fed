"""Client management on a database: ``python -m rapidata_async clients create|list|revoke``,
and invites to the labeling page: ``python -m rapidata_async labelers invite|list``.

Works on the same ``--db`` as ``serve``, running or not: a client created here can log in at
once; a revoked one's tokens stop working within a second (``_clients.EXISTS_TTL``)::

    $ python -m rapidata_async clients create --db rapidata-local.sqlite3
    client_id:     local-0f3c...
    client_secret: ...      (shown once: only its hash is stored)
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from ._clients import ClientDirectory
from ._labelers import create_invite
from .domain.errors import DomainError
from .store import describe, open_store
from .store.base import Store, StoreUnavailable


async def _run(
    db: str | Path | None, action: str, client_id: str | None, tenant: str | None
) -> int:
    store = open_store(db)
    await store.open()
    try:
        directory = ClientDirectory(store.clients)
        if action == "create":
            if tenant is not None and tenant not in {c.tenant for c in await store.clients.list()}:
                print(f"error: no tenant {tenant!r} in {describe(db)}", file=sys.stderr)
                return 1
            new_id, secret, owner = await directory.create(tenant=tenant)
            print(
                f"client_id:     {new_id}\n"
                f"client_secret: {secret}\n"
                f"tenant:        {owner}\n"
                "The secret is shown once: only its hash is stored.",
                flush=True,
            )
            return 0
        if action == "list":
            for row in await store.clients.list():
                print(f"{row.client_id}  tenant={row.tenant}  created={row.created_at}")
            return 0
        assert client_id is not None
        if not await directory.revoke(client_id):
            print(f"error: no client {client_id!r} in {describe(db)}", file=sys.stderr)
            return 1
        print(f"revoked {client_id}: its tokens stop working within a second", flush=True)
        return 0
    finally:
        with anyio.CancelScope(shield=True):
            await store.close()


def manage_clients(
    db: str | Path | None, action: str, client_id: str | None = None, tenant: str | None = None
) -> int:
    """Run one ``clients`` action (``create``, ``list``, ``revoke``) on ``db``; the exit
    status (1 with a one-line message on stderr for an unknown client or database)."""
    try:
        return anyio.run(_run, db, action, client_id, tenant)
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1


async def _labelers(
    db: str | Path | None,
    action: str,
    tenant: str | None,
    name: str | None,
    audiences: list[str],
    url: str,
) -> int:
    store = open_store(db)
    await store.open()
    try:
        owner = await _tenant(store, db, tenant)
        if owner is None:
            return 1
        if action == "list":
            for row in await store.labelers.list(owner=owner):
                joined = ", ".join(["global", *row.audiences])
                print(f"{row.id}  {row.name}  audiences={joined}  created={row.created_at}")
            return 0
        try:
            invite = await create_invite(store, owner=owner, name=name or "", audiences=audiences)
        except DomainError as exc:
            print(f"error: {exc.detail}", file=sys.stderr)
            return 1
        print(
            f"labeler:     {invite.labeler.id} ({invite.labeler.name})\n"
            f"invite link: {invite.link(url)}\n"
            "Send the link to the person; it is shown once (only its hash is stored).",
            flush=True,
        )
        return 0
    finally:
        with anyio.CancelScope(shield=True):
            await store.close()


async def _tenant(store: Store, db: str | Path | None, tenant: str | None) -> str | None:
    """``tenant`` if it exists, else the first client's; None (with a message) otherwise."""
    tenants = [c.tenant for c in await store.clients.list()]
    if tenant is not None and tenant not in tenants:
        print(f"error: no tenant {tenant!r} in {describe(db)}", file=sys.stderr)
        return None
    if not tenants:
        print(
            f"error: {describe(db)} has no client yet; start serve on it once or run "
            "'clients create'",
            file=sys.stderr,
        )
        return None
    return tenant or tenants[0]


def manage_labelers(
    db: str | Path | None,
    action: str,
    *,
    tenant: str | None = None,
    name: str | None = None,
    audiences: list[str] | None = None,
    url: str = "http://127.0.0.1:8080",
) -> int:
    """Run one ``labelers`` action on ``db``: ``invite`` (a person of ``tenant``, default
    the first client's, with ``name`` and their custom ``audiences``; prints the invite link
    on the backend at ``url``) or ``list``. The exit status."""
    try:
        return anyio.run(_labelers, db, action, tenant, name, audiences or [], url)
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
