// T1b (reliability.md §8.2): lists and counts never include another tenant's rows, also when a filter
// names them, and every total/count equals the set the caller can see. Lists covered: the workspace
// switcher, the sections, sub-accounts (q, status, sort, pages), the audit log (actor, action, target),
// and the counts in a settings document's context.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib-world.mjs';

let w;
let ws;
let p;

before(async () => {
  w = await startWorld();
  ({ ws, p } = w);
  // B gets a sub-account whose name and slug look like A's, and one suspended sub-account, so
  // searches and status filters have foreign rows to leak.
  const b2 = await p.ownerB.post(`/api/v1/workspaces/${ws.B}/subaccounts`, { name: 'Acme Lookalike', slug: 'acme-lookalike' });
  assert.equal(b2.status, 201, b2.text);
  ws.B2 = b2.body.id;
  const s = await p.ownerB.post(`/api/v1/workspaces/${ws.B}/subaccounts/${ws.B1}/suspend`, { reason: 'B reason' });
  assert.equal(s.status, 200, s.text);
  const n = await p.ownerB.patch(`/api/v1/workspaces/${ws.B}/notifications`, { groups: { team: { email: false } } });
  assert.equal(n.status, 200, n.text);
});

after(async () => {
  await w?.stop();
});

/** The switcher as [key, role, agency] with ids mapped back to world keys. */
async function switcher(pr) {
  const r = await pr.get('/api/v1/workspaces');
  assert.equal(r.status, 200, r.text);
  const key = Object.fromEntries(Object.entries(ws).map(([k, v]) => [v, k]));
  return r.body.items.map((i) => [key[i.id] ?? i.id, i.role, i.agency]);
}

test('the switcher lists exactly the workspaces each caller reaches, roots followed by their sub-accounts', async () => {
  const expect = {
    owner: [['A', 'owner', false], ['A1', 'admin', true], ['A2', 'admin', true]],
    admin: [['A', 'admin', false], ['A1', 'admin', true], ['A2', 'admin', true]],
    member: [['A', 'member', false]],
    dev: [['A', 'member', false]],
    subadmin: [['A1', 'admin', false]],
    // A member of A1 who is also admin of A: A1 once, with the stronger (agency) access.
    agency: [['A', 'admin', false], ['A1', 'admin', true], ['A2', 'admin', true]],
    a1member: [['A1', 'member', false]],
    ownerB: [['B', 'owner', false], ['B2', 'admin', true], ['B1', 'admin', true]], // by name: "Acme Lookalike" < "Bravo One"
    outsider: [],
  };
  for (const [k, want] of Object.entries(expect)) {
    const got = await switcher(p[k]);
    // Sub-accounts of a root come in name order after it; compare as listed.
    assert.deepEqual(got, want, `switcher of ${k}`);
  }
  const r = await p.ownerB.get('/api/v1/workspaces');
  const b1 = r.body.items.find((i) => i.id === ws.B1);
  assert.deepEqual([b1.kind, b1.parent_id, b1.status], ['sub_account', ws.B, 'suspended']);
  assert.equal((await p.anon.get('/api/v1/workspaces')).status, 401);
});

test('sections never list a section the caller cannot read, and never sub-accounts inside a sub-account', async () => {
  for (const [k, W] of [['owner', 'A1'], ['subadmin', 'A1'], ['agency', 'A1'], ['ownerB', 'B1'], ['a1member', 'A1']]) {
    const r = await p[k].get(`/api/v1/workspaces/${ws[W]}/sections`);
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.body.items.some((s) => s.id === 'subaccounts'), `${k} in ${W}: ${r.text}`);
    assert.equal(r.body.kind, 'sub_account');
  }
  const m = await p.member.get(`/api/v1/workspaces/${ws.A}/sections`);
  assert.deepEqual(m.body.items.map((s) => s.id), ['profile', 'notifications']);
});

