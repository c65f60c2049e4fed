"""An MRI leaderboard end to end on a local backend, over raw HTTP.

Run ``python benchmarks/mri.py [--models 8] [--prompts 10] [--budget 2000] [--db FILE or
postgresql://…]``; it prints:

- the votes per second a leaderboard run collects at instant pace (the simulated crowd, the
  ranking runner, the votes store);
- the Spearman correlation of the standings with the models' latent quality (100 points
  apart);
- the latency of ``GET /leaderboard/{id}/standings/query`` once the votes are in: the first
  call with a filter (a Bradley–Terry fit with 200 bootstrap rounds) and repeated ones (the
  cached fit), median of 19.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidata_async.local import LocalBackend


async def _run(args: argparse.Namespace) -> None:
    spread = 100.0
    quality = {f"m{k}": spread * (args.models / 2 - k) for k in range(args.models)}
    backend = LocalBackend(db=args.db, quality=lambda label: quality[label.split("|")[0]])
    async with backend, aiohttp.ClientSession(backend.url) as session:
        form = {"client_id": backend.client_id, "client_secret": backend.client_secret}
        async with session.post("/connect/token", data=form) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def call(method: str, path: str, body: Any = None, params: Any = None) -> Any:
            async with session.request(
                method, path, json=body, params=params, headers=headers
            ) as response:
                assert response.status == 200, await response.text()
                return await response.json()

        bench = (await call("POST", "/benchmark", {"name": "bench"}))["id"]
        for i in range(args.prompts):
            prompt = {"identifier": f"p{i}", "segments": [{"key": "prompt", "kind": "Text",
                                                           "text": f"prompt {i}"}]}  # fmt: skip
            await call("POST", f"/benchmark/{bench}/prompt", prompt)
        board = await call(
            "POST",
            "/leaderboard",
            {"benchmarkId": bench, "name": "L", "instruction": "Better?", "showPrompt": True,
             "responseBudget": args.budget, "minResponses": 3},
        )  # fmt: skip
        ids = []
        for name in quality:
            pid = (await call("POST", f"/benchmark/{bench}/participants", {"name": name}))[
                "participantId"
            ]
            for i in range(args.prompts):
                sample = {"identifier": f"p{i}", "asset": {"_t": "TextAssetInput",
                                                           "text": f"{name}|{i}"}}  # fmt: skip
                await call("POST", f"/participant/{pid}/sample", sample)
            ids.append(pid)
        started = time.perf_counter()
        await call("POST", "/participants/submit", {"participantIds": ids})
        path = f"/leaderboard/{board['id']}/standings/query"
        whole = args.budget - args.budget % 3
        while True:
            result = await call("GET", path)
            if result["totalResponses"] >= whole:
                break
            await anyio.sleep(0.1)  # polling the API, as a client would
        elapsed = time.perf_counter() - started
        votes = result["totalResponses"]
        print(f"votes collected: {votes} in {elapsed:.2f} s = {votes / elapsed:.0f} votes/s")
        names = [item["name"] for item in result["items"]]
        truth = sorted(quality, key=lambda n: -quality[n])
        ranks = np.array([names.index(n) for n in truth], dtype=float)
        rho = 1 - 6 * float(((ranks - np.arange(len(truth))) ** 2).sum()) / (
            len(truth) * (len(truth) ** 2 - 1)
        )
        width = statistics.median(i["ciHigh"] - i["ciLow"] for i in result["items"])
        print(f"Spearman vs latent quality: {rho:.3f}; median 95 % interval width {width:.0f}")
        for label, params in (("all votes", {}), ("gender[in]=Female", {"gender[in]": "Female"})):
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                await call("GET", path, params=params)
                times.append(time.perf_counter() - t0)
            print(f"standings {label}: first {times[0] * 1000:.1f} ms, cached median "
                  f"{statistics.median(times[1:]) * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--db", default=None)
    anyio.run(_run, parser.parse_args())


if __name__ == "__main__":
    main()
