// Behind a reverse proxy (issue 13, item 6): with ATRIUM_TRUSTED_PROXIES the client address is the
// right-most address of Forwarded / X-Forwarded-For that is not a trusted proxy, and it feeds the
// sign-in rate limit, audit events, sessions and the access log; an untrusted peer's headers and
// malformed headers are ignored. /metrics is refused through the proxy and served on the management
// listener (ATRIUM_METRICS_LISTEN) or with the bearer token (ATRIUM_METRICS_TOKEN). Both backends.
//
// The "proxy" is the test itself: its requests come from 127.0.0.1, which the servers here trust
// (127.0.0.1/32) or do not (10.0.0.0/8), and carry the forwarding headers a proxy would add.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../lib/server.mjs';

const TRUST_LOCAL = { ATRIUM_TRUSTED_PROXIES: '127.0.0.1/32', ATRIUM_SIGNUP: 'true', ATRIUM_JOB_WORKERS: '0' };
const uniq = (p) => `${p}-${randomBytes(4).toString('hex')}`;
const strongPw = () => `Tidal-${randomBytes(6).toString('hex')}-Lantern`;

function signIn(srv, email, password, headers = {}) {
  return srv.post('/api/v1/session', { email, password }, { headers });
}

async function addUser(srv) {
  const u = { email: `${uniq('proxy')}@example.test`, pw: strongPw() };
  const r = await srv.cli(['user', 'add', u.email, '--name', 'Proxy User', '--password-stdin'], {}, { input: `${u.pw}\n` });
  assert.equal(r.code, 0, r.stderr);
  return u;
}

/** Signs up through the "proxy" with the given forwarding headers; returns the new user's id. */
async function signUp(srv, headers) {
  const email = `${uniq('fwd')}@example.test`;
  const r = await srv.post('/api/v1/signup', { name: 'Forwarded', email, password: strongPw() }, { headers });
  assert.equal(r.status, 201, r.text);
  const id = await srv.sql(`SELECT id FROM users WHERE email = '${email}'`);
  assert.ok(id, 'the user exists');
  return { id, requestId: r.headers.get('x-request-id') };
}

/** Signs up with X-Forwarded-For sent as several header lines (fetch would merge them into one). */
function signUpRaw(srv, xffLines) {
  const email = `${uniq('raw')}@example.test`;
  const body = JSON.stringify({ name: 'Raw', email, password: strongPw() });
  return new Promise((resolve, reject) => {
    const req = http.request(new URL('/api/v1/signup', srv.url), { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', async () => {
        assert.equal(res.statusCode, 201);
        resolve(await srv.sql(`SELECT id FROM users WHERE email = '${email}'`));
      });
    });
    req.on('error', reject);
    req.setHeader('content-type', 'application/json');
    req.setHeader('x-forwarded-for', xffLines);
    req.end(body);
  });
}

/** The addresses recorded for a user: the audit event of their new workspace and their session. */
async function recordedIps(srv, userId) {
  const audit = await srv.sql(`SELECT ip FROM audit_events WHERE actor_id = '${userId}' AND action = 'workspace.created'`);
  const session = await srv.sql(`SELECT ip FROM sessions WHERE user_id = '${userId}'`);
  return { audit, session };
}

test('trusted proxy: ten bad sign-ins from one forwarded client are 429 for that client only, whatever it writes on the left', async () => {
  const srv = await startServer({ env: TRUST_LOCAL });
  try {
    const u = await addUser(srv);
    for (let i = 1; i <= 10; i++) {
      // The left-most entry is the client's own invention and changes every time; the proxy appended 198.51.100.1.
      const r = await signIn(srv, u.email, 'Wrong-password-1', { 'x-forwarded-for': `203.0.113.${i}, 198.51.100.1` });
      assert.equal(r.status, 401, `attempt ${i}: ${r.text}`);
    }
    const limited = await signIn(srv, u.email, u.pw, { 'x-forwarded-for': '192.0.2.99, 198.51.100.1' });
    assert.equal(limited.status, 429, `the same client: ${limited.text}`);
    // Another client through the same proxy is not blocked (nor is the account locked: the
    // threshold is 5 failures, but the lockout applies to the account, so use a second user).
    const other = await addUser(srv);
    const ok = await signIn(srv, other.email, other.pw, { 'x-forwarded-for': '198.51.100.2' });
    assert.equal(ok.status, 201, `another client: ${ok.text}`);
    const viaForwarded = await signIn(srv, other.email, other.pw, { forwarded: 'for=198.51.100.3;proto=https' });
    assert.equal(viaForwarded.status, 201, `a client named by Forwarded: ${viaForwarded.text}`);
  } finally {
    await srv.stop();
  }
});

