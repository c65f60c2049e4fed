"""Drive the official ``rapidata`` client (a test-only dependency) against our local backend.

Run in its own process by ``tests/test_interop_official.py``::

    python tests/_official_client.py quickstart classification custom_audience

with the backend described by environment variables: ``INTEROP_PORT`` (the https port on
127.0.0.1), ``INTEROP_CA`` (PEM of the CA that signed the backend's certificate),
``INTEROP_CLIENT_ID`` and ``INTEROP_CLIENT_SECRET``. The official client is pointed at
``environment="localhost:<port>"`` and so calls ``https://api.localhost:<port>`` and
``https://auth.localhost:<port>``; this process alone resolves ``*.localhost`` to 127.0.0.1
and fails every other name at once, so its version check (api.github.com) and anything else
bound for the internet errors immediately instead of hanging offline.

Runs the named scenarios in order, each with a fresh client, and prints one JSON object on
stdout: scenario name -> its summary (ids, result counts, ``error`` with the traceback if it
raised) plus what the client said: ``logged`` (its WARNING+ log records), ``python_warnings``,
``printed`` (its prints) and ``validation_warnings`` (the logged "Validation failed for <Model>"
warnings: a response of our backend lacked or mistyped a field the client's models require).
Exits 1, still printing the JSON, when any scenario raised or had a validation warning.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import os
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

# Set before the client is imported: its telemetry default is read at import time.
os.environ["RAPIDATA_DISABLE_OTLP"] = "1"

_real_getaddrinfo = socket.getaddrinfo


def _offline_getaddrinfo(
    host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is None:
        return _real_getaddrinfo(host, port, family, type, proto, flags)
    bare = name.strip("[]").rstrip(".").lower()
    if bare == "localhost" or bare.endswith(".localhost"):
        return _real_getaddrinfo("127.0.0.1", port, socket.AF_INET, type, proto, flags)
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        raise socket.gaierror(
            socket.EAI_NONAME, f"{name}: only *.localhost resolves in the interop runner"
        ) from None
    return _real_getaddrinfo(host, port, family, type, proto, flags)


socket.getaddrinfo = _offline_getaddrinfo

import rapidata  # noqa: E402  (resolution must be patched first)
from rapidata import rapidata_config  # noqa: E402

COMPARE_INSTRUCTION = "Which image matches the description better?"
QUICKSTART_PAIR = [
    "https://assets.rapidata.ai/midjourney-5.2_37_3.jpg",
    "https://assets.rapidata.ai/flux-1-pro_37_0.jpg",
]
QUICKSTART_CONTEXT = "A small blue book sitting on a large red book."
CUSTOM_INSTRUCTION = "Which image follows the prompt more accurately?"
CUSTOM_EXAMPLE = [
    "https://assets.rapidata.ai/flux_sign_diffusion.jpg",
    "https://assets.rapidata.ai/mj_sign_diffusion.jpg",
]
CUSTOM_PAIR = [
    "https://assets.rapidata.ai/flux_flower.jpg",
    "https://assets.rapidata.ai/mj_flower.jpg",
]
LIKERT = ["1: Poor", "2: Fair", "3: Good", "4: Excellent"]
CLASSIFY_DATAPOINTS = [
    "https://assets.rapidata.ai/flux_flower.jpg",
    "https://assets.rapidata.ai/mj_flower.jpg",
]


class _Collect(logging.Handler):
    """Keeps every WARNING+ record; the client replaces its own handlers on each config
    change, so this sits on the root logger and receives them by propagation."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _client() -> rapidata.RapidataClient:
    rapidata_config.logging.enable_otlp = False
    port = int(os.environ["INTEROP_PORT"])
    return rapidata.RapidataClient(
        client_id=os.environ["INTEROP_CLIENT_ID"],
        client_secret=os.environ["INTEROP_CLIENT_SECRET"],
        environment=f"localhost:{port}",
        cert_path=os.environ["INTEROP_CA"],
    )


def results_summary(results: Any) -> dict[str, Any]:
    """What the checks compare of an official results object: type, frame, counts, winners."""
    frame = results.to_pandas()
    items = results["results"]
    return {
        "result_type": results["info"]["type"],
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
        "datapoints": len(items),
        "responses": sum(len(item.get("detailedResults", [])) for item in items),
        "winners": [item.get("winner") for item in items],
        "file_names": [item.get("originalFileName") for item in items],
    }


def _finish(job: Any, definition: Any, audience: Any) -> dict[str, Any]:
    return {
        "audience_id": audience.id,
        "definition_id": definition.id,
        "job_id": job.id,
        "job_name": job.name,
        **results_summary(job.get_results()),
        "status": job.get_status(),
    }


