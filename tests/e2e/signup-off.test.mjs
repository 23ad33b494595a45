// With sign-up turned off (the default), the sign-in page offers no sign-up link and /sign-up says
// how to get an account instead of showing a form.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { check, openBrowser, startServer } from './support.mjs';

describe('sign-up turned off', () => {
  let srv;
  let b;
  before(async () => {
    srv = await startServer({ env: { ATRIUM_SIGNUP: 'false' } });
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('no sign-up link, and /sign-up explains', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await w.goto('/sign-in');
    await page.getByRole('heading', { level: 1, name: 'Sign in to Atrium' }).waitFor();
    // The options request has answered once the page is idle.
    await page.waitForLoadState('networkidle');
    assert.equal(await page.getByRole('link', { name: 'Create an account' }).count(), 0);

    await w.goto('/sign-up');
    await page.getByRole('heading', { level: 1, name: 'Sign-up is not available' }).waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0);
    await check(page, 'sign-up-disabled');
    await page.getByRole('link', { name: 'Go to sign in' }).click();
    await page.waitForURL(/\/sign-in$/);
    w.assertClean();
    await w.context.close();
  });
});
