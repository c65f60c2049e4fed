"""The public names: what users import must not change by accident."""

from __future__ import annotations

import inspect
import pkgutil
from inspect import Parameter
from typing import Any

import pytest

import rapidata_async

EXPECTED = {
    "AgeFilter",
    "AgeGroup",
    "AudienceStatus",
    "DataType",
    "DeviceType",
    "Gender",
    "GenderFilter",
    "JobRevision",
    "JobState",
    "RapidataFilter",
    "AllowNeitherBoth",
    "AndFilter",
    "AsyncRapidataClient",
    "AudienceManager",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CountryFilter",
    "Datapoint",
    "DemographicFilter",
    "DeviceFilter",
    "FailedUpload",
    "FailedUploadException",
    "FailedValidationRapid",
    "FailedValidationRapidsException",
    "FlowItem",
    "FlowItemFailedError",
    "FlowItemResult",
    "FlowItemState",
    "FlowManager",
    "InternalServerError",
    "Job",
    "JobBlockedError",
    "JobDefinition",
    "JobFailedError",
    "JobManager",
    "JobProgress",
    "JobResults",
    "LanguageFilter",
    "Markdown",
    "MissingCredentialsError",
    "NoShuffle",
    "NotFilter",
    "NotFoundError",
    "OrFilter",
    "Origin",
    "Participant",
    "RapidataBenchmark",
    "RapidataBenchmarkManager",
    "RapidataLeaderboard",
    "Standing",
    "Standings",
    "Tag",
    "VoteAggregation",
    "PermissionDeniedError",
    "RapidataApiError",
    "RapidataAudience",
    "RapidataConnectionError",
    "RapidataDataset",
    "RapidataError",
    "RapidataResponseValidationError",
    "RapidataSetting",
    "RapidataStatusError",
    "RapidataTimeoutError",
    "RankedDatapoint",
    "RankingFlow",
    "RankingFlowConfig",
    "RateLimitError",
    "UnprocessableEntityError",
    "UploadProgress",
    "UploadTracker",
    "WaitTimeoutError",
    "RapidataValidationSet",
    "ValidationSetManager",
    "__version__",
    "logger",
    "rapidata_config",
    "read_results",
    "save_credentials",
    # legacy orders (client.order) and their selections
    "OrderManager",
    "RapidataOrder",
    "OrderProgress",
    "OrderState",
    "RapidataSelection",
    "LabelingSelection",
    "ValidationSelection",
    "CappedSelection",
    "ShufflingSelection",
}


def test_exported_names_are_pinned_and_importable() -> None:
    assert set(rapidata_async.__all__) == EXPECTED
    for name in rapidata_async.__all__:
        assert getattr(rapidata_async, name) is not None, name


def test_modules_are_private_or_namespaces() -> None:
    # Public: the user-facing namespaces and the rooms of the local backend (route tables,
    # store, domain rules, crowd, job engine, app pages), whose insides are the backend's own.
    rooms = {"services", "store", "domain", "crowd", "engine", "web"}
    public = {"audience", "flow", "job", "local", "mri", "order", "results", "validation", *rooms}
    for info in pkgutil.walk_packages(rapidata_async.__path__, "rapidata_async."):
        parts = info.name.split(".")[1:]
        inside_room = len(parts) > 2 and parts[0] == "local" and parts[1] in rooms
        if any(p.startswith("_") for p in parts[:-1]) or inside_room:
            continue  # inside a private package or a backend room
        assert parts[-1].startswith("_") or parts[-1] in public, info.name


def test_docs_names_exist() -> None:
    from rapidata_async.audience import RapidataAudience
    from rapidata_async.flow import FlowItem, FlowManager, RankingFlow
    from rapidata_async.job import Job, JobDefinition, JobManager
    from rapidata_async.mri import RapidataBenchmark, RapidataBenchmarkManager, RapidataLeaderboard
    from rapidata_async.order import OrderManager, RapidataOrder

    for owner, names in [
        (
            JobManager,
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
            RapidataAudience,
            ["add_compare_example", "add_classification_example", "assign_job", "find_jobs"],
        ),
        (JobDefinition, ["preview"]),
        (FlowManager, ["create_ranking_flow", "find_flows", "get_flow_by_id"]),
        (RankingFlow, ["create_new_flow_batch", "get_flow_items", "update_config", "delete"]),
        (
            FlowItem,
            [
                "get_status",
                "get_results",
                "get_win_loss_matrix",
                "get_response_count",
                "progress",
            ],
        ),
        (
            RapidataBenchmarkManager,
            ["create_new_benchmark", "get_benchmark_by_id", "find_benchmarks"],
        ),
        (
            RapidataBenchmark,
            ["create_leaderboard", "evaluate_model", "leaderboards", "prompts", "add_prompt"],
        ),
        (RapidataLeaderboard, ["get_standings", "view"]),
        (
            OrderManager,
            [
                "create_compare_order",
                "create_classification_order",
                "get_order_by_id",
                "find_orders",
            ],
        ),
        (
            RapidataOrder,
            ["run", "get_status", "progress", "display_progress_bar", "get_results", "view"],
        ),
        (Job, ["view", "get_status", "progress", "display_progress_bar", "get_results"]),
    ]:
        for name in names:
            assert callable(getattr(owner, name)), f"{owner.__name__}.{name}"


