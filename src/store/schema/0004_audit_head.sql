-- The head of each workspace's audit chain, kept on the workspace row that audit_append already
-- locks: `atrium audit verify` compares the chain's last event with it, so deleting the newest events
-- is detected too, not only editing or reordering them.
ALTER TABLE workspaces ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN audit_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';

UPDATE workspaces SET
    audit_seq = COALESCE((SELECT MAX(e.seq) FROM audit_events e WHERE e.workspace_id = workspaces.id), 0),
    audit_hash = COALESCE((SELECT e.hash FROM audit_events e WHERE e.workspace_id = workspaces.id
                           ORDER BY e.seq DESC LIMIT 1),
                          '0000000000000000000000000000000000000000000000000000000000000000');
