// Sub-Accounts in the browser: list, search, sort, status filter, pages; create (with its errors);
// rename; suspend (then the sub-account's own admin sees the locked screen with the reason);
// reactivate; schedule deletion (with the due date) and restore; the empty state.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { check, createAccount, DEMO, openBrowser, signIn, startDemo, uniqueEmail } from './support.mjs';

describe('sub-accounts in the browser', () => {
  let srv;
  let ids;
  let owner;
  let b;
  before(async () => {
    ({ srv, ids, api: owner } = await startDemo({ ATRIUM_SIGNUP: 'true' }));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  const rows = (page) => page.locator('.subs-card tbody tr');
  const row = (page, name) => page.locator('.subs-card tbody tr', { hasText: name });
  const openList = async (w) => {
    await w.goto(`/w/${ids.root}/settings/subaccounts`);
    await w.page.getByRole('heading', { level: 1, name: 'Sub-Accounts' }).waitFor();
    await rows(w.page).first().waitFor();
  };
  const action = async (page, name, item) => {
    await page.getByRole('button', { name: `More actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: item }).click();
  };

  test('create (with its errors), search, sort, rename, open', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Sub-Accounts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sub-Accounts' }).waitFor();
    await rows(page).first().waitFor();
    assert.equal(await rows(page).count(), 2);
    assert.match(await rows(page).nth(0).innerText(), /Acme Dental[\s\S]*Active/);
    await check(page, 'subaccounts');

    await page.getByRole('button', { name: 'Create sub-account' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a sub-account' });
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'name');
    const submit = dialog.getByRole('button', { name: 'Create sub-account' });
    await submit.click();
    await dialog.getByText('Give the sub-account a name.').waitFor();
    await dialog.getByLabel('Name', { exact: true }).fill('Acme Yoga');
    await dialog.getByLabel('Slug').fill('acme-dental');
    await submit.click();
    await dialog.locator('.field-error', { hasText: 'Another workspace already uses this slug.' }).waitFor();
    assert.equal(await dialog.getByLabel('Slug').getAttribute('aria-invalid'), 'true');
    await check(page, 'subaccount-create-dialog', { fullPage: false });
    await dialog.getByLabel('Slug').fill('');
    await dialog.getByLabel('Time zone').selectOption('Europe/London');
    await submit.click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('status').getByText('Acme Yoga is ready').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.subs-card tbody tr').length === 3);
    assert.match(await row(page, 'Acme Yoga').innerText(), /Europe\/London/);
    // The switcher knows the new workspace at once.
    await page.getByTestId('workspace-switcher').click();
    await page.getByRole('option', { name: /Acme Yoga/ }).waitFor();
    await page.keyboard.press('Escape');

    // Search (debounced, kept in the URL), the empty result, clearing.
    await page.getByRole('searchbox', { name: 'Search sub-accounts' }).fill('yoga');
    await page.waitForFunction(() => document.querySelectorAll('.subs-card tbody tr').length === 1);
    await page.waitForURL(/\?q=yoga$/);
    await page.getByRole('searchbox', { name: 'Search sub-accounts' }).fill('zzz');
    await page.getByText('No sub-accounts match').waitFor();
    await check(page, 'subaccounts-no-match');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.subs-card tbody tr').length === 3);

    // Rename from the row's menu (keyboard: the menu opens on its first item).
    await page.getByRole('button', { name: 'More actions for Acme Yoga' }).click();
    const menu = page.getByRole('menu', { name: 'More actions for Acme Yoga' });
    await menu.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-action')), 'rename');
    await check(page, 'subaccount-row-menu', { fullPage: false });
    await page.keyboard.press('Enter');
    const rename = page.getByRole('dialog', { name: 'Rename Acme Yoga' });
    await rename.waitFor();
    await rename.getByLabel('Name', { exact: true }).fill('Acme Yoga Studio');
    await rename.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('status').getByText('Sub-account renamed').waitFor();
    await row(page, 'Acme Yoga Studio').waitFor();

    // Sort.
    await page.getByLabel('Sort by').selectOption('-name');
    await page.waitForFunction(() => document.querySelector('.subs-card tbody tr')?.textContent.includes('Acme Yoga Studio'));
    await page.getByLabel('Sort by').selectOption('name');
    await page.waitForFunction(() => document.querySelector('.subs-card tbody tr')?.textContent.includes('Acme Dental'));

    // Opening a sub-account switches the workspace context.
    await row(page, 'Acme Yoga Studio').getByRole('link', { name: 'Acme Yoga Studio' }).click();
    await page.waitForURL(/\/w\/ws_[0-9A-Za-z]+\/settings\/workspace$/);
    await page.getByRole('heading', { level: 1, name: 'Sub Account' }).waitFor();
    assert.match(await page.getByTestId('workspace-switcher').innerText(), /Acme Yoga Studio/);
    await page.getByRole('region', { name: 'Agency access' }).waitFor();
    w.assertClean();
    await w.context.close();
  });

  test('suspend: the sub-account admin sees the locked screen with the reason; reactivate', async () => {
    // The sub-account's admin is working in it when the agency suspends it.
    const sub = await b.page(srv.url);
    await signIn(sub, DEMO.subadmin);
    await sub.goto(`/w/${ids.dental}/settings/notifications`);
    await sub.page.getByRole('switch', { name: 'Billing: Email' }).waitFor();

    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await openList(w);
    await action(page, 'Acme Dental', 'Suspend…');
    const dialog = page.getByRole('alertdialog', { name: 'Suspend Acme Dental?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Suspend sub-account' }).click();
    await dialog.getByText('Say why, so its members know what to do.').waitFor();
    const reason = 'Invoice 1042 is 30 days overdue. Contact billing@acme.test.';
    await dialog.getByLabel('Reason shown to its members').fill(reason);
    await check(page, 'subaccount-suspend-dialog', { fullPage: false });
    await dialog.getByRole('button', { name: 'Suspend sub-account' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('status').getByText('Acme Dental is suspended').waitFor();
    assert.match(await row(page, 'Acme Dental').innerText(), /Suspended[\s\S]*Invoice 1042/);
    await check(page, 'subaccounts-suspended');

    // The sub-account's own admin is locked out, with the reason and a way elsewhere: their next
    // action gets the 403 and the page turns into the locked screen; so does signing in again.
    await sub.page.getByRole('switch', { name: 'Billing: Email' }).click();
    await sub.page.getByRole('heading', { level: 1, name: 'Acme Dental is suspended' }).waitFor();
    await sub.goto('/');
    await sub.page.getByRole('heading', { level: 1, name: 'Acme Dental is suspended' }).waitFor();
    assert.match(await sub.page.locator('main').innerText(), /Invoice 1042 is 30 days overdue/);
    assert.deepEqual(
      await sub.page.getByRole('navigation', { name: 'Settings' }).locator('a[data-section]').evaluateAll((els) => els.map((e) => e.dataset.section)),
      ['profile', 'security'],
    );
    await check(sub.page, 'locked-subaccount');
    await sub.goto(`/w/${ids.dental}/settings/notifications`);
    await sub.page.getByRole('heading', { level: 1, name: 'Acme Dental is suspended' }).waitFor();
    await sub.page.getByTestId('workspace-switcher').click();
    assert.match(await sub.page.getByRole('option').first().innerText(), /Acme Dental[\s\S]*Suspended/);
    await sub.page.keyboard.press('Escape');
    // Their account pages still work.
    await sub.page.getByRole('link', { name: 'Your profile' }).click();
    await sub.page.getByRole('heading', { level: 1, name: 'Profile' }).waitFor();

    const phone = await b.page(srv.url, { phone: true });
    await signIn(phone, DEMO.subadmin);
    await phone.page.getByRole('heading', { level: 1, name: 'Acme Dental is suspended' }).waitFor();
    await check(phone.page, 'locked-subaccount-phone');

    // The agency keeps access and sees why.
    await w.goto(`/w/${ids.dental}/settings/workspace`);
    await page.getByRole('heading', { level: 1, name: 'Sub Account' }).waitFor();
    await page.getByText('This sub-account is suspended').waitFor();

    // Reactivate: the admin is back in.
    await openList(w);
    await action(page, 'Acme Dental', 'Reactivate…');
    const confirm = page.getByRole('alertdialog', { name: 'Reactivate Acme Dental?' });
    await confirm.getByRole('button', { name: 'Reactivate' }).click();
    await page.getByRole('status').getByText('Acme Dental is active again').waitFor();
    assert.match(await row(page, 'Acme Dental').innerText(), /Active/);
    await sub.goto('/');
    await sub.page.getByRole('heading', { level: 1, name: 'Sub Account' }).waitFor();
    for (const x of [w, sub, phone]) {
      x.assertClean();
      await x.context.close();
    }
  });

  test('schedule deletion shows the due date; restore', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await openList(w);
    await action(page, 'Acme Fitness', 'Schedule deletion…');
    const confirm = page.getByRole('alertdialog', { name: 'Schedule Acme Fitness for deletion?' });
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /deleted for good on [\s\S]+, in 7 days/);
    assert.match(await confirm.innerText(), /restore it/);
    // Focus starts on Cancel, the safe choice.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Cancel');
    await check(page, 'subaccount-delete-confirm', { fullPage: false });
    await confirm.getByRole('button', { name: 'Schedule deletion' }).click();
    await page.getByRole('status').getByText('Acme Fitness is scheduled for deletion').waitFor();
    await page.getByRole('status').getByText(/It will be deleted on .+ You can restore it until then\./).waitFor();
    assert.match(await row(page, 'Acme Fitness').innerText(), /Pending deletion[\s\S]*Deletes/);
    const due = (await owner('GET', `/workspaces/${ids.root}/subaccounts/${ids.fitness}`)).body.deletion_due_at;
    const days = (Date.parse(due) - Date.now()) / 86400_000;
    assert.ok(days > 6.9 && days <= 7, `due in ${days} days`);
    await check(page, 'subaccounts-pending-deletion');

    await page.getByLabel('Status').selectOption('pending_deletion');
    await page.waitForFunction(() => document.querySelectorAll('.subs-card tbody tr').length === 1);
    await page.getByTestId('workspace-switcher').click();
    assert.match(await page.getByRole('option', { name: /Acme Fitness/ }).innerText(), /Pending deletion/);
    await page.keyboard.press('Escape');

    await row(page, 'Acme Fitness').getByRole('button', { name: /Restore/ }).click();
    await page.getByRole('status').getByText('Acme Fitness is restored').waitFor();
    assert.match(await row(page, 'Acme Fitness').innerText(), /Active/);
    assert.equal((await owner('GET', `/workspaces/${ids.root}/subaccounts/${ids.fitness}`)).body.status, 'active');
    w.assertClean();
    await w.context.close();
  });

  test('who pays: the Billing column, and moving a sub-account between its own subscription and the agency', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await openList(w);
    // The demo: Acme Dental is billed to the agency, Acme Fitness has its own subscription.
    assert.match(await row(page, 'Acme Dental').innerText(), /Agency pays/);
    assert.match(await row(page, 'Acme Fitness').innerText(), /Own subscription/);

    await action(page, 'Acme Fitness', 'Bill to this agency…');
    const toAgency = page.getByRole('alertdialog', { name: 'Bill Acme Fitness to this agency?' });
    await toAgency.waitFor();
    assert.match(await toAgency.innerText(), /take seats of this workspace/);
    await check(page, 'subaccount-billing-confirm', { fullPage: false });
    await toAgency.getByRole('button', { name: 'Bill to the agency' }).click();
    await page.getByRole('status').getByText('Acme Fitness is billed to this agency').waitFor();
    assert.match(await row(page, 'Acme Fitness').innerText(), /Agency pays/);
    let api = (await owner('GET', `/workspaces/${ids.root}/subaccounts/${ids.fitness}`)).body;
    assert.equal(api.billing_mode, 'parent');
    assert.equal((await owner('GET', `/workspaces/${ids.fitness}/billing`)).body.billed_by, ids.root);

    await action(page, 'Acme Fitness', 'Give it its own subscription…');
    const own = page.getByRole('alertdialog', { name: 'Give Acme Fitness its own subscription?' });
    await own.waitFor();
    await own.getByRole('button', { name: 'Start its own subscription' }).click();
    await page.getByRole('status').getByText('Acme Fitness has its own subscription').waitFor();
    assert.match(await row(page, 'Acme Fitness').innerText(), /Own subscription/);
    api = (await owner('GET', `/workspaces/${ids.root}/subaccounts/${ids.fitness}`)).body;
    assert.equal(api.billing_mode, 'own');
    assert.equal((await owner('GET', `/workspaces/${ids.fitness}/billing`)).body.billed_by, ids.fitness);
    await check(page, 'subaccounts-billing');
    w.assertClean();
    await w.context.close();
  });

  test('pages of 20, and the empty state of a new workspace', async () => {
    for (let i = 1; i <= 22; i++)
      await owner('POST', `/workspaces/${ids.root}/subaccounts`, { name: `Client ${String(i).padStart(2, '0')}` });
    const total = (await owner('GET', `/workspaces/${ids.root}/subaccounts?limit=1`)).body.total;
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await openList(w);
    const summary = page.locator('.pagination-summary');
    await summary.getByText(`of ${total}`).waitFor();
    assert.match((await summary.innerText()).replace(/\s+/g, ' '), new RegExp(`Showing 1–20 of ${total}`));
    assert.equal(await rows(page).count(), 20);
    assert.equal(await page.getByRole('button', { name: 'Previous' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('.subs-card tbody tr').length === n, total - 20);
    assert.match((await summary.innerText()).replace(/\s+/g, ' '), new RegExp(`Showing 21–${total} of ${total}`));
    assert.equal(await page.getByRole('button', { name: 'Next' }).isDisabled(), true);
    await check(page, 'subaccounts-page-2');
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.subs-card tbody tr').length === 20);
    w.assertClean();
    await w.context.close();

    const phone = await b.page(srv.url, { phone: true });
    await signIn(phone, DEMO.owner);
    await openList(phone);
    await check(phone.page, 'subaccounts-phone', { fullPage: false });
    phone.assertClean();
    await phone.context.close();

    // Someone new: their own root workspace, no sub-accounts yet.
    const account = await createAccount(srv, { name: 'Nina Newcomer', email: uniqueEmail('nina') });
    const n = await b.page(srv.url);
    await signIn(n, account);
    await n.page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    await n.page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Sub-Accounts' }).click();
    await n.page.getByText('No sub-accounts yet').waitFor();
    await check(n.page, 'subaccounts-empty');
    await n.page.getByRole('button', { name: 'Create your first sub-account' }).click();
    await n.page.getByRole('dialog', { name: 'Create a sub-account' }).waitFor();
    n.assertClean();
    await n.context.close();
  });
});
