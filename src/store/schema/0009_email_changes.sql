-- Email changes proven before they take effect (issue 12, item 14). A change starts pending, with a
-- confirmation link mailed to the new address (its token stored only as a keyed hash); following it
-- switches the sign-in address and mails the old address a notice with an undo link valid for 7 days.
-- Not tenant-owned (a user's own sign-in address), like password_resets.
CREATE TABLE email_changes (
    id TEXT PRIMARY KEY,                     -- ech_...
    user_id TEXT NOT NULL REFERENCES users (id),
    old_email TEXT NOT NULL,
    new_email TEXT NOT NULL,
    session_id TEXT,                         -- the session that asked; it stays signed in on confirm
    confirm_hash TEXT NOT NULL UNIQUE,
    confirm_expires_at INTEGER NOT NULL,
    undo_hash TEXT UNIQUE,
    undo_expires_at INTEGER,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled', 'undone')),
    created_at INTEGER NOT NULL,
    decided_at INTEGER
) STRICT;

CREATE INDEX email_changes_by_user ON email_changes (user_id, created_at);
