// API keys, issue 12 items 1 and 12. Item 1: an IP allowlist longer than a fixed buffer is kept whole
// (20 IPv6 /128 entries are 1,041 bytes of JSON), restricts exactly as written, survives rotation, is
// capped at 100 entries (400 naming allowed_cidrs), and a stored allowlist that does not read as a list
// of ranges refuses the key from everywhere (fail closed, never "no allowlist"). Item 12: revoking a
// key revokes the keys it replaced by rotation (a predecessor in its overlap too; revoking an old
// secret on purpose leaves its successor alive),
// and a rotated-out secret used after its overlap is refused and reported in the key's activity (once per
// key and client address).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, keyPrincipal, createKey, reqFrom } from './lib-world.mjs';
import { problemOf } from '../lib/server.mjs';

const PROBLEM = (slug) => `urn:atrium:problem:${slug}`;
let w;
let srv;
let p;
let ws;

before(async () => {
  w = await startWorld({
    extras: false,
    env: {
      ATRIUM_JOB_WORKERS: '0',
      ATRIUM_SESSION_IDLE: '31536000',
      ATRIUM_SESSION_ABSOLUTE: '31536000',
      ATRIUM_KEY_RATE_PER_MINUTE: '10000000',
      ATRIUM_KEY_BURST: '10000000',
      ATRIUM_WORKSPACE_RATE_PER_MINUTE: '10000000',
    },
  });
  ({ srv, p, ws } = w);
});

after(async () => {
  await w?.stop();
});

const K = (wsId) => `/api/v1/workspaces/${wsId}/api-keys`;
const MEMBERS = () => `/api/v1/workspaces/${ws.A}/members`;
const from = (ip, secret) => reqFrom(srv, ip, 'GET', MEMBERS(), { headers: { authorization: `Bearer ${secret}` } });
const advance = async (seconds) => {
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
};
const refused = (r, what) => {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
  assert.equal(problemOf(r, 401).type, PROBLEM('invalid-api-key'), what);
};

// 20 IPv6 /128 entries of the longest textual form: 1,041 bytes of JSON, past the old 1,024-byte buffer.
const V6 = Array.from({ length: 20 }, (_, i) => `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.${200 + i}/128`);

test('item 1: 20 IPv6 /128 entries (1,041 bytes of JSON) restrict the key; none matches loopback, so it is refused', async () => {
  assert.equal(JSON.stringify(V6).length, 1041);
  const made = await createKey(p.owner, ws.A, { allowed_cidrs: V6 });
  assert.deepEqual(made.key.allowed_cidrs, V6);
  refused(await from('127.0.0.1', made.secret), 'a long IPv6-only allowlist must not let an IPv4 loopback client in');
  // Cached or not, the answer stays the same.
  refused(await from('127.0.0.1', made.secret), 'second request');
});

test('item 1: a long allowlist ending with 127.0.0.1/32 lets 127.0.0.1 in and keeps 127.0.0.2 out; rotation keeps it whole', async () => {
  const list = [...V6, '127.0.0.1/32'];
  const made = await createKey(p.owner, ws.A, { allowed_cidrs: list });
  assert.equal((await from('127.0.0.1', made.secret)).status, 200);
  refused(await from('127.0.0.2', made.secret), 'outside the allowlist');
  const got = await p.owner.get(`${K(ws.A)}/${made.id}`);
  assert.deepEqual(got.body.allowed_cidrs, list);
  const r = await p.owner.post(`${K(ws.A)}/${made.id}/rotate`, { overlap_hours: 1 });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.body.key.allowed_cidrs, list, 'the rotated key carries the whole allowlist');
  assert.equal((await from('127.0.0.1', r.body.secret)).status, 200);
  refused(await from('127.0.0.2', r.body.secret), 'the rotated key is as restricted as the old one');
});

test('item 1: 100 entries are accepted; 101 → 400 naming allowed_cidrs, and nothing is created', async () => {
  const hundred = Array.from({ length: 100 }, (_, i) => `10.${i}.0.0/16`);
  const ok = await createKey(p.owner, ws.A, { allowed_cidrs: [...hundred.slice(0, 99), '127.0.0.0/8'] });
  assert.equal(ok.key.allowed_cidrs.length, 100);
  assert.equal((await from('127.0.0.1', ok.secret)).status, 200);
  const before = (await p.owner.get(K(ws.A))).body.items.length;
  const r = await p.owner.post(K(ws.A), { name: 'too many', scopes: ['team:read'], owner: 'workspace', allowed_cidrs: [...hundred, '10.200.0.0/16'] });
  const body = problemOf(r, 400);
  assert.deepEqual(body.errors.map((e) => [e.field, e.code]), [['allowed_cidrs', 'length']]);
  assert.match(body.errors[0].message, /100/);
  assert.equal((await p.owner.get(K(ws.A))).body.items.length, before);
});

