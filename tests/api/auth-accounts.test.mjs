// Accounts (DESIGN.md §5, reliability.md T3 a/f, T5 d bodies): /auth/options, sign-up and its
// password policy, sign-in, session-fixation, the TLS cookie, and the `atrium user …` CLI.
// Runs on both backends (ATRIUM_TEST_BACKEND); every fact is checked through the API or the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, RFC3339 } from '../lib/server.mjs';

// ---------------------------------------------------------------------------------------------------
// Helpers (each auth-*.test.mjs file carries its own copy: only test files live in tests/api).

const NO_IP_LIMIT = { ATRIUM_LOGIN_IP_PER_MINUTE: '100000' };
const INVALID_CREDENTIALS =
  '{"type":"urn:atrium:problem:invalid-credentials","title":"The email or password is incorrect.","status":401}';
const USR_ID = /^usr_[0-9A-HJKMNP-TV-Z]{26}$/;
const SES_ID = /^ses_[0-9A-HJKMNP-TV-Z]{26}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url
const CSRF = /^[0-9a-f]{64}$/;

const originOf = (srv) => srv.url.replace(/\/$/, '');
const uniq = (p) => `${p}-${randomBytes(4).toString('hex')}`;
const strongPw = () => `Tidal-${randomBytes(6).toString('hex')}-Lantern`;

function dropUndefined(h) {
  const out = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

/** The one Set-Cookie of a response, parsed: {raw, name, value, attrs[]} or null. */
function setCookie(r) {
  const raw = r.headers.get('set-cookie');
  if (!raw) return null;
  const [nv, ...attrs] = raw.split(';').map((s) => s.trim());
  const i = nv.indexOf('=');
  return { raw, name: nv.slice(0, i), value: nv.slice(i + 1), attrs };
}

async function addUser(srv, email, password, { name = 'Test User', developer = false } = {}) {
  const args = ['user', 'add', email, '--name', name, '--password-stdin'];
  if (developer) args.push('--developer');
  const r = await srv.cli(args, {}, { input: `${password}\n` });
  assert.equal(r.code, 0, `user add ${email} → ${r.code}: ${r.stderr}`);
  return r;
}

function signIn(srv, email, password, headers = {}) {
  return srv.post('/api/v1/session', { email, password }, { headers: dropUndefined(headers) });
}

/** Signs in (201 asserted) and returns {token, cookie, csrf, id, user, body, r}. */
async function login(srv, email, password, headers = {}) {
  const r = await signIn(srv, email, password, headers);
  assert.equal(r.status, 201, `sign-in ${email}: ${r.status} ${r.text}`);
  const c = setCookie(r);
  assert.ok(c, 'sign-in sets a cookie');
  return { token: c.value, cookie: `${c.name}=${c.value}`, csrf: r.body.csrf_token, id: r.body.session.id, user: r.body.user, body: r.body, r };
}

function me(srv, s) {
  return srv.req('/api/v1/me', { headers: { cookie: s.cookie } });
}

async function userCount(srv) {
  return Number(await srv.sql('SELECT count(*) FROM users'));
}

function assertInvalidCredentials(r, what) {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.text, INVALID_CREDENTIALS, `${what}: body`);
  assert.match(r.headers.get('content-type') || '', /^application\/problem\+json/, `${what}: content-type`);
  assert.equal(r.headers.get('set-cookie'), null, `${what}: no cookie on a failed sign-in`);
}

function assertSignedInBody(b, { email, name, developer = false }) {
  assert.deepEqual(Object.keys(b).sort(), ['csrf_token', 'session', 'user']);
  assert.deepEqual(Object.keys(b.user).sort(), ['created_at', 'developer', 'email', 'id', 'name']);
  assert.deepEqual(Object.keys(b.session).sort(), ['expires_at', 'id']);
  assert.match(b.user.id, USR_ID);
  assert.equal(b.user.email, email);
  assert.equal(b.user.name, name);
  assert.equal(b.user.developer, developer);
  assert.match(b.user.created_at, RFC3339);
  assert.match(b.csrf_token, CSRF);
  assert.match(b.session.id, SES_ID);
  assert.match(b.session.expires_at, RFC3339);
}

