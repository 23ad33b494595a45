// Credentials after issue 12: every password change (reset link, /me/password, `atrium user
// set-password`) voids the user's outstanding reset links and ends their other sessions (item 3); one
// limit for every check of a current password (item 4); one email validator on every path, and
// forgot-password answering alike (item 9).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, problemOf } from '../lib/server.mjs';
import { startWorld, signIn, signUp, uniq, mailedToken, insertUser, EXTRA_PASSWORD } from './lib-world.mjs';

let w;
let srv;

before(async () => {
  w = await startWorld({ extras: false });
  ({ srv } = w);
});

after(async () => {
  await w?.stop();
});

const NEW_PASSWORD = 'Amber-Falcon-Orchard-5937';
const OTHER_PASSWORD = 'Cobalt-Meadow-Kettle-2284';

/** Asks for a reset link for email and returns its token (the newest mailed /reset-password/ link). */
async function resetToken(email) {
  const r = await srv.post('/api/v1/password/forgot', { email });
  assert.equal(r.status, 202, r.text);
  return mailedToken(srv, email, 'reset-password');
}

async function freshUser(prefix) {
  const email = `${uniq(prefix)}@example.test`;
  const a = await signUp(srv, prefix, email, 'Cred User');
  const b = await signIn(srv, `${prefix}-2`, email, EXTRA_PASSWORD);
  return { email, a, b };
}

const invalidToken = (r) => assert.deepEqual(problemOf(r, 400).errors.map((e) => [e.field, e.code]), [['token', 'invalid']]);

test('item 3: of two reset links, using one voids the other', async () => {
  const { email } = await freshUser('two-resets');
  const first = await resetToken(email);
  const second = await resetToken(email);
  assert.notEqual(first, second);
  assert.equal((await srv.post('/api/v1/password/reset', { token: first, password: NEW_PASSWORD })).status, 204);
  invalidToken(await srv.post('/api/v1/password/reset', { token: second, password: OTHER_PASSWORD }));
  assert.equal((await srv.post('/api/v1/session', { email, password: NEW_PASSWORD })).status, 201);
});

test('item 3: POST /me/password voids earlier reset links and ends the other sessions, not the current one', async () => {
  const { email, a, b } = await freshUser('me-password');
  const token = await resetToken(email);
  const r = await a.post('/api/v1/me/password', { current_password: EXTRA_PASSWORD, new_password: NEW_PASSWORD });
  assert.equal(r.status, 204, r.text);
  assert.equal((await a.get('/api/v1/me')).status, 200, 'the session that changed it stays');
  assert.equal((await b.get('/api/v1/me')).status, 401, 'the other session ended');
  invalidToken(await srv.post('/api/v1/password/reset', { token, password: OTHER_PASSWORD }));
  assert.equal((await srv.post('/api/v1/session', { email, password: NEW_PASSWORD })).status, 201);
});

test('item 3: `atrium user set-password` voids earlier reset links and ends every session', async () => {
  const { email, a, b } = await freshUser('cli-password');
  const token = await resetToken(email);
  const r = await srv.cli(['user', 'set-password', email, '--password-stdin'], {}, { input: `${NEW_PASSWORD}\n` });
  assert.equal(r.code, 0, r.stderr);
  for (const s of [a, b]) assert.equal((await s.get('/api/v1/me')).status, 401);
  invalidToken(await srv.post('/api/v1/password/reset', { token, password: OTHER_PASSWORD }));
  assert.equal((await srv.post('/api/v1/session', { email, password: NEW_PASSWORD })).status, 201);
});

test('item 9: an address literal is refused alike by sign-up, profile, invitations and `atrium user add`', async () => {
  const literal = `${uniq('lit')}@[127.0.0.1]`;
  const signup = await srv.post('/api/v1/signup', { name: 'Literal', email: literal, password: EXTRA_PASSWORD });
  assert.deepEqual(problemOf(signup, 400).errors.map((e) => [e.field, e.code]), [['email', 'format']]);
  const { a } = await freshUser('literal');
  const patch = await a.patch('/api/v1/me/profile', { email: literal, current_password: EXTRA_PASSWORD });
  assert.deepEqual(problemOf(patch, 400).errors.map((e) => [e.field, e.code]), [['email', 'format']]);
  const ws = (await a.get('/api/v1/workspaces')).body.items[0].id;
  const inv = await a.post(`/api/v1/workspaces/${ws}/invitations`, { emails: [literal], role: 'member' });
  assert.deepEqual(problemOf(inv, 400).errors.map((e) => e.code), ['invalid_email'], inv.text);
  const cli = await srv.cli(['user', 'add', literal, '--password-stdin'], {}, { input: `${EXTRA_PASSWORD}\n` });
  assert.notEqual(cli.code, 0);
  for (const e of ['a@b', 'a@-x.test', 'a..b@x.test', '"a b"@x.test', 'a@x_y.test', 'ä@x.test']) {
    const r = await srv.post('/api/v1/signup', { name: 'Bad', email: e, password: EXTRA_PASSWORD });
    assert.equal(r.status, 400, `${e}: ${r.text}`);
  }
});

test('item 9: forgot-password answers alike for an account stored with an address literal and for nobody', async () => {
  const stored = `${uniq('legacy')}@[127.0.0.1]`;
  await insertUser(srv, stored, 'Legacy Literal');
  const mails = async () => Number(await srv.sql(`SELECT COUNT(*) FROM mail_outbox WHERE to_addr = '${stored}'`));
  const known = await srv.post('/api/v1/password/forgot', { email: stored });
  const unknown = await srv.post('/api/v1/password/forgot', { email: `${uniq('nobody')}@[127.0.0.1]` });
  const plain = await srv.post('/api/v1/password/forgot', { email: `${uniq('nobody')}@example.test` });
  assert.deepEqual([known.status, unknown.status, plain.status], [202, 202, 202]);
  assert.equal(known.text, unknown.text);
  assert.equal(known.text, plain.text);
  assert.equal(await mails(), 0);
});

test('item 4: one limit for every check of the current password (/me/password and an email change)', async () => {
  const s2 = await startServer({ env: { ATRIUM_SIGNUP: 'true', ATRIUM_LOGIN_IP_PER_MINUTE: '10' } });
  try {
    const email = `${uniq('guess')}@example.test`;
    const u = await signUp(s2, 'guess', email, 'Guess Target');
    const codes = [];
    for (let i = 0; i < 6; i++)
      codes.push((await u.patch('/api/v1/me/profile', { email: `${uniq('x')}@example.test`, current_password: `wrong-${i}-password` })).status);
    for (let i = 0; i < 4; i++)
      codes.push((await u.post('/api/v1/me/password', { current_password: `wrong-${i}-password`, new_password: NEW_PASSWORD })).status);
    assert.deepEqual(codes, Array(10).fill(400));
    const profile = await u.patch('/api/v1/me/profile', { email: `${uniq('x')}@example.test`, current_password: EXTRA_PASSWORD });
    const password = await u.post('/api/v1/me/password', { current_password: EXTRA_PASSWORD, new_password: NEW_PASSWORD });
    for (const r of [profile, password]) {
      assert.equal(problemOf(r, 429).type, 'urn:atrium:problem:rate-limited');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    // Nothing changed: the right password was never even tried.
    const me = await u.get('/api/v1/me/profile');
    assert.deepEqual([me.body.email, me.body.pending_email], [email, null]);
    assert.equal((await s2.post('/api/v1/session', { email, password: EXTRA_PASSWORD })).status, 201);
  } finally {
    await s2.stop();
  }
});
