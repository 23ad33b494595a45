// Seats: the limit is the seat count of the subscription that pays for the workspace (a sign-up's
// trial starts with ATRIUM_DEFAULT_SEATS = 10; set here with setSeatLimit). Inviting counts
// active members + pending invitations; accepting needs a free seat among active members; at the limit
// → 409 seats-full (one address) or a per-address seats_full result naming the number of seats. It
// holds under concurrency: 20 simultaneous accepts against 5 free seats → exactly 5 succeed. Also the
// per-IP limits of the public invitation and password routes (ATRIUM_LOGIN_IP_PER_MINUTE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, signUp, uniq, setSeatLimit, insertUser, addMembership } from './lib-world.mjs';
import { problemOf, startServer } from '../lib/server.mjs';
import { readMailFolder, linkToken } from '../lib/smtp-sink.mjs';

let w;
let srv;

before(async () => {
  w = await startWorld({ extras: false, env: { ATRIUM_JOB_WORKERS: '0' } });
  ({ srv } = w);
});

after(async () => {
  await w?.stop();
});

const W = (id) => `/api/v1/workspaces/${id}`;
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const PROBLEM = (slug) => `urn:atrium:problem:${slug}`;
const PASSWORD = 'Correct-Horse-Battery-99';

async function freshTeam(s = srv, name = 'Seat Owner') {
  const owner = await signUp(s, 'owner', `${uniq('owner')}@team.test`, name);
  const wsId = (await owner.get('/api/v1/workspaces')).body.items[0].id;
  return { owner, wsId };
}

const setSeats = (wsId, n) => setSeatLimit(srv, wsId, n);
const seats = async (pr, wsId) => (await pr.get(`${W(wsId)}/members`)).body.seats;

async function deliver(s = srv) {
  const r = await s.post('/api/v1/test/jobs/run', {});
  assert.equal(r.status, 200, r.text);
}

/** Invites the addresses (all asserted invited) and returns their tokens, in order. */
async function inviteAll(pr, wsId, emails, role = 'member') {
  const r = await pr.post(`${W(wsId)}/invitations`, { emails, role });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.results.map((x) => x.status), emails.map(() => 'invited'), r.text.slice(0, 500));
  await deliver();
  const mails = readMailFolder(srv.dataDir);
  return emails.map((e) => linkToken(mails.filter((m) => m.to === e).at(-1)));
}

const acceptNew = (token, name = 'Seat Taker', s = srv) => s.post(`/api/v1/invitations/${token}/accept`, { name, password: PASSWORD });

// ---------------------------------------------------------------------------------------------------

test('seats: active members and pending invitations count when inviting; the refusal names the number of seats', async () => {
  const { owner, wsId } = await freshTeam();
  assert.deepEqual(await seats(owner, wsId), { limit: 10, used: 1, available: 9, active_members: 1, pending_invitations: 0, full: false, provided_by: null });
  await setSeats(wsId, 3);
  const ids = [];
  const r1 = await owner.post(`${W(wsId)}/invitations`, { emails: [`${uniq('s')}@team.test`, `${uniq('s')}@team.test`], role: 'member' });
  ids.push(...r1.body.results.map((x) => x.invitation.id));
  assert.deepEqual(await seats(owner, wsId), { limit: 3, used: 3, available: 0, active_members: 1, pending_invitations: 2, full: true, provided_by: null });
  // One address: 409 seats-full.
  const one = await owner.post(`${W(wsId)}/invitations`, { emails: [`${uniq('s')}@team.test`], role: 'member' });
  const pb = problemOf(one, 409);
  assert.equal(pb.type, PROBLEM('seats-full'), one.text);
  assert.match(JSON.stringify(pb), /\b3 seats\b/);
  // Several: a seats_full result per address, naming the number.
  const many = await owner.post(`${W(wsId)}/invitations`, { emails: [`${uniq('s')}@team.test`, `${uniq('s')}@team.test`], role: 'admin' });
  assert.equal(many.status, 200, many.text);
  for (const x of many.body.results) {
    assert.equal(x.status, 'error');
    assert.equal(x.error.code, 'seats_full');
    assert.match(x.error.message, /\b3 seats\b/);
  }
  // Cancelling an invitation frees its seat; exactly one fits again.
  assert.equal((await owner.del(`${W(wsId)}/invitations/${ids[0]}`)).status, 204);
  const again = await owner.post(`${W(wsId)}/invitations`, { emails: [`${uniq('s')}@team.test`, `${uniq('s')}@team.test`], role: 'member' });
  assert.deepEqual(again.body.results.map((x) => x.error?.code ?? x.status), ['invited', 'seats_full']);
  assert.equal((await owner.get(`${W(wsId)}/invitations`)).body.items.length, 2);
});

