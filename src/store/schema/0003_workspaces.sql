-- Workspaces, memberships, notification preferences, the audit log, and profile fields
-- (issue: workspaces, sub-accounts, roles and the Settings map).

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,                     -- ws_...; a workspace's own rows are keyed by it
    kind TEXT NOT NULL CHECK (kind IN ('root', 'sub_account')),
    parent_id TEXT REFERENCES workspaces (id),
    name TEXT NOT NULL,
    display_name TEXT,
    slug TEXT NOT NULL UNIQUE,
    logo_url TEXT,
    timezone TEXT,
    locale TEXT,
    currency TEXT,
    legal_name TEXT,
    business_type TEXT,
    industry TEXT,
    country TEXT,
    address TEXT,
    phone TEXT,
    website TEXT,
    tax_id TEXT,
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'suspended', 'pending_deletion', 'deleted')),
    status_reason TEXT,
    deletion_due_at INTEGER,
    entitlements TEXT NOT NULL DEFAULT '[]', -- JSON array of plan features until billing owns them
    version INTEGER NOT NULL DEFAULT 1,      -- the ETag of the settings document
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((kind = 'root' AND parent_id IS NULL) OR (kind = 'sub_account' AND parent_id IS NOT NULL))
) STRICT;

CREATE INDEX workspaces_by_parent ON workspaces (parent_id, status);

CREATE TABLE memberships (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    id TEXT NOT NULL UNIQUE,                 -- mem_...
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at INTEGER NOT NULL,
    invited_by TEXT,
    last_active_at INTEGER,
    PRIMARY KEY (workspace_id, user_id)
) STRICT;

-- The one index not led by workspace_id: "which workspaces can this user reach" (the switcher).
-- Under Citus, memberships would be a reference table.
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE notification_prefs (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    event_group TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (workspace_id, user_id, event_group, channel)
) STRICT;

CREATE TABLE audit_events (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    seq INTEGER NOT NULL,                    -- 1, 2, 3 ... per workspace: the chain's order
    id TEXT NOT NULL UNIQUE,                 -- aud_...
    actor_type TEXT NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'agency')),
    actor_id TEXT,
    actor_label TEXT,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    changes TEXT,                            -- JSON {"field": {"before": ..., "after": ...}}, secrets redacted
    ip TEXT,
    user_agent TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (workspace_id, seq)
) STRICT;

CREATE INDEX audit_events_by_time ON audit_events (workspace_id, created_at);

ALTER TABLE users ADD COLUMN avatar_url TEXT;
ALTER TABLE users ADD COLUMN timezone TEXT;
ALTER TABLE users ADD COLUMN locale TEXT;
