"""Validation rapids do what they are for: a job whose revision names a validation set shows
its labelers the set's rapids among the real tasks, checks their answers, and the labelers who
answer wrong carry lower user scores in the results than those who answer right (both
stores). The definition naming the set is made through the store, as an order will make it."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import anyio

from rapidata_async import AsyncRapidataClient
from rapidata_async.local import LocalBackend

PAIRS = [[f"left {i}", f"right {i}"] for i in range(40)]


async def _tenant(backend: LocalBackend) -> str:
    found = await backend.store.clients.get(backend.client_id)
    assert found is not None
    return found[0].tenant


async def test_labelers_failing_validation_count_less(
    client: AsyncRapidataClient, backend: LocalBackend
) -> None:
    checks = [[f"good {i}", f"bad {i}"] for i in range(30)]
    validation_set = await client.validation.create_compare_set(
        name="Checks",
        instruction="Which is better?",
        datapoints=checks,
        truths=[pair[0] for pair in checks],
        data_type="text",
    )
    plain = await client.job.create_compare_job_definition(
        name="Pairs",
        instruction="Which is better?",
        datapoints=PAIRS,
        data_type="text",
        responses_per_datapoint=5,
    )
    store, tenant = backend.store, await _tenant(backend)
    revision = await store.definitions.revision(plain.id, owner=tenant)
    definition_id, _ = await store.definitions.create(
        revision.body, "Compare", owner=tenant, validation_set_id=validation_set.id
    )
    definition = await client.job.get_job_definition_by_id(definition_id)
    assert (await definition.get_revision()).validation_set_id == validation_set.id
    audience = await client.audience.get_audience_by_id("global")
    job = await audience.assign_job(definition)
    with anyio.fail_after(60):
        results = await job.get_results()

    answers = await store.validation_sets.answers(job.id)
    work = await store.jobs.work(job.id)
    responses = [r for rs in work.responses.values() for r in rs]
    # Validation answers are never a datapoint's responses.
    assert work.job.response_count == len(PAIRS) * 5 == len(responses)
    assert {r.datapoint_id for r in responses} <= {dp.id for dp in work.datapoints}
    assert answers and all(a.rapid.startswith("validation\x1f") for a in answers)

    # Every labeler saw a validation rapid before their first real task.
    labelers = {r.labeler_id for r in responses}
    assert labelers <= {a.labeler_id for a in answers}

    verdicts: dict[str, list[bool]] = defaultdict(list)
    final: dict[str, float] = {}
    prior: dict[str, float] = {}
    for a in answers:
        verdicts[a.labeler_id].append(a.correct)
        final[a.labeler_id] = a.score
        prior[a.labeler_id] = a.prior
    failed = {lab for lab, v in verdicts.items() if not any(v)}
    passed = {lab for lab, v in verdicts.items() if all(v)}
    assert failed and passed, (len(failed), len(passed))
    assert all(final[lab] < prior[lab] for lab in failed)
    assert all(final[lab] > prior[lab] for lab in passed)

    # The scores the results show are the ones validation gave: a labeler's responses after
    # a wrong validation answer carry a score below their prior, after a right one above.
    doc = json.loads(await store_results(backend, job.id))
    shown = sorted(
        d["userDetails"]["userScores"]["global"]
        for item in doc["results"]
        for d in item["detailedResults"]
    )
    assert shown == sorted(round(r.user_score, 4) for r in responses)
    by_labeler: dict[str, list[float]] = defaultdict(list)
    for r in responses:
        by_labeler[r.labeler_id].append(r.user_score)
    failing_scores = [s for lab in failed for s in by_labeler.get(lab, [])]
    passing_scores = [s for lab in passed for s in by_labeler.get(lab, [])]
    assert failing_scores and passing_scores
    mean = sum(failing_scores) / len(failing_scores), sum(passing_scores) / len(passing_scores)
    assert mean[0] < mean[1], mean
    # relative to what each would have carried without validation, too
    assert all(s < prior[lab] for lab in failed for s in by_labeler.get(lab, []))
    assert all(s > prior[lab] for lab in passed for s in by_labeler.get(lab, []))
    assert len(results.results) == len(PAIRS)


async def store_results(backend: LocalBackend, job_id: str) -> bytes:
    document: Any = await backend.context.runner.results_document(job_id)
    return bytes(document)
