// Forgot password, end to end: "Forgot password?" on sign-in, the request (the same answer for an
// address nobody uses), the link in the mail Atrium wrote, a too-short password, the new one, every
// session ended (another browser is signed out), sign-in with a notice, and the spent link.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { linkIn, readMail, waitForMail, runJobs } from './mail.mjs';
import { check, createAccount, openBrowser, signInViaUI, startServer, uniqueEmail } from './support.mjs';

describe('forgot and reset password in the browser', () => {
  let srv;
  let b;
  before(async () => {
    srv = await startServer({ env: { ATRIUM_SIGNUP: 'true', ATRIUM_JOB_WORKERS: '0', ATRIUM_LOGIN_IP_PER_MINUTE: '100000' } });
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('request a link, follow it from the mail, choose a new password, sign in', async () => {
    const account = await createAccount(srv, { name: 'Rosalind Franklin', email: uniqueEmail('rf') });
    const newPassword = 'Helix-Copper-Lighthouse-51';
    const other = await b.page(srv.url);
    await signInViaUI(other, account);

    const w = await b.page(srv.url);
    const { page } = w;
    await w.goto('/sign-in');
    await page.getByLabel('Email').fill(account.email);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.waitForURL(/\/forgot-password\?email=/);
    await page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), account.email, 'the address typed on sign-in comes along');
    await check(page, 'password-forgot');

    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
    assert.match(await page.locator('.auth-card').innerText(), new RegExp(`If an account uses ${account.email.replace(/[.+]/g, '\\$&')}`));
    await check(page, 'password-forgot-sent');

    // An address nobody uses gets the very same page (and no mail).
    const before = readMail(srv).length;
    await page.getByRole('button', { name: 'try another address' }).click();
    await page.getByLabel('Email').fill('nobody-here@example.com');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
    await runJobs(srv);

    const mail = await waitForMail(srv, { to: account.email, subject: /password/i });
    assert.equal(readMail(srv).filter((m) => m.to.includes('nobody-here')).length, 0);
    assert.ok(readMail(srv).length >= before + 1);
    const link = linkIn(mail, '/reset-password/');
    assert.equal(new URL(link).origin, new URL(srv.url).origin);

    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    const field = page.getByLabel('New password', { exact: true });
    await field.fill('tiny');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('This password has 4 characters. Use at least 12.').waitFor();
    await field.fill(newPassword);
    await check(page, 'password-reset');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(/\/sign-in\?reset=1$/);
    await page.getByText('Your password was changed').waitFor();
    await check(page, 'password-reset-done');

    // Every session ended: the other browser is back at sign-in.
    await other.page.reload();
    await other.page.waitForURL(/\/sign-in/);

    // The old password no longer works; the new one does.
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Incorrect email or password' }).waitFor();
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/sign-in'));
    await page.locator('main h1').first().waitFor();

    // The link is spent.
    const x = await b.page(srv.url);
    await x.page.goto(link);
    await x.page.getByLabel('New password', { exact: true }).fill('Another-Fine-Password-42');
    await x.page.getByRole('button', { name: 'Change password' }).click();
    await x.page.getByRole('heading', { level: 1, name: 'This reset link has expired' }).waitFor();
    await x.page.getByRole('link', { name: 'Send a new link' }).waitFor();
    await check(x.page, 'password-reset-expired');
    x.assertClean();
    await x.context.close();

    w.assertClean();
    other.assertClean();
    await w.context.close();
    await other.context.close();
  });

  test('the forgot-password page on a phone', async () => {
    const p = await b.page(srv.url, { phone: true });
    await p.goto('/forgot-password');
    await p.page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
    await check(p.page, 'password-forgot-phone');
    p.assertClean();
    await p.context.close();
  });
});
