// Sub-accounts and the people above them (issue 12, items 2, 7 and 8), on the fixture world (Acme
// Agency A with Acme Dental A1, billed by the agency, and Acme Fitness A2, paying for itself):
//   item 2: sessions belong to the person. Ending a member's sessions signs them out everywhere, so it
//     needs the right to manage them in every workspace where they are an active member: the admin of
//     Dental cannot sign the agency's owner (or an agency admin) out through their Dental membership,
//     nor can the agency's admin end its owner's sessions there; 403 role-rules with the reason.
//   item 7: a sub-account billed by its agency shows its admins its own seats and usage and "billed by
//     Acme Agency", never the agency's seat pool, subscription or amounts.
//   item 8: a root owner acts as an owner in its sub-accounts: billing writes where the sub-account pays
//     for itself, inviting an owner there; that owner manages the sub-account's billing, and hands the
//     ownership over by a transfer. A root admin stays an admin there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, mailedToken, ensureSeats, uniq, EXTRA_PASSWORD, signIn } from './lib-world.mjs';
import { problemOf } from '../lib/server.mjs';

let w;
let srv;
let p;
let ws;

before(async () => {
  w = await startWorld({ env: { ATRIUM_JOB_WORKERS: '0' } });
  ({ srv, p, ws } = w);
});

after(async () => {
  await w?.stop();
});

const W = (id) => `/api/v1/workspaces/${id}`;
const PROBLEM = (slug) => `urn:atrium:problem:${slug}`;

/** The membership id of `email` in wsId, read by `pr` (a manager there). */
async function memberId(pr, wsId, email) {
  const r = await pr.get(`${W(wsId)}/members?limit=100`);
  assert.equal(r.status, 200, r.text);
  const m = r.body.items.find((i) => i.user.email === email);
  assert.ok(m, `${email} is a member of ${wsId}`);
  return m.id;
}

/** `by` invites `email` into wsId with `role`; returns the mailed link's token. */
async function invite(by, wsId, email, role) {
  const r = await by.post(`${W(wsId)}/invitations`, { emails: [email], role });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.results[0].status, 'invited', r.text);
  return mailedToken(srv, email);
}