test('seats: accepting needs a free seat among active members; deactivation frees one', async () => {
  const { owner, wsId } = await freshTeam();
  await setSeats(wsId, 4);
  const emails = [`${uniq('a')}@team.test`, `${uniq('b')}@team.test`, `${uniq('c')}@team.test`];
  const tokens = await inviteAll(owner, wsId, emails);
  // The limit drops (billing changed): pending invitations stay, but only one more can join.
  await setSeats(wsId, 2);
  assert.equal((await acceptNew(tokens[0], 'First In')).status, 201);
  const full = await acceptNew(tokens[1], 'Second In');
  assert.equal(problemOf(full, 409).type, PROBLEM('seats-full'));
  assert.equal((await srv.req(`/api/v1/invitations/${tokens[1]}`)).body.status, 'pending', 'still usable later');
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM users WHERE email = ${q(emails[1])}`), '0', 'no account was left behind');
  // Deactivating the first newcomer frees the seat.
  const list = (await owner.get(`${W(wsId)}/members`)).body;
  const first = list.items.find((i) => i.user.email === emails[0]);
  assert.equal((await owner.post(`${W(wsId)}/members/${first.id}/deactivate`, {})).status, 200);
  assert.equal((await acceptNew(tokens[1], 'Second In')).status, 201);
  const s = await seats(owner, wsId);
  assert.deepEqual([s.limit, s.active_members, s.pending_invitations, s.available], [2, 2, 1, 0]);
  assert.equal(problemOf(await acceptNew(tokens[2], 'Third In'), 409).type, PROBLEM('seats-full'));
});

test('seats: 20 concurrent accepts against 5 free seats → exactly 5 join, 15 get seats-full', async () => {
  const { owner, wsId } = await freshTeam();
  await setSeats(wsId, 25);
  const emails = Array.from({ length: 20 }, (_, i) => `${uniq(`race${i}`)}@team.test`);
  const tokens = await inviteAll(owner, wsId, emails);
  await setSeats(wsId, 6); // the owner + 5 free seats
  const results = await Promise.all(tokens.map((t, i) => acceptNew(t, `Racer ${i}`)));
  const by = {};
  for (const r of results) {
    const k = r.status === 201 ? 'joined' : `${r.status} ${r.body?.type}`;
    by[k] = (by[k] || 0) + 1;
  }
  assert.deepEqual(by, { joined: 5, [`409 ${PROBLEM('seats-full')}`]: 15 });
  const list = (await owner.get(`${W(wsId)}/members?limit=100`)).body;
  assert.equal(list.total, 6);
  assert.deepEqual([list.seats.active_members, list.seats.pending_invitations], [6, 15]);
  const joined = emails.filter((_, i) => results[i].status === 201).sort();
  assert.deepEqual(list.items.map((i) => i.user.email).filter((e) => e !== owner.email).sort(), joined);
  assert.equal(Number(await srv.sql(`SELECT COUNT(*) FROM users WHERE email LIKE 'race%'`)), 5, 'the losers left no account behind');
  assert.equal(Number(await srv.sql(`SELECT COUNT(*) FROM invitations WHERE workspace_id = ${q(wsId)} AND status = 'accepted'`)), 5);
});

test('one link used by eight people at once: exactly one account and membership, the rest invitation-accepted', async () => {
  const { owner, wsId } = await freshTeam();
  const email = `${uniq('same')}@team.test`;
  const [token] = await inviteAll(owner, wsId, [email]);
  const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => acceptNew(token, `Same ${i}`)));
  assert.deepEqual(rs.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
  for (const r of rs.filter((x) => x.status === 409)) assert.equal(r.body.type, PROBLEM('invitation-accepted'));
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM users WHERE email = ${q(email)}`), '1');
  assert.equal((await owner.get(`${W(wsId)}/members`)).body.seats.active_members, 2);
});

