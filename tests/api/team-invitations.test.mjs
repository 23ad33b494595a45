// Invitations: one or many per request (≤ 100, a result per address), the role at most the inviter's
// own, an optional message, tokens (≥ 128 random bits, stored only as a keyed hash and a sealed copy),
// expiry (7 days; ATRIUM_INVITE_TTL_DAYS), the states pending → accepted | expired | revoked with a
// problem type each, resend (same invitation, new token, the old link dies, later expiry, rate
// limited), cancel, inviters who are demoted, and accepting (a signed-in user with the invited email;
// another email → invitation-email-mismatch; a new person with name and password → 201 and signed in).
// Mail goes to <data dir>/mail (no SMTP here): the tests read the links from there, as a person would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, signIn, signUp, principal, missingId, uniq, DEMO_PASSWORDS, setSeatLimit } from './lib-world.mjs';
import { problemOf, RFC3339, startServer } from '../lib/server.mjs';
import { readMailFolder, linkToken } from '../lib/smtp-sink.mjs';

let w;
let srv;
let p;

const LONG = '31536000';
before(async () => {
  // Sessions outlive the clock moves of the expiry tests.
  w = await startWorld({ extras: false, env: { ATRIUM_JOB_WORKERS: '0', ATRIUM_SESSION_IDLE: LONG, ATRIUM_SESSION_ABSOLUTE: LONG } });
  ({ srv, p } = w);
});

after(async () => {
  await w?.stop();
});

const W = (id) => `/api/v1/workspaces/${id}`;
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const PROBLEM = (slug) => `urn:atrium:problem:${slug}`;
const PASSWORD = 'Correct-Horse-Battery-99';
const DAY = 86400;

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

async function deliver(s = srv) {
  const r = await s.post('/api/v1/test/jobs/run', {});
  assert.equal(r.status, 200, r.text);
}

async function advance(seconds, s = srv) {
  const r = await s.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
  return r.body.now_us;
}

const nowUs = async (s = srv) => (await s.req('/api/v1/test/clock')).body.now_us;

/** The token of the newest mail to email, after running the jobs. */
async function tokenFor(email, s = srv) {
  await deliver(s);
  const mails = readMailFolder(s.dataDir).filter((m) => m.to === email);
  assert.ok(mails.length, `a mail to ${email}`);
  return linkToken(mails.at(-1));
}

async function invite(pr, wsId, email, role = 'member', extra = {}) {
  const r = await pr.post(`${W(wsId)}/invitations`, { emails: [email], role, ...extra });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.results[0].status, 'invited', r.text);
  return { ...r.body.results[0].invitation, token: await tokenFor(email) };
}

const lookup = (token) => srv.req(`/api/v1/invitations/${token}`);
const acceptNew = (token, body = { name: 'New Person', password: PASSWORD }, headers = {}) =>
  srv.post(`/api/v1/invitations/${token}/accept`, body, { headers });

function principalFrom(r, email) {
  return principal(srv, { key: email, email, cookie: r.headers.get('set-cookie').split(';')[0], csrf: r.body.csrf_token, user: r.body.user });
}

const invitations = async (pr, wsId, status = '') =>
  (await pr.get(`${W(wsId)}/invitations${status ? `?status=${status}` : ''}`)).body.items;

// ---------------------------------------------------------------------------------------------------

