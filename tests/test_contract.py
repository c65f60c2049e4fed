"""The ``_wire`` structs against the API contract (``rapidata-subset.openapi.json``).

SDK and local backend share the ``_wire`` structs, so a misspelled field would pass every
round-trip test on both sides. This file checks each struct the SDK sends or reads against the
schema the OpenAPI subset gives for that operation: the wire names (camelCase through msgspec's
``rename``), required fields, fields the schema does not know, enum values and the ``_t``
discriminators of polymorphic models. The structs are introspected with ``msgspec.inspect``;
which struct belongs to which operation is the explicit table ``CONTRACT`` below.

The spec is read from ``../shared/api/`` beside the checkout (``RAPIDATA_API_SPEC`` names
another file).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import msgspec
import msgspec.inspect as mi
import pytest

from rapidata_async._transport import _auth
from rapidata_async._wire import (
    asset,
    audience,
    dataset,
    flow,
    job,
    mri,
    order,
    results,
    validation,
)
from rapidata_async._wire.common import Page, ProblemDetails
from rapidata_async.results import _types as public_results

ROOT = Path(__file__).resolve().parents[1]
SPEC_NAME = "rapidata-subset.openapi.json"
Direction = Literal["request", "response"]


# -- the contract: struct -> operation ------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """``struct`` is the body the SDK sends (request) or reads (response) in ``op_id``."""

    op_id: str
    direction: Direction
    struct: Any


CONTRACT: tuple[Entry, ...] = (
    # assets (CALLS.md section 2); the file upload's request is multipart, no struct
    Entry("asset_url_post", "response", asset.UploadOutput),
    Entry("asset_file_post", "response", asset.UploadOutput),
    Entry("asset_batch_upload_post", "request", asset.CreateBatchUploadInput),
    Entry("asset_batch_upload_post", "response", asset.CreateBatchUploadOutput),
    Entry("asset_batch_upload_status_get", "response", asset.BatchUploadStatusOutput),
    Entry("asset_batch_upload_batch_upload_id_get", "response", asset.BatchUploadResultOutput),
    Entry("asset_batch_upload_batch_upload_id_abort_post", "request", None),
    # datasets and datapoints (section 3)
    Entry("dataset_post", "request", dataset.CreateDatasetInput),
    Entry("dataset_post", "response", dataset.CreateDatasetOutput),
    Entry("dataset_dataset_id_datapoint_post", "request", dataset.CreateDatapointInput),
    Entry("dataset_dataset_id_datapoint_post", "response", dataset.CreateDatapointOutput),
    # the SDK does not shorten contexts itself; the backend serves the call with these structs
    Entry("datasets_shorten_context_post", "request", dataset.ShortenContextInput),
    Entry("datasets_shorten_context_post", "response", dataset.ShortenContextOutput),
    # job definitions and revisions (section 3)
    Entry("job_definition_post", "request", job.CreateJobDefinitionInput),
    Entry("job_definition_post", "response", job.CreateJobDefinitionOutput),
    Entry("job_definitions_get", "response", Page[job.JobDefinitionListItem]),
    Entry("job_definition_definition_id_get", "response", job.JobDefinitionOutput),
    Entry("job_definition_definition_id_revision_get", "response", job.JobRevisionOutput),
    Entry(
        "job_definition_definition_id_revision_revision_number_get",
        "response",
        job.JobRevisionOutput,
    ),
    # jobs, progress, listings, results (section 5)
    Entry("job_post", "request", job.CreateJobInput),
    Entry("job_post", "response", job.CreateJobOutput),
    Entry("job_job_id_get", "response", job.JobOutput),
    Entry("jobs_get", "response", Page[job.JobListItem]),
    Entry("job_job_id_progress_get", "response", job.JobProgressOutput),
    Entry("job_job_id_retry_post", "request", None),
    # binary in the spec; the document is checked against section 5 below
    Entry("job_job_id_download_results_get", "response", results.CompareDocument),
    # audiences, examples, user metrics (section 4)
    Entry("audience_post", "request", audience.CreateAudienceInput),
    Entry("audience_post", "response", audience.CreateAudienceOutput),
    Entry("audience_audience_id_get", "response", audience.AudienceOutput),
    Entry("audiences_get", "response", Page[audience.AudienceListItem]),
    Entry("audience_audience_id_example_post", "request", audience.AddExampleInput),
    Entry("audience_audience_id_example_post", "response", audience.AddExampleOutput),
    Entry("audience_audience_id_recruit_post", "request", None),
    Entry("audience_audience_id_user_metrics_get", "response", audience.UserMetricsOutput),
    # MRI: benchmarks, prompts, leaderboards, participants, samples (section 9)
    Entry("benchmark_post", "request", mri.CreateBenchmarkInput),
    Entry("benchmark_post", "response", mri.CreateBenchmarkOutput),
    Entry("benchmark_benchmark_id_get", "response", mri.BenchmarkOutput),
    Entry("benchmarks_get", "response", Page[mri.BenchmarkListItem]),
    Entry("benchmark_benchmark_id_prompt_post", "request", mri.CreatePromptInput),
    Entry("benchmark_benchmark_id_prompt_post", "response", mri.CreatePromptOutput),
    Entry("benchmark_benchmark_id_prompts_get", "response", Page[mri.PromptOutput]),
    Entry("benchmark_benchmark_id_leaderboards_get", "response", Page[mri.LeaderboardOutput]),
    Entry("leaderboard_post", "request", mri.CreateLeaderboardInput),
    Entry("leaderboard_post", "response", mri.CreateLeaderboardOutput),
    Entry("leaderboard_leaderboard_id_standings_query_get", "response", mri.StandingsOutput),
    Entry("benchmark_benchmark_id_participants_post", "request", mri.CreateParticipantInput),
    Entry("benchmark_benchmark_id_participants_post", "response", mri.CreateParticipantOutput),
    Entry("benchmark_benchmark_id_participants_get", "response", Page[mri.ParticipantOutput]),
    Entry("participant_participant_id_sample_post", "request", mri.CreateSampleInput),
    Entry("participant_participant_id_sample_post", "response", mri.CreateSampleOutput),
    Entry("participant_participant_id_samples_get", "response", Page[mri.SampleListItem]),
    Entry("participants_submit_post", "request", mri.SubmitParticipantsInput),
    Entry("participants_submit_post", "response", mri.SubmitParticipantsOutput),
    # ranking flows and their items (section 8)
    Entry("flow_ranking_post", "request", flow.CreateFlowInput),
    Entry("flow_ranking_post", "response", flow.CreateFlowOutput),
    Entry("flow_get", "response", Page[flow.FlowListItem]),
    Entry("flow_flow_id_get", "response", flow.FlowOutput),
    Entry("flow_flow_id_delete", "request", None),
    Entry("flow_ranking_flow_id_patch", "request", flow.UpdateConfigInput),
    Entry("flow_ranking_flow_id_item_post", "request", flow.CreateFlowItemInput),
    Entry("flow_ranking_flow_id_item_post", "response", flow.CreateFlowItemOutput),
    Entry("flow_ranking_flow_id_item_get", "response", Page[flow.FlowItemListItem]),
    Entry("flow_ranking_item_flow_item_id_get", "response", flow.FlowItemOutput),
    Entry("flow_ranking_item_flow_item_id_results_get", "response", flow.RankingResultsOutput),
    Entry("flow_ranking_item_flow_item_id_vote_matrix_get", "response", flow.VoteMatrixOutput),
    # validation sets (section 10)
    Entry("validation_set_post", "request", validation.CreateValidationSetInput),
    Entry("validation_set_post", "response", validation.CreateValidationSetOutput),
    Entry("validation_set_validation_set_id_get", "response", validation.ValidationSetOutput),
    Entry(
        "validation_set_validation_set_id_rapid_post", "request", validation.AddValidationRapidInput
    ),
    Entry("validation_set_validation_set_id_patch", "request", validation.UpdateValidationSetInput),
    # legacy orders of SDK 3.20.1 (section 10), Aug-2026 shapes
    Entry("order_post", "request", order.CreateOrderInput),
    Entry("order_post", "response", order.CreateOrderOutput),
    Entry("order_order_id_get", "response", order.OrderOutput),
    Entry("orders_get", "response", Page[order.OrderListItem]),
    Entry("order_order_id_patch", "request", order.UpdateOrderInput),
    Entry("order_order_id_submit_post", "request", order.SubmitOrderInput),
    Entry("order_order_id_preview_post", "request", order.SubmitOrderInput),
    Entry("order_order_id_retry_post", "request", None),
    # binary in the spec: the same results document as a job's
    Entry("order_order_id_download_results_get", "response", results.CompareDocument),
)
"""Every operation the SDK calls, with the struct of each body it sends or reads (``None``: the
call has no body; the spec must not ask for one)."""

BINARY_OPS = {"job_job_id_download_results_get", "order_order_id_download_results_get"}
LEGACY_OPS = {
    op
    for op in (
        "order_post",
        "order_order_id_get",
        "orders_get",
        "order_order_id_patch",
        "order_order_id_submit_post",
        "order_order_id_preview_post",
        "order_order_id_retry_post",
        "order_order_id_download_results_get",
    )
}
"""The legacy order calls, which only the 3.20.1 client made (``x-rapidata-sdk: 3.20.1``)."""

# -- deliberate differences from the 3.27.1 subset, each with its reason --------------------------
AUG_2026 = "Aug-2026 shape (CALLS.md section 12), accepted by the backend for 3.20.1 clients"
ALLOWED_EXTRA_FIELDS: dict[tuple[str, str], str] = {
    ("CreateDatapointInput", "asset"): AUG_2026,
    ("CreateDatapointInput", "context"): AUG_2026,
    ("CreateDatapointInput", "contextAsset"): AUG_2026,
    ("CreateDatapointInput", "transcription"): AUG_2026,
    ("SimpleWorkflow", "blueprint"): AUG_2026,
    ("SimpleWorkflow", "rapid"): (
        "3.27.1 rapid form (section 12): /order accepts it as job definitions do; the SDK sends "
        "the blueprint there"
    ),
    ("ProblemDetails", "traceId"): "CALLS.md section 1: the client reads details.traceId",
    ("ProblemDetails", "message"): "CALLS.md section 1: message <- body message, else error",
    ("ProblemDetails", "error"): "CALLS.md section 1: message <- body message, else error",
    ("ProblemDetails", "stage"): "CALLS.md section 1: URL-ingestion failures carry stage",
    ("ProblemDetails", "upstreamHttpStatus"): "CALLS.md section 1: and upstreamHttpStatus",
    **{
        ("StandingItem", name): (
            "the local backend's bootstrap intervals and vote counts; optional, the hosted "
            "API leaves them out"
        )
        for name in ("ciLow", "ciHigh", "rankLow", "rankHigh", "battles")
    },
    **{
        ("RankingDatapointResult", name): (
            "local backend only: the Elo confidence and rank intervals and the battle count of "
            "a ranked datapoint; optional, the Rapidata API does not send them"
        )
        for name in ("ciLow", "ciHigh", "rankLow", "rankHigh", "battles")
    },
}
"""``(struct, wire name)`` the schema does not list, and why the struct has it anyway."""

ALLOWED_UNKNOWN_TAGS: dict[str, str] = {
    "CompareBlueprint": AUG_2026 + " (IBlueprint of SimpleWorkflow.blueprint)",
    "ClassifyBlueprint": AUG_2026 + " (IBlueprint of SimpleWorkflow.blueprint)",
}
"""``_t`` values of structs reached only through an allowed extra field."""

ALLOWED_OPTIONAL: dict[tuple[str, str], str] = {
    ("SimpleWorkflow", "blueprint"): (
        "one struct for both workflow forms: client.order always sends the blueprint, job "
        "definitions the rapid (3.27.1)"
    ),
    ("CreateAudienceInput", "filters"): (
        "CALLS.md section 4: 3.27.1 always sends filters; the backend still accepts a request "
        "without them (older clients) as no filters"
    ),
}
"""``(struct, wire name)`` the schema requires but the struct may leave out, and why."""


# -- the spec ------------------------------------------------------------------------------------
def _spec_path() -> Path:
    override = os.environ.get("RAPIDATA_API_SPEC")
    return Path(override) if override else ROOT.parent / "shared" / "api" / SPEC_NAME


@cache
def _spec() -> dict[str, Any]:
    path = _spec_path()
    if not path.is_file():
        pytest.fail(
            f"the API contract {path} is missing: the contract tests need the shared/ folder "
            f"beside the checkout (or RAPIDATA_API_SPEC naming {SPEC_NAME})",
            pytrace=False,
        )
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def _operation(op_id: str) -> dict[str, Any]:
    for methods in _spec()["paths"].values():
        for op in methods.values():
            if isinstance(op, dict) and op.get("operationId") == op_id:
                return op
    raise AssertionError(f"operation {op_id} is not in the spec")


def _body_schema(op_id: str, direction: Direction) -> dict[str, Any] | None:
    op = _operation(op_id)
    if direction == "request":
        content = op.get("requestBody", {}).get("content", {})
    else:
        ok = [r for code, r in op["responses"].items() if code.startswith("2")]
        content = ok[0].get("content", {}) if ok else {}
    schema = content.get("application/json", {}).get("schema")
    return schema if schema is not None else None


def _resolve(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The schema behind ``$ref`` / one-element ``allOf`` / a lone ``oneOf`` ref, and whether
    any level on the way said ``nullable``."""
    nullable = False
    while True:
        nullable = nullable or bool(schema.get("nullable"))
        if "$ref" in schema:
            schema = _spec()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif len(schema.get("allOf", ())) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        elif len(schema.get("oneOf", ())) == 1 and "discriminator" not in schema:
            schema = schema["oneOf"][0]
        else:
            return schema, nullable


