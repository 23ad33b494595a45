// Workspace Settings in the browser: the checklist focuses its field; server validation errors land
// on their fields; a save that races someone else's (412) says "Changed by someone else" and offers
// a reload, never overwriting; and the Activity feed that records it all.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiAs, check, DEMO, openBrowser, screenshot, signIn, startDemo } from './support.mjs';

describe('workspace settings and activity', () => {
  let srv;
  let ids;
  let owner; // API client as the owner
  let b;
  before(async () => {
    ({ srv, ids, api: owner } = await startDemo());
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  const doc = async (id = ids.root) => (await owner('GET', `/workspaces/${id}`)).body;

  test('edit the business setup: checklist, a validation error on its field, a taken slug, then save', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    const checklist = page.getByRole('region', { name: 'Before you invite the team' });
    assert.match(await checklist.innerText(), /1 of 8 done/);
    await check(page, 'workspace-settings-empty');

    // A checklist step focuses its field.
    await checklist.getByRole('button', { name: /Add a business phone number/ }).click();
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'phone');
    await checklist.getByRole('button', { name: /Choose the country/ }).click();
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'country');

    await page.getByLabel('Legal business name').fill('Acme Agency LLC');
    await page.getByLabel('Business type').selectOption('llc');
    await page.getByLabel('Country').selectOption('US');
    await page.getByLabel('Website').fill('https://acme.test');
    await page.getByLabel('Business phone').fill('call me maybe');
    await page.getByText('You have unsaved changes.').waitFor();
    await page.getByRole('button', { name: 'Save changes' }).click();

    // The server's 400 names the phone: the message sits under that field, which takes focus.
    const phone = page.getByLabel('Business phone');
    await page.locator('.field-error', { hasText: 'Must be a phone number' }).waitFor();
    assert.equal(await phone.getAttribute('aria-invalid'), 'true');
    assert.match((await phone.getAttribute('aria-describedby')) ?? '', /error/);
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'phone');
    await check(page, 'workspace-validation', { fullPage: false });
    assert.equal((await doc()).legal_name, null, 'a rejected save changes nothing');

    // A slug another workspace has: 409, shown on the slug field.
    await phone.fill('+1 415 555 0100');
    await page.getByLabel('Slug').fill('acme-dental');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.field-error', { hasText: 'Another workspace already uses this slug.' }).waitFor();
    assert.equal(await page.getByLabel('Slug').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Slug').fill('acme-agency');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').getByText('Settings saved').waitFor();
    await page.getByText('All changes saved.').waitFor();
    assert.match(await checklist.innerText(), /6 of 8 done/);
    const saved = await doc();
    assert.equal(saved.legal_name, 'Acme Agency LLC');
    assert.equal(saved.business_type, 'llc');
    assert.equal(saved.country, 'US');
    assert.equal(saved.phone, '+1 415 555 0100');
    assert.equal(saved.website, 'https://acme.test');
    assert.equal(saved.slug, 'acme-agency');

    // After a reload the form shows what was saved.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    await page.waitForFunction(() => document.querySelector('input[name="legal_name"]')?.value === 'Acme Agency LLC');
    assert.equal(await page.getByLabel('Business type').inputValue(), 'llc');
    await check(page, 'workspace-settings');
    w.assertClean();
    await w.context.close();
  });

  test('a concurrent change (412) shows "Changed by someone else" with Reload, never a silent overwrite', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    await page.getByLabel('Display name').fill('Acme Agency Group');

    // Meanwhile an admin saves another field through the API, with the current ETag.
    const admin = await apiAs(srv, DEMO.admin);
    const current = await admin('GET', `/workspaces/${ids.root}`);
    const etag = current.headers.get('etag');
    const theirs = await admin('PATCH', `/workspaces/${ids.root}`, { industry: 'Marketing agencies' }, { 'If-Match': etag });
    assert.equal(theirs.status, 200);

    await page.getByRole('button', { name: 'Save changes' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Changed by someone else' });
    await conflict.waitFor();
    assert.match(await conflict.innerText(), /not saved/);
    await page.locator('.savebar').getByText('Changed by someone else.').waitFor();
    await check(page, 'workspace-conflict', { fullPage: false });
    const after412 = await doc();
    assert.equal(after412.display_name, null, 'our edit was not written over theirs');
    assert.equal(after412.industry, 'Marketing agencies');

    // Reload brings their change in; ours can then be made again and saved.
    await conflict.getByRole('button', { name: 'Reload' }).click();
    await page.getByRole('status').getByText('Loaded the latest settings').waitFor();
    await conflict.waitFor({ state: 'detached' });
    assert.equal(await page.getByLabel('Industry').inputValue(), 'Marketing agencies');
    assert.equal(await page.getByLabel('Display name').inputValue(), '');
    await page.getByLabel('Display name').fill('Acme Agency Group');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').getByText('Settings saved').waitFor();
    const final = await doc();
    assert.equal(final.display_name, 'Acme Agency Group');
    assert.equal(final.industry, 'Marketing agencies');
    // The display name is for customers: inside Atrium the workspace keeps its name (issue 14, item 8).
    await page.getByTestId('workspace-switcher').getByText('Acme Agency', { exact: true }).waitFor();
    assert.equal(await page.getByTestId('workspace-switcher').getByText('Acme Agency Group').count(), 0);
    w.assertClean();
    await w.context.close();
  });

  test('activity: a readable feed, filters, "Load more", agency actions marked', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    // One field changed on its own reads as one sentence.
    await page.getByLabel('Time zone').selectOption('Europe/Paris');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').getByText('Settings saved').waitFor();
    await owner('POST', `/workspaces/${ids.root}/subaccounts`, { name: 'Acme Bakery' });

    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Activity' }).click();
    await page.getByRole('heading', { level: 1, name: 'Activity' }).waitFor();
    const feed = page.locator('.feed');
    await feed.waitFor();
    const text = () => feed.innerText().then((t) => t.replace(/\s+/g, ' '));
    assert.match(await text(), /Olivia Owner changed the time zone from America\/New_York to Europe\/Paris/);
    assert.match(await text(), /Olivia Owner created the sub-account Acme Bakery/);
    // Issue 14 item 4: people by name, not by address.
    assert.match(await text(), /Adam Admin changed the industry|Adam Admin set the industry to Marketing agencies/);
    assert.doesNotMatch(await text(), /admin@acme\.test/);
    assert.match(await text(), /updated \d+ workspace settings/);
    await page.locator('.feed-day-title').first().getByText('Today').waitFor();
    await check(page, 'activity');

    // Details of one entry.
    await page.locator('.feed-item').first().locator('summary').click();
    const meta = page.locator('.feed-meta').first();
    await meta.waitFor();
    assert.match(await meta.innerText(), /Action\s+subaccount\.created[\s\S]*Request\s+req_/);

    // Filters: type, person, dates.
    await page.getByLabel('Kind').selectOption('subaccount.');
    await page.waitForFunction(() => [...document.querySelectorAll('.feed-item')].every((e) => e.dataset.action.startsWith('subaccount.')));
    assert.match(await text(), /created the sub-account Acme Bakery/);
    await page.getByLabel('Kind').selectOption('');
    await page.getByLabel('Person').selectOption({ label: 'Adam Admin' });
    // The previous filter also left one entry: wait for the admin's, not just for a list of one.
    await page.waitForFunction(() => {
      const items = [...document.querySelectorAll('.feed-item')];
      return items.length === 1 && items[0].innerText.includes('Adam Admin');
    });
    assert.match(await text(), /Adam Admin/);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    const tomorrow = new Date(Date.now() + 86400_000);
    const ymd = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
    await page.getByLabel('From').fill(ymd);
    await page.getByText('No activity matches these filters').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await feed.waitFor();

    // "Load more": 35 more events (notification changes), pages of 30.
    for (let i = 0; i < 35; i++)
      await owner('PATCH', `/workspaces/${ids.root}/notifications`, { groups: { billing: { email: i % 2 === 1 } } });
    await page.reload();
    await feed.waitFor();
    assert.equal(await page.locator('.feed-item').count(), 30);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.feed-item').length > 30);
    await page.getByText("That's everything.").waitFor();
    assert.match(await text(), /Olivia Owner turned off email for Billing/);

    // Agency actions are marked in the sub-account's log.
    const r = await owner('GET', `/workspaces/${ids.dental}`);
    await owner('PATCH', `/workspaces/${ids.dental}`, { industry: 'Dental clinics' }, { 'If-Match': r.headers.get('etag') });
    await w.goto(`/w/${ids.dental}/settings/activity`);
    await page.getByRole('heading', { level: 1, name: 'Activity' }).waitFor();
    const first = page.locator('.feed-item').first();
    await first.waitFor();
    assert.match((await first.innerText()).replace(/\s+/g, ' '), /Olivia Owner set the industry to Dental clinics Agency/);
    await check(page, 'activity-agency');
    w.assertClean();
    await w.context.close();

    const p = await b.page(srv.url, { phone: true });
    await signIn(p, DEMO.owner);
    await p.goto(`/w/${ids.root}/settings/activity`);
    await p.page.locator('.feed-item').first().waitFor();
    await check(p.page, 'activity-phone', { fullPage: false });
    p.assertClean();
    await p.context.close();
  });

  test('phone: workspace settings and the save bar', async () => {
    const w = await b.page(srv.url, { phone: true });
    const { page } = w;
    await signIn(w, DEMO.owner);
    await w.goto(`/w/${ids.root}/settings/workspace`);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    await check(page, 'workspace-settings-phone', { fullPage: false });
    await page.getByLabel('Tax ID').fill('US-12-3456789');
    await page.getByText('You have unsaved changes.').waitFor();
    await screenshot(page, 'workspace-savebar-phone', { fullPage: false });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').getByText('Settings saved').waitFor();
    assert.equal((await doc()).tax_id, 'US-12-3456789');
    w.assertClean();
    await w.context.close();
  });
});
