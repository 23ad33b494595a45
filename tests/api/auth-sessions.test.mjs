// Sessions (reliability.md T3 b–e): /me, sign-out, the session list, ending one or all other sessions,
// password change, idle and absolute expiry on the test clock. Runs on both backends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, RFC3339 } from '../lib/server.mjs';

// ---------------------------------------------------------------------------------------------------
// Helpers (each auth-*.test.mjs file carries its own copy: only test files live in tests/api).

const NO_IP_LIMIT = { ATRIUM_LOGIN_IP_PER_MINUTE: '100000' };
const INVALID_CREDENTIALS =
  '{"type":"urn:atrium:problem:invalid-credentials","title":"The email or password is incorrect.","status":401}';
const SES_ID = /^ses_[0-9A-HJKMNP-TV-Z]{26}$/;
const IDLE = 43200;
const ABSOLUTE = 604800;

const originOf = (srv) => srv.url.replace(/\/$/, '');
const uniq = (p) => `${p}-${randomBytes(4).toString('hex')}`;
const strongPw = () => `Tidal-${randomBytes(6).toString('hex')}-Lantern`;

function dropUndefined(h) {
  const out = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

function setCookie(r) {
  const raw = r.headers.get('set-cookie');
  if (!raw) return null;
  const [nv, ...attrs] = raw.split(';').map((s) => s.trim());
  const i = nv.indexOf('=');
  return { raw, name: nv.slice(0, i), value: nv.slice(i + 1), attrs };
}

async function addUser(srv, email, password, { name = 'Test User' } = {}) {
  const r = await srv.cli(['user', 'add', email, '--name', name, '--password-stdin'], {}, { input: `${password}\n` });
  assert.equal(r.code, 0, `user add ${email} → ${r.code}: ${r.stderr}`);
}

function signIn(srv, email, password, headers = {}) {
  return srv.post('/api/v1/session', { email, password }, { headers: dropUndefined(headers) });
}

async function login(srv, email, password, headers = {}) {
  const r = await signIn(srv, email, password, headers);
  assert.equal(r.status, 201, `sign-in ${email}: ${r.status} ${r.text}`);
  const c = setCookie(r);
  return { token: c.value, cookie: `${c.name}=${c.value}`, csrf: r.body.csrf_token, id: r.body.session.id, user: r.body.user, body: r.body, r };
}

function me(srv, s) {
  return srv.req('/api/v1/me', { headers: { cookie: s.cookie } });
}

function write(srv, s, method, path, body, headers = {}) {
  const h = dropUndefined({
    cookie: s.cookie,
    'x-csrf-token': s.csrf,
    origin: originOf(srv),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...headers,
  });
  return srv.req(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
}

function assertClearedCookie(r) {
  const c = setCookie(r);
  assert.ok(c, `expected a clearing Set-Cookie on ${r.status} ${r.text}`);
  assert.equal(c.name, 'atrium_session');
  assert.equal(c.value, '');
  assert.ok(c.attrs.map((a) => a.toLowerCase()).includes('max-age=0'), c.raw);
}

/** Asserts the session is dead: 401 unauthenticated and the cookie is cleared. */
async function assertDead(srv, s, what) {
  const r = await me(srv, s);
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.body.type, 'urn:atrium:problem:unauthenticated', what);
  assertClearedCookie(r);
}

async function assertAlive(srv, s, what) {
  const r = await me(srv, s);
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.body.session.id, s.id, what);
  return r;
}

async function listIds(srv, s) {
  const r = await srv.req('/api/v1/me/sessions', { headers: { cookie: s.cookie } });
  assert.equal(r.status, 200, r.text);
  return r.body.items.map((i) => i.id).sort();
}

async function advance(srv, seconds) {
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
  return r.body.now_us;
}

async function clockNowMs(srv) {
  const r = await srv.req('/api/v1/test/clock');
  return r.body.now_us / 1000;
}

/** A fresh user with `n` sessions. */
async function userWith(srv, n, prefix = 'u') {
  const email = `${uniq(prefix)}@example.test`;
  const pw = strongPw();
  await addUser(srv, email, pw);
  const sessions = [];
  for (let i = 0; i < n; i++) sessions.push(await login(srv, email, pw, { 'user-agent': `agent-${prefix}-${i}` }));
  return { email, pw, sessions };
}

// ---------------------------------------------------------------------------------------------------

let srv;
before(async () => {
  srv = await startServer({ env: { ...NO_IP_LIMIT } });
});
after(async () => {
  await srv?.stop();
});

