-- Team: membership status, seats, invitations, password resets, ownership transfers
-- (issue: Team: members, invitations, roles, seats, activity — and mail that really arrives).

ALTER TABLE memberships ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE memberships ADD COLUMN deactivated_at INTEGER;
ALTER TABLE workspaces ADD COLUMN seat_limit INTEGER NOT NULL DEFAULT 10;

CREATE TABLE invitations (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,                 -- inv_...
    email TEXT NOT NULL,                     -- normalised
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    inviter_id TEXT NOT NULL REFERENCES users (id),
    message TEXT,
    token_hash TEXT NOT NULL UNIQUE,         -- keyed BLAKE2b of the link's token
    token_sealed TEXT NOT NULL,              -- the token encrypted (for reminder mail); see crypto_seal
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'expired', 'revoked')),
    expires_at INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    resend_count INTEGER NOT NULL DEFAULT 0,
    accepted_by TEXT,
    accepted_at INTEGER,
    revoked_at INTEGER,
    revoked_reason TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
) STRICT;

-- One pending invitation per address and workspace.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (workspace_id, email) WHERE status = 'pending';
CREATE INDEX invitations_by_inviter ON invitations (workspace_id, inviter_id, status);

CREATE TABLE password_resets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX password_resets_by_user ON password_resets (user_id, created_at);

CREATE TABLE ownership_transfers (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,                 -- otr_...
    from_user TEXT NOT NULL REFERENCES users (id),
    to_user TEXT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled')),
    created_at INTEGER NOT NULL,
    decided_at INTEGER,
    PRIMARY KEY (workspace_id, id)
) STRICT;

CREATE UNIQUE INDEX ownership_one_pending ON ownership_transfers (workspace_id) WHERE status = 'pending';
