// T8 (reliability.md §3.1–3.2, §8.2): Idempotency-Key on the creating POSTs (sub-accounts,
// invitations, API keys, key rotation), for session and API key callers:
//   (a) the same key and request twice → the same status, body and Location, Idempotent-Replayed: true,
//       exactly one effect;
//   (b) the same key with another body (or another path) → 422 idempotency-key-reused, no effect;
//   (c) 50 concurrent requests with one key → one effect; the others 409 idempotency-key-in-progress
//       (with Retry-After) or the stored replay;
//   (d) another caller (user, API key, tenant) with the same key → an execution of its own, never
//       another caller's body;
//   (e) test clock: a replay at 23 h 59 min → the stored answer; past 24 h → a new execution.
// Plus: a malformed Idempotency-Key → 400 and no effect; a refused request stores nothing.
// (f) a crash between the effect and the stored answer (a fault point of test builds), then a restart
//     and a retry: the retry conflicts (or replays), never runs the effect again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startWorld, keyPrincipal, createKey, uniq, principal } from './lib-world.mjs';
import { problemOf, makeScratch, startServer, within } from '../lib/server.mjs';

let w;
let srv;
let p;
let ws;
let svcA; // service key of A: subaccounts:write
let svcB; // service key of B: subaccounts:write
let adminKey; // personal key of admin@ in A: team:write

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
  svcA = keyPrincipal(srv, 'svcA', (await createKey(p.owner, ws.A, { scopes: ['subaccounts:write'] })).secret);
  svcB = keyPrincipal(srv, 'svcB', (await createKey(p.ownerB, ws.B, { scopes: ['subaccounts:write'] })).secret);
  adminKey = keyPrincipal(srv, 'adminKey', (await createKey(p.admin, ws.A, { owner: 'me', scopes: ['team:write'] })).secret);
});

after(async () => {
  await w?.stop();
});

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const count = async (sql) => Number(await srv.sql(sql));
const IK = (k) => ({ headers: { 'idempotency-key': k } });
const advance = async (seconds) => {
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
};

/**
 * The idempotent routes as cases: path(wsKey), body(tag), effects(tag) → number of rows the request
 * made, and the callers that may use it.
 */
const ROUTES = {
  subaccount: {
    path: (W = 'A') => `/api/v1/workspaces/${ws[W]}/subaccounts`,
    body: (tag) => ({ name: `Idem ${tag}` }),
    effects: (tag) => count(`SELECT COUNT(*) FROM workspaces WHERE name = ${q(`Idem ${tag}`)}`),
  },
  invitation: {
    path: (W = 'A') => `/api/v1/workspaces/${ws[W]}/invitations`,
    body: (tag) => ({ emails: [`${tag.toLowerCase()}@idem.test`], role: 'member' }),
    effects: (tag) => count(`SELECT COUNT(*) FROM invitations WHERE email = ${q(`${tag.toLowerCase()}@idem.test`)}`),
    mails: (tag) => count(`SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ${q(`${tag.toLowerCase()}@idem.test`)}`),
  },
  apiKey: {
    path: (W = 'A') => `/api/v1/workspaces/${ws[W]}/api-keys`,
    body: (tag) => ({ name: `Idem ${tag}`, scopes: ['team:read'], owner: 'workspace' }),
    effects: (tag) => count(`SELECT COUNT(*) FROM api_keys WHERE name = ${q(`Idem ${tag}`)}`),
  },
};
/** A key to rotate: its path and the number of keys of its name (1 before the rotation, 2 after). */
async function rotation(tag) {
  const k = await createKey(p.owner, ws.A, { name: `Idem ${tag}` });
  return {
    path: () => `/api/v1/workspaces/${ws.A}/api-keys/${k.id}/rotate`,
    body: () => ({ overlap_hours: 1 }),
    effects: async () => (await count(`SELECT COUNT(*) FROM api_keys WHERE name = ${q(`Idem ${tag}`)}`)) - 1,
  };
}