test('GET /me: the user, the same CSRF token as at sign-in, the session; no-store', async () => {
  const { sessions: [s] } = await userWith(srv, 1, 'me');
  const r = await assertAlive(srv, s, '/me');
  assert.deepEqual(Object.keys(r.body).sort(), ['csrf_token', 'session', 'user']);
  assert.deepEqual(r.body.user, s.user);
  assert.equal(r.body.csrf_token, s.csrf);
  assert.deepEqual(Object.keys(r.body.session).sort(), ['expires_at', 'id']);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('set-cookie'), null, '/me does not re-issue the cookie');
});

test('GET /me without a cookie → 401; with a garbage, short or unknown token → 401 and the cookie cleared', async () => {
  const none = await srv.req('/api/v1/me');
  assert.equal(none.status, 401, none.text);
  assert.equal(none.body.type, 'urn:atrium:problem:unauthenticated');
  for (const v of ['x', randomBytes(32).toString('base64url'), `${'A'.repeat(43)}`, 'a'.repeat(600), '%00%ff']) {
    const r = await srv.req('/api/v1/me', { headers: { cookie: `atrium_session=${v}` } });
    assert.equal(r.status, 401, `${v.slice(0, 20)}: ${r.text}`);
    assert.equal(r.body.type, 'urn:atrium:problem:unauthenticated');
    assertClearedCookie(r);
  }
});

test('sign-out: 204, cookie cleared, the token is dead and gone from the list; a second sign-out is 401', async () => {
  const { sessions: [a, b] } = await userWith(srv, 2, 'out');
  const r = await write(srv, a, 'DELETE', '/api/v1/session');
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assertClearedCookie(r);
  await assertDead(srv, a, 'after sign-out');
  assert.deepEqual(await listIds(srv, b), [b.id]);
  const again = await write(srv, a, 'DELETE', '/api/v1/session');
  assert.equal(again.status, 401, again.text);
  await assertAlive(srv, b, 'the other session survives a sign-out');
});

test('GET /me/sessions lists exactly this user’s live sessions, with the current one marked', async () => {
  const A = await userWith(srv, 3, 'lista');
  const B = await userWith(srv, 1, 'listb');
  const [a1, a2, a3] = A.sessions;
  await write(srv, a3, 'DELETE', '/api/v1/session'); // an ended session is not listed
  const r = await srv.req('/api/v1/me/sessions', { headers: { cookie: a1.cookie } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.deepEqual(Object.keys(r.body), ['items']);
  assert.deepEqual(r.body.items.map((i) => i.id).sort(), [a1.id, a2.id].sort());
  for (const it of r.body.items) {
    assert.deepEqual(Object.keys(it).sort(), ['created_at', 'current', 'expires_at', 'id', 'ip', 'last_seen_at', 'user_agent']);
    assert.match(it.id, SES_ID);
    assert.equal(it.current, it.id === a1.id);
    assert.equal(it.ip, '127.0.0.1');
    assert.equal(it.user_agent, it.id === a1.id ? 'agent-lista-0' : 'agent-lista-1');
    for (const k of ['created_at', 'last_seen_at', 'expires_at']) assert.match(it[k], RFC3339, k);
    assert.ok(!JSON.stringify(it).includes(a1.token) && !JSON.stringify(it).includes(a2.token), 'no token in the list');
  }
  // From the other session the marks flip.
  const r2 = await srv.req('/api/v1/me/sessions', { headers: { cookie: a2.cookie } });
  assert.deepEqual(r2.body.items.filter((i) => i.current).map((i) => i.id), [a2.id]);
  assert.deepEqual(await listIds(srv, B.sessions[0]), [B.sessions[0].id]);
});

test('DELETE /me/sessions/{id}: ends that session only; another user’s, unknown or malformed id → 404 and nothing ends', async () => {
  const A = await userWith(srv, 3, 'endone');
  const B = await userWith(srv, 1, 'endoneb');
  const [a1, a2, a3] = A.sessions;
  const [b1] = B.sessions;
  const r = await write(srv, a1, 'DELETE', `/api/v1/me/sessions/${a2.id}`);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.headers.get('set-cookie'), null, 'ending another session does not touch my cookie');
  await assertDead(srv, a2, 'the ended session');
  await assertAlive(srv, a1, 'the caller');
  await assertAlive(srv, a3, 'the third session');
  for (const id of [b1.id, 'ses_01HZZZZZZZZZZZZZZZZZZZZZZZ', 'not-a-session', a2.id]) {
    const x = await write(srv, a1, 'DELETE', `/api/v1/me/sessions/${encodeURIComponent(id)}`);
    assert.equal(x.status, 404, `${id}: ${x.text}`);
    assert.equal(x.body.type, 'urn:atrium:problem:not-found', x.text);
  }
  await assertAlive(srv, b1, 'another user’s session is untouched');
  assert.deepEqual(await listIds(srv, a1), [a1.id, a3.id].sort());
  // Ending the current session by id: 204, cookie cleared, dead.
  const self = await write(srv, a3, 'DELETE', `/api/v1/me/sessions/${a3.id}`);
  assert.equal(self.status, 204, self.text);
  assertClearedCookie(self);
  await assertDead(srv, a3, 'ended own session');
  // B cannot end A's session either.
  const cross = await write(srv, b1, 'DELETE', `/api/v1/me/sessions/${a1.id}`);
  assert.equal(cross.status, 404, cross.text);
  await assertAlive(srv, a1, 'A after B tried to end it');
});

test('DELETE /me/sessions ends all but the current session → {ended:n}; other users are untouched', async () => {
  const A = await userWith(srv, 4, 'endall');
  const B = await userWith(srv, 1, 'endallb');
  const [a1, a2, a3, a4] = A.sessions;
  await write(srv, a4, 'DELETE', '/api/v1/session'); // already ended: not counted
  const r = await write(srv, a1, 'DELETE', '/api/v1/me/sessions');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { ended: 2 });
  await assertDead(srv, a2, 'other session 1');
  await assertDead(srv, a3, 'other session 2');
  await assertAlive(srv, a1, 'the current session');
  await assertAlive(srv, B.sessions[0], 'another user');
  const again = await write(srv, a1, 'DELETE', '/api/v1/me/sessions');
  assert.deepEqual(again.body, { ended: 0 });
  assert.deepEqual(await listIds(srv, a1), [a1.id]);
});

