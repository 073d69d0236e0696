-- The CCOW vault's SQL store (SQLite and PostgreSQL share this text).
-- Timestamps are microseconds since the Unix epoch (UTC).

-- One active context per user.
CREATE TABLE IF NOT EXISTS ccow_context (
    user_id          TEXT PRIMARY KEY,
    email            TEXT,
    patient_id       TEXT NOT NULL,
    set_by           TEXT NOT NULL,
    set_at           BIGINT NOT NULL,
    last_accessed_at BIGINT NOT NULL,
    version          BIGINT NOT NULL
);

-- Each user's context version: survives a clear, so versions never repeat.
CREATE TABLE IF NOT EXISTS ccow_version (
    user_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- Every change, keyed by the version it produced. Rows are never updated;
-- the oldest are retired past the per-user bound.
CREATE TABLE IF NOT EXISTS ccow_history (
    user_id    TEXT NOT NULL,
    version    BIGINT NOT NULL,
    action     TEXT NOT NULL,
    email      TEXT,
    patient_id TEXT,
    actor      TEXT NOT NULL,
    ts         BIGINT NOT NULL,
    event_id   TEXT NOT NULL,
    PRIMARY KEY (user_id, version)
);

CREATE INDEX IF NOT EXISTS ccow_history_ts ON ccow_history (ts);
