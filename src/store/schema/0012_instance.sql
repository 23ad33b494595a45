-- 0014_instance: facts about this installation that must travel with its data. The one fact so far is
-- 'key_fingerprint': a keyed digest of a fixed text under the server key (DATA_DIR/keys/hash.key or
-- ATRIUM_SECRET_KEY), so a process started with another key, or with none, refuses instead of
-- silently failing every session, API key and audit hash (src/cli/setup.c). It reveals nothing of
-- the key.
CREATE TABLE instance_facts (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
