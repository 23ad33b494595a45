// The Settings map in the browser: each demo user sees exactly the sections the API lists for them
// (titles from the API), plus Profile and Security; the workspace switcher (keyboard, role badges,
// agency access, status badges); the agency banner; the remembered workspace.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiAs, check, DEMO, navSections, navTitles, openBrowser, screenshot, signIn, startDemo } from './support.mjs';

describe('sections and the workspace switcher', () => {
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

  /**
   * What the navigation must show for a user in a workspace: exactly the sections the API lists for
   * them (Profile moved to the account group), titled as the API titles them, then Security. Other
   * sections (e.g. Team) join the map as they are built; the tests below also pin the ones this
   * issue is about.
   */
  const expectedNav = async (who, wsId) => {
    const api = await apiAs(srv, DEMO[who]);
    const r = await api('GET', `/workspaces/${wsId}/sections`);
    assert.equal(r.status, 200);
    const items = r.body.items;
    const ws = items.filter((s) => s.id !== 'profile');
    const profile = items.find((s) => s.id === 'profile');
    return {
      apiIds: items.map((s) => s.id),
      ids: [...ws.map((s) => s.id), 'profile', 'security'],
      titles: [...ws.map((s) => s.title), profile?.title ?? 'Profile', 'Security'],
    };
  };

  for (const who of ['owner', 'admin']) {
    test(`${who} of the root sees Workspace Settings, Profile, Notifications, Sub-Accounts, Activity`, async () => {
      const w = await b.page(srv.url);
      const { page } = w;
      await signIn(w, DEMO[who]);
      assert.match(page.url(), new RegExp(`/w/${ids.root}/settings/workspace$`));
      await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
      const want = await expectedNav(who, ids.root);
      for (const id of ['workspace', 'profile', 'notifications', 'subaccounts', 'activity'])
        assert.ok(want.apiIds.includes(id), `the API lists ${id} for the ${who}`);
      assert.deepEqual(await navSections(page), want.ids);
      assert.deepEqual(await navTitles(page), want.titles);
      const titles = await navTitles(page);
      for (const t of ['Workspace Settings', 'Notifications', 'Sub-Accounts', 'Activity', 'Profile', 'Security'])
        assert.ok(titles.includes(t), `the nav shows ${t}`);
      assert.ok(titles.indexOf('Workspace Settings') < titles.indexOf('Sub-Accounts'), 'in the order of the map');
      // The workspace group is labelled with the workspace; the account pages sit apart.
      const nav = page.getByRole('navigation', { name: 'Settings' });
      assert.match(await nav.innerText(), /ACME AGENCY[\s\S]*YOUR ACCOUNT/i);
      // No agency banner in one's own root.
      assert.equal(await page.getByRole('region', { name: 'Agency access' }).count(), 0);
      await check(page, `nav-${who}`);
      w.assertClean();
      await w.context.close();
    });
  }

  for (const who of ['member', 'dev']) {
    test(`${who} sees Profile, Notifications and the Team directory`, async () => {
      const w = await b.page(srv.url);
      const { page } = w;
      await signIn(w, DEMO[who]);
      // Their first workspace page is Notifications (Profile is an account page).
      assert.match(page.url(), new RegExp(`/w/${ids.root}/settings/notifications$`));
      await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
      // Developer access adds the developer-only sections (Billing Recovery) to the same role's list.
      assert.deepEqual(
        await navSections(page),
        who === 'dev'
          ? ['notifications', 'team', 'billing_recovery', 'profile', 'security']
          : ['notifications', 'team', 'profile', 'security'],
      );
      if (who === 'member') await check(page, 'nav-member');

      // A section the role does not include says so, instead of a blank page or a silent redirect.
      for (const section of ['workspace', 'subaccounts', 'activity']) {
        await w.goto(`/w/${ids.root}/settings/${section}`);
        await page.getByRole('heading', { level: 1, name: 'Not available here' }).waitFor();
        assert.match(await page.locator('main').innerText(), /Your role here \(Member\)/);
      }
      if (who === 'member') await check(page, 'not-available-member');
      // Their switcher lists the root only, with their role.
      await page.getByTestId('workspace-switcher').click();
      const options = page.getByRole('option');
      assert.equal(await options.count(), 1);
      assert.match(await options.first().innerText(), /Acme Agency[\s\S]*Member/);
      await page.keyboard.press('Escape');
      w.assertClean();
      await w.context.close();
    });
  }

  test('subadmin of Acme Dental sees "Sub Account" and no Sub-Accounts', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.subadmin);
    assert.match(page.url(), new RegExp(`/w/${ids.dental}/settings/workspace$`));
    await page.getByRole('heading', { level: 1, name: 'Sub Account' }).waitFor();
    const want = await expectedNav('subadmin', ids.dental);
    assert.ok(!want.apiIds.includes('subaccounts'), 'no Sub-Accounts inside a sub-account');
    for (const id of ['workspace', 'profile', 'notifications', 'activity']) assert.ok(want.apiIds.includes(id), id);
    assert.deepEqual(await navSections(page), want.ids);
    assert.deepEqual(await navTitles(page), want.titles);
    assert.equal((await navTitles(page))[0], 'Sub Account');
    // A direct member of the sub-account: no agency banner; the context card names the agency.
    assert.equal(await page.getByRole('region', { name: 'Agency access' }).count(), 0);
    const context = page.getByRole('region', { name: 'Part of an agency' });
    assert.match(await context.innerText(), /Acme Agency/);
    assert.match(await context.innerText(), /Olivia Owner/);
    await check(page, 'nav-subadmin');

    await w.goto(`/w/${ids.dental}/settings/subaccounts`);
    await page.getByRole('heading', { level: 1, name: 'Not available here' }).waitFor();
    assert.match(await page.locator('main').innerText(), /managed from the agency workspace/);
    // The root is not theirs to see: the same "not found" as a workspace that does not exist.
    await w.goto(`/w/${ids.root}/settings/workspace`);
    await page.getByRole('heading', { level: 1, name: 'Workspace not found' }).waitFor();
    await w.goto(`/w/ws_01AAAAAAAAAAAAAAAAAAAAAAAA/settings/workspace`);
    await page.getByRole('heading', { level: 1, name: 'Workspace not found' }).waitFor();
    await check(page, 'workspace-not-found');
    w.assertClean();
    await w.context.close();
  });

  test('owner switches into Acme Dental with the keyboard: "Sub Account" and the agency banner', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();

    // Open the switcher from the keyboard; focus lands on the current workspace.
    const button = page.getByTestId('workspace-switcher');
    await button.focus();
    await page.keyboard.press('Enter');
    assert.equal(await button.getAttribute('aria-expanded'), 'true');
    const list = page.getByRole('listbox', { name: 'Switch workspace' });
    await list.waitFor();
    const options = list.getByRole('option');
    assert.equal(await options.count(), 3);
    const texts = await options.allInnerTexts();
    assert.match(texts[0], /Acme Agency[\s\S]*Owner/);
    // Agency access carries the root role: the root's owner is an owner in its sub-accounts.
    assert.match(texts[1], /Acme Dental[\s\S]*Owner[\s\S]*Agency access/);
    assert.match(texts[2], /Acme Fitness[\s\S]*Owner[\s\S]*Agency access/);
    // Sub-accounts are indented under their root.
    assert.equal(await options.nth(1).evaluate((el) => el.classList.contains('is-nested')), true);
    assert.equal(await options.nth(0).getAttribute('aria-selected'), 'true');
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-name'));
    assert.equal(await focused(), 'Acme Agency');
    await check(page, 'switcher-open', { fullPage: false });

    // Esc closes and gives focus back; reopen with ArrowDown and pick Acme Dental.
    await page.keyboard.press('Escape');
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    assert.equal(await button.evaluate((el) => el === document.activeElement), true);
    await page.keyboard.press('ArrowDown');
    await list.waitFor();
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Acme Dental');
    await page.keyboard.press('Enter');

    // Same page (Workspace Settings), now titled "Sub Account", in Acme Dental's URL.
    await page.waitForURL(new RegExp(`/w/${ids.dental}/settings/workspace$`));
    await page.getByRole('heading', { level: 1, name: 'Sub Account' }).waitFor();
    const banner = page.getByRole('region', { name: 'Agency access' });
    await banner.waitFor();
    assert.match(
      (await banner.innerText()).replace(/\s+/g, ' '),
      /You are managing Acme Dental as an owner of Acme Agency/,
    );
    const want = await expectedNav('owner', ids.dental);
    assert.ok(!want.apiIds.includes('subaccounts'));
    assert.deepEqual(await navSections(page), want.ids);
    assert.equal((await navTitles(page))[0], 'Sub Account');
    await check(page, 'agency-banner');

    // The workspace is remembered for "/" (and the account pages keep showing it).
    await w.goto('/');
    await page.waitForURL(new RegExp(`/w/${ids.dental}/settings/workspace$`));
    await page.getByRole('heading', { level: 1, name: 'Sub Account' }).waitFor();
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Profile' }).click();
    await page.waitForURL(/\/settings\/profile$/);
    assert.match(await button.innerText(), /Acme Dental/);

    // "Back to Acme Agency" returns to the agency's Sub-Accounts.
    await w.goto(`/w/${ids.dental}/settings/notifications`);
    await banner.getByRole('link', { name: 'Back to Acme Agency' }).click();
    await page.waitForURL(new RegExp(`/w/${ids.root}/settings/subaccounts$`));
    await page.getByRole('heading', { level: 1, name: 'Sub-Accounts' }).waitFor();
    assert.equal(await banner.count(), 0);
    w.assertClean();
    await w.context.close();
  });

  test('phone: the switcher and the navigation drawer', async () => {
    const w = await b.page(srv.url, { phone: true });
    const { page } = w;
    await signIn(w, DEMO.owner);
    await w.goto(`/w/${ids.dental}/settings/workspace`);
    await page.getByRole('heading', { level: 1, name: 'Sub Account' }).waitFor();
    await page.getByRole('region', { name: 'Agency access' }).waitFor();
    await check(page, 'agency-banner-phone', { fullPage: false });
    await page.getByTestId('workspace-switcher').click();
    await page.getByRole('listbox', { name: 'Switch workspace' }).waitFor();
    await check(page, 'switcher-phone', { fullPage: false });
    await page.getByRole('option', { name: /Acme Fitness/ }).click();
    await page.waitForURL(new RegExp(`/w/${ids.fitness}/settings/workspace$`));
    await page.getByRole('button', { name: 'Open navigation' }).click();
    const nav = page.getByRole('navigation', { name: 'Settings' });
    await nav.getByRole('link', { name: 'Sub Account' }).waitFor({ state: 'visible' });
    await screenshot(page, 'nav-drawer-subaccount-phone', { fullPage: false });
    w.assertClean();
    await w.context.close();
  });
});
