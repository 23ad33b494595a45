// Notifications (per user and workspace: documented defaults, changes, the locked security group,
// reset) and Profile (the caller's own user: validation, null clears, the email-change rules: the
// current password is required, a taken email is 409, the change waits for a link to the new address,
// then ends the other sessions and tells the old address, which can undo it for 7 days).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, signIn, signUp, uniq, mailedToken, DEMO_PASSWORDS, EXTRA_PASSWORD } from './lib-world.mjs';

let w;
let ws;
let p;
let srv;

before(async () => {
  w = await startWorld({ extras: false });
  ({ ws, p, srv } = w);
});

after(async () => {
  await w?.stop();
});

const N = (W) => `/api/v1/workspaces/${ws[W]}/notifications`;
const DEFAULTS = [
  ['team', true, true, false],
  ['billing', true, true, false],
  ['integrations', false, true, false],
  ['imports', true, true, false],
  ['reviews', true, true, false],
  ['security', true, true, true],
];
const state = (body) => body.groups.map((g) => [g.id, g.email, g.in_app, g.locked]);

test('notifications: documented defaults for every member, in every workspace they reach', async () => {
  for (const [pr, W] of [[p.member, 'A'], [p.owner, 'A'], [p.dev, 'A'], [p.subadmin, 'A1'], [p.admin, 'A1'], [p.ownerB, 'B']]) {
    const r = await pr.get(N(W));
    assert.equal(r.status, 200, `${pr.key} ${W}: ${r.text}`);
    assert.deepEqual(state(r.body), DEFAULTS, `${pr.key} ${W}`);
    for (const g of r.body.groups) {
      assert.deepEqual(Object.keys(g).sort(), ['description', 'email', 'id', 'in_app', 'locked', 'title']);
      assert.ok(g.title && g.description);
    }
  }
});

test('notifications: a change is the caller’s own, in that workspace only', async () => {
  const r = await p.member.patch(N('A'), { groups: { team: { email: false }, integrations: { email: true, in_app: false } } });
  assert.equal(r.status, 200, r.text);
  const want = DEFAULTS.map((d) => (d[0] === 'team' ? ['team', false, true, false] : d[0] === 'integrations' ? ['integrations', true, false, false] : d));
  assert.deepEqual(state(r.body), want);
  assert.deepEqual(state((await p.member.get(N('A'))).body), want);
  // Merge: another patch keeps the first one's choices.
  const r2 = await p.member.patch(N('A'), { groups: { billing: { in_app: false } } });
  assert.deepEqual(state(r2.body).find((g) => g[0] === 'team'), ['team', false, true, false]);
  assert.deepEqual(state(r2.body).find((g) => g[0] === 'billing'), ['billing', true, false, false]);
  // Nobody else's preferences moved: other users in A, the same user elsewhere.
  assert.deepEqual(state((await p.owner.get(N('A'))).body), DEFAULTS);
  assert.deepEqual(state((await p.admin.get(N('A1'))).body), DEFAULTS);
  // An agency admin's choices in a sub-account are theirs there, and do not touch the root's.
  const ag = await p.admin.patch(N('A1'), { groups: { reviews: { email: false } } });
  assert.equal(ag.status, 200, ag.text);
  assert.deepEqual(state((await p.admin.get(N('A'))).body), DEFAULTS);
  assert.deepEqual(state((await p.subadmin.get(N('A1'))).body), DEFAULTS);
  // An empty set of groups is a valid no-op.
  const noop = await p.member.patch(N('A'), { groups: {} });
  assert.deepEqual(state(noop.body), state(r2.body));
});

test('notifications: security cannot be turned off (400 locked); every bad field is named; nothing changes', async () => {
  const before = state((await p.member.get(N('A'))).body);
  const r = await p.member.patch(N('A'), {
    groups: {
      security: { email: false, in_app: false },
      team: { sms: true, email: 'no' },
      marketing: { email: true },
      billing: true,
    },
  });
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(
    Object.fromEntries(r.body.errors.map((e) => [e.field, e.code])),
    {
      'groups.security.email': 'locked',
      'groups.security.in_app': 'locked',
      'groups.team.sms': 'unknown_field',
      'groups.team.email': 'type',
      'groups.marketing': 'unknown_field',
      'groups.billing': 'type',
    },
  );
  const only = await p.member.patch(N('A'), { groups: { security: { email: false } } });
  assert.deepEqual([only.status, only.body.errors], [400, [{ field: 'groups.security.email', code: 'locked', message: 'Security notices cannot be turned off.' }]]);
  for (const [body, field, code] of [[{}, 'groups', 'required'], [{ groups: null }, 'groups', 'type'], [{ groups: [] }, 'groups', 'type'], [{ groups: {}, team: {} }, 'team', 'unknown_field']]) {
    const x = await p.member.patch(N('A'), body);
    assert.equal(x.status, 400, JSON.stringify(body));
    assert.deepEqual(x.body.errors.map((e) => [e.field, e.code]), [[field, code]]);
  }
  assert.deepEqual(state((await p.member.get(N('A'))).body), before);
  // Asking for security notices (true) is fine: they are on anyway.
  const on = await p.member.patch(N('A'), { groups: { security: { email: true } } });
  assert.equal(on.status, 200);
  assert.deepEqual(state(on.body).find((g) => g[0] === 'security'), ['security', true, true, true]);
});

