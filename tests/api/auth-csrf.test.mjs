// CSRF and safe methods (reliability.md T4) for every cookie-authenticated state-changing route of
// accounts and sessions, plus the Origin check on sign-in and sign-up (login CSRF). Every refused
// request must answer 403 urn:atrium:problem:csrf and change nothing (checked through the API and a
// snapshot of the users and sessions tables). Runs on both backends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer } from '../lib/server.mjs';

// ---------------------------------------------------------------------------------------------------
// Helpers (each auth-*.test.mjs file carries its own copy: only test files live in tests/api).

const NO_IP_LIMIT = { ATRIUM_LOGIN_IP_PER_MINUTE: '100000' };

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

async function addUser(srv, email, password) {
  const r = await srv.cli(['user', 'add', email, '--name', 'Csrf User', '--password-stdin'], {}, { input: `${password}\n` });
  assert.equal(r.code, 0, `user add ${email} → ${r.code}: ${r.stderr}`);
}

function signIn(srv, email, password, headers = {}) {
  return srv.post('/api/v1/session', { email, password }, { headers: dropUndefined(headers) });
}

async function login(srv, email, password) {
  const r = await signIn(srv, email, password);
  assert.equal(r.status, 201, `sign-in ${email}: ${r.status} ${r.text}`);
  const c = setCookie(r);
  return { token: c.value, cookie: `${c.name}=${c.value}`, csrf: r.body.csrf_token, id: r.body.session.id, user: r.body.user };
}

