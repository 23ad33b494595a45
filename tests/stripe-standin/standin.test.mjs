// Tests of the Stripe stand-in itself (server.mjs — a fake, not Stripe). The official `stripe` npm
// package is the referee: its client talks to the stand-in (so requests and error shapes are what the
// SDK understands), and its `webhooks.constructEvent` verifies the stand-in's webhook signatures (so
// the stand-in signs like Stripe). Atrium's own C verifier is checked elsewhere (unit tests, T9).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';

import Stripe from 'stripe';

import { startStripeStandin } from './start.mjs';

const KEY = 'sk_test_standin_unit';
const WHSEC = 'whsec_standin_unit_secret';
const API_VERSION = '2024-06-20';

let standin;
let sdk; // the official client, pointed at the stand-in
let hook; // a local webhook receiver

/** A loopback HTTP server recording each request's headers and raw body; answers `status`. */
async function startReceiver() {
  const got = [];
  const rec = { got, status: 200 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(rec.status, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  rec.url = `http://127.0.0.1:${server.address().port}/hook`;
  rec.close = () => new Promise((r) => server.close(r));
  rec.waitFor = async (n, timeoutMs = 5000) => {
    const end = Date.now() + timeoutMs;
    while (got.length < n) {
      if (Date.now() > end) throw new Error(`webhook receiver: ${got.length} of ${n} deliveries after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return got.slice(0, n);
  };
  return rec;
}

/** Verifies a delivery with the official package and returns the parsed event. */
function verified(delivery, secret = WHSEC, tolerance = 300) {
  return sdk.webhooks.constructEvent(delivery.body, delivery.headers['stripe-signature'], secret, tolerance);
}

/** A form-encoded POST the way Atrium's C client sends it. */
async function post(path, form, { key = KEY, idempotencyKey, headers = {} } = {}) {
  const h = { 'Content-Type': 'application/x-www-form-urlencoded', ...headers };
  if (key !== null) h.Authorization = `Bearer ${key}`;
  if (idempotencyKey) h['Idempotency-Key'] = idempotencyKey;
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  const res = await fetch(`${standin.url}${path}`, { method: 'POST', headers: h, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function get(path, key = KEY) {
  const res = await fetch(`${standin.url}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  return { status: res.status, json: await res.json() };
}

async function newCustomer() {
  return sdk.customers.create({ name: 'Acme', email: 'billing@acme.test', metadata: { workspace_id: 'ws_1' }, address: { country: 'DE' } });
}

before(async () => {
  hook = await startReceiver();
  standin = await startStripeStandin({ secretKey: KEY, webhookUrl: hook.url, webhookSecret: WHSEC });
  sdk = new Stripe(KEY, {
    host: '127.0.0.1',
    port: standin.port,
    protocol: 'http',
    apiVersion: API_VERSION,
    maxNetworkRetries: 0,
    telemetry: false,
  });
});

after(async () => {
  await standin?.stop();
  await hook?.close();
});

beforeEach(async () => {
  await standin.idle(); // late deliveries of the previous test must not land in this one
  hook.got.length = 0;
  hook.status = 200;
  await standin.reset();
  await standin.configure({ webhook_url: hook.url, webhook_secret: WHSEC, deliver: true, expand_setup_intent: true, v0: true, clock_skew_s: 0 });
});

describe('authentication', () => {
  test('a missing key is a 401 in Stripe error shape', async () => {
    const r = await post('/v1/customers', { name: 'x' }, { key: null });
    assert.equal(r.status, 401);
    const { error } = JSON.parse(r.text);
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /did not provide an API key/);
  });

  test('a wrong key is a 401 naming the masked key, never the whole key', async () => {
    const r = await post('/v1/customers', { name: 'x' }, { key: 'sk_test_wrong_key_1234' });
    assert.equal(r.status, 401);
    const { error } = JSON.parse(r.text);
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /^Invalid API Key provided: sk_test_\*+1234$/);
    const bad = new Stripe('sk_test_nope', { host: '127.0.0.1', port: standin.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
    await assert.rejects(bad.customers.create({ name: 'x' }), (e) => e.type === 'StripeAuthenticationError' && e.statusCode === 401);
    assert.equal((await standin.events()).length, 0);
  });

  test('Basic auth with the key as user name works, as with Stripe', async () => {
    const res = await fetch(`${standin.url}/v1/customers`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=Basic',
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).name, 'Basic');
  });
});

describe('requests and errors', () => {
  test('customers: bracketed form keys decode to nested objects; the SDK reads the result', async () => {
    const c = await newCustomer();
    assert.match(c.id, /^cus_/);
    assert.equal(c.object, 'customer');
    assert.deepEqual(c.metadata, { workspace_id: 'ws_1' });
    assert.equal(c.address.country, 'DE');
    assert.equal(c.livemode, false);
    const again = await sdk.customers.retrieve(c.id);
    assert.equal(again.email, 'billing@acme.test');
    const [req] = (await standin.requests()).filter((r) => r.method === 'POST');
    assert.deepEqual(req.params.metadata, { workspace_id: 'ws_1' });
    // Percent-encoded brackets mean the same.
    const r = await post('/v1/customers', 'name=Enc&metadata%5Bworkspace_id%5D=ws_2&address%5Bcountry%5D=FR');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text).metadata, { workspace_id: 'ws_2' });
  });

  test('unknown parameters, unknown ids, unknown URLs and JSON bodies are refused like Stripe does', async () => {
    let r = await post('/v1/customers', { nmae: 'typo' });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.text).error.code, 'parameter_unknown');
    assert.equal(JSON.parse(r.text).error.param, 'nmae');
    await assert.rejects(sdk.customers.retrieve('cus_missing'), (e) => e.statusCode === 404 && e.code === 'resource_missing');
    const g = await get('/v1/payment_intents/pi_missing');
    assert.equal(g.status, 404);
    assert.equal(g.json.error.message, "No such payment_intent: 'pi_missing'");
    r = await post('/v1/charges', { amount: '100' });
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.text).error.message, /Unrecognized request URL/);
    r = await post('/v1/customers', JSON.stringify({ name: 'x' }), { headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400);
  });

  test('fail-next makes the next request fail with a 500 api_error, then things work again', async () => {
    await standin.failNext(1);
    await assert.rejects(newCustomer(), (e) => e.statusCode === 500 && e.type === 'StripeAPIError');
    const c = await newCustomer();
    assert.match(c.id, /^cus_/);
  });
});