test('notifications: reset brings every group back to its default, for the caller in that workspace only', async () => {
  await p.owner.patch(N('A'), { groups: { imports: { email: false } } });
  const r = await p.member.post(`${N('A')}/reset`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(state(r.body), DEFAULTS);
  assert.deepEqual(state((await p.member.get(N('A'))).body), DEFAULTS);
  assert.deepEqual(state((await p.owner.get(N('A'))).body).find((g) => g[0] === 'imports'), ['imports', false, true, false]);
  assert.deepEqual(state((await p.admin.get(N('A1'))).body).find((g) => g[0] === 'reviews'), ['reviews', false, true, false]);
  // Twice is fine.
  assert.equal((await p.member.post(`${N('A')}/reset`)).status, 200);
  // A body is not needed and an unexpected one does no harm.
  assert.equal((await p.owner.post(`${N('A')}/reset`, {})).status, 200);
  assert.deepEqual(state((await p.owner.get(N('A'))).body), DEFAULTS);
});

// ---------------------------------------------------------------------------------------------------

const PROFILE_KEYS = ['avatar_url', 'created_at', 'developer', 'email', 'id', 'locale', 'name', 'pending_email', 'timezone'];

test('profile: read and edit your own; every bad field named; null clears; nothing else is writable', async () => {
  const g = await p.dev.get('/api/v1/me/profile');
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(Object.keys(g.body).sort(), PROFILE_KEYS);
  assert.deepEqual([g.body.email, g.body.name, g.body.developer, g.body.avatar_url, g.body.timezone, g.body.locale], ['dev@acme.test', 'Dev Developer', true, null, null, null]);
  assert.equal(g.body.pending_email, null);
  const bad = await p.dev.patch('/api/v1/me/profile', { name: '', email: 'not-an-email', avatar_url: 'http://cdn.test/me.png', timezone: 'Mars/Base', locale: 'xx_YY', developer: false, id: 'usr_x' });
  assert.equal(bad.status, 400, bad.text);
  assert.deepEqual(
    Object.fromEntries(bad.body.errors.map((e) => [e.field, e.code])),
    { name: 'required', email: 'format', avatar_url: 'format', timezone: 'format', locale: 'format', developer: 'unknown_field', id: 'unknown_field' },
  );
  const singles = [
    [{ name: ' Dev' }, 'name'],
    [{ name: 'Dev\u0007' }, 'name'],
    [{ name: null }, 'name'],
    [{ email: null }, 'email'],
    [{ avatar_url: 'javascript:alert(1)' }, 'avatar_url'],
    [{ avatar_url: 'https://' }, 'avatar_url'],
  ];
  for (const [body, field] of singles) {
    const r = await p.dev.patch('/api/v1/me/profile', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.ok(r.body.errors.some((e) => e.field === field), JSON.stringify(body));
  }
  for (const body of [{}, { current_password: DEMO_PASSWORDS.dev }]) {
    const r = await p.dev.patch('/api/v1/me/profile', body);
    assert.deepEqual([r.status, r.body.errors[0].code], [400, 'empty_patch']);
  }
  const set = await p.dev.patch('/api/v1/me/profile', { name: 'Devi Developer', avatar_url: 'https://cdn.acme.test/devi.png', timezone: 'Asia/Tokyo', locale: 'ja-JP' });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual([set.body.name, set.body.avatar_url, set.body.timezone, set.body.locale, set.body.developer], ['Devi Developer', 'https://cdn.acme.test/devi.png', 'Asia/Tokyo', 'ja-JP', true]);
  assert.deepEqual((await p.dev.get('/api/v1/me/profile')).body, set.body);
  assert.equal((await p.dev.get('/api/v1/me')).body.user.name, 'Devi Developer');
  const cleared = await p.dev.patch('/api/v1/me/profile', { avatar_url: null, timezone: null, locale: null });
  assert.deepEqual([cleared.body.avatar_url, cleared.body.timezone, cleared.body.locale, cleared.body.name], [null, null, null, 'Devi Developer']);
  // Someone else's profile is not reachable through this route (it is always the caller's).
  assert.equal((await p.member.get('/api/v1/me/profile')).body.email, 'member@acme.test');
  assert.equal((await p.anon.get('/api/v1/me/profile')).status, 401);
});

test('profile: an email change needs the current password, is 409 when taken, and waits for the new address', async () => {
  const other = await signIn(srv, 'member2', 'member@acme.test', DEMO_PASSWORDS.member);
  const third = await signIn(srv, 'member3', 'member@acme.test', DEMO_PASSWORDS.member);
  const nopw = await p.member.patch('/api/v1/me/profile', { email: 'mia@acme.test' });
  assert.deepEqual([nopw.status, nopw.body.errors.map((e) => [e.field, e.code])], [400, [['current_password', 'required']]]);
  const wrong = await p.member.patch('/api/v1/me/profile', { email: 'mia@acme.test', current_password: 'acme-owner-demo-2026' });
  assert.deepEqual([wrong.status, wrong.body.errors.map((e) => [e.field, e.code])], [400, [['current_password', 'incorrect']]]);
  const taken = await p.member.patch('/api/v1/me/profile', { email: 'Owner@ACME.test', current_password: DEMO_PASSWORDS.member });
  assert.deepEqual([taken.status, taken.body.errors.map((e) => [e.field, e.code])], [409, [['email', 'taken']]]);
  // None of the refused attempts changed anything or ended a session.
  assert.equal((await p.member.get('/api/v1/me/profile')).body.email, 'member@acme.test');
  assert.equal((await other.get('/api/v1/me')).status, 200);
  // The same address in another case is no change: no password needed, sessions kept.
  const same = await p.member.patch('/api/v1/me/profile', { email: 'MEMBER@acme.test', name: 'Mia M' });
  assert.deepEqual([same.status, same.body.email, same.body.name, same.body.pending_email], [200, 'member@acme.test', 'Mia M', null]);
  assert.equal((await other.get('/api/v1/me')).status, 200);

  // A typo first, then the right address: the newer request replaces the pending one.
  const typo = await p.member.patch('/api/v1/me/profile', { email: 'mia.membr@acme.test', current_password: DEMO_PASSWORDS.member });
  assert.equal(typo.status, 200, typo.text);
  const typoToken = await mailedToken(srv, 'mia.membr@acme.test', 'confirm-email');
  // Pending: normalised, nothing switched yet, nobody signed out.
  const ok = await p.member.patch('/api/v1/me/profile', { email: 'Mia.Member@Acme.test', current_password: DEMO_PASSWORDS.member });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.email, 'member@acme.test');
  assert.equal(ok.body.pending_email.email, 'mia.member@acme.test');
  assert.ok(Date.parse(ok.body.pending_email.expires_at) > Date.now() + 23 * 3600e3);
  assert.deepEqual((await p.member.get('/api/v1/me/profile')).body.pending_email, ok.body.pending_email);
  assert.equal((await other.get('/api/v1/me')).status, 200);
  assert.equal((await srv.post('/api/v1/session', { email: 'mia.member@acme.test', password: DEMO_PASSWORDS.member })).status, 401);
  const confirmMail = await srv.sql(`SELECT text_body FROM mail_outbox WHERE to_addr = 'mia.member@acme.test' ORDER BY created_at DESC, id DESC LIMIT 1`);
  assert.match(confirmMail, /Confirm that this address is yours/);
  const token = await mailedToken(srv, 'mia.member@acme.test', 'confirm-email');
  assert.ok(token.length >= 22, 'at least 128 bits');
  assert.equal(await srv.sql(`SELECT COUNT(*) FROM email_changes WHERE confirm_hash = '${token}'`), '0', 'stored as a hash only');

  // Confirming: bad and replaced tokens change nothing; the right one switches the address once.
  for (const t of ['A'.repeat(43), typoToken]) {
    const r = await srv.post('/api/v1/email-change/confirm', { token: t });
    assert.deepEqual([r.status, r.body.errors.map((e) => [e.field, e.code])], [400, [['token', 'invalid']]]);
  }
  assert.equal((await srv.post('/api/v1/email-change/confirm', { token }, { headers: { origin: 'https://evil.test' } })).status, 403);
  const conf = await srv.post('/api/v1/email-change/confirm', { token });
  assert.equal(conf.status, 204, conf.text);
  assert.equal((await srv.post('/api/v1/email-change/confirm', { token })).status, 400, 'single use');
  const after = (await p.member.get('/api/v1/me/profile')).body;
  assert.deepEqual([after.email, after.pending_email], ['mia.member@acme.test', null]);
  // The session that asked lives on, the others end.
  assert.equal((await p.member.get('/api/v1/me')).status, 200);
  for (const s of [other, third]) assert.equal((await s.get('/api/v1/me')).status, 401, `${s.key} still signed in`);
  assert.deepEqual((await p.member.get('/api/v1/me/sessions')).body.items.map((x) => x.id), [p.member.sessionId]);
  // Sign-in: the new address works, the old one does not; the workspaces stay.
  assert.equal((await srv.post('/api/v1/session', { email: 'member@acme.test', password: DEMO_PASSWORDS.member })).status, 401);
  const again = await signIn(srv, 'member4', 'mia.member@acme.test', DEMO_PASSWORDS.member);
  assert.deepEqual((await again.get('/api/v1/workspaces')).body.items.map((i) => i.id), [ws.A]);
  // The workspace's activity shows the request and the change.
  const events = (await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?limit=100`)).body.items.map((e) => e.action);
  for (const a of ['user.email_change_requested', 'user.email_changed']) assert.ok(events.includes(a), `${a} in ${events}`);

  // The old address is told, with a link that undoes the change and signs everyone out.
  const notice = await srv.sql(`SELECT text_body FROM mail_outbox WHERE to_addr = 'member@acme.test' ORDER BY created_at DESC, id DESC LIMIT 1`);
  assert.match(notice, /was changed to mia\.member@acme\.test/);
  const undo = await mailedToken(srv, 'member@acme.test', 'undo-email-change');
  const reset = await srv.post('/api/v1/password/forgot', { email: 'mia.member@acme.test' });
  assert.equal(reset.status, 202);
  const resetToken = await mailedToken(srv, 'mia.member@acme.test', 'reset-password');
  assert.equal((await srv.post('/api/v1/email-change/undo', { token })).status, 400, 'a confirm token does not undo');
  const u = await srv.post('/api/v1/email-change/undo', { token: undo });
  assert.equal(u.status, 204, u.text);
  assert.equal((await srv.post('/api/v1/email-change/undo', { token: undo })).status, 400, 'single use');
  for (const s of [p.member, again]) assert.equal((await s.get('/api/v1/me')).status, 401);
  const rr = await srv.post('/api/v1/password/reset', { token: resetToken, password: 'Undone-Harbor-Lantern-77' });
  assert.deepEqual([rr.status, rr.body.errors.map((e) => [e.field, e.code])], [400, [['token', 'invalid']]], 'reset links to the new address die');
  const back = await signIn(srv, 'member5', 'member@acme.test', DEMO_PASSWORDS.member);
  assert.equal((await back.get('/api/v1/me/profile')).body.email, 'member@acme.test');
  p.member = back;
  const events2 = (await p.owner.get(`/api/v1/workspaces/${ws.A}/audit-events?limit=100`)).body.items.map((e) => e.action);
  assert.ok(events2.includes('user.email_change_undone'));
});

test('profile: a confirmation link lapses after 24 hours; an undo link after 7 days', async () => {
  const email = `${uniq('lapse')}@acme.test`;
  let u = await signUp(srv, 'lapse', email, 'Lapse User');
  const ask = async (to) => {
    const r = await u.patch('/api/v1/me/profile', { email: to, current_password: EXTRA_PASSWORD });
    assert.equal(r.status, 200, r.text);
    return mailedToken(srv, to, 'confirm-email');
  };
  const late = await ask(`${uniq('late')}@acme.test`);
  assert.equal((await srv.post('/api/v1/test/clock', { advance_seconds: 24 * 3600 + 1 })).status, 200);
  assert.equal((await srv.post('/api/v1/email-change/confirm', { token: late })).status, 400);
  u = await signIn(srv, 'lapse2', email, EXTRA_PASSWORD);
  assert.equal((await u.get('/api/v1/me/profile')).body.pending_email, null);
  const next = `${uniq('next')}@acme.test`;
  assert.equal((await srv.post('/api/v1/email-change/confirm', { token: await ask(next) })).status, 204);
  const undo = await mailedToken(srv, email, 'undo-email-change');
  assert.equal((await srv.post('/api/v1/test/clock', { advance_seconds: 7 * 24 * 3600 + 1 })).status, 200);
  assert.equal((await srv.post('/api/v1/email-change/undo', { token: undo })).status, 400);
  u = await signIn(srv, 'lapse3', next, EXTRA_PASSWORD);
  assert.equal((await u.get('/api/v1/me/profile')).body.email, next);
});
