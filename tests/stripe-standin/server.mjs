#!/usr/bin/env node
// STRIPE STAND-IN — NOT STRIPE. A small fake of the few Stripe API endpoints Atrium's `stripe`
// billing provider uses, for loopback-only tests (reliability.md §9: "in a loopback-only CI ... a
// provider mock"). It is written from Stripe's public API reference (docs.stripe.com/api), its
// webhook and idempotency guides, and its documented test payment methods; it shares no code with
// Stripe and is only as faithful as those documents and this file. Node 20, built-in modules only.
//
//   node tests/stripe-standin/server.mjs --port 0 --secret-key sk_test_x
//        [--host 127.0.0.1] [--webhook-url URL] [--webhook-secret whsec_...] [--api-version 2024-06-20]
//
// The first line on stdout is {"port":N}; logs go to stderr. tests/stripe-standin/start.mjs starts it
// from a test. What it serves:
//
// Stripe API (form-encoded bodies with bracketed keys, `Authorization: Bearer <key>` or Basic with the
// key as user name; errors in Stripe's {"error":{type,code,message,param,...}} shape; unknown
// parameters refused with parameter_unknown, as Stripe does):
//   POST /v1/customers                    GET /v1/customers/:id
//   POST /v1/checkout/sessions (mode=setup only)  GET /v1/checkout/sessions/:id
//   POST /v1/billing_portal/sessions
//   POST /v1/payment_intents (confirm=true only)  GET /v1/payment_intents/:id
//   GET  /v1/setup_intents/:id            GET /v1/payment_methods/:id
//   `expand[]` is honoured on these for customer, setup_intent, payment_method, payment_intent and
//   dotted paths (setup_intent.payment_method).
// Idempotency-Key on POST: the first response that reached the endpoint (2xx, and 402 declines) is
// stored and replayed for the same key (header Idempotent-Replayed: true); the same key with other
// parameters or another path is a 400 idempotency_error. Validation errors are not stored, as Stripe
// documents; neither are the failures made by /__standin/fail-next (they stand for a failure in front
// of the API, so a retry with the same key goes through).
//
// Test payment methods (docs.stripe.com/testing): payment method ids are the test tokens themselves
// (a simplification: Stripe would mint a new pm_... when a token is saved).
//   pm_card_visa, pm_card_mastercard                    succeed
//   pm_card_chargeDeclined                              402 card_declined / generic_decline
//   pm_card_chargeDeclinedInsufficientFunds             402 card_declined / insufficient_funds
//   pm_card_chargeDeclinedExpiredCard                   402 expired_card / expired_card
//   pm_card_chargeDeclinedLostCard                      402 card_declined / lost_card
//   pm_card_chargeDeclinedStolenCard                    402 card_declined / stolen_card
//   pm_standin_processing   (stand-in only)             200 status "processing"; settle it with
//                                                       POST /__standin/payment_intents/:id/settle
//
// Hosted pages (stand-ins for Checkout and the customer portal):
//   GET  /checkout/:id   a "Save card" form with a select of the test payment methods
//   POST /checkout/:id   completes the session: its SetupIntent succeeds with the chosen method, the
//                        method is attached to the customer, `checkout.session.completed` is delivered
//                        (awaited), then 303 to success_url ({CHECKOUT_SESSION_ID} is replaced, as
//                        Stripe does). A stand-in convenience: in that event `setup_intent` is expanded
//                        with its `payment_method` expanded too (Stripe sends the id "seti_..."; turn it
//                        off with config expand_setup_intent:false). `metadata` is the session's, as
//                        given at creation.
//   GET  /portal/:id     the customer's saved method and a form to pick another test method
//   POST /portal/:id     attaches it, makes it invoice_settings.default_payment_method, delivers
//                        `payment_method.attached` then `customer.updated` (with previous_attributes),
//                        then 303 to return_url
//
// Webhooks: events shaped like Stripe's (id evt_..., object "event", api_version, created, data.object,
// livemode false, pending_webhooks, request {id, idempotency_key}, type), pretty-printed JSON as
// Stripe sends it, with `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...][,v0=...]` — one v1 per configured
// secret (rotation), HMAC-SHA256 over "<t>.<body>". Payment intents send payment_intent.succeeded or
// payment_intent.payment_failed (with last_payment_error.decline_code and metadata.invoice_id) after the
// API response. No automatic retries unless configured; POST /__standin/redeliver sends an event again
// with a fresh timestamp and signature, as a Stripe retry would.
//
// Control endpoints (no auth; JSON):
//   POST /__standin/config     {webhook_url, webhook_secret (string or array), deliver: bool,
//                               expand_setup_intent: bool, v0: bool, retries: n, retry_delay_ms: n,
//                               clock_skew_s: n (added to the signed timestamp), api_version}
//   GET  /__standin/config
//   GET  /__standin/events[?type=...]   every event made: {id, type, event, deliveries[]}
//   POST /__standin/redeliver  {event_id}
//   POST /__standin/fail-next  {count: 1, status: 500}: the next /v1 requests fail before any effect
//   POST /__standin/payment_intents/:id/settle {outcome: "succeeded"|"failed", decline_code?}
//   GET  /__standin/requests   the /v1 requests seen: {method, path, params, idempotency_key, auth, status}
//   GET  /__standin/pending    {deliveries: n}: webhooks queued after API responses, not yet delivered
//   POST /__standin/reset      forget every object, event, request and stored idempotent response
import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'secret-key': { type: 'string', default: 'sk_test_standin' },
    'webhook-url': { type: 'string', default: '' },
    'webhook-secret': { type: 'string', default: '' },
    'api-version': { type: 'string', default: '2024-06-20' },
  },
});