describe('checkout (setup mode) and its webhook', () => {
  test('setup mode needs payment_method_types or currency', async () => {
    const c = await newCustomer();
    await assert.rejects(
      sdk.checkout.sessions.create({ mode: 'setup', customer: c.id, success_url: 'https://app.test/ok' }),
      (e) => e.statusCode === 400 && e.param === 'currency',
    );
  });

  test('hosted page saves a card, delivers a signed checkout.session.completed, then redirects', async () => {
    const c = await newCustomer();
    const s = await sdk.checkout.sessions.create({
      mode: 'setup',
      customer: c.id,
      payment_method_types: ['card'],
      client_reference_id: 'ws_1',
      success_url: 'https://app.test/billing?session={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://app.test/billing?cancelled=1',
      metadata: { workspace_id: 'ws_1' },
    });
    assert.match(s.id, /^cs_test_/);
    assert.equal(s.status, 'open');
    assert.match(s.setup_intent, /^seti_/);
    assert.ok(s.url.startsWith(`${standin.url}/checkout/`));

    const page = await fetch(s.url);
    assert.equal(page.status, 200);
    const htmlText = await page.text();
    assert.match(htmlText, /Save card/);
    assert.match(htmlText, /stand-in/i);
    for (const pm of ['pm_card_visa', 'pm_card_mastercard', 'pm_card_chargeDeclined', 'pm_card_chargeDeclinedLostCard'])
      assert.ok(htmlText.includes(`value="${pm}"`), pm);

    const done = await fetch(s.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
      redirect: 'manual',
    });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), `https://app.test/billing?session=${s.id}`);

    // Delivered before the redirect.
    assert.equal(hook.got.length, 1);
    const d = hook.got[0];
    assert.equal(d.method, 'POST');
    assert.match(d.headers['content-type'], /^application\/json/);
    assert.match(d.headers['stripe-signature'], /^t=\d+,v1=[0-9a-f]{64},v0=[0-9a-f]{64}$/);
    const evt = verified(d);
    assert.equal(evt.type, 'checkout.session.completed');
    assert.match(evt.id, /^evt_/);
    assert.equal(evt.object, 'event');
    assert.equal(evt.livemode, false);
    assert.equal(evt.api_version, API_VERSION);
    assert.equal(typeof evt.created, 'number');
    assert.equal(typeof evt.pending_webhooks, 'number');
    assert.ok('request' in evt);
    const obj = evt.data.object;
    assert.equal(obj.id, s.id);
    assert.equal(obj.object, 'checkout.session');
    assert.equal(obj.status, 'complete');
    assert.equal(obj.mode, 'setup');
    assert.equal(obj.customer, c.id);
    assert.equal(obj.client_reference_id, 'ws_1');
    assert.deepEqual(obj.metadata, { workspace_id: 'ws_1' });
    assert.equal(obj.setup_intent.id, s.setup_intent);
    assert.equal(obj.setup_intent.status, 'succeeded');
    assert.equal(obj.setup_intent.payment_method.id, 'pm_card_visa');
    assert.equal(obj.setup_intent.payment_method.card.last4, '4242');
    assert.equal(obj.setup_intent.payment_method.customer, c.id);

    // The API view: a plain id, expandable as with Stripe.
    const again = await sdk.checkout.sessions.retrieve(s.id);
    assert.equal(again.status, 'complete');
    assert.equal(again.setup_intent, s.setup_intent);
    const expanded = await sdk.checkout.sessions.retrieve(s.id, { expand: ['setup_intent.payment_method'] });
    assert.equal(expanded.setup_intent.payment_method.id, 'pm_card_visa');
    const si = await sdk.setupIntents.retrieve(s.setup_intent);
    assert.equal(si.payment_method, 'pm_card_visa');

    // A completed session cannot be completed again.
    const twice = await fetch(s.url, { method: 'POST', body: 'payment_method=pm_card_visa', redirect: 'manual' });
    assert.equal(twice.status, 409);
    assert.equal((await standin.events('checkout.session.completed')).length, 1);
  });

  test('with expand_setup_intent off the event carries the id, as Stripe sends it', async () => {
    await standin.configure({ expand_setup_intent: false });
    const c = await newCustomer();
    const s = await sdk.checkout.sessions.create({ mode: 'setup', customer: c.id, currency: 'eur', success_url: 'https://app.test/ok' });
    await fetch(s.url, { method: 'POST', body: 'payment_method=pm_card_mastercard', redirect: 'manual' });
    const evt = verified(hook.got[0]);
    assert.equal(evt.data.object.setup_intent, s.setup_intent);
  });
});

