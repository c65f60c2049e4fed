"""rapidata_async: an async-first SDK for the Rapidata human-labeling API.

    from rapidata_async import AsyncRapidataClient

    async with AsyncRapidataClient() as client:
        audience = (await client.audience.find_audiences("alignment"))[0]
        job_definition = await client.job.create_compare_job_definition(
            name="Example", instruction="Which image matches the description better?",
            datapoints=[["https://…/a.jpg", "https://…/b.jpg"]],
        )
        job = await audience.assign_job(job_definition)
        results = await job.get_results()

``rapidata_async.local.LocalBackend`` serves the same API offline.
"""

from ._client import AsyncRapidataClient
from ._config import rapidata_config
from ._credentials import save_credentials
from ._datapoint import Datapoint
from ._exceptions import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FailedUpload,
    FailedUploadException,
    FailedValidationRapid,
    FailedValidationRapidsException,
    FlowItemFailedError,
    InternalServerError,
    JobBlockedError,
    JobFailedError,
    MissingCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    RapidataApiError,
    RapidataConnectionError,
    RapidataError,
    RapidataResponseValidationError,
    RapidataStatusError,
    RapidataTimeoutError,
    RateLimitError,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from ._logging import logger
from ._settings import AllowNeitherBoth, Markdown, NoShuffle, RapidataSetting
from ._types import AudienceStatus, DataType, FlowItemState, JobState, OrderState
from ._uploads import UploadProgress, UploadTracker
from ._version import __version__
from .audience import (
    AgeFilter,
    AgeGroup,
    AndFilter,
    AudienceManager,
    CountryFilter,
    DemographicFilter,
    DeviceFilter,
    DeviceType,
    Gender,
    GenderFilter,
    LanguageFilter,
    NotFilter,
    OrFilter,
    RapidataAudience,
    RapidataFilter,
)
from .flow import (
    FlowItem,
    FlowItemResult,
    FlowManager,
    RankedDatapoint,
    RankingFlow,
    RankingFlowConfig,
)
from .job import Job, JobDefinition, JobManager, JobProgress, JobRevision, RapidataDataset
from .mri import (
    Origin,
    Participant,
    RapidataBenchmark,
    RapidataBenchmarkManager,
    RapidataLeaderboard,
    Standing,
    Standings,
    Tag,
    VoteAggregation,
)
from .order import (
    CappedSelection,
    LabelingSelection,
    OrderManager,
    OrderProgress,
    RapidataOrder,
    RapidataSelection,
    ShufflingSelection,
    ValidationSelection,
)
from .results import JobResults, read_results
from .validation import RapidataValidationSet, ValidationSetManager

__all__ = [
    "AgeFilter",
    "AgeGroup",
    "AllowNeitherBoth",
    "AndFilter",
    "AsyncRapidataClient",
    "AudienceManager",
    "AudienceStatus",
    "AuthenticationError",
    "BadRequestError",
    "CappedSelection",
    "ConflictError",
    "CountryFilter",
    "DataType",
    "Datapoint",
    "DemographicFilter",
    "DeviceFilter",
    "DeviceType",
    "FailedUpload",
    "FailedUploadException",
    "FailedValidationRapid",
    "FailedValidationRapidsException",
    "FlowItem",
    "FlowItemFailedError",
    "FlowItemResult",
    "FlowItemState",
    "FlowManager",
    "Gender",
    "GenderFilter",
    "InternalServerError",
    "Job",
    "JobBlockedError",
    "JobDefinition",
    "JobFailedError",
    "JobManager",
    "JobProgress",
    "JobResults",
    "JobRevision",
    "JobState",
    "LabelingSelection",
    "LanguageFilter",
    "Markdown",
    "MissingCredentialsError",
    "NoShuffle",
    "NotFilter",
    "NotFoundError",
    "OrFilter",
    "OrderManager",
    "OrderProgress",
    "OrderState",
    "Origin",
    "Participant",
    "PermissionDeniedError",
    "RankedDatapoint",
    "RankingFlow",
    "RankingFlowConfig",
    "RapidataApiError",
    "RapidataAudience",
    "RapidataBenchmark",
    "RapidataBenchmarkManager",
    "RapidataConnectionError",
    "RapidataDataset",
    "RapidataError",
    "RapidataFilter",
    "RapidataLeaderboard",
    "RapidataOrder",
    "RapidataResponseValidationError",
    "RapidataSelection",
    "RapidataSetting",
    "RapidataStatusError",
    "RapidataTimeoutError",
    "RapidataValidationSet",
    "RateLimitError",
    "ShufflingSelection",
    "Standing",
    "Standings",
    "Tag",
    "UnprocessableEntityError",
    "UploadProgress",
    "UploadTracker",
    "ValidationSelection",
    "ValidationSetManager",
    "VoteAggregation",
    "WaitTimeoutError",
    "__version__",
    "logger",
    "rapidata_config",
    "read_results",
    "save_credentials",
]
