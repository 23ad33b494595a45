// User guides (issue 14): every Settings page's help text links to the guide of its section
// (/guide/<section>, opened in a new tab so unsaved changes stay), for each role that sees the page,
// and each guide opens as a readable page with the section's title that passes axe.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { axeCheck, DEMO, openBrowser, signIn, startDemo } from './support.mjs';

const TITLES = {
  workspace: 'Workspace Settings',
  profile: 'Profile',
  notifications: 'Notifications',
  team: 'Team',
  billing: 'Billing',
  subaccounts: 'Sub-Accounts',
  api_keys: 'API Keys',
  activity: 'Activity',
  billing_recovery: 'Billing Recovery',
};
// Who sees which page (DESIGN.md §1), and where.
const VISITS = [
  ['owner', 'root', ['workspace', 'profile', 'notifications', 'team', 'billing', 'subaccounts', 'api_keys', 'activity']],
  ['member', 'root', ['profile', 'notifications', 'team']],
  ['subadmin', 'dental', ['workspace', 'team', 'billing']],
  ['dev', 'root', ['billing_recovery']],
];
const pathOf = (ws, section) => (section === 'profile' ? '/settings/profile' : `/w/${ws}/settings/${section}`);

describe('user guides', () => {
  let srv;
  let ids;
  let b;
  before(async () => {
    ({ srv, ids } = await startDemo());
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('every page links to its section guide from its help text, for each role that sees it', async () => {
    const seen = new Set();
    for (const [who, where, sections] of VISITS) {
      const w = await b.page(srv.url);
      await signIn(w, DEMO[who]);
      for (const section of sections) {
        await w.goto(pathOf(ids[where], section));
        await w.page.locator('main h1').first().waitFor();
        const link = w.page.locator('.page-description').getByRole('link', { name: `Read the ${TITLES[section]} guide` });
        await link.waitFor();
        assert.equal(await link.getAttribute('href'), `/guide/${section}`, `${who} ${section}`);
        assert.equal(await link.getAttribute('target'), '_blank');
        seen.add(section);
      }
      // Following the link opens the guide in a new tab.
      const section = sections[0];
      await w.goto(pathOf(ids[where], section));
      const [tab] = await Promise.all([
        w.context.waitForEvent('page'),
        w.page.getByRole('link', { name: `Read the ${TITLES[section]} guide` }).click(),
      ]);
      await tab.getByRole('heading', { level: 1, name: TITLES[section] }).waitFor();
      await tab.close();
      w.assertClean();
      await w.context.close();
    }
    assert.deepEqual([...seen].sort(), Object.keys(TITLES).sort(), 'every guide is linked from its page');
  });

  test('each guide is a page with its title, links to the others, and passes axe (desktop and phone)', async () => {
    for (const phone of [false, true]) {
      const w = await b.page(srv.url, { phone });
      for (const [section, title] of Object.entries(TITLES)) {
        const res = await w.goto(`/guide/${section}`);
        assert.equal(res.status(), 200, section);
        await w.page.getByRole('heading', { level: 1, name: title }).waitFor();
        assert.equal(await w.page.title(), `${title} · Atrium guide`);
        await w.page.getByRole('heading', { level: 2, name: 'Who can do what' }).waitFor();
        const others = await w.page.getByRole('navigation', { name: 'Other guides' }).getByRole('link').count();
        assert.equal(others, Object.keys(TITLES).length - 1);
        const overflow = await w.page.evaluate(() => document.scrollingElement.scrollWidth > document.scrollingElement.clientWidth);
        assert.equal(overflow, false, `${section}: no horizontal scrolling`);
        await axeCheck(w.page, `guide ${section}${phone ? ' (phone)' : ''}`);
      }
      w.assertClean();
      await w.context.close();
    }
  });
});
