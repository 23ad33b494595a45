// Too many sign-in attempts: the 429 answer's Retry-After becomes a clear wait on the sign-in page.
// A server of its own, so its per-IP limit cannot disturb the other browser tests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { check, createAccount, openBrowser, startServer, uniqueEmail } from './support.mjs';

describe('sign-in rate limit in the browser', () => {
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

  test('too many attempts shows the wait', async () => {
    const account = await createAccount(srv, { name: 'Frances Allen', email: uniqueEmail('fa') });
    const w = await b.page(srv.url, { phone: true });
    const { page } = w;
    await w.goto('/sign-in');
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password', { exact: true }).fill('definitely not the password');
    const submit = page.getByRole('button', { name: 'Sign in', exact: true });
    const limited = page.getByRole('alert').filter({ hasText: 'Too many sign-in attempts' });
    let sawLimit = false;
    for (let i = 0; i < 30 && !sawLimit; i++) {
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
      await submit.click();
      const res = await answer;
      if (res.status() === 429) {
        sawLimit = true;
        const retryAfter = Number(res.headers()['retry-after']);
        assert.ok(retryAfter > 0, 'a 429 carries Retry-After');
      } else {
        assert.equal(res.status(), 401);
      }
      await page.locator('.alert[role=alert]').waitFor();
    }
    assert.ok(sawLimit, 'the server rate-limits repeated failed sign-ins');
    await limited.waitFor();
    assert.match(await limited.innerText(), /Try again in \d+ (second|minute|hour)s?\./);
    // The button waits out the Retry-After period.
    assert.equal(await submit.isDisabled(), true);
    await check(page, 'sign-in-rate-limited-phone');
    w.assertClean();
    await w.context.close();
  });
});
