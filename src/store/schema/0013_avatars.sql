-- 0014_avatars: pictures users upload for their profile (issue 14, item 10). Only what Atrium itself
-- re-encoded is stored: a fixed-size PNG (src/base/image.h), as base64 text so both backends hold it
-- the same way. Each upload gets a new id, so its URL (/api/v1/avatars/{id}) never changes content and
-- can be cached for good; a user keeps one row (the previous is deleted in the same transaction).
-- Not tenant-owned (a user's own profile), like email_changes.
CREATE TABLE avatars (
    id TEXT PRIMARY KEY,                     -- av_...
    user_id TEXT NOT NULL REFERENCES users (id),
    png_base64 TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX avatars_by_user ON avatars (user_id);
