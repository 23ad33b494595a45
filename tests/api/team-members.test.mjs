// Team members (issue "Team: members, invitations, roles, seats, activity"): the members list (fields,
// usage, filters, sort, cursor pagination, seats), who may see and change it, the role rules (only
// owners manage owners, nobody grants above their own role: 403 role-rules), deactivation and
// reactivation (403 membership-deactivated, the seat is freed, history kept), removal (access ends at
// once, audited, the removed member's pending invitations die, the old link does not bring them back),
// leaving, ending a member's sessions, and the member activity feed. Mail goes to the data folder
// (no SMTP here); tests read invitation links from there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, signIn, signUp, principal, missingId, uniq, DEMO_PASSWORDS, setSeatLimit } from './lib-world.mjs';
import { problemOf, RFC3339 } from '../lib/server.mjs';
import { readMailFolder, linkToken } from '../lib/smtp-sink.mjs';

let w;
let srv;
let p;
let ws;

before(async () => {
  w = await startWorld({ extras: false, env: { ATRIUM_JOB_WORKERS: '0' } });
  ({ srv, p, ws } = w);
});

after(async () => {
  await w?.stop();
});

const W = (id) => `/api/v1/workspaces/${id}`;
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const PROBLEM = (slug) => `urn:atrium:problem:${slug}`;

/** A new root workspace with its owner (sign-up), so each test starts from a clean team. */
async function freshTeam(name = 'Team Owner') {
  const owner = await signUp(srv, 'owner', `${uniq('owner')}@team.test`, name);
  const r = await owner.get('/api/v1/workspaces');
  assert.equal(r.status, 200, r.text);
  const wsId = r.body.items[0].id;
  const me = await owner.get(`${W(wsId)}/members`);
  owner.memberId = me.body.items[0].id;
  return { owner, wsId };
}

/** A user with a membership written by SQL (password: the demo owner's), signed in. */
async function addMember(wsId, role, name = 'Some Body', { status = 'active' } = {}) {
  const email = `${uniq(role)}@team.test`;
  const userId = missingId('usr');
  const memberId = missingId('mem');
  await srv.sql(
    `INSERT INTO users (id, email, name, password_hash, developer, created_at, updated_at) ` +
      `SELECT ${q(userId)}, ${q(email)}, ${q(name)}, password_hash, 0, 1, 1 FROM users WHERE email = 'owner@acme.test'`,
  );
  await srv.sql(
    `INSERT INTO memberships (workspace_id, user_id, id, role, joined_at, status) VALUES (${q(wsId)}, ${q(userId)}, ${q(memberId)}, ${q(role)}, 1000000, ${q(status)})`,
  );
  const pr = await signIn(srv, role, email, DEMO_PASSWORDS.owner);
  pr.memberId = memberId;
  return pr;
}

async function deliver() {
  const r = await srv.post('/api/v1/test/jobs/run', {});
  assert.equal(r.status, 200, r.text);
}

/** Invites one address (asserted) and returns {id, token} with the token read from the mailed link. */
async function invite(pr, wsId, email, role = 'member') {
  const r = await pr.post(`${W(wsId)}/invitations`, { emails: [email], role });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.results[0].status, 'invited', r.text);
  await deliver();
  const mails = readMailFolder(srv.dataDir).filter((m) => m.to === email);
  assert.ok(mails.length, `an invitation mail to ${email}`);
  return { id: r.body.results[0].invitation.id, token: linkToken(mails.at(-1)) };
}

async function members(pr, wsId, query = '') {
  const r = await pr.get(`${W(wsId)}/members${query}`);
  assert.equal(r.status, 200, `members${query}: ${r.text}`);
  return r.body;
}

