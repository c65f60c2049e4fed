"""Drive the official ``rapidata`` client **3.20.1** (the last with ``client.order``) against
the local backend: the legacy order flows of CALLS.md section 10.

Runs under the interpreter of a separate virtual environment holding ``rapidata==3.20.1``
(``.ci/run`` makes one and exports ``RAPIDATA_OFFICIAL_320_PYTHON``), started by
``tests/test_interop_orders_320.py``. The harness is ``_official_client.py``'s (name
resolution pinned to ``*.localhost``, the environment variables, the JSON report with the
client's log records, warnings, prints and "Validation failed" warnings); only the scenarios
differ::

    python tests/_official_client_320.py compare_order classification_order
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import _official_client as harness  # this directory is sys.path[0]
import rapidata

STATE_TIMEOUT = 60.0
COMPARE_PAIRS = [
    ["https://assets.rapidata.ai/flux_flower.jpg", "https://assets.rapidata.ai/mj_flower.jpg"],
    [
        "https://assets.rapidata.ai/flux_sign_diffusion.jpg",
        "https://assets.rapidata.ai/mj_sign_diffusion.jpg",
    ],
]


def _completed(order: Any) -> str:
    """The order's state once final; polled briefly (3.20.1's own wait sleeps 5 s a turn)."""
    deadline = time.monotonic() + STATE_TIMEOUT
    while (state := order.get_status()) not in ("Completed", "Failed"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"order {order.id} still {state}")
        time.sleep(0.05)
    return str(state)


def _summary(client: Any, order: Any) -> dict[str, Any]:
    state = _completed(order)
    summary = harness.results_summary(order.get_results())
    again = client.order.get_order_by_id(order.id)
    found = client.order.find_orders(order.name)
    return {
        "order_id": order.id,
        "order_name": order.name,
        "state": state,
        "status": order.get_status(),
        **summary,
        "fetched_name": again.name,
        "found_ids": [o.id for o in found],
    }


def compare_order() -> dict[str, Any]:
    """The docs' migration guide "before": a validation set, then a compare order that
    references it, on the global audience narrowed to a few countries."""
    client = harness._client()
    validation_set = client.validation.create_compare_set(
        name="Image Comparison Validation",
        instruction="Which image follows the prompt better?",
        datapoints=[harness.CUSTOM_EXAMPLE],
        truths=[harness.CUSTOM_EXAMPLE[0]],
        contexts=["A sign that says 'Diffusion'."],
    )
    order = client.order.create_compare_order(
        name="Legacy Prompt Alignment",
        instruction="Which image follows the prompt better?",
        datapoints=COMPARE_PAIRS,
        contexts=["A yellow flower sticking out of a green pot.", "A sign that says 'Diffusion'."],
        responses_per_datapoint=5,
        validation_set_id=validation_set.id,
        filters=[rapidata.CountryFilter(["US", "DE", "GB", "IN"])],
    )
    order.run()
    summary = _summary(client, order)
    summary["validation_set_id"] = validation_set.id
    return summary


def classification_order() -> dict[str, Any]:
    """A Likert classification order, run after the compare order of the same client."""
    client = harness._client()
    first = client.order.find_orders("Legacy Prompt Alignment")[0]
    order = client.order.create_classification_order(
        name="Legacy Image Quality",
        instruction="Rate the quality of this image",
        answer_options=harness.LIKERT,
        datapoints=harness.CLASSIFY_DATAPOINTS,
        responses_per_datapoint=4,
        settings=[rapidata.NoShuffleSetting()],
    )
    order.run(after=first)
    summary = _summary(client, order)
    summary["after"] = first.id
    return summary


SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "compare_order": compare_order,
    "classification_order": classification_order,
}

if __name__ == "__main__":
    harness.SCENARIOS.clear()
    harness.SCENARIOS.update(SCENARIOS)
    os.environ.setdefault("RAPIDATA_DISABLE_OTLP", "1")
    sys.exit(harness.main(sys.argv[1:]))
