-- Accounts and sessions (issue: accounts, sessions and the web UI shell).
-- Times are microseconds since the Unix epoch; booleans are 0/1.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,          -- normalised: lower-case
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,         -- Argon2id PHC string
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    developer INTEGER NOT NULL DEFAULT 0 CHECK (developer IN (0, 1)),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    last_failed_at INTEGER,
    locked_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,                 -- public id (ses_...), never the secret
    token_hash TEXT NOT NULL UNIQUE,     -- keyed BLAKE2b of the cookie token
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    ended_at INTEGER
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id, ended_at);

-- Fixed one-minute windows for per-IP limits (sign-in, sign-up), shared by every process.
CREATE TABLE rate_windows (
    bucket TEXT PRIMARY KEY,             -- e.g. "login:203.0.113.7"
    window_start INTEGER NOT NULL,
    hits INTEGER NOT NULL
) STRICT;
