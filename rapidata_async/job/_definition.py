"""``JobDefinition``: what to label and how, before it is assigned to an audience."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from .._logging import show_link
from .._settings import RapidataSetting
from .._types import RevisionState
from .._wire import job as wire

if TYPE_CHECKING:
    from .._context import ClientContext


class JobRevision(msgspec.Struct, frozen=True, kw_only=True):
    """One revision of a job definition (``GET /job/definition/{id}/revision``)."""

    definition_id: str
    revision_number: int
    state: RevisionState
    dataset_id: str
    created_at: datetime
    created_by_mail: str
    responses_per_datapoint: int
    """Responses collected per datapoint at most (the referee's votes)."""
    confidence_threshold: float | None = None
    quorum_threshold: int | None = None
    a_b_names: tuple[str, ...] | None = None
    """Compare only: the names shown for the two items (``a_b_names`` at creation)."""
    feature_flags: tuple[RapidataSetting, ...] = ()
    """The settings sent with the rapids (``NoShuffle()`` is ``key="no_shuffle"``)."""
    validation_set_id: str | None = None
    """The validation set whose rapids its jobs mix in (revisions made by orders)."""


def _revision(rev: wire.JobRevisionOutput) -> JobRevision:
    referee = rev.referee
    votes = referee.total_votes if isinstance(referee, wire.NaiveReferee) else referee.max_votes
    rapid = rev.workflow.rapid
    names = rapid.index_identifiers if isinstance(rapid, wire.CompareRapid) else None
    return JobRevision(
        definition_id=rev.definition_id,
        revision_number=rev.revision_number,
        state=rev.state,
        dataset_id=rev.dataset_id,
        created_at=rev.created_at,
        created_by_mail=rev.created_by_mail,
        responses_per_datapoint=votes,
        confidence_threshold=(
            referee.threshold if isinstance(referee, wire.EarlyStoppingReferee) else None
        ),
        quorum_threshold=referee.threshold if isinstance(referee, wire.QuorumReferee) else None,
        a_b_names=tuple(names) if names is not None else None,
        feature_flags=tuple(RapidataSetting(f.key, f.value) for f in rev.feature_flags),
        validation_set_id=rev.validation_set_id,
    )


class JobDefinition:
    """A job definition (one dataset, instruction, referee and settings) and its revision.

    Created by ``client.job.create_*_job_definition`` or fetched by ``find_job_definitions`` /
    ``get_job_definition_by_id``; assigned with ``await audience.assign_job(definition)``.
    """

    def __init__(
        self,
        ctx: ClientContext,
        *,
        id: str,
        name: str,
        revision_number: int | None = None,
        dataset_id: str | None = None,
    ) -> None:
        self._ctx = ctx
        self.id: str = id
        """The job definition id."""
        self.name: str = name
        """The name it was created with."""
        self.revision_number: int | None = revision_number
        """Its latest known revision (None until the revision was fetched)."""
        self.dataset_id: str | None = dataset_id
        """The dataset holding its datapoints (None until the revision was fetched)."""

    def __repr__(self) -> str:
        return f"JobDefinition(id={self.id!r}, name={self.name!r})"

    @property
    def preview_url(self) -> str:
        """The definition's dashboard page, ``{app_url}/definitions/{id}``; no API call."""
        return self._ctx.app_link(f"definitions/{self.id}")

    async def preview(self, *, open_browser: bool = False) -> str:
        """The dashboard page of this definition (``https://app.{env}/definitions/{id}``).

        No API call: prints the URL (unless ``silent_mode``) and returns it; opens it in a
        browser when ``open_browser`` is true.
        """
        return await show_link("Preview in dashboard", self.preview_url, open_browser=open_browser)

    async def get_revision(self, revision_number: int | None = None) -> JobRevision:
        """``GET /job/definition/{id}/revision`` (latest) or ``…/revision/{n}``."""
        path = f"/job/definition/{self.id}/revision"
        op = "job_definition_definition_id_revision_get"
        if revision_number is not None:
            path += f"/{revision_number}"
            op = "job_definition_definition_id_revision_revision_number_get"
        rev = await self._ctx.transport.request(
            "GET", path, op_id=op, response_type=wire.JobRevisionOutput
        )
        if revision_number is None:
            self.revision_number = rev.revision_number
        self.dataset_id = rev.dataset_id
        return _revision(rev)
