// T1b (reliability.md §8.2): lists and counts never include another tenant's rows, also when a filter
// names them, and every total/count equals the set the caller can see. Lists covered: the workspace
// switcher, the sections, sub-accounts (q, status, sort, pages), the audit log (actor, action, target),
// the counts in a settings document's context, team members (q, role, status, sort, pages, and seats,
// which count the billed family: a root and the sub-accounts it pays for), a member's activity,
// invitations (every status) and API keys (also the lists a key reads); and every member or invitation
// id of another workspace answers 404 in every route that takes one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, insertUser, addMembership, checksum, missingId, createKey, keyPrincipal } from './lib-world.mjs';

let w;
let ws;
let p;
const M = {}; // team rows of the world: M[W][email] = membership id; INV[W][email] = invitation id
const INV = {};

before(async () => {
  // No job workers: the mail of the invitations below stays queued, so fingerprints are stable.
  w = await startWorld({ env: { ATRIUM_JOB_WORKERS: '0' } });
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

  // Team: B's sub-accounts get members whose names and addresses look like A's (one deactivated), and
  // every tenant has invitations, some to the same address, in every state, so filters have foreign
  // rows to leak. (B itself keeps its one member: the context counts below are about B.)
  const olivia = await insertUser(w.srv, 'owner@bravo-acme.test', 'Olivia Ownerlike');
  const dora = await insertUser(w.srv, 'dora@bravo.test', 'Dora Acme-Dormant');
  const look = await insertUser(w.srv, 'acme-admin@bravo.test', 'Acme Lookalike Admin');
  await addMembership(w.srv, ws.B1, olivia, 'admin');
  await addMembership(w.srv, ws.B1, dora, 'member', { status: 'deactivated' });
  await addMembership(w.srv, ws.B2, look, 'admin');
  await addMembership(w.srv, ws.B2, olivia, 'member');
  const invite = async (pr, W, emails, role = 'member') => {
    const r = await pr.post(`/api/v1/workspaces/${ws[W]}/invitations`, { emails, role });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.results.every((x) => x.status === 'invited'), r.text);
  };
  await invite(p.owner, 'A', ['ann@shared.test', 'bob@partner.test']);
  await invite(p.admin, 'A', ['cleo@partner.test'], 'admin');
  await invite(p.subadmin, 'A1', ['carl@dental.test']);
  await invite(p.ownerB, 'B', ['ann@shared.test', 'acme-lookalike@bravo.test', 'owner@acme.test', 'eve@bravo.test', 'fay@bravo.test']);
  await invite(p.ownerB, 'B1', ['dina@bravo.test']);
  // Other states by SQL (revoking through the API is broken: inv_revoke_tx reads freed memory).
  const set = (email, W, sql) => w.srv.sql(`UPDATE invitations SET ${sql} WHERE workspace_id = '${ws[W]}' AND email = '${email}'`);
  await set('bob@partner.test', 'A', `status = 'revoked', revoked_at = 1, revoked_reason = 'cancelled'`);
  await set('acme-lookalike@bravo.test', 'B', `status = 'revoked', revoked_at = 1, revoked_reason = 'cancelled'`);
  await set('eve@bravo.test', 'B', `status = 'accepted', accepted_at = 1`);
  await set('fay@bravo.test', 'B', 'expires_at = 1');
  // Activity in two workspaces by the same person (agency@: admin of A, member of A1).
  for (const W of ['A', 'A1']) {
    const r = await p.agency.patch(`/api/v1/workspaces/${ws[W]}/notifications`, { groups: { billing: { in_app: false } } });
    assert.equal(r.status, 200, r.text);
  }
  const key = Object.fromEntries(Object.entries(ws).map(([k, v]) => [v, k]));
  for (const line of (await w.srv.sql(`SELECT m.workspace_id || '|' || u.email || '|' || m.id FROM memberships m JOIN users u ON u.id = m.user_id`)).split('\n')) {
    const [wsId, email, id] = line.split('|');
    (M[key[wsId]] ??= {})[email] = id;
  }
  for (const line of (await w.srv.sql(`SELECT workspace_id || '|' || email || '|' || id FROM invitations`)).split('\n')) {
    const [wsId, email, id] = line.split('|');
    (INV[key[wsId]] ??= {})[email] = id;
  }
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
    // Agency access carries the root role: the root's owner is an owner in its sub-accounts (issue 12, item 8).
    owner: [['A', 'owner', false], ['A1', 'owner', true], ['A2', 'owner', true]],
    admin: [['A', 'admin', false], ['A1', 'admin', true], ['A2', 'admin', true]],
    member: [['A', 'member', false]],
    dev: [['A', 'member', false]],
    subadmin: [['A1', 'admin', false]],
    // A member of A1 who is also admin of A: A1 once, with the stronger (agency) access.
    agency: [['A', 'admin', false], ['A1', 'admin', true], ['A2', 'admin', true]],
    a1member: [['A1', 'member', false]],
    ownerB: [['B', 'owner', false], ['B2', 'owner', true], ['B1', 'owner', true]], // by name: "Acme Lookalike" < "Bravo One"
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
  assert.deepEqual(m.body.items.map((s) => s.id), ['profile', 'notifications', 'team']);
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

// ---------------------------------------------------------------------------------------------------
// Team lists.

/** Every membership of a workspace as the store has it: [{id, userId, name, email, role, status}]. */
async function membersOf(W) {
  const text = await w.srv.sql(
    `SELECT m.id || '|' || u.id || '|' || u.name || '|' || u.email || '|' || m.role || '|' || m.status FROM memberships m ` +
      `JOIN users u ON u.id = m.user_id WHERE m.workspace_id = '${ws[W]}'`,
  );
  return text.split('\n').filter(Boolean).map((l) => {
    const [id, userId, name, email, role, status] = l.split('|');
    return { id, userId, name, email, role, status };
  });
}

/** Every page of a members list (limit 2); asserts the same total on each page and that it counts the rows. */
async function memberPages(pr, W, qs) {
  const seen = [];
  let cursor = null;
  let total = null;
  let seats = null;
  for (let i = 0; i < 50; i++) {
    const r = await pr.get(`/api/v1/workspaces/${ws[W]}/members?limit=2${qs ? `&${qs}` : ''}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, `${pr.key} ${W} ${qs}: ${r.text}`);
    total ??= r.body.total;
    seats ??= r.body.seats;
    assert.equal(r.body.total, total, 'total changed between pages');
    seen.push(...r.body.items.map((x) => x.id));
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  assert.equal(cursor, null, 'more than 50 pages');
  assert.equal(seen.length, total, `${pr.key} ${W} ${qs}: total ${total} but ${seen.length} rows`);
  assert.equal(new Set(seen).size, seen.length, 'a member came twice');
  return { ids: seen, seats };
}

// Who lists which workspace's team: direct admins, owners, and agency.
const TEAM_CALLERS = [['owner', 'A'], ['admin', 'A'], ['agency', 'A'], ['owner', 'A1'], ['subadmin', 'A1'], ['agency', 'A1'], ['admin', 'A2'], ['ownerB', 'B'], ['ownerB', 'B1'], ['ownerB', 'B2']];

test('members lists: only the workspace’s own members, whatever q, role, status and sort; total equals the visible rows', async () => {
  const { ownerB } = p;
  const filters = [
    '', 'q=acme', 'q=Acme%20L', 'q=bravo', 'q=olivia', 'q=owner', 'q=dora', 'q=a',
    `q=${encodeURIComponent('owner@bravo-acme.test')}`, `q=${encodeURIComponent(ownerB.email)}`, `q=${ownerB.userId}`, `q=${M.B1['owner@bravo-acme.test']}`,
    'q=%25', 'q=_', 'role=owner', 'role=admin', 'role=member', 'status=active', 'status=deactivated', 'status=deactivated&q=acme',
    'role=admin&q=acme', 'sort=-name', 'sort=role&role=admin', 'sort=-last_active_at&q=a', 'sort=joined_at&status=active',
  ];
  const match = (m, f) => {
    const qp = new URLSearchParams(f);
    const q = qp.get('q');
    if (q && !m.name.toLowerCase().includes(q.toLowerCase()) && !m.email.includes(q.toLowerCase())) return false;
    if (qp.get('role') && m.role !== qp.get('role')) return false;
    if (qp.get('status') && m.status !== qp.get('status')) return false;
    return true;
  };
  const truth = {};
  for (const W of new Set(TEAM_CALLERS.map(([, W]) => W))) truth[W] = await membersOf(W);
  // Seats belong to the subscription that pays: a workspace that pays counts itself and every live
  // sub-account billed to it, never another tenant's; a sub-account billed by its agency shows only
  // its own use (the agency's pool is not its to see).
  const billed = async (W) => {
    const [kind, , mode] = (await w.srv.sql(`SELECT kind || '|' || COALESCE(parent_id, '') || '|' || billing_mode FROM workspaces WHERE id = '${ws[W]}'`)).split('|');
    if (kind === 'sub_account' && mode === 'parent') return `(w.id = '${ws[W]}')`;
    return `(w.id = '${ws[W]}' OR (w.parent_id = '${ws[W]}' AND w.billing_mode = 'parent' AND w.status <> 'deleted'))`;
  };
  const activeSeats = async (W) => Number(await w.srv.sql(`SELECT COUNT(*) FROM memberships m JOIN workspaces w ON w.id = m.workspace_id WHERE m.status = 'active' AND ${await billed(W)}`));
  const pending = async (W) => Number(await w.srv.sql(`SELECT COUNT(*) FROM invitations i JOIN workspaces w ON w.id = i.workspace_id WHERE i.status = 'pending' AND i.expires_at > 1000 AND ${await billed(W)}`));
  for (const [k, W] of TEAM_CALLERS) {
    for (const f of filters) {
      const { ids, seats } = await memberPages(p[k], W, f);
      const want = truth[W].filter((m) => match(m, f)).map((m) => m.id);
      assert.deepEqual([...ids].sort(), [...want].sort(), `${k} in ${W} with '${f}'`);
      if (f === '') {
        assert.equal(seats.active_members, await activeSeats(W), `${k} ${W} seats`);
        assert.equal(seats.pending_invitations, await pending(W), `${k} ${W} pending seats`);
      }
    }
  }
  // The filters do find B's look-alikes in B's own sub-accounts: the filters work, the wall holds.
  assert.deepEqual((await memberPages(ownerB, 'B1', 'status=deactivated')).ids, [M.B1['dora@bravo.test']]);
  assert.deepEqual((await memberPages(ownerB, 'B2', 'q=acme')).ids.sort(), [M.B2['acme-admin@bravo.test'], M.B2['owner@bravo-acme.test']].sort());
  assert.deepEqual((await memberPages(p.owner, 'A', 'q=owner')).ids, [M.A['owner@acme.test']]);
  // A cursor from B's list is an offset into A's list, never a way into B's rows.
  const bPage = await ownerB.get(`/api/v1/workspaces/${ws.B1}/members?limit=1`);
  assert.ok(bPage.body.next_cursor);
  const mixed = await p.owner.get(`/api/v1/workspaces/${ws.A}/members?cursor=${bPage.body.next_cursor}`);
  assert.equal(mixed.status, 200, mixed.text);
  assert.ok(mixed.body.items.every((x) => Object.values(M.A).includes(x.id)), mixed.text);
});

test('a member’s activity shows only events of the workspace in the path', async () => {
  for (const [pr, W] of [[p.owner, 'A'], [p.subadmin, 'A1'], [p.owner, 'A1']]) {
    const r = await pr.get(`/api/v1/workspaces/${ws[W]}/members/${M[W]['agency@acme.test']}/activity`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.items.length > 0, `${W}: agency@ changed notifications there`);
    assert.ok(r.body.items.every((e) => e.workspace_id === ws[W]), `${W}: ${r.text}`);
  }
});

test('invitation lists: only the workspace’s own invitations, in every status', async () => {
  const truth = async (W) => {
    const text = await w.srv.sql(`SELECT id || '|' || status || '|' || expires_at FROM invitations WHERE workspace_id = '${ws[W]}'`);
    return text.split('\n').filter(Boolean).map((l) => {
      const [id, st, exp] = l.split('|');
      return { id, status: st === 'pending' && Number(exp) <= 1000 ? 'expired' : st };
    });
  };
  for (const [k, W] of TEAM_CALLERS) {
    const rows = await truth(W);
    for (const st of [undefined, 'pending', 'expired', 'accepted', 'revoked', 'all']) {
      const r = await p[k].get(`/api/v1/workspaces/${ws[W]}/invitations${st ? `?status=${st}` : ''}`);
      assert.equal(r.status, 200, r.text);
      const want = rows.filter((x) => st === 'all' || x.status === (st ?? 'pending')).map((x) => x.id).sort();
      assert.deepEqual(r.body.items.map((x) => x.id).sort(), want, `${k} in ${W}, status ${st}`);
    }
  }
  // The same address invited by A and by B: each list shows its own row only.
  const a = await p.owner.get(`/api/v1/workspaces/${ws.A}/invitations?status=all`);
  assert.deepEqual(a.body.items.filter((x) => x.email === 'ann@shared.test').map((x) => x.id), [INV.A['ann@shared.test']]);
  // B's expired, accepted and revoked rows exist: the filters work in B.
  for (const [st, email] of [['expired', 'fay@bravo.test'], ['accepted', 'eve@bravo.test'], ['revoked', 'acme-lookalike@bravo.test']]) {
    const r = await p.ownerB.get(`/api/v1/workspaces/${ws.B}/invitations?status=${st}`);
    assert.deepEqual(r.body.items.map((x) => x.email), [email], st);
  }
});

test('member and invitation ids of another workspace answer 404 in every route that takes one, and change nothing', async () => {
  const nf = (await p.owner.get(`/api/v1/workspaces/${missingId('ws')}`)).text;
  const before = await checksum(w.srv);
  // [caller, workspace in the path, foreign member ids, foreign invitation ids]: another tenant's, the
  // parent's, a child's and a sibling's rows; a missing id; a user id where a member id belongs.
  const cases = [
    [p.owner, 'A', [M.B['ownerb@bravo.test'], M.B1['owner@bravo-acme.test'], M.A1['subadmin@acme.test'], M.A1['agency@acme.test'], p.member.userId, missingId('mem')],
      [INV.B['ann@shared.test'], INV.B['acme-lookalike@bravo.test'], INV.A1['carl@dental.test'], INV.B1['dina@bravo.test'], missingId('inv')]],
    [p.subadmin, 'A1', [M.A['owner@acme.test'], M.A['member@acme.test'], M.B['ownerb@bravo.test'], M.B2['acme-admin@bravo.test']],
      [INV.A['ann@shared.test'], INV.A['bob@partner.test'], INV.B['owner@acme.test']]],
    [p.ownerB, 'B', [M.A['owner@acme.test'], M.A1['agency@acme.test'], M.B1['owner@bravo-acme.test'], M.B2['acme-admin@bravo.test']],
      [INV.A['ann@shared.test'], INV.A1['carl@dental.test'], INV.B1['dina@bravo.test']]],
    [p.ownerB, 'B1', [M.B['ownerb@bravo.test'], M.B2['owner@bravo-acme.test'], M.A1['a1member@acme.test']], [INV.B['ann@shared.test'], INV.A['cleo@partner.test']]],
    [p.owner, 'A2', [M.A1['agency@acme.test'], M.A['owner@acme.test'], M.B1['dora@bravo.test']], [INV.A1['carl@dental.test'], INV.A['ann@shared.test']]],
  ];
  const wrong = [];
  for (const [pr, W, members, invitations] of cases) {
    // Resending is limited per invitation id before the id is looked up: a fresh minute per caller.
    assert.equal((await w.srv.post('/api/v1/test/clock', { advance_seconds: 61 })).status, 200);
    const base = `/api/v1/workspaces/${ws[W]}`;
    const calls = [];
    for (const id of members) {
      assert.ok(id, `${W}: a member id of the world is missing`);
      calls.push(['GET', `${base}/members/${id}`], ['PATCH', `${base}/members/${id}`, { role: 'member' }], ['DELETE', `${base}/members/${id}`],
        ['POST', `${base}/members/${id}/deactivate`], ['POST', `${base}/members/${id}/reactivate`], ['POST', `${base}/members/${id}/end-sessions`],
        ['GET', `${base}/members/${id}/activity`]);
      if (W === 'A' || W === 'B') calls.push(['POST', `${base}/ownership-transfer`, { member_id: id }]);
    }
    for (const id of invitations) {
      assert.ok(id, `${W}: an invitation id of the world is missing`);
      calls.push(['POST', `${base}/invitations/${id}/resend`], ['DELETE', `${base}/invitations/${id}`]);
    }
    for (const [m, path, body] of calls) {
      const r = await pr.req(m, path, body ? { body } : {});
      if (r.status !== 404 || r.text !== nf) wrong.push(`${pr.key} ${m} ${path} → ${r.status} ${r.text.slice(0, 160)}`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.equal((await checksum(w.srv)).hash, before.hash, 'a request with a foreign id changed the store');
});

test(
  'probing another tenant’s invitation id does not use up that invitation’s resend budget',
  async () => {
    assert.equal((await w.srv.post('/api/v1/test/clock', { advance_seconds: 61 })).status, 200);
    const theirs = INV.B['owner@acme.test'];
    const probes = [];
    for (let i = 0; i < 3; i++) probes.push((await p.owner.post(`/api/v1/workspaces/${ws.A}/invitations/${theirs}/resend`)).status);
    assert.deepEqual(probes, [404, 404, 404], 'a foreign id is not found, however often it is tried');
    const own = await p.ownerB.post(`/api/v1/workspaces/${ws.B}/invitations/${theirs}/resend`);
    assert.equal(own.status, 200, `B's owner resends B's invitation: ${own.text}`);
  },
);

test('API key lists: only the workspace’s own keys for every manager; a key’s lists show only its own workspace', async () => {
  const made = {};
  const mk = async (pr, W, body = {}) => {
    const k = await createKey(pr, ws[W], body);
    (made[W] ??= []).push(k);
    return k;
  };
  await mk(p.owner, 'A');
  await mk(p.admin, 'A', { owner: 'me' });
  await mk(p.owner, 'A1');
  await mk(p.subadmin, 'A1', { owner: 'me', name: 'Acme Dental personal' });
  await mk(p.owner, 'A2');
  await mk(p.ownerB, 'B', { name: 'Acme Agency lookalike' });
  await mk(p.ownerB, 'B1');
  await mk(p.ownerB, 'B2');
  const keyB = await mk(p.ownerB, 'B', { scopes: ['team:read', 'activity:read', 'subaccounts:read'] });
  const keyA = await mk(p.owner, 'A', { scopes: ['team:read', 'activity:read', 'subaccounts:read'] });
  const own = {};
  const wsKey = Object.fromEntries(Object.entries(ws).map(([k, v]) => [v, k]));
  for (const line of (await w.srv.sql(`SELECT workspace_id || '|' || id FROM api_keys`)).split('\n').filter(Boolean)) {
    const [wsId, id] = line.split('|');
    (own[wsKey[wsId]] ??= []).push(id);
  }
  const wrong = [];
  for (const [pr, W] of [[p.owner, 'A'], [p.admin, 'A'], [p.agency, 'A'], [p.owner, 'A1'], [p.subadmin, 'A1'], [p.agency, 'A1'], [p.owner, 'A2'], [p.ownerB, 'B'], [p.ownerB, 'B1'], [p.ownerB, 'B2']]) {
    const r = await pr.get(`/api/v1/workspaces/${ws[W]}/api-keys`);
    if (r.status !== 200) {
      wrong.push(`${pr.key} in ${W}: ${r.status}`);
      continue;
    }
    const got = r.body.items.map((k) => k.id).sort();
    if (JSON.stringify(got) !== JSON.stringify((own[W] ?? []).sort())) wrong.push(`${pr.key} in ${W}: ${got.length} keys, ${own[W]?.length ?? 0} expected`);
  }
  for (const [pr, W] of [[p.member, 'A'], [p.a1member, 'A1'], [p.subadmin, 'A'], [p.ownerB, 'A'], [p.owner, 'B']]) {
    const r = await pr.get(`/api/v1/workspaces/${ws[W]}/api-keys`);
    if (![403, 404].includes(r.status)) wrong.push(`${pr.key} in ${W}: ${r.status}, expected a refusal`);
  }
  // A key's own lists: members, audit events and sub-accounts of its workspace only, filters or not.
  const kB = keyPrincipal(w.srv, 'keyB', keyB.secret);
  const kA = keyPrincipal(w.srv, 'keyA', keyA.secret);
  for (const [k, W, other] of [[kB, 'B', 'A'], [kA, 'A', 'B']]) {
    const m = await k.get(`/api/v1/workspaces/${ws[W]}/members?q=acme`);
    if (m.status !== 200 || m.body.items.some((x) => !Object.values(M[W]).includes(x.id))) wrong.push(`${k.key} members: ${m.status} ${m.text.slice(0, 200)}`);
    const a = await k.get(`/api/v1/workspaces/${ws[W]}/audit-events?target=${ws[other]}`);
    if (a.status !== 200 || a.body.items.some((e) => e.workspace_id !== ws[W])) wrong.push(`${k.key} audit: ${a.status} ${a.text.slice(0, 200)}`);
    const children = (await w.srv.sql(`SELECT id FROM workspaces WHERE parent_id = '${ws[W]}'`)).split('\n');
    const s = await k.get(`/api/v1/workspaces/${ws[W]}/subaccounts?q=acme`);
    if (s.status !== 200 || s.body.items.some((x) => !children.includes(x.id)) || s.body.total !== s.body.items.length) wrong.push(`${k.key} sub-accounts: ${s.text.slice(0, 200)}`);
    if (W === 'B' && !s.body.items.some((x) => x.id === ws.B2)) wrong.push(`${k.key}: B's own "Acme Lookalike" missing`);
    for (const path of ['members', 'audit-events', 'subaccounts']) {
      const r = await k.get(`/api/v1/workspaces/${ws[other]}/${path}`);
      if (r.status !== 404) wrong.push(`${k.key} ${path} of ${other}: ${r.status}`);
    }
  }
  assert.deepEqual(wrong, []);
});
