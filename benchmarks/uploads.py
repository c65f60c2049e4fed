"""Upload throughput and memory: this SDK vs the official client vs a raw aiohttp ceiling.

Run ``python benchmarks/uploads.py [--workloads W1,W2,W3] [--quick] [--repeat N] [--profile]``.

Every client run gets a fresh local backend (https, in-memory, certificate from a throwaway
trustme CA) in its own process, so no client works against a database another one filled; the
client runs in its own process against it. With ``--repeat N`` the client order rotates per
repeat, so no client always runs first (or last, on a warmer machine):

- ``ours``: ``AsyncRapidataClient`` (``create_*_job_definition``);
- ``official``: ``rapidata==3.27.1`` pointed at ``environment="localhost:<port>"`` (this process
  alone resolves ``*.localhost`` to 127.0.0.1);
- ``raw``: plain aiohttp sending the same HTTP requests with no SDK logic: token, dataset,
  asset uploads (multipart files, or URL batches polled every 0.5 s), datapoints, definition.

All three keep ``--concurrency`` (default 25) requests in flight. Workloads:

- W1: 2,000 local files of ~100 KB into a classification job definition;
- W2: 20,000 URL compare pairs (40,000 URLs, recorded by the backend, not fetched) into a
  compare job definition;
- W3: 500 files of 2 MB (1 GB) into a classification job definition: peak RSS.

After W1 our client runs W1 again with the same upload cache against the same backend: it
should upload no file.
``--quick`` shrinks the workloads to finish in well under a minute.

For every run it prints datapoints/s (timed around the ``create_*`` call, the raw client
around the same requests), the ratios to the official client and to the raw ceiling, the peak
RSS of the client process (``getrusage`` ``ru_maxrss``), CPU use of the client and of the
backend during the run, and the requests the backend counted (``GET /_local/stats``). A client
that crashes or lands no datapoint is reported as FAILED with its error, never as a rate of 0,
and makes the exit status 1.
Data files are generated once under ``benchmarks/_data/`` (gitignored). ``--profile`` runs our
client under pyinstrument (if installed) and writes the reports to ``benchmarks/_data/profiles``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
RESULT_MARK = "BENCH-RESULT "
CLIENTS = ("raw", "ours", "official")
INSTRUCTION_CLASSIFY = "What animal is in the image?"
INSTRUCTION_COMPARE = "Which image matches the description better?"
CATEGORIES = ["Cat", "Dog"]
URL_BATCH = 1000
POLL_INTERVAL = 0.5
CHILD_TIMEOUT = 3600


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str  # "files" (classification) or "urls" (compare pairs)
    count: int
    file_size: int = 0
    what: str = ""


FULL = {
    "W1": Workload("W1", "files", 2000, 100_000, "2,000 files x 100 KB, classification"),
    "W2": Workload("W2", "urls", 20_000, 0, "20,000 URL pairs, compare"),
    "W3": Workload("W3", "files", 500, 2 * 1024 * 1024, "500 files x 2 MB, classification"),
}
QUICK = {
    "W1": Workload("W1", "files", 200, 100_000, "200 files x 100 KB, classification"),
    "W2": Workload("W2", "urls", 2000, 0, "2,000 URL pairs, compare"),
    "W3": Workload("W3", "files", 50, 2 * 1024 * 1024, "50 files x 2 MB, classification"),
}


# -- data -------------------------------------------------------------------------------------
def data_files(w: Workload) -> list[Path]:
    """The workload's files, written once (JPEG magic + random bytes, all distinct)."""
    folder = DATA / f"{w.name.lower()}_{w.count}x{w.file_size}"
    paths = [folder / f"img_{i:05d}.jpg" for i in range(w.count)]
    marker = folder / ".complete"
    if marker.exists():
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating {w.count} files of {w.file_size} bytes in {folder} ...", flush=True)
    for path in paths:
        path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(w.file_size - 4))
    marker.write_text("ok")
    return paths


