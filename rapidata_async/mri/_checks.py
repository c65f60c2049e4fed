"""MRI argument checks, run before any request: each error names the offending field or item."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from .. import _validate as check
from ._types import RESPONSE_BUDGETS, BenchmarkPrompt, Origin, Sample, Tag, VoteAggregation

MIN_RESPONSES_PER_MATCHUP = 3


def _list(value: Any, field: str) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{field}: must be a list, got {value!r}")
    return list(value)


def _same_length(lists: dict[str, list[Any] | None]) -> int:
    given = {k: len(v) for k, v in lists.items() if v is not None}
    if len(set(given.values())) > 1:
        sizes = ", ".join(f"{k} has {n}" for k, n in given.items())
        raise ValueError(f"the lists must have one entry per prompt, but {sizes}")
    return next(iter(given.values()), 0)


def unique_identifiers(identifiers: list[str], field: str = "identifiers") -> None:
    first: dict[str, int] = {}
    for i, ident in enumerate(identifiers):
        if ident in first:
            raise ValueError(
                f"{field}[{i}]: {ident!r} is given twice (also {field}[{first[ident]}]); "
                "identifiers must be unique"
            )
        first[ident] = i


def _prompt_asset(value: Any, field: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        warnings.warn(
            f"{field}: a plain string is deprecated; pass a list of paths/URLs per prompt "
            f"([{value!r}])",
            DeprecationWarning,
            stacklevel=4,
        )
        value = [value]
    if isinstance(value, bytes) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"{field}: must be a non-empty list of paths/URLs or None, got {value!r}")
    return tuple(check.asset(a, f"{field}[{j}]", "media") for j, a in enumerate(value))


def _tags(value: Any, field: str) -> tuple[Tag, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{field}: must be a list of tags (strings or Tag), got {value!r}")
    out = []
    for j, t in enumerate(value):
        if isinstance(t, str) and t.strip():
            out.append(Tag(t))
        elif isinstance(t, Tag) and isinstance(t.value, str) and t.value.strip():
            out.append(t)
        else:
            raise ValueError(f"{field}[{j}]: a tag must be a non-empty string or Tag, got {t!r}")
    return tuple(out)


def _origin(value: Any, field: str) -> Origin | None:
    if value is None or isinstance(value, Origin):
        return value
    if isinstance(value, str) and value.strip():
        return Origin(value)
    raise ValueError(f"{field}: must be a non-empty string, an Origin or None, got {value!r}")


def prompts(
    identifiers: Any, prompts: Any, prompt_assets: Any, tags: Any, origins: Any
) -> list[BenchmarkPrompt]:
    """The prompts to add, zipped by position; identifiers default to the prompt texts."""
    lists = {
        "identifiers": _list(identifiers, "identifiers"),
        "prompts": _list(prompts, "prompts"),
        "prompt_assets": _list(prompt_assets, "prompt_assets"),
        "tags": _list(tags, "tags"),
        "origins": _list(origins, "origins"),
    }
    if lists["identifiers"] is None and lists["prompts"] is None:
        raise ValueError("identifiers or prompts: give at least one of them")
    if lists["prompts"] is None and lists["prompt_assets"] is None:
        raise ValueError("prompts or prompt_assets: give at least one of them")
    n = _same_length(lists)
    if n == 0:
        raise ValueError("prompts: the lists are empty; give at least one prompt")
    texts: list[str | None] = []
    for i, p in enumerate(lists["prompts"] or [None] * n):
        if p is not None and (not isinstance(p, str) or not p.strip()):
            raise ValueError(f"prompts[{i}]: must be a non-empty string or None, got {p!r}")
        texts.append(p)
    if lists["identifiers"] is None:
        for i, p in enumerate(texts):
            if p is None:
                raise ValueError(f"prompts[{i}]: None, but without identifiers each prompt is one")
        idents: list[str] = [p for p in texts if p is not None]
        unique_identifiers(idents, "prompts")
    else:
        idents = [check.name(v, f"identifiers[{i}]") for i, v in enumerate(lists["identifiers"])]
        unique_identifiers(idents)
    assets = [
        _prompt_asset(a, f"prompt_assets[{i}]")
        for i, a in enumerate(lists["prompt_assets"] or [None] * n)
    ]
    out = []
    for i in range(n):
        if texts[i] is None and assets[i] is None:
            raise ValueError(f"prompts[{i}]: needs a prompt text or a prompt asset (both are None)")
        out.append(
            BenchmarkPrompt(
                identifier=idents[i],
                prompt=texts[i],
                prompt_asset=assets[i],
                tags=_tags((lists["tags"] or [None] * n)[i], f"tags[{i}]"),
                origin=_origin((lists["origins"] or [None] * n)[i], f"origins[{i}]"),
            )
        )
    return out


def samples(media: Any, identifiers: Any, prompts: Any, data_type: Any) -> tuple[list[Sample], str]:
    """The samples of ``evaluate_model`` (identifiers still to be resolved from prompts) and
    which list named them (``identifiers`` or ``prompts``)."""
    kind = check.data_type(data_type)
    items = _list(media, "media")
    if not items:
        raise ValueError("media: must be a non-empty list of model outputs")
    idents, texts = _list(identifiers, "identifiers"), _list(prompts, "prompts")
    if (idents is None) == (texts is None):
        raise ValueError("identifiers or prompts: give exactly one of them")
    field = "identifiers" if idents is not None else "prompts"
    keys = idents if idents is not None else texts
    assert keys is not None
    if len(keys) != len(items):
        raise ValueError(f"media has {len(items)} entries but {field} has {len(keys)}")
    return [
        Sample(
            identifier=check.name(k, f"{field}[{i}]"),
            asset=check.asset(m, f"media[{i}]", kind),
            data_type="text" if kind == "text" else "media",
            index=i,
        )
        for i, (m, k) in enumerate(zip(items, keys, strict=True))
    ], field


def response_budget(level_of_detail: Any) -> int | None:
    if level_of_detail is None:
        return None
    if isinstance(level_of_detail, bool):
        raise ValueError(
            f"level_of_detail: must be a level name or an int, got {level_of_detail!r}"
        )
    if isinstance(level_of_detail, int):
        if level_of_detail < 1:
            raise ValueError(
                f"level_of_detail: a response budget must be >= 1, got {level_of_detail}"
            )
        return level_of_detail
    if isinstance(level_of_detail, str) and level_of_detail.lower() in RESPONSE_BUDGETS:
        return RESPONSE_BUDGETS[level_of_detail.lower()]
    raise ValueError(
        f"level_of_detail: must be one of {list(RESPONSE_BUDGETS)} or a positive int, "
        f"got {level_of_detail!r}"
    )


def min_responses(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_RESPONSES_PER_MATCHUP:
        raise ValueError(
            f"min_responses_per_matchup: must be an integer >= {MIN_RESPONSES_PER_MATCHUP}, "
            f"got {value!r}"
        )
    return value


def tag_names(value: Any, field: str) -> list[str] | None:
    items = _list(value, field)
    if items is None:
        return None
    for i, t in enumerate(items):
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"{field}[{i}]: must be a non-empty string, got {t!r}")
    return items


def vote_aggregation(value: Any) -> VoteAggregation:
    if value is None:
        return VoteAggregation.MAJORITY_VOTE
    try:
        return VoteAggregation(getattr(value, "value", value))
    except ValueError:
        raise ValueError(
            f"vote_aggregation: must be one of {[v.value for v in VoteAggregation]}, got {value!r}"
        ) from None


def filter_values(value: Any, field: str) -> list[str] | None:
    """A standings filter: a list of strings (enum members give their value)."""
    items = _list(value, field)
    if items is None:
        return None
    out = []
    for i, v in enumerate(items):
        v = getattr(v, "value", v)
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{field}[{i}]: must be a non-empty string, got {v!r}")
        out.append(v)
    return out
