// Mail that really arrives: Atrium talks SMTP (libcurl) to a real server on loopback (aiosmtpd, see
// tests/lib/smtp_sink.py), which saves what it receives; the tests read the messages as a mail client
// would (RFC 2047 subjects, multipart/alternative, quoted-printable/base64 parts), follow the links and
// finish the flows: an invitation accepted by a new person, resend killing the old link, reminders on
// days 2 and 5 (none after acceptance, none for a cancelled or superseded link), forgot/reset password,
// notification preferences (team mail can be turned off; security notices always go), delivery retried
// when the SMTP server fails, `atrium mail list|show`, and the folder transport when no SMTP is set.
// Jobs run only when the test asks (ATRIUM_JOB_WORKERS=0 + POST /api/v1/test/jobs/run).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startWorld, signIn, signUp, missingId, uniq, DEMO_PASSWORDS } from './lib-world.mjs';
import { problemOf, startServer } from '../lib/server.mjs';
import { startSmtpSink, readMailFolder, linkToken } from '../lib/smtp-sink.mjs';

const PUBLIC_URL = 'https://atrium.example.test';
const FROM_ADDR = 'team@atrium.example.test';
const LONG = '31536000';
const DAY = 86400;
const PASSWORD = 'Correct-Horse-Battery-99';

let sink;
let w;
let srv;

before(async () => {
  sink = await startSmtpSink();
  w = await startWorld({
    extras: false,
    env: {
      ATRIUM_JOB_WORKERS: '0',
      ATRIUM_SMTP_URL: sink.url,
      ATRIUM_PUBLIC_URL: PUBLIC_URL,
      ATRIUM_MAIL_FROM: `Atrium Team <${FROM_ADDR}>`,
      ATRIUM_SESSION_IDLE: LONG,
      ATRIUM_SESSION_ABSOLUTE: LONG,
    },
  });
  ({ srv } = w);
});

after(async () => {
  await w?.stop();
  await sink?.stop();
});

const W = (id) => `/api/v1/workspaces/${id}`;
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const PROBLEM = (slug) => `urn:atrium:problem:${slug}`;
const to = (email) => (m) => m.envelope.rcpt_tos.includes(email);