function sameAnswer(a, b, what) {
  assert.equal(b.status, a.status, `${what}: status`);
  assert.equal(b.text, a.text, `${what}: body`);
  assert.equal(b.headers.get('location'), a.headers.get('location'), `${what}: Location`);
  assert.equal(b.headers.get('content-type'), a.headers.get('content-type'), `${what}: Content-Type`);
  assert.equal(a.headers.get('idempotent-replayed'), null, `${what}: the first answer is no replay`);
  assert.equal(b.headers.get('idempotent-replayed'), 'true', `${what}: Idempotent-Replayed`);
}

test('(a) the same key and request twice: one effect, the same status, body and Location, marked as replayed', async () => {
  const cases = [
    ['subaccount', p.owner, ROUTES.subaccount],
    ['subaccount', svcA, ROUTES.subaccount],
    ['invitation', p.owner, ROUTES.invitation],
    ['invitation', adminKey, ROUTES.invitation],
    ['apiKey', p.owner, ROUTES.apiKey],
    ['rotate', p.owner, await rotation(uniq('rot'))],
  ];
  for (const [name, caller, route] of cases) {
    const tag = uniq(`a-${name}`);
    const k = randomUUID();
    const first = await caller.post(route.path(), route.body(tag), IK(k));
    assert.ok(first.status === 200 || first.status === 201, `${name} as ${caller.key}: ${first.status} ${first.text}`);
    const second = await caller.post(route.path(), route.body(tag), IK(k));
    sameAnswer(first, second, `${name} as ${caller.key}`);
    const third = await caller.post(route.path(), route.body(tag), IK(k));
    assert.equal(third.text, first.text);
    assert.equal(await route.effects(tag), 1, `${name} as ${caller.key}: effects`);
    if (route.mails) assert.equal(await route.mails(tag), 1, `${name} as ${caller.key}: mails`);
  }
  // Without a key, the same request twice is two requests (a rotated key cannot rotate again).
  const tag = uniq('nokey');
  assert.equal((await p.owner.post(ROUTES.subaccount.path(), ROUTES.subaccount.body(tag))).status, 201);
  assert.equal((await p.owner.post(ROUTES.subaccount.path(), ROUTES.subaccount.body(tag))).status, 201);
  assert.equal(await ROUTES.subaccount.effects(tag), 2);
  // A replay makes no second audit event either.
  const t2 = uniq('audit');
  const k2 = randomUUID();
  const made = await p.owner.post(ROUTES.subaccount.path(), ROUTES.subaccount.body(t2), IK(k2));
  await p.owner.post(ROUTES.subaccount.path(), ROUTES.subaccount.body(t2), IK(k2));
  const ev = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=subaccount.created&target=${made.body.id}`);
  assert.equal(ev.body.items.length, 1, ev.text);
});

test('(b) the same key with another body or on another path: 422 idempotency-key-reused, and no effect', async () => {
  for (const [name, caller] of [['subaccount', p.owner], ['apiKey', p.owner], ['invitation', adminKey], ['subaccount', svcA]]) {
    const route = ROUTES[name];
    const tag = uniq(`b-${name}`);
    const other = uniq(`b2-${name}`);
    const k = randomUUID();
    const first = await caller.post(route.path(), route.body(tag), IK(k));
    assert.ok(first.status < 300, first.text);
    const reused = await caller.post(route.path(), route.body(other), IK(k));
    assert.equal(problemOf(reused, 422).type, 'urn:atrium:problem:idempotency-key-reused', `${name} as ${caller.key}`);
    assert.equal(await route.effects(other), 0, `${name} as ${caller.key}: the other body ran`);
    // The stored answer is still there for the first request.
    sameAnswer(first, await caller.post(route.path(), route.body(tag), IK(k)), `${name} after a 422`);
  }
  // Another path (A1, which owner@ manages through agency) with the same body and key.
  const tag = uniq('b-path');
  const k = randomUUID();
  assert.equal((await p.owner.post(ROUTES.subaccount.path('A'), ROUTES.subaccount.body(tag), IK(k))).status, 201);
  const moved = await p.owner.post(`/api/v1/workspaces/${ws.B}/subaccounts`, ROUTES.subaccount.body(tag), IK(k));
  assert.equal(moved.status, 404, 'the guard answers first'); // not reachable: nothing stored, nothing replayed
  const elsewhere = await p.owner.post(ROUTES.apiKey.path('A1'), ROUTES.apiKey.body(tag), IK(k));
  assert.equal(problemOf(elsewhere, 422).type, 'urn:atrium:problem:idempotency-key-reused');
  assert.equal(await ROUTES.apiKey.effects(tag), 0);
});

test('(c) 50 concurrent requests with one key: one effect; the others are 409 idempotency-key-in-progress or the replay', async () => {
  const wrong = [];
  for (const [name, caller] of [['subaccount', p.owner], ['apiKey', p.owner], ['subaccount', svcA], ['invitation', adminKey]]) {
    const route = ROUTES[name];
    const tag = uniq(`c-${name}`);
    const k = randomUUID();
    const answers = await Promise.all(Array.from({ length: 50 }, () => caller.post(route.path(), route.body(tag), IK(k))));
    const firsts = answers.filter((r) => r.status < 300 && !r.headers.get('idempotent-replayed'));
    const replays = answers.filter((r) => r.headers.get('idempotent-replayed') === 'true');
    const busy = answers.filter((r) => r.status === 409 && r.body?.type === 'urn:atrium:problem:idempotency-key-in-progress' && Number(r.headers.get('retry-after')) >= 1);
    const tally = {};
    for (const r of answers) tally[`${r.status} ${r.body?.type ?? ''}${r.headers.get('idempotent-replayed') ? ' (replay)' : ''}`] = (tally[`${r.status} ${r.body?.type ?? ''}${r.headers.get('idempotent-replayed') ? ' (replay)' : ''}`] ?? 0) + 1;
    const effects = await route.effects(tag);
    if (firsts.length !== 1 || firsts.length + replays.length + busy.length !== 50 || effects !== 1)
      wrong.push(`${name} as ${caller.key}: ${effects} effects, answers ${JSON.stringify(tally)}`);
    if (firsts.length === 1 && replays.some((r) => r.text !== firsts[0].text || r.status !== firsts[0].status)) wrong.push(`${name}: a replay differs from the first answer`);
    // After the storm, the key replays.
    const after = await caller.post(route.path(), route.body(tag), IK(k));
    if (firsts.length === 1 && after.text !== firsts[0].text) wrong.push(`${name}: the replay after the storm differs`);
  }
  assert.deepEqual(wrong, []);
});

test('(d) another caller with the same key gets an execution of its own, never another caller’s answer', async () => {
  const k = randomUUID();
  const tag = uniq('d');
  const body = ROUTES.subaccount.body(tag);
  const a = await p.owner.post(ROUTES.subaccount.path('A'), body, IK(k));
  const b = await p.admin.post(ROUTES.subaccount.path('A'), body, IK(k));
  const c = await svcA.post(ROUTES.subaccount.path('A'), body, IK(k));
  const d = await svcB.post(ROUTES.subaccount.path('B'), body, IK(k));
  const e = await p.ownerB.post(ROUTES.subaccount.path('B'), body, IK(k));
  const all = [a, b, c, d, e];
  for (const r of all) {
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('idempotent-replayed'), null);
  }
  assert.equal(new Set(all.map((r) => r.body.id)).size, 5, 'five callers, five sub-accounts');
  assert.equal(await ROUTES.subaccount.effects(tag), 5);
  // Each caller's replay is its own.
  for (const [pr, path, first] of [[p.owner, 'A', a], [p.admin, 'A', b], [svcA, 'A', c], [svcB, 'B', d], [p.ownerB, 'B', e]])
    sameAnswer(first, await pr.post(ROUTES.subaccount.path(path), body, IK(k)), `${pr.key}'s replay`);
  // A person and their own personal key are two callers.
  const k2 = randomUUID();
  const t2 = uniq('d2');
  const viaSession = await p.admin.post(ROUTES.invitation.path(), ROUTES.invitation.body(t2), IK(k2));
  const viaKey = await adminKey.post(ROUTES.invitation.path(), ROUTES.invitation.body(t2), IK(k2));
  assert.equal(viaSession.status, 200, viaSession.text);
  assert.equal(viaKey.headers.get('idempotent-replayed'), null, 'the personal key replayed its owner’s session answer');
  assert.notEqual(viaKey.text, viaSession.text);
});

