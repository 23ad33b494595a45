// Activity (the audit log, reliability.md T17): every change writes exactly one event per chain it
// belongs to (workspace.updated; subaccount.created/renamed/suspended/reactivated/deletion_scheduled/
// restored, mirrored into the sub-account's own chain; notifications.updated/reset; workspace.deleted
// by the deletion job), with actor (user or agency), target, before/after changes, ip, user agent and
// request id; a change that changes nothing writes nothing. Filters (actor, action exact or prefix,
// target, since, until), cursor pages, and `atrium audit verify` (intact, then broken after tampering).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, getDoc, advanceAndRunJobs, sleep } from './lib-world.mjs';
import { RFC3339 } from '../lib/server.mjs';

let w;
let ws;
let p;
let srv;

before(async () => {
  w = await startWorld({ extras: false, env: { ATRIUM_SESSION_IDLE: '31536000', ATRIUM_SESSION_ABSOLUTE: '31536000' } });
  ({ ws, p, srv } = w);
});

after(async () => {
  await w?.stop();
});

const events = async (W, qs = '', pr = p.owner) => {
  const r = await pr.get(`/api/v1/workspaces/${ws[W] ?? W}/audit-events?limit=100${qs ? `&${qs}` : ''}`);
  assert.equal(r.status, 200, r.text);
  return r.body.items;
};
const seqOf = async (W) => (await events(W))[0]?.seq ?? 0;
/** The events of W newer than seq (oldest first). */
const since = async (W, seq) => (await events(W)).filter((e) => e.seq > seq).reverse();

const EVENT_KEYS = ['action', 'actor', 'changes', 'created_at', 'id', 'ip', 'request_id', 'seq', 'target', 'user_agent', 'workspace_id'];

