"""The validation rules without a backend: the score posterior, who gets a validation rapid
when, and a resumed run folding the stored answers back in."""

from __future__ import annotations

import random

import pytest

from rapidata_async._wire import validation as vwire
from rapidata_async._wire.common import MultiAssetInput, TextAssetInput
from rapidata_async.local.crowd.base import ValidationDeck
from rapidata_async.local.domain.tasks import TaskSpec
from rapidata_async.local.domain.validation import LabelerValidation, validation_rapids
from rapidata_async.local.engine._validation import Validator
from rapidata_async.local.store.base import ResponseRecord


def test_a_right_answer_raises_the_score_and_a_wrong_one_lowers_it() -> None:
    for prior in (0.05, 0.3, 0.6, 0.95):
        right, wrong = LabelerValidation(prior), LabelerValidation(prior)
        assert right.add(True, 0.5) > prior > wrong.add(False, 0.5)
    # A right answer by luck is likelier on a two-option rapid than on a four-option one.
    two, four = LabelerValidation(0.5), LabelerValidation(0.5)
    assert four.add(True, 0.25) > two.add(True, 0.5)


def test_guessers_sink_and_knowers_stay() -> None:
    rng = random.Random(7)
    guesser, knower = LabelerValidation(0.7), LabelerValidation(0.7)
    for _ in range(30):
        guesser.add(rng.random() < 0.5, 0.5)  # right half the time: knows nothing
        knower.add(rng.random() < 0.95, 0.5)  # s = 0.9
    assert guesser.score < 0.3 < 0.8 < knower.score
    assert (guesser.total, knower.total) == (30, 30)


def _deck(n_rapids: int, every: int = 4) -> ValidationDeck:
    rapids = [
        (f"v{i}", TaskSpec(f"v{i}", "compare", ["a", "b"], truth="a")) for i in range(n_rapids)
    ]
    return ValidationDeck("job", rapids, every)


def test_a_rapid_before_the_first_task_then_one_after_every_four() -> None:
    deck = _deck(10)
    shown: list[str] = []
    for _ in range(13):  # the labeler asks 13 times; real tasks are always there
        task = deck.due("sim:1")
        if task is not None:
            shown.append(task.datapoint_id)
        else:
            shown.append("real")
            deck.counted("sim:1")
    pattern = ["V" if s != "real" else "R" for s in shown]
    assert "".join(pattern) == "VRRRRVRRRRVRR"
    validation = [s for s in shown if s != "real"]
    assert len(set(validation)) == len(validation)  # never the same rapid twice


def test_each_rapid_at_most_once_per_labeler() -> None:
    deck = _deck(2, every=1)
    seen = []
    for _ in range(10):
        task = deck.due("sim:2")
        if task is None:
            deck.counted("sim:2")
        else:
            seen.append(task.datapoint_id)
    assert sorted(seen) == ["v0", "v1"]


def _rapids() -> list[vwire.AddValidationRapidInput]:
    pair = MultiAssetInput(assets=[TextAssetInput(text="good"), TextAssetInput(text="bad")])
    return [
        vwire.AddValidationRapidInput(
            asset=pair,
            payload=vwire.ComparePayload(criteria="Which?"),
            truth=vwire.CompareTruth(winner_id="good"),
        ),
        vwire.AddValidationRapidInput(  # no truth: left out
            asset=pair, payload=vwire.ComparePayload(criteria="Which?")
        ),
        vwire.AddValidationRapidInput(
            asset=TextAssetInput(text="x"),
            payload=vwire.ClassifyPayload(
                title="Is it?",
                categories=[vwire.ClassifyPayloadCategory(label=c) for c in ("y", "n", "m")],
            ),
            truth=vwire.AttachCategoryTruth(correct_categories=["n", "m"]),
        ),
    ]


def _response(datapoint: str, answer: str, labeler: str = "sim:3") -> ResponseRecord:
    return ResponseRecord("job", datapoint, labeler, answer, 0.6, "DE", "de", "", "", "")


def test_validator_checks_scores_and_resumes_from_stored_answers() -> None:
    rapids = validation_rapids("set", _rapids())
    assert [r.task.truth for r in rapids] == ["good", "n"]
    assert [r.chance for r in rapids] == [0.5, pytest.approx(2 / 3)]
    validator = Validator("job", rapids)
    assert not validator.take(_response("datapoint-1", "good"))  # a datapoint's: not taken
    assert validator.take(_response(rapids[0].key, "bad"))
    assert validator.take(_response(rapids[1].key, "m"))  # one of the correct categories
    answers = validator.drain()
    assert [a.correct for a in answers] == [False, True]
    assert validator.drain() == []
    adjusted = validator.adjust(_response("datapoint-1", "good"))
    assert adjusted.user_score == answers[-1].score != 0.6
    other = _response("datapoint-1", "good", labeler="sim:4")
    assert validator.adjust(other) is other  # not validated yet: the audience's score
    resumed = Validator("job", rapids, answers)
    assert resumed.scores == validator.scores
    deck = resumed.deck()
    assert deck.due("sim:3") is None  # has seen both rapids of the set
    assert deck.due("sim:5") is not None  # a new labeler gets one first
