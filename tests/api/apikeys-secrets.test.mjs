// T6 (reliability.md §8.2, DESIGN.md §5) for API keys: a key's secret is shown once and stored only as a
// keyed hash. After making keys every way (plain, personal, rotated, with an Idempotency-Key whose
// stored answer holds the secret), using them (allowed, refused, from an allowlist), sending unknown
// well-formed secrets, and running the jobs (mail), no secret appears, raw, base64, base64url or hex,
// in any file of the data folder (SQLite database, -wal, -shm, mail), the PostgreSQL dump, the server's
// log and output, or any answer but its creation (and that creation's idempotent replay); while each
// key's 12-character prefix does appear in the store (the scan would see a secret there).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { startWorld, keyPrincipal, createKey, allScopes, fakeSecret, uniq } from './lib-world.mjs';
import { makeScratch } from '../lib/server.mjs';

let scratch; // the store outlives the server, for the scan after a clean stop
let w;
let srv;
let p;
let ws;
const secrets = []; // every secret made or sent
const prefixes = []; // prefixes of the keys that exist
const answers = []; // every answer text after the creations

before(async () => {
  scratch = await makeScratch();
  w = await startWorld({ extras: false, env: { ATRIUM_JOB_WORKERS: '0' }, scratch });
  ({ srv, p, ws } = w);
});

after(async () => {
  await w?.stop();
  await scratch?.cleanup();
});

/** The forms a leaked secret could take in a file or a log. */
function forms(secret) {
  const raw = Buffer.from(secret);
  const random = secret.slice(4, 44);
  return [
    secret,
    random,
    raw.toString('base64'),
    raw.toString('base64url'),
    raw.toString('hex'),
    raw.toString('hex').toUpperCase(),
    Buffer.from(random).toString('base64'),
    Buffer.from(random).toString('hex'),
    createHash('sha256').update(secret).digest('hex'), // an unkeyed hash counts as a leak too
  ];
}

/** Every file under dir, with its bytes. */
function filesUnder(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(f));
    else if (e.isFile()) out.push({ file: f, bytes: fs.readFileSync(f) });
  }
  return out;
}

function scan(blobs) {
  const hits = [];
  for (const { name, bytes } of blobs) {
    const text = bytes.toString('latin1');
    for (const s of secrets) for (const f of forms(s)) if (text.includes(f)) hits.push(`${name}: ${f.slice(0, 16)}… (form of ${s.slice(0, 12)}…)`);
  }
  return hits;
}