def url_pairs(w: Workload, run: str) -> list[list[str]]:
    # Distinct per run so nothing carries over between clients; recorded, never fetched.
    return [
        [f"https://cdn.example.com/{run}/{i}_a.jpg", f"https://cdn.example.com/{run}/{i}_b.jpg"]
        for i in range(w.count)
    ]


# -- helpers shared by the child processes -------------------------------------------------------
def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Measure:
    """Wall time, CPU time and RSS around the timed section of a client child."""

    started: float = 0.0
    cpu: float = 0.0
    rss_before_kb: int = 0
    result: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        self.rss_before_kb = rss_kb()
        self.cpu = cpu_seconds()
        self.started = time.perf_counter()

    def stop(self, datapoints: int, failed: int, error: str | None = None) -> None:
        seconds = time.perf_counter() - self.started
        self.result = {
            "datapoints": datapoints,
            "failed": failed,
            "error": error,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds() - self.cpu,
            "rss_before_kb": self.rss_before_kb,
            "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }

    def emit(self) -> None:
        print(RESULT_MARK + json.dumps(self.result), flush=True)


# -- child: the backend --------------------------------------------------------------------------
def serve(ca_path: str) -> None:
    import anyio
    import trustme

    sys.path.insert(0, str(ROOT))
    from rapidata_async.local import LocalBackend

    ca = trustme.CA()
    cert = ca.issue_cert(
        "localhost", "api.localhost", "auth.localhost", "app.localhost", "127.0.0.1"
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ca.cert_pem.write_to_path(ca_path)

    async def main() -> None:
        async with LocalBackend(ssl=ctx) as backend:
            info = {
                "url": backend.url,
                "client_id": backend.client_id,
                "client_secret": backend.client_secret,
            }
            print(json.dumps(info), flush=True)
            await anyio.sleep_forever()

    anyio.run(main)


# -- child: our SDK ------------------------------------------------------------------------------
def run_ours(args: argparse.Namespace, w: Workload, items: list[Any]) -> Measure:
    import anyio

    sys.path.insert(0, str(ROOT))
    from rapidata_async import AsyncRapidataClient, FailedUploadException, rapidata_config

    rapidata_config.upload.maxWorkers = args.concurrency
    rapidata_config.upload.cacheLocation = args.cache_dir
    rapidata_config.logging.silent_mode = True
    measure = Measure()
    profiler = None
    if args.profile:
        try:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled", interval=0.0005)
        except ImportError:
            print("pyinstrument is not installed; running without --profile", file=sys.stderr)

    async def main() -> None:
        async with AsyncRapidataClient(
            args.client_id,
            args.client_secret,
            api_url=args.url,
            auth_url=args.url,
            app_url=args.url,
            cert_path=args.ca,
        ) as client:
            failed = 0
            if profiler is not None:
                profiler.start()
            measure.start()
            try:
                if w.kind == "urls":
                    await client.job.create_compare_job_definition(
                        name=f"bench {w.name} ours",
                        instruction=INSTRUCTION_COMPARE,
                        datapoints=items,
                    )
                else:
                    await client.job.create_classification_job_definition(
                        name=f"bench {w.name} ours",
                        instruction=INSTRUCTION_CLASSIFY,
                        answer_options=CATEGORIES,
                        datapoints=[str(p) for p in items],
                    )
            except FailedUploadException as exc:
                failed = len(exc.failed_uploads)
            measure.stop(len(items) - failed, failed)
            if profiler is not None:
                profiler.stop()
                out = DATA / "profiles" / f"{w.name}_ours.txt"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(profiler.output_text(unicode=True, show_all=False))
                print(f"profile written to {out}", file=sys.stderr)

    anyio.run(main)
    return measure


# -- child: the official client ------------------------------------------------------------------
def _patch_resolution() -> None:
    """``*.localhost`` -> 127.0.0.1 in this process; every other name fails at once, so the
    official client's online checks cannot hang."""
    import ipaddress
    import socket

    real = socket.getaddrinfo

    def offline(host: Any, port: Any, *rest: Any, **kw: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None:
            return real(host, port, *rest, **kw)
        bare = name.strip("[]").rstrip(".").lower()
        if bare == "localhost" or bare.endswith(".localhost"):
            return real("127.0.0.1", port, socket.AF_INET, *rest[1:], **kw)
        try:
            ipaddress.ip_address(bare)
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: offline benchmark") from None
        return real(host, port, *rest, **kw)

    socket.getaddrinfo = offline  # type: ignore[assignment]


def run_official(args: argparse.Namespace, w: Workload, items: list[Any]) -> Measure:
    os.environ["RAPIDATA_DISABLE_OTLP"] = "1"
    _patch_resolution()
    import rapidata
    from rapidata import rapidata_config

    rapidata_config.logging.enable_otlp = False
    rapidata_config.logging.silent_mode = True
    rapidata_config.upload.maxWorkers = args.concurrency
    port = int(args.url.rsplit(":", 1)[1])
    client = rapidata.RapidataClient(
        client_id=args.client_id,
        client_secret=args.client_secret,
        environment=f"localhost:{port}",
        cert_path=args.ca,
    )
    measure = Measure()
    failed = 0
    error = None
    measure.start()
    try:
        if w.kind == "urls":
            client.job.create_compare_job_definition(
                name=f"bench {w.name} official",
                instruction=INSTRUCTION_COMPARE,
                datapoints=items,
            )
        else:
            client.job.create_classification_job_definition(
                name=f"bench {w.name} official",
                instruction=INSTRUCTION_CLASSIFY,
                answer_options=CATEGORIES,
                datapoints=[str(p) for p in items],
            )
    except Exception as exc:  # FailedUploadException of the official client
        failed = len(getattr(exc, "failed_uploads", None) or []) or len(items)
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
        print(f"official client raised {error}", file=sys.stderr)
    measure.stop(len(items) - failed, failed, error)
    return measure


# -- child: raw aiohttp ceiling ------------------------------------------------------------------
def _existing(name: str) -> dict[str, str]:
    return {"_t": "ExistingAssetInput", "name": name}


def _classify_point(name: str, index: int) -> dict[str, Any]:
    options = [{"label": c, "value": c} for c in CATEGORIES]
    return {
        "segments": [
            {"key": "asset", "kind": "Asset", "asset": _existing(name)},
            {"key": "answer_options", "kind": "OptionList", "options": options},
        ],
        "sortIndex": index,
    }


def _compare_point(a: str, b: str, index: int) -> dict[str, Any]:
    pair = {"_t": "MultiAssetInput", "assets": [_existing(a), _existing(b)]}
    return {"segments": [{"key": "asset", "kind": "Asset", "asset": pair}], "sortIndex": index}


CLASSIFY_SCHEMA = [
    {"key": "asset", "label": "Asset", "kind": "Asset", "required": True},
    {"key": "context", "label": "Context", "kind": "Text", "required": False, "maxLength": 400},
    {"key": "context_asset", "label": "Context asset", "kind": "Asset", "required": False},
    {"key": "answer_options", "label": "Answer options", "kind": "OptionList", "required": True},
]


def run_raw(args: argparse.Namespace, w: Workload, items: list[Any]) -> Measure:
    import aiohttp
    import anyio

    measure = Measure()

    async def main() -> None:
        ssl_ctx = ssl.create_default_context(cafile=args.ca)
        connector = aiohttp.TCPConnector(ssl=ssl_ctx, limit=args.concurrency * 2)
        async with aiohttp.ClientSession(args.url, connector=connector) as session:
            credential = f"{args.client_id}:{args.client_secret}".encode()
            async with session.post(
                "/connect/token",
                data={"grant_type": "client_credentials", "scope": "openid email api"},
                headers={"Authorization": f"Basic {base64.b64encode(credential).decode()}"},
            ) as response:
                response.raise_for_status()
                token = (await response.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}

            async def call(method: str, path: str, **kw: Any) -> Any:
                async with session.request(method, path, headers=headers, **kw) as response:
                    if response.status >= 400:
                        raise RuntimeError(f"{method} {path}: {await response.text()}")
                    return await response.json() if response.status != 204 else None

            measure.start()
            name = f"bench {w.name} raw"
            if w.kind == "urls":
                dataset = await call("POST", "/dataset", json={"name": f"{name}_dataset"})
                dataset_id = dataset["datasetId"]
                await _raw_urls(call, dataset_id, items, args.concurrency)
                rapid = {
                    "_t": "Compare",
                    "asset": {"segment": "asset"},
                    "criteria": {"literal": INSTRUCTION_COMPARE},
                }
            else:
                dataset = await call(
                    "POST", "/dataset", json={"name": f"{name}_dataset", "schema": CLASSIFY_SCHEMA}
                )
                dataset_id = dataset["datasetId"]
                await _raw_files(session, call, dataset_id, items, args.concurrency)
                rapid = {
                    "_t": "Classify",
                    "asset": {"segment": "asset"},
                    "title": {"literal": INSTRUCTION_CLASSIFY},
                    "categories": {"segment": "answer_options"},
                }
            await call(
                "POST",
                "/job/definition",
                json={
                    "definitionName": name,
                    "workflow": {"_t": "SimpleWorkflow", "rapid": rapid},
                    "referee": {"_t": "NaiveReferee", "totalVotes": 10},
                    "datasetId": dataset_id,
                },
            )
            measure.stop(len(items), 0)

    anyio.run(main)
    return measure


async def _raw_files(
    session: Any, call: Any, dataset_id: str, paths: list[Path], concurrency: int
) -> None:
    import aiohttp
    import anyio

    todo = iter(enumerate(paths))

    async def worker() -> None:
        for index, path in todo:
            with open(path, "rb") as f:  # aiohttp streams file objects in chunks
                form = aiohttp.FormData()
                form.add_field("file", f, filename=path.name, content_type="image/jpeg")
                uploaded = await call("POST", "/asset/file", data=form)
            await call(
                "POST",
                f"/dataset/{dataset_id}/datapoint",
                json=_classify_point(uploaded["fileName"], index),
            )

    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)


async def _raw_urls(call: Any, dataset_id: str, pairs: list[list[str]], concurrency: int) -> None:
    """Batches submitted one after another while a poller collects finished batches; a pair
    goes to the datapoint workers as soon as both its URLs have a file name."""
    import anyio

    urls = list(dict.fromkeys(u for pair in pairs for u in pair))
    pairs_of: dict[str, list[int]] = {}
    for index, pair in enumerate(pairs):
        for url in pair:
            pairs_of.setdefault(url, []).append(index)
    names: dict[str, str] = {}
    correlation_id = str(uuid.uuid4())
    submitted: list[str] = []
    submission_done = anyio.Event()
    first_submitted = anyio.Event()
    send, receive = anyio.create_memory_object_stream[int](len(pairs))

    async def submit() -> None:
        for start in range(0, len(urls), URL_BATCH):
            body = {"urls": urls[start : start + URL_BATCH], "correlationId": correlation_id}
            out = await call("POST", "/asset/batch-upload", json=body)
            submitted.append(out["batchUploadId"])
            first_submitted.set()
        submission_done.set()

    async def collect() -> None:
        processed: set[str] = set()
        await first_submitted.wait()
        async with send:
            while True:
                finished = submission_done.is_set()
                if submitted:
                    status = await call(
                        "GET",
                        "/asset/batch-upload/status",
                        params={"correlationId": correlation_id},
                    )
                    for batch_id in status["completedBatches"]:
                        if batch_id in processed:
                            continue
                        processed.add(batch_id)
                        batch = await call("GET", f"/asset/batch-upload/{batch_id}")
                        for item in batch["items"]:
                            names[item["url"]] = item["fileName"]
                            for index in pairs_of[item["url"]]:
                                a, b = pairs[index]
                                if a in names and b in names:
                                    send.send_nowait(index)
                if finished and processed.issuperset(submitted):
                    return
                await anyio.sleep(POLL_INTERVAL)

    async def worker(stream: Any) -> None:
        async with stream:
            async for index in stream:
                a, b = pairs[index]
                await call(
                    "POST",
                    f"/dataset/{dataset_id}/datapoint",
                    json=_compare_point(names[a], names[b], index),
                )

    async with anyio.create_task_group() as tg:
        tg.start_soon(submit)
        tg.start_soon(collect)
        async with receive:
            for _ in range(concurrency):
                tg.start_soon(worker, receive.clone())


def client_main(args: argparse.Namespace) -> None:
    w = (QUICK if args.quick else FULL)[args.workload]
    items: list[Any] = url_pairs(w, args.run_id) if w.kind == "urls" else data_files(w)
    runner = {"ours": run_ours, "official": run_official, "raw": run_raw}[args.client]
    measure = runner(args, w, items)
    measure.emit()


# -- parent --------------------------------------------------------------------------------------
class Backend:
    """The backend child process; ``stats()`` reads its request counters."""

    def __init__(self, workdir: Path) -> None:
        self.ca = str(workdir / "ca.pem")
        self.log = open(workdir / "backend.log", "a")  # one backend per run; closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "_serve", "--ca-out", self.ca],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the backend did not start; see {workdir / 'backend.log'}")
        info = json.loads(line)
        self.url: str = info["url"]
        self.client_id: str = info["client_id"]
        self.client_secret: str = info["client_secret"]
        self._ssl = ssl.create_default_context(cafile=self.ca)

    def stats(self) -> dict[str, int]:
        form = urllib.parse.urlencode(
            {"client_id": self.client_id, "client_secret": self.client_secret}
        ).encode()
        with urllib.request.urlopen(f"{self.url}/connect/token", form, context=self._ssl) as r:
            token = json.loads(r.read())["access_token"]
        request = urllib.request.Request(
            f"{self.url}/_local/stats", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, context=self._ssl) as r:
            return dict(json.loads(r.read())["requests"])

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@dataclass
class Run:
    workload: str
    client: str
    label: str
    result: dict[str, Any]
    backend_cpu: float
    requests: dict[str, int]

    @property
    def error(self) -> str | None:
        """Why the run does not count: the client crashed, raised, or landed nothing."""
        if self.result.get("error"):
            return str(self.result["error"])
        if not self.result.get("datapoints") or self.result.get("seconds", 0) <= 0:
            return "no datapoint landed"
        return None

    @property
    def rate(self) -> float | None:
        """Datapoints per second, or None for a failed run (never a rate of 0 to divide by)."""
        if self.error is not None:
            return None
        return float(self.result["datapoints"]) / self.result["seconds"]


def _ratio(a: Run | None, b: Run | None) -> float | None:
    if a is None or b is None or a.rate is None or b.rate is None:
        return None
    return a.rate / b.rate


FAILED_RESULT = {
    "datapoints": 0,
    "failed": 0,
    "seconds": 0.0,
    "cpu_seconds": 0.0,
    "rss_before_kb": 0,
    "rss_peak_kb": 0,
}


def run_client(
    backend: Backend,
    workdir: Path,
    w: Workload,
    client: str,
    args: argparse.Namespace,
    *,
    label: str | None = None,
    cache_dir: Path | None = None,
) -> Run:
    label = label or client
    cache = cache_dir or Path(tempfile.mkdtemp(prefix=f"cache-{w.name}-{client}-", dir=workdir))
    env = dict(os.environ)
    home = Path(tempfile.mkdtemp(prefix=f"home-{w.name}-{client}-", dir=workdir))
    env["HOME"] = str(home)  # the official client's disk cache lives under ~/.cache
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        __file__,
        "_client",
        "--client",
        client,
        "--workload",
        w.name,
        "--url",
        backend.url,
        "--ca",
        backend.ca,
        "--client-id",
        backend.client_id,
        "--client-secret",
        backend.client_secret,
        "--concurrency",
        str(args.concurrency),
        "--cache-dir",
        str(cache),
        "--run-id",
        f"{w.name}-{label}-{uuid.uuid4().hex[:8]}",
    ]
    if args.quick:
        command.append("--quick")
    if args.profile and client == "ours":
        command.append("--profile")
    before, cpu_before = backend.stats(), backend.cpu_seconds()
    log_path = workdir / f"{w.name}-{label}.log"
    with open(log_path, "w") as log:
        done = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=log, text=True, env=env, timeout=CHILD_TIMEOUT
        )
    cpu = backend.cpu_seconds() - cpu_before
    after = backend.stats()
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    requests = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    requests = {k: v for k, v in requests.items() if v and not k.endswith("/_local/stats")}
    if done.returncode != 0 or not lines:
        tail = log_path.read_text()[-3000:]
        print(f"  {w.name} {label:<16} FAILED (exit {done.returncode}):\n{tail}", flush=True)
        error = f"exit {done.returncode}, see {log_path}"
        return Run(w.name, client, label, {**FAILED_RESULT, "error": error}, cpu, requests)
    run = Run(w.name, client, label, json.loads(lines[-1][len(RESULT_MARK) :]), cpu, requests)
    if not cache_dir:
        shutil.rmtree(home, ignore_errors=True)
    if run.rate is None:
        print(f"  {w.name} {label:<16} FAILED: {run.error}", flush=True)
        return run
    print(
        f"  {w.name} {label:<16} {run.rate:9.1f} dp/s  {run.result['seconds']:7.2f} s  "
        f"peak RSS {run.result['rss_peak_kb'] / 1024:6.0f} MB  "
        f"files uploaded {requests.get('POST /asset/file', 0)}",
        flush=True,
    )
    return run


