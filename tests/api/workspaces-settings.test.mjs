// Workspace Settings ("Sub Account" inside a sub-account): the settings document, its validation
// (every bad field named at once), merge semantics with null clearing, the ETag/If-Match contract
// (DESIGN.md §3), the checklist, the context of a root and of a sub-account, and the section titles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, getDoc } from './lib-world.mjs';

let w;
let ws;
let p;

before(async () => {
  w = await startWorld({ extras: false });
  ({ ws, p } = w);
});

after(async () => {
  await w?.stop();
});

const path = (W) => `/api/v1/workspaces/${ws[W]}`;
const SETTABLE = ['name', 'display_name', 'slug', 'logo_url', 'timezone', 'locale', 'currency', 'legal_name', 'business_type', 'industry', 'country', 'address', 'phone', 'website', 'tax_id'];

/** PATCH with the current ETag; returns the response. */
async function patch(pr, W, body) {
  const { etag } = await getDoc(pr, ws[W]);
  return pr.patch(path(W), body, { ifMatch: etag });
}

test('the settings document: every field, status, ETag "vN", context and checklist', async () => {
  const r = await p.owner.get(path('A'));
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('etag'), /^"v\d+"$/);
  assert.match(r.headers.get('cache-control') || '', /no-store/);
  const keys = ['id', 'kind', 'parent_id', ...SETTABLE, 'status', 'status_reason', 'deletion_due_at', 'created_at', 'updated_at', 'context', 'checklist'];
  assert.deepEqual(Object.keys(r.body).sort(), keys.sort());
  assert.deepEqual([r.body.id, r.body.kind, r.body.parent_id, r.body.name, r.body.slug, r.body.status], [ws.A, 'root', null, 'Acme Agency', 'acme-agency', 'active']);
  assert.deepEqual([r.body.timezone, r.body.locale, r.body.currency], ['America/New_York', 'en-US', 'USD']);
  assert.deepEqual(r.body.context, { kind: 'root', member_count: 4, agency_access: false, subaccount_count: 2 });
  assert.deepEqual(
    r.body.checklist.map((c) => [c.id, c.field, c.done]),
    [
      ['timezone', 'timezone', true],
      ['logo', 'logo_url', false],
      ['legal_name', 'legal_name', false],
      ['business_type', 'business_type', false],
      ['country', 'country', false],
      ['address', 'address', false],
      ['phone', 'phone', false],
      ['website', 'website', false],
    ],
  );
  for (const c of r.body.checklist) assert.ok(typeof c.label === 'string' && c.label.length > 5);
});

test('a sub-account’s document: its parent and who manages it; agency access is said', async () => {
  const sub = await p.subadmin.get(path('A1'));
  assert.equal(sub.status, 200, sub.text);
  assert.deepEqual([sub.body.kind, sub.body.parent_id], ['sub_account', ws.A]);
  assert.deepEqual(sub.body.context, {
    kind: 'sub_account',
    member_count: 1,
    agency_access: false,
    parent: { id: ws.A, name: 'Acme Agency', display_name: null },
    managed_by: [
      { name: 'Olivia Owner', email: 'owner@acme.test', role: 'owner' },
      { name: 'Adam Admin', email: 'admin@acme.test', role: 'admin' },
    ],
  });
  const viaAgency = await p.admin.get(path('A1'));
  assert.equal(viaAgency.body.context.agency_access, true);
  assert.equal(viaAgency.headers.get('etag'), sub.headers.get('etag'));
  // A parent's display name shows in the child's context.
  const d = await patch(p.owner, 'A', { display_name: 'Acme' });
  assert.equal(d.status, 200, d.text);
  assert.deepEqual((await p.subadmin.get(path('A1'))).body.context.parent, { id: ws.A, name: 'Acme Agency', display_name: 'Acme' });
  assert.equal((await patch(p.owner, 'A', { display_name: null })).status, 200);
});