test('invite: many addresses in one request, a result for each (invited, invalid, duplicate, member, pending)', async () => {
  const { owner, wsId } = await freshTeam('Batch Owner');
  const mem = await addMember(wsId, 'member');
  const pending = `${uniq('pend')}@team.test`;
  await invite(owner, wsId, pending);
  const fresh = [`${uniq('a')}@team.test`, `${uniq('b')}@team.test`];
  const r = await owner.post(`${W(wsId)}/invitations`, {
    emails: [fresh[0], 'not-an-address', fresh[1].toUpperCase(), fresh[0], mem.email, pending, 42],
    role: 'admin',
    message: 'Welcome to the team!',
  });
  assert.equal(r.status, 200, r.text);
  const res = r.body.results;
  assert.equal(res.length, 7);
  assert.deepEqual(
    res.map((x) => [x.status, x.error?.code ?? null]),
    [
      ['invited', null],
      ['error', 'invalid_email'],
      ['invited', null],
      ['error', 'duplicate'],
      ['error', 'already_member'],
      ['error', 'already_invited'],
      ['error', 'invalid_email'],
    ],
  );
  assert.equal(res[2].email, fresh[1], 'addresses are normalised (lower case)');
  for (const x of res.filter((y) => y.status === 'error')) assert.ok(x.error.message.length > 5);
  const inv = res[0].invitation;
  assert.match(inv.id, /^inv_[0-9A-Z]{26}$/);
  assert.deepEqual([inv.email, inv.role, inv.status, inv.message, inv.resend_count], [fresh[0], 'admin', 'pending', 'Welcome to the team!', 0]);
  assert.deepEqual(inv.inviter, { id: owner.userId, name: 'Batch Owner', email: owner.email });
  for (const k of ['expires_at', 'sent_at', 'created_at']) assert.match(inv[k], RFC3339);
  assert.equal(JSON.stringify(r.body).includes('token'), false, 'the token is only in the mail');
  // The list: pending by default, newest first.
  const list = await invitations(owner, wsId);
  assert.deepEqual(list.map((i) => i.email), [fresh[1], fresh[0], pending]);
  assert.deepEqual(list[1], inv);
  // Audited per invitation.
  const ev = (await owner.get(`${W(wsId)}/audit-events?action=invitation.created`)).body.items;
  assert.equal(ev.length, 3);
  assert.deepEqual(ev[1].changes, { email: { before: null, after: fresh[0] }, role: { before: null, after: 'admin' } });
});

test('invite: one refused address answers with its own status (409 member / pending, 400 not an address)', async () => {
  const { owner, wsId } = await freshTeam();
  const mem = await addMember(wsId, 'member');
  const pending = `${uniq('p')}@team.test`;
  await invite(owner, wsId, pending);
  let r = await owner.post(`${W(wsId)}/invitations`, { emails: [mem.email.toUpperCase()], role: 'member' });
  let pb = problemOf(r, 409);
  assert.deepEqual(pb.errors.map((e) => [e.field, e.code]), [['emails[0]', 'already_member']]);
  r = await owner.post(`${W(wsId)}/invitations`, { emails: [pending], role: 'admin' });
  pb = problemOf(r, 409);
  assert.deepEqual(pb.errors.map((e) => [e.field, e.code]), [['emails[0]', 'already_invited']]);
  r = await owner.post(`${W(wsId)}/invitations`, { emails: ['nope'], role: 'member' });
  pb = problemOf(r, 400);
  assert.deepEqual(pb.errors.map((e) => [e.field, e.code]), [['emails[0]', 'invalid_email']]);
  assert.equal((await invitations(owner, wsId)).length, 1);
});

test('invite: bad requests are 400 naming every field, and write nothing', async () => {
  const { owner, wsId } = await freshTeam();
  const many = Array.from({ length: 101 }, (_, i) => `x${i}@team.test`);
  const cases = [
    [{ emails: many, role: 'member' }, ['emails']],
    [{ emails: [], role: 'member' }, ['emails']],
    [{ emails: 'a@b.test', role: 'member' }, ['emails']],
    [{ role: 'member' }, ['emails']],
    [{ emails: ['a@b.test'] }, ['role']],
    [{ emails: ['a@b.test'], role: 'boss' }, ['role']],
    [{ emails: ['a@b.test'], role: 'member', message: 'x'.repeat(1001) }, ['message']],
    [{ emails: ['a@b.test'], role: 'member', expires_in: 3 }, ['expires_in']],
    [{ emails: many, role: 'boss', extra: true }, ['emails', 'extra', 'role']],
  ];
  for (const [body, fields] of cases) {
    const r = await owner.post(`${W(wsId)}/invitations`, body);
    const pb = problemOf(r, 400);
    assert.deepEqual(pb.errors.map((e) => e.field).sort(), fields, JSON.stringify(body).slice(0, 80));
  }
  problemOf(await owner.post(`${W(wsId)}/invitations`, '{"emails":'), 400);
  assert.equal((await invitations(owner, wsId, 'all')).length, 0);
  // Exactly 100 is fine (the seat limit is raised first).
  await setSeatLimit(srv, wsId, 200);
  const r = await owner.post(`${W(wsId)}/invitations`, { emails: many.slice(0, 100), role: 'member' });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.equal(r.body.results.filter((x) => x.status === 'invited').length, 100);
});