describe('customer portal', () => {
  test('lists the saved method; choosing another attaches it and updates the default, with signed events', async () => {
    const c = await newCustomer();
    const s = await sdk.checkout.sessions.create({ mode: 'setup', customer: c.id, payment_method_types: ['card'], success_url: 'https://app.test/ok' });
    await fetch(s.url, { method: 'POST', body: 'payment_method=pm_card_visa', redirect: 'manual' });
    hook.got.length = 0;

    const p = await sdk.billingPortal.sessions.create({ customer: c.id, return_url: 'https://app.test/billing' });
    assert.equal(p.object, 'billing_portal.session');
    assert.ok(p.url.startsWith(`${standin.url}/portal/`));
    const page = await (await fetch(p.url)).text();
    assert.match(page, /4242/);
    assert.match(page, /pm_card_visa/);

    const res = await fetch(p.url, { method: 'POST', body: 'payment_method=pm_card_mastercard', redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), 'https://app.test/billing');
    assert.equal(hook.got.length, 2);
    const [attached, updated] = hook.got.map((d) => verified(d));
    assert.equal(attached.type, 'payment_method.attached');
    assert.equal(attached.data.object.id, 'pm_card_mastercard');
    assert.equal(attached.data.object.customer, c.id);
    assert.equal(updated.type, 'customer.updated');
    assert.equal(updated.data.object.id, c.id);
    assert.equal(updated.data.object.invoice_settings.default_payment_method, 'pm_card_mastercard');
    assert.deepEqual(updated.data.previous_attributes, { invoice_settings: { default_payment_method: null } });
    assert.equal((await sdk.customers.retrieve(c.id)).invoice_settings.default_payment_method, 'pm_card_mastercard');
  });

  test('needs an existing customer', async () => {
    await assert.rejects(sdk.billingPortal.sessions.create({ customer: 'cus_nope' }), (e) => e.statusCode === 400 && e.code === 'resource_missing');
  });
});

