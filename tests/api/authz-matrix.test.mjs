// T1 (reliability.md §2.4, §8.2): the authorization matrix. Every route that `atrium routes` lists ×
// every principal × every tenant relation, with the expected answer derived from the Settings policy
// (DESIGN.md §1), which this file restates as data (and checks against docs/security/authz.md):
//   anonymous or ended session → 401; a workspace the caller cannot reach (foreign, sibling, parent,
//   a root member in a sub-account, non-existent) → 404 with the body of a missing id; reachable but
//   locked (suspended / pending deletion, not agency) → 403 workspace-suspended; reachable without the
//   role or outside the section's scope → 403; otherwise the route's own answer (2xx, or 400/409 for
//   the deliberately invalid or status-bound requests).
// A route without a row here fails the inventory test, so adding a route means adding its row.
// Denied requests run first, as one pass, with a fingerprint of every business table taken before and
// after each route's batch: a denial that still wrote something fails. Allowed requests run after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { repoPath } from '../lib/server.mjs';
import { startWorld, checksum, principal, signIn, addMembership, missingId, DEMO_PASSWORDS } from './lib-world.mjs';

// ---------------------------------------------------------------------------------------------------
// The policy, as data (src/policy/policy.c restated; the docs test below keeps the two in step).

const ROLE = { none: 0, member: 1, admin: 2, owner: 3 };
const NOBODY = 4;
// [id, title, title in a sub-account, read role, write role, plan feature, flags]
const SECTIONS = [
  ['workspace', 'Workspace Settings', 'Sub Account', ROLE.admin, ROLE.admin, null, 'built'],
  ['profile', 'Profile', null, ROLE.member, ROLE.member, null, 'built'],
  ['notifications', 'Notifications', null, ROLE.member, ROLE.member, null, 'built'],
  ['team', 'Team', null, ROLE.admin, ROLE.admin, null, ''],
  ['billing', 'Billing', null, ROLE.admin, ROLE.owner, null, ''],
  ['subaccounts', 'Sub-Accounts', null, ROLE.admin, ROLE.admin, null, 'built root'],
  ['integrations', 'Integrations', null, ROLE.admin, ROLE.admin, null, ''],
  ['plugins', 'Plugins', null, ROLE.admin, ROLE.admin, null, ''],
  ['import', 'Import', null, ROLE.admin, ROLE.admin, null, ''],
  ['api_keys', 'API Keys', null, ROLE.admin, ROLE.admin, 'api_access', ''],
  ['business_profile', 'Business Profile', null, ROLE.admin, ROLE.admin, null, ''],
  ['voice', 'Voice', null, ROLE.admin, ROLE.admin, 'voice', ''],
  ['activity', 'Activity', null, ROLE.admin, NOBODY, null, 'built'],
  ['snapshots', 'Snapshots', null, ROLE.member, ROLE.member, null, 'dev'],
  ['dev_admin', 'DEV_ADMIN', null, ROLE.member, ROLE.member, null, 'dev'],
  ['labs', 'Labs', null, ROLE.member, ROLE.member, null, 'dev'],
  ['billing_recovery', 'Billing Recovery', null, ROLE.member, ROLE.member, null, 'dev'],
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
}));
const FEATURES = ['api_access', 'voice']; // every workspace of this world (demo and sign-up roots, copied to children)

/** 0 none, 1 read, 2 write: what a subject {role, kind, developer} may do in a section. */
function accessOf(section, who) {
  const s = SECTIONS.find((x) => x.id === section);
  if (!s || who.role === ROLE.none) return 0;
  if (s.rootOnly && who.kind !== 'root') return 0;
  if (s.devOnly && !who.developer) return 0;
  if (s.feature && !FEATURES.includes(s.feature)) return 0;
  if (who.role >= s.write) return 2;
  if (who.role >= s.read) return 1;
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// The world: lib-world's, plus A3 (suspended) and A4 (pending deletion), where a1member is a member,
// and an ended session of member@ (signedOut).

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
  ownerB: { B: 'owner' },
  outsider: {},
};
const DEVELOPER = new Set(['dev']);
const PRINCIPALS = Object.keys(MEMBERS);
const TARGETS = ['A', 'A1', 'A2', 'A3', 'A4', 'B', 'B1', 'NX'];
const PARENT = { A: null, A1: 'A', A2: 'A', A3: 'A', A4: 'A', B: null, B1: 'B', NX: null };
const KIND = (W) => (PARENT[W] ? 'sub_account' : 'root');

let w; // the world
let ws; // key → id
let P; // key → principal
const status = { A1: 'active', A2: 'active', A3: 'suspended', A4: 'pending_deletion', B1: 'active' };
const NAMES = {};
let inventory = [];
const results = []; // every matrix request: {row, method, pk, W, S, expected, status, text, headers}
let NOT_FOUND_TEXT = null;

