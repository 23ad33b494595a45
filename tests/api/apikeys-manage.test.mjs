// API keys (issue "API keys and the public REST API"): the secret's format and checksum, what the
// create/list/get answers show (the secret once, then only a 12-character prefix), the expiry policy
// (default, maximum, "never" only where allowed), field validation, Bearer authentication (cookies
// ignored, session-only routes, scopes ∩ role, another workspace → 404, dead keys → 401 with
// WWW-Authenticate), T1c immediate revocation (revoke, rotation overlap, a personal key's owner leaving,
// removed, deactivated, downgraded, disabled → the next request), CIDR allowlists and last use (from
// other loopback source addresses: 127.0.0.2 ...). The matrix (authz-matrix.test.mjs) covers who may
// call which route; rate limits, idempotency, secrets at rest and expiry notices have files of their own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorld,
  signIn,
  signUp,
  insertUser,
  addMembership,
  keyPrincipal,
  createKey,
  allScopes,
  keyChecksum,
  fakeSecret,
  reqFrom,
  missingId,
  uniq,
  checksum,
  KEY_SECRET,
  KEY_ID,
  DEMO_PASSWORDS,
} from './lib-world.mjs';
import { problemOf, RFC3339 } from '../lib/server.mjs';

const DAY = 86400;
const DAY_US = DAY * 1e6;
const PROBLEM = (slug) => `urn:atrium:problem:${slug}`;

let w;
let srv;
let p;
let ws;
let SCOPES;

before(async () => {
  w = await startWorld({
    extras: false,
    env: {
      ATRIUM_JOB_WORKERS: '0',
      // Sessions outlive the clock moves of the rotation and expiry tests.
      ATRIUM_SESSION_IDLE: '31536000',
      ATRIUM_SESSION_ABSOLUTE: '31536000',
      ATRIUM_KEY_RATE_PER_MINUTE: '10000000',
      ATRIUM_KEY_BURST: '10000000',
      ATRIUM_WORKSPACE_RATE_PER_MINUTE: '10000000',
    },
  });
  ({ srv, p, ws } = w);
  SCOPES = await allScopes(srv);
});

after(async () => {
  await w?.stop();
});

const K = (wsId) => `/api/v1/workspaces/${wsId}/api-keys`;
const advance = async (seconds) => {
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
};
const isInvalidKey = (r, what = '') => {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
  const b = problemOf(r, 401);
  assert.equal(b.type, PROBLEM('invalid-api-key'), `${what}: ${r.text}`);
  assert.match(r.headers.get('www-authenticate') || '', /^Bearer realm="atrium"/, what);
};
/** A new admin of A (a row and a session), for the lifecycle tests. */
async function freshAdmin(role = 'admin') {
  const email = `${uniq('adm')}@acme.test`;
  const userId = await insertUser(srv, email, 'Fresh Admin');
  const memberId = await addMembership(srv, ws.A, userId, role);
  const pr = await signIn(srv, 'fresh', email, DEMO_PASSWORDS.owner);
  return Object.assign(pr, { memberId });
}
const members = (key, wsId = ws.A) => key.get(`/api/v1/workspaces/${wsId}/members`);