test('workspace.updated: one event with the changed fields only; actor, ip, user agent and request id; none for a no-op', async () => {
  const s0 = await seqOf('A');
  const { etag } = await getDoc(p.owner, ws.A);
  const r = await p.owner.patch(`/api/v1/workspaces/${ws.A}`, { industry: 'Marketing', name: 'Acme Agency', country: 'US' }, { ifMatch: etag, headers: { 'user-agent': 'audit-test/1.0', 'x-request-id': 'req-audit-0001' } });
  assert.equal(r.status, 200, r.text);
  const got = await since('A', s0);
  assert.equal(got.length, 1, JSON.stringify(got));
  const e = got[0];
  assert.deepEqual(Object.keys(e).sort(), EVENT_KEYS);
  assert.match(e.id, /^aud_[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.match(e.created_at, RFC3339);
  assert.deepEqual(
    [e.action, e.seq, e.workspace_id, e.actor, e.target, e.changes, e.ip, e.user_agent, e.request_id],
    [
      'workspace.updated',
      s0 + 1,
      ws.A,
      { type: 'user', id: p.owner.userId, label: 'owner@acme.test', name: 'Olivia Owner' },
      { type: 'workspace', id: ws.A },
      { country: { before: null, after: 'US' }, industry: { before: null, after: 'Marketing' } },
      '127.0.0.1',
      'audit-test/1.0',
      r.headers.get('x-request-id'),
    ],
  );
  // The same values again: no write, no event.
  const same = await p.owner.patch(`/api/v1/workspaces/${ws.A}`, { industry: 'Marketing' }, { ifMatch: r.headers.get('etag') });
  assert.equal(same.status, 200);
  assert.equal((await since('A', s0)).length, 1);
  // Refused changes leave no trace either.
  await p.owner.patch(`/api/v1/workspaces/${ws.A}`, { industry: 'Stale' }, { ifMatch: etag });
  await p.owner.patch(`/api/v1/workspaces/${ws.A}`, { country: 'USA' }, { ifMatch: r.headers.get('etag') });
  await p.member.patch(`/api/v1/workspaces/${ws.A}`, { industry: 'Member' }, { ifMatch: r.headers.get('etag') });
  assert.equal((await since('A', s0)).length, 1);
  // Cleared: after is null.
  const c = await p.owner.patch(`/api/v1/workspaces/${ws.A}`, { country: null }, { ifMatch: r.headers.get('etag') });
  assert.equal(c.status, 200);
  assert.deepEqual((await since('A', s0 + 1))[0].changes, { country: { before: 'US', after: null } });
});

test('an agency admin’s change in a sub-account is recorded as agency in that sub-account’s chain', async () => {
  const sA = await seqOf('A');
  const s1 = await seqOf('A1');
  const { etag } = await getDoc(p.admin, ws.A1);
  assert.equal((await p.admin.patch(`/api/v1/workspaces/${ws.A1}`, { legal_name: 'Acme Dental LLC' }, { ifMatch: etag })).status, 200);
  const [e] = await since('A1', s1);
  assert.deepEqual([e.action, e.actor, e.changes], ['workspace.updated', { type: 'agency', id: p.admin.userId, label: 'admin@acme.test', name: 'Adam Admin' }, { legal_name: { before: null, after: 'Acme Dental LLC' } }]);
  // The sub-account's own admin is a plain user there; the root's chain has neither.
  const { etag: e2 } = await getDoc(p.subadmin, ws.A1);
  assert.equal((await p.subadmin.patch(`/api/v1/workspaces/${ws.A1}`, { legal_name: null }, { ifMatch: e2 })).status, 200);
  const [, e3] = await since('A1', s1);
  assert.deepEqual(e3.actor, { type: 'user', id: p.subadmin.userId, label: 'subadmin@acme.test', name: 'Sam Subadmin' });
  assert.equal(await seqOf('A'), sA);
  // The sub-account's admin reads the sub-account's log, never the root's.
  assert.ok((await events('A1', '', p.subadmin)).length >= 3);
  assert.equal((await p.subadmin.get(`/api/v1/workspaces/${ws.A}/audit-events`)).status, 404);
});

test('sub-account changes: one event in the root’s chain and its mirror in the sub-account’s', async () => {
  const sA = await seqOf('A');
  const created = await p.owner.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Audit Branch', slug: 'audit-branch' });
  assert.equal(created.status, 201);
  const S = created.body.id;
  const base = `/api/v1/workspaces/${ws.A}/subaccounts/${S}`;
  const steps = [
    [() => p.admin.patch(base, { name: 'Audit Branch 2', display_name: 'AB2' }), 'subaccount.renamed', 'workspace.updated', { name: { before: 'Audit Branch', after: 'Audit Branch 2' }, display_name: { before: null, after: 'AB2' } }],
    [() => p.admin.patch(base, { name: 'Audit Branch 2' }), null, null, null], // no change, no event
    [() => p.owner.post(`${base}/suspend`, { reason: 'Chargeback' }), 'subaccount.suspended', 'subaccount.suspended', { status: { before: 'active', after: 'suspended' }, status_reason: { before: null, after: 'Chargeback' } }],
    [() => p.owner.post(`${base}/suspend`, { reason: 'Again' }), null, null, null], // 409
    [() => p.admin.post(`${base}/reactivate`), 'subaccount.reactivated', 'subaccount.reactivated', { status: { before: 'suspended', after: 'active' } }],
    [() => p.owner.post(`${base}/schedule-deletion`), 'subaccount.deletion_scheduled', 'subaccount.deletion_scheduled', { status: { before: 'active', after: 'pending_deletion' } }],
    [() => p.owner.post(`${base}/restore`), 'subaccount.restored', 'subaccount.restored', { status: { before: 'pending_deletion', after: 'active' } }],
  ];
  const rootEvents = await since('A', sA);
  assert.deepEqual(rootEvents.map((e) => [e.action, e.target.id]), [['subaccount.created', S]]);
  assert.deepEqual(rootEvents[0].changes, { name: { before: null, after: 'Audit Branch' } });
  const subEvents = await events(S);
  // In the sub-account's own chain the root's user acts through agency access.
  assert.deepEqual(subEvents.map((e) => [e.seq, e.action, e.actor.type]), [[1, 'workspace.created', 'agency']]);
  for (const [call, rootAction, subAction, changes] of steps) {
    const a = await seqOf('A');
    const b = await seqOf(S);
    await call();
    const ra = await since('A', a);
    const sa = await since(S, b);
    if (!rootAction) {
      assert.deepEqual([ra, sa], [[], []]);
      continue;
    }
    assert.deepEqual(ra.map((e) => [e.action, e.target.id]), [[rootAction, S]]);
    assert.deepEqual(sa.map((e) => [e.action, e.target.id]), [[subAction, S]]);
    assert.deepEqual(ra[0].changes, changes, rootAction);
    assert.deepEqual(sa[0].changes, changes, subAction);
    assert.deepEqual({ ...ra[0].actor, type: 'agency' }, sa[0].actor);
    assert.equal(ra[0].actor.type, 'user');
    assert.equal(ra[0].request_id, sa[0].request_id);
  }
  // The sub-account's chain as its parent's admins see it.
  assert.deepEqual((await events(S)).map((e) => e.action).reverse(), ['workspace.created', 'workspace.updated', 'subaccount.suspended', 'subaccount.reactivated', 'subaccount.deletion_scheduled', 'subaccount.restored']);
});

test('in a sub-account’s chain, the root’s admins are agency actors whichever route they used', async () => {
  const created = await p.owner.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Actor Branch' });
  const S = created.body.id;
  await p.admin.post(`/api/v1/workspaces/${ws.A}/subaccounts/${S}/suspend`, { reason: 'x' });
  const { etag } = await getDoc(p.admin, S);
  await p.admin.patch(`/api/v1/workspaces/${S}`, { industry: 'x' }, { ifMatch: etag });
  const types = (await events(S)).reverse().map((e) => `${e.action}:${e.actor.type}`);
  assert.deepEqual(types, ['workspace.created:agency', 'subaccount.suspended:agency', 'workspace.updated:agency']);
});

test('notifications.updated and notifications.reset: the moved channels only; nothing when nothing moved', async () => {
  const s0 = await seqOf('A');
  const N = `/api/v1/workspaces/${ws.A}/notifications`;
  assert.equal((await p.member.patch(N, { groups: { team: { email: false }, billing: { email: true } } })).status, 200);
  assert.equal((await p.member.patch(N, { groups: { team: { email: false } } })).status, 200); // no change
  assert.equal((await p.member.patch(N, { groups: { security: { email: false } } })).status, 400);
  assert.equal((await p.member.post(`${N}/reset`)).status, 200);
  assert.equal((await p.member.post(`${N}/reset`)).status, 200); // nothing to reset
  const got = await since('A', s0);
  assert.deepEqual(
    got.map((e) => [e.action, e.actor.id, e.target, e.changes]),
    [
      ['notifications.updated', p.member.userId, { type: 'user', id: p.member.userId }, { 'team.email': { before: true, after: false } }],
      ['notifications.reset', p.member.userId, { type: 'user', id: p.member.userId }, { 'team.email': { before: false, after: true } }],
    ],
  );
  // A member cannot read the log their change went into.
  assert.equal((await p.member.get(`/api/v1/workspaces/${ws.A}/audit-events`)).status, 403);
});

test('filters: actor, action (exact or prefix ending in "."), target, since, until; each bad parameter named', async () => {
  // A known stretch of history, one test-clock hour apart.
  const t0 = (await srv.req('/api/v1/test/clock')).body.now;
  const made = [];
  for (const name of ['Filter One', 'Filter Two', 'Filter Three']) {
    await srv.post('/api/v1/test/clock', { advance_seconds: 3600 });
    const r = await p.admin.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name });
    made.push({ id: r.body.id, at: (await srv.req('/api/v1/test/clock')).body.now });
  }
  await srv.post('/api/v1/test/clock', { advance_seconds: 3600 });
  assert.equal((await p.owner.post(`/api/v1/workspaces/${ws.A}/subaccounts/${made[1].id}/suspend`, { reason: 'Filter' })).status, 200);
  const all = await events('A');
  const actions = (list) => list.map((e) => `${e.action}:${e.target.id === made[0].id ? 1 : e.target.id === made[1].id ? 2 : e.target.id === made[2].id ? 3 : '-'}`);
  // actor
  const byAdmin = await events('A', `actor=${p.admin.userId}`);
  assert.ok(byAdmin.length >= 3 && byAdmin.every((e) => e.actor.id === p.admin.userId));
  assert.deepEqual(await events('A', 'actor=usr_nobody'), []);
  // action: exact, prefix, and a prefix without its dot is an exact match (finds nothing)
  assert.deepEqual(actions(await events('A', `action=subaccount.created&since=${encodeURIComponent(t0)}`)), ['subaccount.created:3', 'subaccount.created:2', 'subaccount.created:1']);
  const pref = await events('A', 'action=subaccount.');
  assert.ok(pref.length >= 4 && pref.every((e) => e.action.startsWith('subaccount.')));
  assert.deepEqual(pref, all.filter((e) => e.action.startsWith('subaccount.')));
  assert.deepEqual(await events('A', 'action=subaccount'), []);
  assert.deepEqual(await events('A', 'action=subaccount.creat'), []);
  // LIKE wildcards in the filter are not wildcards.
  assert.deepEqual(await events('A', 'action=%25'), []);
  // target
  assert.deepEqual(actions(await events('A', `target=${made[1].id}`)), ['subaccount.suspended:2', 'subaccount.created:2']);
  // since / until (inclusive window over the test clock)
  assert.deepEqual(actions(await events('A', `since=${encodeURIComponent(made[1].at)}`)), ['subaccount.suspended:2', 'subaccount.created:3']);
  assert.deepEqual(actions(await events('A', `since=${encodeURIComponent(t0)}&until=${encodeURIComponent(made[1].at)}`)), ['subaccount.created:2', 'subaccount.created:1']);
  assert.deepEqual(actions(await events('A', `since=${encodeURIComponent(made[0].at)}&until=${encodeURIComponent(made[0].at)}&action=subaccount.`)), []);
  // combined
  assert.deepEqual(actions(await events('A', `actor=${p.owner.userId}&action=subaccount.&since=${encodeURIComponent(t0)}`)), ['subaccount.suspended:2']);
  // every bad parameter named at once
  const bad = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?limit=0&since=yesterday&until=2026-13-01T00:00:00Z&cursor=x9&actor=${'a'.repeat(65)}&target=${'t'.repeat(65)}&action=${'b'.repeat(101)}`);
  assert.equal(bad.status, 400, bad.text);
  assert.deepEqual(bad.body.errors.map((e) => e.field).sort(), ['action', 'actor', 'cursor', 'limit', 'since', 'target', 'until']);
  for (const qs of ['limit=101', 'limit=-1', 'cursor=s0', 'cursor=s-5', 'cursor=sx', 'since=2026-01-01']) {
    assert.equal((await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?${qs}`)).status, 400, qs);
  }
});