# -- signatures pinned against the official client -------------------------------------------
# The docs' calls exist in the official 3.27.1 client too; ported code must bind its arguments
# the same way. For each call: our positional parameters are the official's first ones (same
# names, same order), shared parameters have the same defaults, and every difference is listed
# here with its reason. A new difference, or a listed one that went away, fails the test.
KW = "keyword-only"  # the official client takes it positionally too; we take it by name only
BY_NAME = "by name only, as every docs example passes it; the order after it is free"
NO_LEEWAY = "tokens are renewed 60 s before expiry, not configurable"

SIGNATURE_DIFFERENCES: dict[str, dict[tuple[str, str], str]] = {
    "AsyncRapidataClient.__init__": {
        (KW, "environment"): "by name only: the official positional order ends at the secret",
        (KW, "cert_path"): BY_NAME,
        (KW, "token"): BY_NAME,
        ("extra", "api_url"): "a local backend needs explicit URLs, not api.{environment}",
        ("extra", "auth_url"): "as api_url, for the token endpoint",
        ("extra", "app_url"): "as api_url, for preview()/view() links",
        ("extra", "timeout"): "per-client override of rapidata_config's request timeout",
        ("extra", "max_retries"): "per-client override of rapidata_config's retry count",
        (
            "extra",
            "base_url",
        ): "one URL for a local backend: API, token and app URLs derive from it",
        ("extra", "connect_timeout"): "per-client override of the connect timeout",
        ("missing", "oauth_scope"): "the scope is fixed to the one the API expects",
        ("missing", "token_file"): "credentials come from arguments, env or save_credentials()",
        ("missing", "leeway"): NO_LEEWAY,
    },
    "JobManager.create_compare_job_definition": {
        ("extra", "upload_progress"): "an UploadTracker that observes the upload",
    },
    "JobManager.create_classification_job_definition": {
        ("extra", "upload_progress"): "an UploadTracker that observes the upload",
    },
    "JobDefinition.preview": {
        ("extra", "open_browser"): "returns the URL; opens a browser only when asked",
    },
    "Job.view": {
        ("extra", "open_browser"): "returns the URL; opens a browser only when asked",
    },
    "Job.display_progress_bar": {
        ("default", "refresh_rate"): "None polls fast at first, then every 5 s; a number caps "
        "the interval as in the official client",
        ("extra", "timeout"): "a total deadline on the wait (WaitTimeoutError)",
    },
    "ValidationSetManager.create_compare_set": {
        ("default", "dimensions"): "() rather than a shared mutable []; the same empty default",
    },
    "ValidationSetManager.create_classification_set": {
        ("default", "dimensions"): "() rather than a shared mutable []; the same empty default",
    },
    "RapidataValidationSet.view": {
        ("extra", "open_browser"): "returns the URL; opens a browser only when asked",
    },
    "RapidataBenchmarkManager.create_new_benchmark": {
        ("extra", "upload_progress"): "an UploadTracker that observes the prompt upload",
    },
    "RapidataBenchmark.add_prompts": {
        ("extra", "upload_progress"): "an UploadTracker that observes the prompt upload",
    },
    "RapidataBenchmark.evaluate_model": {
        ("extra", "upload_progress"): "an UploadTracker that observes the sample upload",
    },
    "RapidataBenchmark.create_leaderboard": {
        ("default", "vote_aggregation"): "None means majority vote (the official default is "
        "its own enum member; ours takes VoteAggregation or its value)",
    },
    "RapidataBenchmark.view": {
        ("extra", "open_browser"): "returns the URL; opens a browser only when asked",
    },
    "RapidataLeaderboard.view": {
        ("extra", "open_browser"): "returns the URL; opens a browser only when asked",
    },
    "Job.get_results": {
        ("missing", "preliminary_results"): "the preliminary download is not in the API subset",
        ("extra", "timeout"): "a total deadline on the wait (WaitTimeoutError)",
    },
}

