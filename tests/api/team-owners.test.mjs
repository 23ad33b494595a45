// The one last-owner invariant (each root workspace keeps at least one active owner who is not a
// disabled user) on every path that changes membership: removal, demotion, leaving, deactivation and
// `atrium user disable` — all refused (409 last-owner; the CLI exits non-zero) and nothing changes.
// Deactivated owners and disabled users do not count as owners. And the two-step ownership transfer:
// proposed by an owner, accepted by the target (roles swap atomically), cancelled by either side.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, signIn, signUp, missingId, uniq, DEMO_PASSWORDS, checksum } from './lib-world.mjs';
import { problemOf } from '../lib/server.mjs';
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

async function freshTeam(name = 'Team Owner') {
  const owner = await signUp(srv, 'owner', `${uniq('owner')}@team.test`, name);
  const r = await owner.get('/api/v1/workspaces');
  const wsId = r.body.items[0].id;
  owner.memberId = (await owner.get(`${W(wsId)}/members`)).body.items[0].id;
  return { owner, wsId };
}

async function addMember(wsId, role, name = 'Some Body') {
  const email = `${uniq(role)}@team.test`;
  const userId = missingId('usr');
  const memberId = missingId('mem');
  await srv.sql(
    `INSERT INTO users (id, email, name, password_hash, developer, created_at, updated_at) ` +
      `SELECT ${q(userId)}, ${q(email)}, ${q(name)}, password_hash, 0, 1, 1 FROM users WHERE email = 'owner@acme.test'`,
  );
  await srv.sql(
    `INSERT INTO memberships (workspace_id, user_id, id, role, joined_at) VALUES (${q(wsId)}, ${q(userId)}, ${q(memberId)}, ${q(role)}, 1000000)`,
  );
  const pr = await signIn(srv, role, email, DEMO_PASSWORDS.owner);
  pr.memberId = memberId;
  return pr;
}

const roleOf = async (pr, wsId, memberId) => (await pr.get(`${W(wsId)}/members/${memberId}`)).body;

/** Every way a sole owner could leave a workspace without an owner: each is 409 last-owner. */
async function assertEveryPathRefused(owner, wsId, memberId, email, why) {
  const M = `${W(wsId)}/members/${memberId}`;
  const attempts = [
    ['remove', () => owner.del(M)],
    ['demote to admin', () => owner.patch(M, { role: 'admin' })],
    ['demote to member', () => owner.patch(M, { role: 'member' })],
    ['leave', () => owner.post(`${W(wsId)}/leave`, {})],
    ['deactivate', () => owner.post(`${M}/deactivate`, {})],
  ];
  for (const [what, fn] of attempts) {
    const r = await fn();
    const pb = problemOf(r, 409);
    assert.equal(pb.type, PROBLEM('last-owner'), `${why}: ${what} → ${r.text}`);
  }
  const cli = await srv.cli(['user', 'disable', email]);
  assert.notEqual(cli.code, 0, `${why}: user disable must fail: ${cli.stdout}`);
  assert.match(cli.stderr, /last active owner/);
}

// ---------------------------------------------------------------------------------------------------

test('last owner: remove, demote, leave, deactivate and `user disable` are all refused, and nothing changes', async () => {
  const { owner, wsId } = await freshTeam('Solo Owner');
  await addMember(wsId, 'admin', 'Second In Command');
  const before = await checksum(srv);
  await assertEveryPathRefused(owner, wsId, owner.memberId, owner.email, 'sole owner');
  assert.deepEqual(await checksum(srv), before, 'no row moved');
  // Still the owner, still signed in, still active.
  const me = await roleOf(owner, wsId, owner.memberId);
  assert.deepEqual([me.role, me.status, me.user.disabled], ['owner', 'active', false]);
});

