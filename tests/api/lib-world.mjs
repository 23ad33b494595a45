// The fixture world of the authorization and workspace tests (reliability.md §8.1 "fixture world"),
// shared by tests/api/authz-*.test.mjs and tests/api/workspaces-*.test.mjs. Not a test file itself.
//
//   const w = await startWorld();
//   await w.p.owner.get(`/api/v1/workspaces/${w.ws.A}`);
//   await w.stop();
//
// The world: `atrium demo` (root A "Acme Agency" with sub-accounts A1 "Acme Dental" and A2 "Acme
// Fitness"; owner@, admin@, member@, dev@ of A, subadmin@ admin of A1), plus an unrelated root B made
// by sign-up (ownerB@) with one sub-account B1, a user without any workspace (outsider@), a plain
// member of A1 (a1member@) and a user who is admin of A and also a member of A1 (agency@: in A1 the
// stronger agency access wins). These memberships are written with SQL (no invitation round trip), so
// the world stays cheap to build.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { startServer, sleep } from '../lib/server.mjs';

export { sleep };

export const DEMO_PASSWORDS = {
  owner: 'acme-owner-demo-2026',
  admin: 'acme-admin-demo-2026',
  member: 'acme-member-demo-2026',
  subadmin: 'acme-subadmin-demo-2026',
  dev: 'acme-dev-demo-2026',
};
export const EXTRA_PASSWORD = 'Quiet-Harbor-Lantern-4821';
export const WS_ID = /^ws_[0-9A-HJKMNP-TV-Z]{26}$/;

const ULID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A well-formed id of the given prefix that names nothing. */
export function missingId(prefix = 'ws') {
  const bytes = randomBytes(25);
  let s = '0';
  for (const b of bytes) s += ULID_ALPHABET[b % 32];
  return `${prefix}_${s}`;
}

export const uniq = (p) => `${p}-${randomBytes(4).toString('hex')}`;

function cookieOf(r) {
  const raw = r.headers.get('set-cookie');
  assert.ok(raw, 'sign-in sets a cookie');
  return raw.split(';')[0].trim();
}

/**
 * A caller: anonymous (no cookie) or a signed-in user. req() adds the cookie and, on writes, the CSRF
 * token and a same-origin Origin. Returns {status, headers, body, text}.
 */
