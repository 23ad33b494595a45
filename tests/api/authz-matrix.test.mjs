// T1 (reliability.md §2.4, §8.2): the authorization matrix. Every route that `atrium routes` lists ×
// every principal × every tenant relation, with the expected answer derived from the Settings policy
// (DESIGN.md §1), which this file restates as data (and checks against docs/security/authz.md):
//   anonymous or ended session → 401; a workspace the caller cannot reach (foreign, sibling, parent,
//   a root member in a sub-account, non-existent) → 404 with the body of a missing id; reachable but
//   locked (suspended / pending deletion, not agency) → 403 workspace-suspended; the role would do but
//   the plan of the subscription that pays for the workspace lacks the section's feature → 402
//   plan-required naming the feature and the plans that have it (Acme Fitness, billed on its own with
//   its subscription ended, has no feature at all); reachable without the role, developer access or
//   outside the section's scope → 403; otherwise the route's own answer (2xx, or 400/409/412/428 for the
//   deliberately invalid or status-bound requests). A deactivated membership → 403
//   membership-deactivated in that workspace, and no agency from it in the sub-accounts below.
// Billing routes are called past the guard with refusals only (a live subscription started again, no
// change, a paid or hand-collected invoice, a stale If-Match…) and with invoice and subscription ids of
// every relation; the developer principal (dev@, a member of A with developer access) reaches Billing
// Recovery and the test clock, whose one real move (deleting A's clock) is put back after.
// Routes that take an object id (member, invitation, link token) are called, past the guard, with ids of
// every relation (own, foreign tenant, parent/child workspace, missing, a user id in a member id's place)
// and with bodies the domain must refuse (role rules, last owner, invalid input), so the world stays the
// same for every cell; the few real moves (leave, cancelling the pending transfer) are undone after.
// A route without a row here fails the inventory test, so adding a route means adding its row.
// Issue 12: agency access carries the root role, so owner@ is an owner in A's sub-accounts (billing
// writes where one pays for itself, item 8); A1's admin may not end the sessions of a member who is also
// an admin of A (sessions belong to the person, item 2); a sub-account billed by A shows its own seats and
// usage and A's name, never A's subscription, seat pool or amounts (checkOverview, item 7).
// API keys are principals too (`Authorization: Bearer`, cookies ignored): a service key of A with every
// scope, a personal key of A's admin with team:read only, a service key of B with every scope, and
// dead keys of A (revoked, expired, rotated out). On routes with auth "user" a key reaches its own
// workspace only (404 elsewhere, sub-accounts included), as its role (admin for a service key, the
// owner's current role otherwise) intersected with its scopes: the plan first (402), the policy next
// (403 forbidden), then the scopes (403 insufficient-scope); a dead key is 401 invalid-api-key with
// WWW-Authenticate; every session-only route answers 401 session-required.
// Denied requests run first, as one pass, with a fingerprint of every business table taken before and
// after each route's batch: a denial that still wrote something fails. Allowed requests that must not
// write (rows marked `pure`) run next, fingerprinted the same way; the rest run last.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { repoPath } from '../lib/server.mjs';
import { startWorld, checksum, principal, signIn, addMembership, insertUser, mailedToken, missingId, keyPrincipal, createKey, allScopes, ensureSeats, KEY_SECRET, DEMO_PASSWORDS, EXTRA_PASSWORD } from './lib-world.mjs';

// ---------------------------------------------------------------------------------------------------
// The policy, as data (src/policy/policy.c restated; the docs test below keeps the two in step).

const ROLE = { none: 0, member: 1, admin: 2, owner: 3 };
const NOBODY = 4;
// [id, title, title in a sub-account, read role, write role, plan feature, flags]; flags: built (the
// routes exist), root (root workspaces only), dev (developer access only), nonav (API only: enforced,
// never listed by GET …/sections).
const SECTIONS = [
  ['workspace', 'Workspace Settings', 'Sub Account', ROLE.admin, ROLE.admin, null, 'built'],
  ['profile', 'Profile', null, ROLE.member, ROLE.member, null, 'built'],
  ['notifications', 'Notifications', null, ROLE.member, ROLE.member, null, 'built'],
  ['team', 'Team', null, ROLE.member, ROLE.admin, null, 'built'],
  ['billing', 'Billing', null, ROLE.admin, ROLE.owner, null, 'built'],
  ['subaccounts', 'Sub-Accounts', null, ROLE.admin, ROLE.admin, 'sub_accounts', 'built root'],
  ['integrations', 'Integrations', null, ROLE.admin, ROLE.admin, null, ''],
  ['plugins', 'Plugins', null, ROLE.admin, ROLE.admin, null, ''],
  ['import', 'Import', null, ROLE.admin, ROLE.admin, null, ''],
  ['api_keys', 'API Keys', null, ROLE.admin, ROLE.admin, 'api_access', 'built'],
  ['business_profile', 'Business Profile', null, ROLE.admin, ROLE.admin, null, ''],
  ['voice', 'Voice', null, ROLE.admin, ROLE.admin, 'voice', ''],
  ['activity', 'Activity', null, ROLE.admin, NOBODY, null, 'built'],
  ['snapshots', 'Snapshots', null, ROLE.member, ROLE.member, null, 'dev'],
  ['dev_admin', 'DEV_ADMIN', null, ROLE.member, ROLE.member, null, 'dev'],
  ['labs', 'Labs', null, ROLE.member, ROLE.member, null, 'dev'],
  ['billing_recovery', 'Billing Recovery', null, ROLE.member, ROLE.member, null, 'built dev'],
  ['usage', 'Usage reporting', null, ROLE.admin, ROLE.admin, null, 'built nonav'],
].map(([id, title, subTitle, read, write, feature, flags]) => ({
  id,
  title,
  subTitle,
  read,
  write,
  feature,
  built: flags.includes('built'),
  rootOnly: flags.includes('root'),
  devOnly: flags.includes('dev'),
  noNav: flags.includes('nonav'),
}));

// Plan features come from the subscription that pays for a workspace (etc/billing.json, the catalog):
// Acme Agency is on `agency` (the demo's billing), Bravo on `pro` (a sign-up's plan), their sub-accounts
// billed to them inherit those; Acme Fitness (A2) is billed on its own and its subscription has ended,
// so it runs on the free fallback without any feature (a workspace whose plan lacks a section's feature:
// 402 plan-required where the role would allow it).
const CATALOG = JSON.parse(fs.readFileSync(repoPath('etc/billing.json'), 'utf8'));
const planFeatures = (id) => CATALOG.plans.find((x) => x.id === id).features;
const PLAN_OF = { A: 'agency', A1: 'agency', A3: 'agency', A4: 'agency', A2: CATALOG.fallback_plan, B: 'pro', B1: 'pro', NX: CATALOG.fallback_plan };
const featuresOf = (W) => planFeatures(PLAN_OF[W]);

/** 0 none, 1 read, 2 write: what a subject {role, kind, developer, features} may do in a section. */
function accessOf(section, who) {
  const s = SECTIONS.find((x) => x.id === section);
  if (!s || who.role === ROLE.none) return 0;
  if (s.rootOnly && who.kind !== 'root') return 0;
  if (s.devOnly && !who.developer) return 0;
  if (s.feature && !who.features.includes(s.feature)) return 0;
  if (who.role >= s.write) return 2;
  if (who.role >= s.read) return 1;
  return 0;
}

/** The plan feature that alone keeps the subject from `need` (1 read, 2 write) in a section: every
 * other condition holds (src/policy/policy.c policy_missing_feature). The guard answers 402. */
function missingFeature(section, need, who) {
  const s = SECTIONS.find((x) => x.id === section);
  if (!s?.feature || who.features.includes(s.feature)) return null;
  return accessOf(section, { ...who, features: [...who.features, s.feature] }) >= need ? s.feature : null;
}

/** The plans a 402 names for a feature: the offered plans that have it, cheapest first (the monthly
 * charge at their minimum seats; catalog order among equal prices). */
function plansWith(feature) {
  const price = (p) => p.prices.month.base + Math.max(0, p.min_seats - p.included_seats) * p.prices.month.per_seat;
  return CATALOG.plans
    .filter((p) => p.offered && p.features.includes(feature))
    .map((p, i) => ({ p, i }))
    .sort((a, b) => price(a.p) - price(b.p) || a.i - b.i)
    .map(({ p }) => ({ id: p.id, name: p.name }));
}

// ---------------------------------------------------------------------------------------------------
// The world: lib-world's, plus A3 (suspended) and A4 (pending deletion), where a1member is a member,
// an ended session of member@ (signedOut), and for the team routes: inactive@ (a deactivated admin of
// A, an active member of A2), heir@ (a member of A to whom owner@ has proposed the ownership; not a
// caller), invitee@ (an account without a workspace, invited to A), one pending and one revoked
// invitation in each of A, A1–A4, B, B1.

const REASON_A3 = 'Unpaid invoice INV-7';
const REASON_A4 = 'This workspace is scheduled for deletion.';
// Memberships of each principal (by world key), and developer flags: the model the matrix derives from.
const MEMBERS = {
  anonymous: {},
  signedOut: {},
  member: { A: 'member' },
  admin: { A: 'admin' },
  owner: { A: 'owner' },
  dev: { A: 'member' },
  subadmin: { A1: 'admin' },
  agency: { A: 'admin', A1: 'member' },
  a1member: { A1: 'member', A3: 'admin', A4: 'member' },
  inactive: { A: 'admin', A2: 'member' },
  ownerB: { B: 'owner' },
  outsider: {},
};
const DEACTIVATED = { inactive: ['A'] }; // memberships with status 'deactivated'
const isActive = (pk, W) => !(DEACTIVATED[pk] ?? []).includes(W);
const DEVELOPER = new Set(['dev']);
// The API key principals: the workspace they belong to, their owner (a principal key; none for a
// service key), their scopes (ALL: every scope of GET /api/v1/scopes) and whether they still work.
const ALL = 'all';
const KEYP = {
  keySvcA: { ws: 'A', owner: null, scopes: ALL, live: true },
  keyAdminA: { ws: 'A', owner: 'admin', scopes: ['team:read'], live: true },
  keyB: { ws: 'B', owner: null, scopes: ALL, live: true },
  keyRevoked: { ws: 'A', owner: null, scopes: ALL, live: false },
  keyExpired: { ws: 'A', owner: null, scopes: ALL, live: false },
  keyRotated: { ws: 'A', owner: null, scopes: ALL, live: false },
};
const isKey = (pk) => Object.hasOwn(KEYP, pk);
let ALL_SCOPES = [];
const scopesOf = (pk) => (KEYP[pk].scopes === ALL ? ALL_SCOPES : KEYP[pk].scopes);
/** 0 none, 1 read, 2 write: what a key's scopes allow in a section (write covers read). */
const scopeAccess = (scopes, section) => (scopes.includes(`${section}:write`) ? 2 : scopes.includes(`${section}:read`) ? 1 : 0);
const PRINCIPALS = [...Object.keys(MEMBERS), ...Object.keys(KEYP)];
const TARGETS = ['A', 'A1', 'A2', 'A3', 'A4', 'B', 'B1', 'NX'];
const PARENT = { A: null, A1: 'A', A2: 'A', A3: 'A', A4: 'A', B: null, B1: 'B', NX: null };
const KIND = (W) => (PARENT[W] ? 'sub_account' : 'root');

let w; // the world
let ws; // key → id
let P; // key → principal
const status = { A1: 'active', A2: 'active', A3: 'suspended', A4: 'pending_deletion', B1: 'active' };
const NAMES = {};
let inventory = [];
const results = []; // every matrix request: {row, method, pk, W, S, O, expected, status, text, headers}
let NOT_FOUND_TEXT = null;
// The team world, read back after the set-up: MEM[W][key] = {id, role, status, userId, email} (key: a
// principal, or heir); INV[W] = {pending, revoked, pendingEmail}; TOK = mailed link tokens of A's
// invitations; MEMBER_IDS[W] and PENDING_IDS[W] = sorted ids a list of W must show.
const MEM = {};
const INV = {};
const TOK = {};
const MEMBER_IDS = {};
const ACTIVE_COUNT = {};
const PENDING_IDS = {};
let HEIR = null;
// API keys as objects of the api-keys rows: KEYIDS[W] = {live, revoked} (service keys made by the root's
// owner, team:read); KEYS_OF[W] = sorted ids of every key of W (what its list must show).
const KEYIDS = {};
const KEYS_OF = {};
const KEY_POLICY = { max_days: 365, default_days: 90, allow_never: false };
// Billing objects: INVOICE.A (Acme's paid invoice), INVOICE.B (Bravo's open one); SUB[W] the
// subscription of A and B (live) and A2 (ended); INVOICES_OF[W] = sorted ids of W's invoices.
const INVOICE = {};
const SUB = {};
const INVOICES_OF = {};
/** The workspace whose subscription pays for W: a root, A2 (billed on its own), else the parent. */
const billedBy = (W) => (PARENT[W] && W !== 'A2' ? PARENT[W] : W);
const randomToken = () => randomBytes(32).toString('base64url');

