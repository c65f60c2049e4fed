"""``RapidataValidationSet``: a validation set's id, name and dimensions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from .._logging import echo
from .._wire import validation as wire

if TYPE_CHECKING:
    from .._context import ClientContext


def check_dimensions(dimensions: Sequence[str]) -> list[str]:
    if isinstance(dimensions, (str, bytes)) or not isinstance(dimensions, Sequence):
        raise ValueError(f"dimensions: must be a list of names, got {dimensions!r}")
    for i, d in enumerate(dimensions):
        if not isinstance(d, str) or not d.strip():
            raise ValueError(f"dimensions[{i}]: must be a non-empty string, got {d!r}")
    return list(dimensions)


class RapidataValidationSet:
    """A validation set: tasks with a known answer, shown among a job's real tasks to measure
    how well each labeler answers (``validation_set_id`` of a legacy order)."""

    def __init__(
        self, ctx: ClientContext, *, id: str, name: str, dimensions: Sequence[str] = ()
    ) -> None:
        self._ctx = ctx
        self.id: str = id
        """The validation set id (what an order's ``validation_set_id`` takes)."""
        self.name: str = name
        """The name it was created with (never shown to labelers)."""
        self.dimensions: list[str] = list(dimensions)
        """The user-score dimensions its rapids update (empty: the default one)."""

    def __repr__(self) -> str:
        return (
            f"RapidataValidationSet(id={self.id!r}, name={self.name!r}, "
            f"dimensions={self.dimensions!r})"
        )

    @property
    def url(self) -> str:
        """The set's dashboard page, ``{app_url}/validation-set/detail/{id}``; no API call."""
        return self._ctx.app_link(f"validation-set/detail/{self.id}")

    async def view(self, *, open_browser: bool = False) -> str:
        """The dashboard page of this validation set
        (``https://app.{env}/validation-set/detail/{id}``); no API call. Prints and returns
        the URL; opens it in a browser when ``open_browser`` is true."""
        echo(f"Validation set in dashboard: {self.url}")
        if open_browser:
            import webbrowser

            await anyio.to_thread.run_sync(webbrowser.open, self.url)
        return self.url

    async def update_dimensions(self, dimensions: Sequence[str]) -> RapidataValidationSet:
        """Set the dimensions (``PATCH /validation-set/{id} {"dimensions": [...]}``); returns
        self."""
        chosen = check_dimensions(dimensions)
        await self._ctx.transport.request(
            "PATCH",
            f"/validation-set/{self.id}",
            op_id="validation_set_validation_set_id_patch",
            json=wire.UpdateValidationSetInput(dimensions=chosen),
        )
        self.dimensions = chosen
        return self
