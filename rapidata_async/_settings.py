"""Task settings of the docs (``NoShuffle``, ``Markdown``, ``AllowNeitherBoth``).

On the wire each setting is one ``{"key", "value"}`` feature flag in ``rapidFeatureFlags`` of
``POST /job/definition`` (value always a string).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._wire.common import FeatureFlag


@dataclass(frozen=True)
class RapidataSetting:
    """A feature flag sent with the rapids of a job definition."""

    key: str
    value: str

    def _to_wire(self) -> FeatureFlag:
        return FeatureFlag(key=self.key, value=self.value)


def NoShuffle() -> RapidataSetting:  # the docs' name
    """Keep answer options in the given order (Likert scales): flag ``no_shuffle``."""
    return RapidataSetting("no_shuffle", "true")


def Markdown() -> RapidataSetting:
    """Render limited markdown in text datapoints: flag ``use_main_text_markdown``."""
    return RapidataSetting("use_main_text_markdown", "true")


def AllowNeitherBoth(delay_ms: int = 5000) -> RapidataSetting:
    """Let labelers answer "Both" or "Neither" in compare tasks: flag ``compare_unsure``.

    ``delay_ms`` is how long the labeler sees the task before the extra buttons appear.
    """
    if delay_ms < 0:
        raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
    return RapidataSetting("compare_unsure", str(int(delay_ms)))


def feature_flags(settings: Sequence[RapidataSetting] | None) -> list[FeatureFlag] | None:
    """The wire flags of ``settings`` (None when there are none); checks every item."""
    if not settings:
        return None
    for i, s in enumerate(settings):
        if not isinstance(s, RapidataSetting):
            raise ValueError(f"settings[{i}]: expected a setting such as NoShuffle(), got {s!r}")
    return [s._to_wire() for s in settings]
