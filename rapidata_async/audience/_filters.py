"""Audience filters: who may join a custom audience, by country, language, age, gender, device.

Constructed with the official SDK's names and parameters (``CountryFilter(country_codes=[…])``)
and combined with ``&``, ``|`` and ``~`` (or ``AndFilter``/``OrFilter``/``NotFilter``). Codes
and values are checked when the filter is built; each error names the filter and the value.
On the wire each becomes one ``IAudienceFilter`` of ``POST /audience``; age and gender travel
as ``DemographicFilter`` with the identifier ``age`` / ``gender``.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, get_args

from .._iso import COUNTRY_CODES, LANGUAGE_CODES
from .._types import AgeGroupName, DeviceTypeName, GenderName
from .._wire import audience as wire
from .._wire import order as order_wire


class AgeGroup(StrEnum):
    """The age groups of ``AgeFilter`` (their values are the API's)."""

    UNDER_18 = "0-17"
    BETWEEN_18_29 = "18-29"
    BETWEEN_30_39 = "30-39"
    BETWEEN_40_49 = "40-49"
    BETWEEN_50_64 = "50-64"
    OVER_65 = "65+"


class Gender(StrEnum):
    """The genders of ``GenderFilter``."""

    MALE = "Male"
    FEMALE = "Female"
    OTHER = "Other"


class DeviceType(StrEnum):
    """The device types of ``DeviceFilter``."""

    UNKNOWN = "Unknown"
    PHONE = "Phone"
    TABLET = "Tablet"


class RapidataFilter:
    """Base of the audience filters; ``a & b``, ``a | b`` and ``~a`` combine them."""

    __slots__: tuple[str, ...] = ()

    def _to_wire(self) -> wire.AudienceFilter:
        raise NotImplementedError

    def _to_user_filter(self) -> order_wire.UserFilter:
        """The filter as a legacy order's ``IUserFilter`` (``userFilters`` of ``POST /order``)."""
        raise NotImplementedError

    def _fields(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.__slots__}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, RapidataFilter)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        return f"{type(self).__name__}({args})"

    def __and__(self, other: RapidataFilter) -> AndFilter:
        if not isinstance(other, RapidataFilter):
            return NotImplemented
        return AndFilter([*_flatten(self, AndFilter), *_flatten(other, AndFilter)])

    def __or__(self, other: RapidataFilter) -> OrFilter:
        if not isinstance(other, RapidataFilter):
            return NotImplemented
        return OrFilter([*_flatten(self, OrFilter), *_flatten(other, OrFilter)])

    def __invert__(self) -> NotFilter:
        return NotFilter(self)


def _flatten(f: RapidataFilter, kind: type[AndFilter | OrFilter]) -> list[RapidataFilter]:
    # (a & b) & c is one AndFilter of three: nesting the same operator adds nothing.
    return list(f.filters) if isinstance(f, kind) else [f]