export function principal(srv, { key, email = null, password = null, cookie = null, csrf = null, user = null, session = null, bearer = null }) {
  const origin = srv.url.replace(/\/$/, '');
  const p = {
    key,
    email,
    password,
    cookie,
    csrf,
    user,
    bearer,
    userId: user?.id ?? null,
    sessionId: session?.id ?? null,
    anonymous: !cookie && !bearer,
    /** method, path, { body (object or raw string), headers, ifMatch } */
    req(method, path, { body, headers = {}, ifMatch } = {}) {
      const h = {};
      if (p.cookie) h.cookie = p.cookie;
      // An API key caller: the Authorization header only (no cookie, CSRF token or Origin).
      if (p.bearer) h.authorization = `Bearer ${p.bearer}`;
      else if (method !== 'GET' && method !== 'HEAD') {
        if (p.csrf) h['x-csrf-token'] = p.csrf;
        h.origin = origin;
      }
      if (ifMatch !== undefined) h['if-match'] = ifMatch;
      let payload;
      if (body !== undefined) {
        h['content-type'] = 'application/json';
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      return srv.req(path, { method, headers: { ...h, ...headers }, body: payload });
    },
    get(path, opts) {
      return p.req('GET', path, opts);
    },
    post(path, body, opts = {}) {
      return p.req('POST', path, { ...opts, body: body === undefined ? {} : body });
    },
    patch(path, body, opts = {}) {
      return p.req('PATCH', path, { ...opts, body });
    },
    del(path, opts) {
      return p.req('DELETE', path, opts);
    },
  };
  return p;
}

/** An API key caller (`Authorization: Bearer <secret>`); meta (id, workspace, ...) is kept on it. */
export function keyPrincipal(srv, key, secret, meta = {}) {
  return Object.assign(principal(srv, { key, bearer: secret }), { secret, ...meta });
}

/** The secret format: atr_ + 40 base62 + a 6-character base62 CRC-32 of the random part. */
export const KEY_SECRET = /^atr_[0-9A-Za-z]{46}$/;
export const KEY_ID = /^key_[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * Creates an API key as a signed-in principal (201 asserted; body defaults: a workspace key with
 * team:read). Returns {key (the description), secret, id, location}.
 */
export async function createKey(pr, wsId, body = {}) {
  const r = await pr.post(`/api/v1/workspaces/${wsId}/api-keys`, { name: uniq('key'), scopes: ['team:read'], owner: 'workspace', ...body });
  assert.equal(r.status, 201, `create key in ${wsId} as ${pr.key}: ${r.status} ${r.text}`);
  assert.match(r.body.secret, KEY_SECRET, r.text);
  return { key: r.body.key, secret: r.body.secret, id: r.body.key.id, location: r.headers.get('location') };
}

/** The 6-character base62 CRC-32 checksum of a secret's 40 random characters (src/apikeys/apikeys.c). */
export function keyChecksum(random40) {
  let crc = 0xffffffff;
  for (const ch of Buffer.from(random40, 'latin1')) {
    crc ^= ch;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  crc = (~crc) >>> 0;
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = alphabet[crc % 62] + out;
    crc = Math.floor(crc / 62);
  }
  return out;
}

/** A well-formed secret (good checksum) that names no key. */
export function fakeSecret() {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let r = '';
  for (const b of randomBytes(40)) r += alphabet[b % 62];
  return `atr_${r}${keyChecksum(r)}`;
}

/**
 * A request to the server from another loopback source address (127.0.0.2, ...), for CIDR allowlists
 * and last-used addresses. Resolves {status, headers (a Headers), body, text}.
 */
export function reqFrom(srv, localAddress, method, path, { headers = {}, body } = {}) {
  const u = new URL(path.replace(/^\//, ''), srv.url);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const h = { ...headers };
  if (payload !== undefined) {
    h['content-type'] ??= 'application/json';
    h['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const rq = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, localAddress, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let parsed = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {}
        const hs = new Headers();
        for (const [k, v] of Object.entries(res.headers)) hs.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        resolve({ status: res.statusCode, headers: hs, body: parsed, text });
      });
    });
    rq.on('timeout', () => rq.destroy(new Error('timeout')));
    rq.on('error', reject);
    if (payload !== undefined) rq.write(payload);
    rq.end();
  });
}

/** Every scope id of GET /api/v1/scopes. */
export async function allScopes(srv) {
  const r = await srv.req('/api/v1/scopes');
  assert.equal(r.status, 200, r.text);
  return r.body.items.map((s) => s.id);
}

/** Signs in (201 asserted) and returns a principal. */
export async function signIn(srv, key, email, password) {
  const r = await srv.post('/api/v1/session', { email, password });
  assert.equal(r.status, 201, `sign-in ${email}: ${r.status} ${r.text}`);
  return principal(srv, { key, email, password, cookie: cookieOf(r), csrf: r.body.csrf_token, user: r.body.user, session: r.body.session });
}

/** Signs up (201 asserted): a new user with a root workspace of their own. */
export async function signUp(srv, key, email, name, password = EXTRA_PASSWORD) {
  const r = await srv.post('/api/v1/signup', { name, email, password });
  assert.equal(r.status, 201, `sign-up ${email}: ${r.status} ${r.text}`);
  return principal(srv, { key, email, password, cookie: cookieOf(r), csrf: r.body.csrf_token, user: r.body.user, session: r.body.session });
}

