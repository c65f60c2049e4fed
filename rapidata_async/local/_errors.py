"""Exceptions of the local backend; each one serializes to the ProblemDetails the real API sends.

Handlers raise them; the store and the rules raise ``domain.errors`` instead, which
``from_domain`` maps to the same answers. The error middleware in ``_app`` turns both into
``application/problem+json``::

    raise BadRequest("The datapoint references unknown assets.",
                     errors={"segments[0].asset": ["Unknown asset 'a.jpg'."]})
"""

from __future__ import annotations

from .._wire.common import ProblemDetails
from .domain import errors as domain

_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}


class ApiError(Exception):
    """An API error: HTTP ``status``, a short ``title``, a ``detail`` sentence and per-field
    ``errors`` (field path -> messages). ``stage``/``upstream_http_status`` are the extension
    members URL ingestion failures carry."""

    status = 500
    default_title = "An unexpected error occurred."

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        title: str | None = None,
        stage: str | None = None,
        upstream_http_status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.title = title or self.default_title
        self.stage = stage
        self.upstream_http_status = upstream_http_status

    def problem(self, trace_id: str) -> ProblemDetails:
        return ProblemDetails(
            type=_TYPES.get(self.status, _TYPES[500]),
            title=self.title,
            status=self.status,
            detail=self.detail,
            errors=self.errors,
            trace_id=trace_id,
            stage=self.stage,
            upstream_http_status=self.upstream_http_status,
        )


class BadRequest(ApiError):
    status = 400
    default_title = "One or more validation errors occurred."


class Unauthorized(ApiError):
    status = 401
    default_title = "Unauthorized"


class NotFound(ApiError):
    status = 404
    default_title = "Not Found"


class MethodNotAllowed(ApiError):
    status = 405
    default_title = "Method Not Allowed"


class Conflict(ApiError):
    status = 409
    default_title = "Conflict"


class PayloadTooLarge(ApiError):
    status = 413
    default_title = "Payload Too Large"


def field_error(field: str, message: str, *, detail: str | None = None) -> BadRequest:
    """A 400 naming one offending field."""
    return BadRequest(detail or message, errors={field: [message]})


def not_found(kind: str, ident: str, *, field: str | None = None) -> NotFound:
    """A 404 for an unknown id; ``field`` names the request field that carried it."""
    message = f"{kind} '{ident}' does not exist."
    return NotFound(message, errors={field: [message]} if field else None)


def from_domain(exc: domain.DomainError) -> ApiError:
    """The ProblemDetails error of a domain error: ``Invalid`` 400, ``NotFound`` 404,
    ``Conflict`` 409, with the same ``detail`` and per-field ``errors``."""
    kind: type[ApiError] = BadRequest
    if isinstance(exc, domain.NotFound):
        kind = NotFound
    elif isinstance(exc, domain.Conflict):
        kind = Conflict
    return kind(exc.detail, errors=exc.errors)
