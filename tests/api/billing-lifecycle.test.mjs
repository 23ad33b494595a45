// Billing: the subscription's states and every move between them through the API (issue 7,
// features.md §1.5: Stripe's states). Each case is a sign-up at T0 = 2031-01-01T00:00Z (frozen
// program clock; a 14-day pro trial, manual collection: invoices are mailed and due 7 days after
// issue) whose developer test clock is moved to exact instants.
//   trialing → active at the trial's end (invoice issued and mailed; the trial notice 3 days before);
//   trialing → canceled (now, or at the trial's end); active → canceled at the period end (a final
//   invoice for the period's usage) or now; resume undoes a scheduled cancellation; active → past_due
//   when an invoice passes its due date unpaid; the dunning ladder on days 1, 3, 5, 7 (sub-accounts
//   billed to the agency paused: their entitlements fall back, their API keys answer 402), 9, 11 and
//   14 (→ unpaid, the root's paid features off); mark recovered → active; changes refused while
//   past_due/unpaid (409); the operator's invoice actions (void, mark uncollectible, mark paid: their
//   rules, developer access only); gapless invoice numbers under concurrency; plan entitlements
//   (sections hidden, 402 plan-required naming the plans); a sub-account's billing mode.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { problemOf, REPO_ROOT } from '../lib/server.mjs';
import { readMailFolder } from '../lib/smtp-sink.mjs';
import {
  startBillingServer,
  activeRoot,
  newRoot,
  addMember,
  startClock,
  moveClock,
  overview,
  invoices,
  invoice,
  runJobs,
  B,
  W,
  T0,
  TRIAL_END,
  PROBLEM,
  errorFields,
  planIds,
  plus,
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


const P1_END = '2031-02-15T00:00:00Z';
const DUE = '2031-01-22T00:00:00Z'; // the first invoice (Jan 15) is due 7 days later
const day = (n) => plus(DUE, n * 86400); // day n of the dunning ladder

/** Messages mailed to `email` so far (folder transport), after running the due jobs. */
async function mailsTo(email) {
  await runJobs(srv);
  return readMailFolder(srv.dataDir).filter((m) => (m.to || '').includes(email));
}
const subjects = (mails) => mails.map((m) => m.subject);
const count = (mails, re) => mails.filter((m) => re.test(m.subject)).length;

async function auditActions(wsId, like = 'billing.%') {
  const t = await srv.sql(`SELECT action FROM audit_events WHERE workspace_id = '${wsId}' AND action LIKE '${like}' ORDER BY seq`);
  return t ? t.split('\n') : [];
}

async function newSubAccount(owner, rootId, name = 'Sub One') {
  const r = await owner.post(`${W(rootId)}/subaccounts`, { name, slug: uniq('sub') });
  assert.equal(r.status, 201, r.text);
  return r.body.id;
}

const sectionIds = async (pr, wsId) => {
  const r = await pr.get(`${W(wsId)}/sections`);
  assert.equal(r.status, 200, r.text);
  return r.body.items.map((s) => s.id);
};

// ---------------------------------------------------------------------------------------------------
// Trial.

test('trialing → active at the trial end: the notice 3 days before, then the first invoice issued and mailed', async () => {
  const a = await newRoot(srv, { developer: true, name: 'Tina Trial' });
  await startClock(a.owner, a.wsId, T0);
  await moveClock(a.owner, a.wsId, '2031-01-11T23:59:59Z');
  assert.equal((await mailsTo(a.email)).length, 0, 'nothing before the notice');
  await moveClock(a.owner, a.wsId, '2031-01-12T00:00:00Z'); // trial end − 3 days
  const notice = await mailsTo(a.email);
  assert.deepEqual(subjects(notice), ["Your Pro trial of Tina Trial's workspace ends soon"]);
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'trialing');
  assert.equal((await invoices(a.owner, a.wsId)).length, 0);

  const c = await moveClock(a.owner, a.wsId, TRIAL_END);
  const s = c.subscription;
  assert.equal(s.status, 'active');
  assert.equal(s.current_period_start, TRIAL_END);
  assert.equal(s.current_period_end, P1_END);
  const [inv] = await invoices(a.owner, a.wsId);
  assert.equal(inv.status, 'open');
  assert.equal(inv.reason, 'subscription_cycle');
  assert.equal(inv.total, 39000); // 10 seats × $39.00
  assert.equal(inv.due_at, DUE);
  assert.match(inv.number, /^ATR-\d{6}$/);
  const mails = (await mailsTo(a.email)).filter((m) => /^Invoice /.test(m.subject));
  assert.equal(mails.length, 1, subjects(mails).join(' | '));
  assert.equal(mails[0].subject, `Invoice ${inv.number} for Tina Trial's workspace: $390.00 due`);
  assert.ok(mails[0].text.includes(`/w/${a.wsId}/settings/billing/invoices/${inv.id}`), mails[0].text);
  assert.ok(mails[0].text.includes('$390.00'));
  assert.deepEqual(await auditActions(a.wsId, 'billing.subscription.%'), ['billing.subscription.created', 'billing.subscription.active']);
  const o = await overview(a.owner, a.wsId);
  assert.equal(o.banner, null, 'an active subscription in good standing has no banner');
  assert.equal(o.upcoming_invoice.at, P1_END);
});

