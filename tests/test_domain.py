"""Domain rules without I/O: referees fed one response at a time, limits, confidence, tasks."""

from __future__ import annotations

import pytest

from rapidata_async._wire import audience as auwire
from rapidata_async._wire import dataset as dwire
from rapidata_async._wire import job as jwire
from rapidata_async._wire.common import ExistingAssetInput, MultiAssetInput
from rapidata_async.local.domain import limits
from rapidata_async.local.domain.confidence import confidence_per_category
from rapidata_async.local.domain.errors import Invalid
from rapidata_async.local.domain.referee import RefereeRule
from rapidata_async.local.domain.tasks import Rapid, TaskError, task_for

DOCS_SCORES = [0.3, 0.8486, 0.4469, 0.4911]


# -- referees ------------------------------------------------------------------------------------
def test_naive_referee_is_done_after_total_votes() -> None:
    rule = RefereeRule.of(jwire.NaiveReferee(total_votes=3))
    tally = rule.tally(["a", "b"])
    assert (tally.done, tally.room()) == (False, 3)
    assert tally.add("a", 0.5) is False
    assert tally.room() == 2
    assert tally.add("b", 0.5) is False
    assert tally.add("a", 0.5) is True
    assert (tally.count, tally.room()) == (3, 0)
    # a late answer changes nothing
    assert tally.add("b", 0.9) is True and tally.count == 3


def test_early_stopping_stops_at_the_first_confident_response() -> None:
    rule = RefereeRule.of(jwire.EarlyStoppingReferee(max_votes=10, threshold=0.99))
    tally = rule.tally(["Cat", "Dog"])
    results = [tally.add("Dog", score) for score in DOCS_SCORES]
    # the docs: the 4 Dog votes reach 0.9943, three do not
    assert results == [False, False, False, True]
    assert tally.room() == 0
    # Both/Neither count toward maxVotes but never toward confidence
    capped = rule.tally(["Cat", "Dog"])
    assert [capped.add("Both", 0.99) for _ in range(10)] == [False] * 9 + [True]
    assert capped.count == 10


def test_early_stopping_hands_out_one_at_a_time() -> None:
    tally = RefereeRule("early_stopping", 50, 0.999).tally(["a", "b", "c"])
    assert tally.room() == 1
    tally.add("a", 0.2)
    assert tally.room() == 1


def test_quorum_stops_when_enough_agree_or_at_max_votes() -> None:
    rule = RefereeRule.of(jwire.QuorumReferee(max_votes=5, threshold=3))
    tally = rule.tally(["a", "b"])
    assert tally.room() == 3
    assert [tally.add(x, 0.5) for x in ("a", "b", "a")] == [False, False, False]
    assert tally.room() == 1  # one more "a" could decide it
    assert tally.add("a", 0.5) is True
    split = rule.tally(["a", "b"])
    assert [split.add(x, 0.5) for x in ("a", "b", "a", "b", "b")] == [False] * 4 + [True]
    never = rule.tally(["a", "b", "c", "d", "e"])
    assert [never.add(x, 0.5) for x in "abcde"] == [False] * 4 + [True]


def test_state_is_a_fold_over_the_responses() -> None:
    """Resuming feeds the stored responses again and lands on the same state."""
    rule = RefereeRule("early_stopping", 20, 0.999)
    answers = [("a", 0.7), ("b", 0.4), ("a", 0.8), ("a", 0.6), ("b", 0.3), ("a", 0.9)]
    first = rule.tally(["a", "b"])
    stops = [first.add(a, s) for a, s in answers]
    for cut in range(len(answers) + 1):
        resumed = rule.tally(["a", "b"])
        for a, s in answers[:cut]:
            resumed.add(a, s)
        rest = [resumed.add(a, s) for a, s in answers[cut:]]
        assert stops[cut:] == rest
        assert (resumed.count, resumed.done) == (first.count, first.done)


# -- confidence ----------------------------------------------------------------------------------
def test_docs_dog_example() -> None:
    got = confidence_per_category([("Dog", s) for s in DOCS_SCORES], ["Cat", "Dog"])
    assert {k: round(v, 4) for k, v in got.items()} == {"Cat": 0.0057, "Dog": 0.9943}