def fmt_ratio(value: float | None) -> str:
    return f"{value:5.2f}x" if value is not None else "     -"


def report(runs: list[Run], workloads: dict[str, Workload]) -> None:
    print()
    header = (
        f"{'workload':<9}{'client':<17}{'datapoints':>11}{'failed':>7}{'seconds':>9}"
        f"{'dp/s':>9}{'vs official':>12}{'vs raw':>8}{'peak RSS':>10}{'RSS at start':>13}"
        f"{'client CPU':>11}"
        f"{'backend CPU':>12}{'files up':>9}"
    )
    print(header)
    print("-" * len(header))
    by_key: dict[tuple[str, str], Run] = {}
    for run in runs:  # the best successful run counts; a failure only if all failed
        key = (run.workload, run.label)
        best = by_key.get(key)
        if best is None or (run.rate or -1.0) > (best.rate or -1.0):
            by_key[key] = run
    for (name, label), run in by_key.items():
        official = by_key.get((name, "official"))
        raw = by_key.get((name, "raw"))
        r = run.result
        seconds = r["seconds"]
        if run.rate is None:
            print(f"{name:<9}{label:<17}FAILED: {run.error}")
            continue
        print(
            f"{name:<9}{label:<17}{r['datapoints']:>11}{r['failed']:>7}{seconds:>9.2f}"
            f"{run.rate:>9.1f}{fmt_ratio(_ratio(run, official)):>12}"
            f"{fmt_ratio(_ratio(run, raw)):>8}"
            f"{r['rss_peak_kb'] / 1024:>8.0f}MB"
            f"{r['rss_before_kb'] / 1024:>11.0f}MB"
            f"{100 * r['cpu_seconds'] / seconds:>10.0f}%"
            f"{100 * run.backend_cpu / seconds:>11.0f}%"
            f"{run.requests.get('POST /asset/file', 0):>9}"
        )
    print()
    print("targets:")
    for name in ("W1", "W2"):
        ours, official, raw = (by_key.get((name, c)) for c in ("ours", "official", "raw"))
        for other, target, what in ((official, 5.0, "5x official"), (raw, 0.8, "0.8 of raw")):
            if ours is None or other is None:
                continue
            ratio = _ratio(ours, other)
            if ratio is None:
                failed = ", ".join(f"{x.label} FAILED" for x in (ours, other) if x.rate is None)
                print(f"  {name} ours >= {what}: no comparison ({failed})  MISS")
            else:
                print(f"  {name} ours >= {what}: {ratio:.2f}  {_ok(ratio >= target)}")
    w3 = by_key.get(("W3", "ours"))
    if w3 and w3.rate is not None:
        mb = w3.result["rss_peak_kb"] / 1024
        gb = workloads["W3"].count * workloads["W3"].file_size / 1e9
        print(f"  W3 ours peak RSS <= 200 MB ({gb:.2f} GB of files): {mb:.0f} MB  {_ok(mb <= 200)}")
    again = by_key.get(("W1", "ours (2nd run)"))
    if again and again.rate is not None:
        files = again.requests.get("POST /asset/file", 0)
        print(f"  W1 second run uploads zero files: {files} uploaded  {_ok(files == 0)}")
    print()
    print("requests counted by the backend per run:")
    for (name, label), run in by_key.items():
        mix = ", ".join(f"{k} x{v}" for k, v in sorted(run.requests.items()))
        print(f"  {name} {label}: {mix}")


