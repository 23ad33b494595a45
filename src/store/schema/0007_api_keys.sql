-- API keys and idempotency keys (issue: API keys and the public REST API).

CREATE TABLE api_keys (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,                 -- key_...
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,                    -- the first 12 characters of the secret, for recognition
    secret_hash TEXT NOT NULL UNIQUE,        -- keyed BLAKE2b of the whole secret; the secret is never stored
    scopes TEXT NOT NULL,                    -- JSON array of "section:access"
    owner_type TEXT NOT NULL CHECK (owner_type IN ('workspace', 'member')),
    owner_user_id TEXT REFERENCES users (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER,                      -- NULL: never (only where the workspace allows it)
    revoked_at INTEGER,
    rotated_to TEXT,                         -- the key that replaced this one
    overlap_until INTEGER,                   -- a rotated key works until then
    allowed_cidrs TEXT NOT NULL DEFAULT '[]',
    last_used_at INTEGER,
    last_used_ips TEXT NOT NULL DEFAULT '[]',
    notices_sent TEXT NOT NULL DEFAULT '[]', -- expiry notices already mailed (30, 7, 1)
    PRIMARY KEY (workspace_id, id)
) STRICT;

CREATE INDEX api_keys_by_owner ON api_keys (workspace_id, owner_user_id);

ALTER TABLE workspaces ADD COLUMN api_key_max_days INTEGER NOT NULL DEFAULT 365;
ALTER TABLE workspaces ADD COLUMN api_key_default_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE workspaces ADD COLUMN api_key_allow_never INTEGER NOT NULL DEFAULT 0;

-- Idempotency-Key records: one per caller and key, holding the first request's fingerprint and the
-- response it got, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,                    -- "user:usr_..." or "key:key_..."
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,              -- method, path and body
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    status INTEGER,
    content_type TEXT,
    location TEXT,
    body TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (caller, idem_key)
) STRICT;

CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);