PINNED_CALLS = [
    ("RapidataClient", "AsyncRapidataClient", ["__init__"]),
    (
        "RapidataAudienceManager",
        "AudienceManager",
        ["find_audiences", "get_audience_by_id", "create_audience"],
    ),
    (
        "RapidataAudience",
        "RapidataAudience",
        [
            "add_compare_example",
            "add_classification_example",
            "assign_job",
            "find_jobs",
            "start_recruiting",
        ],
    ),
    (
        "RapidataJobManager",
        "JobManager",
        [
            "create_compare_job_definition",
            "create_classification_job_definition",
            "find_job_definitions",
            "get_job_definition_by_id",
            "find_jobs",
            "get_job_by_id",
        ],
    ),
    ("RapidataJobDefinition", "JobDefinition", ["preview"]),
    (
        "RapidataBenchmarkManager",
        "RapidataBenchmarkManager",
        ["create_new_benchmark", "get_benchmark_by_id", "find_benchmarks"],
    ),
    (
        "RapidataBenchmark",
        "RapidataBenchmark",
        ["add_prompts", "create_leaderboard", "evaluate_model", "run", "view"],
    ),
    ("RapidataLeaderboard", "RapidataLeaderboard", ["get_standings", "view"]),
    (
        "RapidataJob",
        "Job",
        ["get_status", "get_progress", "display_progress_bar", "get_results", "view"],
    ),
    (
        "ValidationSetManager",
        "ValidationSetManager",
        [
            "create_compare_set",
            "create_classification_set",
            "get_validation_set_by_id",
            "find_validation_sets",
        ],
    ),
    ("RapidataValidationSet", "RapidataValidationSet", ["view", "update_dimensions"]),
]


def signature_differences(official: Any, ours: Any) -> set[tuple[str, str]]:
    """How ``ours`` binds arguments differently from ``official`` (``self`` left out)."""
    positional_kinds = (Parameter.POSITIONAL_ONLY, Parameter.POSITIONAL_OR_KEYWORD)
    theirs = [p for p in inspect.signature(official).parameters.values() if p.name != "self"]
    mine = [p for p in inspect.signature(ours).parameters.values() if p.name != "self"]
    by_name = {p.name: p for p in theirs}
    out = {("missing", p.name) for p in theirs if p.name not in {q.name for q in mine}}
    for p in mine:
        other = by_name.get(p.name)
        if other is None:
            assert p.kind is Parameter.KEYWORD_ONLY, f"extra parameter {p.name} is positional"
            out.add(("extra", p.name))
            continue
        if p.kind is not other.kind:
            out.add((KW if p.kind is Parameter.KEYWORD_ONLY else "kind", p.name))
        if p.default != other.default:
            out.add(("default", p.name))
    positional = [p.name for p in mine if p.kind in positional_kinds]
    if positional != [p.name for p in theirs[: len(positional)]]:
        out.add(("order", ",".join(positional)))
    return out


def test_signatures_match_the_official_client() -> None:
    official = pytest.importorskip("rapidata", reason="optional extra: dev (the official client)")
    from rapidata_async.audience import RapidataAudience
    from rapidata_async.job import Job, JobDefinition, JobManager

    ours = {
        "AsyncRapidataClient": rapidata_async.AsyncRapidataClient,
        "AudienceManager": rapidata_async.AudienceManager,
        "RapidataAudience": RapidataAudience,
        "JobManager": JobManager,
        "JobDefinition": JobDefinition,
        "Job": Job,
        "RapidataBenchmarkManager": rapidata_async.RapidataBenchmarkManager,
        "RapidataBenchmark": rapidata_async.RapidataBenchmark,
        "RapidataLeaderboard": rapidata_async.RapidataLeaderboard,
        "ValidationSetManager": rapidata_async.ValidationSetManager,
        "RapidataValidationSet": rapidata_async.RapidataValidationSet,
    }
    from rapidata.rapidata_client.benchmark.leaderboard.rapidata_leaderboard import (
        RapidataLeaderboard,
    )
    from rapidata.rapidata_client.benchmark.rapidata_benchmark import RapidataBenchmark
    from rapidata.rapidata_client.benchmark.rapidata_benchmark_manager import (
        RapidataBenchmarkManager,
    )

    theirs = {  # not exported at the official package's top level
        "RapidataBenchmarkManager": RapidataBenchmarkManager,
        "RapidataBenchmark": RapidataBenchmark,
        "RapidataLeaderboard": RapidataLeaderboard,
    }
    seen = {}
    for official_name, our_name, methods in PINNED_CALLS:
        official_cls = theirs.get(official_name) or getattr(official, official_name)
        for method in methods:
            key = f"{our_name}.{method}"
            seen[key] = signature_differences(
                getattr(official_cls, method),
                getattr(ours[our_name], method),
            )
    expected = {key: set(SIGNATURE_DIFFERENCES.get(key, {})) for key in seen}
    assert seen == expected
    assert set(SIGNATURE_DIFFERENCES) <= set(seen)  # no listing for a call we do not compare
