"""Route templates of the operations the SDK calls, by operation id.

Spans are named ``{method} {route}`` (``GET /job/{jobId}``) as OpenTelemetry's HTTP
conventions ask: the template, not the concrete path, keeps span names few and groupable.
The templates are the API contract's paths (``tests/test_observability.py`` checks them).
"""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "connect_token_post": "/connect/token",
    "asset_batch_upload_post": "/asset/batch-upload",
    "asset_batch_upload_status_get": "/asset/batch-upload/status",
    "asset_batch_upload_batch_upload_id_get": "/asset/batch-upload/{batchUploadId}",
    "asset_batch_upload_batch_upload_id_abort_post": "/asset/batch-upload/{batchUploadId}/abort",
    "asset_file_post": "/asset/file",
    "asset_url_post": "/asset/url",
    "audience_post": "/audience",
    "audience_audience_id_get": "/audience/{audienceId}",
    "audience_audience_id_example_post": "/audience/{audienceId}/example",
    "audience_audience_id_examples_get": "/audience/{audienceId}/examples",
    "audience_audience_id_recruit_post": "/audience/{audienceId}/recruit",
    "audience_audience_id_user_metrics_get": "/audience/{audienceId}/user-metrics",
    "audiences_get": "/audiences",
    "dataset_post": "/dataset",
    "flow_get": "/flow",
    "flow_flow_id_get": "/flow/{flowId}",
    "flow_flow_id_delete": "/flow/{flowId}",
    "flow_ranking_post": "/flow/ranking",
    "flow_ranking_flow_id_patch": "/flow/ranking/{flowId}",
    "flow_ranking_flow_id_item_post": "/flow/ranking/{flowId}/item",
    "flow_ranking_flow_id_item_get": "/flow/ranking/{flowId}/item",
    "flow_ranking_item_flow_item_id_get": "/flow/ranking/item/{flowItemId}",
    "flow_ranking_item_flow_item_id_results_get": "/flow/ranking/item/{flowItemId}/results",
    "flow_ranking_item_flow_item_id_vote_matrix_get": (
        "/flow/ranking/item/{flowItemId}/vote-matrix"
    ),
    "dataset_dataset_id_datapoint_post": "/dataset/{datasetId}/datapoint",
    "job_post": "/job",
    "job_definition_post": "/job/definition",
    "job_definition_definition_id_get": "/job/definition/{definitionId}",
    "job_definition_definition_id_revision_get": "/job/definition/{definitionId}/revision",
    "job_definition_definition_id_revision_revision_number_get": (
        "/job/definition/{definitionId}/revision/{revisionNumber}"
    ),
    "job_definitions_get": "/job/definitions",
    "job_job_id_get": "/job/{jobId}",
    "job_job_id_download_results_get": "/job/{jobId}/download-results",
    "job_job_id_progress_get": "/job/{jobId}/progress",
    "job_job_id_retry_post": "/job/{jobId}/retry",
    "jobs_get": "/jobs",
    "order_post": "/order",
    "order_order_id_get": "/order/{orderId}",
    "order_order_id_patch": "/order/{orderId}",
    "order_order_id_preview_post": "/order/{orderId}/preview",
    "order_order_id_submit_post": "/order/{orderId}/submit",
    "order_order_id_retry_post": "/order/{orderId}/retry",
    "order_order_id_download_results_get": "/order/{orderId}/download-results",
    "orders_get": "/orders",
    "validation_set_post": "/validation-set",
    "validation_set_validation_set_id_get": "/validation-set/{validationSetId}",
    "validation_set_validation_set_id_patch": "/validation-set/{validationSetId}",
    "validation_set_validation_set_id_rapid_post": "/validation-set/{validationSetId}/rapid",
    "validation_sets_get": "/validation-sets",
    # MRI (CALLS.md section 9)
    "benchmark_post": "/benchmark",
    "benchmark_benchmark_id_get": "/benchmark/{benchmarkId}",
    "benchmark_benchmark_id_leaderboards_get": "/benchmark/{benchmarkId}/leaderboards",
    "benchmark_benchmark_id_participants_get": "/benchmark/{benchmarkId}/participants",
    "benchmark_benchmark_id_participants_post": "/benchmark/{benchmarkId}/participants",
    "benchmark_benchmark_id_prompt_post": "/benchmark/{benchmarkId}/prompt",
    "benchmark_benchmark_id_prompts_get": "/benchmark/{benchmarkId}/prompts",
    "benchmarks_get": "/benchmarks",
    "leaderboard_post": "/leaderboard",
    "leaderboard_leaderboard_id_standings_query_get": (
        "/leaderboard/{leaderboardId}/standings/query"
    ),
    "participant_participant_id_sample_post": "/participant/{participantId}/sample",
    "participant_participant_id_samples_get": "/participant/{participantId}/samples",
    "participants_submit_post": "/participants/submit",
}


def span_name(method: str, op_id: str) -> str:
    """``GET /job/{jobId}``; just the method for an operation without a known template."""
    route = ROUTES.get(op_id)
    return f"{method.upper()} {route}" if route else method.upper()
