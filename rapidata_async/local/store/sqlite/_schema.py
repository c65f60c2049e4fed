"""The SQLite schema, its upgrades for files written by older versions, and the seeding.

Request bodies are msgspec-encoded JSON columns; what listings filter and sort on lives in plain
indexed columns next to them.
"""

from __future__ import annotations

import sqlite3

import msgspec

from ...._wire import audience as auwire
from ..credentials import hash_secret, is_hashed
from ..seeds import DEFAULT_RULE, SEED_AUDIENCES, SEED_OWNER_MAIL

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, created_at TEXT NOT NULL,
    tenant TEXT);
CREATE TABLE IF NOT EXISTS assets (
    name TEXT PRIMARY KEY, original_name TEXT, source_url TEXT, size INTEGER,
    created_at TEXT NOT NULL, owner TEXT);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, correlation_id TEXT, status TEXT NOT NULL, created_at TEXT NOT NULL,
    items BLOB NOT NULL, owner TEXT);
CREATE INDEX IF NOT EXISTS batches_correlation ON batches (correlation_id);
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, body BLOB NOT NULL,
    owner TEXT);
CREATE TABLE IF NOT EXISTS datapoints (
    id TEXT PRIMARY KEY, dataset_id TEXT NOT NULL, sort_index INTEGER, body BLOB NOT NULL,
    digest BLOB NOT NULL, UNIQUE (dataset_id, sort_index, digest));
CREATE TABLE IF NOT EXISTS definitions (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, definition_type TEXT NOT NULL,
    created_at TEXT NOT NULL, owner_id TEXT NOT NULL, owner_mail TEXT NOT NULL,
    revision_count INTEGER NOT NULL, owner TEXT);
CREATE INDEX IF NOT EXISTS definitions_created ON definitions (created_at);
CREATE TABLE IF NOT EXISTS revisions (
    definition_id TEXT NOT NULL, number INTEGER NOT NULL, pipeline_id TEXT NOT NULL,
    created_at TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (definition_id, number));
CREATE TABLE IF NOT EXISTS audiences (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, domain TEXT,
    status TEXT NOT NULL, is_public INTEGER NOT NULL, created_at TEXT NOT NULL,
    owner_mail TEXT NOT NULL, qualified_count INTEGER NOT NULL DEFAULT 0,
    graduated INTEGER NOT NULL DEFAULT 0, dropped INTEGER NOT NULL DEFAULT 0,
    body BLOB NOT NULL, recruiting_started_at TEXT, owner TEXT);
CREATE INDEX IF NOT EXISTS audiences_created ON audiences (created_at);
CREATE TABLE IF NOT EXISTS examples (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, audience_id TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS examples_audience ON examples (audience_id);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, definition_id TEXT NOT NULL,
    revision_number INTEGER NOT NULL, audience_id TEXT NOT NULL, pipeline_id TEXT NOT NULL,
    state TEXT NOT NULL, created_at TEXT NOT NULL, owner_mail TEXT NOT NULL,
    completed_at TEXT, failed_at TEXT, failure_message TEXT, preceding_job_id TEXT,
    total INTEGER NOT NULL DEFAULT 0, completed INTEGER NOT NULL DEFAULT 0,
    response_count INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL, reason TEXT,
    owner TEXT);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_audience ON jobs (audience_id);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS responses (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, datapoint_id TEXT NOT NULL,
    labeler_id TEXT NOT NULL, answer TEXT NOT NULL, user_score REAL NOT NULL,
    country TEXT NOT NULL, language TEXT NOT NULL, age TEXT NOT NULL, gender TEXT NOT NULL,
    occupation TEXT NOT NULL, UNIQUE (job_id, datapoint_id, labeler_id));