const SECRET_KEY = opts['secret-key'];
const MAX_BODY = 1 << 20;
const V0_KEY = 'standin-v0-test-mode-key'; // Stripe adds a v0 entry in test mode; receivers must ignore it

// ------------------------------------------------------------------------------------------------
// State

const cfg = {
  webhook_url: opts['webhook-url'],
  webhook_secret: opts['webhook-secret'],
  deliver: true,
  expand_setup_intent: true,
  v0: true,
  retries: 0,
  retry_delay_ms: 1000,
  clock_skew_s: 0,
  api_version: opts['api-version'],
};

let st;
let pendingDeliveries = 0; // webhooks queued after an API response and not yet delivered
function resetState() {
  st = {
    customers: new Map(),
    sessions: new Map(),
    portals: new Map(),
    setupIntents: new Map(),
    paymentIntents: new Map(),
    attached: new Map(), // pm id -> customer id it is attached to
    events: [],
    requests: [],
    idem: new Map(), // `${key}|${idempotency key}` -> {method, path, fingerprint, status, body}
    failNext: { count: 0, status: 500 },
  };
}
resetState();

const TEST_METHODS = {
  pm_card_visa: { label: 'Visa 4242 (succeeds)', brand: 'visa', last4: '4242' },
  pm_card_mastercard: { label: 'Mastercard 4444 (succeeds)', brand: 'mastercard', last4: '4444' },
  pm_card_chargeDeclined: {
    label: 'Visa 0002 (declined: generic_decline)',
    brand: 'visa',
    last4: '0002',
    decline: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    label: 'Visa 9995 (declined: insufficient_funds)',
    brand: 'visa',
    last4: '9995',
    decline: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  },
  pm_card_chargeDeclinedExpiredCard: {
    label: 'Visa 0069 (declined: expired_card)',
    brand: 'visa',
    last4: '0069',
    decline: { code: 'expired_card', decline_code: 'expired_card', message: 'Your card has expired.' },
  },
  pm_card_chargeDeclinedLostCard: {
    label: 'Visa 9987 (declined: lost_card)',
    brand: 'visa',
    last4: '9987',
    decline: { code: 'card_declined', decline_code: 'lost_card', message: 'Your card was declined.' },
  },
  pm_card_chargeDeclinedStolenCard: {
    label: 'Visa 9979 (declined: stolen_card)',
    brand: 'visa',
    last4: '9979',
    decline: { code: 'card_declined', decline_code: 'stolen_card', message: 'Your card was declined.' },
  },
  pm_standin_processing: { label: 'Stand-in only: stays processing', brand: 'visa', last4: '1111', processing: true },
};

// Smallest charge per currency (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts), for the
// common ones; others default to 50 minor units.
const MIN_AMOUNT = { usd: 50, eur: 50, gbp: 30, chf: 50, cad: 50, aud: 50, jpy: 50, sek: 300, nok: 300, dkk: 250 };
const CURRENCIES = new Set([...Object.keys(MIN_AMOUNT), 'nzd', 'pln', 'czk', 'huf', 'mxn', 'brl', 'inr', 'sgd', 'hkd']);

// Parameters each endpoint accepts (from the API reference); nested ones list their sub-keys, `*`
// accepts any sub-key (metadata).
const PARAMS = {
  customers: {
    address: ['city', 'country', 'line1', 'line2', 'postal_code', 'state'],
    description: 1,
    email: 1,
    expand: 1,
    invoice_settings: ['default_payment_method', 'custom_fields', 'footer', 'rendering_options'],
    metadata: '*',
    name: 1,
    payment_method: 1,
    phone: 1,
    preferred_locales: 1,
    shipping: '*',
    tax_exempt: 1,
  },
  checkout_sessions: {
    billing_address_collection: 1,
    cancel_url: 1,
    client_reference_id: 1,
    currency: 1,
    customer: 1,
    customer_email: 1,
    expand: 1,
    expires_at: 1,
    locale: 1,
    metadata: '*',
    mode: 1,
    payment_method_configuration: 1,
    payment_method_types: 1,
    redirect_on_completion: 1,
    return_url: 1,
    setup_intent_data: ['description', 'metadata', 'on_behalf_of'],
    success_url: 1,
    ui_mode: 1,
  },
  portal_sessions: { configuration: 1, customer: 1, expand: 1, flow_data: '*', locale: 1, on_behalf_of: 1, return_url: 1 },
  payment_intents: {
    amount: 1,
    automatic_payment_methods: ['enabled', 'allow_redirects'],
    capture_method: 1,
    confirm: 1,
    confirmation_method: 1,
    currency: 1,
    customer: 1,
    description: 1,
    error_on_requires_action: 1,
    expand: 1,
    metadata: '*',
    off_session: 1,
    payment_method: 1,
    payment_method_options: '*',
    payment_method_types: 1,
    receipt_email: 1,
    return_url: 1,
    setup_future_usage: 1,
    statement_descriptor: 1,
    statement_descriptor_suffix: 1,
  },
};

// ------------------------------------------------------------------------------------------------
// Helpers

