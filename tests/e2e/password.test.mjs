// Changing the password on the Security page: a wrong current password, then a good change that
// ends the other sessions, and signing in with the new password.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { check, createAccount, openBrowser, signInViaUI, startServer, uniqueEmail } from './support.mjs';

describe('password in the browser', () => {
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

  test('change password', async () => {
    const account = await createAccount(srv, { name: 'Margaret Hamilton', email: uniqueEmail('mh') });
    const newPassword = 'Tidal-Quartz-Heron-2047';
    const w = await b.page(srv.url);
    const other = await b.page(srv.url);
    await signInViaUI(w, account);
    await signInViaUI(other, account);
    const { page } = w;
    await page.reload();
    await page.locator('table tbody tr').nth(1).waitFor();

    const form = page.getByRole('form', { name: 'Change password' });
    const current = form.getByLabel('Current password', { exact: true });
    const next = form.getByLabel('New password', { exact: true });
    assert.match(await form.innerText(), /At least 12 characters/);

    // Wrong current password: the server's errors[] marks that field.
    await current.fill('this is not it at all');
    await next.fill(newPassword);
    await form.getByRole('button', { name: 'Update password' }).click();
    await form.getByText("That's not your current password.").waitFor();
    assert.equal(await current.getAttribute('aria-invalid'), 'true');
    assert.equal(await current.evaluate((el) => el === document.activeElement), true);
    await check(page, 'password-wrong-current');

    // The right one: a toast says the other sessions ended, the form clears, the list shrinks.
    await current.fill(account.password);
    await form.getByRole('button', { name: 'Update password' }).click();
    const toast = page.getByRole('status').filter({ hasText: 'Password changed' });
    await toast.waitFor();
    assert.match(await toast.innerText(), /other sessions were signed out/);
    assert.equal(await current.inputValue(), '');
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 1);
    await check(page, 'password-changed');

    // The other browser is signed out; the old password no longer works, the new one does.
    await other.page.reload();
    await other.page.waitForURL(/\/sign-in/);
    await other.page.getByLabel('Email').fill(account.email);
    await other.page.getByLabel('Password', { exact: true }).fill(account.password);
    await other.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.page.getByRole('alert').filter({ hasText: 'Incorrect email or password' }).waitFor();
    await signInViaUI(other, { email: account.email, password: newPassword });

    // This tab's in-memory CSRF token still works after the change: signing out succeeds.
    await page.getByRole('button', { name: /Margaret Hamilton\s*, account menu/ }).click();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/sign-in$/);
    await page.getByText("You've been signed out.").waitFor();

    w.assertClean();
    other.assertClean();
    await w.context.close();
    await other.context.close();
  });
});
