"""The calls ported from the official SDK: the same names, parameters, order and defaults as
3.27.1 (our extras come after them, keyword-only), and their behaviour on the local backend:
audience filters, stopping rules, failure tolerance, qualification examples."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from rapidata_async import (
    AgeFilter,
    AgeGroup,
    AndFilter,
    AsyncRapidataClient,
    CountryFilter,
    DemographicFilter,
    DeviceFilter,
    DeviceType,
    FailedUploadException,
    Gender,
    GenderFilter,
    LanguageFilter,
    NotFilter,
    OrFilter,
)
from rapidata_async.audience import AudienceManager, RapidataAudience
from rapidata_async.flow import FlowItem, FlowManager, RankingFlow
from rapidata_async.job import JobManager

rapidata = pytest.importorskip("rapidata")


def _official() -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    from rapidata.rapidata_client.audience.rapidata_audience import (
        RapidataAudience as TheirAudience,
    )
    from rapidata.rapidata_client.audience.rapidata_audience_manager import (
        RapidataAudienceManager,
    )
    from rapidata.rapidata_client.flow.rapidata_flow_item import RapidataFlowItem
    from rapidata.rapidata_client.flow.rapidata_flow_manager import RapidataFlowManager
    from rapidata.rapidata_client.flow.rapidata_ranking_flow import RapidataRankingFlow
    from rapidata.rapidata_client.job.rapidata_job_manager import RapidataJobManager

    pairs: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {}
    for ours, theirs, names in [
        (
            JobManager,
            RapidataJobManager,
            [
                "create_compare_job_definition",
                "create_classification_job_definition",
                "find_job_definitions",
                "get_job_definition_by_id",
                "find_jobs",
                "get_job_by_id",
            ],
        ),
        (
            AudienceManager,
            RapidataAudienceManager,
            ["create_audience", "find_audiences", "get_audience_by_id"],
        ),
        (
            RapidataAudience,
            TheirAudience,
            [
                "add_compare_example",
                "add_classification_example",
                "assign_job",
                "find_jobs",
                "start_recruiting",
                "get_examples",
            ],
        ),
        (
            FlowManager,
            RapidataFlowManager,
            ["create_ranking_flow", "find_flows", "get_flow_by_id"],
        ),
        (
            RankingFlow,
            RapidataRankingFlow,
            ["create_new_flow_batch", "get_flow_items", "update_config", "delete"],
        ),
        (
            FlowItem,
            RapidataFlowItem,
            ["get_status", "get_results", "get_win_loss_matrix", "get_response_count"],
        ),
    ]:
        for name in names:
            pairs[f"{ours.__name__}.{name}"] = (getattr(ours, name), getattr(theirs, name))
    for cls in (
        CountryFilter,
        LanguageFilter,
        AgeFilter,
        GenderFilter,
        DeviceFilter,
        AndFilter,
        OrFilter,
        NotFilter,
    ):
        pairs[cls.__name__] = (cls, getattr(rapidata, cls.__name__))
    return pairs


PAIRS = _official()


def _params(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_parameters_match_the_official_sdk(name: str) -> None:
    ours, theirs = (_params(f) for f in PAIRS[name])
    expected = [(p.name, p.kind, p.default) for p in theirs]
    got = [(p.name, p.kind, p.default) for p in ours[: len(theirs)]]
    assert got == expected, name
    for extra in ours[len(theirs) :]:  # ours only: after theirs, by keyword, optional
        assert extra.kind is inspect.Parameter.KEYWORD_ONLY, (name, extra.name)
        assert extra.default is not inspect.Parameter.empty, (name, extra.name)


@pytest.mark.parametrize("ours", [AgeGroup, Gender, DeviceType])
def test_filter_enums_match_the_official_sdk(ours: Any) -> None:
    theirs = getattr(rapidata, ours.__name__)
    # The official values are the API client's enums; compare what goes on the wire.
    their_values = {m.name: getattr(m.value, "value", m.value) for m in theirs}
    assert {m.name: m.value for m in ours} == their_values


# -- filters ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: CountryFilter(["US", "XX"]), "CountryFilter: country_codes[1] 'XX'"),
        (lambda: CountryFilter(["USA"]), "CountryFilter: country_codes[0] 'USA'"),
        (lambda: CountryFilter("US"), "CountryFilter: country_codes must be a non-empty list"),
        (lambda: CountryFilter([]), "CountryFilter: country_codes must be a non-empty list"),
        (lambda: LanguageFilter(["english"]), "LanguageFilter: language_codes[0] 'english'"),
        (lambda: LanguageFilter(["en", "xx"]), "LanguageFilter: language_codes[1] 'xx'"),
        (lambda: AgeFilter(["18-30"]), "AgeFilter: age_groups[0] '18-30'"),
        (lambda: GenderFilter(["female"]), "GenderFilter: genders[0] 'female'"),
        (lambda: DeviceFilter(["Laptop"]), "DeviceFilter: device_types[0] 'Laptop'"),
        (lambda: AndFilter([]), "AndFilter: filters must be a non-empty list"),
        (lambda: OrFilter([CountryFilter(["US"]), "DE"]), "OrFilter: filters[1]"),
        (lambda: NotFilter("US"), "NotFilter: filter must be a filter"),
    ],
)
def test_filters_check_codes_when_built(build: Callable[[], Any], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        build()
    assert fragment in str(info.value)


def test_filter_operators_and_case() -> None:
    us, de = CountryFilter(["us"]), CountryFilter(["DE"])
    assert us.country_codes == ["US"]
    assert LanguageFilter(["EN"]).language_codes == ["en"]
    en = LanguageFilter(["en"])
    assert (us & de) & en == AndFilter([us, de, en])  # one level, not nested
    assert us | (de | en) == OrFilter([us, de, en])
    assert ~us == NotFilter(us)
    assert AgeFilter(["18-29", AgeGroup.OVER_65]).age_groups == [
        AgeGroup.BETWEEN_18_29,
        AgeGroup.OVER_65,
    ]


async def test_filters_round_trip_through_the_backend(client: AsyncRapidataClient) -> None:
    filters = [
        CountryFilter(["de", "AT"]) & ~LanguageFilter(["en"]),
        AgeFilter([AgeGroup.BETWEEN_18_29, "30-39"]) | GenderFilter([Gender.FEMALE]),
        DeviceFilter([DeviceType.PHONE]),
        DemographicFilter("occupation", ["Student"]),
    ]
    created = await client.audience.create_audience("Filtered audience", filters)
    assert created.filters == filters
    fetched = await client.audience.get_audience_by_id(created.id)
    assert fetched.filters == filters


async def test_create_audience_names_a_bad_filter(client: AsyncRapidataClient) -> None:
    with pytest.raises(ValueError, match=r"filters\[1\]: expected a filter"):
        await client.audience.create_audience(
            "Bad filters",
            [CountryFilter(["US"]), {"_t": "CountryFilter", "countries": ["US"]}],  # type: ignore[list-item]
        )


# -- stopping rules and failure tolerance ------------------------------------------------------
async def test_quorum_threshold_stops_once_enough_agree(client: AsyncRapidataClient) -> None:
    definition = await client.job.create_classification_job_definition(
        "Quorum",
        "Is this a greeting?",
        ["Yes", "No"],
        ["hello", "goodbye", "the sky"],
        "text",
        5,
        quorum_threshold=2,
    )
    revision = await definition.get_revision()
    assert (revision.quorum_threshold, revision.responses_per_datapoint) == (2, 5)
    assert revision.confidence_threshold is None
    audience = await client.audience.get_audience_by_id("global")
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    assert len(results.results) == 3
    for r in results.results:
        counts = r.aggregated_results.values()
        assert max(counts) == 2 and sum(counts) <= 3  # two options: 2 agree within 3


async def test_stopping_rules_are_exclusive_and_checked(client: AsyncRapidataClient) -> None:
    with pytest.raises(ValueError, match="not both"):
        await client.job.create_compare_job_definition(
            "Both", "Which?", [["a", "b"]], "text", confidence_threshold=0.9, quorum_threshold=3
        )
    with pytest.raises(ValueError, match="quorum_threshold: 11"):
        await client.job.create_compare_job_definition(
            "Too many", "Which?", [["a", "b"]], "text", 10, quorum_threshold=11
        )
    with pytest.raises(ValueError, match="failure_tolerance: must be between"):
        await client.job.create_compare_job_definition(
            "Tolerance", "Which?", [["a", "b"]], "text", failure_tolerance=1.5
        )


def _images(tmp_path: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        path = tmp_path / f"tolerance_{i}.jpg"
        path.write_bytes(b"\xff\xd8\xff" + bytes([i]) * 64)
        paths.append(str(path))
    return paths


async def test_failures_within_tolerance_create_the_definition(
    client: AsyncRapidataClient, tmp_path: Path
) -> None:
    files = [*_images(tmp_path, 3), str(tmp_path / "missing.jpg")]
    definition = await client.job.create_classification_job_definition(
        "Tolerant", "What?", ["a", "b"], files, responses_per_datapoint=1, failure_tolerance=0.25
    )
    audience = await client.audience.get_audience_by_id("global")
    job = await audience.assign_job(definition)
    with anyio.fail_after(30):
        results = await job.get_results()
    assert len(results.results) == 3


async def test_beyond_tolerance_raises_without_a_definition(
    client: AsyncRapidataClient, tmp_path: Path
) -> None:
    missing = [str(tmp_path / "gone.jpg")]
    with pytest.raises(FailedUploadException) as info:
        # Even a full tolerance needs one datapoint that landed.
        await client.job.create_classification_job_definition(
            "Nothing landed", "What?", ["a", "b"], missing, failure_tolerance=1.0
        )
    assert info.value.job_definition is None and info.value.dataset is not None
    with pytest.raises(FailedUploadException):
        await info.value.retry()  # still missing
    Path(missing[0]).write_bytes(b"\xff\xd8\xff now here")
    definition = await info.value.retry()
    assert definition.dataset_id == info.value.dataset.id


# -- qualification examples --------------------------------------------------------------------
async def test_get_examples_pages_what_was_added(client: AsyncRapidataClient) -> None:
    audience = await client.audience.create_audience("Examples audience")
    empty = await audience.get_examples()
    assert empty.columns == ["id", "asset", "truth", "context", "contextAsset"]
    assert empty.height == 0
    await audience.add_compare_example("Which is polite?", "please", ["please", "go away"], "text")
    await audience.add_classification_example(
        "Greeting?", ["Yes", "No"], "hello", ["Yes"], "text", context="A note"
    )
    await audience.add_compare_example("Which is shorter?", "hi", ["hi", "hello"], "text")

    first = await audience.get_examples(amount=2)
    second = await audience.get_examples(2, 2)
    assert (first.height, second.height) == (2, 1)
    rows = first.to_dicts() + second.to_dicts()
    assert len({r["id"] for r in rows}) == 3
    assert [r["truth"] for r in rows] == ["please", "['Yes']", "hi"]
    assert rows[0]["asset"] == "['please', 'go away']"
    assert (rows[1]["asset"], rows[1]["context"], rows[1]["contextAsset"]) == (
        "hello",
        "A note",
        None,
    )
    with pytest.raises(ValueError, match="page"):
        await audience.get_examples(page=0)
