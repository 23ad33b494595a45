// Issue 14 item 6: a member has Team in the navigation and sees a read-only directory (names, roles,
// join dates, no addresses, no management controls); the "Decline / Accept ownership" box shows only
// while an ownership offer to them is pending, and answering it works from there.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiAs, check, DEMO, navSections, openBrowser, signIn, startDemo } from './support.mjs';

describe('the Team directory for members', () => {
  let srv;
  let ids;
  let owner;
  let b;
  before(async () => {
    ({ srv, ids, api: owner } = await startDemo());
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('a member finds Team in the navigation: names, roles, join dates, no emails, no offer box', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.member);
    assert.ok((await navSections(page)).includes('team'), 'Team is in the member navigation');
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Team' }).click();
    await page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    const table = page.getByRole('table', { name: 'People in Acme Agency' });
    await table.locator('tbody tr').first().waitFor();
    const text = await table.innerText();
    for (const person of [DEMO.owner, DEMO.admin, DEMO.member]) assert.match(text, new RegExp(person.name));
    assert.match(text, /Owner[\s\S]*Admin/);
    assert.doesNotMatch(await page.locator('main').innerText(), /@acme\.test/, 'no email addresses for members');
    // Join dates, with the exact time on hover.
    assert.match(await table.locator('tbody time').first().getAttribute('title'), /\d{4}/);
    // Read-only: no invite, role or row actions; no ownership box without an offer.
    for (const name of ['Invite people', 'Accept ownership', 'Decline'])
      assert.equal(await page.getByRole('button', { name }).count(), 0, `no "${name}" button`);
    assert.equal(await page.getByRole('button', { name: /More actions|Actions for/ }).count(), 0);
    // Searching by an address finds nobody (names only for members).
    await page.getByRole('searchbox', { name: 'Search people' }).fill('owner@acme');
    await page.getByText('Nobody matches').waitFor();
    await page.getByRole('searchbox', { name: 'Search people' }).fill('olivia');
    await page.waitForFunction(() => document.querySelectorAll('main tbody tr').length === 1);
    await page.getByRole('searchbox', { name: 'Search people' }).fill('');
    await table.locator('tbody tr').nth(1).waitFor();
    await check(page, 'team-directory-member');
    w.assertClean();
    await w.context.close();
  });

  test('the ownership box appears only while an offer to the viewer is pending; declining removes it', async () => {
    const members = await owner('GET', `/workspaces/${ids.root}/members?q=Mia`);
    const mia = members.body.items[0];
    const offered = await owner('POST', `/workspaces/${ids.root}/ownership-transfer`, { member_id: mia.id });
    assert.ok(offered.status === 200 || offered.status === 201, JSON.stringify(offered.body));
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.member);
    await w.goto(`/w/${ids.root}/settings/team`);
    const box = page.getByRole('region', { name: 'Ownership offer' });
    await box.waitFor();
    assert.match(await box.innerText(), /Olivia Owner offered you ownership of Acme Agency/);
    await check(page, 'team-directory-offer');
    await box.getByRole('button', { name: 'Decline' }).click();
    await page.getByRole('status').getByText('You declined the ownership offer').waitFor();
    await box.waitFor({ state: 'detached' });
    const after = await apiAs(srv, DEMO.owner);
    assert.equal((await after('GET', `/workspaces/${ids.root}/members?limit=1`)).body.ownership_transfer, null);
    w.assertClean();
    await w.context.close();
  });
});
