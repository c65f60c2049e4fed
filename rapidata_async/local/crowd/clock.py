"""Clocks that pace the simulated crowd.

Times are *crowd seconds*: how long things take for the simulated people (a labeler answers
in ~4 s). A clock turns them into waiting:

- ``InstantClock``: no waiting at all. Time jumps to the next event, so a job's responses still
  arrive one at a time, in the order a real crowd would send them, as fast as the referee and
  the store take them (tests, benchmarks). It yields to the event loop every ``yield_every``
  events so other jobs and requests keep running.
- ``RealisticClock(speed)``: crowd seconds pass ``speed`` times faster than wall-clock seconds
  (``--pace realistic --speed 60``: a minute of crowd work per second).

Each crowd worker takes its own clock from a ``Pace`` (``pace.clock()``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

import anyio
import anyio.lowlevel

__all__ = ["Clock", "InstantClock", "Pace", "RealisticClock"]


class Clock(Protocol):
    instant: bool

    def now(self) -> float:
        """The current crowd time in seconds."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return once crowd time ``t`` has come."""
        ...

    def from_wall(self, epoch: float) -> float:
        """The crowd time of a wall-clock instant (``time.time()`` seconds)."""
        ...


class InstantClock:
    """Virtual time that jumps to whatever comes next."""

    instant = True

    def __init__(self, yield_every: int = 256) -> None:
        self._now = 0.0
        self._yield_every = yield_every
        self._events = 0

    def now(self) -> float:
        return self._now

    async def sleep_until(self, t: float) -> None:
        if self.advance(t):
            await anyio.lowlevel.checkpoint()

    def advance(self, t: float) -> bool:
        """``sleep_until`` without the coroutine: jump to ``t``; True when the caller should
        yield to the event loop now (every ``yield_every`` events)."""
        if t > self._now:
            self._now = t
        self._events += 1
        if self._events >= self._yield_every:
            self._events = 0
            return True
        return False

    def from_wall(self, epoch: float) -> float:
        # Nothing waits in instant pace: whatever started in the past has happened.
        return -math.inf


class RealisticClock:
    """Crowd time is wall-clock time sped up ``speed`` times."""

    instant = False

    def __init__(self, speed: float = 1.0) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, got {speed}")
        self.speed = speed

    def now(self) -> float:
        return time.time() * self.speed

    async def sleep_until(self, t: float) -> None:
        delay = (t - self.now()) / self.speed
        if delay > 0:
            await anyio.sleep(delay)
        else:
            await anyio.lowlevel.checkpoint()

    def from_wall(self, epoch: float) -> float:
        return epoch * self.speed


@dataclass(frozen=True, slots=True)
class Pace:
    """``instant`` or ``realistic`` at ``speed``; makes one clock per crowd worker."""

    kind: str = "instant"
    speed: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("instant", "realistic"):
            raise ValueError(f"pace must be 'instant' or 'realistic', got {self.kind!r}")
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError(f"speed must be a positive number, got {self.speed}")

    def clock(self) -> Clock:
        if self.kind == "instant":
            return InstantClock()
        return RealisticClock(self.speed)
