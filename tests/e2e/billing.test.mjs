// Billing in the browser, on the demo: Acme Agency on the Agency plan, twenty days into its period with
// its first invoice paid, VAT from its billing country, usage with an overage, a developer test clock,
// Acme Dental billed to the agency. An owner sees the plan, seats, usage and invoices; an admin and the
// sub-account's admin see them read-only ("Only owners can change billing", "Billed to your agency");
// a seat change priced by its preview produces an invoice for exactly the previewed amount; the
// invoice's HTML view and PDF download; the developer moves the clock past the due date on the
// Billing Recovery page, the subscription is past due there and the owner sees the banner and how to
// pay; "Manage billing" opens Atrium's portal (billing details, cancel at period end with a reason,
// resume); plan and interval changes are previewed first; a phone layout.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { billingPath, ok, recoveryPath, responseOf, signedIn, toast, usd } from './billing-support.mjs';
import { apiAs, check, DEMO, openBrowser, startDemo } from './support.mjs';

describe('Billing in the browser', () => {
  let srv;
  let ids;
  let owner;
  let dev;
  let b;
  let seatInvoice;
  const B = () => `/workspaces/${ids.root}/billing`;

  before(async () => {
    ({ srv, ids, api: owner } = await startDemo({
      ATRIUM_JOB_WORKERS: '0',
      ATRIUM_SESSION_IDLE: '31536000',
      ATRIUM_SESSION_ABSOLUTE: '31536000',
    }));
    dev = await apiAs(srv, DEMO.dev);
    // The demo runs Acme's billing on a test clock: time stands still unless the developer moves it.
    const clock = await ok(dev('GET', `${B()}/test-clock`));
    assert.ok(clock.frozen_time, JSON.stringify(clock));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('an owner sees the plan, seats, usage and invoices', async () => {
    const o = await ok(owner('GET', B()));
    assert.equal(o.subscription.status, 'active');
    const w = await signedIn(b, srv, DEMO.owner, billingPath(ids.root), { heading: 'Billing' });
    const { page } = w;
    // The plan: name, status, price for the period, features.
    const plan = page.getByRole('region', { name: /^Agency/ });
    await plan.getByText('Active', { exact: true }).waitFor();
    await plan.getByText(usd(29700 + (o.subscription.quantity - 10) * 2900)).waitFor();
    await plan.getByText('Sub-accounts (up to 500)').waitFor();
    await plan.getByText('Invoice, paid by bank transfer').waitFor();
    // Seats used against purchased.
    const seats = page.getByRole('region', { name: 'Seats' });
    assert.equal(await seats.getByTestId('seats-count').innerText(), `${o.seats.used} of ${o.seats.purchased} used`);
    await seats.getByRole('button', { name: 'Change seats' }).waitFor();
    // Usage: used against included, and the overage's cost.
    const usage = page.getByRole('region', { name: 'Usage this period' });
    for (const u of o.usage) {
      const meter = usage.locator(`[data-metric="${u.metric}"]`);
      await meter.getByText(u.name, { exact: true }).waitFor();
      if (u.overage > 0) await meter.getByText(`${u.overage.toLocaleString('en-US')} ${u.unit}s over · ${usd(u.overage_amount)}`).waitFor();
    }
    assert.ok(o.usage.some((u) => u.overage > 0), 'the demo has an overage to show');
    // The next invoice, and the invoices so far.
    await page.getByRole('region', { name: 'Next invoice' }).getByText(usd(o.upcoming_invoice.amount_due)).first().waitFor();
    const first = page.getByRole('region', { name: 'Invoices' }).locator('tbody tr', { hasText: 'ATR-000001' });
    await first.getByText('Paid').waitFor();
    await first.getByRole('link', { name: 'View invoice ATR-000001' }).waitFor();
    await first.getByRole('link', { name: 'Download invoice ATR-000001 as PDF' }).waitFor();
    // Plans side by side, with the current one marked; no status banner for a healthy subscription.
    const plans = page.getByRole('region', { name: 'Plans' });
    await plans.locator('.bill-option[data-plan="agency"]').getByText('Current plan', { exact: true }).waitFor();
    await plans.getByRole('button', { name: 'Upgrade to Pro' }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Billing status' }).count(), 0);
    await check(page, 'billing-owner');
    w.assertClean();
    await w.context.close();
  });

  test('an admin sees billing read-only; a sub-account sees it is billed to its agency', async () => {
    const w = await signedIn(b, srv, DEMO.admin, billingPath(ids.root), { heading: 'Billing' });
    const { page } = w;
    await page.getByText('Only owners can change billing').waitFor();
    await page.getByRole('region', { name: /^Agency/ }).waitFor();
    await page.getByRole('region', { name: 'Invoices' }).getByText('ATR-000001').waitFor();
    const name = page.getByRole('region', { name: 'Billing details' }).getByLabel('Company or name');
    await name.waitFor();
    assert.equal(await name.isDisabled(), true);
    for (const label of ['Change seats', 'Manage billing', 'Compare and change plan', 'Cancel subscription…', 'Save billing details'])
      assert.equal(await page.getByRole('button', { name: label }).count(), 0, `an admin should not see "${label}"`);
    assert.equal(await page.locator('.bill-option button').count(), 0, 'no plan buttons for an admin');
    await check(page, 'billing-admin-read-only');
    w.assertClean();
    await w.context.close();

    const s = await signedIn(b, srv, DEMO.subadmin, billingPath(ids.dental), { heading: 'Billing' });
    await s.page.getByRole('region', { name: 'Billed to your agency' }).getByText('Billed to your agency').waitFor();
    await s.page.getByRole('region', { name: /^Agency/ }).getByText('Plan of your agency').waitFor();
    await s.page.getByRole('region', { name: 'Seats' }).getByTestId('seats-count').waitFor();
    assert.equal(await s.page.getByRole('button', { name: 'Change seats' }).count(), 0);
    assert.equal(await s.page.getByRole('region', { name: 'Invoices' }).count(), 0);
    await check(s.page, 'billing-subaccount-agency');
    s.assertClean();
    await s.context.close();
  });

  test('a seat change charges exactly what its preview showed', async () => {
    const before = await ok(owner('GET', B()));
    const from = before.subscription.quantity;
    const to = from + 2;
    const w = await signedIn(b, srv, DEMO.owner, billingPath(ids.root), { heading: 'Billing' });
    const { page } = w;
    // Every preview the dialog asks for.
    const previews = [];
    page.on('response', async (r) => {
      if (r.request().method() === 'POST' && /\/billing\/preview$/.test(r.url()) && r.status() === 200)
        previews.push({ request: r.request().postDataJSON(), body: await r.json() });
    });
    await page.getByRole('button', { name: 'Change seats' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change seats' });
    const seats = dialog.getByLabel('Seats');
    assert.equal(await seats.evaluate((el) => el === document.activeElement), true, 'the seats field has focus');
    await dialog.getByText('Choose a different number of seats to see the price.').waitFor();
    await dialog.getByRole('button', { name: 'One seat more' }).click();
    await dialog.getByRole('button', { name: 'One seat more' }).click();
    assert.equal(await seats.inputValue(), String(to));
    await dialog.getByText(`Remaining time on Agency, ${to} seats`).waitFor();
    await dialog.getByText(`Unused time on Agency, ${from} seats`).waitFor();
    await dialog.getByText('VAT (20 %)').waitFor();
    const invoiceNow = dialog.getByRole('radio', { name: /Invoice now/ });
    assert.equal(await invoiceNow.isChecked(), true, 'an increase is invoiced now by default');
    // Spread over the next invoice instead: nothing is due now; then back.
    const due = dialog.getByTestId('amount-due-now');
    await dialog.getByRole('radio', { name: /Add to next invoice/ }).check();
    await due.filter({ hasText: /^\$0\.00/ }).waitFor();
    await invoiceNow.check();
    await due.filter({ hasText: /^\$[1-9]/ }).waitFor();
    await page.waitForFunction(() => !document.querySelector('.bill-preview.is-busy'));
    await check(page, 'billing-change-seats-preview', { fullPage: false });
    const last = previews.filter((p) => p.request.quantity === to && p.body.proration === 'invoice_now').at(-1);
    assert.ok(last && last.body.amount_due_now > 0, JSON.stringify(last?.body));
    assert.equal((await due.innerText()).trim(), usd(last.body.amount_due_now));
    assert.ok(last.body.tax.amount > 0, 'the preview carries the VAT');

    const change = await responseOf(page, 'POST', /\/billing\/subscription\/change$/, () =>
      dialog.getByRole('button', { name: 'Confirm change' }).click(),
    );
    assert.equal(change.status, 200, JSON.stringify(change.body));
    assert.equal(change.request.proration_date, last.body.proration_date, 'the change is priced at the preview time');
    assert.equal(change.request.proration, 'invoice_now');
    await toast(page, `Seats changed to ${to}`);
    const invoice = await ok(owner('GET', `${B()}/invoices/${change.body.invoice.id}`));
    assert.equal(invoice.amount_due, last.body.amount_due_now, 'the invoice equals the preview');
    assert.equal(invoice.total, last.body.total);
    assert.equal(invoice.tax.amount, last.body.tax.amount);
    assert.deepEqual(
      invoice.lines.map((l) => [l.description, l.amount]),
      last.body.lines.map((l) => [l.description, l.amount]),
    );
    seatInvoice = invoice;
    const row = page.getByRole('region', { name: 'Invoices' }).locator('tbody tr', { hasText: invoice.number });
    await row.getByText(usd(invoice.amount_due)).first().waitFor();
    await row.getByText('Plan or seat change').waitFor();
    await row.getByText('Open', { exact: true }).waitFor();
    await page.getByRole('region', { name: 'Seats' }).getByTestId('seats-count').filter({ hasText: `of ${to} used` }).waitFor();
    await check(page, 'billing-after-seat-change');
    w.assertClean();
    await w.context.close();
  });

  test('an invoice opens in the app and in a tab, and downloads as a PDF', async () => {
    const inv = seatInvoice;
    assert.ok(inv, 'the seat change made an invoice');
    const w = await signedIn(b, srv, DEMO.owner, billingPath(ids.root), { heading: 'Billing' });
    const { page } = w;
    await page.getByRole('link', { name: `View invoice ${inv.number}` }).click();
    await page.waitForURL(new RegExp(`/settings/billing/invoices/${inv.id}$`));
    await page.getByRole('heading', { level: 1, name: `Invoice ${inv.number}` }).waitFor();
    assert.equal(await page.getByTestId('invoice-amount-due').innerText(), usd(inv.amount_due));
    const frame = page.frameLocator(`iframe[title="Invoice ${inv.number}"]`);
    await frame.getByText(inv.number).first().waitFor();
    await frame.getByText(/Remaining time on Agency/).first().waitFor();
    await page.getByRole('status').filter({ hasText: 'How to pay' }).waitFor();
    await check(page, 'billing-invoice-view');

    // The same document in a tab of its own.
    const [tab] = await Promise.all([w.context.waitForEvent('page'), page.getByRole('link', { name: 'Open in new tab' }).click()]);
    await tab.waitForLoadState();
    assert.match(await tab.title(), new RegExp(`Invoice ${inv.number}`));
    await tab.close();

    // The PDF: a download named after the invoice that starts with %PDF, and its response headers.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download PDF' }).click()]);
    assert.equal(download.suggestedFilename(), `invoice-${inv.number}.pdf`);
    const bytes = await fs.readFile(await download.path());
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    const res = await w.context.request.get(`${srv.url.replace(/\/$/, '')}/api/v1${B()}/invoices/${inv.id}/pdf`);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['content-type'], 'application/pdf');
    assert.equal(res.headers()['content-disposition'], `attachment; filename="invoice-${inv.number}.pdf"`);
    assert.equal((await res.body()).subarray(0, 4).toString('latin1'), '%PDF');
    // From the table as well.
    await page.getByRole('link', { name: 'Billing', exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Billing' }).waitFor();
    const [again] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: `Download invoice ${inv.number} as PDF` }).click(),
    ]);
    assert.equal(again.suggestedFilename(), `invoice-${inv.number}.pdf`);
    w.assertClean();
    await w.context.close();
  });

  test('past the due date the subscription is past due: recovery for the developer, a banner for the owner', async () => {
    const inv = seatInvoice;
    const d = await signedIn(b, srv, DEMO.dev, recoveryPath(ids.root), { heading: 'Billing Recovery' });
    const clock = d.page.getByRole('region', { name: 'Test clock' });
    await clock.getByText('Frozen').waitFor();
    const pastDue = d.page.getByRole('region', { name: 'Past due' });
    await pastDue.getByText('Nothing is past due').waitFor();
    // Invoices are due 7 days after they are issued; the ladder starts then.
    const time = clock.getByTestId('billing-time');
    const t0 = await time.innerText();
    await clock.getByRole('button', { name: '+7 days' }).click();
    await time.filter({ hasNotText: t0 }).waitFor();
    const t1 = await time.innerText();
    await clock.getByRole('button', { name: '+1 day' }).click();
    await time.filter({ hasNotText: t1 }).waitFor();
    await toast(d.page, 'Billing time is now');
    const row = pastDue.locator('tbody tr', { hasText: 'Acme Agency' });
    await row.getByText('Past due', { exact: true }).waitFor();
    await row.getByText(inv.number).waitFor();
    await row.getByText(usd(inv.amount_due)).waitFor();
    await d.page.locator('.rec-rung.is-next').first().waitFor();
    await check(d.page, 'billing-recovery-past-due');

    const w = await signedIn(b, srv, DEMO.owner, billingPath(ids.root), { heading: 'Billing' });
    const { page } = w;
    const status = page.getByRole('region', { name: 'Billing status' });
    await status.getByText('Payment past due').waitFor();
    await status.getByText(new RegExp(`Invoice ${inv.number} for \\${usd(inv.amount_due)} was due on`)).waitFor();
    await page.getByRole('region', { name: /^Agency/ }).getByText('Past due', { exact: true }).waitFor();
    await page.getByRole('region', { name: 'Invoices' }).locator('tbody tr', { hasText: inv.number }).getByText('Overdue').waitFor();
    await check(page, 'billing-owner-past-due');
    await status.getByRole('link', { name: `Pay ${usd(inv.amount_due)}` }).click();
    await page.getByRole('heading', { level: 1, name: `Invoice ${inv.number}` }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'Invoices are sent by email and paid by bank transfer' }).waitFor();

    // The money arrived by transfer: the developer marks it recovered.
    await row.getByRole('button', { name: 'Mark recovered for Acme Agency' }).click();
    const confirm = d.page.getByRole('alertdialog', { name: 'Mark Acme Agency recovered?' });
    await confirm.getByRole('button', { name: 'Mark recovered' }).click();
    await toast(d.page, 'Acme Agency is recovered');
    await d.page.getByTestId('recovery-rate').filter({ hasText: '100%' }).waitFor();
    await pastDue.getByText('Nothing is past due').waitFor();
    const after = await ok(owner('GET', `${B()}/invoices/${inv.id}`));
    assert.equal(after.status, 'paid');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: `Invoice ${inv.number}` }).waitFor();
    await page.getByTestId('invoice-amount-due').filter({ hasText: '$0.00' }).waitFor();
    d.assertClean();
    w.assertClean();
    await d.context.close();
    await w.context.close();
  });

  test('Manage billing: the portal, billing details, cancel at period end and resume', async () => {
    const w = await signedIn(b, srv, DEMO.owner, billingPath(ids.root), { heading: 'Billing' });
    const { page } = w;
    await page.getByRole('button', { name: 'Manage billing' }).click();
    await page.waitForURL(/\/settings\/billing\/portal$/);
    await page.getByRole('heading', { level: 1, name: 'Billing portal' }).waitFor();
    await page.getByText('Invoices are sent by email and paid by bank transfer').waitFor();
    await page.getByRole('region', { name: 'Invoice history' }).getByRole('link', { name: 'ATR-000001', exact: true }).waitFor();

    // Billing details, saved with If-Match; the country sets the tax of invoices from now on.
    const details = page.getByRole('region', { name: 'Billing details' });
    await details.getByLabel('Company or name').fill('Acme Agency GmbH');
    await details.getByLabel('Billing email').fill('ap@acme.test');
    await details.locator('input[name="address_line1"]').fill('Friedrichstraße 1');
    await details.getByLabel('City').fill('Berlin');
    await details.getByLabel('Postal code').fill('10117');
    await details.getByLabel('Country').selectOption('DE');
    await details.getByLabel('Tax ID').fill('DE123456789');
    await details.getByRole('button', { name: 'Save billing details' }).click();
    await toast(page, 'Billing details saved');
    const saved = await ok(owner('GET', `${B()}/customer`));
    assert.deepEqual(
      [saved.name, saved.email, saved.address_line1, saved.city, saved.postal_code, saved.country, saved.tax_id],
      ['Acme Agency GmbH', 'ap@acme.test', 'Friedrichstraße 1', 'Berlin', '10117', 'DE', 'DE123456789'],
    );
    await details.getByText('All changes saved.').waitFor();
    await check(page, 'billing-portal');

    // Cancel at the end of the period, with a reason; then resume.
    await page.getByRole('button', { name: 'Cancel subscription…' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Cancel Agency?' });
    assert.equal(await dialog.getByRole('radio', { name: /At the end of the period/ }).isChecked(), true);
    await dialog.getByLabel('Why are you canceling?').fill('Moving to another tool');
    await check(page, 'billing-cancel-dialog', { fullPage: false });
    await dialog.getByRole('button', { name: 'Cancel at period end' }).click();
    await toast(page, 'Subscription canceled');
    await page.getByRole('heading', { name: 'Subscription ending' }).waitFor();
    const sub = (await ok(owner('GET', B()))).subscription;
    assert.equal(sub.cancel_at_period_end, true);
    assert.equal(sub.cancel_reason, 'Moving to another tool');

    await page.getByRole('link', { name: 'Billing', exact: true }).first().click();
    const status = page.getByRole('region', { name: 'Billing status' });
    await status.getByText(/Your subscription ends on/).waitFor();
    await status.getByText(/Moving to another tool/).waitFor();
    await check(page, 'billing-owner-canceling');
    await status.getByRole('button', { name: 'Resume subscription' }).click();
    await toast(page, 'Subscription resumed');
    await status.waitFor({ state: 'detached' });
    assert.equal((await ok(owner('GET', B()))).subscription.cancel_at_period_end, false);
    w.assertClean();
    await w.context.close();
  });

  test('plan and interval changes are previewed before they are made, and Billing fits a phone', async () => {
    const w = await signedIn(b, srv, DEMO.owner, billingPath(ids.root), { heading: 'Billing', phone: true });
    const { page } = w;
    await page.getByRole('region', { name: 'Seats' }).getByTestId('seats-count').waitFor();
    await check(page, 'billing-phone');
    // An upgrade: priced now, with what is due today and the next invoice.
    await page.getByRole('button', { name: 'Upgrade to Pro' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change to Pro' });
    await dialog.getByText(/Upgrades take effect right away/).waitFor();
    await dialog.getByTestId('amount-due-now').filter({ hasText: /^\$[1-9]/ }).waitFor();
    await dialog.locator('summary', { hasText: 'Next invoice on' }).waitFor();
    await check(page, 'billing-change-plan-phone', { fullPage: false });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // A downgrade the workspace can't take (Starter has no sub-accounts) says why, and can't be confirmed.
    await page.getByRole('button', { name: 'Downgrade to Starter' }).click();
    const down = page.getByRole('dialog', { name: 'Change to Starter' });
    await down.getByText("This change isn't possible").waitFor();
    await down.getByText(/sub-accounts/).first().waitFor();
    assert.equal(await down.getByRole('button', { name: /Confirm change|Schedule change/ }).isDisabled(), true);
    await down.getByRole('button', { name: 'Cancel' }).click();
    // Monthly to yearly starts a new year now: it can't be spread over the next invoice.
    await page.getByRole('button', { name: /^Switch to yearly/ }).click();
    const yearly = page.getByRole('dialog', { name: 'Switch to yearly billing' });
    await yearly.getByTestId('amount-due-now').filter({ hasText: /^\$[1-9]/ }).waitFor();
    assert.equal(await yearly.getByRole('radio', { name: /Add to next invoice/ }).isDisabled(), true);
    await yearly.getByText(/\(per year, 10 seats included\)/).first().waitFor();
    await yearly.getByRole('button', { name: 'Cancel' }).click();
    w.assertClean();
    await w.context.close();
  });
});
