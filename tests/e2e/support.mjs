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

/** Signs in through the sign-in page and waits for the Settings shell. */
export async function signInViaUI(w, { email, password }) {
  await w.goto('/sign-in');
  await w.page.getByLabel('Email').fill(email);
  await w.page.getByLabel('Password', { exact: true }).fill(password);
  await w.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await w.page.waitForURL(/\/settings\/security$/);
  await w.page.getByRole('heading', { level: 1, name: 'Security' }).waitFor();
}
