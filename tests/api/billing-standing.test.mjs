// Why a section is missing, and the overdue total (issue 14, items 2 and 3): GET .../sections names the
// reason of every built section the caller cannot open (role, kind, plan, payment) with the plan and
// the overdue invoices, and carries the billing alert every page shows to owners and admins; the
// Billing banner states every overdue invoice and their total; Billing Recovery's list says which
// episode the rate counts as lost.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBillingServer, activeRoot, addMember, moveClock, overview, invoices, B, W, plus, DAY, TRIAL_END } from './lib-billing.mjs';

let srv;
before(async () => {
  srv = await startBillingServer();
});
after(async () => {
  await srv?.stop();
});

const sections = async (pr, wsId) => {
  const r = await pr.get(`${W(wsId)}/sections`);
  assert.equal(r.status, 200, r.text);
  return r.body;
};

test('in good standing: no alert; a member is told the role keeps them out, never the plan', async () => {
  const a = await activeRoot(srv);
  const s = await sections(a.owner, a.wsId);
  assert.equal(s.billing_alert, null);
  assert.deepEqual(s.unavailable, [], 'an owner on Pro opens every built section');
  const m = await addMember(srv, a.wsId, 'member', a.email);
  const ms = await sections(m, a.wsId);
  const billing = ms.unavailable.find((x) => x.id === 'billing');
  assert.deepEqual(billing, { id: 'billing', title: 'Billing', reason: 'role' });
  assert.equal(ms.billing_alert, null, 'members do not see billing');
  assert.ok(!ms.unavailable.some((x) => x.id === 'billing_recovery'), 'developer-only sections are never mentioned');
});

test('unpaid: the sections it removes say "payment" with the plan and every overdue invoice; the banner asks for the total', async () => {
  const a = await activeRoot(srv, { paid: false });
  const first = (await invoices(a.owner, a.wsId))[0];
  // A seat added now is invoiced at once: two invoices fall overdue, and the ladder works on the first.
  const ch = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 11, proration: 'invoice_now' });
  assert.equal(ch.status, 200, ch.text);
  // Past the first invoice's due date and through the whole ladder (day 14: unpaid), past the renewal's due date too.
  await moveClock(a.owner, a.wsId, plus(TRIAL_END, 40 * DAY));
  const o = await overview(a.owner, a.wsId);
  assert.equal(o.subscription.status, 'unpaid');
  const open = (await invoices(a.owner, a.wsId)).filter((i) => i.status === 'open' && Date.parse(i.due_at) <= Date.parse(o.now));
  assert.ok(open.length >= 2, JSON.stringify(open));
  const total = open.reduce((t, i) => t + i.amount_due, 0);
  assert.equal(o.banner.overdue.total, total, 'the banner states the whole overdue amount');
  assert.deepEqual(o.banner.overdue.invoices.map((i) => i.id).sort(), open.map((i) => i.id).sort());
  assert.equal(o.banner.overdue.invoices[0].id, first.id, 'oldest first');

  const s = await sections(a.owner, a.wsId);
  for (const id of ['subaccounts', 'api_keys']) {
    const x = s.unavailable.find((u) => u.id === id);
    assert.ok(x, `${id} is listed as unavailable: ${JSON.stringify(s.unavailable)}`);
    assert.equal(x.reason, 'payment');
    assert.deepEqual(x.plan, { id: 'pro', name: 'Pro' });
    assert.equal(x.overdue.total, total);
    assert.ok(x.plans.some((p) => p.id === 'pro'));
  }
  assert.deepEqual(s.billing_alert, { status: 'unpaid', billed_by_agency: false, currency: 'USD', overdue: o.banner.overdue });

  // An admin sees the alert too; a member sees neither the alert nor the invoices.
  const admin = await addMember(srv, a.wsId, 'admin', a.email);
  assert.equal((await sections(admin, a.wsId)).billing_alert.overdue.total, total);
  const member = await addMember(srv, a.wsId, 'member', a.email);
  const ms = await sections(member, a.wsId);
  assert.equal(ms.billing_alert, null);
  assert.equal(ms.unavailable.find((u) => u.id === 'api_keys').reason, 'role', 'a member lacks the role anyway');

  // Billing Recovery: the episode the rate counts as lost is marked lost in the list too.
  const dev = a.owner;
  const rec = await dev.get(`/api/v1/workspaces/${a.wsId}/billing-recovery`);
  assert.equal(rec.status, 200, rec.text);
  const item = rec.body.past_due.find((p) => p.workspace_id === a.wsId);
  assert.equal(item.outcome, 'lost');
  assert.equal(rec.body.rate.lost, rec.body.past_due.filter((p) => p.outcome === 'lost').length);
  assert.equal(rec.body.rate.open, rec.body.past_due.filter((p) => p.outcome === 'open').length);
});

test('a plan without the feature says "plan", naming the plans that have it', async () => {
  const a = await activeRoot(srv);
  const pv = await a.owner.post(`${B(a.wsId)}/subscription/change`, { plan_id: 'starter', proration: 'invoice_now' });
  assert.equal(pv.status, 200, pv.text);
  const s = await sections(a.owner, a.wsId);
  const x = s.unavailable.find((u) => u.id === 'subaccounts');
  assert.equal(x.reason, 'plan');
  assert.deepEqual(x.plan, { id: 'starter', name: 'Starter' });
  assert.deepEqual(x.plans.map((p) => p.id), ['pro', 'agency']);
  assert.equal(x.overdue, undefined);
});
