// Operating Atrium, part two (issue 13, "Additions operators expect"; docs/operations.md "Recovering
// access", "atrium doctor", "Rotating the key"): the recovery commands (user workspaces, workspace
// add-owner, user end-sessions, user erase), `atrium doctor`, and key rotation (keys rotate / keys
// list) with sessions, API keys, CSRF tokens and audit events made before a rotation still verifying.
// Runs on SQLite and on PostgreSQL (ATRIUM_TEST_BACKEND).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, makeScratch } from '../lib/server.mjs';
import { startSmtpSink } from '../lib/smtp-sink.mjs';
import { signUp, signIn, createKey, keyPrincipal, principal, missingId, mailedToken, EXTRA_PASSWORD } from './lib-world.mjs';

const ENV = { ATRIUM_SIGNUP: 'true', ATRIUM_JOB_WORKERS: '0', ATRIUM_LOGIN_IP_PER_MINUTE: '100000' };
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

async function withScratch(fn) {
  const sc = await makeScratch();
  try {
    return await fn(sc);
  } finally {
    await sc.cleanup();
  }
}

/** The signed-in principal's only workspace id. */
async function onlyWorkspace(pr) {
  const r = await pr.get('/api/v1/workspaces');
  assert.equal(r.status, 200, r.text);
  return r.body.items[0].id;
}

async function one(sc, sql) {
  return String(await sc.sql(sql)).trim();
}

// ---------------------------------------------------------------------------------------------------
// Recovering access

