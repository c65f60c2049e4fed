"""Audiences: global, curated and custom pools of labelers, and the filters that shape them."""

from ._audience import RapidataAudience
from ._filters import (
    AgeFilter,
    AgeGroup,
    AndFilter,
    CountryFilter,
    DemographicFilter,
    DeviceFilter,
    DeviceType,
    Gender,
    GenderFilter,
    LanguageFilter,
    NotFilter,
    OrFilter,
    RapidataFilter,
)
from ._manager import AudienceManager

__all__ = [
    "AgeFilter",
    "AgeGroup",
    "AndFilter",
    "AudienceManager",
    "CountryFilter",
    "DemographicFilter",
    "DeviceFilter",
    "DeviceType",
    "Gender",
    "GenderFilter",
    "LanguageFilter",
    "NotFilter",
    "OrFilter",
    "RapidataAudience",
    "RapidataFilter",
]
