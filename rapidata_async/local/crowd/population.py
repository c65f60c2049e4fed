"""The simulated crowd's population model: who may answer, how well, and how fast.

Pure and deterministic: no I/O, no asyncio, no global state. The same ``seed`` and the same
inputs always give the same labelers, user scores and answers, so tests and benchmarks can
pin numbers. Every random stream is a ``random.Random`` seeded from a hash of the seed and
the purpose (population, audience scores, one labeler's answer to one datapoint, ...), which
also makes every answer independent of the order in which labelers pick their tasks.

Answer model
------------
Every labeler has a latent ``skill`` in (0, 1). For a datapoint of difficulty ``d`` with ``K``
options the labeler *knows* the answer with probability

    q = sigmoid(logit(skill) + GAMMA · (D_REF − d_eff)),   d_eff = d + K_STEP · (K − 2)

and otherwise guesses uniformly among the options (with AllowNeitherBoth a guessing labeler
clicks "Both"/"Neither" instead with probability ``P_NEITHER_BOTH``). This is the very model
behind the confidence formula below, so ``skill`` is the labeler's ``s`` on a typical
(``D_REF``) two-option datapoint; easy datapoints are answered better than the score says
(early stopping is conservative there), hard ones worse. More options make a datapoint
harder: there are more confusable alternatives.

Difficulty and truth come from a hash of ``(seed, task.key)``: the difficulty is uniform in
[0, 1); the truth is the option with the largest hash, so it does not depend on the order the
options are listed in. An ``oracle`` that returns a distribution replaces the latent truth: a
knowing labeler samples the oracle's distribution (which may include Both/Neither when those
are allowed), a guessing one answers as above, so the crowd's vote shares are the oracle's
shares pulled towards uniform, more so on hard datapoints.

Audiences
---------
Audience filters (country, language, age/gender/occupation demographics, And/Or/Not) narrow
the candidates of every kind of audience; filters we do not model have no effect.

- ``global``: everyone; user score = skill plus a little noise.
- ``curated``: the better-skilled part of the crowd for the audience's domain (a domain-specific
  jitter decides the border), scored slightly more precisely.
- ``custom``: every labeler passing the audience filters works through the qualification
  examples (at least ``min_tasks`` answers, cycling the examples). Weighted accuracy (harder
  examples weigh more) against ``target_accuracy`` decides Graduated / Dropped; a few are still
  Distilling. A graduate's user score is the posterior mean of their skill given which examples
  they got right, with their global score as prior: getting a hard example right moves it up
  more than an easy one.

User scores are rounded to 4 decimals at the source, as the results document shows them, so a
confidence recomputed from a results file equals the one early stopping used.

Who answers which datapoint, and when, is ``simulated.SimulatedCrowd``'s business; this module
only says what a given labeler answers (``Crowd.answer``).
"""

from __future__ import annotations

import hashlib
import math
import random
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..domain.tasks import ExampleSpec, TaskSpec

__all__ = [
    "BOTH",
    "NEITHER",
    "AudienceSpec",
    "Crowd",
    "ExampleSpec",
    "Labeler",
    "Oracle",
    "Prepared",
    "Qualification",
    "TaskSpec",
]

BOTH = "Both"
NEITHER = "Neither"

# -- model constants (tuned with benchmarks/confidence.py) ---------------------------------------
GAMMA = 4.4
"""Steepness of the knowledge curve (logit units per unit of difficulty). With D_REF it puts
an average labeler at q ~0.93 on the easiest datapoints and ~0.14 on the hardest."""
D_REF = 0.5
"""Difficulty at which ``q == skill``: the median datapoint (difficulty is uniform)."""
K_STEP = 0.2
"""Extra difficulty per option beyond two. It has to be this large for more options to cost
more responses: the confidence formula itself rewards agreement among more options faster."""
P_NEITHER_BOTH = 0.3
"""Share of guesses that go to Both/Neither when the task allows them."""
SCORE_NOISE = {"global": 0.05, "curated": 0.035}
"""Standard deviation of user score around skill, per audience kind."""
CURATED_SHARE = 0.3
"""Share of the crowd in a curated pool."""
DISTILLING_SHARE = 0.06
"""Share of custom-audience candidates still working through the examples."""
_PRIOR_SD = 0.12
_RANDOM_LOGIT = -60.0
"""The logit of a labeler who never knows the answer: they always guess."""
_GRID = [i / 100 for i in range(1, 100)]
_SCORE_MIN, _SCORE_MAX = 0.0001, 0.9999
QUALIFY_CHUNK = 200
"""Candidates qualified per call of ``Crowd.qualify_chunk``: bounded work per call."""

