"""Client credentials at run time: who a token's client is now, and whether a secret is right.

A token names its client (``sub``); every request asks ``ClientDirectory.tenant_of`` whether
that client still exists, so a revoked client's tokens stop working: at once when revoked
through this process (``revoke``), within ``EXISTS_TTL`` seconds when another process (the
``clients revoke`` command) deleted it. Secrets are checked against their scrypt hash in a
worker thread; a secret once verified is remembered as a keyed fast digest, so a client that
asks for tokens often costs one scrypt per process, not one per token::

    directory = ClientDirectory(store.clients)
    client_id, secret, _ = await directory.create()       # secret: shown once, stored hashed
    tenant = await directory.check_secret(client_id, secret)   # None when wrong
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import anyio
import anyio.to_thread

from .store.base import Clients
from .store.credentials import hash_secret, new_client_id, new_secret, verify_secret

# Seconds a "this client exists" answer is reused for; revocations by another process take
# effect within it.
EXISTS_TTL = 1.0
_CACHE_SIZE = 4096
# scrypt takes 16 MiB and tens of milliseconds per call: a burst of logins queues here instead
# of filling every worker thread.
_HASHING = anyio.CapacityLimiter(2)


class ClientDirectory:
    """The credentials of one store, as the token endpoint and the bearer check need them."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients
        self._exists: dict[str, tuple[str, float]] = {}  # client id -> (tenant, until)
        # client id -> (stored hash, keyed digest of the secret that matched it)
        self._verified: dict[str, tuple[str, bytes]] = {}
        self._key = secrets.token_bytes(32)

    async def create(
        self, *, tenant: str | None = None, join_first: bool = False
    ) -> tuple[str, str, str]:
        """A new credential ``(client_id, secret, tenant)``; only the hash of the secret is
        stored. ``tenant``/``join_first``: share an existing tenant's data (see
        ``Clients.add``); by default the client is a tenant of its own."""
        client_id, secret = new_client_id(), new_secret()
        hashed = await anyio.to_thread.run_sync(hash_secret, secret, limiter=_HASHING)
        owner = await self._clients.add(client_id, hashed, tenant=tenant, join_first=join_first)
        return client_id, secret, owner

    async def revoke(self, client_id: str) -> bool:
        """Delete the client; its tokens stop working at once in this process."""
        removed = await self._clients.remove(client_id)
        self._exists.pop(client_id, None)
        self._verified.pop(client_id, None)
        return removed

    async def tenant_of(self, client_id: str) -> str | None:
        """The tenant of an existing client, None once it was revoked."""
        now = time.monotonic()
        known = self._exists.get(client_id)
        if known is not None and known[1] > now:
            return known[0]
        found = await self._clients.get(client_id)
        if found is None:
            self._exists.pop(client_id, None)
            return None
        if len(self._exists) >= _CACHE_SIZE:
            self._exists.clear()
        self._exists[client_id] = (found[0].tenant, now + EXISTS_TTL)
        return found[0].tenant

    async def check_secret(self, client_id: str, secret: str) -> str | None:
        """The client's tenant when ``secret`` is its secret, else None (constant-time
        comparisons either way)."""
        found = await self._clients.get(client_id)
        if found is None:
            return None
        row, stored = found
        digest = hmac.new(self._key, secret.encode("utf-8"), hashlib.sha256).digest()
        known = self._verified.get(client_id)
        if known is not None and known[0] == stored:
            return row.tenant if hmac.compare_digest(known[1], digest) else None
        if not await anyio.to_thread.run_sync(verify_secret, secret, stored, limiter=_HASHING):
            return None
        if len(self._verified) >= _CACHE_SIZE:
            self._verified.clear()
        self._verified[client_id] = (stored, digest)
        return row.tenant
