// The sessions list: one account signed in from several browser contexts ("devices"); end one from
// the other, then sign out of all the others; the phone layout and its navigation drawer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { check, createAccount, openBrowser, screenshot, signInViaUI, startServer, uniqueEmail } from './support.mjs';

describe('sessions in the browser', () => {
  let srv;
  let b;
  before(async () => {
    srv = await startServer({ env: { ATRIUM_SIGNUP: 'true' } });
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('sessions list: end the other session', async () => {
    const account = await createAccount(srv, { name: 'Hedy Lamarr', email: uniqueEmail('hedy') });
    const desk = await b.page(srv.url);
    const phone = await b.page(srv.url, { phone: true });
    await signInViaUI(desk, account);
    await signInViaUI(phone, account);

    // On the desktop: two rows, this one first and marked, the phone (Safari on iPhone) second.
    await desk.page.reload();
    const rows = desk.page.locator('table tbody tr');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).innerText(), /This device/);
    assert.match(await rows.nth(0).innerText(), /Active now/);
    assert.match(await rows.nth(1).innerText(), /Safari on iPhone/);
    assert.doesNotMatch(await rows.nth(1).innerText(), /This device/);
    assert.match(await rows.nth(1).innerText(), /127\.0\.0\.1|::1|\d+\.\d+\.\d+\.\d+/);
    await check(desk.page, 'sessions-two-devices');

    // On the phone: the table stacks into cards, and the nav hides behind the menu button.
    await phone.page.reload();
    await phone.page.locator('table tbody tr').nth(1).waitFor();
    const nav = phone.page.getByRole('navigation', { name: 'Settings' });
    assert.equal(await nav.isVisible(), false);
    await check(phone.page, 'security-phone');
    const toggle = phone.page.getByRole('button', { name: 'Open navigation' });
    await toggle.click();
    await nav.getByRole('link', { name: 'Security' }).waitFor({ state: 'visible' });
    await check(phone.page, 'nav-drawer-phone', { fullPage: false });
    await phone.page.keyboard.press('Escape');
    await nav.waitFor({ state: 'hidden' });

    // End the phone's session from the desktop.
    await rows.nth(1).getByRole('button', { name: /End session/ }).click();
    await desk.page.getByRole('status').getByText('Session ended').waitFor();
    await desk.page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 1);
    assert.match(await rows.nth(0).innerText(), /This device/);
    await desk.page.getByText("You're not signed in anywhere else.").waitFor();

    // The phone is signed out: its next request answers 401 and the app goes to sign in.
    await phone.page.reload();
    await phone.page.waitForURL(/\/sign-in\?next=/);
    await phone.page.getByRole('heading', { level: 1, name: 'Sign in to Atrium' }).waitFor();
    await check(phone.page, 'sign-in-phone');

    desk.assertClean();
    phone.assertClean();
    await desk.context.close();
    await phone.context.close();
  });

  test('sign out of all other sessions', async () => {
    const account = await createAccount(srv, { name: 'Radia Perlman', email: uniqueEmail('radia') });
    const a = await b.page(srv.url);
    const others = [await b.page(srv.url), await b.page(srv.url, { phone: true })];
    await signInViaUI(a, account);
    for (const o of others) await signInViaUI(o, account);

    await a.page.reload();
    await a.page.locator('table tbody tr').nth(2).waitFor();
    const all = a.page.getByRole('button', { name: 'Sign out of all other sessions' });
    await all.click();
    const dialog = a.page.getByRole('alertdialog', { name: 'Sign out of all other sessions?' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /All 2 other devices/);
    // Focus starts on Cancel (the safe choice) and stays inside the dialog.
    const focused = () => a.page.evaluate(() => document.activeElement?.textContent?.trim());
    assert.equal(await focused(), 'Cancel');
    await a.page.keyboard.press('Tab');
    assert.equal(await focused(), 'Sign out other sessions');
    await a.page.keyboard.press('Tab');
    assert.equal(await focused(), 'Cancel');
    await check(a.page, 'sessions-confirm-dialog', { fullPage: false });

    // Esc closes without doing anything and returns focus to the button.
    await a.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await all.evaluate((el) => el === document.activeElement), true);
    assert.equal(await a.page.locator('table tbody tr').count(), 3);

    await all.click();
    await dialog.getByRole('button', { name: 'Sign out other sessions' }).click();
    await a.page.getByRole('status').getByText('Signed out of 2 other sessions').waitFor();
    await dialog.waitFor({ state: 'detached' });
    await a.page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 1);
    assert.equal(await all.isDisabled(), true);
    await screenshot(a.page, 'sessions-after-sign-out-others');

    for (const o of others) {
      await o.page.reload();
      await o.page.waitForURL(/\/sign-in/);
    }
    // This device is still signed in.
    await a.page.reload();
    await a.page.getByRole('heading', { level: 1, name: 'Security' }).waitFor();

    a.assertClean();
    for (const o of others) o.assertClean();
    await a.context.close();
    for (const o of others) await o.context.close();
  });
});
