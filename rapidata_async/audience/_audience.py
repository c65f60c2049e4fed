"""``RapidataAudience``: a pool of labelers; qualification examples and job assignment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from .. import _validate as check
from .._logging import echo
from .._paging import Listing
from .._settings import RapidataSetting, feature_flags
from .._types import AudienceStatus, DataType
from .._uploads._assets import AssetUploader, AssetUploadError
from .._wire import audience as wire
from .._wire import job as job_wire
from .._wire.common import (
    AssetInput,
    ExistingAssetInput,
    MultiAssetInput,
    Page,
    TextAssetInput,
)
from ..job._definition import JobDefinition
from ..job._job import Job
from ..job._manager import find_jobs
from ._filters import RapidataFilter

if TYPE_CHECKING:
    import polars as pl

    from .._context import ClientContext


_EXAMPLE_COLUMNS = ("id", "asset", "truth", "context", "contextAsset")


def _asset_text(asset: wire.AssetOutput | None) -> str | None:
    if isinstance(asset, wire.FileAsset):
        return asset.file_name
    if isinstance(asset, wire.TextAsset):
        return asset.text
    if isinstance(asset, wire.MultiAsset):
        return str([_asset_text(a) for a in asset.assets])
    return None


def _truth_text(truth: wire.ExampleTruth | None) -> str | None:
    if isinstance(truth, wire.ClassifyExampleTruth):
        return str(truth.correct_categories)
    if isinstance(truth, wire.CompareExampleTruth):
        return truth.winner_id
    return None


class RapidataAudience:
    """An audience: ``global``, a curated pool, or a custom one qualified by your examples."""

    def __init__(
        self,
        ctx: ClientContext,
        *,
        id: str,
        name: str,
        filters: Sequence[RapidataFilter] = (),
        status: AudienceStatus | None = None,
    ) -> None:
        self._ctx = ctx
        self.id: str = id
        """The audience id (``"global"`` for the global audience)."""
        self.name: str = name
        """The audience's name."""
        self.filters: list[RapidataFilter] = list(filters)
        """The filters labelers must pass (custom audiences)."""
        self.status: AudienceStatus | None = status
        """``Created``, ``Pending``, ``Recruiting`` or ``Ready`` as last fetched (None when
        unknown); ``await get_status()`` asks the server again."""

    def __repr__(self) -> str:
        return f"RapidataAudience(id={self.id!r}, name={self.name!r})"

    # -- examples ---------------------------------------------------------------------------
    async def _asset(self, item: str, data_type: str) -> AssetInput:
        if data_type == "text":
            return TextAssetInput(text=item)
        uploader = AssetUploader(self._ctx, anyio.CapacityLimiter(4))
        try:
            return ExistingAssetInput(name=await uploader.resolve(item))
        except AssetUploadError as exc:
            raise ValueError(f"datapoint: could not upload {item!r}: {exc}") from exc

    async def _context_asset(self, media_context: str | Sequence[str] | None) -> AssetInput | None:
        if media_context is None:
            return None
        items = [media_context] if isinstance(media_context, str) else list(media_context)
        assets = [
            await self._asset(check.asset(a, "media_context", "media"), "media") for a in items
        ]
        return assets[0] if len(assets) == 1 else MultiAssetInput(assets=assets)

    async def _post_example(self, body: wire.AddExampleInput) -> None:
        await self._ctx.transport.request(
            "POST",
            f"/audience/{self.id}/example",
            op_id="audience_audience_id_example_post",
            json=body,
            response_type=wire.AddExampleOutput,
        )

    async def add_compare_example(
        self,
        instruction: str,
        truth: str,
        datapoint: Sequence[str],
        data_type: DataType = "media",
        context: str | None = None,
        media_context: str | Sequence[str] | None = None,
        explanation: str | None = None,
        settings: Sequence[RapidataSetting] | None = None,
    ) -> RapidataAudience:
        """Add a compare qualification example (``POST /audience/{id}/example``); returns self.

        ``truth`` must be one of the two ``datapoint`` items. Media items are uploaded first;
        the truth is sent as the uploaded name of the winning item. Positional order as in the
        official SDK (instruction, truth, datapoint).
        """
        check.instruction(instruction)
        kind = check.data_type(data_type)
        pair = check.pairs([datapoint], kind, field="datapoint")[0]
        if truth not in pair:
            raise ValueError(
                f"truth: must be one of the datapoint's items {list(pair)}, got {truth!r}"
            )
        a, b = [await self._asset(x, kind) for x in pair]
        names = [
            x.name if isinstance(x, ExistingAssetInput) else x.text  # type: ignore[union-attr]
            for x in (a, b)
        ]
        winner = names[pair.index(truth)]
        await self._post_example(
            wire.AddExampleInput(
                asset=MultiAssetInput(assets=[a, b]),
                payload=wire.CompareExamplePayload(criteria=instruction),
                truth=wire.CompareExampleTruth(winner_id=winner),
                random_correct_probability=0.5,
                context=context,
                context_asset=await self._context_asset(media_context),
                explanation=explanation,
                feature_flags=feature_flags(settings),
            )
        )
        return self

    async def add_classification_example(
        self,
        instruction: str,
        answer_options: Sequence[str],
        datapoint: str,
        truth: Sequence[str],
        data_type: DataType = "media",
        context: str | None = None,
        media_context: str | Sequence[str] | None = None,
        explanation: str | None = None,
        settings: Sequence[RapidataSetting] | None = None,
    ) -> RapidataAudience:
        """Add a classification qualification example (``POST /audience/{id}/example``).

        ``truth`` lists the correct options; each must be among ``answer_options``. Returns self.
        """
        check.instruction(instruction)
        options = check.answer_options(answer_options)
        kind = check.data_type(data_type)
        item = check.singles([datapoint], kind, field="datapoint")[0]
        if isinstance(truth, str) or not truth:
            raise ValueError(f"truth: must be a non-empty list of options, got {truth!r}")
        for i, t in enumerate(truth):
            if t not in options:
                raise ValueError(f"truth[{i}]: {t!r} is not one of answer_options {options}")
        await self._post_example(
            wire.AddExampleInput(
                asset=await self._asset(item, kind),
                payload=wire.ClassifyExamplePayload(
                    title=instruction,
                    categories=[wire.ExampleCategory(label=o, value=o) for o in options],
                ),
                truth=wire.ClassifyExampleTruth(correct_categories=list(truth)),
                random_correct_probability=len(truth) / len(options),
                context=context,
                context_asset=await self._context_asset(media_context),
                explanation=explanation,
                feature_flags=feature_flags(settings),
            )
        )
        return self

    async def get_examples(self, amount: int = 10, page: int = 1) -> pl.DataFrame:
        """One page of this audience's qualification examples (``GET /audience/{id}/examples``).

        A polars DataFrame with the columns ``id``, ``asset``, ``truth``, ``context`` and
        ``contextAsset`` (as the official SDK's, which is pandas: ``.to_pandas()`` converts).
        Media assets are their uploaded file names; an example of several assets shows them as
        a list (``"['a.jpg', 'b.jpg']"``), a classification truth its correct categories.
        """
        check.amount(amount)
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise ValueError(f"page: must be an integer >= 1, got {page!r}")
        out = await self._ctx.transport.request(
            "GET",
            f"/audience/{self.id}/examples",
            op_id="audience_audience_id_examples_get",
            params=[("page", str(page)), ("page_size", str(amount))],
            response_type=Page[wire.ExampleOutput],
        )
        rows = [
            {
                "id": e.id,
                "asset": _asset_text(e.asset),
                "truth": _truth_text(e.truth),
                "context": e.context,
                "contextAsset": _asset_text(e.context_asset),
            }
            for e in out.items
        ]
        import polars as pl  # here: importing the package must not import polars

        return pl.DataFrame(rows, schema={c: pl.String for c in _EXAMPLE_COLUMNS})

    # -- jobs -------------------------------------------------------------------------------
    async def assign_job(
        self, job_definition: JobDefinition, run_after: Job | str | None = None
    ) -> Job:
        """Run a job definition on this audience (``POST /job``); returns the ``Job``.

        Fetches the definition's latest revision first if it is not known yet.
        """
        if not isinstance(job_definition, JobDefinition):
            raise ValueError(f"job_definition: expected a JobDefinition, got {job_definition!r}")
        if job_definition.revision_number is None:
            await job_definition.get_revision()
        preceding = run_after.id if isinstance(run_after, Job) else run_after
        out = await self._ctx.transport.request(
            "POST",
            "/job",
            op_id="job_post",
            json=job_wire.CreateJobInput(
                job_definition_id=job_definition.id,
                audience_id=self.id,
                revision_number=job_definition.revision_number,
                preceding_job_id=preceding,
            ),
            response_type=job_wire.CreateJobOutput,
        )
        job = Job(
            self._ctx,
            id=out.job_id,
            name=job_definition.name,
            audience_id=self.id,
            definition_id=job_definition.id,
        )
        echo(f"Job started: {job.url}")
        return job

    def find_jobs(self, name: str = "", amount: int = 10, page: int = 1) -> Listing[Job]:
        """This audience's jobs, newest first (``GET /jobs?audience_id[eq]=…``); ``await`` it
        for one page, ``async for`` over it for all."""
        return find_jobs(self._ctx, name=name, amount=amount, page=page, audience_id=self.id)

    async def start_recruiting(self) -> RapidataAudience:
        """Start qualifying labelers with the examples (``POST /audience/{id}/recruit``);
        returns self."""
        await self._ctx.transport.request(
            "POST", f"/audience/{self.id}/recruit", op_id="audience_audience_id_recruit_post"
        )
        return self

    async def get_status(self) -> AudienceStatus:
        """``GET /audience/{id}``: Created, Pending, Recruiting or Ready."""
        out = await self._ctx.transport.request(
            "GET",
            f"/audience/{self.id}",
            op_id="audience_audience_id_get",
            response_type=wire.AudienceOutput,
        )
        self.status = out.status
        return out.status

    async def get_user_metrics(self) -> dict[str, int]:
        """Labelers per qualification state (``GET /audience/{id}/user-metrics``)."""
        out = await self._ctx.transport.request(
            "GET",
            f"/audience/{self.id}/user-metrics",
            op_id="audience_audience_id_user_metrics_get",
            response_type=wire.UserMetricsOutput,
        )
        return dict(out.users_per_state)