def quickstart() -> dict[str, Any]:
    """The docs' Quick Start "Complete Example" (preview() left out: it opens a browser)."""
    client = _client()
    audience = client.audience.find_audiences("alignment")[0]
    definition = client.job.create_compare_job_definition(
        name="Example Image Prompt Alignment",
        instruction=COMPARE_INSTRUCTION,
        datapoints=[QUICKSTART_PAIR],
        contexts=[QUICKSTART_CONTEXT],
    )
    job = audience.assign_job(definition)
    job.display_progress_bar()
    summary = _finish(job, definition, audience)
    summary["audience_name"] = audience.name
    return summary


def classification() -> dict[str, Any]:
    """A Likert-scale classification on the global audience, options kept in order."""
    client = _client()
    audience = client.audience.get_audience_by_id("global")
    definition = client.job.create_classification_job_definition(
        name="Image Quality Rating",
        instruction="Rate the quality of this image",
        answer_options=LIKERT,
        datapoints=CLASSIFY_DATAPOINTS,
        responses_per_datapoint=5,
        settings=[rapidata.NoShuffleSetting()],
    )
    job = audience.assign_job(definition)
    return _finish(job, definition, audience)


def custom_audience() -> dict[str, Any]:
    """The docs' Custom Audiences "Complete Example"."""
    client = _client()
    audience = client.audience.create_audience(name="Prompt Alignment Audience")
    for _ in range(3):
        audience.add_compare_example(
            instruction=CUSTOM_INSTRUCTION,
            datapoint=CUSTOM_EXAMPLE,
            truth=CUSTOM_EXAMPLE[0],
            context="A sign that says 'Diffusion'.",
        )
    definition = client.job.create_compare_job_definition(
        name="Prompt Alignment Job",
        instruction=CUSTOM_INSTRUCTION,
        datapoints=[CUSTOM_PAIR],
        contexts=["A yellow flower sticking out of a green pot."],
    )
    job = audience.assign_job(definition)
    summary = _finish(job, definition, audience)
    summary["audience_name"] = audience.name
    return summary


MRI_IDENTIFIERS = ["scene_1", "scene_2", "scene_3"]
MRI_PROMPTS = ["A serene lake at dawn", "A busy street at night", "A red bicycle"]
MRI_PROMPT_ASSET = "https://assets.rapidata.ai/prompt_1.jpg"
MRI_MODELS = ["model-a", "model-b", "model-c"]
STANDINGS_TIMEOUT = 60.0


def mri() -> dict[str, Any]:
    """The docs' MRI flow: a benchmark with identifiers, prompts, a prompt asset and tags,
    one more prompt, a leaderboard, two models evaluated and a third added then run, the
    standings once every model has played, and the benchmark found again."""
    client = _client()
    benchmark = client.mri.create_new_benchmark(
        name="Interop MRI benchmark",
        identifiers=MRI_IDENTIFIERS,
        prompts=MRI_PROMPTS,
        prompt_assets=[[MRI_PROMPT_ASSET], None, None],
        tags=[["landscape"], ["city", "night"], ["object"]],
    )
    benchmark.add_prompts(
        identifiers=["scene_4"], prompts=["A snowy mountain"], tags=[["landscape"]]
    )
    leaderboard = benchmark.create_leaderboard(
        name="Prompt alignment",
        instruction="Which description fits the prompt better?",
        show_prompt=True,
        level_of_detail="debug",
        min_responses_per_matchup=3,
    )
    identifiers = [*MRI_IDENTIFIERS, "scene_4"]
    for name in MRI_MODELS[:2]:
        media = [f"{name}: {prompt}" for prompt in identifiers]
        benchmark.evaluate_model(name, media=media, identifiers=identifiers, data_type="text")
    last = MRI_MODELS[2]
    benchmark.add_model(
        last,
        media=[f"{last}: {p}" for p in identifiers],
        identifiers=identifiers,
        data_type="text",
    )
    benchmark.run()
    deadline = time.monotonic() + STANDINGS_TIMEOUT
    while True:
        standings = leaderboard.get_standings()
        played = standings["total_matches"] if len(standings) else []
        # Two runs of the 'debug' budget (20 votes, 18 in whole matchups of 3): the first
        # two models, then the third against them.
        if len(standings) == 3 and min(played) > 0 and sum(played) >= 2 * 36:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"standings still incomplete: {standings.to_dict('records')}")
        time.sleep(0.25)
    found = client.mri.find_benchmarks("Interop MRI")
    again = client.mri.get_benchmark_by_id(benchmark.id)
    return {
        "benchmark_id": benchmark.id,
        "leaderboard_id": leaderboard.id,
        "found": [b.id for b in found],
        "name": again.name,
        "identifiers": again.identifiers,
        "prompts": again.prompts,
        "prompt_assets": again.prompt_assets,
        "tags": again.tags,
        "leaderboards": [(lb.id, lb.name, lb.response_budget) for lb in again.leaderboards],
        "participants": sorted((p.name, str(p.status)) for p in again.participants),
        "standings": standings.to_dict("records"),
        "columns": [str(c) for c in standings.columns],
    }