/** `atrium user add` (no workspace). */
export async function addUser(srv, email, name, { password = EXTRA_PASSWORD, developer = false } = {}) {
  const args = ['user', 'add', email, '--name', name, '--password-stdin'];
  if (developer) args.push('--developer');
  const r = await srv.cli(args, {}, { input: `${password}\n` });
  assert.equal(r.code, 0, `user add ${email} → ${r.code}: ${r.stderr}`);
}

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** Adds a membership with SQL (status 'active' or 'deactivated'); returns its id. */
export async function addMembership(srv, wsId, userId, role, { status = 'active' } = {}) {
  const id = missingId('mem');
  const deactivatedAt = status === 'active' ? 'NULL' : '1';
  await srv.sql(
    `INSERT INTO memberships (workspace_id, user_id, id, role, joined_at, status, deactivated_at) ` +
      `VALUES (${q(wsId)}, ${q(userId)}, ${q(id)}, ${q(role)}, 1, ${q(status)}, ${deactivatedAt})`,
  );
  return id;
}

/** Inserts a user (no workspace) whose password is the demo owner's; returns the id. */
export async function insertUser(srv, email, name, { developer = false } = {}) {
  const id = missingId('usr');
  await srv.sql(
    `INSERT INTO users (id, email, name, password_hash, developer, created_at, updated_at) ` +
      `SELECT ${q(id)}, ${q(email)}, ${q(name)}, password_hash, ${developer ? 1 : 0}, 1, 1 FROM users WHERE email = 'owner@acme.test'`,
  );
  return id;
}

/**
 * A fingerprint of every business table (workspaces, memberships with their role and status,
 * preferences, the audit chain, jobs, users, which sessions are live, invitations with their token and
 * state, ownership transfers, password resets, the mail outbox, API keys and the key policy,
 * idempotency records, and billing: customers, subscriptions, invoices, usage, payments, provider
 * events, dunning episodes, test clocks and each workspace's billing mode). Two equal fingerprints: nothing was
 * written in between. Not covered, on purpose: memberships.last_active_at (every request a member makes
 * moves it), an API key's last use, rate-limit windows, and a mail's delivery state (the job's state already shows it).
 */
