"""Domain errors: what the store and the engine raise. The HTTP edge (``local._errors``) maps
them to ProblemDetails (``Invalid`` -> 400, ``NotFound`` -> 404, ``Conflict`` -> 409), so no
storage or rule code knows about HTTP::

    raise NotFound("Dataset", dataset_id, field="datasetId")
    raise Invalid("The datapoint references unknown assets.", {"asset": ["Unknown asset 'a'."]})
"""

from __future__ import annotations

from collections.abc import Container, Iterable


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


def check_known_assets(refs: Iterable[tuple[str, str]], known: Container[str]) -> None:
    """Raise ``Invalid`` naming each field of ``refs`` (field path, asset name) whose asset is
    not in ``known``: the rule both stores apply to what a datapoint or example references."""
    errors = {
        path: [f"Unknown asset '{name}': upload it first (POST /asset/file or /asset/url)."]
        for path, name in refs
        if name not in known
    }
    if errors:
        raise Invalid("The request references assets that were never uploaded.", errors)