FLOW_IMAGES = [
    "https://assets.rapidata.ai/flux_flower.jpg",
    "https://assets.rapidata.ai/mj_flower.jpg",
    "https://assets.rapidata.ai/flux_sign_diffusion.jpg",
]
FLOW_TEXTS = ["a short answer", "a long answer", "a wrong answer"]


def flow() -> dict[str, Any]:
    """The docs' Ranking Flows walk-through: create, two batches (images, texts), results,
    win/loss matrix, response count, listings, config update, delete."""
    client = _client()
    ranking = client.flow.create_ranking_flow(
        name="Image Quality Ranking",
        instruction="Which image looks better?",
        max_response_threshold=4,
        min_response_threshold=2,
    )
    item = ranking.create_new_flow_batch(
        datapoints=FLOW_IMAGES, context="These images were generated by model X", time_to_live=60
    )
    results = item.get_results()
    matrix = item.get_win_loss_matrix()
    responses = item.get_response_count()
    ranking.update_config(
        instruction="Which image has higher visual quality?",
        starting_elo=1000,
        max_responses=6,
        drain_duration=5,
        serve_timeout=30,
    )
    texts = ranking.create_new_flow_batch(datapoints=FLOW_TEXTS, data_type="text")
    text_results = texts.get_results()
    items = ranking.get_flow_items()
    found = client.flow.find_flows(name="Image Quality", amount=10)
    again = client.flow.get_flow_by_id(ranking.id)
    summary = {
        "flow_id": ranking.id,
        "item_id": item.id,
        "text_item_id": texts.id,
        "status": item.get_status(),
        "elo": dict(results.datapoints),
        "total_votes": results.total_votes,
        "matrix_index": [str(x) for x in matrix.index],
        "matrix": matrix.values.tolist(),
        "responses": responses,
        "text_elo": dict(text_results.datapoints),
        "text_votes": text_results.total_votes,
        "items": [i.id for i in items],
        "found": [(f.id, f.name) for f in found],
        "again": [again.id, again.name, type(again).__name__],
    }
    ranking.delete()
    summary["after_delete"] = [f.id for f in client.flow.find_flows(name="Image Quality")]
    return summary


def validation() -> dict[str, Any]:
    """The migration guide's validation set, a classification set, get and find."""
    client = _client()
    compare = client.validation.create_compare_set(
        name="Image Comparison Validation",
        instruction="Which image follows the prompt better?",
        datapoints=[CUSTOM_EXAMPLE, CUSTOM_PAIR],
        truths=[CUSTOM_EXAMPLE[0], CUSTOM_PAIR[1]],
        contexts=["A sign that says 'Diffusion'.", "A yellow flower in a green pot."],
        dimensions=["alignment"],
    )
    classify = client.validation.create_classification_set(
        name="Sentiment Validation",
        instruction="Is the sentence positive?",
        answer_options=["yes", "no"],
        datapoints=["I love it.", "I hate it.", "Wonderful."],
        truths=[["yes"], ["no"], ["yes"]],
        data_type="text",
        explanations=[None, "It says hate.", None],
    )
    fetched = client.validation.get_validation_set_by_id(compare.id)
    found = client.validation.find_validation_sets("Validation", amount=10)
    return {
        "status": "Completed",
        "compare_id": compare.id,
        "classify_id": classify.id,
        "fetched": [fetched.id, fetched.name, list(fetched.dimensions)],
        "found": [[v.id, v.name] for v in found],
        "found_sentiment": [v.id for v in client.validation.find_validation_sets("sentiment")],
    }


SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "quickstart": quickstart,
    "classification": classification,
    "custom_audience": custom_audience,
    "mri": mri,
    "flow": flow,
    "validation": validation,
}


def _is_validation_warning(text: str) -> bool:
    return "Validation failed for" in text


def _run(name: str, collect: _Collect) -> dict[str, Any]:
    collect.records.clear()
    report: dict[str, Any] = {"scenario": name}
    printed = io.StringIO()
    started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        try:
            report.update(SCENARIOS[name]())
        except Exception:
            report["error"] = traceback.format_exc()
    report["seconds"] = round(time.monotonic() - started, 3)
    # exc_info is rendered too, so a validation warning names the model and the field.
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    report["logged"] = [formatter.format(r) for r in collect.records]
    report["python_warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    report["validation_warnings"] = [w for w in report["logged"] if _is_validation_warning(w)]
    report["printed"] = printed.getvalue()
    return report


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in SCENARIOS]
    if not argv or unknown:
        print(f"usage: _official_client.py {{{'|'.join(SCENARIOS)}}}...", file=sys.stderr)
        return 2
    collect = _Collect()
    logging.getLogger().addHandler(collect)
    # One process for several scenarios: importing the client's generated API takes seconds.
    reports = {name: _run(name, collect) for name in argv}
    print(json.dumps(reports))
    failed = any("error" in r or r["validation_warnings"] for r in reports.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