test('trialing → canceled: at the trial end (no invoice), or at once; then a new subscription starts without a trial', async () => {
  const a = await newRoot(srv, { developer: true });
  await startClock(a.owner, a.wsId, T0);
  const r = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: true, reason: 'too pricey' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.subscription.status, 'trialing');
  assert.equal(r.body.subscription.cancel_at_period_end, true);
  assert.equal(r.body.subscription.cancel_reason, 'too pricey');
  assert.equal((await overview(a.owner, a.wsId)).banner.message, 'The trial ends and the subscription with it.');
  await moveClock(a.owner, a.wsId, '2031-01-16T00:00:00Z');
  const o = await overview(a.owner, a.wsId);
  assert.equal(o.subscription, null);
  assert.equal(o.plan.id, 'free');
  assert.equal(o.entitled, false);
  assert.equal(o.banner.kind, 'none');
  assert.equal((await invoices(a.owner, a.wsId)).length, 0, 'a trial canceled at its end is never invoiced');
  const ended = await srv.sql(`SELECT status || '|' || ended_at FROM subscriptions WHERE workspace_id = '${a.wsId}'`);
  assert.equal(ended, `canceled|${Date.parse(TRIAL_END) * 1000}`);
  // Nothing is live: cancel/resume/change → 409 no-subscription.
  for (const p of ['subscription/cancel', 'subscription/resume', 'subscription/change', 'preview']) {
    const x = await a.owner.post(`${B(a.wsId)}/${p}`, p.endsWith('change') || p === 'preview' ? { quantity: 3 } : {});
    assert.equal(problemOf(x, 409).type, PROBLEM('no-subscription'), `${p}: ${x.text}`);
  }
  // Refusals name their fields.
  for (const [body, fields] of [
    [{}, ['plan_id', 'quantity']],
    [{ plan_id: 'free', quantity: 2 }, ['plan_id']],
    [{ plan_id: 'starter', quantity: 26 }, ['quantity']],
    [{ plan_id: 'starter', quantity: 2, interval: 'weekly' }, ['interval']],
  ]) {
    const x = await a.owner.post(`${B(a.wsId)}/subscription`, body);
    assert.deepEqual(errorFields(problemOf(x, 400)).sort(), fields, `${JSON.stringify(body)}: ${x.text}`);
  }
  // A new subscription: the trial was used, so it is active at once with its first invoice
  // (2 starter seats × $15.00 = $30.00).
  const sub = await a.owner.post(`${B(a.wsId)}/subscription`, { plan_id: 'starter', quantity: 2 });
  assert.equal(sub.status, 201, sub.text);
  assert.equal(sub.body.subscription.status, 'active');
  assert.equal(sub.body.subscription.trial_end, null);
  assert.equal(sub.body.subscription.current_period_start, '2031-01-16T00:00:00Z');
  assert.equal(sub.body.subscription.current_period_end, '2031-02-16T00:00:00Z');
  const [inv] = await invoices(a.owner, a.wsId);
  assert.deepEqual([inv.reason, inv.total, inv.status], ['subscription_create', 3000, 'open']);

  // Cancel at once during a trial.
  const b = await newRoot(srv, { developer: true });
  await startClock(b.owner, b.wsId, T0);
  await moveClock(b.owner, b.wsId, '2031-01-05T00:00:00Z');
  const now = await b.owner.post(`${B(b.wsId)}/subscription/cancel`, { at_period_end: false });
  assert.equal(now.status, 200, now.text);
  assert.equal(now.body.subscription.status, 'canceled');
  assert.equal(now.body.subscription.ended_at, '2031-01-05T00:00:00Z');
  assert.equal((await invoices(b.owner, b.wsId)).length, 0);
  assert.equal((await overview(b.owner, b.wsId)).subscription, null);
});

// ---------------------------------------------------------------------------------------------------
// Cancel and resume.

test('active → canceled at the period end: the final invoice bills the period\'s usage; entitlements fall back to free', async () => {
  const a = await activeRoot(srv);
  const u = await a.owner.post(`${B(a.wsId)}/usage`, { events: [{ event_id: uniq('e'), metric: 'ai_minutes', quantity: 600 }] });
  assert.equal(u.status, 200, u.text);
  await moveClock(a.owner, a.wsId, '2031-02-01T00:00:00Z');
  const r = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { reason: 'moving on' }); // at_period_end defaults to true
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.subscription.cancel_at_period_end, true);
  assert.equal(r.body.subscription.canceled_at, '2031-02-01T00:00:00Z');
  assert.equal(r.body.subscription.status, 'active');
  const again = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: true });
  assert.equal(problemOf(again, 409).type, PROBLEM('already-scheduled'));
  const o = await overview(a.owner, a.wsId);
  assert.deepEqual([o.banner.kind, o.banner.at], ['canceling', P1_END]);
  assert.equal(o.upcoming_invoice, null, 'no renewal is coming');
  assert.ok((await sectionIds(a.owner, a.wsId)).includes('api_keys'));

  await moveClock(a.owner, a.wsId, '2031-02-20T00:00:00Z');
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 2, JSON.stringify(list));
  const final = await invoice(a.owner, a.wsId, list[1].id);
  assert.equal(final.reason, 'subscription_final');
  assert.equal(final.created_at, P1_END);
  // 600 AI minutes, 500 included: 100 × $0.06 = $6.00; no seats (nothing ahead is billed).
  assert.deepEqual(
    final.lines.map((l) => [l.kind, l.quantity, l.unit_amount, l.amount, l.period_start, l.period_end]),
    [['usage', 100, 6, 600, TRIAL_END, P1_END]],
  );
  assert.equal(final.amount_due, 600);
  const after_ = await overview(a.owner, a.wsId);
  assert.equal(after_.subscription, null);
  assert.equal(after_.plan.id, 'free');
  assert.equal(after_.seats.purchased, 2, 'the free plan: 2 seats');
  const ids = await sectionIds(a.owner, a.wsId);
  assert.ok(!ids.includes('api_keys') && !ids.includes('subaccounts'), ids.join());
  const keys = await a.owner.get(`${W(a.wsId)}/api-keys`);
  assert.deepEqual(planIds(problemOf(keys, 402)), ['starter', 'pro', 'agency']);
  const row = await srv.sql(`SELECT status || '|' || cancel_reason FROM subscriptions WHERE workspace_id = '${a.wsId}'`);
  assert.equal(row, 'canceled|moving on');
});