CREATE TABLE IF NOT EXISTS closed_datapoints (
    job_id TEXT NOT NULL, datapoint_id TEXT NOT NULL, PRIMARY KEY (job_id, datapoint_id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flows (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, config BLOB NOT NULL,
    item_count INTEGER NOT NULL DEFAULT 0, deleted_at TEXT, owner TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS flows_owner ON flows (owner, created_at);
CREATE TABLE IF NOT EXISTS flow_items (
    id TEXT PRIMARY KEY, flow_id TEXT NOT NULL, dataset_id TEXT NOT NULL, state TEXT NOT NULL,
    context TEXT, context_asset BLOB, ttl_seconds INTEGER NOT NULL, drain_seconds INTEGER,
    config BLOB NOT NULL, created_at TEXT NOT NULL, started_at TEXT, completed_at TEXT,
    failed_at TEXT, failure_message TEXT, owner TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS flow_items_flow ON flow_items (flow_id, created_at);
CREATE INDEX IF NOT EXISTS flow_items_state ON flow_items (state);
CREATE TABLE IF NOT EXISTS votes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, task_id TEXT NOT NULL,
    labeler_id TEXT NOT NULL, first_item TEXT NOT NULL, second_item TEXT NOT NULL,
    outcome TEXT NOT NULL, context_key TEXT, country TEXT, language TEXT, gender TEXT,
    age_group TEXT, occupation TEXT, created_at TEXT NOT NULL, owner TEXT NOT NULL,
    UNIQUE (session_id, task_id, labeler_id));
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL,
    dataset_id TEXT NOT NULL, pipeline_id TEXT NOT NULL, job_id TEXT,
    preceding_order_id TEXT, body BLOB NOT NULL, owner TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_owner ON orders (owner, created_at);
CREATE TABLE IF NOT EXISTS validation_sets (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL,
    owner_mail TEXT NOT NULL, dimensions BLOB NOT NULL, modalities TEXT NOT NULL,
    owner TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS validation_sets_owner ON validation_sets (owner, created_at);
CREATE TABLE IF NOT EXISTS validation_rapids (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, set_id TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS validation_rapids_set ON validation_rapids (set_id, seq);
CREATE TABLE IF NOT EXISTS validation_answers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, labeler_id TEXT NOT NULL,
    rapid TEXT NOT NULL, answer TEXT NOT NULL, correct INTEGER NOT NULL, chance REAL NOT NULL,
    prior REAL NOT NULL, score REAL NOT NULL, UNIQUE (job_id, labeler_id, rapid));
CREATE TABLE IF NOT EXISTS leases (
    kind TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS benchmarks (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, description TEXT,
    min_assets INTEGER, owner TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS benchmarks_owner ON benchmarks (owner, created_at);
CREATE TABLE IF NOT EXISTS prompts (
    id TEXT PRIMARY KEY, benchmark_id TEXT NOT NULL, identifier TEXT NOT NULL, text TEXT,
    origin_source TEXT, created_at TEXT NOT NULL, body BLOB NOT NULL,
    UNIQUE (benchmark_id, identifier));
CREATE TABLE IF NOT EXISTS leaderboards (
    id TEXT PRIMARY KEY, benchmark_id TEXT NOT NULL, name TEXT NOT NULL,
    created_at TEXT NOT NULL, owner TEXT NOT NULL, state TEXT NOT NULL,
    target_votes INTEGER NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS leaderboards_benchmark ON leaderboards (benchmark_id);
CREATE INDEX IF NOT EXISTS leaderboards_state ON leaderboards (state);
CREATE TABLE IF NOT EXISTS participants (
    id TEXT PRIMARY KEY, benchmark_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, owner TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS participants_benchmark ON participants (benchmark_id);
CREATE TABLE IF NOT EXISTS samples (
    id TEXT PRIMARY KEY, participant_id TEXT NOT NULL, identifier TEXT NOT NULL,
    created_at TEXT NOT NULL, asset BLOB NOT NULL, UNIQUE (participant_id, identifier));
CREATE TABLE IF NOT EXISTS labelers (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, audiences TEXT NOT NULL,
    created_at TEXT NOT NULL, token_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS labelers_owner ON labelers (owner, created_at);
CREATE TABLE IF NOT EXISTS labeler_qualifications (
    labeler_id TEXT NOT NULL, audience_id TEXT NOT NULL, state TEXT NOT NULL,
    user_score REAL NOT NULL, PRIMARY KEY (labeler_id, audience_id)) WITHOUT ROWID;
"""

# The tenant columns (NULL: a shared seeded audience) and their indexes, created after the
# columns exist in files from older versions.
OWNED_TABLES = ("assets", "batches", "datasets", "definitions", "audiences", "jobs")
_OWNER_INDEXES = """
CREATE INDEX IF NOT EXISTS definitions_owner ON definitions (owner, created_at);
CREATE INDEX IF NOT EXISTS audiences_owner ON audiences (owner);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, created_at);
CREATE INDEX IF NOT EXISTS batches_owner ON batches (owner);
"""

# Tables a reset wipes. Credentials stay (clients hold tokens), and so do
# assets: SDKs cache uploaded file names across runs and send them again without re-uploading.
RESET_TABLES = (
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

# Columns added after the first release: a file DB from then gets them on open.
_ADDED_COLUMNS = (
    ("jobs", "reason", "TEXT"),
    ("jobs", "filters", "BLOB"),
    ("audiences", "recruiting_started_at", "TEXT"),
    ("clients", "tenant", "TEXT"),
    ("revisions", "validation_set_id", "TEXT"),
    *((table, "owner", "TEXT") for table in OWNED_TABLES),
)

_enc = msgspec.json.Encoder()


class _LegacyVote(msgspec.Struct):
    answer: str
    user_score: float
    country: str
    language: str
    age: str
    gender: str
    occupation: str


def create(conn: sqlite3.Connection) -> None:
    """Schema (and upgrades) and seeds, on every open."""
    conn.executescript(SCHEMA)
    for table, column, kind in _ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    conn.executescript(_OWNER_INDEXES)
    conn.execute("BEGIN IMMEDIATE")
    try:
        _upgrade_job_items(conn)
        _upgrade_credentials(conn)
        seed(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _upgrade_credentials(conn: sqlite3.Connection) -> None:
    """Files from before tenants: plain secrets become hashes, the signing key leaves the
    database (tokens it signed stop working), and the data so far belongs to the first
    client's tenant."""
    conn.execute("DELETE FROM meta WHERE key = 'signing_key'")
    conn.execute("UPDATE clients SET tenant = client_id WHERE tenant IS NULL")
    rows = conn.execute("SELECT client_id, client_secret FROM clients").fetchall()
    for client_id, stored in rows:
        if not is_hashed(stored):
            conn.execute(
                "UPDATE clients SET client_secret = ? WHERE client_id = ?",
                (hash_secret(stored), client_id),
            )
    first = conn.execute("SELECT tenant FROM clients ORDER BY created_at, rowid LIMIT 1").fetchone()
    if first is None:
        return
    for table in OWNED_TABLES:
        shared = " AND kind = 'custom'" if table == "audiences" else ""
        conn.execute(f"UPDATE {table} SET owner = ? WHERE owner IS NULL{shared}", (first[0],))


def _upgrade_job_items(conn: sqlite3.Connection) -> None:
    """Older files kept a datapoint's responses as one JSON list in ``job_items``; move them
    to one row per response (labelers numbered per datapoint) and close those datapoints."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'job_items'"
    ).fetchone()
    if exists is None:
        return
    decode = msgspec.json.Decoder(list[_LegacyVote]).decode
    for job_id, datapoint_id, votes in conn.execute(
        "SELECT job_id, datapoint_id, votes FROM job_items"
    ).fetchall():
        conn.executemany(
            "INSERT OR IGNORE INTO responses (job_id, datapoint_id, labeler_id, answer, "
            "user_score, country, language, age, gender, occupation) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    job_id,
                    datapoint_id,
                    f"sim:legacy-{i}",
                    v.answer,
                    v.user_score,
                    v.country,
                    v.language,
                    v.age,
                    v.gender,
                    v.occupation,
                )
                for i, v in enumerate(decode(votes))
            ],
        )
        conn.execute(
            "INSERT OR IGNORE INTO closed_datapoints (job_id, datapoint_id) VALUES (?, ?)",
            (job_id, datapoint_id),
        )
    conn.execute("DROP TABLE job_items")


def seed(conn: sqlite3.Connection) -> None:
    """The global and curated audiences (kept as they are when present)."""
    for audience in SEED_AUDIENCES:
        body = auwire.CreateAudienceInput(
            name=audience.name,
            description=audience.description,
            filters=[],
            graduation_rule=DEFAULT_RULE,
        )
        conn.execute(
            "INSERT OR IGNORE INTO audiences (id, name, kind, domain, status, is_public, "
            "created_at, owner_mail, body) VALUES (?, ?, ?, ?, 'Ready', 1, ?, ?, ?)",
            (
                audience.id,
                audience.name,
                audience.kind,
                audience.domain,
                audience.created_at,
                SEED_OWNER_MAIL,
                _enc.encode(body),
            ),
        )


def reset(conn: sqlite3.Connection) -> None:
    """Wipe all data but credentials, assets and seeds (in a transaction)."""
    for table in RESET_TABLES:
        conn.execute(f"DELETE FROM {table}")
    seed(conn)
