// Billing (issue 7, features.md §1.5): the Billing page's documents and who may use them. The
// overview, the plan list and the customer's billing details have their documented shapes for a new
// sign-up (a 14-day `pro` trial with ATRIUM_DEFAULT_SEATS = 10 seats, manual collection); the owner
// writes, an admin only reads (403 on every write), a member gets 403, another workspace's owner 404,
// nobody signed in 401. The customer PATCH needs If-Match (428 without, 412 stale) and names every bad
// field (country: two capitals). Usage reporting with an API key (scope usage:write; without it 403
// insufficient-scope) is idempotent by event_id, refuses metrics the plan does not meter (400 naming
// events[N].metric) and names every bad field of a malformed batch.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { problemOf, RFC3339 } from '../lib/server.mjs';
import { principal, createKey, keyPrincipal, allScopes } from './lib-world.mjs';
import {
  startBillingServer,
  newRoot,
  addMember,
  overview,
  runJobs,
  B,
  W,
  T0,
  TRIAL_END,
  PROBLEM,
  errorFields,
  uniq,
  assertBillingInvariants,
} from './lib-billing.mjs';

let srv;
let A; // { owner, wsId, email }
let admin;
let member;
let foreign; // the owner of an unrelated root
let anon;

before(async () => {
  srv = await startBillingServer();
  A = await newRoot(srv, { name: 'Olga Owner' });
  admin = await addMember(srv, A.wsId, 'admin', A.email);
  member = await addMember(srv, A.wsId, 'member', A.email);
  foreign = await newRoot(srv, { name: 'Fred Foreign' });
  anon = principal(srv, { key: 'anonymous' });
});

after(async () => {
  await srv?.stop();
});
// Every scenario leaves the billing invariants intact (every waiting proration billed once, on the
// invoice that shows it; subtotal = Σ lines; total = subtotal + tax; amount_due ≥ 0).
afterEach(async () => {
  if (srv) await assertBillingInvariants(srv);
});


const PRO = {
  id: 'pro',
  name: 'Pro',
  offered: true,
  prices: { month: { base: 0, per_seat: 3900 }, year: { base: 0, per_seat: 39000 } },
  included_seats: 0,
  min_seats: 1,
  max_seats: 200,
  trial_days: 14,
  features: ['api_access', 'voice', 'sub_accounts'],
  limits: { sub_accounts: 25 },
};

function assertPlan(got, want) {
  for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `plan ${want.id}.${k}: ${JSON.stringify(got[k])}`);
}

// ---------------------------------------------------------------------------------------------------
// Shapes.

