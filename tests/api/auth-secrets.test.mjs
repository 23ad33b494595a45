// Credential storage (reliability.md T6; DESIGN.md §5): canary passwords and session tokens must not
// appear in the store (SQLite files incl. -wal/-shm, or a pg_dump of the test database) nor in the
// server's logs, in raw, base64, hex or URL-encoded form; stored password hashes are Argon2id PHC
// strings with the expected parameters; hashing is bounded under 20 parallel sign-ins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer, makeScratch } from '../lib/server.mjs';

// ---------------------------------------------------------------------------------------------------
// Helpers (each auth-*.test.mjs file carries its own copy: only test files live in tests/api).

const NO_IP_LIMIT = { ATRIUM_LOGIN_IP_PER_MINUTE: '100000' };
const ARGON2ID = /^\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

const originOf = (srv) => srv.url.replace(/\/$/, '');
const uniq = (p) => `${p}-${randomBytes(4).toString('hex')}`;
/** A unique password that passes the policy and is easy to spot. */
const canary = (tag) => `Canary-${tag}-${randomBytes(9).toString('hex')}-Zq!`;

function setCookie(r) {
  const raw = r.headers.get('set-cookie');
  if (!raw) return null;
  const [nv] = raw.split(';');
  const i = nv.indexOf('=');
  return { name: nv.slice(0, i), value: nv.slice(i + 1) };
}

function signIn(srv, email, password) {
  return srv.post('/api/v1/session', { email, password });
}

function write(srv, s, method, p, body) {
  return srv.req(p, {
    method,
    headers: {
      cookie: s.cookie,
      'x-csrf-token': s.csrf,
      origin: originOf(srv),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function sessionOf(r) {
  assert.equal(r.status, 201, r.text);
  const c = setCookie(r);
  return { token: c.value, cookie: `${c.name}=${c.value}`, csrf: r.body.csrf_token, id: r.body.session.id };
}

/** Every encoding of a secret that could plausibly end up stored or logged. */
function encodings(secret, { token = false } = {}) {
  const raw = Buffer.from(secret, 'utf8');
  const forms = new Map([
    ['raw', raw],
    ['base64', Buffer.from(raw.toString('base64'))],
    ['base64 (no padding)', Buffer.from(raw.toString('base64').replace(/=+$/, ''))],
    ['base64url', Buffer.from(raw.toString('base64url'))],
    ['hex', Buffer.from(raw.toString('hex'))],
    ['HEX', Buffer.from(raw.toString('hex').toUpperCase())],
    ['url-encoded', Buffer.from(encodeURIComponent(secret))],
    ['JSON-escaped', Buffer.from(JSON.stringify(secret).slice(1, -1))],
    ['sha256 hex (unkeyed hash)', Buffer.from(createHash('sha256').update(raw).digest('hex'))],
  ]);
  if (token) {
    // The token is base64url of random bytes: those bytes, and their other spellings, count too.
    const bytes = Buffer.from(secret, 'base64url');
    forms.set('decoded bytes', bytes);
    forms.set('decoded bytes as hex', Buffer.from(bytes.toString('hex')));
    forms.set('decoded bytes as HEX', Buffer.from(bytes.toString('hex').toUpperCase()));
    forms.set('decoded bytes as base64', Buffer.from(bytes.toString('base64')));
    forms.set('sha256 of decoded bytes', Buffer.from(createHash('sha256').update(bytes).digest('hex')));
  }
  return forms;
}

/** [{secret label, form, where}] for every hit of every secret in every haystack. */
function scan(secrets, haystacks) {
  const hits = [];
  for (const { label, value, token } of secrets) {
    for (const [form, needle] of encodings(value, { token })) {
      for (const [where, buf] of haystacks) {
        if (buf.indexOf(needle) >= 0) hits.push(`${label} (${form}) in ${where}`);
      }
    }
  }
  return hits;
}

function run(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out: Buffer.concat(out), err });
    });
  });
}

/** The store as bytes: every file in the data dir (SQLite db, -wal, -shm, keys…) or a pg_dump. */
async function storeHaystacks(srv) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push([path.relative(srv.dataDir, p) || e.name, fs.readFileSync(p)]);
    }
  };
  if (fs.existsSync(srv.dataDir)) walk(srv.dataDir);
  if (srv.backend === 'pg') {
    const d = await run('pg_dump', ['--no-owner', '--no-privileges', '-d', srv.databaseUrl]);
    assert.equal(d.code, 0, `pg_dump failed: ${d.err}`);
    assert.ok(d.out.includes(Buffer.from('CREATE TABLE')), 'pg_dump produced a schema');
    out.push(['pg_dump', d.out]);
  } else {
    const names = out.map(([n]) => n);
    assert.ok(names.includes('atrium.db'), `the SQLite database is in the data dir: ${names.join(', ')}`);
  }
  return out;
}

