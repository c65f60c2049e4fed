"""Audiences: global, curated and custom pools of labelers."""

from ._audience import RapidataAudience
from ._manager import AudienceManager

__all__ = ["AudienceManager", "RapidataAudience"]