test('create: the secret is atr_ + 40 base62 + a CRC-32 checksum, shown once; the key shows its prefix, owner, creator, expiry', async () => {
  const before = Date.now();
  const r = await p.owner.post(K(ws.A), { name: 'Zapier sync', scopes: ['team:read', 'workspace:read'], owner: 'workspace' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const { key, secret } = r.body;
  assert.deepEqual(Object.keys(r.body).sort(), ['key', 'secret']);
  assert.match(secret, KEY_SECRET);
  assert.equal(secret.slice(44), keyChecksum(secret.slice(4, 44)), 'checksum of the random part');
  assert.match(key.id, KEY_ID);
  assert.equal(r.headers.get('location'), `${K(ws.A)}/${key.id}`);
  assert.deepEqual(
    Object.keys(key).sort(),
    ['allowed_cidrs', 'created_at', 'created_by', 'expires_at', 'id', 'last_used_at', 'last_used_ips', 'name', 'owner', 'prefix', 'rotated_to', 'scopes', 'status'],
  );
  assert.equal(key.name, 'Zapier sync');
  assert.equal(key.prefix, secret.slice(0, 12));
  assert.deepEqual(key.scopes, ['team:read', 'workspace:read']);
  assert.deepEqual(key.owner, { type: 'workspace' });
  assert.equal(key.created_by.id, p.owner.userId);
  assert.equal(key.status, 'active');
  assert.deepEqual([key.last_used_at, key.last_used_ips, key.allowed_cidrs, key.rotated_to], [null, [], [], null]);
  assert.match(key.created_at, RFC3339);
  // The default expiry: the workspace's api_key_default_days (90).
  const life = Date.parse(key.expires_at) - Date.parse(key.created_at);
  assert.ok(Math.abs(life - 90 * DAY * 1000) < 1000, `lifetime ${life} ms`);
  assert.ok(Date.parse(key.created_at) >= before - 5000);
  // Later reads never show the secret (nor its hash).
  for (const read of [await p.owner.get(K(ws.A)), await p.owner.get(`${K(ws.A)}/${key.id}`), await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events`)]) {
    assert.equal(read.status, 200, read.text);
    assert.ok(!read.text.includes(secret) && !read.text.includes(secret.slice(4, 44)), 'a read shows the secret');
    assert.ok(!read.text.includes('secret_hash'), read.text.slice(0, 200));
  }
  const got = await p.owner.get(`${K(ws.A)}/${key.id}`);
  assert.deepEqual(got.body, key);
  // Two keys never share a secret or a prefix by construction of 40 random characters.
  const again = await createKey(p.owner, ws.A);
  assert.notEqual(again.secret, secret);
});

test('a personal key ("me") belongs to its creator; the list shows owner, creator, status and the newest first', async () => {
  const mine = await createKey(p.admin, ws.A, { name: 'Admin laptop', owner: 'me' });
  assert.deepEqual(mine.key.owner, { type: 'member', user: { id: p.admin.userId, name: 'Adam Admin', email: 'admin@acme.test' } });
  assert.equal(mine.key.created_by.id, p.admin.userId);
  const svc = await createKey(p.admin, ws.A, { name: 'Admin service' });
  const list = await p.owner.get(K(ws.A));
  assert.equal(list.status, 200, list.text);
  const ids = list.body.items.map((k) => k.id);
  assert.ok(ids.indexOf(svc.id) < ids.indexOf(mine.id), 'newest first');
  assert.deepEqual(list.body.items.find((k) => k.id === svc.id).owner, { type: 'workspace' });
  assert.ok(list.body.items.every((k) => k.prefix.length === 12 && k.prefix.startsWith('atr_')));
});

test('GET /api/v1/scopes lists section:read and section:write for every section keys may use (no developer-only ones)', async () => {
  const r = await srv.req('/api/v1/scopes');
  assert.equal(r.status, 200, r.text);
  const ids = r.body.items.map((s) => s.id);
  for (const id of ['workspace:read', 'workspace:write', 'team:read', 'team:write', 'subaccounts:write', 'activity:read', 'api_keys:read'])
    assert.ok(ids.includes(id), id);
  for (const id of ['activity:write', 'labs:read', 'snapshots:read', 'dev_admin:read', 'billing_recovery:read']) assert.ok(!ids.includes(id), id);
  for (const s of r.body.items) {
    assert.deepEqual(Object.keys(s).sort(), ['access', 'description', 'id', 'section']);
    assert.equal(s.id, `${s.section}:${s.access}`);
  }
});

test('expiry policy: default and maximum days from the workspace policy; never only where allowed', async () => {
  const { owner, wsId } = await freshRoot();
  const P = `/api/v1/workspaces/${wsId}/api-key-policy`;
  assert.deepEqual((await owner.get(P)).body, { max_days: 365, default_days: 90, allow_never: false });
  const body = (extra) => ({ name: uniq('exp'), scopes: ['team:read'], owner: 'workspace', ...extra });
  const k365 = await createKey(owner, wsId, { expires_in_days: 365 });
  assert.ok(Math.abs(Date.parse(k365.key.expires_at) - Date.parse(k365.key.created_at) - 365 * DAY * 1000) < 1000);
  for (const [extra, field, code] of [
    [{ expires_in_days: 366 }, 'expires_in_days', 'range'],
    [{ never_expires: true }, 'never_expires', 'not_allowed'],
    [{ expires_in_days: 0 }, 'expires_in_days', 'range'],
    [{ expires_in_days: 30, never_expires: true }, 'never_expires', 'exclusive'],
  ]) {
    // (The codes are checked by the validation test below.)
    const r = await owner.post(K(wsId), body(extra));
    const b = problemOf(r, 400);
    assert.deepEqual(b.errors.map((e) => e.field), [field], `${JSON.stringify(extra)} (${code}): ${r.text}`);
  }
  // The policy: owners and admins change it (audited), and it applies to the next key at once.
  const before = await owner.get(`/api/v1/workspaces/${wsId}/audit-events?action=api_key.policy_updated`);
  const bad = await owner.patch(P, { default_days: 40, max_days: 30 });
  assert.deepEqual((await owner.get(P)).body, { max_days: 365, default_days: 90, allow_never: false }, 'a refused patch changed the policy');
  assert.deepEqual(problemOf(bad, 400).errors.map((e) => [e.field, e.code]), [['default_days', 'range']]);
  const set = await owner.patch(P, { max_days: 30, default_days: 10, allow_never: true });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.body, { max_days: 30, default_days: 10, allow_never: true });
  const after = await owner.get(`/api/v1/workspaces/${wsId}/audit-events?action=api_key.policy_updated`);
  assert.equal(after.body.items.length, before.body.items.length + 1, after.text);
  const dflt = await createKey(owner, wsId);
  assert.ok(Math.abs(Date.parse(dflt.key.expires_at) - Date.parse(dflt.key.created_at) - 10 * DAY * 1000) < 1000);
  assert.equal(problemOf(await owner.post(K(wsId), body({ expires_in_days: 31 })), 400).errors[0].field, 'expires_in_days');
  const never = await createKey(owner, wsId, { never_expires: true });
  assert.equal(never.key.expires_at, null);
  assert.equal(never.key.status, 'active');
  // never_expires: false is simply the default expiry.
  const no = await createKey(owner, wsId, { never_expires: false });
  assert.ok(no.key.expires_at);
  // A never-expiring key keeps working when the policy stops allowing new ones.
  assert.equal((await owner.patch(P, { allow_never: false })).status, 200);
  assert.equal((await members(keyPrincipal(srv, 'never', never.secret), wsId)).status, 200);
});

test('create refuses bad input, naming every bad field with its code, and creates nothing', async () => {
  const before = await checksum(srv);
  const cases = [
    [{ name: 'x', scopes: [] }, [['scopes', 'required']]],
    [{ name: 'x', scopes: ['nope:read'] }, [['scopes[0]', 'unknown_scope']]],
    [{ name: 'x', scopes: ['labs:read'] }, [['scopes[0]', 'unknown_scope']]],
    [{ name: 'x', scopes: ['activity:write'] }, [['scopes[0]', 'unknown_scope']]],
    [{ name: 'x', scopes: [7] }, [['scopes[0]', 'unknown_scope']]],
    [{ name: 'x', scopes: ['team:read'], allowed_cidrs: ['10.0.0.0/33'] }, [['allowed_cidrs[0]', 'format']]],
    [{ name: 'x', scopes: ['team:read'], allowed_cidrs: ['127.0.0.0/8', 'nope', '::1/129'] }, [['allowed_cidrs[1]', 'format'], ['allowed_cidrs[2]', 'format']]],
    [{ name: 'x', scopes: ['team:read'], allowed_cidrs: Array.from({ length: 101 }, (_, i) => `10.${i}.0.0/16`) }, [['allowed_cidrs', 'length']]],
    [{ name: 'x', scopes: ['x:read', 'team:read', 'y:write'] }, [['scopes[0]', 'unknown_scope'], ['scopes[2]', 'unknown_scope']]],
    [{ name: 'x', scopes: ['nope:read'], expires_in_days: 400, allowed_cidrs: ['bad'] }, [['allowed_cidrs[0]', 'format'], ['expires_in_days', 'range'], ['scopes[0]', 'unknown_scope']]],
  ];
  const wrong = [];
  for (const [body, want] of cases) {
    const r = await p.owner.post(K(ws.A), { owner: 'workspace', ...body });
    if (r.status !== 400) {
      wrong.push(`${JSON.stringify(body)} → ${r.status}`);
      continue;
    }
    const got = r.body.errors.map((e) => [e.field, e.code]).sort((a, b) => a[0].localeCompare(b[0]));
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${JSON.stringify(body).slice(0, 80)} → errors ${JSON.stringify(r.body.errors)}`);
  }
  // Mass assignment: fields the server owns are unknown fields.
  const smuggled = await p.owner.post(K(ws.A), { name: 'x', scopes: ['team:read'], id: missingId('key'), workspace_id: ws.B, prefix: 'atr_AAAAAAAA', secret: fakeSecret(), created_by: p.ownerB.userId, status: 'active', last_used_ips: ['1.2.3.4'] });
  assert.deepEqual(
    problemOf(smuggled, 400).errors.filter((e) => e.code === 'unknown_field').map((e) => e.field).sort(),
    ['created_by', 'id', 'last_used_ips', 'prefix', 'secret', 'status', 'workspace_id'],
  );
  // An agency admin of a sub-account has no membership there to own a personal key.
  const agency = await p.owner.post(K(ws.A1), { name: 'x', scopes: ['team:read'], owner: 'me' });
  if (agency.status !== 400 || JSON.stringify(agency.body.errors.map((e) => [e.field, e.code])) !== JSON.stringify([['owner', 'not_a_member']]))
    wrong.push(`personal key through agency → ${agency.status} ${agency.text}`);
  assert.equal((await checksum(srv)).hash, before.hash, 'a refused create wrote something');
  assert.deepEqual(wrong, []);
});

test('Bearer: a key acts in its own workspace as its role ∩ scopes; cookies are ignored; another workspace is 404', async () => {
  const svc = await createKey(p.owner, ws.A, { scopes: ['team:write', 'workspace:read'] });
  const key = keyPrincipal(srv, 'svc', svc.secret);
  // write covers read; a missing scope is 403 insufficient-scope naming the scope.
  assert.equal((await members(key)).status, 200);
  assert.equal((await key.get(`/api/v1/workspaces/${ws.A}`)).status, 200);
  const noScope = await key.get(`/api/v1/workspaces/${ws.A}/subaccounts`);
  assert.equal(problemOf(noScope, 403).type, PROBLEM('insufficient-scope'));
  assert.match(noScope.body.detail, /subaccounts:read/);
  const etag = (await p.owner.get(`/api/v1/workspaces/${ws.A}`)).headers.get('etag');
  const noWrite = await key.patch(`/api/v1/workspaces/${ws.A}`, { industry: 'Keys' }, { ifMatch: etag });
  assert.equal(problemOf(noWrite, 403).type, PROBLEM('insufficient-scope'));
  assert.match(noWrite.body.detail, /workspace:write/);
  // A key reaches its own workspace only: B, A's sub-account and a missing id answer the same 404.
  const nx = await key.get(`/api/v1/workspaces/${missingId('ws')}/members`);
  for (const other of [ws.B, ws.A1, ws.A2, ws.B1]) {
    const r = await key.get(`/api/v1/workspaces/${other}/members`);
    assert.equal(r.status, 404, r.text);
    assert.equal(r.text, nx.text);
  }
  // The owner's cookie and CSRF token next to the key change nothing: the key decides.
  const withCookie = await srv.req(`/api/v1/workspaces/${ws.A}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${svc.secret}`, cookie: p.owner.cookie, 'x-csrf-token': p.owner.csrf, origin: srv.url.replace(/\/$/, ''), 'if-match': etag, 'content-type': 'application/json' },
    body: JSON.stringify({ industry: 'Cookie' }),
  });
  assert.equal(problemOf(withCookie, 403).type, PROBLEM('insufficient-scope'));
  const badKeyGoodCookie = await srv.req(`/api/v1/workspaces/${ws.A}`, { headers: { authorization: `Bearer ${fakeSecret()}`, cookie: p.owner.cookie } });
  isInvalidKey(badKeyGoodCookie, 'unknown key with a live cookie');
  // Keys write without CSRF tokens, and their answers set no cookie and are not cached.
  const ok = await key.get(`/api/v1/workspaces/${ws.A}/members`);
  assert.equal(ok.headers.get('set-cookie'), null);
  assert.equal(ok.headers.get('cache-control'), 'no-store');
  // A key cannot manage keys (session-only), nor reach the caller's own account routes.
  for (const [m, path] of [['GET', K(ws.A)], ['POST', K(ws.A)], ['GET', '/api/v1/me'], ['GET', '/api/v1/workspaces'], ['POST', `/api/v1/workspaces/${ws.A}/leave`]]) {
    const r = await key.req(m, path, m === 'POST' ? { body: { name: 'x', scopes: ['team:read'] } } : {});
    assert.equal(problemOf(r, 401).type, PROBLEM('session-required'), `${m} ${path}`);
  }
});