async function auditActions(pr, wsId, query = '') {
  const r = await pr.get(`${W(wsId)}/audit-events${query}`);
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

// ---------------------------------------------------------------------------------------------------

test('members: who may look — anonymous 401, a stranger 404 (same body as a missing workspace), a plain member reads the directory only', async () => {
  const anon = await p.anon.get(`${W(ws.A)}/members`);
  problemOf(anon, 401);
  const foreign = await p.ownerB.get(`${W(ws.A)}/members`);
  const missing = await p.ownerB.get(`${W(ws.NX)}/members`);
  problemOf(foreign, 404);
  assert.deepEqual({ ...foreign.body, instance: undefined, request_id: undefined }, { ...missing.body, instance: undefined, request_id: undefined });
  // Issue 14 item 6: a member reads the directory (names, roles, join dates) without addresses, last
  // activity, inviter or usage, and cannot find people by address; invitations and a member's activity
  // stay with those who manage the team.
  for (const path of ['invitations', `members/${missingId('mem')}/activity`]) {
    const r = await p.member.get(`${W(ws.A)}/${path}`);
    problemOf(r, 403);
  }
  const dir = await p.member.get(`${W(ws.A)}/members`);
  assert.equal(dir.status, 200, dir.text);
  assert.ok(dir.body.items.length >= 3);
  for (const m of dir.body.items) {
    assert.deepEqual(Object.keys(m.user).sort(), ['avatar_url', 'disabled', 'id', 'name']);
    for (const k of ['last_active_at', 'invited_by', 'usage']) assert.ok(!(k in m), `${k} shown to a member`);
    assert.match(m.joined_at, RFC3339);
    assert.ok(['owner', 'admin', 'member'].includes(m.role));
  }
  assert.doesNotMatch(dir.text, /@/);
  const one = await p.member.get(`${W(ws.A)}/members/${dir.body.items[0].id}`);
  assert.equal(one.status, 200, one.text);
  assert.ok(!('email' in one.body.user) && !('usage' in one.body));
  const byAddress = await p.member.get(`${W(ws.A)}/members?q=${encodeURIComponent('owner@acme')}`);
  assert.equal(byAddress.body.total, 0);
  assert.deepEqual(byAddress.body.items, []);
  const byName = await p.member.get(`${W(ws.A)}/members?q=olivia`);
  assert.equal(byName.body.total, 1);
  // Admins still get the addresses, and find people by them.
  const full = await p.admin.get(`${W(ws.A)}/members?q=${encodeURIComponent('owner@acme')}`);
  assert.equal(full.body.items[0].user.email, 'owner@acme.test');
  assert.ok('usage' in full.body.items[0]);
  for (const [m, path, body] of [
    ['POST', 'invitations', { emails: ['x@y.test'], role: 'member' }],
    ['PATCH', `members/${missingId('mem')}`, { role: 'member' }],
    ['DELETE', `members/${missingId('mem')}`, undefined],
    ['POST', `members/${missingId('mem')}/deactivate`, {}],
    ['POST', 'ownership-transfer', { member_id: missingId('mem') }],
  ]) {
    const r = await p.member.req(m, `${W(ws.A)}/${path}`, { body });
    problemOf(r, 403);
  }
  // Writes without the CSRF header are refused before anything else.
  const noCsrf = await srv.post(`${W(ws.A)}/invitations`, { emails: ['x@y.test'], role: 'member' }, { headers: { cookie: p.owner.cookie } });
  problemOf(noCsrf, 403);
  assert.equal(noCsrf.body.type, PROBLEM('csrf'));
  // Owners and admins read it; a missing member is 404.
  assert.equal((await p.admin.get(`${W(ws.A)}/members`)).status, 200);
  problemOf(await p.owner.get(`${W(ws.A)}/members/${missingId('mem')}`), 404);
  problemOf(await p.owner.get(`${W(ws.A)}/members/not-an-id`), 404);
});

test('members: every item carries role, join date, last active, status and usage; seats add up', async () => {
  const { owner, wsId } = await freshTeam('Olga Owner');
  const adm = await addMember(wsId, 'admin', 'Adele Admin');
  const mem = await addMember(wsId, 'member', 'Milo Member');
  await owner.post(`${W(wsId)}/invitations`, { emails: [`${uniq('p')}@team.test`, `${uniq('p')}@team.test`], role: 'member' });
  // The admin acts in the workspace once: last_active_at and actions_30d move; a second session counts.
  await adm.patch(`${W(wsId)}/members/${mem.memberId}`, { role: 'admin' });
  await adm.patch(`${W(wsId)}/members/${mem.memberId}`, { role: 'member' });
  await signIn(srv, 'again', adm.email, DEMO_PASSWORDS.owner);

  const body = await members(owner, wsId);
  assert.deepEqual(Object.keys(body).sort(), ['items', 'next_cursor', 'ownership_transfer', 'seats', 'total']);
  assert.equal(body.total, 3);
  assert.equal(body.next_cursor, null);
  assert.equal(body.ownership_transfer, null);
  assert.deepEqual(body.seats, { limit: 10, used: 5, available: 5, active_members: 3, pending_invitations: 2, full: false, provided_by: null });
  const by = Object.fromEntries(body.items.map((i) => [i.user.name, i]));
  for (const it of body.items) {
    assert.match(it.id, /^mem_[0-9A-Z]{26}$/);
    assert.match(it.user.id, /^usr_[0-9A-Z]{26}$/);
    assert.deepEqual(Object.keys(it.user).sort(), ['avatar_url', 'disabled', 'email', 'id', 'name']);
    assert.equal(it.status, 'active');
    assert.match(it.joined_at, RFC3339);
    assert.deepEqual(Object.keys(it.usage).sort(), ['actions_30d', 'open_sessions']);
  }
  assert.equal(by['Olga Owner'].role, 'owner');
  assert.equal(by['Adele Admin'].role, 'admin');
  assert.equal(by['Milo Member'].role, 'member');
  assert.equal(by['Adele Admin'].usage.actions_30d, 2, 'two role changes by the admin');
  assert.equal(by['Adele Admin'].usage.open_sessions, 2);
  assert.equal(by['Milo Member'].usage.actions_30d, 0);
  assert.equal(by['Milo Member'].usage.open_sessions, 1);
  assert.equal(by['Olga Owner'].usage.actions_30d >= 2, true, 'workspace.created + invitations');
  assert.match(by['Adele Admin'].last_active_at, RFC3339);
  assert.equal(by['Milo Member'].last_active_at, null, 'never opened the workspace');
  // One member by id: the same document.
  const one = await owner.get(`${W(wsId)}/members/${adm.memberId}`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.body, (await members(owner, wsId)).items.find((i) => i.id === adm.memberId));
});

test('members: filters (role, status, text), sorts and cursor pages; bad parameters are named', async () => {
  const { owner, wsId } = await freshTeam('Zed Owner');
  const names = ['alice Able', 'Bob Baker', 'carol Cole', 'Dan Drake', 'Eve 100% Evans', 'Fay_Fox'];
  const made = [];
  for (const [i, n] of names.entries()) made.push(await addMember(wsId, i % 2 ? 'admin' : 'member', n));
  await owner.post(`${W(wsId)}/members/${made[3].memberId}/deactivate`, {});

  const all = await members(owner, wsId);
  assert.equal(all.total, 7);
  assert.deepEqual(all.items.map((i) => i.user.name), [...names, 'Zed Owner'], 'default order: name, case-insensitive');
  assert.deepEqual((await members(owner, wsId, '?sort=-name')).items.map((i) => i.user.name), [...names, 'Zed Owner'].reverse());
  assert.deepEqual(
    (await members(owner, wsId, '?sort=role')).items.map((i) => i.role),
    ['owner', 'admin', 'admin', 'admin', 'member', 'member', 'member'],
  );
  const joined = (await members(owner, wsId, '?sort=-joined_at')).items;
  assert.equal(joined.at(-1).user.name !== 'Zed Owner', true);
  assert.equal(joined[0].user.name, 'Zed Owner', 'the owner joined last (the others have an old joined_at)');
  const active = (await members(owner, wsId, '?sort=-last_active_at')).items;
  assert.equal(active[0].user.name, 'Zed Owner', 'the one who just acted is first');

  assert.deepEqual((await members(owner, wsId, '?role=admin')).items.map((i) => i.user.name), ['Bob Baker', 'Dan Drake', 'Fay_Fox']);
  const deact = await members(owner, wsId, '?status=deactivated');
  assert.deepEqual([deact.total, deact.items.map((i) => i.user.name)], [1, ['Dan Drake']]);
  assert.equal((await members(owner, wsId, '?status=active')).total, 6);
  assert.deepEqual((await members(owner, wsId, '?q=CAROL')).items.map((i) => i.user.name), ['carol Cole'], 'case-insensitive name');
  assert.deepEqual((await members(owner, wsId, `?q=${encodeURIComponent(made[1].email.slice(0, 12))}`)).items.map((i) => i.user.name), ['Bob Baker']);
  // LIKE wildcards are literal.
  assert.deepEqual((await members(owner, wsId, '?q=100%25')).items.map((i) => i.user.name), ['Eve 100% Evans']);
  assert.deepEqual((await members(owner, wsId, '?q=_')).items.map((i) => i.user.name), ['Fay_Fox']);
  assert.equal((await members(owner, wsId, '?q=nobody-here')).total, 0);
  assert.deepEqual((await members(owner, wsId, '?role=admin&status=active&q=a')).items.map((i) => i.user.name), ['Bob Baker', 'Fay_Fox']);

  // Cursor pages: every member once, in order, then no cursor.
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const page = await members(owner, wsId, `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.ok(page.items.length <= 3);
    assert.equal(page.total, 7);
    seen.push(...page.items.map((i) => i.user.name));
    cursor = page.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(seen, [...names, 'Zed Owner']);
  const filtered = await members(owner, wsId, '?role=admin&limit=2');
  const rest = await members(owner, wsId, `?role=admin&limit=2&cursor=${encodeURIComponent(filtered.next_cursor)}`);
  assert.deepEqual([...filtered.items, ...rest.items].map((i) => i.user.name), ['Bob Baker', 'Dan Drake', 'Fay_Fox']);
  assert.equal(rest.next_cursor, null);

  const bad = await owner.get(`${W(wsId)}/members?role=boss&status=gone&sort=age&limit=0&cursor=zz&q=${'x'.repeat(101)}`);
  problemOf(bad, 400);
  assert.deepEqual(bad.body.errors.map((e) => e.field).sort(), ['cursor', 'limit', 'q', 'role', 'sort', 'status']);
  problemOf(await owner.get(`${W(wsId)}/members?limit=101`), 400);
});

test('roles: owners manage owners, admins manage members and admins, nobody grants above their own role', async () => {
  const { owner, wsId } = await freshTeam();
  const adm = await addMember(wsId, 'admin', 'Ann Admin');
  const adm2 = await addMember(wsId, 'admin', 'Abe Admin');
  const mem = await addMember(wsId, 'member', 'Max Member');
  const M = (x) => `${W(wsId)}/members/${x.memberId ?? x}`;
  const roleOf = async (x) => (await owner.get(M(x))).body.role;

  // Admin: member ⇄ admin is fine; owner is out of reach either way.
  let r = await adm.patch(M(mem), { role: 'admin' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.role, 'admin');
  r = await adm.patch(M(adm2), { role: 'member' });
  assert.equal(r.status, 200, r.text);
  r = await adm.patch(M(adm2), { role: 'owner' });
  assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'));
  r = await adm.patch(M(adm), { role: 'owner' });
  assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'), 'not even for oneself');
  r = await adm.patch(M(owner), { role: 'member' });
  assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'));
  for (const path of ['deactivate']) {
    r = await adm.post(`${M(owner)}/${path}`, {});
    assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'));
  }
  r = await adm.del(M(owner));
  assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'));
  // An admin cannot invite an owner either.
  r = await adm.post(`${W(wsId)}/invitations`, { emails: [`${uniq('o')}@team.test`], role: 'owner' });
  assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'));
  // Members (now adm2) cannot touch roles at all.
  r = await adm2.patch(M(mem), { role: 'member' });
  problemOf(r, 403);
  assert.equal(await roleOf(owner), 'owner');
  assert.equal(await roleOf(mem), 'admin');
  assert.equal(await roleOf(adm2), 'member');

  // Owner: grants and removes owner.
  r = await owner.patch(M(adm), { role: 'owner' });
  assert.equal(r.status, 200, r.text);
  r = await owner.patch(M(adm), { role: 'member' });
  assert.equal(r.status, 200, r.text);
  assert.equal(await roleOf(adm), 'member');
  // The same role again is a no-op 200 without an audit event.
  const before = (await auditActions(owner, wsId, '?action=member.role_changed')).length;
  r = await owner.patch(M(adm), { role: 'member' });
  assert.equal(r.status, 200, r.text);
  assert.equal((await auditActions(owner, wsId, '?action=member.role_changed')).length, before);

  // Bad bodies and ids.
  for (const body of [{}, { role: 'boss' }, { role: 'admin', extra: 1 }, { role: 3 }]) {
    r = await owner.patch(M(adm), body);
    problemOf(r, 400);
  }
  problemOf(await owner.patch(M(missingId('mem')), { role: 'admin' }), 404);
  // Audited with before/after.
  const ev = (await auditActions(owner, wsId, `?action=member.role_changed&target=${mem.memberId}`))[0];
  assert.deepEqual(ev.changes.role, { before: 'member', after: 'admin' });
  assert.equal(ev.actor.id, adm.userId);
});

test('roles: a member of another workspace cannot be reached through this one', async () => {
  const a = await freshTeam();
  const b = await freshTeam();
  const bm = await addMember(b.wsId, 'member');
  for (const [m, suffix, body] of [
    ['GET', '', undefined],
    ['PATCH', '', { role: 'admin' }],
    ['DELETE', '', undefined],
    ['POST', '/deactivate', {}],
    ['POST', '/end-sessions', {}],
    ['GET', '/activity', undefined],
  ]) {
    const r = await a.owner.req(m, `${W(a.wsId)}/members/${bm.memberId}${suffix}`, { body });
    problemOf(r, 404);
  }
  assert.equal((await b.owner.get(`${W(b.wsId)}/members/${bm.memberId}`)).body.role, 'member');
});

test('deactivation: access ends with 403 membership-deactivated, the seat is freed, history stays; reactivation restores', async () => {
  const { owner, wsId } = await freshTeam();
  const adm = await addMember(wsId, 'admin', 'Ida Inviter');
  const mem = await addMember(wsId, 'member', 'Dora Deactivated');
  // Some history first: the member is promoted and demoted.
  await owner.patch(`${W(wsId)}/members/${mem.memberId}`, { role: 'admin' });
  await mem.get(`${W(wsId)}/members`);
  await owner.patch(`${W(wsId)}/members/${mem.memberId}`, { role: 'member' });
  const inv = await invite(adm, wsId, `${uniq('byadmin')}@team.test`);
  const before = await members(owner, wsId);
  const joined = before.items.find((i) => i.id === mem.memberId).joined_at;

  let r = await owner.post(`${W(wsId)}/members/${mem.memberId}/deactivate`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'deactivated');
  assert.equal(r.body.joined_at, joined);
  const denied = await mem.get(W(wsId));
  assert.equal(problemOf(denied, 403).type, PROBLEM('membership-deactivated'));
  problemOf(await mem.get(`${W(wsId)}/notifications`), 403);
  // The user's session itself lives on (other workspaces, their profile).
  assert.equal((await mem.get('/api/v1/me')).status, 200);
  // Seats: one active member fewer.
  const after = await members(owner, wsId);
  assert.equal(after.seats.active_members, before.seats.active_members - 1);
  assert.equal(after.seats.available, before.seats.available + 1);
  assert.equal(after.total, before.total, 'still listed');
  // Twice is a no-op.
  r = await owner.post(`${W(wsId)}/members/${mem.memberId}/deactivate`, {});
  assert.equal(r.status, 200);
  // The admin inviter deactivated: their pending invitation dies.
  r = await owner.post(`${W(wsId)}/members/${adm.memberId}/deactivate`, {});
  assert.equal(r.status, 200, r.text);
  const lk = await srv.req(`/api/v1/invitations/${inv.token}`);
  assert.equal(lk.status, 200, lk.text);
  assert.equal(lk.body.status, 'revoked');
  const acc = await srv.post(`/api/v1/invitations/${inv.token}/accept`, { name: 'Late Comer', password: 'Correct-Horse-Battery-99' });
  assert.equal(problemOf(acc, 409).type, PROBLEM('invitation-revoked'));
  // History kept: the activity still lists the role changes about the member.
  const act = await owner.get(`${W(wsId)}/members/${mem.memberId}/activity`);
  assert.equal(act.status, 200, act.text);
  assert.deepEqual(
    act.body.items.map((e) => e.action).filter((a) => a !== 'member.reactivated'),
    ['member.deactivated', 'member.role_changed', 'member.role_changed'],
  );

  r = await owner.post(`${W(wsId)}/members/${mem.memberId}/reactivate`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'active');
  assert.equal(r.body.role, 'member');
  assert.equal(r.body.joined_at, joined);
  assert.equal((await mem.get(W(wsId))).status, 403, 'a member still may not read workspace settings');
  assert.equal((await mem.get(`${W(wsId)}/notifications`)).status, 200, 'but is back in');
  const ev = await auditActions(owner, wsId, `?target=${mem.memberId}`);
  assert.deepEqual(ev.slice(0, 2).map((e) => e.action), ['member.reactivated', 'member.deactivated']);
  problemOf(await owner.post(`${W(wsId)}/members/${missingId('mem')}/reactivate`, {}), 404);
});

test('deactivation: reactivating needs a free seat (409 seats-full)', async () => {
  const { owner, wsId } = await freshTeam();
  const mem = await addMember(wsId, 'member');
  await owner.post(`${W(wsId)}/members/${mem.memberId}/deactivate`, {});
  await setSeatLimit(srv, wsId, 2);
  await owner.post(`${W(wsId)}/invitations`, { emails: [`${uniq('seat')}@team.test`], role: 'member' });
  const r = await owner.post(`${W(wsId)}/members/${mem.memberId}/reactivate`, {});
  assert.equal(problemOf(r, 409).type, PROBLEM('seats-full'));
  assert.equal((await owner.get(`${W(wsId)}/members/${mem.memberId}`)).body.status, 'deactivated');
});

test('removal: access ends at once (404), the old session and the old invitation link both fail, pending invitations die, audited', async () => {
  const { owner, wsId } = await freshTeam();
  // The victim joins by invitation (a new person), as an admin, and invites someone.
  const email = `${uniq('victim')}@team.test`;
  const inv = await invite(owner, wsId, email, 'admin');
  const acc = await srv.post(`/api/v1/invitations/${inv.token}/accept`, { name: 'Rita Removed', password: 'Correct-Horse-Battery-99' });
  assert.equal(acc.status, 201, acc.text);
  const victim = principal(srv, { key: 'victim', email, cookie: acc.headers.get('set-cookie').split(';')[0], csrf: acc.body.csrf_token, user: acc.body.user });
  const list = await members(owner, wsId);
  const mine = list.items.find((i) => i.user.email === email);
  assert.equal(mine.role, 'admin');
  assert.equal(mine.invited_by, owner.userId);
  const sent = await invite(victim, wsId, `${uniq('friend')}@team.test`, 'member');
  assert.equal((await victim.get(`${W(wsId)}/members`)).status, 200);

  const r = await owner.del(`${W(wsId)}/members/${mine.id}`);
  assert.equal(r.status, 204, r.text);
  // The old session: everything in the workspace is 404 now, like for a stranger.
  for (const path of ['', '/members', '/notifications', '/sections']) {
    const x = await victim.get(`${W(wsId)}${path}`);
    problemOf(x, 404);
  }
  problemOf(await victim.post(`${W(wsId)}/invitations`, { emails: ['x@y.test'], role: 'member' }), 404);
  const sw = await victim.get('/api/v1/workspaces');
  assert.equal(sw.status, 200);
  assert.equal(sw.body.items.some((i) => i.id === wsId), false);
  // The old invitation link: used, and it does not bring them back.
  const again = await victim.post(`/api/v1/invitations/${inv.token}/accept`, {});
  assert.equal(problemOf(again, 409).type, PROBLEM('invitation-accepted'));
  const anonAgain = await srv.post(`/api/v1/invitations/${inv.token}/accept`, { name: 'Rita Again', password: 'Correct-Horse-Battery-99' });
  assert.equal(problemOf(anonAgain, 409).type, PROBLEM('invitation-accepted'));
  problemOf(await victim.get(W(wsId)), 404);
  // Their pending invitation was revoked with them.
  const lk = await srv.req(`/api/v1/invitations/${sent.token}`);
  assert.equal(lk.body.status, 'revoked');
  const inv2 = await owner.get(`${W(wsId)}/invitations?status=revoked`);
  assert.deepEqual(inv2.body.items.map((i) => i.id), [sent.id]);
  // Audited, and gone from the list and the seats.
  const ev = (await auditActions(owner, wsId, '?action=member.removed'))[0];
  assert.equal(ev.target.id, mine.id);
  assert.equal(ev.actor.id, owner.userId);
  assert.deepEqual(ev.changes.role, { before: 'admin', after: null });
  const after = await members(owner, wsId);
  assert.equal(after.items.some((i) => i.user.email === email), false);
  assert.deepEqual([after.seats.active_members, after.seats.pending_invitations], [1, 0]);
  problemOf(await owner.get(`${W(wsId)}/members/${mine.id}`), 404);
  problemOf(await owner.del(`${W(wsId)}/members/${mine.id}`), 404);
  // They can be invited again, as a fresh invitation.
  const back = await owner.post(`${W(wsId)}/invitations`, { emails: [email], role: 'member' });
  assert.equal(back.status, 200, back.text);
});

test('leaving: a member leaves (204, audited member.left), loses access; an agency admin has nothing to leave', async () => {
  const { owner, wsId } = await freshTeam();
  const adm = await addMember(wsId, 'admin', 'Lea Leaver');
  const inv = await invite(adm, wsId, `${uniq('lv')}@team.test`);
  const r = await adm.post(`${W(wsId)}/leave`, {});
  assert.equal(r.status, 204, r.text);
  problemOf(await adm.get(`${W(wsId)}/members`), 404);
  problemOf(await adm.post(`${W(wsId)}/leave`, {}), 404);
  const ev = (await auditActions(owner, wsId, '?action=member.left'))[0];
  assert.equal(ev.target.id, adm.memberId);
  assert.equal(ev.actor.id, adm.userId);
  assert.equal((await srv.req(`/api/v1/invitations/${inv.token}`)).body.status, 'revoked');
  // Leave needs the CSRF header like every write.
  const noCsrf = await srv.post(`${W(wsId)}/leave`, {}, { headers: { cookie: owner.cookie } });
  problemOf(noCsrf, 403);
  // The demo admin of Acme Agency reaches Acme Dental through agency access only.
  const ag = await p.admin.post(`${W(ws.A1)}/leave`, {});
  assert.equal(problemOf(ag, 409).type, PROBLEM('not-a-member'));
  // A sub-account may lose its only (admin) member: roots' owners still manage it.
  const sub = await p.subadmin.post(`${W(ws.A1)}/leave`, {});
  assert.equal(sub.status, 204, sub.text);
  problemOf(await p.subadmin.get(`${W(ws.A1)}/notifications`), 404);
});

test('sessions: an admin ends a member’s sessions (they must sign in again); not their own, not an owner’s', async () => {
  const { owner, wsId } = await freshTeam();
  const adm = await addMember(wsId, 'admin');
  const mem = await addMember(wsId, 'member');
  const mem2 = await signIn(srv, 'second', mem.email, DEMO_PASSWORDS.owner);
  let r = await adm.post(`${W(wsId)}/members/${mem.memberId}/end-sessions`, {});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { ended: 2 });
  problemOf(await mem.get('/api/v1/me'), 401);
  problemOf(await mem2.get('/api/v1/me'), 401);
  assert.equal((await members(owner, wsId)).items.find((i) => i.id === mem.memberId).usage.open_sessions, 0);
  r = await adm.post(`${W(wsId)}/members/${adm.memberId}/end-sessions`, {});
  assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'));
  r = await adm.post(`${W(wsId)}/members/${owner.memberId}/end-sessions`, {});
  assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'));
  assert.equal((await owner.get('/api/v1/me')).status, 200);
  assert.equal((await auditActions(owner, wsId, '?action=member.sessions_ended'))[0].target.id, mem.memberId);
});

test('activity: audit events by or about the member, newest first, limited; others’ events stay out', async () => {
  const { owner, wsId } = await freshTeam();
  const adm = await addMember(wsId, 'admin', 'Act Admin');
  const mem = await addMember(wsId, 'member', 'Act Member');
  const other = await addMember(wsId, 'member', 'Other Member');
  await owner.patch(`${W(wsId)}/members/${adm.memberId}`, { role: 'member' }); // about adm
  await owner.patch(`${W(wsId)}/members/${adm.memberId}`, { role: 'admin' }); // about adm
  await adm.post(`${W(wsId)}/invitations`, { emails: [`${uniq('a')}@team.test`], role: 'member' }); // by adm
  await adm.patch(`${W(wsId)}/members/${mem.memberId}`, { role: 'admin' }); // by adm, about mem
  await owner.patch(`${W(wsId)}/members/${other.memberId}`, { role: 'admin' }); // neither

  const r = await owner.get(`${W(wsId)}/members/${adm.memberId}/activity`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(
    r.body.items.map((e) => e.action),
    ['member.role_changed', 'invitation.created', 'member.role_changed', 'member.role_changed'],
  );
  const seqs = r.body.items.map((e) => e.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
  assert.ok(r.body.items.every((e) => e.actor.id === adm.userId || e.target.id === adm.memberId || e.target.id === adm.userId));
  assert.equal(r.body.items.some((e) => e.target.id === other.memberId), false);
  const lim = await owner.get(`${W(wsId)}/members/${adm.memberId}/activity?limit=2`);
  assert.deepEqual(lim.body.items.map((e) => e.seq), seqs.slice(0, 2));
  problemOf(await owner.get(`${W(wsId)}/members/${adm.memberId}/activity?limit=0`), 400);
  problemOf(await owner.get(`${W(wsId)}/members/${adm.memberId}/activity?limit=abc`), 400);
  const m = await adm.get(`${W(wsId)}/members/${mem.memberId}/activity`);
  assert.deepEqual(m.body.items.map((e) => e.action), ['member.role_changed']);
  const plain = await addMember(wsId, 'member', 'Plain Member');
  problemOf(await plain.get(`${W(wsId)}/members/${plain.memberId}/activity`), 403);
  problemOf(await owner.get(`${W(wsId)}/members/${missingId('mem')}/activity`), 404);
});