# -- the checker ---------------------------------------------------------------------------------
_SCALARS: dict[type, set[str]] = {
    mi.StrType: {"string"},
    mi.IntType: {"integer"},
    mi.FloatType: {"number"},
    mi.BoolType: {"boolean"},
    mi.DateTimeType: {"string"},
}


@dataclass
class Checker:
    direction: Direction
    problems: list[str]
    seen: set[tuple[type, int]] = field(default_factory=set)  # recursive models: AssetInput

    def type(self, t: mi.Type, schema: dict[str, Any], where: str) -> None:
        schema, nullable = _resolve(schema)
        options = t.types if isinstance(t, mi.UnionType) else (t,)
        accepts_none = any(isinstance(o, mi.NoneType) for o in options)
        options = tuple(o for o in options if not isinstance(o, mi.NoneType))
        if nullable and not accepts_none and self.direction == "response":
            self.problems.append(f"{where}: the schema allows null, the struct does not")
        if "discriminator" in schema or all(
            isinstance(o, mi.StructType) and o.tag_field for o in options
        ):
            self.tagged(options, schema, where)
        elif len(options) == 1:
            self.single(options[0], schema, where)
        else:
            self.problems.append(f"{where}: an untagged union of {len(options)} types")

    def tagged(self, options: tuple[mi.Type, ...], schema: dict[str, Any], where: str) -> None:
        disc = schema.get("discriminator")
        structs = [o for o in options if isinstance(o, mi.StructType)]
        if disc is None:
            if len(structs) == 1 and "properties" in schema:
                self.struct(structs[0], schema, where)  # one variant, given directly
                return
            self.problems.append(f"{where}: tagged structs, but the schema has no discriminator")
            return
        mapping = disc.get("mapping", {})
        for s in structs:
            name = s.cls.__name__
            if s.tag_field != disc["propertyName"]:
                self.problems.append(
                    f"{where}: {name} is tagged by {s.tag_field!r}, "
                    f"the schema by {disc['propertyName']!r}"
                )
            if s.tag not in mapping:
                if s.tag not in ALLOWED_UNKNOWN_TAGS:
                    self.problems.append(
                        f"{where}: {name} has _t {s.tag!r}; the schema knows {sorted(mapping)}"
                    )
                continue
            self.struct(s, {"$ref": mapping[s.tag]}, f"{where}<{s.tag}>")

    def single(self, t: mi.Type, schema: dict[str, Any], where: str) -> None:
        kind = schema.get("type")
        if kind is None and "enum" in schema:
            kind = "string"  # the spec's enums name no type; all of them are strings
        if isinstance(t, (mi.AnyType, mi.RawType)):
            return
        if isinstance(t, mi.StructType):
            self.struct(t, schema, where)
        elif isinstance(t, mi.LiteralType):
            self.literal(t, schema, where)
        elif isinstance(t, (mi.ListType, mi.VarTupleType)):
            if kind != "array":
                self.problems.append(f"{where}: a list, the schema says {kind!r}")
            else:
                self.type(t.item_type, schema.get("items", {}), f"{where}[]")
        elif isinstance(t, mi.DictType):
            values = schema.get("additionalProperties")
            if kind != "object" or not isinstance(values, dict):
                self.problems.append(f"{where}: a map, the schema says {kind!r} without values")
            else:
                self.type(t.value_type, values, f"{where}{{}}")
        elif type(t) in _SCALARS:
            if kind not in _SCALARS[type(t)] and not (
                isinstance(t, mi.FloatType) and kind == "integer" and self.direction == "response"
            ):
                self.problems.append(f"{where}: {type(t).__name__}, the schema says {kind!r}")
            if isinstance(t, mi.DateTimeType) and schema.get("format") != "date-time":
                self.problems.append(f"{where}: a datetime, the schema's format is not date-time")
        else:
            self.problems.append(f"{where}: no rule for {type(t).__name__}")

    def literal(self, t: mi.LiteralType, schema: dict[str, Any], where: str) -> None:
        enum = schema.get("enum")
        if enum is None:
            if schema.get("type") != "string":
                self.problems.append(f"{where}: a Literal, the schema has no enum")
            return
        ours, theirs = set(t.values), set(enum) - {None}  # null: the nullable flag's business
        if ours - theirs:
            self.problems.append(f"{where}: {sorted(ours - theirs)} are not in the schema's enum")
        if self.direction == "response" and theirs - ours:
            self.problems.append(f"{where}: cannot read the schema's {sorted(theirs - ours)}")

    def struct(self, t: mi.StructType, schema: dict[str, Any], where: str) -> None:
        schema, _ = _resolve(schema)
        if (t.cls, id(schema)) in self.seen:
            return
        self.seen.add((t.cls, id(schema)))
        name = t.cls.__name__
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ())) - {t.tag_field}
        if t.tag_field is not None:
            tag_schema = props.get(t.tag_field, {})
            if "enum" in tag_schema and t.tag not in tag_schema["enum"]:
                self.problems.append(f"{where}: _t {t.tag!r}, the schema's is {tag_schema['enum']}")
        fields = {f.encode_name: f for f in t.fields}
        for wire_name, f in fields.items():
            at = f"{where}.{wire_name}"
            if wire_name not in props:
                if (name, wire_name) not in ALLOWED_EXTRA_FIELDS:
                    self.problems.append(f"{at}: not in the schema ({sorted(props)})")
                continue
            if wire_name in required and not f.required:
                if (name, wire_name) not in ALLOWED_OPTIONAL:
                    self.problems.append(
                        f"{at}: required by the schema, but has a default"
                        + (" and is not always sent" if self.direction == "request" else "")
                        + (" (omitted when equal to it)" if self.direction == "response" else "")
                    )
            if f.required and wire_name not in required:
                self.problems.append(f"{at}: optional in the schema, required by the struct")
            self.type(f.type, props[wire_name], at)
        for missing in sorted(required - set(fields)):
            self.problems.append(f"{where}.{missing}: required by the schema, not in the struct")


