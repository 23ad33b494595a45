// API key expiry notices (issue "API keys and the public REST API"): a daily `api_key.notices` job,
// scheduled when a key is created, mails the key's owner and the workspace's active owners and admins
// 30, 7 and 1 days before the key expires, once per threshold. No job workers: the test moves the clock
// a day at a time, runs the due jobs (the scan, then the mail it queued) and reads the mail folder
// (<dataDir>/mail/*.eml). Beyond the schedule of a 31-day key, the invariants for keys made closer to
// their expiry: a notice never claims more days than are left, and thresholds only ever go down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, createKey, insertUser, addMembership, signIn, DEMO_PASSWORDS } from './lib-world.mjs';
import { readMailFolder } from '../lib/smtp-sink.mjs';

const DAY = 86400;

let w;
let srv;
let p;
let ws;
const K = {}; // name → {id, secret, expiresAt (ms), ws}
const notices = []; // {day, to, key, days, subject, text, at (ms, clock)}

before(async () => {
  w = await startWorld({ extras: false, env: { ATRIUM_JOB_WORKERS: '0', ATRIUM_SESSION_IDLE: '31536000', ATRIUM_SESSION_ABSOLUTE: '31536000' } });
  ({ srv, p, ws } = w);
});

after(async () => {
  await w?.stop();
});

const clockNow = async () => {
  const r = await srv.req('/api/v1/test/clock');
  assert.equal(r.status, 200, r.text);
  return Math.floor(r.body.now_us / 1000);
};
const runJobs = async () => {
  for (let i = 0; i < 2; i++) assert.equal((await srv.post('/api/v1/test/jobs/run', {})).status, 200);
};
const SUBJECT = /^The API key "(.+)" of (.+) expires in (\d+) days?$/;

test('set-up: keys expiring in 31, 10 and 5 days, revoked, never-expiring, and in B; recipients of every kind', async () => {
  // Who is who in A: owner@ (owner), admin@ (admin), member@ and dev@ (members), a deactivated admin,
  // an admin whose account is disabled, and keyholder@, an admin who makes a personal key and is then
  // made a member (the key's owner is mailed whatever their role).
  const deact = await insertUser(srv, 'paused-admin@acme.test', 'Paused Admin');
  await addMembership(srv, ws.A, deact, 'admin', { status: 'deactivated' });
  const disabled = await insertUser(srv, 'disabled-admin@acme.test', 'Disabled Admin');
  await addMembership(srv, ws.A, disabled, 'admin');
  assert.equal((await srv.cli(['user', 'disable', 'disabled-admin@acme.test'])).code, 0);
  const holderId = await insertUser(srv, 'keyholder@acme.test', 'Kim Keyholder');
  const holderMem = await addMembership(srv, ws.A, holderId, 'admin');
  const holder = await signIn(srv, 'holder', 'keyholder@acme.test', DEMO_PASSWORDS.owner);
  const t0 = await clockNow();
  const make = async (name, by, W, body) => {
    const k = await createKey(by, ws[W], { name, ...body });
    K[name] = { id: k.id, secret: k.secret, ws: W, expiresAt: k.key.expires_at ? Date.parse(k.key.expires_at) : null };
  };
  await make('Month key', p.owner, 'A', { expires_in_days: 31 });
  await make('Holder key', holder, 'A', { expires_in_days: 10, owner: 'me' });
  await make('Five-day key', p.admin, 'A', { expires_in_days: 5 });
  await make('Revoked key', p.owner, 'A', { expires_in_days: 20 });
  await make('Bravo key', p.ownerB, 'B', { expires_in_days: 31 });
  assert.equal((await p.owner.del(`/api/v1/workspaces/${ws.A}/api-keys/${K['Revoked key'].id}`)).status, 204);
  assert.equal((await p.owner.patch(`/api/v1/workspaces/${ws.A}/members/${holderMem}`, { role: 'member' })).status, 200);
  assert.equal((await p.owner.patch(`/api/v1/workspaces/${ws.A}/api-key-policy`, { allow_never: true })).status, 200);
  await make('Forever key', p.owner, 'A', { never_expires: true });
  assert.ok(K['Month key'].expiresAt - t0 > 31 * DAY * 1000 - 5000);
  // Creating a key scheduled the daily scan (one job, for the next midnight).
  const jobs = await srv.sql(`SELECT COUNT(*) FROM jobs WHERE kind = 'api_key.notices' AND state = 'queued'`);
  assert.equal(jobs, '1');
  // Nothing is mailed before the scan's time.
  await runJobs();
  assert.equal(readMailFolder(srv.dataDir).filter((m) => SUBJECT.test(m.subject ?? '')).length, 0);
});