test('invite: an address the mailer cannot take is a per-address error, and the batch still answers for the others', async () => {
  const { owner, wsId } = await freshTeam();
  const good = `${uniq('good')}@team.test`;
  // Non-ASCII local part: users_normalize_email accepts it; whether Atrium can mail it or not, the
  // answer must be a result per address, never a bare 400 after the first address was committed.
  const r = await owner.post(`${W(wsId)}/invitations`, { emails: [good, 'zoë@example.test'], role: 'member' });
  const list = await invitations(owner, wsId);
  assert.equal(r.status, 200, `batch answered ${r.status} ${r.text} while ${list.length} invitation(s) were written: ${list.map((i) => i.email)}`);
  assert.equal(r.body.results.length, 2);
  assert.equal(r.body.results[0].status, 'invited');
});

test('tokens: ≥ 128 random bits, single-use, stored only hashed; lookup shows the invitation without secrets', async () => {
  const { owner, wsId } = await freshTeam('Token Owner');
  const email = `${uniq('tok')}@team.test`;
  const inv = await invite(owner, wsId, email, 'admin', { message: 'Line one\nLine two' });
  assert.match(inv.token, /^[A-Za-z0-9_-]{22,}$/);
  assert.ok(Buffer.from(inv.token, 'base64url').length >= 16, '≥ 128 bits');
  const other = await invite(owner, wsId, `${uniq('tok')}@team.test`);
  assert.notEqual(inv.token, other.token);
  // The database holds no copy of the token in clear.
  const rows = await srv.sql(`SELECT token_hash || '|' || token_sealed FROM invitations WHERE id = ${q(inv.id)}`);
  assert.equal(rows.includes(inv.token), false);
  assert.equal(rows.includes(Buffer.from(inv.token).toString('hex')), false);
  // Nor do the logs.
  assert.equal(srv.logs.join('\n').includes(inv.token), false);

  const r = await lookup(inv.token);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(
    { ...r.body, expires_at: undefined },
    { workspace: { id: wsId, name: "Token Owner's workspace" }, inviter: { name: 'Token Owner' }, role: 'admin', email, status: 'pending', message: 'Line one\nLine two', expires_at: undefined },
  );
  assert.equal(r.body.expires_at, inv.expires_at);
  for (const bad of ['x', 'A'.repeat(43), `${inv.token}x`, inv.token.slice(0, -1), 'A'.repeat(400)]) {
    const x = await lookup(bad);
    assert.equal(problemOf(x, 404).type, PROBLEM('invitation-not-found'), bad.slice(0, 20));
  }
  const bad = await acceptNew('A'.repeat(43));
  assert.equal(problemOf(bad, 404).type, PROBLEM('invitation-not-found'));
  // Single use.
  assert.equal((await acceptNew(inv.token, { name: 'Tina Token', password: PASSWORD })).status, 201);
  const again = await acceptNew(inv.token, { name: 'Tina Again', password: PASSWORD });
  assert.equal(problemOf(again, 409).type, PROBLEM('invitation-accepted'));
  assert.equal((await lookup(inv.token)).body.status, 'accepted');
});