function assertSessionCookie(r, { tls = false } = {}) {
  const c = setCookie(r);
  assert.ok(c, `no Set-Cookie on ${r.status}`);
  assert.equal(c.name, tls ? '__Host-atrium_session' : 'atrium_session');
  assert.match(c.value, TOKEN, 'the session token is 256 random bits in base64url');
  const attrs = c.attrs.map((a) => a.toLowerCase());
  assert.ok(attrs.includes('path=/'), c.raw);
  assert.ok(attrs.includes('httponly'), c.raw);
  assert.ok(attrs.includes('samesite=lax') || attrs.includes('samesite=strict'), c.raw);
  assert.ok(attrs.includes('max-age=604800'), `Max-Age is the absolute lifetime: ${c.raw}`);
  assert.equal(attrs.includes('secure'), tls, `Secure iff TLS: ${c.raw}`);
  assert.ok(!attrs.some((a) => a.startsWith('domain=')), `no Domain attribute: ${c.raw}`);
  return c;
}

function assertClearedCookie(r, name = 'atrium_session') {
  const c = setCookie(r);
  assert.ok(c, `expected a clearing Set-Cookie on ${r.status} ${r.text}`);
  assert.equal(c.name, name);
  assert.equal(c.value, '');
  assert.ok(c.attrs.map((a) => a.toLowerCase()).includes('max-age=0'), c.raw);
}

// ---------------------------------------------------------------------------------------------------

let srv; // ATRIUM_SIGNUP=true
let closed; // sign-up off (the default)
before(async () => {
  [srv, closed] = await Promise.all([
    startServer({ env: { ...NO_IP_LIMIT, ATRIUM_SIGNUP: 'true' } }),
    startServer({ env: { ...NO_IP_LIMIT } }),
  ]);
});
after(async () => {
  await Promise.all([srv?.stop(), closed?.stop()]);
});

test('GET /auth/options reflects ATRIUM_SIGNUP and the minimum length', async () => {
  const a = await srv.req('/api/v1/auth/options');
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(a.body, { signup_enabled: true, password_min_length: 12 });
  const b = await closed.req('/api/v1/auth/options');
  assert.equal(b.status, 200, b.text);
  assert.deepEqual(b.body, { signup_enabled: false, password_min_length: 12 });
});

test('sign-up is refused with 403 signup-disabled when ATRIUM_SIGNUP is off, and creates nothing', async () => {
  const before = await userCount(closed);
  const r = await closed.post('/api/v1/signup', { name: 'Eve', email: 'eve@example.test', password: strongPw() });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.body.type, 'urn:atrium:problem:signup-disabled');
  assert.equal(r.body.status, 403);
  assert.equal(r.headers.get('set-cookie'), null);
  assert.equal(await userCount(closed), before);
});

test('sign-up: 201 with the user, session and CSRF token; the cookie signs the user in', async () => {
  const pw = strongPw();
  const local = uniq('Ann');
  const t0 = Date.now();
  const r = await srv.post('/api/v1/signup', { name: 'Ann Example', email: `${local}@Example.TEST`, password: pw });
  assert.equal(r.status, 201, r.text);
  const email = `${local.toLowerCase()}@example.test`;
  assertSignedInBody(r.body, { email, name: 'Ann Example' });
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const c = assertSessionCookie(r);
  // expires_at: the idle window (12 h) from now.
  const exp = Date.parse(r.body.session.expires_at);
  assert.ok(Math.abs(exp - (t0 + 43200e3)) < 30e3, `expires_at ${r.body.session.expires_at}`);
  const m = await srv.req('/api/v1/me', { headers: { cookie: `atrium_session=${c.value}` } });
  assert.equal(m.status, 200, m.text);
  assert.deepEqual(m.body.user, r.body.user);
  assert.equal(m.body.csrf_token, r.body.csrf_token);
  assert.equal(m.body.session.id, r.body.session.id);
  // The password works for sign-in, with the email in any case.
  const s = await login(srv, email.toUpperCase(), pw);
  assert.equal(s.user.id, r.body.user.id);
});