test('33 days, one scan a day: every notice recorded with the day and the time left', async () => {
  const seen = new Set();
  for (let day = 1; day <= 33; day++) {
    assert.equal((await srv.post('/api/v1/test/clock', { advance_seconds: DAY })).status, 200);
    await runJobs();
    await runJobs(); // a second run the same day sends nothing new
    const now = await clockNow();
    for (const m of readMailFolder(srv.dataDir)) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      const s = SUBJECT.exec(m.subject ?? '');
      if (!s) continue;
      const addr = /<([^>]+)>/.exec(m.to)?.[1] ?? m.to;
      notices.push({ day, to: addr.toLowerCase(), key: s[1], workspace: s[2], days: Number(s[3]), text: m.text, at: now });
    }
  }
  assert.ok(notices.length > 0, 'no expiry notice at all');
});

test('a 31-day workspace key: 30, 7 and 1 days before, once each, to the active owners and admins only', () => {
  const mk = notices.filter((n) => n.key === 'Month key');
  const got = mk.map((n) => `${n.to} ${n.days}d day ${n.day}`).sort();
  const want = [];
  for (const to of ['owner@acme.test', 'admin@acme.test']) for (const [days, day] of [[30, 1], [7, 24], [1, 30]]) want.push(`${to} ${days}d day ${day}`);
  assert.deepEqual(got, want.sort());
  for (const n of mk) {
    assert.equal(n.workspace, 'Acme Agency');
    assert.match(n.text, new RegExp(`/w/${ws.A}/settings/api_keys`));
    assert.ok(!n.text.includes(K['Month key'].secret), 'the mail shows the secret');
  }
});

test('a personal key: its owner is mailed too, though only a member now; B’s key mails B only; revoked and never-expiring keys mail nobody', () => {
  const to = (key) => [...new Set(notices.filter((n) => n.key === key).map((n) => n.to))].sort();
  assert.deepEqual(to('Holder key'), ['admin@acme.test', 'keyholder@acme.test', 'owner@acme.test']);
  assert.deepEqual(to('Bravo key'), ['ownerb@bravo.test']);
  assert.deepEqual(to('Revoked key'), []);
  assert.deepEqual(to('Forever key'), []);
  const nobody = notices.filter((n) => ['member@acme.test', 'dev@acme.test', 'paused-admin@acme.test', 'disabled-admin@acme.test', 'subadmin@acme.test'].includes(n.to));
  assert.deepEqual(nobody.map((n) => `${n.to}: ${n.key}`), []);
});

test('once per threshold and recipient; no notice after the key expired', () => {
  const keys = notices.map((n) => `${n.key}|${n.to}|${n.days}`);
  assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], 'a threshold mailed twice');
  for (const n of notices) {
    const exp = K[n.key].expiresAt;
    assert.ok(n.at < exp, `${n.key} to ${n.to} on day ${n.day}: mailed after the key expired`);
  }
});

test('a notice never claims more days than are left, and thresholds only go down (keys made 10 and 5 days before expiry)', () => {
  const wrong = [];
  for (const key of ['Month key', 'Holder key', 'Five-day key']) {
    const exp = K[key].expiresAt;
    const byTo = {};
    for (const n of notices.filter((x) => x.key === key)) {
      const left = Math.ceil((exp - n.at) / (DAY * 1000));
      if (n.days > left) wrong.push(`${key} to ${n.to} on day ${n.day}: "expires in ${n.days} days", ${left} left`);
      (byTo[n.to] ??= []).push(n);
    }
    for (const [to, list] of Object.entries(byTo)) {
      const seq = list.sort((a, b) => a.day - b.day).map((n) => n.days);
      if (seq.some((d, i) => i > 0 && d >= seq[i - 1])) wrong.push(`${key} to ${to}: thresholds in the order ${seq.join(', ')}`);
    }
  }
  assert.deepEqual(wrong, []);
  // A key made 10 days out still gets its 7- and 1-day notices; one made 5 days out its 1-day notice.
  const has = (key, days) => notices.some((n) => n.key === key && n.days === days && n.to === 'owner@acme.test');
  assert.ok(has('Holder key', 7) && has('Holder key', 1), 'Holder key: 7 and 1');
  assert.ok(has('Five-day key', 1), 'Five-day key: 1');
});