def _ok(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def parent_main(args: argparse.Namespace) -> int:
    table = QUICK if args.quick else FULL
    names = [n.strip().upper() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in table]
    if unknown:
        print(f"unknown workloads: {', '.join(unknown)} (use W1, W2, W3)", file=sys.stderr)
        return 2
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for name in names:
        if table[name].kind == "files":
            data_files(table[name])
    DATA.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=DATA))
    print(f"backend and client logs in {workdir}; concurrency {args.concurrency}", flush=True)
    runs: list[Run] = []
    for name in names:
        w = table[name]
        print(f"{name}: {w.what}", flush=True)
        for repeat in range(args.repeat):
            shift = repeat % len(clients)
            for client in clients[shift:] + clients[:shift]:
                runs.extend(_fresh_backend_runs(workdir, w, client, args))
    report(runs, table)
    if args.json:
        Path(args.json).write_text(
            json.dumps([run.__dict__ for run in runs], indent=2, default=str)
        )
    if not args.keep:
        for path in _cleanup(workdir):
            shutil.rmtree(path, ignore_errors=True)
    return 1 if any(run.rate is None for run in runs) else 0


def _fresh_backend_runs(
    workdir: Path, w: Workload, client: str, args: argparse.Namespace
) -> list[Run]:
    """One client on its own new backend (our W1 twice: the 2nd run must hit its cache)."""
    backend = Backend(workdir)
    try:
        if client == "ours" and w.name == "W1":
            cache = Path(tempfile.mkdtemp(prefix="cache-W1-ours-", dir=workdir))
            first = run_client(backend, workdir, w, client, args, cache_dir=cache)
            again = run_client(
                backend, workdir, w, client, args, label="ours (2nd run)", cache_dir=cache
            )
            return [first, again]
        return [run_client(backend, workdir, w, client, args)]
    finally:
        backend.stop()


def _cleanup(workdir: Path) -> Iterator[Path]:
    for path in workdir.iterdir():
        if path.is_dir():
            yield path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve_p = sub.add_parser("_serve", help=argparse.SUPPRESS)
    serve_p.add_argument("--ca-out", required=True)
    child = sub.add_parser("_client", help=argparse.SUPPRESS)
    child.add_argument("--client", choices=CLIENTS, required=True)
    child.add_argument("--workload", required=True)
    for name in ("--url", "--ca", "--client-id", "--client-secret", "--cache-dir", "--run-id"):
        child.add_argument(name, required=True)
    child.add_argument("--concurrency", type=int, default=25)
    child.add_argument("--quick", action="store_true")
    child.add_argument("--profile", action="store_true")
    parser.add_argument("--workloads", default="W1,W2,W3")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--quick", action="store_true", help="small sizes, < 1 minute")
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=1, help="runs per client; best counts")
    parser.add_argument("--profile", action="store_true", help="pyinstrument our client")
    parser.add_argument("--json", help="also write every run as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep caches and temp homes")
    args = parser.parse_args(argv)
    if args.command == "_serve":
        serve(args.ca_out)
        return 0
    if args.command == "_client":
        client_main(args)
        return 0
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