test('active → canceled now: ended at once, a final invoice only for usage, no refund of the paid period', async () => {
  const a = await activeRoot(srv);
  await moveClock(a.owner, a.wsId, '2031-01-20T00:00:00Z');
  const r = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: false, reason: 'closing' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.subscription.status, 'canceled');
  assert.equal(r.body.subscription.ended_at, '2031-01-20T00:00:00Z');
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 1, 'no usage: no final invoice, and no credit note');
  assert.equal((await a.owner.get(`${B(a.wsId)}/customer`)).body.balance, 0);
  assert.equal((await overview(a.owner, a.wsId)).entitled, false);
  assert.deepEqual((await auditActions(a.wsId, 'billing.subscription.%')).slice(-1), ['billing.subscription.canceled']);
});

test('resume undoes a scheduled cancellation; the period then renews; nothing to resume → 409', async () => {
  const a = await activeRoot(srv);
  const none = await a.owner.post(`${B(a.wsId)}/subscription/resume`, {});
  assert.equal(problemOf(none, 409).type, PROBLEM('nothing-to-resume'));
  await moveClock(a.owner, a.wsId, '2031-02-01T00:00:00Z');
  assert.equal((await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: true })).status, 200);
  const r = await a.owner.post(`${B(a.wsId)}/subscription/resume`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.subscription.cancel_at_period_end, false);
  assert.equal(r.body.subscription.canceled_at, null);
  assert.deepEqual((await auditActions(a.wsId, 'billing.subscription.cancel%')), [
    'billing.subscription.cancel_scheduled',
    'billing.subscription.cancel_undone',
  ]);
  await moveClock(a.owner, a.wsId, '2031-02-16T00:00:00Z');
  const s = (await overview(a.owner, a.wsId)).subscription;
  assert.equal(s.status, 'active');
  assert.equal(s.current_period_start, P1_END);
  const list = await invoices(a.owner, a.wsId);
  assert.deepEqual(
    list.map((i) => [i.reason, i.total]),
    [
      ['subscription_cycle', 39000],
      ['subscription_cycle', 39000],
    ],
  );
});

// ---------------------------------------------------------------------------------------------------
// Past due and the dunning ladder.

test('active → past_due when the invoice passes its due date unpaid; changes are refused (409); recovery lists it', async () => {
  const a = await activeRoot(srv, { paid: false });
  await moveClock(a.owner, a.wsId, plus(DUE, -1));
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'active', 'not yet due');
  await moveClock(a.owner, a.wsId, DUE);
  const o = await overview(a.owner, a.wsId);
  assert.equal(o.subscription.status, 'past_due');
  assert.equal(o.subscription.past_due_since, DUE);
  assert.equal(o.banner.kind, 'past_due');
  assert.equal(o.entitled, true, 'past_due keeps every feature');
  const [inv] = await invoices(a.owner, a.wsId);
  assert.deepEqual([inv.status, inv.payment_status], ['open', 'failed']);
  const mails = await mailsTo(a.email);
  assert.equal(count(mails, /did not go through$/), 1, subjects(mails).join(' | '));
  for (const [p, body] of [
    ['preview', { quantity: 12 }],
    ['subscription/change', { quantity: 12 }],
    ['subscription/change', { plan_id: 'starter' }],
  ]) {
    const r = await a.owner.post(`${B(a.wsId)}/${p}`, body);
    assert.equal(problemOf(r, 409).type, PROBLEM('invalid-state'), `${p}: ${r.text}`);
  }
  const rec = await a.owner.get(`${W(a.wsId)}/billing-recovery`);
  assert.equal(rec.status, 200, rec.text);
  assert.deepEqual(
    rec.body.ladder.map((s) => s.day),
    [0, 1, 3, 5, 7, 9, 11, 14],
  );
  assert.equal(rec.body.past_due.length, 1);
  const item = rec.body.past_due[0];
  assert.equal(item.workspace_id, a.wsId);
  assert.equal(item.subscription_id, o.subscription.id);
  assert.equal(item.status, 'past_due');
  assert.equal(item.invoice_id, inv.id);
  assert.equal(item.invoice_number, inv.number);
  assert.equal(item.amount_due, 39000);
  assert.equal(item.past_due_since, DUE);
  assert.equal(item.next_attempt_at, day(1));
  assert.equal(item.ladder_steps, 8);
  // Cancelling at the period end is still allowed while past due.
  const c = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: true });
  assert.equal(c.status, 200, c.text);
});

