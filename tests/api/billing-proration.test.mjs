// Billing: subscription changes and their proration (issue 7, features.md §1.5; money.h). Every case
// runs on its own root (a sign-up at T0 = 2031-01-01T00:00Z, frozen program clock) whose developer
// test clock is moved past the trial's end, so the subscription is an active monthly `pro` (10 seats,
// $39.00 per seat) for the 31-day period 2031-01-15 → 2031-02-15 (2,678,400 s) with its first invoice.
// The clock is then put at an exact second, the change is previewed and made with the preview's
// proration_date, and the preview must equal the resulting invoice to the cent, and both must equal
// amounts computed by hand here (the arithmetic is in the comments): per-second proration =
// round(amount × remaining_s / period_s), each line rounded on its own, half away from zero; tax on the
// subtotal (Germany 19 %), also half away from zero. Also: each proration mode (invoice_now, prorate,
// at_renewal), monthly → yearly (a new anchor: a full year charged, the unused month credited),
// yearly → monthly only at renewal, downgrades applied when the clock crosses the period end (the
// renewal invoice bills the ended period's usage overage at the old plan, then the new plan's seats),
// a credit balance from a prorated decrease taken off the next invoice, changes during the trial, and
// refusals naming their field.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { problemOf } from '../lib/server.mjs';
import {
  startBillingServer,
  setProgramClock,
  activeRoot,
  newRoot,
  addMember,
  startClock,
  moveClock,
  overview,
  invoices,
  invoice,
  payAll,
  lineKey,
  B,
  T0,
  TRIAL_END,
  PROBLEM,
  errorFields,
  plus,
  prorate,
  taxOf,
  uniq,
  assertBillingInvariants,
} from './lib-billing.mjs';

let srv;

before(async () => {
  srv = await startBillingServer();
});

after(async () => {
  await srv?.stop();
});
// Every scenario leaves the billing invariants intact (every waiting proration billed once, on the
// invoice that shows it; subtotal = Σ lines; total = subtotal + tax; amount_due ≥ 0).
afterEach(async () => {
  if (srv) await assertBillingInvariants(srv);
});


const P1_START = TRIAL_END; // 2031-01-15T00:00:00Z
const P1_END = '2031-02-15T00:00:00Z';
const P2_END = '2031-03-15T00:00:00Z';
const P1 = 31 * 86400; // 2,678,400 s

/** The clock `remaining` seconds before the first period's end. */
const beforeEnd = (remaining) => plus(P1_END, -remaining);

/** Preview then make `body` (with the preview's proration_date); returns { pv, ch, inv }. */
async function previewAndChange(a, body) {
  const pv = await a.owner.post(`${B(a.wsId)}/preview`, body);
  assert.equal(pv.status, 200, `preview ${JSON.stringify(body)}: ${pv.status} ${pv.text}`);
  const ch = await a.owner.post(`${B(a.wsId)}/subscription/change`, { ...body, proration_date: pv.body.proration_date });
  assert.equal(ch.status, 200, `change ${JSON.stringify(body)}: ${ch.status} ${ch.text}`);
  const inv = ch.body.invoice ? await invoice(a.owner, a.wsId, ch.body.invoice.id) : null;
  return { pv: pv.body, ch: ch.body, inv };
}

/** The preview priced exactly what the invoice bills: lines, subtotal, tax, total, balance, amount due. */
function assertSame(pv, inv) {
  assert.deepEqual(inv.lines.map(lineKey), pv.lines.map(lineKey), 'invoice lines = preview lines');
  assert.equal(inv.subtotal, pv.subtotal, 'subtotal');
  assert.deepEqual(inv.tax, pv.tax, 'tax');
  assert.equal(inv.total, pv.total, 'total');
  assert.equal(inv.applied_balance, pv.applied_balance, 'applied balance');
  assert.equal(inv.amount_due, pv.amount_due_now, 'amount due');
}

const date = (at) => at.slice(0, 10);
const unused = (desc, at) => `Unused time on ${desc} after ${date(at)}`;
const remainingOn = (desc, at) => `Remaining time on ${desc} after ${date(at)}`;

// ---------------------------------------------------------------------------------------------------
// Immediate prorations (invoice_now), one case per row; amounts by hand.

