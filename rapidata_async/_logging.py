"""The SDK logger, driven by ``rapidata_config.logging``.

::

    from rapidata_async import logger, rapidata_config

    logger.info("not shown")                 # default level is WARNING
    rapidata_config.logging.level = "INFO"   # applied immediately
    logger.info("shown", job_id="j_1")      # -> "... - INFO - shown job_id=j_1"

``logger`` is a structlog logger bound to the stdlib logger ``rapidata_async`` (which does not
propagate to the root logger, so lines are not printed twice). Lines go to stderr and, when
``log_file`` is set, to that file; file writes happen on a background thread so that logging
from a coroutine never blocks the event loop. Values under secret-looking keys
(``Authorization``, ``client_secret``, ``access_token``, ...) and bearer/basic credentials
inside strings are replaced by ``***`` before anything is written.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from ._config import rapidata_config
from ._constants import LOGGER_NAME

__all__ = ["echo", "logger", "redact", "redact_secrets"]

REDACTED = "***"
_SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "password",
        "secret",
        "api_key",
        "cookie",
        "set_cookie",
    }
)
_CREDENTIAL_IN_TEXT = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "_") in _SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets masked: values under secret keys in (nested) mappings,
    and ``Bearer …``/``Basic …`` credentials inside strings."""
    if isinstance(value, str):
        return _CREDENTIAL_IN_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every field of the event (see :func:`redact`)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if _is_secret_key(key) else redact(value)
    return event_dict


def _render(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    # The event becomes the stdlib message ("event k=v ..."); exc_info is handed to stdlib
    # logging so that tracebacks are formatted the usual way.
    exc_info = event_dict.pop("exc_info", None)
    event = str(event_dict.pop("event", ""))
    fields = " ".join(f"{k}={v}" for k, v in event_dict.items())
    message = f"{event} {fields}" if fields else event
    return (message,), {"exc_info": exc_info} if exc_info else {}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (it may be replaced after import)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # emit runs under the handler lock
        super().emit(record)


_stdlib_logger = logging.getLogger(LOGGER_NAME)
_stdlib_logger.propagate = False
_console = _StderrHandler()
_stdlib_logger.addHandler(_console)


class _FileOutput:
    """``log_file`` output: a queue handler on the logger, the file written by a thread."""

    def __init__(self, path: str, formatter: logging.Formatter) -> None:
        self.path = path
        self.file_handler = logging.FileHandler(path, delay=True, encoding="utf-8")
        self.file_handler.setFormatter(formatter)
        self.queue_handler = logging.handlers.QueueHandler(queue.SimpleQueue())
        self.listener = logging.handlers.QueueListener(self.queue_handler.queue, self.file_handler)
        self.listener.start()
        _stdlib_logger.addHandler(self.queue_handler)

    def close(self) -> None:
        _stdlib_logger.removeHandler(self.queue_handler)
        self.listener.stop()  # drains the queue before returning
        self.file_handler.close()


_file_output: _FileOutput | None = None


def _apply_config() -> None:
    global _file_output
    cfg = rapidata_config.logging
    formatter = logging.Formatter(cfg.format)
    _stdlib_logger.setLevel(cfg.level)
    _console.setFormatter(formatter)
    if _file_output is not None and _file_output.path != cfg.log_file:
        _file_output.close()
        _file_output = None
    if cfg.log_file is not None:
        if _file_output is None:
            _file_output = _FileOutput(cfg.log_file, formatter)
        else:
            _file_output.file_handler.setFormatter(formatter)


def _close_file_output() -> None:
    global _file_output
    if _file_output is not None:
        _file_output.close()
        _file_output = None


_apply_config()
rapidata_config.logging.subscribe(_apply_config)
atexit.register(_close_file_output)

logger: structlog.stdlib.BoundLogger = structlog.wrap_logger(
    _stdlib_logger,
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        redact_secrets,
        _render,
    ],
    wrapper_class=structlog.stdlib.BoundLogger,
)
"""The SDK's logger; level, format and file come from ``rapidata_config.logging``."""


def debug_enabled() -> bool:
    """Whether debug events are emitted (cheap; guards work done only to log)."""
    return _stdlib_logger.isEnabledFor(logging.DEBUG)


def echo(msg: str) -> None:
    """Print ``msg`` for the user unless ``rapidata_config.logging.silent_mode`` is on."""
    if not rapidata_config.logging.silent_mode:
        print(msg)