test('the section is titled "Sub Account" in a sub-account and "Workspace Settings" in a root', async () => {
  const title = async (pr, W) => (await pr.get(`${path(W)}/sections`)).body.items.find((s) => s.id === 'workspace')?.title;
  assert.equal(await title(p.owner, 'A'), 'Workspace Settings');
  assert.equal(await title(p.admin, 'A'), 'Workspace Settings');
  assert.equal(await title(p.owner, 'A1'), 'Sub Account');
  assert.equal(await title(p.subadmin, 'A1'), 'Sub Account');
  assert.equal(await title(p.ownerB, 'B1'), 'Sub Account');
  assert.equal(await title(p.member, 'A'), undefined);
  const ids = (await p.subadmin.get(`${path('A1')}/sections`)).body.items.map((s) => s.id);
  assert.deepEqual(ids, ['workspace', 'profile', 'notifications', 'team', 'billing', 'api_keys', 'activity']);
  const rootIds = (await p.owner.get(`${path('A')}/sections`)).body.items.map((s) => s.id);
  assert.deepEqual(rootIds, ['workspace', 'profile', 'notifications', 'team', 'billing', 'subaccounts', 'api_keys', 'activity']);
});

test('validation names every bad field at once, and a refused PATCH changes nothing', async () => {
  const before = await getDoc(p.owner, ws.A);
  const r = await p.owner.patch(
    path('A'),
    {
      name: '',
      display_name: ' padded',
      slug: 'Not A Slug',
      logo_url: 'http://cdn.test/logo.png',
      timezone: 'Mars/Olympus_Mons',
      locale: 'english',
      currency: 'usd',
      legal_name: 42,
      business_type: 'empire',
      industry: 'x'.repeat(101),
      country: 'USA',
      address: 'x'.repeat(501),
      phone: '12',
      website: 'ftp://acme.test',
      tax_id: true,
      owner_id: 'usr_x',
    },
    { ifMatch: before.etag },
  );
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.type, 'urn:atrium:problem:validation');
  const got = Object.fromEntries(r.body.errors.map((e) => [e.field, e.code]));
  assert.deepEqual(got, {
    name: 'required',
    display_name: 'format',
    slug: 'format',
    logo_url: 'format',
    timezone: 'format',
    locale: 'format',
    currency: 'format',
    legal_name: 'type',
    business_type: 'format',
    industry: 'length',
    country: 'length',
    address: 'length',
    phone: 'format',
    website: 'format',
    tax_id: 'type',
    owner_id: 'unknown_field',
  });
  for (const e of r.body.errors) assert.ok(e.message.length > 5, `${e.field} has a message`);
  const after = await getDoc(p.owner, ws.A);
  assert.equal(after.etag, before.etag);
  assert.deepEqual(after.doc, before.doc);
  // Body-level errors.
  const empty = await p.owner.patch(path('A'), {}, { ifMatch: before.etag });
  assert.deepEqual([empty.status, empty.body.errors[0].code], [400, 'empty_patch']);
  const notJson = await p.owner.req('PATCH', path('A'), { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, ifMatch: before.etag });
  assert.equal(notJson.status, 415, notJson.text);
  const broken = await p.owner.patch(path('A'), '{"name": "x",', { ifMatch: before.etag });
  assert.equal(broken.status, 400, broken.text);
  const array = await p.owner.patch(path('A'), '[]', { ifMatch: before.etag });
  assert.equal(array.status, 400);
  const dup = await p.owner.patch(path('A'), '{"name":"One","name":"Two"}', { ifMatch: before.etag });
  assert.equal(dup.status, 400, dup.text);
  assert.equal((await getDoc(p.owner, ws.A)).etag, before.etag);
});