test('accept: a new person gives name and password, is signed in (201 + cookie) and joins with the invited role', async () => {
  const { owner, wsId } = await freshTeam('Join Owner');
  const email = `${uniq('newbie')}@team.test`;
  const inv = await invite(owner, wsId, email, 'admin');
  // Validation first: every missing or weak field is named; nothing is used up.
  let r = await acceptNew(inv.token, {});
  assert.deepEqual(problemOf(r, 400).errors.map((e) => e.field).sort(), ['name', 'password']);
  r = await acceptNew(inv.token, { name: 'Nia Newbie', password: 'short' });
  assert.deepEqual(problemOf(r, 400).errors.map((e) => e.field), ['password']);
  r = await acceptNew(inv.token, { name: 'Nia Newbie', password: email });
  assert.deepEqual(problemOf(r, 400).errors.map((e) => e.field), ['password'], 'the address as password');
  r = await acceptNew(inv.token, { name: 'Nia Newbie', password: PASSWORD, role: 'owner' });
  assert.deepEqual(problemOf(r, 400).errors.map((e) => e.field), ['role']);
  // From another site: refused.
  r = await acceptNew(inv.token, { name: 'Nia Newbie', password: PASSWORD }, { origin: 'https://evil.test' });
  assert.equal(problemOf(r, 403).type, PROBLEM('csrf'));
  assert.equal((await lookup(inv.token)).body.status, 'pending');

  r = await acceptNew(inv.token, { name: 'Nia Newbie', password: PASSWORD });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.workspace_id, wsId);
  assert.deepEqual([r.body.user.email, r.body.user.name], [email, 'Nia Newbie']);
  assert.ok(r.body.csrf_token && r.body.session.id);
  assert.match(r.headers.get('set-cookie'), /HttpOnly/i);
  const nia = principalFrom(r, email);
  // Signed in, and an admin of the workspace right away.
  const list = await nia.get(`${W(wsId)}/members`);
  assert.equal(list.status, 200, list.text);
  const me = list.body.items.find((i) => i.user.email === email);
  assert.deepEqual([me.role, me.status, me.invited_by], ['admin', 'active', owner.userId]);
  const me2 = await nia.get('/api/v1/me');
  assert.deepEqual([me2.body.user.id, me2.body.session.id, me2.body.csrf_token], [r.body.user.id, r.body.session.id, r.body.csrf_token]);
  // The password works for signing in later.
  await signIn(srv, 'nia', email, PASSWORD);
  // The invitation is accepted, audited, and no longer counts as pending.
  assert.equal((await invitations(owner, wsId, 'accepted'))[0].id, inv.id);
  const ev = (await owner.get(`${W(wsId)}/audit-events?action=invitation.accepted`)).body.items[0];
  assert.deepEqual([ev.target.id, ev.actor.id, ev.changes.role.after], [inv.id, r.body.user.id, 'admin']);
  assert.deepEqual((await owner.get(`${W(wsId)}/members`)).body.seats.pending_invitations, 0);
});

test('accept: a signed-in user with the invited email joins (200); another email is invitation-email-mismatch', async () => {
  const { owner, wsId } = await freshTeam();
  const other = await freshTeam('Elsewhere Owner'); // a user who exists, with a workspace of their own
  const inv = await invite(owner, wsId, other.owner.email, 'member');
  // Somebody else signed in: mismatch, and the invitation stays usable.
  const stranger = await signUp(srv, 'stranger', `${uniq('stranger')}@team.test`, 'Stan Stranger');
  let r = await stranger.post(`/api/v1/invitations/${inv.token}/accept`, {});
  assert.equal(problemOf(r, 409).type, PROBLEM('invitation-email-mismatch'));
  // Anonymous with the address of an existing account: sign in first.
  r = await acceptNew(inv.token, { name: 'Imposter', password: PASSWORD });
  assert.equal(problemOf(r, 409).type, PROBLEM('invitation-account-exists'));
  // A session cookie without its CSRF header is refused.
  r = await srv.post(`/api/v1/invitations/${inv.token}/accept`, {}, { headers: { cookie: other.owner.cookie } });
  assert.equal(problemOf(r, 403).type, PROBLEM('csrf'));
  assert.equal((await lookup(inv.token)).body.status, 'pending');
  // The right person.
  r = await other.owner.post(`/api/v1/invitations/${inv.token}/accept`, {});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { workspace_id: wsId });
  assert.equal(r.headers.get('set-cookie'), null, 'the existing session is kept');
  const sw = await other.owner.get('/api/v1/workspaces');
  assert.deepEqual(sw.body.items.map((i) => i.id).sort(), [wsId, other.wsId].sort());
  assert.equal((await other.owner.get(`${W(wsId)}/notifications`)).status, 200);
  assert.equal((await owner.get(`${W(wsId)}/members?role=member`)).body.items[0].user.email, other.owner.email);
});

