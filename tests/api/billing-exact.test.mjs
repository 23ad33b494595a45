// Billing is exact (issue 11): the five reproductions of the independent audit, each through the API
// with the amounts worked out by hand below, in the invoice JSON, its HTML and its PDF text
// (pdftotext). Each case signs up a root so that its 14-day trial ends at the period start the case
// needs (the program clock is put 14 days earlier), sets plan, interval and seats during the trial
// (free of charge), and moves the workspace's test clock. Amounts: per-microsecond proration, each
// line rounded once, half away from zero; tax on the subtotal.
//
//   1. waiting `prorate` lines go on the next period invoice (renewal, resume) and show on it;
//   2. usage is priced by the plan in force when it was used, segment by segment;
//   3. the upcoming invoice and a preview's next_invoice follow the anchor-day calendar;
//   4. a sub-second period boundary is rounded once (computed on the stored microseconds);
//   5. a proration_date is only one a preview issued in the last 15 minutes, not before the last change.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { problemOf } from '../lib/server.mjs';
import {
  startBillingServer,
  setProgramClock,
  newRoot,
  startClock,
  moveClock,
  overview,
  invoices,
  invoice,
  payAll,
  assertBillingInvariants,
  errorFields,
  B,
  DAY,
  ms,
  iso,
  usd,
  uniq,
} from './lib-billing.mjs';

const run = promisify(execFile);

let srv;

before(async () => {
  srv = await startBillingServer();
});

after(async () => {
  await srv?.stop();
});

afterEach(async () => {
  if (srv) await assertBillingInvariants(srv);
});

/**
 * A root whose first paid period starts at `start` on `plan` with `quantity` seats (`interval`), for a
 * customer in `country`; the first invoice is marked paid. Returns { owner, wsId, ... }.
 */
async function rootAt(start, { plan = 'pro', quantity = 2, interval = 'month', country = 'US' } = {}) {
  const signUpAt = iso(ms(start) - 14 * DAY * 1000);
  await setProgramClock(srv, signUpAt);
  const a = await newRoot(srv, { developer: true, name: uniq('Exact') });
  await startClock(a.owner, a.wsId, signUpAt);
  const cu = await a.owner.patch(`${B(a.wsId)}/customer`, { country }, { ifMatch: '*' });
  assert.equal(cu.status, 200, cu.text);
  const body = { plan_id: plan, quantity, ...(interval === 'year' ? { interval } : {}) };
  if (plan !== 'pro' || quantity !== 10 || interval !== 'month') {
    const ch = await a.owner.post(`${B(a.wsId)}/subscription/change`, body);
    assert.equal(ch.status, 200, ch.text);
    assert.equal(ch.body.proration, 'trial');
  }
  const c = await moveClock(a.owner, a.wsId, start);
  assert.equal(c.subscription.status, 'active', JSON.stringify(c));
  assert.equal((await payAll(a.owner, a.wsId)).length, 1);
  return a;
}

/** Preview `body`, then make it with the preview's proration_date; returns { pv, ch, inv }. */
async function previewAndChange(a, body) {
  const pv = await a.owner.post(`${B(a.wsId)}/preview`, body);
  assert.equal(pv.status, 200, `preview ${JSON.stringify(body)}: ${pv.text}`);
  const ch = await a.owner.post(`${B(a.wsId)}/subscription/change`, { ...body, proration_date: pv.body.proration_date });
  assert.equal(ch.status, 200, `change ${JSON.stringify(body)}: ${ch.text}`);
  const inv = ch.body.invoice ? await invoice(a.owner, a.wsId, ch.body.invoice.id) : null;
  return { pv: pv.body, ch: ch.body, inv };
}

/** The newest invoice of the workspace (full document). */
async function newest(a) {
  const list = await invoices(a.owner, a.wsId);
  return invoice(a.owner, a.wsId, list.at(-1).id);
}