const IMMEDIATE = [
  {
    name: '10 → 15 seats at exactly halfway (the default for an increase: invoice_now)',
    remaining: 1_339_200, // 15.5 of 31 days
    body: { quantity: 15 },
    country: null,
    // credit −round(39000 × 1339200 / 2678400) = −round(19500)    = −19500
    // debit  +round(58500 × 1339200 / 2678400) = +round(29250)    = +29250
    lines: [-19500, 29250],
    descs: ['Pro, 10 seats, monthly', 'Pro, 15 seats, monthly'],
    subtotal: 9750,
    tax: 0, // no country: the default rate, 0 %
    total: 9750,
    due: 9750,
  },
  {
    name: '10 → 15 seats 2,232 s before the end: both lines round half away from zero; German VAT',
    remaining: 2232,
    body: { quantity: 15 },
    country: 'DE',
    // credit 39000 × 2232 / 2678400 = 32.5  → −33 (half away from zero: −32.5 → −33)
    // debit  58500 × 2232 / 2678400 = 48.75 → +49
    // subtotal 16; VAT 16 × 19 % = 3.04 → 3; total 19
    lines: [-33, 49],
    descs: ['Pro, 10 seats, monthly', 'Pro, 15 seats, monthly'],
    subtotal: 16,
    tax: 3,
    total: 19,
    due: 19,
  },
  {
    name: '10 → 11 seats, German VAT on a subtotal that rounds half away (28.5 → 29)',
    remaining: 102_360,
    body: { quantity: 11, proration: 'invoice_now' },
    country: 'DE',
    // credit 39000 × 102360 / 2678400 = 1490.457… → −1490
    // debit  42900 × 102360 / 2678400 = 1639.502… → +1640
    // subtotal 150; VAT 150 × 19 % = 28.5 → 29; total 179
    lines: [-1490, 1640],
    descs: ['Pro, 10 seats, monthly', 'Pro, 11 seats, monthly'],
    subtotal: 150,
    tax: 29,
    total: 179,
    due: 179,
  },
  {
    name: '10 → 9 seats invoiced now: a credit note, negative VAT rounds half away (−28.5 → −29), the credit goes to the balance',
    remaining: 102_363,
    body: { quantity: 9, proration: 'invoice_now' },
    country: 'DE',
    // credit 39000 × 102363 / 2678400 = 1490.5006… → −1491
    // debit  35100 × 102363 / 2678400 = 1341.4506… → +1341
    // subtotal −150; VAT −150 × 19 % = −28.5 → −29; total −179: nothing due, 179 credited to the balance
    lines: [-1491, 1341],
    descs: ['Pro, 10 seats, monthly', 'Pro, 9 seats, monthly'],
    subtotal: -150,
    tax: -29,
    total: -179,
    due: 0,
    credit: 179,
  },
  {
    name: 'pro (10 seats) → agency (20 seats) one million seconds before the end',
    remaining: 1_000_000,
    body: { plan_id: 'agency', quantity: 20 },
    country: null,
    // agency monthly: base 29700 (10 seats included) + (20 − 10) × 2900 = 58700 (> 39000: invoice_now)
    // credit 39000 × 1000000 / 2678400 = 14560.931… → −14561
    // debit  58700 × 1000000 / 2678400 = 21915.994… → +21916
    // subtotal 7355
    lines: [-14561, 21916],
    descs: ['Pro, 10 seats, monthly', 'Agency, 20 seats, monthly'],
    subtotal: 7355,
    tax: 0,
    total: 7355,
    due: 7355,
  },
];

for (const c of IMMEDIATE) {
  test(`invoice_now: ${c.name}`, async () => {
    // The hand-computed lines are what money.h's rule gives (a check of the table itself).
    const [from, to] = [39000, c.lines[1] === 21916 ? 58700 : 3900 * c.body.quantity];
    assert.deepEqual(c.lines, [-prorate(from, c.remaining, P1), prorate(to, c.remaining, P1)]);
    assert.equal(c.tax, taxOf(c.subtotal, c.country ? 1900 : 0));

    const a = await activeRoot(srv, { country: c.country });
    const at = beforeEnd(c.remaining);
    await moveClock(a.owner, a.wsId, at);
    const { pv, ch, inv } = await previewAndChange(a, c.body);
    // The preview, by hand.
    assert.equal(pv.effective, 'now');
    assert.equal(pv.proration, 'invoice_now');
    assert.equal(pv.proration_date, at);
    assert.deepEqual(
      pv.lines.map((l) => [l.kind, l.description, l.quantity, l.unit_amount, l.amount, l.period_start, l.period_end]),
      [
        ['proration', unused(c.descs[0], at), 1, c.lines[0], c.lines[0], at, P1_END],
        ['proration', remainingOn(c.descs[1], at), 1, c.lines[1], c.lines[1], at, P1_END],
      ],
    );
    assert.equal(pv.subtotal, c.subtotal);
    assert.equal(pv.tax.amount, c.tax);
    assert.equal(pv.tax.rate_bp, c.country ? 1900 : 0);
    assert.equal(pv.total, c.total);
    assert.equal(pv.amount_due_now, c.due);
    assert.equal(pv.applied_balance, 0);
    assert.equal(pv.credit_to_balance, c.credit || 0);
    assert.deepEqual(pv.after, { plan_id: c.body.plan_id || 'pro', interval: 'month', quantity: c.body.quantity });
    // The change made it so, and its invoice is the preview to the cent.
    assert.equal(ch.proration, 'invoice_now');
    assert.equal(ch.subscription.quantity, c.body.quantity);
    assert.equal(ch.subscription.plan_id, c.body.plan_id || 'pro');
    assert.equal(ch.subscription.current_period_end, P1_END, 'the period is unchanged');
    assert.ok(inv, 'an invoice was issued now');
    assertSame(pv, inv);
    assert.equal(inv.reason, 'subscription_update');
    assert.equal(inv.period_start, at);
    assert.equal(inv.period_end, P1_END);
    assert.equal(inv.created_at, at);
    assert.equal(inv.tax.country, c.country || '');
    if (c.due > 0) {
      assert.equal(inv.status, 'open');
      assert.equal(inv.due_at, plus(at, 7 * 86400), 'payment terms: 7 days');
      assert.equal(inv.amount_remaining, c.due);
    } else {
      assert.equal(inv.status, 'paid', 'nothing due: settled at once');
      assert.equal(inv.amount_remaining, 0);
    }
    const cust = (await a.owner.get(`${B(a.wsId)}/customer`)).body;
    assert.equal(cust.balance, c.credit ? -c.credit : 0, 'a credit is a negative balance');
    // The audit log has the change with its before/after.
    const audit = await srv.sql(
      `SELECT changes FROM audit_events WHERE workspace_id = '${a.wsId}' AND action = 'billing.subscription.updated'`,
    );
    const changes = JSON.parse(audit);
    assert.deepEqual(changes.quantity, { before: 10, after: c.body.quantity });
  });
}

