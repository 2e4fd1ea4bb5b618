//! The ledger's tables: the SQLite migrations (the first two layouts and the compact one) and the
//! PostgreSQL schema, created at once in the current layout.

use crate::Migration;

/// The ledger's tables on PostgreSQL (types translated by `pg_ddl`), created at once in their current
/// (compact) layout: the SQLite migrations 0001 and 0003 in one (0003 is recorded as covered).
const PG_LEDGER: &str = r#"
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    command TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_location TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    config_json TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    lm_eval_compat TEXT NOT NULL,
    git_rev TEXT,
    hardware_json TEXT NOT NULL,
    stats_json TEXT
);
CREATE TABLE run_tasks (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    task TEXT NOT NULL,
    version TEXT,
    num_fewshot INTEGER NOT NULL,
    task_hash TEXT NOT NULL,
    dataset_hash TEXT NOT NULL,
    n_docs INTEGER NOT NULL,
    config_json TEXT NOT NULL,
    PRIMARY KEY (run_id, task)
);
CREATE TABLE contexts (
    hash BLOB PRIMARY KEY,
    tokens BLOB NOT NULL
);
CREATE TABLE excerpts (
    hash BLOB PRIMARY KEY,
    text BLOB NOT NULL
);
CREATE TABLE responses (
    request_key TEXT PRIMARY KEY,
    model_fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    context_hash BLOB,
    request BLOB NOT NULL,
    response_json TEXT NOT NULL,
    raw_hash BLOB,
    latency_ms REAL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE samples (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    task TEXT NOT NULL,
    doc_id INTEGER NOT NULL,
    filter TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    target_hash TEXT NOT NULL,
    record BLOB NOT NULL,
    request_keys_json TEXT NOT NULL,
    fewshot_ids_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    PRIMARY KEY (run_id, task, doc_id, filter)
);
CREATE INDEX samples_by_doc ON samples(task, doc_hash);
CREATE TABLE aggregates (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    task TEXT NOT NULL,
    metric TEXT NOT NULL,
    filter TEXT NOT NULL,
    value REAL,
    stderr REAL,
    n INTEGER NOT NULL,
    is_group INTEGER NOT NULL,
    PRIMARY KEY (run_id, task, metric, filter)
);
"#;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "ledger_0001_init",
        sql: r#"
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,              -- running | finished | interrupted | failed
    command TEXT NOT NULL,             -- the command line, for resuming
    model_name TEXT NOT NULL,
    model_location TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    config_json TEXT NOT NULL,         -- fully resolved configuration
    tool_version TEXT NOT NULL,
    lm_eval_compat TEXT NOT NULL,
    git_rev TEXT,
    hardware_json TEXT NOT NULL,
    stats_json TEXT                    -- requests sent / reused, wall time, tokens
);
CREATE TABLE run_tasks (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    task TEXT NOT NULL,
    version TEXT,
    num_fewshot INTEGER NOT NULL,
    task_hash TEXT NOT NULL,           -- hash of the resolved task config
    dataset_hash TEXT NOT NULL,        -- hash of the docs evaluated
    n_docs INTEGER NOT NULL,
    config_json TEXT NOT NULL,
    PRIMARY KEY (run_id, task)
);
CREATE TABLE responses (
    request_key TEXT PRIMARY KEY,
    model_fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_json TEXT NOT NULL,        -- exactly what was sent (token ids or text, parameters)
    response_json TEXT NOT NULL,       -- parsed result (logprob, is_greedy | text)
    raw_json TEXT,                     -- excerpt of the raw server response
    latency_ms REAL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE samples (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    task TEXT NOT NULL,
    doc_id INTEGER NOT NULL,
    filter TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    target_hash TEXT NOT NULL,
    record_json TEXT NOT NULL,         -- the lm-eval-compatible sample record
    request_keys_json TEXT NOT NULL,   -- ledger keys of the requests behind this sample
    fewshot_ids_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL,        -- {metric: value}
    PRIMARY KEY (run_id, task, doc_id, filter)
);
CREATE INDEX samples_by_doc ON samples(task, doc_hash);
CREATE TABLE aggregates (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    task TEXT NOT NULL,
    metric TEXT NOT NULL,
    filter TEXT NOT NULL,
    value REAL,
    stderr REAL,
    n INTEGER NOT NULL,
    is_group INTEGER NOT NULL,
    PRIMARY KEY (run_id, task, metric, filter)
);
"#,
        pg: crate::PgSchema::Sql(PG_LEDGER),
        convert: None,
    },
    crate::executions::MIGRATION,
    crate::compact::MIGRATION,
    crate::shards::MIGRATION,
    crate::delta::MIGRATION,
];