# -- limits --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("referee", "field"),
    [
        (jwire.NaiveReferee(total_votes=0), "referee.totalVotes"),
        (jwire.NaiveReferee(total_votes=1001), "referee.totalVotes"),
        (jwire.EarlyStoppingReferee(max_votes=10**9, threshold=0.9), "referee.maxVotes"),
        (jwire.EarlyStoppingReferee(max_votes=10, threshold=1.0), "referee.threshold"),
        (jwire.EarlyStoppingReferee(max_votes=10, threshold=float("nan")), "referee.threshold"),
        (jwire.QuorumReferee(max_votes=3, threshold=4), "referee.maxVotes"),
        (jwire.QuorumReferee(max_votes=3, threshold=0), "referee.threshold"),
    ],
)
def test_referee_limits_name_the_field(referee: jwire.Referee, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        limits.check_referee(referee)
    assert caught.value.errors is not None and field in caught.value.errors


def test_referee_limits_accept_the_bounds() -> None:
    limits.check_referee(jwire.NaiveReferee(total_votes=1))
    limits.check_referee(jwire.NaiveReferee(total_votes=limits.MAX_VOTES))
    limits.check_referee(jwire.QuorumReferee(max_votes=3, threshold=3))


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (auwire.TaskAccuracyRule(target_accuracy=0.8, min_tasks=10**9), "graduationRule.minTasks"),
        (auwire.TaskAccuracyRule(target_accuracy=0.8, min_tasks=0), "graduationRule.minTasks"),
        (
            auwire.TaskAccuracyRule(target_accuracy=1.5, min_tasks=5),
            "graduationRule.targetAccuracy",
        ),
        (
            auwire.TaskAccuracyRule(target_accuracy=0.5, min_tasks=5, max_tasks=4),
            "graduationRule.maxTasks",
        ),
        (
            auwire.ScoreThresholdRule(graduation_score=0.5, min_responses_to_graduate=10**9),
            "graduationRule.minResponsesToGraduate",
        ),
    ],
)
def test_graduation_limits_name_the_field(rule: auwire.GraduationRule, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        limits.check_graduation_rule(rule)
    assert caught.value.errors is not None and field in caught.value.errors
    limits.check_graduation_rule(auwire.TaskAccuracyRule(target_accuracy=0.75, min_tasks=1000))
    limits.check_graduation_rule(None)


def test_count_limits() -> None:
    limits.check_example_count(limits.MAX_EXAMPLES - 1)
    with pytest.raises(Invalid):
        limits.check_example_count(limits.MAX_EXAMPLES)
    limits.check_datapoint_count(limits.MAX_DATAPOINTS_PER_JOB)
    with pytest.raises(Invalid):
        limits.check_datapoint_count(limits.MAX_DATAPOINTS_PER_JOB + 1)


# -- tasks ---------------------------------------------------------------------------------------
def _pair(*names: str) -> dwire.CreateDatapointInput:
    return dwire.CreateDatapointInput(
        asset=MultiAssetInput(assets=[ExistingAssetInput(name=n) for n in names])
    )


def test_task_for_a_compare_datapoint() -> None:
    rapid = Rapid("Compare", "Which is better?")
    task, item = task_for(_pair("a.png", "b.png"), 7, 0, rapid, True)
    assert (task.kind, task.options, task.allow_neither_both) == (
        "compare",
        ["a.png", "b.png"],
        True,
    )
    assert (item.sort_index, item.options, item.votes) == (7, ["a.png", "b.png"], [])
    same, _ = task_for(_pair("a.png", "b.png"), 7, 3, rapid, True)
    assert same.key == task.key  # the key is stable: it seeds the crowd's answers
    with pytest.raises(TaskError, match="datapoint 2"):
        task_for(_pair("a.png"), None, 2, rapid, False)
    with pytest.raises(TaskError, match="both assets"):
        task_for(_pair("a.png", "a.png"), 1, 0, rapid, False)


def test_task_for_a_classification_needs_two_options() -> None:
    body = dwire.CreateDatapointInput(asset=ExistingAssetInput(name="cat.jpg"))
    task, item = task_for(body, 0, 0, Rapid("Classify", "?", options_literal=("Cat", "Dog")), True)
    assert (task.kind, task.options, task.allow_neither_both) == ("classify", ["Cat", "Dog"], False)
    assert item.original_file_name == "cat.jpg"
    with pytest.raises(TaskError, match="at least 2"):
        task_for(body, 0, 0, Rapid("Classify", "?", options_literal=("Cat", "Cat")), False)
