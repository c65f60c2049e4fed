"""Selections of a legacy order: which tasks a labeler's session shows, in what order.

``selections=[ValidationSelection(validation_set_id, amount=1), LabelingSelection(amount=3)]``:
one validation task, then three of the order's. On the wire each is one ``ISelection`` of
``POST /order``. The local backend stores them; its simulated crowd does not model sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._wire import order as wire


def _positive(owner: str, field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {field} must be an integer >= 1, got {value!r}")
    return value


class RapidataSelection:
    """Base of the selections."""

    __slots__: tuple[str, ...] = ()

    def _to_wire(self) -> wire.Selection:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({args})"


def _nested(owner: str, selections: Any) -> list[RapidataSelection]:
    if not isinstance(selections, Sequence) or not selections:
        raise ValueError(f"{owner}: selections must be a non-empty list, got {selections!r}")
    for i, s in enumerate(selections):
        if not isinstance(s, RapidataSelection):
            raise ValueError(f"{owner}: selections[{i}] must be a selection, got {s!r}")
    return list(selections)


class LabelingSelection(RapidataSelection):
    """``amount`` tasks of the order itself."""

    __slots__ = ("amount",)

    def __init__(self, amount: int) -> None:
        self.amount: int = _positive("LabelingSelection", "amount", amount)

    def _to_wire(self) -> wire.Selection:
        return wire.LabelingSelection(amount=self.amount)


class ValidationSelection(RapidataSelection):
    """``amount`` tasks of the validation set ``validation_set_id``."""

    __slots__ = ("amount", "validation_set_id")

    def __init__(self, validation_set_id: str, amount: int = 1) -> None:
        if not isinstance(validation_set_id, str) or not validation_set_id.strip():
            raise ValueError(
                "ValidationSelection: validation_set_id must be a non-empty string, "
                f"got {validation_set_id!r}"
            )
        self.validation_set_id: str = validation_set_id
        self.amount: int = _positive("ValidationSelection", "amount", amount)

    def _to_wire(self) -> wire.Selection:
        return wire.ValidationSelection(
            amount=self.amount, validation_set_id=self.validation_set_id
        )


class CappedSelection(RapidataSelection):
    """``selections``, at most ``max_rapids`` tasks of them in all."""

    __slots__ = ("max_rapids", "selections")

    def __init__(self, selections: Sequence[RapidataSelection], max_rapids: int) -> None:
        self.selections: list[RapidataSelection] = _nested("CappedSelection", selections)
        self.max_rapids: int = _positive("CappedSelection", "max_rapids", max_rapids)

    def _to_wire(self) -> wire.Selection:
        return wire.CappedSelection(
            selections=[s._to_wire() for s in self.selections], max_rapids=self.max_rapids
        )


class ShufflingSelection(RapidataSelection):
    """``selections`` in a random order."""

    __slots__ = ("selections",)

    def __init__(self, selections: Sequence[RapidataSelection]) -> None:
        self.selections: list[RapidataSelection] = _nested("ShufflingSelection", selections)

    def _to_wire(self) -> wire.Selection:
        return wire.ShufflingSelection(selections=[s._to_wire() for s in self.selections])


def check_selections(selections: Any) -> list[RapidataSelection]:
    """The ``selections`` argument as a list, or ``ValueError`` naming the bad item."""
    if selections is None:
        return []
    if isinstance(selections, RapidataSelection) or not isinstance(selections, Sequence):
        raise ValueError(f"selections: must be a list of selections, got {selections!r}")
    for i, s in enumerate(selections):
        if not isinstance(s, RapidataSelection):
            raise ValueError(
                f"selections[{i}]: expected a selection such as LabelingSelection(amount=3), "
                f"got {s!r}"
            )
    return list(selections)