/** The invoice's HTML and its PDF's text each contain every string in `want`. */
async function assertDocuments(a, inv, want) {
  const html = (await a.owner.get(`${B(a.wsId)}/invoices/${inv.id}/html`)).text;
  const res = await srv.fetch(`${B(a.wsId)}/invoices/${inv.id}/pdf`, { headers: { cookie: a.owner.cookie } });
  assert.equal(res.status, 200);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-pdf-'));
  try {
    const file = path.join(dir, 'invoice.pdf');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await run('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { timeout: 30_000 });
    const text = stdout.replace(/[ \t]+/g, ' ');
    for (const w of want) {
      assert.ok(html.includes(w), `${w} in the HTML of ${inv.number}`);
      assert.ok(text.includes(w), `${w} in the PDF text of ${inv.number}:\n${text}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const amounts = (lines) => lines.map((l) => l.amount);

// ---------------------------------------------------------------------------------------------------
// 1. Waiting prorations are billed once, on the invoice that shows them.

// Pro, 2 seats ($39.00 each), June 2027 (30 days). 06-11, 4 seats, prorate (20 of 30 days left):
// −round(7800 × 20/30) = −5200, +round(15600 × 20/30) = +10400, both waiting. 06-16, 5 seats,
// invoice_now (15 of 30 left): −7800 + 9750 = 1950 on its own invoice. The renewal on 07-01:
// −5200 + 10400 + 5 × 3900 = 24700, as the second preview's next_invoice said.
async function waitingLinesScenario(country, taxOf) {
  const a = await rootAt('2027-06-01T00:00:00Z', { country });
  await moveClock(a.owner, a.wsId, '2027-06-11T00:00:00Z');
  const first = await previewAndChange(a, { quantity: 4, proration: 'prorate' });
  assert.deepEqual(amounts(first.pv.lines), [-5200, 10400]);
  assert.equal(first.inv, null);
  await moveClock(a.owner, a.wsId, '2027-06-16T00:00:00Z');
  const second = await previewAndChange(a, { quantity: 5 });
  assert.equal(second.pv.proration, 'invoice_now');
  assert.equal(second.pv.amount_due_now, 1950 + taxOf(1950));
  assert.equal(second.pv.next_invoice.amount, 24700 + taxOf(24700));
  assert.deepEqual(amounts(second.inv.lines), [-7800, 9750], 'the change invoice bills the change alone');
  assert.equal(second.inv.total, 1950 + taxOf(1950));
  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, '2027-07-02T00:00:00Z');
  const renewal = await newest(a);
  assert.equal(renewal.reason, 'subscription_cycle');
  assert.deepEqual(amounts(renewal.lines), [-5200, 10400, 19500]);
  assert.deepEqual(amounts(renewal.lines), amounts(second.pv.next_invoice.lines), 'the preview is the charge');
  assert.equal(renewal.subtotal, 24700);
  assert.equal(renewal.tax.amount, taxOf(24700));
  assert.equal(renewal.total, 24700 + taxOf(24700));
  assert.equal(renewal.amount_due, second.pv.next_invoice.amount);
  await assertDocuments(a, renewal, [usd(-5200), usd(10400), usd(19500), usd(24700 + taxOf(24700))]);
  await assertDocuments(a, second.inv, [usd(-7800), usd(9750), usd(1950 + taxOf(1950))]);
  return a;
}

test('1. prorate lines wait for the renewal and appear on it: 24700, not 19500 (US)', async () => {
  await waitingLinesScenario('US', () => 0);
});

test('1. the same in Canada with 5 % GST: the renewal is 24700 + 1235 = 25935; the change 1950 + 98', async () => {
  // GST 5 %: 24700 × 0.05 = 1235; 1950 × 0.05 = 97.5 → 98 (half away from zero).
  await waitingLinesScenario('CA', (s) => Math.round(s * 0.05));
});

test('1. a paused subscription resumed: its new period invoice carries the waiting prorations', async () => {
  const a = await rootAt('2027-06-01T00:00:00Z');
  await moveClock(a.owner, a.wsId, '2027-06-11T00:00:00Z');
  await previewAndChange(a, { quantity: 4, proration: 'prorate' });
  // Paused by the ladder or a trial without a card in real life; set here directly.
  await srv.sql(`UPDATE subscriptions SET status = 'paused' WHERE workspace_id = '${a.wsId}'`);
  await moveClock(a.owner, a.wsId, '2027-06-20T00:00:00Z');
  const r = await a.owner.post(`${B(a.wsId)}/subscription/resume`, {});
  assert.equal(r.status, 200, r.text);
  const inv = await newest(a);
  // The waiting −5200 and +10400, then 4 seats for the new period from 06-20 (4 × 3900 = 15600).
  assert.deepEqual(amounts(inv.lines), [-5200, 10400, 15600]);
  assert.equal(inv.total, 20800);
  assert.equal(inv.period_start, '2027-06-20T00:00:00Z');
  assert.equal(inv.period_end, '2027-07-20T00:00:00Z');
  await assertDocuments(a, inv, [usd(-5200), usd(10400), usd(15600), usd(20800)]);
  // Nothing is left waiting, so the next renewal bills the seats alone.
  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, '2027-07-21T00:00:00Z');
  assert.deepEqual(amounts((await newest(a)).lines), [15600]);
});

// ---------------------------------------------------------------------------------------------------
// 2. Usage is priced by the plan in force when it was used, segment by segment.

test('2. pro → starter on 06-10: the AI minutes used on pro are billed at pro (1800), the API calls are within pro', async () => {
  const a = await rootAt('2027-06-01T00:00:00Z');
  await moveClock(a.owner, a.wsId, '2027-06-05T00:00:00Z');
  const u = await a.owner.post(`${B(a.wsId)}/usage`, {
    events: [
      { event_id: uniq('e'), metric: 'ai_minutes', quantity: 800 },
      { event_id: uniq('e'), metric: 'api_calls', quantity: 50_000 },
    ],
  });
  assert.equal(u.status, 200, u.text);
  await moveClock(a.owner, a.wsId, '2027-06-10T00:00:00Z');
  // 21 of 30 days left: −round(7800 × 21/30) = −5460, +round(3000 × 21/30) = +2100: −3360 to the balance.
  const { pv, inv } = await previewAndChange(a, { plan_id: 'starter', proration: 'invoice_now' });
  assert.deepEqual(amounts(inv.lines), [-5460, 2100]);
  assert.equal(inv.total, -3360);
  // Renewal: pro segment 06-01 → 06-10: 800 − 500 = 300 AI minutes × 6 = 1800; 50,000 API calls are
  // within pro's 100,000. Starter segment: nothing used. Then 2 starter seats 3000. 4800 − 3360 = 1440.
  const next = pv.next_invoice;
  assert.deepEqual(amounts(next.lines), [1800, 3000]);
  assert.match(next.lines[0].description, /^AI minutes: 300 minutes beyond the 500 included on the Pro plan$/);
  assert.equal(next.lines[0].period_start, '2027-06-01T00:00:00Z');
  assert.equal(next.lines[0].period_end, '2027-06-10T00:00:00Z');
  assert.equal(next.amount, 1440);
  await moveClock(a.owner, a.wsId, '2027-07-02T00:00:00Z');
  const renewal = await newest(a);
  assert.deepEqual(amounts(renewal.lines), [1800, 3000]);
  assert.deepEqual(renewal.lines.map((l) => l.description), next.lines.map((l) => l.description));
  assert.equal(renewal.subtotal, 4800);
  assert.equal(renewal.amount_due, 1440);
  await assertDocuments(a, renewal, ['AI minutes', usd(1800), usd(3000), usd(1440)]);
});

test('2. starter → pro on 06-10: the 60,000 API calls used on starter are billed at starter (2500); 10300 as previewed', async () => {
  const a = await rootAt('2027-06-01T00:00:00Z', { plan: 'starter' });
  await moveClock(a.owner, a.wsId, '2027-06-05T00:00:00Z');
  const u = await a.owner.post(`${B(a.wsId)}/usage`, { events: [{ event_id: uniq('e'), metric: 'api_calls', quantity: 60_000 }] });
  assert.equal(u.status, 200, u.text);
  await moveClock(a.owner, a.wsId, '2027-06-10T00:00:00Z');
  // −round(3000 × 21/30) = −2100, +round(7800 × 21/30) = +5460: 3360 now.
  const { pv, inv } = await previewAndChange(a, { plan_id: 'pro', proration: 'invoice_now' });
  assert.deepEqual(amounts(inv.lines), [-2100, 5460]);
  assert.equal(inv.total, 3360);
  await payAll(a.owner, a.wsId);
  // Starter segment: 60,000 − 10,000 = 50,000 calls = 50 packages of 1,000 × 50 = 2500; then 2 pro seats.
  assert.equal(pv.next_invoice.amount, 10300);
  assert.deepEqual(amounts(pv.next_invoice.lines), [2500, 7800]);
  await moveClock(a.owner, a.wsId, '2027-07-02T00:00:00Z');
  const renewal = await newest(a);
  assert.deepEqual(amounts(renewal.lines), [2500, 7800]);
  assert.match(renewal.lines[0].description, /^API calls: 50000 calls beyond the 10000 included \(per 1000\) on the Starter plan$/);
  assert.equal(renewal.total, 10300);
  await assertDocuments(a, renewal, ['API calls', usd(2500), usd(7800), usd(10300)]);
});

// ---------------------------------------------------------------------------------------------------
// 3. One calendar: the anchor's day of month, clamped to the month's length, for every date shown.

test('3. anchor 2027-01-31T10:00Z: upcoming and next_invoice show 02-28 → 03-31, later 04-30 → 05-31, as the renewals bill', async () => {
  const a = await rootAt('2027-01-31T10:00:00Z');
  const up = (await overview(a.owner, a.wsId)).upcoming_invoice;
  assert.equal(up.at, '2027-02-28T10:00:00Z');
  assert.deepEqual(up.lines.map((l) => [l.period_start, l.period_end]), [['2027-02-28T10:00:00Z', '2027-03-31T10:00:00Z']]);
  await moveClock(a.owner, a.wsId, '2027-02-10T00:00:00Z');
  const pv = await a.owner.post(`${B(a.wsId)}/preview`, { quantity: 3, proration: 'prorate' });
  assert.equal(pv.status, 200, pv.text);
  assert.equal(pv.body.next_invoice.at, '2027-02-28T10:00:00Z');
  assert.equal(pv.body.next_invoice.lines.at(-1).period_end, '2027-03-31T10:00:00Z');
  await moveClock(a.owner, a.wsId, '2027-03-01T00:00:00Z');
  const feb = await newest(a);
  assert.equal(feb.period_start, '2027-02-28T10:00:00Z');
  assert.equal(feb.period_end, '2027-03-31T10:00:00Z');
  await assertDocuments(a, feb, ['28 Feb 2027', '31 Mar 2027']);
  await payAll(a.owner, a.wsId);
  await moveClock(a.owner, a.wsId, '2027-04-01T00:00:00Z');
  await payAll(a.owner, a.wsId);
  const up2 = (await overview(a.owner, a.wsId)).upcoming_invoice;
  assert.equal(up2.at, '2027-04-30T10:00:00Z');
  assert.equal(up2.lines.at(-1).period_end, '2027-05-31T10:00:00Z');
  await moveClock(a.owner, a.wsId, '2027-05-01T00:00:00Z');
  const apr = await newest(a);
  assert.equal(apr.period_start, '2027-04-30T10:00:00Z');
  assert.equal(apr.period_end, '2027-05-31T10:00:00Z');
  await assertDocuments(a, apr, ['30 Apr 2027', '31 May 2027']);
});

test('3. yearly anchored on 2028-02-29: the upcoming invoice of 2031 shows 2031-02-28 → 2032-02-29', async () => {
  const a = await rootAt('2028-02-29T00:00:00Z', { interval: 'year' });
  for (const at of ['2029-03-01T00:00:00Z', '2030-03-01T00:00:00Z']) {
    await moveClock(a.owner, a.wsId, at);
    await payAll(a.owner, a.wsId);
  }
  const up = (await overview(a.owner, a.wsId)).upcoming_invoice;
  assert.equal(up.at, '2031-02-28T00:00:00Z');
  assert.equal(up.lines.at(-1).period_end, '2032-02-29T00:00:00Z');
  const pv = await a.owner.post(`${B(a.wsId)}/preview`, { quantity: 3, proration: 'prorate' });
  assert.equal(pv.status, 200, pv.text);
  assert.equal(pv.body.next_invoice.lines.at(-1).period_end, '2032-02-29T00:00:00Z');
  await moveClock(a.owner, a.wsId, '2031-03-01T00:00:00Z');
  const renewal = await newest(a);
  assert.equal(renewal.period_start, '2031-02-28T00:00:00Z');
  assert.equal(renewal.period_end, '2032-02-29T00:00:00Z');
  await assertDocuments(a, renewal, ['28 Feb 2031', '29 Feb 2032']);
});

// ---------------------------------------------------------------------------------------------------
// 4. Sub-second boundaries: each line is the exact fraction of the stored microseconds, rounded once.

test('4. agency 10 → 11 seats, period from 00:00:00.9, change at 06-06T00:00:14.1: +27167 and −24750', async () => {
  const a = await rootAt('2027-06-01T00:00:00.900Z', { plan: 'agency', quantity: 10 });
  await moveClock(a.owner, a.wsId, '2027-06-06T00:00:14.100Z');
  // Period 2,592,000 s; remaining 2,159,986.8 s. Credit 29700 × 2159986.8 / 2592000 = 24749.848… →
  // −24750; debit 32600 × 2159986.8 / 2592000 = 27166.5006… → +27167 (cut to whole seconds first it
  // was 27166.49… → 27166).
  const { pv, inv } = await previewAndChange(a, { quantity: 11, proration: 'invoice_now' });
  assert.equal(pv.proration_date, '2027-06-06T00:00:14.100000Z');
  assert.deepEqual(amounts(pv.lines), [-24750, 27167]);
  assert.deepEqual(amounts(inv.lines), [-24750, 27167]);
  assert.equal(inv.total, 2417);
  await assertDocuments(a, inv, [usd(-24750), usd(27167), usd(2417)]);
});

// ---------------------------------------------------------------------------------------------------
// 5. A proration_date comes from a recent preview of this subscription, never from before its last change.

test('5. a back-dated proration_date is refused with 422 naming it: no credit for time already used', async () => {
  // Agency, 12 seats, GB (VAT 20 %), 20 days into June 2027. The attack of the audit, three rounds:
  // each accepted round would credit $69.60 and charge $23.20.
  const a = await rootAt('2027-06-01T00:00:00Z', { plan: 'agency', quantity: 12, country: 'GB' });
  await moveClock(a.owner, a.wsId, '2027-06-21T00:00:00Z');
  const before = (await invoices(a.owner, a.wsId)).length;
  for (let round = 0; round < 3; round++) {
    const r = await a.owner.post(`${B(a.wsId)}/subscription/change`, {
      quantity: 10,
      proration: 'invoice_now',
      proration_date: '2027-06-01T00:00:00Z',
    });
    assert.deepEqual(errorFields(problemOf(r, 422)), ['proration_date'], r.text);
  }
  const ov = await overview(a.owner, a.wsId);
  assert.equal(ov.customer.balance, 0, 'no credit minted');
  assert.equal(ov.subscription.quantity, 12);
  assert.equal((await invoices(a.owner, a.wsId)).length, before, 'no invoice');
  // A preview may not issue a back-dated date either.
  const bad = await a.owner.post(`${B(a.wsId)}/preview`, { quantity: 10, proration_date: '2027-06-01T00:00:00Z' });
  assert.deepEqual(errorFields(problemOf(bad, 422)), ['proration_date'], bad.text);
});

test('5. a preview older than 15 minutes, or one from before the last change, is refused; a fresh one prices the change', async () => {
  const a = await rootAt('2027-06-01T00:00:00Z', { plan: 'agency', quantity: 12, country: 'GB' });
  await moveClock(a.owner, a.wsId, '2027-06-21T00:00:00Z');
  const old = await a.owner.post(`${B(a.wsId)}/preview`, { quantity: 13 });
  assert.equal(old.status, 200, old.text);
  await moveClock(a.owner, a.wsId, '2027-06-21T00:15:01Z');
  const stale = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 13, proration_date: old.body.proration_date });
  assert.deepEqual(errorFields(problemOf(stale, 422)), ['proration_date'], stale.text);
  // Another subscription's preview does not count either.
  const other = await rootAt('2027-06-01T00:00:00Z', { plan: 'agency', quantity: 12, country: 'GB' });
  await moveClock(other.owner, other.wsId, '2027-06-21T00:15:01Z');
  const fresh = await a.owner.post(`${B(a.wsId)}/preview`, { quantity: 13 });
  assert.equal(fresh.status, 200, fresh.text);
  const foreign = await other.owner.post(`${B(other.wsId)}/subscription/change`, { quantity: 13, proration_date: fresh.body.proration_date });
  assert.deepEqual(errorFields(problemOf(foreign, 422)), ['proration_date'], foreign.text);
  // A change made after the preview makes it stale: preview, change now, then the preview's date.
  await moveClock(a.owner, a.wsId, '2027-06-21T00:16:00Z');
  const ch = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 14 });
  assert.equal(ch.status, 200, ch.text);
  const after = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 15, proration_date: fresh.body.proration_date });
  assert.deepEqual(errorFields(problemOf(after, 422)), ['proration_date'], after.text);
  // A fresh preview within 15 minutes prices the change to the cent.
  const pv = await a.owner.post(`${B(a.wsId)}/preview`, { quantity: 15 });
  assert.equal(pv.status, 200, pv.text);
  await moveClock(a.owner, a.wsId, '2027-06-21T00:30:00Z');
  const ok = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 15, proration_date: pv.body.proration_date });
  assert.equal(ok.status, 200, ok.text);
  const inv = await invoice(a.owner, a.wsId, ok.body.invoice.id);
  assert.equal(inv.total, pv.body.total);
  assert.equal(inv.amount_due, pv.body.amount_due_now);
});
