// Sub-Accounts (features.md §1.6): create with inherited defaults, view, rename, search/sort/pages,
// the status machine (suspend, reactivate, schedule deletion, restore; 409 otherwise), the lockout of a
// suspended or pending-deletion sub-account's own members (403 with the reason) while the root's
// owners and admins keep agency access, and the deletion job on the test clock (due after 7 days,
// then 404 everywhere; a restore before that keeps the sub-account).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, getDoc, advanceAndRunJobs, missingId, sleep } from './lib-world.mjs';

let w;
let ws;
let p;
let srv;
const DAY = 86400;

before(async () => {
  // Sessions outlive the 7-day jumps of the test clock, so nobody has to sign in again.
  w = await startWorld({ env: { ATRIUM_SESSION_IDLE: '31536000', ATRIUM_SESSION_ABSOLUTE: '31536000' } });
  ({ ws, p, srv } = w);
});

after(async () => {
  await w?.stop();
});

const subs = (root) => `/api/v1/workspaces/${root}/subaccounts`;
const subPath = (root, id) => `${subs(root)}/${id}`;
const SUMMARY_KEYS = ['billing_mode', 'created_at', 'deletion_due_at', 'display_name', 'id', 'member_count', 'name', 'slug', 'status', 'status_reason', 'timezone', 'updated_at'];

test('create: every bad field named; defaults from the root; derived or chosen slug; 409 on a taken slug', async () => {
  const bad = await p.owner.post(subs(ws.A), { name: ' ', display_name: 7, slug: 'No', timezone: 'Moon/Base', locale: 'e', currency: 'usd', parent_id: ws.B });
  assert.equal(bad.status, 400, bad.text);
  assert.deepEqual(
    Object.fromEntries(bad.body.errors.map((e) => [e.field, e.code])),
    { name: 'format', display_name: 'type', slug: 'length', timezone: 'format', locale: 'length', currency: 'format', parent_id: 'unknown_field' },
  );
  const missing = await p.owner.post(subs(ws.A), {});
  assert.deepEqual(missing.body.errors.map((e) => [e.field, e.code]), [['name', 'required']]);

  // The root's time zone, locale and currency are the defaults.
  await p.owner.patch(`/api/v1/workspaces/${ws.A}`, { timezone: 'Europe/Berlin', locale: 'de-DE', currency: 'EUR' }, { ifMatch: (await getDoc(p.owner, ws.A)).etag });
  const before = (await getDoc(p.owner, ws.A)).doc.context.subaccount_count;
  const r = await p.admin.post(subs(ws.A), { name: 'Acme Bakery & Co.' });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.body).sort(), SUMMARY_KEYS);
  assert.match(r.body.id, /^ws_[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.match(r.body.slug, /^acme-bakery-co-[a-z0-9]{6}$/);
  assert.deepEqual([r.body.status, r.body.member_count, r.body.display_name, r.body.timezone, r.body.billing_mode], ['active', 0, null, 'Europe/Berlin', 'parent']);
  assert.equal(r.headers.get('location'), `/api/v1/workspaces/${ws.A}/subaccounts/${r.body.id}`);
  const doc = (await getDoc(p.owner, r.body.id)).doc;
  assert.deepEqual([doc.kind, doc.parent_id, doc.locale, doc.currency, doc.timezone], ['sub_account', ws.A, 'de-DE', 'EUR', 'Europe/Berlin']);
  assert.equal((await getDoc(p.owner, ws.A)).doc.context.subaccount_count, before + 1);
  // The new sub-account has the root's plan features: its sections are those of any sub-account.
  const sec = await p.owner.get(`/api/v1/workspaces/${r.body.id}/sections`);
  assert.deepEqual(sec.body.items.map((s) => s.id), ['workspace', 'profile', 'notifications', 'team', 'billing', 'api_keys', 'activity']);
  // Chosen values win; a taken slug (any tenant's) is 409 and creates nothing.
  const full = await p.owner.post(subs(ws.A), { name: 'Acme Paris', display_name: 'Paris', slug: 'acme-paris', timezone: 'Europe/Paris', locale: 'fr-FR', currency: 'EUR' });
  assert.equal(full.status, 201, full.text);
  assert.deepEqual([full.body.slug, full.body.display_name, full.body.timezone], ['acme-paris', 'Paris', 'Europe/Paris']);
  for (const slug of ['acme-paris', 'acme-agency', 'bravo-one']) {
    const dup = await p.owner.post(subs(ws.A), { name: 'Dup', slug });
    assert.equal(dup.status, 409, dup.text);
    assert.deepEqual(dup.body.errors.map((e) => [e.field, e.code]), [['slug', 'taken']]);
  }
  const odd = await p.owner.post(subs(ws.A), { name: '***' });
  assert.equal(odd.status, 201);
  assert.match(odd.body.slug, /^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$/);
  assert.equal((await getDoc(p.owner, ws.A)).doc.context.subaccount_count, before + 3);
  // The switcher of the root's admins lists them (agency), and nobody else's.
  const sw = await p.admin.get('/api/v1/workspaces');
  assert.ok(sw.body.items.some((i) => i.id === full.body.id && i.agency === true && i.role === 'admin'));
  assert.ok(!(await p.ownerB.get('/api/v1/workspaces')).body.items.some((i) => i.id === full.body.id));
  // Cleanup for later tests: they count A's sub-accounts.
  for (const id of [r.body.id, full.body.id, odd.body.id]) assert.equal((await p.owner.post(`${subPath(ws.A, id)}/schedule-deletion`)).status, 200);
  await p.owner.patch(`/api/v1/workspaces/${ws.A}`, { timezone: 'America/New_York', locale: 'en-US', currency: 'USD' }, { ifMatch: (await getDoc(p.owner, ws.A)).etag });
});

