"""Domain errors: what the store and the engine raise. The HTTP edge (``local._errors``) maps
them to ProblemDetails (``Invalid`` -> 400, ``NotFound`` -> 404, ``Conflict`` -> 409), so no
storage or rule code knows about HTTP::

    raise NotFound("Dataset", dataset_id, field="datasetId")
    raise Invalid("The datapoint references unknown assets.", {"asset": ["Unknown asset 'a'."]})
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a rule or a store raises on purpose. ``errors`` maps a request field
    path to its messages (ProblemDetails ``errors``)."""

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class Invalid(DomainError):
    """Input that breaks a rule (400)."""

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        return cls(message, {field: [message]})


class NotFound(DomainError):
    """An id that names nothing the caller may see (404)."""

    def __init__(self, kind: str, ident: str, *, field: str | None = None) -> None:
        message = f"{kind} '{ident}' does not exist."
        super().__init__(message, {field: [message]} if field else None)
        self.kind = kind
        self.ident = ident


class Conflict(DomainError):
    """A request that does not fit the resource's current state (409)."""