/** A request with the session cookie; headers given as undefined are left out. */
function send(srv, s, method, path, { body, headers = {}, contentType = 'application/json' } = {}) {
  const h = dropUndefined({
    cookie: s.cookie,
    'x-csrf-token': s.csrf,
    origin: originOf(srv),
    ...(body !== undefined ? { 'content-type': contentType } : {}),
    ...headers,
  });
  return srv.req(path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
}

async function alive(srv, s) {
  const r = await srv.req('/api/v1/me', { headers: { cookie: s.cookie } });
  return r.status === 200;
}

/** users + sessions rows that a state change would alter (not last_seen_at: reads may slide it). */
async function snapshot(srv) {
  const users = await srv.sql(
    "SELECT id || '|' || email || '|' || password_hash || '|' || disabled || '|' || developer || '|' || failed_logins FROM users ORDER BY id",
  );
  const sessions = await srv.sql(
    "SELECT id || '|' || user_id || '|' || coalesce(CAST(ended_at AS TEXT), 'live') FROM sessions ORDER BY id",
  );
  return { users, sessions };
}

function assertCsrf(r, what) {
  assert.equal(r.status, 403, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.body?.type, 'urn:atrium:problem:csrf', `${what}: ${r.text}`);
  assert.equal(r.headers.get('set-cookie'), null, `${what}: a refused write must not touch the cookie`);
}

// ---------------------------------------------------------------------------------------------------

let srv;
let A; // {email, pw, s: [a1, a2, a3]}
let B; // {email, pw, s: [b1]}
before(async () => {
  srv = await startServer({ env: { ...NO_IP_LIMIT, ATRIUM_SIGNUP: 'true' } });
  A = { email: `${uniq('csrfa')}@example.test`, pw: strongPw(), s: [] };
  B = { email: `${uniq('csrfb')}@example.test`, pw: strongPw(), s: [] };
  await addUser(srv, A.email, A.pw);
  await addUser(srv, B.email, B.pw);
  for (let i = 0; i < 3; i++) A.s.push(await login(srv, A.email, A.pw));
  B.s.push(await login(srv, B.email, B.pw));
});
after(async () => {
  await srv?.stop();
});

/** The bad variants: header overrides on top of a correct request, and what each one tests. */
function badVariants() {
  const [a1, a2] = A.s;
  const [b1] = B.s;
  const o = originOf(srv);
  const port = srv.port;
  return [
    ['(i) no X-CSRF-Token', { 'x-csrf-token': undefined }],
    ['(i) empty X-CSRF-Token', { 'x-csrf-token': '' }],
    ['(ii) random token', { 'x-csrf-token': randomBytes(32).toString('hex') }],
    ['(ii) truncated token', { 'x-csrf-token': a1.csrf.slice(0, 63) }],
    ['(ii) token + junk', { 'x-csrf-token': `${a1.csrf}00` }],
    ['(ii) the cookie value as token', { 'x-csrf-token': a1.token }],
    ['(ii) token of another session of the same user', { 'x-csrf-token': a2.csrf }],
    ['(ii) token of another user’s session', { 'x-csrf-token': b1.csrf }],
    ['(iii) Origin http://evil.test', { origin: 'http://evil.test' }],
    ['(iii) Origin null', { origin: 'null' }],
    ['(iii) Origin on another port', { origin: `http://127.0.0.1:${port === 1 ? 2 : 1}` }],
    ['(iii) Origin https:// of our host', { origin: o.replace(/^http:/, 'https:') }],
    ['(iii) Origin localhost', { origin: `http://localhost:${port}` }],
    ['(iii) Origin suffix trick', { origin: `${o}.evil.test` }],
    ['(iv) no Origin, Sec-Fetch-Site cross-site', { origin: undefined, 'sec-fetch-site': 'cross-site' }],
    ['(iv) no Origin, Sec-Fetch-Site same-site', { origin: undefined, 'sec-fetch-site': 'same-site' }],
    ['(iv) no Origin, Sec-Fetch-Site none', { origin: undefined, 'sec-fetch-site': 'none' }],
    ['(iv) neither Origin nor Sec-Fetch-Site', { origin: undefined }],
    ['(iii+i) evil Origin and no token', { origin: 'http://evil.test', 'x-csrf-token': undefined }],
  ];
}

function routes() {
  const [, a2] = A.s;
  return [
    ['DELETE /api/v1/session', 'DELETE', '/api/v1/session', undefined],
    ['DELETE /api/v1/me/sessions', 'DELETE', '/api/v1/me/sessions', undefined],
    ['DELETE /api/v1/me/sessions/{id}', 'DELETE', `/api/v1/me/sessions/${a2.id}`, undefined],
    ['POST /api/v1/me/password', 'POST', '/api/v1/me/password', { current_password: A.pw, new_password: strongPw() }],
  ];
}

test('T4 (i)–(iv): every cookie-authenticated write without a valid token and origin → 403 csrf, nothing changes', async () => {
  const before = await snapshot(srv);
  const [a1] = A.s;
  let count = 0;
  for (const [rname, method, path, body] of routes()) {
    for (const [vname, headers] of badVariants()) {
      const r = await send(srv, a1, method, path, { body, headers });
      assertCsrf(r, `${rname} ${vname}`);
      count++;
    }
  }
  assert.equal(count, 4 * badVariants().length);
  assert.deepEqual(await snapshot(srv), before, 'no refused request changed users or sessions');
  for (const s of [...A.s, ...B.s]) assert.ok(await alive(srv, s), `session ${s.id} still alive`);
});

test('T4 (v): a form-style text/plain POST/DELETE (no preflight) → 403 csrf, nothing changes', async () => {
  const before = await snapshot(srv);
  const [a1, a2] = A.s;
  const evil = { origin: 'http://evil.test', 'x-csrf-token': undefined };
  const body = JSON.stringify({ current_password: A.pw, new_password: strongPw() });
  for (const [method, path] of [
    ['POST', '/api/v1/me/password'],
    ['DELETE', '/api/v1/session'],
    ['DELETE', '/api/v1/me/sessions'],
    ['DELETE', `/api/v1/me/sessions/${a2.id}`],
  ]) {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      assertCsrf(await send(srv, a1, method, path, { body, contentType: ct, headers: evil }), `${method} ${path} as ${ct}`);
    }
    // The token in the query string or the body is not the header.
    assertCsrf(
      await send(srv, a1, method, `${path}?csrf_token=${a1.csrf}`, { headers: { 'x-csrf-token': undefined } }),
      `${method} ${path} with the token in the query`,
    );
  }
  assertCsrf(
    await send(srv, a1, 'POST', '/api/v1/me/password', {
      body: { current_password: A.pw, new_password: strongPw(), csrf_token: a1.csrf },
      headers: { 'x-csrf-token': undefined },
    }),
    'token in the JSON body',
  );
  assert.deepEqual(await snapshot(srv), before);
  // The password is unchanged: the old one still signs in.
  const check = await signIn(srv, A.email, A.pw);
  assert.equal(check.status, 201, check.text);
});