test('seats: five concurrent reactivations against one free seat → exactly one comes back', async () => {
  const { owner, wsId } = await freshTeam();
  const emails = Array.from({ length: 5 }, () => `${uniq('back')}@team.test`);
  const tokens = await inviteAll(owner, wsId, emails);
  for (const [i, t] of tokens.entries()) assert.equal((await acceptNew(t, `Back ${i}`)).status, 201);
  const list = (await owner.get(`${W(wsId)}/members`)).body.items.filter((i) => i.role !== 'owner');
  for (const m of list) assert.equal((await owner.post(`${W(wsId)}/members/${m.id}/deactivate`, {})).status, 200);
  await setSeats(wsId, 2); // the owner + one
  const rs = await Promise.all(list.map((m) => owner.post(`${W(wsId)}/members/${m.id}/reactivate`, {})));
  const s = (await owner.get(`${W(wsId)}/members`)).body.seats;
  assert.deepEqual(
    { answers: rs.map((r) => r.status).sort(), active: s.active_members },
    { answers: [200, 409, 409, 409, 409], active: 2 },
  );
  for (const r of rs.filter((x) => x.status === 409)) assert.equal(r.body.type, PROBLEM('seats-full'));
});

test('seats: two concurrent single invitations for the last seat → one invited, one seats-full', async () => {
  const { owner, wsId } = await freshTeam();
  await setSeats(wsId, 2);
  const rs = await Promise.all(
    Array.from({ length: 6 }, () => owner.post(`${W(wsId)}/invitations`, { emails: [`${uniq('last')}@team.test`], role: 'member' })),
  );
  assert.deepEqual(rs.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409]);
  assert.deepEqual(await seats(owner, wsId), { limit: 2, used: 2, available: 0, active_members: 1, pending_invitations: 1, full: true, provided_by: null });
});

