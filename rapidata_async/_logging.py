"""The SDK logger: a library citizen of the application's ``logging`` setup.

::

    import logging
    from rapidata_async import logger, rapidata_config

    logging.basicConfig(level=logging.INFO)      # the application decides where lines go
    logger.info("shown", job_id="j_1")          # -> "INFO:rapidata_async:shown job_id=j_1"
    rapidata_config.logging.level = "DEBUG"      # optional: the SDK's own level

``logger`` is a structlog logger over the stdlib logger ``rapidata_async``. Importing the SDK
attaches only a ``NullHandler`` to it and leaves propagation on, so records reach the
application's handlers (and nothing is printed when the application configured none). Each
record's message is ``"event k=v ..."`` and its fields are also passed as record attributes
(``extra=``), ready for structured formatters (structlog's ``ExtraAdder``, JSON formatters); a
field named like a ``LogRecord`` attribute gets a trailing ``_``. ``log_file`` additionally
writes the SDK's lines to a file from a background thread, so logging from a coroutine never
blocks the event loop. Values under secret-looking keys (``Authorization``, ``client_secret``,
``access_token``, ...) and bearer/basic credentials inside strings are replaced by ``***``
before any handler sees them. The local backend logs to ``rapidata_async.local`` the same way.
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


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "_") in _SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets masked: values under secret keys in (nested) mappings,
    and ``Bearer …``/``Basic …`` credentials inside strings."""
    if isinstance(value, str):
        return _CREDENTIAL_IN_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every field of the event (see :func:`redact`)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if is_secret_key(key) else redact(value)
    return event_dict


# Attributes every LogRecord has: an ``extra`` key among them would make logging raise.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None))
) | {"message", "asctime"}


def _render(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    # The event becomes the stdlib message ("event k=v ..."), readable under any formatter;
    # the fields also travel as record attributes for structured handlers. exc_info is
    # handed to stdlib logging so that tracebacks are formatted the usual way.
    exc_info = event_dict.pop("exc_info", None)
    event = str(event_dict.pop("event", ""))
    fields = " ".join(f"{k}={v}" for k, v in event_dict.items())
    message = f"{event} {fields}" if fields else event
    extra = {(f"{k}_" if k in _RECORD_ATTRIBUTES else k): v for k, v in event_dict.items()}
    kwargs: dict[str, Any] = {"extra": extra}
    if exc_info:
        kwargs["exc_info"] = exc_info
    return (message,), kwargs


_stdlib_logger = logging.getLogger(LOGGER_NAME)
# A library adds no output of its own: without this, Python's last-resort handler would
# print the SDK's warnings in applications that configured no logging at all.
_stdlib_logger.addHandler(logging.NullHandler())


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
    _stdlib_logger.setLevel(cfg.level or logging.NOTSET)
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
"""The SDK's structlog logger over the stdlib logger ``rapidata_async``.

The SDK attaches only a ``NullHandler`` and leaves propagation on: records reach the
application's handlers. ``logger.info("event", key=value)`` logs ``"event key=value"`` and
sets ``key`` on the record (``extra=``); secret-looking values are masked as ``***``.
"""


def debug_enabled() -> bool:
    """Whether debug events are emitted (cheap; guards work done only to log)."""
    return _stdlib_logger.isEnabledFor(logging.DEBUG)


def echo(msg: str) -> None:
    """Print ``msg`` for the user (a dashboard link) when stdout is watched: a terminal or a
    notebook, or ``show_output=True``; never in ``silent_mode``. Also logged at INFO."""
    from ._progress import output_enabled

    _stdlib_logger.info(msg)
    if output_enabled(sys.stdout):
        print(msg)


async def show_link(label: str, url: str, *, open_browser: bool) -> str:
    """``echo`` "<label>: <url>", open it in a browser when asked (in a worker thread), and
    return the URL: what ``preview()`` and ``view()`` do, with no API call."""
    echo(f"{label}: {url}")
    if open_browser:
        import webbrowser

        import anyio.to_thread

        await anyio.to_thread.run_sync(webbrowser.open, url)
    return url
