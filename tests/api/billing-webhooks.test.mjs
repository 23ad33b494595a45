// Billing: inbound payment-provider webhooks (reliability.md T9) and the whole flow through the Stripe
// stand-in (tests/stripe-standin, a fake of the few Stripe endpoints Atrium uses — not Stripe).
//
// Signatures are made with the official `stripe` npm package (webhooks.generateTestHeaderString), the
// referee of what Stripe sends. The server runs with ATRIUM_BILLING_PROVIDER=stripe and two webhook
// secrets (whsec_old,whsec_new: a rotation). Its clock is the program clock, which the "hooks" server
// has frozen at T0, so timestamps are aligned with it exactly: valid → 200; a 1-byte tamper, a wrong
// secret, t = now−301 s or now+301 s, a missing or malformed header → 400 (and nothing recorded); two
// v1 (old and new secret) → accepted; one event id delivered 20 times (one after another and at once)
// → 2xx each and exactly one effect; random permutations of a realistic event sequence (checkout,
// card attached, default card changed, a failed and a succeeded PaymentIntent, a contradicting late
// failure, a stale update, duplicates) converge to the in-order result. Over HTTP each permutation
// needs a fresh workspace, so PERMUTATIONS (50) runs here; the full 1,000 permutations run in the unit
// test tests/unit/billing/webhooks.c.
//
// The flow: checkout (POST billing/checkout returns the stand-in's page; completing it with a test card
// makes the stand-in deliver checkout.session.completed to our webhook URL), the trial's end invoices,
// the billing.collect job pays through a PaymentIntent (paid once, whatever the webhook adds); with
// pm_card_chargeDeclined the payment fails → past_due and the ladder's retries until unpaid, and a new
// card through the portal pays it; a trial that ends without a card pauses; a new subscription without
// a trial is incomplete until paid and expires after 23 hours.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { problemOf } from '../lib/server.mjs';
import { readMailFolder } from '../lib/smtp-sink.mjs';
import { startStripeStandin } from '../stripe-standin/start.mjs';
import {
  startBillingServer,
  setProgramClock,
  iso,
  newRoot,
  addMember,
  moveClock,
  overview,
  invoices,
  invoice,
  runJobs,
  B,
  W,
  T0,
  PROBLEM,
  plus,
  q,
  uniq,
  assertBillingInvariants,
} from './lib-billing.mjs';
import { signUp } from './lib-world.mjs';

const KEY = 'sk_test_atrium_billing_api';
const SECRETS = ['whsec_old', 'whsec_new'];
const HOOK = '/api/v1/billing/webhooks/stripe';
const PERMUTATIONS = 50;
const NOW_S = Date.parse(T0) / 1000; // the hooks server's frozen clock, in seconds

const signer = new Stripe('sk_test_signer_only'); // only its webhook helpers are used
const sign = (payload, secret = 'whsec_new', timestamp = NOW_S) => signer.webhooks.generateTestHeaderString({ payload, secret, timestamp });

let standin;
let hooks; // stripe provider, program clock frozen at T0; never runs jobs
let flow; // stripe provider against the stand-in, program clock running (the stand-in signs with real time)
let dev; // a developer of the hooks server (member of every hooks workspace, so it moves their clocks)

const stripeEnv = () => ({
  ATRIUM_BILLING_PROVIDER: 'stripe',
  ATRIUM_STRIPE_API_BASE: standin.url,
  ATRIUM_STRIPE_SECRET_KEY: KEY,
  ATRIUM_STRIPE_WEBHOOK_SECRETS: SECRETS.join(','),
});

before(async () => {
  standin = await startStripeStandin({ secretKey: KEY });
  hooks = await startBillingServer({ env: stripeEnv() });
  flow = await startBillingServer({ env: stripeEnv(), at: null });
  await standin.configure({ webhook_url: `${flow.url}${HOOK.slice(1)}`, webhook_secret: SECRETS, deliver: true, expand_setup_intent: true, v0: false });
  dev = (await newRoot(hooks, { developer: true, name: 'Dev Eloper' })).owner;
});

after(async () => {
  await hooks?.stop();
  await flow?.stop();
  await standin?.stop();
});
// Every scenario leaves the billing invariants intact (every waiting proration billed once, on the
// invoice that shows it; subtotal = Σ lines; total = subtotal + tax; amount_due ≥ 0).
afterEach(async () => {
  if (hooks) await assertBillingInvariants(hooks);
  if (flow) await assertBillingInvariants(flow);
});


// ---------------------------------------------------------------------------------------------------
// Events as Stripe sends them (pretty-printed JSON).

const evtId = () => `evt_${randomBytes(12).toString('hex')}`;

function event(type, object, { id = evtId(), created = NOW_S, previous } = {}) {
  const data = { object };
  if (previous) data.previous_attributes = previous;
  return { id, object: 'event', api_version: '2024-06-20', created, data, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type };
}
const payload = (evt) => JSON.stringify(evt, null, 2);