def check(struct: Any, schema: dict[str, Any], direction: Direction, where: str) -> list[str]:
    checker = Checker(direction, [])
    checker.type(mi.type_info(struct), schema, where)
    return checker.problems


# -- the tests -----------------------------------------------------------------------------------
JSON_ENTRIES = [e for e in CONTRACT if e.struct is not None and e.op_id not in BINARY_OPS]


@pytest.mark.parametrize(
    "entry",
    JSON_ENTRIES,
    ids=[f"{e.op_id}-{e.direction}" for e in JSON_ENTRIES],
)
def test_wire_struct_matches_the_schema(entry: Entry) -> None:
    schema = _body_schema(entry.op_id, entry.direction)
    assert schema is not None, f"{entry.op_id}: the spec has no JSON {entry.direction} body"
    problems = check(entry.struct, schema, entry.direction, entry.op_id)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "op_id", sorted({e.op_id for e in CONTRACT if e.struct is None and e.direction == "request"})
)
def test_calls_without_a_body_need_none(op_id: str) -> None:
    assert "requestBody" not in _operation(op_id)


def test_error_bodies_match_the_problem_details_schema() -> None:
    schema = {"$ref": "#/components/schemas/ValidationProblemDetails"}
    assert not check(ProblemDetails, schema, "response", "ProblemDetails")


