// Settings checked at start (issue 13, item 7): URLs, the From address, the Stripe settings, the
// listen host and the trusted proxies stop `serve` with exit 2 naming the setting, before the database
// is touched; misspelled ATRIUM_* variables are warned about; no error prints the database password;
// `atrium config check`; secrets from X_FILE and systemd credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeScratch } from '../lib/server.mjs';

/** A scratch store (and a scratch folder for secret files) for the duration of fn. */
async function withScratch(fn) {
  const sc = await makeScratch();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-secrets-'));
  try {
    return await fn(sc, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await sc.cleanup();
  }
}

/** Whether the scratch's SQLite database file exists (PG: always reported as absent). */
function sqliteExists(sc) {
  return sc.backend === 'sqlite' && fs.existsSync(sc.databaseUrl.replace(/^sqlite:/, ''));
}

test('bad settings stop serve (and config check) with exit 2 naming the setting, before the database is created', async () => {
  await withScratch(async (sc) => {
    const cases = [
      { ATRIUM_SMTP_URL: 'garbage' },
      { ATRIUM_SMTP_URL: 'smtp://' },
      { ATRIUM_SMTP_URL: 'http://mail.example.com' },
      { ATRIUM_SMTP_URL: 'smtp://user:pw@mail.example.com:587' },
      { ATRIUM_PUBLIC_URL: 'not-a-url' },
      { ATRIUM_PUBLIC_URL: 'https://' },
      { ATRIUM_PUBLIC_ORIGIN: 'atrium.example.com' },
      { ATRIUM_MAIL_FROM: 'no brackets' },
      { ATRIUM_MAIL_FROM: 'Atrium <atrium@localhost>' },
      { ATRIUM_MAIL_FROM: 'Atrium <ops@example.com' },
      { ATRIUM_STRIPE_API_BASE: 'ftp://x' },
      { ATRIUM_BILLING_PROVIDER: 'stripe' }, // without a secret key
      { ATRIUM_BILLING_PROVIDER: 'paypal' },
      { ATRIUM_TRUSTED_PROXIES: '10.0.0.1/8' },
      { ATRIUM_TRUSTED_PROXIES: 'proxy.example.com' },
      { ATRIUM_METRICS_LISTEN: 'nonsense' },
      { ATRIUM_LISTEN: 'no-such-host.invalid:0' },
    ];
    for (const env of cases) {
      const [name] = Object.keys(env);
      const what = `${name}=${env[name]}`;
      const named = name === 'ATRIUM_BILLING_PROVIDER' && env[name] === 'stripe' ? 'ATRIUM_STRIPE_SECRET_KEY' : name;
      for (const cmd of [['serve', '--init'], ['config', 'check']]) {
        const r = await sc.cli(cmd, env, { timeout: 20_000 });
        assert.ok(!r.timedOut, `${what} atrium ${cmd.join(' ')}: still running`);
        assert.equal(r.code, 2, `${what} atrium ${cmd.join(' ')} → ${r.code}; stderr: ${r.stderr}`);
        assert.ok(r.stderr.includes(named), `${what}: stderr does not name ${named}: ${r.stderr}`);
        assert.ok(!r.stdout.includes('Atrium is ready'));
      }
      assert.ok(!sqliteExists(sc), `${what}: the database was created anyway`);
    }
    // Acceptable forms pass.
    const good = {
      ATRIUM_SMTP_URL: 'smtps://mail.example.com:465',
      ATRIUM_PUBLIC_URL: 'https://atrium.example.com/base',
      ATRIUM_PUBLIC_ORIGIN: 'https://atrium.example.com',
      ATRIUM_MAIL_FROM: '"Atrium, the team" <team@example.com>',
      ATRIUM_STRIPE_API_BASE: 'http://127.0.0.1:12111',
      ATRIUM_TRUSTED_PROXIES: '127.0.0.1/32, 10.0.0.0/8 ::1',
      ATRIUM_METRICS_LISTEN: '127.0.0.1:9090',
    };
    const r = await sc.cli(['config', 'check'], good);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('ATRIUM_MAIL_FROM="Atrium, the team" <team@example.com>'), r.stdout);
  });
});

test('a misspelled ATRIUM_* variable is warned about, naming the closest setting', async () => {
  await withScratch(async (sc) => {
    const r = await sc.cli(['config', 'check'], { ATRIUM_SINGUP: 'true', ATRIUM_SMTP_PASSWORD_FILE: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ATRIUM_SINGUP is not a setting.*ATRIUM_SIGNUP/);
    assert.ok(!r.stderr.includes('ATRIUM_SMTP_PASSWORD_FILE is not'), 'X_FILE of a secret is a known name');
    const s = await sc.cli(['serve', '--init'], { ATRIUM_SINGUP: 'true', ATRIUM_LISTEN: 'no-such-host.invalid:0' });
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /ATRIUM_SINGUP is not a setting.*ATRIUM_SIGNUP/);
  });
});