const checkoutCompleted = (ws, customer, pm, brand, last4, opts) =>
  event(
    'checkout.session.completed',
    {
      id: `cs_test_${randomBytes(8).toString('hex')}`,
      object: 'checkout.session',
      mode: 'setup',
      status: 'complete',
      customer,
      client_reference_id: ws,
      metadata: { workspace_id: ws },
      setup_intent: { id: `seti_${randomBytes(8).toString('hex')}`, object: 'setup_intent', status: 'succeeded', payment_method: { id: pm, object: 'payment_method', customer, card: { brand, last4 } } },
    },
    opts,
  );
const pmAttached = (customer, pm, opts) => event('payment_method.attached', { id: pm, object: 'payment_method', customer, card: { brand: 'mastercard', last4: '4444' } }, opts);
const customerUpdated = (ws, customer, pm, card, opts) =>
  event(
    'customer.updated',
    { id: customer, object: 'customer', metadata: { workspace_id: ws }, invoice_settings: { default_payment_method: card ? { id: pm, object: 'payment_method', card } : pm } },
    { previous: { invoice_settings: { default_payment_method: null } }, ...opts },
  );
const intent = (ok, pi, invoiceId, customer, amount, opts, decline = 'insufficient_funds') =>
  event(
    ok ? 'payment_intent.succeeded' : 'payment_intent.payment_failed',
    {
      id: pi,
      object: 'payment_intent',
      amount,
      amount_received: ok ? amount : 0,
      currency: 'usd',
      customer,
      status: ok ? 'succeeded' : 'requires_payment_method',
      metadata: { invoice_id: invoiceId },
      last_payment_error: ok ? null : { type: 'card_error', code: 'card_declined', decline_code: decline },
    },
    opts,
  );

/** POSTs a raw body with a Stripe-Signature header (none when header is null). */
function deliver(srv, body, header) {
  const headers = { 'content-type': 'application/json; charset=utf-8' };
  if (header !== null) headers['stripe-signature'] = header;
  return srv.req(HOOK, { method: 'POST', headers, body });
}
/** Delivers an event signed with whsec_new (200 asserted). */
async function send(srv, evt, t = NOW_S) {
  const body = payload(evt);
  const r = await deliver(srv, body, sign(body, 'whsec_new', t));
  assert.equal(r.status, 200, `${evt.type} ${evt.id}: ${r.status} ${r.text}`);
  return r;
}
const recorded = async (srv, id) => Number(await srv.sql(`SELECT COUNT(*) FROM provider_events WHERE event_id = ${q(id)}`));

/**
 * A hooks-server workspace whose trial has ended with a saved card: an active subscription under
 * automatic collection with its first invoice open (payment pending; the collect job never runs here).
 */
async function hooksWorkspace(name = 'Hilda Hook') {
  const owner = await signUp(hooks, 'owner', `${uniq('hook')}@bill.test`, name);
  const wsId = (await owner.get('/api/v1/workspaces')).body.items[0].id;
  await hooks.sql(
    `INSERT INTO memberships (workspace_id, user_id, id, role, joined_at, status) VALUES (${q(wsId)}, ${q(dev.userId)}, ${q(`mem_${randomBytes(13).toString('hex').toUpperCase().slice(0, 26)}`)}, 'member', 1000000, 'active')`,
  );
  const c = await dev.post(`${B(wsId)}/test-clock`, { frozen_time: T0 });
  assert.equal(c.status, 201, c.text);
  const customer = `cus_${randomBytes(7).toString('hex')}`;
  await send(hooks, checkoutCompleted(wsId, customer, `pm_setup_${randomBytes(4).toString('hex')}`, 'visa', '4242', { created: NOW_S - 1000 }));
  const moved = await dev.post(`${B(wsId)}/test-clock/advance`, { frozen_time: c.body.subscription.trial_end });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.body.subscription.status, 'active', moved.text);
  assert.equal(moved.body.subscription.collection, 'charge_automatically');
  const [inv] = await invoices(owner, wsId);
  assert.deepEqual([inv.status, inv.payment_status, inv.amount_due], ['open', 'pending', 39000]);
  return { owner, wsId, customer, invoiceId: inv.id };
}

// ---------------------------------------------------------------------------------------------------
// Signatures.

