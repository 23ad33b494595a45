// Visual check of every Settings page (issue 14, "Also"): each page, as each role that sees it, in its
// main states — filled (the demo), empty (a new account's own workspace), error (the page's own API
// call made to fail by route interception) and past due (a subscription moved past its invoice's due
// date with the test clock) — at 1440, 1024 and 390 px. At each width the page must not scroll
// sideways (document.scrollingElement.scrollWidth > clientWidth); at 1440 and 390 axe must find
// nothing serious or critical, and a full-page screenshot is saved as
// tests/artifacts/screenshots/<state>-<role>-<section>-<desktop|phone>.png. Each test visits all its
// pages first and then reports every problem at once, naming the widest elements of an overflow.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { axeCheck, apiAs, createAccount, DEMO, openBrowser, signIn, startDemo, uniqueEmail } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.resolve(here, '..', 'artifacts', 'screenshots');
const WIDTHS = [
  { width: 1440, height: 900, shot: 'desktop' },
  { width: 1024, height: 768, shot: null },
  { width: 390, height: 844, shot: 'phone' },
];
const ALL = ['workspace', 'profile', 'notifications', 'team', 'billing', 'subaccounts', 'api_keys', 'activity'];
// Who sees which page, and where (DESIGN.md §1): subadmin is an admin of Acme Dental only.
const ROLES = [
  ['owner', 'root', ALL],
  ['admin', 'root', ALL],
  ['member', 'root', ['profile', 'notifications', 'team']],
  ['subadmin', 'dental', ['workspace', 'profile', 'notifications', 'team', 'billing', 'api_keys', 'activity']],
  ['dev', 'root', ['billing_recovery', 'profile', 'notifications', 'team']],
];
// The call each page loads its content with; failing it shows the page's error state.
const DATA = {
  workspace: /\/api\/v1\/workspaces\/[^/?]+$/,
  profile: /\/api\/v1\/me\/profile$/,
  notifications: /\/notifications$/,
  team: /\/members(\?|$)/,
  billing: /\/billing(\?|$)/,
  subaccounts: /\/subaccounts(\?|$)/,
  api_keys: /\/api-keys(\?|$)/,
  activity: /\/audit-events(\?|$)/,
  billing_recovery: /\/billing-recovery(\?|$)/,
};
const pathOf = (ws, section) => (section === 'profile' ? '/settings/profile' : `/w/${ws}/settings/${section}`);

/** Waits for the page's heading and for its requests and loading placeholders to settle. */
async function settle(page) {
  await page.locator('main h1').first().waitFor();
  await page.waitForLoadState('networkidle').catch(() => {});
  await page
    .waitForFunction(() => !document.querySelector('.sidenav-skeleton, .skeleton, [aria-busy="true"]'), null, { timeout: 5000 })
    .catch(() => {});
}

/**
 * What makes the page wider than the window: hides each element in turn and follows the ones whose
 * absence narrows the page, down to the deepest (an element clipped by a scrolling box does not
 * count, unlike a bounding-box test would say).
 */
function culprit(page) {
  return page.evaluate(() => {
    const root = document.scrollingElement;
    const sw0 = root.scrollWidth;
    const path = [];
    let el = document.body;
    for (let depth = 0; depth < 30 && el; depth++) {
      let next = null;
      for (const c of el.children) {
        const prev = c.style.display;
        c.style.display = 'none';
        const narrower = root.scrollWidth < sw0;
        c.style.display = prev;
        if (narrower) {
          next = c;
          break;
        }
      }
      if (!next) break;
      const cls = typeof next.className === 'string' && next.className.trim() ? `.${next.className.trim().split(/\s+/).join('.')}` : '';
      path.push(`${next.tagName.toLowerCase()}${cls}`);
      el = next;
    }
    return path.slice(-4).join(' > ') || '(not found)';
  });
}

/** Checks the current page at every width; returns the problems found (overflow, axe). */
async function inspect(page, name) {
  const problems = [];
  for (const v of WIDTHS) {
    await page.setViewportSize({ width: v.width, height: v.height });
    await page.waitForTimeout(200);
    const o = await page.evaluate(() => ({ sw: document.scrollingElement.scrollWidth, cw: document.scrollingElement.clientWidth }));
    if (o.sw > o.cw) problems.push(`${name} @${v.width}px: scrolls sideways (${o.sw} > ${o.cw}): ${await culprit(page)}`);
    if (!v.shot) continue;
    try {
      await axeCheck(page, `${name} @${v.width}px`);
    } catch (err) {
      problems.push(err.message.split('\n').slice(0, 6).join('\n'));
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, `${name}-${v.shot}.png`), fullPage: true, animations: 'disabled' });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  return problems;
}

