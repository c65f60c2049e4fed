"""What both stores share about MRI rows: how a stored row decodes, the unpaged listing, and
the errors a write that breaks a benchmark's rules raises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ..._wire.common import AssetInput
from ..domain.errors import Conflict, Invalid
from .base import (
    LeaderboardRow,
    LeaderboardSpec,
    ListQuery,
    ParticipantRow,
    ParticipantSpec,
    PromptSpec,
)

_prompt = msgspec.json.Decoder(PromptSpec)
_asset = msgspec.json.Decoder(AssetInput)
_board = msgspec.json.Decoder(LeaderboardSpec)
_participant = msgspec.json.Decoder(ParticipantSpec)

ALL = ListQuery(page=1, page_size=1_000_000, order=(("created_at", False),))
"""Every row, oldest first (the listings called without a query)."""
BENCHMARK_COLUMNS = "id, name, created_at, description, min_assets"
LEADERBOARD_COLUMNS = "id, benchmark_id, created_at, body, state, target_votes, owner"


def prompt_spec(body: bytes) -> PromptSpec:
    return _prompt.decode(body)


def asset(body: bytes) -> AssetInput:
    return _asset.decode(body)


def leaderboard_row(row: Sequence[Any]) -> LeaderboardRow:
    """From the columns of ``LEADERBOARD_COLUMNS``."""
    return LeaderboardRow(row[0], row[1], row[2], _board.decode(row[3]), row[4], row[5], row[6])


def participant_row(row: Sequence[Any]) -> ParticipantRow:
    """From id, benchmark_id, created_at, status, body and the sample count."""
    spec = _participant.decode(row[4])
    return ParticipantRow(row[0], row[1], row[2], row[3], spec, int(row[5]))


def duplicate_prompt(identifier: str) -> Conflict:
    message = f"The benchmark already has a prompt with identifier '{identifier}'."
    return Conflict(message, {"identifier": [message]})


def duplicate_sample(identifier: str) -> Conflict:
    message = f"The participant already has a sample for identifier '{identifier}'."
    return Conflict(message, {"identifier": [message]})


def unknown_identifier(identifier: str) -> Invalid:
    return Invalid.field(
        "identifier", f"The benchmark has no prompt with identifier '{identifier}'."
    )
