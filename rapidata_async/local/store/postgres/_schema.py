"""The PostgreSQL schema, its upgrades, the seeding and reset.

Every process that opens the store runs ``prepare`` under one transaction-scoped advisory lock
per schema, so two processes starting on a fresh database neither race on ``CREATE TABLE`` nor
upgrade it twice: the second one waits and finds it done.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from ...._wire import audience as auwire
from ..credentials import hash_secret, is_hashed
from ..seeds import DEFAULT_RULE, SEED_AUDIENCES, SEED_OWNER_MAIL
from ._db import encode

SCHEMA_VERSION = "7"
# The tenant column of each table whose rows belong to a client (NULL: a shared seeded
# audience); added to databases of schema version 1.
OWNED_TABLES = ("assets", "batches", "datasets", "definitions", "audiences", "jobs")
_UPGRADE = (
    "ALTER TABLE clients ADD COLUMN IF NOT EXISTS tenant text;\n"
    "ALTER TABLE revisions ADD COLUMN IF NOT EXISTS validation_set_id text;\n"
    + "".join(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS owner text;\n" for t in OWNED_TABLES)
    + """
CREATE INDEX IF NOT EXISTS definitions_owner ON definitions (owner, created_at);
CREATE INDEX IF NOT EXISTS audiences_owner ON audiences (owner);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, created_at);
CREATE INDEX IF NOT EXISTS batches_owner ON batches (owner);
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS filters bytea;
"""
)

# Timestamps are ISO-8601 text, as the rows carry them (and as the SQLite store keeps them);
# their fixed format sorts and compares correctly as text. Bodies are msgspec JSON bytes.
# ``seq`` columns keep insertion order (the tie-break of every listing).
_DDL = """
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    seq bigint GENERATED ALWAYS AS IDENTITY, client_id text PRIMARY KEY,
    client_secret text NOT NULL, created_at text NOT NULL);
CREATE TABLE IF NOT EXISTS assets (
    name text PRIMARY KEY, original_name text, source_url text, size bigint,
    created_at text NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, correlation_id text,
    status text NOT NULL, created_at text NOT NULL, items bytea NOT NULL);
CREATE INDEX IF NOT EXISTS batches_correlation ON batches (correlation_id);
CREATE INDEX IF NOT EXISTS batches_status ON batches (status);
CREATE TABLE IF NOT EXISTS datasets (
    id text PRIMARY KEY, name text NOT NULL, created_at text NOT NULL, body bytea NOT NULL);
CREATE TABLE IF NOT EXISTS datapoints (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, dataset_id text NOT NULL,
    sort_index bigint, body bytea NOT NULL, digest bytea NOT NULL,
    UNIQUE (dataset_id, sort_index, digest));
CREATE INDEX IF NOT EXISTS datapoints_dataset ON datapoints (dataset_id, seq);
CREATE TABLE IF NOT EXISTS definitions (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, name text NOT NULL,
    definition_type text NOT NULL, created_at text NOT NULL, owner_id text NOT NULL,
    owner_mail text NOT NULL, revision_count integer NOT NULL);
CREATE INDEX IF NOT EXISTS definitions_created ON definitions (created_at);
CREATE TABLE IF NOT EXISTS revisions (
    definition_id text NOT NULL, number integer NOT NULL, pipeline_id text NOT NULL,
    created_at text NOT NULL, body bytea NOT NULL, PRIMARY KEY (definition_id, number));
CREATE TABLE IF NOT EXISTS audiences (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, name text NOT NULL,
    kind text NOT NULL, domain text, status text NOT NULL, is_public boolean NOT NULL,
    created_at text NOT NULL, owner_mail text NOT NULL,
    qualified_count integer NOT NULL DEFAULT 0, graduated integer NOT NULL DEFAULT 0,
    dropped integer NOT NULL DEFAULT 0, body bytea NOT NULL, recruiting_started_at text);
CREATE INDEX IF NOT EXISTS audiences_created ON audiences (created_at);
CREATE INDEX IF NOT EXISTS audiences_status ON audiences (status);
CREATE TABLE IF NOT EXISTS examples (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, audience_id text NOT NULL,
    body bytea NOT NULL);