test('a sub-account billed by its agency sees its own seat use and who provides its seats, never the agency\'s figures (issue 12, item 7)', async () => {
  const { p, ws } = w;
  const memberUser = await insertUser(srv, `${uniq('dental')}@acme.test`, 'Dana Dental');
  await addMembership(srv, ws.A1, memberUser, 'member');
  const ownActive = async () => (await p.subadmin.get(`${W(ws.A1)}/members?status=active`)).body.total;
  const ownPending = async () => (await p.subadmin.get(`${W(ws.A1)}/invitations`)).body.items.length;
  const agency = await seats(p.owner, ws.A);
  assert.equal(agency.provided_by, null);
  const sub = await seats(p.subadmin, ws.A1);
  const active = await ownActive();
  const pending = await ownPending();
  assert.deepEqual(sub, {
    limit: null,
    used: active + pending,
    available: null,
    active_members: active,
    pending_invitations: pending,
    full: false,
    provided_by: { id: ws.A, name: 'Acme Agency' },
  });
  assert.notEqual(sub.used, agency.used, 'the pool and the sub-account differ in this world');

  // A member of the sub-account steps out (a seat of the pool frees), then the pool is filled: the
  // refusals in the sub-account (invitations, reactivation) say so without a figure.
  const member = (await p.subadmin.get(`${W(ws.A1)}/members?status=active`)).body.items.find((m) => m.user.name === 'Dana Dental');
  assert.ok(member, 'the sub-account has a member to deactivate');
  assert.equal((await p.subadmin.post(`${W(ws.A1)}/members/${member.id}/deactivate`, {})).status, 200);
  await setSeatLimit(srv, ws.A, agency.used - 1);
  try {
    const back = await p.subadmin.post(`${W(ws.A1)}/members/${member.id}/reactivate`, {});
    const bpb = problemOf(back, 409);
    assert.equal(bpb.type, PROBLEM('seats-full'), back.text);
    assert.match(bpb.title, /^All seats provided by Acme Agency are in use/);
    assert.doesNotMatch(bpb.title, /\d/);
    assert.equal((await seats(p.subadmin, ws.A1)).full, true);
    const one = await p.subadmin.post(`${W(ws.A1)}/invitations`, { emails: [`${uniq('sub')}@team.test`], role: 'member' });
    const pb = problemOf(one, 409);
    assert.equal(pb.type, PROBLEM('seats-full'), one.text);
    assert.match(pb.title, /seats provided by Acme Agency are in use/);
    for (const text of [pb.title, pb.detail, ...pb.errors.map((e) => e.message)]) assert.doesNotMatch(text, /\d/, `no figure of the agency: ${one.text}`);
    const many = await p.subadmin.post(`${W(ws.A1)}/invitations`, { emails: [`${uniq('sub')}@team.test`, `${uniq('sub')}@team.test`], role: 'member' });
    assert.equal(many.status, 200, many.text);
    for (const x of many.body.results) {
      assert.equal(x.error?.code, 'seats_full', many.text);
      assert.match(x.error.message, /Acme Agency/);
      assert.doesNotMatch(x.error.message, /\d/);
    }
    // The agency itself still sees its numbers.
    assert.match(JSON.stringify(problemOf(await p.owner.post(`${W(ws.A)}/invitations`, { emails: [`${uniq('ag')}@team.test`], role: 'member' }), 409)), new RegExp(`\\b${agency.used - 1} seats\\b`));
  } finally {
    await setSeatLimit(srv, ws.A, agency.limit);
    assert.equal((await p.subadmin.post(`${W(ws.A1)}/members/${member.id}/reactivate`, {})).status, 200);
  }
});

test('ATRIUM_DEFAULT_SEATS is the seat limit of a new workspace', async () => {
  const s2 = await startServer({ env: { ATRIUM_DEFAULT_SEATS: '3', ATRIUM_SIGNUP: 'true', ATRIUM_LOGIN_IP_PER_MINUTE: '100000', ATRIUM_JOB_WORKERS: '0' } });
  try {
    const { owner, wsId } = await freshTeam(s2);
    const s = (await owner.get(`${W(wsId)}/members`)).body.seats;
    assert.equal(s.limit, 3, `seats of a new workspace with ATRIUM_DEFAULT_SEATS=3: ${JSON.stringify(s)}`);
  } finally {
    await s2.stop();
  }
});

test('per-IP limits on the public routes: looking up, accepting, forgetting and resetting (429 + Retry-After)', async () => {
  const s2 = await startServer({ env: { ATRIUM_LOGIN_IP_PER_MINUTE: '3', ATRIUM_SIGNUP: 'true', ATRIUM_JOB_WORKERS: '0' } });
  try {
    const bogus = 'A'.repeat(43);
    const check = async (what, fn, okStatus) => {
      for (let i = 0; i < 3; i++) assert.equal((await fn()).status, okStatus, `${what} #${i + 1}`);
      const r = await fn();
      assert.equal(problemOf(r, 429).type, PROBLEM('rate-limited'), what);
      const ra = Number(r.headers.get('retry-after'));
      assert.ok(ra >= 1 && ra <= 60, `${what} Retry-After ${ra}`);
    };
    await check('lookup', () => s2.req(`/api/v1/invitations/${bogus}`), 404);
    await check('accept', () => acceptNew(bogus, 'Brute Force', s2), 404);
    await check('forgot', () => s2.post('/api/v1/password/forgot', { email: 'nobody@team.test' }), 202);
    await check('reset', () => s2.post('/api/v1/password/reset', { token: bogus, password: PASSWORD }), 400);
    // A minute later (test clock) the door opens again.
    await s2.post('/api/v1/test/clock', { advance_seconds: 61 });
    assert.equal((await s2.req(`/api/v1/invitations/${bogus}`)).status, 404);
  } finally {
    await s2.stop();
  }
});