test('until=1970-01-01T00:00:00Z is a bound like any other (it finds nothing newer)', async () => {
  assert.deepEqual(await events('A', 'until=1970-01-01T00:00:00Z'), []);
  assert.deepEqual(await events('A', 'until=1970-01-01T00:00:00.000001Z'), []);
});

test('pages: newest first, a cursor continues exactly where the page ended, the last page has no cursor', async () => {
  const all = await events('A');
  assert.ok(all.length >= 12, `only ${all.length} events`);
  assert.deepEqual(all.map((e) => e.seq), [...all.map((e) => e.seq)].sort((a, b) => b - a));
  assert.equal(all[all.length - 1].seq, 1);
  for (const limit of [1, 5, 7]) {
    const seen = [];
    let cursor = null;
    for (let i = 0; i < 100; i++) {
      const r = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.items.length <= limit);
      seen.push(...r.body.items.map((e) => e.seq));
      cursor = r.body.next_cursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, all.map((e) => e.seq), `limit ${limit}`);
  }
  // A filtered walk: pages of the filter, no stray rows.
  const filtered = await events('A', 'action=subaccount.');
  const seen = [];
  let cursor = null;
  do {
    const r = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?action=subaccount.&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...r.body.items.map((e) => e.seq));
    cursor = r.body.next_cursor;
  } while (cursor);
  assert.deepEqual(seen, filtered.map((e) => e.seq));
  // Exactly a page's worth: no cursor to an empty page.
  const exact = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?limit=${all.length}`);
  assert.equal(exact.body.next_cursor, null);
});

test('workspace.deleted is written by the deletion job, as the system, in the deleted sub-account’s chain', async () => {
  const r = await p.owner.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Short Lived' });
  const S = r.body.id;
  assert.equal((await p.owner.post(`/api/v1/workspaces/${ws.A}/subaccounts/${S}/schedule-deletion`)).status, 200);
  await advanceAndRunJobs(srv, 7 * 86400 + 1);
  for (let i = 0; i < 100 && (await p.owner.get(`/api/v1/workspaces/${S}`)).status !== 404; i++) await sleep(50);
  assert.equal((await p.owner.get(`/api/v1/workspaces/${S}/audit-events`)).status, 404);
  const rows = await srv.sql(`SELECT seq || '|' || action || '|' || actor_type || '|' || COALESCE(target_id, '') FROM audit_events WHERE workspace_id = '${S}' ORDER BY seq`);
  assert.deepEqual(rows.split('\n').map((l) => l.split('|')[1]), ['workspace.created', 'subaccount.deletion_scheduled', 'workspace.deleted']);
  assert.equal(rows.split('\n')[2].split('|')[2], 'system');
  assert.equal(rows.split('\n').filter((l) => l.includes('workspace.deleted')).length, 1);
  // Running the job queue again writes nothing more.
  await advanceAndRunJobs(srv, 60);
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM audit_events WHERE workspace_id = '${S}'`), '3');
});

