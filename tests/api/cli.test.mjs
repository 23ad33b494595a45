// The CLI and configuration: version/help/unknown commands, bad settings, config files, migrate,
// a database newer than the binary, backup, the production durability guard, generated docs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, makeScratch, repoPath, sqlite, psql } from '../lib/server.mjs';

const BACKEND = process.env.ATRIUM_TEST_BACKEND || 'sqlite';
// Tests about PostgreSQL itself exist in the suite's PostgreSQL pass only (make test runs both passes).
const testOnPostgres = BACKEND === 'pg' ? test : () => {};

/** A scratch store for the duration of fn. */
async function withScratch(fn) {
  const sc = await makeScratch();
  try {
    return await fn(sc);
  } finally {
    await sc.cleanup();
  }
}

function migrationCount() {
  const dir = repoPath('src/store/schema');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^\d{4}_.+\.sql$/.test(f)).length : 1;
}

/** Inserts schema_migrations version 9999, filling whatever other NOT NULL columns the table has. */
async function insertFutureVersion(sc) {
  let cols; // [{name, type, notnull, hasDefault}]
  if (sc.backend === 'pg') {
    const out = await sc.sql(
      "SELECT column_name || '|' || data_type || '|' || is_nullable || '|' || coalesce(column_default, '') " +
        "FROM information_schema.columns WHERE table_name = 'schema_migrations' AND table_schema = current_schema()",
    );
    cols = out.split('\n').filter(Boolean).map((l) => {
      const [name, type, nullable, def] = l.split('|');
      return { name, type, notnull: nullable === 'NO', hasDefault: def !== '' };
    });
  } else {
    const out = await sc.sql("SELECT name || '|' || type || '|' || \"notnull\" || '|' || coalesce(dflt_value, '') FROM pragma_table_info('schema_migrations')");
    cols = out.split('\n').filter(Boolean).map((l) => {
      const [name, type, notnull, def] = l.split('|');
      return { name, type, notnull: notnull === '1', hasDefault: def !== '' };
    });
  }
  assert.ok(cols.some((c) => c.name === 'version'), `schema_migrations columns: ${JSON.stringify(cols)}`);
  const names = ['version'];
  const values = ['9999'];
  for (const c of cols) {
    if (c.name === 'version' || !c.notnull || c.hasDefault) continue;
    names.push(c.name);
    values.push(/int|real|double|numeric|float/i.test(c.type) ? String(Date.now() * 1000) : "'9999_from_the_future'");
  }
  await sc.sql(`INSERT INTO schema_migrations (${names.join(', ')}) VALUES (${values.join(', ')})`);
}

test('atrium version: exit 0 and a version', async () => {
  await withScratch(async (sc) => {
    const r = await sc.cli(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\d+\.\d+|[0-9a-f]{7}/, `version output ${JSON.stringify(r.stdout)}`);
  });
});

