"""What a validation set buys: aggregation accuracy with and without one, when 30 % of the
crowd answers uniformly at random (their user scores look like everyone's).

Run ``python benchmarks/validation.py [--datapoints 2000] [--votes 5] [--rapids 40]
[--random-share 0.3] [--seeds 3]``. Two runs over the same data and seeds, each a fresh
in-memory store and engine (instant pace, the global audience, a naive referee): one job of
compare datapoints without a validation set, then the same job whose revision names a set of
``--rapids`` compare rapids. Per run it prints how often the aggregated winner is the crowd's
latent truth, by majority vote and weighted by the responses' user scores (the results'
confidence), and the mean user score the responses of random answerers and of the others
carried; then the means over the seeds (which labeler takes which task follows the event
order of engine and crowd, so single runs differ by a point or so). Takes about 20 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import anyio

# `python benchmarks/validation.py` from a checkout: make the package importable uninstalled.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidata_async._wire import dataset as dwire
from rapidata_async._wire import job as jwire
from rapidata_async._wire import validation as vwire
from rapidata_async._wire.common import MultiAssetInput, TextAssetInput
from rapidata_async.local._tasks import TaskManager
from rapidata_async.local.crowd.simulated import labeler_key
from rapidata_async.local.domain.confidence import confidence_per_category
from rapidata_async.local.domain.tasks import rapid_of, task_for
from rapidata_async.local.domain.validation import VALIDATION_EVERY
from rapidata_async.local.engine import Engine
from rapidata_async.local.store.base import ANY_OWNER, JobWork
from rapidata_async.local.store.sqlite import SqliteStore

OWNER = "benchmark"
INSTRUCTION = "Which is better?"
FINAL = ("Completed", "Failed")


def pair(left: str, right: str) -> MultiAssetInput:
    return MultiAssetInput(assets=[TextAssetInput(text=left), TextAssetInput(text=right)])


async def run(args: argparse.Namespace, with_validation: bool) -> dict[str, float]:
    store = SqliteStore()
    await store.open()
    try:
        dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=OWNER)
        for i in range(args.datapoints):
            body = dwire.CreateDatapointInput(asset=pair(f"a {i}", f"b {i}"), sort_index=i)
            await store.datasets.add_datapoint(dataset_id, body, owner=OWNER)
        set_id = None
        if with_validation:
            set_id = await store.validation_sets.create(
                vwire.CreateValidationSetInput(name="checks"), owner=OWNER
            )
            for i in range(args.rapids):
                rapid = vwire.AddValidationRapidInput(
                    asset=pair(f"good {i}", f"bad {i}"),
                    payload=vwire.ComparePayload(criteria=INSTRUCTION),
                    truth=vwire.CompareTruth(winner_id=f"good {i}"),
                    random_correct_probability=0.5,
                )
                await store.validation_sets.add_rapid(set_id, rapid, owner=OWNER)
        definition = jwire.CreateJobDefinitionInput(
            definition_name="bench",
            workflow=jwire.SimpleWorkflow(
                rapid=jwire.CompareRapid(
                    asset=jwire.AssetBinding(segment="asset"),
                    criteria=jwire.TextBinding(literal=INSTRUCTION),
                )
            ),
            referee=jwire.NaiveReferee(total_votes=args.votes),
            dataset_id=dataset_id,
        )
        definition_id, _ = await store.definitions.create(
            definition, "Compare", owner=OWNER, validation_set_id=set_id
        )
        revision = await store.definitions.revision(definition_id, owner=OWNER)
        job = await store.jobs.create(
            jwire.CreateJobInput(job_definition_id=definition_id, audience_id="global"),
            owner=OWNER,
            name="bench",
            revision=revision,
            total=args.datapoints,
        )
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            engine = Engine(store, TaskManager(tg), seed=args.seed, random_share=args.random_share)
            await engine.resume()
            # polls the store as the SDK would; the engine signals nothing to wait on
            while (await store.jobs.get(job.id, owner=ANY_OWNER)).state not in FINAL:  # noqa: ASYNC110
                await anyio.sleep(0.05)
            tg.cancel_scope.cancel()
        elapsed = time.perf_counter() - started
        work = await store.jobs.work(job.id)
        answers = await store.validation_sets.answers(job.id)
        return measure(engine, work, len(answers), elapsed)
    finally:
        await store.close()


def measure(
    engine: Engine, work: JobWork, validation_answers: int, elapsed: float
) -> dict[str, float]:

    rapid = rapid_of(work.revision.body.workflow)
    assert rapid is not None
    crowd = engine.model
    random_keys = {labeler_key(lid) for lid in crowd.random_answerers}
    majority = weighted = ideal = 0
    scores_random: list[float] = []
    scores_other: list[float] = []
    for position, dp in enumerate(work.datapoints):
        task, _ = task_for(dp.body, dp.sort_index, position, rapid, False)
        truth = crowd.truth(task)
        votes = work.responses.get(dp.id, [])
        counts = {o: sum(1 for v in votes if v.answer == o) for o in task.options}
        majority += max(task.options, key=lambda o: counts[o]) == truth
        confidence = confidence_per_category(
            [(v.answer, v.user_score) for v in votes], task.options
        )
        weighted += max(task.options, key=lambda o: confidence[o]) == truth
        honest = [(v.answer, v.user_score) for v in votes if v.labeler_id not in random_keys]
        best = confidence_per_category(honest, task.options)
        ideal += max(task.options, key=lambda o: best[o]) == truth
        for v in votes:
            (scores_random if v.labeler_id in random_keys else scores_other).append(v.user_score)
    n = len(work.datapoints)
    return {
        "majority": majority / n,
        "weighted": weighted / n,
        "ideal": ideal / n,
        "random_share_of_responses": len(scores_random)
        / max(1, len(scores_random) + len(scores_other)),
        "score_random": statistics.mean(scores_random) if scores_random else 0.0,
        "score_other": statistics.mean(scores_other) if scores_other else 0.0,
        "validation_answers": validation_answers,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datapoints", type=int, default=2000)
    parser.add_argument("--votes", type=int, default=5)
    parser.add_argument("--rapids", type=int, default=40)
    parser.add_argument("--random-share", type=float, default=0.3)
    parser.add_argument("--seeds", type=int, default=3, help="runs per variant, seeds 0..n-1")
    args = parser.parse_args()
    print(
        f"{args.datapoints} compare datapoints x {args.votes} responses (naive), global "
        f"audience, {args.random_share:.0%} of the crowd answering at random, seeds "
        f"0..{args.seeds - 1}; validation: {args.rapids} rapids, one before a labeler's first "
        f"task and after every {VALIDATION_EVERY} real ones"
    )
    totals: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for seed in range(args.seeds):
        args.seed = seed
        for with_validation in (False, True):
            r = anyio.run(run, args, with_validation)
            totals[with_validation].append(r)
            label = "with validation set   " if with_validation else "without validation set"
            print(
                f"  seed {seed} {label}: accuracy vs latent truth {r['weighted']:.1%} weighted "
                f"by user score ({r['majority']:.1%} majority vote, {r['ideal']:.1%} without "
                f"the random answerers' responses); mean user score of responses: random "
                f"answerers {r['score_random']:.3f}, others {r['score_other']:.3f}; "
                f"{r['validation_answers']} validation answers; {r['seconds']:.1f} s"
            )
    for with_validation, runs in totals.items():
        label = "with validation set   " if with_validation else "without validation set"
        weighted = statistics.mean(r["weighted"] for r in runs)
        majority = statistics.mean(r["majority"] for r in runs)
        print(f"mean {label}: {weighted:.1%} weighted by user score, {majority:.1%} majority vote")


if __name__ == "__main__":
    main()