test('Bearer: malformed, mistyped (bad checksum), unknown, revoked and expired keys are 401 invalid-api-key with WWW-Authenticate', async () => {
  const live = await createKey(p.owner, ws.A);
  const flip = (s) => s.slice(0, -1) + (s.at(-1) === 'a' ? 'b' : 'a');
  const swapped = live.secret.slice(0, 10) + (live.secret[10] === 'x' ? 'y' : 'x') + live.secret.slice(11); // checksum no longer matches
  const path = `/api/v1/workspaces/${ws.A}/members`;
  for (const [what, auth] of [
    ['garbage', 'Bearer nope'],
    ['no prefix', `Bearer ${live.secret.slice(4)}`],
    ['bad checksum', `Bearer ${flip(live.secret)}`],
    ['one character changed', `Bearer ${swapped}`],
    ['well-formed, unknown', `Bearer ${fakeSecret()}`],
    ['trailing garbage', `Bearer ${live.secret}x`],
    ['two spaces', `Bearer  ${live.secret}`],
  ]) {
    isInvalidKey(await srv.req(path, { headers: { authorization: auth } }), what);
  }
  // The scheme is case-insensitive (RFC 9110); the secret is not.
  assert.equal((await srv.req(path, { headers: { authorization: `bearer ${live.secret}` } })).status, 200);
  isInvalidKey(await srv.req(path, { headers: { authorization: `Bearer ${live.secret.toLowerCase()}` } }), 'lower-cased secret');
  // Expired: a key of one day, one day and a second later.
  const short = await createKey(p.owner, ws.A, { expires_in_days: 1 });
  const sk = keyPrincipal(srv, 'short', short.secret);
  assert.equal((await members(sk)).status, 200);
  await advance(DAY + 1);
  isInvalidKey(await members(sk), 'expired');
  assert.equal((await p.owner.get(`${K(ws.A)}/${short.id}`)).body.status, 'expired');
  assert.equal((await members(keyPrincipal(srv, 'live', live.secret))).status, 200);
});