test('the ladder: days 1…14 send the reminders, pause the parent-billed sub-accounts on day 7 and end unpaid on day 14; mark recovered → active', async () => {
  const a = await activeRoot(srv, { paid: false, name: 'Lara Ladder' });
  const sub = await newSubAccount(a.owner, a.wsId);
  const own = await newSubAccount(a.owner, a.wsId, 'Own Billing');
  const m = await a.owner.req('PUT', `${W(a.wsId)}/subaccounts/${own}/billing`, { body: { mode: 'own' } });
  assert.equal(m.status, 200, m.text);
  // The Sub-Accounts list says who pays for each.
  const listed = (await a.owner.get(`${W(a.wsId)}/subaccounts`)).body.items;
  assert.deepEqual(
    Object.fromEntries(listed.map((x) => [x.id, x.billing_mode])),
    { [sub]: 'parent', [own]: 'own' },
  );
  const subKeys = () => a.owner.get(`${W(sub)}/api-keys`);
  const rootKeys = () => a.owner.get(`${W(a.wsId)}/api-keys`);
  const steps = async () => (await auditActions(a.wsId, 'billing.dunning.step')).length;

  // Each rung at its day; [day, rungs run so far, reminders, final notices, status].
  const walk = [
    [0, 1, 0, 0, 'past_due'],
    [1, 2, 1, 0, 'past_due'],
    [3, 3, 2, 0, 'past_due'],
    [5, 4, 3, 0, 'past_due'],
    [7, 5, 4, 0, 'past_due'],
    [9, 6, 5, 0, 'past_due'],
    [11, 7, 5, 1, 'past_due'],
    [14, 8, 5, 1, 'unpaid'],
  ];
  for (const [d, rungs, reminders, finals, status] of walk) {
    await moveClock(a.owner, a.wsId, plus(day(d), -1));
    assert.equal(await steps(), rungs - 1, `day ${d} − 1 s`);
    await moveClock(a.owner, a.wsId, day(d));
    assert.equal(await steps(), rungs, `rungs by day ${d}`);
    const o = await overview(a.owner, a.wsId);
    assert.equal(o.subscription.status, status, `day ${d}`);
    const mails = await mailsTo(a.email);
    assert.equal(count(mails, /^Reminder: \$390\.00 for Lara Ladder's workspace is still unpaid$/), reminders, `day ${d}: ${subjects(mails).join(' | ')}`);
    assert.equal(count(mails, /^Final notice: /), finals, `day ${d}`);
    const [inv] = await invoices(a.owner, a.wsId);
    const next = walk[walk.findIndex((w) => w[0] === d) + 1];
    const doc = await invoice(a.owner, a.wsId, inv.id);
    assert.equal(doc.next_payment_attempt, next ? day(next[0]) : null, `next attempt after day ${d}`);
    // Sub-accounts billed to the agency are paused from day 7: their entitlements fall back.
    const so = await overview(a.owner, sub);
    const keys = await subKeys();
    if (d < 7) {
      assert.equal(so.entitled, true, `day ${d}`);
      assert.equal(so.paused_at, null);
      assert.equal(keys.status, 200, `day ${d}: ${keys.text}`);
    } else {
      assert.equal(so.entitled, false, `day ${d}`);
      assert.equal(so.paused_at, day(7));
      const pb = problemOf(keys, 402);
      assert.equal(pb.type, PROBLEM('plan-required'));
      assert.equal(pb.feature, 'api_access');
      assert.deepEqual(planIds(pb), ['starter', 'pro', 'agency']);
      assert.ok(!(await sectionIds(a.owner, sub)).includes('api_keys'));
    }
    // The root keeps its features while past due, and loses them when unpaid.
    assert.equal((await rootKeys()).status, status === 'unpaid' ? 402 : 200, `root api-keys on day ${d}`);
    // A sub-account with its own subscription is not paused.
    assert.equal((await overview(a.owner, own)).paused_at, null);
  }
  const mails = await mailsTo(a.email);
  assert.equal(count(mails, /did not go through$/), 1);
  assert.equal(count(mails, /^Paid features of Lara Ladder's workspace are off$/), 1);
  const o = await overview(a.owner, a.wsId);
  assert.equal(o.entitled, false);
  assert.equal(o.banner.kind, 'unpaid');
  // Changes are refused while unpaid; cancelling at the period end too (only now).
  assert.equal(problemOf(await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 12 }), 409).type, PROBLEM('invalid-state'));
  const ape = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: true });
  assert.deepEqual(errorFields(problemOf(ape, 409)), ['at_period_end']);

  // The operator marks it recovered: the invoice is paid, the subscription active, everything back.
  const rec = await a.owner.post(`${W(a.wsId)}/billing-recovery/${o.subscription.id}/recovered`, {});
  assert.equal(rec.status, 200, rec.text);
  assert.equal(rec.body.subscription.status, 'active');
  const [inv] = await invoices(a.owner, a.wsId);
  assert.equal(inv.status, 'paid');
  assert.equal((await subKeys()).status, 200);
  assert.equal((await rootKeys()).status, 200);
  assert.equal((await overview(a.owner, sub)).paused_at, null);
  assert.equal((await overview(a.owner, a.wsId)).entitled, true);
  const again = await a.owner.post(`${W(a.wsId)}/billing-recovery/${o.subscription.id}/recovered`, {});
  assert.equal(problemOf(again, 409).type, PROBLEM('not-past-due'));
  assert.deepEqual((await auditActions(a.wsId, 'billing.subscription.%')).slice(-3), [
    'billing.subscription.past_due',
    'billing.subscription.unpaid',
    'billing.subscription.active',
  ]);
});

test('recovery while past due: retry re-sends the request, mark recovered ends the episode as recovered (the rate counts it)', async () => {
  const a = await activeRoot(srv, { paid: false, name: 'Rita Retry' });
  await moveClock(a.owner, a.wsId, day(2));
  const sid = (await overview(a.owner, a.wsId)).subscription.id;
  const before_ = count(await mailsTo(a.email), /^Reminder: /);
  const retry = await a.owner.post(`${W(a.wsId)}/billing-recovery/${sid}/retry`, {});
  assert.equal(retry.status, 202, retry.text);
  assert.equal(count(await mailsTo(a.email), /^Reminder: /), before_ + 1, 'manual collection: a retry mails the request again');
  const rec = await a.owner.post(`${W(a.wsId)}/billing-recovery/${sid}/recovered`, {});
  assert.equal(rec.status, 200, rec.text);
  assert.equal(rec.body.subscription.status, 'active');
  assert.equal(rec.body.subscription.past_due_since, null);
  const list = await a.owner.get(`${W(a.wsId)}/billing-recovery`);
  assert.deepEqual(list.body.past_due, []);
  assert.deepEqual(list.body.rate, { recovered: 1, lost: 0, open: 0, rate: 1 });
  // The ladder stopped: nothing more is mailed or changed later in the period.
  const n = (await mailsTo(a.email)).length;
  await moveClock(a.owner, a.wsId, '2031-02-14T00:00:00Z');
  assert.equal((await mailsTo(a.email)).length, n);
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'active');
  // Unknown or foreign subscription ids: 404; a subscription not in recovery: 409.
  problemOf(await a.owner.post(`${W(a.wsId)}/billing-recovery/sub_00000000000000000000000000/recovered`, {}), 404);
  problemOf(await a.owner.post(`${W(a.wsId)}/billing-recovery/${sid}/retry`, {}), 409);
});