def _sdk_op_ids() -> set[str]:
    """Every operation id the SDK's own modules name (the backend's excluded)."""
    found: set[str] = set()
    package = ROOT / "rapidata_async"
    for path in package.rglob("*.py"):
        if "local" in path.relative_to(package).parts or "_wire" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'"([a-z][a-z0-9_]*_(?:get|post|patch|put|delete))"', text))
    return found


def test_every_operation_the_sdk_calls_is_in_the_contract() -> None:
    # The auth host is checked below; the examples listing is not in the contract subset (the
    # official 3.27.1 client calls it; its shape is taken from that client's models), and
    # neither is the validation set listing (the same client's find_validation_sets).
    outside = {"connect_token_post", "audience_audience_id_examples_get", "validation_sets_get"}
    sdk = _sdk_op_ids() - outside
    assert len(sdk) >= 20, sorted(sdk)  # the scan itself must work
    covered = {e.op_id for e in CONTRACT}
    assert not sdk - covered, f"calls without a contract entry: {sorted(sdk - covered)}"
    for op_id in covered:
        expected = "3.20.1" if op_id in LEGACY_OPS else "3.27.1"
        assert _operation(op_id)["x-rapidata-sdk"] == expected, op_id


def test_token_answer_matches_calls_md() -> None:
    """``POST /connect/token`` lives on the auth host, outside the OpenAPI subset; CALLS.md
    section 1 lists what it answers: ``access_token``, ``token_type``, ``expires_in``, and
    ``{"error", "error_description"}`` (OAuth) on failure."""
    names = [f.encode_name for f in msgspec.structs.fields(_auth._TokenAnswer)]
    assert names == ["access_token", "token_type", "expires_in"]
    assert [f.required for f in msgspec.structs.fields(_auth._TokenAnswer)] == [
        True,
        False,
        False,
    ]
    errors = [f.encode_name for f in msgspec.structs.fields(_auth._OAuthError)]
    assert errors == ["error", "error_description"]


