"""What every store seeds and stamps: the global and curated audiences, ids and timestamps.

Shared by both store implementations so that a SQLite and a PostgreSQL backend look alike.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from ..._wire import audience as auwire

SEED_OWNER_MAIL = "audiences@rapidata.ai"


@dataclass(frozen=True, slots=True)
class SeedAudience:
    id: str
    name: str
    kind: str  # "global" | "curated"
    domain: str | None
    description: str
    created_at: str


SEED_AUDIENCES = (
    SeedAudience(
        "global",
        "Global Audience",
        "global",
        None,
        "Everyone in the crowd: the broadest pool, ready for any task.",
        "2025-01-01T00:00:00.000000+00:00",
    ),
    SeedAudience(
        "a1ea11e0c0a1000000000001",
        "Alignment Audience",
        "curated",
        "alignment",
        "Labelers trained on judging how well an image matches its prompt.",
        "2025-01-02T00:00:00.000000+00:00",
    ),
    SeedAudience(
        "a1ea11e0c0a1000000000002",
        "Preference Audience",
        "curated",
        "preference",
        "Labelers trained on overall visual preference.",
        "2025-01-03T00:00:00.000000+00:00",
    ),
    SeedAudience(
        "a1ea11e0c0a1000000000003",
        "Coherence Audience",
        "curated",
        "coherence",
        "Labelers trained on spotting artifacts and incoherent content.",
        "2025-01-04T00:00:00.000000+00:00",
    ),
)
DEFAULT_RULE = auwire.TaskAccuracyRule(target_accuracy=0.75, min_tasks=10)


def new_id() -> str:
    """24 hex digits, the shape of the real API's ids."""
    return secrets.token_hex(12)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)