// ---------------------------------------------------------------------------------------------------
// Operator actions on invoices.

test('invoice actions: void, mark uncollectible and mark paid follow the invoice states, for developers only', async () => {
  const a = await activeRoot(srv, { paid: false });
  const plainOwner = await newRoot(srv); // not a developer
  const nondev = await addMember(srv, a.wsId, 'owner', a.email); // a second owner without developer access
  const dev = await addMember(srv, a.wsId, 'member', a.email, { developer: true }); // a developer who is a plain member
  const [inv] = await invoices(a.owner, a.wsId);
  const act = (pr, id, action) => pr.post(`${B(a.wsId)}/invoices/${id}/${action}`, {});
  for (const action of ['void', 'mark-uncollectible', 'mark-paid']) {
    assert.equal(problemOf(await act(nondev, inv.id, action), 403).type, PROBLEM('forbidden'));
    problemOf(await act(plainOwner.owner, inv.id, action), 404);
    problemOf(await act(dev, 'in_00000000000000000000000000', action), 404);
  }
  assert.equal((await invoice(a.owner, a.wsId, inv.id)).status, 'open');

  // open → uncollectible → paid; then nothing else.
  let r = await act(dev, inv.id, 'mark-uncollectible');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'uncollectible');
  assert.equal(r.body.marked_uncollectible_at, TRIAL_END);
  assert.equal(r.body.amount_remaining, 39000, 'an uncollectible invoice can still be paid');
  assert.equal(problemOf(await act(dev, inv.id, 'mark-uncollectible'), 409).type, PROBLEM('invalid-state'));
  r = await act(dev, inv.id, 'mark-paid');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.body.status, r.body.payment_status, r.body.amount_paid, r.body.amount_remaining], ['paid', 'succeeded', 39000, 0]);
  assert.equal(r.body.paid_at, TRIAL_END);
  for (const action of ['void', 'mark-uncollectible', 'mark-paid'])
    assert.equal(problemOf(await act(dev, inv.id, action), 409).type, PROBLEM('invalid-state'), action);

  // A second invoice: open → void; a void invoice is final.
  await moveClock(a.owner, a.wsId, '2031-01-20T00:00:00Z');
  const up = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 11 });
  assert.equal(up.status, 200, up.text);
  const id2 = up.body.invoice.id;
  r = await act(dev, id2, 'void');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.body.status, r.body.voided_at, r.body.amount_remaining], ['void', '2031-01-20T00:00:00Z', 0]);
  for (const action of ['void', 'mark-uncollectible', 'mark-paid']) problemOf(await act(dev, id2, action), 409);
  // A third: uncollectible → void.
  const up3 = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 12 });
  const id3 = up3.body.invoice.id;
  assert.equal((await act(dev, id3, 'mark-uncollectible')).body.status, 'uncollectible');
  assert.equal((await act(dev, id3, 'void')).body.status, 'void');
  assert.deepEqual(await auditActions(a.wsId, 'billing.invoice.%'), [
    'billing.invoice.finalized',
    'billing.invoice.marked_uncollectible',
    'billing.invoice.paid',
    'billing.invoice.finalized',
    'billing.invoice.voided',
    'billing.invoice.finalized',
    'billing.invoice.marked_uncollectible',
    'billing.invoice.voided',
  ]);
  // The owner cannot pay by bank transfer through the API: manual collection.
  const pay = await a.owner.post(`${B(a.wsId)}/invoices/${id3}/pay`, {});
  problemOf(pay, 409);
});

test('voiding the invoice the ladder works on ends the episode: no more reminders, and no unpaid state for a void invoice', async () => {
  const a = await activeRoot(srv, { paid: false, name: 'Vera Void' });
  await moveClock(a.owner, a.wsId, day(2));
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'past_due');
  const [inv] = await invoices(a.owner, a.wsId);
  const v = await a.owner.post(`${B(a.wsId)}/invoices/${inv.id}/void`, {});
  assert.equal(v.status, 200, v.text);
  const reminders = count(await mailsTo(a.email), /^Reminder: /);
  await moveClock(a.owner, a.wsId, day(14));
  const o = await overview(a.owner, a.wsId);
  assert.equal(count(await mailsTo(a.email), /^Reminder: /), reminders, 'reminders for a void invoice');
  assert.notEqual(o.subscription.status, 'unpaid', 'unpaid over a void invoice');
  assert.equal(o.subscription.status, 'active', 'nothing is owed');
  assert.equal(o.entitled, true);
});

// ---------------------------------------------------------------------------------------------------
// Invoice numbers.

