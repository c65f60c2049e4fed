"""``JobDefinition``: what to label and how, before it is assigned to an audience."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._logging import echo
from .._wire import job as wire

if TYPE_CHECKING:
    from .._context import ClientContext


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
        self.id = id
        """The job definition id."""
        self.name = name
        """The name it was created with."""
        self.revision_number = revision_number
        """Its latest known revision (None until the revision was fetched)."""
        self.dataset_id = dataset_id
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
        url = self.preview_url
        echo(f"Preview in dashboard: {url}")
        if open_browser:
            import webbrowser

            import anyio

            await anyio.to_thread.run_sync(webbrowser.open, url)
        return url

    async def get_revision(self, revision_number: int | None = None) -> wire.JobRevisionOutput:
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
        return rev
