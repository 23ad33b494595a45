// Billing: the invoice as a document (issue 7, features.md §1.5). One German customer whose name needs
// escaping gets a renewal invoice with every kind of line (usage overage of three meters, two pending
// prorations, seats) and amounts above $1,000; its JSON document carries the issuer and the customer
// as they were at issue, every line, the tax and the totals (amounts by hand below); the HTML view is
// text/html with the customer's name escaped and a locked-down CSP; the PDF is application/pdf,
// starts with %PDF-, comes as an attachment named after the number, and its text (pdftotext) has the
// number, the customer, every line amount and the totals formatted like "$1,234.56". The list pages
// newest first with a cursor; who may read which invoice.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { problemOf } from '../lib/server.mjs';
import { principal } from './lib-world.mjs';
import {
  startBillingServer,
  newRoot,
  addMember,
  startClock,
  moveClock,
  invoices,
  invoice,
  payAll,
  B,
  T0,
  TRIAL_END,
  errorFields,
  usd,
  taxOf,
  uniq,
  assertBillingInvariants,
} from './lib-billing.mjs';

const run = promisify(execFile);

let srv;
let a; // the German customer's root
let renewal; // its renewal invoice (the document under test)
let first; // its first invoice
let admin;
let member;
let foreign;

const P1_END = '2031-02-15T00:00:00Z';
const P2_END = '2031-03-15T00:00:00Z';
const NAME = 'Müller & <Söhne> "GmbH"';

before(async () => {
  srv = await startBillingServer();
  a = await newRoot(srv, { developer: true, name: 'Ines Invoice' });
  admin = await addMember(srv, a.wsId, 'admin', a.email);
  member = await addMember(srv, a.wsId, 'member', a.email);
  foreign = await newRoot(srv, { name: 'Fred Foreign' });
  await startClock(a.owner, a.wsId, T0);
  const c = await a.owner.patch(
    `${B(a.wsId)}/customer`,
    {
      name: NAME,
      email: 'rechnung@mueller.test',
      address_line1: 'Königstraße 5',
      address_line2: '2. OG',
      city: 'Stuttgart',
      postal_code: '70173',
      region: 'BW',
      country: 'DE',
      tax_id: 'DE811907980',
    },
    { ifMatch: '*' },
  );
  assert.equal(c.status, 200, c.text);
  // 40 seats during the trial (no invoice), so the first invoice is 40 × $39.00 = $1,560.00.
  assert.equal((await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 40 })).status, 200);
  await moveClock(a.owner, a.wsId, TRIAL_END);
  await payAll(a.owner, a.wsId);
  // Usage in the first period: 2,000 AI minutes, 250,000 API calls, 12,345 contacts.
  const u = await a.owner.post(`${B(a.wsId)}/usage`, {
    events: [
      { event_id: uniq('e'), metric: 'ai_minutes', quantity: 2000 },
      { event_id: uniq('e'), metric: 'api_calls', quantity: 250_000 },
      { event_id: uniq('e'), metric: 'contacts', quantity: 12_345 },
    ],
  });
  assert.equal(u.status, 200, u.text);
  // Halfway through the period, 40 → 41 seats prorated onto the renewal.
  await moveClock(a.owner, a.wsId, '2031-01-30T12:00:00Z');
  const ch = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 41, proration: 'prorate' });
  assert.equal(ch.status, 200, ch.text);
  await moveClock(a.owner, a.wsId, '2031-02-16T00:00:00Z');
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 2, JSON.stringify(list));
  first = await invoice(a.owner, a.wsId, list[0].id);
  renewal = await invoice(a.owner, a.wsId, list[1].id);
  // Later changes of the customer's details do not rewrite issued invoices.
  const later = await a.owner.patch(`${B(a.wsId)}/customer`, { name: 'Renamed Later AG' }, { ifMatch: '*' });
  assert.equal(later.status, 200, later.text);
});

after(async () => {
  await srv?.stop();
});
// Every scenario leaves the billing invariants intact (every waiting proration billed once, on the
// invoice that shows it; subtotal = Σ lines; total = subtotal + tax; amount_due ≥ 0).
afterEach(async () => {
  if (srv) await assertBillingInvariants(srv);
});