// ---------------------------------------------------------------------------------------------------
// proration_date: the change is priced at the previewed instant, not at the time it is made.

test('proration_date from an earlier preview prices the change at that instant; outside the period or ahead of now → 400', async () => {
  const a = await activeRoot(srv);
  const t1 = '2031-01-20T00:00:00Z';
  await moveClock(a.owner, a.wsId, t1);
  const pv = await a.owner.post(`${B(a.wsId)}/preview`, { quantity: 12 });
  assert.equal(pv.status, 200, pv.text);
  assert.equal(pv.body.proration_date, t1);
  // remaining Jan 20 → Feb 15 = 26 days = 2,246,400 s
  // credit 39000 × 2246400 / 2678400 = 32709.677… → −32710
  // debit  46800 × 2246400 / 2678400 = 39251.612… → +39252; subtotal 6542
  assert.deepEqual(
    pv.body.lines.map((l) => l.amount),
    [-32710, 39252],
  );
  assert.equal(pv.body.total, 6542);
  // Ten minutes later the change, priced at t1 because the preview's proration_date is sent (a preview
  // stays valid for 15 minutes of billing time; billing-exact covers the refusals after that).
  const later = '2031-01-20T00:10:00Z';
  await moveClock(a.owner, a.wsId, later);
  for (const bad of ['2031-01-14T23:59:59Z', '2031-01-20T00:10:01Z', '2031-02-16T00:00:00Z', 'soon']) {
    const r = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 12, proration_date: bad });
    assert.deepEqual(errorFields(problemOf(r, 400)), ['proration_date'], `${bad}: ${r.text}`);
  }
  assert.equal((await overview(a.owner, a.wsId)).subscription.quantity, 10, 'a refused change changed nothing');
  const ch = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 12, proration_date: pv.body.proration_date });
  assert.equal(ch.status, 200, ch.text);
  const inv = await invoice(a.owner, a.wsId, ch.body.invoice.id);
  assertSame(pv.body, inv);
  assert.equal(inv.created_at, later);
  // Without a proration_date the same change would be priced now (600 s fewer left):
  // credit 39000 × 2245800 / 2678400 = 32700.94… → −32701, which is not what was billed.
  assert.notEqual(inv.lines[0].amount, -prorate(39000, 26 * 86400 - 600, P1));
});

// ---------------------------------------------------------------------------------------------------
// prorate: the lines wait for the renewal invoice.

test('prorate: 10 → 12 at halfway adds the prorations to the renewal invoice, which the preview predicted', async () => {
  const a = await activeRoot(srv, { country: 'DE' });
  const at = beforeEnd(1_339_200);
  await moveClock(a.owner, a.wsId, at);
  const { pv, ch, inv } = await previewAndChange(a, { quantity: 12, proration: 'prorate' });
  assert.equal(inv, null, 'nothing is invoiced now');
  assert.equal(ch.proration, 'prorate');
  assert.equal(ch.subscription.quantity, 12);
  assert.equal(pv.effective, 'now');
  assert.equal(pv.amount_due_now, 0);
  assert.equal(pv.total, 0);
  // credit −round(39000 / 2) = −19500; debit +round(46800 / 2) = +23400
  assert.deepEqual(
    pv.lines.map((l) => l.amount),
    [-19500, 23400],
  );
  // The renewal: the two prorations, then 12 seats × 3900 = 46800 for Feb 15 → Mar 15.
  // subtotal −19500 + 23400 + 46800 = 50700; VAT 50700 × 19 % = 9633; total 60333
  assert.equal(pv.next_invoice.at, P1_END);
  assert.equal(pv.next_invoice.amount, 60333);
  assert.deepEqual(
    pv.next_invoice.lines.map((l) => [l.kind, l.amount]),
    [
      ['proration', -19500],
      ['proration', 23400],
      ['seats', 46800],
    ],
  );
  // The overview's upcoming invoice agrees.
  const up = (await overview(a.owner, a.wsId)).upcoming_invoice;
  assert.equal(up.amount_due, 60333);
  assert.deepEqual(up.lines.map(lineKey), pv.next_invoice.lines.map(lineKey));

  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, P1_END);
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 2, JSON.stringify(list));
  const renewal = await invoice(a.owner, a.wsId, list[1].id);
  assert.equal(renewal.reason, 'subscription_cycle');
  assert.deepEqual(renewal.lines.map(lineKey), pv.next_invoice.lines.map(lineKey));
  assert.equal(renewal.subtotal, 50700);
  assert.equal(renewal.tax.amount, 9633);
  assert.equal(renewal.amount_due, 60333);
  assert.equal(renewal.period_start, P1_END);
  assert.equal(renewal.period_end, P2_END);
  // Pending items are billed once: the overview's next upcoming invoice has only the seats.
  const next = (await overview(a.owner, a.wsId)).upcoming_invoice;
  assert.deepEqual(
    next.lines.map((l) => [l.kind, l.amount]),
    [['seats', 46800]],
  );
});