test('last owner: a deactivated owner and a disabled user do not count as owners', async () => {
  const { owner, wsId } = await freshTeam('First Owner');
  const o2 = await addMember(wsId, 'owner', 'Second Owner');
  const o3 = await addMember(wsId, 'owner', 'Third Owner');
  // With three owners, one can be deactivated and another disabled.
  let r = await owner.post(`${W(wsId)}/members/${o2.memberId}/deactivate`, {});
  assert.equal(r.status, 200, r.text);
  const dis = await srv.cli(['user', 'disable', o3.email]);
  assert.equal(dis.code, 0, dis.stderr);
  // Now the first owner is the only active owner who counts.
  await assertEveryPathRefused(owner, wsId, owner.memberId, owner.email, 'owner among a deactivated and a disabled owner');
  // Reactivating the second owner makes room: the first may now step down to admin.
  r = await owner.post(`${W(wsId)}/members/${o2.memberId}/reactivate`, {});
  assert.equal(r.status, 200, r.text);
  r = await owner.patch(`${W(wsId)}/members/${owner.memberId}`, { role: 'admin' });
  assert.equal(r.status, 200, r.text);
  // The second owner is now the last one; deactivating or disabling them is refused, including by the CLI.
  const again = await srv.cli(['user', 'disable', o2.email]);
  assert.notEqual(again.code, 0);
  assert.equal((await roleOf(owner, wsId, o2.memberId)).user.disabled, false);
  problemOf(await o2.post(`${W(wsId)}/members/${o2.memberId}/deactivate`, {}), 409);
  // Enabling the third owner again is always fine.
  assert.equal((await srv.cli(['user', 'enable', o3.email])).code, 0);
  r = await o2.post(`${W(wsId)}/leave`, {});
  assert.equal(r.status, 204, `with the third owner back, the second may leave: ${r.text}`);
});

test('last owner: `user disable` checks every workspace the user owns, and refuses with no change at all', async () => {
  // ownerB of the world owns Bravo alone; a fresh user owns a second root and shares it.
  const { owner, wsId } = await freshTeam('Multi Owner');
  const co = await addMember(wsId, 'owner', 'Co Owner');
  await srv.sql(`INSERT INTO memberships (workspace_id, user_id, id, role, joined_at) VALUES (${q(ws.B)}, ${q(co.userId)}, ${q(missingId('mem'))}, 'member', 1)`);
  // co is one of two owners of wsId and a member of B: disabling co is fine…
  const before = await checksum(srv);
  const r1 = await srv.cli(['user', 'disable', p.ownerB.email]);
  assert.notEqual(r1.code, 0, 'ownerB is the sole owner of B');
  assert.deepEqual(await checksum(srv), before, 'the refused disable ended no session and changed nothing');
  assert.equal((await p.ownerB.get('/api/v1/me')).status, 200, 'ownerB still signed in');
  const r2 = await srv.cli(['user', 'disable', co.email]);
  assert.equal(r2.code, 0, r2.stderr);
  problemOf(await co.get('/api/v1/me'), 401);
  // …and now the first owner is the last one who counts.
  problemOf(await owner.del(`${W(wsId)}/members/${owner.memberId}`), 409);
  assert.equal((await srv.cli(['user', 'enable', co.email])).code, 0);
});

test('sub-accounts have no owner rule: their admins may leave (the root’s owners manage them)', async () => {
  const { owner, wsId } = await freshTeam('Root Owner');
  const sub = await owner.post(`${W(wsId)}/subaccounts`, { name: 'Child One', slug: uniq('child') });
  assert.equal(sub.status, 201, sub.text);
  const a = await addMember(sub.body.id, 'admin', 'Child Admin');
  const r = await a.post(`${W(sub.body.id)}/leave`, {});
  assert.equal(r.status, 204, r.text);
  assert.equal((await owner.get(`${W(sub.body.id)}/members`)).status, 200, 'the root owner still manages it');
});