describe('visual check of every Settings page', () => {
  let srv;
  let ids;
  let b;
  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    ({ srv, ids } = await startDemo({ ATRIUM_SIGNUP: 'true', ATRIUM_JOB_WORKERS: '0' }));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  /** Visits sections as a signed-in person; `prepare` may set up the page (route interception). */
  async function visit(person, ws, sections, state, who, { prepare, expect } = {}) {
    const w = await b.page(srv.url);
    await signIn(w, person);
    const problems = [];
    for (const section of sections) {
      if (prepare) await prepare(w.page, section);
      await w.goto(pathOf(ws, section));
      await settle(w.page);
      if (expect) await expect(w.page, section);
      problems.push(...(await inspect(w.page, `${state}-${who}-${section}`)));
      if (prepare) await w.page.unrouteAll({ behavior: 'ignoreErrors' });
    }
    await w.context.close();
    return problems;
  }

  for (const [who, where, sections] of ROLES) {
    test(`filled: ${who} on ${sections.join(', ')}`, async () => {
      const problems = await visit(DEMO[who], ids[where], sections, 'filled', who);
      assert.deepEqual(problems, [], problems.join('\n'));
    });
  }

  test('empty: a new account on its own workspace', async () => {
    const person = await createAccount(srv, { name: 'Edith Empty', email: uniqueEmail('edith') });
    const api = await apiAs(srv, person);
    const ws = (await api('GET', '/workspaces')).body.items[0].id;
    const sections = (await api('GET', `/workspaces/${ws}/sections`)).body.items.filter((s) => s.visible !== false).map((s) => s.id);
    const pages = ALL.filter((s) => sections.includes(s));
    assert.ok(pages.includes('team') && pages.includes('billing'), `sections: ${sections}`);
    const problems = await visit(person, ws, pages, 'empty', 'owner');
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test("error: each page's own call fails, and the page says so", async () => {
    const prepare = (page, section) =>
      page.route(
        (url) => url.pathname.startsWith('/api/v1/') && DATA[section].test(url.pathname + url.search),
        (route) =>
          route.request().method() === 'GET'
            ? route.fulfill({
                status: 503,
                contentType: 'application/problem+json',
                body: JSON.stringify({ type: 'urn:atrium:problem:unavailable', title: 'Service unavailable', status: 503 }),
              })
            : route.continue(),
      );
    const expect = (page, section) => page.locator('.error-state, [role="alert"]').first().waitFor().catch(() => assert.fail(`${section}: no error shown`));
    const problems = [
      ...(await visit(DEMO.owner, ids.root, ALL, 'error', 'owner', { prepare, expect })),
      ...(await visit(DEMO.member, ids.root, ['profile', 'notifications', 'team'], 'error', 'member', { prepare, expect })),
      ...(await visit(DEMO.dev, ids.root, ['billing_recovery'], 'error', 'dev', { prepare, expect })),
    ];
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('past due: the owner after the first invoice went unpaid (test clock)', async () => {
    const person = await createAccount(srv, { name: 'Paula Pastdue', email: uniqueEmail('paula') });
    const granted = await srv.cli(['user', 'grant-developer', person.email]);
    assert.equal(granted.code, 0, granted.stderr);
    const api = await apiAs(srv, person);
    const ws = (await api('GET', '/workspaces')).body.items[0].id;
    const B = `/workspaces/${ws}/billing`;
    const o = (await api('GET', B)).body;
    assert.equal(o.subscription?.status, 'trialing', JSON.stringify(o.subscription));
    assert.equal((await api('POST', `${B}/test-clock`, {})).status, 201);
    const toTrialEnd = await api('POST', `${B}/test-clock/advance`, { frozen_time: o.subscription.trial_end });
    assert.equal(toTrialEnd.status, 200, JSON.stringify(toTrialEnd.body));
    const first = (await api('GET', `${B}/invoices`)).body.items[0];
    const past = new Date(Date.parse(first.due_at) + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const moved = await api('POST', `${B}/test-clock/advance`, { frozen_time: past });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal((await api('GET', B)).body.subscription?.status, 'past_due');
    const sections = (await api('GET', `/workspaces/${ws}/sections`)).body.items.map((s) => s.id);
    const pages = [...ALL, 'billing_recovery'].filter((s) => sections.includes(s));
    const problems = await visit(person, ws, pages, 'pastdue', 'owner');
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
