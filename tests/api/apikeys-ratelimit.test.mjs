// API key rate limits (issue "API keys and the public REST API"; reliability.md §6): a token bucket per
// key (ATRIUM_KEY_BURST requests at once, refilled at ATRIUM_KEY_RATE_PER_MINUTE) and one per workspace
// (ATRIUM_WORKSPACE_RATE_PER_MINUTE, shared by its keys); RateLimit-Limit/Remaining/Reset on every key
// answer; 429 problem+json with Retry-After past the limit, changing nothing. The buckets read the
// program clock, so the test clock refills them exactly; the rates here are so slow (1 a minute, 8 a
// minute) that real time adds less than a token while a test runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, keyPrincipal, createKey, fakeSecret, checksum } from './lib-world.mjs';
import { problemOf } from '../lib/server.mjs';

const BURST = 5;
const WS_RATE = 8;

let w;
let srv;
let p;
let ws;

before(async () => {
  w = await startWorld({
    extras: false,
    env: {
      ATRIUM_JOB_WORKERS: '0',
      ATRIUM_KEY_RATE_PER_MINUTE: '1',
      ATRIUM_KEY_BURST: String(BURST),
      ATRIUM_WORKSPACE_RATE_PER_MINUTE: String(WS_RATE),
      ATRIUM_SESSION_IDLE: '31536000',
      ATRIUM_SESSION_ABSOLUTE: '31536000',
    },
  });
  ({ srv, p, ws } = w);
});

after(async () => {
  await w?.stop();
});

const advance = async (seconds) => {
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
};
const rl = (r) => ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'].map((h) => r.headers.get(h));
const num = (r, h) => Number(r.headers.get(h));
const is429 = (r, what) => {
  const b = problemOf(r, 429);
  assert.equal(b.type, 'urn:atrium:problem:rate-limited', what);
  const after = num(r, 'retry-after');
  assert.ok(Number.isInteger(after) && after >= 1, `${what}: Retry-After '${r.headers.get('retry-after')}'`);
  return after;
};

test('a key gets BURST requests at once with RateLimit headers counting down, then 429 with Retry-After; the test clock refills it', async () => {
  const key = keyPrincipal(srv, 'k1', (await createKey(p.owner, ws.A, { scopes: ['team:read'] })).secret);
  const path = `/api/v1/workspaces/${ws.A}/members`;
  for (let i = 1; i <= BURST; i++) {
    const r = await key.get(path);
    assert.equal(r.status, 200, r.text);
    const [limit, remaining, reset] = rl(r);
    assert.equal(limit, String(BURST));
    assert.equal(remaining, String(BURST - i), `request ${i}`);
    // Reset: seconds until the bucket is full again (one token a minute).
    assert.ok(Math.abs(Number(reset) - 60 * i) <= 1, `request ${i}: RateLimit-Reset ${reset}`);
  }
  const limited0 = (await srv.metrics()).get('atrium_rate_limited_total', { limiter: 'key' }) || 0;
  const refused = await key.get(path);
  const wait = is429(refused, 'past the burst');
  assert.ok(wait <= 60, `Retry-After ${wait}`);
  // Counted by limiter for the operators (docs/operations.md, "Monitoring").
  assert.equal((await srv.metrics()).get('atrium_rate_limited_total', { limiter: 'key' }), limited0 + 1);
  assert.deepEqual(rl(refused).slice(0, 2), [String(BURST), '0']);
  // Waiting Retry-After seconds (test clock) gives exactly one more request.
  await advance(wait);
  const again = await key.get(path);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.get('ratelimit-remaining'), '0');
  is429(await key.get(path), 'the refill was one token');
  // A long pause fills the bucket to BURST, not beyond.
  await advance(3600);
  for (let i = 0; i < BURST; i++) assert.equal((await key.get(path)).status, 200, `after an hour, request ${i + 1}`);
  is429(await key.get(path), 'an hour refills BURST tokens, not 60');
});

test('each key has its own bucket; sessions and other workspaces are not limited by it; a 429 changes nothing', async () => {
  await advance(3600); // every bucket full
  const made = await createKey(p.owner, ws.A, { scopes: ['workspace:write'] });
  const key = keyPrincipal(srv, 'k2', made.secret);
  const path = `/api/v1/workspaces/${ws.A}`;
  for (let i = 0; i < BURST; i++) assert.equal((await key.get(path)).status, 200);
  const etag = (await p.owner.get(path)).headers.get('etag');
  const before = await checksum(srv);
  const refused = await key.patch(path, { industry: 'Rate limited' }, { ifMatch: etag });
  is429(refused, 'a write past the limit');
  assert.equal((await checksum(srv)).hash, before.hash, 'a refused write changed the store');
  assert.equal((await p.owner.get(path)).body.industry, null);
  // Another key of the same workspace: a full bucket of its own.
  const other = keyPrincipal(srv, 'k3', (await createKey(p.owner, ws.A, { scopes: ['workspace:read'] })).secret);
  const r = await other.get(path);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('ratelimit-remaining'), String(BURST - 1));
  // The owner's session is not limited by the keys (and gets no RateLimit headers).
  const s = await p.owner.get(path);
  assert.equal(s.status, 200);
  assert.equal(s.headers.get('ratelimit-limit'), null);
  // Unknown keys are refused before any bucket: they neither spend nor see one.
  for (let i = 0; i < 10; i++) {
    const bad = await srv.req(path, { headers: { authorization: `Bearer ${fakeSecret()}` } });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('ratelimit-limit'), null);
  }
});

test('the workspace bucket is shared by its keys: past ATRIUM_WORKSPACE_RATE_PER_MINUTE every key of it gets 429; other workspaces do not', async () => {
  await advance(3600);
  const path = `/api/v1/workspaces/${ws.B}/members`;
  const b1 = keyPrincipal(srv, 'b1', (await createKey(p.ownerB, ws.B)).secret);
  const b2 = keyPrincipal(srv, 'b2', (await createKey(p.ownerB, ws.B)).secret);
  const b3 = keyPrincipal(srv, 'b3', (await createKey(p.ownerB, ws.B)).secret);
  for (let i = 0; i < BURST; i++) assert.equal((await b1.get(path)).status, 200, `b1 ${i + 1}`);
  for (let i = 0; i < WS_RATE - BURST; i++) assert.equal((await b2.get(path)).status, 200, `b2 ${i + 1}`);
  // The workspace has spent its WS_RATE tokens: b2 and a fresh b3 are refused though their buckets are not empty.
  const r2 = await b2.get(path);
  is429(r2, 'b2, workspace bucket empty');
  assert.equal(r2.headers.get('ratelimit-limit'), String(WS_RATE), 'the refusing bucket speaks');
  is429(await b3.get(path), 'b3, workspace bucket empty');
  // A's keys are not affected.
  const a = keyPrincipal(srv, 'a', (await createKey(p.owner, ws.A)).secret);
  assert.equal((await a.get(`/api/v1/workspaces/${ws.A}/members`)).status, 200);
  // A minute refills WS_RATE workspace tokens.
  await advance(60);
  assert.equal((await b3.get(path)).status, 200);
});