test('no error message and no config check prints the database password', async () => {
  await withScratch(async (sc) => {
    const secret = 'hunter2-Secret-Pw';
    for (const url of [
      `mysql://admin:${secret}@db.example.com/atrium`,
      `postgres://admin:${secret}@[::1/atrium`,
      `postgres://admin:${secret}@127.0.0.1:1/atrium?connect_timeout=2`,
      `postgres://admin@127.0.0.1:1/atrium?password=${secret}&connect_timeout=2`,
    ]) {
      const r = await sc.cli(['user', 'list'], { ATRIUM_DATABASE_URL: url }, { timeout: 20_000 });
      assert.notEqual(r.code, 0, url);
      assert.ok(r.stderr.includes('ATRIUM_DATABASE_URL') || r.stderr.includes('database'), r.stderr);
      assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), `the password is printed: ${r.stderr}`);
    }
    const c = await sc.cli(['config', 'check'], { ATRIUM_DATABASE_URL: `postgres://admin:${secret}@db.example.com/atrium` });
    assert.equal(c.code, 0, c.stderr);
    assert.ok(c.stdout.includes('ATRIUM_DATABASE_URL=postgres://admin:***@db.example.com/atrium'), c.stdout);
    assert.ok(!c.stdout.includes(secret));
  });
});

test('config check prints the effective configuration with every secret hidden', async () => {
  await withScratch(async (sc) => {
    const secrets = {
      ATRIUM_SMTP_PASSWORD: 'smtp-Secret-111',
      ATRIUM_STRIPE_SECRET_KEY: 'sk_test_Secret222',
      ATRIUM_STRIPE_WEBHOOK_SECRETS: 'whsec_Secret333',
      ATRIUM_METRICS_TOKEN: 'metrics-Secret444',
      ATRIUM_SECRET_KEY: 'ab'.repeat(32),
    };
    const r = await sc.cli(['config', 'check'], { ...secrets, ATRIUM_BILLING_PROVIDER: 'stripe', ATRIUM_SMTP_USERNAME: 'mailer' });
    assert.equal(r.code, 0, r.stderr);
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(r.stdout.includes(`${name}=(set, hidden)`), `${name}: ${r.stdout}`);
      assert.ok(!r.stdout.includes(value) && !r.stderr.includes(value), `${name} is printed`);
    }
    assert.ok(r.stdout.includes('ATRIUM_SMTP_USERNAME=mailer'));
    assert.ok(r.stdout.includes('ATRIUM_BILLING_PROVIDER=stripe'));
    assert.match(r.stdout, /configuration OK/);
  });
});

test('secrets from X_FILE (trailing newline stripped) and from systemd credentials; X and X_FILE together: exit 2', async () => {
  await withScratch(async (sc, dir) => {
    const file = path.join(dir, 'stripe');
    fs.writeFileSync(file, 'sk_test_fromfile\n', { mode: 0o600 });
    // The provider needs its secret: given only through the file, the check passes.
    let r = await sc.cli(['config', 'check'], { ATRIUM_BILLING_PROVIDER: 'stripe', ATRIUM_STRIPE_SECRET_KEY_FILE: file });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('ATRIUM_STRIPE_SECRET_KEY=(set, hidden)'), r.stdout);
    // A 64-hex server key from a file with a newline is accepted as the key (a newline kept would not be hex).
    const keyFile = path.join(dir, 'key');
    fs.writeFileSync(keyFile, `${'cd'.repeat(32)}\n`, { mode: 0o600 });
    r = await sc.cli(['migrate'], { ATRIUM_SECRET_KEY_FILE: keyFile });
    assert.equal(r.code, 0, r.stderr);
    r = await sc.cli(['user', 'list'], { ATRIUM_SECRET_KEY_FILE: keyFile });
    assert.equal(r.code, 0, r.stderr);
    // Both set: exit 2 naming both.
    r = await sc.cli(['config', 'check'], { ATRIUM_STRIPE_SECRET_KEY: 'sk_x', ATRIUM_STRIPE_SECRET_KEY_FILE: file });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes('ATRIUM_STRIPE_SECRET_KEY_FILE'), r.stderr);
    // A missing file: exit 2 naming the variable.
    r = await sc.cli(['config', 'check'], { ATRIUM_SMTP_PASSWORD_FILE: path.join(dir, 'absent') });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes('ATRIUM_SMTP_PASSWORD_FILE'), r.stderr);
    // systemd credentials: $CREDENTIALS_DIRECTORY/ATRIUM_STRIPE_SECRET_KEY, used when neither is set.
    const creds = path.join(dir, 'creds');
    fs.mkdirSync(creds);
    fs.writeFileSync(path.join(creds, 'ATRIUM_STRIPE_SECRET_KEY'), 'sk_test_credential\n', { mode: 0o600 });
    r = await sc.cli(['config', 'check'], { ATRIUM_BILLING_PROVIDER: 'stripe', CREDENTIALS_DIRECTORY: creds });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('ATRIUM_STRIPE_SECRET_KEY=(set, hidden)'), r.stdout);
    r = await sc.cli(['config', 'check'], { ATRIUM_BILLING_PROVIDER: 'stripe', CREDENTIALS_DIRECTORY: dir });
    assert.equal(r.code, 2, `no credential file: ${r.stderr}`);
  });
});

test('values have no fixed length limit', async () => {
  await withScratch(async (sc) => {
    const long = `https://atrium.example.com/${'a'.repeat(3000)}`;
    const r = await sc.cli(['config', 'check'], { ATRIUM_PUBLIC_URL: long });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`ATRIUM_PUBLIC_URL=${long}\n`));
  });
});
