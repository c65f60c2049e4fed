"""Progress bars (tqdm) drawn only where someone watches, at a bounded redraw rate.

::

    with ProgressBar(total=10_000, desc="Uploading datapoints", unit="dp", counts=True) as bar:
        bar.set(2_500)        # drawn at most ~10 times per second, with rate and ETA

A bar is drawn when ``rapidata_config.logging.show_output`` allows it (default: only when
stderr is a terminal or the code runs in a notebook) and never in ``silent_mode``.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, TextIO

from tqdm.auto import tqdm

from ._config import rapidata_config

MIN_REDRAW_INTERVAL = 0.1
"""Seconds between two redraws of a bar (tqdm's ``mininterval``)."""

_COUNT_FORMAT = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} "
    "[{elapsed}<{remaining}, {rate_fmt}{postfix}]"
)
_PERCENT_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"


def human_count(n: float) -> str:
    """``999`` -> ``"999"``, ``10_000`` -> ``"10k"``, ``1_250_000`` -> ``"1.2M"``."""
    value = float(n)
    for suffix, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            scaled = value / size
            text = f"{scaled:.0f}" if abs(scaled) >= 10 else f"{scaled:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _watched(stream: TextIO | None) -> bool:
    if "ipykernel" in sys.modules:  # a notebook: output is shown though it is no terminal
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def output_enabled(stream: TextIO | None) -> bool:
    """Whether prints and bars go to ``stream``, per ``silent_mode`` and ``show_output``."""
    cfg = rapidata_config.logging
    if cfg.silent_mode or cfg.show_output is False:
        return False
    return cfg.show_output is True or _watched(stream)


class ProgressBar:
    """``with ProgressBar(total=100, desc=...) as bar: bar.set(42.0)``; absolute positions.

    ``counts=True`` shows the position as a human count with a rate (``2.5k/10k dp,
    812dp/s``); otherwise the total is a percentage and only elapsed time and ETA are shown.
    """

    def __init__(
        self, *, total: float, desc: str, unit: str, enabled: bool = True, counts: bool = False
    ) -> None:
        self._bar: Any = None
        stream = sys.stderr
        if enabled and output_enabled(stream):
            self._bar = tqdm(
                total=total,
                desc=desc,
                unit=unit,
                unit_scale=counts,
                bar_format=_COUNT_FORMAT if counts else _PERCENT_FORMAT,
                mininterval=MIN_REDRAW_INTERVAL,
                file=stream,
                leave=True,
            )

    @property
    def active(self) -> bool:
        return self._bar is not None

    def set(self, position: float, **postfix: Any) -> None:
        """Move to ``position``; tqdm redraws only if ``MIN_REDRAW_INTERVAL`` has passed."""
        bar = self._bar
        if bar is None:
            return
        if postfix:
            bar.set_postfix(postfix, refresh=False)
        if position >= bar.n:
            bar.update(position - bar.n)
        else:
            bar.n = position  # a position going back (rare): shown on the next redraw

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
