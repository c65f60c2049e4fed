"""The simulated crowd's population model: determinism, audiences, answering through the
referees one response at a time, confidence."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import pytest

from rapidata_async._wire.audience import (
    AndFilter,
    CountryFilter,
    DemographicFilter,
    DeviceFilter,
    LanguageFilter,
    NotFilter,
    OrFilter,
)
from rapidata_async.local.crowd.population import (
    _COUNTRIES,
    BOTH,
    NEITHER,
    AudienceSpec,
    Crowd,
    ExampleSpec,
    Labeler,
    Qualification,
    TaskSpec,
)
from rapidata_async.local.domain.confidence import confidence_per_category
from rapidata_async.local.domain.referee import RefereeRule

GLOBAL = AudienceSpec("global", "global")
CURATED = AudienceSpec("curated-alignment", "curated", "alignment")
AGES = {"0-17", "18-29", "30-39", "40-49", "50-64", "65+", "Unknown"}
GENDERS = {"Male", "Female", "Other", "Unknown"}


def examples(n: int, prefix: str = "ex") -> list[ExampleSpec]:
    return [
        ExampleSpec("compare", ["a.jpg", "b.jpg"], ["a.jpg"], f"{prefix}-{i}") for i in range(n)
    ]


def custom(n_examples: int = 6, filters: list[object] | None = None) -> AudienceSpec:
    return AudienceSpec("aud-custom", "custom", None, examples(n_examples), list(filters or []))


def easy_tasks(crowd: Crowd, n: int, options: list[str], prefix: str = "easy") -> list[TaskSpec]:
    out: list[TaskSpec] = []
    i = 0
    while len(out) < n:
        task = TaskSpec(f"{prefix}-{i}", "classify", options)
        i += 1
        if crowd.difficulty(task) <= 0.1:
            out.append(task)
    return out


@dataclass(frozen=True)
class Response:
    labeler: Labeler
    user_score: float
    answer: str
    answer_ms: int


def collect(
    crowd: Crowd, task: TaskSpec, qual: Qualification, *, max_votes: int, threshold: float | None
) -> list[Response]:
    """Responses of the pool, in a seeded arrival order, fed one at a time to the naive or
    early-stopping referee until it is done (what the engine does, without the board)."""
    rule = RefereeRule("naive", max_votes)
    if threshold is not None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
        rule = RefereeRule("early_stopping", max_votes, threshold)
    if max_votes < 1:
        raise ValueError(f"max_votes must be at least 1, got {max_votes}")
    prepared = crowd.prepare(task)
    tally = rule.tally(task.options)
    out = []
    for labeler_id in crowd.in_order(qual, task.key):
        answer, ms = crowd.answer(prepared, labeler_id)
        score = qual.user_scores[labeler_id]
        out.append(Response(crowd.labelers[labeler_id], score, answer, ms))
        if tally.add(answer, score):
            break
    return out


@pytest.fixture(scope="module")
def crowd() -> Crowd:
    return Crowd(seed=0)


@pytest.fixture(scope="module")
def global_q(crowd: Crowd) -> Qualification:
    return crowd.qualify(GLOBAL)


# -- determinism ---------------------------------------------------------------------------------
def test_same_seed_same_crowd_scores_and_answers() -> None:
    a, b, other = Crowd(seed=7, size=500), Crowd(seed=7, size=500), Crowd(seed=8, size=500)
    assert a.labelers == b.labelers
    assert a.labelers != other.labelers

    task = TaskSpec("dp-1", "compare", ["x.png", "y.png"], allow_neither_both=True)
    for spec in (GLOBAL, CURATED, custom()):
        qa, qb = a.qualify(spec), b.qualify(spec)
        assert qa.user_scores == qb.user_scores
        assert qa.users_per_state == qb.users_per_state
        ra = collect(a, task, qa, max_votes=20, threshold=None)
        rb = collect(b, task, qb, max_votes=20, threshold=None)
        assert ra == rb
    assert collect(a, task, a.qualify(GLOBAL), max_votes=20, threshold=None) != collect(
        other, task, other.qualify(GLOBAL), max_votes=20, threshold=None
    )


def test_answers_do_not_depend_on_call_order() -> None:
    a, b = Crowd(seed=3, size=400), Crowd(seed=3, size=400)
    t1 = TaskSpec("first", "classify", ["A", "B", "C"])
    t2 = TaskSpec("second", "classify", ["A", "B", "C"])
    qa, qb = a.qualify(GLOBAL), b.qualify(GLOBAL)
    r1 = collect(a, t1, qa, max_votes=10, threshold=None)
    r2 = collect(a, t2, qa, max_votes=10, threshold=None)
    assert collect(b, t2, qb, max_votes=10, threshold=None) == r2
    assert collect(b, t1, qb, max_votes=10, threshold=None) == r1


def test_truth_ignores_option_order(crowd: Crowd) -> None:
    for i in range(50):
        forward = TaskSpec(f"t{i}", "classify", ["A", "B", "C"])
        backward = TaskSpec(f"t{i}", "classify", ["C", "B", "A"])
        assert crowd.truth(forward) == crowd.truth(backward)


# -- population ----------------------------------------------------------------------------------
def test_population_demographics_are_plausible(crowd: Crowd) -> None:
    languages = {c: {lang for lang, _ in langs} for c, _, langs in _COUNTRIES}
    assert len(crowd.labelers) == 3000
    assert [lab.id for lab in crowd.labelers] == list(range(3000))
    for lab in crowd.labelers:
        assert lab.language in languages[lab.country]
        assert lab.age in AGES
        assert lab.gender in GENDERS
        assert 0.0 < lab.skill < 1.0
        assert lab.typical_ms > 0
    occupations = {lab.occupation for lab in crowd.labelers}
    assert {"Other Employment", "Healthcare", "Student", "Unknown"} <= occupations
    assert len({lab.country for lab in crowd.labelers}) >= 30
    assert {lab.age for lab in crowd.labelers} == AGES


# -- audiences -----------------------------------------------------------------------------------
def test_custom_audience_needs_three_examples(crowd: Crowd) -> None:
    with pytest.raises(ValueError, match="at least 3"):
        crowd.qualify(custom(n_examples=2))
    with pytest.raises(ValueError, match="at least 3"):
        crowd.qualify(AudienceSpec("empty", "custom"))
    assert crowd.qualify(custom(n_examples=3)).user_scores


def test_example_truth_must_be_an_option(crowd: Crowd) -> None:
    bad = [*examples(3), ExampleSpec("classify", ["Cat", "Dog"], ["Bird"], "bad-one")]
    with pytest.raises(ValueError, match="bad-one"):
        crowd.qualify(AudienceSpec("aud-bad", "custom", None, bad, []))


def test_global_and_curated_report_no_funnel(crowd: Crowd, global_q: Qualification) -> None:
    curated = crowd.qualify(CURATED)
    assert global_q.users_per_state == {} and curated.users_per_state == {}
    assert len(global_q.user_scores) == len(crowd.labelers)
    assert 0 < len(curated.user_scores) < len(global_q.user_scores)
    assert all(0.0 < s < 1.0 for s in global_q.user_scores.values())
    assert (
        statistics.fmean(curated.user_scores.values())
        > statistics.fmean(global_q.user_scores.values()) + 0.1
    )
    # a different domain is a different (overlapping) pool
    other = crowd.qualify(AudienceSpec("curated-style", "curated", "style"))
    assert set(other.user_scores) != set(curated.user_scores)


def test_global_scores_track_skill(crowd: Crowd, global_q: Qualification) -> None:
    errors = [abs(global_q.user_scores[lab.id] - lab.skill) for lab in crowd.labelers]
    assert statistics.fmean(errors) < 0.06


def test_custom_funnel_accounts_for_every_candidate(crowd: Crowd) -> None:
    qual = crowd.qualify(custom())
    states = qual.users_per_state
    assert set(states) == {"Graduated", "Distilling", "Dropped"}
    assert all(n > 0 for n in states.values())
    assert sum(states.values()) == len(crowd.labelers)
    assert states["Graduated"] == len(qual.user_scores)
    assert all(0.0 < s < 1.0 for s in qual.user_scores.values())
    graduates = [crowd.labelers[i].skill for i in qual.user_scores]
    assert statistics.fmean(graduates) > statistics.fmean(lab.skill for lab in crowd.labelers)


def test_custom_scores_reward_right_answers(crowd: Crowd, global_q: Qualification) -> None:
    qual = crowd.qualify(custom())
    perfect = [i for i in qual.user_scores if qual.example_accuracy[i] == 1.0]
    flawed = [i for i in qual.user_scores if qual.example_accuracy[i] < 1.0]
    assert len(perfect) > 50 and len(flawed) > 50

    def mean_score(ids: list[int]) -> float:
        return statistics.fmean(qual.user_scores[i] for i in ids)

    def mean_shift(ids: list[int]) -> float:
        return statistics.fmean(qual.user_scores[i] - global_q.user_scores[i] for i in ids)

    assert mean_score(perfect) > mean_score(flawed) + 0.05
    # beyond what the prior already knew about them
    assert mean_shift(perfect) > mean_shift(flawed) + 0.02


def test_custom_scores_stay_calibrated(crowd: Crowd) -> None:
    qual = crowd.qualify(custom())
    errors = [abs(s - crowd.labelers[i].skill) for i, s in qual.user_scores.items()]
    assert statistics.fmean(errors) < 0.08


def test_filters_select_labelers(crowd: Crowd) -> None:
    qual = crowd.qualify(
        custom(
            filters=[
                CountryFilter(countries=["DE", "BR"]),
                NotFilter(filter=LanguageFilter(languages=["en"])),
            ]
        )
    )
    ids = set(qual.user_scores)
    assert ids
    assert {crowd.labelers[i].country for i in ids} <= {"DE", "BR"}
    assert "en" not in {crowd.labelers[i].language for i in ids}
    eligible = [
        lab for lab in crowd.labelers if lab.country in {"DE", "BR"} and lab.language != "en"
    ]
    assert sum(qual.users_per_state.values()) == len(eligible)


def test_demographic_and_nested_filters(crowd: Crowd) -> None:
    spec = AudienceSpec(
        "aud-demo",
        "global",
        filters=[
            AndFilter(
                filters=[
                    DemographicFilter(identifier="gender", values=["Female"]),
                    OrFilter(
                        filters=[
                            DemographicFilter(identifier="age", values=["18-29"]),
                            CountryFilter(countries=["in"]),
                        ]
                    ),
                ]
            )
        ],
    )
    ids = set(crowd.qualify(spec).user_scores)
    expected = {
        lab.id
        for lab in crowd.labelers
        if lab.gender == "Female" and (lab.age == "18-29" or lab.country == "IN")
    }
    assert ids == expected and ids


def test_unknown_filters_pass_everybody(crowd: Crowd) -> None:
    for filters in (
        [DeviceFilter(device_types=["Phone"])],
        [NotFilter(filter=DeviceFilter(device_types=["Phone"]))],
        [{"_t": "SomethingNew", "x": 1}],
        [DemographicFilter(identifier="income", values=["high"])],
    ):
        spec = AudienceSpec("aud-unknown", "global", filters=filters)
        assert len(crowd.qualify(spec).user_scores) == len(crowd.labelers)


def test_json_dict_filters(crowd: Crowd) -> None:
    spec = AudienceSpec(
        "aud-dict", "global", filters=[{"_t": "LanguageFilter", "languages": ["PT"]}]
    )
    ids = set(crowd.qualify(spec).user_scores)
    assert ids == {lab.id for lab in crowd.labelers if lab.language == "pt"} and ids


# -- collecting ----------------------------------------------------------------------------------
def test_exactly_max_votes_without_threshold(crowd: Crowd, global_q: Qualification) -> None:
    task = TaskSpec("fixed", "compare", ["a.png", "b.png"])
    responses = collect(crowd, task, global_q, max_votes=25, threshold=None)
    assert len(responses) == 25
    assert len({r.labeler.id for r in responses}) == 25
    for r in responses:
        assert r.user_score == global_q.user_scores[r.labeler.id]
        assert isinstance(r.answer_ms, int) and r.answer_ms >= 300


def test_small_pool_caps_responses() -> None:
    crowd = Crowd(seed=1, size=10)
    responses = collect(
        crowd,
        TaskSpec("k", "compare", ["a", "b"]),
        crowd.qualify(GLOBAL),
        max_votes=50,
        threshold=None,
    )
    assert len(responses) == 10


def test_early_stopping_stops_early_on_easy_tasks(crowd: Crowd, global_q: Qualification) -> None:
    counts = []
    for task in easy_tasks(crowd, 60, ["Cat", "Dog"]):
        responses = collect(crowd, task, global_q, max_votes=50, threshold=0.99)
        assert 1 <= len(responses) < 50
        votes = [(r.answer, r.user_score) for r in responses]
        # it stops at the first response that reaches the threshold, not later
        assert max(confidence_per_category(votes, task.options).values()) >= 0.99
        assert max(confidence_per_category(votes[:-1], task.options).values()) < 0.99
        counts.append(len(responses))
    assert statistics.fmean(counts) < 10


def test_early_stopping_never_exceeds_max_votes(crowd: Crowd, global_q: Qualification) -> None:
    for i in range(100):
        task = TaskSpec(f"any-{i}", "classify", ["A", "B", "C", "D"], allow_neither_both=True)
        for max_votes in (1, 3, 7):
            responses = collect(crowd, task, global_q, max_votes=max_votes, threshold=0.999)
            assert 1 <= len(responses) <= max_votes


def test_calibration_matches_docs_figure(crowd: Crowd, global_q: Qualification) -> None:
    """About 4 responses for 0.99 on an unambiguous two-category task (docs); more with more
    categories; fewer on the curated audience."""

    def mean_needed(options: list[str], qual: Qualification) -> float:
        tasks = easy_tasks(crowd, 150, options, prefix=f"cal{len(options)}")
        return statistics.fmean(
            len(collect(crowd, t, qual, max_votes=50, threshold=0.99)) for t in tasks
        )

    two = mean_needed(["Cat", "Dog"], global_q)
    five = mean_needed(["A", "B", "C", "D", "E"], global_q)
    assert 3.3 <= two <= 4.8
    assert five > two + 1
    assert mean_needed(["Cat", "Dog"], crowd.qualify(CURATED)) < two - 0.5


def test_harder_tasks_need_more_responses(crowd: Crowd, global_q: Qualification) -> None:
    easy, hard = [], []
    for i in range(400):
        task = TaskSpec(f"mix-{i}", "compare", ["a", "b"])
        n = len(collect(crowd, task, global_q, max_votes=50, threshold=0.99))
        d = crowd.difficulty(task)
        if d < 0.3:
            easy.append(n)
        elif d > 0.7:
            hard.append(n)
    assert statistics.fmean(hard) > statistics.fmean(easy) + 2


def test_answers_stay_within_options(crowd: Crowd, global_q: Qualification) -> None:
    seen_extra = 0
    for i in range(150):
        plain = TaskSpec(f"opt-{i}", "classify", ["red", "green", "blue"])
        for r in collect(crowd, plain, global_q, max_votes=10, threshold=None):
            assert r.answer in plain.options
        both = TaskSpec(f"nb-{i}", "compare", ["l.png", "r.png"], allow_neither_both=True)
        for r in collect(crowd, both, global_q, max_votes=10, threshold=None):
            assert r.answer in {"l.png", "r.png", BOTH, NEITHER}
            seen_extra += r.answer in (BOTH, NEITHER)
    assert 0.01 * 1500 < seen_extra < 0.2 * 1500


def test_neither_both_more_common_on_hard_tasks(crowd: Crowd, global_q: Qualification) -> None:
    share: dict[bool, list[float]] = {True: [], False: []}
    for i in range(400):
        task = TaskSpec(f"nbh-{i}", "compare", ["l", "r"], allow_neither_both=True)
        d = crowd.difficulty(task)
        if 0.25 <= d <= 0.75:
            continue
        responses = collect(crowd, task, global_q, max_votes=10, threshold=None)
        share[d > 0.75].append(sum(r.answer in (BOTH, NEITHER) for r in responses) / 10)
    assert statistics.fmean(share[True]) > 2 * statistics.fmean(share[False])


def test_majority_usually_finds_the_latent_truth(crowd: Crowd, global_q: Qualification) -> None:
    right = 0
    tasks = [TaskSpec(f"maj-{i}", "compare", ["a", "b"]) for i in range(200)]
    for task in tasks:
        answers = [r.answer for r in collect(crowd, task, global_q, max_votes=9, threshold=None)]
        right += max(task.options, key=answers.count) == crowd.truth(task)
    assert right / len(tasks) > 0.85


def test_invalid_collect_arguments(crowd: Crowd, global_q: Qualification) -> None:
    with pytest.raises(ValueError, match="exactly 2"):
        collect(
            crowd, TaskSpec("c3", "compare", ["a", "b", "c"]), global_q, max_votes=5, threshold=None
        )
    with pytest.raises(ValueError, match="distinct"):
        collect(
            crowd, TaskSpec("dup", "classify", ["a", "a"]), global_q, max_votes=5, threshold=None
        )
    with pytest.raises(ValueError, match="max_votes"):
        collect(crowd, TaskSpec("mv", "compare", ["a", "b"]), global_q, max_votes=0, threshold=None)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="threshold"):
            collect(
                crowd, TaskSpec("th", "compare", ["a", "b"]), global_q, max_votes=5, threshold=bad
            )


# -- oracle --------------------------------------------------------------------------------------
def test_oracle_respected() -> None:
    crowd = Crowd(seed=0, oracle=lambda task: {"A": 0.9, "B": 0.1})
    qual = crowd.qualify(GLOBAL)
    votes = []
    for i in range(200):
        task = TaskSpec(f"or-{i}", "compare", ["A", "B"])
        votes += [r.answer for r in collect(crowd, task, qual, max_votes=5, threshold=None)]
    share_a = votes.count("A") / len(votes)
    assert share_a > 0.7
    # without the oracle A wins only where it happens to be the latent truth
    plain = Crowd(seed=0)
    plain_votes = []
    for i in range(200):
        task = TaskSpec(f"or-{i}", "compare", ["A", "B"])
        plain_votes += [r.answer for r in collect(plain, task, qual, max_votes=5, threshold=None)]
    assert abs(plain_votes.count("A") / len(plain_votes) - 0.5) < 0.1


def test_oracle_can_defer_and_ignores_unknown_answers() -> None:
    def oracle(task: TaskSpec) -> dict[str, float] | None:
        if task.context == "defer":
            return None
        return {"Zebra": 5.0, "Neither": 3.0, "B": 1.0}

    crowd = Crowd(seed=0, oracle=oracle)
    qual = crowd.qualify(GLOBAL)
    plain = Crowd(seed=0)
    deferred = TaskSpec("def", "compare", ["A", "B"], context="defer")
    assert collect(crowd, deferred, qual, max_votes=15, threshold=None) == collect(
        plain, deferred, qual, max_votes=15, threshold=None
    )
    # Neither is not allowed here, Zebra is no option: B is the only answer the oracle backs
    answers = []
    for i in range(50):
        task = TaskSpec(f"z-{i}", "compare", ["A", "B"])
        answers += [r.answer for r in collect(crowd, task, qual, max_votes=5, threshold=None)]
    assert set(answers) <= {"A", "B"}
    assert answers.count("B") / len(answers) > 0.75


# -- confidence ----------------------------------------------------------------------------------
def test_docs_confidence_example() -> None:
    votes = [("Dog", 0.3), ("Dog", 0.8486), ("Dog", 0.4469), ("Dog", 0.4911)]
    conf = confidence_per_category(votes, ["Cat", "Dog"])
    assert {k: round(v, 4) for k, v in conf.items()} == {"Cat": 0.0057, "Dog": 0.9943}


def test_confidence_edge_cases() -> None:
    assert confidence_per_category([], ["a", "b", "c"]) == pytest.approx(
        {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}
    )
    assert confidence_per_category([("a", 0.9)], []) == {}
    with_extra = confidence_per_category([("a", 0.6), (BOTH, 0.9), (NEITHER, 0.9)], ["a", "b"])
    assert with_extra == confidence_per_category([("a", 0.6)], ["a", "b"])
    # one 0.6 vote over K=2: (0.6 + 0.2) / (0.8 + 0.2)
    assert with_extra["a"] == pytest.approx(0.8)
    # contradicting certain votes carry no information
    assert confidence_per_category([("a", 1.0), ("b", 1.0)], ["a", "b"]) == pytest.approx(
        {"a": 0.5, "b": 0.5}
    )
    # many votes do not underflow
    many = confidence_per_category([("b", 0.3)] * 2000 + [("a", 0.3)] * 1990, ["a", "b"])
    assert many["b"] > 0.99 and sum(many.values()) == pytest.approx(1.0)


def test_votes_without_a_usable_score_count_as_pure_guesses() -> None:
    # A score of 0 (or NaN, or below 0) carries no knowledge: the result stays uniform.
    votes = [("Cat", 0.0), ("Cat", float("nan")), ("Cat", -0.5)]
    assert confidence_per_category(votes, ["Cat", "Dog"]) == {"Cat": 0.5, "Dog": 0.5}