test('(e) stored for 24 hours (test clock): a replay at 23 h 59 min, a new execution after 24 h', async () => {
  for (const caller of [p.owner, svcA]) {
    const k = randomUUID();
    const tag = uniq(`e-${caller.key}`);
    const body = ROUTES.subaccount.body(tag);
    const first = await caller.post(ROUTES.subaccount.path(), body, IK(k));
    assert.equal(first.status, 201, first.text);
    await advance(24 * 3600 - 60);
    sameAnswer(first, await caller.post(ROUTES.subaccount.path(), body, IK(k)), `${caller.key} at 23 h 59 min`);
    assert.equal(await ROUTES.subaccount.effects(tag), 1);
    await advance(120);
    const fresh = await caller.post(ROUTES.subaccount.path(), body, IK(k));
    assert.equal(fresh.status, 201, fresh.text);
    assert.equal(fresh.headers.get('idempotent-replayed'), null, `${caller.key}: replayed after 24 h`);
    assert.notEqual(fresh.body.id, first.body.id);
    assert.equal(await ROUTES.subaccount.effects(tag), 2);
    // …and that execution is the one replayed now (also with another body: 422).
    sameAnswer(fresh, await caller.post(ROUTES.subaccount.path(), body, IK(k)), `${caller.key}: the new record`);
    assert.equal((await caller.post(ROUTES.subaccount.path(), ROUTES.subaccount.body(uniq('x')), IK(k))).status, 422);
  }
});

