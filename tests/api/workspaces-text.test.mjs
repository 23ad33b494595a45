// Issue 12 item 10: one text rule for every single-line field (src/base/text.c, applied by every string
// row of a validation table unless the row says JV_MULTILINE). Workspace settings, sub-account and
// billing-customer fields, and an API key's name refuse control characters — C0 (CR, LF, TAB, BEL,
// ESC ...), DEL and C1 — the way user names already did: 400 naming each bad field with code "format",
// and nothing written. The multi-line exception (an invitation's message) takes line breaks but still
// refuses the other controls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, checksum, insertUser, addMembership, signIn, DEMO_PASSWORDS } from './lib-world.mjs';
import { problemOf } from '../lib/server.mjs';

let w;
let srv;
let p;
let ws;

before(async () => {
  w = await startWorld({ extras: false, env: { ATRIUM_JOB_WORKERS: '0', ATRIUM_WORKSPACE_RATE_PER_MINUTE: '10000000' } });
  ({ srv, p, ws } = w);
});

after(async () => {
  await w?.stop();
});

// One control character of each class; each field below gets each of them, inside an otherwise good
// value (so no length or format rule of the field answers first).
const BAD = {
  CR: '\r',
  LF: '\n',
  CRLF: '\r\n',
  TAB: '\t',
  BEL: '\u0007',
  ESC: '\u001b',
  DEL: '\u007f',
  NEL: '\u0085', // C1 NEXT LINE
  CSI: '\u009b', // C1 CONTROL SEQUENCE INTRODUCER
  LS: '\u2028', // LINE SEPARATOR
};
const spoil = (good, ch) => (good.length <= 2 ? good[0] + ch : good[0] + ch + good.slice(1)).slice(0, Math.max(2, good.length));

function badFields(r) {
  const body = problemOf(r, 400);
  return (body.errors || []).filter((e) => e.code === 'format').map((e) => e.field).sort();
}

/**
 * For each field, sends every bad value alone (400 naming that field, nothing written), then all
 * fields bad at once (every one named). send(body) returns the response; valid(field) is a good value.
 */
async function refusesControls(what, fields, send, valid = () => 'Acme Dental') {
  const sum = await checksum(srv);
  for (const field of fields)
    for (const [kind, ch] of Object.entries(BAD)) {
      const r = await send({ [field]: spoil(valid(field), ch) });
      assert.equal(r.status, 400, `${what} ${field} with ${kind}: ${r.status} ${r.text}`);
      assert.deepEqual(badFields(r), [field], `${what} ${field} with ${kind}: ${r.text}`);
    }
  const all = Object.fromEntries(fields.map((f) => [f, spoil(valid(f), BAD.LF)]));
  assert.deepEqual(badFields(await send(all)), [...fields].sort(), `${what}: every bad field is named`);
  assert.deepEqual(await checksum(srv), sum, `${what}: a refused request wrote something`);
  // The positive control: the same fields with ordinary text are accepted.
  const good = await send(Object.fromEntries(fields.map((f) => [f, valid(f)])));
  assert.ok(good.status < 300, `${what} with ordinary text: ${good.status} ${good.text}`);
}

test('workspace settings: name, display_name, legal_name, industry, address and tax_id are single-line', async () => {
  const path = `/api/v1/workspaces/${ws.A}`;
  await refusesControls(
    'PATCH workspace',
    ['name', 'display_name', 'legal_name', 'industry', 'address', 'tax_id'],
    async (body) => p.owner.patch(path, body, { ifMatch: '*' }),
    (f) => (f === 'tax_id' ? 'DE811907980' : f === 'address' ? '100 Market Street, Suite 300' : 'Acme Agency'),
  );
});