const now = () => Math.floor(Date.now() / 1000);
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function newId(prefix, len = 24) {
  const bytes = crypto.randomBytes(len);
  let s = '';
  for (const b of bytes) s += B62[b % 62];
  return `${prefix}_${s}`;
}
/** JSON with object keys sorted, so the same parameters in another order compare equal. */
const canonical = (v) =>
  JSON.stringify(v, (k, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
const clone = (o) => (o === undefined ? undefined : JSON.parse(JSON.stringify(o)));
const hmacHex = (key, msg) => crypto.createHmac('sha256', key).update(msg).digest('hex');
const esc = (s) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const log = (...a) => process.stderr.write(`stripe-standin: ${a.join(' ')}\n`);

class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.error = error;
  }
}
const invalid = (message, extra = {}) => new ApiError(400, { type: 'invalid_request_error', message, ...extra });
function missing(kind, id, param, status = 400) {
  return new ApiError(status, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

/**
 * Decodes application/x-www-form-urlencoded text into nested objects the way Stripe reads it:
 * a[b]=1 -> {a:{b:'1'}}, a[]=x&a[]=y and a[0]=x&a[1]=y -> {a:['x','y']}.
 */
function decodeForm(text) {
  const out = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!m) throw invalid(`Invalid parameter name: ${rawKey}`);
    const path = [m[1], ...[...m[2].matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1])];
    let node = out;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      const nextIsIndex = !last && (path[i + 1] === '' || /^\d+$/.test(path[i + 1]));
      if (Array.isArray(node)) {
        const idx = seg === '' ? node.length : Number(seg);
        if (!/^\d*$/.test(seg)) throw invalid(`Invalid array index in ${rawKey}`);
        if (last) node[idx] = value;
        else node = node[idx] ??= nextIsIndex ? [] : {};
      } else if (last) {
        node[seg] = value;
      } else {
        if (node[seg] === undefined) node[seg] = nextIsIndex ? [] : {};
        else if (typeof node[seg] !== 'object') throw invalid(`Invalid parameter: ${rawKey} mixes a value and a hash`);
        node = node[seg];
      }
    }
  }
  return out;
}

function checkParams(params, allowed) {
  for (const [k, v] of Object.entries(params)) {
    const rule = allowed[k];
    if (!rule) throw invalid(`Received unknown parameter: ${k}`, { code: 'parameter_unknown', param: k });
    if (Array.isArray(rule)) {
      if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`Invalid object`, { code: 'parameter_invalid_object', param: k });
      for (const sub of Object.keys(v))
        if (!rule.includes(sub))
          throw invalid(`Received unknown parameter: ${k}[${sub}]`, { code: 'parameter_unknown', param: `${k}[${sub}]` });
    }
  }
  if (params.metadata !== undefined) checkMetadata(params.metadata, 'metadata');
}

function checkMetadata(md, param) {
  if (md === '') return; // metadata= unsets it
  if (typeof md !== 'object' || Array.isArray(md)) throw invalid('Invalid object', { code: 'parameter_invalid_object', param });
  const keys = Object.keys(md);
  if (keys.length > 50) throw invalid('Metadata can have up to 50 keys.', { param });
  for (const k of keys) {
    if (k.length > 40) throw invalid(`Metadata keys can have up to 40 characters; ${k} has ${k.length}.`, { param: `${param}[${k}]` });
    if (typeof md[k] !== 'string') throw invalid('Invalid metadata value', { param: `${param}[${k}]` });
    if (md[k].length > 500) throw invalid('Metadata values can have up to 500 characters.', { param: `${param}[${k}]` });
  }
}

function bool(v, param) {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(`Invalid boolean: ${v}`, { code: 'parameter_invalid_boolean', param });
}