// Per field: values that must pass and values that must fail, one PATCH each.
const FIELD_CASES = {
  timezone: {
    ok: ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'Asia/Kolkata', 'America/New_York'],
    bad: ['Mars/Olympus', 'europe/paris', 'Europe', 'Europe/', '/etc/passwd', '../../etc/passwd', 'Europe/../../etc/passwd', 'zone.tab', 'Europe/Paris ', '', 'x'.repeat(65)],
  },
  locale: { ok: ['en', 'en-US', 'fr-FR', 'zh-Hant-TW', 'es-419', 'de-DE-1996', 'sr-Latn'], bad: ['e', 'english', 'en_US', 'en-', '-en', 'en--US', '12-US', 'en-US!', '', 'x'.repeat(36)] },
  currency: { ok: ['EUR', 'JPY', 'USD', 'CHF'], bad: ['usd', 'US', 'USDT', 'EU1', '€', ''] },
  logo_url: {
    ok: ['https://cdn.acme.test/logo.png', 'https://x.test'],
    bad: ['http://cdn.acme.test/logo.png', 'javascript:alert(1)', 'data:image/png;base64,AAAA', 'https://', 'https:///x',
      'https://a b.test', 'https://x.test/"><script>', '//cdn.test/x.png', 'ftp://x', ''],
  },
  website: { ok: ['https://acme.test', 'http://acme.test/about'], bad: ['acme.test', 'javascript:alert(1)', 'ftp://acme.test', 'http://', 'https://@evil', 'https:// acme.test', ''] },
  country: { ok: ['US', 'FR', 'JP', 'DE', 'ZW', 'AD'], bad: ['USA', 'U', ''] }, // unknown 2-letter codes: the last test
  phone: { ok: ['+1 415 555 0100', '(415) 555-0100', '+33.1.23.45.67.89', '5550100'], bad: ['12', '555-CALL-NOW', '+1 415 555 0100 ext 2', '++1 415 555 0100', '1234567890123456', '415+5550100', ''] },
  business_type: { ok: ['llc', 'nonprofit', 'other'], bad: ['LLC', 'empire', ''] },
  slug: { ok: ['acme-agency-2', 'acme'], bad: ['Acme', 'ac', '-acme', 'acme-', 'acme_agency', 'acme agency', 'x'.repeat(49)] },
};