test('overview of a new sign-up: a 14-day pro trial with 10 seats, manual collection, the first invoice previewed', async () => {
  const o = await overview(A.owner, A.wsId);
  for (const k of [
    'workspace_id',
    'billed_by',
    'billing_mode',
    'provider',
    'currency',
    'subscription',
    'plan',
    'entitled',
    'seats',
    'usage',
    'upcoming_invoice',
    'customer',
    'banner',
    'test_clock',
    'now',
  ])
    assert.ok(k in o, `overview has ${k}: ${Object.keys(o)}`);
  assert.equal(o.workspace_id, A.wsId);
  assert.equal(o.billed_by, A.wsId);
  assert.equal(o.billing_mode, 'own');
  assert.equal(o.provider, 'manual');
  assert.equal(o.currency, 'USD');
  assert.equal(o.entitled, true);
  assert.equal(o.now, T0);
  assert.equal(o.test_clock, null);

  const s = o.subscription;
  assert.match(s.id, /^sub_[0-9A-Z]{26}$/);
  assert.equal(s.plan_id, 'pro');
  assert.equal(s.plan_name, 'Pro');
  assert.equal(s.interval, 'month');
  assert.equal(s.quantity, 10);
  assert.equal(s.status, 'trialing');
  assert.equal(s.collection, 'send_invoice');
  assert.equal(s.current_period_start, T0);
  assert.equal(s.trial_end, TRIAL_END); // T0 + 14 days
  assert.equal(s.current_period_end, TRIAL_END);
  assert.equal(s.cancel_at_period_end, false);
  assert.equal(s.pending_change, null);
  for (const t of ['canceled_at', 'ended_at', 'past_due_since']) assert.equal(s[t], null, t);

  assertPlan(o.plan, PRO);
  assert.deepEqual(
    o.plan.metered.map((m) => [m.id, m.included, m.unit_price, m.per_units]),
    [
      ['ai_minutes', 500, 6, 1],
      ['api_calls', 100000, 40, 1000],
      ['contacts', 10000, 1, 1],
    ],
  );
  // Owner, admin and member: 3 of 10 seats.
  assert.deepEqual(o.seats, { purchased: 10, used: 3, available: 7, active_members: 3, pending_invitations: 0 });
  assert.deepEqual(
    o.usage.map((u) => [u.metric, u.used, u.included, u.overage, u.overage_amount]),
    [
      ['ai_minutes', 0, 500, 0, 0],
      ['api_calls', 0, 100000, 0, 0],
      ['contacts', 0, 10000, 0, 0],
    ],
  );
  // The first invoice comes at the trial's end: 10 seats × $39.00 = $390.00 for Jan 15 → Feb 15.
  const up = o.upcoming_invoice;
  assert.equal(up.at, TRIAL_END);
  assert.equal(up.subtotal, 39000);
  assert.equal(up.total, 39000);
  assert.equal(up.amount_due, 39000);
  assert.deepEqual(up.tax, { name: 'Tax', country: '', rate_bp: 0, amount: 0 });
  assert.deepEqual(up.lines, [
    {
      kind: 'seats',
      description: 'Pro seats (per month)',
      quantity: 10,
      unit_amount: 3900,
      amount: 39000,
      period_start: TRIAL_END,
      period_end: '2031-02-15T00:00:00Z',
    },
  ]);
  assert.equal(o.banner.kind, 'trial');
  assert.equal(o.banner.at, TRIAL_END);
  assert.equal(o.banner.days_left, 14);
  assert.equal(o.customer.provider, 'manual');
  assert.equal(o.customer.balance, 0);
  assert.equal(o.customer.payment_method, null);
});

test('plans: the offered plans (not free) with their prices, and the current plan', async () => {
  const r = await A.owner.get(`${B(A.wsId)}/plans`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.currency, 'USD');
  assert.equal(r.body.current_plan_id, 'pro');
  assert.deepEqual(
    r.body.items.map((p) => p.id),
    ['starter', 'pro', 'agency'],
  );
  const [starter, pro, agency] = r.body.items;
  assertPlan(starter, {
    name: 'Starter',
    prices: { month: { base: 0, per_seat: 1500 }, year: { base: 0, per_seat: 15000 } },
    min_seats: 1,
    max_seats: 25,
    features: ['api_access'],
    limits: {},
  });
  assertPlan(pro, PRO);
  assertPlan(agency, {
    prices: { month: { base: 29700, per_seat: 2900 }, year: { base: 297000, per_seat: 29000 } },
    included_seats: 10,
    min_seats: 10,
    max_seats: 1000,
    limits: { sub_accounts: 500 },
  });
  for (const p of r.body.items) {
    assert.equal(typeof p.description, 'string');
    assert.ok(Array.isArray(p.metered));
  }
});

test('customer: every billing detail, empty for a new sign-up, with an ETag', async () => {
  const r = await A.owner.get(`${B(A.wsId)}/customer`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('etag'), /^"v\d+"$/);
  const fields = ['name', 'email', 'address_line1', 'address_line2', 'city', 'postal_code', 'region', 'country', 'tax_id'];
  for (const f of fields) assert.equal(r.body[f], '', f);
  assert.equal(r.body.provider, 'manual');
  assert.equal(r.body.payment_method, null);
  assert.equal(r.body.balance, 0);
});

// ---------------------------------------------------------------------------------------------------
// Who may.