Oracle = Callable[["TaskSpec"], "dict[str, float] | None"]
"""Answer distribution for a datapoint (keys: options, plus Both/Neither when allowed), or
``None`` to use the crowd's own latent truth."""


# -- public value types --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Labeler:
    """One simulated person. ``id`` is the index in ``Crowd.labelers``; ``typical_ms`` is their
    median answer time on a datapoint of average difficulty."""

    id: int
    country: str
    language: str
    age: str
    gender: str
    occupation: str
    skill: float
    typical_ms: int = 4000


@dataclass(frozen=True, slots=True)
class AudienceSpec:
    """What the crowd needs to know about an audience.

    ``filters`` are wire audience filter structs (``rapidata_async._wire.audience``) or their
    JSON dicts (``{"_t": "CountryFilter", "countries": [...]}``); several filters all apply.
    """

    id: str
    kind: Literal["global", "curated", "custom"]
    domain: str | None = None
    examples: list[ExampleSpec] = field(default_factory=list)
    filters: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Qualification:
    """The answering pool of an audience. Shared and cached by ``Crowd``: treat as read-only.

    ``user_scores``: labeler id -> user score of everyone who may answer (the pool).
    ``users_per_state``: the qualification funnel; ``{}`` for global and curated audiences.
    ``example_accuracy``: custom audiences only, labeler id -> difficulty-weighted share of
    example answers that were right, for every candidate who finished (graduated or dropped).
    """

    audience_id: str
    kind: str
    user_scores: dict[int, float]
    users_per_state: dict[str, int]
    example_accuracy: dict[int, float] = field(default_factory=dict)
    ready_at: dict[int, float] = field(default_factory=dict)
    pool: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pool", tuple(self.user_scores))


# -- hashing and small maths ---------------------------------------------------------------------
def _h(*parts: object) -> int:
    """A 64-bit hash of the parts that, unlike ``hash()``, is stable across processes."""
    text = "\x1f".join(map(str, parts))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _unit(*parts: object) -> float:
    return _h(*parts) / 2.0**64


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _clamp_score(x: float) -> float:
    return round(min(max(x, _SCORE_MIN), _SCORE_MAX), 4)


def _pick(rng: random.Random, table: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in table], weights=[w for _, w in table])[0]


