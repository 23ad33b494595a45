-- Billing (issue: plans, subscriptions, seats, usage, invoices, the billing portal and billing recovery).
-- Money is integer minor units of the invoice's currency; times are microseconds since the epoch (UTC).

-- A sub-account is billed to its root (the agency pays) or has its own subscription.
ALTER TABLE workspaces ADD COLUMN billing_mode TEXT NOT NULL DEFAULT 'parent'
    CHECK (billing_mode IN ('parent', 'own'));
-- Set when the dunning ladder pauses a sub-account billed to a failing subscription.
ALTER TABLE workspaces ADD COLUMN billing_paused_at INTEGER;

-- Who is billed: one row per billed workspace, the details printed on its invoices.
CREATE TABLE billing_customers (
    workspace_id TEXT NOT NULL PRIMARY KEY REFERENCES workspaces (id),
    name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    address_line1 TEXT NOT NULL DEFAULT '',
    address_line2 TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',         -- ISO 3166-1 alpha-2, picks the tax rate
    tax_id TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT 'manual',
    provider_customer_id TEXT NOT NULL DEFAULT '',
    payment_method TEXT NOT NULL DEFAULT '',   -- the provider's saved method (pm_...), '' none
    payment_method_label TEXT NOT NULL DEFAULT '',
    payment_method_seen_at INTEGER NOT NULL DEFAULT 0, -- created time of the event that set it (ordering)
    balance INTEGER NOT NULL DEFAULT 0,        -- negative: credit owed to the customer
    trial_used INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE subscriptions (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,                   -- sub_...
    plan_id TEXT NOT NULL,
    interval TEXT NOT NULL CHECK (interval IN ('month', 'year')),
    quantity INTEGER NOT NULL CHECK (quantity >= 1),
    status TEXT NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete',
                                           'incomplete_expired', 'paused')),
    collection TEXT NOT NULL CHECK (collection IN ('charge_automatically', 'send_invoice')),
    anchor_at INTEGER NOT NULL,                -- billing cycle anchor
    current_period_start INTEGER NOT NULL,
    current_period_end INTEGER NOT NULL,
    trial_end INTEGER,
    trial_notice_sent INTEGER NOT NULL DEFAULT 0,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    cancel_reason TEXT,
    canceled_at INTEGER,
    ended_at INTEGER,
    pending_plan_id TEXT,                      -- changes scheduled for the period end
    pending_interval TEXT,
    pending_quantity INTEGER,
    incomplete_expires_at INTEGER,
    dunning_invoice_id TEXT,                   -- the unpaid invoice the ladder is working on
    dunning_started_at INTEGER,
    dunning_step INTEGER NOT NULL DEFAULT 0,   -- next rung of the ladder to run
    next_event_at INTEGER,                     -- when billing_advance has work for it next
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
) STRICT;

-- One live subscription per billed workspace.
CREATE UNIQUE INDEX subscriptions_one_live ON subscriptions (workspace_id)
    WHERE status NOT IN ('canceled', 'incomplete_expired');

CREATE TABLE invoices (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,                   -- in_...
    number TEXT UNIQUE,                        -- PREFIX-000001, given when finalized; never reused
    subscription_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    payment_status TEXT NOT NULL CHECK (payment_status IN ('none', 'pending', 'succeeded', 'failed')),
    reason TEXT NOT NULL,
    currency TEXT NOT NULL,
    issuer TEXT NOT NULL,                      -- JSON snapshot
    customer TEXT NOT NULL,                    -- JSON snapshot
    subtotal INTEGER NOT NULL,
    tax_name TEXT NOT NULL,
    tax_country TEXT NOT NULL,
    tax_rate_bp INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    total INTEGER NOT NULL,
    applied_balance INTEGER NOT NULL DEFAULT 0, -- credit used (<= 0)
    amount_due INTEGER NOT NULL,
    amount_paid INTEGER NOT NULL DEFAULT 0,
    period_start INTEGER,
    period_end INTEGER,
    due_at INTEGER,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    next_payment_attempt INTEGER,
    created_at INTEGER NOT NULL,
    finalized_at INTEGER,
    paid_at INTEGER,
    voided_at INTEGER,
    marked_uncollectible_at INTEGER,
    PRIMARY KEY (workspace_id, id)
) STRICT;

CREATE INDEX invoices_by_created ON invoices (workspace_id, created_at);

CREATE TABLE invoice_lines (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    invoice_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('base', 'seats', 'proration', 'usage')),
    description TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_amount INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    period_start INTEGER,
    period_end INTEGER,
    PRIMARY KEY (workspace_id, invoice_id, seq)
) STRICT;

-- Gapless invoice numbers: one counter per issuer, advanced in the transaction that finalizes.
CREATE TABLE invoice_counters (
    issuer TEXT NOT NULL PRIMARY KEY,
    last_number INTEGER NOT NULL
) STRICT;

-- Prorations waiting for the next invoice ("prorate now, bill at renewal").
CREATE TABLE pending_invoice_items (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_amount INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    period_start INTEGER,
    period_end INTEGER,
    invoice_id TEXT,
    created_at INTEGER NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,            -- order within one change (credit, then debit)
    PRIMARY KEY (workspace_id, id)
) STRICT;

-- Usage events, idempotent by the reporter's event id.
CREATE TABLE usage_events (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    event_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    reported_by TEXT NOT NULL,
    PRIMARY KEY (workspace_id, event_id)
) STRICT;

CREATE INDEX usage_by_metric ON usage_events (workspace_id, metric, occurred_at);

-- Payment attempts: facts from the provider (our own calls and webhooks), one row per payment.
CREATE TABLE payment_attempts (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,
    invoice_id TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'succeeded', 'failed')),
    decline_code TEXT NOT NULL DEFAULT '',
    amount INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
) STRICT;

CREATE UNIQUE INDEX payment_attempts_by_ref ON payment_attempts (workspace_id, provider_ref);

-- Provider webhook events already applied (deduplicated by id, in the transaction of their effect).
CREATE TABLE provider_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    workspace_id TEXT,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, event_id)
) STRICT;

-- Dunning episodes: one per run of the ladder, for the recovery rate.
CREATE TABLE dunning_episodes (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('open', 'recovered', 'lost')),
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
) STRICT;

-- Developer test clocks: billing time of one billed workspace, moved by hand (Stripe test clocks).
CREATE TABLE billing_clocks (
    workspace_id TEXT NOT NULL PRIMARY KEY REFERENCES workspaces (id),
    frozen_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