test('signatures: valid (either secret, or both v1) → 200; tamper, wrong secret, ±301 s, missing or malformed header → 400, nothing recorded', async () => {
  const fresh = () => event('customer.created', { id: `cus_${randomBytes(6).toString('hex')}`, object: 'customer' });
  const accepted = async (evt, header, body = payload(evt)) => {
    const r = await deliver(hooks, body, header);
    assert.equal(r.status, 200, `${header}: ${r.text}`);
    assert.deepEqual(r.body, { received: true });
    assert.equal(await recorded(hooks, evt.id), 1, 'the event is recorded');
  };
  const refused = async (evt, header, body = payload(evt), slug = 'invalid-signature') => {
    const r = await deliver(hooks, body, header);
    const pb = problemOf(r, 400);
    assert.equal(pb.type, PROBLEM(slug), `${header}: ${r.text}`);
    assert.equal(await recorded(hooks, evt.id), 0, 'a refused event is not recorded');
    return pb;
  };
  const total = async () => Number(await hooks.sql('SELECT COUNT(*) FROM provider_events'));

  // Valid: the new secret, the old one, and both at once (a rotation).
  let e = fresh();
  await accepted(e, sign(payload(e), 'whsec_new'));
  e = fresh();
  await accepted(e, sign(payload(e), 'whsec_old'));
  e = fresh();
  const both = `t=${NOW_S},v1=${sign(payload(e), 'whsec_old').split('v1=')[1]},v1=${sign(payload(e), 'whsec_new').split('v1=')[1]}`;
  await accepted(e, both);
  e = fresh();
  await accepted(e, `t=${NOW_S},v1=${'0'.repeat(64)},v1=${sign(payload(e), 'whsec_new').split('v1=')[1]}`); // one of them matches
  // The tolerance is 300 s either way, inclusive.
  e = fresh();
  await accepted(e, sign(payload(e), 'whsec_new', NOW_S - 300));
  e = fresh();
  await accepted(e, sign(payload(e), 'whsec_new', NOW_S + 300));

  const before_ = await total();
  // One byte of the body changed after signing (the last character of the id).
  e = fresh();
  const body = payload(e);
  const header = sign(body);
  const i = body.indexOf(e.id) + e.id.length - 1;
  const tampered = body.slice(0, i) + (body[i] === 'a' ? 'b' : 'a') + body.slice(i + 1);
  assert.equal(Buffer.byteLength(tampered), Buffer.byteLength(body));
  await refused(e, header, tampered);
  assert.equal(await hooks.sql(`SELECT COUNT(*) FROM provider_events WHERE event_id LIKE ${q(e.id.slice(0, -1) + '%')}`), '0');
  // Whitespace re-serialisation is a change too.
  await refused(e, header, JSON.stringify(e));
  // A secret we do not have.
  await refused(e, sign(body, 'whsec_other'));
  await refused(e, sign(body, 'whsec_ne'));
  // Outside the tolerance, with an otherwise valid signature.
  const stale = await refused(e, sign(body, 'whsec_new', NOW_S - 301));
  assert.match(stale.detail, /tolerance/);
  await refused(e, sign(body, 'whsec_new', NOW_S + 301));
  await refused(e, sign(body, 'whsec_old', NOW_S - 86400));
  // Missing or malformed headers.
  const v1 = header.split('v1=')[1];
  for (const h of [null, '', `t=${NOW_S}`, `v1=${v1}`, 'garbage', `t=abc,v1=${v1}`, `t=${NOW_S},v1=xyz`, `t=${NOW_S},v0=${v1}`, `t=${NOW_S},v1=${v1.slice(0, 63)}`])
    await refused(e, h);
  assert.equal(await total(), before_, 'no refused delivery left a row');
  // A correct signature over something that is not an event: 400 invalid-event.
  for (const junk of ['not json', '{"id":"evt_x"}', '[]', '{"id":"evt_y","type":"x","created":"soon","data":{"object":{}}}']) {
    const r = await deliver(hooks, junk, sign(junk));
    assert.equal(problemOf(r, 400).type, PROBLEM('invalid-event'), `${junk}: ${r.text}`);
  }
  assert.equal(await total(), before_);
  // The same valid delivery is accepted later too (it is a duplicate then), and still once.
  await accepted(e, sign(body, 'whsec_old'));
  assert.equal((await deliver(hooks, body, sign(body))).status, 200);
  assert.equal(await recorded(hooks, e.id), 1);
});

// ---------------------------------------------------------------------------------------------------
// Exactly once.