test('accept: an invitation for someone who is already a member → invitation-already-member', async () => {
  const { owner, wsId } = await freshTeam();
  const email = `${uniq('twice')}@team.test`;
  const inv = await invite(owner, wsId, email);
  // The address becomes a member another way in the meantime (row written directly).
  const r1 = await acceptNew(inv.token, { name: 'Tom Twice', password: PASSWORD });
  assert.equal(r1.status, 201);
  await srv.sql(`UPDATE invitations SET status = 'pending', accepted_at = NULL, accepted_by = NULL WHERE id = ${q(inv.id)}`);
  const tom = principalFrom(r1, email);
  const r2 = await tom.post(`/api/v1/invitations/${inv.token}/accept`, {});
  assert.equal(problemOf(r2, 409).type, PROBLEM('invitation-already-member'));
});

test('revoke: a cancelled invitation’s link answers invitation-revoked; cancelling twice is 409', async () => {
  const { owner, wsId } = await freshTeam();
  const adm = await addMember(wsId, 'admin');
  const inv = await invite(owner, wsId, `${uniq('rev')}@team.test`);
  problemOf(await owner.del(`${W(wsId)}/invitations/${missingId('inv')}`), 404);
  const other = await freshTeam();
  problemOf(await other.owner.del(`${W(wsId)}/invitations/${inv.id}`), 404, 'a stranger');
  problemOf(await other.owner.del(`${W(other.wsId)}/invitations/${inv.id}`), 404, 'through another workspace');
  let r = await adm.del(`${W(wsId)}/invitations/${inv.id}`);
  assert.equal(r.status, 204, r.text + ` (row: ${await srv.sql(`SELECT status FROM invitations WHERE id = ${q(inv.id)}`)})`);
  const lk = await lookup(inv.token);
  assert.equal(lk.status, 200);
  assert.equal(lk.body.status, 'revoked');
  r = await acceptNew(inv.token);
  assert.equal(problemOf(r, 409).type, PROBLEM('invitation-revoked'));
  r = await owner.del(`${W(wsId)}/invitations/${inv.id}`);
  assert.equal(problemOf(r, 409).type, PROBLEM('invalid-state'));
  r = await owner.post(`${W(wsId)}/invitations/${inv.id}/resend`, {});
  assert.equal(problemOf(r, 409).type, PROBLEM('invalid-state'), 'a revoked invitation is not resent');
  assert.deepEqual((await invitations(owner, wsId, 'revoked')).map((i) => i.id), [inv.id]);
  assert.deepEqual(await invitations(owner, wsId), []);
  assert.equal((await owner.get(`${W(wsId)}/audit-events?action=invitation.revoked`)).body.items[0].actor.id, adm.userId);
  problemOf(await owner.get(`${W(wsId)}/invitations?status=maybe`), 400);
  // The address may be invited again.
  assert.equal((await owner.post(`${W(wsId)}/invitations`, { emails: [inv.email], role: 'member' })).status, 200);
});

test('demoted inviters: all of their pending invitations die (the issue: "when an inviter is removed or demoted, their pending invitations are revoked")', async () => {
  const { owner, wsId } = await freshTeam();
  const o2 = await addMember(wsId, 'owner', 'Second Owner');
  const a = await addMember(wsId, 'admin', 'Soon Member');
  const o2owner = await invite(o2, wsId, `${uniq('o')}@team.test`, 'owner');
  const o2admin = await invite(o2, wsId, `${uniq('a')}@team.test`, 'admin');
  const o2member = await invite(o2, wsId, `${uniq('m')}@team.test`, 'member');
  const aAdmin = await invite(a, wsId, `${uniq('a')}@team.test`, 'admin');
  const aMember = await invite(a, wsId, `${uniq('m')}@team.test`, 'member');
  const ownerOwn = await invite(owner, wsId, `${uniq('x')}@team.test`, 'member');

  assert.equal((await owner.patch(`${W(wsId)}/members/${o2.memberId}`, { role: 'admin' })).status, 200);
  assert.equal((await lookup(o2owner.token)).body.status, 'revoked', 'an admin can no longer have invited an owner');
  assert.equal((await lookup(o2admin.token)).body.status, 'revoked');
  assert.equal((await lookup(o2member.token)).body.status, 'revoked');
  assert.equal((await owner.patch(`${W(wsId)}/members/${a.memberId}`, { role: 'member' })).status, 200);
  assert.equal((await lookup(aAdmin.token)).body.status, 'revoked');
  assert.equal((await lookup(aMember.token)).body.status, 'revoked', 'members cannot invite at all');
  assert.equal((await lookup(ownerOwn.token)).body.status, 'pending');
  assert.equal(problemOf(await acceptNew(aMember.token), 409).type, PROBLEM('invitation-revoked'));
  // Promotion does not bring them back.
  await owner.patch(`${W(wsId)}/members/${a.memberId}`, { role: 'admin' });
  assert.equal((await lookup(aMember.token)).body.status, 'revoked');
});

