"""A tqdm progress bar that honours ``rapidata_config.logging.silent_mode``."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from tqdm.auto import tqdm

from ._config import rapidata_config


class ProgressBar:
    """``with ProgressBar(total=100, desc=...) as bar: bar.set(42.0)``; absolute positions."""

    def __init__(self, *, total: float, desc: str, unit: str, enabled: bool = True) -> None:
        self._bar: Any = None
        if enabled and not rapidata_config.logging.silent_mode:
            fmt = (
                "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} {unit} [{elapsed}{postfix}]"
            )
            self._bar = tqdm(total=total, desc=desc, unit=unit, bar_format=fmt, leave=True)

    def set(self, position: float, **postfix: Any) -> None:
        if self._bar is None:
            return
        self._bar.n = position
        if postfix:
            self._bar.set_postfix(postfix, refresh=False)
        self._bar.refresh()

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
