// API Keys in the browser: the list (scopes as chips, owner, creator, last use with its addresses,
// status and expiry) and what needs attention (expiring within 30 days, unused for 90); creating a key
// (scope picker, expiry, owner, IP allowlist) and its one-time reveal — the secret read from the page
// works against the API, and the copy button puts it on the clipboard; revoking (the same secret then
// answers 401); rotating (the new secret works, the old key shows "Expiring" and still works during the
// overlap); a refusal shown on its field (an expiry beyond a maximum lowered through the API meanwhile);
// the key policy card; agency admins get workspace keys only; the empty state; a phone layout.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import http from 'node:http';
import { check, DEMO, openBrowser, screenshot, signIn, startDemo } from './support.mjs';

const DAY = 86400;

/** A request from a given loopback source address (127.0.0.x), so a key gathers several "last used" addresses. */
function getFrom(srv, localAddress, path, secret) {
  const u = new URL(path.replace(/^\//, ''), srv.url);
  return new Promise((resolve, reject) => {
    const rq = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'GET', headers: { authorization: `Bearer ${secret}` }, localAddress, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    rq.on('timeout', () => rq.destroy(new Error('timeout')));
    rq.on('error', reject);
    rq.end();
  });
}

describe('API keys in the browser', () => {
  let srv;
  let ids;
  let owner;
  let b;
  const base = () => srv.url.replace(/\/$/, '');
  /** Calls the API with a key, as a script would. */
  const withKey = (secret, path) =>
    fetch(`${base()}/api/v1${path}`, { headers: { authorization: `Bearer ${secret}` } }).then((r) => r.status);
  const clock = async (body) => {
    const r = await srv.post('/api/v1/test/clock', body);
    assert.equal(r.status, 200, r.text);
  };

  before(async () => {
    ({ srv, ids, api: owner } = await startDemo({
      ATRIUM_SESSION_IDLE: '31536000',
      ATRIUM_SESSION_ABSOLUTE: '31536000',
      ATRIUM_KEY_RATE_PER_MINUTE: '100000',
      ATRIUM_KEY_BURST: '100000',
    }));
    const K = `/workspaces/${ids.root}/api-keys`;
    // Keys made months ago: one never used since, one that expires in 10 days.
    const real = Date.now();
    await clock({ set: new Date(real - 120 * DAY * 1000).toISOString() });
    const legacy = await owner('POST', K, { name: 'Legacy CSV export', scopes: ['team:read'], expires_in_days: 365, owner: 'workspace' });
    assert.equal(legacy.status, 201, JSON.stringify(legacy.body));
    await clock({ set: new Date(real - 100 * DAY * 1000).toISOString() });
    const billing = await owner('POST', K, {
      name: 'Billing reconciliation',
      scopes: ['billing:read', 'workspace:read'],
      expires_in_days: 110,
      owner: 'me',
    });
    assert.equal(billing.status, 201, JSON.stringify(billing.body));
    await clock({ set: new Date(real).toISOString() });
    assert.equal(await withKey(billing.body.secret, `/workspaces/${ids.root}`), 200);
    // A busy integration with many scopes, used from three addresses; and a revoked one.
    const crm = await owner('POST', K, {
      name: 'CRM sync',
      scopes: ['workspace:read', 'team:write', 'subaccounts:read', 'activity:read', 'notifications:read'],
      expires_in_days: 180,
      owner: 'workspace',
    });
    assert.equal(crm.status, 201, JSON.stringify(crm.body));
    for (const ip of ['127.0.0.3', '127.0.0.2', '127.0.0.1'])
      assert.equal(await getFrom(srv, ip, `/api/v1/workspaces/${ids.root}`, crm.body.secret), 200);
    const zap = await owner('POST', K, { name: 'Old Zapier hook', scopes: ['team:read'], expires_in_days: 30, owner: 'workspace' });
    assert.equal((await owner('DELETE', `${K}/${zap.body.key.id}`)).status, 204);
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  const card = (page) => page.locator('.keys-card');
  /** At 1280px the whole table fits its card (no sideways scrolling to reach the actions). */
  const assertFits = async (page) => {
    const m = await page.locator('.keys-card .table-wrap').evaluate((el) => ({
      scroll: el.scrollWidth,
      client: el.clientWidth,
      cols: [...el.querySelectorAll('thead th')].map((th) => Math.round(th.getBoundingClientRect().width)),
    }));
    assert.ok(m.scroll <= m.client, `the table is wider than its card: ${JSON.stringify(m)}`);
  };
  const row = (page, name) => page.locator('.keys-card tbody tr', { hasText: name });
  const open = async (w, ws = ids.root) => {
    await w.goto(`/w/${ws}/settings/api_keys`);
    await w.page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
  };

  test('the list, what needs attention, and the last-used addresses', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API Keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
    await row(page, 'CRM sync').waitFor();
    // Live keys only, newest first; the revoked one waits behind a toggle.
    assert.equal(await card(page).locator('tbody tr').count(), 3);
    assert.match(await row(page, 'CRM sync').innerText(), /atr_\w{8}…[\s\S]*Workspace[\s\S]*Service key/);
    const crm = await row(page, 'CRM sync').innerText();
    assert.match(crm, /\+2 more/, 'five scopes collapse to three chips and "+2 more"');
    assert.match(crm, /Active/);
    assert.match(crm, /by you/);
    // Personal key: the member it belongs to.
    assert.match(await row(page, 'Billing reconciliation').innerText(), /Olivia Owner[\s\S]*Your personal key/);
    // Attention: one key expires within 30 days, one has never been used in 120 days.
    const alert = page.locator('.keys-attention');
    assert.match(await alert.innerText(), /2 keys need attention/);
    assert.match(await alert.innerText(), /Billing reconciliation expires in (9|10) days/);
    assert.match(await alert.innerText(), /Legacy CSV export has never been used/);
    assert.match(await row(page, 'Billing reconciliation').innerText(), /Expires soon/);
    assert.match(await row(page, 'Legacy CSV export').innerText(), /Never used[\s\S]*Unused since/);
    await assertFits(page);
    await check(page, 'apikeys');
    await row(page, 'CRM sync').getByRole('button', { name: '+2 more scopes of CRM sync' }).click();
    assert.match(await row(page, 'CRM sync').innerText(), /Activity[\s\S]*read/);
    await row(page, 'CRM sync').getByRole('button', { name: 'Show less of the scopes of CRM sync' }).waitFor();

    // The addresses popover: newest first, the allowlist state, Esc closes it and focus returns.
    const ipButton = row(page, 'CRM sync').getByRole('button', { name: /^Addresses of CRM sync: 127\.0\.0\.1 \+2 more$/ });
    await ipButton.click();
    const pop = page.getByRole('dialog', { name: 'Recent addresses of CRM sync' });
    await pop.waitFor();
    assert.deepEqual(await pop.locator('li .mono').allInnerTexts(), ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    assert.match(await pop.innerText(), /Allowed from any address/);
    await check(page, 'apikeys-addresses', { fullPage: false });
    await page.keyboard.press('Escape');
    await pop.waitFor({ state: 'detached' });
    assert.equal(await ipButton.evaluate((el) => el === document.activeElement), true);

    // Revoked and expired keys on demand.
    await page.getByRole('button', { name: 'Show 1 revoked or expired key' }).click();
    assert.match(await row(page, 'Old Zapier hook').innerText(), /Revoked/);
    assert.equal(await row(page, 'Old Zapier hook').getByRole('button', { name: /Actions for/ }).count(), 0);
    await page.getByRole('button', { name: 'Hide revoked and expired keys' }).click();
    await row(page, 'Old Zapier hook').waitFor({ state: 'detached' });
    w.assertClean();
    await w.context.close();
  });

  test('create with the scope picker and an expiry; reveal, copy, use; then revoke', async () => {
    const w = await b.page(srv.url);
    const { page, context } = w;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base() });
    await signIn(w, DEMO.owner);
    await open(w);
    await row(page, 'CRM sync').waitFor();

    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    await dialog.waitFor();
    await dialog.getByRole('radio', { name: /Read & write Team/ }).waitFor();
    await screenshot(page, 'apikeys-create-dialog-top', { fullPage: false });
    // Empty submit: the name and the scopes are asked for, focus on the first.
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await dialog.getByText('Give the key a name, e.g. where it will be used.').waitFor();
    await dialog.getByText('Choose at least one scope: what should this key be able to do?').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'name');

    await dialog.getByLabel('Name').fill('Zapier – new leads');
    // The policy's default (90 days) is preselected; "Never" isn't offered (the policy forbids it).
    assert.equal(await dialog.getByRole('radio', { name: '90 days' }).isChecked(), true);
    assert.equal(await dialog.getByRole('radio', { name: 'Never' }).count(), 0);
    // Write includes read: picking "Read & write" for Team, "Read" for Workspace Settings.
    await dialog.getByRole('radio', { name: 'Read & write Team' }).check();
    await dialog.getByRole('radio', { name: 'Read Workspace Settings' }).check();
    await dialog.getByText('2 sections chosen, 1 with write access.').waitFor();
    await dialog.getByRole('radio', { name: '30 days' }).check();
    const when = new Date(Date.now() + 30 * DAY * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    assert.match(await dialog.locator('fieldset', { hasText: 'Expires' }).innerText(), new RegExp(`Expires on ${when}`));
    await dialog.getByLabel('Allowed IP addresses').fill('127.0.0.0/8\n::1');
    await check(page, 'apikeys-create-dialog', { fullPage: false });
    await dialog.getByRole('button', { name: 'Create key' }).click();

    // The one-time reveal.
    const reveal = page.getByRole('dialog', { name: 'Copy your new API key' });
    await reveal.waitFor();
    await reveal.getByText("You won't see this secret again").waitFor();
    const secret = await reveal.getByLabel('Secret key').inputValue();
    assert.match(secret, /^atr_[0-9A-Za-z]{46}$/);
    assert.match(await reveal.locator('pre').innerText(), new RegExp(`curl -H "Authorization: Bearer ${secret}"[\\s\\S]*/api/v1/workspaces/${ids.root}`));
    await reveal.getByRole('button', { name: 'Copy', exact: true }).click();
    await reveal.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await check(page, 'apikeys-reveal', { fullPage: false });
    // The secret works as a script would use it.
    assert.equal(await withKey(secret, `/workspaces/${ids.root}`), 200);
    assert.equal(await withKey(secret, `/workspaces/${ids.root}/members`), 200);
    await reveal.getByRole('button', { name: 'Done' }).click();
    await reveal.waitFor({ state: 'detached' });

    // The new key in the list, with what was chosen, and no trace of its secret in the page.
    const r = row(page, 'Zapier – new leads');
    await r.waitFor();
    const text = await r.innerText();
    assert.match(text, new RegExp(secret.slice(0, 12) + '…'));
    assert.match(text, /Team\s*write[\s\S]*Workspace\s*read/);
    assert.match(text, /Active[\s\S]*Expires/, 'a key made for 30 days is flagged in its last 7 days only, not at once');
    assert.equal((await page.content()).includes(secret), false, 'the secret is gone from the page');

    // Revoke it: confirm, then the same secret is refused.
    await r.getByRole('button', { name: 'Actions for Zapier – new leads' }).click();
    await page.getByRole('menuitem', { name: 'Revoke…' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Revoke Zapier – new leads?' });
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /401 Unauthorized/);
    await check(page, 'apikeys-revoke-confirm', { fullPage: false });
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByRole('status').getByText('Zapier – new leads is revoked').waitFor();
    await r.waitFor({ state: 'detached' });
    assert.equal(await withKey(secret, `/workspaces/${ids.root}`), 401);
    w.assertClean();
    await w.context.close();
  });

  test('rotate: the new secret works, the old key shows "Expiring" and keeps working for the overlap', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    const made = await owner('POST', `/workspaces/${ids.root}/api-keys`, {
      name: 'Warehouse feed',
      scopes: ['workspace:read'],
      expires_in_days: 90,
      owner: 'workspace',
    });
    assert.equal(made.status, 201);
    const oldSecret = made.body.secret;
    await signIn(w, DEMO.owner);
    await open(w);
    const r = row(page, 'Warehouse feed');
    await r.getByRole('button', { name: 'Actions for Warehouse feed' }).click();
    await page.getByRole('menuitem', { name: 'Rotate…' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Rotate Warehouse feed?' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /same name, scopes, owner and IP allowlist, valid for 90 days/);
    const overlap = dialog.getByLabel('Keep the current secret working for');
    assert.equal(await overlap.inputValue(), '24');
    await overlap.selectOption('72');
    assert.match(await dialog.innerText(), /Both secrets work until/);
    await check(page, 'apikeys-rotate-dialog', { fullPage: false });
    await dialog.getByRole('button', { name: 'Rotate key' }).click();

    const reveal = page.getByRole('dialog', { name: 'Copy the new secret' });
    await reveal.waitFor();
    assert.match(await reveal.innerText(), new RegExp(`The old one \\(${oldSecret.slice(0, 12)}…\\) keeps working until`));
    const fresh = await reveal.getByLabel('Secret key').inputValue();
    assert.notEqual(fresh, oldSecret);
    assert.equal(await withKey(fresh, `/workspaces/${ids.root}`), 200);
    assert.equal(await withKey(oldSecret, `/workspaces/${ids.root}`), 200, 'the old secret works during the overlap');
    await reveal.getByRole('button', { name: "I've saved it" }).click();
    await reveal.waitFor({ state: 'detached' });

    // Two rows now: the new one (active) and the old one (expiring, pointing at its replacement).
    await page.waitForFunction(() => document.querySelectorAll('.keys-card tbody tr').length >= 2 &&
      [...document.querySelectorAll('.keys-card tbody tr')].filter((tr) => tr.textContent.includes('Warehouse feed')).length === 2);
    const rows = page.locator('.keys-card tbody tr', { hasText: 'Warehouse feed' });
    const texts = await rows.allInnerTexts();
    const old = texts.find((t) => t.includes(oldSecret.slice(0, 12)));
    const neu = texts.find((t) => t.includes(fresh.slice(0, 12)));
    assert.match(old, /Expiring/);
    assert.match(old, new RegExp(`Replaced by\\s*${fresh.slice(0, 12)}…`));
    assert.match(neu, /Active/);
    await assertFits(page);
    await check(page, 'apikeys-rotated');

    // The old key can only be revoked now; doing so stops it at once.
    const oldRow = page.locator('.keys-card tbody tr', { hasText: oldSecret.slice(0, 12) });
    await oldRow.getByRole('button', { name: 'Actions for Warehouse feed' }).click();
    assert.equal(await page.getByRole('menuitem', { name: 'Rotate…' }).count(), 0);
    await page.getByRole('menuitem', { name: 'Revoke old secret now…' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Stop the old secret of Warehouse feed now?' });
    await confirm.getByRole('button', { name: 'Revoke old secret' }).click();
    await confirm.waitFor({ state: 'detached' });
    await oldRow.waitFor({ state: 'detached' });
    assert.equal(await withKey(oldSecret, `/workspaces/${ids.root}`), 401);
    assert.equal(await withKey(fresh, `/workspaces/${ids.root}`), 200);
    w.assertClean();
    await w.context.close();
  });

  test('a refusal lands on its field: an expiry beyond a maximum lowered meanwhile; a bad range', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await open(w);
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    await dialog.getByRole('radio', { name: '180 days' }).waitFor();
    // Someone lowers the maximum to 60 days while the dialog is open.
    const set = await owner('PATCH', `/workspaces/${ids.root}/api-key-policy`, { max_days: 60, default_days: 30 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    await dialog.getByLabel('Name').fill('Nightly export');
    await dialog.getByRole('radio', { name: 'Read Activity' }).check();
    await dialog.getByRole('radio', { name: '180 days' }).check();
    await dialog.getByLabel('Allowed IP addresses').fill('10.0.0.0/8\n10.0.0.300');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const expiry = dialog.locator('fieldset', { hasText: 'Expires' });
    await expiry.locator('.field-error', { hasText: 'This workspace allows at most 60 days.' }).waitFor();
    await dialog.locator('.field-error', { hasText: /Line 2 \(“10\.0\.0\.300”\)/ }).waitFor();
    assert.equal(await dialog.getByLabel('Allowed IP addresses').getAttribute('aria-invalid'), 'true');
    // The dialog picked up the new policy: 30 days and "60 days (max)", nothing longer.
    await dialog.getByRole('radio', { name: '60 days (max)' }).waitFor();
    assert.equal(await dialog.getByRole('radio', { name: '180 days' }).count(), 0);
    assert.equal(await dialog.locator('fieldset', { hasText: 'Expires' }).locator('input:checked').count(), 0);
    assert.match(await expiry.innerText(), /Choose how long the key lasts/);
    await check(page, 'apikeys-validation', { fullPage: false });

    // Custom days are checked against the maximum before sending.
    await dialog.getByRole('radio', { name: 'Custom' }).check();
    await dialog.getByLabel('Days until the key expires').fill('61');
    await dialog.getByLabel('Allowed IP addresses').fill('10.0.0.0/8');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await expiry.locator('.field-error', { hasText: 'This workspace allows at most 60 days.' }).waitFor();
    assert.equal(await dialog.getByLabel('Days until the key expires').evaluate((el) => el === document.activeElement), true);
    await dialog.getByLabel('Days until the key expires').fill('45');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('dialog', { name: 'Copy your new API key' }).getByRole('button', { name: "I've saved it" }).click();
    const made = (await owner('GET', `/workspaces/${ids.root}/api-keys`)).body.items.find((k) => k.name === 'Nightly export');
    assert.deepEqual(made.allowed_cidrs, ['10.0.0.0/8']);
    assert.deepEqual(made.scopes, ['activity:read']);
    const days = (Date.parse(made.expires_at) - Date.parse(made.created_at)) / (DAY * 1000);
    assert.ok(Math.abs(days - 45) < 0.01, `45 days, got ${days}`);
    // Put the policy back for the other tests.
    assert.equal((await owner('PATCH', `/workspaces/${ids.root}/api-key-policy`, { max_days: 365, default_days: 90 })).status, 200);
    w.assertClean();
    await w.context.close();
  });

  test('the key policy card: validation, save, and "Never" offered once allowed', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.admin);
    await open(w);
    const policy = page.getByRole('region', { name: 'Key policy' });
    await policy.getByLabel('Maximum lifetime').waitFor();
    assert.equal(await policy.getByLabel('Maximum lifetime').inputValue(), '365');
    assert.equal(await policy.getByLabel('Default lifetime').inputValue(), '90');
    const save = policy.getByRole('button', { name: 'Save policy' });
    assert.equal(await save.isDisabled(), true, 'nothing to save yet');
    await policy.getByLabel('Maximum lifetime').fill('60');
    await save.click();
    await policy.getByText('The default can’t be longer than the maximum.').waitFor();
    assert.equal(await policy.getByLabel('Default lifetime').getAttribute('aria-invalid'), 'true');
    await policy.getByLabel('Default lifetime').fill('30');
    await policy.getByRole('switch', { name: 'Allow keys that never expire' }).click();
    await assertFits(page);
    await check(page, 'apikeys-policy-edit');
    await save.click();
    await page.getByRole('status').getByText('Key policy saved').waitFor();
    const saved = await owner('GET', `/workspaces/${ids.root}/api-key-policy`);
    assert.deepEqual(saved.body, { max_days: 60, default_days: 30, allow_never: true });

    // The create dialog follows the policy at once: up to 60 days, 30 preselected, "Never" offered.
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    await dialog.getByRole('radio', { name: '30 days' }).waitFor();
    assert.equal(await dialog.getByRole('radio', { name: '30 days' }).isChecked(), true);
    assert.equal(await dialog.getByRole('radio', { name: '90 days' }).count(), 0);
    await dialog.getByRole('radio', { name: 'Never' }).check();
    await dialog.getByText(/works until someone revokes it/).waitFor();
    await dialog.getByLabel('Name').fill('Status page');
    await dialog.getByRole('radio', { name: 'Read Workspace Settings' }).check();
    // An admin's personal key: acts with their role.
    await dialog.getByRole('radio', { name: /Personal key/ }).check();
    assert.match(await dialog.innerText(), /Acts as you \(Adam Admin\) with your role here \(Admin\)/);
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('dialog', { name: 'Copy your new API key' }).getByRole('button', { name: "I've saved it" }).click();
    const r = row(page, 'Status page');
    await r.waitFor();
    assert.match(await r.innerText(), /Adam Admin[\s\S]*Your personal key[\s\S]*Never expires/);
    assert.equal((await owner('PATCH', `/workspaces/${ids.root}/api-key-policy`, { max_days: 365, default_days: 90, allow_never: false })).status, 200);
    w.assertClean();
    await w.context.close();
  });

  test('agency admins make workspace keys only; the empty state', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await open(w, ids.dental);
    await page.getByText('No API keys yet').waitFor();
    await check(page, 'apikeys-empty');
    await page.getByRole('button', { name: 'Create your first API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    await dialog.getByRole('radio', { name: /Workspace key/ }).waitFor();
    assert.equal(await dialog.getByRole('radio', { name: /Personal key/ }).isDisabled(), true);
    assert.match(await dialog.innerText(), /You manage Acme Dental from Acme Agency/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    w.assertClean();
    await w.context.close();
  });

  test('phone layout', async () => {
    const w = await b.page(srv.url, { phone: true });
    const { page } = w;
    await signIn(w, DEMO.owner);
    await open(w);
    await row(page, 'CRM sync').waitFor();
    await check(page, 'apikeys-phone');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    await dialog.getByRole('radio', { name: 'Read & write Team' }).check();
    await check(page, 'apikeys-create-phone', { fullPage: false });
    await dialog.getByLabel('Name').fill('Phone-made key');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const reveal = page.getByRole('dialog', { name: 'Copy your new API key' });
    await reveal.waitFor();
    await screenshot(page, 'apikeys-reveal-phone', { fullPage: false });
    // Without clipboard permission the copy falls back to selecting the secret (or copies it).
    await reveal.getByRole('button', { name: 'Copy', exact: true }).click();
    await reveal.getByText(/Copied|Selected — press Ctrl\+C/).first().waitFor();
    await reveal.getByRole('button', { name: /Done|I've saved it/ }).click();
    w.assertClean();
    await w.context.close();
  });
});
