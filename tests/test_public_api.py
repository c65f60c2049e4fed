"""The public names: what users import must not change by accident."""

from __future__ import annotations

import pkgutil

import rapidata_async

EXPECTED = {
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
    "RateLimitError",
    "UnprocessableEntityError",
    "UploadProgress",
    "UploadTracker",
    "WaitTimeoutError",
    "__version__",
    "logger",
    "rapidata_config",
    "read_results",
    "save_credentials",
}


def test_exported_names_are_pinned_and_importable() -> None:
    assert set(rapidata_async.__all__) == EXPECTED
    for name in rapidata_async.__all__:
        assert getattr(rapidata_async, name) is not None, name


def test_modules_are_private_or_namespaces() -> None:
    # Public: the user-facing namespaces and the rooms of the local backend (route tables,
    # store, domain rules, crowd, job engine, app pages), whose insides are the backend's own.
    rooms = {"services", "store", "domain", "crowd", "engine", "web"}
    public = {"audience", "job", "local", "results", *rooms}
    for info in pkgutil.walk_packages(rapidata_async.__path__, "rapidata_async."):
        parts = info.name.split(".")[1:]
        inside_room = len(parts) > 2 and parts[0] == "local" and parts[1] in rooms
        if any(p.startswith("_") for p in parts[:-1]) or inside_room:
            continue  # inside a private package or a backend room
        assert parts[-1].startswith("_") or parts[-1] in public, info.name


def test_docs_names_exist() -> None:
    from rapidata_async.audience import RapidataAudience
    from rapidata_async.job import Job, JobDefinition, JobManager

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
        (Job, ["view", "get_status", "progress", "display_progress_bar", "get_results"]),
    ]:
        for name in names:
            assert callable(getattr(owner, name)), f"{owner.__name__}.{name}"