test('T1c revoke: the next request of a revoked key is 401, also right after it was verified (cached); revoking twice is 409', async () => {
  const made = await createKey(p.owner, ws.A, { scopes: ['team:read'] });
  const key = keyPrincipal(srv, 'k', made.secret);
  assert.equal((await members(key)).status, 200); // verified and cached
  // Requests in flight while the revocation commits: none that starts after the answer succeeds.
  let stop = false;
  const late = [];
  let revokedAt = null;
  const hammer = (async () => {
    while (!stop) {
      const started = Date.now();
      const r = await members(key);
      if (revokedAt !== null && started > revokedAt && r.status !== 401) late.push(r.status);
    }
  })();
  await new Promise((r) => setTimeout(r, 50));
  const del = await p.owner.del(`${K(ws.A)}/${made.id}`);
  revokedAt = Date.now();
  assert.equal(del.status, 204, del.text);
  isInvalidKey(await members(key), 'the next request after the revocation');
  await new Promise((r) => setTimeout(r, 100));
  stop = true;
  await hammer;
  assert.deepEqual(late, [], 'requests that started after the revocation answered still succeeded');
  const got = await p.owner.get(`${K(ws.A)}/${made.id}`);
  assert.equal(got.body.status, 'revoked');
  assert.equal(problemOf(await p.owner.del(`${K(ws.A)}/${made.id}`), 409).type, PROBLEM('invalid-state'));
  // Revoking is audited; ids of other workspaces are 404 and change nothing.
  const ev = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=api_key.revoked`);
  assert.ok(ev.body.items.some((e) => e.target.id === made.id), ev.text);
  const other = await createKey(p.ownerB, ws.B);
  assert.equal((await p.owner.del(`${K(ws.A)}/${other.id}`)).status, 404);
  assert.equal((await members(keyPrincipal(srv, 'b', other.secret), ws.B)).status, 200, 'B’s key still works');
});

test('rotate: a new key with the same name, scopes, owner and allowlist; the old one works until the overlap ends, then 401', async () => {
  const made = await createKey(p.owner, ws.A, { name: 'Rotating', scopes: ['team:read', 'activity:read'], allowed_cidrs: ['127.0.0.0/8'], expires_in_days: 60 });
  const old = keyPrincipal(srv, 'old', made.secret);
  assert.equal((await members(old)).status, 200);
  const r = await p.owner.post(`${K(ws.A)}/${made.id}/rotate`, { overlap_hours: 2 });
  assert.equal(r.status, 201, r.text);
  const fresh = r.body;
  assert.match(fresh.secret, KEY_SECRET);
  assert.notEqual(fresh.key.id, made.id);
  assert.equal(r.headers.get('location'), `${K(ws.A)}/${fresh.key.id}`);
  assert.deepEqual([fresh.key.name, fresh.key.scopes, fresh.key.owner, fresh.key.allowed_cidrs], ['Rotating', ['team:read', 'activity:read'], { type: 'workspace' }, ['127.0.0.0/8']]);
  const lifetime = Date.parse(fresh.key.expires_at) - Date.parse(fresh.key.created_at);
  assert.ok(Math.abs(lifetime - 60 * DAY * 1000) < 2000, `new key lifetime ${lifetime}`);
  const was = (await p.owner.get(`${K(ws.A)}/${made.id}`)).body;
  assert.deepEqual([was.status, was.rotated_to], ['expiring', fresh.key.id]);
  const neu = keyPrincipal(srv, 'new', fresh.secret);
  assert.equal((await members(old)).status, 200, 'the old key works during the overlap');
  assert.equal((await members(neu)).status, 200);
  // A rotated key is not rotated again.
  assert.equal(problemOf(await p.owner.post(`${K(ws.A)}/${made.id}/rotate`, {}), 409).type, PROBLEM('invalid-state'));
  await advance(2 * 3600 - 60);
  assert.equal((await members(old)).status, 200, 'one minute before the overlap ends');
  await advance(61);
  isInvalidKey(await members(old), 'after the overlap');
  assert.equal((await members(neu)).status, 200);
  assert.equal((await p.owner.get(`${K(ws.A)}/${made.id}`)).body.status, 'expired');
  // overlap_hours 0: the old key stops at once; no body: a day of overlap.
  const k0 = await createKey(p.owner, ws.A);
  assert.equal((await members(keyPrincipal(srv, 'k0', k0.secret))).status, 200);
  assert.equal((await p.owner.post(`${K(ws.A)}/${k0.id}/rotate`, { overlap_hours: 0 })).status, 201);
  isInvalidKey(await members(keyPrincipal(srv, 'k0', k0.secret)), 'overlap 0');
  const kd = await createKey(p.owner, ws.A);
  assert.equal((await p.owner.req('POST', `${K(ws.A)}/${kd.id}/rotate`)).status, 201);
  await advance(24 * 3600 - 60);
  assert.equal((await members(keyPrincipal(srv, 'kd', kd.secret))).status, 200, 'default overlap: still alive after 23 h 59 min');
  await advance(61);
  isInvalidKey(await members(keyPrincipal(srv, 'kd', kd.secret)), 'default overlap: dead after 24 h');
  // Revoking a key during its overlap ends it at once; a revoked key is not rotated.
  const kr = await createKey(p.owner, ws.A);
  assert.equal((await p.owner.post(`${K(ws.A)}/${kr.id}/rotate`, { overlap_hours: 5 })).status, 201);
  assert.equal((await members(keyPrincipal(srv, 'kr', kr.secret))).status, 200);
  assert.equal((await p.owner.del(`${K(ws.A)}/${kr.id}`)).status, 204);
  isInvalidKey(await members(keyPrincipal(srv, 'kr', kr.secret)), 'revoked during the overlap');
  const dead = await createKey(p.owner, ws.A);
  assert.equal((await p.owner.del(`${K(ws.A)}/${dead.id}`)).status, 204);
  assert.equal(problemOf(await p.owner.post(`${K(ws.A)}/${dead.id}/rotate`, {}), 409).type, PROBLEM('invalid-state'));
  for (const bad of [{ overlap_hours: -1 }, { overlap_hours: 169 }, { overlap_hours: 'x' }, { overlap: 1 }]) assert.equal((await p.owner.post(`${K(ws.A)}/${kr.id}/rotate`, bad)).status, 400, JSON.stringify(bad));
  const ev = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=api_key.rotated`);
  assert.ok(ev.body.items.some((e) => e.target.id === fresh.key.id), ev.text);
});

