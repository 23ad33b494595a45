// Sign up, sign in, a wrong password, sign out, and the 404 page, in a real browser against ./atrium.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { check, createAccount, openBrowser, PASSWORD, signInViaUI, startServer, uniqueEmail, WS_PAGE } from './support.mjs';

describe('accounts in the browser', () => {
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

  test('sign up', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await w.goto('/');
    // Not signed in: the app sends us to the sign-in page, which offers sign-up.
    await page.waitForURL(/\/sign-in$/);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL(/\/sign-up$/);
    await page.getByRole('heading', { level: 1, name: 'Create your account' }).waitFor();

    // The minimum length rule is shown before typing, and bound to the input.
    const password = page.getByLabel('Password', { exact: true });
    assert.match(await page.locator('.field-hint').first().innerText(), /At least 12 characters/);
    assert.match((await password.getAttribute('aria-describedby')) ?? '', /hint/);

    // Too short: the form says so at the field, without a request.
    await page.getByLabel('Full name').fill('Grace Hopper');
    await page.getByLabel('Work email').fill(uniqueEmail('grace'));
    await password.fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    const lengthError = page.locator('.field-error', { hasText: 'This password has 5 characters. Use at least 12.' });
    await lengthError.waitFor();
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    await check(page, 'sign-up-validation');

    // A taken email: the server's 409 errors[] lands on the email field.
    const taken = await createAccount(srv, { name: 'Existing User', email: uniqueEmail('taken') });
    await page.getByLabel('Work email').fill(taken.email);
    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('.field-error', { hasText: /already/i }).waitFor();
    assert.equal(await page.getByLabel('Work email').getAttribute('aria-invalid'), 'true');

    // A fresh email: signed up and signed in, in the Settings of the workspace sign-up created for
    // them, where the checklist says what to set up before inviting the team.
    const email = uniqueEmail('grace');
    await page.getByLabel('Work email').fill(email);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/w\/ws_[0-9A-Za-z]+\/settings\/workspace$/);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    await page.getByRole('status').getByText(/Welcome to Atrium/).waitFor();
    assert.equal(await page.locator('.brand-name').innerText(), 'Atrium');
    await page.getByRole('button', { name: /Grace Hopper\s*, account menu/ }).waitFor();
    await page.getByRole('region', { name: 'Before you invite the team' }).waitFor();
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Security' }).click();
    await page.waitForURL(/\/settings\/security$/);
    await page.getByText('This device').waitFor();
    await check(page, 'sign-up-done');
    w.assertClean();
    await w.context.close();
  });

  test('sign in', async () => {
    const account = await createAccount(srv, { name: 'Katherine Johnson', email: uniqueEmail('kj') });
    const w = await b.page(srv.url);
    const { page } = w;
    // A deep link while signed out comes back to the same page after signing in.
    await w.goto('/settings/security');
    await page.waitForURL(/\/sign-in\?next=%2Fsettings%2Fsecurity$/);
    await page.getByRole('heading', { level: 1, name: 'Sign in to Atrium' }).waitFor();
    await check(page, 'sign-in');

    // Empty submit: both fields say what is missing; focus goes to the first.
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('Enter your email address.').waitFor();
    await page.getByText('Enter your password.').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'email');

    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/settings\/security$/);
    await page.getByRole('heading', { level: 1, name: 'Security' }).waitFor();
    await page.getByRole('button', { name: /Katherine Johnson\s*, account menu/ }).waitFor();

    // A reload keeps the session (cookie), and /sign-in forwards a signed-in user to Settings (their
    // workspace).
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Security' }).waitFor();
    await page.getByText('This device').waitFor();
    await check(page, 'security');
    await w.goto('/sign-in');
    await page.waitForURL(WS_PAGE);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    w.assertClean();
    await w.context.close();
  });

  test('bad password message', async () => {
    const account = await createAccount(srv, { name: 'Dorothy Vaughan', email: uniqueEmail('dv') });
    const w = await b.page(srv.url);
    const { page } = w;
    await w.goto('/sign-in');
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill('not the right password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Incorrect email or password' });
    await alert.waitFor();
    assert.match(page.url(), /\/sign-in$/);
    // The same message for an unknown email: nothing tells which part was wrong.
    await page.getByLabel('Email').fill(uniqueEmail('nobody'));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await alert.waitFor();
    await check(page, 'sign-in-bad-password');
    w.assertClean();
    await w.context.close();
  });

  test('sign out', async () => {
    const account = await createAccount(srv, { name: 'Mary Jackson', email: uniqueEmail('mj') });
    const w = await b.page(srv.url);
    const { page } = w;
    await signInViaUI(w, account);

    const menuButton = page.getByRole('button', { name: /Mary Jackson\s*, account menu/ });
    await menuButton.click();
    assert.equal(await menuButton.getAttribute('aria-expanded'), 'true');
    await page.getByText(account.email).waitFor();
    await check(page, 'user-menu');
    // Esc closes the menu and gives focus back to its button.
    await page.keyboard.press('Escape');
    assert.equal(await menuButton.getAttribute('aria-expanded'), 'false');
    assert.equal(await menuButton.evaluate((el) => el === document.activeElement), true);

    await menuButton.click();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/sign-in$/);
    await page.getByText("You've been signed out.").waitFor();

    // The session is gone on the server: Settings sends us back to sign in.
    await w.goto('/settings/security');
    await page.waitForURL(/\/sign-in\?next=/);
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    assert.equal(me, 401);
    w.assertClean();
    await w.context.close();
  });

  test('404 page', async () => {
    const account = await createAccount(srv, { name: 'Annie Easley', email: uniqueEmail('ae') });
    const w = await b.page(srv.url);
    const { page } = w;
    await w.goto('/no/such/page');
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await page.getByRole('link', { name: 'Go to sign in' }).waitFor();
    await signInViaUI(w, account);
    await w.goto('/settings/nope');
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await page.getByRole('navigation', { name: 'Settings' }).waitFor();
    await check(page, 'not-found');
    await page.getByRole('link', { name: 'Back to Settings' }).click();
    await page.waitForURL(WS_PAGE);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    w.assertClean();
    await w.context.close();
  });
});
