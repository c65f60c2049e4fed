"""The SQL both stores share for orders: an order's state as it reads.

An order keeps its own state (``Created``, ``Preview``) until it is submitted; from then on the
state of the job that runs it, in the order's words (3.20.1's ``OrderState``).
"""

from __future__ import annotations

STATE_SQL = (
    "CASE WHEN o.job_id IS NULL OR j.state IS NULL THEN o.state ELSE CASE j.state "
    "WHEN 'Running' THEN 'Processing' WHEN 'ManualApproval' THEN 'ManualReview' "
    "WHEN 'SpendLimited' THEN 'Paused' WHEN 'Blocked' THEN 'Paused' ELSE j.state END END"
)
"""``orders o LEFT JOIN jobs j ON j.id = o.job_id``: the state ``OrderRow.state`` carries."""

COLUMNS = (
    f"o.id, o.name, {STATE_SQL}, o.created_at, o.dataset_id, o.pipeline_id, o.job_id, "
    "o.preceding_order_id, j.failure_message, o.body"
)
FROM = " FROM orders o LEFT JOIN jobs j ON j.id = o.job_id"
FILTERS = {"order_name": "o.name", "state": STATE_SQL, "order_date": "o.created_at", "id": "o.id"}
SORTS = {"order_name": "o.name", "state": STATE_SQL, "order_date": "o.created_at"}