export async function checksum(srv) {
  const text = await srv.sql(
    [
      `SELECT 'w|' || id || '|' || COALESCE(parent_id, '') || '|' || status || '|' || COALESCE(status_reason, '') ` +
        `|| '|' || version || '|' || name || '|' || COALESCE(display_name, '') || '|' || slug || '|' ` +
        `|| COALESCE(industry, '') || '|' || COALESCE(timezone, '') || '|' || updated_at AS line FROM workspaces`,
      `SELECT 'm|' || workspace_id || '|' || user_id || '|' || id || '|' || role || '|' || status || '|' || COALESCE(CAST(deactivated_at AS TEXT), '') FROM memberships`,
      `SELECT 'n|' || workspace_id || '|' || user_id || '|' || event_group || '|' || channel || '|' || enabled FROM notification_prefs`,
      `SELECT 'a|' || workspace_id || '|' || seq || '|' || hash FROM audit_events`,
      `SELECT 'j|' || id || '|' || kind || '|' || state || '|' || run_at FROM jobs`,
      `SELECT 'u|' || id || '|' || email || '|' || name || '|' || COALESCE(avatar_url, '') || '|' || COALESCE(timezone, '') || '|' || COALESCE(locale, '') || '|' || password_hash || '|' || updated_at FROM users`,
      `SELECT 's|' || id || '|' || CASE WHEN ended_at IS NULL THEN 'live' ELSE 'ended' END FROM sessions`,
      `SELECT 'i|' || workspace_id || '|' || id || '|' || email || '|' || role || '|' || status || '|' || token_hash || '|' || expires_at ` +
        `|| '|' || sent_at || '|' || resend_count || '|' || COALESCE(accepted_by, '') || '|' || COALESCE(revoked_reason, '') FROM invitations`,
      `SELECT 'o|' || workspace_id || '|' || id || '|' || from_user || '|' || to_user || '|' || status FROM ownership_transfers`,
      `SELECT 'r|' || id || '|' || user_id || '|' || token_hash || '|' || COALESCE(CAST(used_at AS TEXT), '') FROM password_resets`,
      `SELECT 'x|' || id || '|' || COALESCE(workspace_id, '') || '|' || to_addr || '|' || template FROM mail_outbox`,
      // API keys (not their last use: every request a key makes moves it), the key policy, and the
      // idempotency records.
      `SELECT 'k|' || workspace_id || '|' || id || '|' || name || '|' || prefix || '|' || secret_hash || '|' || scopes || '|' || owner_type ` +
        `|| '|' || COALESCE(owner_user_id, '') || '|' || created_by || '|' || COALESCE(CAST(expires_at AS TEXT), '') || '|' || COALESCE(CAST(revoked_at AS TEXT), '') ` +
        `|| '|' || COALESCE(rotated_to, '') || '|' || COALESCE(CAST(overlap_until AS TEXT), '') || '|' || allowed_cidrs || '|' || notices_sent FROM api_keys`,
      `SELECT 'p|' || id || '|' || api_key_max_days || '|' || api_key_default_days || '|' || api_key_allow_never FROM workspaces`,
      `SELECT 'd|' || caller || '|' || idem_key || '|' || state || '|' || COALESCE(CAST(status AS TEXT), '') FROM idempotency_keys`,
      // Billing: a workspace's billing mode, pause and entitlements, the customer, subscriptions,
      // invoices and their lines, the invoice counter, pending prorations, usage, payment attempts,
      // provider events, dunning episodes and test clocks.
      `SELECT 'b|' || id || '|' || billing_mode || '|' || COALESCE(CAST(billing_paused_at AS TEXT), '') || '|' || entitlements || '|' || seat_limit FROM workspaces`,
      `SELECT 'bc|' || workspace_id || '|' || name || '|' || email || '|' || address_line1 || '|' || address_line2 || '|' || city || '|' || postal_code ` +
        `|| '|' || region || '|' || country || '|' || tax_id || '|' || provider || '|' || provider_customer_id || '|' || payment_method || '|' || balance ` +
        `|| '|' || trial_used || '|' || version FROM billing_customers`,
      `SELECT 'bs|' || workspace_id || '|' || id || '|' || plan_id || '|' || interval || '|' || quantity || '|' || status || '|' || collection ` +
        `|| '|' || current_period_start || '|' || current_period_end || '|' || cancel_at_period_end || '|' || COALESCE(cancel_reason, '') ` +
        `|| '|' || COALESCE(CAST(canceled_at AS TEXT), '') || '|' || COALESCE(CAST(ended_at AS TEXT), '') || '|' || COALESCE(pending_plan_id, '') ` +
        `|| '|' || COALESCE(pending_interval, '') || '|' || COALESCE(CAST(pending_quantity AS TEXT), '') || '|' || COALESCE(dunning_invoice_id, '') ` +
        `|| '|' || dunning_step || '|' || COALESCE(CAST(next_event_at AS TEXT), '') || '|' || version FROM subscriptions`,
      `SELECT 'bi|' || workspace_id || '|' || id || '|' || COALESCE(number, '') || '|' || status || '|' || payment_status || '|' || total ` +
        `|| '|' || amount_due || '|' || amount_paid || '|' || attempt_count || '|' || COALESCE(CAST(next_payment_attempt AS TEXT), '') ` +
        `|| '|' || COALESCE(CAST(paid_at AS TEXT), '') || '|' || COALESCE(CAST(voided_at AS TEXT), '') || '|' || COALESCE(CAST(marked_uncollectible_at AS TEXT), '') FROM invoices`,
      `SELECT 'bl|' || workspace_id || '|' || invoice_id || '|' || seq || '|' || kind || '|' || amount FROM invoice_lines`,
      `SELECT 'bn|' || issuer || '|' || last_number FROM invoice_counters`,
      `SELECT 'bp|' || workspace_id || '|' || id || '|' || amount || '|' || COALESCE(invoice_id, '') FROM pending_invoice_items`,
      `SELECT 'bu|' || workspace_id || '|' || event_id || '|' || metric || '|' || quantity || '|' || occurred_at FROM usage_events`,
      `SELECT 'ba|' || workspace_id || '|' || id || '|' || invoice_id || '|' || outcome || '|' || amount FROM payment_attempts`,
      `SELECT 'be|' || provider || '|' || event_id || '|' || type FROM provider_events`,
      `SELECT 'bd|' || workspace_id || '|' || id || '|' || outcome || '|' || attempts || '|' || COALESCE(CAST(ended_at AS TEXT), '') FROM dunning_episodes`,
      `SELECT 'bk|' || workspace_id || '|' || frozen_time FROM billing_clocks`,
    ].join(' UNION ALL ') + ' ORDER BY 1',
  );
  return { hash: createHash('sha256').update(text).digest('hex'), lines: text.split('\n').length };
}

