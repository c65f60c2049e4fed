"""``RapidataBenchmark``: prompts, the models evaluated on them, and their leaderboards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .. import _validate as check
from .._config import rapidata_config
from .._exceptions import FailedUpload, FailedUploadException
from .._links import show_link
from .._logging import echo, logger
from .._settings import RapidataSetting, feature_flags
from .._types import DataType
from .._uploads import UploadTracker
from .._wire import mri as wire
from .._wire.common import Page
from . import _checks as checks
from ._leaderboard import RapidataLeaderboard
from ._types import (
    BenchmarkPrompt,
    LevelOfDetail,
    Origin,
    Participant,
    Sample,
    Tag,
    VoteAggregation,
)
from ._upload import upload_prompts, upload_samples

if TYPE_CHECKING:
    from .._context import ClientContext
    from ..audience import RapidataAudience

W = TypeVar("W")
PAGE_SIZE = 100
SUBMIT_BATCH = 100


async def all_pages(ctx: ClientContext, path: str, op_id: str, item: type[W]) -> list[W]:
    """Every item of a paged listing: ``GET path?page=n&page_size=100`` until the last page."""
    items: list[W] = []
    page = 1
    while True:
        res: Page[Any] = await ctx.transport.request(
            "GET",
            path,
            op_id=op_id,
            params=[("page", str(page)), ("page_size", str(PAGE_SIZE))],
            response_type=Page[item],  # type: ignore[valid-type]
        )
        items += res.items
        more = page < res.total_pages if res.total_pages else len(res.items) >= PAGE_SIZE
        if not more or not res.items:
            return items
        page += 1


def _asset_names(asset: wire.AssetOutput | None) -> list[str]:
    if isinstance(asset, wire.FileAssetOutput):
        return [asset.file_name]
    if isinstance(asset, wire.TextAssetOutput):
        return [asset.text]
    if isinstance(asset, wire.MultiAssetOutput):
        return [n for a in asset.assets for n in _asset_names(a)]
    return []


def _segment(prompt: wire.PromptOutput, key: str) -> wire.PromptSegment | None:
    return next((s for s in prompt.segments if s.key == key), None)


class RapidataBenchmark:
    """A benchmark: prompts (with identifiers and tags), the models evaluated on them
    (participants with one sample per prompt) and leaderboards that rank them.

    Made by ``client.mri.create_new_benchmark`` or fetched by ``find_benchmarks`` /
    ``get_benchmark_by_id``. The prompt listing is fetched once and cached (refetched after
    ``add_prompts``).
    """

    def __init__(self, ctx: ClientContext, *, id: str, name: str) -> None:
        self._ctx = ctx
        self.id: str = id
        """The benchmark id."""
        self.name: str = name
        """Its name."""
        self._prompt_cache: list[wire.PromptOutput] | None = None
        self._prompt_lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"RapidataBenchmark(id={self.id!r}, name={self.name!r})"

    # -- prompts ----------------------------------------------------------------------------
    async def _prompt_list(self) -> list[wire.PromptOutput]:
        async with self._prompt_lock:
            if self._prompt_cache is None:
                self._prompt_cache = await all_pages(
                    self._ctx,
                    f"/benchmark/{self.id}/prompts",
                    "benchmark_benchmark_id_prompts_get",
                    wire.PromptOutput,
                )
            return self._prompt_cache

    async def identifiers(self) -> list[str]:
        """The prompts' identifiers (``GET /benchmark/{id}/prompts``, paged by 100; cached)."""
        return [p.identifier for p in await self._prompt_list()]

    async def prompts(self) -> list[str | None]:
        """The prompt texts as given (None for an asset-only prompt); cached listing."""
        out: list[str | None] = []
        for p in await self._prompt_list():
            seg = _segment(p, wire.PROMPT_SEGMENT)
            out.append(p.original_prompt or (seg.original_text if seg else None))
        return out

    async def prompt_assets(self) -> list[list[str] | None]:
        """The uploaded names of each prompt's assets (segment ``prompt_asset``), or None."""
        out: list[list[str] | None] = []
        for p in await self._prompt_list():
            seg = _segment(p, wire.PROMPT_ASSET_SEGMENT)
            out.append(_asset_names(seg.asset) or None if seg else None)
        return out

    async def tags(self) -> list[list[str]]:
        """Each prompt's tag values; cached listing."""
        return [[t.value for t in p.tags] for p in await self._prompt_list()]

    async def add_prompts(
        self,
        identifiers: list[str] | None = None,
        prompts: list[str | None] | list[str] | None = None,
        prompt_assets: list[list[str] | None] | list[list[str]] | list[str] | None = None,
        tags: Sequence[Sequence[str | Tag] | None] | None = None,
        origins: Sequence[str | Origin | None] | None = None,
        *,
        upload_progress: UploadTracker | None = None,
    ) -> None:
        """Add prompts, matched up by position in the lists.

        ``identifiers`` default to the prompts (which must then be unique); each prompt needs
        a text or assets. ``prompt_assets`` holds one list of paths/URLs per prompt (several
        become one multi-asset; a plain string is accepted with a ``DeprecationWarning``).
        ``tags`` per prompt: strings or ``Tag``; ``origins``: a string, an ``Origin`` or None.

        Everything is checked first. On the wire: the prompt listing
        (``GET /benchmark/{id}/prompts``, paged; identifiers must be new), prompt assets
        uploaded, then ``POST /benchmark/{id}/prompt`` per prompt (``segments`` ``prompt`` /
        ``prompt_asset``, ``tags``, ``origin``), concurrently within ``maxWorkers``. Failed
        prompts raise ``FailedUploadException`` (``retry()`` adds them); the others stay.
        """
        specs = checks.prompts(identifiers, prompts, prompt_assets, tags, origins)
        await self._add(specs, upload_progress, check_existing=True)

    async def add_prompt(
        self,
        identifier: str | None = None,
        prompt: str | None = None,
        prompt_asset: list[str] | str | None = None,
        tags: Sequence[str | Tag] | None = None,
        origin: str | Origin | None = None,
    ) -> None:
        """One prompt (the docs' form of ``add_prompts``): the same calls for one item."""
        assets: Any = [prompt_asset] if prompt_asset is not None else None
        specs = checks.prompts(
            [identifier] if identifier is not None else None, [prompt], assets, [tags], [origin]
        )
        await self._add(specs, None, check_existing=True)

    async def _add(
        self, specs: list[BenchmarkPrompt], tracker: UploadTracker | None, *, check_existing: bool
    ) -> None:
        if check_existing:
            known = set(await self.identifiers())
            for i, p in enumerate(specs):
                if p.identifier in known:
                    raise ValueError(
                        f"identifiers[{i}]: {p.identifier!r} is already a prompt of benchmark "
                        f"{self.name!r}"
                    )
        try:
            outcome = await upload_prompts(self._ctx, self.id, specs, tracker=tracker)
        finally:
            self._prompt_cache = None  # what landed is listed on the next read
        if outcome.failed:
            exc = FailedUploadException(
                failed_uploads=[f.item for f in outcome.failed],
                detailed_failures=outcome.failed,
                benchmark=self,
            )
            failed = [f.item for f in outcome.failed]
            exc._retry = lambda: self._add(failed, None, check_existing=False)
            raise exc

    # -- leaderboards -----------------------------------------------------------------------
    async def create_leaderboard(
        self,
        name: str,
        instruction: str,
        show_prompt: bool = False,
        show_prompt_asset: bool = False,
        inverse_ranking: bool = False,
        level_of_detail: LevelOfDetail | int | None = None,
        min_responses_per_matchup: int | None = None,
        audience_id: str | RapidataAudience | None = None,
        settings: Sequence[RapidataSetting] | None = None,
        included_tags: list[str] | None = None,
        excluded_tags: list[str] | None = None,
        vote_aggregation: VoteAggregation | str | None = None,
        skip_initial_run: bool = False,
    ) -> RapidataLeaderboard:
        """Create a leaderboard ranking this benchmark's models under ``instruction``.

        ``level_of_detail`` sets the responses per run (``responseBudget``): ``"debug"`` 20,
        ``"low"`` 2000, ``"medium"`` 4000, ``"high"`` 8000, ``"very high"`` 16000, or an int;
        ``min_responses_per_matchup`` (>= 3) the responses per matchup; ``inverse_ranking``
        asks for the worse output. ``included_tags``/``excluded_tags`` pick the prompts by
        tag; ``vote_aggregation`` defaults to majority vote; ``audience_id`` defaults to the
        global audience. On the wire: ``POST /leaderboard`` (``benchmarkId``, ``name``,
        ``instruction``, ``showPrompt``, ``showPromptAsset``, ``isInversed``, ``minResponses``,
        ``responseBudget``, ``audienceId``, ``includedTags``, ``excludedTags``,
        ``voteAggregation``, ``skipInitialRun``, ``featureFlags``).
        """
        check.name(name)
        check.instruction(instruction)
        budget = checks.response_budget(level_of_detail)
        min_responses = checks.min_responses(min_responses_per_matchup)
        aggregation = checks.vote_aggregation(vote_aggregation)
        included = checks.tag_names(included_tags, "included_tags")
        excluded = checks.tag_names(excluded_tags, "excluded_tags")
        audience: str | None = None
        if audience_id is not None:
            raw = audience_id if isinstance(audience_id, str) else getattr(audience_id, "id", None)
            audience = check.resource_id(raw, "audience_id")
        out = await self._ctx.transport.request(
            "POST",
            "/leaderboard",
            op_id="leaderboard_post",
            json=wire.CreateLeaderboardInput(
                benchmark_id=self.id,
                name=name,
                instruction=instruction,
                show_prompt=bool(show_prompt),
                show_prompt_asset=bool(show_prompt_asset),
                is_inversed=bool(inverse_ranking),
                min_responses=min_responses,
                response_budget=budget,
                audience_id=audience,
                included_tags=included,
                excluded_tags=excluded,
                vote_aggregation=aggregation.value,
                skip_initial_run=bool(skip_initial_run),
                feature_flags=feature_flags(settings),
            ),
            response_type=wire.CreateLeaderboardOutput,
        )
        if out.benchmark_id != self.id:
            raise RuntimeError(
                f"the API put leaderboard {out.id} on benchmark {out.benchmark_id}, not {self.id}"
            )
        echo(f"Leaderboard created: {name!r} ({out.id})")
        return RapidataLeaderboard(
            self._ctx,
            id=out.id,
            name=name,
            benchmark_id=self.id,
            instruction=instruction,
            show_prompt=out.show_prompt,
            show_prompt_asset=out.show_prompt_asset,
            inverse_ranking=out.is_inversed,
            response_budget=out.response_budget,
            min_responses_per_matchup=out.min_responses,
            included_tags=included,
            excluded_tags=excluded,
            vote_aggregation=VoteAggregation(out.vote_aggregation),
        )

    async def leaderboards(self) -> list[RapidataLeaderboard]:
        """The benchmark's leaderboards: ``GET /benchmark/{id}/leaderboards``, paged by 100."""
        items = await all_pages(
            self._ctx,
            f"/benchmark/{self.id}/leaderboards",
            "benchmark_benchmark_id_leaderboards_get",
            wire.LeaderboardOutput,
        )
        return [RapidataLeaderboard._from_wire(self._ctx, lb, self.id) for lb in items]

    # -- participants -----------------------------------------------------------------------
    async def participants(self) -> list[Participant]:
        """The models evaluated: ``GET /benchmark/{id}/participants``, paged by 100."""
        items = await all_pages(
            self._ctx,
            f"/benchmark/{self.id}/participants",
            "benchmark_benchmark_id_participants_get",
            wire.ParticipantOutput,
        )
        return [
            Participant(id=p.id, name=p.name, benchmark_id=p.benchmark_id, status=p.status)
            for p in items
        ]

    async def evaluate_model(
        self,
        name: str,
        media: list[str],
        identifiers: list[str] | None = None,
        prompts: list[str] | None = None,
        data_type: DataType = "media",
        *,
        upload_progress: UploadTracker | None = None,
    ) -> Participant:
        """Add a model's outputs (``media[i]`` answers prompt ``identifiers[i]``, or the
        prompt whose text is ``prompts[i]``) and submit it to the leaderboards.

        Everything is checked first against the prompt listing (cached). On the wire:
        ``POST /benchmark/{id}/participants {"name"}``; then per sample the upload (URLs in
        batches, files singly) and ``POST /participant/{participantId}/sample
        {"identifier","asset"}``, concurrently within ``maxWorkers`` (409: already there).
        If some failed: ``GET /participant/{id}/samples`` (paged) and only the samples the
        server lacks are uploaded again (up to ``maxRetries`` rounds). Then
        ``POST /participants/submit {"participantIds":[id]}``. Samples still failing raise
        ``FailedUploadException`` with the participant created but not submitted;
        ``retry()`` uploads what is missing and submits it.
        """
        check.name(name)
        samples, field = checks.samples(media, identifiers, prompts, data_type)
        samples = await self._resolve(samples, field)
        created = await self._ctx.transport.request(
            "POST",
            f"/benchmark/{self.id}/participants",
            op_id="benchmark_benchmark_id_participants_post",
            json=wire.CreateParticipantInput(name=name),
            response_type=wire.CreateParticipantOutput,
        )
        participant = Participant(
            id=created.participant_id, name=name, benchmark_id=self.id, status="Created"
        )
        outcome = await upload_samples(self._ctx, participant.id, samples, tracker=upload_progress)
        failed = outcome.failed
        if failed:
            logger.warning(
                f"{len(failed)} of {len(samples)} samples failed; re-uploading what the server "
                "lacks",
                failed=len(failed),
                total=len(samples),
            )
            failed = await self._fill_missing(participant.id, samples)
        if failed:
            raise self._sample_failure(participant, samples, failed)
        return await self._submit_one(participant)

    def _sample_failure(
        self, participant: Participant, samples: list[Sample], failed: list[FailedUpload[Sample]]
    ) -> FailedUploadException:
        exc = FailedUploadException(
            failed_uploads=[f.item for f in failed],
            detailed_failures=failed,
            participant=participant,
        )

        async def retry() -> Participant:
            still = await self._fill_missing(participant.id, samples)
            if still:
                raise self._sample_failure(participant, samples, still)
            return await self._submit_one(participant)

        exc._retry = retry
        return exc

    async def _resolve(self, samples: list[Sample], field: str) -> list[Sample]:
        """Map prompt texts to identifiers and check every identifier is a prompt here."""
        listing = await self._prompt_list()
        known = {p.identifier for p in listing}
        by_text: dict[str, str] = {}
        for p in listing:
            seg = _segment(p, wire.PROMPT_SEGMENT)
            text = p.original_prompt or (seg.original_text if seg else None)
            if text is not None:
                by_text.setdefault(text, p.identifier)
        out = []
        for s in samples:
            ident = s.identifier
            if field == "prompts" and ident not in known:
                ident = by_text.get(ident, ident)
            if ident not in known:
                raise ValueError(
                    f"{field}[{s.index}]: {s.identifier!r} is not a prompt of benchmark "
                    f"{self.name!r} (see `await benchmark.identifiers()`)"
                )
            out.append(
                Sample(identifier=ident, asset=s.asset, data_type=s.data_type, index=s.index)
            )
        return out

    async def _fill_missing(
        self, participant_id: str, samples: list[Sample]
    ) -> list[FailedUpload[Sample]]:
        """Upload again the samples of identifiers the server holds fewer samples of than
        given; a round that closes no gap ends it. Returns what still failed."""
        wanted = Counter(s.identifier for s in samples)
        failed: list[FailedUpload[Sample]] = []
        gap = None
        for _ in range(max(1, rapidata_config.upload.maxRetries)):
            items: list[wire.SampleListItem] = await all_pages(
                self._ctx,
                f"/participant/{participant_id}/samples",
                "participant_participant_id_samples_get",
                wire.SampleListItem,  # type: ignore[arg-type]
            )
            have = Counter(i.identifier for i in items if isinstance(i, wire.SampleOutput))
            short = {k for k, n in wanted.items() if have[k] < n}
            missing = sum(wanted[k] - have[k] for k in short)
            if not short:
                return []
            if gap is not None and missing >= gap:
                return failed
            gap = missing
            pending = [s for s in samples if s.identifier in short]
            logger.info(
                f"re-uploading {len(pending)} samples of {len(short)} prompts",
                samples=len(pending),
                prompts=len(short),
            )
            outcome = await upload_samples(self._ctx, participant_id, pending)
            failed = outcome.failed
        return failed

    async def _submit(self, ids: list[str]) -> wire.SubmitParticipantsOutput:
        out = await self._ctx.transport.request(
            "POST",
            "/participants/submit",
            op_id="participants_submit_post",
            json=wire.SubmitParticipantsInput(participant_ids=ids),
            response_type=wire.SubmitParticipantsOutput,
        )
        warning = out.min_assets_per_prompt_warning
        if warning is not None:
            logger.warning(
                f"{len(warning.underfilled_participants)} participants have fewer than "
                f"{warning.min_assets_per_prompt} samples for some prompts",
                min_assets_per_prompt=warning.min_assets_per_prompt,
            )
        return out

    async def _submit_one(self, participant: Participant) -> Participant:
        await self._submit([participant.id])
        echo(f"Model {participant.name!r} submitted ({participant.id})")
        return Participant(
            id=participant.id,
            name=participant.name,
            benchmark_id=participant.benchmark_id,
            status="Submitted",
        )

    async def run(self) -> list[Participant]:
        """Submit every participant not yet in the matchups.

        ``GET /benchmark/{id}/participants`` (paged), then ``POST /participants/submit
        {"participantIds":[…]}`` for those ``Created`` or ``Submittable``, 100 per call.
        Returns the participants submitted.
        """
        pending = [p for p in await self.participants() if p.status in ("Created", "Submittable")]
        for i in range(0, len(pending), SUBMIT_BATCH):
            await self._submit([p.id for p in pending[i : i + SUBMIT_BATCH]])
        return [
            Participant(id=p.id, name=p.name, benchmark_id=p.benchmark_id, status="Submitted")
            for p in pending
        ]

    # -- links ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``{app_url}/mri/benchmarks/{id}``; no API call."""
        return self._ctx.app_link(f"mri/benchmarks/{self.id}")

    async def view(self, *, open_browser: bool = False) -> str:
        """The dashboard page of this benchmark; no API call. Prints and returns the URL."""
        return await show_link("Benchmark in dashboard", self.url, open_browser=open_browser)