test('a malformed Idempotency-Key is 400 naming the header, with no effect; 255 visible ASCII characters are fine', async () => {
  for (const bad of ['', 'x'.repeat(256), 'two words', 'caf\u00e9', 'tab\there']) {
    const tag = uniq('bad');
    const r = await p.owner.post(ROUTES.subaccount.path(), ROUTES.subaccount.body(tag), IK(bad));
    const b = problemOf(r, 400);
    assert.deepEqual(b.errors.map((e) => e.field), ['Idempotency-Key'], `${JSON.stringify(bad)}: ${r.text}`);
    assert.equal(await ROUTES.subaccount.effects(tag), 0, JSON.stringify(bad));
  }
  const tag = uniq('long');
  const k = '~'.repeat(219) + randomUUID();
  assert.equal(k.length, 255);
  const first = await p.owner.post(ROUTES.subaccount.path(), ROUTES.subaccount.body(tag), IK(k));
  assert.equal(first.status, 201, first.text);
  sameAnswer(first, await p.owner.post(ROUTES.subaccount.path(), ROUTES.subaccount.body(tag), IK(k)), '255 characters');
});

test('a request the guard refuses stores nothing under its key', async () => {
  const k = randomUUID();
  const tag = uniq('refused');
  const body = ROUTES.subaccount.body(tag);
  // member@ may not create sub-accounts (403): no record under the key.
  const refused = await p.member.post(ROUTES.subaccount.path(), body, IK(k));
  assert.equal(refused.status, 403, refused.text);
  assert.equal(await count(`SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = ${q(k)}`), 0);
  // A's key in B (404), then in A with the same key and body: a first execution, not a replay.
  const foreign = await svcA.post(ROUTES.subaccount.path('B'), body, IK(k));
  assert.equal(foreign.status, 404);
  const ok = await svcA.post(ROUTES.subaccount.path('A'), body, IK(k));
  assert.equal(ok.status, 201, `after a refused request with the same key: ${ok.text}`);
  assert.equal(ok.headers.get('idempotent-replayed'), null);
});