test('one event delivered 20 times (in a row, then 20 at once) → 2xx each and exactly one effect', async () => {
  const w = await hooksWorkspace();
  const audit = async (action, like = '%') =>
    Number(await hooks.sql(`SELECT COUNT(*) FROM audit_events WHERE workspace_id = ${q(w.wsId)} AND action = ${q(action)} AND COALESCE(changes, '') LIKE ${q(like)}`));
  assert.equal((await invoice(w.owner, w.wsId, w.invoiceId)).attempt_count, 0);
  // A failed payment, 20 times in a row.
  const failed = intent(false, `pi_${randomBytes(6).toString('hex')}`, w.invoiceId, w.customer, 39000);
  const fb = payload(failed);
  for (let i = 0; i < 20; i++) {
    const r = await deliver(hooks, fb, sign(fb, i % 2 ? 'whsec_old' : 'whsec_new'));
    assert.ok(r.status >= 200 && r.status < 300, `delivery ${i}: ${r.status} ${r.text}`);
  }
  let doc = await invoice(w.owner, w.wsId, w.invoiceId);
  assert.equal(doc.attempt_count, 1, 'one failed attempt');
  assert.equal(doc.payment_status, 'failed');
  assert.equal(await audit('billing.invoice.payment_failed', '%insufficient_funds%'), 1);
  assert.equal(await audit('billing.subscription.past_due'), 1);
  assert.equal((await overview(w.owner, w.wsId)).subscription.status, 'past_due');
  assert.equal(Number(await hooks.sql(`SELECT COUNT(*) FROM dunning_episodes WHERE workspace_id = ${q(w.wsId)}`)), 1);
  assert.equal(await recorded(hooks, failed.id), 1);
  // The same PaymentIntent's failure under another event id (a provider retry that made a new
  // event) is the same fact: no second attempt.
  await send(hooks, intent(false, failed.data.object.id, w.invoiceId, w.customer, 39000));
  assert.equal((await invoice(w.owner, w.wsId, w.invoiceId)).attempt_count, 1);

  // The success, 20 deliveries at once.
  const ok = intent(true, `pi_${randomBytes(6).toString('hex')}`, w.invoiceId, w.customer, 39000);
  const ob = payload(ok);
  const all = await Promise.all(Array.from({ length: 20 }, (_, i) => deliver(hooks, ob, sign(ob, i % 2 ? 'whsec_old' : 'whsec_new'))));
  for (const r of all) assert.ok(r.status >= 200 && r.status < 300, `${r.status} ${r.text}`);
  doc = await invoice(w.owner, w.wsId, w.invoiceId);
  assert.deepEqual([doc.status, doc.payment_status, doc.amount_paid, doc.amount_remaining], ['paid', 'succeeded', 39000, 0]);
  assert.equal(await audit('billing.invoice.paid'), 1);
  assert.equal(await audit('billing.subscription.active', '%invoice paid%'), 1, 'back to active once');
  assert.equal(await recorded(hooks, ok.id), 1);
  const rows = await hooks.sql(`SELECT provider_ref || '=' || outcome FROM payment_attempts WHERE workspace_id = ${q(w.wsId)} ORDER BY provider_ref`);
  assert.deepEqual(rows.split('\n').sort(), [`${failed.data.object.id}=failed`, `${ok.data.object.id}=succeeded`].sort());
  const o = await overview(w.owner, w.wsId);
  assert.equal(o.subscription.status, 'active');
  assert.equal(o.subscription.past_due_since, null);
  assert.equal(await hooks.sql(`SELECT outcome FROM dunning_episodes WHERE workspace_id = ${q(w.wsId)}`), 'recovered');
  // Events about objects we do not know are accepted and ignored.
  await send(hooks, intent(true, 'pi_unknown', 'in_00000000000000000000000000', 'cus_unknown', 100));
  await send(hooks, checkoutCompleted('ws_00000000000000000000000000', 'cus_unknown', 'pm_x', 'visa', '4242'));
});

// ---------------------------------------------------------------------------------------------------
// Any order.

/** A seeded PRNG (mulberry32), so a failing permutation can be replayed from its seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function shuffle(xs, rnd) {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The realistic sequence for one workspace, in the order Stripe made the events (created ascending). */
function sequence(w) {
  const s = randomBytes(3).toString('hex');
  const pmVisa = `pm_${s}_visa`;
  const pmMc = `pm_${s}_mc`;
  const pi1 = `pi_${s}_1`;
  const pi2 = `pi_${s}_2`;
  const C = NOW_S - 500;
  const e = [
    customerUpdated(w.wsId, w.customer, `pm_${s}_old`, { brand: 'amex', last4: '0005' }, { created: C }), // an old default, delivered late
    checkoutCompleted(w.wsId, w.customer, pmVisa, 'visa', '4242', { created: C + 1 }),
    pmAttached(w.customer, pmMc, { created: C + 2 }),
    customerUpdated(w.wsId, w.customer, pmMc, { brand: 'mastercard', last4: '4444' }, { created: C + 3 }),
    intent(false, pi1, w.invoiceId, w.customer, 39000, { created: C + 4 }),
    intent(true, pi2, w.invoiceId, w.customer, 39000, { created: C + 5 }),
    intent(false, pi2, w.invoiceId, w.customer, 39000, { created: C + 6 }, 'generic_decline'), // contradicts the success
  ];
  // In order, with two duplicates delivered right after their originals.
  const ordered = [e[0], e[1], e[2], e[3], e[3], e[4], e[4], e[5], e[6]];
  return { ordered, names: { [pmVisa]: 'PM_VISA', [pmMc]: 'PM_MC', [pi1]: 'PI_1', [pi2]: 'PI_2', [w.customer]: 'CUS' } };
}

/** The billing state the events decide, with this workspace's ids replaced by names. */
async function billingState(w, names) {
  const o = await overview(w.owner, w.wsId);
  const inv = await invoice(w.owner, w.wsId, w.invoiceId);
  const cust = await hooks.sql(
    `SELECT provider || '|' || provider_customer_id || '|' || payment_method || '|' || payment_method_label FROM billing_customers WHERE workspace_id = ${q(w.wsId)}`,
  );
  const attempts = await hooks.sql(`SELECT provider_ref || '=' || outcome FROM payment_attempts WHERE workspace_id = ${q(w.wsId)}`);
  const name = (s) => Object.entries(names).reduce((acc, [k, v]) => acc.split(k).join(v), s);
  return {
    subscription: [o.subscription.status, o.subscription.past_due_since, o.entitled, o.banner?.kind ?? null],
    invoice: [inv.status, inv.payment_status, inv.amount_paid, inv.amount_remaining, inv.paid_at],
    customer: name(cust),
    payment_method: o.customer.payment_method,
    attempts: attempts.split('\n').map(name).sort(),
  };
}