// The renewal, by hand:
//   AI minutes   2,000 used − 500 included   = 1,500 × $0.06              =   9,000  ($90.00)
//   API calls  250,000 − 100,000 = 150,000 → 150 packages of 1,000 × $0.40 =   6,000  ($60.00)
//   Contacts    12,345 − 10,000  =   2,345 × $0.01                          =   2,345  ($23.45)
//   Unused time on 40 seats after Jan 30 12:00: −round(156000 × 1339200 / 2678400) = −78,000 (−$780.00)
//   Remaining time on 41 seats:                 +round(159900 × 1339200 / 2678400) = +79,950 ($799.50)
//   41 seats × $39.00 for Feb 15 → Mar 15                                  = 159,900 ($1,599.00)
//   subtotal 179,195 ($1,791.95); VAT 19 % = 34,047.05 → 34,047 ($340.47); total 213,242 ($2,132.42)
const LINES = [
  ['usage', 'AI minutes: 1500 minutes beyond the 500 included', 1500, 6, 9000, TRIAL_END, P1_END],
  ['usage', 'API calls: 150000 calls beyond the 100000 included (per 1000)', 150000, 40, 6000, TRIAL_END, P1_END],
  ['usage', 'Contacts: 2345 contacts beyond the 10000 included', 2345, 1, 2345, TRIAL_END, P1_END],
  ['proration', 'Unused time on Pro, 40 seats, monthly after 2031-01-30', 1, -78000, -78000, '2031-01-30T12:00:00Z', P1_END],
  ['proration', 'Remaining time on Pro, 41 seats, monthly after 2031-01-30', 1, 79950, 79950, '2031-01-30T12:00:00Z', P1_END],
  ['seats', 'Pro seats (per month)', 41, 3900, 159900, P1_END, P2_END],
];
const SUBTOTAL = 179195;
const TAX = 34047;
const TOTAL = 213242;

test('the invoice document: issuer and customer as at issue, every line, tax on the subtotal, totals', async () => {
  assert.equal(TAX, taxOf(SUBTOTAL, 1900));
  const inv = renewal;
  assert.match(inv.id, /^in_[0-9A-Z]{26}$/);
  assert.match(inv.number, /^ATR-\d{6}$/);
  assert.equal(Number(inv.number.slice(4)), Number(first.number.slice(4)) + 1);
  assert.equal(inv.workspace_id, a.wsId);
  assert.equal(inv.status, 'open');
  assert.equal(inv.payment_status, 'pending');
  assert.equal(inv.reason, 'subscription_cycle');
  assert.equal(inv.currency, 'USD');
  assert.deepEqual(inv.issuer, {
    name: 'Atrium Cloud Ltd',
    address: ['100 Market Street, Suite 300', 'San Francisco, CA 94105', 'United States'],
    tax_id: 'EIN 88-1234567',
    email: 'billing@atrium.example',
  });
  assert.deepEqual(inv.customer, {
    name: NAME,
    email: 'rechnung@mueller.test',
    address: ['Königstraße 5', '2. OG', '70173 Stuttgart, BW', 'DE'],
    country: 'DE',
    tax_id: 'DE811907980',
  });
  // (The order of the two prorations is billing-proration.test.mjs's concern; here they are compared
  // as a set, so this document test does not fail for that one reason.)
  const rows = inv.lines.map((l) => [l.kind, l.description, l.quantity, l.unit_amount, l.amount, l.period_start, l.period_end]);
  const byAmount = (x, y) => x[4] - y[4];
  assert.deepEqual(rows.slice(0, 3), LINES.slice(0, 3));
  assert.deepEqual(rows.slice(3, 5).sort(byAmount), LINES.slice(3, 5).sort(byAmount));
  assert.deepEqual(rows.slice(5), LINES.slice(5));
  assert.equal(inv.subtotal, SUBTOTAL);
  assert.deepEqual(inv.tax, { name: 'VAT', country: 'DE', rate_bp: 1900, amount: TAX });
  assert.equal(inv.total, TOTAL);
  assert.equal(inv.applied_balance, 0);
  assert.equal(inv.amount_due, TOTAL);
  assert.equal(inv.amount_paid, 0);
  assert.equal(inv.amount_remaining, TOTAL);
  assert.equal(inv.period_start, P1_END);
  assert.equal(inv.period_end, P2_END);
  assert.equal(inv.created_at, P1_END);
  assert.equal(inv.finalized_at, P1_END);
  assert.equal(inv.due_at, '2031-02-22T00:00:00Z');
  for (const k of ['paid_at', 'voided_at', 'marked_uncollectible_at', 'next_payment_attempt']) assert.equal(inv[k], null, k);
  assert.equal(inv.attempt_count, 0);
  // The first invoice: 40 × 3900 = 156000; VAT 29640; total 185640 ($1,856.40), paid.
  assert.deepEqual([first.subtotal, first.tax.amount, first.total, first.status], [156000, 29640, 185640, 'paid']);
  assert.equal(first.amount_paid, 185640);
  assert.equal(first.customer.name, NAME, 'the snapshot is not rewritten by later changes');
});