test('invoice numbers are gapless and unique across workspaces whose clocks move in parallel across period ends', async () => {
  // A catalog like the shipped one with payment terms of 365 days, so nothing goes past due while
  // the clocks run five months ahead (each workspace: the first invoice + 5 renewals).
  const catalog = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'etc/billing.json'), 'utf8'));
  catalog.payment_terms_days = 365;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-catalog-'));
  const file = path.join(dir, 'billing.json');
  fs.writeFileSync(file, JSON.stringify(catalog));
  const s2 = await startBillingServer({ env: { ATRIUM_BILLING_CATALOG: file } });
  try {
    const roots = [];
    for (let i = 0; i < 10; i++) roots.push(await newRoot(s2, { developer: true, name: `Nina ${i}` }));
    await Promise.all(roots.map((r) => startClock(r.owner, r.wsId, T0)));
    // In parallel: past the trial end, then across five period ends (Feb 15 … Jun 15), in two hops.
    await Promise.all(roots.map((r) => moveClock(r.owner, r.wsId, '2031-03-20T00:00:00Z')));
    await Promise.all(roots.map((r) => moveClock(r.owner, r.wsId, '2031-06-20T00:00:00Z')));
    const all = [];
    for (const r of roots) {
      const list = await invoices(r.owner, r.wsId);
      assert.equal(list.length, 6, `${r.name}: ${list.map((i) => i.created_at)}`);
      assert.deepEqual(
        list.map((i) => i.created_at),
        ['2031-01-15', '2031-02-15', '2031-03-15', '2031-04-15', '2031-05-15', '2031-06-15'].map((d) => `${d}T00:00:00Z`),
      );
      // Within a workspace numbers grow with time.
      const nums = list.map((i) => Number(i.number.slice(4)));
      assert.deepEqual([...nums].sort((x, y) => x - y), nums);
      all.push(...list.map((i) => i.number));
    }
    for (const n of all) assert.match(n, /^ATR-\d{6}$/);
    const sorted = all.map((n) => Number(n.slice(4))).sort((x, y) => x - y);
    assert.deepEqual(
      sorted,
      Array.from({ length: 60 }, (_, i) => i + 1),
      'numbers are 1..60 without gaps or duplicates',
    );
  } finally {
    await s2.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------
// Entitlements and a sub-account's billing mode.

test('entitlements follow the plan: on starter the Sub-Accounts section is hidden and its routes answer 402 naming pro and agency', async () => {
  const a = await newRoot(srv, { developer: true });
  await startClock(a.owner, a.wsId, T0);
  const proIds = await sectionIds(a.owner, a.wsId);
  assert.ok(proIds.includes('subaccounts') && proIds.includes('api_keys'), proIds.join());
  const sub = await newSubAccount(a.owner, a.wsId);
  // With a sub-account, starter (no sub-accounts) is refused, naming the plan.
  const refused = await a.owner.post(`${B(a.wsId)}/subscription/change`, { plan_id: 'starter', quantity: 3 });
  const pb = problemOf(refused, 400);
  assert.deepEqual(errorFields(pb), ['plan_id']);
  assert.equal(pb.errors[0].code, 'sub_accounts_over_limit');
  const b = await newRoot(srv, { developer: true });
  await startClock(b.owner, b.wsId, T0);
  const ch = await b.owner.post(`${B(b.wsId)}/subscription/change`, { plan_id: 'starter', quantity: 3 });
  assert.equal(ch.status, 200, ch.text);
  const ids = await sectionIds(b.owner, b.wsId);
  assert.ok(!ids.includes('subaccounts'), ids.join());
  assert.ok(!ids.includes('voice'), ids.join());
  assert.ok(ids.includes('api_keys'), 'starter has API access');
  for (const r of [
    await b.owner.post(`${W(b.wsId)}/subaccounts`, { name: 'Nope', slug: uniq('nope') }),
    await b.owner.get(`${W(b.wsId)}/subaccounts`),
  ]) {
    const p402 = problemOf(r, 402);
    assert.equal(p402.type, PROBLEM('plan-required'));
    assert.equal(p402.feature, 'sub_accounts');
    assert.deepEqual(planIds(p402), ['pro', 'agency']);
    assert.match(p402.detail, /Pro and Agency/);
  }
  // Back on pro, the section and its routes return.
  const back = await b.owner.post(`${B(b.wsId)}/subscription/change`, { plan_id: 'pro' });
  assert.equal(back.status, 200, back.text);
  assert.ok((await sectionIds(b.owner, b.wsId)).includes('subaccounts'));
  assert.equal((await b.owner.get(`${W(b.wsId)}/subaccounts`)).status, 200);
});

test("a sub-account's billing mode: parent (the default) ↔ own, who may set it, and what each shows", async () => {
  const a = await activeRoot(srv);
  const admin = await addMember(srv, a.wsId, 'admin', a.email);
  const member = await addMember(srv, a.wsId, 'member', a.email);
  const other = await newRoot(srv);
  const sub = await newSubAccount(a.owner, a.wsId);
  const put = (pr, body, root = a.wsId, id = sub) => pr.req('PUT', `${W(root)}/subaccounts/${id}/billing`, { body });

  // Billed to the agency: the sub-account's billing names who bills it, and shows neither the agency's
  // subscription nor a customer (issue 12, item 7).
  let o = await overview(a.owner, sub);
  assert.deepEqual([o.billed_by, o.billing_mode, o.customer, o.subscription], [a.wsId, 'parent', null, null]);
  assert.equal(problemOf(await a.owner.get(`${B(sub)}/customer`), 409).type, PROBLEM('billed-to-parent'));
  assert.equal(problemOf(await a.owner.post(`${B(sub)}/preview`, { quantity: 3 }), 409).type, PROBLEM('billed-to-parent'));
  // The agency's owners act as owners there, but a sub-account billed to the agency has no billing of
  // its own (409); the agency's admins act as admins, who may not write billing (403).
  assert.equal(problemOf(await a.owner.post(`${B(sub)}/subscription/change`, { quantity: 3 }), 409).type, PROBLEM('billed-to-parent'));
  problemOf(await admin.post(`${B(sub)}/subscription/change`, { quantity: 3 }), 403);

  // Refusals.
  assert.deepEqual(errorFields(problemOf(await put(a.owner, { mode: 'shared' }), 400)), ['mode']);
  assert.deepEqual(errorFields(problemOf(await put(a.owner, {}), 400)), ['mode']);
  problemOf(await put(member, { mode: 'own' }), 403);
  problemOf(await put(other.owner, { mode: 'own' }), 404);
  problemOf(await put(a.owner, { mode: 'own' }, a.wsId, 'ws_00000000000000000000000000'), 404);
  const same = await put(a.owner, { mode: 'parent' });
  const pb = problemOf(same, 409);
  assert.deepEqual(errorFields(pb), ['mode']);
  assert.equal(pb.errors[0].code, 'no_change');

  // own: a subscription of its own (the default plan's trial: the sub-account never had one).
  const r = await put(admin, { mode: 'own' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { workspace_id: sub, billing_mode: 'own' });
  o = await overview(a.owner, sub);
  assert.deepEqual([o.billed_by, o.billing_mode], [sub, 'own']);
  assert.equal(o.subscription.plan_id, 'pro');
  assert.equal(o.subscription.status, 'trialing');
  assert.notEqual(o.subscription.id, a.sub.id);
  assert.equal((await a.owner.get(`${B(sub)}/customer`)).status, 200);
  // The agency's seats no longer count the sub-account's members.
  assert.equal((await overview(a.owner, a.wsId)).seats.used, 3);

  // Back to parent: the sub-account's own subscription ends now.
  const back = await put(a.owner, { mode: 'parent' });
  assert.equal(back.status, 200, back.text);
  o = await overview(a.owner, sub);
  assert.deepEqual([o.billed_by, o.billing_mode], [a.wsId, 'parent']);
  const ended = await srv.sql(`SELECT status FROM subscriptions WHERE workspace_id = '${sub}'`);
  assert.equal(ended, 'canceled');
  for (const ws of [a.wsId, sub])
    assert.deepEqual(
      (await auditActions(ws, 'billing.subaccount.%')),
      ['billing.subaccount.mode_changed', 'billing.subaccount.mode_changed'],
      ws,
    );
});

test('refusals about state that name a field still use kebab-case problem types (invalid-state, no-change)', async () => {
  // Every other billing refusal is urn:atrium:problem:<kebab-case> (invalid-state, no-change,
  // billed-to-parent ...); the ones that also carry errors[] must not differ.
  const a = await activeRoot(srv, { paid: false });
  const sub = await newSubAccount(a.owner, a.wsId);
  const same = await a.owner.req('PUT', `${W(a.wsId)}/subaccounts/${sub}/billing`, { body: { mode: 'parent' } });
  assert.equal(problemOf(same, 409).type, PROBLEM('no-change'), same.text);
  await moveClock(a.owner, a.wsId, day(14));
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'unpaid');
  const ape = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: true });
  assert.equal(problemOf(ape, 409).type, PROBLEM('invalid-state'), ape.text);
});