test('item 1: a stored allowlist that is not a readable list of ranges refuses the key from everywhere', async () => {
  const corrupt = [
    '["127.0.0.0/8", "ffff:ffff:ffff:ffff:ffff:ffff:255.2', // cut mid-entry, the way a fixed buffer cut it
    '{"cidrs": []}',
    '"127.0.0.0/8"',
    '["127.0.0.0/8", 42]',
    '["127.0.0.0/8", "not a range"]',
    JSON.stringify(Array.from({ length: 101 }, () => '127.0.0.0/8')),
    '',
  ];
  for (const text of corrupt) {
    const made = await createKey(p.owner, ws.A);
    await srv.sql(`UPDATE api_keys SET allowed_cidrs = '${text.replace(/'/g, "''")}' WHERE id = '${made.id}'`);
    refused(await from('127.0.0.1', made.secret), `stored allowlist ${JSON.stringify(text)}`);
    // Rotation does not copy an unreadable allowlist into a fresh, unrestricted key.
    const r = await p.owner.post(`${K(ws.A)}/${made.id}/rotate`, {});
    assert.equal(r.status, 409, `rotate with stored allowlist ${JSON.stringify(text)}: ${r.text}`);
  }
  // The positive control: a stored empty list means "from anywhere".
  const open = await createKey(p.owner, ws.A);
  await srv.sql(`UPDATE api_keys SET allowed_cidrs = '[]' WHERE id = '${open.id}'`);
  assert.equal((await from('127.0.0.1', open.secret)).status, 200);
});

test('item 12: revoking the new key of a rotation also ends the old secret in its overlap', async () => {
  const made = await createKey(p.owner, ws.A);
  const old = keyPrincipal(srv, 'old', made.secret);
  const r = await p.owner.post(`${K(ws.A)}/${made.id}/rotate`, { overlap_hours: 24 });
  assert.equal(r.status, 201, r.text);
  const neu = keyPrincipal(srv, 'new', r.body.secret);
  assert.equal((await old.get(MEMBERS())).status, 200, 'old secret in its overlap');
  assert.equal((await neu.get(MEMBERS())).status, 200);
  assert.equal((await p.owner.del(`${K(ws.A)}/${r.body.key.id}`)).status, 204);
  refused(await neu.get(MEMBERS()), 'the revoked key');
  refused(await old.get(MEMBERS()), 'its predecessor, revoked with it');
  assert.equal((await p.owner.get(`${K(ws.A)}/${made.id}`)).body.status, 'revoked');
  const ev = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=api_key.revoked&target=${r.body.key.id}`);
  assert.equal(ev.status, 200, ev.text);
  assert.deepEqual(ev.body.items[0].changes?.family_revoked?.after, [made.id], ev.text);
  assert.equal(problemOf(await p.owner.del(`${K(ws.A)}/${made.id}`), 409).type, PROBLEM('invalid-state'));
});

test('item 12: revoking the newest key of a chain of rotations ends every predecessor; revoking an old secret ends only it', async () => {
  const k1 = await createKey(p.owner, ws.A);
  const r2 = await p.owner.post(`${K(ws.A)}/${k1.id}/rotate`, { overlap_hours: 24 });
  const r3 = await p.owner.post(`${K(ws.A)}/${r2.body.key.id}/rotate`, { overlap_hours: 24 });
  assert.equal(r3.status, 201, r3.text);
  const other = await createKey(p.owner, ws.A); // not of the family
  for (const s of [k1.secret, r2.body.secret, r3.body.secret]) assert.equal((await from('127.0.0.1', s)).status, 200);
  // "Revoke old secret now" on the middle key: it stops, its successor keeps working.
  assert.equal((await p.owner.del(`${K(ws.A)}/${r2.body.key.id}`)).status, 204);
  refused(await from('127.0.0.1', r2.body.secret), 'the old secret revoked on purpose');
  refused(await from('127.0.0.1', k1.secret), 'the key it replaced');
  assert.equal((await from('127.0.0.1', r3.body.secret)).status, 200, 'its successor');
  // A fresh chain: revoking its newest key ends the lot.
  const j1 = await createKey(p.owner, ws.A);
  const j2 = await p.owner.post(`${K(ws.A)}/${j1.id}/rotate`, { overlap_hours: 24 });
  const j3 = await p.owner.post(`${K(ws.A)}/${j2.body.key.id}/rotate`, { overlap_hours: 24 });
  assert.equal((await p.owner.del(`${K(ws.A)}/${j3.body.key.id}`)).status, 204);
  for (const s of [j1.secret, j2.body.secret, j3.body.secret]) refused(await from('127.0.0.1', s), 'family member');
  assert.equal((await from('127.0.0.1', other.secret)).status, 200, 'another key is untouched');
});

test('item 12: a rotated-out secret used after its overlap is refused and reported in the key activity', async () => {
  const made = await createKey(p.owner, ws.A);
  const r = await p.owner.post(`${K(ws.A)}/${made.id}/rotate`, { overlap_hours: 1 });
  assert.equal(r.status, 201, r.text);
  await advance(3600 + 5);
  refused(await from('127.0.0.3', made.secret), 'after the overlap');
  assert.equal((await from('127.0.0.1', r.body.secret)).status, 200, 'the new key still works');
  const ev = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=api_key.reuse_detected&target=${made.id}`);
  assert.equal(ev.status, 200, ev.text);
  assert.equal(ev.body.items.length, 1, ev.text);
  assert.equal(ev.body.items[0].target.id, made.id);
  assert.equal(ev.body.items[0].ip, '127.0.0.3', ev.text);
  // A flood of retries is one event, not one per request, also once the process's minute of
  // remembering has passed; another address is a new event.
  for (let i = 0; i < 5; i++) refused(await from('127.0.0.3', made.secret), `retry ${i}`);
  await advance(120);
  refused(await from('127.0.0.3', made.secret), 'retry after two minutes');
  const again = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=api_key.reuse_detected&target=${made.id}`);
  assert.equal(again.body.items.length, 1, again.text);
  refused(await from('127.0.0.4', made.secret), 'from another address');
  const third = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=api_key.reuse_detected&target=${made.id}`);
  assert.deepEqual(third.body.items.map((e) => e.ip), ['127.0.0.4', '127.0.0.3'], third.text);
});
