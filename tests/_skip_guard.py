"""Fail the session when a test was skipped for a reason nobody allowed.

A skip hides a test that should have run (a broken import once turned most SDK tests into
skips). Tests may skip only for an optional piece that is genuinely absent, and say so with a
reason prefix:

- ``optional extra: ...``: an extra of ``pyproject.toml`` (``pandas``, ``dev``) is not
  installed. Not allowed when ``CI`` is true: CI installs ``.[dev]``.
- ``postgres: ...``: ``RAPIDATA_TEST_POSTGRES_DSN`` is unset. Not allowed when ``CI`` is true:
  CI provides the database.
- ``browser: ...``: Chromium (Debian's ``chromium``) is not installed. Not allowed when ``CI``
  is true: CI installs it.
- ``official 3.20.1: ...``: ``RAPIDATA_OFFICIAL_320_PYTHON`` (the interpreter of a virtual
  environment with the official client 3.20.1) is unset. Not allowed when ``CI`` is true:
  ``.ci/run`` creates that environment.

Every other skip (and every skip when ``CI`` is true) turns the exit status into a failure
and is listed in the terminal summary. ``RAPIDATA_TEST_ALLOW_SKIPS=1`` switches the guard off
for a local run that deselects on purpose.
"""

from __future__ import annotations

import os

import pytest

EXTRA = "optional extra:"
POSTGRES = "postgres:"
POSTGRES_DSN = "RAPIDATA_TEST_POSTGRES_DSN"
BROWSER = "browser:"
OFFICIAL_320 = "official 3.20.1:"


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def allowed_prefixes() -> tuple[str, ...]:
    """The skip reason prefixes this environment accepts."""
    if _truthy("CI"):
        return ()
    allowed = [EXTRA, BROWSER, OFFICIAL_320]
    if not os.environ.get(POSTGRES_DSN):
        allowed.append(POSTGRES)
    return tuple(allowed)


def _reason(report: pytest.TestReport) -> str:
    # A skip's longrepr is (path, line, "Skipped: <reason>").
    if isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2])
    else:
        message = str(report.longrepr)
    return message.removeprefix("Skipped: ")


class _SkipGuard:
    def __init__(self) -> None:
        self.unexpected: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = _reason(report)
        if not reason.startswith(allowed_prefixes()):
            self.unexpected.append((report.nodeid, reason))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # A module-level skip (importorskip at import time) is reported at collection.
        if report.skipped:
            reason = _reason(report)  # type: ignore[arg-type]
            if not reason.startswith(allowed_prefixes()):
                self.unexpected.append((report.nodeid, reason))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.unexpected and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: object) -> None:
        if not self.unexpected:
            return
        write = terminalreporter.write_line  # type: ignore[attr-defined]
        allowed = ", ".join(repr(p) for p in allowed_prefixes()) or "none (CI)"
        write(f"unexpected skips (allowed reason prefixes: {allowed}):", red=True)
        for nodeid, reason in self.unexpected:
            write(f"  {nodeid}: {reason}", red=True)


def pytest_configure(config: pytest.Config) -> None:
    if not _truthy("RAPIDATA_TEST_ALLOW_SKIPS"):
        config.pluginmanager.register(_SkipGuard(), "rapidata-skip-guard")
