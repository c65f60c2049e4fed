"""Tracing, progress bars and upload failure grouping, through the real local backend."""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace

from rapidata_async import AsyncRapidataClient, RapidataConnectionError, rapidata_config
from rapidata_async._progress import ProgressBar, human_count
from rapidata_async._transport._routes import ROUTES
from rapidata_async.local import LocalBackend

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def spans() -> Iterator[Any]:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    export = pytest.importorskip("opentelemetry.sdk.trace.export")
    memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
    provider = trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = memory.InMemorySpanExporter()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def test_every_operation_called_has_its_route_template() -> None:
    used = set()
    for file in (ROOT / "rapidata_async").rglob("*.py"):
        if "local" in file.relative_to(ROOT / "rapidata_async").parts:
            continue
        used |= set(re.findall(r'\bop(?:_id)?\s*=\s*"([a-z_]+)"', file.read_text()))
    assert used and used <= set(ROUTES), used - set(ROUTES)
    for op_id, route in ROUTES.items():  # templates, with the parameters in braces
        assert re.fullmatch(r"(/[a-z-]+|/\{[a-zA-Z]+\})+", route), op_id


async def test_span_name_route_and_full_url_with_query(
    client: AsyncRapidataClient, spans: Any
) -> None:
    spans.clear()
    await client.audience.find_audiences("align ment", amount=3)
    (span,) = [s for s in spans.get_finished_spans() if s.name == "GET /audiences"]
    full = span.attributes["url.full"]
    assert full.startswith(client.api_url + "/audiences?page=1&page_size=3")
    assert "name%5Bcontains%5D=align+ment" in full
    token_spans = [s for s in spans.get_finished_spans() if s.name == "POST /connect/token"]
    for s in token_spans:  # the token request's credentials never appear
        assert client._client_secret not in str(dict(s.attributes))


async def test_connection_failure_sets_error_type(backend: LocalBackend, spans: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spans.clear()
    client = AsyncRapidataClient("id", "secret", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(RapidataConnectionError):
        async with client:
            await client.audience.find_audiences()
    (span,) = [s for s in spans.get_finished_spans() if s.name == "POST /connect/token"]
    assert span.attributes["error.type"] == "rapidata_async.RapidataConnectionError"
    assert span.status.status_code == trace.StatusCode.ERROR


def test_human_counts() -> None:
    assert [human_count(n) for n in (0, 999, 1000, 1500, 10_000, 123_456, 2_500_000)] == [
        "0", "999", "1k", "1.5k", "10k", "123k", "2.5M",
    ]  # fmt: skip


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_output() -> Iterator[None]:
    before = rapidata_config.logging.to_dict()
    yield
    for name, value in before.items():
        setattr(rapidata_config.logging, name, value)


def test_bar_redraws_at_most_ten_times_a_second(
    monkeypatch: pytest.MonkeyPatch, restore_output: None
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with ProgressBar(total=10_000, desc="Uploading datapoints", unit="dp", counts=True) as bar:
        for i in range(1, 10_001):
            bar.set(i)
    frames = terminal.getvalue().split("\r")
    assert len(frames) < 30  # 10,000 updates in well under a second: a handful of redraws
    assert "10.0k/10.0k dp" in frames[-1] and "dp/s" in frames[-1]


def test_no_bar_when_not_a_terminal_unless_asked(
    monkeypatch: pytest.MonkeyPatch, restore_output: None
) -> None:
    piped = io.StringIO()
    monkeypatch.setattr("sys.stderr", piped)
    with ProgressBar(total=10, desc="x", unit="dp") as bar:
        bar.set(10)
    assert piped.getvalue() == ""
    rapidata_config.logging.show_output = True
    with ProgressBar(total=10, desc="x", unit="dp") as bar:
        bar.set(10)
    assert "100%" in piped.getvalue()