test('T1c personal keys: the owner leaving, removed, deactivated or disabled ends the key at the next request; a downgrade narrows it', async () => {
  const path = (pr) => members(pr);
  // Leaves.
  const leaver = await freshAdmin();
  const kl = keyPrincipal(srv, 'leaver', (await createKey(leaver, ws.A, { owner: 'me' })).secret);
  assert.equal((await path(kl)).status, 200);
  assert.equal((await leaver.post(`/api/v1/workspaces/${ws.A}/leave`)).status, 204);
  isInvalidKey(await path(kl), 'after leaving');
  // Removed.
  const removed = await freshAdmin();
  const kr = keyPrincipal(srv, 'removed', (await createKey(removed, ws.A, { owner: 'me' })).secret);
  assert.equal((await path(kr)).status, 200);
  assert.equal((await p.owner.del(`/api/v1/workspaces/${ws.A}/members/${removed.memberId}`)).status, 204);
  isInvalidKey(await path(kr), 'after removal');
  // Deactivated.
  const paused = await freshAdmin();
  const kp = keyPrincipal(srv, 'paused', (await createKey(paused, ws.A, { owner: 'me' })).secret);
  assert.equal((await path(kp)).status, 200);
  assert.equal((await p.owner.post(`/api/v1/workspaces/${ws.A}/members/${paused.memberId}/deactivate`)).status, 200);
  isInvalidKey(await path(kp), 'after deactivation');
  // Downgraded to member: the invitation list (team write level) is beyond a member's role now
  // (403 forbidden), and back. Members may read the team directory itself.
  const down = await freshAdmin();
  const invitations = (key) => key.get(`/api/v1/workspaces/${ws.A}/invitations`);
  const kd = keyPrincipal(srv, 'down', (await createKey(down, ws.A, { owner: 'me', scopes: ['team:read', 'team:write'] })).secret);
  assert.equal((await invitations(kd)).status, 200);
  assert.equal((await p.owner.patch(`/api/v1/workspaces/${ws.A}/members/${down.memberId}`, { role: 'member' })).status, 200);
  assert.equal(problemOf(await invitations(kd), 403).type, PROBLEM('forbidden'));
  assert.equal((await path(kd)).status, 200);
  assert.equal((await p.owner.patch(`/api/v1/workspaces/${ws.A}/members/${down.memberId}`, { role: 'admin' })).status, 200);
  assert.equal((await invitations(kd)).status, 200);
  // A service key made by someone who leaves keeps working: it belongs to the workspace.
  const maker = await freshAdmin();
  const ks = keyPrincipal(srv, 'svc', (await createKey(maker, ws.A, { owner: 'workspace' })).secret);
  assert.equal((await p.owner.del(`/api/v1/workspaces/${ws.A}/members/${maker.memberId}`)).status, 204);
  assert.equal((await path(ks)).status, 200, 'a service key outlives its creator’s membership');
  // Disabled with the CLI (another process): the key dies with the account, like its sessions.
  const gone = await freshAdmin();
  const kg = keyPrincipal(srv, 'gone', (await createKey(gone, ws.A, { owner: 'me' })).secret);
  assert.equal((await path(kg)).status, 200); // verified and cached
  const dis = await srv.cli(['user', 'disable', gone.email]);
  assert.equal(dis.code, 0, dis.stderr);
  assert.equal((await gone.get('/api/v1/me')).status, 401, 'the session died at once');
  // The server's verified-key cache lives at most 1 s (program clock); another process (this CLI) cannot
  // empty it, so the key dies within that second: moved past it on the test clock.
  assert.equal((await srv.post('/api/v1/test/clock', { advance_seconds: 2 })).status, 200);
  isInvalidKey(await path(kg), 'the first request after the cache second, once the account was disabled');
});

