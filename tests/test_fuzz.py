"""Property-based fuzz of the served API with schemathesis, against the OpenAPI contract.

Every operation the local backend implements (assets, datasets, job definitions, jobs,
audiences) gets generated requests, valid and invalid, sent authenticated to a real backend on
loopback. Each answer must hold: no 5xx; every 4xx a ``application/problem+json``
ProblemDetails; every 2xx (and any answer the contract describes) matching the contract's
schema. ``FUZZ_EXAMPLES`` bounds the examples per operation so the run stays short.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from rapidata_async.local import LocalBackend  # noqa: E402

# The contract lives beside the repository (``../shared``), not in it; RAPIDATA_OPENAPI
# points elsewhere.
SPEC = Path(
    os.environ.get("RAPIDATA_OPENAPI")
    or Path(__file__).resolve().parents[2] / "shared" / "api" / "rapidata-subset.openapi.json"
)
if not SPEC.exists():
    pytest.skip(f"the OpenAPI contract is not at {SPEC}", allow_module_level=True)

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# The operations fuzzed here (MRI is not yet: its own tests cover hostile input).
IMPLEMENTED = (
    r"^/(asset|dataset|datasets|job|jobs|audience|audiences|validation-set|flow|order|orders)(/|$)"
)

schema = schemathesis.openapi.from_path(SPEC).include(path_regex=IMPLEMENTED)


@schemathesis.check
def problem_details_on_4xx(ctx: object, response: schemathesis.Response, case: object) -> None:
    """A 4xx is ``application/problem+json`` with the ProblemDetails members it needs."""
    if not 400 <= response.status_code < 500:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/problem+json"), content_type
    body = json.loads(response.content)
    assert body["status"] == response.status_code, body
    assert isinstance(body.get("title"), str) and isinstance(body.get("traceId"), str), body


class _Served:
    url = ""
    headers: dict[str, str] = {}


@pytest.fixture(scope="module")
def served() -> Iterator[type[_Served]]:
    """A backend in its own thread and event loop (schemathesis calls it synchronously)."""
    from anyio.from_thread import start_blocking_portal

    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(LocalBackend()) as backend,
    ):
        form = urllib.parse.urlencode(
            {"client_id": backend.client_id, "client_secret": backend.client_secret}
        ).encode()
        with urllib.request.urlopen(f"{backend.url}/connect/token", form) as answer:
            token = json.loads(answer.read())["access_token"]
        _Served.url = backend.url
        _Served.headers = {"Authorization": f"Bearer {token}"}
        yield _Served


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    # Generated cases only: schemathesis' explicit-example and coverage phases add hundreds of
    # deterministic cases per operation, minutes in all.
    phases=[Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_holds(case: schemathesis.Case, served: type[_Served]) -> None:
    case.call_and_validate(
        base_url=served.url,
        headers=served.headers,
        checks=[not_a_server_error, response_schema_conformance, problem_details_on_4xx],
        timeout=30,
    )