test('a prorated decrease: the credit comes off the next invoice (prorate), and a credit note feeds the balance the renewal uses', async () => {
  // (1) prorate: 10 → 8 at halfway: credit −19500, debit +round(31200 / 2) = +15600 → −3900 waits.
  const a = await activeRoot(srv);
  await moveClock(a.owner, a.wsId, beforeEnd(1_339_200));
  const { pv, inv } = await previewAndChange(a, { quantity: 8, proration: 'prorate' });
  assert.equal(inv, null);
  assert.deepEqual(
    pv.lines.map((l) => l.amount),
    [-19500, 15600],
  );
  // next: −19500 + 15600 + 8 × 3900 (31200) = 27300
  assert.equal(pv.next_invoice.amount, 27300);
  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, P1_END);
  const [, renewal] = await invoices(a.owner, a.wsId);
  assert.equal(renewal.amount_due, 27300);

  // (2) invoice_now for a German customer (the table's credit-note case): balance −179, then the
  // renewal: 9 seats × 3900 = 35100; VAT 35100 × 19 % = 6669; total 41769; the balance takes 179
  // off: amount due 41590, and the balance is used up.
  const b = await activeRoot(srv, { country: 'DE' });
  await moveClock(b.owner, b.wsId, beforeEnd(102_363));
  const credit = await previewAndChange(b, { quantity: 9, proration: 'invoice_now' });
  assert.equal(credit.inv.total, -179);
  // After the change the overview's upcoming invoice counts the credit; the preview's next_invoice,
  // "the renewal as it would be after the change", must say the same.
  assert.equal((await overview(b.owner, b.wsId)).upcoming_invoice.amount_due, 41590);
  assert.equal(credit.pv.next_invoice.amount, 41590, "the preview's next invoice counts the credit the change creates");
  await payAll(b.owner, b.wsId);
  await moveClock(b.owner, b.wsId, P1_END);
  const list = await invoices(b.owner, b.wsId);
  assert.equal(list.length, 3);
  const r2 = await invoice(b.owner, b.wsId, list[2].id);
  assert.equal(r2.subtotal, 35100);
  assert.equal(r2.tax.amount, 6669);
  assert.equal(r2.total, 41769);
  assert.equal(r2.applied_balance, -179);
  assert.equal(r2.amount_due, 41590);
  assert.equal(r2.status, 'open');
  assert.equal((await b.owner.get(`${B(b.wsId)}/customer`)).body.balance, 0);
});

test('a credit larger than the next invoices: 10 → 1 seat at the start of the period, then the balance pays', async () => {
  const a = await activeRoot(srv);
  // At the period's first second: remaining = the whole period.
  // credit −round(39000 × 2678400 / 2678400) = −39000; debit +3900; total −35100 → balance −35100
  const down = await previewAndChange(a, { quantity: 1, proration: 'invoice_now' });
  assert.equal(down.pv.proration_date, P1_START);
  assert.deepEqual(
    down.inv.lines.map((l) => l.amount),
    [-39000, 3900],
  );
  assert.equal(down.inv.total, -35100);
  assert.equal(down.inv.status, 'paid');
  assert.equal((await a.owner.get(`${B(a.wsId)}/customer`)).body.balance, -35100);
  // An increase 1 → 5 on Feb 5 (10 days left = 864,000 s), paid from the balance:
  // credit 3900 × 864000 / 2678400 = 1258.064… → −1258; debit 19500 × 864000 / 2678400 = 6290.322… → +6290
  // total 5032; the balance covers it: applied −5032, amount due 0 (paid at once), balance −30068
  await moveClock(a.owner, a.wsId, '2031-02-05T00:00:00Z');
  const up = await previewAndChange(a, { quantity: 5 });
  assert.deepEqual(
    up.pv.lines.map((l) => l.amount),
    [-1258, 6290],
  );
  assert.equal(up.pv.total, 5032);
  assert.equal(up.pv.applied_balance, -5032);
  assert.equal(up.pv.amount_due_now, 0);
  assertSame(up.pv, up.inv);
  assert.equal(up.inv.status, 'paid');
  assert.equal((await a.owner.get(`${B(a.wsId)}/customer`)).body.balance, -30068);
  // The renewal: 5 × 3900 = 19500, all from the balance (−30068 + 19500 = −10568 left).
  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, P1_END);
  const list = await invoices(a.owner, a.wsId);
  const renewal = await invoice(a.owner, a.wsId, list.at(-1).id);
  assert.equal(renewal.total, 19500);
  assert.equal(renewal.applied_balance, -19500);
  assert.equal(renewal.amount_due, 0);
  assert.equal(renewal.status, 'paid');
  assert.equal((await a.owner.get(`${B(a.wsId)}/customer`)).body.balance, -10568);
});

