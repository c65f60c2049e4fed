"""How MRI rows look on the wire: benchmarks, prompts (3.27.1 ``segments``), leaderboards,
participants and samples, with every field the 3.27.1 client marks required."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..._wire import mri as wire
from ..._wire.common import AssetInput, ExistingAssetInput, FeatureFlag, TextAssetInput
from ..store.base import (
    ORGANIZATION_ID,
    OWNER_ID,
    OWNER_MAIL,
    BenchmarkRow,
    LeaderboardRow,
    ParticipantRow,
    PromptRow,
    SampleRow,
)
from ..store.seeds import parse_iso

PROMPT_STRUCTURE = [
    wire.PromptSegmentDefinition(
        key=wire.PROMPT_SEGMENT, kind="Text", label="Prompt", required=False
    ),
    wire.PromptSegmentDefinition(
        key=wire.PROMPT_ASSET_SEGMENT, kind="Asset", label="Prompt asset", required=False
    ),
]
# "<stem>_<16 hex><ext>": the name an upload is stored under (services._names.unique_name).
_STORED = re.compile(r"^(?P<stem>.*)_[0-9a-f]{16}(?P<ext>\.[^.]*)?$")


def original_name(name: str) -> str:
    """The file name an uploaded asset had before the backend made it unique."""
    match = _STORED.match(name)
    if match is None:
        return name
    return match.group("stem") + (match.group("ext") or "")


def asset_out(asset: AssetInput, urls: Mapping[str, str]) -> wire.AssetOutput:
    """An asset as the API answers it; a file names where it came from (``sourceUrl`` for a
    URL upload, else ``originalFilename``), as the 3.27.1 client reads it back."""
    if isinstance(asset, ExistingAssetInput):
        url = urls.get(asset.name)
        metadata: dict[str, object] = (
            {"sourceUrl": {"_t": "SourceUrlMetadataModel", "url": url}}
            if url is not None
            else {
                "originalFilename": {
                    "_t": "OriginalFilenameMetadata",
                    "originalFilename": original_name(asset.name),
                }
            }
        )
        return wire.FileAssetOutput(
            file_name=asset.name, metadata=metadata, identifier=asset.identifier or asset.name
        )
    if isinstance(asset, TextAssetInput):
        return wire.TextAssetOutput(text=asset.text, metadata={}, identifier=asset.identifier or "")
    return wire.MultiAssetOutput(
        assets=[asset_out(inner, urls) for inner in asset.assets],
        metadata={},
        identifier=asset.identifier or "",
    )


def file_names(asset: AssetInput | None) -> list[str]:
    """The uploaded file names an asset input references."""
    if asset is None or isinstance(asset, TextAssetInput):
        return []
    if isinstance(asset, ExistingAssetInput):
        return [asset.name]
    return [name for inner in asset.assets for name in file_names(inner)]


def benchmark_out(row: BenchmarkRow) -> wire.BenchmarkOutput:
    return wire.BenchmarkOutput(
        id=row.id,
        name=row.name,
        description=row.description,
        is_public=False,
        is_published=False,
        created_at=parse_iso(row.created_at),
        initial_boost_level=None,
        score_shift=0.0,
        score_scale=1.0,
        fork_status="Ready",
        last_updated_at=None,
        prompt_structure=PROMPT_STRUCTURE,
        owner_id=OWNER_ID,
        owner_mail=OWNER_MAIL,
        organization_id=ORGANIZATION_ID,
    )


def benchmark_item(row: BenchmarkRow) -> wire.BenchmarkListItem:
    return wire.BenchmarkListItem(
        id=row.id,
        name=row.name,
        is_managed=False,
        is_public=False,
        is_published=False,
        created_at=parse_iso(row.created_at),
        owner_mail=OWNER_MAIL,
        organization_id=ORGANIZATION_ID,
        last_updated_at=None,
    )


def prompt_out(row: PromptRow, urls: Mapping[str, str]) -> wire.PromptOutput:
    spec = row.spec
    segments = []
    if spec.text is not None:
        segments.append(
            wire.PromptSegment(
                key=wire.PROMPT_SEGMENT,
                kind="Text",
                original_text=spec.text,
                english_text=spec.text,
            )
        )
    if spec.asset is not None:
        segments.append(
            wire.PromptSegment(
                key=wire.PROMPT_ASSET_SEGMENT, kind="Asset", asset=asset_out(spec.asset, urls)
            )
        )
    return wire.PromptOutput(
        id=row.id,
        identifier=spec.identifier,
        segments=segments,
        created_at=parse_iso(row.created_at),
        tags=[wire.Tag(value=t.value, category=t.category) for t in spec.tags],
        english_prompt=spec.text,
        original_prompt=spec.text,
        origin=wire.Origin(source=spec.origin) if spec.origin is not None else None,
    )


def leaderboard_out(row: LeaderboardRow) -> wire.LeaderboardOutput:
    spec = row.spec
    return wire.LeaderboardOutput(
        id=row.id,
        name=spec.name,
        instruction=spec.instruction,
        show_prompt=spec.show_prompt,
        show_prompt_asset=spec.show_prompt_asset,
        is_inversed=spec.is_inversed,
        response_budget=spec.response_budget,
        min_responses=spec.min_responses,
        audience_id=spec.audience_id,
        feature_flags=[FeatureFlag(key=k, value=v) for k, v in spec.feature_flags],
        weight=1.0,
        score_shift=0.0,
        score_scale=1.0,
        is_hidden=False,
        is_excluded_from_overall=False,
        included_tags=list(spec.included_tags),
        excluded_tags=list(spec.excluded_tags),
        last_updated_at=None,
        display_instruction=spec.display_instruction,
    )


def participant_out(row: ParticipantRow) -> wire.ParticipantOutput:
    spec = row.spec
    return wire.ParticipantOutput(
        id=row.id,
        name=spec.name,
        benchmark_id=row.benchmark_id,
        status=row.status,  # type: ignore[arg-type]  # Created | Submitted
        votes_excluded=False,
        created_at=parse_iso(row.created_at),
        family=spec.family,
        lab=spec.lab,
        proprietary_name=spec.proprietary_name,
        license_type=spec.license_type,  # type: ignore[arg-type]  # checked on input
        cost=spec.cost,
        cost_unit=spec.cost_unit,  # type: ignore[arg-type]  # checked on input
    )


def sample_out(
    row: SampleRow, prompt: PromptRow | None, urls: Mapping[str, str]
) -> wire.SampleOutput:
    spec = prompt.spec if prompt is not None else None
    return wire.SampleOutput(
        id=row.id,
        identifier=row.identifier,
        asset=asset_out(row.asset, urls),
        tags=[t.value for t in spec.tags] if spec else [],
        english_prompt=spec.text if spec else None,
        original_prompt=spec.text if spec else None,
        prompt_asset=asset_out(spec.asset, urls) if spec and spec.asset else None,
        created_at=parse_iso(row.created_at),
        votes_excluded=False,
    )


def placeholder_out(prompt: PromptRow, urls: Mapping[str, str]) -> wire.PlaceholderSampleOutput:
    spec = prompt.spec
    return wire.PlaceholderSampleOutput(
        identifier=spec.identifier,
        tags=[t.value for t in spec.tags],
        english_prompt=spec.text,
        original_prompt=spec.text,
        prompt_asset=asset_out(spec.asset, urls) if spec.asset else None,
    )