describe('payment intents', () => {
  const OUTCOMES = [
    ['pm_card_visa', 'succeeded'],
    ['pm_card_mastercard', 'succeeded'],
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
    ['pm_card_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
    ['pm_card_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
  ];

  for (const [pm, code, decline] of OUTCOMES) {
    test(`${pm} → ${decline ?? code}`, async () => {
      const c = await newCustomer();
      const form = {
        amount: '1999',
        currency: 'eur',
        customer: c.id,
        payment_method: pm,
        'payment_method_types[0]': 'card',
        off_session: 'true',
        confirm: 'true',
        'metadata[invoice_id]': 'inv_7',
      };
      const r = await post('/v1/payment_intents', form, { idempotencyKey: `pay-${pm}` });
      const body = JSON.parse(r.text);
      const [d] = await hook.waitFor(1);
      const evt = verified(d);
      if (code === 'succeeded') {
        assert.equal(r.status, 200);
        assert.equal(body.object, 'payment_intent');
        assert.match(body.id, /^pi_/);
        assert.equal(body.status, 'succeeded');
        assert.equal(body.amount, 1999);
        assert.equal(body.amount_received, 1999);
        assert.equal(body.currency, 'eur');
        assert.equal(body.customer, c.id);
        assert.equal(body.payment_method, pm);
        assert.deepEqual(body.metadata, { invoice_id: 'inv_7' });
        assert.equal(evt.type, 'payment_intent.succeeded');
        assert.equal(evt.data.object.id, body.id);
        assert.equal(evt.data.object.metadata.invoice_id, 'inv_7');
        assert.deepEqual(evt.request, { id: r.headers.get('request-id'), idempotency_key: `pay-${pm}` });
      } else {
        assert.equal(r.status, 402);
        const e = body.error;
        assert.equal(e.type, 'card_error');
        assert.equal(e.code, code);
        assert.equal(e.decline_code, decline);
        assert.equal(typeof e.message, 'string');
        assert.match(e.charge, /^ch_/);
        assert.equal(e.payment_method.id, pm);
        assert.match(e.payment_intent.id, /^pi_/);
        assert.equal(e.payment_intent.status, 'requires_payment_method');
        assert.equal(e.payment_intent.last_payment_error.decline_code, decline);
        assert.equal(evt.type, 'payment_intent.payment_failed');
        assert.equal(evt.data.object.id, e.payment_intent.id);
        assert.equal(evt.data.object.last_payment_error.decline_code, decline);
        assert.equal(evt.data.object.metadata.invoice_id, 'inv_7');
        const pi = await sdk.paymentIntents.retrieve(e.payment_intent.id);
        assert.equal(pi.status, 'requires_payment_method');
      }
    });
  }

  test('the official SDK reads a decline as a StripeCardError', async () => {
    const c = await newCustomer();
    await assert.rejects(
      sdk.paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        customer: c.id,
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
        off_session: true,
        confirm: true,
      }),
      (e) => e.type === 'StripeCardError' && e.decline_code === 'insufficient_funds' && e.statusCode === 402 && /^pi_/.test(e.payment_intent.id),
    );
  });

  test('a processing payment is settled later with a webhook (stand-in control)', async () => {
    const c = await newCustomer();
    const pi = await sdk.paymentIntents.create({ amount: 500, currency: 'eur', customer: c.id, payment_method: 'pm_standin_processing', off_session: true, confirm: true });
    assert.equal(pi.status, 'processing');
    const settled = await standin.settle(pi.id, 'failed', 'insufficient_funds');
    assert.equal(settled.payment_intent.status, 'requires_payment_method');
    const evt = verified((await hook.waitFor(1))[0]);
    assert.equal(evt.type, 'payment_intent.payment_failed');
    assert.equal(evt.data.object.last_payment_error.decline_code, 'insufficient_funds');
  });

  test('refusals: unknown payment method, unknown customer, too small an amount, not confirming', async () => {
    const c = await newCustomer();
    const base = { amount: '1999', currency: 'eur', customer: c.id, payment_method: 'pm_card_visa', off_session: 'true', confirm: 'true' };
    let r = await post('/v1/payment_intents', { ...base, payment_method: 'pm_gone' });
    assert.equal(r.status, 400);
    assert.deepEqual([JSON.parse(r.text).error.code, JSON.parse(r.text).error.param], ['resource_missing', 'payment_method']);
    r = await post('/v1/payment_intents', { ...base, customer: 'cus_gone' });
    assert.deepEqual([r.status, JSON.parse(r.text).error.param], [400, 'customer']);
    r = await post('/v1/payment_intents', { ...base, amount: '10' });
    assert.deepEqual([r.status, JSON.parse(r.text).error.code], [400, 'amount_too_small']);
    r = await post('/v1/payment_intents', { ...base, confirm: 'false' });
    assert.equal(r.status, 400);
    r = await post('/v1/payment_intents', { ...base, amount: '12.5' });
    assert.deepEqual([r.status, JSON.parse(r.text).error.code], [400, 'parameter_invalid_integer']);
    assert.equal((await standin.events()).length, 0);
  });
});