const READS = (ws) => [`${B(ws)}`, `${B(ws)}/plans`, `${B(ws)}/customer`, `${B(ws)}/invoices`];
const WRITES = (ws) => [
  ['PATCH', `${B(ws)}/customer`, { city: 'Berlin' }],
  ['POST', `${B(ws)}/subscription/change`, { quantity: 11 }],
  ['POST', `${B(ws)}/subscription/cancel`, { at_period_end: true }],
  ['POST', `${B(ws)}/subscription/resume`, {}],
  ['POST', `${B(ws)}/subscription`, { plan_id: 'starter', quantity: 3 }],
];

test('an admin reads every billing document but every write is 403', async () => {
  for (const p of READS(A.wsId)) {
    const r = await admin.get(p);
    assert.equal(r.status, 200, `admin GET ${p}: ${r.status} ${r.text}`);
  }
  const before_ = await overview(A.owner, A.wsId);
  for (const [method, p, body] of WRITES(A.wsId)) {
    const r = await admin.req(method, p, { body, ifMatch: '*' });
    const pb = problemOf(r, 403);
    assert.equal(pb.type, PROBLEM('forbidden'), `${method} ${p}: ${r.text}`);
  }
  // A preview changes nothing: an admin may price a change.
  const pv = await admin.post(`${B(A.wsId)}/preview`, { quantity: 12 });
  assert.equal(pv.status, 200, pv.text);
  const after_ = await overview(A.owner, A.wsId);
  assert.deepEqual(after_.subscription, before_.subscription);
  assert.deepEqual(after_.customer, before_.customer);
});

test('a member gets 403 on every billing route, read or write', async () => {
  for (const p of READS(A.wsId)) problemOf(await member.get(p), 403);
  for (const [method, p, body] of WRITES(A.wsId)) problemOf(await member.req(method, p, { body, ifMatch: '*' }), 403);
  problemOf(await member.post(`${B(A.wsId)}/preview`, { quantity: 12 }), 403);
});

test("another workspace's owner gets 404 (as for a missing workspace); nobody signed in gets 401", async () => {
  for (const p of READS(A.wsId)) {
    const pb = problemOf(await foreign.owner.get(p), 404);
    assert.equal(pb.type, PROBLEM('not-found'));
    problemOf(await anon.get(p), 401);
  }
  for (const [method, p, body] of WRITES(A.wsId)) {
    problemOf(await foreign.owner.req(method, p, { body, ifMatch: '*' }), 404);
    problemOf(await anon.req(method, p, { body, ifMatch: '*' }), 401);
  }
  // The foreign owner's own billing answers, and names only their workspace.
  const o = await overview(foreign.owner, foreign.wsId);
  assert.equal(o.workspace_id, foreign.wsId);
  assert.notEqual(o.subscription.id, (await overview(A.owner, A.wsId)).subscription.id);
});

test('test clocks and operator invoice actions are developer-only: an owner without developer access gets 403', async () => {
  problemOf(await A.owner.post(`${B(A.wsId)}/test-clock`, { frozen_time: T0 }), 403);
  problemOf(await A.owner.get(`${B(A.wsId)}/test-clock`), 403);
  problemOf(await A.owner.get(`${W(A.wsId)}/billing-recovery`), 403);
});

// ---------------------------------------------------------------------------------------------------
// Customer details.