test('the root’s own log records that its sub-account was deleted', async () => {
  const deleted = await srv.sql(`SELECT id FROM workspaces WHERE status = 'deleted' AND parent_id = '${ws.A}'`);
  assert.ok(deleted, 'the previous test deleted a sub-account');
  const root = await events('A', `target=${deleted.split('\n')[0]}`);
  assert.ok(root.some((e) => e.action === 'workspace.deleted' || e.action === 'subaccount.deleted'), JSON.stringify(root.map((e) => e.action)));
});

test('atrium audit verify: intact, then the broken workspace and event named after tampering', async () => {
  const ok = await srv.cli(['audit', 'verify']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const n = Number(/(\d+) events checked/.exec(ok.stdout)?.[1]);
  assert.equal(n, Number(await srv.sql('SELECT COUNT(*) FROM audit_events')));
  const one = await srv.cli(['audit', 'verify', ws.B]);
  assert.equal(one.code, 0, one.stdout);
  assert.ok(Number(/(\d+) events checked/.exec(one.stdout)?.[1]) >= 2);
  // Rewrite an action in A's chain: verify fails, naming A and the event.
  await srv.sql(`UPDATE audit_events SET action = 'x' WHERE workspace_id = '${ws.A}' AND seq = 1`);
  const broken = await srv.cli(['audit', 'verify']);
  assert.notEqual(broken.code, 0, broken.stdout);
  assert.match(broken.stdout + broken.stderr, new RegExp(`${ws.A}.*\\b1\\b`));
  // Other chains are still intact on their own.
  assert.equal((await srv.cli(['audit', 'verify', ws.B])).code, 0);
  // Remove an event from the middle of B's chain: B is broken at that event.
  for (const industry of ['One', 'Two']) {
    const { etag } = await getDoc(p.ownerB, ws.B);
    assert.equal((await p.ownerB.patch(`/api/v1/workspaces/${ws.B}`, { industry }, { ifMatch: etag })).status, 200);
  }
  await srv.sql(`DELETE FROM audit_events WHERE workspace_id = '${ws.B}' AND seq = 2`);
  const gap = await srv.cli(['audit', 'verify', ws.B]);
  assert.notEqual(gap.code, 0, gap.stdout);
  assert.match(gap.stdout + gap.stderr, new RegExp(`${ws.B}.*\\b2\\b`));
  // Changing a stored field other than the action (the changes) is caught too.
  const A1seq = await srv.sql(`SELECT MAX(seq) FROM audit_events WHERE workspace_id = '${ws.A1}'`);
  await srv.sql(`UPDATE audit_events SET changes = '{}' WHERE workspace_id = '${ws.A1}' AND seq = ${A1seq}`);
  const ch = await srv.cli(['audit', 'verify', ws.A1]);
  assert.notEqual(ch.code, 0, ch.stdout);
  assert.match(ch.stdout + ch.stderr, new RegExp(`${ws.A1}.*\\b${A1seq}\\b`));
});

test('atrium audit verify: removing the newest events of a chain is detected', async () => {
  const last = await srv.sql(`SELECT MAX(seq) FROM audit_events WHERE workspace_id = '${ws.B1}'`);
  await srv.sql(`DELETE FROM audit_events WHERE workspace_id = '${ws.B1}' AND seq = ${last}`);
  const r = await srv.cli(['audit', 'verify', ws.B1]);
  assert.notEqual(r.code, 0, r.stdout);
});

/** RFC 4180 rows of a CSV text (quoted cells, doubled quotes, CRLF line ends). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += ch;
  }
  assert.equal(cell + row.join(''), '', 'the file ends with CRLF');
  return rows;
}

test('export.csv (issue 14 item 4): every matching event, filters applied, RFC 4180 quoting, formula cells defused', async () => {
  // A name a spreadsheet would run as a formula, and a sub-account name with a comma and quotes.
  const evil = '=HYPERLINK("http://evil.test","x")';
  const me = await p.admin.get('/api/v1/me');
  const before = me.body.user?.name ?? me.body.name ?? 'Adam Admin';
  assert.equal((await p.admin.patch('/api/v1/me/profile', { name: evil })).status, 200);
  const made = await p.admin.post(`/api/v1/workspaces/${ws.A}/subaccounts`, { name: 'Export, "Quoted" Branch' });
  assert.equal(made.status, 201, made.text);
  assert.equal((await p.admin.patch('/api/v1/me/profile', { name: before })).status, 200);

  const r = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit/export.csv`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /^text\/csv; charset=utf-8/);
  assert.match(r.headers.get('content-disposition'), new RegExp(`^attachment; filename="activity-${ws.A}\\.csv"$`));
  const rows = parseCsv(r.text);
  assert.deepEqual(rows[0], ['time', 'actor_name', 'actor', 'actor_type', 'action', 'target_type', 'target_id', 'changes', 'ip', 'user_agent', 'request_id', 'seq', 'id']);
  // The same events as the paged list, in the same order.
  const listed = [];
  let cursor = '';
  for (;;) {
    const page = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    listed.push(...page.body.items);
    if (!page.body.next_cursor) break;
    cursor = page.body.next_cursor;
  }
  assert.deepEqual(rows.slice(1).map((x) => x[12]), listed.map((e) => e.id));
  const row = rows.find((x) => x[6] === made.body.id && x[4] === 'subaccount.created');
  assert.ok(row, 'the new sub-account event is exported');
  // At export time the actor's current name is used, so the row shows the restored name; the formula
  // shows in the changes of the profile event instead: check both the cell guard and the JSON cell.
  assert.equal(row[1], before);
  assert.equal(row[2], 'admin@acme.test');
  assert.deepEqual(JSON.parse(row[7]).name, { before: null, after: 'Export, "Quoted" Branch' });
  assert.match(row[0], RFC3339);
  // The formula guard, on a cell that starts with "=": export while the name is still the formula.
  assert.equal((await p.admin.patch('/api/v1/me/profile', { name: evil })).status, 200);
  const raw = (await p.owner.get(`/api/v1/workspaces/${ws.A}/audit/export.csv?action=subaccount.created&actor=${p.admin.userId}`)).text;
  assert.equal((await p.admin.patch('/api/v1/me/profile', { name: before })).status, 200);
  assert.match(raw, /,"'=HYPERLINK\(""http:\/\/evil\.test"",""x""\)",/);
  const again = parseCsv(raw);
  assert.ok(again.length > 1);
  for (const x of again.slice(1)) {
    assert.equal(x[4], 'subaccount.created');
    assert.equal(x[1], `'${evil}`);
  }
  // Filters are checked like the list's; members may not export; a foreign workspace is 404.
  const bad = await p.owner.get(`/api/v1/workspaces/${ws.A}/audit/export.csv?since=yesterday`);
  assert.equal(bad.status, 400);
  assert.ok(bad.body.errors.some((e) => e.field === 'since'));
  assert.equal((await p.member.get(`/api/v1/workspaces/${ws.A}/audit/export.csv`)).status, 403);
  assert.equal((await p.ownerB.get(`/api/v1/workspaces/${ws.A}/audit/export.csv`)).status, 404);
});