test('HTML view: text/html, the customer name escaped, every amount shown, nothing may load or run', async () => {
  const res = await a.owner.get(`${B(a.wsId)}/invoices/${renewal.id}/html`);
  assert.equal(res.status, 200, res.text.slice(0, 300));
  assert.match(res.headers.get('content-type'), /^text\/html;\s*charset=utf-8$/i);
  const csp = res.headers.get('content-security-policy') || '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'self'/);
  const html = res.text;
  assert.ok(!html.includes('<Söhne>'), 'the raw name is not in the page');
  assert.ok(!html.includes('& <'), 'no unescaped ampersand before a tag');
  assert.match(html, /Müller &amp; &lt;Söhne&gt; (&quot;|&#34;|&#x22;)GmbH(&quot;|&#34;|&#x22;)/);
  assert.ok(!/<script/i.test(html), 'no script in an invoice');
  assert.ok(html.includes(renewal.number));
  for (const amount of [9000, 6000, 2345, -78000, 79950, 159900, SUBTOTAL, TAX, TOTAL]) assert.ok(html.includes(usd(amount)), `${usd(amount)} in the HTML`);
  assert.ok(html.includes('$1,791.95') && html.includes('$2,132.42'));
  assert.ok(html.includes('Atrium Cloud Ltd'));
  assert.ok(html.includes('DE811907980'));
});

test('PDF: application/pdf, %PDF-, an attachment named after the number; its text has the number, customer, lines and totals', async () => {
  const res = await srv.fetch(`${B(a.wsId)}/invoices/${renewal.id}/pdf`, { headers: { cookie: a.owner.cookie } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="invoice-${renewal.number}.pdf"`);
  const pdf = Buffer.from(await res.arrayBuffer());
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.match(pdf.subarray(-1024).toString('latin1'), /%%EOF\s*$/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-pdf-'));
  try {
    const file = path.join(dir, 'invoice.pdf');
    fs.writeFileSync(file, pdf);
    const { stdout } = await run('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { timeout: 30_000 });
    const text = stdout.replace(/[ \t]+/g, ' ');
    assert.ok(text.includes(renewal.number), `number in:\n${text}`);
    assert.ok(text.includes(NAME), `customer in:\n${text}`);
    assert.ok(text.includes('Atrium Cloud Ltd'));
    for (const amount of [9000, 6000, 2345, -78000, 79950, 159900, SUBTOTAL, TAX, TOTAL])
      assert.ok(text.includes(usd(amount)), `${usd(amount)} in the PDF text:\n${text}`);
    assert.ok(text.includes('$1,599.00') && text.includes('$2,132.42'));
    assert.ok(text.includes('API calls'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('who may read invoices: owner and admin; a member 403; another workspace 404; nobody signed in 401; unknown id 404', async () => {
  const paths = (id) => [`${B(a.wsId)}/invoices`, `${B(a.wsId)}/invoices/${id}`, `${B(a.wsId)}/invoices/${id}/html`, `${B(a.wsId)}/invoices/${id}/pdf`];
  for (const p of paths(renewal.id)) {
    assert.equal((await admin.get(p)).status, 200, `admin ${p}`);
    problemOf(await member.get(p), 403);
    problemOf(await foreign.owner.get(p), 404);
    problemOf(await principal(srv, { key: 'anon' }).get(p), 401);
  }
  for (const p of paths('in_00000000000000000000000000').slice(1)) problemOf(await a.owner.get(p), 404);
  // The foreign owner's own workspace does not serve this invoice either.
  problemOf(await foreign.owner.get(`${B(foreign.wsId)}/invoices/${renewal.id}`), 404);
  problemOf(await foreign.owner.get(`${B(foreign.wsId)}/invoices/${renewal.id}/pdf`), 404);
});

test('the list: newest first, pages with a cursor until next_cursor is null; bad limit or cursor → 400 naming it', async () => {
  // Five more invoices: seat increases invoiced now, one clock second apart.
  for (let i = 0; i < 5; i++) {
    await moveClock(a.owner, a.wsId, `2031-02-20T00:00:0${i}Z`);
    const r = await a.owner.post(`${B(a.wsId)}/subscription/change`, { quantity: 42 + i, proration: 'invoice_now' });
    assert.equal(r.status, 200, r.text);
  }
  const all = await invoices(a.owner, a.wsId); // oldest first
  assert.equal(all.length, 7);
  const newestFirst = [...all].reverse().map((i) => i.id);
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const r = await a.owner.get(`${B(a.wsId)}/invoices?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.items.length <= 3);
    seen.push(...r.body.items.map((i) => i.id));
    cursor = r.body.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(seen, newestFirst);
  const item = (await a.owner.get(`${B(a.wsId)}/invoices?limit=1`)).body.items[0];
  assert.deepEqual(Object.keys(item).sort(), [
    'amount_due',
    'amount_paid',
    'created_at',
    'currency',
    'due_at',
    'id',
    'number',
    'payment_status',
    'period_end',
    'period_start',
    'reason',
    'status',
    'total',
  ]);
  const exact = await a.owner.get(`${B(a.wsId)}/invoices?limit=7`);
  assert.equal(exact.body.items.length, 7);
  assert.equal(exact.body.next_cursor ?? null, null, 'no cursor when nothing is left');
  for (const qs of ['limit=0', 'limit=101', 'limit=x', 'cursor=abc', 'cursor=o-1']) {
    const r = await a.owner.get(`${B(a.wsId)}/invoices?${qs}`);
    assert.deepEqual(errorFields(problemOf(r, 400)), [qs.split('=')[0]], `${qs}: ${r.text}`);
  }
  // Numbers keep growing by one.
  const nums = all.map((i) => Number(i.number.slice(4)));
  assert.deepEqual(nums, nums.map((_, k) => nums[0] + k));
});

test('the documents show the state: a paid invoice says Paid, a void one VOID', async () => {
  const html = (await a.owner.get(`${B(a.wsId)}/invoices/${first.id}/html`)).text;
  assert.match(html, />\s*Paid\s*</);
  // Void the newest open invoice (developer) and render it.
  const open = (await invoices(a.owner, a.wsId)).filter((i) => i.status === 'open').at(-1);
  const v = await a.owner.post(`${B(a.wsId)}/invoices/${open.id}/void`, {});
  assert.equal(v.status, 200, v.text);
  const vh = (await a.owner.get(`${B(a.wsId)}/invoices/${open.id}/html`)).text;
  assert.match(vh, /VOID/);
  assert.match(vh, /void and is not payable/);
  const res = await srv.fetch(`${B(a.wsId)}/invoices/${open.id}/pdf`, { headers: { cookie: a.owner.cookie } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-pdf-'));
  try {
    const file = path.join(dir, 'void.pdf');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await run('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { timeout: 30_000 });
    assert.match(stdout, /This invoice is void/); // (the rotated VOID watermark does not come out as one word)
    assert.ok(stdout.includes(open.number));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
