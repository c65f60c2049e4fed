"""Single flight: the first caller of a key does the work, every other caller awaits it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class Slot(Generic[T]):
    __slots__ = ("_error", "_event", "_value")

    def __init__(self) -> None:
        self._event = anyio.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

    def set(self, value: T) -> None:
        self._value = value
        self._event.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._event.set()

    @property
    def done(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> T:
        await self._event.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._slots: dict[str, Slot[T]] = {}

    def get(self, key: str) -> tuple[Slot[T], bool]:
        """The key's slot and whether this call created it (and so owns the work)."""
        slot = self._slots.get(key)
        if slot is not None:
            return slot, False
        slot = self._slots[key] = Slot()
        return slot, True

    def forget(self, key: str) -> None:
        """The next caller of ``key`` does the work again."""
        self._slots.pop(key, None)

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        slot, owner = self.get(key)
        if owner:
            try:
                slot.set(await work())
            except Exception as exc:
                slot.fail(exc)
                raise
            except BaseException:
                # Cancellation of the owner must not travel into the waiters' tasks.
                slot.fail(RuntimeError(f"upload of {key!r} was cancelled"))
                raise
        return await slot.wait()
