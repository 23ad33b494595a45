// Shared helpers of the billing API tests (tests/api/billing-*.test.mjs). Not a test file itself.
//
// The billing world: a server whose program clock is frozen at a chosen instant (so a sign-up's trial
// starts at an exact time), root workspaces made by sign-up (each starts a 14-day `pro` trial with 10
// seats under manual collection), members added with SQL, and each workspace's developer test clock
// (POST .../billing/test-clock) moved to exact instants. Money helpers redo money.h's rule by hand:
// every amount is an exact rational rounded once, half away from zero.
//
//   const srv = await startBillingServer();
//   const a = await newRoot(srv, { developer: true });             // { owner, wsId, email }
//   await startClock(a.owner, a.wsId, T0);                          // the workspace's test clock
//   await moveClock(a.owner, a.wsId, '2031-01-15T00:00:00Z');       // runs every billing event due
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer } from '../lib/server.mjs';
import { signIn, signUp, missingId, EXTRA_PASSWORD } from './lib-world.mjs';

export { EXTRA_PASSWORD };

/** The instant every billing server's program clock is frozen at (a sign-up's trial starts here). */
export const T0 = '2031-01-01T00:00:00Z';
/** The trial of a sign-up at T0 ends 14 days later; the first monthly period is Jan 15 → Feb 15 (31 days). */
export const TRIAL_END = '2031-01-15T00:00:00Z';

export const DAY = 86400;
export const PROBLEM = (slug) => `urn:atrium:problem:${slug}`;
export const W = (id) => `/api/v1/workspaces/${id}`;
export const B = (id) => `/api/v1/workspaces/${id}/billing`;
export const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
export const uniq = (p) => `${p}-${randomBytes(4).toString('hex')}`;

/** Environment every billing server gets: no background jobs (tests run them), limits that a frozen
 * clock would never refill lifted, sessions that outlive the clock moves. */
export const BILLING_ENV = {
  ATRIUM_SIGNUP: 'true',
  ATRIUM_JOB_WORKERS: '0',
  ATRIUM_LOGIN_IP_PER_MINUTE: '100000',
  ATRIUM_WORKSPACE_RATE_PER_MINUTE: '10000000',
  ATRIUM_KEY_RATE_PER_MINUTE: '10000000',
  ATRIUM_KEY_BURST: '10000000',
  ATRIUM_SESSION_IDLE: '31536000',
  ATRIUM_SESSION_ABSOLUTE: '31536000',
};

/**
 * Starts a server for billing tests with the program clock set (and by default frozen) at `at`.
 * Options: env (extra), at (RFC 3339), freeze (false: the clock runs on from `at`; null at: real time).
 */
export async function startBillingServer({ env = {}, at = T0, freeze = true } = {}) {
  const srv = await startServer({ env: { ...BILLING_ENV, ...env } });
  try {
    if (at) await setProgramClock(srv, at, freeze);
  } catch (e) {
    await srv.stop();
    throw e;
  }
  return srv;
}

/** Moves the program clock to `at` (frozen there unless freeze is false). */
export async function setProgramClock(srv, at, freeze = true) {
  // Sent twice: on a running clock an older test route froze a few microseconds after `set`; a second
  // {set} on the frozen clock puts it exactly at `at` either way (and the GET below checks it).
  for (let i = 0; i < (freeze ? 2 : 1); i++) {
    const r = await srv.post('/api/v1/test/clock', { set: at, freeze });
    assert.equal(r.status, 200, r.text);
  }
  if (freeze) {
    const g = await srv.req('/api/v1/test/clock');
    assert.equal(g.body.now_us, Date.parse(at) * 1000, `the program clock is frozen at ${at}: ${g.text}`);
  }
}

/** `atrium user grant-developer EMAIL`. */
export async function grantDeveloper(srv, email) {
  const r = await srv.cli(['user', 'grant-developer', email]);
  assert.equal(r.code, 0, `grant-developer ${email}: ${r.stderr}`);
}

/**
 * A new root workspace by sign-up (its owner's password is EXTRA_PASSWORD). Options: name (the
 * owner's; the workspace is "<name>'s workspace"), developer (grant the owner developer access).
 * Returns { owner, wsId, email, name }.
 */
export async function newRoot(srv, { name = 'Olga Owner', developer = false, email = `${uniq('owner')}@bill.test` } = {}) {
  const owner = await signUp(srv, 'owner', email, name);
  const sw = await owner.get('/api/v1/workspaces');
  assert.equal(sw.status, 200, sw.text);
  const wsId = sw.body.items[0].id;
  if (developer) await grantDeveloper(srv, email);
  return { owner, wsId, email, name };
}

/**
 * Adds a user with a membership of `role` in wsId (SQL: no invitation round trip) and signs them in.
 * The password hash is copied from `hashFrom` (a user whose password is EXTRA_PASSWORD).
 */