test('CIDR allowlist: 127.0.0.0/8 lets loopback in, 10.0.0.0/8 and another family keep it out; each request is checked, cached or not', async () => {
  const mk = async (cidrs) => keyPrincipal(srv, cidrs.join(','), (await createKey(p.owner, ws.A, { allowed_cidrs: cidrs })).secret);
  assert.equal((await members(await mk(['127.0.0.0/8']))).status, 200);
  assert.equal((await members(await mk(['10.0.0.0/8', '127.0.0.1']))).status, 200, 'one matching entry is enough');
  isInvalidKey(await members(await mk(['10.0.0.0/8'])), 'outside 10.0.0.0/8');
  isInvalidKey(await members(await mk(['::1/128'])), 'an IPv6 range for an IPv4 client');
  // 127.0.0.1/32: the same key from 127.0.0.1 (verified, cached), then from 127.0.0.2.
  const one = await mk(['127.0.0.1/32']);
  const path = `/api/v1/workspaces/${ws.A}/members`;
  const auth = { authorization: `Bearer ${one.secret}` };
  assert.equal((await reqFrom(srv, '127.0.0.1', 'GET', path, { headers: auth })).status, 200);
  isInvalidKey(await reqFrom(srv, '127.0.0.2', 'GET', path, { headers: auth }), 'from 127.0.0.2 after a use from 127.0.0.1');
  assert.equal((await reqFrom(srv, '127.0.0.1', 'GET', path, { headers: auth })).status, 200);
  const slash8 = await mk(['127.0.0.0/8']);
  assert.equal((await reqFrom(srv, '127.0.0.9', 'GET', path, { headers: { authorization: `Bearer ${slash8.secret}` } })).status, 200);
});