/** The token of the newest mailed link `/<kind>/<token>` to `to` (read from the outbox, any transport). */
export async function mailedToken(srv, to, kind = 'invitations') {
  const text = await srv.sql(`SELECT text_body FROM mail_outbox WHERE to_addr = ${q(to)} ORDER BY created_at DESC, id DESC LIMIT 1`);
  const m = text.match(new RegExp(`/${kind}/([A-Za-z0-9_-]{20,})`));
  assert.ok(m, `no mailed /${kind}/ link to ${to}`);
  return m[1];
}

/** Awaits a request and asserts a 2xx; returns the response. */
export async function ok(rp, what = '') {
  const r = await rp;
  assert.ok(r.status >= 200 && r.status < 300, `${what} → ${r.status} ${r.text}`);
  return r;
}

/**
 * Starts a server with the world. Options: env (extra server env), extras (false: only the demo users
 * and root B, to save sign-ins), scratch (a store from makeScratch() that outlives the server). Returns { srv, p: {anon, owner, admin, member, dev, subadmin, ownerB,
 * outsider, a1member, agency}, ws: {A, A1, A2, B, B1, NX}, names, parent, stop() }.
 */
export async function startWorld({ env = {}, extras = true, scratch = null } = {}) {
  const srv = await startServer({
    env: { ATRIUM_LOGIN_IP_PER_MINUTE: '100000', ATRIUM_SIGNUP: 'true', ATRIUM_JOB_WORKERS: '1', ...env },
    scratch,
  });
  try {
    const demo = await srv.cli(['demo']);
    assert.equal(demo.code, 0, `atrium demo → ${demo.code}: ${demo.stderr}`);
    const p = { anon: principal(srv, { key: 'anonymous' }) };
    const logins = Object.entries(DEMO_PASSWORDS).map(([k, pw]) => signIn(srv, k, `${k}@acme.test`, pw));
    const bravo = signUp(srv, 'ownerB', 'ownerb@bravo.test', 'Bea Bravo');
    for (const x of await Promise.all([...logins, bravo])) p[x.key] = x;

    const sw = await ok(p.owner.get('/api/v1/workspaces'), 'switcher');
    const bySlug = Object.fromEntries(sw.body.items.map((i) => [i.slug, i]));
    const ws = { A: bySlug['acme-agency'].id, A1: bySlug['acme-dental'].id, A2: bySlug['acme-fitness'].id };
    const swB = await ok(p.ownerB.get('/api/v1/workspaces'), 'switcher B');
    assert.equal(swB.body.items.length, 1);
    ws.B = swB.body.items[0].id;
    const b1 = await p.ownerB.post(`/api/v1/workspaces/${ws.B}/subaccounts`, { name: 'Bravo One', slug: 'bravo-one' });
    assert.equal(b1.status, 201, b1.text);
    ws.B1 = b1.body.id;
    ws.NX = missingId('ws');

    if (extras) {
      // Users without an API to make them: rows that reuse the owner's password hash (no Argon2 run).
      await insertUser(srv, 'outsider@acme.test', 'Otto Outsider');
      const a1member = await insertUser(srv, 'a1member@acme.test', 'Ada Onemember');
      const agency = await insertUser(srv, 'agency@acme.test', 'Agnes Agency');
      await addMembership(srv, ws.A1, a1member, 'member');
      await addMembership(srv, ws.A, agency, 'admin');
      await addMembership(srv, ws.A1, agency, 'member');
      const more = await Promise.all([
        signIn(srv, 'outsider', 'outsider@acme.test', DEMO_PASSWORDS.owner),
        signIn(srv, 'a1member', 'a1member@acme.test', DEMO_PASSWORDS.owner),
        signIn(srv, 'agency', 'agency@acme.test', DEMO_PASSWORDS.owner),
      ]);
      for (const x of more) p[x.key] = x;
    }
    const names = { A: 'Acme Agency', A1: 'Acme Dental', A2: 'Acme Fitness', B: "Bea Bravo's workspace", B1: 'Bravo One' };
    const parent = { A: null, A1: ws.A, A2: ws.A, B: null, B1: ws.B, NX: null };
    return {
      srv,
      p,
      ws,
      names,
      parent,
      stop: () => srv.stop(),
    };
  } catch (e) {
    await srv.stop();
    throw e;
  }
}