test('item 2: the admin of a sub-account cannot sign out the agency owner they invited there (403 with the reason)', async () => {
  const owner = p.owner;
  // subadmin@ (admin of Acme Dental) invites owner@ as a plain member of Dental; owner@ accepts.
  const token = await invite(p.subadmin, ws.A1, 'owner@acme.test', 'member');
  const acc = await owner.post(`/api/v1/invitations/${token}/accept`, {});
  assert.equal(acc.status, 200, acc.text);
  const ownerInDental = await memberId(p.subadmin, ws.A1, 'owner@acme.test');

  const r = await p.subadmin.post(`${W(ws.A1)}/members/${ownerInDental}/end-sessions`, {});
  const pb = problemOf(r, 403);
  assert.equal(pb.type, PROBLEM('role-rules'));
  assert.match(pb.detail, /every workspace/);
  assert.match(pb.detail, /a workspace you do not manage/);
  assert.ok(!pb.detail.includes('Acme Agency'), 'a workspace the caller cannot see is not named');
  // The agency's admin (an admin of the root, so an admin in Dental) meets the owner's role in the root.
  const byAdmin = problemOf(await p.admin.post(`${W(ws.A1)}/members/${ownerInDental}/end-sessions`, {}), 403);
  assert.equal(byAdmin.type, PROBLEM('role-rules'));
  assert.match(byAdmin.detail, /in Acme Agency they are an owner, a role above yours there/);
  // Nothing ended: the owner is still signed in.
  assert.equal((await owner.get('/api/v1/me')).status, 200);
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM audit_events WHERE action = 'member.sessions_ended'`), '0');

  // agency@ is an admin of the root and a member of Dental: Dental's admin does not manage them.
  const agencyInDental = await memberId(p.subadmin, ws.A1, 'agency@acme.test');
  const byDental = problemOf(await p.subadmin.post(`${W(ws.A1)}/members/${agencyInDental}/end-sessions`, {}), 403);
  assert.match(byDental.detail, /a workspace you do not manage/);
  assert.equal((await p.agency.get('/api/v1/me')).status, 200);
});

test('item 2: whoever manages the person everywhere may end their sessions (root owner through agency, sub-account admin for its own people)', async () => {
  // a1member@ belongs to Dental only: Dental's admin ends their sessions.
  const a1 = await memberId(p.subadmin, ws.A1, 'a1member@acme.test');
  const r = await p.subadmin.post(`${W(ws.A1)}/members/${a1}/end-sessions`, {});
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.ended >= 1, r.text);
  problemOf(await p.a1member.get('/api/v1/me'), 401);
  p.a1member = await signIn(srv, 'a1member', 'a1member@acme.test', 'acme-owner-demo-2026');
  // The root's owner manages agency@ in the root (admin) and in Dental (member): allowed through Dental.
  const ag = await memberId(p.owner, ws.A1, 'agency@acme.test');
  const r2 = await p.owner.post(`${W(ws.A1)}/members/${ag}/end-sessions`, {});
  assert.equal(r2.status, 200, r2.text);
  problemOf(await p.agency.get('/api/v1/me'), 401);
  p.agency = await signIn(srv, 'agency', 'agency@acme.test', 'acme-owner-demo-2026');
});

test('item 7: a sub-account billed by its agency shows its own seats and usage and who bills it, never the agency’s figures', async () => {
  // Usage in the agency and in Dental (the agency plan meters ai_minutes).
  const ev = (n) => ({ events: [{ event_id: uniq('e'), metric: 'ai_minutes', quantity: n }] });
  assert.equal((await p.owner.post(`${W(ws.A)}/billing/usage`, ev(300))).status, 200);
  assert.equal((await p.owner.post(`${W(ws.A1)}/billing/usage`, ev(250))).status, 200);

  const agency = (await p.owner.get(`${W(ws.A)}/billing`)).body;
  assert.equal(typeof agency.seats.purchased, 'number');
  assert.ok(agency.usage.find((u) => u.metric === 'ai_minutes').used >= 550);

  for (const pr of [p.subadmin, p.owner, p.admin]) {
    const r = await pr.get(`${W(ws.A1)}/billing`);
    assert.equal(r.status, 200, r.text);
    const o = r.body;
    assert.deepEqual([o.billing_mode, o.billed_by, o.billed_by_name], ['parent', ws.A, 'Acme Agency'], pr.key);
    assert.equal(o.subscription, null, `${pr.key}: no agency subscription (its seat quantity, periods, ids)`);
    assert.equal(o.upcoming_invoice, null);
    assert.equal(o.customer, null);
    assert.equal(o.ended_subscription, null);
    // Seats: Dental's own members and invitations, no pool.
    const own = Number(await srv.sql(`SELECT COUNT(*) FROM memberships WHERE workspace_id = '${ws.A1}' AND status = 'active'`));
    const pending = Number(await srv.sql(`SELECT COUNT(*) FROM invitations WHERE workspace_id = '${ws.A1}' AND status = 'pending'`));
    assert.deepEqual(o.seats, { purchased: null, used: own + pending, available: null, active_members: own, pending_invitations: pending });
    // Usage: Dental's own, counts only.
    const ai = o.usage.find((u) => u.metric === 'ai_minutes');
    assert.deepEqual(ai, { metric: 'ai_minutes', name: ai.name, unit: ai.unit, used: 250 });
    for (const u of o.usage) assert.deepEqual(Object.keys(u).sort(), ['metric', 'name', 'unit', 'used']);
    assert.ok(!/overage|amount_due|"quantity"/.test(r.text), `${pr.key}: ${r.text.slice(0, 400)}`);
  }
});

test('item 8: a root owner acts as an owner in its sub-accounts (billing writes, inviting an owner); a root admin as an admin', async () => {
  // Acme Fitness (A2) pays for itself and has no member at all.
  const sections = async (pr) => Object.fromEntries((await pr.get(`${W(ws.A2)}/sections`)).body.items.map((s) => [s.id, s.access]));
  assert.equal((await sections(p.owner)).billing, 'write');
  assert.equal((await sections(p.admin)).billing, 'read');
  const sw = (await p.owner.get('/api/v1/workspaces')).body.items.find((i) => i.id === ws.A2);
  assert.deepEqual([sw.role, sw.agency], ['owner', true]);

  // Billing writes: the root's owner may, its admin may not.
  const patch = (pr, name) => pr.req('PATCH', `${W(ws.A2)}/billing/customer`, { body: { name }, headers: { 'if-match': '*' } });
  const ok = await patch(p.owner, 'Acme Fitness LLC');
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.name, 'Acme Fitness LLC');
  assert.equal(problemOf(await patch(p.admin, 'Pwned'), 403).type, PROBLEM('forbidden'));
  await ensureSeats(p.owner, ws.A2, 3, { plan: 'starter' });

  // Inviting an owner: the root's owner may, its admin may not (a role above their own).
  const refused = await p.admin.post(`${W(ws.A2)}/invitations`, { emails: [`${uniq('x')}@fitness.test`], role: 'owner' });
  assert.equal(problemOf(refused, 403).type, PROBLEM('role-rules'));
  const email = `${uniq('fit-owner')}@fitness.test`;
  const token = await invite(p.owner, ws.A2, email, 'owner');
  const acc = await srv.post(`/api/v1/invitations/${token}/accept`, { name: 'Fiona Fitness', password: EXTRA_PASSWORD });
  assert.equal(acc.status, 201, acc.text);
  const fiona = await signIn(srv, 'fiona', email, EXTRA_PASSWORD);
  const me = (await fiona.get(`${W(ws.A2)}/members?limit=100`)).body.items.find((i) => i.user.email === email);
  assert.equal(me.role, 'owner');

  // The sub-account's own owner manages its billing too.
  const own = await patch(fiona, 'Fiona Fitness GmbH');
  assert.equal(own.status, 200, own.text);

  // Ownership transfer works in the sub-account: its owner hands over to a member, who accepts.
  const memberEmail = `${uniq('fit-member')}@fitness.test`;
  const t2 = await invite(fiona, ws.A2, memberEmail, 'member');
  assert.equal((await srv.post(`/api/v1/invitations/${t2}/accept`, { name: 'Max Member', password: EXTRA_PASSWORD })).status, 201);
  const max = await signIn(srv, 'max', memberEmail, EXTRA_PASSWORD);
  const maxId = await memberId(fiona, ws.A2, memberEmail);
  const tr = await fiona.post(`${W(ws.A2)}/ownership-transfer`, { member_id: maxId });
  assert.equal(tr.status, 201, tr.text);
  const accepted = await max.post(`${W(ws.A2)}/ownership-transfer/accept`, {});
  assert.equal(accepted.status, 200, accepted.text);
  const roles = Object.fromEntries((await p.owner.get(`${W(ws.A2)}/members?limit=100`)).body.items.map((i) => [i.user.email, i.role]));
  assert.deepEqual([roles[email], roles[memberEmail]], ['admin', 'owner']);
  // The root's owner still manages the sub-account's owners (and promotes one directly).
  const back = await p.owner.patch(`${W(ws.A2)}/members/${me.id}`, { role: 'owner' });
  assert.equal(back.status, 200, back.text);
  // A root admin cannot touch them.
  assert.equal(problemOf(await p.admin.patch(`${W(ws.A2)}/members/${maxId}`, { role: 'member' }), 403).type, PROBLEM('role-rules'));
});