test('last use: the time and the last five distinct addresses, newest first', async () => {
  const made = await createKey(p.owner, ws.A);
  const path = `/api/v1/workspaces/${ws.A}/members`;
  const auth = { authorization: `Bearer ${made.secret}` };
  const read = async () => (await p.owner.get(`${K(ws.A)}/${made.id}`)).body;
  assert.deepEqual([(await read()).last_used_at, (await read()).last_used_ips], [null, []]);
  assert.equal((await reqFrom(srv, '127.0.0.1', 'GET', path, { headers: auth })).status, 200);
  const first = await read();
  assert.match(first.last_used_at, RFC3339);
  assert.deepEqual(first.last_used_ips, ['127.0.0.1']);
  for (const ip of ['127.0.0.2', '127.0.0.3', '127.0.0.2', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'])
    assert.equal((await reqFrom(srv, ip, 'GET', path, { headers: auth })).status, 200, ip);
  const after = await read();
  assert.deepEqual(after.last_used_ips, ['127.0.0.7', '127.0.0.6', '127.0.0.5', '127.0.0.4', '127.0.0.2']);
  // From the same address, the time moves on (at most once a minute).
  await advance(120);
  assert.equal((await reqFrom(srv, '127.0.0.7', 'GET', path, { headers: auth })).status, 200);
  const later = await read();
  assert.ok(Date.parse(later.last_used_at) - Date.parse(after.last_used_at) >= 119_000, `${after.last_used_at} → ${later.last_used_at}`);
  assert.deepEqual(later.last_used_ips, after.last_used_ips);
  // The list shows the same.
  const row = (await p.owner.get(K(ws.A))).body.items.find((k) => k.id === made.id);
  assert.deepEqual([row.last_used_at, row.last_used_ips], [later.last_used_at, later.last_used_ips]);
});

test('actions taken with a key are audited as the key; a service key cannot send invitations (a person must)', async () => {
  const made = await createKey(p.owner, ws.A, { scopes: ['subaccounts:write', 'team:write'] });
  const key = keyPrincipal(srv, 'audited', made.secret);
  const r = await key.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: uniq('Keyed') });
  assert.equal(r.status, 201, r.text);
  const ev = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=subaccount.created&target=${r.body.id}`);
  assert.equal(ev.body.items.length, 1, ev.text);
  assert.deepEqual([ev.body.items[0].actor.type, ev.body.items[0].actor.id], ['api_key', made.id]);
  assert.equal(ev.body.items[0].ip, '127.0.0.1');
  const inv = await key.post(`/api/v1/workspaces/${ws.A}/invitations`, { emails: [`${uniq('k')}@invitees.test`], role: 'member' });
  assert.equal(problemOf(inv, 403).type, PROBLEM('person-required'));
  // A personal key invites as its owner.
  const mine = keyPrincipal(srv, 'mine', (await createKey(p.admin, ws.A, { owner: 'me', scopes: ['team:write'] })).secret);
  const ok = await mine.post(`/api/v1/workspaces/${ws.A}/invitations`, { emails: [`${uniq('k')}@invitees.test`], role: 'member' });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.results[0].invitation.inviter.id, p.admin.userId);
});

/** A new root workspace with its owner (sign-up), for tests that change the workspace's policy. */
async function freshRoot() {
  const owner = await signUp(srv, 'root', `${uniq('root')}@keys.test`, 'Root Owner');
  const r = await owner.get('/api/v1/workspaces');
  return { owner, wsId: r.body.items[0].id };
}
