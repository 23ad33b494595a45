// Saving and leaving Settings forms (issue 14, item 5): a failed save is said next to what failed
// (on its field, beside the Save button) and in a toast, not only at the top of the page; a form with
// unsaved changes asks before an in-app navigation (the app's dialog, the back button too) and before
// the tab closes (beforeunload). One shared mechanism (ui/form.ts, lib/unsaved.ts, ui/SaveStatus)
// serves Workspace Settings, Profile, Billing details and the API key policy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { billingPath, toast } from './billing-support.mjs';
import { check, DEMO, openBrowser, signIn, startDemo } from './support.mjs';

describe('saving and leaving Settings forms', () => {
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

  /** Whether closing or reloading the tab now would ask first (the page's beforeunload handler). */
  const asksBeforeUnload = (page) =>
    page.evaluate(() => {
      const e = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    });
  const nav = (page, name) => page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name, exact: true }).click();
  /** A failure toast (they are announced assertively: role=alert). */
  const failureToast = (page, text) => page.locator('.toast-region-assertive').filter({ hasText: text }).first().waitFor();
  const leaveDialog = (page) => page.getByRole('alertdialog', { name: 'Leave without saving?' });

  test('Workspace Settings: a failed save is shown on its field, beside Save and in a toast; leaving asks first', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    assert.equal(await asksBeforeUnload(page), false, 'nothing to lose yet');
    await page.getByLabel('Industry').fill('Dental marketing');
    assert.equal(await asksBeforeUnload(page), true, 'closing the tab asks');

    // In-app navigation waits for an answer; staying keeps the edit.
    await nav(page, 'Team');
    const dialog = leaveDialog(page);
    await dialog.waitFor();
    await check(page, 'forms-leave-dialog', { fullPage: false });
    await dialog.getByRole('button', { name: 'Stay on this page' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.match(page.url(), /\/settings\/workspace$/);
    assert.equal(await page.getByLabel('Industry').inputValue(), 'Dental marketing');

    // A refusal that names no field (here a rate limit): beside the Save button and in a toast.
    await page.route('**/api/v1/workspaces/*', (route) =>
      route.request().method() === 'PATCH'
        ? route.fulfill({
            status: 429,
            contentType: 'application/problem+json',
            body: JSON.stringify({ type: 'urn:atrium:problem:rate-limited', title: 'Too many requests', status: 429, detail: 'Try again in a minute.' }),
          })
        : route.continue(),
    );
    await page.getByRole('button', { name: 'Save changes' }).click();
    const status = page.locator('.savebar').getByTestId('save-status');
    await status.filter({ hasText: 'Not saved. Try again in a minute.' }).waitFor();
    await failureToast(page, "Couldn't save the workspace settings");
    await page.unroute('**/api/v1/workspaces/*');

    // A refusal about a field: on the field (focused), beside Save, and in a toast.
    await page.getByLabel('Slug').fill('acme-dental');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await status.filter({ hasText: 'Not saved. Check “Slug”.' }).waitFor();
    await page.locator('.field-error', { hasText: 'Another workspace already uses this slug.' }).waitFor();
    assert.equal(await page.getByLabel('Slug').getAttribute('aria-invalid'), 'true');
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'slug');
    await check(page, 'forms-save-failed', { fullPage: false });
    // Editing again clears the failure line.
    await page.getByLabel('Slug').fill('acme-agency');
    await status.filter({ hasText: 'You have unsaved changes.' }).waitFor();

    // Leaving without saving: the edits are dropped and the page changes.
    await nav(page, 'Team');
    await leaveDialog(page).getByRole('button', { name: 'Leave without saving' }).click();
    await page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    assert.equal(await asksBeforeUnload(page), false);
    w.assertClean();
    await w.context.close();
  });

  test('Profile: the back button asks too; a saved form leaves freely', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.admin);
    await page.getByRole('heading', { level: 1, name: 'Workspace Settings' }).waitFor();
    await nav(page, 'Profile');
    await page.getByRole('heading', { level: 1, name: 'Profile' }).waitFor();
    await page.getByLabel('Full name').fill('Adam B. Admin');
    assert.equal(await asksBeforeUnload(page), true);
    await page.goBack();
    await leaveDialog(page).waitFor();
    await leaveDialog(page).getByRole('button', { name: 'Stay on this page' }).click();
    assert.match(page.url(), /\/settings\/profile$/);
    assert.equal(await page.getByLabel('Full name').inputValue(), 'Adam B. Admin');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await toast(page, 'Profile saved');
    assert.equal(await asksBeforeUnload(page), false);
    await nav(page, 'Security');
    await page.getByRole('heading', { level: 1, name: 'Security' }).waitFor();
    assert.equal(await leaveDialog(page).count(), 0);
    w.assertClean();
    await w.context.close();
  });

  test('Billing details and the API key policy use the same guard and the same failure line', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await w.goto(billingPath(ids.root, 'portal'));
    const details = page.getByRole('region', { name: 'Billing details' });
    // Once the saved details are in the form (they load after the page).
    await details.getByText('All changes saved.').waitFor();
    await page.waitForFunction(() => document.querySelector('input[name="city"]')?.value === 'London');
    await details.getByLabel('City').fill('Manchester');
    await details.getByText('You have unsaved changes.').waitFor();
    assert.equal(await asksBeforeUnload(page), true);
    await details.getByLabel('Billing email').fill('not-an-address');
    await details.getByRole('button', { name: 'Save billing details' }).click();
    await details.getByTestId('save-status').filter({ hasText: /^Not saved\./ }).waitFor();
    await failureToast(page, "Couldn't save the billing details");
    await nav(page, 'Activity');
    await leaveDialog(page).getByRole('button', { name: 'Leave without saving' }).click();
    await page.getByRole('heading', { level: 1, name: 'Activity' }).waitFor();

    await nav(page, 'API Keys');
    await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
    await page.getByLabel('Maximum lifetime').fill('0');
    await page.getByTestId('save-status').filter({ hasText: 'You have unsaved changes.' }).waitFor();
    assert.equal(await asksBeforeUnload(page), true);
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByTestId('save-status').filter({ hasText: 'Not saved. Check “Maximum lifetime”.' }).waitFor();
    await failureToast(page, "Couldn't save the key policy");
    await nav(page, 'Team');
    await leaveDialog(page).waitFor();
    await check(page, 'forms-leave-policy', { fullPage: false });
    await leaveDialog(page).getByRole('button', { name: 'Leave without saving' }).click();
    await page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    w.assertClean();
    await w.context.close();
  });
});