test('keys made, rotated, replayed and used every way', async () => {
  const scopes = await allScopes(srv);
  const track = (k) => {
    secrets.push(k.secret);
    prefixes.push(k.secret.slice(0, 12));
    return k;
  };
  const svc = track(await createKey(p.owner, ws.A, { name: 'Canary service', scopes }));
  const mine = track(await createKey(p.admin, ws.A, { name: 'Canary personal', owner: 'me', scopes: ['team:write'] }));
  const fenced = track(await createKey(p.owner, ws.A, { name: 'Canary fenced', allowed_cidrs: ['10.0.0.0/8'] }));
  const soon = track(await createKey(p.owner, ws.A, { name: 'Canary expiring', expires_in_days: 3 }));
  const b = track(await createKey(p.ownerB, ws.B, { name: 'Canary B' }));
  // Created with an Idempotency-Key: its stored answer holds the secret, and the replay shows it again.
  const ik = { headers: { 'idempotency-key': uniq('canary') } };
  const body = { name: 'Canary idempotent', scopes: ['team:read'], owner: 'workspace' };
  const first = await p.owner.post(`/api/v1/workspaces/${ws.A}/api-keys`, body, ik);
  assert.equal(first.status, 201, first.text);
  track({ secret: first.body.secret });
  const replay = await p.owner.post(`/api/v1/workspaces/${ws.A}/api-keys`, body, ik);
  assert.equal(replay.body.secret, first.body.secret, 'the replay is the stored answer');
  // Rotated (with a key, so the rotation's answer is stored too), and revoked.
  const rot = await p.owner.post(`/api/v1/workspaces/${ws.A}/api-keys/${svc.id}/rotate`, { overlap_hours: 1 }, { headers: { 'idempotency-key': uniq('rot') } });
  assert.equal(rot.status, 201, rot.text);
  track({ secret: rot.body.secret });
  const gone = track(await createKey(p.owner, ws.A, { name: 'Canary revoked' }));
  assert.equal((await p.owner.del(`/api/v1/workspaces/${ws.A}/api-keys/${gone.id}`)).status, 204);
  // Used: allowed, refused by scope, by workspace, by allowlist; revoked; unknown well-formed secrets.
  const unknown = [fakeSecret(), fakeSecret()];
  secrets.push(...unknown);
  const calls = [
    [svc.secret, 'GET', `/api/v1/workspaces/${ws.A}/members`],
    [rot.body.secret, 'POST', `/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Canary sub' }],
    [mine.secret, 'POST', `/api/v1/workspaces/${ws.A}/invitations`, { emails: ['canary@invitees.test'], role: 'member' }],
    [mine.secret, 'GET', `/api/v1/workspaces/${ws.A}`],
    [mine.secret, 'GET', `/api/v1/workspaces/${ws.B}/members`],
    [fenced.secret, 'GET', `/api/v1/workspaces/${ws.A}/members`],
    [soon.secret, 'GET', `/api/v1/me`],
    [b.secret, 'GET', `/api/v1/workspaces/${ws.B}/members`],
    [gone.secret, 'GET', `/api/v1/workspaces/${ws.A}/members`],
    [first.body.secret, 'GET', `/api/v1/workspaces/${ws.A}/members`],
    ...unknown.map((s) => [s, 'GET', `/api/v1/workspaces/${ws.A}/members`]),
    ...unknown.map((s) => [s, 'GET', '/api/v1/system']),
  ];
  for (const [secret, m, path, payload] of calls) {
    const k = keyPrincipal(srv, 'k', secret);
    const r = await k.req(m, path, payload ? { body: payload } : {});
    answers.push({ name: `${m} ${path} (${r.status})`, text: r.text });
  }
  // The secret in a query string or a cookie is not a way in, and is not logged either.
  answers.push({ name: 'query', text: (await srv.req(`/api/v1/workspaces/${ws.A}/members?api_key=${svc.secret}`)).text });
  answers.push({ name: 'cookie', text: (await srv.req(`/api/v1/workspaces/${ws.A}/members`, { headers: { cookie: `atrium_session=${svc.secret}` } })).text });
  // Reads of the keys and the audit log, by the people who manage them.
  for (const [pr, W] of [[p.owner, 'A'], [p.admin, 'A'], [p.ownerB, 'B']]) {
    for (const sub of ['api-keys', 'audit-events', 'members', 'invitations']) {
      const r = await pr.get(`/api/v1/workspaces/${ws[W]}/${sub}`);
      assert.equal(r.status, 200, r.text);
      answers.push({ name: `${pr.key} GET ${sub}`, text: r.text });
    }
    for (const k of (await pr.get(`/api/v1/workspaces/${ws[W]}/api-keys`)).body.items) {
      const r = await pr.get(`/api/v1/workspaces/${ws[W]}/api-keys/${k.id}`);
      answers.push({ name: `GET key ${k.id}`, text: r.text });
    }
  }
  // Mail (invitation, notices) goes out to the data folder.
  assert.equal((await srv.post('/api/v1/test/jobs/run', {})).status, 200);
  assert.equal((await srv.post('/api/v1/test/clock', { advance_seconds: 86400 })).status, 200);
  assert.equal((await srv.post('/api/v1/test/jobs/run', {})).status, 200);
  assert.equal((await srv.post('/api/v1/test/jobs/run', {})).status, 200);
  assert.ok(secrets.length >= 10);
});

test('no answer but a creation (or its replay) shows a secret', () => {
  const hits = scan(answers.map((a) => ({ name: a.name, bytes: Buffer.from(a.text) })));
  assert.deepEqual(hits, []);
});

test('the store holds each key’s prefix and a keyed hash, never the secret: data folder files and the PostgreSQL dump', async () => {
  const blobs = filesUnder(srv.dataDir).map((f) => ({ name: path.relative(srv.dataDir, f.file), bytes: f.bytes }));
  if (srv.backend === 'pg') {
    const dump = spawnSync('pg_dump', ['--no-owner', '-d', srv.databaseUrl], { maxBuffer: 256 * 1024 * 1024 });
    assert.equal(dump.status, 0, String(dump.stderr));
    blobs.push({ name: 'pg_dump', bytes: dump.stdout });
  }
  const store = blobs.filter((b) => (srv.backend === 'pg' ? b.name === 'pg_dump' : b.name.startsWith('atrium.db')));
  assert.ok(store.length >= 1, `no store files among ${blobs.map((b) => b.name)}`);
  // The positive control: the prefixes are there (in the database or its WAL), so a stored secret would be found.
  const storeText = Buffer.concat(store.map((b) => b.bytes)).toString('latin1');
  for (const pre of prefixes) assert.ok(storeText.includes(pre), `prefix ${pre} not in the store`);
  const hashes = (await srv.sql(`SELECT secret_hash FROM api_keys`)).split('\n');
  assert.ok(hashes.every((h) => /^[0-9a-f]{32,}$/.test(h)), hashes.join(','));
  assert.deepEqual(scan(blobs), []);
});

test('the log and the output never show a secret (nor the Authorization header)', () => {
  const lines = [...srv.logs, ...srv.stdout];
  assert.ok(lines.length > 20, `only ${lines.length} log lines`);
  assert.deepEqual(scan([{ name: 'log', bytes: Buffer.from(lines.join('\n')) }]), []);
  assert.ok(!/bearer atr_/i.test(lines.join('\n')));
});

test('after a clean stop (SQLite checkpointed into the database file), the store still holds no secret', async () => {
  assert.equal(await srv.stop(), 0);
  const blobs = filesUnder(scratch.dataDir).map((f) => ({ name: path.relative(scratch.dataDir, f.file), bytes: f.bytes }));
  if (scratch.backend === 'pg') {
    const dump = spawnSync('pg_dump', ['--no-owner', '-d', scratch.databaseUrl], { maxBuffer: 256 * 1024 * 1024 });
    assert.equal(dump.status, 0, String(dump.stderr));
    blobs.push({ name: 'pg_dump', bytes: dump.stdout });
  } else {
    const db = blobs.find((b) => b.name === 'atrium.db');
    for (const pre of prefixes) assert.ok(db.bytes.toString('latin1').includes(pre), `prefix ${pre} not in the checkpointed database`);
  }
  assert.deepEqual(scan(blobs), []);
});