test('POST /me/password: wrong current / weak new → 400 naming the field, nothing changes', async () => {
  const A = await userWith(srv, 2, 'pwbad');
  const [a1, a2] = A.sessions;
  const wrong = await write(srv, a1, 'POST', '/api/v1/me/password', { current_password: `${A.pw}x`, new_password: strongPw() });
  assert.equal(wrong.status, 400, wrong.text);
  assert.equal(wrong.body.type, 'urn:atrium:problem:validation');
  assert.deepEqual(wrong.body.errors.map((e) => [e.field, e.code]), [['current_password', 'incorrect']]);
  for (const [np, code] of [
    ['short-pw', 'length'],
    ['password12345', 'common_password'],
    ['zzzzzzzzzzzzzz', 'common_password'],
  ]) {
    const r = await write(srv, a1, 'POST', '/api/v1/me/password', { current_password: A.pw, new_password: np });
    assert.equal(r.status, 400, `${np}: ${r.text}`);
    assert.deepEqual(r.body.errors.map((e) => [e.field, e.code]), [['new_password', code]], r.text);
  }
  const both = await write(srv, a1, 'POST', '/api/v1/me/password', { current_password: `${A.pw}x`, new_password: 'short-pw' });
  assert.equal(both.status, 400, both.text);
  assert.deepEqual(both.body.errors.map((e) => e.field).sort(), ['current_password', 'new_password'], 'every bad field at once');
  const asEmail = await write(srv, a1, 'POST', '/api/v1/me/password', { current_password: A.pw, new_password: A.email });
  assert.equal(asEmail.status, 400, `the email as password: ${asEmail.text}`);
  assert.deepEqual(asEmail.body.errors.map((e) => e.field), ['new_password']);
  const extra = await write(srv, a1, 'POST', '/api/v1/me/password', { current_password: A.pw, new_password: strongPw(), end_sessions: false });
  assert.equal(extra.status, 400, `unknown field: ${extra.text}`);
  await assertAlive(srv, a2, 'other session after refused changes');
  await login(srv, A.email, A.pw); // the password is unchanged
});

test('POST /me/password: 204, all other sessions end, old password refused, new one works', async () => {
  const A = await userWith(srv, 3, 'pwok');
  const B = await userWith(srv, 1, 'pwokb');
  const [a1, a2, a3] = A.sessions;
  const np = strongPw();
  const r = await write(srv, a1, 'POST', '/api/v1/me/password', { current_password: A.pw, new_password: np });
  assert.equal(r.status, 204, r.text);
  await assertAlive(srv, a1, 'the session that changed the password');
  await assertDead(srv, a2, 'other session');
  await assertDead(srv, a3, 'other session');
  await assertAlive(srv, B.sessions[0], 'another user');
  assert.deepEqual(await listIds(srv, a1), [a1.id]);
  const old = await signIn(srv, A.email, A.pw);
  assert.equal(old.status, 401);
  assert.equal(old.text, INVALID_CREDENTIALS);
  await login(srv, A.email, np);
});

