-- 0005_mail: the transactional mail outbox (src/mail/mail.c). A row is written in the same transaction
-- as the change that causes the mail, with its "mail.send" job; the job delivers it after commit.
-- raw is the complete RFC 5322 message (CRLF line endings), composed once so every retry sends the same
-- bytes; text_body and html_body are the rendered parts, for `atrium mail show` and tests.
-- workspace_id is NULL for mail outside a workspace (password reset). It has no foreign key: the
-- outbox outlives deleted workspaces. The outbox is an operator view, read newest first.
-- Times are microseconds since the Unix epoch.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    workspace_id TEXT,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    template TEXT NOT NULL,
    raw TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'dead')),
    transport TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    dedupe_key TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
) STRICT;

CREATE INDEX mail_outbox_created_at ON mail_outbox (created_at);
