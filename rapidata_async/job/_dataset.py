"""``RapidataDataset``: the dataset behind a job definition, to add (or retry) datapoints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._datapoint import Datapoint
from .._exceptions import FailedUpload
from .._uploads import UploadTracker, upload_datapoints

if TYPE_CHECKING:
    from .._context import ClientContext


class RapidataDataset:
    """A dataset (``POST /dataset``) and the datapoints in it."""

    def __init__(self, ctx: ClientContext, *, id: str, name: str) -> None:
        self._ctx = ctx
        self.id = id
        """The dataset id."""
        self.name = name
        """The dataset's name (``<job definition name>_dataset``)."""

    def __repr__(self) -> str:
        return f"RapidataDataset(id={self.id!r}, name={self.name!r})"

    async def add_datapoints(
        self,
        datapoints: Sequence[Datapoint | FailedUpload[Datapoint]],
        *,
        upload_progress: UploadTracker | None = None,
    ) -> tuple[list[Datapoint], list[FailedUpload[Datapoint]]]:
        """Upload and create datapoints in this dataset; returns ``(successful, failed)``.

        Pass ``e.failed_uploads`` (or ``e.detailed_failures``) of a ``FailedUploadException`` to
        retry them. Each keeps its ``sort_index``; a datapoint that did reach the server is
        answered with the stored one (same ``sortIndex``, same content), so retrying it creates
        no duplicate. Changed content (``msgspec.structs.replace``) under a used
        ``sort_index`` is created as a new datapoint. Runs the upload pipeline: asset uploads,
        then ``POST /dataset/{id}/datapoint`` per datapoint.
        """
        items = [d.item if isinstance(d, FailedUpload) else d for d in datapoints]
        for i, d in enumerate(items):
            if not isinstance(d, Datapoint):
                raise ValueError(
                    f"datapoints[{i}]: expected a Datapoint or FailedUpload, got {d!r}"
                )
        outcome = await upload_datapoints(self._ctx, self.id, items, tracker=upload_progress)
        return outcome.succeeded, outcome.failed


Dataset = RapidataDataset
