// Billing Recovery and the test clock in the browser, for a new workspace (Pro on its 14-day trial) whose
// owner also has developer access: the dunning ladder, the recovery rate and an empty past-due list;
// creating a test clock; moving it to the trial end and then past the first invoice's due date, which
// starts the ladder (retry now, the owner's past-due banner, mark recovered); cancelling right away and
// starting a plan again, with an operator marking its invoice paid; a move backwards refused on its
// field; deleting the clock.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { billingPath, ok, recoveryPath, signedIn, toast, usd } from './billing-support.mjs';
import { apiAs, check, createAccount, openBrowser, startServer, uniqueEmail } from './support.mjs';

describe('Billing Recovery and the test clock in the browser', () => {
  let srv;
  let wsId;
  let api;
  let b;
  let grace;
  const B = () => `/workspaces/${wsId}/billing`;

  before(async () => {
    srv = await startServer({
      env: {
        ATRIUM_SIGNUP: 'true',
        ATRIUM_JOB_WORKERS: '0',
        ATRIUM_LOGIN_IP_PER_MINUTE: '100000',
        ATRIUM_SESSION_IDLE: '31536000',
        ATRIUM_SESSION_ABSOLUTE: '31536000',
      },
    });
    grace = await createAccount(srv, { name: 'Grace Hopper', email: uniqueEmail('grace') });
    const granted = await srv.cli(['user', 'grant-developer', grace.email]);
    assert.equal(granted.code, 0, granted.stderr);
    api = await apiAs(srv, grace);
    wsId = (await ok(api('GET', '/workspaces'))).items[0].id;
    const o = await ok(api('GET', B()));
    assert.equal(o.subscription?.status, 'trialing', JSON.stringify(o.subscription));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('the ladder, the recovery rate, nothing past due, and a new test clock', async () => {
    const w = await signedIn(b, srv, grace, recoveryPath(wsId), { heading: 'Billing Recovery' });
    const { page } = w;
    const recovery = await ok(api('GET', `/workspaces/${wsId}/billing-recovery`));
    const rungs = page.locator('.rec-rung');
    await rungs.first().waitFor();
    assert.equal(await rungs.count(), recovery.ladder.length);
    for (const [i, s] of recovery.ladder.entries()) await rungs.nth(i).getByText(`Day ${s.day}`, { exact: true }).waitFor();
    await rungs.first().getByText('State: past due').waitFor();
    await page.getByText('Pauses sub-accounts').first().waitFor();
    assert.equal(await page.getByTestId('recovery-rate').innerText(), '—');
    await page.getByRole('region', { name: 'Past due' }).getByText('Nothing is past due').waitFor();
    const clock = page.getByRole('region', { name: 'Test clock' });
    await clock.getByText('Real time').waitFor();
    await check(page, 'billing-recovery-empty');

    await clock.getByRole('button', { name: 'Create test clock' }).click();
    await toast(page, 'Test clock created');
    await clock.getByText('Frozen').waitFor();
    await clock.getByText('Trial', { exact: true }).waitFor();
    await clock.getByText('Trial ends').waitFor();
    const c = await ok(api('GET', `${B()}/test-clock`));
    assert.ok(c.frozen_time);
    w.assertClean();
    await w.context.close();
  });

  test('past the trial end and the due date, the ladder starts; retry, the banner, mark recovered', async () => {
    const w = await signedIn(b, srv, grace, recoveryPath(wsId), { heading: 'Billing Recovery' });
    const { page } = w;
    const clock = page.getByRole('region', { name: 'Test clock' });
    await clock.getByRole('button', { name: 'To trial end' }).click();
    await toast(page, 'Billing time is now');
    await clock.getByText('Active', { exact: true }).waitFor();
    const first = (await ok(api('GET', `${B()}/invoices`))).items[0];
    assert.equal(first.status, 'open');
    assert.equal(first.reason, 'subscription_cycle');

    // A day past the due date, chosen on the date field.
    const target = new Date(Date.parse(first.due_at) + 86_400_000);
    const local = await page.evaluate((ms) => {
      const d = new Date(ms);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }, target.getTime());
    await clock.getByLabel('Advance to').fill(local);
    await clock.getByRole('button', { name: 'Advance', exact: true }).click();
    await clock.getByText('Past due', { exact: true }).waitFor();
    const row = page.getByRole('region', { name: 'Past due' }).locator('tbody tr', { hasText: first.number });
    await row.getByText(usd(first.amount_due)).waitFor();
    await row.getByText(/Step \d+ of \d+ · day \d+/).waitFor();
    await page.locator('.rec-rung.is-done').first().waitFor();
    await check(page, 'billing-recovery-ladder-started');

    await row.getByRole('button', { name: /^Retry now for/ }).click();
    await toast(page, 'Retry started for');

    // The owner's side: the banner says what is owed and links to the invoice.
    const o = await signedIn(b, srv, grace, billingPath(wsId), { heading: 'Billing' });
    const status = o.page.getByRole('region', { name: 'Billing status' });
    await status.getByText('Payment past due').waitFor();
    await status.getByRole('link', { name: `Pay ${usd(first.amount_due)}` }).waitFor();
    o.assertClean();
    await o.context.close();

    await row.getByRole('button', { name: /^Mark recovered for/ }).click();
    await page.getByRole('alertdialog', { name: /recovered\?$/ }).getByRole('button', { name: 'Mark recovered' }).click();
    await toast(page, 'is recovered');
    await page.getByRole('region', { name: 'Past due' }).getByText('Nothing is past due').waitFor();
    await page.getByTestId('recovery-rate').filter({ hasText: '100%' }).waitFor();
    assert.equal((await ok(api('GET', `${B()}/invoices/${first.id}`))).status, 'paid');
    assert.equal((await ok(api('GET', B()))).subscription.status, 'active');
    await check(page, 'billing-recovery-recovered');
    w.assertClean();
    await w.context.close();
  });

  test('cancel right away, then start a plan again; an operator marks its invoice paid', async () => {
    const w = await signedIn(b, srv, grace, billingPath(wsId), { heading: 'Billing' });
    const { page } = w;
    await page.getByRole('button', { name: 'Cancel subscription…' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Cancel Pro?' });
    await dialog.getByRole('radio', { name: /Right away/ }).check();
    await dialog.getByLabel('Why are you canceling?').fill('Testing a restart');
    await dialog.getByRole('button', { name: 'Cancel now' }).click();
    await toast(page, 'Subscription canceled');
    const status = page.getByRole('region', { name: 'Billing status' });
    await status.getByText('No subscription', { exact: true }).waitFor();
    await status.getByText('The workspace runs on the free plan.', { exact: false }).waitFor();
    await page.getByRole('region', { name: /^Free/ }).waitFor();
    await check(page, 'billing-no-subscription');

    await status.getByRole('button', { name: 'Choose a plan' }).click();
    await page.locator('.bill-option[data-plan="pro"]').getByRole('button', { name: 'Choose Pro' }).click();
    const start = page.getByRole('dialog', { name: 'Start the Pro plan' });
    const seats = start.getByLabel('Seats');
    assert.equal(await seats.evaluate((el) => el === document.activeElement), true, 'the seats field has focus');
    await seats.fill('3');
    await start.getByText('$117.00').waitFor();
    await start.getByRole('radio', { name: 'Yearly' }).check();
    await start.getByText('$1,170.00').waitFor();
    await start.getByRole('radio', { name: 'Monthly' }).check();
    await check(page, 'billing-subscribe-dialog', { fullPage: false });
    await start.getByRole('button', { name: 'Start Pro' }).click();
    await toast(page, 'Pro started');
    const sub = (await ok(api('GET', B()))).subscription;
    assert.equal(sub.plan_id, 'pro');
    assert.equal(sub.quantity, 3);
    assert.equal(sub.status, 'active', 'the trial was used: no second trial');
    const inv = (await ok(api('GET', `${B()}/invoices`))).items.find((i) => i.reason === 'subscription_create');
    assert.equal(inv.amount_due, 11700);

    // The developer's operator actions on an invoice.
    const row = page.getByRole('region', { name: 'Invoices' }).locator('tbody tr', { hasText: inv.number });
    await row.getByText('Open', { exact: true }).waitFor();
    await row.getByRole('button', { name: `Operator actions for ${inv.number}` }).click();
    await page.getByRole('menuitem', { name: 'Mark paid…' }).click();
    await page.getByRole('alertdialog', { name: `Mark ${inv.number} as paid?` }).getByRole('button', { name: 'Mark paid' }).click();
    await toast(page, `${inv.number} marked paid`);
    await row.getByText('Paid', { exact: true }).waitFor();
    w.assertClean();
    await w.context.close();
  });

  test('a move backwards is refused on its field; deleting the clock returns to real time', async () => {
    const w = await signedIn(b, srv, grace, recoveryPath(wsId), { heading: 'Billing Recovery' });
    const { page } = w;
    const clock = page.getByRole('region', { name: 'Test clock' });
    await clock.getByText('Frozen').waitFor();
    await clock.getByLabel('Advance to').fill('2020-01-01T09:00');
    await clock.getByRole('button', { name: 'Advance', exact: true }).click();
    await clock.getByText(/Must be later than the clock's time/).waitFor();
    assert.equal(await clock.getByLabel('Advance to').getAttribute('aria-invalid'), 'true');
    await check(page, 'billing-recovery-clock-refused');

    await clock.getByRole('button', { name: 'Delete test clock' }).click();
    await page.getByRole('alertdialog', { name: 'Delete the test clock?' }).getByRole('button', { name: 'Delete test clock' }).click();
    await toast(page, 'Test clock deleted');
    await clock.getByText('Real time').waitFor();
    const res = await api('GET', `${B()}/test-clock`);
    assert.ok(res.status === 404 || res.body?.frozen_time === null, JSON.stringify(res));
    w.assertClean();
    await w.context.close();
  });
});