function str(v, param, { required = false, max = 5000 } = {}) {
  if (v === undefined || v === '') {
    if (required) throw invalid(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
    return null;
  }
  if (typeof v !== 'string') throw invalid(`Invalid string: ${JSON.stringify(v)}`, { param });
  if (v.length > max) throw invalid(`Invalid string: ${param} must be at most ${max} characters`, { param });
  return v;
}

function url(v, param, { required = false } = {}) {
  const s = str(v, param, { required });
  if (s === null) return null;
  try {
    const u = new URL(s);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw invalid(`Not a valid URL`, { code: 'url_invalid', param });
  }
  return s;
}

function paymentMethodObject(id) {
  const t = TEST_METHODS[id];
  if (!t) return null;
  const y = new Date().getUTCFullYear() + 3;
  return {
    id,
    object: 'payment_method',
    billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null },
    card: {
      brand: t.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      exp_month: 12,
      exp_year: y,
      funding: 'credit',
      last4: t.last4,
    },
    created: now(),
    customer: st.attached.get(id) ?? null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

function lookup(id) {
  if (typeof id !== 'string') return null;
  if (id.startsWith('cus_')) return st.customers.get(id) ?? null;
  if (id.startsWith('seti_')) return st.setupIntents.get(id) ?? null;
  if (id.startsWith('pi_')) return st.paymentIntents.get(id) ?? null;
  if (id.startsWith('cs_')) return st.sessions.get(id) ?? null;
  if (id.startsWith('pm_')) return paymentMethodObject(id);
  return null;
}

/** Returns a copy of obj with the dotted paths in `expand` replaced by the objects they name. */
function expand(obj, paths) {
  const out = clone(obj);
  for (const p of [].concat(paths ?? [])) {
    if (typeof p !== 'string') continue;
    const segs = p.split('.');
    let node = out;
    for (let i = 0; i < segs.length && node && typeof node === 'object'; i++) {
      const s = segs[i];
      if (typeof node[s] === 'string') {
        const found = lookup(node[s]);
        if (found) node[s] = clone(found);
      }
      node = node[s];
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Webhooks

function webhookSecrets() {
  return [].concat(cfg.webhook_secret || []).filter((s) => typeof s === 'string' && s);
}

/** Signs `body` the way Stripe does: t=<unix>,v1=<HMAC(secret, "<t>.<body>")> per secret (+ v0). */
function signatureHeader(body, secrets, t, { v0 = true } = {}) {
  const parts = [`t=${t}`, ...secrets.map((s) => `v1=${hmacHex(s, `${t}.${body}`)}`)];
  if (v0) parts.push(`v0=${hmacHex(V0_KEY, `${t}.${body}`)}`);
  return parts.join(',');
}

function makeEvent(type, object, { request = null, previous = null } = {}) {
  const event = {
    id: newId('evt'),
    object: 'event',
    api_version: cfg.api_version,
    created: now(),
    data: { object: clone(object) },
    livemode: false,
    pending_webhooks: cfg.deliver && cfg.webhook_url ? 1 : 0,
    request: { id: request?.id ?? null, idempotency_key: request?.idempotencyKey ?? null },
    type,
  };
  if (previous) event.data.previous_attributes = previous;
  const rec = { id: event.id, type, event, deliveries: [] };
  st.events.push(rec);
  return rec;
}

async function deliverOnce(rec) {
  const body = JSON.stringify(rec.event, null, 2);
  const t = now() + Number(cfg.clock_skew_s || 0);
  const signature = signatureHeader(body, webhookSecrets(), t, { v0: cfg.v0 });
  const d = { at: new Date().toISOString(), url: cfg.webhook_url, signature, status: null, ok: false, error: null };
  rec.deliveries.push(d);
  try {
    const res = await fetch(cfg.webhook_url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'Stripe-Signature': signature,
        'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        Accept: '*/*; q=0.5, application/xml',
        'Cache-Control': 'no-cache',
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    d.status = res.status;
    d.ok = res.status >= 200 && res.status < 300; // Stripe counts only 2xx; 3xx is a failure
    await res.arrayBuffer().catch(() => {});
  } catch (e) {
    d.error = String(e?.cause?.code || e?.name || e);
  }
  return d;
}

async function deliver(rec) {
  if (!cfg.deliver || !cfg.webhook_url) return null;
  let d = await deliverOnce(rec);
  for (let i = 0; !d.ok && i < Number(cfg.retries || 0); i++) {
    await new Promise((r) => setTimeout(r, Number(cfg.retry_delay_ms || 0)));
    d = await deliverOnce(rec);
  }
  if (d.ok) rec.event.pending_webhooks = 0;
  return d;
}

// ------------------------------------------------------------------------------------------------
// API handlers: each takes (params, ctx) and returns [status, body] or throws ApiError.

function createCustomer(p) {
  checkParams(p, PARAMS.customers);
  const c = {
    id: newId('cus', 14),
    object: 'customer',
    address: p.address
      ? { city: null, country: null, line1: null, line2: null, postal_code: null, state: null, ...p.address }
      : null,
    balance: 0,
    created: now(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: str(p.description, 'description'),
    email: str(p.email, 'email', { max: 512 }),
    invoice_prefix: newId('X', 6).slice(2).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: p.metadata && typeof p.metadata === 'object' ? p.metadata : {},
    name: str(p.name, 'name', { max: 256 }),
    phone: str(p.phone, 'phone'),
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
  };
  if (p.address?.country !== undefined && !/^[A-Za-z]{2}$/.test(p.address.country))
    throw invalid('Country must be a two-letter ISO code', { param: 'address[country]' });
  const dpm = p.invoice_settings?.default_payment_method;
  if (dpm) {
    if (!TEST_METHODS[dpm]) throw missing('PaymentMethod', dpm, 'invoice_settings[default_payment_method]');
    c.invoice_settings.default_payment_method = dpm;
  }
  st.customers.set(c.id, c);
  return [200, expand(c, p.expand)];
}

function createCheckoutSession(p, ctx) {
  checkParams(p, PARAMS.checkout_sessions);
  const mode = str(p.mode, 'mode', { required: true });
  if (!['payment', 'setup', 'subscription'].includes(mode))
    throw invalid(`Invalid mode: must be one of payment, setup, or subscription`, { param: 'mode' });
  if (mode !== 'setup') throw invalid(`The stand-in only implements mode=setup`, { param: 'mode' });
  const uiMode = str(p.ui_mode, 'ui_mode') ?? 'hosted';
  if (uiMode !== 'hosted') throw invalid('The stand-in only implements ui_mode=hosted', { param: 'ui_mode' });
  const successUrl = url(p.success_url, 'success_url', { required: true });
  const cancelUrl = url(p.cancel_url, 'cancel_url');
  const customer = str(p.customer, 'customer');
  if (customer && !st.customers.has(customer)) throw missing('customer', customer, 'customer');
  let types = p.payment_method_types;
  if (types !== undefined && !Array.isArray(types)) throw invalid('Invalid array', { param: 'payment_method_types' });
  const currency = str(p.currency, 'currency');
  if (currency && !CURRENCIES.has(currency.toLowerCase())) throw invalid(`Invalid currency: ${currency}`, { param: 'currency' });
  if (!types && !currency)
    throw invalid('`currency` is required in setup mode when `payment_method_types` is not passed.', {
      code: 'parameter_missing',
      param: 'currency',
    });
  if (types && types.some((t) => t !== 'card'))
    throw invalid('The stand-in only implements the card payment method type', { param: 'payment_method_types' });
  const clientRef = str(p.client_reference_id, 'client_reference_id', { max: 200 });
  const created = now();
  const id = newId('cs_test', 58);
  const si = {
    id: newId('seti'),
    object: 'setup_intent',
    cancellation_reason: null,
    client_secret: null,
    created,
    customer,
    description: p.setup_intent_data?.description ?? null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    metadata: p.setup_intent_data?.metadata ?? {},
    payment_method: null,
    payment_method_types: ['card'],
    status: 'requires_payment_method',
    usage: 'off_session',
  };
  si.client_secret = `${si.id}_secret_${newId('x', 24).slice(2)}`;
  if (si.metadata) checkMetadata(si.metadata, 'setup_intent_data[metadata]');
  st.setupIntents.set(si.id, si);
  const s = {
    id,
    object: 'checkout.session',
    cancel_url: cancelUrl,
    client_reference_id: clientRef,
    created,
    currency: currency ? currency.toLowerCase() : null,
    customer,
    customer_email: str(p.customer_email, 'customer_email'),
    expires_at: created + 24 * 3600,
    livemode: false,
    locale: str(p.locale, 'locale'),
    metadata: p.metadata && typeof p.metadata === 'object' ? p.metadata : {},
    mode,
    payment_intent: null,
    payment_method_types: types ?? ['card'],
    payment_status: 'no_payment_required',
    setup_intent: si.id,
    status: 'open',
    success_url: successUrl,
    ui_mode: 'hosted',
    url: `${ctx.base}/checkout/${id}`,
  };
  st.sessions.set(id, s);
  return [200, expand(s, p.expand)];
}

function createPortalSession(p, ctx) {
  checkParams(p, PARAMS.portal_sessions);
  const customer = str(p.customer, 'customer', { required: true });
  if (!st.customers.has(customer)) throw missing('customer', customer, 'customer');
  const returnUrl = url(p.return_url, 'return_url');
  const id = newId('bps');
  const s = {
    id,
    object: 'billing_portal.session',
    configuration: 'bpc_standin',
    created: now(),
    customer,
    flow: null,
    livemode: false,
    locale: str(p.locale, 'locale'),
    on_behalf_of: null,
    return_url: returnUrl,
    url: `${ctx.base}/portal/${id}`,
  };
  st.portals.set(id, s);
  return [200, s];
}

function createPaymentIntent(p, ctx) {
  checkParams(p, PARAMS.payment_intents);
  const amountText = str(p.amount, 'amount', { required: true });
  if (!/^\d+$/.test(amountText)) throw invalid(`Invalid integer: ${amountText}`, { code: 'parameter_invalid_integer', param: 'amount' });
  const amount = Number(amountText);
  const currency = str(p.currency, 'currency', { required: true }).toLowerCase();
  if (!CURRENCIES.has(currency)) throw invalid(`Invalid currency: ${currency}.`, { param: 'currency' });
  const min = MIN_AMOUNT[currency] ?? 50;
  if (amount < min)
    throw invalid(`Amount must be at least ${min} ${currency}`, {
      code: 'amount_too_small',
      doc_url: 'https://stripe.com/docs/error-codes/amount-too-small',
      param: 'amount',
    });
  if (amount > 99999999)
    throw invalid('Amount must be no more than 999,999.99', { code: 'amount_too_large', param: 'amount' });
  const customer = str(p.customer, 'customer');
  if (customer && !st.customers.has(customer)) throw missing('customer', customer, 'customer');
  const confirm = bool(p.confirm, 'confirm') ?? false;
  const offSession = bool(p.off_session, 'off_session');
  if (offSession !== undefined && !confirm)
    throw invalid('You may only specify `off_session` when confirming the PaymentIntent (`confirm=true`).', {
      param: 'off_session',
    });
  if (!confirm) throw invalid('The stand-in only implements confirm=true', { param: 'confirm' });
  const pmId = str(p.payment_method, 'payment_method');
  if (!pmId)
    throw invalid("You cannot confirm this PaymentIntent because it's missing a payment method.", {
      code: 'payment_intent_unexpected_state',
      param: 'payment_method',
    });
  const method = TEST_METHODS[pmId];
  if (!method) throw missing('PaymentMethod', pmId, 'payment_method');
  const owner = st.attached.get(pmId);
  if (customer && owner && owner !== customer)
    throw invalid(`The provided PaymentMethod belongs to a different Customer.`, { param: 'payment_method' });
  const types = p.payment_method_types;
  if (types !== undefined && (!Array.isArray(types) || types.some((t) => t !== 'card')))
    throw invalid('The stand-in only implements the card payment method type', { param: 'payment_method_types' });

  const id = newId('pi');
  const pi = {
    id,
    object: 'payment_intent',
    amount,
    amount_capturable: 0,
    amount_received: 0,
    automatic_payment_methods: types ? null : { allow_redirects: 'always', enabled: true },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${newId('x', 24).slice(2)}`,
    confirmation_method: 'automatic',
    created: now(),
    currency,
    customer,
    description: str(p.description, 'description'),
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: p.metadata && typeof p.metadata === 'object' ? p.metadata : {},
    next_action: null,
    payment_method: pmId,
    payment_method_types: ['card'],
    receipt_email: null,
    setup_future_usage: str(p.setup_future_usage, 'setup_future_usage'),
    status: 'requires_payment_method',
  };
  st.paymentIntents.set(id, pi);

  if (method.processing) {
    pi.status = 'processing';
    return [200, expand(pi, p.expand)];
  }
  pi.latest_charge = newId('ch');
  if (!method.decline) {
    pi.status = 'succeeded';
    pi.amount_received = amount;
    ctx.after.push(() => deliver(makeEvent('payment_intent.succeeded', pi, { request: ctx.request })));
    return [200, expand(pi, p.expand)];
  }
  const pm = paymentMethodObject(pmId);
  const err = {
    charge: pi.latest_charge,
    code: method.decline.code,
    decline_code: method.decline.decline_code,
    doc_url: `https://stripe.com/docs/error-codes/${method.decline.code.replace(/_/g, '-')}`,
    message: method.decline.message,
    payment_method: pm,
    type: 'card_error',
  };
  pi.last_payment_error = clone(err);
  ctx.after.push(() => deliver(makeEvent('payment_intent.payment_failed', pi, { request: ctx.request })));
  return [402, { error: { ...err, payment_intent: clone(pi), request_log_url: `https://dashboard.stripe.com/test/logs/${ctx.request.id}` } }];
}

function getOne(kind, map, id, query) {
  const obj = typeof map === 'function' ? map(id) : map.get(id);
  if (!obj) throw missing(kind, id, 'id', 404);
  return [200, expand(obj, query.expand)];
}

// ------------------------------------------------------------------------------------------------
// HTTP plumbing

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function html(res, status, title, inner) {
  const text = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
.banner{background:#fff3cd;padding:.5rem;border:1px solid #e0c060;font-size:.9rem}
label,select,button{display:block;margin:.6rem 0}button{padding:.5rem 1rem}</style></head>
<body><p class="banner">Stripe stand-in for tests: not Stripe, no real card data.</p>
<h1>${esc(title)}</h1>${inner}</body></html>`;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function redirect(res, location) {
  res.writeHead(303, { Location: location, 'Content-Length': 0 });
  res.end();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new ApiError(413, { type: 'invalid_request_error', message: 'Request body too large' }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function maskKey(k) {
  const m = /^([a-z]+_(?:test|live)_)(.*)$/.exec(k);
  if (!m) return `${'*'.repeat(Math.max(0, k.length - 4))}${k.slice(-4)}`;
  return `${m[1]}${'*'.repeat(Math.max(0, m[2].length - 4))}${m[2].slice(-4)}`;
}

/** Returns 'ok', 'missing' or 'wrong', and the presented key. */
function checkAuth(req) {
  const h = req.headers.authorization || '';
  let key = null;
  let m;
  if ((m = /^Bearer\s+(.+)$/i.exec(h))) key = m[1].trim();
  else if ((m = /^Basic\s+(.+)$/i.exec(h))) key = Buffer.from(m[1], 'base64').toString('utf8').split(':')[0];
  if (!key) return ['missing', null];
  const a = Buffer.from(key);
  const b = Buffer.from(SECRET_KEY);
  return [a.length === b.length && crypto.timingSafeEqual(a, b) ? 'ok' : 'wrong', key];
}

const ROUTES = [
  ['POST', /^\/v1\/customers$/, (p, ctx) => createCustomer(p, ctx)],
  ['GET', /^\/v1\/customers\/([^/]+)$/, (p, ctx, m) => getOne('customer', st.customers, m[1], p)],
  ['POST', /^\/v1\/checkout\/sessions$/, (p, ctx) => createCheckoutSession(p, ctx)],
  ['GET', /^\/v1\/checkout\/sessions\/([^/]+)$/, (p, ctx, m) => getOne('checkout.session', st.sessions, m[1], p)],
  ['POST', /^\/v1\/billing_portal\/sessions$/, (p, ctx) => createPortalSession(p, ctx)],
  ['POST', /^\/v1\/payment_intents$/, (p, ctx) => createPaymentIntent(p, ctx)],
  ['GET', /^\/v1\/payment_intents\/([^/]+)$/, (p, ctx, m) => getOne('payment_intent', st.paymentIntents, m[1], p)],
  ['GET', /^\/v1\/setup_intents\/([^/]+)$/, (p, ctx, m) => getOne('setup_intent', st.setupIntents, m[1], p)],
  ['GET', /^\/v1\/payment_methods\/([^/]+)$/, (p, ctx, m) => getOne('PaymentMethod', paymentMethodObject, m[1], p)],
];

async function handleApi(req, res, path, query, base) {
  const request = { id: newId('req', 14), idempotencyKey: null };
  const version = req.headers['stripe-version'] || cfg.api_version;
  const headers = { 'Request-Id': request.id, 'Stripe-Version': version };
  const [auth, key] = checkAuth(req);
  const rec = { at: new Date().toISOString(), method: req.method, path, params: null, idempotency_key: null, auth, status: null, request_id: request.id };
  st.requests.push(rec);
  const reply = (status, body, extra = {}) => {
    rec.status = status;
    send(res, status, body, { ...headers, ...extra });
  };
  const raw = await readBody(req);

  if (st.failNext.count > 0) {
    st.failNext.count--;
    return reply(st.failNext.status, {
      error: { type: 'api_error', message: 'An unknown error occurred (stand-in: /__standin/fail-next).' },
    });
  }
  if (auth === 'missing')
    return reply(
      401,
      {
        error: {
          message:
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
          type: 'invalid_request_error',
        },
      },
      { 'WWW-Authenticate': 'Basic realm="Stripe"' },
    );
  if (auth === 'wrong')
    return reply(
      401,
      { error: { message: `Invalid API Key provided: ${maskKey(key)}`, type: 'invalid_request_error' } },
      { 'WWW-Authenticate': 'Basic realm="Stripe"' },
    );

  const route = ROUTES.find(([m, re]) => m === req.method && re.test(path));
  if (!route)
    return reply(404, {
      error: {
        message: `Unrecognized request URL (${req.method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        type: 'invalid_request_error',
      },
    });

  let params;
  try {
    if (req.method === 'POST') {
      const ct = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
      if (raw.length && ct !== 'application/x-www-form-urlencoded')
        throw invalid(`Invalid request: unsupported Content-Type ${ct || '(none)'}. Send application/x-www-form-urlencoded.`);
      params = decodeForm(raw);
    } else {
      params = decodeForm(query);
    }
  } catch (e) {
    if (e instanceof ApiError) return reply(e.status, { error: e.error });
    throw e;
  }
  rec.params = params;

  // Idempotency (POST only; Stripe ignores the header on GET and DELETE).
  const idemKey = req.method === 'POST' ? req.headers['idempotency-key'] : undefined;
  let slot = null;
  if (idemKey !== undefined) {
    rec.idempotency_key = idemKey;
    request.idempotencyKey = idemKey;
    headers['Idempotency-Key'] = idemKey;
    if (idemKey.length > 255)
      return reply(400, { error: { type: 'invalid_request_error', message: 'Idempotency-Key must be at most 255 characters.' } });
    const fingerprint = canonical(params);
    slot = `${key}|${idemKey}`;
    const prev = st.idem.get(slot);
    if (prev) {
      if (prev.path !== path || prev.fingerprint !== fingerprint)
        return reply(400, {
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
          },
        });
      return reply(prev.status, prev.body, { 'Idempotent-Replayed': 'true', 'Original-Request': prev.requestId });
    }
  }

  const ctx = { base, request, after: [] };
  let status;
  let body;
  try {
    const m = route[1].exec(path);
    [status, body] = route[2](params, ctx, m);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    status = e.status;
    body = { error: { ...e.error, request_log_url: `https://dashboard.stripe.com/test/logs/${request.id}` } };
  }
  if (slot) {
    // Stored once the endpoint ran (success or decline); validation failures leave the key free.
    if (status < 300 || status === 402) st.idem.set(slot, { path, fingerprint: canonical(params), status, body, requestId: request.id });
  }
  reply(status, body);
  for (const fn of ctx.after) {
    pendingDeliveries++;
    setImmediate(() =>
      fn()
        .catch((e) => log('webhook delivery failed:', e))
        .finally(() => pendingDeliveries--),
    );
  }
}

// ---- hosted pages ---------------------------------------------------------------------------------

function methodOptions(selected) {
  return Object.entries(TEST_METHODS)
    .map(([id, t]) => `<option value="${esc(id)}"${id === selected ? ' selected' : ''}>${esc(t.label)} — ${esc(id)}</option>`)
    .join('');
}

async function checkoutPage(req, res, id) {
  const s = st.sessions.get(id);
  if (!s) return html(res, 404, 'Checkout session not found', '<p>Something went wrong: this session does not exist.</p>');
  if (req.method === 'GET') {
    if (s.status !== 'open')
      return html(res, 410, 'Checkout', '<p>This Checkout Session is no longer active.</p>');
    return html(
      res,
      200,
      'Save card',
      `<p>Save a card for later payments${s.customer ? ` (customer <code>${esc(s.customer)}</code>)` : ''}.</p>
<form method="post" action="/checkout/${esc(id)}">
<label for="payment_method">Test payment method</label>
<select id="payment_method" name="payment_method">${methodOptions('pm_card_visa')}</select>
<button type="submit">Save card</button>
</form>${s.cancel_url ? `<p><a href="${esc(s.cancel_url)}">Cancel</a></p>` : ''}`,
    );
  }
  if (s.status !== 'open') return html(res, 409, 'Checkout', '<p>This Checkout Session is no longer active.</p>');
  const form = new URLSearchParams(await readBody(req));
  const pmId = form.get('payment_method') || '';
  if (!TEST_METHODS[pmId]) return html(res, 400, 'Save card', '<p>Choose one of the test payment methods.</p>');
  const si = st.setupIntents.get(s.setup_intent);
  si.status = 'succeeded';
  si.payment_method = pmId;
  si.latest_attempt = newId('setatt');
  if (s.customer) st.attached.set(pmId, s.customer);
  s.status = 'complete';
  const obj = clone(s);
  if (cfg.expand_setup_intent) obj.setup_intent = expand(si, ['payment_method']);
  const rec = makeEvent('checkout.session.completed', obj);
  await deliver(rec);
  redirect(res, s.success_url.replaceAll('{CHECKOUT_SESSION_ID}', s.id));
}

async function portalPage(req, res, id) {
  const p = st.portals.get(id);
  if (!p) return html(res, 404, 'Portal session not found', '<p>This portal link does not exist.</p>');
  const c = st.customers.get(p.customer);
  const attached = [...st.attached].filter(([, cus]) => cus === c.id).map(([pm]) => pm);
  const current = c.invoice_settings.default_payment_method || attached[attached.length - 1] || null;
  if (req.method === 'GET') {
    const cur = current ? paymentMethodObject(current) : null;
    return html(
      res,
      200,
      'Billing portal',
      `<p>Customer <code>${esc(c.id)}</code>${c.name ? ` (${esc(c.name)})` : ''}.</p>
<p id="current">Saved payment method: ${
        cur ? `<strong>${esc(cur.card.brand)} •••• ${esc(cur.card.last4)}</strong> <code>${esc(cur.id)}</code>` : 'none'
      }</p>
<form method="post" action="/portal/${esc(id)}">
<label for="payment_method">Use another test payment method</label>
<select id="payment_method" name="payment_method">${methodOptions(current)}</select>
<button type="submit">Update payment method</button>
</form>${p.return_url ? `<p><a href="${esc(p.return_url)}">Return</a></p>` : ''}`,
    );
  }
  const form = new URLSearchParams(await readBody(req));
  const pmId = form.get('payment_method') || '';
  if (!TEST_METHODS[pmId]) return html(res, 400, 'Billing portal', '<p>Choose one of the test payment methods.</p>');
  st.attached.set(pmId, c.id);
  const before = c.invoice_settings.default_payment_method;
  c.invoice_settings.default_payment_method = pmId;
  await deliver(makeEvent('payment_method.attached', paymentMethodObject(pmId)));
  await deliver(makeEvent('customer.updated', c, { previous: { invoice_settings: { default_payment_method: before } } }));
  if (p.return_url) return redirect(res, p.return_url);
  html(res, 200, 'Billing portal', '<p>Your payment method was updated.</p>');
}

// ---- control endpoints ----------------------------------------------------------------------------

async function handleControl(req, res, path, query) {
  const body = req.method === 'POST' ? await readBody(req) : '';
  let input = {};
  if (body) {
    try {
      input = JSON.parse(body);
    } catch {
      return send(res, 400, { error: 'body must be JSON' });
    }
  }
  if (path === '/__standin/config') {
    if (req.method === 'POST') {
      for (const k of Object.keys(input)) {
        if (!(k in cfg)) return send(res, 400, { error: `unknown setting ${k}` });
        cfg[k] = input[k];
      }
    }
    return send(res, 200, cfg);
  }
  if (path === '/__standin/events' && req.method === 'GET') {
    const type = new URLSearchParams(query).get('type');
    return send(res, 200, st.events.filter((e) => !type || e.type === type));
  }
  if (path === '/__standin/requests' && req.method === 'GET') return send(res, 200, st.requests);
  if (path === '/__standin/pending' && req.method === 'GET') return send(res, 200, { deliveries: pendingDeliveries });
  if (path === '/__standin/fail-next' && req.method === 'POST') {
    st.failNext = { count: Number(input.count ?? 1), status: Number(input.status ?? 500) };
    return send(res, 200, st.failNext);
  }
  if (path === '/__standin/redeliver' && req.method === 'POST') {
    const rec = st.events.find((e) => e.id === input.event_id);
    if (!rec) return send(res, 404, { error: 'no such event' });
    if (!cfg.webhook_url) return send(res, 409, { error: 'no webhook_url configured' });
    return send(res, 200, await deliverOnce(rec));
  }
  if (path === '/__standin/reset' && req.method === 'POST') {
    resetState();
    return send(res, 200, { ok: true });
  }
  const m = /^\/__standin\/payment_intents\/([^/]+)\/settle$/.exec(path);
  if (m && req.method === 'POST') {
    const pi = st.paymentIntents.get(m[1]);
    if (!pi) return send(res, 404, { error: 'no such payment intent' });
    if (pi.status !== 'processing') return send(res, 409, { error: `payment intent is ${pi.status}` });
    pi.latest_charge = newId('ch');
    let rec;
    if (input.outcome === 'succeeded') {
      pi.status = 'succeeded';
      pi.amount_received = pi.amount;
      rec = makeEvent('payment_intent.succeeded', pi);
    } else if (input.outcome === 'failed') {
      const dc = input.decline_code || 'generic_decline';
      pi.status = 'requires_payment_method';
      pi.last_payment_error = {
        charge: pi.latest_charge,
        code: dc === 'expired_card' ? 'expired_card' : 'card_declined',
        decline_code: dc,
        message: 'Your card was declined.',
        payment_method: paymentMethodObject(pi.payment_method),
        type: 'card_error',
      };
      rec = makeEvent('payment_intent.payment_failed', pi);
    } else {
      return send(res, 400, { error: 'outcome must be "succeeded" or "failed"' });
    }
    const d = await deliver(rec);
    return send(res, 200, { payment_intent: pi, event_id: rec.id, delivery: d });
  }
  send(res, 404, { error: `no control endpoint ${req.method} ${path}` });
}

// ------------------------------------------------------------------------------------------------

const server = http.createServer(async (req, res) => {
  const u = new URL(req.url, 'http://standin');
  const base = `http://${req.headers.host || `${opts.host}:${server.address().port}`}`;
  try {
    if (u.pathname.startsWith('/v1/')) return await handleApi(req, res, u.pathname, u.search.slice(1), base);
    if (u.pathname.startsWith('/__standin/')) return await handleControl(req, res, u.pathname, u.search.slice(1));
    let m;
    if ((m = /^\/checkout\/([^/]+)$/.exec(u.pathname)) && (req.method === 'GET' || req.method === 'POST'))
      return await checkoutPage(req, res, m[1]);
    if ((m = /^\/portal\/([^/]+)$/.exec(u.pathname)) && (req.method === 'GET' || req.method === 'POST'))
      return await portalPage(req, res, m[1]);
    send(res, 404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${u.pathname}).` } });
  } catch (e) {
    if (e instanceof ApiError) {
      if (!res.headersSent) send(res, e.status, { error: e.error });
      return;
    }
    log('internal error:', e?.stack || e);
    if (!res.headersSent) send(res, 500, { error: { type: 'api_error', message: 'stand-in internal error' } });
  }
});

server.listen(Number(opts.port), opts.host, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 500).unref();
  });
