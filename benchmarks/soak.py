"""Soak: many SDK clients for a while against a ``serve`` process behind a faulty network.

Run ``python benchmarks/soak.py [--clients 100] [--seconds 60] [--drop 0.05] [--status 0.02]``.

A ``python -m rapidata_async serve`` process (SQLite file in a temporary directory) sits
behind ``_faults.RandomFaults`` (on loopback), which drops ``--drop`` of the connections (half
before the backend sees the request, half after it answered) and answers ``--status`` of the
requests with 503 or 429. ``--clients`` ``AsyncRapidataClient`` instances, one task each, loop
until ``--seconds`` pass over a mix of:

- ``upload``: a classification job definition of 3 datapoints, files (fresh bytes, so they
  are uploaded) or texts;
- ``job``: assign one of the client's definitions to the global audience and read its status;
- ``list``: one page of audiences, job definitions or jobs.

It prints operations and errors surfaced to callers per kind, latency p50/p99, the backend's
peak RSS (``VmHWM``), what the proxy injected, and then (backend stopped) counts every created
definition's datapoints in the database through the store API: each must have exactly the
datapoints the caller sent, no sortIndex twice (``lost``/``duplicated`` must both be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _faults import RandomFaults

from rapidata_async import AsyncRapidataClient, rapidata_config
from rapidata_async.local.store import open_store
from rapidata_async.local.store.base import ANY_OWNER

DATAPOINTS = 3


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    # definition id -> datapoints sent
    definitions: dict[str, int] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_backend(workdir: Path, port: int) -> tuple[subprocess.Popen[str], str, str]:
    log = open(workdir / "backend.log", "w")
    # serve shows no secret on a pipe: make the credential first, on the same database.
    db = workdir / "soak.sqlite3"
    created = subprocess.run(
        [sys.executable, "-m", "rapidata_async", "clients", "create", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    client_id = client_secret = ""
    for line in created.splitlines():
        if line.startswith("client_id:"):
            client_id = line.split(":", 1)[1].strip()
        if line.startswith("client_secret:"):
            client_secret = line.split(":", 1)[1].strip()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rapidata_async",
            "serve",
            "--port",
            str(port),
            "--db",
            str(workdir / "soak.sqlite3"),
            "--pace",
            "realistic",
            "--speed",
            "600",
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    started = False
    for line in proc.stdout:
        if "Press Ctrl-C" in line:
            started = True
            break
    if not started:
        raise RuntimeError(f"the backend did not start; see {workdir / 'backend.log'}")
    return proc, client_id, client_secret


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _one_client(
    number: int, url: str, credentials: tuple[str, str], deadline: float, files: Path, tally: Tally
) -> None:
    rng = random.Random(number)
    mine: list[object] = []
    async with AsyncRapidataClient(
        *credentials, api_url=url, auth_url=url, app_url=url, timeout=30
    ) as client:
        step = 0
        while time.monotonic() < deadline:
            step += 1
            kind = rng.choices(("upload", "job", "list"), weights=(4, 2, 4))[0]
            if kind == "job" and not mine:
                kind = "upload"
            started = time.perf_counter()
            try:
                if kind == "upload":
                    if rng.random() < 0.5:
                        datapoints = []
                        for i in range(DATAPOINTS):
                            path = files / f"c{number}_{step}_{i}.jpg"
                            path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2048))
                            datapoints.append(str(path))
                        data_type = "media"
                    else:
                        datapoints = [f"text {number}.{step}.{i}" for i in range(DATAPOINTS)]
                        data_type = "text"
                    definition = await client.job.create_classification_job_definition(
                        name=f"soak {number}.{step}",
                        instruction="Which?",
                        answer_options=["a", "b"],
                        datapoints=datapoints,
                        data_type=data_type,
                        responses_per_datapoint=1,
                    )
                    tally.definitions[definition.id] = DATAPOINTS
                    mine.append(definition)
                elif kind == "job":
                    audience = await client.audience.get_audience_by_id("global")
                    job = await audience.assign_job(rng.choice(mine))  # type: ignore[arg-type]
                    await job.get_status()
                else:
                    listing = rng.choice(
                        (client.audience.find_audiences, client.job.find_job_definitions)
                    )
                    await listing()
            except Exception as exc:
                status = getattr(exc, "status_code", None)
                label = f"{type(exc).__name__}" + (f" {status}" if status else "")
                tally.errors[f"{kind}: {label}"] += 1
            else:
                tally.latencies[kind].append(time.perf_counter() - started)


async def _count_datapoints(db: Path, expected: dict[str, int]) -> tuple[int, int, int]:
    """(datapoints found, lost, duplicated) over the created definitions."""
    store = open_store(db)
    await store.open()
    found = lost = duplicated = 0
    try:
        for definition_id, sent in expected.items():
            # Unscoped: the count spans every client of the run.
            revision = await store.definitions.revision(definition_id, owner=ANY_OWNER)
            rows = await store.datasets.datapoints(revision.body.dataset_id, owner=ANY_OWNER)
            indices = [row.sort_index for row in rows]
            found += len(rows)
            duplicated += len(indices) - len(set(indices))
            lost += max(0, sent - len(set(indices)))
    finally:
        await store.close()
    return found, lost, duplicated


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="rapidata-soak-") as tmp:
        workdir = Path(tmp)
        rapidata_config.upload.cacheLocation = workdir / "upload-cache"
        rapidata_config.logging.silent_mode = True
        files = workdir / "files"
        files.mkdir()
        port = _free_port()
        proc, client_id, client_secret = await anyio.to_thread.run_sync(
            _start_backend, workdir, port
        )
        tally = Tally()
        try:
            async with RandomFaults(
                f"http://127.0.0.1:{port}", drop=args.drop, status=args.status, seed=args.seed
            ) as proxy:
                deadline = time.monotonic() + args.seconds
                started = time.monotonic()
                async with anyio.create_task_group() as tg:
                    for number in range(args.clients):
                        tg.start_soon(
                            _one_client,
                            number,
                            proxy.url,
                            (client_id, client_secret),
                            deadline,
                            files,
                            tally,
                        )
                elapsed = time.monotonic() - started
                injected = dict(proxy.counts)
            peak = _peak_rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            await anyio.to_thread.run_sync(proc.wait, 30)
        found, lost, duplicated = await _count_datapoints(
            workdir / "soak.sqlite3", tally.definitions
        )
        log = (workdir / "backend.log").read_text()
        crashes = log.count("unhandled error")

    all_latencies = [v for values in tally.latencies.values() for v in values]
    operations = len(all_latencies)
    errors = sum(tally.errors.values())
    print(f"soak: {args.clients} clients, {elapsed:.1f} s, faults {injected}")
    print(f"  operations ok: {operations} ({operations / elapsed:.1f}/s), errors: {errors}")
    for kind, values in sorted(tally.latencies.items()):
        print(
            f"  {kind:7s} {len(values):6d} ok  p50 {_percentile(values, 50) * 1000:7.1f} ms"
            f"  p99 {_percentile(values, 99) * 1000:7.1f} ms"
        )
    print(
        f"  all     p50 {_percentile(all_latencies, 50) * 1000:.1f} ms"
        f"  p99 {_percentile(all_latencies, 99) * 1000:.1f} ms"
    )
    for name, count in tally.errors.most_common():
        print(f"  error {name}: {count}")
    print(f"  backend peak RSS: {peak:.0f} MB, unhandled errors (500s) in its log: {crashes}")
    print(
        f"  datapoints: {len(tally.definitions)} definitions, {found} datapoints stored, "
        f"lost {lost}, duplicated {duplicated}"
    )
    return 1 if lost or duplicated or crashes else 0


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--drop", type=float, default=0.05, help="share of dropped connections")
    parser.add_argument("--status", type=float, default=0.02, help="share answered 503/429")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(anyio.run(main, parse()))