test('safe methods need no CSRF token, even cross-origin, and change nothing', async () => {
  const before = await snapshot(srv);
  const [a1] = A.s;
  for (const path of ['/api/v1/me', '/api/v1/me/sessions']) {
    for (const headers of [{}, { origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' }]) {
      const r = await srv.req(path, { headers: { cookie: a1.cookie, ...headers } });
      assert.equal(r.status, 200, `GET ${path} ${JSON.stringify(headers)}: ${r.text}`);
    }
  }
  const after = await snapshot(srv);
  assert.equal(after.users, before.users);
  // sessions may have gained rows from the sign-in of the previous test only if it ran in between: none here.
  assert.equal(after.sessions, before.sessions);
});

test('with the right token: Origin of our own or (without Origin) Sec-Fetch-Site same-origin are accepted', async () => {
  const [a1, a2, a3] = A.s;
  // Sec-Fetch-Site: same-origin without Origin.
  const one = await send(srv, a1, 'DELETE', `/api/v1/me/sessions/${a3.id}`, { headers: { origin: undefined, 'sec-fetch-site': 'same-origin' } });
  assert.equal(one.status, 204, one.text);
  assert.equal(await alive(srv, a3), false);
  // The other session's own token works for that session (tokens are per session, not per user).
  const np = strongPw();
  const pw = await send(srv, a2, 'POST', '/api/v1/me/password', { body: { current_password: A.pw, new_password: np } });
  assert.equal(pw.status, 204, pw.text);
  A.pw = np;
  assert.equal(await alive(srv, a1), false, 'the password change from a2 ended a1');
  const s = await login(srv, A.email, A.pw);
  const out = await send(srv, s, 'DELETE', '/api/v1/session');
  assert.equal(out.status, 204, out.text);
  assert.equal(await alive(srv, s), false);
  // A token of a session that has ended does not work with a new session's cookie.
  const s2 = await login(srv, A.email, A.pw);
  assertCsrf(await send(srv, s2, 'DELETE', '/api/v1/session', { headers: { 'x-csrf-token': s.csrf } }), 'old session’s token');
  assert.ok(await alive(srv, s2));
  assert.notEqual(s2.csrf, s.csrf);
});

test('sign-in and sign-up refuse a foreign Origin / cross-site fetch with 403 csrf and create nothing', async () => {
  const sessionsBefore = await srv.sql('SELECT count(*) FROM sessions');
  const usersBefore = await srv.sql('SELECT count(*) FROM users');
  const o = originOf(srv);
  const bad = [
    { origin: 'http://evil.test' },
    { origin: 'null' },
    { origin: `${o}.evil.test` },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
  ];
  for (const h of bad) {
    assertCsrf(await signIn(srv, B.email, B.pw, h), `sign-in ${JSON.stringify(h)}`);
    assertCsrf(
      await srv.post('/api/v1/signup', { name: 'X', email: `${uniq('x')}@example.test`, password: strongPw() }, { headers: h }),
      `sign-up ${JSON.stringify(h)}`,
    );
  }
  assert.equal(await srv.sql('SELECT count(*) FROM sessions'), sessionsBefore);
  assert.equal(await srv.sql('SELECT count(*) FROM users'), usersBefore);
  // Our own origin, same-origin fetch, or a non-browser client without either: accepted.
  for (const h of [{ origin: o }, { 'sec-fetch-site': 'same-origin' }, {}]) {
    const r = await signIn(srv, B.email, B.pw, h);
    assert.equal(r.status, 201, `sign-in ${JSON.stringify(h)}: ${r.text}`);
  }
});

test('ATRIUM_PUBLIC_ORIGIN pins the accepted Origin (the request Host no longer counts)', async () => {
  const pub = 'https://atrium.example.test';
  const p = await startServer({ env: { ...NO_IP_LIMIT, ATRIUM_PUBLIC_ORIGIN: pub } });
  try {
    const email = `${uniq('pub')}@example.test`;
    const pw = strongPw();
    await addUser(p, email, pw);
    assertCsrf(await signIn(p, email, pw, { origin: originOf(p) }), 'sign-in with the Host-derived origin');
    const r = await signIn(p, email, pw, { origin: pub });
    assert.equal(r.status, 201, r.text);
    const c = setCookie(r);
    const s = { cookie: `${c.name}=${c.value}`, csrf: r.body.csrf_token };
    assertCsrf(await send(p, s, 'DELETE', '/api/v1/session', { headers: { origin: originOf(p) } }), 'sign-out, Host origin');
    assert.ok(await alive(p, s));
    const out = await send(p, s, 'DELETE', '/api/v1/session', { headers: { origin: pub } });
    assert.equal(out.status, 204, out.text);
  } finally {
    await p.stop();
  }
});
