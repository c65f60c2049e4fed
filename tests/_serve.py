"""``python -m rapidata_async serve`` as a child process, for tests of several processes on one
database: started on a free port, its URL read from the banner it prints, a credential of
the database's first tenant made with ``clients create`` (one per database, shared by every
process on it: ``serve`` shows no secret to a pipe), killed with SIGKILL at will.

::

    async with served(["--db", dsn, "--pace", "instant"], logs=tmp_path) as proc:
        proc.url, proc.client_id, proc.client_secret, proc.pid
        proc.kill()        # kill -9: no cleanup, its leases stay until they expire

Also ``RoundRobin``: a TCP proxy on 127.0.0.1 handing each new connection to the next of
several upstream ports, bytes passed through untouched (TLS included), so that a client with
one base URL reaches every process.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import ByteStream, Process, SocketStream

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0


@dataclass
class Served:
    process: Process
    url: str
    client_id: str
    client_secret: str

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        self.process.kill()


async def _banner(process: Process) -> str:
    """The URL ``serve`` prints once it listens."""
    assert process.stdout is not None
    text = ""
    async for chunk in process.stdout:
        text += chunk.decode(errors="replace")
        if "Press Ctrl-C" in text:
            break
    url = re.search(r"Rapidata local backend on (\S+)", text)
    if not url:
        raise RuntimeError(f"serve printed no banner: {text!r}")
    return url[1]


# db -> (client_id, client_secret): one credential per database, so that every process of
# one database is reached with the same one.
_CREDENTIALS: dict[str, tuple[str, str]] = {}


async def _clients(env: dict[str, str], *args: str) -> str:
    result = await anyio.run_process(
        [sys.executable, "-m", "rapidata_async", "clients", *args], env=env, check=True
    )
    return result.stdout.decode()


async def _credential(db: str, env: dict[str, str]) -> tuple[str, str]:
    """A credential of the first tenant of ``db`` (which the first ``serve`` created)."""
    if db not in _CREDENTIALS:
        listed = await _clients(env, "list", "--db", db)
        tenant = re.search(r"tenant=(\S+)", listed)
        if tenant is None:
            raise RuntimeError(f"no client in {db}: {listed!r}")
        created = await _clients(env, "create", "--db", db, "--tenant", tenant[1])
        client_id = re.search(r"client_id:\s+(\S+)", created)
        secret = re.search(r"client_secret:\s+(\S+)", created)
        if not (client_id and secret):
            raise RuntimeError(f"clients create printed no credential: {created!r}")
        _CREDENTIALS[db] = (client_id[1], secret[1])
    return _CREDENTIALS[db]


async def _drain(stream: ByteStream | None) -> None:
    if stream is not None:
        async for _ in stream:
            pass


@asynccontextmanager
async def served(args: Sequence[str], *, logs: Path) -> AsyncIterator[Served]:
    """A ``serve`` process on 127.0.0.1, any free port, with ``args``; its log (stderr) goes
    to a file in ``logs``. Killed on exit if still running."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPIDATA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"serve-{os.urandom(3).hex()}.log").open("wb") as log:
        process = await anyio.open_process(
            [sys.executable, "-m", "rapidata_async", "serve", "--port", "0", *args],
            env=env,
            stderr=log,
        )
        try:
            with anyio.fail_after(START_TIMEOUT):
                url = await _banner(process)
            db = list(args)[list(args).index("--db") + 1]
            client_id, client_secret = await _credential(db, env)
            async with anyio.create_task_group() as tg:
                tg.start_soon(_drain, process.stdout)
                yield Served(process, url, client_id, client_secret)
                tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                if process.returncode is None:
                    process.kill()
                await process.wait()
                await process.aclose()


def official_client_env(
    port: int, ca_pem: Path, client_id: str, client_secret: str, home: Path
) -> dict[str, str]:
    """The environment of a process running ``tests/_official_client*.py``: the backend's
    https port, CA and credential, a home of its own (credential file, upload cache), and
    none of the developer's Rapidata settings or proxies."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RAPIDATA_") and not k.lower().endswith("_proxy")
    }
    env.update(
        INTEROP_PORT=str(port),
        INTEROP_CA=str(ca_pem),
        INTEROP_CLIENT_ID=client_id,
        INTEROP_CLIENT_SECRET=client_secret,
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
    )
    return env


async def _pipe(source: SocketStream, sink: SocketStream) -> None:
    try:
        async for chunk in source:
            await sink.send(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    finally:
        try:
            await sink.send_eof()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass


class RoundRobin:
    """A TCP proxy spreading connections over ``ports`` in turn; ``port`` is where it listens.
    A connection to an upstream that is gone is closed at once."""

    def __init__(self, ports: Sequence[int]) -> None:
        self._next = itertools.cycle(list(ports))
        self.port = 0
        self.connections = 0

    async def _handle(self, client: SocketStream) -> None:
        async with client:
            self.connections += 1
            try:
                upstream = await anyio.connect_tcp("127.0.0.1", next(self._next))
            except OSError:
                return
            async with upstream, anyio.create_task_group() as tg:
                tg.start_soon(_pipe, client, upstream)
                tg.start_soon(_pipe, upstream, client)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[RoundRobin]:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, self._handle)
            yield self
            tg.cancel_scope.cancel()