function logHaystacks(srv, extra = []) {
  return [
    ['server stderr (logs)', Buffer.from(srv.logs.join('\n'))],
    ['server stdout', Buffer.from(srv.stdout.join('\n'))],
    ...extra,
  ];
}

// ---------------------------------------------------------------------------------------------------

let scratch; // kept past srv.stop() so the store can be scanned after a clean shutdown
let srv;
const secrets = []; // {label, value, token?}
const cliOutput = []; // [where, Buffer]
let generated; // the CLI-generated password (printed on purpose once; must not be stored)

before(async () => {
  scratch = await makeScratch();
  // debug: the most the server ever logs (store errors, e.g. the unique violation of a duplicate sign-up).
  srv = await startServer({ scratch, env: { ...NO_IP_LIMIT, ATRIUM_SIGNUP: 'true', ATRIUM_LOG_LEVEL: 'debug' } });
});
after(async () => {
  await srv?.stop();
  await scratch?.cleanup();
});

test('T6 setup: sign up, sign in, fail, change passwords and use the CLI with canary passwords', async () => {
  const add = (label, value, token = false) => secrets.push({ label, value, token });
  const email = `${uniq('canary')}@example.test`;
  const p1 = canary('signup');
  const p2 = canary('changed');
  const pWrong = canary('wrong');
  const pWrongCurrent = canary('wrongcurrent');
  const pUnknown = canary('unknownuser');
  const pWeakNew = `${email}`; // refused by the policy (it is the email), but still a secret
  add('sign-up password', p1);
  add('changed password', p2);
  add('wrong sign-in password', pWrong);
  add('wrong current password', pWrongCurrent);
  add('unknown-user password', pUnknown);

  const up = await srv.post('/api/v1/signup', { name: 'Canary', email, password: p1 }, { headers: { 'user-agent': 'canary-agent' } });
  const s0 = sessionOf(up);
  add('sign-up session token', s0.token, true);
  add('sign-up CSRF token', s0.csrf);
  const pDup = canary('duplicate');
  add('duplicate sign-up password', pDup);
  const dup = await srv.post('/api/v1/signup', { name: 'Canary', email, password: pDup });
  assert.equal(dup.status, 409, dup.text);
  assert.equal((await signIn(srv, email, pWrong)).status, 401);
  assert.equal((await signIn(srv, `nobody-${email}`, pUnknown)).status, 401);
  const s1 = sessionOf(await signIn(srv, email, p1));
  add('sign-in session token', s1.token, true);
  const wrongCur = await write(srv, s1, 'POST', '/api/v1/me/password', { current_password: pWrongCurrent, new_password: p2 });
  assert.equal(wrongCur.status, 400, wrongCur.text);
  const weak = await write(srv, s1, 'POST', '/api/v1/me/password', { current_password: p1, new_password: pWeakNew });
  assert.equal(weak.status, 400, weak.text);
  const ch = await write(srv, s1, 'POST', '/api/v1/me/password', { current_password: p1, new_password: p2 });
  assert.equal(ch.status, 204, ch.text);
  const s2 = sessionOf(await signIn(srv, email, p2));
  add('post-change session token', s2.token, true);
  add('post-change CSRF token', s2.csrf);
  const out = await write(srv, s2, 'DELETE', '/api/v1/session');
  assert.equal(out.status, 204, out.text); // an ended session's token must not be kept either

  // The CLI: add with a stdin password, set-password, and a generated password.
  const cliEmail = `${uniq('clicanary')}@example.test`;
  const p3 = canary('cliadd');
  const p4 = canary('cliset');
  add('CLI add password', p3);
  add('CLI set-password password', p4);
  const a = await srv.cli(['user', 'add', cliEmail, '--name', 'Cli Canary', '--password-stdin'], {}, { input: `${p3}\n` });
  assert.equal(a.code, 0, a.stderr);
  const sp = await srv.cli(['user', 'set-password', cliEmail, '--password-stdin'], {}, { input: `${p4}\n` });
  assert.equal(sp.code, 0, sp.stderr);
  const s3 = sessionOf(await signIn(srv, cliEmail, p4));
  add('CLI-user session token', s3.token, true);
  for (const [n, r] of [['user add', a], ['user set-password', sp]]) {
    cliOutput.push([`CLI ${n} stdout`, Buffer.from(r.stdout)], [`CLI ${n} stderr`, Buffer.from(r.stderr)]);
  }
  const g = await srv.cli(['user', 'add', `${uniq('gen')}@example.test`]);
  assert.equal(g.code, 0, g.stderr);
  generated = /^password: (\S+)$/m.exec(g.stdout)?.[1];
  assert.ok(generated, g.stdout);
  cliOutput.push(['CLI generated add stderr', Buffer.from(g.stderr)]);
  add('CLI generated password', generated);
  // The session is used once more so a late log line (access log of the last request) is in.
  assert.equal((await srv.req('/api/v1/me', { headers: { cookie: s3.cookie } })).status, 200);
  assert.ok(secrets.length >= 14);
});