CREATE INDEX IF NOT EXISTS examples_audience ON examples (audience_id, seq);
CREATE TABLE IF NOT EXISTS jobs (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, name text NOT NULL,
    definition_id text NOT NULL, revision_number integer NOT NULL, audience_id text NOT NULL,
    pipeline_id text NOT NULL, state text NOT NULL, created_at text NOT NULL,
    owner_mail text NOT NULL, completed_at text, failed_at text, failure_message text,
    preceding_job_id text, total integer NOT NULL DEFAULT 0,
    completed integer NOT NULL DEFAULT 0, response_count bigint NOT NULL DEFAULT 0,
    reason text, body bytea NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_audience ON jobs (audience_id);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS responses (
    job_id text NOT NULL, datapoint_id text NOT NULL, labeler_id text NOT NULL,
    answer text NOT NULL, user_score float8 NOT NULL, country text NOT NULL,
    language text NOT NULL, age text NOT NULL, gender text NOT NULL, occupation text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (job_id, datapoint_id, labeler_id));
CREATE TABLE IF NOT EXISTS closed_datapoints (
    job_id text NOT NULL, datapoint_id text NOT NULL, PRIMARY KEY (job_id, datapoint_id));
CREATE TABLE IF NOT EXISTS flows (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, name text NOT NULL,
    created_at text NOT NULL, config bytea NOT NULL, item_count integer NOT NULL DEFAULT 0,
    deleted_at text, owner text NOT NULL);
CREATE INDEX IF NOT EXISTS flows_owner ON flows (owner, created_at);
CREATE TABLE IF NOT EXISTS flow_items (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, flow_id text NOT NULL,
    dataset_id text NOT NULL, state text NOT NULL, context text, context_asset bytea,
    ttl_seconds integer NOT NULL, drain_seconds integer, config bytea NOT NULL,
    created_at text NOT NULL, started_at text, completed_at text, failed_at text,
    failure_message text, owner text NOT NULL);
CREATE INDEX IF NOT EXISTS flow_items_flow ON flow_items (flow_id, created_at);
CREATE INDEX IF NOT EXISTS flow_items_state ON flow_items (state);
CREATE TABLE IF NOT EXISTS votes (
    seq bigint GENERATED ALWAYS AS IDENTITY, session_id text NOT NULL, task_id text NOT NULL,
    labeler_id text NOT NULL, first_item text NOT NULL, second_item text NOT NULL,
    outcome text NOT NULL, context_key text, country text, language text, gender text,
    age_group text, occupation text, created_at text NOT NULL, owner text NOT NULL,
    PRIMARY KEY (session_id, task_id, labeler_id));
CREATE TABLE IF NOT EXISTS orders (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, name text NOT NULL,
    state text NOT NULL, created_at text NOT NULL, dataset_id text NOT NULL,
    pipeline_id text NOT NULL, job_id text, preceding_order_id text, body bytea NOT NULL,
    owner text NOT NULL);
CREATE INDEX IF NOT EXISTS orders_owner ON orders (owner, created_at);
CREATE TABLE IF NOT EXISTS validation_sets (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, name text NOT NULL,
    created_at text NOT NULL, owner_mail text NOT NULL, dimensions bytea NOT NULL,
    modalities text NOT NULL, owner text NOT NULL);
CREATE INDEX IF NOT EXISTS validation_sets_owner ON validation_sets (owner, created_at);
CREATE TABLE IF NOT EXISTS validation_rapids (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, set_id text NOT NULL,
    body bytea NOT NULL);
CREATE INDEX IF NOT EXISTS validation_rapids_set ON validation_rapids (set_id, seq);
CREATE TABLE IF NOT EXISTS validation_answers (
    seq bigint GENERATED ALWAYS AS IDENTITY, job_id text NOT NULL, labeler_id text NOT NULL,
    rapid text NOT NULL, answer text NOT NULL, correct boolean NOT NULL, chance float8 NOT NULL,
    prior float8 NOT NULL, score float8 NOT NULL, PRIMARY KEY (job_id, labeler_id, rapid));
CREATE TABLE IF NOT EXISTS leases (
    kind text NOT NULL, key text NOT NULL, owner text NOT NULL,
    expires_at timestamptz NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS benchmarks (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, name text NOT NULL,
    created_at text NOT NULL, description text, min_assets integer, owner text NOT NULL);
CREATE INDEX IF NOT EXISTS benchmarks_owner ON benchmarks (owner, created_at);
CREATE TABLE IF NOT EXISTS prompts (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, benchmark_id text NOT NULL,
    identifier text NOT NULL, text text, origin_source text, created_at text NOT NULL,
    body bytea NOT NULL, UNIQUE (benchmark_id, identifier));
CREATE TABLE IF NOT EXISTS leaderboards (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, benchmark_id text NOT NULL,
    name text NOT NULL, created_at text NOT NULL, owner text NOT NULL, state text NOT NULL,
    target_votes bigint NOT NULL, body bytea NOT NULL);
CREATE INDEX IF NOT EXISTS leaderboards_benchmark ON leaderboards (benchmark_id);
CREATE INDEX IF NOT EXISTS leaderboards_state ON leaderboards (state);
CREATE TABLE IF NOT EXISTS participants (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, benchmark_id text NOT NULL,
    name text NOT NULL, status text NOT NULL, created_at text NOT NULL, owner text NOT NULL,
    body bytea NOT NULL);
CREATE INDEX IF NOT EXISTS participants_benchmark ON participants (benchmark_id);
CREATE TABLE IF NOT EXISTS samples (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, participant_id text NOT NULL,
    identifier text NOT NULL, created_at text NOT NULL, asset bytea NOT NULL,
    UNIQUE (participant_id, identifier));
CREATE TABLE IF NOT EXISTS labelers (
    seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, owner text NOT NULL,
    name text NOT NULL, audiences text[] NOT NULL, created_at text NOT NULL,
    token_hash text NOT NULL);
CREATE INDEX IF NOT EXISTS labelers_owner ON labelers (owner, created_at);
CREATE TABLE IF NOT EXISTS labeler_qualifications (
    labeler_id text NOT NULL, audience_id text NOT NULL, state text NOT NULL,
    user_score float8 NOT NULL, PRIMARY KEY (labeler_id, audience_id));
"""

# What a reset wipes. Credentials and the signing key stay (clients hold tokens), and so do
# assets: SDKs cache uploaded file names across runs and send them again without re-uploading.
_RESET_TABLES = (
    "batches",
    "datasets",
    "datapoints",
    "definitions",
    "revisions",
    "audiences",
    "examples",
    "jobs",
    "responses",
    "closed_datapoints",
    "flows",
    "flow_items",
    "votes",
    "orders",
    "validation_sets",
    "validation_rapids",
    "validation_answers",
    "leases",
    "benchmarks",
    "prompts",
    "leaderboards",
    "participants",
    "samples",
    "labelers",
    "labeler_qualifications",
)

_LOCK = (
    "SELECT pg_advisory_xact_lock("
    "hashtext('rapidata_async.store:' || coalesce(current_schema(), '')))"
)


async def _seed(conn: Any) -> None:
    rows = [
        (
            seed.id,
            seed.name,
            seed.kind,
            seed.domain,
            seed.created_at,
            SEED_OWNER_MAIL,
            encode(
                auwire.CreateAudienceInput(
                    name=seed.name,
                    description=seed.description,
                    filters=[],
                    graduation_rule=DEFAULT_RULE,
                )
            ),
        )
        for seed in SEED_AUDIENCES
    ]
    await conn.executemany(
        "INSERT INTO audiences (id, name, kind, domain, status, is_public, created_at, "
        "owner_mail, body) VALUES ($1, $2, $3, $4, 'Ready', TRUE, $5, $6, $7) "
        "ON CONFLICT (id) DO NOTHING",
        rows,
    )


async def prepare(conn: Any) -> None:
    """Schema (and upgrades) and seeds."""
    async with conn.transaction():
        await conn.execute(_LOCK)
        version = None
        if await conn.fetchval("SELECT to_regclass('meta') IS NOT NULL"):
            version = await conn.fetchval("SELECT value FROM meta WHERE key = 'schema_version'")
        if version != SCHEMA_VERSION:
            await conn.execute(_DDL)
            await conn.execute(_UPGRADE)
            await _upgrade_credentials(conn)
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', $1) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                SCHEMA_VERSION,
            )
        await _seed(conn)


async def _upgrade_credentials(conn: Any) -> None:
    """Databases from before tenants: plain secrets become hashes, the signing key leaves the
    database (tokens it signed stop working), the data so far belongs to the first client."""
    await conn.execute("DELETE FROM meta WHERE key = 'signing_key'")
    await conn.execute("UPDATE clients SET tenant = client_id WHERE tenant IS NULL")
    for client_id, stored in await conn.fetch("SELECT client_id, client_secret FROM clients"):
        if not is_hashed(stored):
            hashed = await anyio.to_thread.run_sync(hash_secret, stored)
            await conn.execute(
                "UPDATE clients SET client_secret = $1 WHERE client_id = $2", hashed, client_id
            )
    first = await conn.fetchval("SELECT tenant FROM clients ORDER BY created_at, seq LIMIT 1")
    if first is None:
        return
    for table in OWNED_TABLES:
        shared = " AND kind = 'custom'" if table == "audiences" else ""
        await conn.execute(f"UPDATE {table} SET owner = $1 WHERE owner IS NULL{shared}", first)


async def reset(conn: Any) -> None:
    async with conn.transaction():
        await conn.execute(_LOCK)
        await conn.execute(f"TRUNCATE {', '.join(_RESET_TABLES)}")
        await _seed(conn)