test('sign-up: the email is unique whatever its case (409 email/taken); the first account is untouched', async () => {
  const email = `${uniq('dup')}@example.test`;
  const pw = strongPw();
  const a = await srv.post('/api/v1/signup', { name: 'First', email, password: pw });
  assert.equal(a.status, 201, a.text);
  const n = await userCount(srv);
  for (const variant of [email, email.toUpperCase()]) {
    const r = await srv.post('/api/v1/signup', { name: 'Second', email: variant, password: strongPw() });
    assert.equal(r.status, 409, `${variant}: ${r.text}`);
    assert.equal(r.body.type, 'urn:atrium:problem:conflict');
    assert.deepEqual(
      r.body.errors.map((e) => [e.field, e.code]),
      [['email', 'taken']],
    );
    assert.equal(r.headers.get('set-cookie'), null);
  }
  assert.equal(await userCount(srv), n);
  const s = await login(srv, email, pw);
  assert.equal(s.user.name, 'First');
});

test('sign-up: concurrent sign-ups of one email (any case) → exactly one 201, the rest 409 (no 500)', async () => {
  const local = uniq('race');
  const n = await userCount(srv);
  const rs = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      srv.post('/api/v1/signup', { name: `Racer ${i}`, email: i % 2 ? `${local}@example.test` : `${local.toUpperCase()}@EXAMPLE.test`, password: strongPw() }),
    ),
  );
  const statuses = rs.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], rs.map((r) => r.text).join('\n'));
  for (const r of rs.filter((x) => x.status === 409)) assert.deepEqual(r.body.errors.map((e) => [e.field, e.code]), [['email', 'taken']]);
  assert.equal(await userCount(srv), n + 1);
});

test('sign-up password policy: length, common and patterned passwords, the email itself → 400 on password', async () => {
  const n = await userCount(srv);
  const local = uniq('policy');
  const email = `${local}@example.test`;
  const cases = [
    ['Short-pw-11', 'length'],
    ['', null], // empty: refused (as required/length)
    ['password1234', 'common_password'],
    ['Password123!', 'common_password'],
    ['qwerty123456', 'common_password'],
    ['welcome2026!!', 'common_password'],
    ['aaaaaaaaaaaaaaaa', 'common_password'],
    ['abcabcabcabcabc', 'common_password'],
    ['abcdefghijklmnop', 'common_password'],
    ['123456789012', 'common_password'],
    [email, null], // the email address itself
    [email.toUpperCase(), null],
  ];
  for (const [password, code] of cases) {
    const r = await srv.post('/api/v1/signup', { name: 'Policy', email, password });
    assert.equal(r.status, 400, `${JSON.stringify(password)}: ${r.status} ${r.text}`);
    assert.equal(r.body.type, 'urn:atrium:problem:validation');
    const fields = r.body.errors.map((e) => e.field);
    assert.deepEqual(fields, ['password'], `${JSON.stringify(password)}: ${r.text}`);
    if (code) assert.equal(r.body.errors[0].code, code, `${JSON.stringify(password)}: ${r.text}`);
    assert.ok(r.body.errors[0].message, 'each error has a message');
    assert.equal(r.headers.get('set-cookie'), null);
  }
  assert.equal(await userCount(srv), n, 'no refused sign-up created an account');
  // Exactly the minimum length is enough (12 characters, counted as characters, not bytes).
  const ok = await srv.post('/api/v1/signup', { name: 'Policy', email, password: 'Zq7-Mv2!Lr9x' });
  assert.equal(ok.status, 201, ok.text);
  const eleven = await srv.post('/api/v1/signup', { name: 'P', email: `${uniq('p')}@example.test`, password: 'ÿÿé-Mv2!Lr9' });
  assert.equal(eleven.status, 400, `11 characters (14 bytes) is too short: ${eleven.text}`);
  assert.equal(eleven.body.errors[0].code, 'length');
});

test('sign-up names every bad field at once (name, email and password together)', async () => {
  const n = await userCount(srv);
  const r = await srv.post('/api/v1/signup', { name: '', email: 'not-an-email', password: 'short' });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.type, 'urn:atrium:problem:validation');
  assert.deepEqual(r.body.errors.map((e) => e.field).sort(), ['email', 'name', 'password'], r.text);
  const r2 = await srv.post('/api/v1/signup', { name: 'Ok', email: 'still not an email', password: 'password1234' });
  assert.equal(r2.status, 400, r2.text);
  assert.deepEqual(r2.body.errors.map((e) => e.field).sort(), ['email', 'password'], r2.text);
  assert.equal(await userCount(srv), n);
});