# -- population tables ---------------------------------------------------------------------------
# (country, share, [(language, share)]): a mobile-first worldwide crowd.
_COUNTRIES: list[tuple[str, float, list[tuple[str, float]]]] = [
    ("IN", 11.0, [("en", 0.7), ("hi", 0.3)]),
    ("US", 8.0, [("en", 0.9), ("es", 0.1)]),
    ("BR", 6.5, [("pt", 1.0)]),
    ("ID", 5.0, [("id", 0.85), ("en", 0.15)]),
    ("PH", 4.0, [("en", 0.8), ("tl", 0.2)]),
    ("NG", 3.5, [("en", 1.0)]),
    ("MX", 3.5, [("es", 1.0)]),
    ("PK", 3.0, [("en", 0.5), ("ur", 0.5)]),
    ("EG", 3.0, [("ar", 0.9), ("en", 0.1)]),
    ("VN", 3.0, [("vi", 1.0)]),
    ("TR", 3.0, [("tr", 1.0)]),
    ("DE", 3.0, [("de", 0.9), ("en", 0.1)]),
    ("RU", 2.5, [("ru", 1.0)]),
    ("FR", 2.5, [("fr", 1.0)]),
    ("GB", 2.5, [("en", 1.0)]),
    ("ES", 2.0, [("es", 1.0)]),
    ("CO", 2.0, [("es", 1.0)]),
    ("BD", 2.0, [("bn", 0.6), ("en", 0.4)]),
    ("TH", 2.0, [("th", 1.0)]),
    ("UA", 1.5, [("uk", 0.6), ("ru", 0.4)]),
    ("PL", 1.5, [("pl", 1.0)]),
    ("IT", 1.5, [("it", 1.0)]),
    ("JP", 1.5, [("ja", 1.0)]),
    ("KR", 1.2, [("ko", 1.0)]),
    ("AR", 1.2, [("es", 1.0)]),
    ("KE", 1.2, [("en", 0.8), ("sw", 0.2)]),
    ("ZA", 1.2, [("en", 1.0)]),
    ("CA", 1.2, [("en", 0.8), ("fr", 0.2)]),
    ("MA", 1.0, [("ar", 0.6), ("fr", 0.4)]),
    ("DZ", 1.0, [("ar", 0.6), ("fr", 0.4)]),
    ("SA", 1.0, [("ar", 1.0)]),
    ("PT", 1.0, [("pt", 1.0)]),
    ("PE", 1.0, [("es", 1.0)]),
    ("NL", 0.8, [("nl", 0.8), ("en", 0.2)]),
    ("AU", 0.8, [("en", 1.0)]),
    ("TW", 0.8, [("zh", 1.0)]),
    ("RS", 0.6, [("sr", 1.0)]),
    ("BY", 0.6, [("ru", 1.0)]),
    ("SG", 0.5, [("en", 1.0)]),
    ("LY", 0.4, [("ar", 1.0)]),
]
_AGES = [
    ("0-17", 6.0),
    ("18-29", 36.0),
    ("30-39", 22.0),
    ("40-49", 12.0),
    ("50-64", 7.0),
    ("65+", 2.0),
    ("Unknown", 15.0),
]
_GENDERS = [("Male", 48.0), ("Female", 36.0), ("Other", 2.0), ("Unknown", 14.0)]
_WORKING = [
    ("Other Employment", 26.0),
    ("Technology", 10.0),
    ("Retail & Service", 12.0),
    ("Healthcare", 9.0),
    ("Education", 8.0),
    ("Business & Finance", 10.0),
    ("Student", 5.0),
    ("Unemployed", 8.0),
    ("Unknown", 12.0),
]
_OCCUPATIONS_BY_AGE: dict[str, list[tuple[str, float]]] = {
    "0-17": [("Student", 85.0), ("Other Employment", 5.0), ("Unknown", 10.0)],
    "18-29": [("Student", 35.0), *[(o, w * 0.65) for o, w in _WORKING if o != "Student"]],
    "65+": [("Retired", 60.0), ("Other Employment", 12.0), ("Healthcare", 4.0), ("Unknown", 24.0)],
    "Unknown": [("Unknown", 60.0), *[(o, w * 0.4) for o, w in _WORKING if o != "Unknown"]],
}
_NO_PROFILE_SHARE = 0.1
_LOW_EFFORT_SHARE = 0.07