describe('idempotency', () => {
  test('the same key replays the same response and charges once', async () => {
    const c = await newCustomer();
    const form = { amount: '2500', currency: 'eur', customer: c.id, payment_method: 'pm_card_visa', off_session: 'true', confirm: 'true' };
    const a = await post('/v1/payment_intents', form, { idempotencyKey: 'inv_9-attempt-1' });
    // The same parameters in another order are the same request.
    const reordered = Object.fromEntries(Object.entries(form).reverse());
    const b = await post('/v1/payment_intents', reordered, { idempotencyKey: 'inv_9-attempt-1' });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.text, a.text);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.equal(a.headers.get('idempotent-replayed'), null);
    await standin.idle();
    assert.equal((await standin.events('payment_intent.succeeded')).length, 1);
    assert.equal(hook.got.length, 1);
  });

  test('a replayed decline is the same 402 with the same payment intent', async () => {
    const c = await newCustomer();
    const form = { amount: '2500', currency: 'eur', customer: c.id, payment_method: 'pm_card_chargeDeclined', off_session: 'true', confirm: 'true' };
    const a = await post('/v1/payment_intents', form, { idempotencyKey: 'k-decline' });
    const b = await post('/v1/payment_intents', form, { idempotencyKey: 'k-decline' });
    assert.equal(a.status, 402);
    assert.equal(b.status, 402);
    assert.equal(JSON.parse(b.text).error.payment_intent.id, JSON.parse(a.text).error.payment_intent.id);
    assert.equal((await standin.events('payment_intent.payment_failed')).length, 1);
  });

  test('the same key with other parameters is an idempotency_error', async () => {
    const c = await newCustomer();
    const form = { amount: '2500', currency: 'eur', customer: c.id, payment_method: 'pm_card_visa', off_session: 'true', confirm: 'true' };
    await post('/v1/payment_intents', form, { idempotencyKey: 'k-1' });
    const r = await post('/v1/payment_intents', { ...form, amount: '2600' }, { idempotencyKey: 'k-1' });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.text).error.type, 'idempotency_error');
  });

  test('a failure in front of the API is not stored: a retry with the same key goes through', async () => {
    const c = await newCustomer();
    const form = { amount: '2500', currency: 'eur', customer: c.id, payment_method: 'pm_card_visa', off_session: 'true', confirm: 'true' };
    await standin.failNext(1);
    const a = await post('/v1/payment_intents', form, { idempotencyKey: 'k-retry' });
    assert.equal(a.status, 500);
    assert.equal(JSON.parse(a.text).error.type, 'api_error');
    const b = await post('/v1/payment_intents', form, { idempotencyKey: 'k-retry' });
    assert.equal(b.status, 200);
    assert.equal(b.headers.get('idempotent-replayed'), null);
    const c2 = await post('/v1/payment_intents', form, { idempotencyKey: 'k-retry' });
    assert.equal(JSON.parse(c2.text).id, JSON.parse(b.text).id);
  });

  test('validation failures are not stored either', async () => {
    const c = await newCustomer();
    const form = { amount: '2500', currency: 'eur', customer: c.id, payment_method: 'pm_card_visa', off_session: 'true', confirm: 'true' };
    const a = await post('/v1/payment_intents', { ...form, currency: 'xxx' }, { idempotencyKey: 'k-val' });
    assert.equal(a.status, 400);
    const b = await post('/v1/payment_intents', form, { idempotencyKey: 'k-val' });
    assert.equal(b.status, 200);
  });
});