// ---------------------------------------------------------------------------------------------------
// at_renewal: downgrades wait for the period's end.

test('a downgrade pro → starter is scheduled for the period end; crossing it bills the ended period\'s usage at pro, then starter seats', async () => {
  const a = await activeRoot(srv);
  // Usage in the period: 620 AI minutes (500 included), 102,001 API calls (100,000 included, per 1,000),
  // exactly the 10,000 included contacts.
  const k = await a.owner.post(`${B(a.wsId)}/usage`, {
    events: [
      { event_id: uniq('e'), metric: 'ai_minutes', quantity: 620 },
      { event_id: uniq('e'), metric: 'api_calls', quantity: 102_001 },
      { event_id: uniq('e'), metric: 'contacts', quantity: 10_000 },
    ],
  });
  assert.equal(k.status, 200, k.text);
  await moveClock(a.owner, a.wsId, '2031-02-01T00:00:00Z');
  const { pv, ch, inv } = await previewAndChange(a, { plan_id: 'starter' });
  // 10 starter seats cost 15000 < 39000: the default for a decrease is at_renewal.
  assert.equal(pv.effective, 'period_end');
  assert.equal(pv.proration, 'at_renewal');
  assert.equal(pv.amount_due_now, 0);
  assert.deepEqual(pv.lines, []);
  assert.equal(inv, null);
  assert.equal(ch.subscription.plan_id, 'pro', 'pro until the period ends');
  assert.deepEqual(ch.subscription.pending_change, { plan_id: 'starter', interval: 'month', quantity: 10, effective_at: P1_END });
  const o = await overview(a.owner, a.wsId);
  assert.deepEqual(o.plan.features, ['api_access', 'voice', 'sub_accounts']);
  // The meters show the overage so far: AI minutes 120 × 6 = 720; API calls ceil(2001 / 1000) = 3 × 40 = 120.
  assert.deepEqual(
    o.usage.map((u) => [u.metric, u.used, u.overage, u.overage_amount]),
    [
      ['ai_minutes', 620, 120, 720],
      ['api_calls', 102001, 2001, 120],
      ['contacts', 10000, 0, 0],
    ],
  );

  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, '2031-02-20T00:00:00Z');
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 2, JSON.stringify(list));
  const renewal = await invoice(a.owner, a.wsId, list[1].id);
  assert.equal(renewal.created_at, P1_END);
  assert.deepEqual(renewal.lines.map(lineKey), [
    {
      kind: 'usage',
      description: 'AI minutes: 120 minutes beyond the 500 included',
      quantity: 120,
      unit_amount: 6,
      amount: 720,
      period_start: P1_START,
      period_end: P1_END,
    },
    {
      kind: 'usage',
      description: 'API calls: 2001 calls beyond the 100000 included (per 1000)',
      quantity: 2001,
      unit_amount: 40,
      amount: 120,
      period_start: P1_START,
      period_end: P1_END,
    },
    {
      kind: 'seats',
      description: 'Starter seats (per month)',
      quantity: 10,
      unit_amount: 1500,
      amount: 15000,
      period_start: P1_END,
      period_end: P2_END,
    },
  ]);
  // subtotal 720 + 120 + 15000 = 15840
  assert.equal(renewal.subtotal, 15840);
  assert.equal(renewal.amount_due, 15840);
  const after_ = await overview(a.owner, a.wsId);
  assert.equal(after_.subscription.plan_id, 'starter');
  assert.equal(after_.subscription.pending_change, null);
  assert.equal(after_.subscription.current_period_start, P1_END);
  assert.equal(after_.subscription.current_period_end, P2_END);
  assert.deepEqual(after_.plan.features, ['api_access']);
  // The new period's meters start at zero (starter meters api_calls and contacts only).
  assert.deepEqual(
    after_.usage.map((u) => [u.metric, u.used]),
    [
      ['api_calls', 0],
      ['contacts', 0],
    ],
  );
  const audit = await srv.sql(`SELECT action FROM audit_events WHERE workspace_id = '${a.wsId}' AND action LIKE 'billing.subscription.change%' ORDER BY seq`);
  assert.deepEqual(audit.split('\n'), ['billing.subscription.change_scheduled', 'billing.subscription.change_applied']);
});

