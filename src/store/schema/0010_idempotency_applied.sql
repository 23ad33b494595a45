-- Idempotency records learn whether their request's effect committed (issue 12 item 15): applied_at is
-- set inside the effect's own transaction, so a record with it set is never run again, even when the
-- process died before the response was stored.
ALTER TABLE idempotency_keys ADD COLUMN applied_at INTEGER;