test('atrium help: exit 0 and the command list', async () => {
  await withScratch(async (sc) => {
    const r = await sc.cli(['help']);
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ['serve', 'migrate', 'backup', 'restore', 'version', 'config']) {
      assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`), `help does not mention ${cmd}:\n${r.stdout}`);
    }
  });
});

test('an unknown command exits 2 with a message', async () => {
  await withScratch(async (sc) => {
    for (const args of [['frobnicate'], ['frobnicate', '--now']]) {
      const r = await sc.cli(args, {}, { timeout: 10_000 });
      assert.ok(!r.timedOut, `atrium ${args.join(' ')} kept running`);
      assert.equal(r.code, 2, `atrium ${args.join(' ')} → ${r.code}`);
      assert.ok(r.stderr.trim().length > 0, 'no message on stderr');
    }
  });
});

test('bad settings: exit 2 with a message naming the setting', async () => {
  await withScratch(async (sc) => {
    const cases = [
      { ATRIUM_LISTEN: 'nonsense' },
      { ATRIUM_LISTEN: '127.0.0.1:99999' },
      { ATRIUM_MAX_BODY_BYTES: '-1' },
      { ATRIUM_MAX_BODY_BYTES: '12abc' },
      { ATRIUM_DATABASE_URL: 'mysql://x' },
      { ATRIUM_ENV: 'staging' },
      { ATRIUM_JOB_WORKERS: 'two' },
      { ATRIUM_LOG_LEVEL: 'loud' },
      { ATRIUM_SIGNUP: 'maybe' },
    ];
    for (const env of cases) {
      const [name] = Object.keys(env);
      for (const cmd of [['serve'], ['migrate']]) {
        const r = await sc.cli(cmd, env, { timeout: 10_000 });
        assert.ok(!r.timedOut, `${name}=${env[name]} atrium ${cmd}: still running`);
        assert.equal(r.code, 2, `${name}=${env[name]} atrium ${cmd} → ${r.code}; stderr: ${r.stderr}`);
        assert.ok(r.stderr.includes(name), `${name}=${env[name]}: stderr does not name it: ${r.stderr}`);
        assert.ok(!r.stdout.includes('Atrium is ready'));
      }
    }
  });
});

test('a config file sets values; the environment overrides it', async () => {
  await withScratch(async (sc) => {
    const ini = path.join(sc.dataDir, 'atrium.ini');
    fs.writeFileSync(ini, '# Atrium test config\nlisten = 127.0.0.1:0\njob_workers = 0\nmax_body_bytes = 2048\n');
    const srv = await startServer({ scratch: sc, env: { ATRIUM_CONFIG: ini, ATRIUM_LISTEN: undefined } });
    try {
      const body = JSON.stringify({ kind: 'test.noop', dedupe_key: 'x'.repeat(3000) });
      const r = await srv.post('/api/v1/test/jobs', body);
      assert.equal(r.status, 413, `max_body_bytes from the file: ${r.status} ${r.text.slice(0, 200)}`);
    } finally {
      await srv.stop();
    }
    const srv2 = await startServer({
      scratch: sc,
      env: { ATRIUM_CONFIG: ini, ATRIUM_LISTEN: undefined, ATRIUM_MAX_BODY_BYTES: '8192' },
    });
    try {
      const body = JSON.stringify({ kind: 'test.noop', dedupe_key: 'x'.repeat(3000) });
      const r = await srv2.post('/api/v1/test/jobs', body);
      assert.equal(r.status, 400, `the environment overrides the file: ${r.status} ${r.text.slice(0, 200)}`);
    } finally {
      await srv2.stop();
    }
  });
});

test('a config file with an unknown key, a bad value or a missing file: exit 2 naming it', async () => {
  await withScratch(async (sc) => {
    const ini = path.join(sc.dataDir, 'bad.ini');
    fs.writeFileSync(ini, 'listen = 127.0.0.1:0\ncolour = blue\n');
    let r = await sc.cli(['serve'], { ATRIUM_CONFIG: ini }, { timeout: 10_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes('colour'), r.stderr);
    fs.writeFileSync(ini, 'listen = 127.0.0.1:0\nmax_body_bytes = lots\n');
    r = await sc.cli(['serve'], { ATRIUM_CONFIG: ini }, { timeout: 10_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /MAX_BODY_BYTES|max_body_bytes/, r.stderr);
    r = await sc.cli(['serve'], { ATRIUM_CONFIG: path.join(sc.dataDir, 'missing.ini') }, { timeout: 10_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes('ATRIUM_CONFIG'), r.stderr);
  });
});

test('atrium migrate applies every migration once; the second run is a no-op', async () => {
  await withScratch(async (sc) => {
    const r1 = await sc.cli(['migrate']);
    assert.equal(r1.code, 0, r1.stderr);
    const rows1 = await sc.sql('SELECT version, name, applied_at FROM schema_migrations ORDER BY version');
    assert.equal(rows1.split('\n').filter(Boolean).length, migrationCount(), rows1);
    const r2 = await sc.cli(['migrate']);
    assert.equal(r2.code, 0, r2.stderr);
    const rows2 = await sc.sql('SELECT version, name, applied_at FROM schema_migrations ORDER BY version');
    assert.equal(rows2, rows1, 'the second migrate changed schema_migrations');
    // The server starts on the migrated store and reports the same schema.
    const srv = await startServer({ scratch: sc });
    try {
      const s = await srv.req('/api/v1/system');
      assert.equal(s.status, 200);
      assert.equal(String(s.body.schema.version), rows1.split('\n').filter(Boolean).pop().split('|')[0]);
    } finally {
      await srv.stop();
    }
    assert.equal(await sc.sql('SELECT version, name, applied_at FROM schema_migrations ORDER BY version'), rows1);
  });
});

test('a database newer than the binary: serve and migrate refuse', async () => {
  await withScratch(async (sc) => {
    const m = await sc.cli(['migrate']);
    assert.equal(m.code, 0, m.stderr);
    await insertFutureVersion(sc);
    const r1 = await sc.cli(['migrate'], {}, { timeout: 15_000 });
    assert.notEqual(r1.code, 0, 'migrate accepted a newer database');
    assert.ok(r1.stderr.includes('newer than this binary'), r1.stderr);
    const r2 = await sc.cli(['serve'], {}, { timeout: 15_000 });
    assert.ok(!r2.timedOut, 'serve kept running on a newer database');
    assert.notEqual(r2.code, 0);
    assert.ok(r2.stderr.includes('newer than this binary'), r2.stderr);
    assert.ok(!r2.stdout.includes('Atrium is ready'));
  });
});

test('atrium backup FILE', async () => {
  await withScratch(async (sc) => {
    const file = path.join(sc.dataDir, 'backup.db');
    if (sc.backend === 'pg') {
      const m = await sc.cli(['migrate']);
      assert.equal(m.code, 0, m.stderr);
      const r = await sc.cli(['backup', file]);
      assert.notEqual(r.code, 0, 'backup on PostgreSQL should refuse');
      assert.ok(r.stderr.includes('pg_dump'), `no pg_dump advice: ${r.stderr}`);
      return;
    }
    // SQLite: an online backup while the server runs and has written a job.
    const srv = await startServer({ scratch: sc, env: { ATRIUM_JOB_WORKERS: '0' } });
    try {
      const j = await srv.post('/api/v1/test/jobs', { kind: 'test.noop', dedupe_key: 'in-the-backup' });
      assert.equal(j.status, 201, j.text);
      const r = await srv.cli(['backup', file]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await srv.stop();
    }
    assert.ok(fs.existsSync(file), 'no backup file');
    assert.equal(await sqlite(file, 'PRAGMA integrity_check'), 'ok');
    const src = sc.databaseUrl.replace(/^sqlite:/, '');
    const q = 'SELECT version, name FROM schema_migrations ORDER BY version';
    assert.equal(await sqlite(file, q), await sqlite(src, q));
    assert.equal(await sqlite(file, "SELECT count(*) FROM jobs WHERE dedupe_key = 'in-the-backup'"), '1');
    // The copy is a working store, with the key it was made under (docs/operations.md).
    const sc2 = await makeScratch({ backend: 'sqlite' });
    try {
      fs.copyFileSync(file, path.join(sc2.dataDir, 'atrium.db'));
      fs.cpSync(path.join(sc.dataDir, 'keys'), path.join(sc2.dataDir, 'keys'), { recursive: true });
      const srv2 = await startServer({ scratch: sc2 });
      try {
        assert.equal((await srv2.req('/api/v1/system')).status, 200);
      } finally {
        await srv2.stop();
      }
    } finally {
      await sc2.cleanup();
    }
  });
});

testOnPostgres('production mode refuses a PostgreSQL without fsync', async () => {
  const fsync = await psql(process.env.ATRIUM_TEST_PG_URL, 'SHOW fsync');
  assert.equal(fsync, 'off', 'the test PostgreSQL is expected to run with fsync off (scripts/pg.sh --fast)');
  await withScratch(async (sc) => {
    const r = await sc.cli(['serve'], { ATRIUM_ENV: 'production' }, { timeout: 15_000 });
    assert.ok(!r.timedOut, 'production serve started on an unsafe PostgreSQL');
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes('fsync'), r.stderr);
    assert.ok(!r.stdout.includes('Atrium is ready'));
  });
});

test('atrium config docs equals the committed docs/configuration.md', async () => {
  await withScratch(async (sc) => {
    const r = await sc.cli(['config', 'docs']);
    assert.equal(r.code, 0, r.stderr);
    const file = repoPath('docs/configuration.md');
    assert.ok(fs.existsSync(file), 'docs/configuration.md is missing: run `make docs`');
    assert.equal(r.stdout, fs.readFileSync(file, 'utf8'), 'docs/configuration.md is stale: run `make docs`');
  });
});