test('a seat decrease at_renewal (explicit) keeps the seats until the end; the renewal bills the new count', async () => {
  const a = await activeRoot(srv);
  await moveClock(a.owner, a.wsId, '2031-02-10T00:00:00Z');
  const { pv, ch } = await previewAndChange(a, { quantity: 4, proration: 'at_renewal' });
  assert.equal(pv.effective, 'period_end');
  // next invoice: 4 × 3900 = 15600
  assert.equal(pv.next_invoice.amount, 15600);
  assert.equal(ch.subscription.quantity, 10);
  assert.equal((await overview(a.owner, a.wsId)).seats.purchased, 10);
  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, P1_END);
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list[1].amount_due, 15600);
  assert.equal((await overview(a.owner, a.wsId)).seats.purchased, 4);
});

// ---------------------------------------------------------------------------------------------------
// Interval changes.

test('monthly → yearly: a new anchor now, the unused month credited and a full year charged; "prorate" is refused', async () => {
  const a = await activeRoot(srv, { country: 'DE' });
  const at = '2031-01-30T12:00:00Z'; // halfway: 1,339,200 s of 2,678,400 s left
  await moveClock(a.owner, a.wsId, at);
  const bad = await a.owner.post(`${B(a.wsId)}/preview`, { interval: 'year', proration: 'prorate' });
  assert.deepEqual(errorFields(problemOf(bad, 400)), ['proration'], bad.text);
  const { pv, ch, inv } = await previewAndChange(a, { interval: 'year' });
  assert.equal(pv.proration, 'invoice_now');
  const yearEnd = '2032-01-30T12:00:00Z';
  // credit −round(39000 / 2) = −19500; the year: 10 × 39000 = 390000 for Jan 30 2031 → Jan 30 2032
  // subtotal 370500; VAT 370500 × 19 % = 70395; total 440895
  assert.deepEqual(
    pv.lines.map((l) => [l.kind, l.quantity, l.unit_amount, l.amount, l.period_start, l.period_end]),
    [
      ['proration', 1, -19500, -19500, at, P1_END],
      ['seats', 10, 39000, 390000, at, yearEnd],
    ],
  );
  assert.equal(pv.lines[1].description, 'Pro seats (per year)');
  assert.equal(pv.subtotal, 370500);
  assert.equal(pv.tax.amount, 70395);
  assert.equal(pv.total, 440895);
  assertSame(pv, inv);
  assert.equal(inv.period_start, at);
  assert.equal(inv.period_end, yearEnd);
  const s = ch.subscription;
  assert.equal(s.interval, 'year');
  assert.equal(s.current_period_start, at);
  assert.equal(s.current_period_end, yearEnd);
  assert.equal((await overview(a.owner, a.wsId)).upcoming_invoice.at, yearEnd);
});

test('yearly → monthly is refused unless at_renewal; at the year end the monthly period starts (Jan 30 + 1 month = Feb 29 2032)', async () => {
  const a = await activeRoot(srv);
  const at = '2031-01-30T12:00:00Z';
  await moveClock(a.owner, a.wsId, at);
  const y = await previewAndChange(a, { interval: 'year' });
  assert.equal(y.inv.total, 370500);
  for (const proration of ['invoice_now', 'prorate']) {
    const r = await a.owner.post(`${B(a.wsId)}/subscription/change`, { interval: 'month', proration });
    const pb = problemOf(r, 400);
    assert.deepEqual(errorFields(pb), ['proration'], r.text);
    assert.equal(pb.errors[0].code, 'not_allowed');
  }
  const { pv, ch, inv } = await previewAndChange(a, { interval: 'month' });
  assert.equal(pv.proration, 'at_renewal');
  assert.equal(inv, null);
  const yearEnd = '2032-01-30T12:00:00Z';
  assert.deepEqual(ch.subscription.pending_change, { plan_id: 'pro', interval: 'month', quantity: 10, effective_at: yearEnd });
  // The next invoice: 10 × 3900 = 39000 for a month from the year's end.
  assert.equal(pv.next_invoice.amount, 39000);
  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, '2032-02-01T00:00:00Z');
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 3, JSON.stringify(list.map((i) => [i.number, i.reason, i.created_at])));
  const monthly = await invoice(a.owner, a.wsId, list[2].id);
  assert.deepEqual(
    monthly.lines.map((l) => [l.kind, l.description, l.quantity, l.amount, l.period_start, l.period_end]),
    [['seats', 'Pro seats (per month)', 10, 39000, yearEnd, '2032-02-29T12:00:00Z']],
  );
  const s = (await overview(a.owner, a.wsId)).subscription;
  assert.equal(s.interval, 'month');
  assert.equal(s.current_period_start, yearEnd);
  assert.equal(s.current_period_end, '2032-02-29T12:00:00Z');
});

// ---------------------------------------------------------------------------------------------------
// During the trial, and refusals.