before(async () => {
  w = await startWorld();
  ws = { ...w.ws };
  P = { ...w.p, anonymous: w.p.anon };
  const { owner } = P;
  const a3 = await owner.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Acme Paused', slug: 'acme-paused' });
  const a4 = await owner.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Acme Closing', slug: 'acme-closing' });
  assert.equal(a3.status, 201, a3.text);
  assert.equal(a4.status, 201, a4.text);
  ws.A3 = a3.body.id;
  ws.A4 = a4.body.id;
  const users = Object.fromEntries((await w.srv.sql(`SELECT email || '=' || id FROM users`)).split('\n').map((l) => l.split('=')));
  await addMembership(w.srv, ws.A3, users['a1member@acme.test'], 'admin');
  await addMembership(w.srv, ws.A4, users['a1member@acme.test'], 'member');
  const s3 = await owner.post(`/api/v1/workspaces/${ws.A}/subaccounts/${ws.A3}/suspend`, { reason: REASON_A3 });
  const s4 = await owner.post(`/api/v1/workspaces/${ws.A}/subaccounts/${ws.A4}/schedule-deletion`);
  assert.equal(s3.status, 200, s3.text);
  assert.equal(s4.status, 200, s4.text);
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
  const direct = ROLE[m[W] ?? 'none'];
  const viaParent = PARENT[W] && ROLE[m[PARENT[W]] ?? 'none'] >= ROLE.admin ? ROLE.admin : ROLE.none;
  const role = Math.max(direct, viaParent);
  if (role === ROLE.none) return null;
  return { role, agency: viaParent > direct, kind: KIND(W), developer: DEVELOPER.has(pk) };
}

/** The tenant relation of W to the principal, for the report. */
function relation(pk, W) {
  if (W === 'NX') return 'non-existent id';
  const m = MEMBERS[pk];
  if (m[W]) return resolve(pk, W).agency ? 'own sub-account (agency + member)' : 'own workspace';
  if (PARENT[W] && m[PARENT[W]]) return ROLE[m[PARENT[W]]] >= ROLE.admin ? 'own sub-account (agency)' : 'sub-account of own root (as member)';
  if (Object.keys(m).some((x) => PARENT[x] === W)) return 'parent root';
  if (PARENT[W] && Object.keys(m).some((x) => PARENT[x] === PARENT[W])) return 'sibling sub-account';
  return PARENT[W] ? 'foreign sub-account' : 'foreign root';
}

const UNAUTH = new Set(['anonymous', 'signedOut']);

/** {status, type?, detail?} that the guard answers, or null when the request reaches its handler. */
function guardAnswer(row, pk, W) {
  if (row.auth === 'public' || row.auth === 'test' || row.auth === 'operator') return null;
  if (UNAUTH.has(pk)) return { status: 401, type: 'unauthenticated' };
  if (!row.ws) return null;
  const who = resolve(pk, W);
  if (!who) return { status: 404, type: 'not-found' };
  const st = PARENT[W] ? status[W] : 'active';
  if (!who.agency && st !== 'active')
    return { status: 403, type: 'workspace-suspended', detail: st === 'suspended' ? REASON_A3 : REASON_A4 };
  if (row.section && accessOf(row.section, who) < (row.access === 'write' ? 2 : 1)) return { status: 403, type: 'forbidden' };
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
const ROWS = {
  'GET /healthz': open(200),
  'GET /readyz': open(200),
  'GET /metrics': open(200, { auth: 'operator' }),
  'GET /api/v1/system': open(200),
  'GET /api/v1/auth/options': open(200),
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
  'GET /api/v1/workspaces': { auth: 'session', section: null, access: 'none', ok: 200 },

  [`GET ${WSP}/sections`]: { auth: 'session', ws: true, section: null, access: 'none', ok: 200, check: checkSections },
  [`GET ${WSP}`]: { auth: 'session', ws: true, section: 'workspace', access: 'read', ok: 200 },
  [`PATCH ${WSP}`]: {
    auth: 'session', ws: true, section: 'workspace', access: 'write', ok: 200,
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
  [`GET ${WSP}/subaccounts`]: { auth: 'session', ws: true, section: 'subaccounts', access: 'read', ok: 200 },
  [`POST ${WSP}/subaccounts`]: {
    auth: 'session', ws: true, section: 'subaccounts', access: 'write', ok: 201,
    allowBody: (c) => ({ name: `Matrix ${c.pk}` }),
    denyBody: (c) => ({ name: `Pwned ${c.pk}` }),
    created: true,
  },
  [`GET ${SUBP}`]: { auth: 'session', ws: true, sub: true, section: 'subaccounts', access: 'read', ok: 200 },
  [`PATCH ${SUBP}`]: {
    auth: 'session', ws: true, sub: true, section: 'subaccounts', access: 'write', ok: 200,
    allowBody: (c) => ({ name: NAMES[c.S] }),
    denyBody: () => ({ name: 'Pwned' }),
  },
  [`POST ${SUBP}/suspend`]: { auth: 'session', ws: true, sub: true, section: 'subaccounts', access: 'write', move: 'suspend', allowBody: () => ({ reason: 'matrix' }), denyBody: () => ({ reason: 'pwned' }) },
  [`POST ${SUBP}/reactivate`]: { auth: 'session', ws: true, sub: true, section: 'subaccounts', access: 'write', move: 'reactivate', noBody: true },
  [`POST ${SUBP}/schedule-deletion`]: { auth: 'session', ws: true, sub: true, section: 'subaccounts', access: 'write', move: 'schedule-deletion', noBody: true },
  [`POST ${SUBP}/restore`]: { auth: 'session', ws: true, sub: true, section: 'subaccounts', access: 'write', move: 'restore', noBody: true },
  [`GET ${WSP}/audit-events`]: { auth: 'session', ws: true, section: 'activity', access: 'read', ok: 200 },

  'GET /api/v1/test/clock': open(200, { auth: 'test' }),
  'POST /api/v1/test/clock': open(400, { auth: 'test', allowBody: () => ({}) }),
  'POST /api/v1/test/jobs/run': open(200, { auth: 'test', noBody: true }),
  'POST /api/v1/test/jobs': open(400, { auth: 'test', allowBody: () => ({}) }),
  'GET /api/v1/test/jobs/:job_id': open(404, { auth: 'test', jobParam: true }),
  'POST /api/v1/test/sleep': open(400, { auth: 'test', allowBody: () => ({}) }),
};

/** The sections a subject must see (policy order, built only, readable only, sub-account titles). */
function expectedSections(who) {
  return SECTIONS.filter((s) => s.built && accessOf(s.id, who) > 0).map((s) => ({
    id: s.id,
    title: who.kind === 'sub_account' && s.subTitle ? s.subTitle : s.title,
    access: accessOf(s.id, who) === 2 ? 'write' : 'read',
  }));
}

function checkSections(c, r) {
  const who = resolve(c.pk, c.W);
  const want = {
    items: expectedSections(who),
    role: Object.keys(ROLE).find((k) => ROLE[k] === who.role),
    kind: who.kind,
    agency: who.agency,
  };
  return JSON.stringify(r.body) === JSON.stringify(want) ? null : `sections ${r.text} ≠ expected ${JSON.stringify(want)}`;
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
  if (row.sub && !isChild(c.S, c.W)) return { status: 404, type: 'not-found', deny: true };
  if (row.sessionParam) return { status: 404, type: 'not-found', deny: true };
  if (row.move) return { status: MOVES[row.move].from(status[c.S]) ? 200 : 409, deny: false };
  return { status: row.ok, deny: false };
}

/** Builds the path of a cell. */
function pathOf(pattern, c) {
  return pattern
    .replace(':workspace_id', ws[c.W] ?? c.W)
    .replace(':subaccount_id', ws[c.S] ?? c.S)
    .replace(':session_id', c.session)
    .replace(':job_id', missingId('job'));
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
  if (method !== 'GET' && method !== 'HEAD' && !row.noBody) {
    const mk = exp.deny ? row.denyBody || row.allowBody : row.allowBody;
    opts.body = mk ? mk({ ...c, p: pr }) : undefined;
  }
  if (row.ifMatch) opts.ifMatch = exp.deny ? etags[c.W] : await currentEtag(c.W);
  const r = await pr.req(method, path, opts);
  const headers = [...r.headers.keys()].filter((h) => !['date', 'x-request-id'].includes(h)).sort();
  const rec = { row: key, method, pk: c.pk, W: c.W, S: c.S, rel: relation(c.pk, c.W), path, expected: exp.status, status: r.status, text: r.text, headers };
  const problems = [];
  if (r.status !== exp.status) problems.push(`status ${r.status}, expected ${exp.status}`);
  else if (exp.type && method !== 'HEAD') {
    if (r.body?.type !== `urn:atrium:problem:${exp.type}`) problems.push(`type ${r.body?.type}, expected ${exp.type}`);
    if (exp.detail && r.body?.detail !== exp.detail) problems.push(`detail ${r.body?.detail}, expected ${exp.detail}`);
  } else if (!exp.deny && row.check && method === 'GET') {
    const why = row.check(c, r);
    if (why) problems.push(why);
  }
  if (method === 'HEAD' && r.text !== '') problems.push('HEAD answered with a body');
  rec.problem = problems.join('; ') || null;
  // Classify a wrong answer: an allow where a denial was due, or a denial where an allow was due.
  const denied = [401, 403, 404].includes(r.status);
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
  }
  return rec;
}

/** Every cell of a route: principals × target workspaces (× sub-accounts where the guard lets it). */
function cellsOf(key, row) {
  const [method] = key.split(' ');
  const methods = method === 'GET' ? ['GET', 'HEAD'] : [method];
  const cells = [];
  for (const pk of PRINCIPALS) {
    if (!row.ws) {
      if (row.sessionParam) {
        const other = pk === 'ownerB' ? P.owner : P.ownerB;
        cells.push({ pk, W: '-', S: 'foreign session', session: other.sessionId });
        cells.push({ pk, W: '-', S: 'missing session', session: missingId('ses') });
      } else cells.push({ pk, W: '-', S: '-' });
      continue;
    }
    for (const W of TARGETS) {
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
    const cond = [s.rootOnly && 'root workspaces only', s.devOnly && 'developer access only', s.feature && `plan feature \`${s.feature}\``].filter(Boolean).join('; ') || '—';
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
  // Pass 2: every cell that must be allowed (sign-outs last).
  allow.sort((a, b) => Number(Boolean(a.row.last)) - Number(Boolean(b.row.last)));
  for (const a of allow) await runCell(a.key, a.row, a.c.method, a.c, a.exp);
  // The sessions signed out by the last row are dead.
  for (const pk of PRINCIPALS.filter((x) => !UNAUTH.has(x))) {
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
    byRel[k][[401, 403, 404].includes(r.expected) ? 'deny' : 'allow']++;
  }
  t.diagnostic(`${results.length} matrix requests (${deny.length} to refuse, ${allow.length + 1} to allow) over ${Object.keys(ROWS).length} routes, ${PRINCIPALS.length} principals, ${TARGETS.length} workspaces`);
  t.diagnostic(`${unexpectedAllows.length} unexpected allows, ${unexpectedDenies.length} unexpected denies, ${bad.length} wrong answers, ${wrote.length} denied batches that wrote`);
  const show = (list) => list.slice(0, 40).map((r) => `  ${r.pk} ${r.method} ${r.path} [W=${r.W} S=${r.S} ${r.rel ?? ''}] → ${r.status} ${r.text.slice(0, 160)} (${r.problem})`).join('\n');
  assert.deepEqual(wrote, [], `denied requests changed the store in batches: ${wrote.join(', ')}`);
  assert.equal(unexpectedAllows.length, 0, `unexpected allows:\n${show(unexpectedAllows)}`);
  assert.equal(unexpectedDenies.length, 0, `unexpected denies:\n${show(unexpectedDenies)}`);
  assert.equal(bad.length, 0, `wrong answers:\n${show(bad)}`);
  // Every principal met every relation it has in this world.
  const rels = new Set(results.map((r) => r.rel));
  const relations = [
    'own workspace',
    'own sub-account (agency)',
    'own sub-account (agency + member)',
    'sub-account of own root (as member)',
    'parent root',
    'sibling sub-account',
    'foreign root',
    'foreign sub-account',
    'non-existent id',
  ];
  for (const want of relations) {
    assert.ok(rels.has(want), `no cell for relation '${want}'`);
  }
});

test('a workspace the caller cannot reach answers exactly like one that does not exist', () => {
  const wsNotFound = results.filter((r) => r.status === 404 && r.row.includes(':workspace_id'));
  assert.ok(wsNotFound.length > 300, `only ${wsNotFound.length} 404s`);
  assert.equal(NOT_FOUND_TEXT, '{"type":"urn:atrium:problem:not-found","title":"Not found.","status":404}');
  const differing = wsNotFound.filter((r) => r.method !== 'HEAD' && r.text !== NOT_FOUND_TEXT);
  assert.deepEqual(differing.map((r) => `${r.pk} ${r.method} ${r.path}: ${r.text}`), []);
  // The same headers too (no ETag, Allow or Location that would tell the two apart).
  const shapes = new Set(wsNotFound.map((r) => `${r.method} ${r.headers.join(',')}`));
  const perMethod = {};
  for (const s of shapes) {
    const m = s.split(' ')[0];
    perMethod[m] = (perMethod[m] ?? 0) + 1;
  }
  for (const [m, n] of Object.entries(perMethod)) assert.equal(n, 1, `${m} 404s differ in their header names: ${[...shapes].join(' | ')}`);
  // Foreign vs missing, per route and principal: byte-identical.
  for (const r of wsNotFound.filter((x) => x.W === 'B' && x.pk === 'owner')) {
    const nx = wsNotFound.find((x) => x.row === r.row && x.method === r.method && x.pk === 'owner' && x.W === 'NX');
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
