"""``rapidata_config``: defaults, checks, environment overrides and live logging."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rapidata_async import logger, rapidata_config
from rapidata_async._config import DEFAULT_LOG_FORMAT, RapidataConfig
from rapidata_async._logging import echo

LOGGING_DEFAULTS = {
    "level": None,
    "log_file": None,
    "format": DEFAULT_LOG_FORMAT,
    "silent_mode": False,
    "show_output": None,
    "enable_otlp": True,
}
UPLOAD_DEFAULTS = {
    "maxWorkers": 25,
    "maxRetries": 3,
    "cacheToDisk": True,
    "cacheTimeout": 1.0,
    "cacheLocation": Path.home() / ".cache" / "rapidata" / "upload_cache",
    "cacheShards": 1,
    "batchSize": 1000,
    "batchPollInterval": 0.5,
    "failureTolerance": 0.0,
}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    before = rapidata_config.logging.to_dict()
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(rapidata_config.logging, name, value)


def test_defaults() -> None:
    config = RapidataConfig(environ={})
    assert config.logging.to_dict() == LOGGING_DEFAULTS
    assert config.upload.to_dict() == UPLOAD_DEFAULTS
    assert config.upload.maxWorkers == 25 and config.logging.level is None


@pytest.mark.parametrize(
    ("section", "field", "value", "message"),
    [
        ("upload", "batchSize", 99, "upload.batchSize must be between 100 and 5000, got 99"),
        ("upload", "batchSize", 5001, "upload.batchSize must be between 100 and 5000"),
        ("upload", "maxWorkers", 0, "upload.maxWorkers must be between 1"),
        ("upload", "maxWorkers", "10", "upload.maxWorkers must be an integer"),
        ("upload", "maxWorkers", True, "upload.maxWorkers must be an integer"),
        ("upload", "maxRetries", -1, "upload.maxRetries must be between 0"),
        ("upload", "cacheTimeout", 0, "upload.cacheTimeout must be > 0"),
        ("upload", "batchPollInterval", "fast", "upload.batchPollInterval must be a number"),
        ("upload", "cacheShards", 0, "upload.cacheShards must be between 1"),
        ("upload", "cacheToDisk", "yes", "upload.cacheToDisk must be True or False"),
        ("upload", "cacheLocation", 5, "upload.cacheLocation must be a directory path"),
        ("logging", "level", "LOUD", "logging.level must be one of DEBUG, INFO"),
        ("logging", "silent_mode", 1, "logging.silent_mode must be True or False"),
        ("logging", "format", "", "logging.format must be a non-empty string"),
        ("logging", "log_file", 3, "logging.log_file must be a file path or None"),
    ],
)
def test_bad_values_name_the_field(section: str, field: str, value: Any, message: str) -> None:
    config = RapidataConfig(environ={})
    part = getattr(config, section)
    before = getattr(part, field)
    with pytest.raises(ValueError) as info:
        setattr(part, field, value)
    assert message in str(info.value)
    assert getattr(part, field) == before  # a rejected value changes nothing


def test_values_are_normalised() -> None:
    config = RapidataConfig(environ={})
    config.logging.level = "debug"
    config.upload.cacheTimeout = 2
    config.upload.cacheLocation = "~/somewhere"
    assert config.logging.level == "DEBUG"
    assert config.upload.cacheTimeout == 2.0 and isinstance(config.upload.cacheTimeout, float)
    assert config.upload.cacheLocation == Path.home() / "somewhere"


def test_unknown_field_is_an_error() -> None:
    config = RapidataConfig(environ={})
    with pytest.raises(AttributeError, match=r"maxworkers.*maxWorkers"):
        config.upload.maxworkers = 5


def test_environment_overrides_default_and_code_overrides_environment() -> None:
    config = RapidataConfig(
        environ={
            "RAPIDATA_maxWorkers": "10",
            "RAPIDATA_batchPollInterval": "2",
            "RAPIDATA_cacheLocation": "/tmp/rapidata-cache",
            "RAPIDATA_level": "info",
            "RAPIDATA_log_file": "",
        }
    )
    assert config.upload.maxWorkers == 10
    assert config.upload.batchPollInterval == 2.0
    assert config.upload.cacheLocation == Path("/tmp/rapidata-cache")
    assert config.logging.level == "INFO"
    assert config.logging.log_file is None
    assert config.upload.maxRetries == 3  # untouched fields keep their default
    config.upload.maxWorkers = 5
    assert config.upload.maxWorkers == 5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("Yes", True), (" yes ", True),
     ("0", False), ("false", False), ("no", False), ("", False), ("on", False)],
)  # fmt: skip
def test_environment_booleans(raw: str, expected: bool) -> None:
    config = RapidataConfig(
        environ={
            "RAPIDATA_cacheToDisk": raw,
            "RAPIDATA_silent_mode": raw,
            "RAPIDATA_enable_otlp": raw,
        }
    )
    assert config.upload.cacheToDisk is expected
    assert config.logging.silent_mode is expected
    assert config.logging.enable_otlp is expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [("RAPIDATA_batchSize", "50"), ("RAPIDATA_maxWorkers", "many"), ("RAPIDATA_level", "LOUD")],
)
def test_bad_environment_value_warns_names_the_variable_and_keeps_the_default(
    name: str, raw: str
) -> None:
    with pytest.warns(RuntimeWarning, match=f"ignoring environment variable {name}"):
        config = RapidataConfig(environ={name: raw, "RAPIDATA_maxRetries": "5"})
    assert config.upload.batchSize == 1000 and config.upload.maxWorkers == 25
    assert config.logging.level is None
    assert config.upload.maxRetries == 5  # the good values next to it still apply


def test_import_survives_a_bad_environment_value() -> None:
    env = {**os.environ, "RAPIDATA_maxWorkers": "many", "RAPIDATA_ENVIRONMENT": "x"}
    out = subprocess.run(
        [sys.executable, "-c", "import rapidata_async as r; print(r.rapidata_config.upload)"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "maxWorkers=25" in out.stdout
    assert "RuntimeWarning: ignoring environment variable RAPIDATA_maxWorkers" in out.stderr


def test_global_config_reads_environment_at_import(tmp_path: Path) -> None:
    code = (
        "from rapidata_async import rapidata_config as c; "
        "print(c.upload.maxWorkers, c.upload.cacheToDisk, c.logging.silent_mode)"
    )
    env = {
        **os.environ,
        "RAPIDATA_maxWorkers": "7",
        "RAPIDATA_cacheToDisk": "no",
        "RAPIDATA_silent_mode": "yes",
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )
    assert out.stdout.split() == ["7", "False", "True"]


def test_cache_settings_fixed_once_cache_in_use(tmp_path: Path) -> None:
    config = RapidataConfig(environ={})
    config.upload.cacheLocation = tmp_path / "a"
    config.upload.cacheShards = 16
    config.upload.freeze_cache_settings()
    config.upload.cacheLocation = tmp_path / "a"  # same value: fine
    with pytest.raises(ValueError, match=r"upload\.cacheLocation cannot change"):
        config.upload.cacheLocation = tmp_path / "b"
    with pytest.raises(ValueError, match=r"upload\.cacheShards cannot change"):
        config.upload.cacheShards = 32
    assert (config.upload.cacheLocation, config.upload.cacheShards) == (tmp_path / "a", 16)
    config.upload.maxWorkers = 3  # other fields stay mutable
    assert config.upload.maxWorkers == 3


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def app_handler() -> Iterator[_Records]:
    """A handler on the root logger, as an application installs one."""
    handler = _Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_library_logger_adds_only_a_null_handler_and_propagates() -> None:
    sdk = logging.getLogger("rapidata_async")
    assert sdk.propagate is True
    assert [type(h) for h in sdk.handlers] == [logging.NullHandler]
    assert sdk.level == logging.NOTSET  # the application's configuration decides


def test_records_reach_the_application_with_fields_as_extra(
    restore_logging: None, app_handler: _Records, capsys: pytest.CaptureFixture[str]
) -> None:
    logger.info("job started", job_id="j_1", name="shadowing", client_secret="hunter2")
    (record,) = [r for r in app_handler.records if r.name == "rapidata_async"]
    assert record.getMessage() == "job started job_id=j_1 name=shadowing client_secret=***"
    assert record.__dict__["job_id"] == "j_1"
    assert record.__dict__["name_"] == "shadowing"  # a LogRecord attribute is not overwritten
    assert record.__dict__["client_secret"] == "***"
    assert record.name == "rapidata_async"
    assert "hunter2" not in capsys.readouterr().err  # and nothing printed on our own


def test_level_applies_to_logger_live(restore_logging: None, app_handler: _Records) -> None:
    rapidata_config.logging.level = "WARNING"
    logger.info("first info line")
    rapidata_config.logging.level = "INFO"
    logger.info("second info line", job_id="j_1")
    messages = [r.getMessage() for r in app_handler.records]
    assert "first info line" not in messages
    assert "second info line job_id=j_1" in messages
    assert logging.getLogger("rapidata_async").level == logging.INFO
    rapidata_config.logging.level = None
    assert logging.getLogger("rapidata_async").level == logging.NOTSET


def test_backend_info_lines_reach_the_application(app_handler: _Records) -> None:
    logging.getLogger("rapidata_async.local").info("backend line")
    assert "backend line" in [r.getMessage() for r in app_handler.records]


def test_format_and_log_file_apply_live(restore_logging: None, tmp_path: Path) -> None:
    log_file = tmp_path / "sdk.log"
    rapidata_config.logging.format = "[%(levelname)s] %(message)s"
    rapidata_config.logging.log_file = str(log_file)
    logger.warning("to the file", client_secret="hunter2")
    rapidata_config.logging.log_file = None  # closing the file output flushes it
    logger.warning("not to the file")
    assert log_file.read_text() == "[WARNING] to the file client_secret=***\n"


def test_echo_prints_only_when_watched_or_asked(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    echo("not a terminal")  # pytest captures stdout: not a terminal
    rapidata_config.logging.show_output = True
    echo("asked for")
    rapidata_config.logging.silent_mode = True
    echo("silenced")
    out = capsys.readouterr().out
    assert "asked for" in out
    assert "not a terminal" not in out and "silenced" not in out