test('trusted proxy: audit events, sessions and the access log carry the forwarded client address', async () => {
  const srv = await startServer({ env: TRUST_LOCAL });
  try {
    // The right-most hop is a trusted proxy (skipped); the next one is the client.
    const a = await signUp(srv, { 'x-forwarded-for': '203.0.113.50, 198.51.100.20, 127.0.0.1' });
    assert.deepEqual(await recordedIps(srv, a.id), { audit: '198.51.100.20', session: '198.51.100.20' });
    // Several header lines read as one list: the last line's last address is the right-most.
    const raw = await signUpRaw(srv, ['203.0.113.60', '198.51.100.30, 127.0.0.1']);
    assert.deepEqual(await recordedIps(srv, raw), { audit: '198.51.100.30', session: '198.51.100.30' });
    // Forwarded (RFC 7239) wins over X-Forwarded-For; quoted IPv6 with a port.
    const b = await signUp(srv, {
      forwarded: 'for=192.0.2.1, for="[2001:db8:cafe::17]:4711";proto=https',
      'x-forwarded-for': '198.51.100.77',
    });
    assert.deepEqual(await recordedIps(srv, b.id), { audit: '2001:db8:cafe::17', session: '2001:db8:cafe::17' });
    const line = await srv.waitForLog((l) => l.msg === 'request' && l.request_id === b.requestId);
    assert.equal(line.ip, '2001:db8:cafe::17');
    assert.equal(line.peer, '127.0.0.1');
    // Malformed headers: the peer's own address stands.
    for (const headers of [
      { 'x-forwarded-for': 'not-an-address' },
      { 'x-forwarded-for': '198.51.100.5, ' },
      { forwarded: 'for=unknown' },
      { forwarded: 'proto=https' },
      { forwarded: 'for="_hidden"' },
    ]) {
      const m = await signUp(srv, headers);
      assert.deepEqual(await recordedIps(srv, m.id), { audit: '127.0.0.1', session: '127.0.0.1' }, JSON.stringify(headers));
    }
  } finally {
    await srv.stop();
  }
});

test('untrusted peer: X-Forwarded-For and Forwarded are ignored (rate limit, audit, session)', async () => {
  const srv = await startServer({ env: { ...TRUST_LOCAL, ATRIUM_TRUSTED_PROXIES: '10.0.0.0/8' } });
  try {
    const a = await signUp(srv, { 'x-forwarded-for': '198.51.100.20', forwarded: 'for=198.51.100.21' });
    assert.deepEqual(await recordedIps(srv, a.id), { audit: '127.0.0.1', session: '127.0.0.1' });
    const u = await addUser(srv);
    for (let i = 1; i <= 10; i++)
      assert.equal((await signIn(srv, u.email, 'Wrong-password-1', { 'x-forwarded-for': `198.51.100.${i}` })).status, 401);
    const r = await signIn(srv, u.email, u.pw, { 'x-forwarded-for': '198.51.100.200' });
    assert.equal(r.status, 429, r.text);
  } finally {
    await srv.stop();
  }
});

test('/metrics through a trusted proxy is refused; the management listener serves it (and nothing else)', async () => {
  const srv = await startServer({ env: { ...TRUST_LOCAL, ATRIUM_METRICS_LISTEN: '127.0.0.1:0' } });
  try {
    for (const headers of [{}, { 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=127.0.0.1' }]) {
      const r = await srv.req('/metrics', { headers });
      assert.equal(r.status, 404, `${JSON.stringify(headers)}: ${r.status}`);
    }
    const line = srv.stdout.find((l) => l.startsWith('Metrics are served at '));
    assert.ok(line, `the management address is printed: ${srv.stdout.join('\n')}`);
    const url = new URL(line.replace('Metrics are served at ', ''));
    const m = await fetch(url);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /# TYPE atrium_http_requests_total counter/);
    for (const p of ['/healthz', '/api/v1/session', '/', '/metrics/x'])
      assert.equal((await fetch(new URL(p, url))).status, 404, `management listener: ${p}`);
  } finally {
    await srv.stop();
  }
});

test('/metrics with ATRIUM_METRICS_TOKEN: the bearer token is required on the main listener (also through the proxy)', async () => {
  const token = randomBytes(24).toString('hex');
  // The token comes from a file with a trailing newline (ATRIUM_METRICS_TOKEN_FILE), as a secret may.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-token-'));
  const file = path.join(dir, 'token');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  const srv = await startServer({ env: { ...TRUST_LOCAL, ATRIUM_METRICS_TOKEN_FILE: file } });
  try {
    assert.equal((await srv.req('/metrics')).status, 404, 'no token');
    assert.equal((await srv.req('/metrics', { headers: { authorization: `Bearer ${token}x` } })).status, 404, 'a wrong token');
    assert.equal((await srv.req('/metrics', { headers: { authorization: 'Bearer ' } })).status, 404, 'an empty token');
    const r = await srv.req('/metrics', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /# TYPE atrium_http_requests_total counter/);
  } finally {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
