"""Invites to the labeling page: a per-person token that the owner (a tenant) creates.

The token is ``<labeler id>.<secret>``; only the scrypt hash of the secret is stored (as for
client secrets, ``store.credentials``). The invite link carries it after ``#``, so it never
reaches a server log or a ``Referer``: the page's script posts it to sign the person in::

    invite = await create_invite(store, owner=tenant, name="Ada", audiences=[])
    invite.link("http://127.0.0.1:8080")   # http://127.0.0.1:8080/label/join#<token>
    row = await check_invite(store, invite.token)   # the LabelerRow, None when wrong

A person always belongs to the global audience (the owner's jobs on it); ``audiences`` adds
curated ones and custom ones (joined by passing their qualification examples on the page).
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import anyio.to_thread

from .domain.errors import Invalid
from .store.base import LabelerRow, Store
from .store.credentials import hash_secret, new_secret, verify_secret
from .store.seeds import new_id

JOIN_PATH = "/label/join"
GLOBAL_AUDIENCE = "global"
MAX_NAME_CHARS = 200
MAX_AUDIENCES = 50
# scrypt takes 16 MiB and tens of milliseconds: a burst of sign-ins queues here.
_HASHING = anyio.CapacityLimiter(2)


@dataclass(frozen=True, slots=True)
class Invite:
    """A labeler just created and their token (shown once: only its hash is stored)."""

    labeler: LabelerRow
    token: str

    def link(self, base_url: str) -> str:
        """The link that signs the person in on the backend at ``base_url``."""
        return f"{base_url.rstrip('/')}{JOIN_PATH}#{self.token}"


async def create_invite(store: Store, *, owner: str, name: str, audiences: list[str]) -> Invite:
    """A new labeler of ``owner`` and their invite token. ``Invalid`` naming ``name`` for an
    empty or overlong name; ``NotFound`` naming ``audiences[i]`` for an audience ``owner``
    cannot see."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise Invalid.field("name", f"The name must have 1 to {MAX_NAME_CHARS} characters.")
    if len(audiences) > MAX_AUDIENCES:
        raise Invalid.field("audiences", f"At most {MAX_AUDIENCES} audiences per labeler.")
    kept: list[str] = []
    for i, audience_id in enumerate(audiences):
        await store.audiences.get(audience_id, owner=owner, field=f"audiences[{i}]")
        if audience_id != GLOBAL_AUDIENCE and audience_id not in kept:
            kept.append(audience_id)
    labeler_id, secret = new_id(), new_secret()
    hashed = await anyio.to_thread.run_sync(hash_secret, secret, limiter=_HASHING)
    row = await store.labelers.add(labeler_id, hashed, owner=owner, name=name, audiences=kept)
    return Invite(row, f"{labeler_id}.{secret}")


async def check_invite(store: Store, token: str) -> LabelerRow | None:
    """The labeler whose invite token this is, or None (constant-time check of the secret)."""
    labeler_id, dot, secret = token.strip().partition(".")
    if not dot or not labeler_id or not secret or len(token) > 200:
        return None
    found = await store.labelers.get(labeler_id)
    if found is None:
        return None
    row, stored = found
    ok = await anyio.to_thread.run_sync(verify_secret, secret, stored, limiter=_HASHING)
    return row if ok else None
