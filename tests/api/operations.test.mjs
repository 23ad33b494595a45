// Operating Atrium (issue 13, docs/operations.md): the server key and its fingerprint in the database,
// schema upgrades (only migrate and serve migrate; migrate --status/--dry-run/--to), no database made by
// a mistyped path, backup and restore on SQLite, and the CLI's edges (SIGHUP, stray options, unknown
// ids, the demo in production, the job claimer during a PostgreSQL outage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, makeScratch, repoPath, sqlite, psql, parsedLogs, sleep } from '../lib/server.mjs';

const BACKEND = process.env.ATRIUM_TEST_BACKEND || 'sqlite';
const testOnSqlite = BACKEND === 'sqlite' ? test : () => {};
const testOnPostgres = BACKEND === 'pg' ? test : () => {};
const PASSWORD = 'correct-horse-battery-staple-42\n';

/** A scratch store for the duration of fn. */
async function withScratch(fn) {
  const sc = await makeScratch();
  try {
    return await fn(sc);
  } finally {
    await sc.cleanup();
  }
}

/** A scratch folder for the duration of fn. */
async function withDir(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-ops-'));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The migration versions this binary embeds, ascending. */
function versions() {
  return fs
    .readdirSync(repoPath('src/store/schema'))
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.replace(/\.sql$/, '') }))
    .sort((a, b) => a.version - b.version);
}

async function schemaVersion(sc) {
  return Number(await sc.sql('SELECT COALESCE(MAX(version), 0) FROM schema_migrations'));
}

/** A migrated scratch with one user (whose creation made the key and recorded its fingerprint). */
async function seeded(sc) {
  const m = await sc.cli(['migrate']);
  assert.equal(m.code, 0, m.stderr);
  const u = await sc.cli(['user', 'add', 'op@example.test', '--password-stdin'], {}, { input: PASSWORD });
  assert.equal(u.code, 0, u.stderr);
}

// ---------------------------------------------------------------------------------------------------
// 1. The key

test('a database that holds data is refused without its key, and no new key is made for it', async () => {
  await withScratch(async (sc) => {
    await seeded(sc);
    assert.ok(fs.existsSync(path.join(sc.dataDir, 'keys', 'hash.key')));
    // Another data folder on the same database: a second process, or a restore without keys/.
    await withDir(async (other) => {
      const env = { ATRIUM_DATA_DIR: other };
      for (const args of [['audit', 'verify'], ['user', 'list'], ['serve']]) {
        const r = await sc.cli(args, env, { timeout: 15_000 });
        assert.ok(!r.timedOut, `atrium ${args.join(' ')} kept running`);
        assert.equal(r.code, 2, `atrium ${args.join(' ')} → ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /keys\/hash\.key/, r.stderr);
        assert.match(r.stderr, /restore the keys\/ folder/, r.stderr);
        assert.ok(!/BROKEN/.test(r.stdout), 'reads as tampering');
        assert.ok(!fs.existsSync(path.join(other, 'keys', 'hash.key')), `${args.join(' ')} created a key`);
      }
      // Another key: refused, naming both fingerprints.
      fs.mkdirSync(path.join(other, 'keys'), { mode: 0o700 });
      fs.writeFileSync(path.join(other, 'keys', 'hash.key'), randomBytes(32), { mode: 0o600 });
      for (const args of [['audit', 'verify'], ['serve']]) {
        const r = await sc.cli(args, env, { timeout: 15_000 });
        assert.equal(r.code, 2, `${args.join(' ')} with another key → ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /does not belong to this database/, r.stderr);
        assert.ok(!r.stdout.includes('Atrium is ready'));
      }
      // ATRIUM_SECRET_KEY with another key: the same.
      const r = await sc.cli(['audit', 'verify'], { ATRIUM_SECRET_KEY: randomBytes(32).toString('hex') });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /ATRIUM_SECRET_KEY does not belong/, r.stderr);
      // The right key restored: accepted.
      fs.copyFileSync(path.join(sc.dataDir, 'keys', 'hash.key'), path.join(other, 'keys', 'hash.key'));
      const ok = await sc.cli(['audit', 'verify'], env);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /intact/);
    });
  });
});