# -- the crowd -----------------------------------------------------------------------------------
class Crowd:
    """A reproducible population of labelers and the rules by which they answer."""

    def __init__(
        self,
        seed: int = 0,
        size: int = 3000,
        oracle: Oracle | None = None,
        *,
        random_share: float = 0.0,
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        if not 0.0 <= random_share <= 1.0:
            raise ValueError(f"random_share must be between 0 and 1, got {random_share}")
        self.seed = seed
        self.oracle = oracle
        self.labelers: list[Labeler] = self._population(size)
        self.random_answerers: frozenset[int] = frozenset(
            lab.id for lab in self.labelers if _unit(seed, "random", lab.id) < random_share
        )
        """Tests and benchmarks (``random_share``): labelers who answer every task uniformly
        at random, while their user scores look like anyone's (their skill is kept)."""
        self._logit_skill = [
            _RANDOM_LOGIT if lab.id in self.random_answerers else _logit(lab.skill)
            for lab in self.labelers
        ]
        self._typical_ms = [lab.typical_ms for lab in self.labelers]
        self._id_bytes = [str(i).encode() for i in range(size)]
        self._global_scores = self._noisy_scores("global", self.labelers)
        self._cache: dict[tuple[object, ...], Qualification] = {}

    # -- population ------------------------------------------------------------------------------
    def _population(self, size: int) -> list[Labeler]:
        rng = random.Random(_h(self.seed, "population"))
        country_table = [(c, w) for c, w, _ in _COUNTRIES]
        languages = {c: langs for c, _, langs in _COUNTRIES}
        out: list[Labeler] = []
        for i in range(size):
            country = _pick(rng, country_table)
            language = _pick(rng, languages[country])
            if rng.random() < _NO_PROFILE_SHARE:
                age = gender = occupation = "Unknown"
            else:
                age = _pick(rng, _AGES)
                gender = _pick(rng, _GENDERS)
                occupation = _pick(rng, _OCCUPATIONS_BY_AGE.get(age, _WORKING))
            if rng.random() < _LOW_EFFORT_SHARE:
                skill = rng.betavariate(1.2, 8.0)
            else:
                skill = rng.betavariate(6.0, 3.6)
            skill = min(max(skill, 0.005), 0.995)
            typical = min(max(rng.lognormvariate(math.log(3800.0), 0.45), 900.0), 20000.0)
            out.append(Labeler(i, country, language, age, gender, occupation, skill, int(typical)))
        return out

    def _noisy_scores(self, purpose: str, labelers: Iterable[Labeler]) -> dict[int, float]:
        rng = random.Random(_h(self.seed, "scores", purpose))
        sd = SCORE_NOISE["curated" if purpose.startswith("curated") else "global"]
        return {lab.id: _clamp_score(lab.skill + rng.gauss(0.0, sd)) for lab in labelers}

    # -- latent datapoint properties -------------------------------------------------------------
    def difficulty(self, task: TaskSpec | ExampleSpec) -> float:
        """Latent difficulty in [0, 1) of a datapoint or example, before the per-option bump."""
        return _unit(self.seed, "difficulty", task.key)

    def truth(self, task: TaskSpec | ExampleSpec) -> str:
        """The correct option of a datapoint: the known one of a validation rapid, else the
        latent one (ignores any oracle)."""
        known = task.truth if isinstance(task, TaskSpec) else None
        if known is not None:
            return known
        return max(task.options, key=lambda o: _h(self.seed, "truth", task.key, o))

    def knowledge(self, labeler: Labeler, difficulty: float, n_options: int) -> float:
        """Probability that ``labeler`` knows the answer (see the module docstring)."""
        d_eff = difficulty + K_STEP * (n_options - 2)
        return _sigmoid(self._logit_skill[labeler.id] + GAMMA * (D_REF - d_eff))

    # -- audiences -------------------------------------------------------------------------------
    def qualify(
        self, audience: AudienceSpec, *, target_accuracy: float = 0.75, min_tasks: int = 10
    ) -> Qualification:
        """The answering pool of ``audience`` and its user scores (cached per audience content).

        ``target_accuracy`` / ``min_tasks`` are the audience's TaskAccuracy graduation rule
        (custom audiences only). Raises ``ValueError`` for a custom audience with fewer than
        three examples or an example whose truth is not among its options. The async callers
        use ``qualification_steps`` instead, to run a big custom audience in bounded chunks.
        """
        steps = self.qualification_steps(
            audience, target_accuracy=target_accuracy, min_tasks=min_tasks
        )
        for _ in steps:
            pass
        result = self.qualify_cached(audience, target_accuracy, min_tasks)
        assert result is not None
        return result

    def _cache_key(
        self, audience: AudienceSpec, target_accuracy: float, min_tasks: int
    ) -> tuple[object, ...]:
        return (
            audience.id,
            audience.kind,
            audience.domain,
            tuple((e.kind, tuple(e.options), tuple(e.truth), e.key) for e in audience.examples),
            repr(audience.filters),
            target_accuracy,
            min_tasks,
        )

    def qualify_cached(
        self, audience: AudienceSpec, target_accuracy: float = 0.75, min_tasks: int = 10
    ) -> Qualification | None:
        """The pool if it was computed already, else None."""
        return self._cache.get(self._cache_key(audience, target_accuracy, min_tasks))

    def qualification_steps(
        self, audience: AudienceSpec, *, target_accuracy: float = 0.75, min_tasks: int = 10
    ) -> Iterator[None]:
        """Compute (and cache) the pool one bounded step at a time: each ``next()`` qualifies
        at most ``QUALIFY_CHUNK`` candidates, so a caller in a worker thread can stop between
        steps. Afterwards ``qualify_cached`` returns the result."""
        cache_key = self._cache_key(audience, target_accuracy, min_tasks)
        if cache_key in self._cache:
            return
        candidates = [lab for lab in self.labelers if _passes_all(lab, audience.filters)]
        if audience.kind == "global":
            result = Qualification(
                audience.id, "global", {c.id: self._global_scores[c.id] for c in candidates}, {}
            )
        elif audience.kind == "curated":
            result = self._qualify_curated(audience, candidates)
        elif audience.kind == "custom":
            custom = _CustomQualification(self, audience, target_accuracy, min_tasks)
            for start in range(0, len(candidates), QUALIFY_CHUNK):
                yield
                custom.add(candidates[start : start + QUALIFY_CHUNK])
            result = custom.result()
        else:
            raise ValueError(
                f"audience {audience.id!r}: kind must be 'global', 'curated' or 'custom', "
                f"got {audience.kind!r}"
            )
        if len(self._cache) >= 256:
            self._cache.pop(next(iter(self._cache)))
        self._cache[cache_key] = result

    def _qualify_curated(self, audience: AudienceSpec, candidates: list[Labeler]) -> Qualification:
        domain = audience.domain or "general"
        rng = random.Random(_h(self.seed, "curated", domain))
        # Domain talent differs a little from general skill, so two curated pools overlap
        # heavily but not entirely. Drawn for the whole crowd so that filters do not change
        # anyone's draw.
        talent = [lab.skill + rng.gauss(0.0, 0.06) for lab in self.labelers]
        ranked = sorted(candidates, key=lambda lab: talent[lab.id], reverse=True)
        n = max(1, round(CURATED_SHARE * len(ranked))) if ranked else 0
        scores = self._noisy_scores(f"curated:{domain}", self.labelers)
        pool = sorted(lab.id for lab in ranked[:n])
        return Qualification(audience.id, "curated", {i: scores[i] for i in pool}, {})

    # -- answering -------------------------------------------------------------------------------
    def prepare(self, task: TaskSpec) -> Prepared:
        """What every answer to ``task`` shares (difficulty, truth, oracle distribution),
        computed once per datapoint. Raises ``ValueError`` for a malformed task."""
        options = _check_task(task)
        difficulty = self.difficulty(task)
        answers = list(options)
        if task.allow_neither_both:
            answers += [BOTH, NEITHER]
        # A known truth (a validation rapid) is what a knowing labeler answers, oracle or not.
        dist = self._oracle_distribution(task, answers) if task.truth is None else None
        names: list[str] = []
        cumulative: list[float] = []
        if dist is not None:
            total = 0.0
            for name, weight in dist:
                total += weight
                names.append(name)
                cumulative.append(total)
            cumulative = [c / total for c in cumulative]
        d_eff = difficulty + K_STEP * (len(options) - 2)
        return Prepared(
            task.key,
            options,
            task.allow_neither_both,
            GAMMA * (D_REF - d_eff),
            self.truth(task) if dist is None else "",
            names,
            cumulative,
            0.8 + 0.6 * difficulty,
            hashlib.blake2b(f"{self.seed}\x1fanswer\x1f{task.key}\x1f".encode(), digest_size=32),
        )

    def answer(self, prepared: Prepared, labeler_id: int) -> tuple[str, int]:
        """What ``labeler_id`` answers to a prepared task and how long it takes (ms).

        Deterministic per ``(seed, task, labeler)``: four uniforms from one hash decide
        whether they know the answer, what they pick, and their answer time.
        """
        # the hash of "<seed>␟answer␟<key>␟<labeler>", continued from the datapoint's prefix
        h = prepared.answer_hash.copy()
        h.update(self._id_bytes[labeler_id])
        a, b, c, d = _FOUR.unpack(h.digest())
        u_know, u_pick = a * _INV64, b * _INV64
        # _sigmoid, inlined: this runs once per response
        z = self._logit_skill[labeler_id] + prepared.shift
        if z >= 0:
            knows = 1.0 / (1.0 + _exp(-z))
        else:
            e = _exp(z)
            knows = e / (1.0 + e)
        if u_know < knows:
            if prepared.names:
                answer = prepared.names[-1]
                for name, edge in zip(prepared.names, prepared.cumulative, strict=True):
                    if u_pick < edge:
                        answer = name
                        break
            else:
                answer = prepared.truth
        elif prepared.allow_neither_both and u_pick < P_NEITHER_BOTH:
            answer = BOTH if u_pick < P_NEITHER_BOTH / 2 else NEITHER
        else:
            if prepared.allow_neither_both:
                u_pick = (u_pick - P_NEITHER_BOTH) / (1.0 - P_NEITHER_BOTH)
            options = prepared.options
            answer = options[min(int(u_pick * len(options)), len(options) - 1)]
        # lognormal(0, 0.3) answer-time jitter via Box-Muller
        z = _sqrt(-2.0 * _log((c + 1) * _INV64)) * _cos(_TAU * d * _INV64)
        ms = self._typical_ms[labeler_id] * prepared.time_factor * _exp(0.3 * z)
        return answer, max(300, int(ms))

    def in_order(self, qualification: Qualification, key: str) -> list[int]:
        """The pool in a seeded order for one datapoint: who would answer first when
        labelers arrive at random (statistics and benchmarks feed a referee in this order)."""
        rng = random.Random(_h(self.seed, "order", qualification.audience_id, key))
        pool = list(qualification.pool)
        rng.shuffle(pool)
        return pool

    def _oracle_distribution(
        self, task: TaskSpec, allowed: list[str]
    ) -> list[tuple[str, float]] | None:
        if self.oracle is None:
            return None
        raw: Mapping[str, float] | None = self.oracle(task)
        if raw is None:
            return None
        dist = []
        for answer in allowed:
            w = float(raw.get(answer, 0.0))
            if w > 0.0 and math.isfinite(w):
                dist.append((answer, w))
        # An oracle with no usable mass says nothing about this datapoint.
        return dist or None


_FOUR = struct.Struct(">4Q")
_sqrt, _log, _cos, _exp = math.sqrt, math.log, math.cos, math.exp
_INV64 = 1.0 / 2.0**64
_TAU = 2.0 * math.pi


@dataclass(frozen=True, slots=True)
class Prepared:
    """A datapoint as the answer model sees it (``Crowd.prepare``)."""

    key: str
    options: list[str]
    allow_neither_both: bool
    shift: float  # GAMMA * (D_REF - effective difficulty), added to the labeler's logit skill
    truth: str
    names: list[str]  # oracle answers, with their cumulative probabilities
    cumulative: list[float]
    time_factor: float
    answer_hash: Any = field(compare=False, repr=False)
    """blake2b over ``"<seed>␟answer␟<key>␟"``: every answer's hash continues a copy of it."""


class _CustomQualification:
    """A custom audience's qualification, fed candidates in chunks.

    Every candidate passing the filters works through the examples (at least ``min_tasks``
    answers, cycling them); difficulty-weighted accuracy against ``target_accuracy`` decides
    Graduated / Dropped, a few are still Distilling. A graduate's user score is the posterior
    mean of their skill given which examples they got right, their global score as prior.
    """

    def __init__(
        self, crowd: Crowd, audience: AudienceSpec, target_accuracy: float, min_tasks: int
    ) -> None:
        examples = audience.examples
        if len(examples) < 3:
            raise ValueError(
                f"audience {audience.id!r} has {len(examples)} qualification example(s); "
                "a custom audience needs at least 3 before labelers can qualify"
            )
        for ex in examples:
            if len(ex.options) < 2:
                raise ValueError(f"example {ex.key!r}: needs at least 2 options")
            bad = [t for t in ex.truth if t not in ex.options]
            if not ex.truth or bad:
                raise ValueError(
                    f"example {ex.key!r}: truth {ex.truth!r} must be a non-empty subset of "
                    f"its options {ex.options!r}"
                )
        self.crowd = crowd
        self.audience = audience
        self.target_accuracy = target_accuracy
        self.difficulties = [crowd.difficulty(ex) for ex in examples]
        self.weights = [0.5 + d for d in self.difficulties]
        # Per example and per grid value of skill: log P(right), log P(wrong). A right answer
        # to a hard example separates skills far more than one to an easy example.
        self.log_right: list[list[float]] = []
        self.log_wrong: list[list[float]] = []
        for ex, d in zip(examples, self.difficulties, strict=True):
            chance = len(set(ex.truth)) / len(ex.options)
            d_eff = d + K_STEP * (len(ex.options) - 2)
            right_row, wrong_row = [], []
            for g in _GRID:
                q = _sigmoid(_logit(g) + GAMMA * (D_REF - d_eff))
                p = min(max(q + (1.0 - q) * chance, 1e-9), 1.0 - 1e-9)
                right_row.append(math.log(p))
                wrong_row.append(math.log(1.0 - p))
            self.log_right.append(right_row)
            self.log_wrong.append(wrong_row)
        self.n_trials = max(min_tasks, len(examples))
        self.scores: dict[int, float] = {}
        self.accuracy: dict[int, float] = {}
        self.ready_at: dict[int, float] = {}
        self.distilling = 0
        self.dropped = 0

    def add(self, candidates: Sequence[Labeler]) -> None:
        crowd, audience, examples = self.crowd, self.audience, self.audience.examples
        seed = crowd.seed
        for lab in candidates:
            if _unit(seed, "distilling", audience.id, lab.id) < DISTILLING_SHARE:
                self.distilling += 1
                continue
            rng = random.Random(_h(seed, "qualify", audience.id, lab.id))
            order = list(range(len(examples)))
            rng.shuffle(order)
            right = [0] * len(examples)
            shown = [0] * len(examples)
            for t in range(self.n_trials):
                j = order[t % len(order)]
                ex = examples[j]
                shown[j] += 1
                q = crowd.knowledge(lab, self.difficulties[j], len(ex.options))
                answer = rng.choice(ex.truth) if rng.random() < q else rng.choice(ex.options)
                right[j] += answer in ex.truth
            weights = self.weights
            acc = sum(w * r for w, r in zip(weights, right, strict=True)) / sum(
                w * n for w, n in zip(weights, shown, strict=True)
            )
            self.accuracy[lab.id] = acc
            if acc < self.target_accuracy:
                self.dropped += 1
                continue
            prior = crowd._global_scores[lab.id]
            logpost = [-((g - prior) ** 2) / (2 * _PRIOR_SD**2) for g in _GRID]
            for j in range(len(examples)):
                if shown[j]:
                    r, w = right[j], shown[j] - right[j]
                    lr, lw = self.log_right[j], self.log_wrong[j]
                    logpost = [lp + r * a + w * b for lp, a, b in zip(logpost, lr, lw, strict=True)]
            top = max(logpost)
            post = [math.exp(lp - top) for lp in logpost]
            self.scores[lab.id] = _clamp_score(
                sum(g * p for g, p in zip(_GRID, post, strict=True)) / sum(post)
            )
            # Graduating takes their answer time on every example shown, plus a start delay.
            pace = _unit(seed, "graduation", audience.id, lab.id)
            self.ready_at[lab.id] = self.n_trials * lab.typical_ms / 1000.0 * (0.7 + pace)

    def result(self) -> Qualification:
        states = {
            "Graduated": len(self.scores),
            "Distilling": self.distilling,
            "Dropped": self.dropped,
        }
        return Qualification(
            self.audience.id, "custom", self.scores, states, self.accuracy, self.ready_at
        )


def _check_task(task: TaskSpec) -> list[str]:
    options = list(task.options)
    if task.kind == "compare" and len(options) != 2:
        raise ValueError(
            f"task {task.key!r}: a compare task needs exactly 2 options, got {options}"
        )
    if len(options) < 2:
        raise ValueError(f"task {task.key!r}: needs at least 2 options, got {options}")
    if len(set(options)) != len(options):
        raise ValueError(f"task {task.key!r}: options must be distinct, got {options}")
    return options


# -- audience filters ----------------------------------------------------------------------------
def _field(f: Any, *names: str) -> Any:
    if isinstance(f, Mapping):
        for name in names:
            if name in f:
                return f[name]
        return None
    for name in names:
        if hasattr(f, name):
            return getattr(f, name)
    return None


def _filter_type(f: Any) -> str:
    if isinstance(f, Mapping):
        return str(f.get("_t", ""))
    return type(f).__name__


def _matches(lab: Labeler, f: Any) -> bool | None:
    """True/False for filters we understand, None (no opinion) for the rest."""
    kind = _filter_type(f)
    if kind == "CountryFilter":
        return lab.country in {str(c).upper() for c in _field(f, "countries") or []}
    if kind == "LanguageFilter":
        return lab.language in {str(c).lower() for c in _field(f, "languages") or []}
    if kind == "DemographicFilter":
        attr = {"age": lab.age, "gender": lab.gender, "occupation": lab.occupation}.get(
            str(_field(f, "identifier") or "").lower()
        )
        if attr is None:
            return None
        return attr in {str(v) for v in _field(f, "values") or []}
    if kind in ("AndFilter", "OrFilter"):
        votes = [v for v in (_matches(lab, g) for g in _field(f, "filters") or []) if v is not None]
        if not votes:
            return None
        return all(votes) if kind == "AndFilter" else any(votes)
    if kind == "NotFilter":
        inner = _matches(lab, _field(f, "filter"))
        return None if inner is None else not inner
    return None


def _passes_all(lab: Labeler, filters: Sequence[Any]) -> bool:
    return all(_matches(lab, f) is not False for f in filters)