test('changes during the trial take effect at once with nothing invoiced; the first invoice bills the new plan', async () => {
  const a = await newRoot(srv, { developer: true });
  await startClock(a.owner, a.wsId, T0);
  await moveClock(a.owner, a.wsId, '2031-01-05T00:00:00Z');
  const { pv, ch, inv } = await previewAndChange(a, { quantity: 3, plan_id: 'starter' });
  assert.equal(pv.proration, 'trial');
  assert.equal(pv.amount_due_now, 0);
  assert.deepEqual(pv.lines, []);
  assert.equal(inv, null);
  assert.equal(ch.subscription.status, 'trialing');
  assert.equal(ch.subscription.plan_id, 'starter');
  assert.equal(ch.subscription.quantity, 3);
  // 3 × 1500 = 4500 at the trial's end
  assert.equal(pv.next_invoice.amount, 4500);
  assert.equal(pv.next_invoice.at, TRIAL_END);
  await moveClock(a.owner, a.wsId, TRIAL_END);
  const [first] = await invoices(a.owner, a.wsId);
  assert.equal(first.total, 4500);
  assert.equal((await invoices(a.owner, a.wsId)).length, 1);
});

test('refusals name their field: plan, quantity range, seats in use, interval, nothing to change; nothing is written', async () => {
  const a = await activeRoot(srv);
  await addMember(srv, a.wsId, 'admin', a.email);
  await addMember(srv, a.wsId, 'member', a.email);
  await moveClock(a.owner, a.wsId, '2031-01-20T00:00:00Z');
  const cases = [
    [{ plan_id: 'platinum' }, 'plan_id'],
    [{ plan_id: 'free' }, 'plan_id'], // not offered
    [{ quantity: 0 }, 'quantity'],
    [{ quantity: 201 }, 'quantity'], // pro: 1..200 seats
    [{ quantity: 2 }, 'quantity'], // 3 members hold seats
    [{ plan_id: 'agency', quantity: 5 }, 'quantity'], // agency: at least 10 seats
    [{ interval: 'week' }, 'interval'],
    [{ quantity: '12' }, 'quantity'],
    [{ quantity: 12, proration: 'later' }, 'proration'],
    [{ quantity: 12, extra: 1 }, 'extra'],
  ];
  for (const [body, field] of cases)
    for (const path of ['preview', 'subscription/change']) {
      const r = await a.owner.post(`${B(a.wsId)}/${path}`, body);
      assert.deepEqual(errorFields(problemOf(r, 400)), [field], `${path} ${JSON.stringify(body)}: ${r.text}`);
    }
  const seatsInUse = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 2 });
  assert.equal(seatsInUse.body.errors[0].code, 'seats_in_use');
  assert.match(seatsInUse.body.errors[0].message, /\b3 seats\b/);
  const empty = await a.owner.post(`${B(a.wsId)}/subscription/change`, {});
  problemOf(empty, 400);
  const same = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 10, plan_id: 'pro', interval: 'month' });
  assert.equal(problemOf(same, 409).type, PROBLEM('no-change'));
  // A second subscription is refused while one is live.
  const again = await a.owner.post(`${B(a.wsId)}/subscription`, { plan_id: 'starter', quantity: 3 });
  assert.equal(problemOf(again, 409).type, PROBLEM('already-subscribed'));
  const s = (await overview(a.owner, a.wsId)).subscription;
  assert.equal(s.quantity, 10);
  assert.equal(s.plan_id, 'pro');
  assert.equal(s.pending_change, null);
  assert.equal((await invoices(a.owner, a.wsId)).length, 1);
});

// ---------------------------------------------------------------------------------------------------
// The calendar, a short month, included seats, idempotency and concurrency.

test('the calendar: an anchor on Jan 31 renews on Feb 28, Mar 31, Apr 30 (clamped to the month, as Stripe does)', async () => {
  // A sign-up on Jan 17: the trial ends (and the monthly anchor is) Jan 31.
  await setProgramClock(srv, '2031-01-17T00:00:00Z');
  let a;
  try {
    a = await newRoot(srv, { developer: true });
    await startClock(a.owner, a.wsId, '2031-01-17T00:00:00Z');
  } finally {
    await setProgramClock(srv, T0);
  }
  for (const hop of ['2031-02-01T00:00:00Z', '2031-03-01T00:00:00Z', '2031-04-01T00:00:00Z', '2031-05-01T00:00:00Z']) {
    await moveClock(a.owner, a.wsId, hop);
    await payAll(a.owner, a.wsId);
  }
  const list = await invoices(a.owner, a.wsId);
  assert.deepEqual(
    list.map((i) => [i.period_start, i.period_end, i.total]),
    [
      ['2031-01-31T00:00:00Z', '2031-02-28T00:00:00Z', 39000],
      ['2031-02-28T00:00:00Z', '2031-03-31T00:00:00Z', 39000],
      ['2031-03-31T00:00:00Z', '2031-04-30T00:00:00Z', 39000],
      ['2031-04-30T00:00:00Z', '2031-05-31T00:00:00Z', 39000],
    ],
  );
  assert.deepEqual(
    list.map((i) => i.created_at),
    list.map((i) => i.period_start),
  );
});