test('resend: the same invitation gets a new token (the old link dies), a later expiry and a new mail; rate-limited', async () => {
  const { owner, wsId } = await freshTeam();
  const email = `${uniq('resend')}@team.test`;
  const inv = await invite(owner, wsId, email, 'admin');
  await advance(DAY);
  let r = await owner.post(`${W(wsId)}/invitations/${inv.id}/resend`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.id, inv.id);
  assert.equal(r.body.resend_count, 1);
  assert.equal(r.body.status, 'pending');
  assert.ok(Date.parse(r.body.expires_at) - Date.parse(inv.expires_at) >= (DAY - 5) * 1000, 'expiry pushed by a day');
  assert.equal(r.body.created_at, inv.created_at);
  const token2 = await tokenFor(email);
  assert.notEqual(token2, inv.token);
  assert.equal(readMailFolder(srv.dataDir).filter((m) => m.to === email).length, 2);
  assert.equal(problemOf(await lookup(inv.token), 404).type, PROBLEM('invitation-not-found'), 'the old link is dead');
  assert.equal(problemOf(await acceptNew(inv.token), 404).type, PROBLEM('invitation-not-found'));
  assert.equal((await lookup(token2)).body.status, 'pending');
  assert.equal((await invitations(owner, wsId, 'all')).length, 1, 'no duplicate invitation');
  // Per invitation: 2 a minute.
  r = await owner.post(`${W(wsId)}/invitations/${inv.id}/resend`, {});
  assert.equal(r.status, 200, r.text);
  r = await owner.post(`${W(wsId)}/invitations/${inv.id}/resend`, {});
  assert.equal(problemOf(r, 429).type, PROBLEM('rate-limited'));
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  await advance(61);
  r = await owner.post(`${W(wsId)}/invitations/${inv.id}/resend`, {});
  assert.equal(r.status, 200, `a minute later: ${r.text}`);
  assert.equal(r.body.resend_count, 3);
  const last = await tokenFor(email);
  assert.equal((await acceptNew(last, { name: 'Rae Resent', password: PASSWORD })).status, 201);
  r = await owner.post(`${W(wsId)}/invitations/${inv.id}/resend`, {});
  assert.equal(problemOf(r, 409).type, PROBLEM('invalid-state'), 'an accepted invitation is not resent');
  problemOf(await owner.post(`${W(wsId)}/invitations/${missingId('inv')}/resend`, {}), 404);
  assert.equal((await owner.get(`${W(wsId)}/audit-events?action=invitation.resent`)).body.items.length, 3);
});

test('resend: at most 30 a minute in one workspace', async () => {
  const { owner, wsId } = await freshTeam();
  await setSeatLimit(srv, wsId, 100);
  const emails = Array.from({ length: 16 }, () => `${uniq('burst')}@team.test`);
  const r0 = await owner.post(`${W(wsId)}/invitations`, { emails, role: 'member' });
  const ids = r0.body.results.map((x) => x.invitation.id);
  await advance(61); // a fresh window
  const statuses = [];
  for (const id of [...ids, ...ids]) statuses.push((await owner.post(`${W(wsId)}/invitations/${id}/resend`, {})).status);
  assert.equal(statuses.filter((s) => s === 200).length, 30, statuses.join(','));
  assert.deepEqual(statuses.slice(30), [429, 429]);
  // Another workspace is not affected.
  const other = await freshTeam();
  const inv = await invite(other.owner, other.wsId, `${uniq('calm')}@team.test`);
  assert.equal((await other.owner.post(`${W(other.wsId)}/invitations/${inv.id}/resend`, {})).status, 200);
});