test('ownership transfer: only an owner proposes; the target accepts; roles swap atomically; audited', async () => {
  const { owner, wsId } = await freshTeam('Handing Over');
  const adm = await addMember(wsId, 'admin', 'Next Owner');
  const mem = await addMember(wsId, 'member', 'Bystander');
  const T = `${W(wsId)}/ownership-transfer`;

  // Who may propose, and to whom.
  let r = await adm.post(T, { member_id: mem.memberId });
  assert.equal(problemOf(r, 403).type, PROBLEM('role-rules'));
  problemOf(await mem.post(T, { member_id: adm.memberId }), 403);
  problemOf(await owner.post(T, { member_id: missingId('mem') }), 404);
  r = await owner.post(T, { member_id: owner.memberId });
  assert.equal(problemOf(r, 409).type, PROBLEM('invalid-state'), 'not to an owner');
  for (const body of [{}, { member_id: 7 }, { member_id: adm.memberId, now: true }]) problemOf(await owner.post(T, body), 400);
  await owner.post(`${W(wsId)}/members/${mem.memberId}/deactivate`, {});
  r = await owner.post(T, { member_id: mem.memberId });
  assert.equal(problemOf(r, 409).type, PROBLEM('invalid-state'), 'not to a deactivated member');
  await owner.post(`${W(wsId)}/members/${mem.memberId}/reactivate`, {});

  r = await owner.post(T, { member_id: adm.memberId });
  assert.equal(r.status, 201, r.text);
  assert.match(r.body.id, /^otr_/);
  assert.deepEqual([r.body.from.id, r.body.to.id, r.body.to.name], [owner.userId, adm.userId, 'Next Owner']);
  const listed = (await owner.get(`${W(wsId)}/members`)).body.ownership_transfer;
  assert.equal(listed.id, r.body.id);
  problemOf(await owner.post(T, { member_id: mem.memberId }), 409);
  // Nothing changed yet.
  assert.equal((await roleOf(owner, wsId, owner.memberId)).role, 'owner');
  assert.equal((await roleOf(owner, wsId, adm.memberId)).role, 'admin');
  // Only the target accepts: anyone else gets 404 (there is nothing for them to accept).
  problemOf(await mem.post(`${T}/accept`, {}), 404);
  problemOf(await owner.post(`${T}/accept`, {}), 404);
  problemOf(await p.ownerB.post(`${T}/accept`, {}), 404);
  r = await adm.post(`${T}/accept`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal((await roleOf(owner, wsId, owner.memberId)).role, 'admin');
  assert.equal((await roleOf(owner, wsId, adm.memberId)).role, 'owner');
  const owners = (await adm.get(`${W(wsId)}/members?role=owner`)).body;
  assert.deepEqual(owners.items.map((i) => i.id), [adm.memberId], 'exactly one owner: the swap');
  assert.equal(owners.ownership_transfer, null);
  problemOf(await adm.post(`${T}/accept`, {}), 404, 'accepting twice');
  const ev = (await adm.get(`${W(wsId)}/audit-events?action=ownership.transferred`)).body.items[0];
  assert.deepEqual(ev.changes.owner, { before: owner.userId, after: adm.userId });
  assert.equal((await adm.get(`${W(wsId)}/audit-events?action=ownership.transfer_proposed`)).body.items.length, 1);
  // The former owner, now an admin, can no longer propose.
  problemOf(await owner.post(T, { member_id: mem.memberId }), 403);
});

test('ownership transfer: cancelled by the owner or declined by the target; a cancelled offer cannot be accepted', async () => {
  const { owner, wsId } = await freshTeam('Cancel Owner');
  const a = await addMember(wsId, 'admin');
  const b = await addMember(wsId, 'member');
  const T = `${W(wsId)}/ownership-transfer`;
  let r = await owner.post(T, { member_id: a.memberId });
  assert.equal(r.status, 201, r.text);
  problemOf(await b.del(T), 404, 'a bystander cannot cancel');
  r = await owner.del(T);
  assert.equal(r.status, 204, r.text);
  problemOf(await a.post(`${T}/accept`, {}), 404);
  problemOf(await owner.del(T), 404, 'nothing left to cancel');
  // The target declines.
  r = await owner.post(T, { member_id: b.memberId });
  assert.equal(r.status, 201, r.text);
  r = await b.del(T);
  assert.equal(r.status, 204, r.text);
  problemOf(await b.post(`${T}/accept`, {}), 404);
  assert.equal((await roleOf(owner, wsId, b.memberId)).role, 'member');
  assert.equal((await roleOf(owner, wsId, owner.memberId)).role, 'owner');
  const cancels = (await owner.get(`${W(wsId)}/audit-events?action=ownership.transfer_cancelled`)).body.items;
  assert.equal(cancels.length, 2);
});

test('ownership transfer: a target removed before accepting cannot accept; the owner stays owner', async () => {
  const { owner, wsId } = await freshTeam('Removal Owner');
  const a = await addMember(wsId, 'admin');
  const T = `${W(wsId)}/ownership-transfer`;
  assert.equal((await owner.post(T, { member_id: a.memberId })).status, 201);
  assert.equal((await owner.del(`${W(wsId)}/members/${a.memberId}`)).status, 204);
  problemOf(await a.post(`${T}/accept`, {}), 404);
  const o = await owner.get(`${W(wsId)}/members?role=owner`);
  assert.deepEqual(o.body.items.map((i) => i.id), [owner.memberId]);
  // The offer died with the membership: it is not shown, and a new one can be made.
  assert.equal(o.body.ownership_transfer, null, `a transfer to a removed member still pending: ${JSON.stringify(o.body.ownership_transfer)}`);
  const b = await addMember(wsId, 'member');
  const r = await owner.post(T, { member_id: b.memberId });
  assert.equal(r.status, 201, r.text);
});

test('ownership transfer: an offer does not survive the target’s removal — rejoining later as a member gives no way to accept it', async () => {
  const { owner, wsId } = await freshTeam('Stale Offer Owner');
  const x = await addMember(wsId, 'member', 'Xavier Stale');
  const T = `${W(wsId)}/ownership-transfer`;
  assert.equal((await owner.post(T, { member_id: x.memberId })).status, 201);
  assert.equal((await owner.del(`${W(wsId)}/members/${x.memberId}`)).status, 204);
  // Back as a plain member, through the front door.
  const inv = await owner.post(`${W(wsId)}/invitations`, { emails: [x.email], role: 'member' });
  assert.equal(inv.status, 200, inv.text);
  await srv.post('/api/v1/test/jobs/run', {});
  const mail = readMailFolder(srv.dataDir).filter((m) => m.to === x.email).at(-1);
  assert.equal((await x.post(`/api/v1/invitations/${linkToken(mail)}/accept`, {})).status, 200);
  const r = await x.post(`${T}/accept`, {});
  const roles = (await owner.get(`${W(wsId)}/members`)).body.items.map((i) => [i.user.name, i.role]);
  assert.equal(r.status, 404, `a removed member's old offer was accepted: ${r.status} ${r.text}; roles now ${JSON.stringify(roles)}`);
  assert.deepEqual(roles.sort(), [['Stale Offer Owner', 'owner'], ['Xavier Stale', 'member']]);
});

test('last owner under concurrency: two owners stepping down at the same moment never leave the workspace ownerless', async () => {
  // Each round: a workspace with exactly two active owners who act at once, in different ways.
  const plays = [
    ['demote each other', (a, b, ws) => [a.pr.patch(`${W(ws)}/members/${b.id}`, { role: 'admin' }), b.pr.patch(`${W(ws)}/members/${a.id}`, { role: 'admin' })]],
    ['both leave', (a, b, ws) => [a.pr.post(`${W(ws)}/leave`, {}), b.pr.post(`${W(ws)}/leave`, {})]],
    ['remove each other', (a, b, ws) => [a.pr.del(`${W(ws)}/members/${b.id}`), b.pr.del(`${W(ws)}/members/${a.id}`)]],
    ['deactivate each other', (a, b, ws) => [a.pr.post(`${W(ws)}/members/${b.id}/deactivate`, {}), b.pr.post(`${W(ws)}/members/${a.id}/deactivate`, {})]],
    ['demote self / leave', (a, b, ws) => [a.pr.patch(`${W(ws)}/members/${a.id}`, { role: 'member' }), b.pr.post(`${W(ws)}/leave`, {})]],
  ];
  const failures = [];
  for (let round = 0; round < 3; round++) {
    for (const [what, play] of plays) {
      const { owner, wsId } = await freshTeam('Race Owner');
      const o2 = await addMember(wsId, 'owner', 'Race Owner Two');
      const a = { pr: owner, id: owner.memberId };
      const b = { pr: o2, id: o2.memberId };
      const rs = await Promise.all(play(a, b, wsId));
      const owners = Number(
        await srv.sql(
          `SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ${q(wsId)} AND m.role = 'owner' AND m.status = 'active' AND u.disabled = 0`,
        ),
      );
      if (owners < 1) failures.push(`${what} (round ${round + 1}): answers ${rs.map((r) => r.status)} left ${owners} active owners`);
      for (const r of rs) assert.ok([200, 204, 403, 404, 409].includes(r.status), `${what}: ${r.status} ${r.text}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('ownership transfer under concurrency: six offers at once → one pending transfer', async () => {
  const { owner, wsId } = await freshTeam('Offer Owner');
  const targets = [];
  for (let i = 0; i < 6; i++) targets.push(await addMember(wsId, 'member', `Target ${i}`));
  const rs = await Promise.all(targets.map((t) => owner.post(`${W(wsId)}/ownership-transfer`, { member_id: t.memberId })));
  assert.deepEqual(rs.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
  for (const r of rs.filter((x) => x.status === 409)) assert.equal(r.body.type, PROBLEM('invalid-state'));
  assert.equal(Number(await srv.sql(`SELECT COUNT(*) FROM ownership_transfers WHERE workspace_id = ${q(wsId)} AND status = 'pending'`)), 1);
});