test('view and rename: name and display name only; null clears the display name; the change shows everywhere', async () => {
  const g = await p.owner.get(subPath(ws.A, ws.A1));
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(Object.keys(g.body).sort(), SUMMARY_KEYS);
  assert.deepEqual([g.body.name, g.body.slug, g.body.member_count], ['Acme Dental', 'acme-dental', 3]);
  const badRenames = [
    [{}, '', 'empty_patch'],
    [{ name: '' }, 'name', 'required'],
    [{ name: null }, 'name', 'type'],
    [{ slug: 'x-y-z' }, 'slug', 'unknown_field'],
    [{ status: 'active' }, 'status', 'unknown_field'],
    [{ name: 'x'.repeat(101) }, 'name', 'length'],
  ];
  for (const [body, field, code] of badRenames) {
    const r = await p.owner.patch(subPath(ws.A, ws.A1), body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.deepEqual(r.body.errors.map((e) => [e.field, e.code]), [[field, code]]);
  }
  const r = await p.admin.patch(subPath(ws.A, ws.A1), { name: 'Acme Dental Clinic', display_name: 'Dental' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.body.name, r.body.display_name, r.body.slug], ['Acme Dental Clinic', 'Dental', 'acme-dental']);
  assert.equal((await getDoc(p.subadmin, ws.A1)).doc.name, 'Acme Dental Clinic');
  const sw = (await p.subadmin.get('/api/v1/workspaces')).body.items.find((i) => i.id === ws.A1);
  assert.deepEqual([sw.name, sw.display_name], ['Acme Dental Clinic', 'Dental']);
  const c = await p.owner.patch(subPath(ws.A, ws.A1), { display_name: null, name: 'Acme Dental' });
  assert.deepEqual([c.status, c.body.display_name, c.body.name], [200, null, 'Acme Dental']);
  // Not a child of this root / missing: 404 like any unknown id.
  for (const id of [ws.B1, ws.A, missingId('ws'), 'ws_nope']) {
    const x = await p.owner.get(subPath(ws.A, id));
    assert.equal(x.status, 404, id);
  }
});

test('search, sort and pages: q over name, display name and slug; five orders; cursors walk every row once', async () => {
  // Root B gets a known set (B1 "Bravo One" exists), created one test-clock second apart.
  const spec = [
    ['delta Studio', null, 'delta-studio'],
    ['Alpha Clinic', 'North', 'alpha-clinic'],
    ['charlie Gym', null, 'charlie-gym'],
    ['Echo Dental', 'Smile Co', 'echo-dental'],
    ['bravo Spa', null, 'spa-bravo'],
    ['Foxtrot Dental', null, 'foxtrot-dental'],
  ];
  const id = { 'Bravo One': ws.B1 };
  for (const [name, display_name, slug] of spec) {
    await srv.post('/api/v1/test/clock', { advance_seconds: 1 });
    const r = await p.ownerB.post(subs(ws.B), { name, display_name, slug });
    assert.equal(r.status, 201, r.text);
    id[name] = r.body.id;
  }
  assert.equal((await p.ownerB.post(`${subPath(ws.B, id['charlie Gym'])}/suspend`, { reason: 'Paused' })).status, 200);
  assert.equal((await p.ownerB.post(`${subPath(ws.B, id['Foxtrot Dental'])}/schedule-deletion`)).status, 200);
  const names = async (qs) => {
    const r = await p.ownerB.get(`${subs(ws.B)}?limit=100${qs ? `&${qs}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, r.body.items.length, qs);
    return r.body.items.map((i) => i.name);
  };
  const created = ['Bravo One', ...spec.map((s) => s[0])];
  const byName = [...created].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  assert.deepEqual(await names(''), byName, 'default: by name, case-insensitive');
  assert.deepEqual(await names('sort=name'), byName);
  assert.deepEqual(await names('sort=-name'), [...byName].reverse());
  assert.deepEqual(await names('sort=created_at'), created);
  assert.deepEqual(await names('sort=-created_at'), [...created].reverse());
  const st = (n) => (n === 'charlie Gym' ? 'suspended' : n === 'Foxtrot Dental' ? 'pending_deletion' : 'active');
  assert.deepEqual(await names('sort=status'), [...byName].sort((a, b) => st(a).localeCompare(st(b))));
  assert.deepEqual(await names('status=suspended'), ['charlie Gym']);
  assert.deepEqual(await names('status=pending_deletion'), ['Foxtrot Dental']);
  assert.deepEqual((await names('status=active')).length, 5);
  // q: name, display name or slug; case-insensitive; literal text.
  assert.deepEqual(await names('q=dental'), ['Echo Dental', 'Foxtrot Dental']);
  assert.deepEqual(await names('q=DENTAL&status=active'), ['Echo Dental']);
  assert.deepEqual(await names('q=smile'), ['Echo Dental']);
  assert.deepEqual(await names('q=north'), ['Alpha Clinic']);
  assert.deepEqual(await names('q=spa-br'), ['bravo Spa']);
  assert.deepEqual(await names('q=bravo'), ['Bravo One', 'bravo Spa']);
  assert.deepEqual(await names('q=zzz'), []);
  assert.deepEqual(await names(`q=${encodeURIComponent("'; DROP TABLE workspaces; --")}`), []);
  // Pages of 2 in every order: the concatenation is the full list, total constant, last cursor null.
  for (const sort of ['name', '-name', 'created_at', '-created_at', 'status']) {
    const all = await names(`sort=${sort}`);
    const seen = [];
    let cursor = null;
    for (let i = 0; i < 10; i++) {
      const r = await p.ownerB.get(`${subs(ws.B)}?sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.total, 7);
      assert.ok(r.body.items.length <= 2);
      seen.push(...r.body.items.map((x) => x.name));
      cursor = r.body.next_cursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, all, `pages of sort=${sort}`);
  }
  const page = await p.ownerB.get(`${subs(ws.B)}?q=dental&limit=1`);
  assert.deepEqual([page.body.total, page.body.items.length, typeof page.body.next_cursor], [2, 1, 'string']);
  const past = await p.ownerB.get(`${subs(ws.B)}?cursor=o99`);
  assert.deepEqual([past.status, past.body.items, past.body.total, past.body.next_cursor], [200, [], 7, null]);
  // Bad parameters: each one named.
  const bad = await p.ownerB.get(`${subs(ws.B)}?sort=size&status=deleted&limit=0&cursor=abc&q=${'q'.repeat(101)}`);
  assert.equal(bad.status, 400, bad.text);
  assert.deepEqual(bad.body.errors.map((e) => e.field).sort(), ['cursor', 'limit', 'q', 'sort', 'status']);
  for (const qs of ['limit=101', 'limit=-1', 'limit=ten', 'cursor=o-1', 'cursor=o', 'status=DELETED', 'sort=NAME']) {
    assert.equal((await p.ownerB.get(`${subs(ws.B)}?${qs}`)).status, 400, qs);
  }
  assert.equal((await p.ownerB.get(`${subs(ws.B)}?limit=100`)).status, 200);
  // Tidy up for the other tests of this root.
  for (const n of spec.map((s) => s[0]).filter((n) => n !== 'Foxtrot Dental')) assert.equal((await p.ownerB.post(`${subPath(ws.B, id[n])}/schedule-deletion`)).status, 200);
});

test('search: literal text with %, _ and \\ finds the same rows on both backends', async () => {
  const made = [];
  for (const name of ['Under_score Yoga', '100% Pilates', 'Back\\slash Fitness']) {
    const r = await p.owner.post(subs(ws.A), { name });
    assert.equal(r.status, 201);
    made.push(r.body.id);
  }
  const found = async (q) => (await p.owner.get(`${subs(ws.A)}?q=${encodeURIComponent(q)}`)).body.items.map((i) => i.name);
  try {
    assert.deepEqual(await found('back\\s'), ['Back\\slash Fitness']);
    assert.deepEqual(await found('under_s'), ['Under_score Yoga']);
    assert.deepEqual(await found('%'), ['100% Pilates']);
    assert.deepEqual(await found('_'), ['Under_score Yoga']);
  } finally {
    for (const id of made) await p.owner.post(`${subPath(ws.A, id)}/schedule-deletion`);
  }
});

test('the status machine: each move only from its status, 409 otherwise; a reason is required to suspend', async () => {
  const fresh = await p.owner.post(subs(ws.A), { name: 'Machine' });
  const base = subPath(ws.A, fresh.body.id);
  const mv = (m, body) => p.owner.post(`${base}/${m}`, body);
  for (const body of [{}, { reason: '' }, { reason: ' x' }, { reason: 'x'.repeat(201) }, { reason: 5 }, { reason: 'ok', extra: 1 }]) {
    const r = await mv('suspend', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
  }
  const table = [
    ['reactivate', 409, 'active'],
    ['restore', 409, 'active'],
    ['suspend', 200, 'suspended'],
    ['suspend', 409, 'suspended'],
    ['restore', 409, 'suspended'],
    ['reactivate', 200, 'active'],
    ['schedule-deletion', 200, 'pending_deletion'],
    ['schedule-deletion', 409, 'pending_deletion'],
    ['suspend', 409, 'pending_deletion'],
    ['reactivate', 409, 'pending_deletion'],
    ['restore', 200, 'active'],
    ['suspend', 200, 'suspended'],
    ['schedule-deletion', 200, 'pending_deletion'],
    ['restore', 200, 'active'],
  ];
  for (const [m, code, after] of table) {
    const r = await mv(m, m === 'suspend' ? { reason: 'Card declined' } : undefined);
    assert.equal(r.status, code, `${m}: ${r.text}`);
    if (code === 409) assert.equal(r.body.type, 'urn:atrium:problem:invalid-state');
    const now = await p.owner.get(base);
    assert.equal(now.body.status, after, `after ${m}`);
    if (code === 200) assert.equal(r.body.status, after);
  }
  // What each status shows: the reason, the due date (7 days after scheduling).
  const sus = await mv('suspend', { reason: 'Card declined' });
  assert.deepEqual([sus.body.status_reason, sus.body.deletion_due_at], ['Card declined', null]);
  const clock = (await srv.req('/api/v1/test/clock')).body.now_us;
  const sch = await mv('schedule-deletion');
  assert.equal(sch.body.status_reason, 'This workspace is scheduled for deletion.');
  const due = Date.parse(sch.body.deletion_due_at) * 1000;
  assert.ok(Math.abs(due - (clock + 7 * DAY * 1e6)) < 5e6, `due ${sch.body.deletion_due_at}`);
  const res = await mv('restore');
  assert.deepEqual([res.body.status, res.body.status_reason, res.body.deletion_due_at], ['active', null, null]);
  assert.equal((await mv('schedule-deletion')).status, 200);
});

test('a suspended sub-account locks its own members out with the reason; agency access continues', async () => {
  const A1 = `/api/v1/workspaces/${ws.A1}`;
  const reason = 'Payment overdue since March — contact billing@acme.test';
  assert.equal((await p.admin.post(`${subPath(ws.A, ws.A1)}/suspend`, { reason })).status, 200);
  const { etag } = await getDoc(p.owner, ws.A1);
  for (const pr of [p.subadmin, p.a1member]) {
    const calls = [
      ['GET', ''],
      ['GET', '/sections'],
      ['GET', '/notifications'],
      ['GET', '/audit-events'],
      ['PATCH', '', { industry: 'x' }],
      ['PATCH', '/notifications', { groups: { team: { email: false } } }],
      ['POST', '/notifications/reset'],
    ];
    for (const [m, suffix, body] of calls) {
      const r = await pr.req(m, `${A1}${suffix}`, { body, ifMatch: m === 'PATCH' && !suffix ? etag : undefined });
      assert.equal(r.status, 403, `${pr.key} ${m} ${suffix}: ${r.text}`);
      assert.deepEqual(r.body, { type: 'urn:atrium:problem:workspace-suspended', title: 'This workspace is suspended.', status: 403, detail: reason });
    }
    // They still see it in their switcher, marked suspended, and can use everything else.
    const sw = (await pr.get('/api/v1/workspaces')).body.items.find((i) => i.id === ws.A1);
    assert.equal(sw.status, 'suspended');
    assert.equal((await pr.get('/api/v1/me/profile')).status, 200);
  }
  // Agency access: the root's owner and admin (and an admin of the root who is also a member of A1).
  for (const pr of [p.owner, p.admin, p.agency]) {
    assert.equal((await pr.get(`${A1}/sections`)).status, 200, pr.key);
    const d = await pr.get(A1);
    assert.deepEqual([d.status, d.body.status, d.body.status_reason], [200, 'suspended', reason]);
    assert.equal((await pr.patch(`${A1}/notifications`, { groups: { team: { in_app: false } } })).status, 200);
    assert.equal((await pr.post(`${A1}/notifications/reset`)).status, 200);
    assert.equal((await pr.get(`${A1}/audit-events`)).status, 200);
  }
  const change = await p.admin.patch(A1, { industry: 'Dentistry' }, { ifMatch: etag });
  assert.equal(change.status, 200, change.text);
  // Pending deletion locks them out too, with its own title.
  assert.equal((await p.owner.post(`${subPath(ws.A, ws.A1)}/schedule-deletion`)).status, 200);
  const pend = await p.subadmin.get(A1);
  assert.deepEqual(pend.body, { type: 'urn:atrium:problem:workspace-suspended', title: 'This workspace is scheduled for deletion.', status: 403, detail: 'This workspace is scheduled for deletion.' });
  assert.equal((await p.owner.get(A1)).status, 200);
  // Back to active: the members are in again.
  assert.equal((await p.owner.post(`${subPath(ws.A, ws.A1)}/restore`)).status, 200);
  assert.equal((await p.subadmin.get(A1)).status, 200);
  assert.equal((await p.a1member.get(`${A1}/notifications`)).status, 200);
});

/** Polls until fn() is truthy (the job worker may run a due job before /test/jobs/run does). */
async function eventually(fn, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

test('deletion: due 7 days after scheduling; then gone everywhere; a restore before that keeps it', async () => {
  const A = ws.A;
  const gone = await p.owner.post(subs(A), { name: 'Doomed Branch', slug: 'doomed-branch' });
  const kept = await p.owner.post(subs(A), { name: 'Saved Branch', slug: 'saved-branch' });
  const late = await p.owner.post(subs(A), { name: 'Late Branch', slug: 'late-branch' });
  const G = gone.body.id;
  const K = kept.body.id;
  const L = late.body.id;
  for (const id of [G, K, L]) assert.equal((await p.owner.post(`${subPath(A, id)}/schedule-deletion`)).status, 200);
  assert.equal((await p.owner.post(`${subPath(A, K)}/restore`)).status, 200);
  // L: restored after 3 days and scheduled again, so its first job must leave it alone.
  await advanceAndRunJobs(srv, 3 * DAY);
  assert.equal((await p.owner.post(`${subPath(A, L)}/restore`)).status, 200);
  assert.equal((await p.owner.post(`${subPath(A, L)}/schedule-deletion`)).status, 200);
  // Not due yet (7 days minus a minute after the first scheduling).
  await advanceAndRunJobs(srv, 4 * DAY - 60);
  assert.equal((await p.owner.get(subPath(A, G))).body.status, 'pending_deletion');
  // Due: G goes; K (restored) and L (rescheduled) stay.
  await advanceAndRunJobs(srv, 120);
  await eventually(async () => (await p.owner.get(subPath(A, G))).status === 404, 'the deletion job ran');
  const nf = '{"type":"urn:atrium:problem:not-found","title":"Not found.","status":404}';
  for (const [pr, path] of [
    [p.owner, subPath(A, G)],
    [p.owner, `/api/v1/workspaces/${G}`],
    [p.admin, `/api/v1/workspaces/${G}/sections`],
    [p.owner, `/api/v1/workspaces/${G}/notifications`],
    [p.owner, `/api/v1/workspaces/${G}/audit-events`],
  ]) {
    const r = await pr.get(path);
    assert.deepEqual([r.status, r.text], [404, nf], path);
  }
  for (const m of ['restore', 'reactivate', 'suspend', 'schedule-deletion']) {
    assert.equal((await p.owner.post(`${subPath(A, G)}/${m}`, m === 'suspend' ? { reason: 'x' } : undefined)).status, 404, m);
  }
  assert.equal((await p.owner.patch(subPath(A, G), { name: 'Zombie' })).status, 404);
  for (const pr of [p.owner, p.admin, p.agency]) {
    assert.ok(!(await pr.get('/api/v1/workspaces')).body.items.some((i) => i.id === G), `${pr.key}'s switcher`);
  }
  // (Earlier tests' scheduled sub-accounts fell due too.) Counts are of the live rows only.
  const list = await p.owner.get(`${subs(A)}?limit=100`);
  assert.ok(!list.body.items.some((i) => i.id === G));
  assert.equal(list.body.total, list.body.items.length);
  assert.ok(list.body.items.some((i) => i.id === K) && list.body.items.some((i) => i.id === L));
  for (const st of ['active', 'suspended', 'pending_deletion']) {
    assert.ok(!(await p.owner.get(`${subs(A)}?status=${st}&limit=100`)).body.items.some((i) => i.id === G), st);
  }
  assert.equal((await getDoc(p.owner, A)).doc.context.subaccount_count, list.body.total);
  assert.equal((await p.owner.get(subPath(A, K))).body.status, 'active');
  assert.equal((await p.owner.get(subPath(A, L))).body.status, 'pending_deletion');
  // L goes 7 days after its second scheduling; running the jobs again changes nothing else.
  await advanceAndRunJobs(srv, 3 * DAY + 60);
  await eventually(async () => (await p.owner.get(subPath(A, L))).status === 404, 'the second deletion job ran');
  await advanceAndRunJobs(srv, 1);
  assert.equal((await p.owner.get(subPath(A, K))).body.status, 'active');
  // The deleted workspace's own chain ends with workspace.deleted by the system; the chains hold.
  const last = await srv.sql(`SELECT action || '|' || actor_type FROM audit_events WHERE workspace_id = '${G}' ORDER BY seq DESC LIMIT 1`);
  assert.equal(last, 'workspace.deleted|system');
  const v = await srv.cli(['audit', 'verify']);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /intact/);
});

test('deleting a sub-account leaves its former members nothing: no switcher entry, 404 everywhere', async () => {
  // A1's own members: subadmin (admin), a1member (member) and agency (member, also admin of A).
  assert.equal((await p.owner.post(`${subPath(ws.A, ws.A1)}/schedule-deletion`)).status, 200);
  await advanceAndRunJobs(srv, 7 * DAY + 1);
  await eventually(async () => (await p.owner.get(subPath(ws.A, ws.A1))).status === 404, 'A1 deleted');
  for (const pr of [p.subadmin, p.a1member]) {
    assert.deepEqual((await pr.get('/api/v1/workspaces')).body.items, [], `${pr.key}'s switcher`);
    for (const suffix of ['', '/sections', '/notifications']) {
      assert.equal((await pr.get(`/api/v1/workspaces/${ws.A1}${suffix}`)).status, 404, `${pr.key} ${suffix}`);
    }
  }
  // The agency member of A1 keeps A (and A2), nothing of A1.
  const sw = (await p.agency.get('/api/v1/workspaces')).body.items.map((i) => i.id);
  assert.ok(sw.includes(ws.A) && !sw.includes(ws.A1));
});