# -- the results document: binary in the spec, its keys from CALLS.md section 5 ----------------
RESULTS_KEYS: dict[type[msgspec.Struct], tuple[set[str], set[str]]] = {
    # struct: (keys always written, keys the document may leave out)
    results.ResultsInfo: (set(), {"createdAt", "version", "type", "orderType"}),
    results.CompareSummary: (set(), {"A_wins_total", "B_wins_total"}),
    results.CompareDocument: ({"info", "results"}, {"summary"}),
    results.ClassificationDocument: ({"info", "results"}, set()),
    results.CompareResult: (
        {"context", "winner_index", "winner", "detailedResults"},
        {
            "contextAsset",
            "aggregatedResults",
            "aggregatedResultsRatios",
            "summedUserScores",
            "summedUserScoresRatios",
            "confidencePerCategory",
            "assetUrls",
            "privateMetadata",
        },
    ),
    results.ClassificationResult: (
        {"originalFileName", "context", "detailedResults"},
        {
            "contextAsset",
            "aggregatedResults",
            "aggregatedResultsRatios",
            "summedUserScores",
            "summedUserScoresRatios",
            "confidencePerCategory",
            "privateMetadata",
        },
    ),
    results.DetailedResponse: (set(), {"votedFor", "selectedCategory", "userDetails"}),
    results.UserDetails: (
        set(),
        {"country", "language", "userScores", "age", "gender", "occupation"},
    ),
    results.UserScores: (set(), {"global"}),
}
"""The results document's keys as CALLS.md section 5 and the docs' samples spell them."""


