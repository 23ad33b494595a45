// Browser-test support: Debian's Chromium through playwright-core, axe-core checks, screenshots, and
// a watch on the console that fails a test on any error (CSP violations included).
//
//   const b = await openBrowser();
//   const { page, assertClean } = await b.page(srv.url, { phone: true });
//   ...
//   await check(page, 'security-phone');   // axe (no serious/critical) + full-page screenshot
//   assertClean();                          // no console errors, page errors or CSP violations
//   await b.close();
//
// The server comes from tests/lib/server.mjs (the real ./atrium). ATRIUM_E2E_SERVER_MODULE may name
// another module with the same startServer() interface (e.g. to try the UI against a stand-in).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.resolve(here, '..', 'artifacts', 'e2e');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };
const PHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const CHROMIUM = process.env.ATRIUM_CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts the server under test (the real binary unless ATRIUM_E2E_SERVER_MODULE says otherwise). */
export async function startServer(opts) {
  const mod = process.env.ATRIUM_E2E_SERVER_MODULE
    ? await import(pathToFileURL(path.resolve(process.env.ATRIUM_E2E_SERVER_MODULE)).href)
    : await import('../lib/server.mjs');
  return mod.startServer(opts);
}

/**
 * A headless Chromium. launch() gives it a fresh temporary profile (user-data dir) that Playwright
 * deletes on close; every page() is a separate browser context, i.e. a separate "device" with its
 * own cookies.
 */
export async function openBrowser() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    browser,
    /**
     * A page in a new context. phone: 375×812, touch, an iPhone user agent. Returns
     * { page, context, errors, goto(path), assertClean() }.
     */
    async page(baseURL, { phone = false } = {}) {
      const context = await browser.newContext({
        viewport: phone ? PHONE : DESKTOP,
        ...(phone ? { userAgent: PHONE_UA, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
      });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      return watch(page, baseURL);
    },
    close: () => browser.close(),
  };
}

/**
 * The API's expected error answers (401 on /me when signed out, 401 for a wrong password, 409 for a
 * taken email...) show up in Chromium's log as "Failed to load resource: ... status of 4xx". Those
 * are not faults; everything else logged at error level is.
 */
function isExpectedApiStatus(msg) {
  const text = msg.text();
  const loc = msg.location()?.url ?? '';
  return /^Failed to load resource: the server responded with a status of 4\d\d\b/.test(text) && /\/api\/v1\//.test(loc);
}

async function watch(page, baseURL) {
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (isExpectedApiStatus(msg)) return;
    errors.push(`console.error: ${msg.text()} (${msg.location()?.url ?? ''})`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    const failure = req.failure()?.errorText ?? '';
    if (failure === 'net::ERR_ABORTED') return; // navigations away cancel in-flight requests
    errors.push(`request failed: ${req.method()} ${req.url()} ${failure}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 500) errors.push(`server error: ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  // Report CSP violations even if Chromium's own log wording changes.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
    });
  });
  const base = baseURL.replace(/\/$/, '');
  return {
    page,
    context: page.context(),
    errors,
    /** Goes to a path of the server under test. */
    goto: (p) => page.goto(base + p),
    assertClean() {
      assert.deepEqual(errors, [], `the page logged errors:\n${errors.join('\n')}`);
    },
  };
}

/** Runs axe-core on the page; fails on any serious or critical finding. */
export async function axeCheck(page, label) {
  // page.evaluate goes through the DevTools protocol, so the page's CSP does not block it.
  const hasAxe = await page.evaluate(() => typeof window.axe === 'object');
  if (!hasAxe) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // Contrast is judged on settled colours: let running CSS transitions and animations finish first
    // (infinite ones, such as spinners, are left alone).
    await Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getComputedTiming().endTime !== Infinity)
        .map((a) => a.finished.catch(() => {})),
    );
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad,
    [],
    `axe found serious/critical issues on ${label}:\n${bad.map((v) => `- [${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n')}`,
  );
  return result;
}

/**
 * Saves a full-page screenshot to tests/artifacts/e2e/<name>.png. With a modal open the page behind
 * cannot scroll, so { fullPage: false } takes the viewport, which is then the whole visible page.
 */
export async function screenshot(page, name, { fullPage = true } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // Let entrance animations finish, and start from the top so sticky bars sit where they belong.
  await page.waitForTimeout(250);
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage, animations: 'disabled' });
}

/** axe + screenshot: the checks every page state gets. */
export async function check(page, name, opts) {
  await axeCheck(page, name);
  await screenshot(page, name, opts);
}