export async function addMember(srv, wsId, role, hashFrom, { developer = false, name = `A ${role}` } = {}) {
  const email = `${uniq(role)}@bill.test`;
  const userId = missingId('usr');
  await srv.sql(
    `INSERT INTO users (id, email, name, password_hash, developer, created_at, updated_at) ` +
      `SELECT ${q(userId)}, ${q(email)}, ${q(name)}, password_hash, ${developer ? 1 : 0}, 1, 1 FROM users WHERE email = ${q(hashFrom)}`,
  );
  await srv.sql(
    `INSERT INTO memberships (workspace_id, user_id, id, role, joined_at, status) ` +
      `VALUES (${q(wsId)}, ${q(userId)}, ${q(missingId('mem'))}, ${q(role)}, 1000000, 'active')`,
  );
  const pr = await signIn(srv, role, email, EXTRA_PASSWORD);
  pr.userId = userId;
  return pr;
}

/** Runs the due jobs (mail, billing.collect ...); returns how many ran. */
export async function runJobs(srv) {
  const r = await srv.post('/api/v1/test/jobs/run', {});
  assert.equal(r.status, 200, r.text);
  return r.body.ran;
}

/** Creates the workspace's developer test clock at `at` (201 asserted). */
export async function startClock(pr, wsId, at = T0) {
  const r = await pr.post(`${B(wsId)}/test-clock`, { frozen_time: at });
  assert.equal(r.status, 201, `create test clock: ${r.status} ${r.text}`);
  return r.body;
}

/** Advances the workspace's test clock to `at` (200 asserted); returns the clock document. */
export async function moveClock(pr, wsId, at) {
  const r = await pr.post(`${B(wsId)}/test-clock/advance`, { frozen_time: at });
  assert.equal(r.status, 200, `advance test clock to ${at}: ${r.status} ${r.text}`);
  return r.body;
}

/** The overview (200 asserted). */
export async function overview(pr, wsId) {
  const r = await pr.get(B(wsId));
  assert.equal(r.status, 200, `overview: ${r.status} ${r.text}`);
  return r.body;
}