test('sign-up rejects unknown fields (no mass assignment of developer/id) and missing fields', async () => {
  const n = await userCount(srv);
  for (const extra of [{ developer: true }, { id: 'usr_01HZZZZZZZZZZZZZZZZZZZZZZZ' }, { disabled: false }]) {
    const r = await srv.post('/api/v1/signup', { name: 'Mass', email: `${uniq('mass')}@example.test`, password: strongPw(), ...extra });
    assert.equal(r.status, 400, `${JSON.stringify(extra)}: ${r.text}`);
    assert.equal(r.body.type, 'urn:atrium:problem:validation');
    assert.ok(r.body.errors.some((e) => e.field === Object.keys(extra)[0]), r.text);
  }
  const miss = await srv.post('/api/v1/signup', { email: `${uniq('m')}@example.test` });
  assert.equal(miss.status, 400, miss.text);
  assert.deepEqual(miss.body.errors.map((e) => e.field).sort(), ['name', 'password'], miss.text);
  assert.equal(await userCount(srv), n);
});

test('sign-in: 201 with a fresh session and cookie each time; two sign-ins are two live sessions', async () => {
  const email = `${uniq('sia')}@example.test`;
  const pw = strongPw();
  await addUser(srv, email, pw, { name: 'Sia' });
  const a = await login(srv, email, pw);
  assertSignedInBody(a.body, { email, name: 'Sia' });
  assertSessionCookie(a.r);
  assert.equal(a.r.headers.get('cache-control'), 'no-store');
  const b = await login(srv, email, pw);
  assert.notEqual(a.token, b.token);
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.csrf, b.csrf);
  for (const s of [a, b]) {
    const m = await me(srv, s);
    assert.equal(m.status, 200, m.text);
    assert.equal(m.body.session.id, s.id);
    assert.equal(m.body.csrf_token, s.csrf);
  }
});

test('sign-in failures (wrong password, unknown or malformed email) all answer the same 401 body', async () => {
  const email = `${uniq('fail')}@example.test`;
  const pw = strongPw();
  await addUser(srv, email, pw);
  const answers = [
    ['wrong password', await signIn(srv, email, `${pw}x`)],
    ['wrong case of password', await signIn(srv, email, pw.toUpperCase())],
    ['unknown email', await signIn(srv, `nobody-${email}`, pw)],
    ['malformed email', await signIn(srv, 'not an email', pw)],
  ];
  const headerNames = (r) => [...r.headers.keys()].filter((k) => !['date', 'x-request-id'].includes(k)).sort();
  for (const [what, r] of answers) {
    assertInvalidCredentials(r, what);
    assert.deepEqual(headerNames(r), headerNames(answers[0][1]), `${what}: same header set`);
  }
});

test('sign-in with a body that is not {email, password} → 400 validation, no cookie', async () => {
  for (const body of [{ email: 'a@example.test' }, { password: 'x' }, { email: 'a@example.test', password: 'abc', remember: true }, {}]) {
    const r = await srv.post('/api/v1/session', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.body.type, 'urn:atrium:problem:validation');
    assert.equal(r.headers.get('set-cookie'), null);
  }
});

test('session fixation: a cookie sent at sign-in is never adopted; the server issues a new token', async () => {
  const email = `${uniq('fix')}@example.test`;
  const pw = strongPw();
  await addUser(srv, email, pw);
  const planted = randomBytes(32).toString('base64url');
  const r = await signIn(srv, email, pw, { cookie: `atrium_session=${planted}` });
  assert.equal(r.status, 201, r.text);
  const c = setCookie(r);
  assert.notEqual(c.value, planted);
  const dead = await srv.req('/api/v1/me', { headers: { cookie: `atrium_session=${planted}` } });
  assert.equal(dead.status, 401, 'the planted token never becomes a session');
  // Signing in again while holding a live session: a different token, never the old one re-sent.
  const s1 = { cookie: `atrium_session=${c.value}` };
  const r2 = await signIn(srv, email, pw, { cookie: s1.cookie });
  assert.equal(r2.status, 201, r2.text);
  assert.notEqual(setCookie(r2).value, c.value);
  assert.notEqual(r2.body.session.id, r.body.session.id);
});

