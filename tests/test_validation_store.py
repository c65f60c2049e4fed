"""The ``ValidationSets`` store aggregate on both stores: owner scoping, rapids in order,
patch semantics, listing, validation answers (idempotent, in order) and revisions naming a
set."""

from __future__ import annotations

import pytest

from rapidata_async._wire import dataset as dwire
from rapidata_async._wire import job as jwire
from rapidata_async._wire import validation as vwire
from rapidata_async._wire.common import ExistingAssetInput, MultiAssetInput, TextAssetInput
from rapidata_async.local import LocalBackend
from rapidata_async.local.domain.errors import Invalid, NotFound
from rapidata_async.local.store.base import ANY_OWNER, ListQuery, ValidationAnswer

A, B = "tenant-a", "tenant-b"


def rapid(i: int) -> vwire.AddValidationRapidInput:
    return vwire.AddValidationRapidInput(
        asset=MultiAssetInput(assets=[TextAssetInput(text=f"l{i}"), TextAssetInput(text=f"r{i}")]),
        payload=vwire.ComparePayload(criteria="Which?"),
        truth=vwire.CompareTruth(winner_id=f"l{i}"),
        random_correct_probability=0.5,
    )


async def test_sets_rapids_and_owners(backend: LocalBackend) -> None:
    sets = backend.store.validation_sets
    first = await sets.create(vwire.CreateValidationSetInput(name="Alpha checks"), owner=A)
    second = await sets.create(vwire.CreateValidationSetInput(name="Beta checks"), owner=A)
    theirs = await sets.create(vwire.CreateValidationSetInput(name="Alpha of B"), owner=B)
    assert [await sets.add_rapid(first, rapid(i), owner=A) for i in range(3)] == [1, 2, 3]
    assert [r.truth for r in await sets.rapids(first, owner=A)] == [
        vwire.CompareTruth(winner_id=f"l{i}") for i in range(3)
    ]
    row = await sets.get(first, owner=A)
    assert (row.name, row.rapid_count, row.modalities, row.dimensions) == (
        "Alpha checks",
        3,
        ["Compare"],
        [],
    )
    await sets.update(first, owner=A, dimensions=["quality"])
    await sets.update(first, owner=A, name="Alpha checks 2")
    row = await sets.get(first, owner=A)
    assert (row.name, row.dimensions) == ("Alpha checks 2", ["quality"])

    rows, total = await sets.list(ListQuery(), owner=A)
    assert total == 2 and [r.id for r in rows] == [second, first]
    # Another tenant's set is unknown, as an id never issued would be.
    for call in (
        sets.get(theirs, owner=A),
        sets.rapids(theirs, owner=A),
        sets.add_rapid(theirs, rapid(0), owner=A),
        sets.update(theirs, owner=A, name="x"),
    ):
        with pytest.raises(NotFound):
            await call
    assert (await sets.get(theirs, owner=ANY_OWNER)).name == "Alpha of B"
    # Assets must be the owner's uploads.
    unknown = vwire.AddValidationRapidInput(
        asset=MultiAssetInput(
            assets=[ExistingAssetInput(name="nope.png"), TextAssetInput(text="t")]
        ),
        payload=vwire.ComparePayload(criteria="Which?"),
        truth=vwire.CompareTruth(winner_id="t"),
    )
    with pytest.raises(Invalid) as info:
        await sets.add_rapid(first, unknown, owner=A)
    assert info.value.errors is not None and "asset.assets[0]" in info.value.errors


async def test_answers_are_idempotent_and_in_order(backend: LocalBackend) -> None:
    sets = backend.store.validation_sets

    def answer(labeler: str, rapid_key: str, correct: bool, score: float) -> ValidationAnswer:
        return ValidationAnswer("job-1", labeler, rapid_key, "x", correct, 0.5, 0.6, score)

    batch = [answer("sim:1", "v0", True, 0.7), answer("sim:2", "v0", False, 0.4)]
    await sets.record_answers("job-1", batch)
    await sets.record_answers("job-1", [batch[0], answer("sim:1", "v1", False, 0.5)])
    assert await sets.answers("job-1") == [*batch, answer("sim:1", "v1", False, 0.5)]
    assert await sets.answers("job-2") == []


async def test_a_revision_names_a_set_of_its_owner(backend: LocalBackend) -> None:
    store = backend.store
    dataset_id = await store.datasets.create(dwire.CreateDatasetInput(name="d"), owner=A)
    body = jwire.CreateJobDefinitionInput(
        definition_name="d",
        workflow=jwire.SimpleWorkflow(blueprint=jwire.CompareBlueprint(criteria="Which?")),
        referee=jwire.NaiveReferee(total_votes=3),
        dataset_id=dataset_id,
    )
    mine = await store.validation_sets.create(vwire.CreateValidationSetInput(name="m"), owner=A)
    theirs = await store.validation_sets.create(vwire.CreateValidationSetInput(name="t"), owner=B)
    definition_id, _ = await store.definitions.create(
        body, "Compare", owner=A, validation_set_id=mine
    )
    assert (await store.definitions.revision(definition_id, owner=A)).validation_set_id == mine
    plain_id, _ = await store.definitions.create(body, "Compare", owner=A)
    assert (await store.definitions.revision(plain_id, owner=A)).validation_set_id is None
    with pytest.raises(NotFound) as info:
        await store.definitions.create(body, "Compare", owner=A, validation_set_id=theirs)
    assert info.value.errors is not None and "validationSetId" in info.value.errors