before(async () => {
  // No job workers: mail and reminder jobs stay put until a test runs them, so fingerprints are stable.
  // Key rate limits out of the way (apikeys-ratelimit.test.mjs tests them).
  // A webhook signing secret, so the provider's webhook verifies (and refuses unsigned calls).
  w = await startWorld({
    env: { ATRIUM_JOB_WORKERS: '0', ATRIUM_KEY_RATE_PER_MINUTE: '10000000', ATRIUM_KEY_BURST: '10000000', ATRIUM_WORKSPACE_RATE_PER_MINUTE: '10000000', ATRIUM_STRIPE_WEBHOOK_SECRETS: 'whsec_matrix' },
  });
  ws = { ...w.ws };
  P = { ...w.p, anonymous: w.p.anon };
  const { owner } = P;
  // Billing: Acme Agency (the demo's: `agency`, 12 seats, a paid invoice, a developer test clock) pays
  // for the seats this world fills (its sub-accounts' members and invitations count there too). Bravo
  // ends its sign-up trial and subscribes again: no second trial, so it is active at once with an open
  // invoice (manual collection).
  await ensureSeats(owner, ws.A, 40);
  const bBilling = `/api/v1/workspaces/${ws.B}/billing`;
  const ended = await P.ownerB.post(`${bBilling}/subscription/cancel`, { at_period_end: false });
  assert.equal(ended.status, 200, ended.text);
  const again = await P.ownerB.post(`${bBilling}/subscription`, { plan_id: 'pro', quantity: 10 });
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.subscription.status, 'active', again.text);
  const a3 = await owner.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Acme Paused', slug: 'acme-paused' });
  const a4 = await owner.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Acme Closing', slug: 'acme-closing' });
  assert.equal(a3.status, 201, a3.text);
  assert.equal(a4.status, 201, a4.text);
  ws.A3 = a3.body.id;
  ws.A4 = a4.body.id;
  const users = Object.fromEntries((await w.srv.sql(`SELECT email || '=' || id FROM users`)).split('\n').map((l) => l.split('=')));
  await addMembership(w.srv, ws.A3, users['a1member@acme.test'], 'admin');
  await addMembership(w.srv, ws.A4, users['a1member@acme.test'], 'member');
  const inactiveId = await insertUser(w.srv, 'inactive@acme.test', 'Ivo Inactive');
  await addMembership(w.srv, ws.A, inactiveId, 'admin', { status: 'deactivated' });
  await addMembership(w.srv, ws.A2, inactiveId, 'member');
  const heirId = await insertUser(w.srv, 'heir@acme.test', 'Hal Heir');
  const heirMem = await addMembership(w.srv, ws.A, heirId, 'member');
  await insertUser(w.srv, 'invitee@acme.test', 'Ina Invitee');
  P.inactive = await signIn(w.srv, 'inactive', 'inactive@acme.test', DEMO_PASSWORDS.owner);
  // One pending and one revoked invitation in every workspace the team rows reach past the guard.
  for (const W of ['A', 'A1', 'A2', 'A3', 'A4', 'B', 'B1']) {
    const by = W.startsWith('B') ? P.ownerB : owner;
    const pendingEmail = W === 'A' ? 'invitee@acme.test' : `pending-${W.toLowerCase()}@invitees.test`;
    const made = await by.post(`/api/v1/workspaces/${ws[W]}/invitations`, { emails: [pendingEmail, `revoked-${W.toLowerCase()}@invitees.test`], role: 'member' });
    assert.equal(made.status, 200, made.text);
    assert.deepEqual(made.body.results.map((x) => x.status), ['invited', 'invited'], made.text);
    const [pending, revoked] = made.body.results.map((x) => x.invitation.id);
    // Revoked with SQL: DELETE …/invitations/:id reads the status after freeing it (inv_revoke_tx), so
    // it answers 409 for a pending invitation in this build (and crashes under ASan).
    await w.srv.sql(`UPDATE invitations SET status = 'revoked', revoked_at = 1, revoked_reason = 'cancelled' WHERE id = '${revoked}'`);
    INV[W] = { pending, revoked, pendingEmail };
  }
  TOK.live = await mailedToken(w.srv, 'invitee@acme.test');
  TOK.revoked = await mailedToken(w.srv, 'revoked-a@invitees.test');
  // owner@ proposes the ownership of A to heir@ (pending for the whole run).
  const tr = await owner.post(`/api/v1/workspaces/${ws.A}/ownership-transfer`, { member_id: heirMem });
  assert.equal(tr.status, 201, tr.text);
  HEIR = { userId: heirId, memberId: heirMem };
  // API keys: one live and one revoked key in every workspace (before A3 and A4 lock), and the key
  // principals.
  ALL_SCOPES = await allScopes(w.srv);
  for (const W of ['A', 'A1', 'A2', 'A3', 'A4', 'B', 'B1']) {
    const by = W.startsWith('B') ? P.ownerB : owner;
    const live = await createKey(by, ws[W], { name: `Live ${W}` });
    const revoked = await createKey(by, ws[W], { name: `Revoked ${W}` });
    const del = await by.del(`/api/v1/workspaces/${ws[W]}/api-keys/${revoked.id}`);
    assert.equal(del.status, 204, del.text);
    KEYIDS[W] = { live: live.id, revoked: revoked.id };
  }
  for (const [pk, k] of Object.entries(KEYP)) {
    const by = k.owner ? P[k.owner] : k.ws === 'B' ? P.ownerB : owner;
    const made = await createKey(by, ws[k.ws], { name: `Matrix ${pk}`, scopes: scopesOf(pk), owner: k.owner ? 'me' : 'workspace' });
    if (pk === 'keyRevoked') assert.equal((await owner.del(`/api/v1/workspaces/${ws.A}/api-keys/${made.id}`)).status, 204);
    if (pk === 'keyExpired') await w.srv.sql(`UPDATE api_keys SET expires_at = created_at WHERE id = '${made.id}'`);
    if (pk === 'keyRotated') assert.equal((await owner.post(`/api/v1/workspaces/${ws.A}/api-keys/${made.id}/rotate`, { overlap_hours: 0 })).status, 201);
    P[pk] = keyPrincipal(w.srv, pk, made.secret, { id: made.id });
    // A rotated-out secret's first use from an address is reported in the key's activity (issue 12
    // item 12): made here, so the refusals below write nothing.
    if (pk === 'keyRotated') assert.equal((await P[pk].get(`/api/v1/workspaces/${ws.A}/members`)).status, 401);
  }
  const s3 = await owner.post(`/api/v1/workspaces/${ws.A}/subaccounts/${ws.A3}/suspend`, { reason: REASON_A3 });
  const s4 = await owner.post(`/api/v1/workspaces/${ws.A}/subaccounts/${ws.A4}/schedule-deletion`);
  assert.equal(s3.status, 200, s3.text);
  assert.equal(s4.status, 200, s4.text);
  // Acme Fitness (A2) is billed on its own (the demo's Starter trial). Its subscription ends now, as a
  // cancellation leaves it (with SQL: A2 has no owner, the only role that may cancel): the free
  // fallback, without plan features, so its admins meet 402 plan-required in API Keys.
  const endedAt = Date.now() * 1000;
  await w.srv.sql(
    `UPDATE subscriptions SET status = 'canceled', canceled_at = ${endedAt}, ended_at = ${endedAt}, next_event_at = NULL ` +
      `WHERE workspace_id = '${ws.A2}' AND status NOT IN ('canceled', 'incomplete_expired')`,
  );
  const fallback = CATALOG.plans.find((x) => x.id === CATALOG.fallback_plan);
  await w.srv.sql(`UPDATE workspaces SET entitlements = '${JSON.stringify(fallback.features)}', seat_limit = ${fallback.max_seats} WHERE id = '${ws.A2}'`);
  // The billing world as the rows below expect it.
  for (const [W, plan] of [['A', 'agency'], ['B', 'pro'], ['A2', null]]) {
    const b = await (W === 'B' ? P.ownerB : owner).get(`/api/v1/workspaces/${ws[W]}/billing`);
    assert.equal(b.status, 200, b.text);
    assert.equal(b.body.subscription?.plan_id ?? null, plan, `${W}: ${b.text.slice(0, 300)}`);
    assert.deepEqual(b.body.plan.features, featuresOf(W), W);
  }
  const one = async (sql) => {
    const v = (await w.srv.sql(sql)).trim();
    assert.ok(v && !v.includes('\n'), `one value expected from ${sql}: '${v}'`);
    return v;
  };
  INVOICE.A = await one(`SELECT id FROM invoices WHERE workspace_id = '${ws.A}' AND status = 'paid'`);
  INVOICE.B = await one(`SELECT id FROM invoices WHERE workspace_id = '${ws.B}' AND status = 'open'`);
  const live = `status NOT IN ('canceled', 'incomplete_expired')`;
  SUB.A = await one(`SELECT id FROM subscriptions WHERE workspace_id = '${ws.A}' AND ${live}`);
  SUB.B = await one(`SELECT id FROM subscriptions WHERE workspace_id = '${ws.B}' AND ${live}`);
  SUB.A2 = await one(`SELECT id FROM subscriptions WHERE workspace_id = '${ws.A2}'`);
  for (const W of TARGETS) INVOICES_OF[W] = [];
  for (const line of (await w.srv.sql(`SELECT workspace_id || '|' || id FROM invoices`)).split('\n').filter(Boolean)) {
    const [wsId, id] = line.split('|');
    const W = Object.keys(ws).find((k) => ws[k] === wsId);
    if (W) INVOICES_OF[W].push(id);
  }
  for (const W of TARGETS) INVOICES_OF[W].sort();

  for (const [k, id] of Object.entries(ws)) NAMES[k] = { A: 'Acme Agency', A1: 'Acme Dental', A2: 'Acme Fitness', A3: 'Acme Paused', A4: 'Acme Closing', B: "Bea Bravo's workspace", B1: 'Bravo One' }[k] ?? id;

  // An ended session: member@ signs in a second time and ends that session from the first one
  // (DELETE /me/sessions/:id, an allowed request of the matrix, recorded below).
  const second = await signIn(w.srv, 'signedOut', 'member@acme.test', DEMO_PASSWORDS.member);
  const end = await P.member.del(`/api/v1/me/sessions/${second.sessionId}`);
  assert.equal(end.status, 204, end.text);
  results.push({ row: 'DELETE /api/v1/me/sessions/:session_id', method: 'DELETE', pk: 'member', W: '-', S: 'own other session', expected: 204, status: end.status, text: end.text });
  P.signedOut = second;

  const nx = await P.owner.get(`/api/v1/workspaces/${ws.NX}`);
  assert.equal(nx.status, 404);
  NOT_FOUND_TEXT = nx.text;

  // Deliver the set-up's mail now, so no due job is left for the passes below.
  const jobs = await w.srv.post('/api/v1/test/jobs/run', {});
  assert.equal(jobs.status, 200, jobs.text);
  // Read the team world back.
  const wsKey = Object.fromEntries(Object.entries(ws).map(([k, v]) => [v, k]));
  const userKey = Object.fromEntries(Object.entries(P).filter(([k, x]) => x.userId && k !== 'signedOut').map(([k, x]) => [x.userId, k]));
  userKey[heirId] = 'heir';
  for (const W of TARGETS) [MEM[W], MEMBER_IDS[W], ACTIVE_COUNT[W], PENDING_IDS[W]] = [{}, [], 0, []];
  const rows = await w.srv.sql(
    `SELECT m.workspace_id || '|' || m.user_id || '|' || m.id || '|' || m.role || '|' || m.status || '|' || u.email FROM memberships m JOIN users u ON u.id = m.user_id`,
  );
  for (const line of rows.split('\n').filter(Boolean)) {
    const [wsId, userId, id, role, st, email] = line.split('|');
    const W = wsKey[wsId];
    if (!W) continue;
    MEMBER_IDS[W].push(id);
    if (st === 'active') ACTIVE_COUNT[W]++;
    if (userKey[userId]) MEM[W][userKey[userId]] = { id, role, status: st, userId, email };
  }
  const invs = await w.srv.sql(`SELECT workspace_id || '|' || id FROM invitations WHERE status = 'pending'`);
  for (const line of invs.split('\n').filter(Boolean)) {
    const [wsId, id] = line.split('|');
    if (wsKey[wsId]) PENDING_IDS[wsKey[wsId]].push(id);
  }
  for (const W of TARGETS) {
    MEMBER_IDS[W].sort();
    PENDING_IDS[W].sort();
    KEYS_OF[W] = [];
  }
  for (const line of (await w.srv.sql(`SELECT workspace_id || '|' || id FROM api_keys`)).split('\n').filter(Boolean)) {
    const [wsId, id] = line.split('|');
    if (wsKey[wsId]) KEYS_OF[wsKey[wsId]].push(id);
  }
  for (const W of TARGETS) KEYS_OF[W].sort();

  const r = await w.srv.cli(['routes']);
  assert.equal(r.code, 0, r.stderr);
  inventory = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
});

after(async () => {
  await w?.stop();
});

// ---------------------------------------------------------------------------------------------------
// The model: who reaches which workspace with which role (src/workspace/workspace.c ws_resolve,
// restated), and the expected answer of a request.

function resolve(pk, W) {
  if (W === 'NX') return null;
  const m = MEMBERS[pk];
  // A deactivated membership counts for nothing: no role in W, no agency below it.
  const roleIn = (X) => (X && m[X] && isActive(pk, X) ? ROLE[m[X]] : ROLE.none);
  const direct = roleIn(W);
  // Agency access carries the root role: a root owner is an owner in its sub-accounts (billing writes,
  // owners of the sub-account), a root admin an admin (issue 12, item 8).
  const viaParent = PARENT[W] && roleIn(PARENT[W]) >= ROLE.admin ? roleIn(PARENT[W]) : ROLE.none;
  const role = Math.max(direct, viaParent);
  if (role === ROLE.none) return null;
  return { role, agency: viaParent > direct, kind: KIND(W), developer: DEVELOPER.has(pk), features: featuresOf(W) };
}

/** What a key is in W: {role, agency, kind, developer, service, scopes}, or null where it reaches nothing. */
function resolveKey(pk, W) {
  const k = KEYP[pk];
  if (!k.live || W !== k.ws) return null;
  const role = k.owner ? resolve(k.owner, W)?.role ?? ROLE.none : ROLE.admin;
  if (role === ROLE.none) return null;
  return { role, agency: false, kind: KIND(W), developer: false, features: featuresOf(W), service: !k.owner, scopes: scopesOf(pk) };
}
/** The subject a principal is in W (a person or a key). */
const subjectOf = (pk, W) => (isKey(pk) ? resolveKey(pk, W) : resolve(pk, W));

/** The tenant relation of W to the principal, for the report. */
function relation(pk, W) {
  if (W === 'NX') return 'non-existent id';
  if (isKey(pk)) {
    const k = KEYP[pk];
    if (W === '-') return 'key: no workspace in the path';
    const dead = k.live ? '' : ' (dead key)';
    if (W === k.ws) return `key: own workspace${dead}`;
    if (PARENT[W] === k.ws) return `key: sub-account of own workspace${dead}`;
    return `key: ${PARENT[W] ? 'foreign sub-account' : 'foreign root'}${dead}`;
  }
  const m = MEMBERS[pk];
  if (m[W] && !isActive(pk, W)) return 'own workspace (membership deactivated)';
  if (m[W]) return resolve(pk, W).agency ? 'own sub-account (agency + member)' : 'own workspace';
  if (PARENT[W] && m[PARENT[W]] && !isActive(pk, PARENT[W])) return 'sub-account of own root (deactivated there)';
  if (PARENT[W] && m[PARENT[W]]) return ROLE[m[PARENT[W]]] >= ROLE.admin ? 'own sub-account (agency)' : 'sub-account of own root (as member)';
  if (Object.keys(m).some((x) => PARENT[x] === W)) return 'parent root';
  if (PARENT[W] && Object.keys(m).some((x) => PARENT[x] === PARENT[W])) return 'sibling sub-account';
  return PARENT[W] ? 'foreign sub-account' : 'foreign root';
}

const UNAUTH = new Set(['anonymous', 'signedOut']);
// The answers that refuse a caller before the route does anything (402: the plan lacks the feature).
const DENIALS = [401, 402, 403, 404];