test('expiry: 7 days by default; then the link answers invitation-expired, the seat is free and a resend revives it', async () => {
  const { owner, wsId } = await freshTeam();
  const email = `${uniq('exp')}@team.test`;
  const t0 = await nowUs();
  const inv = await invite(owner, wsId, email);
  const ttl = Date.parse(inv.expires_at) * 1000 - Math.floor(Date.parse(inv.sent_at)) * 1000;
  assert.ok(Math.abs(ttl - 7 * DAY * 1e6) < 2e6, `expires 7 days after sending (${ttl} µs)`);
  assert.ok(Date.parse(inv.created_at) * 1000 >= t0 - 1e6);
  await advance(7 * DAY - 60);
  assert.equal((await lookup(inv.token)).body.status, 'pending', 'a minute before');
  await advance(120);
  const lk = await lookup(inv.token);
  assert.equal(lk.body.status, 'expired');
  assert.equal(problemOf(await acceptNew(inv.token), 409).type, PROBLEM('invitation-expired'));
  assert.deepEqual((await invitations(owner, wsId, 'expired')).map((i) => i.id), [inv.id]);
  assert.deepEqual(await invitations(owner, wsId), []);
  const seats = (await owner.get(`${W(wsId)}/members`)).body.seats;
  assert.equal(seats.pending_invitations, 0, 'an expired invitation holds no seat');
  // Resending an expired invitation revives it with a new link and a new week.
  const r = await owner.post(`${W(wsId)}/invitations/${inv.id}/resend`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, 'pending');
  assert.ok(Date.parse(r.body.expires_at) > Date.now() + 6 * DAY * 1000);
  const token2 = await tokenFor(email);
  assert.equal((await acceptNew(token2, { name: 'Eli Expired', password: PASSWORD })).status, 201);
});

test('expiry: an expired invitation does not block a new one for the same address', async () => {
  const { owner, wsId } = await freshTeam();
  const email = `${uniq('again')}@team.test`;
  const old = await invite(owner, wsId, email);
  await advance(8 * DAY);
  const r = await owner.post(`${W(wsId)}/invitations`, { emails: [email], role: 'admin' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.results[0].status, 'invited');
  assert.notEqual(r.body.results[0].invitation.id, old.id);
  assert.equal(problemOf(await acceptNew(old.token), 409).type, PROBLEM('invitation-expired'));
  const all = await invitations(owner, wsId, 'all');
  assert.deepEqual(all.map((i) => i.status), ['pending', 'expired']);
  // The expired one cannot be resent while a newer one is pending.
  const rs = await owner.post(`${W(wsId)}/invitations/${old.id}/resend`, {});
  assert.equal(problemOf(rs, 409).type, PROBLEM('invalid-state'));
});

test('ATRIUM_INVITE_TTL_DAYS sets the expiry (1–30; other values stop the server from starting)', async () => {
  const s2 = await startServer({ env: { ATRIUM_INVITE_TTL_DAYS: '2', ATRIUM_SIGNUP: 'true', ATRIUM_LOGIN_IP_PER_MINUTE: '100000', ATRIUM_JOB_WORKERS: '0' } });
  try {
    const o = await signUp(s2, 'o', `${uniq('ttl')}@team.test`, 'Ttl Owner');
    const wsId = (await o.get('/api/v1/workspaces')).body.items[0].id;
    const r = await o.post(`${W(wsId)}/invitations`, { emails: ['ttl@team.test'], role: 'member' });
    const inv = r.body.results[0].invitation;
    assert.equal(Date.parse(inv.expires_at) - Date.parse(inv.sent_at), 2 * DAY * 1000);
    for (const bad of ['0', '31', 'week']) {
      const c = await s2.cli(['migrate'], { ATRIUM_INVITE_TTL_DAYS: bad });
      assert.notEqual(c.code, 0, `ATRIUM_INVITE_TTL_DAYS=${bad}`);
      assert.match(c.stderr, /ATRIUM_INVITE_TTL_DAYS/);
    }
  } finally {
    await s2.stop();
  }
});