test(`${PERMUTATIONS} random permutations of a realistic event sequence converge to the in-order result (the full 1,000 run in tests/unit/billing/webhooks.c)`, async () => {
  const base = await hooksWorkspace('Ira Inorder');
  const seq0 = sequence(base);
  for (const e of seq0.ordered) await send(hooks, e);
  const want = await billingState(base, seq0.names);
  // The in-order result, by hand: the newest default card (Mastercard •••• 4444) is the customer's;
  // the invoice is paid by PI_2, which stays succeeded; PI_1's failure is kept as a failure.
  assert.deepEqual(want, {
    subscription: ['active', null, true, null],
    invoice: ['paid', 'succeeded', 39000, 0, base.invoiceId && want.invoice[4]],
    customer: 'stripe|CUS|PM_MC|Mastercard •••• 4444',
    payment_method: { label: 'Mastercard •••• 4444' },
    attempts: ['PI_1=failed', 'PI_2=succeeded'],
  });
  assert.match(want.invoice[4], /^2031-01-15T00:00:00Z$/);

  const seed = Number(process.env.ATRIUM_TEST_SEED || 20311);
  const rnd = prng(seed);
  for (let n = 0; n < PERMUTATIONS; n++) {
    const w = await hooksWorkspace(`Perm ${n}`);
    const { ordered, names } = sequence(w);
    const order = shuffle(ordered, rnd);
    for (const e of order) await send(hooks, e);
    const got = await billingState(w, names);
    assert.deepEqual(got, want, `permutation ${n} (seed ${seed}): ${order.map((e) => `${e.type}@${e.created - NOW_S}`).join(', ')}`);
  }
});

// ---------------------------------------------------------------------------------------------------
// The full flow through the stand-in.

/** A flow-server root with its owner a developer and a test clock at the present. */
async function flowRoot(name, { details = true } = {}) {
  // The program clock at the present whole second, frozen: the trial starts at a whole second (so
  // times computed here match the server's to the microsecond) and the stand-in, which signs with the
  // real time, stays well within the 300 s tolerance for the few seconds a test takes.
  await setProgramClock(flow, iso(Math.floor(Date.now() / 1000) * 1000));
  const a = await newRoot(flow, { developer: true, name });
  const c = await a.owner.post(`${B(a.wsId)}/test-clock`, {});
  assert.equal(c.status, 201, c.text);
  if (details) {
    // Billing details as a customer fills them in (checkout without them is tested on its own below).
    const d = await a.owner.patch(`${B(a.wsId)}/customer`, { name: `${name} Ltd`, email: a.email, country: 'US' }, { ifMatch: '*' });
    assert.equal(d.status, 200, d.text);
  }
  return { ...a, trialEnd: c.body.subscription.trial_end };
}

/** Opens checkout and completes it on the stand-in's page with a test payment method. */
async function checkout(a, pm) {
  const r = await a.owner.post(`${B(a.wsId)}/checkout`, {});
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.url.startsWith(`${standin.url}/checkout/`), r.body.url);
  const page = await fetch(r.body.url);
  assert.equal(page.status, 200);
  assert.ok((await page.text()).includes(`value="${pm}"`));
  const done = await fetch(r.body.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `payment_method=${pm}`,
    redirect: 'manual',
  });
  assert.equal(done.status, 303);
  assert.ok(done.headers.get('location').endsWith(`/w/${a.wsId}/settings/billing?checkout=done`), done.headers.get('location'));
  await standin.idle();
  const [evt] = (await standin.events('checkout.session.completed')).filter((e) => e.event.data.object.client_reference_id === a.wsId);
  assert.ok(evt, 'the stand-in made checkout.session.completed');
  assert.deepEqual(
    evt.deliveries.map((d) => d.status),
    [200],
    'delivered once to our webhook and accepted',
  );
}