test('sub-accounts: name and display_name on create and rename, and the suspension reason, are single-line', async () => {
  const subs = `/api/v1/workspaces/${ws.A}/subaccounts`;
  let n = 0;
  await refusesControls('create sub-account', ['name', 'display_name'], (body) =>
    p.owner.post(subs, { name: `Sub ${++n}`, slug: `text-sub-${n}`, ...body }),
  );
  const made = await p.owner.post(subs, { name: 'Text Rule Sub', slug: 'text-rule-sub' });
  assert.equal(made.status, 201, made.text);
  await refusesControls('rename sub-account', ['name', 'display_name'], (body) => p.owner.patch(`${subs}/${made.body.id}`, body));
  await refusesControls('suspend sub-account', ['reason'], (body) => p.owner.post(`${subs}/${made.body.id}/suspend`, body), () => 'Invoice 1042 is overdue.');
});

test('billing customer: name, email, address lines, city, postal_code, region, country and tax_id are single-line', async () => {
  const path = `/api/v1/workspaces/${ws.A}/billing/customer`;
  const valid = {
    name: 'Acme Agency LLC',
    email: 'billing@acme.test',
    address_line1: '100 Market Street',
    address_line2: 'Suite 300',
    city: 'San Francisco',
    postal_code: '94105',
    region: 'CA',
    country: 'US',
    tax_id: 'US123456789',
  };
  await refusesControls('PATCH billing customer', Object.keys(valid), (body) => p.owner.patch(path, body, { ifMatch: '*' }), (f) => valid[f]);
});

test('an API key name is single-line', async () => {
  const path = `/api/v1/workspaces/${ws.A}/api-keys`;
  await refusesControls('create API key', ['name'], (body) => p.owner.post(path, { scopes: ['team:read'], owner: 'workspace', ...body }), () => 'CI deploy key');
});

test('multi-line text is the explicit exception: an invitation message takes line breaks, not other controls', async () => {
  const path = `/api/v1/workspaces/${ws.A}/invitations`;
  const ok = await p.owner.post(path, { emails: ['lines@acme.test'], role: 'member', message: 'Hi!\r\n\tWelcome aboard.\n\nAdam' });
  assert.ok(ok.status < 300, `${ok.status} ${ok.text}`);
  for (const bad of ['ring\u0007', '\u001b[2J', 'c1\u0085', 'del\u007f']) {
    const r = await p.owner.post(path, { emails: ['ctl@acme.test'], role: 'member', message: bad });
    assert.deepEqual(badFields(r), ['message'], `${JSON.stringify(bad)}: ${r.text}`);
  }
});

// The fixed-buffer sweep: user text reaches its reader whole, at any length the API accepts.
test('a suspension reason of 200 wide characters is shown whole to the members it locks out', async () => {
  const subs = `/api/v1/workspaces/${ws.A}/subaccounts`;
  const made = await p.owner.post(subs, { name: 'Reason Sub', slug: 'reason-sub' });
  assert.equal(made.status, 201, made.text);
  const email = `reason-${Date.now()}@acme.test`;
  const userId = await insertUser(srv, email, 'Rita Reason');
  await addMembership(srv, made.body.id, userId, 'member');
  const member = await signIn(srv, 'rita', email, DEMO_PASSWORDS.owner);
  const reason = Array.from({ length: 200 }, (_, i) => '請求書の支払いが三十日遅れています'[i % 17]).join('');
  assert.equal([...reason].length, 200);
  const r = await p.owner.post(`${subs}/${made.body.id}/suspend`, { reason });
  assert.equal(r.status, 200, r.text);
  const locked = await member.get(`/api/v1/workspaces/${made.body.id}`);
  assert.equal(problemOf(locked, 403).detail, reason, locked.text);
});

test('the sub-account search looks for the whole query, however long', async () => {
  const subs = `/api/v1/workspaces/${ws.A}/subaccounts`;
  const head = '🦷'.repeat(90);
  const one = `${head}${'😀'.repeat(10)}`;
  const two = `${head}${'🙂'.repeat(10)}`;
  for (const [name, slug] of [[one, 'emoji-one'], [two, 'emoji-two']]) {
    const r = await p.owner.post(subs, { name, slug });
    assert.equal(r.status, 201, r.text);
  }
  const found = await p.owner.get(`${subs}?q=${encodeURIComponent(one)}`);
  assert.equal(found.status, 200, found.text);
  assert.deepEqual(found.body.items.map((i) => i.slug), ['emoji-one']);
});