@pytest.mark.parametrize("struct", list(RESULTS_KEYS), ids=lambda s: s.__name__)
def test_results_document_keys(struct: type[msgspec.Struct]) -> None:
    always, optional = RESULTS_KEYS[struct]
    fields = msgspec.structs.fields(struct)
    assert {f.encode_name for f in fields} == always | optional
    assert {f.encode_name for f in fields if f.required} == always


@pytest.mark.parametrize(
    ("public", "wire"),
    [
        (public_results.CompareResult, results.CompareResult),
        (public_results.ClassificationResult, results.ClassificationResult),
        (public_results.DetailedResponse, results.DetailedResponse),
        (public_results.UserDetails, results.UserDetails),
        (public_results.UserScores, results.UserScores),
        (public_results.CompareSummary, results.CompareSummary),
    ],
    ids=lambda c: c.__qualname__,
)
def test_public_results_types_are_the_wire_schema(public: type, wire: type) -> None:
    """The SDK's result types only add views: same fields, wire names and requiredness."""
    assert issubclass(public, wire)

    def shape(cls: Any) -> list[tuple[str, str, bool]]:
        return [(f.name, f.encode_name, f.required) for f in msgspec.structs.fields(cls)]

    assert shape(public) == shape(wire)


# -- the checker itself must catch what it is for -------------------------------------------------
class _Misspelled(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    job_id: str
    name: str
    definition_id: str
    audince_id: str  # misspelled on purpose


def test_checker_catches_a_misspelled_field() -> None:
    problems = check(_Misspelled, _body_schema("job_job_id_get", "response") or {}, "response", "x")
    assert any("audinceId: not in the schema" in p for p in problems), problems
    assert any("audienceId: required by the schema, not in the struct" in p for p in problems)


def test_checker_catches_a_wrong_tag_and_enum() -> None:
    class Wrong(msgspec.Struct, tag_field="_t", tag="NaiveRefere", rename="camel"):
        total_votes: int

    class State(msgspec.Struct, rename="camel"):
        state: Literal["Running", "Finished"]

    schema = {"$ref": "#/components/schemas/IReferee"}
    assert any("'NaiveRefere'" in p for p in check(Wrong, schema, "request", "referee"))
    progress = _body_schema("job_job_id_progress_get", "response") or {}
    state_problems = check(State, progress, "response", "progress")
    assert any("'Finished'" in p and "not in the schema's enum" in p for p in state_problems)
