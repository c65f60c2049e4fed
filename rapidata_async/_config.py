"""The global ``rapidata_config``: logging and upload settings.

::

    from rapidata_async import rapidata_config

    rapidata_config.logging.level = "INFO"        # applied to the SDK's logger at once
    rapidata_config.upload.maxWorkers = 10
    rapidata_config.upload.batchSize = 50         # ValueError: upload.batchSize must be ...

Field names are the documented ones (camelCase for upload, snake_case for logging). Each
field starts at its default, overridden by the environment variable ``RAPIDATA_<field>``
(e.g. ``RAPIDATA_maxWorkers=10``, read once when the config is created, i.e. at import);
assigning in code overrides both. Booleans from the environment are true for ``1``, ``true``
or ``yes`` (any case) and false otherwise. Every assignment is type- and range-checked and a
bad value raises ``ValueError`` naming the field; a bad value in the environment is ignored
with a ``RuntimeWarning`` naming the variable (the default is used), so that a typo there never
makes ``import rapidata_async`` fail.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, overload

T = TypeVar("T")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
DEFAULT_CACHE_LOCATION = Path("~/.cache/rapidata/upload_cache").expanduser()

ENV_PREFIX = "RAPIDATA_"

__all__ = ["LoggingConfig", "RapidataConfig", "UploadConfig", "rapidata_config"]


# Checks take the qualified field name (for the message) and the value, and return the value
# to store (normalised) or raise ValueError.
Check = Callable[[str, Any], Any]


def _int_in(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high}, got {value}")
        return value

    return check


def _positive_float(high: float) -> Check:
    def check(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number of seconds, got {value!r}")
        if not 0 < value <= high:
            raise ValueError(f"{name} must be > 0 and <= {high:g} seconds, got {value}")
        return float(value)

    return check


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a fraction between 0.0 and 1.0, got {value!r}")
    return float(value)


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def _optional_bool(name: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} must be True, False or None (automatic), got {value!r}")
    return value


def _level(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
        raise ValueError(f"{name} must be one of {', '.join(LOG_LEVELS)} or None, got {value!r}")
    return value.upper()


def _nonempty_str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _optional_file(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be a file path or None, got {value!r}")
    return str(Path(value).expanduser())


def _directory(name: str, value: Any) -> Path:
    if not isinstance(value, (str, os.PathLike)) or str(value) == "":
        raise ValueError(f"{name} must be a directory path, got {value!r}")
    return Path(value).expanduser()


def _env_number(raw: str) -> int | float | str:
    # Leave unparsable text as is: the field's check then reports it with the field name.
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            pass
    return raw


def _env_bool(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes")


def _env_optional_bool(raw: str) -> bool | None:
    text = raw.strip().lower()
    return None if text in ("", "auto") else _env_bool(text)


def _env_text(raw: str) -> str:
    return raw


class _Option(Generic[T]):
    """One config field: its default, its check and how to read it from the environment."""

    def __init__(self, default: T, check: Check, from_env: Callable[[str], Any]) -> None:
        self.default = default
        self.check = check
        self.from_env = from_env
        self.name: str = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _Option[T]: ...
    @overload
    def __get__(self, obj: _Section, owner: type) -> T: ...
    def __get__(self, obj: _Section | None, owner: type) -> T | _Option[T]:
        if obj is None:
            return self
        value: T = obj._values[self.name]
        return value

    def __set__(self, obj: _Section, value: Any) -> None:
        obj._assign(self, value)


class _Section:
    """A group of options; subclasses declare them as ``_Option`` class attributes."""

    section: ClassVar[str]

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._values: dict[str, Any] = {}
        self._frozen: set[str] = set()
        self._listeners: list[Callable[[], None]] = []
        for option in self._options():
            value: Any = option.default
            raw = env.get(ENV_PREFIX + option.name)
            if raw is not None:
                try:
                    value = option.check(self._qualified(option), option.from_env(raw))
                except ValueError as exc:
                    # A typo in the environment must not break `import rapidata_async`.
                    warnings.warn(
                        f"ignoring environment variable {ENV_PREFIX}{option.name}: {exc}; "
                        f"using the default {option.default!r}",
                        RuntimeWarning,
                        stacklevel=2,
                    )
            self._values[option.name] = value

    @classmethod
    def _options(cls) -> Iterator[_Option[Any]]:
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).values():
                if isinstance(attr, _Option):
                    yield attr

    def _qualified(self, option: _Option[Any]) -> str:
        return f"{self.section}.{option.name}"

    def _assign(self, option: _Option[Any], value: Any) -> None:
        name = self._qualified(option)
        value = option.check(name, value)
        if option.name in self._frozen and value != self._values[option.name]:
            raise ValueError(
                f"{name} cannot change once the upload cache is in use "
                f"(it is {self._values[option.name]!s})"
            )
        self._values[option.name] = value
        for listener in list(self._listeners):
            listener()

    def __setattr__(self, name: str, value: Any) -> None:
        # Catch typos such as ``upload.maxworkers = 5`` that would otherwise be silently
        # ignored.
        if not name.startswith("_") and not isinstance(getattr(type(self), name, None), _Option):
            fields = ", ".join(o.name for o in self._options())
            raise AttributeError(f"{self.section} has no field {name!r}; fields: {fields}")
        super().__setattr__(name, value)

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every successful assignment to a field of this section."""
        self._listeners.append(listener)

    def to_dict(self) -> dict[str, Any]:
        """Current values by field name."""
        return dict(self._values)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"{type(self).__name__}({fields})"


