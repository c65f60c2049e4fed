"""Every error the SDK raises on purpose.

::

    RapidataError
      RapidataApiError(message, *, method, url, body)      a call to the API went wrong
        RapidataConnectionError                            no usable answer (refused, reset, ...)
          RapidataTimeoutError                             connect/read/total timeout
        RapidataResponseValidationError                    a 2xx body did not match its schema
        RapidataStatusError(status_code, trace_id, title, errors)
          BadRequestError            400
          AuthenticationError        401 (and OAuth errors of the token endpoint)
          PermissionDeniedError      403
          NotFoundError              404
          ConflictError              409
          UnprocessableEntityError   422
          RateLimitError             429
          InternalServerError        5xx
      FailedUploadException(failed_uploads, detailed_failures, dataset, job_definition, order)
      FailedValidationRapidsException(validation_set, failures)   (also a RuntimeError)
      MissingCredentialsError                              no client id/secret found anywhere
      JobFailedError                                       a job ended in state Failed
      JobBlockedError                                      a job can't progress without a person
      FlowItemFailedError                                  a ranking flow item ended in Failed
      WaitTimeoutError (also a TimeoutError)               a wait passed its own deadline

Catch ``RapidataStatusError`` and read ``status_code``, ``title``, ``errors`` (field -> messages)
and ``trace_id`` (quote it when reporting a problem)::

    try:
        await client.job.get_job_by_id("nope")
    except NotFoundError as exc:
        print(exc.status_code, exc.title, exc.trace_id)

The transport maps every aiohttp and msgspec exception to one of these and chains the original
with ``raise ... from exc``, so no third-party exception type reaches users.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from ._wire.common import ProblemDetails

T = TypeVar("T")

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "FailedUpload",
    "FailedUploadException",
    "FailedValidationRapid",
    "FailedValidationRapidsException",
    "FlowItemFailedError",
    "InternalServerError",
    "JobBlockedError",
    "JobFailedError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RapidataApiError",
    "RapidataConnectionError",
    "RapidataError",
    "RapidataResponseValidationError",
    "RapidataStatusError",
    "RapidataTimeoutError",
    "RateLimitError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "status_error_class",
]


def _restore(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class RapidataError(Exception):
    """Base of every exception raised by rapidata_async."""

    def __reduce__(self) -> Any:
        # Subclasses take keyword-only arguments, which the default Exception pickling (it
        # replays ``cls(*args)``) cannot pass; rebuild from the instance dict instead.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class RapidataApiError(RapidataError):
    """A call to the Rapidata API failed.

    ``method`` and ``url`` identify the call; ``body`` is the decoded ProblemDetails of the
    answer when there was one.
    """

    def __init__(
        self, message: str, *, method: str, url: str, body: ProblemDetails | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.body = body

    @property
    def path(self) -> str:
        """The URL path of the failed call (no host, no query)."""
        return urlsplit(self.url).path or "/"

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.message}"


class RapidataConnectionError(RapidataApiError):
    """The server could not be reached or the connection broke before a full answer."""

    def __init__(self, message: str = "Connection error.", *, method: str, url: str) -> None:
        super().__init__(message, method=method, url=url)


class RapidataTimeoutError(RapidataConnectionError):
    """A connect, read or total timeout expired."""

    def __init__(self, message: str = "Request timed out.", *, method: str, url: str) -> None:
        super().__init__(message, method=method, url=url)


class RapidataResponseValidationError(RapidataApiError):
    """A successful answer did not match the expected schema (wraps msgspec's error)."""

    def __init__(
        self, message: str, *, method: str, url: str, status_code: int | None = None
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code


class RapidataStatusError(RapidataApiError):
    """The API answered with a status the call did not expect.

    ``title`` is the ProblemDetails title (else the body's ``message``/``error``, else the HTTP
    reason), ``errors`` maps request fields to messages, ``trace_id`` comes from the
    ``x-trace-id`` header or the body's ``traceId``.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status_code: int,
        body: ProblemDetails | None = None,
        trace_id: str | None = None,
        title: str | None = None,
        errors: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, body=body)
        self.status_code = status_code
        self.trace_id = trace_id
        self.title: str = title if title is not None else message
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}

    @property
    def detail(self) -> str | None:
        """ProblemDetails ``detail``: a longer explanation, when the server gave one."""
        return self.body.detail if self.body is not None else None

    def __str__(self) -> str:
        try:
            reason = HTTPStatus(self.status_code).phrase
        except ValueError:
            reason = ""
        head = f"{self.method} {self.path} -> {self.status_code} {reason}".rstrip()
        lines = [head if self.title == reason else f"{head}: {self.title}"]
        if self.detail and self.detail != self.title:
            lines.append(f"  {self.detail}")
        for name, messages in self.errors.items():
            lines.extend(f"  {name}: {msg}" for msg in messages)
        if self.trace_id:
            lines.append(f"  trace id: {self.trace_id}")
        return "\n".join(lines)


class BadRequestError(RapidataStatusError):
    """400: the request was malformed; ``errors`` names the offending fields."""


class AuthenticationError(RapidataStatusError):
    """401, or the token endpoint rejected the client credentials."""


class PermissionDeniedError(RapidataStatusError):
    """403: authenticated, but not allowed to do this."""


class NotFoundError(RapidataStatusError):
    """404: no such resource."""


class ConflictError(RapidataStatusError):
    """409: the resource already exists or is in the wrong state."""


class UnprocessableEntityError(RapidataStatusError):
    """422: well-formed but semantically invalid request."""


class RateLimitError(RapidataStatusError):
    """429: too many requests, still limited after the transport's retries."""


class InternalServerError(RapidataStatusError):
    """5xx: the server failed, still failing after the transport's retries."""


_STATUS_CLASSES: dict[int, type[RapidataStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[RapidataStatusError]:
    """The exception class for an unexpected HTTP status (the one place this is decided)."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, RapidataStatusError)


@dataclass(frozen=True)
class FailedUpload(Generic[T]):
    """One datapoint (``item``) that could not be uploaded, and why.

    ``error_type`` is ``"AssetUploadFailed"`` when an asset of the datapoint failed (``stage``
    then says where: read, upload, batch-submit, batch, or the server's URL-ingestion stage),
    else the class name of the error that failed the datapoint itself (e.g.
    ``"BadRequestError"``, stage ``datapoint``); ``trace_id`` is the server's trace id when
    the failure came from an API answer. ``reason`` is the message without what names the
    item (a file name, a URL), so that equal causes group together; None when the message
    names nothing.
    """

    item: T
    error_message: str
    error_type: str
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    exception: BaseException | None = None
    stage: str | None = None
    trace_id: str | None = None
    reason: str | None = None


class FailedUploadException(RapidataError):
    """Some datapoints failed to upload; the rest went through.

    ``failed_uploads`` are the failed items themselves (ready to be retried, e.g. with
    ``await exc.dataset.add_datapoints(exc.failed_uploads)``), ``detailed_failures`` one
    ``FailedUpload`` per failure. ``dataset``, ``job_definition`` and ``order`` are the
    objects created so far (``None`` when not created). Raised by ``create_*_job_definition``
    when more datapoints failed than ``failure_tolerance`` allows: then no job definition
    exists yet, and ``retry()`` uploads the failed ones again and creates it. Raised likewise
    by a ranking flow's ``create_new_flow_batch`` (unless ``accept_failed_uploads``): the flow
    item does not exist yet, and ``retry()`` uploads the failed ones again and creates it.
    Raised by the legacy ``create_*_order`` likewise, but the order exists already
    (``order``); ``retry()`` uploads into its dataset and returns it.

    MRI raises it too: for prompts (``create_new_benchmark``, ``add_prompts``; ``benchmark``
    holds the ones that landed, ``retry()`` adds the failed ones) and for samples
    (``evaluate_model``; ``participant`` exists unsubmitted, ``retry()`` uploads what the
    server still lacks and submits it).
    """

    _retry: Callable[[], Awaitable[Any]] | None = None

    def __init__(
        self,
        failed_uploads: Sequence[Any],
        detailed_failures: Sequence[FailedUpload[Any]],
        dataset: Any = None,
        job_definition: Any = None,
        order: Any = None,
        *,
        benchmark: Any = None,
        participant: Any = None,
    ) -> None:
        self.failed_uploads: list[Any] = list(failed_uploads)
        self.detailed_failures: list[FailedUpload[Any]] = list(detailed_failures)
        self.dataset = dataset
        self.job_definition = job_definition
        self.order = order
        self.benchmark = benchmark
        """MRI: the benchmark whose prompts failed (it exists, with the prompts that landed)."""
        self.participant = participant
        """MRI: the participant whose samples failed (created, not yet submitted)."""
        super().__init__(self._summary())

    async def retry(self) -> Any:
        """Upload the failed datapoints again into the same dataset, then create the job
        definition if the failures now stay within the tolerance; returns the
        ``JobDefinition`` (the ``RapidataOrder`` for a legacy order), or raises
        ``FailedUploadException`` again (retry that one in turn). For a failed
        ``create_new_flow_batch`` it creates and returns the ``FlowItem`` once every datapoint
        is in; for MRI prompts and samples see above."""
        if self._retry is None:
            raise RuntimeError(
                "retry() is only available when creating a job definition, an order or a flow "
                "batch, adding prompts or evaluating a model failed; upload the failed "
                "datapoints with `await e.dataset.add_datapoints(e.failed_uploads)`"
            )
        return await self._retry()

    @property
    def failures_by_reason(self) -> dict[str, list[Any]]:
        """Failed items grouped by cause (``FailedUpload.reason``, else the message), in order
        of first occurrence: 500 missing files are one key, not 500."""
        grouped: dict[str, list[Any]] = {}
        for failure in self.detailed_failures:
            grouped.setdefault(failure.reason or failure.error_message, []).append(failure.item)
        return grouped

    def _summary(self) -> str:
        count = len(self.failed_uploads) or len(self.detailed_failures)
        base = "sample" if self.participant else "prompt" if self.benchmark else "datapoint"
        noun = base if count == 1 else f"{base}s"
        created = [
            f"{label} {ident}"
            for label, obj in (
                ("dataset", self.dataset),
                ("job definition", self.job_definition),
                ("order", self.order),
                ("benchmark", self.benchmark),
                ("participant", self.participant),
            )
            if (ident := _identify(obj)) is not None
        ]
        lines = [f"{count} {noun} failed to upload"]
        if created:
            lines[0] += f" ({', '.join(created)})"
        lines[0] += ":"
        for reason, items in self.failures_by_reason.items():
            lines.append(f"  {len(items)} x {reason}")
        lines.append("See .failures_by_reason and .detailed_failures for each item.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._summary()


@dataclass(frozen=True)
class FailedValidationRapid:
    """One rapid of a validation set that could not be added: its position in the
    ``datapoints`` given (``index``), the datapoint itself, and why. ``error_type`` is
    ``"AssetUploadFailed"`` when one of its assets failed to upload, else the class name of the
    error ``POST /validation-set/{id}/rapid`` raised (e.g. ``"BadRequestError"``)."""

    index: int
    datapoint: Any
    error_message: str
    error_type: str
    exception: BaseException | None = None
    trace_id: str | None = None


class FailedValidationRapidsException(RapidataError, RuntimeError):
    """Some rapids of a new validation set could not be added; every rapid was tried and the
    others are in the set. ``validation_set`` is the set (it exists), ``failures`` one
    ``FailedValidationRapid`` per failed rapid, in input order. A ``RuntimeError`` too, as the
    official client raises."""

    def __init__(self, validation_set: Any, failures: Sequence[FailedValidationRapid]) -> None:
        self.validation_set = validation_set
        self.failures: list[FailedValidationRapid] = list(failures)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.failures)
        noun = "rapid" if count == 1 else "rapids"
        where = _identify(self.validation_set)
        head = f"{count} validation {noun} could not be added"
        if where is not None:
            head += f" to validation set {where}"
        lines = [head + " (the others were):"]
        for f in self.failures:
            lines.append(f"  datapoints[{f.index}] {f.datapoint!r}: {f.error_message}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._summary()


class MissingCredentialsError(RapidataError):
    """No client credentials in the arguments, the environment or the credentials file."""


class JobFailedError(RapidataError):
    """The job ended in state ``Failed``; the message carries the server's reason."""


class JobBlockedError(RapidataError):
    """The job cannot progress on its own (needs approval, a spend limit raised, or an
    audience that can produce responses)."""


class FlowItemFailedError(RapidataError):
    """A ranking flow item ended in state ``Failed``; the message carries the server's reason."""


class WaitTimeoutError(RapidataError, TimeoutError):
    """A wait (``get_results(timeout=…)``, ``progress(timeout=…)``, ``wait(timeout=…)``) did
    not see what it waited for before its deadline; the job (or flow item) itself goes on."""


def _identify(obj: Any) -> str | None:
    if obj is None:
        return None
    ident = getattr(obj, "id", None)
    return str(ident) if ident is not None else type(obj).__name__