/** Every invoice of the workspace, oldest first (follows the list's cursor). */
export async function invoices(pr, wsId) {
  const out = [];
  let cursor = null;
  for (;;) {
    const r = await pr.get(`${B(wsId)}/invoices?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    out.push(...r.body.items);
    if (!r.body.next_cursor) break;
    cursor = r.body.next_cursor;
  }
  return out.reverse();
}

/** One full invoice document (200 asserted). */
export async function invoice(pr, wsId, id) {
  const r = await pr.get(`${B(wsId)}/invoices/${id}`);
  assert.equal(r.status, 200, `invoice ${id}: ${r.status} ${r.text}`);
  return r.body;
}

/**
 * A root whose owner is a developer, with a test clock at T0, moved past the trial's end: an active
 * monthly `pro` subscription with 10 seats for Jan 15 → Feb 15 2031 and its first invoice. Options:
 * country (PATCH the customer's country first, so every invoice carries its tax), name, paid (mark
 * the first invoice paid, the default, so moving the clock past its due date starts no dunning).
 */
export async function activeRoot(srv, { country = null, name = 'Olga Owner', paid = true } = {}) {
  const a = await newRoot(srv, { developer: true, name });
  await startClock(a.owner, a.wsId, T0);
  if (country) {
    const r = await a.owner.patch(`${B(a.wsId)}/customer`, { country }, { ifMatch: '*' });
    assert.equal(r.status, 200, r.text);
  }
  const c = await moveClock(a.owner, a.wsId, TRIAL_END);
  assert.equal(c.subscription.status, 'active', JSON.stringify(c));
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 1, JSON.stringify(list));
  if (paid) {
    const r = await a.owner.post(`${B(a.wsId)}/invoices/${list[0].id}/mark-paid`, {});
    assert.equal(r.status, 200, r.text);
  }
  return { ...a, sub: c.subscription, first: list[0] };
}

// ---------------------------------------------------------------------------------------------------
// Time.

/** Milliseconds of an RFC 3339 time. */
export const ms = (iso) => Date.parse(iso);
/** An RFC 3339 string for ms since the epoch, formatted as the server does ("...:00Z", no fraction). */
export function iso(msSinceEpoch) {
  return new Date(msSinceEpoch).toISOString().replace(/\.000Z$/, 'Z');
}
/** iso(at) moved by s seconds. */
export const plus = (at, s) => iso(ms(at) + s * 1000);
/** Whole seconds between two RFC 3339 times. */
export const secondsBetween = (a, b) => (ms(b) - ms(a)) / 1000;

// ---------------------------------------------------------------------------------------------------
// Money, by hand (money.h): exact rationals, rounded once, half away from zero.

/** round_half_away(num / den) for integers (BigInt inside, so nothing is lost). */
export function roundHalfAway(num, den) {
  let n = BigInt(num);
  let d = BigInt(den);
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const neg = n < 0n;
  const a = neg ? -n : n;
  const qv = (2n * a + d) / (2n * d); // floor(a/d + 1/2)
  return Number(neg ? -qv : qv);
}
/** amount × remaining_s / period_s, rounded half away from zero. */
export const prorate = (amount, remaining, period) => roundHalfAway(BigInt(amount) * BigInt(remaining), period);
/** subtotal × rate_bp / 10000, rounded half away from zero. */
export const taxOf = (subtotal, rateBp) => roundHalfAway(BigInt(subtotal) * BigInt(rateBp), 10000);

/** "$1,234.56" / "-$5.00" (USD, as money_format writes it). */
export function usd(minor) {
  const neg = minor < 0;
  const a = Math.abs(minor);
  const whole = Math.floor(a / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}$${whole}.${String(a % 100).padStart(2, '0')}`;
}

/** The field names of a 400's errors[] ("events[0].metric"; a leading "/", "$" or "." dropped). */
export function errorFields(body) {
  return (body?.errors || []).map((e) => String(e.field).replace(/^[$/.]+/, ''));
}

/** The plan ids a 402 plan-required names. */
export const planIds = (body) => (body?.plans || []).map((p) => (typeof p === 'string' ? p : p.id));

/** Marks every open invoice of the workspace paid (developer access; 200 asserted); returns their ids. */
export async function payAll(pr, wsId) {
  const open = (await invoices(pr, wsId)).filter((i) => i.status === 'open');
  for (const i of open) {
    const r = await pr.post(`${B(wsId)}/invoices/${i.id}/mark-paid`, {});
    assert.equal(r.status, 200, `mark-paid ${i.number}: ${r.status} ${r.text}`);
  }
  return open.map((i) => i.id);
}

/** The parts of an invoice line a preview and an invoice must agree on. */
export const lineKey = (l) => ({
  kind: l.kind,
  description: l.description,
  quantity: l.quantity,
  unit_amount: l.unit_amount,
  amount: l.amount,
  period_start: l.period_start,
  period_end: l.period_end,
});

// ---------------------------------------------------------------------------------------------------
// The billing invariants (issue 11), checked after every billing scenario.

/** SQL listing every broken invariant of the store (one text row each; none when all hold). */
const LINES_SUM = `COALESCE((SELECT SUM(l.amount) FROM invoice_lines l WHERE l.workspace_id = i.workspace_id AND l.invoice_id = i.id), 0)`;
export const INVARIANT_SQL = [
  // A claimed waiting proration belongs to an invoice of its workspace that exists ...
  `SELECT 'pending item ' || p.id || ' claimed by a missing invoice ' || p.invoice_id FROM pending_invoice_items p ` +
    `WHERE p.invoice_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.workspace_id = p.workspace_id AND i.id = p.invoice_id)`,
  // ... and shows on it: as many proration lines with its description and amount as items claimed.
  `SELECT 'pending items claimed by ' || p.invoice_id || ' but not on it: ' || p.description FROM pending_invoice_items p ` +
    `WHERE p.invoice_id IS NOT NULL GROUP BY p.workspace_id, p.invoice_id, p.description, p.amount HAVING COUNT(*) > ` +
    `(SELECT COUNT(*) FROM invoice_lines l WHERE l.workspace_id = p.workspace_id AND l.invoice_id = p.invoice_id ` +
    `AND l.kind = 'proration' AND l.description = p.description AND l.amount = p.amount)`,
  // A subscription that ended leaves no proration unbilled (its final invoice takes them).
  `SELECT 'pending item ' || p.id || ' never billed' FROM pending_invoice_items p JOIN subscriptions s ` +
    `ON s.workspace_id = p.workspace_id AND s.id = p.subscription_id WHERE p.invoice_id IS NULL AND s.status IN ('canceled', 'incomplete_expired')`,
  // Every invoice: subtotal = Σ lines, total = subtotal + tax, 0 <= amount_due <= max(total, 0).
  `SELECT 'invoice ' || i.number || ': subtotal ' || i.subtotal || ' <> lines ' || ${LINES_SUM} FROM invoices i WHERE i.subtotal <> ${LINES_SUM}`,
  `SELECT 'invoice ' || i.number || ': total ' || i.total || ' <> subtotal + tax' FROM invoices i WHERE i.total <> i.subtotal + i.tax`,
  `SELECT 'invoice ' || i.number || ': amount_due ' || i.amount_due FROM invoices i WHERE i.amount_due < 0 OR i.amount_due > CASE WHEN i.total > 0 THEN i.total ELSE 0 END`,
].join(' UNION ALL ');

/** Asserts the billing invariants over the whole store of a server (every workspace). */
export async function assertBillingInvariants(srv) {
  const out = await srv.sql(INVARIANT_SQL);
  assert.equal(out, '', `billing invariants broken:\n${out}`);
}