// ---------------------------------------------------------------------------------------------------
// Expiry on the test clock. These move the clock forward; every earlier session is long dead after.

test('idle expiry: an unused session dies at 12 h (±2 s); use extends the idle window', async () => {
  const A = await userWith(srv, 2, 'idle');
  const [used, unused] = A.sessions;
  const t0 = await clockNowMs(srv);
  assert.ok(Math.abs(Date.parse(unused.body.session.expires_at) - (t0 + IDLE * 1000)) < 5000, unused.body.session.expires_at);
  await advance(srv, IDLE - 3);
  const u = await assertAlive(srv, used, 'just before the idle limit');
  const t1 = await clockNowMs(srv);
  // The use slid the window: expires_at is now + 12 h.
  assert.ok(Math.abs(Date.parse(u.body.session.expires_at) - (t1 + IDLE * 1000)) < 5000, `slid expires_at ${u.body.session.expires_at}`);
  await advance(srv, 5); // unused: 12 h + 2 s after sign-in
  await assertDead(srv, unused, 'unused session past the idle limit');
  await assertAlive(srv, used, 'used session (window slid)');
  // Not listed once expired.
  assert.deepEqual(await listIds(srv, used), [used.id]);
  await advance(srv, IDLE + 1);
  await assertDead(srv, used, 'used session after a further 12 h idle');
});

test('idle window slides at most once a minute (expires_at and last_seen_at)', async () => {
  const { sessions: [s] } = await userWith(srv, 1, 'touch');
  await advance(srv, 120);
  const first = await assertAlive(srv, s, 'first use');
  const e1 = Date.parse(first.body.session.expires_at);
  await advance(srv, 30);
  const second = await assertAlive(srv, s, '30 s later');
  assert.equal(Date.parse(second.body.session.expires_at), e1, 'not slid again within a minute');
  await advance(srv, 31);
  const third = await assertAlive(srv, s, '61 s after the first use');
  const e3 = Date.parse(third.body.session.expires_at);
  assert.ok(e3 - e1 >= 60_000 && e3 - e1 < 65_000, `slid by ${(e3 - e1) / 1000} s`);
  const list = await srv.req('/api/v1/me/sessions', { headers: { cookie: s.cookie } });
  assert.equal(Date.parse(list.body.items[0].expires_at), e3);
  assert.ok(Date.parse(list.body.items[0].last_seen_at) > Date.parse(list.body.items[0].created_at) + 170_000);
});

test('absolute lifetime: 7 days after sign-in the session dies however much it is used', async () => {
  const { sessions: [s] } = await userWith(srv, 1, 'abs');
  const t0 = await clockNowMs(srv);
  let elapsed = 0;
  while (elapsed + 40000 < ABSOLUTE - 10) {
    await advance(srv, 40000);
    elapsed += 40000;
    await assertAlive(srv, s, `used at +${elapsed} s`);
  }
  await advance(srv, ABSOLUTE - 3 - elapsed);
  const last = await assertAlive(srv, s, '3 s before the absolute limit');
  // expires_at is capped by the absolute limit, not now + 12 h.
  assert.ok(Math.abs(Date.parse(last.body.session.expires_at) - (t0 + ABSOLUTE * 1000)) < 3000, `expires_at ${last.body.session.expires_at}`);
  await advance(srv, 5);
  await assertDead(srv, s, 'past the absolute limit');
});

test('an expired session cannot sign out, list or end sessions (401), and a new sign-in works', async () => {
  const A = await userWith(srv, 1, 'expw');
  const [s] = A.sessions;
  await advance(srv, IDLE + 5);
  for (const [m, p] of [
    ['DELETE', '/api/v1/session'],
    ['DELETE', '/api/v1/me/sessions'],
    ['DELETE', `/api/v1/me/sessions/${s.id}`],
  ]) {
    const r = await write(srv, s, m, p);
    assert.equal(r.status, 401, `${m} ${p}: ${r.text}`);
  }
  const pw = await write(srv, s, 'POST', '/api/v1/me/password', { current_password: A.pw, new_password: strongPw() });
  assert.equal(pw.status, 401, pw.text);
  const g = await srv.req('/api/v1/me/sessions', { headers: { cookie: s.cookie } });
  assert.equal(g.status, 401);
  const fresh = await login(srv, A.email, A.pw); // the password was not changed
  await assertAlive(srv, fresh, 'new session');
});