// ---------------------------------------------------------------------------------------------------
// Test clocks and usage across the tree.

test('test clocks: one per billed workspace, forward only (≤ 800 days), not before the present; deleting it goes back to the program clock', async () => {
  const a = await newRoot(srv, { developer: true });
  const other = await newRoot(srv, { developer: true });
  const sub = await newSubAccount(a.owner, a.wsId);
  const clock = `${B(a.wsId)}/test-clock`;
  // Before the present (60 s of slack) → 400; a bad time → 400.
  assert.deepEqual(errorFields(problemOf(await a.owner.post(clock, { frozen_time: plus(T0, -61) }), 400)), ['frozen_time']);
  assert.deepEqual(errorFields(problemOf(await a.owner.post(clock, { frozen_time: 'tomorrow' }), 400)), ['frozen_time']);
  problemOf(await a.owner.post(`${clock}/advance`, { frozen_time: '2031-01-02T00:00:00Z' }), 409); // no clock yet
  const c = await a.owner.post(clock, { frozen_time: plus(T0, -60) });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.body.frozen_time, plus(T0, -60));
  assert.equal(problemOf(await a.owner.post(clock, {}), 409).type, PROBLEM('already-exists'));
  // Forward only, at most 800 days at a time.
  for (const t of [plus(T0, -60), plus(T0, -120), plus(T0, -60 + 800 * 86400 + 1)])
    assert.deepEqual(errorFields(problemOf(await a.owner.post(`${clock}/advance`, { frozen_time: t }), 400)), ['frozen_time'], t);
  problemOf(await a.owner.post(`${clock}/advance`, {}), 400);
  await moveClock(a.owner, a.wsId, '2031-01-05T00:00:00Z');
  // The sub-account billed to the agency shares the agency's clock and may not own one.
  let g = await a.owner.get(`${B(sub)}/test-clock`);
  assert.deepEqual([g.body.workspace_id, g.body.frozen_time], [a.wsId, '2031-01-05T00:00:00Z']);
  assert.equal(problemOf(await a.owner.post(`${B(sub)}/test-clock`, {}), 409).type, PROBLEM('billed-to-parent'));
  assert.equal((await overview(a.owner, sub)).now, '2031-01-05T00:00:00Z');
  // Another workspace keeps the program clock.
  assert.equal((await overview(other.owner, other.wsId)).now, T0);
  // Delete: back to the program clock; a second delete → 404.
  const d = await a.owner.del(clock);
  assert.equal(d.status, 204, d.text);
  const o = await overview(a.owner, a.wsId);
  assert.deepEqual([o.test_clock, o.now], [null, T0]);
  problemOf(await a.owner.del(clock), 404);
  // Without a clock, GET answers the program clock (frozen_time null), as for a workspace that never had one.
  for (const [pr, ws] of [
    [a.owner, a.wsId],
    [other.owner, other.wsId],
  ]) {
    g = await pr.get(`${B(ws)}/test-clock`);
    assert.equal(g.status, 200, `GET test-clock without a clock: ${g.status} ${g.text}`);
    assert.deepEqual([g.body.workspace_id, g.body.frozen_time, g.body.now], [ws, null, T0]);
  }
  assert.deepEqual(await auditActions(a.wsId, 'billing.test_clock.%'), [
    'billing.test_clock.created',
    'billing.test_clock.advanced',
    'billing.test_clock.deleted',
  ]);
});

