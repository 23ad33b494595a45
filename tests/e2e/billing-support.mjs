// Helpers the billing browser tests share: paths, signing a demo login into a fresh browser context,
// waiting for a toast, and the money format the pages use.
import assert from 'node:assert/strict';
import { signIn } from './support.mjs';

export const billingPath = (ws, sub) => `/w/${ws}/settings/billing${sub ? `/${sub}` : ''}`;
export const recoveryPath = (ws) => `/w/${ws}/settings/billing_recovery`;

/** A new browser context signed in as `who`, on `path`, with its page heading there. */
export async function signedIn(b, srv, who, path, { phone = false, heading } = {}) {
  const w = await b.page(srv.url, { phone });
  await signIn(w, who);
  await w.goto(path);
  if (heading) await w.page.getByRole('heading', { level: 1, name: heading }).waitFor();
  return w;
}

/** Waits for a toast whose text matches. */
export async function toast(page, text) {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

/** Minor units as the page shows them (en-US: $1,234.56). */
export function usd(minor) {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(minor / 100);
}

/** The JSON body of the next response to `method path` (a RegExp on the URL) after `action`. */
export async function responseOf(page, method, re, action) {
  const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === method && re.test(r.url())), action()]);
  const body = await res.json().catch(() => null);
  return { status: res.status(), body, request: res.request().postDataJSON?.() ?? null };
}

/** Asserts a call through an apiAs() client succeeded, and returns its body. */
export async function ok(call, status = 200) {
  const r = await call;
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}
