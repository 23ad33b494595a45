// Which name shows where (issue 14, item 8; docs/guide/workspace.md, "Which name shows where"): inside Atrium a workspace goes by
// its name everywhere (switcher, navigation, page text) even when it has a display name, which is for
// its customers; mail to the team (an invitation) uses the name too, as billing mail does; an
// invoice's customer block prints the billing details' name, else the legal name.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ok } from './billing-support.mjs';
import { waitForMail } from './mail.mjs';
import { check, DEMO, openBrowser, signIn, startDemo } from './support.mjs';

describe('names of a workspace', () => {
  let srv;
  let ids;
  let owner;
  let b;
  before(async () => {
    ({ srv, ids, api: owner } = await startDemo({ ATRIUM_JOB_WORKERS: '0' }));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('a display name never replaces the workspace name inside Atrium, nor in mail to the team', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    // Its help says who sees it.
    const field = page.getByLabel('Display name');
    assert.match(await page.locator('.field', { has: field }).innerText(), /customers/i);
    await field.fill('Acme Agency Ltd');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').getByText('Settings saved').waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    const switcher = page.getByTestId('workspace-switcher');
    await switcher.getByText('Acme Agency', { exact: true }).waitFor();
    assert.doesNotMatch(await switcher.innerText(), /Ltd/);
    const nav = page.getByRole('navigation', { name: 'Settings' });
    assert.doesNotMatch(await nav.innerText(), /Ltd/i);
    assert.match(await page.locator('main header, main .page-header').first().innerText(), /Acme Agency\b(?! Ltd)/);
    await check(page, 'names-display-name');

    // Mail to the team: the workspace name, like billing mail.
    const r = await ok(owner('POST', `/workspaces/${ids.root}/invitations`, { emails: ['quinn@example.com'], role: 'member' }));
    assert.equal(r.results[0].status, 'invited');
    const mail = await waitForMail(srv, { to: 'quinn@example.com', subject: /invited you/ });
    assert.match(mail.subject, /invited you to Acme Agency on/);
    assert.doesNotMatch(`${mail.subject}\n${mail.text}`, /Acme Agency Ltd/);
    w.assertClean();
    await w.context.close();
  });

  test("an invoice's customer block: the billing details' name, else the legal name", async () => {
    const B = `/workspaces/${ids.root}/billing`;
    const cur = await owner('GET', `${B}/customer`);
    await ok(owner('PATCH', `${B}/customer`, { name: '' }, { 'If-Match': cur.headers.get('etag') }));
    const ws = await owner('GET', `/workspaces/${ids.root}`);
    await ok(owner('PATCH', `/workspaces/${ids.root}`, { legal_name: 'Acme Agency Holdings Limited' }, { 'If-Match': ws.headers.get('etag') }));
    const o = await ok(owner('GET', B));
    const pv = await ok(owner('POST', `${B}/preview`, { quantity: o.subscription.quantity + 1 }));
    const ch = await ok(
      owner('POST', `${B}/subscription/change`, { quantity: o.subscription.quantity + 1, proration: 'invoice_now', proration_date: pv.proration_date }),
    );
    const inv = await ok(owner('GET', `${B}/invoices/${ch.invoice.id}`));
    assert.equal(inv.customer.name, 'Acme Agency Holdings Limited');
  });
});