// Issue 12 item 15: the effect and the stored response committed separately, and a pending record was
// run again a minute later, so a crash between them made two keys.
test('(f) a crash between the effect and the stored answer: after a restart the retry conflicts, one key exists', async () => {
  const sc = await makeScratch();
  let crashed;
  let again;
  try {
    const env = { ATRIUM_JOB_WORKERS: '0' };
    crashed = await startWorld({ extras: false, scratch: sc, env: { ...env, ATRIUM_TEST_FAULT: 'idem_after_effect' } });
    const { ws: cws, p: cp } = crashed;
    const k = randomUUID();
    const tag = uniq('crash');
    const path = `/api/v1/workspaces/${cws.A}/api-keys`;
    const body = { name: tag, scopes: ['team:read'], owner: 'workspace' };
    const keys = async (s) => Number(await s.sql(`SELECT COUNT(*) FROM api_keys WHERE name = ${q(tag)}`));

    const lost = await cp.owner.post(path, body, IK(k)).catch((e) => e);
    assert.ok(lost instanceof Error, `the request was answered: ${lost.status} ${lost.text}`);
    const code = await within(crashed.srv.exited, 10_000);
    assert.equal(code, 134, 'the server aborted at the fault point (SIGABRT)');
    assert.equal(await keys(crashed.srv), 1, 'the effect committed before the crash');

    again = await startServer({ scratch: sc, env });
    const owner = principal(again, { key: 'owner', cookie: cp.owner.cookie, csrf: cp.owner.csrf });
    const check = async (what, type) => {
      const r = await owner.post(path, body, IK(k));
      assert.equal(problemOf(r, 409).type, `urn:atrium:problem:${type}`, `${what}: ${r.text}`);
      assert.equal(await keys(again), 1, `${what}: exactly one key`);
    };
    // Within the minute the first request may still be running somewhere: in progress.
    await check('retry after the restart', 'idempotency-key-in-progress');
    // Past the minute after which a record with no committed effect may be taken over.
    const adv = await again.post('/api/v1/test/clock', { advance_seconds: 120 });
    assert.equal(adv.status, 200, adv.text);
    await check('retry two minutes later', 'idempotency-key-outcome-unknown');
    // The same key with another body is still a mismatch, and a new key still works.
    problemOf(await owner.post(path, { ...body, name: `${tag}-other` }, IK(k)), 422);
    assert.equal((await owner.post(path, { ...body, name: `${tag}-new` }, IK(randomUUID()))).status, 201);
  } finally {
    await crashed?.stop();
    await again?.stop();
    await sc.cleanup();
  }
});

test('a record left pending after its effect committed is never run again, even after the abandon minute', async () => {
  const k = randomUUID();
  const tag = uniq('pending');
  const first = await p.owner.post(ROUTES.apiKey.path(), ROUTES.apiKey.body(tag), IK(k));
  assert.equal(first.status, 201, first.text);
  // The state a crash between the effect and the stored response leaves behind.
  await srv.sql(`UPDATE idempotency_keys SET state = 'pending', status = NULL, body = NULL WHERE idem_key = ${q(k)}`);
  await advance(120);
  const retry = await p.owner.post(ROUTES.apiKey.path(), ROUTES.apiKey.body(tag), IK(k));
  assert.equal(problemOf(retry, 409).type, 'urn:atrium:problem:idempotency-key-outcome-unknown', retry.text);
  assert.equal(await ROUTES.apiKey.effects(tag), 1, 'the effect ran again');
});
