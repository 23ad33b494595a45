// Profile (the user's own details, apart from any workspace) and Notifications (their preferences
// in one workspace: topics × channels, Security locked on, reset to defaults).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { linkIn, waitForMail } from './mail.mjs';
import { apiAs, check, createAccount, DEMO, openBrowser, PASSWORD, signIn, startDemo, uniqueEmail } from './support.mjs';

describe('profile and notifications', () => {
  let srv;
  let ids;
  let b;
  before(async () => {
    ({ srv, ids } = await startDemo({ ATRIUM_SIGNUP: 'true' }));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  const getJSON = (page, p) => page.evaluate(async (url) => (await fetch(url)).json(), `/api/v1${p}`);

  test('profile: name and time zone, an invalid avatar URL on its field, an email change that needs the password and a confirmation', async () => {
    const account = await createAccount(srv, { name: 'Ada Lovelace', email: uniqueEmail('ada') });
    const elsewhere = await apiAs(srv, account); // another session of the same user
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, account);
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Profile' }).click();
    await page.waitForURL(/\/settings\/profile$/);
    await page.getByRole('heading', { level: 1, name: 'Profile' }).waitFor();
    // Apart from the workspace's business settings, and said so.
    assert.match(await page.locator('.page-description').innerText(), /business details live in its Workspace Settings/);
    await check(page, 'profile');

    await page.getByLabel('Full name').fill('Ada King');
    await page.getByLabel('Your time zone').selectOption('Europe/Paris');
    await page.getByLabel('Avatar URL').fill('http://example.com/ada.png');
    await page.getByRole('button', { name: 'Save profile' }).click();
    const avatar = page.getByLabel('Avatar URL');
    await page.locator('.field-error', { hasText: 'https://' }).waitFor();
    assert.equal(await avatar.getAttribute('aria-invalid'), 'true');
    await check(page, 'profile-validation', { fullPage: false });
    assert.equal((await getJSON(page, '/me/profile')).name, 'Ada Lovelace', 'nothing saved on a 400');

    await avatar.fill('');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByRole('status').getByText('Profile saved').waitFor();
    const saved = await getJSON(page, '/me/profile');
    assert.equal(saved.name, 'Ada King');
    assert.equal(saved.timezone, 'Europe/Paris');
    assert.equal(saved.avatar_url, null);
    // The top bar follows.
    await page.getByRole('button', { name: /Ada King\s*, account menu/ }).waitFor();

    // A new email asks for the current password, then waits for the link mailed to the new address.
    const newEmail = uniqueEmail('ada.king');
    await page.getByLabel('Email').fill(newEmail);
    await page.getByText("Confirm it's you").waitFor();
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('Enter your current password to change your email.').waitFor();
    await page.getByLabel('Current password').fill('not my password at all');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.locator('.field-error', { hasText: "That's not your current password." }).waitFor();
    await check(page, 'profile-email-change', { fullPage: false });
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByRole('status').getByText('Confirm your new email').waitFor();
    const pending = page.locator('.email-pending');
    await pending.waitFor();
    assert.match(await pending.innerText(), new RegExp(`Pending: confirm at ${newEmail.replace(/[.+]/g, '\\$&')}`));
    await check(page, 'profile-email-pending', { fullPage: false });
    const before = await getJSON(page, '/me/profile');
    assert.deepEqual([before.email, before.pending_email?.email], [account.email, newEmail], 'nothing switched yet');
    assert.equal((await elsewhere('GET', '/me')).status, 200, 'nobody signed out yet');

    // Following the link from the new address switches it; the other session ends, this one stays.
    const mail = await waitForMail(srv, { to: newEmail, subject: /Confirm your new/ });
    await page.goto(linkIn(mail, '/confirm-email/'));
    await page.getByRole('heading', { level: 1, name: 'Confirm your new email address' }).waitFor();
    await check(page, 'email-change-confirm');
    await page.getByRole('button', { name: 'Confirm this address' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your email address is changed' }).waitFor();
    const after = await getJSON(page, '/me/profile');
    assert.deepEqual([after.email, after.pending_email], [newEmail, null]);
    assert.equal((await elsewhere('GET', '/me')).status, 401, 'the other session ended');
    // The old address was told, with a link to undo.
    const notice = await waitForMail(srv, { to: account.email, subject: /email address was changed/ });
    assert.ok(linkIn(notice, '/undo-email-change/'));
    await w.goto('/settings/profile');
    await page.getByLabel('Full name').waitFor();
    assert.equal(await page.locator('.email-pending').count(), 0);

    // Password and sessions live on the Security page.
    await page.getByRole('link', { name: /Password and sessions/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Security' }).waitFor();
    w.assertClean();
    await w.context.close();

    const phone = await b.page(srv.url, { phone: true });
    await signIn(phone, { email: newEmail, password: PASSWORD });
    await phone.goto('/settings/profile');
    await phone.page.getByLabel('Full name').waitFor();
    await check(phone.page, 'profile-phone', { fullPage: false });
    phone.assertClean();
    await phone.context.close();
  });

  test('notifications: switches save at once, Security is locked on, reset to defaults', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.member);
    await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    const grid = page.getByRole('table', { name: /Notification preferences/ });
    await grid.waitFor();
    assert.deepEqual(
      await grid.locator('tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.group)),
      ['team', 'billing', 'integrations', 'imports', 'reviews', 'security'],
    );

    const billingEmail = page.getByRole('switch', { name: 'Billing: Email' });
    assert.equal(await billingEmail.getAttribute('aria-checked'), 'true');
    await billingEmail.click();
    await page.getByRole('status').getByText('Saved: Billing email off').waitFor();
    assert.equal(await billingEmail.getAttribute('aria-checked'), 'false');
    // The keyboard works too: Space on a switch.
    const integrationsEmail = page.getByRole('switch', { name: 'Integrations: Email' });
    assert.equal(await integrationsEmail.getAttribute('aria-checked'), 'false');
    await integrationsEmail.focus();
    await page.keyboard.press('Space');
    await page.getByRole('status').getByText('Saved: Integrations email on').waitFor();

    // Security cannot be turned off, and says why.
    const securityEmail = page.getByRole('switch', { name: 'Security: Email' });
    assert.equal(await securityEmail.getAttribute('aria-checked'), 'true');
    assert.equal(await securityEmail.getAttribute('aria-disabled'), 'true');
    await securityEmail.click({ force: true });
    assert.equal(await securityEmail.getAttribute('aria-checked'), 'true');
    assert.match(await grid.locator('tr[data-group="security"]').innerText(), /Always on[\s\S]*can.t be turned off/);
    await check(page, 'notifications');

    await page.reload();
    await billingEmail.waitFor();
    assert.equal(await billingEmail.getAttribute('aria-checked'), 'false');
    const prefs = await getJSON(page, `/workspaces/${ids.root}/notifications`);
    const billing = prefs.groups.find((g) => g.id === 'billing');
    assert.equal(billing.email, false);
    assert.equal(billing.in_app, true);

    await page.getByRole('button', { name: 'Reset to defaults' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Reset notification preferences?' });
    await confirm.waitFor();
    await check(page, 'notifications-reset-confirm', { fullPage: false });
    await confirm.getByRole('button', { name: 'Reset to defaults' }).click();
    await page.getByRole('status').getByText('Notification preferences reset').waitFor();
    assert.equal(await billingEmail.getAttribute('aria-checked'), 'true');
    assert.equal(await integrationsEmail.getAttribute('aria-checked'), 'false');
    w.assertClean();
    await w.context.close();

    const phone = await b.page(srv.url, { phone: true });
    await signIn(phone, DEMO.member);
    await phone.page.getByRole('switch', { name: 'Billing: Email' }).waitFor();
    await check(phone.page, 'notifications-phone');
    phone.assertClean();
    await phone.context.close();
  });
});
