// An unpaid subscription in the browser (issue 14, items 2 and 3), on the demo: Acme Agency adds a
// seat (invoiced at once), then the developer's test clock runs past both due dates and the whole
// dunning ladder, so the subscription is unpaid with two overdue invoices and the free plan's
// entitlements (no Sub-Accounts, no API Keys).
//   - Item 2: owners and admins see the payment state in the shell on every page, with the total and
//     the invoices; Sub-Accounts and API Keys say the payment state removed them (which plan, which
//     invoices, a way to Billing), never that the role lacks them; a member sees no banner.
//   - Item 3: Billing agrees with itself: the seat card counts against the subscription's seats (the
//     plan card's) and states the limit while unpaid; the banner asks for the total overdue and lists
//     both invoices; "An unpaid subscription"; Billing Recovery's list and counts tell the same story.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { billingPath, ok, recoveryPath, signedIn, usd } from './billing-support.mjs';
import { apiAs, check, DEMO, openBrowser, startDemo } from './support.mjs';

describe('an unpaid subscription in the browser', () => {
  let srv;
  let ids;
  let owner;
  let b;
  let o;
  let overdue;
  const B = () => `/workspaces/${ids.root}/billing`;
  const page = (section) => `/w/${ids.root}/settings/${section}`;

  before(async () => {
    ({ srv, ids, api: owner } = await startDemo({
      ATRIUM_JOB_WORKERS: '0',
      ATRIUM_SESSION_IDLE: '31536000',
      ATRIUM_SESSION_ABSOLUTE: '31536000',
    }));
    const dev = await apiAs(srv, DEMO.dev);
    const before = await ok(owner('GET', B()));
    const pv = await ok(owner('POST', `${B()}/preview`, { quantity: before.subscription.quantity + 1 }));
    await ok(
      owner('POST', `${B()}/subscription/change`, {
        quantity: before.subscription.quantity + 1,
        proration: 'invoice_now',
        proration_date: pv.proration_date,
      }),
    );
    const clock = await ok(dev('GET', `${B()}/test-clock`));
    await ok(dev('POST', `${B()}/test-clock/advance`, { frozen_time: new Date(Date.parse(clock.frozen_time) + 40 * 86400e3).toISOString() }));
    o = await ok(owner('GET', B()));
    assert.equal(o.subscription.status, 'unpaid');
    overdue = o.banner.overdue;
    assert.equal(overdue.invoices.length, 2, JSON.stringify(overdue));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('item 2: the payment banner on every page for owners and admins, never for members', async () => {
    for (const who of ['owner', 'admin']) {
      const w = await signedIn(b, srv, DEMO[who], page('workspace'), { heading: 'Workspace Settings' });
      for (const [section, heading] of [
        ['workspace', 'Workspace Settings'],
        ['team', 'Team'],
        ['activity', 'Activity'],
      ]) {
        if (section !== 'workspace') await w.page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: heading, exact: true }).click();
        await w.page.getByRole('heading', { level: 1, name: heading }).waitFor();
        const banner = w.page.getByRole('region', { name: 'Payment status' });
        await banner.getByText(/Your subscription is unpaid/).waitFor();
        const text = await banner.innerText();
        assert.ok(text.includes(usd(overdue.total)), `the total overdue on ${section}: ${text}`);
        for (const i of overdue.invoices) assert.ok(text.includes(i.number) && text.includes(usd(i.amount_due)), `${i.number} on ${section}: ${text}`);
      }
      await check(w.page, `unpaid-banner-${who}`);
      await w.page.getByRole('region', { name: 'Payment status' }).getByRole('link', { name: 'Go to Billing' }).click();
      await w.page.getByRole('heading', { level: 1, name: 'Billing' }).waitFor();
      w.assertClean();
      await w.context.close();
    }
    // On a phone the strip wraps under the top bar and keeps its link.
    const ph = await signedIn(b, srv, DEMO.owner, page('team'), { heading: 'Team', phone: true });
    await ph.page.getByRole('region', { name: 'Payment status' }).getByRole('link', { name: 'Go to Billing' }).waitFor();
    assert.ok(await ph.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling on a phone');
    await check(ph.page, 'unpaid-banner-phone');
    ph.assertClean();
    await ph.context.close();
    const m = await signedIn(b, srv, DEMO.member, page('notifications'), { heading: 'Notifications' });
    assert.equal(await m.page.getByRole('region', { name: 'Payment status' }).count(), 0);
    m.assertClean();
    await m.context.close();
  });

  test('item 2: Sub-Accounts and API Keys say the payment state removed them, with the invoices and a way to Billing', async () => {
    const w = await signedIn(b, srv, DEMO.owner, page('subaccounts'), { heading: 'Sub-Accounts is off until payment' });
    const main = w.page.locator('main');
    let text = await main.innerText();
    assert.doesNotMatch(text, /role/i, 'never a role problem');
    assert.match(text, /Agency includes Sub-Accounts, but the subscription is unpaid/);
    for (const i of overdue.invoices) assert.ok(text.includes(`${i.number} (${usd(i.amount_due)})`), text);
    await check(w.page, 'unpaid-subaccounts');
    await w.goto(page('api_keys'));
    await w.page.getByRole('heading', { level: 1, name: 'API Keys is off until payment' }).waitFor();
    text = await main.innerText();
    assert.doesNotMatch(text, /role/i);
    await main.getByRole('link', { name: 'Go to Billing' }).click();
    await w.page.getByRole('heading', { level: 1, name: 'Billing' }).waitFor();
    w.assertClean();
    await w.context.close();
  });

  test('item 3: Billing states one figure for each thing: seats, the overdue total, the status in words', async () => {
    const w = await signedIn(b, srv, DEMO.owner, billingPath(ids.root), { heading: 'Billing' });
    const { page: p } = w;
    const q = o.subscription.quantity;
    // The seat card counts against the subscription's seats (what the plan card prices) and says why
    // fewer can be filled now; never "N of 2 used · Full" beside a plan for more.
    const seats = p.getByRole('region', { name: 'Seats' });
    assert.equal(await seats.getByTestId('seats-count').innerText(), `${o.seats.used} of ${q} used`);
    await seats.getByText(`Limited to ${o.seats.purchased}`).waitFor();
    assert.match(await seats.getByTestId('seats-limit').innerText(), /While the subscription is unpaid, only the free plan's 2 seats can be filled/);
    assert.equal(await seats.getByText('Full', { exact: true }).count(), 0);
    // The banner asks for everything overdue and names each invoice.
    const status = p.getByRole('region', { name: 'Billing status' });
    assert.equal(await status.getByTestId('overdue-total').innerText(), usd(overdue.total));
    const st = await status.innerText();
    for (const i of overdue.invoices) assert.ok(st.includes(`${i.number} (${usd(i.amount_due)})`), st);
    assert.match(st, /Paid features are off until they are paid/);
    // The status in words, with the right article.
    const body = await p.locator('main').innerText();
    assert.doesNotMatch(body, /\bA unpaid\b|\bA past_due\b|\bA past due\b/);
    await p.getByText('An unpaid subscription can’t change plans'.replace('’', "'")).waitFor();
    await check(p, 'unpaid-billing');
    w.assertClean();
    await w.context.close();
  });

  test('item 3: Billing Recovery counts what its list shows', async () => {
    const d = await signedIn(b, srv, DEMO.dev, recoveryPath(ids.root), { heading: 'Billing Recovery' });
    const { page: p } = d;
    const rec = await ok((await apiAs(srv, DEMO.dev))('GET', `/workspaces/${ids.root}/billing-recovery`));
    const row = p.getByRole('region', { name: 'Past due' }).locator('tbody tr', { hasText: 'Acme Agency' });
    await row.getByTestId('recovery-outcome').filter({ hasText: 'Ladder ended · counted as lost' }).waitFor();
    assert.doesNotMatch(await row.innerText(), /next \w/, 'no retry is announced for a lost episode');
    const stats = p.getByRole('region', { name: 'Recovery rate' });
    const stat = async (label) => (await stats.locator('.rec-stat', { hasText: label }).locator('.rec-stat-value').innerText()).trim();
    assert.equal(await stat('Lost'), String(rec.past_due.filter((x) => x.outcome === 'lost').length));
    assert.equal(await stat('In recovery'), String(rec.past_due.filter((x) => x.outcome === 'open').length));
    await check(p, 'unpaid-recovery');
    d.assertClean();
    await d.context.close();
  });
});