/** A unique, valid email for this run. */
export function uniqueEmail(tag) {
  return `${tag}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

export const PASSWORD = 'Lantern-Orbit-Marmalade-58';

/**
 * Creates an account through the API (sign-up must be enabled on the server), then signs that API
 * session out again, so the account's session list holds only what the browser creates.
 */
export async function createAccount(srv, { name = 'Ada Lovelace', email = uniqueEmail('ada'), password = PASSWORD } = {}) {
  const res = await fetch(new URL('/api/v1/signup', srv.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, email, password }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, `sign-up through the API answered ${res.status}: ${text}`);
  const cookie = (res.headers.getSetCookie?.() ?? [res.headers.get('set-cookie') ?? ''])
    .map((c) => c.split(';')[0])
    .filter(Boolean)
    .join('; ');
  const out = await fetch(new URL('/api/v1/session', srv.url), {
    method: 'DELETE',
    headers: { cookie, 'x-csrf-token': JSON.parse(text).csrf_token, origin: new URL(srv.url).origin },
  });
  assert.equal(out.status, 204, `signing the API session out answered ${out.status}: ${await out.text()}`);
  return { name, email, password };
}

/** Signs in through the sign-in page (with ?next= the Security page) and waits for that page. */
export async function signInViaUI(w, { email, password }) {
  await w.goto('/sign-in?next=%2Fsettings%2Fsecurity');
  await w.page.getByLabel('Email').fill(email);
  await w.page.getByLabel('Password', { exact: true }).fill(password);
  await w.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await w.page.waitForURL(/\/settings\/security$/);
  await w.page.getByRole('heading', { level: 1, name: 'Security' }).waitFor();
}

// ---- Workspaces: the demo, its logins, and helpers for the Settings map -----------------------------

/** The logins `atrium demo` seeds (DESIGN.md §1 roles; subadmin is an admin of Acme Dental only). */
export const DEMO = {
  owner: { email: 'owner@acme.test', password: 'acme-owner-demo-2026', name: 'Olivia Owner' },
  admin: { email: 'admin@acme.test', password: 'acme-admin-demo-2026', name: 'Adam Admin' },
  member: { email: 'member@acme.test', password: 'acme-member-demo-2026', name: 'Mia Member' },
  subadmin: { email: 'subadmin@acme.test', password: 'acme-subadmin-demo-2026', name: 'Sam Subadmin' },
  dev: { email: 'dev@acme.test', password: 'acme-dev-demo-2026', name: 'Dev Developer' },
};

/** A URL path inside a workspace: /w/{id}/settings/{section}. */
export const WS_PAGE = /\/w\/ws_[0-9A-Za-z]+\/settings\/[a-z_]+$/;

/**
 * Signs in through the sign-in page with no ?next=, so the app picks the landing page (the
 * remembered or first workspace, its first section), and waits for that page's heading.
 */
export async function signIn(w, { email, password }) {
  await w.goto('/sign-in');
  await w.page.getByLabel('Email').fill(email);
  await w.page.getByLabel('Password', { exact: true }).fill(password);
  await w.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await w.page.waitForURL((u) => !u.pathname.startsWith('/sign-in'));
  await w.page.locator('main h1').first().waitFor();
}

/** The section ids the Settings navigation shows, in order (data-section of each link). */
export async function navSections(page) {
  const nav = page.getByRole('navigation', { name: 'Settings' });
  await nav.locator('a[data-section]').first().waitFor();
  // The workspace part appears once its sections load: wait for the skeleton to go.
  await page.waitForFunction(() => !document.querySelector('.sidenav-skeleton'));
  return nav.locator('a[data-section]').evaluateAll((els) => els.map((e) => e.getAttribute('data-section')));
}

/** The titles of the navigation links, in order. */
export async function navTitles(page) {
  const nav = page.getByRole('navigation', { name: 'Settings' });
  return nav.locator('a[data-section]').evaluateAll((els) => els.map((e) => e.textContent.trim()));
}

/**
 * An API client signed in as one user (cookie session + CSRF token + Origin, like the UI), for
 * arranging state and for the "someone else" in concurrency tests:
 *   const api = await apiAs(srv, DEMO.owner); const r = await api('GET', '/workspaces');
 * Resolves each call to { status, headers, body }.
 */
export async function apiAs(srv, { email, password }) {
  const base = srv.url.replace(/\/$/, '');
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const text = await res.text();
  assert.ok(res.status === 200 || res.status === 201, `signing in ${email} through the API answered ${res.status}: ${text}`);
  const cookie = (res.headers.getSetCookie?.() ?? [res.headers.get('set-cookie') ?? ''])
    .map((c) => c.split(';')[0])
    .filter(Boolean)
    .join('; ');
  const csrf = JSON.parse(text).csrf_token;
  return async (method, p, body, headers = {}) => {
    const r = await fetch(`${base}/api/v1${p}`, {
      method,
      headers: {
        cookie,
        'x-csrf-token': csrf,
        origin: new URL(base).origin,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const t = await r.text();
    let parsed = null;
    try {
      parsed = t ? JSON.parse(t) : null;
    } catch {
      parsed = t;
    }
    return { status: r.status, headers: r.headers, body: parsed };
  };
}

/** Starts a server with the demo seeded; returns { srv, ids: {root, dental, fitness} }. */
export async function startDemo(env = {}) {
  const srv = await startServer({ env: { ATRIUM_LOGIN_IP_PER_MINUTE: '100000', ...env } });
  const seeded = await srv.cli(['demo']);
  assert.equal(seeded.code, 0, `atrium demo failed: ${seeded.stderr}`);
  const api = await apiAs(srv, DEMO.owner);
  const list = await api('GET', '/workspaces');
  const byName = Object.fromEntries(list.body.items.map((w) => [w.name, w.id]));
  return { srv, api, ids: { root: byName['Acme Agency'], dental: byName['Acme Dental'], fitness: byName['Acme Fitness'] } };
}