class LoggingConfig(_Section):
    """``rapidata_config.logging``: how much the SDK logs and prints; applied live."""

    section: ClassVar[str] = "logging"

    level: _Option[str | None] = _Option(None, _level, _env_text)
    """Level of the ``rapidata_async`` logger: DEBUG, INFO, WARNING, ERROR or CRITICAL; None
    (default) leaves it to the application's logging configuration."""
    log_file: _Option[str | None] = _Option(None, _optional_file, _env_text)
    """Also write the SDK's log lines to this file (None: only the application's handlers)."""
    format: _Option[str] = _Option(DEFAULT_LOG_FORMAT, _nonempty_str, _env_text)
    """The ``logging`` format string of ``log_file``."""
    silent_mode: _Option[bool] = _Option(False, _bool, _env_bool)
    """Suppress prints and progress bars (logging is unaffected)."""
    show_output: _Option[bool | None] = _Option(None, _optional_bool, _env_optional_bool)
    """Prints (dashboard links) and progress bars: None (default) only when the output is a
    terminal or a notebook, True always, False never. ``RAPIDATA_show_output=auto`` is None."""
    enable_otlp: _Option[bool] = _Option(True, _bool, _env_bool)
    """Accepted for compatibility with the official SDK and not consulted: spans go to the
    tracer provider the application installs (none installed: no spans)."""


class UploadConfig(_Section):
    """``rapidata_config.upload``: concurrency, retries, cache and batching of uploads."""

    section: ClassVar[str] = "upload"

    maxWorkers: _Option[int] = _Option(25, _int_in(1, 1000), _env_number)
    """Uploads in flight at once."""
    maxRetries: _Option[int] = _Option(3, _int_in(0, 100), _env_number)
    """Retries of one file upload, single URL upload or datapoint request after the first
    attempt (connection errors, timeouts, 408, 429, 5xx)."""
    cacheToDisk: _Option[bool] = _Option(True, _bool, _env_bool)
    """Remember uploaded files on disk so they are not uploaded twice."""
    cacheTimeout: _Option[float] = _Option(1.0, _positive_float(3600), _env_number)
    """Seconds a cache operation may take."""
    cacheLocation: _Option[Path] = _Option(DEFAULT_CACHE_LOCATION, _directory, _env_text)
    """Cache directory; fixed once the cache is in use."""
    cacheShards: _Option[int] = _Option(1, _int_in(1, 4096), _env_number)
    """Cache shards; fixed once the cache is in use. Default 1 (the official SDK: 128): this
    SDK reads and writes the cache from one thread, where shards add nothing but start-up
    time (opening 128 shards takes 0.4-0.9 s)."""
    batchSize: _Option[int] = _Option(1000, _int_in(100, 5000), _env_number)
    """URLs per batch upload (100-5000)."""
    batchPollInterval: _Option[float] = _Option(0.5, _positive_float(60), _env_number)
    """Seconds between two polls of a batch upload."""
    failureTolerance: _Option[float] = _Option(0.0, _fraction, _env_number)
    """Fraction of a job definition's datapoints that may fail to upload while the definition
    is still created without them (0.0: any failure stops it; 1.0: created if any landed).
    ``failure_tolerance=`` of a call overrides it."""

    def freeze_cache_settings(self) -> None:
        """Fix ``cacheLocation`` and ``cacheShards``; the upload cache calls this on first use,
        because moving or resharding an open cache would orphan its entries."""
        self._frozen.update(("cacheLocation", "cacheShards"))


class RapidataConfig:
    """The SDK configuration: ``.logging`` and ``.upload``.

    ``environ`` replaces ``os.environ`` as the source of ``RAPIDATA_*`` overrides (tests).
    """

    __slots__ = ("_logging", "_upload")

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._logging = LoggingConfig(environ)
        self._upload = UploadConfig(environ)

    @property
    def logging(self) -> LoggingConfig:
        """Logging, prints and progress bars."""
        return self._logging

    @property
    def upload(self) -> UploadConfig:
        """Concurrency, retries, the file cache and URL batches of uploads."""
        return self._upload

    def __repr__(self) -> str:
        return f"RapidataConfig(logging={self._logging!r}, upload={self._upload!r})"


rapidata_config: RapidataConfig = RapidataConfig()
"""The process-wide configuration every part of the SDK reads."""