test('customer PATCH: 428 without If-Match, 412 with a stale ETag, 200 with the current one (new ETag, audited)', async () => {
  const g = await A.owner.get(`${B(A.wsId)}/customer`);
  const etag = g.headers.get('etag');
  const none = await A.owner.patch(`${B(A.wsId)}/customer`, { city: 'Berlin' });
  assert.equal(problemOf(none, 428).type, PROBLEM('precondition-required'));
  const stale = await A.owner.patch(`${B(A.wsId)}/customer`, { city: 'Berlin' }, { ifMatch: '"v999"' });
  assert.equal(problemOf(stale, 412).type, PROBLEM('precondition-failed'));
  const weak = await A.owner.patch(`${B(A.wsId)}/customer`, { city: 'Berlin' }, { ifMatch: `W/${etag}` });
  problemOf(weak, 412);
  assert.equal((await A.owner.get(`${B(A.wsId)}/customer`)).body.city, '', 'a refused PATCH wrote');

  const body = {
    name: 'Owner & Söhne GmbH',
    email: 'billing@owner.test',
    address_line1: 'Friedrichstraße 1',
    address_line2: 'Hinterhaus',
    city: 'Berlin',
    postal_code: '10117',
    region: 'Berlin',
    country: 'DE',
    tax_id: 'DE123456789',
  };
  const r = await A.owner.patch(`${B(A.wsId)}/customer`, body, { ifMatch: etag });
  assert.equal(r.status, 200, r.text);
  for (const [k, v] of Object.entries(body)) assert.equal(r.body[k], v, k);
  const etag2 = r.headers.get('etag');
  assert.match(etag2, /^"v\d+"$/);
  assert.notEqual(etag2, etag);
  // The old ETag no longer matches.
  problemOf(await A.owner.patch(`${B(A.wsId)}/customer`, { city: 'Hamburg' }, { ifMatch: etag }), 412);
  // null clears a field; "*" matches any version.
  const clr = await A.owner.patch(`${B(A.wsId)}/customer`, { address_line2: null }, { ifMatch: '*' });
  assert.equal(clr.status, 200, clr.text);
  assert.equal(clr.body.address_line2, '');
  assert.equal(clr.body.city, 'Berlin');
  // The overview shows the same details; the audit log has the change with before/after.
  assert.equal((await overview(A.owner, A.wsId)).customer.country, 'DE');
  const audit = await srv.sql(`SELECT action FROM audit_events WHERE workspace_id = '${A.wsId}' AND action = 'billing.customer.updated'`);
  assert.equal(audit.split('\n').filter(Boolean).length, 2, audit);
});

test('customer PATCH: bad fields → 400 naming each one; country must be two capitals; nothing is written', async () => {
  const before_ = (await A.owner.get(`${B(A.wsId)}/customer`)).body;
  for (const country of ['de', 'DEU', 'D', 'D1', 'dE', 'ÄB', 12]) {
    const r = await A.owner.patch(`${B(A.wsId)}/customer`, { country }, { ifMatch: '*' });
    const pb = problemOf(r, 400);
    assert.deepEqual(errorFields(pb), ['country'], `${JSON.stringify(country)} → ${r.text}`);
  }
  const bad = {
    name: 'x'.repeat(201),
    email: 'not an email',
    address_line1: 5,
    city: 'y'.repeat(101),
    postal_code: '1'.repeat(21),
    country: 'germany',
    tax_id: 't'.repeat(41),
    colour: 'blue',
  };
  const r = await A.owner.patch(`${B(A.wsId)}/customer`, bad, { ifMatch: '*' });
  const pb = problemOf(r, 400);
  assert.equal(pb.type, PROBLEM('validation'));
  assert.deepEqual(errorFields(pb).sort(), Object.keys(bad).sort(), r.text);
  assert.deepEqual((await A.owner.get(`${B(A.wsId)}/customer`)).body, before_);
  // An empty country is allowed (no country: the default tax rate).
  const ok = await A.owner.patch(`${B(A.wsId)}/customer`, { country: '' }, { ifMatch: '*' });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.country, '');
  const back = await A.owner.patch(`${B(A.wsId)}/customer`, { country: 'DE' }, { ifMatch: '*' });
  assert.equal(back.status, 200, back.text);
});

// ---------------------------------------------------------------------------------------------------
// Usage reporting.

const usagePath = () => `${B(A.wsId)}/usage`;
const used = async (metric) => (await overview(A.owner, A.wsId)).usage.find((u) => u.metric === metric).used;

