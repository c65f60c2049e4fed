"""The official client 3.20.1, the last with ``client.order``, runs legacy orders on ``serve``.

3.20.1 cannot share an environment with the 3.27.1 dev dependency, so it lives in a virtual
environment of its own whose interpreter ``RAPIDATA_OFFICIAL_320_PYTHON`` names (``.ci/run``
creates ``.ci/.venv-rapidata-320`` with ``pip install rapidata==3.20.1``). Without it the test
skips locally (reason ``official 3.20.1: ...``); under ``CI=true`` a skip fails the run.

``serve`` runs on the store under test with https (a throwaway trustme CA); the runner
(``tests/_official_client_320.py``) creates, runs and downloads a compare order (with user
filters) and a classification order run after it. Our SDK then reads the same orders back.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from _serve import Served, official_client_env, served
from conftest import fresh_database

from rapidata_async import AsyncRapidataClient
from rapidata_async.results import CompareResult

ENV = "RAPIDATA_OFFICIAL_320_PYTHON"
RUNNER = Path(__file__).with_name("_official_client_320.py")
TIMEOUT = 120.0
# What 3.20.1 itself logs on every use of client.order.
DEPRECATED = "client.order is deprecated"
pytestmark = pytest.mark.filterwarnings("ignore:client.order is the legacy:DeprecationWarning")


def _python() -> str:
    python = os.environ.get(ENV, "")
    if not python:
        pytest.skip(f"official 3.20.1: {ENV} is unset (.ci/run creates its virtual environment)")
    if not os.access(python, os.X_OK):
        pytest.fail(f"{ENV}={python!r} is not an executable interpreter")
    return python


@pytest.fixture(scope="module")
async def reports(
    anyio_backend: Any, store_name: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[dict[str, Any], Served, Path]]:
    python = _python()
    trustme = pytest.importorskip("trustme", reason="optional extra: dev (trustme)")
    tmp = tmp_path_factory.mktemp("orders320")
    ca = trustme.CA()
    ca_pem = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert = ca.issue_cert("api.localhost", "auth.localhost", "127.0.0.1")
    cert_pem, key_pem = tmp / "cert.pem", tmp / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    async with fresh_database(store_name, tmp) as options:
        args = ["--db", str(options["db"]), "--assets-dir", str(options["assets_dir"])]
        args += ["--pace", "instant", "--tls-cert", str(cert_pem), "--tls-key", str(key_pem)]
        async with served(args, logs=tmp) as proc:
            yield await _run(python, proc, ca_pem, tmp / "home"), proc, ca_pem


async def _run(python: str, proc: Served, ca_pem: Path, home: Path) -> dict[str, Any]:
    home.mkdir()
    env = official_client_env(proc.port, ca_pem, proc.client_id, proc.client_secret, home)
    env["PYTHONPATH"] = str(RUNNER.parent)
    with anyio.fail_after(TIMEOUT):
        done = await anyio.run_process(
            [python, str(RUNNER), "compare_order", "classification_order"],
            env=env,
            cwd=str(home),
            check=False,
        )
    try:
        parsed: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"runner exited {done.returncode}: {done.stderr.decode()[-4000:]}")
    return parsed


def _ok(report: dict[str, Any]) -> dict[str, Any]:
    assert "error" not in report, report["error"]
    assert report["validation_warnings"] == []
    unexpected = [line for line in report["logged"] if DEPRECATED not in line]
    assert unexpected == [], unexpected
    assert report["state"] == report["status"] == "Completed"
    return report


async def _ours(proc: Served, ca_pem: Path) -> AsyncRapidataClient:
    return AsyncRapidataClient(
        proc.client_id, proc.client_secret, base_url=proc.url, cert_path=str(ca_pem)
    )


async def test_official_320_compare_order(
    reports: tuple[dict[str, Any], Served, Path],
) -> None:
    by_name, proc, ca_pem = reports
    report = _ok(by_name["compare_order"])
    assert report["result_type"] == "Compare"
    assert report["datapoints"] == report["rows"] == 2
    assert report["responses"] == 2 * 5
    assert report["fetched_name"] == "Legacy Prompt Alignment"
    assert report["found_ids"] == [report["order_id"]]
    assert f"/order/detail/{report['order_id']}" in report["printed"]
    assert any("DeprecationWarning" in w for w in report["python_warnings"])
    assert f"/validation-set/detail/{report['validation_set_id']}" in report["printed"]
    async with await _ours(proc, ca_pem) as client:
        order = await client.order.get_order_by_id(report["order_id"])
        assert order.name == report["order_name"]
        assert await order.get_status() == "Completed"
        results = await order.get_results()
        assert results.response_count == report["responses"]
        compared = [r for r in results.results if isinstance(r, CompareResult)]
        assert [r.winner for r in compared] == report["winners"]


async def test_official_320_classification_order_after_the_first(
    reports: tuple[dict[str, Any], Served, Path],
) -> None:
    by_name, proc, ca_pem = reports
    report = _ok(by_name["classification_order"])
    assert report["after"] == by_name["compare_order"]["order_id"]
    assert report["result_type"] == "Classification"
    assert report["datapoints"] == 2
    assert report["responses"] == 2 * 4
    assert report["rows"] == 2  # 3.20.1's frame: one row per datapoint
    async with await _ours(proc, ca_pem) as client:
        found = await client.order.find_orders("Legacy", amount=10)
        assert [o.id for o in found] == [report["order_id"], report["after"]]  # newest first
        results = await (await client.order.get_order_by_id(report["order_id"])).get_results()
        assert len(results) == 2