const paymentIntents = async (invoiceId) =>
  (await standin.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents' && r.params?.metadata?.invoice_id === invoiceId);

test('flow: checkout saves a card (the stand-in delivers checkout.session.completed); at the trial end the invoice is paid through a PaymentIntent, once', async () => {
  const a = await flowRoot('Flo Flow');
  await checkout(a, 'pm_card_visa');
  const o = await overview(a.owner, a.wsId);
  assert.equal(o.provider, 'stripe');
  assert.deepEqual(o.customer.payment_method, { label: 'Visa •••• 4242' });
  assert.equal(o.subscription.collection, 'charge_automatically');

  const atTrialEnd = (await moveClock(a.owner, a.wsId, a.trialEnd)).subscription;
  const [inv] = await invoices(a.owner, a.wsId);
  assert.deepEqual([inv.status, inv.total], ['open', 39000]);
  await runJobs(flow); // billing.collect: a PaymentIntent through the stand-in
  await standin.idle(); // its payment_intent.succeeded webhook arrived as well
  const doc = await invoice(a.owner, a.wsId, inv.id);
  assert.deepEqual([doc.status, doc.payment_status, doc.amount_paid], ['paid', 'succeeded', 39000]);
  const pis = await paymentIntents(inv.id);
  assert.equal(pis.length, 1, JSON.stringify(pis));
  assert.equal(pis[0].params.amount, '39000');
  assert.equal(pis[0].params.currency, 'usd');
  assert.equal(pis[0].params.payment_method, 'pm_card_visa');
  assert.equal(pis[0].idempotency_key, `atrium-${inv.id}-1`);
  const [succeeded] = (await standin.events('payment_intent.succeeded')).filter((e) => e.event.data.object.metadata.invoice_id === inv.id);
  assert.deepEqual(
    succeeded.deliveries.map((d) => d.status),
    [200],
  );
  assert.equal(await flow.sql(`SELECT COUNT(*) FROM audit_events WHERE workspace_id = ${q(a.wsId)} AND action = 'billing.invoice.paid'`), '1');
  assert.equal(await flow.sql(`SELECT COUNT(*) FROM payment_attempts WHERE workspace_id = ${q(a.wsId)}`), '1');
  // Running the jobs again charges nothing more.
  await runJobs(flow);
  await standin.idle();
  assert.equal((await paymentIntents(inv.id)).length, 1);
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'active');
  // Nothing failed: the subscription stayed active from the trial's end on, no payment was declared
  // failed and nobody was told so (a new invoice under automatic collection is never "overdue" at once).
  const failures = await flow.sql(`SELECT changes FROM audit_events WHERE workspace_id = ${q(a.wsId)} AND action = 'billing.invoice.payment_failed'`);
  assert.equal(failures, '', `payment_failed recorded: ${failures}`);
  assert.ok(!readMailFolder(flow.dataDir).some((m) => (m.to || '').includes(a.email) && /did not go through$/.test(m.subject)), 'a payment-failed mail');
  assert.equal(atTrialEnd.status, 'active', 'active at the trial end, while the payment is collected');
  assert.equal(inv.payment_status, 'pending', 'the new invoice waits for its payment attempt');
  assert.equal(doc.attempt_count, 0, 'no failed attempt');
});

test('flow: the provider is down when the payment is collected; "pay now" queues another attempt, which pays once', async () => {
  const a = await flowRoot('Otto Outage');
  const admin = await addMember(flow, a.wsId, 'admin', a.email);
  await checkout(a, 'pm_card_visa');
  await moveClock(a.owner, a.wsId, a.trialEnd);
  const [inv] = await invoices(a.owner, a.wsId);
  await standin.failNext(1, 500);
  await runJobs(flow); // the collect job meets a 500 from the provider: nothing is recorded, the job will retry
  let doc = await invoice(a.owner, a.wsId, inv.id);
  assert.deepEqual([doc.status, doc.payment_status, doc.attempt_count], ['open', 'pending', 0]);
  assert.equal(await flow.sql(`SELECT COUNT(*) FROM payment_attempts WHERE workspace_id = ${q(a.wsId)}`), '0');
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'active', 'an outage is not a decline');
  // Only the owner may ask to pay now.
  problemOf(await admin.post(`${B(a.wsId)}/invoices/${inv.id}/pay`, {}), 403);
  const pay = await a.owner.post(`${B(a.wsId)}/invoices/${inv.id}/pay`, {});
  assert.equal(pay.status, 202, pay.text);
  assert.deepEqual(pay.body, { invoice_id: inv.id, queued: true });
  await runJobs(flow);
  await standin.idle();
  doc = await invoice(a.owner, a.wsId, inv.id);
  assert.deepEqual([doc.status, doc.payment_status, doc.amount_paid], ['paid', 'succeeded', 39000]);
  assert.equal((await paymentIntents(inv.id)).filter((r) => r.status === 200).length, 1, 'charged once');
  const again = await a.owner.post(`${B(a.wsId)}/invoices/${inv.id}/pay`, {});
  assert.equal(problemOf(again, 409).type, PROBLEM('invalid-state'));
});