test('usage:write is a scope of its own; a key with it reports usage, a key without it gets 403 insufficient-scope', async () => {
  assert.ok((await allScopes(srv)).includes('usage:write'), 'GET /api/v1/scopes lists usage:write');
  const k = await createKey(A.owner, A.wsId, { scopes: ['usage:write'] });
  const key = keyPrincipal(srv, 'usage-key', k.secret);
  const before_ = await used('ai_minutes');
  const r = await key.post(usagePath(), { events: [{ event_id: uniq('evt'), metric: 'ai_minutes', quantity: 7 }] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { accepted: 1, duplicates: 0 });
  assert.equal(await used('ai_minutes'), before_ + 7);
  const stored = await srv.sql(`SELECT reported_by FROM usage_events WHERE workspace_id = '${A.wsId}' AND quantity = 7`);
  assert.equal(stored, k.id, 'the key is recorded as the reporter');

  const other = await createKey(A.owner, A.wsId, { scopes: ['team:read'] });
  const no = keyPrincipal(srv, 'team-key', other.secret);
  const refused = await no.post(usagePath(), { events: [{ event_id: uniq('evt'), metric: 'ai_minutes', quantity: 1 }] });
  assert.equal(problemOf(refused, 403).type, PROBLEM('insufficient-scope'));
  assert.match(refused.body.detail, /usage:write/);
  assert.equal(await used('ai_minutes'), before_ + 7);
  // A usage key reaches only its own workspace and nothing else of billing.
  problemOf(await key.post(`${B(foreign.wsId)}/usage`, { events: [{ event_id: uniq('e'), metric: 'ai_minutes', quantity: 1 }] }), 404);
  problemOf(await key.get(B(A.wsId)), 403);
  // A member's session may not report usage; an admin's may.
  problemOf(await member.post(usagePath(), { events: [{ event_id: uniq('e'), metric: 'ai_minutes', quantity: 1 }] }), 403);
  const byAdmin = await admin.post(usagePath(), { events: [{ event_id: uniq('e'), metric: 'ai_minutes', quantity: 2 }] });
  assert.equal(byAdmin.status, 200, byAdmin.text);
  assert.equal(await used('ai_minutes'), before_ + 9);
});

test('usage is idempotent by event_id: the same id twice (two requests, or twice in one batch) counts once', async () => {
  const k = await createKey(A.owner, A.wsId, { scopes: ['usage:write'] });
  const key = keyPrincipal(srv, 'usage-key', k.secret);
  const base = await used('contacts');
  const id = uniq('evt');
  const one = await key.post(usagePath(), { events: [{ event_id: id, metric: 'contacts', quantity: 40 }] });
  assert.deepEqual(one.body, { accepted: 1, duplicates: 0 }, one.text);
  const two = await key.post(usagePath(), { events: [{ event_id: id, metric: 'contacts', quantity: 40 }] });
  assert.equal(two.status, 200, two.text);
  assert.deepEqual(two.body, { accepted: 0, duplicates: 1 });
  // A replay with another quantity is still the same event: the first one stands.
  const three = await key.post(usagePath(), { events: [{ event_id: id, metric: 'contacts', quantity: 999 }] });
  assert.deepEqual(three.body, { accepted: 0, duplicates: 1 }, three.text);
  const id2 = uniq('evt');
  const batch = await key.post(usagePath(), {
    events: [
      { event_id: id2, metric: 'contacts', quantity: 5 },
      { event_id: id2, metric: 'contacts', quantity: 5 },
      { event_id: uniq('evt'), metric: 'contacts', quantity: 1 },
    ],
  });
  assert.deepEqual(batch.body, { accepted: 2, duplicates: 1 }, batch.text);
  assert.equal(await used('contacts'), base + 40 + 5 + 1);
  // Concurrent replays of one new id: exactly one is accepted.
  const id3 = uniq('evt');
  const many = await Promise.all(
    Array.from({ length: 10 }, () => key.post(usagePath(), { events: [{ event_id: id3, metric: 'contacts', quantity: 100 }] })),
  );
  for (const m of many) assert.equal(m.status, 200, m.text);
  assert.equal(many.reduce((a, m) => a + m.body.accepted, 0), 1);
  assert.equal(await used('contacts'), base + 46 + 100);
});

test('usage: a metric the plan does not meter → 400 naming events[N].metric, and the whole batch is refused', async () => {
  const base = await used('ai_minutes');
  const r = await A.owner.post(usagePath(), {
    events: [
      { event_id: uniq('e'), metric: 'ai_minutes', quantity: 3 },
      { event_id: uniq('e'), metric: 'ai_minutes', quantity: 4 },
      { event_id: uniq('e'), metric: 'sms_messages', quantity: 1 },
    ],
  });
  const pb = problemOf(r, 400);
  assert.deepEqual(errorFields(pb), ['events[2].metric'], r.text);
  assert.equal(pb.errors[0].code, 'unknown_metric');
  assert.equal(await used('ai_minutes'), base, 'a refused batch wrote');
});

test('usage: malformed batches → 400 naming every bad field', async () => {
  const cases = [
    [{}, ['events']],
    [{ events: [] }, ['events']],
    [{ events: 'ai_minutes' }, ['events']],
    [{ events: Array.from({ length: 101 }, (_, i) => ({ event_id: `e${i}`, metric: 'contacts', quantity: 1 })) }, ['events']],
    [{ events: [{ event_id: 'ok-1', metric: 'contacts', quantity: 1 }], extra: 1 }, ['extra']],
    [
      {
        events: [
          { metric: 'contacts', quantity: 1 }, // no event_id
          { event_id: 'has space', metric: 'contacts', quantity: 1 },
          { event_id: 'e-2', quantity: 1 }, // no metric
          { event_id: 'e-3', metric: 'contacts', quantity: 0 },
          { event_id: 'e-4', metric: 'contacts', quantity: '5' },
          { event_id: 'e-5', metric: 'contacts', quantity: 1.5 },
          { event_id: 'e-6', metric: 'contacts', quantity: 1, occurred_at: 'yesterday' },
          'not an object',
          { event_id: 'x'.repeat(101), metric: 'contacts', quantity: 1 },
          { event_id: 'e-9', metric: 'contacts' }, // no quantity
          { event_id: 'e-10', metric: 'contacts', quantity: 1, colour: 'red' },
        ],
      },
      [
        'events[0].event_id',
        'events[1].event_id',
        'events[2].metric',
        'events[3].quantity',
        'events[4].quantity',
        'events[5].quantity',
        'events[6].occurred_at',
        'events[7]',
        'events[8].event_id',
        'events[9].quantity',
        'events[10].colour',
      ],
    ],
  ];
  const base = await used('contacts');
  for (const [body, fields] of cases) {
    const r = await A.owner.post(usagePath(), body);
    const pb = problemOf(r, 400);
    const got = errorFields(pb).map((f) => f.replace(/\/$/, ''));
    assert.deepEqual(got.sort(), [...fields].sort(), `${JSON.stringify(body).slice(0, 200)} → ${r.text.slice(0, 800)}`);
  }
  const notJson = await A.owner.req('POST', usagePath(), { body: '{"events": [', headers: { 'content-type': 'application/json' } });
  problemOf(notJson, 400);
  assert.equal(await used('contacts'), base);
});

test('usage: a time before the open period, or more than five minutes ahead, is refused naming occurred_at', async () => {
  const before_ = await A.owner.post(usagePath(), {
    events: [{ event_id: uniq('e'), metric: 'contacts', quantity: 1, occurred_at: '2030-12-31T23:59:59Z' }],
  });
  assert.deepEqual(errorFields(problemOf(before_, 400)), ['events[0].occurred_at'], before_.text);
  const ahead = await A.owner.post(usagePath(), {
    events: [{ event_id: uniq('e'), metric: 'contacts', quantity: 1, occurred_at: '2031-01-01T00:05:01Z' }],
  });
  assert.deepEqual(errorFields(problemOf(ahead, 400)), ['events[0].occurred_at'], ahead.text);
  const inside = await A.owner.post(usagePath(), {
    events: [{ event_id: uniq('e'), metric: 'contacts', quantity: 1, occurred_at: '2031-01-01T00:05:00Z' }],
  });
  assert.equal(inside.status, 200, inside.text);
});

test('nothing is mailed on the first day of a trial (the notice comes 3 days before its end)', async () => {
  await runJobs(srv);
  const rows = await srv.sql(`SELECT template FROM mail_outbox WHERE workspace_id = '${A.wsId}'`);
  assert.equal(rows, '', 'nothing is mailed on day 0 of a trial');
  assert.match((await overview(A.owner, A.wsId)).now, RFC3339);
});