/** Every page of a sub-account list; asserts total is the same on every page and equals the rows. */
async function allPages(pr, root, qs, limit = 1) {
  const seen = [];
  let cursor = null;
  let total = null;
  for (let i = 0; i < 50; i++) {
    const r = await pr.get(`/api/v1/workspaces/${root}/subaccounts?limit=${limit}${qs ? `&${qs}` : ''}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    if (total === null) total = r.body.total;
    assert.equal(r.body.total, total, 'total changed between pages');
    seen.push(...r.body.items.map((x) => x.id));
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  assert.equal(cursor, null, 'more than 50 pages');
  assert.equal(seen.length, total, `${qs}: total ${total} but ${seen.length} rows`);
  assert.equal(new Set(seen).size, seen.length, 'a row came twice');
  return seen;
}

test('sub-account lists: only the root’s own children, whatever the filter; total equals the visible rows', async () => {
  const own = new Set([ws.A1, ws.A2]);
  const foreign = new Set([ws.B1, ws.B2]);
  const filters = [
    '',
    'q=acme',
    'q=Acme%20L',
    'q=lookalike',
    `q=${ws.B1}`,
    `q=${ws.B2}`,
    'q=bravo',
    'status=suspended',
    'status=active',
    'status=suspended&q=bravo',
    'sort=-name',
    'sort=status',
    'sort=-created_at&q=a',
  ];
  for (const who of ['owner', 'admin', 'agency']) {
    for (const f of filters) {
      const rows = await allPages(p[who], ws.A, f);
      assert.ok(rows.every((id) => own.has(id)), `${who} ${f}: foreign rows ${rows}`);
      if (f === '' || f === 'status=active' || f.startsWith('sort=-name') || f === 'sort=status') assert.equal(rows.length, 2, f);
      if (f.includes('suspended') || f.includes('lookalike') || f.includes('bravo') || f.includes(ws.B1) || f.includes('Acme%20L')) assert.equal(rows.length, 0, f);
    }
  }
  for (const f of filters) {
    const rows = await allPages(p.ownerB, ws.B, f);
    assert.ok(rows.every((id) => foreign.has(id)), `ownerB ${f}: ${rows}`);
  }
  assert.deepEqual(await allPages(p.ownerB, ws.B, 'status=suspended'), [ws.B1]);
  assert.deepEqual(await allPages(p.ownerB, ws.B, 'q=acme'), [ws.B2]);
  assert.deepEqual((await allPages(p.owner, ws.A, 'q=acme', 100)).sort(), [ws.A1, ws.A2].sort());
  // The caller's own rows, with a limit of 100 and the default: the same set.
  const r = await p.owner.get(`/api/v1/workspaces/${ws.A}/subaccounts`);
  assert.deepEqual([r.body.total, r.body.items.length, r.body.next_cursor], [2, 2, null]);
  // A cursor from B's list used on A's list cannot reach B's rows (it is a position, not an id).
  const bPage = await p.ownerB.get(`/api/v1/workspaces/${ws.B}/subaccounts?limit=1`);
  const mixed = await p.owner.get(`/api/v1/workspaces/${ws.A}/subaccounts?limit=5&cursor=${bPage.body.next_cursor}`);
  assert.equal(mixed.status, 200, mixed.text);
  assert.ok(mixed.body.items.every((x) => own.has(x.id)));
  // member_count in the list counts the sub-account's own members only.
  const a1 = r.body.items.find((x) => x.id === ws.A1);
  assert.equal(a1.member_count, 3, 'A1 has subadmin, a1member and agency as members');
});

test('audit events: only the workspace’s own chain, also when filters name another tenant', async () => {
  // Something to find in both tenants.
  const e1 = await p.owner.patch(`/api/v1/workspaces/${ws.A}/notifications`, { groups: { billing: { email: false } } });
  assert.equal(e1.status, 200);
  for (const [pr, W] of [[p.owner, 'A'], [p.admin, 'A'], [p.owner, 'A1'], [p.subadmin, 'A1'], [p.agency, 'A1'], [p.ownerB, 'B'], [p.ownerB, 'B1']]) {
    const r = await pr.get(`/api/v1/workspaces/${ws[W]}/audit-events?limit=100`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.items.length > 0, `${pr.key} ${W}: empty log`);
    assert.ok(r.body.items.every((e) => e.workspace_id === ws[W]), `${pr.key} ${W}: rows of another workspace`);
  }
  const foreignFilters = [
    `target=${ws.B}`,
    `target=${ws.B1}`,
    `target=${ws.B2}`,
    `target=${p.ownerB.userId}`,
    `actor=${p.ownerB.userId}`,
    `actor=${p.ownerB.userId}&action=notifications.`,
    'action=subaccount.suspended',
  ];
  for (const W of ['A', 'A1', 'A2']) {
    for (const f of foreignFilters) {
      const r = await p.owner.get(`/api/v1/workspaces/${ws[W]}/audit-events?${f}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([r.body.items, r.body.next_cursor], [[], null], `${W} ${f}`);
    }
  }
  // The same filters do find B's rows in B: the filters work, the tenant wall holds.
  const inB = await p.ownerB.get(`/api/v1/workspaces/${ws.B}/audit-events?target=${ws.B1}&action=subaccount.suspended`);
  assert.equal(inB.body.items.length, 1);
  const mineInB = await p.ownerB.get(`/api/v1/workspaces/${ws.B}/audit-events?actor=${p.ownerB.userId}&action=notifications.`);
  assert.equal(mineInB.body.items.length, 1);
  // A page cursor is a position in the chain of the workspace in the path: one from B reads only A.
  const pageB = await p.ownerB.get(`/api/v1/workspaces/${ws.B}/audit-events?limit=1`);
  assert.ok(pageB.body.next_cursor);
  const viaCursor = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?cursor=${pageB.body.next_cursor}`);
  assert.equal(viaCursor.status, 200);
  assert.ok(viaCursor.body.items.every((e) => e.workspace_id === ws.A));
});

test('context counts are the workspace’s own: members and live sub-accounts of this root only', async () => {
  const a = await p.owner.get(`/api/v1/workspaces/${ws.A}`);
  // A: owner, admin, member, dev, agency.
  assert.deepEqual(
    [a.body.context.kind, a.body.context.member_count, a.body.context.subaccount_count],
    ['root', 5, 2],
  );
  const b = await p.ownerB.get(`/api/v1/workspaces/${ws.B}`);
  assert.deepEqual([b.body.context.member_count, b.body.context.subaccount_count], [1, 2]);
  const a1 = await p.subadmin.get(`/api/v1/workspaces/${ws.A1}`);
  assert.equal(a1.body.context.member_count, 3);
  assert.equal(a1.body.context.parent.id, ws.A);
  // Managers of A1 are A's owners and admins, nobody from B.
  const emails = a1.body.context.managed_by.map((m) => m.email).sort();
  assert.deepEqual(emails, ['admin@acme.test', 'agency@acme.test', 'owner@acme.test']);
  const b1 = await p.ownerB.get(`/api/v1/workspaces/${ws.B1}`);
  assert.deepEqual(b1.body.context.managed_by.map((m) => m.email), ['ownerb@bravo.test']);
});
