-- MOSAIC study database, schema version 1 (store.SchemaVersion).
-- One writer (the local run manager or collect); readers open it read-only.
-- Every statement is idempotent, because store.Open runs this file on every
-- open. meta stores the schema version under the key schema_version.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per expanded pipeline. spec_json is the pipeline document
-- (pipeline.Pipeline); it is NULL for pipelines known only from collected
-- results.
CREATE TABLE IF NOT EXISTS pipelines (
    pipeline_id TEXT PRIMARY KEY,
    label       TEXT NOT NULL,
    spec_json   TEXT,
    created_at  TEXT NOT NULL
);

-- One row per run (pipeline, replica), with its indicators. seed is the
-- uint64 seed's bit pattern as a signed 64-bit integer, so seeds of 2^63 and
-- above read as negative numbers. Times are UTC text such as
-- 2026-01-02T15:04:05.000Z. gpus is a comma-separated list, files_json a JSON
-- object of kind to path.
CREATE TABLE IF NOT EXISTS runs (
    run_id            TEXT PRIMARY KEY,
    pipeline_id       TEXT NOT NULL REFERENCES pipelines(pipeline_id),
    replica           INTEGER NOT NULL,
    seed              INTEGER NOT NULL,
    status            TEXT NOT NULL,
    epochs            INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    diverged_epoch    INTEGER,
    train_loss        REAL,
    test_loss         REAL,
    train_accuracy    REAL,
    test_accuracy     REAL,
    overfitting       REAL,
    slope             REAL,
    slope_sigma_plus  REAL,
    slope_sigma_minus REAL,
    trainability      REAL,
    duration_s        REAL,
    nb_params         INTEGER,
    started_at        TEXT,
    finished_at       TEXT,
    host              TEXT,
    device            TEXT,
    gpus              TEXT,
    files_json        TEXT,
    exit_code         INTEGER,
    -- result_sha256 is the hash of the canonical result document, so collect
    -- can tell an identical duplicate from a conflicting one.
    result_sha256     TEXT
);
CREATE INDEX IF NOT EXISTS runs_pipeline ON runs(pipeline_id);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);

-- Every stage parameter and info value of every run, one row per key.
-- value_num is set when the value is a number or a boolean (1/0), so numeric
-- comparisons work; value_text always holds the value as written in a config.
-- A list such as [4, 8] is stored as JSON text with a NULL value_num.
CREATE TABLE IF NOT EXISTS params (
    run_id     TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    stage      INTEGER NOT NULL,
    stage_type TEXT NOT NULL,
    class      TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('param', 'info')),
    name       TEXT NOT NULL,
    value_text TEXT,
    value_num  REAL,
    PRIMARY KEY (run_id, stage, kind, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS params_name ON params(name, value_num);

-- Per-epoch curves; epoch is 1-based. SQLite stores a NaN as NULL, and a
-- curve shorter than the others has NULL in its missing epochs.
CREATE TABLE IF NOT EXISTS curves (
    run_id         TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    epoch          INTEGER NOT NULL,
    train_loss     REAL,
    test_loss      REAL,
    train_accuracy REAL,
    test_accuracy  REAL,
    epoch_seconds  REAL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;

-- One row per run with every indicator: the view users query.
CREATE VIEW IF NOT EXISTS results AS
SELECT r.run_id, r.pipeline_id, p.label, r.replica, r.status,
       r.train_loss, r.test_loss, r.train_accuracy, r.test_accuracy,
       r.overfitting, r.slope, r.slope_sigma_plus, r.slope_sigma_minus,
       r.trainability, r.duration_s, r.nb_params,
       r.epochs, r.seed, r.started_at, r.finished_at, r.error,
       r.diverged_epoch, r.host, r.device, r.gpus, r.exit_code
FROM runs r JOIN pipelines p ON p.pipeline_id = r.pipeline_id;