test('a fresh database gets a key; a second process with another data folder then refuses', async () => {
  await withScratch(async (sc) => {
    const srv = await startServer({ scratch: sc, env: { ATRIUM_JOB_WORKERS: '0' } });
    try {
      assert.ok(fs.existsSync(path.join(sc.dataDir, 'keys', 'hash.key')), 'no key made for the fresh database');
      assert.equal((await sc.sql("SELECT COUNT(*) FROM instance_facts WHERE name = 'key_fingerprint'")).trim(), '1');
      await withDir(async (other) => {
        const r = await sc.cli(['serve'], { ATRIUM_DATA_DIR: other }, { timeout: 15_000 });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /key is missing/, r.stderr);
        assert.ok(!fs.existsSync(path.join(other, 'keys', 'hash.key')));
      });
    } finally {
      await srv.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// 2. Upgrades

test('on an older schema only migrate and serve migrate; the others say so and exit 2', async () => {
  const all = versions();
  const newest = all[all.length - 1].version;
  const older = all[all.length - 2].version;
  await withScratch(async (sc) => {
    const m = await sc.cli(['migrate', '--to', String(older)]);
    assert.equal(m.code, 0, m.stderr);
    assert.equal(await schemaVersion(sc), older);
    const file = path.join(sc.dataDir, 'pre-upgrade.db');
    const commands = [
      ['backup', file],
      ['user', 'list'],
      ['user', 'add', 'late@example.test', '--password-stdin'],
      ['mail', 'list'],
      ['audit', 'verify'],
      ['billing', 'invoices', 'ws_01J0000000000000000000000'],
      ['demo'],
    ];
    for (const args of commands) {
      const r = await sc.cli(args, {}, { input: PASSWORD });
      assert.equal(r.code, 2, `atrium ${args.join(' ')} → ${r.code}: ${r.stderr}`);
      assert.ok(
        r.stderr.includes(`schema ${older}, binary ${newest}: run atrium migrate`),
        `atrium ${args.join(' ')}: ${r.stderr}`,
      );
      assert.equal(await schemaVersion(sc), older, `atrium ${args.join(' ')} migrated`);
    }
    assert.ok(!fs.existsSync(file), 'backup wrote a file');

    const dry = await sc.cli(['migrate', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(await schemaVersion(sc), older, 'migrate --dry-run applied');
    assert.ok(dry.stdout.includes(`would apply  ${all[all.length - 1].name}`), dry.stdout);
    assert.ok(!dry.stdout.includes(all[0].name), `dry run lists an applied migration:\n${dry.stdout}`);

    const st = await sc.cli(['migrate', '--status']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(await schemaVersion(sc), older);
    assert.match(st.stdout, new RegExp(`applied\\s+${all[0].name}\\s+\\d{4}-\\d\\d-\\d\\dT`), st.stdout);
    assert.match(st.stdout, new RegExp(`pending\\s+${all[all.length - 1].name}`), st.stdout);
    assert.match(st.stdout, new RegExp(`database schema ${older}, binary ${newest}`), st.stdout);

    const back = await sc.cli(['migrate', '--to', String(all[0].version)]);
    assert.equal(back.code, 2, 'migrate --to an older version undid something');
    const bad = await sc.cli(['migrate', '--to', '9998']);
    assert.equal(bad.code, 2, bad.stderr);

    const up = await sc.cli(['migrate']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(await schemaVersion(sc), newest);
    const after = await sc.cli(['migrate', '--status']);
    assert.ok(!/pending/.test(after.stdout), after.stdout);
    const u = await sc.cli(['user', 'list']);
    assert.equal(u.code, 0, u.stderr);
  });
});

test('an upgrade from every earlier schema: migrate --to N, then migrate; the commands work again', async () => {
  const all = versions();
  for (const { version } of all.slice(0, -1)) {
    await withScratch(async (sc) => {
      const m = await sc.cli(['migrate', '--to', String(version)]);
      assert.equal(m.code, 0, m.stderr);
      assert.equal(await schemaVersion(sc), version);
      const up = await sc.cli(['migrate']);
      assert.equal(up.code, 0, `from ${version}: ${up.stderr}`);
      assert.equal(await schemaVersion(sc), all[all.length - 1].version);
      const u = await sc.cli(['user', 'list']);
      assert.equal(u.code, 0, `after the upgrade from ${version}: ${u.stderr}`);
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// 3. A mistyped database path

testOnSqlite('a mistyped SQLite path creates nothing; serve --init and migrate create', async () => {
  await withScratch(async (sc) => {
    const typo = path.join(sc.dataDir, 'tpyo', 'deeper');
    const url = `sqlite:${path.join(typo, 'atrium.db')}`;
    const env = { ATRIUM_DATABASE_URL: url };
    for (const args of [['backup', path.join(sc.dataDir, 'b.db')], ['user', 'list'], ['audit', 'verify'], ['mail', 'list'], ['serve'], ['migrate', '--status'], ['restore', path.join(sc.dataDir, 'nothing.db')]]) {
      const r = await sc.cli(args, env, { timeout: 15_000 });
      assert.ok(!r.timedOut, `${args.join(' ')} kept running`);
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
      assert.ok(!fs.existsSync(path.join(sc.dataDir, 'tpyo')), `${args.join(' ')} created the folder`);
      assert.ok(!r.stdout.includes('backup written'));
    }
    // A mistyped data folder (the database inside it by default) is not created either.
    const dataTypo = path.join(sc.dataDir, 'datta');
    const r = await sc.cli(['user', 'list'], { ATRIUM_DATA_DIR: dataTypo, ATRIUM_DATABASE_URL: `sqlite:${dataTypo}/atrium.db` });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no database at/);
    assert.ok(!fs.existsSync(dataTypo));
    // Asked for explicitly: serve --init creates the database and its folder.
    const srv = await startServer({ scratch: sc, env: { ...env, ATRIUM_JOB_WORKERS: '0' }, args: ['serve', '--init'] });
    try {
      assert.equal((await srv.req('/api/v1/system')).status, 200);
    } finally {
      await srv.stop();
    }
    assert.ok(fs.existsSync(path.join(typo, 'atrium.db')));
    const m = await sc.cli(['migrate'], { ATRIUM_DATABASE_URL: `sqlite:${path.join(sc.dataDir, 'new', 'atrium.db')}` });
    assert.equal(m.code, 0, m.stderr);
  });
});

// ---------------------------------------------------------------------------------------------------
// 4 and 5. Backup and restore (SQLite)

testOnSqlite('atrium backup refuses bad names and the live database; writes 0600 with a checksum; names the key', async () => {
  await withScratch(async (sc) => {
    await seeded(sc);
    const db = sc.databaseUrl.replace(/^sqlite:/, '');
    const before = fs.readdirSync(sc.dataDir).sort();
    for (const args of [['backup', ''], ['backup', '-x'], ['backup', '--with-nothing'], ['backup'], ['backup', 'a', 'b'], ['backup', db], ['backup', sc.dataDir]]) {
      const r = await sc.cli(args);
      assert.equal(r.code, 2, `atrium ${JSON.stringify(args)} → ${r.code}: ${r.stdout} ${r.stderr}`);
      assert.ok(!r.stdout.includes('backup written'), JSON.stringify(args));
      assert.ok(r.stderr.trim(), 'no message');
    }
    const help = await sc.cli(['backup', '--help'], {}, { cwd: sc.dataDir });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /usage: atrium backup FILE/);
    assert.ok(!fs.existsSync(path.join(sc.dataDir, '--help')), 'a file named --help');
    assert.deepEqual(fs.readdirSync(sc.dataDir).sort(), before, 'a refused backup left a file');
    assert.equal(await sqlite(db, 'PRAGMA integrity_check'), 'ok');

    const file = path.join(sc.dataDir, 'nightly.db');
    const r = await sc.cli(['backup', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'backup mode');
    assert.match(r.stdout, /keys\//, `no word about the key: ${r.stdout}`);
    const sum = fs.readFileSync(`${file}.sha256`, 'utf8');
    const hex = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    assert.equal(sum, `${hex}  nightly.db\n`);
    assert.equal(await sqlite(file, "SELECT email FROM users"), 'op@example.test');
    assert.ok(!fs.readdirSync(sc.dataDir).some((f) => f.includes('.tmp-')), 'a temporary file was left');
  });
});

testOnSqlite('atrium restore: a round trip; refused while a server runs; a stale -wal is removed; bad backups refused', async () => {
  await withScratch(async (sc) => {
    const db = sc.databaseUrl.replace(/^sqlite:/, '');
    const file = path.join(sc.dataDir, 'backup.db');
    const srv = await startServer({ scratch: sc, env: { ATRIUM_JOB_WORKERS: '0' } });
    let staleWal;
    try {
      const a = await srv.cli(['user', 'add', 'before@example.test', '--password-stdin'], {}, { input: PASSWORD });
      assert.equal(a.code, 0, a.stderr);
      const b = await srv.cli(['backup', file]);
      assert.equal(b.code, 0, b.stderr);
      const c = await srv.cli(['user', 'add', 'after@example.test', '--password-stdin'], {}, { input: PASSWORD });
      assert.equal(c.code, 0, c.stderr);
      staleWal = fs.existsSync(`${db}-wal`) ? fs.readFileSync(`${db}-wal`) : null;
      const busy = await srv.cli(['restore', file]);
      assert.equal(busy.code, 2, `restore while serving → ${busy.code}: ${busy.stderr}`);
      assert.match(busy.stderr, /in use/, busy.stderr);
    } finally {
      await srv.stop();
    }
    assert.match(await sqlite(db, 'SELECT group_concat(email) FROM users'), /after@example\.test/);
    // The hand-made restore's trap: the old database's WAL still beside it.
    if (staleWal) fs.writeFileSync(`${db}-wal`, staleWal);
    const r = await sc.cli(['restore', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!fs.existsSync(`${db}-wal`) || fs.statSync(`${db}-wal`).size === 0, 'the stale -wal is still there');
    assert.equal(await sqlite(db, 'PRAGMA integrity_check'), 'ok');
    assert.equal(await sqlite(db, 'SELECT group_concat(email) FROM users'), 'before@example.test');
    const v = await sc.cli(['audit', 'verify']);
    assert.equal(v.code, 0, v.stderr);
    const srv2 = await startServer({ scratch: sc, env: { ATRIUM_JOB_WORKERS: '0' }, args: ['serve'] });
    try {
      assert.equal((await srv2.req('/api/v1/system')).status, 200);
    } finally {
      await srv2.stop();
    }

    const restoredBefore = fs.readFileSync(db);
    // A damaged backup: the checksum says so.
    const damaged = path.join(sc.dataDir, 'damaged.db');
    fs.copyFileSync(file, damaged);
    fs.copyFileSync(`${file}.sha256`, `${damaged}.sha256`);
    fs.appendFileSync(damaged, 'x');
    let bad = await sc.cli(['restore', damaged]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /checksum/);
    // Without a checksum file: SQLite's integrity check.
    const garbage = path.join(sc.dataDir, 'garbage.db');
    fs.writeFileSync(garbage, randomBytes(8192));
    bad = await sc.cli(['restore', garbage]);
    assert.equal(bad.code, 2, bad.stderr);
    // Another installation's backup: its key fingerprint differs.
    await withScratch(async (other) => {
      await seeded(other);
      const foreign = path.join(sc.dataDir, 'foreign.db');
      const f = await other.cli(['backup', foreign]);
      assert.equal(f.code, 0, f.stderr);
      bad = await sc.cli(['restore', foreign]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /does not belong/);
    });
    assert.deepEqual(fs.readFileSync(db), restoredBefore, 'a refused restore changed the database');
    assert.ok(!fs.readdirSync(sc.dataDir).some((n) => n.includes('.restore-')), 'a temporary copy was left');
  });
});

testOnPostgres('pg_dump and pg_restore round trip (docs/operations.md), with the key', async () => {
  const admin = process.env.ATRIUM_TEST_PG_URL;
  await withScratch(async (sc) => {
    await seeded(sc);
    const dump = path.join(sc.dataDir, 'atrium.dump');
    const d = spawnSync('pg_dump', ['-Fc', '-f', dump, sc.databaseUrl], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(d.status, 0, d.stderr);
    const name = `atrium_restored_${process.pid}_${Date.now().toString(36)}`;
    await psql(admin, `CREATE DATABASE "${name}"`);
    try {
      const u = new URL(admin);
      u.pathname = '/' + name;
      const r = spawnSync('pg_restore', ['--no-owner', '-d', u.href, dump], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      const env = { ATRIUM_DATABASE_URL: u.href };
      const v = await sc.cli(['audit', 'verify'], env);
      assert.equal(v.code, 0, v.stderr);
      const l = await sc.cli(['user', 'list'], env);
      assert.match(l.stdout, /op@example\.test/);
      await withDir(async (other) => {
        const nokey = await sc.cli(['audit', 'verify'], { ...env, ATRIUM_DATA_DIR: other });
        assert.equal(nokey.code, 2, 'the restored database accepted a data folder without its key');
      });
    } finally {
      await psql(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  });
});

testOnSqlite('backup --with-key seals the key with a passphrase; restore --with-key installs it where there is none', async () => {
  await withScratch(async (sc) => {
    await seeded(sc);
    const file = path.join(sc.dataDir, 'offsite.db');
    const pass = 'a passphrase kept elsewhere\n';
    const short = await sc.cli(['backup', file, '--with-key'], {}, { input: 'short\n' });
    assert.equal(short.code, 2, short.stderr);
    assert.ok(!fs.existsSync(file), 'a backup was written without its key');
    const b = await sc.cli(['backup', file, '--with-key'], {}, { input: pass });
    assert.equal(b.code, 0, b.stderr);
    assert.equal(fs.statSync(`${file}.key`).mode & 0o777, 0o600);
    const key = fs.readFileSync(path.join(sc.dataDir, 'keys', 'hash.key'));
    const sealed = fs.readFileSync(`${file}.key`);
    assert.ok(!sealed.includes(key) && !sealed.includes(Buffer.from(key.toString('hex'))), 'the key is in clear');
    await withDir(async (other) => {
      const env = { ATRIUM_DATA_DIR: other, ATRIUM_DATABASE_URL: `sqlite:${path.join(other, 'atrium.db')}` };
      const nokey = await sc.cli(['restore', file], env);
      assert.equal(nokey.code, 2, nokey.stderr);
      assert.match(nokey.stderr, /key is missing/);
      const wrong = await sc.cli(['restore', file, '--with-key'], env, { input: 'not the passphrase at all\n' });
      assert.equal(wrong.code, 2, wrong.stderr);
      assert.ok(!fs.existsSync(path.join(other, 'atrium.db')) && !fs.existsSync(path.join(other, 'keys', 'hash.key')));
      const r = await sc.cli(['restore', file, '--with-key'], env, { input: pass });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(fs.readFileSync(path.join(other, 'keys', 'hash.key')), key);
      assert.equal(fs.statSync(path.join(other, 'keys', 'hash.key')).mode & 0o777, 0o600);
      const v = await sc.cli(['audit', 'verify'], env);
      assert.equal(v.code, 0, v.stderr);
      const again = await sc.cli(['restore', file, '--with-key'], env, { input: pass });
      assert.equal(again.code, 2, 'restore --with-key replaced an existing key');
    });
  });
});

testOnPostgres('atrium restore on PostgreSQL points to pg_restore', async () => {
  await withScratch(async (sc) => {
    const file = path.join(sc.dataDir, 'x.db');
    fs.writeFileSync(file, 'x');
    const r = await sc.cli(['restore', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /pg_restore/);
  });
});

// ---------------------------------------------------------------------------------------------------
// 8. Signals and CLI edges

test('SIGHUP drains and stops the server as SIGTERM does', async () => {
  const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
  assert.equal((await srv.req('/healthz')).status, 200);
  const code = await srv.stop('SIGHUP');
  assert.equal(code, 0, `exit after SIGHUP: ${code}\n${srv.logs.join('\n')}`);
  assert.ok(parsedLogs(srv.logs).some((l) => l.msg === 'stopped'), `no "stopped" log:\n${srv.logs.join('\n')}`);
});

test('user add --password-stdin with nothing on standard input exits 2 with a message', async () => {
  await withScratch(async (sc) => {
    await seeded(sc);
    for (const args of [['user', 'add', 'x@example.test', '--password-stdin'], ['user', 'set-password', 'op@example.test', '--password-stdin']]) {
      const r = await sc.cli(args, {}, { input: '' });
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, /standard input/, r.stderr);
    }
    assert.equal(await sc.sql("SELECT COUNT(*) FROM users WHERE email = 'x@example.test'"), '0');
  });
});

test('options that belong to another user subcommand are refused', async () => {
  await withScratch(async (sc) => {
    await seeded(sc);
    const hash = await sc.sql("SELECT password_hash FROM users WHERE email = 'op@example.test'");
    const cases = [
      ['user', 'set-password', 'op@example.test', '--name', 'x'],
      ['user', 'set-password', 'op@example.test', '--developer'],
      ['user', 'disable', 'op@example.test', '--password-stdin'],
      ['user', 'grant-developer', 'op@example.test', '--name', 'y'],
      ['user', 'list', '--developer'],
    ];
    for (const args of cases) {
      const r = await sc.cli(args, {}, { input: PASSWORD });
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stdout}`);
      assert.ok(r.stderr.trim(), 'no message');
    }
    assert.equal(await sc.sql("SELECT password_hash FROM users WHERE email = 'op@example.test'"), hash);
    assert.equal(await sc.sql("SELECT disabled || '/' || developer FROM users WHERE email = 'op@example.test'"), '0/0');
  });
});

test('audit verify with an unknown workspace id exits 2 "no such workspace"', async () => {
  await withScratch(async (sc) => {
    await seeded(sc);
    const r = await sc.cli(['audit', 'verify', 'ws_nonexistent']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /no such workspace/);
    assert.ok(!/intact/.test(r.stdout));
  });
});

test('atrium demo refuses outside development and test unless --force', async () => {
  await withScratch(async (sc) => {
    const r = await sc.cli(['demo'], { ATRIUM_ENV: 'production' });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /production/);
    assert.ok(!r.stdout.includes('acme-owner-demo'), 'printed the demo passwords');
    if (sc.backend === 'sqlite') assert.ok(!fs.existsSync(sc.databaseUrl.replace(/^sqlite:/, '')), 'made a database');
    const forced = await sc.cli(['demo', '--force'], { ATRIUM_ENV: 'production' });
    assert.equal(forced.code, 0, forced.stderr);
    const dev = await sc.cli(['demo'], { ATRIUM_ENV: 'development' });
    assert.equal(dev.code, 0, dev.stderr);
  });
});

testOnPostgres('the job claimer backs off during a PostgreSQL outage and logs its start and end once', async () => {
  const admin = process.env.ATRIUM_TEST_PG_URL;
  await withScratch(async (sc) => {
    const db = new URL(sc.databaseUrl).pathname.slice(1);
    const srv = await startServer({ scratch: sc, env: { ATRIUM_JOB_WORKERS: '4', ATRIUM_JOB_POLL_MS: '50' } });
    try {
      const from = srv.logs.length;
      await psql(admin, `ALTER DATABASE "${db}" ALLOW_CONNECTIONS false`);
      await psql(admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}'`);
      await sleep(3000);
      const during = srv.logs.slice(from);
      await psql(admin, `ALTER DATABASE "${db}" ALLOW_CONNECTIONS true`);
      // Before the back-off: 4 workers polling every 50 ms logged two lines per failed claim.
      assert.ok(during.length <= 40, `${during.length} log lines in 3 s of outage:\n${during.slice(0, 20).join('\n')}`);
      const starts = parsedLogs(during).filter((l) => /cannot claim jobs/.test(l.msg || ''));
      assert.equal(starts.length, 1, `outage start logged ${starts.length} times`);
      await srv.waitForLog((l) => /claiming resumes/.test(l.msg || ''), 40_000);
    } finally {
      await psql(admin, `ALTER DATABASE "${db}" ALLOW_CONNECTIONS true`).catch(() => {});
      await srv.stop();
    }
  });
});