test("usage of a sub-account billed to the agency counts on the agency's meters and invoice; closed periods refuse late usage", async () => {
  const a = await activeRoot(srv);
  const sub = await newSubAccount(a.owner, a.wsId);
  const post = (ws, quantity, extra = {}) =>
    a.owner.post(`${B(ws)}/usage`, { events: [{ event_id: uniq('e'), metric: 'ai_minutes', quantity, ...extra }] });
  assert.equal((await post(a.wsId, 300)).status, 200);
  const r = await post(sub, 250);
  assert.equal(r.status, 200, r.text);
  const meter = async (ws) => (await overview(a.owner, ws)).usage.find((u) => u.metric === 'ai_minutes');
  // 300 + 250 = 550 of 500 included: 50 over × $0.06 = $3.00.
  assert.deepEqual([(await meter(a.wsId)).used, (await meter(a.wsId)).overage_amount], [550, 300]);
  assert.deepEqual((await meter(sub)), { metric: 'ai_minutes', name: (await meter(sub)).name, unit: 'minute', used: 250 }, 'the sub-account shows its own usage, not the agency’s meter');
  await moveClock(a.owner, a.wsId, P1_END);
  const list = await invoices(a.owner, a.wsId);
  const renewal = await invoice(a.owner, a.wsId, list.at(-1).id);
  assert.deepEqual(
    renewal.lines.filter((l) => l.kind === 'usage').map((l) => [l.quantity, l.amount]),
    [[50, 300]],
  );
  // Usage dated in the closed period is refused; the new period starts from zero.
  const late = await post(sub, 5, { occurred_at: '2031-02-14T23:59:59Z' });
  assert.deepEqual(errorFields(problemOf(late, 400)), ['events[0].occurred_at']);
  assert.equal((await meter(a.wsId)).used, 0);
  // A sub-account's usage with its own billing stays its own.
  assert.equal((await a.owner.req('PUT', `${W(a.wsId)}/subaccounts/${sub}/billing`, { body: { mode: 'own' } })).status, 200);
  // (Its subscription runs on the program clock, not the agency's test clock: a trial from now.)
  assert.equal((await overview(a.owner, sub)).subscription.status, 'trialing');
  const own = await post(sub, 7);
  assert.equal(own.status, 200, own.text);
  assert.equal((await meter(sub)).used, 7);
  assert.equal((await meter(a.wsId)).used, 0);
});

test("back to parent billing is refused when the agency's seats cannot hold the sub-account's members (nothing changes)", async () => {
  const a = await newRoot(srv, { developer: true });
  await startClock(a.owner, a.wsId, T0);
  const sub = await newSubAccount(a.owner, a.wsId);
  assert.equal((await a.owner.req('PUT', `${W(a.wsId)}/subaccounts/${sub}/billing`, { body: { mode: 'own' } })).status, 200);
  for (let i = 0; i < 3; i++) await addMember(srv, sub, 'member', a.email);
  // The agency: 2 seats (its owner holds one); the sub-account has 3 members.
  assert.equal((await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 2 })).status, 200);
  const before_ = await overview(a.owner, sub);
  const r = await a.owner.req('PUT', `${W(a.wsId)}/subaccounts/${sub}/billing`, { body: { mode: 'parent' } });
  const pb = problemOf(r, 409);
  assert.deepEqual(errorFields(pb), ['mode']);
  assert.equal(pb.errors[0].code, 'seats_full');
  const after_ = await overview(a.owner, sub);
  assert.deepEqual([after_.billing_mode, after_.billed_by], ['own', sub]);
  assert.deepEqual(after_.subscription, before_.subscription, "the sub-account's own subscription is untouched");
  // With room (4 seats) it goes through.
  assert.equal((await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 4 })).status, 200);
  const ok = await a.owner.req('PUT', `${W(a.wsId)}/subaccounts/${sub}/billing`, { body: { mode: 'parent' } });
  assert.equal(ok.status, 200, ok.text);
  // And now the agency cannot go below the 4 seats in use across the tree.
  const down = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 3 });
  assert.equal(problemOf(down, 400).errors[0].code, 'seats_in_use');
});

test('a cancellation reason of 500 characters in multibyte text comes back whole: scheduled, in the overview, and once ended (issue 12, item 1)', async () => {
  const a = await newRoot(srv, { developer: true });
  await startClock(a.owner, a.wsId, T0);
  const reason = Array.from({ length: 500 }, (_, i) => ['😀', '理', 'é', i % 50 === 49 ? '\n' : 'x'][i % 4]).join('');
  assert.equal([...reason].length, 500);
  const tooLong = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: true, reason: `${reason}x` });
  assert.equal(tooLong.status, 400, tooLong.text);
  assert.deepEqual(errorFields(tooLong.body), ['reason']);
  const r = await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: true, reason });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.subscription.cancel_reason, reason);
  assert.equal((await overview(a.owner, a.wsId)).subscription.cancel_reason, reason);
  await moveClock(a.owner, a.wsId, '2031-01-16T00:00:00Z');
  const o = await overview(a.owner, a.wsId);
  assert.equal(o.subscription, null);
  assert.equal(o.ended_subscription.cancel_reason, reason);
});