/**
 * Makes sure the billed workspace wsId (a root, or a sub-account billed on its own) pays for at least
 * `seats` seats, as its owner pr: subscribes to `plan` when it has no live subscription (a trial when it
 * never had one), or raises the live one's seats (prorated onto its next invoice: no invoice now).
 */
export async function ensureSeats(pr, wsId, seats, { plan = 'pro' } = {}) {
  const base = `/api/v1/workspaces/${wsId}/billing`;
  const sub = (await ok(pr.get(base), `billing of ${wsId}`)).body.subscription;
  if (!sub) await ok(pr.post(`${base}/subscription`, { plan_id: plan, quantity: seats }), `subscribe ${wsId} to ${plan}`);
  else if (sub.quantity < seats) await ok(pr.post(`${base}/subscription/change`, { quantity: seats, proration: 'prorate' }), `${seats} seats for ${wsId}`);
}

/**
 * Sets the seat limit the team's checks read: the quantity of the live subscription of the billed
 * workspace wsId (a root, or a sub-account billed on its own), with SQL, as a change made in Billing
 * would leave it (also below the seats in use, which the API refuses). Asserts there is one.
 */
export async function setSeatLimit(srv, wsId, n) {
  const live = `workspace_id = ${q(wsId)} AND status NOT IN ('canceled', 'incomplete_expired')`;
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM subscriptions WHERE ${live}`), '1', `${wsId} has no live subscription`);
  await srv.sql(`UPDATE subscriptions SET quantity = ${Number(n)} WHERE ${live}`);
  await srv.sql(`UPDATE workspaces SET seat_limit = ${Number(n)} WHERE id = ${q(wsId)} OR (parent_id = ${q(wsId)} AND billing_mode = 'parent')`);
}

/** The settings document and its ETag, read by a caller who may (asserted 200). */
export async function getDoc(pr, wsId) {
  const r = await pr.get(`/api/v1/workspaces/${wsId}`);
  assert.equal(r.status, 200, `GET ${wsId} as ${pr.key}: ${r.status} ${r.text}`);
  return { doc: r.body, etag: r.headers.get('etag') };
}

/** Advances the test clock and runs due jobs. */
export async function advanceAndRunJobs(srv, seconds) {
  const c = await srv.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(c.status, 200, c.text);
  const j = await srv.post('/api/v1/test/jobs/run', {});
  assert.equal(j.status, 200, j.text);
  return j.body;
}