describe('webhook signing', () => {
  async function oneSucceededPayment() {
    const c = await newCustomer();
    await sdk.paymentIntents.create({ amount: 1000, currency: 'eur', customer: c.id, payment_method: 'pm_card_visa', off_session: true, confirm: true });
    return (await hook.waitFor(1))[0];
  }

  test('a wrong secret or a changed body does not verify', async () => {
    const d = await oneSucceededPayment();
    assert.throws(() => verified(d, 'whsec_other'), /No signatures found matching/);
    assert.throws(() => sdk.webhooks.constructEvent(d.body.replace('1000', '1001'), d.headers['stripe-signature'], WHSEC), /No signatures found matching/);
    // The body is sent pretty-printed, as Stripe does: re-serialising it breaks the signature.
    assert.match(d.body, /^\{\n {2}"id": "evt_/);
    assert.throws(() => verified({ ...d, body: JSON.stringify(JSON.parse(d.body)) }));
  });

  test('rotation: one v1 per configured secret, each verifies on its own', async () => {
    await standin.configure({ webhook_secret: ['whsec_old', 'whsec_new'], v0: false });
    const d = await oneSucceededPayment();
    assert.match(d.headers['stripe-signature'], /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    assert.equal(verified(d, 'whsec_old').type, 'payment_intent.succeeded');
    assert.equal(verified(d, 'whsec_new').type, 'payment_intent.succeeded');
  });

  test('clock_skew_s signs with a timestamp outside the tolerance', async () => {
    await standin.configure({ clock_skew_s: -400 });
    const d = await oneSucceededPayment();
    assert.throws(() => verified(d), /Timestamp outside the tolerance zone/);
    assert.equal(verified(d, WHSEC, 600).type, 'payment_intent.succeeded');
  });

  test('redelivery sends the same event with a fresh signature; failures are recorded', async () => {
    hook.status = 500;
    await oneSucceededPayment();
    await standin.idle(); // the stand-in has recorded the answer
    const [rec] = await standin.events('payment_intent.succeeded');
    assert.equal(rec.deliveries.length, 1);
    assert.equal(rec.deliveries[0].status, 500);
    assert.equal(rec.deliveries[0].ok, false);
    hook.status = 200;
    await new Promise((r) => setTimeout(r, 1100)); // a new second, so a new t=
    const d2 = await standin.redeliver(rec.id);
    assert.equal(d2.ok, true);
    assert.equal(hook.got.length, 2);
    const [e1, e2] = hook.got.map((d) => verified(d));
    assert.equal(e1.id, e2.id);
    assert.notEqual(hook.got[0].headers['stripe-signature'], hook.got[1].headers['stripe-signature']);
  });

  test('deliver:false records events without sending them', async () => {
    await standin.configure({ deliver: false });
    const c = await newCustomer();
    await sdk.paymentIntents.create({ amount: 1000, currency: 'eur', customer: c.id, payment_method: 'pm_card_visa', off_session: true, confirm: true });
    const [rec] = await standin.waitForEvent((e) => e.type === 'payment_intent.succeeded');
    await standin.idle();
    assert.equal(rec.deliveries.length, 0);
    assert.equal(hook.got.length, 0);
  });
});