def _codes(owner: str, field: str, values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{owner}: {field} must be a non-empty list, got {values!r}")
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise ValueError(f"{owner}: {field}[{i}] must be a string, got {v!r}")
    return list(values)


def _members(owner: str, field: str, values: Any, allowed: tuple[str, ...]) -> list[str]:
    out = []
    for i, v in enumerate(_codes(owner, field, values)):
        if v not in allowed:
            raise ValueError(f"{owner}: {field}[{i}] {v!r} is not one of {list(allowed)}")
        out.append(str(v))  # a StrEnum member travels as its value
    return out


class CountryFilter(RapidataFilter):
    """Labelers in one of these countries (ISO 3166-1 alpha-2 codes, e.g. ``"US"``, ``"DE"``;
    lower case is accepted and upper-cased)."""

    __slots__ = ("country_codes",)

    def __init__(self, country_codes: Sequence[str]) -> None:
        codes = [c.upper() for c in _codes("CountryFilter", "country_codes", country_codes)]
        for i, code in enumerate(codes):
            if code not in COUNTRY_CODES:
                raise ValueError(
                    f"CountryFilter: country_codes[{i}] {country_codes[i]!r} is not an "
                    "ISO 3166-1 alpha-2 country code (two letters, e.g. 'US', 'DE')"
                )
        self.country_codes: list[str] = codes

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.CountryFilter(countries=list(self.country_codes))

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.CountryUserFilter(countries=list(self.country_codes))


class LanguageFilter(RapidataFilter):
    """Labelers whose device language is one of these (ISO 639-1 codes, e.g. ``"en"``; upper
    case is accepted and lower-cased)."""

    __slots__ = ("language_codes",)

    def __init__(self, language_codes: Sequence[str]) -> None:
        codes = [c.lower() for c in _codes("LanguageFilter", "language_codes", language_codes)]
        for i, code in enumerate(codes):
            if code not in LANGUAGE_CODES:
                raise ValueError(
                    f"LanguageFilter: language_codes[{i}] {language_codes[i]!r} is not an "
                    "ISO 639-1 language code (two letters, e.g. 'en', 'de')"
                )
        self.language_codes: list[str] = codes

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.LanguageFilter(languages=list(self.language_codes))

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.LanguageUserFilter(languages=list(self.language_codes))


class AgeFilter(RapidataFilter):
    """Labelers in one of these age groups (``AgeGroup`` members or their values)."""

    __slots__ = ("age_groups",)

    def __init__(self, age_groups: Sequence[AgeGroup | AgeGroupName]) -> None:
        values = _members("AgeFilter", "age_groups", age_groups, get_args(AgeGroupName))
        self.age_groups: list[AgeGroup] = [AgeGroup(v) for v in values]

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.DemographicFilter(identifier="age", values=[g.value for g in self.age_groups])

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.AgeUserFilter(age_groups=[g.value for g in self.age_groups])


class GenderFilter(RapidataFilter):
    """Labelers of one of these genders (``Gender`` members or their values)."""

    __slots__ = ("genders",)

    def __init__(self, genders: Sequence[Gender | GenderName]) -> None:
        values = _members("GenderFilter", "genders", genders, get_args(GenderName))
        self.genders: list[Gender] = [Gender(v) for v in values]

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.DemographicFilter(identifier="gender", values=[g.value for g in self.genders])

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.GenderUserFilter(genders=[g.value for g in self.genders])


class DeviceFilter(RapidataFilter):
    """Labelers on one of these device types (``DeviceType`` members or their values)."""

    __slots__ = ("device_types",)

    def __init__(self, device_types: Sequence[DeviceType | DeviceTypeName]) -> None:
        values = _members("DeviceFilter", "device_types", device_types, get_args(DeviceTypeName))
        self.device_types: list[DeviceType] = [DeviceType(v) for v in values]

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.DeviceFilter(device_types=[d.value for d in self.device_types])

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.DeviceUserFilter(device_types=[d.value for d in self.device_types])


class DemographicFilter(RapidataFilter):
    """Labelers whose demographic ``identifier`` (e.g. ``"occupation"``) has one of ``values``;
    the general form of ``AgeFilter`` and ``GenderFilter``."""

    __slots__ = ("identifier", "values")

    def __init__(self, identifier: str, values: Sequence[str]) -> None:
        if not isinstance(identifier, str) or not identifier.strip():
            raise ValueError(
                f"DemographicFilter: identifier must be a non-empty string, got {identifier!r}"
            )
        self.identifier: str = identifier
        self.values: list[str] = _codes("DemographicFilter", "values", values)

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.DemographicFilter(identifier=self.identifier, values=list(self.values))

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.CustomUserFilter(identifier=self.identifier, values=list(self.values))


def _filters(owner: str, filters: Any) -> list[RapidataFilter]:
    if isinstance(filters, RapidataFilter) or not isinstance(filters, Sequence) or not filters:
        raise ValueError(f"{owner}: filters must be a non-empty list of filters, got {filters!r}")
    for i, f in enumerate(filters):
        if not isinstance(f, RapidataFilter):
            raise ValueError(f"{owner}: filters[{i}] must be a filter, got {f!r}")
    return list(filters)


class AndFilter(RapidataFilter):
    """Labelers who pass every one of ``filters`` (also ``a & b``)."""

    __slots__ = ("filters",)

    def __init__(self, filters: Sequence[RapidataFilter]) -> None:
        self.filters: list[RapidataFilter] = _filters("AndFilter", filters)

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.AndFilter(filters=[f._to_wire() for f in self.filters])

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.AndUserFilter(filters=[f._to_user_filter() for f in self.filters])


class OrFilter(RapidataFilter):
    """Labelers who pass at least one of ``filters`` (also ``a | b``)."""

    __slots__ = ("filters",)

    def __init__(self, filters: Sequence[RapidataFilter]) -> None:
        self.filters: list[RapidataFilter] = _filters("OrFilter", filters)

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.OrFilter(filters=[f._to_wire() for f in self.filters])

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.OrUserFilter(filters=[f._to_user_filter() for f in self.filters])


class NotFilter(RapidataFilter):
    """Labelers who do not pass ``filter`` (also ``~f``)."""

    __slots__ = ("filter",)

    def __init__(self, filter: RapidataFilter) -> None:
        if not isinstance(filter, RapidataFilter):
            raise ValueError(f"NotFilter: filter must be a filter, got {filter!r}")
        self.filter: RapidataFilter = filter

    def _to_wire(self) -> wire.AudienceFilter:
        return wire.NotFilter(filter=self.filter._to_wire())

    def _to_user_filter(self) -> order_wire.UserFilter:
        return order_wire.NotUserFilter(filter=self.filter._to_user_filter())


def check_filters(filters: Any) -> list[RapidataFilter]:
    """The ``filters`` argument of ``create_audience`` as a list, or ``ValueError``."""
    if filters is None:
        return []
    if isinstance(filters, RapidataFilter) or not isinstance(filters, Sequence):
        raise ValueError(f"filters: must be a list of filters, got {filters!r}")
    for i, f in enumerate(filters):
        if not isinstance(f, RapidataFilter):
            raise ValueError(
                f"filters[{i}]: expected a filter such as CountryFilter(country_codes=['US']), "
                f"got {f!r}"
            )
    return list(filters)


def from_wire(f: wire.AudienceFilter) -> RapidataFilter | None:
    """The public filter of a filter the API sent; ``None`` for a value this SDK cannot
    represent (it is left out rather than failing the whole audience)."""
    try:
        return _from_wire(f)
    except ValueError:
        return None


def _from_wire(f: wire.AudienceFilter) -> RapidataFilter | None:
    if isinstance(f, wire.CountryFilter):
        return CountryFilter(f.countries)
    if isinstance(f, wire.LanguageFilter):
        return LanguageFilter(f.languages)
    if isinstance(f, wire.DeviceFilter):
        return DeviceFilter(f.device_types)  # type: ignore[arg-type]  # checked on build
    if isinstance(f, wire.DemographicFilter):
        if f.identifier == "age":
            return AgeFilter(f.values)  # type: ignore[arg-type]
        if f.identifier == "gender":
            return GenderFilter(f.values)  # type: ignore[arg-type]
        return DemographicFilter(f.identifier, f.values)
    if isinstance(f, wire.NotFilter):
        inner = _from_wire(f.filter)
        return None if inner is None else NotFilter(inner)
    parts = [_from_wire(x) for x in f.filters]
    kept = [p for p in parts if p is not None]
    if len(kept) != len(parts) or not kept:
        return None
    return AndFilter(kept) if isinstance(f, wire.AndFilter) else OrFilter(kept)


def filters_from_wire(filters: Sequence[wire.AudienceFilter]) -> list[RapidataFilter]:
    """The public filters of an audience as the API lists them (unrepresentable ones left
    out)."""
    return [p for p in (from_wire(f) for f in filters) if p is not None]