/** {status, type?, detail?} that the guard answers, or null when the request reaches its handler. */
function guardAnswer(row, pk, W) {
  if (row.auth === 'public' || row.auth === 'test' || row.auth === 'operator') return null;
  if (isKey(pk)) return keyGuardAnswer(row, pk, W);
  if (UNAUTH.has(pk)) return { status: 401, type: 'unauthenticated' };
  if (!row.ws) return null;
  const who = resolve(pk, W);
  if (!who && MEMBERS[pk][W] && !isActive(pk, W)) return { status: 403, type: 'membership-deactivated' };
  if (!who) return { status: 404, type: 'not-found' };
  const st = PARENT[W] ? status[W] : 'active';
  if (!who.agency && st !== 'active')
    return { status: 403, type: 'workspace-suspended', detail: st === 'suspended' ? REASON_A3 : REASON_A4 };
  if (row.section) {
    const need = row.access === 'write' ? 2 : 1;
    const feature = missingFeature(row.section, need, who);
    if (feature) return { status: 402, type: 'plan-required', feature };
    if (accessOf(row.section, who) < need) return { status: 403, type: 'forbidden' };
  }
  return null;
}

/** The guard's answer to an API key (src/api/guard.c guard_key, restated). */
function keyGuardAnswer(row, pk, W) {
  if (row.auth !== 'user') return { status: 401, type: 'session-required' };
  if (!KEYP[pk].live) return { status: 401, type: 'invalid-api-key', header: ['www-authenticate', /^Bearer /] };
  if (!row.ws) return null;
  const who = resolveKey(pk, W);
  if (!who) return { status: 404, type: 'not-found' };
  const st = PARENT[W] ? status[W] : 'active';
  if (st !== 'active') return { status: 403, type: 'workspace-suspended' };
  if (row.section) {
    const need = row.access === 'write' ? 2 : 1;
    const feature = missingFeature(row.section, need, who);
    if (feature) return { status: 402, type: 'plan-required', feature };
    if (accessOf(row.section, who) < need) return { status: 403, type: 'forbidden' };
    if (scopeAccess(who.scopes, row.section) < need) return { status: 403, type: 'insufficient-scope' };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// The rows. Each names the section/access/auth it expects the inventory to show, and how to call it:
//   ok        the status of an allowed call (a function of the context for state-bound moves)
//   allowBody a body that changes nothing (or a move that is undone after), for allowed calls
//   denyBody  a body that WOULD change something, for calls that must be refused
//   sub       the route has :subaccount_id

const WSP = '/api/v1/workspaces/:workspace_id';
const SUBP = `${WSP}/subaccounts/:subaccount_id`;
const MOVES = {
  suspend: { from: (s) => s === 'active', to: 'suspended' },
  reactivate: { from: (s) => s === 'suspended', to: 'active' },
  'schedule-deletion': { from: (s) => s !== 'pending_deletion', to: 'pending_deletion' },
  restore: { from: (s) => s === 'pending_deletion', to: 'active' },
};
const SUB_KEYS = ['A1', 'A2', 'A3', 'A4', 'B1'];
const isChild = (S, W) => SUB_KEYS.includes(S) && PARENT[S] === W;

const open = (ok, extra = {}) => ({ auth: 'public', section: null, access: 'none', ok, ...extra });
const MEMP = `${WSP}/members/:member_id`;
const INVP = `${WSP}/invitations/:invitation_id`;
const KEYSP = `${WSP}/api-keys`;
const KEYIDP = `${KEYSP}/:key_id`;
const keysRow = (access, extra) => ({ auth: 'session', ws: true, section: 'api_keys', access, pure: true, ...extra });
const team = (access, extra) => ({ auth: 'user', ws: true, section: 'team', access, pure: true, ...extra });
const anyMember = (extra) => ({ auth: 'session', ws: true, section: null, access: 'none', pure: true, noBody: true, ...extra });
const BILP = `${WSP}/billing`;
const BINVP = `${BILP}/invoices/:invoice_id`;
const RECP = `${WSP}/billing-recovery`;
const billingRow = (access, extra) => ({ auth: 'user', ws: true, section: 'billing', access, pure: true, ...extra });
const recoveryRow = (access, extra) => ({ auth: 'session', ws: true, section: 'billing_recovery', access, pure: true, ...extra });
const ROWS = {
  'GET /healthz': open(200),
  'GET /readyz': open(200),
  'GET /metrics': open(200, { auth: 'operator' }),
  'GET /api/v1/system': open(200),
  'GET /guide/:section': open(200, { pure: true }),
  'GET /api/v1/auth/options': open(200),
  'GET /api/v1/openapi.json': open(200),
  'POST /api/v1/session': open(400, { allowBody: () => ({}) }),
  'POST /api/v1/signup': open(400, { allowBody: () => ({}) }),
  'DELETE /api/v1/session': { auth: 'session', section: null, access: 'none', ok: 204, last: true },
  'GET /api/v1/me': { auth: 'session', section: 'profile', access: 'read', ok: 200 },
  'GET /api/v1/me/sessions': { auth: 'session', section: 'profile', access: 'read', ok: 200 },
  'DELETE /api/v1/me/sessions': { auth: 'session', section: 'profile', access: 'write', ok: 200 },
  // Another user's session and a missing one: 404 for everyone, and the other session stays live.
  'DELETE /api/v1/me/sessions/:session_id': { auth: 'session', section: 'profile', access: 'write', ok: 404, sessionParam: true },
  'POST /api/v1/me/password': { auth: 'session', section: 'profile', access: 'write', ok: 400, allowBody: () => ({}), denyBody: () => ({ current_password: 'x', new_password: 'Pwned-Password-2026-xyz' }) },
  'GET /api/v1/me/profile': { auth: 'session', section: 'profile', access: 'read', ok: 200 },
  'PATCH /api/v1/me/profile': { auth: 'session', section: 'profile', access: 'write', ok: 200, allowBody: (c) => ({ name: c.p.user.name }), denyBody: () => ({ name: 'Pwned' }) },
  // Avatar upload (issue 14 item 10): a JSON body is not a picture (415, nothing changes); removing
  // one's picture is a real write (the demo users have none, so it changes no picture).
  'PUT /api/v1/me/avatar': { auth: 'session', section: 'profile', access: 'write', ok: 415, pure: true, allowBody: () => ({}), denyBody: () => ({}) },
  'DELETE /api/v1/me/avatar': { auth: 'session', section: 'profile', access: 'write', ok: 200 },
  'GET /api/v1/avatars/:avatar_id': open(404, { pure: true }),
  'GET /api/v1/workspaces': { auth: 'session', section: null, access: 'none', ok: 200 },

  [`GET ${WSP}/sections`]: { auth: 'user', ws: true, section: null, access: 'none', ok: 200, check: checkSections },
  [`GET ${WSP}`]: { auth: 'user', ws: true, section: 'workspace', access: 'read', ok: 200 },
  [`PATCH ${WSP}`]: {
    auth: 'user', ws: true, section: 'workspace', access: 'write', ok: 200,
    // Allowed: a no-op merge patch against the current ETag (200, same version, no event).
    allowBody: () => ({ industry: null }),
    denyBody: (c) => ({ industry: `pwned by ${c.pk}` }),
    ifMatch: true,
  },
  [`GET ${WSP}/notifications`]: { auth: 'session', ws: true, section: 'notifications', access: 'read', ok: 200 },
  [`PATCH ${WSP}/notifications`]: {
    auth: 'session', ws: true, section: 'notifications', access: 'write', ok: 200,
    allowBody: () => ({ groups: { team: { in_app: true } } }),
    denyBody: () => ({ groups: { team: { email: false } } }),
  },
  [`POST ${WSP}/notifications/reset`]: { auth: 'session', ws: true, section: 'notifications', access: 'write', ok: 200, noBody: true },
  [`GET ${WSP}/subaccounts`]: { auth: 'user', ws: true, section: 'subaccounts', access: 'read', ok: 200 },
  [`POST ${WSP}/subaccounts`]: {
    auth: 'user', ws: true, section: 'subaccounts', access: 'write', ok: 201,
    allowBody: (c) => ({ name: `Matrix ${c.pk}` }),
    denyBody: (c) => ({ name: `Pwned ${c.pk}` }),
    created: true,
  },
  [`GET ${SUBP}`]: { auth: 'user', ws: true, sub: true, section: 'subaccounts', access: 'read', ok: 200 },
  [`PATCH ${SUBP}`]: {
    auth: 'user', ws: true, sub: true, section: 'subaccounts', access: 'write', ok: 200,
    allowBody: (c) => ({ name: NAMES[c.S] }),
    denyBody: () => ({ name: 'Pwned' }),
  },
  [`POST ${SUBP}/suspend`]: { auth: 'user', ws: true, sub: true, section: 'subaccounts', access: 'write', move: 'suspend', allowBody: () => ({ reason: 'matrix' }), denyBody: () => ({ reason: 'pwned' }) },
  [`POST ${SUBP}/reactivate`]: { auth: 'user', ws: true, sub: true, section: 'subaccounts', access: 'write', move: 'reactivate', noBody: true },
  [`POST ${SUBP}/schedule-deletion`]: { auth: 'user', ws: true, sub: true, section: 'subaccounts', access: 'write', move: 'schedule-deletion', noBody: true },
  [`POST ${SUBP}/restore`]: { auth: 'user', ws: true, sub: true, section: 'subaccounts', access: 'write', move: 'restore', noBody: true },
  [`GET ${WSP}/audit-events`]: { auth: 'user', ws: true, section: 'activity', access: 'read', ok: 200 },
  [`GET ${WSP}/audit/export.csv`]: { auth: 'user', ws: true, section: 'activity', access: 'read', ok: 200 },

  // API keys: session-only routes of the api_keys section (plan feature api_access). Past the guard,
  // ids of every relation and bodies the domain refuses; one real key per allowed caller (kept).
  'GET /api/v1/scopes': open(200, { check: (c, r) => checkScopes(r) }),
  [`GET ${KEYSP}`]: keysRow('read', { ok: 200, check: checkKeyList }),
  [`POST ${KEYSP}`]: keysRow('write', {
    natural: (c) => ({ O: 'a valid workspace key', body: { name: `Pwned ${c.pk}`, scopes: ['team:write'], owner: 'workspace' } }),
    objs: (c, who) => [
      { O: 'no scopes', body: { name: 'x', scopes: [], owner: 'workspace' }, status: 400, type: 'validation' },
      { O: 'unknown scope', body: { name: 'x', scopes: ['nope:read'], owner: 'workspace' }, status: 400, type: 'validation' },
      { O: 'developer-only scope', body: { name: 'x', scopes: ['labs:read'], owner: 'workspace' }, status: 400, type: 'validation' },
      { O: 'expiry past the maximum', body: { name: 'x', scopes: ['team:read'], owner: 'workspace', expires_in_days: 366 }, status: 400, type: 'validation' },
      { O: 'never expires (not allowed)', body: { name: 'x', scopes: ['team:read'], owner: 'workspace', never_expires: true }, status: 400, type: 'validation' },
      { O: 'bad range', body: { name: 'x', scopes: ['team:read'], owner: 'workspace', allowed_cidrs: ['10.0.0.0/33'] }, status: 400, type: 'validation' },
      { O: "another tenant's workspace_id", body: { name: 'x', scopes: ['team:read'], owner: 'workspace', workspace_id: ws.B }, status: 400, type: 'validation' },
      ...(who.agency ? [{ O: 'personal key through agency', body: { name: 'x', scopes: ['team:read'], owner: 'me' }, status: 400, type: 'validation' }] : []),
      { O: 'a workspace key', body: { name: `Matrix ${c.pk}`, scopes: ['team:read'], owner: 'workspace', expires_in_days: 30 }, status: 201, writes: true, check: checkKeyCreated(c) },
    ],
  }),
  [`GET ${KEYIDP}`]: keysRow('read', {
    natural: (c) => ({ O: 'a live key', id: KEYIDS[c.W]?.live ?? missingId('key') }),
    objs: (c) => [
      { O: 'own live key', id: KEYIDS[c.W].live, status: 200, check: (r) => (r.body.id === KEYIDS[c.W].live && r.body.status === 'active' && !('secret' in r.body) ? null : `key ${r.text}`) },
      { O: 'own revoked key', id: KEYIDS[c.W].revoked, status: 200, check: (r) => (r.body.status === 'revoked' ? null : `key ${r.text}`) },
      ...foreignKeyIds(c.W),
    ],
  }),
  [`DELETE ${KEYIDP}`]: keysRow('write', {
    noBody: true,
    natural: (c) => ({ O: 'a live key', id: KEYIDS[c.W]?.live ?? missingId('key') }),
    objs: (c) => [{ O: 'own revoked key', id: KEYIDS[c.W].revoked, status: 409, type: 'invalid-state' }, ...foreignKeyIds(c.W)],
  }),
  [`POST ${KEYIDP}/rotate`]: keysRow('write', {
    natural: (c) => ({ O: 'a live key', id: KEYIDS[c.W]?.live ?? missingId('key'), body: {} }),
    objs: (c) => [
      { O: 'own revoked key', id: KEYIDS[c.W].revoked, body: {}, status: 409, type: 'invalid-state' },
      { O: 'own live key, overlap past a week', id: KEYIDS[c.W].live, body: { overlap_hours: 169 }, status: 400, type: 'validation' },
      ...foreignKeyIds(c.W, {}),
    ],
  }),
  [`GET ${WSP}/api-key-policy`]: keysRow('read', { ok: 200, check: (c, r) => (JSON.stringify(r.body) === JSON.stringify(KEY_POLICY) ? null : `policy ${r.text}`) }),
  [`PATCH ${WSP}/api-key-policy`]: keysRow('write', {
    natural: () => ({ O: 'allow never-expiring keys', body: { allow_never: true } }),
    objs: () => [
      { O: 'the same values (no-op)', body: { ...KEY_POLICY }, status: 200, check: (r) => (JSON.stringify(r.body) === JSON.stringify(KEY_POLICY) ? null : `policy ${r.text}`) },
      { O: 'default past the maximum', body: { default_days: 400 }, status: 400, type: 'validation' },
      { O: 'unknown field', body: { workspace_id: ws.B }, status: 400, type: 'validation' },
    ],
  }),

  // Team. Past the guard every call meets an id or a body the domain must refuse, or a no-op; `natural`
  // is what a denied caller sends (a real target and a body that would change it).
  [`GET ${WSP}/members`]: team('read', { ok: 200, check: checkMembers }),
  [`GET ${MEMP}`]: team('read', {
    natural: (c) => ({ O: 'a member', id: victim(c.W)?.id ?? missingId('mem') }),
    objs: (c) => [...ownMember(c, (v) => ({ status: 200, check: (r) => (r.body.id === v.id && r.body.role === v.role ? addressCheck(c, [r.body]) : `member ${r.text}`) })), ...foreignMemberIds(c.W)],
  }),
  [`PATCH ${MEMP}`]: team('write', {
    natural: (c) => ({ O: 'a member → owner', id: victim(c.W)?.id ?? missingId('mem'), body: { role: 'owner' } }),
    objs: (c, who) => [
      ...ownMember(c, (v) => ({ O: 'own member, same role (no-op)', body: { role: v.role }, status: 200, check: (r) => (r.body.role === v.role ? null : `role ${r.body.role}`) })),
      { O: 'invalid role', id: victim(c.W)?.id ?? missingId('mem'), body: { role: 'superuser' }, status: 400, type: 'validation' },
      ...(who.role < ROLE.owner && victim(c.W)?.role !== 'owner' ? ownMember(c, () => ({ O: 'own member → owner (above own role)', body: { role: 'owner' }, status: 403, type: 'role-rules' })) : []),
      ...ownerRule(c, who, { role: 'admin' }),
      ...foreignMemberIds(c.W, { role: 'member' }),
    ],
  }),
  [`DELETE ${MEMP}`]: team('write', {
    noBody: true,
    natural: (c) => ({ O: 'a member', id: victim(c.W)?.id ?? missingId('mem') }),
    objs: (c, who) => [...ownerRule(c, who), ...foreignMemberIds(c.W)],
  }),
  [`POST ${MEMP}/deactivate`]: team('write', {
    noBody: true,
    natural: (c) => ({ O: 'a member', id: victim(c.W)?.id ?? missingId('mem') }),
    objs: (c, who) => [...ownerRule(c, who), ...foreignMemberIds(c.W)],
  }),
  [`POST ${MEMP}/reactivate`]: team('write', {
    noBody: true,
    // Denied: inactive@'s deactivated membership of A (inactive@ included); elsewhere a member.
    natural: (c) => ({ O: c.W === 'A' ? 'a deactivated member' : 'a member', id: (c.W === 'A' ? MEM.A.inactive : victim(c.W))?.id ?? missingId('mem') }),
    objs: (c) => [...ownMember(c, () => ({ O: 'own active member (no-op)', status: 200, check: (r) => (r.body.status === 'active' ? null : r.text) })), ...foreignMemberIds(c.W)],
  }),
  [`POST ${MEMP}/end-sessions`]: team('write', {
    noBody: true,
    natural: (c) => ({ O: 'a member', id: victim(c.W)?.id ?? missingId('mem') }),
    objs: (c, who) => {
      // Roots: the owner (a non-owner may not act on an owner; an owner may not end their own).
      // Sub-accounts: the caller's own membership, where they have one.
      const o = rootOwner(c.W);
      const self = MEM[c.W][c.pk];
      const own = o ? [{ O: o === self ? 'own membership (the owner)' : 'the owner, by a non-owner', id: o.id, status: 403, type: 'role-rules' }]
        : self ? [{ O: 'own membership', id: self.id, status: 403, type: 'role-rules' }] : [];
      // Sessions belong to the person (issue 12, item 2): agency@ is a member of A1 and an admin of A,
      // which A1's own admin does not manage, so A1's admin may not sign them out everywhere.
      if (c.W === 'A1' && c.pk === 'subadmin')
        own.push({ O: 'a member who is also an admin of the root', id: MEM.A1.agency.id, status: 403, type: 'role-rules', check: (r) => (/a workspace you do not manage/.test(r.body.detail ?? '') ? null : `detail ${r.text}`) });
      return [...own, ...foreignMemberIds(c.W)];
    },
  }),
  // Issue 14 item 6: members read the team as a directory; a member's activity and the invitations are
  // for those who manage it (the section's write role).
  [`GET ${MEMP}/activity`]: team('write', {
    natural: (c) => ({ O: 'a member', id: victim(c.W)?.id ?? missingId('mem') }),
    objs: (c) => [
      ...ownMember(c, () => ({ status: 200, check: (r) => (r.body.items.every((e) => e.workspace_id === ws[c.W]) ? null : `events of another workspace: ${r.text.slice(0, 300)}`) })),
      ...foreignMemberIds(c.W),
    ],
  }),
  [`GET ${WSP}/invitations`]: team('write', { ok: 200, check: checkInvitations }),
  [`POST ${WSP}/invitations`]: team('write', {
    natural: (c) => ({ O: 'an owner invitation', body: { emails: [`pwned-${c.pk.toLowerCase()}@evil.test`], role: 'owner' } }),
    // A service key: valid requests meet 403 person-required (invitations come from a person).
    objs: (c, who) => personOnly(who, [
      { O: 'empty address list', body: { emails: [], role: 'member' }, status: 400, type: 'validation' },
      { O: 'not an address', body: { emails: ['not-an-address'], role: 'member' }, status: 400, type: 'validation', check: namesField('emails[0]', 'invalid_email') },
      { O: 'addresses not a list', body: { emails: 'x@invitees.test', role: 'member' }, status: 400, type: 'validation' },
      { O: 'unknown role', body: { emails: ['x@invitees.test'], role: 'superuser' }, status: 400, type: 'validation' },
      ...(who.role < ROLE.owner ? [{ O: 'role above own', body: { emails: [`above-${c.pk.toLowerCase()}@invitees.test`], role: 'owner' }, status: 403, type: 'role-rules' }] : []),
      // One refused address answers with the refusal's own status and code (src/api/team.c team_invite).
      { O: 'already invited', body: { emails: [INV[c.W].pendingEmail], role: 'member' }, status: 409, type: 'already-invited', check: namesField('emails[0]', 'already_invited') },
      ...ownMember(c, (v) => ({ O: 'already a member', id: undefined, body: { emails: [v.email], role: 'member' }, status: 409, type: 'already-member', check: namesField('emails[0]', 'already_member') })),
    ]),
  }),
  [`POST ${INVP}/resend`]: team('write', {
    noBody: true,
    resend: true,
    natural: (c) => ({ O: 'a pending invitation', id: INV[c.W]?.pending ?? missingId('inv') }),
    objs: (c) => [{ O: 'own revoked invitation', id: INV[c.W].revoked, status: 409, type: 'invalid-state' }, ...foreignInvitationIds(c.W)],
  }),
  [`DELETE ${INVP}`]: team('write', {
    noBody: true,
    natural: (c) => ({ O: 'a pending invitation', id: INV[c.W]?.pending ?? missingId('inv') }),
    objs: (c) => [{ O: 'own revoked invitation', id: INV[c.W].revoked, status: 409, type: 'invalid-state' }, ...foreignInvitationIds(c.W)],
  }),
  [`POST ${WSP}/ownership-transfer`]: team('write', {
    auth: 'session',
    natural: (c) => ({ O: 'to a member', body: { member_id: victim(c.W)?.id ?? missingId('mem') } }),
    objs: (c, who) => {
      // Only a (non-agency) owner proposes; anyone else meets the role rule before the id is looked at.
      const proposer = who.role === ROLE.owner && !who.agency;
      const refused = { status: 403, type: 'role-rules' };
      const out = [{ O: 'no member_id', body: {}, status: 400, type: 'validation' }];
      for (const [O, id] of [...foreignMembers(c.W), ['missing member', missingId('mem')]])
        out.push({ O, body: { member_id: id }, ...(proposer ? { status: 404, type: 'not-found' } : refused) });
      const v = victim(c.W);
      if (v) out.push({ O: c.W === 'A' ? 'to a member, while one is pending' : v.role === 'owner' ? 'to an owner' : 'to a member', body: { member_id: v.id }, ...(proposer ? { status: 409, type: 'invalid-state' } : refused) });
      return out;
    },
  }),
  // Section NULL: every member who reaches the workspace passes the guard; the domain decides.
  [`POST ${WSP}/ownership-transfer/accept`]: anyMember({
    objs: () => [{ O: 'no transfer to the caller', status: 404, type: 'not-found' }],
  }),
  [`DELETE ${WSP}/ownership-transfer`]: anyMember({
    objs: (c, who) =>
      c.W === 'A' && who.role === ROLE.owner && !who.agency
        ? [{ O: 'the pending transfer, by the owner', status: 204, restore: reproposeTransfer }]
        : [{ O: c.W === 'A' ? 'the pending transfer, by a non-party' : 'no pending transfer', status: 404, type: 'not-found' }],
  }),
  [`POST ${WSP}/leave`]: anyMember({
    objs: (c, who) => {
      // Agency access without a membership of its own has nothing to leave; with one, it leaves that.
      if (who.agency && !MEM[c.W]?.[c.pk]) return [{ O: 'agency (nothing to leave)', status: 409, type: 'not-a-member' }];
      if (rootOwner(c.W) && rootOwner(c.W) === MEM[c.W][c.pk]) return [{ O: 'the last owner', status: 409, type: 'last-owner' }];
      return [{ O: 'own membership', status: 204, snapshot: () => snapshotMembership(c.W, c.pk), restore: (snap) => restoreMembership(c.W, c.pk, snap) }];
    },
  }),

  // The public routes of mailed links: the same answers for every caller, signed in or not.
  'GET /api/v1/invitations/:token': open(null, {
    pure: true,
    objs: () => [
      { O: 'unknown token', token: randomToken(), status: 404, type: 'invitation-not-found' },
      { O: 'short token', token: 'abc', status: 404, type: 'invitation-not-found' },
      { O: 'live link', token: TOK.live, status: 200, check: checkLookup('pending') },
      { O: 'revoked link', token: TOK.revoked, status: 200, check: checkLookup('revoked') },
    ],
  }),
  'POST /api/v1/invitations/:token/accept': open(null, {
    pure: true,
    objs: (c) => {
      const anon = UNAUTH.has(c.pk); // an ended session counts as none here
      const person = { name: 'Matrix Person', password: EXTRA_PASSWORD };
      return [
        { O: 'unknown token', token: randomToken(), body: person, status: 404, type: 'invitation-not-found' },
        { O: 'unknown token, empty body', token: randomToken(), body: {}, ...(anon ? { status: 400, type: 'validation' } : { status: 404, type: 'invitation-not-found' }) },
        { O: 'live link of someone else', token: TOK.live, body: person, status: 409, type: anon ? 'invitation-account-exists' : 'invitation-email-mismatch' },
        { O: 'revoked link', token: TOK.revoked, body: person, status: 409, type: 'invitation-revoked' },
      ];
    },
  }),
  'POST /api/v1/password/forgot': open(null, {
    pure: true,
    objs: (c) => [
      { O: 'unknown address', body: { email: `nobody-${c.pk.toLowerCase()}@nowhere.test` }, status: 202, check: checkForgot },
      { O: 'not an address', body: { email: 'not-an-address' }, status: 202, check: checkForgot },
      { O: 'no address', body: {}, status: 400, type: 'validation' },
      // Writes a reset and a mail (up to the hourly cap): run with the writing requests.
      { O: 'known address', body: { email: 'invitee@acme.test' }, status: 202, check: checkForgot, writes: true },
    ],
  }),
  'POST /api/v1/password/reset': open(null, {
    pure: true,
    objs: () => [
      { O: 'unknown token', body: { token: randomToken(), password: EXTRA_PASSWORD }, status: 400, type: 'validation', check: checkResetToken },
      { O: 'short token', body: { token: 'abc', password: EXTRA_PASSWORD }, status: 400, type: 'validation', check: checkResetToken },
      { O: 'no token', body: { password: EXTRA_PASSWORD }, status: 400, type: 'validation' },
    ],
  }),

  // Email changes: public token routes; an unknown or malformed token changes nothing, for anyone.
  'POST /api/v1/email-change/confirm': open(null, {
    pure: true,
    objs: () => [
      { O: 'unknown token', body: { token: randomToken() }, status: 400, type: 'validation', check: checkResetToken },
      { O: 'short token', body: { token: 'abc' }, status: 400, type: 'validation', check: checkResetToken },
      { O: 'no token', body: {}, status: 400, type: 'validation' },
    ],
  }),
  'POST /api/v1/email-change/undo': open(null, {
    pure: true,
    objs: () => [
      { O: 'unknown token', body: { token: randomToken() }, status: 400, type: 'validation', check: checkResetToken },
      { O: 'no token', body: {}, status: 400, type: 'validation' },
    ],
  }),

  // Billing. Past the guard every call meets a refusal of the domain or a read, so the world stays the
  // same: the live subscription cannot be started again, a change to the same interval is no change,
  // invoices are paid already (Acme) or collected by hand (Bravo), a sub-account billed to its agency
  // has no billing of its own (409 billed-to-parent), A2's subscription has ended (409 no-subscription).
  [`GET ${BILP}`]: billingRow('read', { ok: 200, check: checkOverview }),
  [`GET ${BILP}/plans`]: billingRow('read', { ok: 200, check: checkPlans }),
  [`POST ${BILP}/preview`]: billingRow('read', {
    natural: () => ({ O: 'a yearly interval', body: { interval: 'year' } }),
    objs: (c) => [
      { O: 'no change named', body: {}, status: 400, type: 'validation' },
      { O: 'a yearly interval', body: { interval: 'year' }, ...subscribed(c.W, { status: 200, check: (r) => (r.body.after?.interval === 'year' && r.body.effective === 'now' ? null : `preview ${r.text.slice(0, 300)}`) }) },
    ],
  }),
  [`POST ${BILP}/subscription`]: billingRow('write', {
    natural: () => ({ O: 'a new subscription', body: { plan_id: 'pro', quantity: 5 } }),
    objs: (c) => [
      { O: 'no plan', body: { quantity: 5 }, status: 400, type: 'validation' },
      { O: 'while one is live', body: { plan_id: 'pro', quantity: 5 }, ...ownBilling(c.W, c.W === 'A2' ? { status: 201, writes: true } : { status: 409, type: 'already-subscribed' }) },
    ],
  }),
  [`POST ${BILP}/subscription/change`]: billingRow('write', {
    natural: () => ({ O: 'yearly billing', body: { interval: 'year' } }),
    objs: (c) => [
      { O: 'the same interval (no change)', body: { interval: 'month' }, ...subscribed(c.W, { status: 409, type: 'no-change' }) },
      { O: 'one seat (below the plan or the seats in use)', body: { quantity: 1 }, ...subscribed(c.W, { status: 400, type: 'validation' }) },
      { O: 'an unknown proration', body: { quantity: 50, proration: 'sometime' }, status: 400, type: 'validation' },
    ],
  }),
  [`POST ${BILP}/subscription/cancel`]: billingRow('write', {
    natural: () => ({ O: 'cancel now', body: { at_period_end: false } }),
    objs: () => [{ O: 'at_period_end not a boolean', body: { at_period_end: 'soon' }, status: 400, type: 'validation' }],
  }),
  [`POST ${BILP}/subscription/resume`]: billingRow('write', {
    noBody: true,
    objs: (c) => [{ O: 'neither paused nor ending', ...subscribed(c.W, { status: 409, type: 'nothing-to-resume' }) }],
  }),
  [`GET ${BILP}/customer`]: billingRow('read', {
    objs: (c) => [{ O: 'the billing details', ...ownBilling(c.W, { status: 200, check: (r) => (/^"v\d+"$/.test(r.headers.get('etag') ?? '') && 'tax_id' in r.body ? null : `customer ${r.headers.get('etag')} ${r.text}`) }) }],
  }),
  [`PATCH ${BILP}/customer`]: billingRow('write', {
    natural: () => ({ O: 'a new name', ifMatch: '*', body: { name: 'Pwned' } }),
    objs: (c) => [
      { O: 'without If-Match', body: { name: 'Matrix' }, status: 428, type: 'precondition-required' },
      { O: 'a lower-case country', ifMatch: '*', body: { country: 'de' }, status: 400, type: 'validation' },
      { O: 'an unknown field', ifMatch: '*', body: { workspace_id: ws.B }, status: 400, type: 'validation' },
      { O: 'a stale If-Match', ifMatch: '"v999"', body: { name: 'Matrix' }, ...ownBilling(c.W, { status: 412, type: 'precondition-failed' }) },
    ],
  }),
  [`GET ${BILP}/invoices`]: billingRow('read', { ok: 200, check: checkInvoiceList }),
  [`GET ${BINVP}`]: billingRow('read', {
    natural: (c) => ({ O: 'an invoice', id: INVOICE[billedBy(c.W)] ?? INVOICE.A }),
    objs: (c) => invoiceCells(c, { status: 200, check: (r) => (r.body.workspace_id === ws[c.W] && Array.isArray(r.body.lines) ? null : `invoice ${r.text.slice(0, 300)}`) }),
  }),
  [`GET ${BINVP}/html`]: billingRow('read', {
    natural: (c) => ({ O: 'an invoice', id: INVOICE[billedBy(c.W)] ?? INVOICE.A }),
    objs: (c) => invoiceCells(c, { status: 200, check: (r) => (/^text\/html/.test(r.headers.get('content-type') ?? '') && r.text.startsWith('<!DOCTYPE html>') ? null : `html ${r.headers.get('content-type')}`) }),
  }),
  [`GET ${BINVP}/pdf`]: billingRow('read', {
    natural: (c) => ({ O: 'an invoice', id: INVOICE[billedBy(c.W)] ?? INVOICE.A }),
    objs: (c) => invoiceCells(c, { status: 200, check: (r) => (r.headers.get('content-type') === 'application/pdf' && r.text.startsWith('%PDF-') ? null : `pdf ${r.headers.get('content-type')}`) }),
  }),
  [`POST ${BINVP}/pay`]: billingRow('write', {
    noBody: true,
    natural: (c) => ({ O: 'an invoice', id: INVOICE[billedBy(c.W)] ?? INVOICE.A }),
    // Acme's invoice is paid; Bravo's is open but collected by hand (manual provider).
    objs: (c) => invoiceCells(c, c.W === 'B' ? { status: 409, type: 'manual-collection' } : { status: 409, type: 'invalid-state' }, { status: 409, type: 'billed-to-parent' }),
  }),
  [`POST ${BINVP}/mark-paid`]: recoveryRow('write', {
    noBody: true,
    natural: (c) => ({ O: 'an invoice', id: INVOICE[billedBy(c.W)] ?? INVOICE.A }),
    objs: (c) => invoiceCells(c, { status: 409, type: 'invalid-state' }),
  }),
  [`POST ${BINVP}/void`]: recoveryRow('write', {
    noBody: true,
    natural: (c) => ({ O: 'an invoice', id: INVOICE[billedBy(c.W)] ?? INVOICE.A }),
    objs: (c) => invoiceCells(c, { status: 409, type: 'invalid-state' }),
  }),
  [`POST ${BINVP}/mark-uncollectible`]: recoveryRow('write', {
    noBody: true,
    natural: (c) => ({ O: 'an invoice', id: INVOICE[billedBy(c.W)] ?? INVOICE.A }),
    objs: (c) => invoiceCells(c, { status: 409, type: 'invalid-state' }),
  }),
  [`POST ${BILP}/checkout`]: billingRow('write', {
    auth: 'session',
    noBody: true,
    objs: (c) => [{ O: 'manual collection (no card to save)', ...ownBilling(c.W, { status: 409, type: 'not-supported' }) }],
  }),
  [`POST ${BILP}/portal`]: billingRow('write', {
    auth: 'session',
    noBody: true,
    objs: (c) => [{ O: "manual collection (Atrium's own page)", ...ownBilling(c.W, { status: 200, check: (r) => (r.body.url === `/w/${ws[c.W]}/settings/billing/portal` ? null : `portal ${r.text}`) }) }],
  }),
  // Usage reporting (API only; scope usage:write): events the plan does not meter change nothing.
  [`POST ${BILP}/usage`]: {
    auth: 'user', ws: true, section: 'usage', access: 'write', pure: true,
    natural: (c) => ({ O: 'a metered event', body: { events: [{ event_id: `pwned-${c.pk}`, metric: 'api_calls', quantity: 1 }] } }),
    objs: (c) => [
      { O: 'no events', body: { events: [] }, status: 400, type: 'validation' },
      {
        O: 'a metric the plan does not meter',
        body: { events: [{ event_id: `matrix-${c.pk}`, metric: 'matrix_nope', quantity: 1 }] },
        ...(billedBy(c.W) === 'A2' ? { status: 409, type: 'no-subscription' } : { status: 400, type: 'validation', check: namesField('events[0].metric', 'unknown_metric') }),
      },
    ],
  },
  // Developer test clocks and Billing Recovery: developer access (dev@, a member of A), sessions only.
  // Acme runs on the demo's test clock.
  [`GET ${BILP}/test-clock`]: recoveryRow('read', { ok: 200, check: (c, r) => (r.body.workspace_id === ws[billedBy(c.W)] && (r.body.frozen_time !== null) === (billedBy(c.W) === 'A') ? null : `clock ${r.text.slice(0, 200)}`) }),
  [`POST ${BILP}/test-clock`]: recoveryRow('write', {
    natural: () => ({ O: 'a clock', body: {} }),
    objs: (c) => [
      { O: 'not a time', body: { frozen_time: 'soon' }, status: 400, type: 'validation' },
      { O: 'a second clock', body: {}, ...ownBilling(c.W, c.W === 'A' ? { status: 409, type: 'already-exists' } : { status: 201, writes: true }) },
    ],
  }),
  [`POST ${BILP}/test-clock/advance`]: recoveryRow('write', {
    natural: () => ({ O: 'a month on', body: { frozen_time: new Date(Date.now() + 31 * 86400e3).toISOString() } }),
    objs: (c) => [
      { O: 'no time', body: {}, status: 400, type: 'validation' },
      { O: 'back in time', body: { frozen_time: '2000-01-01T00:00:00Z' }, ...ownBilling(c.W, c.W === 'A' ? { status: 400, type: 'validation' } : { status: 409, type: 'no-test-clock' }) },
    ],
  }),
  [`DELETE ${BILP}/test-clock`]: recoveryRow('write', {
    noBody: true,
    objs: (c) => [
      c.W === 'A'
        ? { O: 'the test clock (put back after)', status: 204, snapshot: () => snapshotClock(c.W), restore: (snap) => restoreClock(c.W, snap) }
        : { O: 'no test clock', ...ownBilling(c.W, { status: 404, type: 'not-found' }) },
    ],
  }),
  [`GET ${RECP}`]: recoveryRow('read', { ok: 200, check: checkRecovery }),
  [`POST ${RECP}/:subscription_id/retry`]: recoveryRow('write', {
    noBody: true,
    natural: (c) => ({ O: 'a subscription', id: SUB[billedBy(c.W)] ?? SUB.A }),
    objs: (c) => subscriptionCells(c),
  }),
  [`POST ${RECP}/:subscription_id/recovered`]: recoveryRow('write', {
    noBody: true,
    natural: (c) => ({ O: 'a subscription', id: SUB[billedBy(c.W)] ?? SUB.A }),
    objs: (c) => subscriptionCells(c),
  }),
  // A sub-account's billing mode, from its root (Sub-Accounts): the mode it has already is no change.
  [`PUT ${SUBP}/billing`]: {
    auth: 'user', ws: true, sub: true, section: 'subaccounts', access: 'write', ok: 409, okType: 'no-change', pure: true,
    allowBody: (c) => ({ mode: c.S === 'A2' ? 'own' : 'parent' }),
    denyBody: (c) => ({ mode: c.S === 'A2' ? 'parent' : 'own' }),
  },
  // The payment provider's webhook: public, verified by its signature (none here: 400, nothing applied).
  'POST /api/v1/billing/webhooks/stripe': open(null, {
    pure: true,
    objs: () => [
      { O: 'an unsigned event', body: { id: 'evt_matrix', type: 'invoice.paid', data: { object: { id: 'in_matrix' } } }, status: 400, type: 'invalid-signature' },
    ],
  }),

  'GET /api/v1/test/clock': open(200, { auth: 'test' }),
  'POST /api/v1/test/clock': open(400, { auth: 'test', allowBody: () => ({}) }),
  'POST /api/v1/test/jobs/run': open(200, { auth: 'test', noBody: true }),
  'POST /api/v1/test/jobs': open(400, { auth: 'test', allowBody: () => ({}) }),
  'GET /api/v1/test/jobs/:job_id': open(404, { auth: 'test', jobParam: true }),
  'POST /api/v1/test/sleep': open(400, { auth: 'test', allowBody: () => ({}) }),
  'POST /api/v1/test/store/full': open(400, { auth: 'test', allowBody: () => ({}) }),
};

// ---------------------------------------------------------------------------------------------------
// Billing targets and checks.

/** A call on W's own billing: a sub-account billed to its agency has none (409 billed-to-parent). */
const ownBilling = (W, cell) => (billedBy(W) === W ? cell : { status: 409, type: 'billed-to-parent' });
/** A call on the live subscription that pays for W: none in A2 any more (409 no-subscription). */
const subscribed = (W, cell) => ownBilling(W, W === 'A2' ? { status: 409, type: 'no-subscription' } : cell);

/**
 * Invoice ids of every relation: W's own (only A and B have invoices), the paying root's (a
 * sub-account sees none of them: `inSub`, 404 by default), another tenant's, a missing one.
 */
function invoiceCells(c, own, inSub = { status: 404, type: 'not-found' }) {
  const other = A_FAMILY.includes(c.W) ? INVOICE.B : INVOICE.A;
  const out = [];
  if (INVOICE[c.W]) out.push({ O: 'own invoice', id: INVOICE[c.W], ...own });
  if (PARENT[c.W]) out.push({ O: "the paying root's invoice", id: INVOICE[PARENT[c.W]], ...(billedBy(c.W) === c.W ? { status: 404, type: 'not-found' } : inSub) });
  for (const [O, id] of [['invoice of foreign tenant', other], ['missing invoice', missingId('in')], ['a subscription id in its place', SUB.A]])
    out.push({ O, id, ...(PARENT[c.W] && billedBy(c.W) !== c.W ? inSub : { status: 404, type: 'not-found' }) });
  return out;
}

/** Subscription ids for Billing Recovery in W: those of W's tree (W and its sub-accounts) are found
 * but not in recovery (409), the rest answer 404. */
function subscriptionCells(c) {
  const tree = (X) => X === c.W || PARENT[X] === c.W;
  return [
    ['own subscription', SUB[c.W] && c.W],
    ["a sub-account's own subscription (ended)", 'A2'],
    ['subscription of foreign tenant', A_FAMILY.includes(c.W) ? 'B' : 'A'],
  ]
    .filter(([, X]) => X && SUB[X])
    .map(([O, X]) => ({ O, id: SUB[X], ...(tree(X) ? { status: 409, type: 'not-past-due' } : { status: 404, type: 'not-found' }) }))
    .concat([{ O: 'missing subscription', id: missingId('sub'), status: 404, type: 'not-found' }, { O: 'an invoice id in its place', id: INVOICE.A, status: 404, type: 'not-found' }]);
}

function checkOverview(c, r) {
  const b = r.body;
  const by = billedBy(c.W);
  // A sub-account billed by its agency shows who bills it and its own seats and usage, never the
  // agency's subscription, seat pool or amounts (issue 12, item 7).
  const own = by === c.W;
  const want = [ws[c.W], ws[by], NAMES[by], own ? 'own' : 'parent', own && by !== 'A2' ? SUB[by] : null, PLAN_OF[c.W], own, own];
  const got = [b.workspace_id, b.billed_by, b.billed_by_name, b.billing_mode, b.subscription?.id ?? null, b.plan?.id, b.customer !== null, b.seats.purchased !== null];
  if (JSON.stringify(got) !== JSON.stringify(want)) return `overview ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`;
  if (!own && /overage|amount|"quantity"/.test(r.text)) return `a sub-account shows its agency's figures: ${r.text.slice(0, 300)}`;
  return null;
}
function checkPlans(c, r) {
  const by = billedBy(c.W);
  const ids = r.body.items.map((p) => p.id);
  const want = CATALOG.plans.filter((p) => p.offered).map((p) => p.id);
  if (JSON.stringify(ids) !== JSON.stringify(want)) return `plans ${ids} ≠ ${want}`;
  return r.body.current_plan_id === (by === 'A2' ? null : PLAN_OF[by]) ? null : `current plan ${r.body.current_plan_id}`;
}
function checkInvoiceList(c, r) {
  const got = r.body.items.map((i) => i.id).sort();
  return JSON.stringify(got) === JSON.stringify(INVOICES_OF[c.W]) && r.body.next_cursor === null ? null : `invoices ${got} ≠ ${INVOICES_OF[c.W]}`;
}
function checkRecovery(c, r) {
  if (r.body.ladder?.length !== CATALOG.dunning.length) return `ladder ${r.text.slice(0, 200)}`;
  const tree = new Set(TARGETS.filter((X) => X === c.W || PARENT[X] === c.W).map((X) => ws[X]));
  const foreign = r.body.past_due.filter((x) => !tree.has(x.workspace_id));
  return foreign.length ? `recovery lists another tree's subscriptions: ${JSON.stringify(foreign)}` : null;
}
/** The developer test clock of W, to put back after a cell deleted it. */
async function snapshotClock(W) {
  const row = await w.srv.sql(`SELECT frozen_time || '|' || created_at || '|' || updated_at FROM billing_clocks WHERE workspace_id = '${ws[W]}'`);
  assert.ok(row, `${W} has no test clock`);
  return row.trim();
}
async function restoreClock(W, snap) {
  const [t, created, updated] = snap.split('|').map(Number);
  await w.srv.sql(`INSERT INTO billing_clocks (workspace_id, frozen_time, created_at, updated_at) VALUES ('${ws[W]}', ${t}, ${created}, ${updated})`);
}

// ---------------------------------------------------------------------------------------------------
// Team targets and checks.

/** For a service key, every cell past the body's field checks answers 403 person-required. */
const personOnly = (who, cells) =>
  who.service ? cells.map((v) => (v.status === 400 && v.O !== 'not an address' ? v : { ...v, status: 403, type: 'person-required', check: undefined })) : cells;

const VICTIM = { A: 'member', A1: 'a1member', A2: 'inactive', A3: 'a1member', A4: 'a1member', B: 'ownerB' };
/** A member of W that denied callers aim at (and allowed ones read), or null. */
const victim = (W) => (VICTIM[W] ? MEM[W][VICTIM[W]] : null);
/** The owner of a root (A: owner@, B: ownerB@), the only one: null in sub-accounts. */
const rootOwner = (W) => (W === 'A' ? MEM.A.owner : W === 'B' ? MEM.B.ownerB : null);
const A_FAMILY = ['A', 'A1', 'A2', 'A3', 'A4'];

/** Member ids of other workspaces: another tenant's and a parent's or child's. */
function foreignMembers(W) {
  if (A_FAMILY.includes(W)) return [['member of foreign tenant', MEM.B.ownerB.id], W === 'A' ? ['member of a child', MEM.A1.subadmin.id] : ['member of the parent', MEM.A.owner.id]];
  return [['member of foreign tenant', MEM.A.member.id], ['member of a foreign child', MEM.A1.subadmin.id]];
}
/** 404 cells for every member id that is not W's (plus a missing one and a user id in its place). */
function foreignMemberIds(W, body) {
  const out = foreignMembers(W).map(([O, id]) => ({ O, id, body, status: 404, type: 'not-found' }));
  out.push({ O: 'missing member', id: missingId('mem'), body, status: 404, type: 'not-found' });
  const v = victim(W);
  if (v) out.push({ O: "a member's user id", id: v.userId, body, status: 404, type: 'not-found' });
  return out;
}
/** A cell on W's own victim member (none when W has no member). */
function ownMember(c, f) {
  const v = victim(c.W);
  return v ? [{ O: 'own member', id: v.id, ...f(v) }] : [];
}
/** On a root's only owner: a non-owner meets the role rule, the owner the last-owner rule. */
function ownerRule(c, who, body) {
  const o = rootOwner(c.W);
  if (!o) return [];
  return who.role === ROLE.owner
    ? [{ O: 'the last owner', id: o.id, body, status: 409, type: 'last-owner' }]
    : [{ O: 'an owner, by a non-owner', id: o.id, body, status: 403, type: 'role-rules' }];
}
function foreignInvitationIds(W) {
  const pairs = A_FAMILY.includes(W)
    ? [['invitation of foreign tenant', INV.B.pending], W === 'A' ? ['invitation of a child', INV.A1.pending] : ['invitation of the parent', INV.A.pending]]
    : [['invitation of foreign tenant', INV.A.pending], ['invitation of a foreign child', INV.A1.pending]];
  return [...pairs, ['missing invitation', missingId('inv')]].map(([O, id]) => ({ O, id, status: 404, type: 'not-found' }));
}

/** 404 cells for key ids that are not W's: another tenant's, a parent's or child's, a missing one. */
function foreignKeyIds(W, body) {
  const pairs = A_FAMILY.includes(W)
    ? [['key of foreign tenant', KEYIDS.B.live], W === 'A' ? ['key of a child', KEYIDS.A1.live] : ['key of the parent', KEYIDS.A.live]]
    : [['key of foreign tenant', KEYIDS.A.live], ['key of a foreign child', KEYIDS.A1.live]];
  pairs.push(['missing key', missingId('key')], ['a member id in its place', MEM.A.member.id]);
  return pairs.map(([O, id]) => ({ O, id, body, status: 404, type: 'not-found' }));
}
function checkKeyList(c, r) {
  const got = r.body.items.map((k) => k.id).sort();
  if (JSON.stringify(got) !== JSON.stringify(KEYS_OF[c.W])) return `keys ${got} ≠ ${KEYS_OF[c.W]}`;
  if (r.body.items.some((k) => 'secret' in k || 'secret_hash' in k || k.prefix.length !== 12)) return `a key shows more than its prefix: ${r.text.slice(0, 300)}`;
  return null;
}
const checkKeyCreated = (c) => (r) => {
  if (!KEY_SECRET.test(r.body.secret) || r.body.key.prefix !== r.body.secret.slice(0, 12)) return `secret ${r.text.slice(0, 200)}`;
  if (r.headers.get('location') !== `/api/v1/workspaces/${ws[c.W]}/api-keys/${r.body.key.id}`) return `location ${r.headers.get('location')}`;
  return null;
};
function checkScopes(r) {
  const ids = r.body.items.map((s) => s.id);
  const want = SECTIONS.filter((s) => !s.devOnly).flatMap((s) => [`${s.id}:read`, ...(s.write <= ROLE.owner ? [`${s.id}:write`] : [])]);
  return JSON.stringify(ids) === JSON.stringify(want) ? null : `scopes ${ids} ≠ ${want}`;
}

/** Members (the directory) see no addresses, last activity or usage; those who manage the team do. */
function addressCheck(c, items) {
  const manages = (subjectOf(c.pk, c.W)?.role ?? ROLE.none) >= ROLE.admin;
  const bad = items.filter((m) => manages !== ('email' in m.user) || (!manages && ('usage' in m || 'last_active_at' in m)));
  return bad.length ? `${manages ? 'missing' : 'leaked'} addresses for ${c.pk} in ${c.W}: ${JSON.stringify(bad[0])}` : null;
}
function checkMembers(c, r) {
  const hidden = addressCheck(c, r.body.items);
  if (hidden) return hidden;
  const got = r.body.items.map((m) => m.id).sort();
  if (JSON.stringify(got) !== JSON.stringify(MEMBER_IDS[c.W])) return `members ${got} ≠ ${MEMBER_IDS[c.W]}`;
  if (r.body.total !== got.length || r.body.next_cursor !== null) return `total ${r.body.total}, next_cursor ${r.body.next_cursor} for ${got.length} rows`;
  const seats = r.body.seats;
  // Seats are the paying subscription's: they count every workspace it pays for (A and its sub-accounts
  // billed to it, A2 alone), never another tenant's.
  // A sub-account billed by its agency sees only its own seat use and who provides it (issue 12, item 7).
  const by = billedBy(c.W);
  const paidTogether = by === c.W ? TARGETS.filter((X) => X !== 'NX' && billedBy(X) === by) : [c.W];
  const active = paidTogether.reduce((n, X) => n + ACTIVE_COUNT[X], 0);
  const pending = paidTogether.reduce((n, X) => n + PENDING_IDS[X].length, 0);
  if (seats.active_members !== active || seats.pending_invitations !== pending) return `seats ${JSON.stringify(seats)}, expected ${active} active and ${pending} pending`;
  const provided = by === c.W ? 'null' : JSON.stringify({ id: ws[by], name: NAMES[by] });
  if (JSON.stringify(seats.provided_by) !== provided || (provided !== 'null') !== (seats.limit === null && seats.available === null))
    return `seats ${JSON.stringify(seats)}: expected provided_by ${provided} and the pool's figures ${provided ? 'hidden' : 'shown'}`;
  const t = r.body.ownership_transfer;
  if (c.W === 'A' ? t?.to?.id !== HEIR.userId : t !== null) return `ownership_transfer ${JSON.stringify(t)}`;
  return null;
}
function checkInvitations(c, r) {
  const got = r.body.items.map((i) => i.id).sort();
  return JSON.stringify(got) === JSON.stringify(PENDING_IDS[c.W]) ? null : `invitations ${got} ≠ ${PENDING_IDS[c.W]}`;
}
const checkLookup = (status) => (r) => {
  const keys = Object.keys(r.body).sort().join(',');
  if (keys !== 'email,expires_at,inviter,message,role,status,workspace') return `lookup keys ${keys}`;
  if (r.body.workspace.id !== ws.A || r.body.status !== status || Object.keys(r.body.inviter).join() !== 'name') return `lookup ${r.text}`;
  return null;
};
let FORGOT_TEXT = null;
function checkForgot(r) {
  FORGOT_TEXT ??= r.text;
  return r.text === FORGOT_TEXT ? null : `forgot answered ${r.text}, elsewhere ${FORGOT_TEXT}`;
}
const namesField = (field, code) => (r) => (r.body?.errors?.some((e) => e.field === field && e.code === code) ? null : `errors do not name ${field} ${code}: ${r.text}`);
const checkResetToken = (r) => (r.body.errors?.some((e) => e.field === 'token' && e.code === 'invalid') ? null : `reset errors ${r.text}`);

/** owner@ proposes A's ownership to heir@ again (after a cell cancelled it). */
async function reproposeTransfer() {
  const r = await P.owner.post(`/api/v1/workspaces/${ws.A}/ownership-transfer`, { member_id: HEIR.memberId });
  assert.equal(r.status, 201, r.text);
}
const sqlText = (x) => (x === '~' ? 'NULL' : `'${x.replace(/'/g, "''")}'`);
const sqlInt = (x) => (x === '~' ? 'NULL' : String(Number(x)));
/** The membership row of a principal in W and their preferences there, to put back after they leave. */
async function snapshotMembership(W, pk) {
  const where = `workspace_id = '${ws[W]}' AND user_id = '${P[pk].userId}'`;
  const row = await w.srv.sql(
    `SELECT id || '|' || role || '|' || joined_at || '|' || COALESCE(invited_by, '~') || '|' || COALESCE(CAST(last_active_at AS TEXT), '~') ` +
      `|| '|' || status || '|' || COALESCE(CAST(deactivated_at AS TEXT), '~') FROM memberships WHERE ${where}`,
  );
  const prefs = await w.srv.sql(`SELECT event_group || '|' || channel || '|' || enabled FROM notification_prefs WHERE ${where}`);
  assert.ok(row, `${pk} has no membership in ${W}`);
  return { row, prefs: prefs.split('\n').filter(Boolean) };
}
async function restoreMembership(W, pk, snap) {
  const [id, role, joined, invitedBy, last, st, deact] = snap.row.split('|');
  const stmts = [
    `INSERT INTO memberships (workspace_id, user_id, id, role, joined_at, invited_by, last_active_at, status, deactivated_at) VALUES ` +
      `('${ws[W]}', '${P[pk].userId}', ${sqlText(id)}, ${sqlText(role)}, ${sqlInt(joined)}, ${sqlText(invitedBy)}, ${sqlInt(last)}, ${sqlText(st)}, ${sqlInt(deact)})`,
    ...snap.prefs.map((l) => {
      const [g, ch, en] = l.split('|');
      return `INSERT INTO notification_prefs (workspace_id, user_id, event_group, channel, enabled) VALUES ('${ws[W]}', '${P[pk].userId}', ${sqlText(g)}, ${sqlText(ch)}, ${sqlInt(en)})`;
    }),
  ];
  await w.srv.sql(stmts.join('; '));
}

/** The sections a subject must see (policy order, built only, readable only, sub-account titles). */
function expectedSections(who) {
  // A key sees what its role allows intersected with its scopes.
  const level = (s) => Math.min(accessOf(s.id, who), who.scopes ? scopeAccess(who.scopes, s.id) : 2);
  return SECTIONS.filter((s) => s.built && !s.noNav && level(s) > 0).map((s) => ({
    id: s.id,
    title: who.kind === 'sub_account' && s.subTitle ? s.subTitle : s.title,
    access: level(s) === 2 ? 'write' : 'read',
  }));
}

/**
 * Why each built, listed section the subject cannot read is absent (src/policy/policy.c
 * policy_absence): the workspace kind, a plan feature (the plan lacks it, or an unpaid subscription
 * took it: "plan" or "payment"), else the role. Developer-only sections are never mentioned.
 */
function expectedAbsences(who) {
  return SECTIONS.filter((s) => s.built && !s.noNav && !(s.devOnly && !who.developer) && accessOf(s.id, who) === 0).map((s) => ({
    id: s.id,
    reason: s.rootOnly && who.kind !== 'root' ? 'kind' : missingFeature(s.id, 1, who) ? 'plan' : 'role',
  }));
}

function checkSections(c, r) {
  const who = subjectOf(c.pk, c.W);
  const want = {
    items: expectedSections(who),
    role: Object.keys(ROLE).find((k) => ROLE[k] === who.role),
    kind: who.kind,
    agency: who.agency,
  };
  // Why the other sections are absent; no billing alert while every subscription here is in order.
  const { unavailable = [], billing_alert: alert, ...shown } = r.body ?? {};
  const reasons = unavailable.map((u) => ({ id: u.id, reason: u.reason === 'payment' ? 'plan' : u.reason }));
  if (JSON.stringify(reasons) !== JSON.stringify(expectedAbsences(who)))
    return `sections give ${c.pk} in ${c.W} the reasons ${JSON.stringify(reasons)} ≠ expected ${JSON.stringify(expectedAbsences(who))}`;
  if (alert !== null) return `sections show ${c.pk} in ${c.W} a billing alert: ${r.text}`;
  // A pending ownership transfer shows only to its target (heir@, in A), and to nobody else.
  const { ownership_offer: offer, ...rest } = shown;
  const forMe = offer && offer.to?.id === P[c.pk]?.userId && c.W === 'A';
  if (offer !== null && !forMe) return `sections show an ownership offer to ${c.pk} in ${c.W}: ${r.text}`;
  return JSON.stringify(rest) === JSON.stringify(want) ? null : `sections ${r.text} ≠ expected ${JSON.stringify(want)}`;
}

// ---------------------------------------------------------------------------------------------------
// Running one matrix cell.

const ROOT_OWNER = (S) => (PARENT[S] === 'A' ? P.owner : P.ownerB);

async function subStatus(S) {
  const r = await ROOT_OWNER(S).get(`/api/v1/workspaces/${ws[PARENT[S]]}/subaccounts/${ws[S]}`);
  assert.equal(r.status, 200, r.text);
  return r.body.status;
}

/** Brings a sub-account back to the status the world expects, through its root's owner. */
async function restoreStatus(S) {
  const want = status[S];
  const by = ROOT_OWNER(S);
  const base = `/api/v1/workspaces/${ws[PARENT[S]]}/subaccounts/${ws[S]}`;
  let cur = await subStatus(S);
  if (cur === want) return;
  if (cur === 'pending_deletion') assert.equal((await by.post(`${base}/restore`)).status, 200);
  else if (cur === 'suspended') assert.equal((await by.post(`${base}/reactivate`)).status, 200);
  cur = 'active';
  if (want === 'suspended') assert.equal((await by.post(`${base}/suspend`, { reason: REASON_A3 })).status, 200);
  if (want === 'pending_deletion') assert.equal((await by.post(`${base}/schedule-deletion`)).status, 200);
  assert.equal(await subStatus(S), want);
}

/** The expected answer of a cell: {status, type?, detail?, deny: bool}. */
function expectation(row, c) {
  const g = guardAnswer(row, c.pk, c.W);
  if (g) return { ...g, deny: true };
  if (c.v) return { status: c.v.status, type: c.v.type, deny: DENIALS.includes(c.v.status) };
  if (row.sub && !isChild(c.S, c.W)) return { status: 404, type: 'not-found', deny: true };
  if (row.sessionParam) return { status: 404, type: 'not-found', deny: true };
  if (row.move) return { status: MOVES[row.move].from(status[c.S]) ? 200 : 409, deny: false };
  return { status: row.ok, type: row.okType, deny: false };
}

/** Builds the path of a cell. */
function pathOf(pattern, c) {
  const id = c.v?.id ?? c.n?.id;
  return pattern
    .replace(':workspace_id', ws[c.W] ?? c.W)
    .replace(':subaccount_id', ws[c.S] ?? c.S)
    .replace(':session_id', c.session)
    .replace(':job_id', missingId('job'))
    .replace(':member_id', id ?? missingId('mem'))
    .replace(':invitation_id', id ?? missingId('inv'))
    .replace(':key_id', id ?? missingId('key'))
    .replace(':invoice_id', id ?? missingId('in'))
    .replace(':subscription_id', id ?? missingId('sub'))
    .replace(':avatar_id', missingId('av'))
    .replace(':section', 'team')
    .replace(':token', c.v?.token ?? randomToken());
}

// Resending an invitation is limited per invitation id (2 a minute) and per workspace (30 a minute),
// counted before the id is looked up. The matrix resends the same ids from many cells: when the next
// call would pass a limit, the test clock moves a minute on.
const resendRate = { ids: new Map(), ws: new Map(), advances: 0 };
async function spendResend(path) {
  const m = path.match(/workspaces\/([^/]+)\/invitations\/([^/]+)\/resend$/);
  const a = (resendRate.ids.get(m[2]) ?? 0) + 1;
  const b = (resendRate.ws.get(m[1]) ?? 0) + 1;
  if (a > 2 || b > 30) {
    const r = await w.srv.post('/api/v1/test/clock', { advance_seconds: 61 });
    assert.equal(r.status, 200, r.text);
    resendRate.ids.clear();
    resendRate.ws.clear();
    resendRate.advances++;
    return spendResend(path);
  }
  resendRate.ids.set(m[2], a);
  resendRate.ws.set(m[1], b);
}

const etags = {};
async function currentEtag(W) {
  if (W === 'NX') return '"v1"';
  const by = PARENT[W] ? ROOT_OWNER(W) : W === 'A' ? P.owner : P.ownerB;
  const r = await by.get(`/api/v1/workspaces/${ws[W]}`);
  assert.equal(r.status, 200, r.text);
  return r.headers.get('etag');
}

async function runCell(key, row, method, c, exp) {
  const [, pattern] = key.split(' ');
  const pr = P[c.pk];
  const path = pathOf(pattern, c);
  const opts = {};
  const given = c.v ?? c.n;
  if (method !== 'GET' && method !== 'HEAD' && !row.noBody) {
    if (given && 'body' in given) opts.body = given.body;
    else {
      const mk = exp.deny ? row.denyBody || row.allowBody : row.allowBody;
      opts.body = mk ? mk({ ...c, p: pr }) : undefined;
    }
  }
  if (row.ifMatch) opts.ifMatch = exp.deny ? etags[c.W] : await currentEtag(c.W);
  if (given?.ifMatch !== undefined) opts.ifMatch = given.ifMatch;
  if (row.resend && !guardAnswer(row, c.pk, c.W)) await spendResend(path);
  const snap = c.v?.snapshot ? await c.v.snapshot() : null;
  const r = await pr.req(method, path, opts);
  const headers = [...r.headers.keys()].filter((h) => !['date', 'x-request-id'].includes(h)).sort();
  const rec = { row: key, method, pk: c.pk, W: c.W, S: c.S, O: c.O, rel: relation(c.pk, c.W), path, expected: exp.status, status: r.status, text: r.text, headers };
  const problems = [];
  if (r.status !== exp.status) problems.push(`status ${r.status}, expected ${exp.status}`);
  else if (exp.type && method !== 'HEAD') {
    if (r.body?.type !== `urn:atrium:problem:${exp.type}`) problems.push(`type ${r.body?.type}, expected ${exp.type}`);
    if (exp.detail && r.body?.detail !== exp.detail) problems.push(`detail ${r.body?.detail}, expected ${exp.detail}`);
    if (exp.feature && (r.body?.feature !== exp.feature || JSON.stringify(r.body?.plans) !== JSON.stringify(plansWith(exp.feature))))
      problems.push(`402 names ${r.body?.feature} ${JSON.stringify(r.body?.plans)}, expected ${exp.feature} ${JSON.stringify(plansWith(exp.feature))}`);
  } else if (!exp.deny && row.check && method === 'GET') {
    const why = row.check(c, r);
    if (why) problems.push(why);
  }
  if (r.status === exp.status && method !== 'HEAD' && c.v?.check) {
    const why = c.v.check(r);
    if (why) problems.push(why);
  }
  if (method === 'HEAD' && r.text !== '') problems.push('HEAD answered with a body');
  if (r.status === exp.status && exp.header && !exp.header[1].test(r.headers.get(exp.header[0]) ?? '')) problems.push(`${exp.header[0]}: '${r.headers.get(exp.header[0])}'`);
  rec.problem = problems.join('; ') || null;
  // Classify a wrong answer: an allow where a denial was due, or a denial where an allow was due.
  const denied = DENIALS.includes(r.status);
  rec.unexpectedAllow = exp.deny && !denied;
  rec.unexpectedDeny = !exp.deny && denied && r.status !== exp.status;
  results.push(rec);
  // Undo what an allowed request changed, so every cell sees the same world.
  if (!exp.deny && r.status >= 200 && r.status < 300) {
    if (row.move) {
      if (r.body?.status !== MOVES[row.move].to) rec.problem = `${rec.problem ?? ''} moved to ${r.body?.status}, expected ${MOVES[row.move].to}`.trim();
      await restoreStatus(c.S);
    }
    if (row.created) {
      assert.match(r.headers.get('location') || '', new RegExp(`/api/v1/workspaces/${ws[c.W]}/subaccounts/ws_`));
    }
    if (c.v?.restore) await c.v.restore(snap);
  }
  return rec;
}

/** Every cell of a route: principals × target workspaces (× sub-accounts where the guard lets it). */
function cellsOf(key, row) {
  const [method] = key.split(' ');
  const methods = method === 'GET' ? ['GET', 'HEAD'] : [method];
  const cells = [];
  for (const pk of PRINCIPALS) {
    // Keys on routes without authentication are anonymous callers: the anonymous cells cover them.
    if (isKey(pk) && row.auth !== 'user' && row.auth !== 'session') continue;
    if (!row.ws) {
      if (row.sessionParam) {
        const other = pk === 'ownerB' ? P.owner : P.ownerB;
        cells.push({ pk, W: '-', S: 'foreign session', session: other.sessionId });
        cells.push({ pk, W: '-', S: 'missing session', session: missingId('ses') });
      } else if (row.objs) {
        for (const v of row.objs({ pk })) cells.push({ pk, W: '-', S: '-', O: v.O, v });
      } else cells.push({ pk, W: '-', S: '-' });
      continue;
    }
    for (const W of TARGETS) {
      if (row.objs) {
        // Past the guard, every object relation the row names; otherwise the natural target.
        if (guardAnswer(row, pk, W)) {
          const n = row.natural ? row.natural({ pk, W }) : undefined;
          cells.push({ pk, W, S: '-', O: n?.O, n });
        } else for (const v of row.objs({ pk, W }, subjectOf(pk, W))) cells.push({ pk, W, S: '-', O: v.O, v });
        continue;
      }
      if (!row.sub) {
        cells.push({ pk, W, S: '-' });
        continue;
      }
      // Past the guard, every sub-account relation; otherwise the natural one.
      const g = guardAnswer(row, pk, W);
      const natural = W === 'A' ? 'A1' : W === 'B' ? 'B1' : W === 'NX' ? 'NX' : 'A2';
      const subs = g ? [natural] : ['A1', 'A2', 'A3', 'A4', 'B1', 'A', 'B', 'NX'];
      for (const S of subs) cells.push({ pk, W, S });
    }
  }
  return cells.flatMap((c) => methods.map((m) => ({ ...c, method: m })));
}

// ---------------------------------------------------------------------------------------------------

test('route inventory: every route has a matrix row (and every row a route) with the same auth, section and access', () => {
  const listed = new Map(inventory.map((r) => [`${r.method} ${r.pattern}`, r]));
  const missing = [...listed.keys()].filter((k) => !ROWS[k]);
  const stale = Object.keys(ROWS).filter((k) => !listed.has(k));
  assert.deepEqual(missing, [], `routes without a row in tests/api/authz-matrix.test.mjs (add one): ${missing.join(', ')}`);
  assert.deepEqual(stale, [], `matrix rows for routes that no longer exist: ${stale.join(', ')}`);
  const wsRoutes = inventory.filter((r) => r.pattern.includes(':workspace_id'));
  assert.ok(wsRoutes.length >= 15, `only ${wsRoutes.length} workspace routes listed`);
  for (const [k, r] of listed) {
    const row = ROWS[k];
    assert.equal(r.auth, row.auth, `${k}: auth`);
    assert.equal(r.section, row.section, `${k}: section`);
    assert.equal(r.access, row.access, `${k}: access`);
    assert.equal(Boolean(row.ws), r.pattern.includes(':workspace_id'), `${k}: workspace route`);
  }
});

test('the policy data of this test is the policy the server documents (docs/security/authz.md)', async () => {
  const md = fs.readFileSync(repoPath('docs/security/authz.md'), 'utf8');
  const gen = await w.srv.cli(['policy', 'docs']);
  assert.equal(gen.code, 0);
  assert.equal(gen.stdout, md, 'docs/security/authz.md is stale');
  const cell = (s, role) => (role >= s.write ? 'read, write' : role >= s.read ? 'read' : '—');
  const rows = md.split('\n').filter((l) => l.startsWith('| `'));
  assert.equal(rows.length, SECTIONS.length);
  SECTIONS.forEach((s, i) => {
    const cond = [s.rootOnly && 'root workspaces only', s.devOnly && 'developer access only', s.feature && `plan feature \`${s.feature}\``, s.noNav && 'API only, not in the navigation']
      .filter(Boolean)
      .join('; ') || '—';
    const title = s.subTitle ? `${s.title} ("${s.subTitle}" in a sub-account)` : s.title;
    const want = `| \`${s.id}\` | ${title} | ${cell(s, ROLE.owner)} | ${cell(s, ROLE.admin)} | ${cell(s, ROLE.member)} | ${cond} | ${s.built ? 'yes' : 'not built yet'} |`;
    assert.equal(rows[i], want, `section ${s.id}`);
  });
});

test('matrix: every route × principal × relation answers as the policy says; denials write nothing', async (t) => {
  const deny = [];
  const allow = [];
  for (const [key, row] of Object.entries(ROWS)) {
    for (const c of cellsOf(key, row)) {
      const exp = expectation(row, c);
      (exp.deny ? deny : allow).push({ key, row, c, exp });
    }
  }
  // Pass 1: every cell that must be refused, batch by batch (one route and method), each batch
  // between two fingerprints of the store.
  for (const W of TARGETS) etags[W] = await currentEtag(W);
  const base = await checksum(w.srv);
  const wrote = [];
  const batches = new Map();
  for (const d of deny) {
    const k = `${d.c.method} ${d.key.split(' ')[1]}`;
    if (!batches.has(k)) batches.set(k, []);
    batches.get(k).push(d);
  }
  let prev = base;
  for (const [k, cells] of batches) {
    for (const d of cells) await runCell(d.key, d.row, d.c.method, d.c, d.exp);
    const now = await checksum(w.srv);
    if (now.hash !== prev.hash) wrote.push(k);
    prev = now;
  }
  // Pass 2: the allowed cells that must not write (pure rows: no-ops, refusals, invalid input), batch
  // by batch between fingerprints too.
  const isPure = (a) => a.row.pure && !a.c.v?.restore && !a.c.v?.writes;
  const pureBatches = new Map();
  for (const a of allow.filter(isPure)) {
    const k = `${a.c.method} ${a.key.split(' ')[1]}`;
    if (!pureBatches.has(k)) pureBatches.set(k, []);
    pureBatches.get(k).push(a);
  }
  const wroteAllowed = [];
  prev = await checksum(w.srv);
  for (const [k, cells] of pureBatches) {
    for (const a of cells) await runCell(a.key, a.row, a.c.method, a.c, a.exp);
    const now = await checksum(w.srv);
    if (now.hash !== prev.hash) wroteAllowed.push(k);
    prev = now;
  }
  // Pass 3: the allowed cells that write (and are undone where the world needs it), sign-outs last.
  const rest = allow.filter((a) => !isPure(a));
  rest.sort((a, b) => Number(Boolean(a.row.last)) - Number(Boolean(b.row.last)));
  for (const a of rest) await runCell(a.key, a.row, a.c.method, a.c, a.exp);
  // The sessions signed out by the last row are dead.
  for (const pk of PRINCIPALS.filter((x) => !UNAUTH.has(x) && !isKey(x))) {
    const r = await P[pk].get('/api/v1/me');
    assert.equal(r.status, 401, `${pk}'s session still works after DELETE /api/v1/session`);
  }

  const bad = results.filter((r) => r.problem);
  const unexpectedAllows = results.filter((r) => r.unexpectedAllow);
  const unexpectedDenies = results.filter((r) => r.unexpectedDeny);
  const byRel = {};
  for (const r of results) {
    const k = `${r.pk} / ${r.rel ?? '-'}`;
    byRel[k] ??= { allow: 0, deny: 0 };
    byRel[k][DENIALS.includes(r.expected) ? 'deny' : 'allow']++;
  }
  t.diagnostic(`${results.length} matrix requests (${deny.length} to refuse, ${allow.length + 1} to allow, ${pureBatches.size} pure allowed batches) over ${Object.keys(ROWS).length} routes, ${PRINCIPALS.length} principals (${Object.keys(KEYP).length} API keys: ${results.filter((r) => isKey(r.pk)).length} requests), ${TARGETS.length} workspaces; clock moved ${resendRate.advances}× for the resend limits`);
  const keyAllowed = results.filter((r) => isKey(r.pk) && r.status < 300);
  t.diagnostic(`API keys: ${keyAllowed.length} allowed requests over ${new Set(keyAllowed.map((r) => `${r.method} ${r.row}`)).size} route methods; ${results.filter((r) => isKey(r.pk) && r.status === 401).length} × 401, ${results.filter((r) => isKey(r.pk) && r.status === 403).length} × 403, ${results.filter((r) => isKey(r.pk) && r.status === 404).length} × 404`);
  const byStatus = {};
  for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  t.diagnostic(`answers by status: ${JSON.stringify(byStatus)}; ${results.filter((r) => r.status === 402).length} × 402 plan-required (${[...new Set(results.filter((r) => r.status === 402).map((r) => `${r.pk}@${r.W}`))].join(' ')})`);
  t.diagnostic(`${unexpectedAllows.length} unexpected allows, ${unexpectedDenies.length} unexpected denies, ${bad.length} wrong answers, ${wrote.length} denied batches that wrote, ${wroteAllowed.length} pure allowed batches that wrote`);
  const show = (list) => list.slice(0, 40).map((r) => `  ${r.pk} ${r.method} ${r.path} [W=${r.W} S=${r.S}${r.O ? ` O=${r.O}` : ''} ${r.rel ?? ''}] → ${r.status} ${r.text.slice(0, 160)} (${r.problem})`).join('\n');
  const perRow = {};
  for (const r of bad) perRow[`${r.method} ${r.row.split(' ')[1]}`] = (perRow[`${r.method} ${r.row.split(' ')[1]}`] ?? 0) + 1;
  if (bad.length) t.diagnostic(`wrong answers per route: ${JSON.stringify(perRow)}`);
  assert.deepEqual(wrote, [], `denied requests changed the store in batches: ${wrote.join(', ')}`);
  assert.deepEqual(wroteAllowed, [], `allowed requests that must not write changed the store in batches: ${wroteAllowed.join(', ')}`);
  assert.equal(unexpectedAllows.length, 0, `unexpected allows:\n${show(unexpectedAllows)}`);
  assert.equal(unexpectedDenies.length, 0, `unexpected denies:\n${show(unexpectedDenies)}`);
  assert.equal(bad.length, 0, `wrong answers:\n${show(bad)}`);
  // Every principal met every relation it has in this world.
  const rels = new Set(results.map((r) => r.rel));
  const relations = [
    'own workspace',
    'own workspace (membership deactivated)',
    'sub-account of own root (deactivated there)',
    'own sub-account (agency)',
    'own sub-account (agency + member)',
    'sub-account of own root (as member)',
    'parent root',
    'sibling sub-account',
    'foreign root',
    'foreign sub-account',
    'non-existent id',
    'key: own workspace',
    'key: sub-account of own workspace',
    'key: foreign root',
    'key: foreign sub-account',
    'key: own workspace (dead key)',
    'key: foreign root (dead key)',
  ];
  for (const want of relations) {
    assert.ok(rels.has(want), `no cell for relation '${want}'`);
  }
  // A plan without the section's feature was met (402), and developer access reached its routes.
  assert.ok(results.some((r) => r.expected === 402 && r.status === 402), 'no cell met 402 plan-required');
  assert.ok(results.some((r) => r.pk === 'dev' && r.row.includes('/billing-recovery') && r.status === 200), 'no developer call reached Billing Recovery');
});

test('API keys: every session-only route answers 401 session-required, also with a live cookie; routes without authentication ignore the key', async (t) => {
  const owner = await signIn(w.srv, 'owner', 'owner@acme.test', DEMO_PASSWORDS.owner);
  const before = await checksum(w.srv);
  const wrong = [];
  let n = 0;
  const sessionOnly = inventory.filter((r) => r.auth === 'session');
  assert.ok(sessionOnly.length >= 20, `only ${sessionOnly.length} session-only routes`);
  for (const r of sessionOnly) {
    const path = pathOf(r.pattern, { W: 'A', S: 'A1', session: owner.sessionId });
    for (const pk of ['keySvcA', 'keyAdminA', 'keyRevoked']) {
      // The owner's live cookie and CSRF token ride along: a Bearer request ignores them.
      const headers = { authorization: `Bearer ${P[pk].secret}`, cookie: owner.cookie, 'x-csrf-token': owner.csrf, origin: w.srv.url.replace(/\/$/, '') };
      const body = r.method === 'GET' || r.method === 'HEAD' ? undefined : JSON.stringify({ name: 'Pwned' });
      const res = await w.srv.req(path, { method: r.method, headers: body ? { ...headers, 'content-type': 'application/json' } : headers, body });
      n++;
      if (res.status !== 401 || res.body?.type !== 'urn:atrium:problem:session-required' || res.headers.get('set-cookie'))
        wrong.push(`${pk} ${r.method} ${r.pattern} → ${res.status} ${res.text.slice(0, 120)}`);
    }
  }
  // Without authentication the key means nothing: the same answer as without it.
  for (const path of ['/api/v1/system', '/api/v1/auth/options', '/api/v1/scopes', '/healthz']) {
    const plain = await w.srv.req(path);
    const keyed = await w.srv.req(path, { headers: { authorization: `Bearer ${P.keyRevoked.secret}` } });
    n++;
    if (keyed.status !== plain.status || keyed.status !== 200) wrong.push(`GET ${path} with a dead key → ${keyed.status}`);
  }
  t.diagnostic(`${n} key requests on ${sessionOnly.length} session-only routes and 4 public ones`);
  assert.deepEqual(wrong, []);
  assert.equal((await checksum(w.srv)).hash, before.hash, 'a refused key request changed the store');
});

test('a workspace the caller cannot reach answers exactly like one that does not exist', () => {
  const wsNotFound = results.filter((r) => r.status === 404 && r.row.includes(':workspace_id'));
  assert.ok(wsNotFound.length > 300, `only ${wsNotFound.length} 404s`);
  assert.equal(NOT_FOUND_TEXT, '{"type":"urn:atrium:problem:not-found","title":"Not found.","status":404}');
  const differing = wsNotFound.filter((r) => r.method !== 'HEAD' && r.text !== NOT_FOUND_TEXT);
  assert.deepEqual(differing.map((r) => `${r.pk} ${r.method} ${r.path}: ${r.text}`), []);
  // The same headers too (no ETag, Allow or Location that would tell the two apart).
  // Per method and kind of caller: a key's answers carry its RateLimit-* headers, whatever the id.
  const kind = (r) => (isKey(r.pk) ? 'key' : 'session');
  const shapes = new Set(wsNotFound.map((r) => `${r.method}/${kind(r)} ${r.headers.join(',')}`));
  const perMethod = {};
  for (const s of shapes) {
    const m = s.split(' ')[0];
    perMethod[m] = (perMethod[m] ?? 0) + 1;
  }
  assert.ok(wsNotFound.some((r) => isKey(r.pk) && r.W === 'A1'), 'no 404 for a key in a sub-account of its workspace');
  for (const [m, n] of Object.entries(perMethod)) assert.equal(n, 1, `${m} 404s differ in their header names: ${[...shapes].join(' | ')}`);
  // Foreign vs missing, per route and principal: byte-identical.
  for (const r of wsNotFound.filter((x) => x.W === 'B' && (x.pk === 'owner' || x.pk === 'keySvcA'))) {
    const nx = wsNotFound.find((x) => x.row === r.row && x.method === r.method && x.pk === r.pk && x.W === 'NX');
    assert.ok(nx, `${r.row}: no non-existent twin`);
    assert.equal(r.text, nx.text, r.row);
  }
});

test('method swap: every path answers 405 with Allow for methods it does not have, never 2xx', async (t) => {
  const fresh = await signIn(w.srv, 'owner', 'owner@acme.test', DEMO_PASSWORDS.owner);
  const anon = principal(w.srv, { key: 'anonymous' });
  // The methods a concrete path has: those of every pattern that matches it (a literal path such as
  // /api/v1/test/jobs/run also matches /api/v1/test/jobs/:job_id).
  const matches = (pattern, path) => {
    const a = pattern.split('/');
    const b = path.split('/');
    return a.length === b.length && a.every((seg, i) => seg.startsWith(':') ? b[i] !== '' : seg === b[i]);
  };
  const patterns = [...new Set(inventory.map((r) => r.pattern))];
  const before = await checksum(w.srv);
  let n = 0;
  const wrong = [];
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  for (const pattern of patterns) {
    const path = pathOf(pattern, { W: 'A', S: 'A1', session: missingId('ses') });
    const allowed = new Set(inventory.filter((r) => matches(r.pattern, path)).map((r) => r.method));
    if (allowed.has('GET')) allowed.add('HEAD');
    const allowHeader = order.filter((m) => allowed.has(m)).sort().join(',');
    for (const m of order.filter((x) => !allowed.has(x))) {
      for (const pr of [fresh, anon]) {
        const r = await pr.req(m, path, m === 'GET' || m === 'HEAD' || m === 'OPTIONS' ? {} : { body: { name: 'swap' } });
        n++;
        if (r.status !== 405 || (m !== 'HEAD' && r.body?.type !== 'urn:atrium:problem:method-not-allowed')) wrong.push(`${pr.key} ${m} ${path} → ${r.status} ${r.text.slice(0, 120)}`);
        else if ((r.headers.get('allow') || '').split(/,\s*/).sort().join(',') !== allowHeader)
          wrong.push(`${pr.key} ${m} ${path}: Allow '${r.headers.get('allow')}', expected '${allowHeader}'`);
      }
    }
  }
  t.diagnostic(`${n} method-swapped requests over ${patterns.length} paths`);
  assert.ok(n >= 100, `only ${n} swapped requests`);
  assert.deepEqual(wrong, []);
  assert.equal((await checksum(w.srv)).hash, before.hash, 'a method-swapped request changed the store');
});

test('foreign ids in the query and the body change nothing and show nothing', async () => {
  const owner = await signIn(w.srv, 'owner', 'owner@acme.test', DEMO_PASSWORDS.owner);
  const ownerB = await signIn(w.srv, 'ownerB', 'ownerb@bravo.test', w.p.ownerB.password);
  const before = await checksum(w.srv);
  const A = ws.A;
  // Query: filters naming B's ids find nothing in A.
  for (const qs of [`target=${ws.B}`, `target=${ws.B1}`, `actor=${ownerB.userId}`, `action=subaccount.created&target=${ws.B1}`]) {
    const r = await owner.get(`/api/v1/workspaces/${A}/audit-events?${qs}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.items, [], qs);
  }
  for (const qs of [`q=${ws.B1}`, 'q=Bravo', 'q=bravo-one', `q=${encodeURIComponent("Bea Bravo's")}`, 'status=active&q=bravo']) {
    const r = await owner.get(`/api/v1/workspaces/${A}/subaccounts?${qs}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.items, r.body.total], [[], 0], qs);
  }
  for (const qs of ['q=bravo', `q=${encodeURIComponent(ownerB.email)}`, `q=${ownerB.userId}`, `q=${MEM.B.ownerB.id}`, 'role=owner&q=bea', 'status=active&q=pending-b']) {
    const r = await owner.get(`/api/v1/workspaces/${A}/members?${qs}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.items, r.body.total], [[], 0], qs);
  }
  for (const st of ['all', 'pending', 'revoked']) {
    const r = await owner.get(`/api/v1/workspaces/${A}/invitations?status=${st}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.items.filter((i) => ![INV.A.pending, INV.A.revoked].includes(i.id)), [], st);
  }
  // Body: ids and other tenants' keys are unknown fields (400 naming them), never applied.
  const etag = (await owner.get(`/api/v1/workspaces/${A}`)).headers.get('etag');
  const cases = [
    [owner.patch(`/api/v1/workspaces/${A}`, { id: ws.B }, { ifMatch: etag }), ['id']],
    [owner.patch(`/api/v1/workspaces/${A}`, { parent_id: ws.B, name: 'X' }, { ifMatch: etag }), ['parent_id']],
    [owner.patch(`/api/v1/workspaces/${A}`, { workspace_id: ws.B, kind: 'sub_account', status: 'deleted' }, { ifMatch: etag }), ['kind', 'status', 'workspace_id']],
    [owner.post(`/api/v1/workspaces/${A}/subaccounts`, { name: 'Smuggled', parent_id: ws.B }), ['parent_id']],
    [owner.post(`/api/v1/workspaces/${A}/subaccounts`, { name: 'Smuggled', workspace_id: ws.B, status: 'active' }), ['status', 'workspace_id']],
    [owner.patch(`/api/v1/workspaces/${A}/subaccounts/${ws.A1}`, { name: 'Moved', parent_id: ws.B }), ['parent_id']],
    [owner.post(`/api/v1/workspaces/${A}/subaccounts/${ws.A1}/suspend`, { reason: 'x', workspace_id: ws.B1 }), ['workspace_id']],
    [owner.patch(`/api/v1/workspaces/${A}/notifications`, { groups: { team: { email: false } }, user_id: ownerB.userId }), ['user_id']],
    [owner.patch('/api/v1/me/profile', { name: 'X', id: ownerB.userId }), ['id']],
    [owner.patch(`/api/v1/workspaces/${A}/members/${MEM.A.member.id}`, { role: 'member', workspace_id: ws.B }), ['workspace_id']],
    [owner.patch(`/api/v1/workspaces/${A}/members/${MEM.A.member.id}`, { role: 'member', user_id: ownerB.userId, status: 'active' }), ['status', 'user_id']],
    [owner.post(`/api/v1/workspaces/${A}/invitations`, { emails: ['smuggled@invitees.test'], role: 'member', workspace_id: ws.B }), ['workspace_id']],
    [owner.post(`/api/v1/workspaces/${A}/invitations`, { emails: ['smuggled@invitees.test'], role: 'member', inviter_id: ownerB.userId }), ['inviter_id']],
    [owner.post(`/api/v1/workspaces/${A}/ownership-transfer`, { member_id: MEM.A.member.id, workspace_id: ws.B }), ['workspace_id']],
    [owner.post(`/api/v1/workspaces/${A}/ownership-transfer`, { member_id: MEM.A.member.id, to_user: ownerB.userId }), ['to_user']],
    [owner.post(`/api/v1/invitations/${TOK.live}/accept`, { workspace_id: ws.B }), ['workspace_id']],
    [owner.post(`/api/v1/invitations/${TOK.live}/accept`, { role: 'owner' }), ['role']],
  ];
  for (const [rp, fields] of cases) {
    const r = await rp;
    assert.equal(r.status, 400, r.text);
    const named = r.body.errors.filter((e) => e.code === 'unknown_field').map((e) => e.field).sort();
    assert.deepEqual(named, fields, r.text);
  }
  // Path: B's sub-account under A's root (and A's under B's), in every sub-account route.
  for (const [pr, W, S] of [[owner, A, ws.B1], [ownerB, ws.B, ws.A1], [owner, ws.A1, ws.A2], [owner, A, A]]) {
    for (const [m, suffix, body] of [['GET', '', undefined], ['PATCH', '', { name: 'Pwned' }], ['POST', '/suspend', { reason: 'x' }], ['POST', '/reactivate'], ['POST', '/schedule-deletion'], ['POST', '/restore']]) {
      const r = await pr.req(m, `/api/v1/workspaces/${W}/subaccounts/${S}${suffix}`, body ? { body } : {});
      const want = W === ws.A1 ? 403 : 404;
      assert.equal(r.status, want, `${pr.key} ${m} …/${W}/subaccounts/${S}${suffix}: ${r.text}`);
      if (want === 404) assert.equal(r.text, NOT_FOUND_TEXT);
    }
  }
  // Malformed and look-alike ids: the same 404.
  for (const id of ['ws_bad', ws.A.toLowerCase(), `${ws.A}x`, ws.A.replace('ws_', 'usr_'), '%2e%2e', encodeURIComponent(`${ws.A}/../${ws.B}`), `${ws.B}%00`]) {
    const r = await owner.get(`/api/v1/workspaces/${id}/notifications`);
    assert.equal(r.status, 404, `${id}: ${r.text}`);
    assert.equal(r.text, NOT_FOUND_TEXT, id);
  }
  assert.equal((await checksum(w.srv)).hash, before.hash, 'a refused request changed the store');
});