test('T6: stored password hashes are Argon2id v19 m=65536,t=2,p=1 PHC strings with distinct salts', async () => {
  const rows = (await srv.sql('SELECT password_hash FROM users')).split('\n').filter(Boolean);
  const users = Number(await srv.sql('SELECT count(*) FROM users'));
  assert.equal(rows.length, users);
  assert.ok(users >= 3);
  for (const h of rows) assert.match(h, ARGON2ID);
  const salts = rows.map((h) => h.split('$')[4]);
  assert.equal(new Set(salts).size, salts.length, 'every hash has its own salt');
});

test('T6: no canary password or session token in the store (SQLite files / pg_dump), in any encoding', async () => {
  assert.ok(secrets.length, 'the setup test ran');
  const stores = await storeHaystacks(srv);
  const hits = scan(secrets, stores);
  assert.deepEqual(hits, [], `secrets found in the store:\n${hits.join('\n')}`);
  // The check can fail: the user agent we sent is stored, and the scanner finds it.
  assert.ok(scan([{ label: 'user agent', value: 'canary-agent' }], stores).length > 0, 'the scanner sees stored text');
});

test('T6: no canary password or session token in the server logs or the CLI output', async () => {
  const fromCli = secrets.filter((s) => s.label !== 'CLI generated password'); // printed once on purpose
  const hits = [...scan(secrets, logHaystacks(srv)), ...scan(fromCli, cliOutput)];
  assert.deepEqual(hits, [], `secrets found in logs:\n${hits.join('\n')}`);
  assert.ok(srv.logs.length > 10, 'the server logged requests');
});

test('T6: after a clean stop (WAL checkpointed) the store still holds no secret', async () => {
  assert.equal(await srv.stop(), 0, 'clean exit');
  const stores = await storeHaystacks(srv);
  const hits = scan(secrets, stores);
  assert.deepEqual(hits, [], `secrets found after stop:\n${hits.join('\n')}`);
  assert.deepEqual(scan(secrets, logHaystacks(srv)), [], 'shutdown logs hold no secret');
});

test('T6: 20 parallel sign-ins all succeed; memory stays within the hash-concurrency bound; /healthz keeps answering', async (t) => {
  const p = await startServer({ env: { ...NO_IP_LIMIT } });
  try {
    const email = `${uniq('burst')}@example.test`;
    const pw = canary('burst');
    const a = await p.cli(['user', 'add', email, '--password-stdin'], {}, { input: `${pw}\n` });
    assert.equal(a.code, 0, a.stderr);
    const status = () => fs.readFileSync(`/proc/${p.proc.pid}/status`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status())?.[1]);
    await p.req('/healthz');
    const baseline = kib('VmRSS');
    const health = [];
    let done = false;
    const prober = (async () => {
      while (!done) {
        const t = performance.now();
        const r = await p.fetch('/healthz');
        await r.arrayBuffer();
        health.push([r.status, performance.now() - t]);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const results = await Promise.all(Array.from({ length: 20 }, () => signIn(p, email, pw)));
    done = true;
    await prober;
    assert.deepEqual(results.map((r) => r.status), Array(20).fill(201));
    assert.equal(new Set(results.map((r) => setCookie(r).value)).size, 20, '20 distinct tokens');
    const peak = kib('VmHWM');
    t.diagnostic(`RSS baseline ${baseline} KiB, peak ${peak} KiB; /healthz probes ${health.length}`);
    // ATRIUM_HASH_CONCURRENCY=2 × 64 MiB + 64 MiB slack. Under ASan freed blocks wait in its quarantine
    // (256 MiB by default) before they go back, so that much more may stay resident there.
    const quarantine = process.env.ATRIUM_TEST_SANITIZER ? 256 * 1024 : 0;
    const budget = baseline + 2 * 66 * 1024 + 64 * 1024 + quarantine;
    assert.ok(peak <= budget, `peak RSS ${peak} KiB > baseline ${baseline} KiB + 2 hashes + 64 MiB`);
    assert.ok(health.length >= 3, `only ${health.length} /healthz probes during the burst`);
    assert.ok(health.every(([s]) => s === 200), JSON.stringify(health));
    const worst = Math.max(...health.map(([, ms]) => ms));
    assert.ok(worst < 1000, `/healthz took ${worst.toFixed(0)} ms while hashing (hashing must not starve other requests)`);
  } finally {
    await p.stop();
  }
});
