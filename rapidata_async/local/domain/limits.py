"""Sane bounds on what a request may ask of the backend, so no input makes a rule or the crowd
loop for minutes. Each check raises ``Invalid`` naming the request field (400 at the edge)."""

from __future__ import annotations

import math

from ..._wire import audience as auwire
from ..._wire import job as jwire
from .errors import Invalid

MAX_VOTES = 1000
"""Responses per datapoint (naive ``totalVotes``, ``maxVotes``)."""
MAX_MIN_TASKS = 1000
"""Qualification answers a candidate gives before graduating (``graduationRule.minTasks``)."""
MAX_EXAMPLES = 1000
"""Qualification examples per audience."""
MAX_DATAPOINTS_PER_JOB = 200_000
"""Datapoints a job may label."""
MIN_EXAMPLES = 3
"""Examples a custom audience needs before it can recruit."""
MAX_VALIDATION_RAPIDS = 10_000
"""Rapids per validation set."""
MAX_DIMENSIONS = 50
"""Dimensions of a validation set."""
MAX_NAME_LENGTH = 500
"""Characters of a validation set's name and of each of its dimensions."""


def _int_in(field: str, value: int, low: int, high: int, what: str) -> None:
    if not low <= value <= high:
        raise Invalid.field(field, f"{what} must be between {low} and {high}, got {value}.")


def check_referee(referee: jwire.Referee) -> None:
    """Votes per datapoint 1..MAX_VOTES; thresholds inside their range."""
    if isinstance(referee, jwire.NaiveReferee):
        _int_in("referee.totalVotes", referee.total_votes, 1, MAX_VOTES, "Votes per datapoint")
        return
    _int_in("referee.maxVotes", referee.max_votes, 1, MAX_VOTES, "Votes per datapoint")
    if isinstance(referee, jwire.EarlyStoppingReferee):
        if not (math.isfinite(referee.threshold) and 0.0 < referee.threshold < 1.0):
            raise Invalid.field("referee.threshold", "Must be between 0 and 1 (exclusive).")
        return
    if referee.threshold < 1:
        raise Invalid.field("referee.threshold", "At least 1 agreeing vote.")
    if referee.max_votes < referee.threshold:
        raise Invalid.field("referee.maxVotes", "Must be at least the quorum threshold.")


def check_graduation_rule(rule: auwire.GraduationRule | None) -> None:
    """TaskAccuracy: ``minTasks`` 1..MAX_MIN_TASKS, ``maxTasks`` (if any) from ``minTasks`` to
    the same bound, ``targetAccuracy`` 0..1. ScoreThreshold: scores 0..1, at most
    MAX_MIN_TASKS responses to graduate."""
    if isinstance(rule, auwire.ScoreThresholdRule):
        for name, score in (
            ("graduationScore", rule.graduation_score),
            ("demotionScore", rule.demotion_score),
        ):
            if score is not None and not (math.isfinite(score) and 0.0 <= score <= 1.0):
                raise Invalid.field(f"graduationRule.{name}", "Must be between 0 and 1.")
        if rule.min_responses_to_graduate is not None:
            _int_in(
                "graduationRule.minResponsesToGraduate",
                rule.min_responses_to_graduate,
                1,
                MAX_MIN_TASKS,
                "minResponsesToGraduate",
            )
        return
    if rule is None:
        return
    acc = rule.target_accuracy
    if not (math.isfinite(acc) and 0.0 <= acc <= 1.0):
        raise Invalid.field("graduationRule.targetAccuracy", "Must be between 0 and 1.")
    _int_in("graduationRule.minTasks", rule.min_tasks, 1, MAX_MIN_TASKS, "minTasks")
    if rule.max_tasks is not None:
        _int_in(
            "graduationRule.maxTasks", rule.max_tasks, rule.min_tasks, MAX_MIN_TASKS, "maxTasks"
        )


def check_example_count(count: int) -> None:
    """Before adding one more example to an audience that has ``count``."""
    if count >= MAX_EXAMPLES:
        raise Invalid.field(
            "audienceId", f"An audience holds at most {MAX_EXAMPLES} qualification examples."
        )


def check_datapoint_count(count: int) -> None:
    if count > MAX_DATAPOINTS_PER_JOB:
        raise Invalid.field(
            "jobDefinitionId",
            f"A job labels at most {MAX_DATAPOINTS_PER_JOB} datapoints; the dataset has {count}.",
        )


def check_name(field: str, name: str, what: str) -> None:
    """A name that is not blank and at most MAX_NAME_LENGTH characters."""
    if not name.strip():
        raise Invalid.field(field, f"The {what} must not be empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid.field(field, f"The {what} has at most {MAX_NAME_LENGTH} characters.")


def check_dimensions(dimensions: list[str]) -> None:
    if len(dimensions) > MAX_DIMENSIONS:
        raise Invalid.field("dimensions", f"A validation set has at most {MAX_DIMENSIONS}.")
    for i, dimension in enumerate(dimensions):
        check_name(f"dimensions[{i}]", dimension, "dimension")


def check_rapid_count(count: int) -> None:
    """Before adding one more rapid to a validation set that has ``count``."""
    if count >= MAX_VALIDATION_RAPIDS:
        raise Invalid.field(
            "validationSetId",
            f"A validation set holds at most {MAX_VALIDATION_RAPIDS} rapids.",
        )