test('TLS: the cookie is __Host-atrium_session with Secure; the plain name is not accepted', async () => {
  const tls = await startServer({ env: { ...NO_IP_LIMIT, ATRIUM_TLS: 'true', ATRIUM_SIGNUP: 'true', ATRIUM_PASSWORD_MIN_LENGTH: '16' } });
  try {
    const o = await tls.req('/api/v1/auth/options');
    assert.deepEqual(o.body, { signup_enabled: true, password_min_length: 16 });
    const email = `${uniq('tls')}@example.test`;
    const short = await tls.post('/api/v1/signup', { name: 'T', email, password: 'Zq7-Mv2!Lr9x-ab' }); // 15
    assert.equal(short.status, 400, short.text);
    assert.equal(short.body.errors[0].code, 'length');
    const pw = `${strongPw()}-more`;
    const up = await tls.post('/api/v1/signup', { name: 'T', email, password: pw });
    assert.equal(up.status, 201, up.text);
    const c = assertSessionCookie(up, { tls: true });
    const ok = await tls.req('/api/v1/me', { headers: { cookie: `__Host-atrium_session=${c.value}` } });
    assert.equal(ok.status, 200, ok.text);
    const plain = await tls.req('/api/v1/me', { headers: { cookie: `atrium_session=${c.value}` } });
    assert.equal(plain.status, 401, `the non-prefixed cookie must be ignored under TLS: ${plain.text}`);
    const si = await signIn(tls, email, pw);
    assert.equal(si.status, 201, si.text);
    assertSessionCookie(si, { tls: true });
    // Sign-out clears the prefixed cookie, with Secure (a browser ignores a __Host- cookie without it).
    const out = await tls.req('/api/v1/session', {
      method: 'DELETE',
      headers: { cookie: `__Host-atrium_session=${c.value}`, 'x-csrf-token': up.body.csrf_token, 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(out.status, 204, out.text);
    assertClearedCookie(out, '__Host-atrium_session');
    assert.ok(setCookie(out).attrs.map((a) => a.toLowerCase()).includes('secure'), setCookie(out).raw);
  } finally {
    await tls.stop();
  }
});

// ---------------------------------------------------------------------------------------------------
// The CLI (run against the same store while the server is up).

test('CLI user add --password-stdin: the account signs in; user list shows it active', async () => {
  const email = `${uniq('cli')}@example.test`;
  const pw = strongPw();
  const r = await addUser(srv, email, pw, { name: 'Cli Person' });
  assert.match(r.stdout, new RegExp(`added ${email} \\(usr_[0-9A-HJKMNP-TV-Z]{26}\\)`));
  assert.ok(!r.stdout.includes(pw) && !r.stderr.includes(pw), 'a password given on stdin is never echoed');
  const s = await login(srv, email, pw);
  assertSignedInBody(s.body, { email, name: 'Cli Person' });
  const list = await srv.cli(['user', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const line = list.stdout.split('\n').find((l) => l.includes(email));
  assert.ok(line, list.stdout);
  assert.match(line, /\bactive\b/);
  assert.match(line, /\bno\s*$/);
  assert.ok(line.includes(s.user.id));
});

test('CLI user add without --password-stdin prints a generated password once, and it works', async () => {
  const email = `${uniq('gen')}@example.test`;
  const r = await srv.cli(['user', 'add', email, '--name', 'Gen']);
  assert.equal(r.code, 0, r.stderr);
  const m = /^password: (\S+)$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(m[1].length >= 16, `generated password ${m[1].length} chars`);
  await login(srv, email, m[1]);
});

test('CLI user add refuses a duplicate email and a weak password (non-zero exit, nothing created)', async () => {
  const email = `${uniq('dupcli')}@example.test`;
  const pw = strongPw();
  await addUser(srv, email, pw);
  const n = await userCount(srv);
  const dup = await srv.cli(['user', 'add', email.toUpperCase(), '--password-stdin'], {}, { input: `${strongPw()}\n` });
  assert.notEqual(dup.code, 0, dup.stdout);
  const weak = await srv.cli(['user', 'add', `${uniq('weak')}@example.test`, '--password-stdin'], {}, { input: 'password1234\n' });
  assert.notEqual(weak.code, 0, weak.stdout);
  assert.equal(await userCount(srv), n);
  await login(srv, email, pw); // the original password still works
  const nobody = await srv.cli(['user', 'disable', `${uniq('ghost')}@example.test`]);
  assert.notEqual(nobody.code, 0, 'disabling an unknown user fails');
});

test('CLI user disable ends every session at once and sign-in then fails like a wrong password; enable restores sign-in', async () => {
  const email = `${uniq('dis')}@example.test`;
  const pw = strongPw();
  await addUser(srv, email, pw);
  const a = await login(srv, email, pw);
  const b = await login(srv, email, pw);
  const d = await srv.cli(['user', 'disable', email.toUpperCase()]); // the CLI normalises the email too
  assert.equal(d.code, 0, d.stderr);
  for (const s of [a, b]) {
    const m = await me(srv, s);
    assert.equal(m.status, 401, `a disabled user's session is dead: ${m.text}`);
    assertClearedCookie(m);
  }
  assertInvalidCredentials(await signIn(srv, email, pw), 'disabled user, right password');
  assertInvalidCredentials(await signIn(srv, email, `${pw}x`), 'disabled user, wrong password');
  const list = await srv.cli(['user', 'list']);
  assert.match(list.stdout.split('\n').find((l) => l.includes(email)) || '', /\bdisabled\b/);
  const e = await srv.cli(['user', 'enable', email]);
  assert.equal(e.code, 0, e.stderr);
  const c = await login(srv, email, pw);
  assert.equal((await me(srv, c)).status, 200);
  assert.equal((await me(srv, a)).status, 401, 'enabling does not bring old sessions back');
});

test('CLI user set-password ends every session; the old password stops working', async () => {
  const email = `${uniq('setpw')}@example.test`;
  const pw = strongPw();
  const pw2 = strongPw();
  await addUser(srv, email, pw);
  const a = await login(srv, email, pw);
  const weak = await srv.cli(['user', 'set-password', email, '--password-stdin'], {}, { input: 'qwerty123456\n' });
  assert.notEqual(weak.code, 0, 'a weak password is refused');
  assert.equal((await me(srv, a)).status, 200, 'a refused set-password changes nothing');
  const r = await srv.cli(['user', 'set-password', email, '--password-stdin'], {}, { input: `${pw2}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(pw2));
  assert.equal((await me(srv, a)).status, 401);
  assertInvalidCredentials(await signIn(srv, email, pw), 'old password after set-password');
  await login(srv, email, pw2);
});

test('CLI grant-developer / revoke-developer show in /me of a live session', async () => {
  const email = `${uniq('dev')}@example.test`;
  const pw = strongPw();
  await addUser(srv, email, pw);
  const s = await login(srv, email, pw);
  assert.equal(s.user.developer, false);
  const g = await srv.cli(['user', 'grant-developer', email]);
  assert.equal(g.code, 0, g.stderr);
  assert.equal((await me(srv, s)).body.user.developer, true);
  const rv = await srv.cli(['user', 'revoke-developer', email]);
  assert.equal(rv.code, 0, rv.stderr);
  assert.equal((await me(srv, s)).body.user.developer, false);
  const email2 = `${uniq('dev2')}@example.test`;
  await addUser(srv, email2, pw, { developer: true });
  const s2 = await login(srv, email2, pw);
  assert.equal(s2.user.developer, true);
});

test('session tokens from every sign-in so far are distinct 256-bit base64url strings', async () => {
  const email = `${uniq('tok')}@example.test`;
  const pw = strongPw();
  await addUser(srv, email, pw);
  const seen = new Set();
  for (let i = 0; i < 8; i++) {
    const s = await login(srv, email, pw);
    assert.match(s.token, TOKEN);
    assert.ok(!seen.has(s.token), 'duplicate token');
    seen.add(s.token);
  }
});