test('field formats: time zones from the tz database, BCP 47, ISO 4217, ISO 3166, https logos, phones, websites, slugs', async () => {
  const wrong = [];
  for (const [field, { ok, bad }] of Object.entries(FIELD_CASES)) {
    for (const v of ok) {
      const r = await patch(p.owner, 'A', { [field]: v });
      if (r.status !== 200 || r.body[field] !== v) wrong.push(`${field}=${JSON.stringify(v)} refused: ${r.status} ${r.text.slice(0, 200)}`);
    }
    for (const v of bad) {
      const r = await patch(p.owner, 'A', { [field]: v });
      const e = r.body?.errors?.find((x) => x.field === field);
      if (r.status !== 400 || !e) wrong.push(`${field}=${JSON.stringify(v)} accepted: ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.equal((await patch(p.owner, 'A', { slug: 'acme-agency', timezone: 'America/New_York' })).status, 200);
});

test('time zone: files in the zoneinfo folder that are not zones are refused', async () => {
  const accepted = [];
  for (const v of ['leapseconds', 'localtime', 'posixrules', 'leap-seconds.list', 'tzdata.zi', 'iso3166.tab']) {
    const r = await patch(p.owner, 'A', { timezone: v });
    if (r.status === 200) accepted.push(v);
  }
  await patch(p.owner, 'A', { timezone: 'America/New_York' });
  assert.deepEqual(accepted, []);
});

test('merge semantics: absent fields stay, null clears a nullable field, non-nullable fields refuse null', async () => {
  const full = {
    display_name: 'Acme',
    logo_url: 'https://cdn.acme.test/logo.png',
    legal_name: 'Acme Agency LLC',
    business_type: 'llc',
    industry: 'Marketing',
    country: 'US',
    address: '1 Main St, Springfield',
    phone: '+1 415 555 0100',
    website: 'https://acme.test',
    tax_id: 'US-12-3456789',
  };
  const r = await patch(p.owner, 'A', full);
  assert.equal(r.status, 200, r.text);
  for (const [k, v] of Object.entries(full)) assert.equal(r.body[k], v, k);
  assert.equal(r.body.name, 'Acme Agency', 'an absent field stays');
  assert.ok(r.body.checklist.every((c) => c.done), 'every checklist item is done');
  const cleared = await patch(p.owner, 'A', Object.fromEntries(Object.keys(full).map((k) => [k, null])));
  assert.equal(cleared.status, 200, cleared.text);
  for (const k of Object.keys(full)) assert.equal(cleared.body[k], null, k);
  assert.deepEqual(cleared.body.checklist.filter((c) => c.done).map((c) => c.id), ['timezone']);
  for (const k of ['name', 'slug']) {
    const n = await patch(p.owner, 'A', { [k]: null });
    assert.equal(n.status, 400, `${k}: null → ${n.status}`);
    assert.deepEqual(n.body.errors.map((e) => [e.field, e.code]), [[k, 'type']]);
  }
});

test('the checklist flips item by item as fields are set, and back when they are cleared', async () => {
  const order = [
    ['timezone', 'timezone', null],
    ['logo', 'logo_url', 'https://cdn.test/l.png'],
    ['legal_name', 'legal_name', 'Acme LLC'],
    ['business_type', 'business_type', 'llc'],
    ['country', 'country', 'FR'],
    ['address', 'address', '2 Rue X'],
    ['phone', 'phone', '+33 1 23 45 67 89'],
    ['website', 'website', 'https://acme.test'],
  ];
  // Start with the time zone cleared: nothing done.
  let r = await patch(p.owner, 'A', { timezone: null });
  assert.deepEqual(r.body.checklist.map((c) => c.done), Array(8).fill(false));
  const done = new Set();
  for (const [id, field, v] of order) {
    r = await patch(p.owner, 'A', { [field]: v ?? 'Europe/Paris' });
    assert.equal(r.status, 200, r.text);
    done.add(id);
    assert.deepEqual(r.body.checklist.filter((c) => c.done).map((c) => c.id), order.map((o) => o[0]).filter((x) => done.has(x)), `after ${id}`);
    // GET says the same as the PATCH answer.
    assert.deepEqual((await p.owner.get(path('A'))).body.checklist, r.body.checklist);
  }
  r = await patch(p.owner, 'A', { phone: null, logo_url: null });
  assert.deepEqual(r.body.checklist.filter((c) => !c.done).map((c) => c.id), ['logo', 'phone']);
  await patch(p.owner, 'A', { timezone: 'America/New_York', legal_name: null, business_type: null, country: null, address: null, website: null });
});

test('ETag/If-Match: 428 without it, 412 when stale or malformed, a new version after a change, the same after a no-op', async () => {
  const { etag, doc } = await getDoc(p.owner, ws.A);
  const n = Number(etag.slice(2, -1));
  const no = await p.owner.patch(path('A'), { industry: 'X' });
  assert.equal(no.status, 428, no.text);
  assert.equal(no.body.type, 'urn:atrium:problem:precondition-required');
  for (const bad of [`"v${n - 1}"`, `"v${n + 1}"`, '"v0"', 'v1', '"1"', '"vx"', '""', 'garbage', `"v${n}`]) {
    const r = await p.owner.patch(path('A'), { industry: 'X' }, { ifMatch: bad });
    assert.equal(r.status, 412, `If-Match ${bad}: ${r.status} ${r.text}`);
    assert.equal(r.body.type, 'urn:atrium:problem:precondition-failed');
  }
  assert.equal((await getDoc(p.owner, ws.A)).etag, etag, 'refused PATCHes changed the version');
  const ok = await p.owner.patch(path('A'), { industry: 'Marketing' }, { ifMatch: etag });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.headers.get('etag'), `"v${n + 1}"`);
  assert.equal(ok.body.industry, 'Marketing');
  assert.notEqual(ok.body.updated_at, doc.updated_at);
  // The old ETag is stale now.
  assert.equal((await p.owner.patch(path('A'), { industry: 'Other' }, { ifMatch: etag })).status, 412);
  // A patch that changes nothing keeps the version.
  const same = await p.owner.patch(path('A'), { industry: 'Marketing', name: 'Acme Agency' }, { ifMatch: ok.headers.get('etag') });
  assert.equal(same.status, 200);
  assert.equal(same.headers.get('etag'), ok.headers.get('etag'));
  assert.equal((await patch(p.owner, 'A', { industry: null })).status, 200);
});

test('If-Match: * matches the current version (RFC 9110 §13.1.1)', async () => {
  const r = await p.owner.patch(path('A'), { industry: 'Star' }, { ifMatch: '*' });
  assert.equal(r.status, 200, r.text);
  await patch(p.owner, 'A', { industry: null });
});

test('two PATCHes with the same ETag: exactly one wins, the other gets 412 (root and sub-account)', async () => {
  for (let round = 0; round < 6; round++) {
    const W = round % 2 ? 'A1' : 'A';
    const second = W === 'A' ? p.admin : p.subadmin;
    const { etag } = await getDoc(p.owner, ws[W]);
    const results = await Promise.all([
      p.owner.patch(path(W), { industry: `One ${round}` }, { ifMatch: etag }),
      second.patch(path(W), { industry: `Two ${round}` }, { ifMatch: etag }),
      p.owner.patch(path(W), { legal_name: `Three ${round}` }, { ifMatch: etag }),
    ]);
    const codes = results.map((r) => r.status).sort();
    assert.deepEqual(codes, [200, 412, 412], `round ${round}: ${results.map((r) => r.text.slice(0, 80)).join(' | ')}`);
    const winner = results.find((r) => r.status === 200);
    const now = await getDoc(p.owner, ws[W]);
    assert.equal(now.etag, winner.headers.get('etag'));
    assert.equal(now.doc.industry, winner.body.industry);
    assert.equal(now.doc.legal_name, winner.body.legal_name);
    assert.equal(Number(now.etag.slice(2, -1)), Number(etag.slice(2, -1)) + 1);
  }
});

test('slugs are unique across all tenants: 409 naming the field; names need not be', async () => {
  for (const slug of ['acme-dental', 'bravo-one']) {
    const r = await patch(p.owner, 'A', { slug });
    assert.equal(r.status, 409, r.text);
    assert.deepEqual(r.body.errors, [{ field: 'slug', code: 'taken', message: 'Another workspace already uses this slug.' }]);
  }
  const sameName = await patch(p.owner, 'A', { name: 'Acme Dental' });
  assert.equal(sameName.status, 200);
  const own = await patch(p.owner, 'A', { slug: 'acme-agency', name: 'Acme Agency' });
  assert.equal(own.status, 200);
  const { doc } = await getDoc(p.owner, ws.A);
  assert.deepEqual([doc.slug, doc.name], ['acme-agency', 'Acme Agency']);
});

test('who may change it: owner, admin, a sub-account’s admin and agency access; never a member', async () => {
  for (const [pr, W] of [[p.owner, 'A'], [p.admin, 'A'], [p.subadmin, 'A1'], [p.admin, 'A1'], [p.owner, 'A2'], [p.ownerB, 'B1']]) {
    const r = await patch(pr, W, { industry: `by ${pr.key}` });
    assert.equal(r.status, 200, `${pr.key} in ${W}: ${r.text}`);
    assert.equal(r.body.industry, `by ${pr.key}`);
  }
  const { etag } = await getDoc(p.owner, ws.A);
  for (const pr of [p.member, p.dev]) {
    assert.equal((await pr.get(path('A'))).status, 403);
    assert.equal((await pr.patch(path('A'), { industry: 'member' }, { ifMatch: etag })).status, 403);
  }
  assert.equal((await getDoc(p.owner, ws.A)).etag, etag);
  // A sub-account's admin cannot touch the parent.
  assert.equal((await p.subadmin.patch(path('A'), { industry: 'up' }, { ifMatch: etag })).status, 404);
});

// Last in this file: under the ASan build these requests crash the server (a read past the end of the
// code lists in src/workspace/fields.c when a code is not in them), which would take the tests after
// them down too.
test('unknown but well-formed country and currency codes are refused', async () => {
  const wrong = [];
  for (const [field, v] of [['country', 'XX'], ['country', 'ZZ'], ['country', 'us'], ['country', 'AA'], ['currency', 'XYZ'], ['currency', 'ZZZ'], ['currency', 'AAA']]) {
    const r = await patch(p.owner, 'A', { [field]: v });
    if (r.status !== 400 || !r.body.errors.some((e) => e.field === field && e.code === 'format')) wrong.push(`${field}=${v}: ${r.status} ${r.text.slice(0, 120)}`);
  }
  const sub = await p.owner.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Coin', currency: 'QQQ' });
  if (sub.status !== 400) wrong.push(`sub-account currency QQQ: ${sub.status}`);
  assert.deepEqual(wrong, []);
});