async function freshTeam(name = 'Mail Owner') {
  const owner = await signUp(srv, 'owner', `${uniq('owner')}@team.test`, name);
  const wsId = (await owner.get('/api/v1/workspaces')).body.items[0].id;
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

/** Runs the due jobs (mail.send delivers synchronously to the sink). */
async function deliver(s = srv) {
  const r = await s.post('/api/v1/test/jobs/run', {});
  assert.equal(r.status, 200, r.text);
  return r.body.ran;
}

async function advance(seconds) {
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
}

/** Messages to email received after the sink held `since` messages. */
const newTo = (since, email) => sink.since(since).filter(to(email));

/** Checks what every message we send must be: envelope, headers, MIME structure, line lengths. */
function assertWellFormed(m, email) {
  assert.equal(m.envelope.mail_from, FROM_ADDR);
  assert.deepEqual(m.envelope.rcpt_tos, [email]);
  assert.match(m.from, new RegExp(`^"?Atrium Team"? <${FROM_ADDR.replace(/\./g, '\\.')}>$`));
  assert.ok(m.to.endsWith(email) || m.to.endsWith(`<${email}>`), m.to);
  assert.match(m.messageId, /^<msg_[0-9A-Z]{26}@[^>]+>$/);
  assert.ok(!Number.isNaN(Date.parse(m.date)), `Date: ${m.date}`);
  assert.equal(m.header('mime-version'), '1.0');
  assert.equal(m.contentType, 'multipart/alternative');
  assert.deepEqual(m.parts.map((x) => x.type), ['text/plain', 'text/html']);
  for (const part of m.parts) {
    assert.equal(part.charset.toLowerCase(), 'utf-8');
    assert.ok(['quoted-printable', 'base64'].includes(part.encoding), part.encoding);
    for (const l of part.rawLines) assert.ok(l.length <= 76, `encoded body line of ${l.length}: ${l}`);
  }
  for (const l of m.raw.split('\r\n')) assert.ok(l.length <= 998, 'RFC 5322 line limit');
  const head = m.raw.slice(0, m.raw.indexOf('\r\n\r\n'));
  for (const l of head.split('\r\n')) assert.ok(l.length <= 78, `header line of ${l.length} (folded to 78): ${l}`);
  assert.equal(/[^\r]\n/.test(m.raw), false, 'CRLF line endings only');
  for (const h of m.headers.filter((x) => !['content-type'].includes(x.name))) {
    assert.equal(/[\u0080-\uffff]/.test(h.value), false, `header ${h.name} is 7-bit (RFC 2047 where needed)`);
  }
}

// ---------------------------------------------------------------------------------------------------

test('invitation mail: arrives by SMTP, decodes cleanly, and its link lets a new person join with the right role', async () => {
  const { owner, wsId } = await freshTeam('Zoë Ångström');
  const email = `${uniq('newcomer')}@team.test`;
  const n0 = sink.count();
  const r = await owner.post(`${W(wsId)}/invitations`, {
    emails: [email],
    role: 'admin',
    message: 'Bienvenue à bord — <b>we</b> need you!\nSecond line & more.',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(sink.count(), n0, 'nothing is sent before the job runs (outbox, after commit)');
  await deliver();
  const [m] = await sink.waitFor(to(email));
  assertWellFormed(m, email);
  // The subject is RFC 2047 on the wire and reads right once decoded.
  const rawSubject = m.headers.find((h) => h.name === 'subject').value;
  assert.match(rawSubject, /=\?UTF-8\?[BQ]\?/i);
  assert.equal(m.subject, "Zoë Ångström invited you to Zoë Ångström's workspace on Atrium");
  // The text part: who, where, which role, the message quoted, the link, the expiry.
  assert.match(m.text, /Zoë Ångström invited you to join Zoë Ångström's workspace on Atrium as admin\./);
  assert.match(m.text, /^> Bienvenue à bord — <b>we<\/b> need you!$/m);
  assert.match(m.text, /^> Second line & more\.$/m);
  assert.match(m.text, /expires on \d{1,2} \w+ \d{4}/);
  // The HTML part: the same link, the message escaped.
  const token = linkToken(m);
  const link = `${PUBLIC_URL}/invitations/${token}`;
  assert.ok(m.text.includes(link));
  assert.ok(m.html.includes(`href="${link}"`), 'the button links to the same place');
  assert.ok(m.html.includes('&lt;b&gt;we&lt;/b&gt;'), 'the message is escaped in HTML');
  assert.equal(m.html.includes('<b>we</b>'), false);
  assert.equal(srv.logs.join('\n').includes(token), false, 'the token never reaches the logs');

  // Follow the link as the newcomer.
  const look = await srv.req(`/api/v1/invitations/${token}`);
  assert.equal(look.status, 200, look.text);
  assert.deepEqual([look.body.email, look.body.role, look.body.status, look.body.workspace.id], [email, 'admin', 'pending', wsId]);
  const acc = await srv.post(`/api/v1/invitations/${token}/accept`, { name: 'Nora Newcomer', password: PASSWORD });
  assert.equal(acc.status, 201, acc.text);
  const list = (await owner.get(`${W(wsId)}/members`)).body;
  const nora = list.items.find((i) => i.user.email === email);
  assert.ok(nora, 'the newcomer is in the members list');
  assert.deepEqual([nora.user.name, nora.role, nora.status, nora.invited_by], ['Nora Newcomer', 'admin', 'active', owner.userId]);
  assert.deepEqual([list.seats.active_members, list.seats.pending_invitations], [2, 0]);
  // The outbox records the delivery.
  const row = await srv.sql(`SELECT status || '|' || transport || '|' || attempts || '|' || template FROM mail_outbox WHERE id = ${q(m.messageId.slice(1).split('@')[0])}`);
  assert.equal(row, 'sent|smtp|1|invitation');
  // Running the jobs again sends nothing twice.
  const n1 = sink.count();
  await deliver();
  assert.equal(sink.count(), n1);
});

test('resend by mail: the second mail carries a new link, and the first link is dead', async () => {
  const { owner, wsId } = await freshTeam('Resend Owner');
  const email = `${uniq('twice')}@team.test`;
  const r = await owner.post(`${W(wsId)}/invitations`, { emails: [email], role: 'member' });
  const id = r.body.results[0].invitation.id;
  await deliver();
  const [first] = await sink.waitFor(to(email));
  const rs = await owner.post(`${W(wsId)}/invitations/${id}/resend`, {});
  assert.equal(rs.status, 200, rs.text);
  await deliver();
  const both = await sink.waitFor(to(email), { count: 2 });
  const second = both[1];
  assert.equal(second.subject, first.subject);
  assert.notEqual(second.messageId, first.messageId);
  const t1 = linkToken(first);
  const t2 = linkToken(second);
  assert.notEqual(t1, t2);
  assert.equal(problemOf(await srv.req(`/api/v1/invitations/${t1}`), 404).type, PROBLEM('invitation-not-found'));
  const dead = await srv.post(`/api/v1/invitations/${t1}/accept`, { name: 'Old Link', password: PASSWORD });
  assert.equal(problemOf(dead, 404).type, PROBLEM('invitation-not-found'));
  const acc = await srv.post(`/api/v1/invitations/${t2}/accept`, { name: 'New Link', password: PASSWORD });
  assert.equal(acc.status, 201, acc.text);
});

test('reminders: on day 2 and day 5 with the current link; none after acceptance, after the inviter’s removal, or for a superseded link', async () => {
  const { owner, wsId } = await freshTeam('Remind Owner');
  const X = `${uniq('x-pending')}@team.test`;
  const Y = `${uniq('y-accepts')}@team.test`;
  const Z = `${uniq('z-resent')}@team.test`;
  const V = `${uniq('v-revoked')}@team.test`;
  // V is invited by an admin who is removed on day 0: V's invitation dies with the inviter.
  const adm = await addMember(wsId, 'admin', 'Gone Admin');
  const r = await owner.post(`${W(wsId)}/invitations`, { emails: [X, Y, Z], role: 'member' });
  assert.equal(r.status, 200, r.text);
  const rv = await adm.post(`${W(wsId)}/invitations`, { emails: [V], role: 'member' });
  assert.equal(rv.status, 200, rv.text);
  const ids = Object.fromEntries(r.body.results.map((x) => [x.email, x.invitation.id]));
  await deliver();
  const initial = Object.fromEntries((await sink.waitFor((m) => [X, Y, Z, V].some((e) => to(e)(m)), { count: 4 })).map((m) => [m.envelope.rcpt_tos[0], m]));
  const n0 = sink.count();
  const reminders = (email) => newTo(n0, email).filter((m) => m.subject.startsWith('Reminder:'));

  // Day 0: Y accepts, V's inviter is removed. Day 1: Z is resent (a new link and a new schedule).
  assert.equal((await srv.post(`/api/v1/invitations/${linkToken(initial[Y])}/accept`, { name: 'Yan Yes', password: PASSWORD })).status, 201);
  assert.equal((await owner.del(`${W(wsId)}/members/${adm.memberId}`)).status, 204);
  assert.equal((await srv.req(`/api/v1/invitations/${linkToken(initial[V])}`)).body.status, 'revoked');
  await advance(DAY);
  assert.equal((await owner.post(`${W(wsId)}/invitations/${ids[Z]}/resend`, {})).status, 200);
  await deliver();
  const zMails = await sink.waitFor(to(Z), { count: 2 });
  const zToken = linkToken(zMails[1]);

  // Day 2 (+1 min): X's first reminder, with X's original link; nothing for Y, V, or Z's old link.
  await advance(DAY + 60);
  await deliver();
  assert.equal(reminders(X).length, 1);
  const rx = reminders(X)[0];
  assertWellFormed(rx, X);
  assert.equal(rx.subject, "Reminder: Remind Owner invited you to Remind Owner's workspace on Atrium");
  assert.equal(linkToken(rx), linkToken(initial[X]), 'the same, still valid link');
  assert.match(rx.text, /still open/);
  assert.deepEqual([reminders(Y).length, reminders(V).length, reminders(Z).length], [0, 0, 0]);
  // Day 3: Z's first reminder (two days after the resend), with the new link.
  await advance(DAY);
  await deliver();
  assert.equal(reminders(Z).length, 1);
  assert.equal(linkToken(reminders(Z)[0]), zToken);
  assert.equal(reminders(X).length, 1);
  // Day 4: nothing.
  await advance(DAY);
  await deliver();
  assert.deepEqual([reminders(X).length, reminders(Z).length], [1, 1]);
  // Day 5: X's second reminder.
  await advance(DAY);
  await deliver();
  assert.equal(reminders(X).length, 2);
  assert.equal(linkToken(reminders(X)[1]), linkToken(initial[X]));
  // Day 6: Z's second; then Z accepts. Days 7–10: nothing more for anyone (X expires on day 7).
  await advance(DAY);
  await deliver();
  assert.equal(reminders(Z).length, 2);
  assert.equal((await srv.post(`/api/v1/invitations/${zToken}/accept`, { name: 'Zed Zee', password: PASSWORD })).status, 201);
  for (let d = 0; d < 4; d++) {
    await advance(DAY);
    await deliver();
  }
  assert.deepEqual([X, Y, Z, V].map((e) => reminders(e).length), [2, 0, 2, 0]);
  assert.equal(newTo(n0, X).length, 2, 'no other mail to X');
  assert.equal(newTo(n0, Y).length, 0);
  assert.equal(problemOf(await srv.req(`/api/v1/invitations/${linkToken(initial[X])}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Xi Late', password: PASSWORD }) }), 409).type, PROBLEM('invitation-expired'));
});

test('forgot password: 202 with the same body for any address; the mailed link resets once, within an hour, and ends every session', async () => {
  const { owner } = await freshTeam('Forgetful Owner');
  const second = await signIn(srv, 'second', owner.email, owner.password);
  const n0 = sink.count();
  const known = await srv.post('/api/v1/password/forgot', { email: owner.email.toUpperCase() });
  const unknown = await srv.post('/api/v1/password/forgot', { email: `${uniq('nobody')}@team.test` });
  const malformed = await srv.post('/api/v1/password/forgot', { email: 'not an address' });
  assert.equal(known.status, 202, known.text);
  assert.deepEqual([unknown.status, unknown.text], [202, known.text], 'no account enumeration');
  assert.deepEqual([malformed.status, malformed.text], [202, known.text]);
  problemOf(await srv.post('/api/v1/password/forgot', {}), 400);
  problemOf(await srv.post('/api/v1/password/forgot', { email: owner.email }, { headers: { origin: 'https://evil.test' } }), 403);
  await deliver();
  const [m] = await sink.waitFor(to(owner.email));
  assert.equal(sink.since(n0).length, 1, 'exactly one mail: to the account that exists');
  assertWellFormed(m, owner.email);
  assert.equal(m.subject, 'Reset your Atrium password');
  assert.match(m.text, /Hi Forgetful Owner,/);
  assert.match(m.text, /valid for 1 hour/);
  const token = linkToken(m, 'reset-password');
  assert.ok(m.text.includes(`${PUBLIC_URL}/reset-password/${token}`));
  assert.equal(srv.logs.join('\n').includes(token), false);

  // A weak password is refused and uses nothing up.
  let r = await srv.post('/api/v1/password/reset', { token, password: 'short' });
  assert.deepEqual(problemOf(r, 400).errors.map((e) => e.field), ['password']);
  r = await srv.post('/api/v1/password/reset', { token: 'A'.repeat(43), password: PASSWORD });
  assert.deepEqual(problemOf(r, 400).errors.map((e) => [e.field, e.code]), [['token', 'invalid']]);
  r = await srv.post('/api/v1/password/reset', { token, password: PASSWORD });
  assert.equal(r.status, 204, r.text);
  // Every session ended; the old password is gone; the new one works.
  problemOf(await owner.get('/api/v1/me'), 401);
  problemOf(await second.get('/api/v1/me'), 401);
  assert.equal((await srv.post('/api/v1/session', { email: owner.email, password: owner.password })).status, 401);
  await signIn(srv, 'after', owner.email, PASSWORD);
  // Single use.
  r = await srv.post('/api/v1/password/reset', { token, password: 'Another-Fine-Password-77' });
  assert.deepEqual(problemOf(r, 400).errors.map((e) => e.field), ['token']);
  // Valid for one hour only.
  await srv.post('/api/v1/password/forgot', { email: owner.email });
  await deliver();
  const again = await sink.waitFor(to(owner.email), { count: 2 });
  const t2 = linkToken(again[1], 'reset-password');
  await advance(3601);
  r = await srv.post('/api/v1/password/reset', { token: t2, password: 'Another-Fine-Password-77' });
  assert.deepEqual(problemOf(r, 400).errors.map((e) => e.field), ['token'], 'expired after an hour');
  await signIn(srv, 'still', owner.email, PASSWORD);
});

test('forgot password: a disabled account gets no mail (and the same 202)', async () => {
  const { owner, wsId } = await freshTeam();
  const m = await addMember(wsId, 'member', 'Disabled Dora');
  assert.equal((await srv.cli(['user', 'disable', m.email])).code, 0);
  const n0 = sink.count();
  const r = await srv.post('/api/v1/password/forgot', { email: m.email });
  assert.equal(r.status, 202);
  await deliver();
  assert.equal(newTo(n0, m.email).length, 0);
  assert.ok(owner);
});

test('forgot password: at most 3 reset mails an hour per account, whatever the number of requests', async () => {
  const { owner } = await freshTeam('Bombed Owner');
  const n0 = sink.count();
  for (let i = 0; i < 6; i++) assert.equal((await srv.post('/api/v1/password/forgot', { email: owner.email })).status, 202);
  await deliver();
  await sink.waitFor((m) => m.seq > n0 && to(owner.email)(m), { count: 3 });
  assert.equal(newTo(n0, owner.email).length, 3);
  const tokens = newTo(n0, owner.email).map((m) => linkToken(m, 'reset-password'));
  assert.equal(new Set(tokens).size, 3);
  await advance(3601);
  assert.equal((await srv.post('/api/v1/password/forgot', { email: owner.email })).status, 202);
  await deliver();
  await sink.waitFor((m) => m.seq > n0 && to(owner.email)(m), { count: 4 });
});

test('preferences: team mail off → no role-changed or removed mail; security notices (reset, ownership transfer) still arrive', async () => {
  const { owner, wsId } = await freshTeam('Pref Owner');
  const quiet = await addMember(wsId, 'member', 'Quinn Quiet');
  const loud = await addMember(wsId, 'member', 'Lou Loud');
  const off = await quiet.patch(`${W(wsId)}/notifications`, { groups: { team: { email: false } } });
  assert.equal(off.status, 200, off.text);
  const n0 = sink.count();

  // Role changes: only the member who wants team mail hears about it.
  for (const pr of [quiet, loud]) assert.equal((await owner.patch(`${W(wsId)}/members/${pr.memberId}`, { role: 'admin' })).status, 200);
  await deliver();
  const [rc] = await sink.waitFor(to(loud.email));
  assertWellFormed(rc, loud.email);
  assert.equal(rc.subject, "Your role in Pref Owner's workspace is now admin");
  assert.match(rc.text, /from member to admin/);
  assert.match(rc.to, /Lou Loud/);
  assert.equal(newTo(n0, quiet.email).length, 0, 'no role-changed mail with team email off');

  // Security notices go whatever the preferences: a password reset…
  await srv.post('/api/v1/password/forgot', { email: quiet.email });
  // …and an ownership transfer offer.
  const t = await owner.post(`${W(wsId)}/ownership-transfer`, { member_id: quiet.memberId });
  assert.equal(t.status, 201, t.text);
  await deliver();
  const got = await sink.waitFor(to(quiet.email), { count: 2 });
  const offer = got.find((x) => x.subject.includes('owner of'));
  const reset = got.find((x) => x.subject === 'Reset your Atrium password');
  assert.ok(offer && reset, got.map((x) => x.subject).join(' / '));
  assertWellFormed(offer, quiet.email);
  assertWellFormed(reset, quiet.email);
  // "From" is the proposing owner (their name, or their address).
  assert.ok([`Pref Owner wants to make you the owner of Pref Owner's workspace`, `${owner.email} wants to make you the owner of Pref Owner's workspace`].includes(offer.subject), offer.subject);
  assert.ok(offer.links.some((l) => l.startsWith(`${PUBLIC_URL}/`)), offer.text);
  assert.equal(newTo(n0, quiet.email).filter((x) => /role/i.test(x.subject)).length, 0);
  assert.equal((await owner.del(`${W(wsId)}/ownership-transfer`)).status, 204);

  // Removal: the member who wants team mail is told; the one who turned it off is not.
  const n1 = sink.count();
  assert.equal((await owner.del(`${W(wsId)}/members/${loud.memberId}`)).status, 204);
  assert.equal((await owner.del(`${W(wsId)}/members/${quiet.memberId}`)).status, 204);
  await deliver();
  const [rm] = await sink.waitFor((x) => x.seq > n1 && to(loud.email)(x));
  assertWellFormed(rm, loud.email);
  assert.equal(rm.subject, "You were removed from Pref Owner's workspace");
  assert.match(rm.text, /no longer have access/);
  assert.equal(newTo(n1, quiet.email).length, 0, `removed with team email off, yet mailed: ${newTo(n1, quiet.email).map((x) => x.subject)}`);
});

test('delivery: an SMTP server that says "try later" gets the same message again later, exactly once', async () => {
  const { owner, wsId } = await freshTeam('Retry Owner');
  const email = `${uniq('retry')}@team.test`;
  sink.failing(true);
  try {
    const r = await owner.post(`${W(wsId)}/invitations`, { emails: [email], role: 'member' });
    assert.equal(r.status, 200, r.text);
    await deliver();
  } finally {
    sink.failing(false);
  }
  assert.equal(sink.messages().filter(to(email)).length, 0);
  const row = (await srv.sql(`SELECT id || '|' || status || '|' || attempts || '|' || COALESCE(last_error, '') FROM mail_outbox WHERE to_addr = ${q(email)}`)).split('|');
  assert.deepEqual(row.slice(1, 3), ['queued', '1']);
  assert.match(row[3], /451/);
  // Not yet due again: still nothing. After the backoff: delivered once, with the same Message-ID.
  await deliver();
  assert.equal(sink.messages().filter(to(email)).length, 0);
  await advance(3700);
  await deliver();
  const [m] = await sink.waitFor(to(email));
  assert.equal(m.messageId.slice(1).split('@')[0], row[0]);
  await advance(3700);
  await deliver();
  assert.equal(sink.messages().filter(to(email)).length, 1);
  assert.equal(await srv.sql(`SELECT status || '|' || attempts FROM mail_outbox WHERE id = ${q(row[0])}`), 'sent|2');
});

test('atrium mail list | show: the operator sees the outbox and one message in full', async () => {
  const { owner, wsId } = await freshTeam('Cli Owner');
  const email = `${uniq('cli')}@team.test`;
  await owner.post(`${W(wsId)}/invitations`, { emails: [email], role: 'member' });
  await deliver();
  const id = await srv.sql(`SELECT id FROM mail_outbox WHERE to_addr = ${q(email)}`);
  const list = await srv.cli(['mail', 'list']);
  assert.equal(list.code, 0, `mail list → ${list.code}: ${list.stderr}`);
  const line = list.stdout.split('\n').find((l) => l.includes(id));
  assert.ok(line, `the message ${id} is listed:\n${list.stdout}`);
  assert.match(line, /sent/);
  assert.match(line, new RegExp(email.replace(/\./g, '\\.').slice(0, 20)));
  const show = await srv.cli(['mail', 'show', id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /Cli Owner invited you to Cli Owner's workspace on Atrium/);
  assert.match(show.stdout, /\/invitations\/[A-Za-z0-9_-]{22,}/);
  const missing = await srv.cli(['mail', 'show', missingId('msg')]);
  assert.notEqual(missing.code, 0);
  assert.notEqual((await srv.cli(['mail', 'list', '--limit', '0'])).code, 0);
});

test('folder transport: without ATRIUM_SMTP_URL each message is <data dir>/mail/<id>.eml, private to the server user', async () => {
  const s2 = await startServer({ env: { ATRIUM_SIGNUP: 'true', ATRIUM_LOGIN_IP_PER_MINUTE: '100000', ATRIUM_JOB_WORKERS: '0' } });
  try {
    const o = await signUp(s2, 'o', `${uniq('folder')}@team.test`, 'Folder Owner');
    const wsId = (await o.get('/api/v1/workspaces')).body.items[0].id;
    const email = `${uniq('f')}@team.test`;
    await o.post(`${W(wsId)}/invitations`, { emails: [email], role: 'member' });
    await deliver(s2);
    const [m] = readMailFolder(s2.dataDir);
    assert.ok(m, 'a message file');
    assert.equal(m.to, email);
    assert.equal(`<${m.id}@atrium>`, m.messageId);
    assert.match(linkToken(m), /^[A-Za-z0-9_-]{22,}$/);
    const dir = path.join(s2.dataDir, 'mail');
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, m.file)).mode & 0o777, 0o600);
    assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0);
    assert.equal(await s2.sql(`SELECT status || '|' || transport FROM mail_outbox WHERE id = ${q(m.id)}`), 'sent|folder');
  } finally {
    await s2.stop();
  }
});