test('recovery: user workspaces, workspace add-owner, user end-sessions and user erase', async () => {
  await withScratch(async (sc) => {
    const srv = await startServer({ scratch: sc, env: ENV });
    let stopped = false;
    try {
      const own = await signUp(srv, 'own', 'own@recovery.test', 'Olga Owner');
      const two = await signUp(srv, 'two', 'two@recovery.test', 'Tom Two');
      const W = await onlyWorkspace(own);
      const W2 = await onlyWorkspace(two);
      await sc.sql(
        `INSERT INTO memberships (workspace_id, user_id, id, role, joined_at) VALUES (${q(W)}, ${q(two.userId)}, ${q(missingId('mem'))}, 'member', 1)`,
      );

      // user workspaces: one line per membership with the role.
      const list = await srv.cli(['user', 'workspaces', 'TWO@recovery.test']);
      assert.equal(list.code, 0, list.stderr);
      const line = (ws) => list.stdout.split('\n').find((l) => l.startsWith(ws)) || '';
      assert.match(line(W), /\bmember\b/, list.stdout);
      assert.match(line(W2), /\bowner\b/, list.stdout);

      // Unknown ids, options and arguments: exit 2, nothing changed.
      for (const args of [
        ['user', 'workspaces', 'nobody@recovery.test'],
        ['user', 'workspaces', 'two@recovery.test', '--name', 'x'],
        ['user', 'end-sessions', 'nobody@recovery.test'],
        ['user', 'end-sessions', 'two@recovery.test', '--force'],
        ['user', 'erase', 'nobody@recovery.test'],
        ['user', 'erase', 'two@recovery.test', '--developer'],
        ['workspace', 'add-owner', missingId('ws'), 'two@recovery.test'],
        ['workspace', 'add-owner', 'not-an-id', 'two@recovery.test'],
        ['workspace', 'add-owner', W, 'nobody@recovery.test'],
        ['workspace', 'add-owner', W, 'two@recovery.test', '--yes'],
        ['workspace', 'add-owner', W],
        ['workspace', 'frobnicate', W, 'two@recovery.test'],
      ]) {
        const r = await srv.cli(args);
        assert.equal(r.code, 2, `atrium ${args.join(' ')} → ${r.code}: ${r.stdout}${r.stderr}`);
      }
      assert.equal(await one(sc, `SELECT role FROM memberships WHERE workspace_id = ${q(W)} AND user_id = ${q(two.userId)}`), 'member');

      // Erasing the only owner of W2 is refused, naming the workspace; nothing changes.
      const refused = await srv.cli(['user', 'erase', 'two@recovery.test']);
      assert.notEqual(refused.code, 0, refused.stdout);
      assert.ok(refused.stderr.includes(W2), refused.stderr);
      assert.ok(refused.stderr.includes("Tom Two's workspace"), refused.stderr);
      assert.equal(await one(sc, `SELECT email FROM users WHERE id = ${q(two.userId)}`), 'two@recovery.test');
      assert.equal(await one(sc, `SELECT COUNT(*) FROM memberships WHERE user_id = ${q(two.userId)}`), '2');

      // add-owner: a new membership, audited in the workspace as the operator; again: a promotion.
      const add = await srv.cli(['workspace', 'add-owner', W2, 'own@recovery.test']);
      assert.equal(add.code, 0, add.stderr);
      assert.equal(await one(sc, `SELECT role FROM memberships WHERE workspace_id = ${q(W2)} AND user_id = ${q(own.userId)}`), 'owner');
      assert.equal(
        await one(sc, `SELECT actor_type || '|' || actor_label || '|' || action FROM audit_events WHERE workspace_id = ${q(W2)} ORDER BY seq DESC LIMIT 1`),
        'system|operator (atrium CLI)|member.added',
      );
      const promote = await srv.cli(['workspace', 'add-owner', W, 'two@recovery.test']);
      assert.equal(promote.code, 0, promote.stderr);
      assert.match(promote.stdout, /promoted/);
      assert.equal(await one(sc, `SELECT role FROM memberships WHERE workspace_id = ${q(W)} AND user_id = ${q(two.userId)}`), 'owner');
      assert.equal(await one(sc, `SELECT action FROM audit_events WHERE workspace_id = ${q(W)} ORDER BY seq DESC LIMIT 1`), 'member.role_changed');
      const ownView = await own.get(`/api/v1/workspaces/${W2}`);
      assert.equal(ownView.status, 200, 'the added owner reaches the workspace');

      // end-sessions: signed out everywhere.
      assert.equal((await two.get('/api/v1/workspaces')).status, 200);
      const end = await srv.cli(['user', 'end-sessions', 'two@recovery.test']);
      assert.equal(end.code, 0, end.stderr);
      assert.match(end.stdout, /ended 1 session/);
      assert.equal((await two.get('/api/v1/workspaces')).status, 401);

      // erase: personal data gone, audit attribution by id kept, the chains intact.
      const again = await signIn(srv, 'two2', 'two@recovery.test', EXTRA_PASSWORD);
      const events = await one(sc, `SELECT COUNT(*) FROM audit_events WHERE actor_id = ${q(two.userId)}`);
      assert.ok(Number(events) > 0);
      const erase = await srv.cli(['user', 'erase', 'two@recovery.test']);
      assert.equal(erase.code, 0, erase.stderr);
      assert.equal(
        await one(sc, `SELECT email || '|' || name || '|' || password_hash || '|' || disabled FROM users WHERE id = ${q(two.userId)}`),
        `erased+${two.userId}@erased.invalid|Erased user|!|1`,
      );
      assert.equal(await one(sc, `SELECT COUNT(*) FROM sessions WHERE user_id = ${q(two.userId)}`), '0');
      assert.equal(await one(sc, `SELECT COUNT(*) FROM memberships WHERE user_id = ${q(two.userId)}`), '0');
      assert.equal(await one(sc, `SELECT COUNT(*) FROM audit_events WHERE actor_id = ${q(two.userId)}`), events);
      assert.equal(
        await one(sc, `SELECT COUNT(*) FROM audit_events WHERE action = 'member.removed' AND actor_label = 'operator (atrium CLI)'`),
        '2',
      );
      assert.equal((await again.get('/api/v1/workspaces')).status, 401);
      const signin = await srv.post('/api/v1/session', { email: 'two@recovery.test', password: EXTRA_PASSWORD });
      assert.equal(signin.status, 401, signin.text);
      assert.equal((await srv.cli(['user', 'workspaces', 'two@recovery.test'])).code, 2, 'the old email names nobody');
      const verify = await srv.cli(['audit', 'verify']);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      // The email can be used again by a new account.
      assert.equal((await srv.post('/api/v1/signup', { name: 'New Two', email: 'two@recovery.test', password: EXTRA_PASSWORD })).status, 201);
    } finally {
      if (!stopped) await srv.stop();
      stopped = true;
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// atrium doctor

/** The status word of one check in doctor's output. */
function check(out, name) {
  const l = out.split('\n').find((x) => x.split(/\s+/)[1] === name);
  return l ? l.split(/\s+/)[0] : 'missing';
}

test('doctor: one line per check, exit 0 only when all pass; a test mail through the folder and SMTP', async () => {
  await withScratch(async (sc) => {
    assert.equal((await sc.cli(['migrate'])).code, 0);
    const add = await sc.cli(['user', 'add', 'doc@example.test', '--password-stdin'], {}, { input: `${EXTRA_PASSWORD}\n` });
    assert.equal(add.code, 0, add.stderr);
    const srv = await startServer({ scratch: sc, env: ENV, args: ['serve'] });
    await signUp(srv, 'd', 'doctor-ws@example.test', 'Dora Doctor');
    await srv.stop();

    const good = await sc.cli(['doctor']);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    for (const c of ['database', 'schema', 'keys', 'audit']) assert.equal(check(good.stdout, c), 'ok', good.stdout);
    assert.equal(check(good.stdout, 'mail'), 'skip', good.stdout);

    // The mail folder (no SMTP configured).
    const folder = await sc.cli(['doctor', '--mail-to', 'ops@example.test']);
    assert.equal(folder.code, 0, folder.stdout + folder.stderr);
    assert.match(folder.stdout, /ok\s+mail\s+.*\(folder\)/);
    const files = fs.readdirSync(path.join(sc.dataDir, 'mail')).filter((f) => f.endsWith('.eml'));
    assert.equal(files.length, 1);
    assert.match(fs.readFileSync(path.join(sc.dataDir, 'mail', files[0]), 'utf8'), /To: ops@example\.test/);

    // The SMTP sink; then an SMTP server that is not there.
    const sink = await startSmtpSink();
    try {
      const smtp = await sc.cli(['doctor', '--mail-to', 'ops@example.test'], { ATRIUM_SMTP_URL: sink.url });
      assert.equal(smtp.code, 0, smtp.stdout + smtp.stderr);
      assert.match(smtp.stdout, /ok\s+mail\s+.*\(smtp\)/);
      await sink.waitFor(1);
      assert.deepEqual(sink.messages()[0].envelope.rcpt_tos ?? sink.messages()[0].envelope.to ?? ['ops@example.test'], ['ops@example.test']);
    } finally {
      await sink.stop();
    }
    const down = await sc.cli(['doctor', '--mail-to', 'ops@example.test'], { ATRIUM_SMTP_URL: 'smtp://127.0.0.1:1' });
    assert.equal(down.code, 1, down.stdout);
    assert.equal(check(down.stdout, 'mail'), 'FAIL', down.stdout);

    for (const args of [['doctor', '--bogus'], ['doctor', '--mail-to'], ['doctor', 'x', 'y']]) {
      assert.equal((await sc.cli(args)).code, 2, args.join(' '));
    }

    // Another key: FAIL keys (and the audit is not verified with it); nothing created.
    const other = fs.mkdtempSync(path.join(sc.dataDir, '..', 'doctor-other-'));
    fs.mkdirSync(path.join(other, 'keys'), { mode: 0o700 });
    fs.writeFileSync(path.join(other, 'keys', 'hash.key'), randomBytes(32), { mode: 0o600 });
    const wrongKey = await sc.cli(['doctor'], { ATRIUM_DATA_DIR: other });
    fs.rmSync(other, { recursive: true, force: true });
    assert.equal(wrongKey.code, 1, wrongKey.stdout + wrongKey.stderr);
    assert.equal(check(wrongKey.stdout, 'keys'), 'FAIL', wrongKey.stdout);
    assert.equal(check(wrongKey.stdout, 'audit'), 'FAIL', wrongKey.stdout);
    assert.equal(check(wrongKey.stdout, 'database'), 'ok', wrongKey.stdout);

    // A tampered audit event: FAIL audit.
    await sc.sql(`UPDATE audit_events SET action = 'tampered' WHERE seq = 1`);
    const tampered = await sc.cli(['doctor']);
    assert.equal(tampered.code, 1, tampered.stdout);
    assert.equal(check(tampered.stdout, 'audit'), 'FAIL', tampered.stdout);
    assert.match(tampered.stdout, /BROKEN/);
    await sc.sql(`UPDATE audit_events SET action = 'workspace.created' WHERE action = 'tampered'`);

    // A schema older than the binary: FAIL schema, and doctor changed nothing (no migration).
    const max = await one(sc, 'SELECT MAX(version) FROM schema_migrations');
    await sc.sql(`DELETE FROM schema_migrations WHERE version = ${max}`);
    const old = await sc.cli(['doctor']);
    assert.equal(old.code, 1, old.stdout);
    assert.equal(check(old.stdout, 'schema'), 'FAIL', old.stdout);
    assert.match(old.stdout, /atrium migrate/);
    assert.equal(await one(sc, 'SELECT MAX(version) FROM schema_migrations'), String(Number(max) - 1));
  });
});

// ---------------------------------------------------------------------------------------------------
// Rotating the key

test('keys rotate: old sessions, CSRF tokens and API keys keep working, new ones use the new key, audit verifies', async () => {
  await withScratch(async (sc) => {
    let srv = await startServer({ scratch: sc, env: ENV });
    const owner = await signUp(srv, 'o', 'rot@example.test', 'Rita Rotate');
    const ws = await onlyWorkspace(owner);
    const oldKey = await createKey(owner, ws);
    // Mailed links from before the rotation: a password reset and an invitation.
    await signUp(srv, 'r', 'reset@example.test', 'Rosa Reset');
    assert.equal((await srv.post('/api/v1/password/forgot', { email: 'reset@example.test' })).status, 202);
    const resetToken = await mailedToken(srv, 'reset@example.test', 'reset-password');
    const inv = await owner.post(`/api/v1/workspaces/${ws}/invitations`, { emails: ['invitee@example.test'], role: 'member' });
    assert.equal(inv.status, 200, inv.text);
    const invToken = await mailedToken(srv, 'invitee@example.test', 'invitations');
    await srv.stop();
    assert.match(await one(sc, `SELECT token_hash FROM sessions WHERE user_id = ${q(owner.userId)}`), /^[0-9a-f]{64}$/);

    for (const args of [['keys'], ['keys', 'rotate', '--now'], ['keys', 'spin']]) assert.equal((await sc.cli(args)).code, 2, args.join(' '));
    const before = await sc.cli(['keys', 'list']);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /^k1\s.*\sactive$/m);

    const rot = await sc.cli(['keys', 'rotate']);
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stdout, /new active key k2/);
    const k2 = path.join(sc.dataDir, 'keys', 'k2.key');
    assert.equal(fs.statSync(k2).mode & 0o777, 0o600);
    assert.equal(fs.statSync(k2).size, 32);
    assert.ok(fs.existsSync(path.join(sc.dataDir, 'keys', 'hash.key')), 'the old key stays');
    const listed = await sc.cli(['keys', 'list']);
    assert.match(listed.stdout, /^k1\s.*verifies only$/m);
    assert.match(listed.stdout, /^k2\s+\d{4}-\d\d-\d\dT.*\sactive$/m);
    assert.equal(await one(sc, `SELECT value FROM instance_facts WHERE name = 'active_key'`), 'k2');

    srv = await startServer({ scratch: sc, env: ENV, args: ['serve'] });
    /** The signed-in owner from before the rotation (cookie and CSRF token), on the restarted server. */
    const ownerOn = (s) => principal(s, { key: 'o', cookie: owner.cookie, csrf: owner.csrf, user: owner.user });
    try {
      const members = `/api/v1/workspaces/${ws}/members`;
      assert.equal((await ownerOn(srv).get(members)).status, 200, 'the session from before the rotation');
      const bearer = keyPrincipal(srv, 'old', oldKey.secret);
      assert.equal((await bearer.get(members)).status, 200, 'the API key from before the rotation');
      // A write with the CSRF token the page got before the rotation.
      const newKey = await createKey(ownerOn(srv), ws);
      assert.equal((await keyPrincipal(srv, 'new', newKey.secret).get(members)).status, 200);
      const fresh = await signIn(srv, 'f', 'rot@example.test', EXTRA_PASSWORD);
      assert.match(fresh.csrf, /^k2\./);
      assert.equal((await fresh.post(`/api/v1/workspaces/${ws}/api-keys`, { name: 'x', scopes: ['team:read'], owner: 'workspace' })).status, 201);
      assert.match(await one(sc, `SELECT token_hash FROM sessions WHERE id = ${q(fresh.sessionId)}`), /^k2\.[0-9a-f]{64}$/);
      assert.match(await one(sc, `SELECT secret_hash FROM api_keys WHERE id = ${q(newKey.id)}`), /^k2\.[0-9a-f]{64}$/);
      assert.match(await one(sc, `SELECT secret_hash FROM api_keys WHERE id = ${q(oldKey.id)}`), /^[0-9a-f]{64}$/);
      assert.match(await one(sc, `SELECT hash FROM audit_events WHERE workspace_id = ${q(ws)} ORDER BY seq DESC LIMIT 1`), /^k2\./);
      assert.match(await one(sc, `SELECT hash FROM audit_events WHERE workspace_id = ${q(ws)} AND seq = 1`), /^[0-9a-f]{64}$/);
      // The mailed links still open; an invitation made now is stored and sealed under k2.
      assert.equal((await srv.req(`/api/v1/invitations/${invToken}`)).status, 200);
      assert.equal((await srv.post('/api/v1/password/reset', { token: resetToken, password: 'Amber-Falcon-Orchard-5937' })).status, 204);
      const inv2 = await ownerOn(srv).post(`/api/v1/workspaces/${ws}/invitations`, { emails: ['second@example.test'], role: 'member' });
      assert.equal(inv2.status, 200, inv2.text);
      assert.match(
        await one(sc, `SELECT token_hash || ' ' || token_sealed FROM invitations WHERE email = 'second@example.test'`),
        /^k2\.[0-9a-f]{64} k2\./,
      );
      assert.equal((await srv.req(`/api/v1/invitations/${await mailedToken(srv, 'second@example.test', 'invitations')}`)).status, 200);
    } finally {
      await srv.stop();
    }
    const verify = await sc.cli(['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const doctor = await sc.cli(['doctor']);
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    assert.match(doctor.stdout, /active k2/);

    // A second rotation keeps both older keys.
    assert.equal((await sc.cli(['keys', 'rotate'])).code, 0);
    assert.equal((await sc.cli(['audit', 'verify'])).code, 0);
    srv = await startServer({ scratch: sc, env: ENV, args: ['serve'] });
    try {
      assert.equal((await ownerOn(srv).get(`/api/v1/workspaces/${ws}/members`)).status, 200);
      assert.equal((await keyPrincipal(srv, 'old', oldKey.secret).get(`/api/v1/workspaces/${ws}/members`)).status, 200);
    } finally {
      await srv.stop();
    }

    // A rotated key file that is missing: refused, naming the file (never a new key, never "BROKEN").
    fs.renameSync(k2, `${k2}.away`);
    const missing = await sc.cli(['user', 'list']);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /keys\/k2\.key is missing/);
    const doc = await sc.cli(['doctor']);
    assert.equal(check(doc.stdout, 'keys'), 'FAIL', doc.stdout);
    fs.renameSync(`${k2}.away`, k2);
    // A wrong file under that name: refused too.
    fs.copyFileSync(k2, `${k2}.good`);
    fs.writeFileSync(k2, randomBytes(32));
    const wrong = await sc.cli(['user', 'list']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /k2\.key does not belong to this database/);
    fs.renameSync(`${k2}.good`, k2);
    // backup --with-key carries one key: refused after a rotation (SQLite).
    if (sc.backend === 'sqlite') {
      const b = await sc.cli(['backup', path.join(sc.dataDir, '..', 'rot.db'), '--with-key'], {}, { input: 'a long passphrase here\n' });
      assert.equal(b.code, 2, b.stdout + b.stderr);
      assert.match(b.stderr, /rotated/);
    }
  });
});