test('a short month: 10 → 15 seats one day before the end of the 28-day period Feb 15 → Mar 15', async () => {
  const a = await activeRoot(srv);
  await moveClock(a.owner, a.wsId, P1_END); // the renewal: Feb 15 → Mar 15, 2,419,200 s
  await payAll(a.owner, a.wsId);
  const at = '2031-03-14T00:00:00Z';
  await moveClock(a.owner, a.wsId, at);
  const { pv, inv } = await previewAndChange(a, { quantity: 15 });
  // credit 39000 × 86400 / 2419200 = 1392.857… → −1393; debit 58500 × 86400 / 2419200 = 2089.285… → +2089
  assert.deepEqual(
    pv.lines.map((l) => [l.amount, l.period_start, l.period_end]),
    [
      [-1393, at, P2_END],
      [2089, at, P2_END],
    ],
  );
  assert.equal(pv.total, 696);
  assertSame(pv, inv);
});

test('agency: the base price covers 10 seats; pro 10 → agency 12 costs less (29700 + 2 × 2900 = 35500), so it waits for the renewal', async () => {
  const a = await activeRoot(srv);
  await moveClock(a.owner, a.wsId, '2031-02-01T00:00:00Z');
  const { pv, inv } = await previewAndChange(a, { plan_id: 'agency', quantity: 12 });
  assert.equal(pv.proration, 'at_renewal');
  assert.equal(inv, null);
  assert.equal(pv.next_invoice.amount, 35500);
  await moveClock(a.owner, a.wsId, P1_END);
  const list = await invoices(a.owner, a.wsId);
  const renewal = await invoice(a.owner, a.wsId, list.at(-1).id);
  assert.deepEqual(
    renewal.lines.map((l) => [l.kind, l.description, l.quantity, l.unit_amount, l.amount]),
    [
      ['base', 'Agency plan (per month, 10 seats included)', 1, 29700, 29700],
      ['seats', 'Agency seats (per month), beyond those included', 2, 2900, 5800],
    ],
  );
  assert.equal(renewal.total, 35500);
  assert.deepEqual(renewal.lines.map(lineKey), pv.next_invoice.lines.map(lineKey));
  // Agency needs at least 10 seats: 12 → 9 is refused naming quantity.
  const r = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 9 });
  assert.deepEqual(errorFields(problemOf(r, 400)), ['quantity']);
});

test('a change with an Idempotency-Key is made once: the replay answers the same, another body with the key → 422', async () => {
  const a = await activeRoot(srv);
  await moveClock(a.owner, a.wsId, '2031-01-25T00:00:00Z');
  const key = uniq('idem');
  const h = { 'idempotency-key': key };
  const one = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 13 }, { headers: h });
  assert.equal(one.status, 200, one.text);
  const two = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 13 }, { headers: h });
  assert.equal(two.status, 200, two.text);
  assert.equal(two.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(two.body, one.body);
  const other = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 14 }, { headers: h });
  problemOf(other, 422);
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 2, 'one invoice for the change');
  assert.equal((await overview(a.owner, a.wsId)).subscription.quantity, 13);
});

test('six concurrent changes are made one after another: each prorates from the one before, and the totals telescope', async () => {
  const a = await activeRoot(srv);
  const remaining = 1_000_000;
  await moveClock(a.owner, a.wsId, beforeEnd(remaining));
  const qs = [11, 12, 13, 14, 15, 16];
  const rs = await Promise.all(qs.map((quantity) => a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity, proration: 'invoice_now' })));
  for (const r of rs) assert.equal(r.status, 200, r.text);
  const final = (await overview(a.owner, a.wsId)).subscription.quantity;
  assert.ok(qs.includes(final));
  const list = (await invoices(a.owner, a.wsId)).slice(1);
  assert.equal(list.length, 6);
  // Chained: each change's credit is the previous quantity's remaining time, its debit the new one's.
  let prev = 10;
  const docs = [];
  for (const i of list) docs.push(await invoice(a.owner, a.wsId, i.id));
  docs.sort((x, y) => x.number.localeCompare(y.number));
  for (const d of docs) {
    const [credit, debit] = d.lines;
    assert.equal(credit.amount, -prorate(3900 * prev, remaining, P1), `credit of ${d.number}: ${credit.description}`);
    assert.ok(credit.description.includes(`Pro, ${prev} seats`), credit.description);
    const now = Number(/Pro, (\d+) seats/.exec(debit.description)[1]);
    assert.equal(debit.amount, prorate(3900 * now, remaining, P1));
    prev = now;
  }
  assert.equal(prev, final, 'the last invoice is the quantity that stands');
  // Σ subtotals = debit(final) − credit(10): every intermediate quantity's lines cancel exactly.
  assert.equal(
    docs.reduce((s, d) => s + d.subtotal, 0),
    prorate(3900 * final, remaining, P1) - prorate(39000, remaining, P1),
  );
});
