-- Billing is exact again (issue 11). Times are microseconds since the epoch (UTC).

-- Every change made to a subscription: when it takes effect (the proration instant), when it was made,
-- and the plan before and after. The immediate plan changes inside a period split its usage into
-- segments, each priced by the plan in force; the newest made_at is the earliest proration_date a
-- later change may use.
CREATE TABLE subscription_changes (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL,
    effective_at INTEGER NOT NULL,
    made_at INTEGER NOT NULL,
    from_plan TEXT NOT NULL,
    to_plan TEXT NOT NULL,
    immediate INTEGER NOT NULL,                -- 0: scheduled for the period end
    PRIMARY KEY (workspace_id, id)
) STRICT;

CREATE INDEX subscription_changes_by_sub ON subscription_changes (workspace_id, subscription_id, effective_at);

-- The proration dates previews issued: a change may only be priced at one of these (issued to the same
-- subscription within the last 15 minutes of billing time).
CREATE TABLE billing_previews (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    subscription_id TEXT NOT NULL,
    proration_date INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, subscription_id, proration_date)
) STRICT;