test('flow: a declined card → payment_failed → past_due; the ladder retries through the stand-in until unpaid; a new card via the portal pays', async () => {
  const a = await flowRoot('Dora Decline');
  await checkout(a, 'pm_card_chargeDeclined');
  await moveClock(a.owner, a.wsId, a.trialEnd);
  const [inv] = await invoices(a.owner, a.wsId);
  await runJobs(flow);
  await standin.idle();
  let o = await overview(a.owner, a.wsId);
  assert.equal(o.subscription.status, 'past_due');
  assert.equal(o.subscription.past_due_since, a.trialEnd);
  let doc = await invoice(a.owner, a.wsId, inv.id);
  assert.deepEqual([doc.status, doc.payment_status], ['open', 'failed']);
  // Each PaymentIntent is one failed attempt, though its decline also came by webhook.
  const declines = async () =>
    Number(await flow.sql(`SELECT COUNT(*) FROM audit_events WHERE workspace_id = ${q(a.wsId)} AND action = 'billing.invoice.payment_failed' AND changes LIKE '%generic_decline%'`));
  const attemptRows = () => flow.sql(`SELECT outcome FROM payment_attempts WHERE workspace_id = ${q(a.wsId)} AND invoice_id = ${q(inv.id)}`);
  assert.equal(await declines(), 1, 'the decline and its webhook are one attempt');
  assert.equal(await attemptRows(), 'failed');
  const failedEvt = (await standin.events('payment_intent.payment_failed')).filter((e) => e.event.data.object.metadata.invoice_id === inv.id);
  assert.equal(failedEvt.length, 1);
  assert.deepEqual(
    failedEvt[0].deliveries.map((d) => d.status),
    [200],
  );
  await runJobs(flow);
  assert.ok(readMailFolder(flow.dataDir).some((m) => (m.to || '').includes(a.email) && /did not go through$/.test(m.subject)));

  // The ladder: a retry (a new PaymentIntent) on days 1, 3, 5, 7, 9, 11 and 14; unpaid on day 14.
  for (const [d, attempts] of [
    [1, 2],
    [3, 3],
    [5, 4],
    [7, 5],
    [9, 6],
    [11, 7],
    [14, 8],
  ]) {
    await moveClock(a.owner, a.wsId, plus(a.trialEnd, d * 86400));
    await runJobs(flow);
    await standin.idle();
    assert.equal((await paymentIntents(inv.id)).length, attempts, `payment intents by day ${d}`);
    assert.equal(await declines(), attempts, `declines recorded by day ${d}`);
    assert.deepEqual((await attemptRows()).split('\n'), Array(attempts).fill('failed'));
    assert.equal((await overview(a.owner, a.wsId)).subscription.status, d < 14 ? 'past_due' : 'unpaid', `day ${d}`);
  }
  o = await overview(a.owner, a.wsId);
  assert.equal(o.subscription.status, 'unpaid');
  assert.equal(o.entitled, false);

  // A new card through the portal: customer.updated names it the default; collection restarts and pays.
  const portal = await a.owner.post(`${B(a.wsId)}/portal`, {});
  assert.equal(portal.status, 200, portal.text);
  assert.ok(portal.body.url.startsWith(`${standin.url}/portal/`), portal.body.url);
  const res = await fetch(portal.body.url, { method: 'POST', body: 'payment_method=pm_card_visa', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(res.status, 303);
  await standin.idle();
  await runJobs(flow);
  await standin.idle();
  doc = await invoice(a.owner, a.wsId, inv.id);
  assert.deepEqual([doc.status, doc.payment_status, doc.amount_paid], ['paid', 'succeeded', 39000]);
  o = await overview(a.owner, a.wsId);
  assert.equal(o.subscription.status, 'active');
  assert.equal(o.entitled, true);
  assert.notEqual(o.customer.payment_method, null);
  assert.equal(await flow.sql(`SELECT payment_method FROM billing_customers WHERE workspace_id = ${q(a.wsId)}`), 'pm_card_visa');
});

test('flow: a trial that ends without a card pauses; a card and resume make it active, invoiced and paid', async () => {
  const a = await flowRoot('Paula Pause');
  await moveClock(a.owner, a.wsId, a.trialEnd);
  let o = await overview(a.owner, a.wsId);
  assert.equal(o.subscription.status, 'paused');
  assert.equal(o.banner.kind, 'paused');
  assert.equal(o.entitled, false);
  assert.equal((await invoices(a.owner, a.wsId)).length, 0);
  problemOf(await a.owner.get(`${W(a.wsId)}/api-keys`), 402);
  await checkout(a, 'pm_card_mastercard');
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'paused', 'a card alone does not resume');
  const later = plus(a.trialEnd, 2 * 86400);
  await moveClock(a.owner, a.wsId, later);
  const r = await a.owner.post(`${B(a.wsId)}/subscription/resume`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.subscription.status, 'active');
  assert.equal(r.body.subscription.current_period_start, later);
  await runJobs(flow);
  await standin.idle();
  const [inv] = await invoices(a.owner, a.wsId);
  assert.deepEqual([inv.status, inv.total, inv.period_start], ['paid', 39000, later]);
  assert.equal((await a.owner.get(`${W(a.wsId)}/api-keys`)).status, 200);
});

test('flow: a subscription without a trial is incomplete until its first payment; a declined one expires after 23 hours', async () => {
  // Paid: incomplete → active.
  const a = await flowRoot('Ivy Incomplete');
  assert.equal((await a.owner.post(`${B(a.wsId)}/subscription/cancel`, { at_period_end: false })).status, 200);
  await checkout(a, 'pm_card_visa');
  const s = await a.owner.post(`${B(a.wsId)}/subscription`, { plan_id: 'starter', quantity: 2 });
  assert.equal(s.status, 201, s.text);
  assert.equal(s.body.subscription.status, 'incomplete');
  assert.equal((await overview(a.owner, a.wsId)).banner.kind, 'incomplete');
  await runJobs(flow);
  await standin.idle();
  const [inv] = await invoices(a.owner, a.wsId);
  assert.deepEqual([inv.reason, inv.status, inv.total], ['subscription_create', 'paid', 3000]);
  assert.equal((await overview(a.owner, a.wsId)).subscription.status, 'active');

  // Declined: stays incomplete (no ladder), and 23 hours later expires with its invoice voided.
  const b = await flowRoot('Xena Expire');
  const started = plus(b.trialEnd, -13 * 86400);
  await moveClock(b.owner, b.wsId, started);
  assert.equal((await b.owner.post(`${B(b.wsId)}/subscription/cancel`, { at_period_end: false })).status, 200);
  await checkout(b, 'pm_card_chargeDeclined');
  const s2 = await b.owner.post(`${B(b.wsId)}/subscription`, { plan_id: 'starter', quantity: 2 });
  assert.equal(s2.status, 201, s2.text);
  await runJobs(flow);
  await standin.idle();
  let o = await overview(b.owner, b.wsId);
  assert.equal(o.subscription.status, 'incomplete');
  assert.equal(o.subscription.past_due_since, null, 'no dunning for a first payment');
  await moveClock(b.owner, b.wsId, plus(started, 23 * 3600 - 1));
  assert.equal((await overview(b.owner, b.wsId)).subscription.status, 'incomplete');
  await moveClock(b.owner, b.wsId, plus(started, 23 * 3600));
  o = await overview(b.owner, b.wsId);
  assert.equal(o.subscription, null);
  const row = await flow.sql(`SELECT status FROM subscriptions WHERE workspace_id = ${q(b.wsId)} ORDER BY created_at DESC LIMIT 1`);
  assert.equal(row, 'incomplete_expired');
  const [inv2] = await invoices(b.owner, b.wsId);
  assert.equal(inv2.status, 'void');
});

test('flow: checkout works for a new sign-up whose billing details are still empty', async () => {
  const a = await flowRoot('Eve Empty', { details: false });
  const r = await a.owner.post(`${B(a.wsId)}/checkout`, {});
  assert.equal(r.status, 200, `checkout before any billing details: ${r.status} ${r.text}`);
  assert.ok(r.body.url.startsWith(`${standin.url}/checkout/`), r.body.url);
  const [cust] = (await standin.requests()).filter((x) => x.path === '/v1/customers' && x.params?.metadata?.workspace_id === a.wsId && x.status === 200);
  assert.ok(cust, 'a Stripe customer was made');
  assert.equal(cust.params.email, a.email, "the customer's email falls back to an owner's");
});

test('checkout is refused under manual collection; the webhook endpoint does not exist without secrets', async () => {
  const manual = await startBillingServer();
  try {
    const a = await newRoot(manual);
    const r = await a.owner.post(`${B(a.wsId)}/checkout`, {});
    assert.equal(problemOf(r, 409).type, PROBLEM('not-supported'));
    const p = await a.owner.post(`${B(a.wsId)}/portal`, {});
    assert.equal(p.status, 200, p.text);
    assert.equal(p.body.url, `/w/${a.wsId}/settings/billing/portal`);
    const body = payload(event('customer.created', { id: 'cus_x', object: 'customer' }));
    problemOf(await deliver(manual, body, sign(body)), 404);
  } finally {
    await manual.stop();
  }
});

// ---------------------------------------------------------------------------------------------------
// Long values kept whole (issue 12, items 1 and 11: no fixed-size buffers for settings and user text).

test('webhook secrets longer than 1,024 bytes (a dozen of them): the last one still verifies, and only whole secrets do', async () => {
  const many = Array.from({ length: 12 }, (_, i) => `whsec_${String(i).padStart(2, '0')}${randomBytes(48).toString('hex')}`);
  const list = many.join(', ');
  assert.ok(Buffer.byteLength(list) > 1024, `${Buffer.byteLength(list)} bytes`);
  const s = await startBillingServer({ env: { ...stripeEnv(), ATRIUM_STRIPE_WEBHOOK_SECRETS: list } });
  try {
    const fresh = () => event('customer.created', { id: `cus_${randomBytes(6).toString('hex')}`, object: 'customer' });
    for (const secret of [many[0], many[8], many.at(-1)]) {
      const e = fresh();
      const r = await deliver(s, payload(e), sign(payload(e), secret));
      assert.equal(r.status, 200, `signed with secret ${many.indexOf(secret) + 1} of ${many.length}: ${r.text}`);
      assert.equal(await recorded(s, e.id), 1);
    }
    // A cut secret (what a fixed buffer used to leave of the last one) verifies nothing.
    const e = fresh();
    const r = await deliver(s, payload(e), sign(payload(e), many.at(-1).slice(0, 40)));
    assert.equal(problemOf(r, 400).type, PROBLEM('invalid-signature'), r.text);
    assert.equal(await recorded(s, e.id), 0);
  } finally {
    await s.stop();
  }
});

test('flow: a 200-character customer name in four-byte characters reaches the provider and the overview whole', async () => {
  const name = Array.from({ length: 200 }, (_, i) => ['𝒜', '株', 'ü', 'e'][i % 4]).join('');
  assert.equal([...name].length, 200);
  const a = await flowRoot('Nina Name', { details: false });
  const d = await a.owner.patch(`${B(a.wsId)}/customer`, { name, email: a.email, country: 'JP' }, { ifMatch: '*' });
  assert.equal(d.status, 200, d.text);
  assert.equal((await overview(a.owner, a.wsId)).customer.name, name);
  const r = await a.owner.post(`${B(a.wsId)}/checkout`, {});
  assert.equal(r.status, 200, r.text);
  const [cust] = (await standin.requests()).filter((x) => x.path === '/v1/customers' && x.params?.metadata?.workspace_id === a.wsId && x.status === 200);
  assert.ok(cust, 'a Stripe customer was made');
  assert.equal(cust.params.name, name, 'the provider got the whole name');
});
