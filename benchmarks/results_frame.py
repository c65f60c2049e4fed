"""Results document -> per-response frame: rapidata_async vs. the official client.

Builds a compare results document of 20,000 datapoints x 10 responses with the local backend's
builder, then times, in the same process:

* ours: ``read_results(doc).to_polars(split_details=True)`` (decode + frame),
* ours as pandas: ``read_results(doc).to_pandas(split_details=True)``, the like-for-like
  comparison with the official client (same output type),
* ours with msgspec alone (what ``read_results`` does without pyarrow): its frame must equal
  the first, and
* official: ``RapidataResults(json.loads(doc)).to_pandas(split_details=True)`` from the
  installed ``rapidata`` package (parse + frame).

It also checks that the official client accepts our document (our format's
interop check) and that the frames have one row per response. ``--processes N`` runs it all in N
fresh interpreters and reports medians, with the load average: the speed-up against the
official client in the same process is the figure that counts on a busy machine.

``--memory`` measures instead the peak memory of converting a document of
``--memory-responses`` (1,000,000) responses, in a fresh process per path: the growth of the
peak resident set over the process with the document read (Linux ``/proc``).

    python benchmarks/results_frame.py [--datapoints 20000] [--responses 10] [--repeat 3]
                                       [--processes 5] [--memory]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# `python benchmarks/results_frame.py` from a checkout: make the package importable uninstalled.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidata_async.local._results import ResultItem, Vote, build_results_document
from rapidata_async.results import read_results
from rapidata_async.results._types import decode_document

_COUNTRIES = ["DE", "US", "BR", "IN", "JP", "FR", "NG", "PL", "BY", "LY"]
_LANGUAGES = ["de", "en", "pt", "hi", "ja", "fr", "en", "pl", "ru", "ar"]
_AGES = ["0-17", "18-29", "30-39", "40-49", "50-64", "65+", "Unknown"]
_GENDERS = ["Female", "Male", "Other", "Unknown"]
_OCCUPATIONS = ["Healthcare", "Education", "Student", "Other Employment", "Unknown"]


def make_items(datapoints: int, responses: int, seed: int = 0) -> list[ResultItem]:
    rng = random.Random(seed)
    items = []
    for i in range(datapoints):
        a, b = f"model-a_{i}.png", f"model-b_{i}.png"
        votes = []
        for _ in range(responses):
            c = rng.randrange(len(_COUNTRIES))
            votes.append(
                Vote(
                    answer=a if rng.random() < 0.6 else b,
                    user_score=rng.uniform(0.2, 0.95),
                    country=_COUNTRIES[c],
                    language=_LANGUAGES[c],
                    age=rng.choice(_AGES),
                    gender=rng.choice(_GENDERS),
                    occupation=rng.choice(_OCCUPATIONS),
                )
            )
        items.append(
            ResultItem(
                sort_index=i,
                options=[a, b],
                votes=votes,
                context=f"prompt number {i}",
                asset_urls={a: f"https://assets.example/{a}", b: f"https://assets.example/{b}"},
            )
        )
    return items


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None  # free the previous frame outside the timed region
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def time_pipelines(args: argparse.Namespace) -> dict[str, Any]:
    """One run of every pipeline on one document, best of ``args.repeat`` each, checked."""
    try:
        from rapidata import RapidataResults
    except ImportError as exc:
        raise SystemExit(f"the official client is needed: pip install rapidata ({exc})") from exc

    items = make_items(args.datapoints, args.responses)
    start = time.perf_counter()
    doc = build_results_document("Compare", items, early_stopping=False, index_identifiers=None)
    build_s = time.perf_counter() - start
    rows = args.datapoints * args.responses
    # The builder's input is not part of either pipeline; left alive, its 200,000 objects
    # would only make every garbage collection during the timed runs slower.
    del items
    gc.collect()

    ours_s, ours = best_of(args.repeat, lambda: read_results(doc).to_polars(split_details=True))
    ours_pd_s, ours_pd = best_of(
        args.repeat, lambda: read_results(doc).to_pandas(split_details=True)
    )
    # msgspec alone: what read_results does without pyarrow (or for small documents).
    plain_s, plain = best_of(
        args.repeat, lambda: decode_document(doc, arrow=False).to_polars(split_details=True)
    )
    theirs_s, theirs = best_of(
        args.repeat, lambda: RapidataResults(json.loads(doc)).to_pandas(split_details=True)
    )

    # Interop: the official client must take our document without errors and see every
    # response; its non-split frame must find both assets of every datapoint.
    official_flat = RapidataResults(json.loads(doc)).to_pandas()
    assert len(theirs) == rows, (len(theirs), rows)
    assert len(ours) == rows, (len(ours), rows)
    assert len(ours_pd) == rows, (len(ours_pd), rows)
    assert ours.equals(plain), "the pyarrow and msgspec-only frames differ"
    assert len(official_flat) == args.datapoints
    assert {"assetA", "assetB", "A_aggregatedResults", "B_summedUserScores"} <= set(
        official_flat.columns
    ), list(official_flat.columns)
    assert (
        official_flat["assetA"].to_list() == ours["asset_a"].unique(maintain_order=True).to_list()
    )
    return {
        "megabytes": len(doc) / 1e6,
        "build_s": build_s,
        "ours_s": ours_s,
        "ours_pd_s": ours_pd_s,
        "plain_s": plain_s,
        "theirs_s": theirs_s,
        "rows": rows,
        "official_shapes": (theirs.shape, official_flat.shape),
    }


PIPELINES = (
    ("ours_s", "rapidata_async  read_results(doc).to_polars(split_details=True)"),
    ("ours_pd_s", "rapidata_async  read_results(doc).to_pandas(split_details=True)"),
    ("plain_s", "rapidata_async  the same .to_polars(True), msgspec alone"),
    ("theirs_s", "rapidata 3.27.1 RapidataResults(json.loads(doc)).to_pandas(True)"),
)


def print_timings(args: argparse.Namespace, runs: list[dict[str, Any]]) -> None:
    """Each pipeline's time and its speed-up against the official client: the run's own, or
    with several processes the medians (of the per-process speed-ups, each from one run)."""
    first = runs[0]
    several = len(runs) > 1
    print(
        f"document: {args.datapoints:,} datapoints x {args.responses} responses, "
        f"{first['megabytes']:.1f} MB, built in {first['build_s']:.2f} s"
    )
    label = f"best of {args.repeat}" + (f", median of {len(runs)} processes" if several else "")
    print(f"{'pipeline':<62} {label:>34} {'vs official':>12}")
    for key, name in PIPELINES:
        seconds = statistics.median(r[key] for r in runs)
        ratio = statistics.median(r["theirs_s"] / r[key] for r in runs)
        spread = (
            f" ({min(r[key] for r in runs):.3f}-{max(r[key] for r in runs):.3f})" if several else ""
        )
        print(f"{name:<62} {spread:>24} {seconds:>8.3f}s {ratio:>11.1f}x")
    print("target: read_results(doc).to_polars(split_details=True) >= 10x the official client")
    theirs_shape, flat_shape = first["official_shapes"]
    print(f"official to_pandas accepted our document: split {theirs_shape}, flat {flat_shape}")


def in_processes(args: argparse.Namespace) -> list[dict[str, Any]]:
    """``time_pipelines`` in ``args.processes`` fresh interpreters, one after the other."""
    command = [
        sys.executable,
        __file__,
        "--child",
        f"--datapoints={args.datapoints}",
        f"--responses={args.responses}",
        f"--repeat={args.repeat}",
    ]
    runs = []
    for _ in range(args.processes):
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


def measure_memory(args: argparse.Namespace) -> None:
    """Peak memory of ``read_results(doc).to_polars(split_details=True)`` on a document of
    ``args.memory_responses`` responses, in fresh processes (with pyarrow where installed, and
    msgspec alone), as the growth of the peak resident set over the document already read."""
    datapoints = args.memory_responses // args.responses
    doc = build_results_document(
        "Compare",
        make_items(datapoints, args.responses),
        early_stopping=False,
        index_identifiers=None,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.json"
        path.write_bytes(doc)
        del doc
        size = path.stat().st_size
        print(
            f"document: {datapoints:,} datapoints x {args.responses} responses, {size / 1e6:.1f} MB"
        )
        print(f"{'pipeline':<58} {'peak growth':>12} {'x document':>11}")
        for arrow, name in (
            ("auto", "read_results(doc).to_polars(split_details=True)"),
            ("off", "the same, msgspec alone"),
        ):
            command = [sys.executable, __file__, "--memory-child", str(path), arrow]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            grown = int(done.stdout.strip().splitlines()[-1])
            print(f"{name:<58} {grown / 1e6:>9.0f} MB {grown / size:>10.2f}x")
    print("target: with pyarrow installed, peak growth <= 3x the document")


def _resident(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def memory_child(path: str, arrow: str) -> None:
    """Print by how many bytes converting ``path`` raised this process's peak resident set."""
    # A small document first, the same way: imported modules are not the conversion's memory.
    small = build_results_document(
        "Compare", make_items(20, 2), early_stopping=False, index_identifiers=None
    )
    decode_document(small, arrow=arrow == "auto").to_polars(split_details=True)
    doc = Path(path).read_bytes()
    gc.collect()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak (VmHWM) restarts from here
    before = _resident("VmRSS")
    frame = decode_document(doc, arrow=None if arrow == "auto" else False).to_polars(
        split_details=True
    )
    assert frame.height > 0
    print(_resident("VmHWM") - before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datapoints", type=int, default=20_000)
    parser.add_argument("--responses", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--processes", type=int, default=1, help="time in this many fresh processes: medians"
    )
    parser.add_argument(
        "--memory", action="store_true", help="measure peak memory instead of time (Linux)"
    )
    parser.add_argument("--memory-responses", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_child:
        memory_child(*args.memory_child)
    elif args.memory:
        measure_memory(args)
    elif args.child:
        print(json.dumps(time_pipelines(args)))
    else:
        load = os.getloadavg()
        runs = in_processes(args) if args.processes > 1 else [time_pipelines(args)]
        print_timings(args, runs)
        after = os.getloadavg()
        print(f"load average (1 min) before / after: {load[0]:.1f} / {after[0]:.1f}")


if __name__ == "__main__":
    main()
