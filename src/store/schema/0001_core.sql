-- 0001_core: the durable job queue (src/jobs/jobs.c). Times are microseconds since the Unix epoch.
-- Written in SQLite's STRICT dialect; the PostgreSQL backend maps INTEGER to BIGINT and drops STRICT.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    locked_by TEXT,
    locked_until INTEGER,
    last_error TEXT,
    dedupe_key TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- The claim query scans due queued jobs by run_at.
CREATE INDEX jobs_state_run_at ON jobs (state, run_at);
