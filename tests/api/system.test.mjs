// System routes: liveness, readiness, the store-backed summary and Prometheus metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, repoPath, RFC3339, psql, problemOf, parseMetrics, sleep } from '../lib/server.mjs';

const BACKEND = process.env.ATRIUM_TEST_BACKEND || 'sqlite';
// Tests about PostgreSQL itself exist in the suite's PostgreSQL pass only (make test runs both passes).
const testOnPostgres = BACKEND === 'pg' ? test : () => {};

/** The newest embedded migration, from the files the binary embeds. */
function latestMigration() {
  const dir = repoPath('src/store/schema');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort() : [];
  if (!files.length) return { version: 1, name: '0001_core' };
  const last = files[files.length - 1];
  return { version: Number(last.slice(0, 4)), name: last.replace(/\.sql$/, '') };
}

let srv;
before(async () => {
  srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
});
after(async () => {
  await srv?.stop();
});

test('GET /healthz answers 200 {"status":"ok"} as JSON', async () => {
  const r = await srv.req('/healthz');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.deepEqual(r.body, { status: 'ok' });
});

test('GET /readyz answers 200 {"status":"ready"} while the store answers', async () => {
  const r = await srv.req('/readyz');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.deepEqual(r.body, { status: 'ready' });
});

test('GET /api/v1/system reports name, version, store, newest schema row and time', async () => {
  const r = await srv.req('/api/v1/system');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  const b = r.body;
  assert.deepEqual(Object.keys(b).sort(), ['name', 'schema', 'store', 'time', 'version']);
  assert.equal(b.name, 'atrium');
  assert.equal(typeof b.version, 'string');
  assert.ok(b.version.length > 0);
  assert.equal(b.store, BACKEND === 'pg' ? 'postgres' : 'sqlite');
  const want = latestMigration();
  assert.equal(b.schema.version, want.version);
  assert.equal(b.schema.name, want.name);
  assert.match(b.schema.applied_at, RFC3339);
  assert.match(b.time, RFC3339);
  // Test mode starts the program clock at the real time; the migration ran just now.
  assert.ok(Math.abs(Date.parse(b.time) - Date.now()) < 60_000, `time ${b.time} is not now`);
  assert.ok(Math.abs(Date.parse(b.schema.applied_at) - Date.now()) < 120_000, `applied_at ${b.schema.applied_at}`);
  // The CLI and the API agree on the version.
  const v = await srv.cli(['version']);
  assert.equal(v.code, 0, v.stderr);
  assert.ok(v.stdout.includes(b.version), `'atrium version' printed ${JSON.stringify(v.stdout)}, API says ${b.version}`);
});

test('GET /metrics is Prometheus text with every documented family', async () => {
  await srv.req('/api/v1/system');
  const res = await srv.fetch('/metrics');
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const ct = res.headers.get('content-type') || '';
  assert.match(ct, /^text\/plain/);
  assert.match(ct, /version=0\.0\.4/);
  const m = parseMetrics(text);
  const bad = m.samples.filter((s) => !s.name);
  assert.deepEqual(bad, [], 'every non-comment line is a sample');
  for (const s of m.samples) assert.ok(Number.isFinite(s.value) || s.value === Infinity, `${s.name} = ${s.value}`);

  const families = {
    atrium_http_requests_total: 'counter',
    atrium_http_request_duration_seconds: 'histogram',
    atrium_http_in_flight: 'gauge',
    atrium_store_pool_size: 'gauge',
    atrium_store_pool_in_use: 'gauge',
    atrium_store_queries_total: 'counter',
    atrium_store_errors_total: 'counter',
    atrium_store_busy_retries_total: 'counter',
    atrium_jobs: 'gauge',
    atrium_jobs_processed_total: 'counter',
    atrium_jobs_failed_total: 'counter',
    atrium_schema_version: 'gauge',
  };
  for (const [name, type] of Object.entries(families)) {
    assert.equal(m.types.get(name), type, `# TYPE ${name} ${type}`);
  }
  for (const name of Object.keys(families)) {
    if (name === 'atrium_http_request_duration_seconds') continue;
    assert.ok(m.all(name).length > 0, `no sample for ${name}`);
  }
  for (const state of ['queued', 'running', 'done', 'dead']) {
    const v = m.get('atrium_jobs', { state });
    assert.ok(Number.isInteger(v) && v >= 0, `atrium_jobs{state="${state}"} = ${v}`);
  }
  const pool = m.get('atrium_store_pool_size');
  const inUse = m.get('atrium_store_pool_in_use');
  assert.ok(pool >= 1, `pool size ${pool}`);
  assert.ok(inUse >= 0 && inUse <= pool, `in use ${inUse} of ${pool}`);
  assert.ok(m.get('atrium_store_queries_total') >= 1, 'the system read was counted');
  assert.ok(m.get('atrium_http_in_flight') >= 0);
  assert.equal(m.get('atrium_schema_version'), latestMigration().version);
});

test('request counter counts exactly, labelled by route pattern, method and status', async () => {
  const before_ = await srv.metrics();
  const key = { route: '/healthz', method: 'GET', status: '200' };
  const n0 = before_.get('atrium_http_requests_total', key) || 0;
  for (let i = 0; i < 5; i++) assert.equal((await srv.fetch('/healthz')).status, 200);
  // A request is counted when it completes, which may be just after the client has its answer.
  let m;
  const end = Date.now() + 3000;
  do {
    m = await srv.metrics();
    if (m.get('atrium_http_requests_total', key) >= n0 + 5) break;
    await sleep(20);
  } while (Date.now() < end);
  assert.equal(m.get('atrium_http_requests_total', key), n0 + 5);
});

test('route label is the pattern, never the raw path', async () => {
  const junk = 'job_zz' + Math.random().toString(36).slice(2, 10);
  const r = await srv.req(`/api/v1/test/jobs/${junk}`);
  assert.equal(r.status, 404, r.text);
  const unknown = 'nope' + Math.random().toString(36).slice(2, 10);
  assert.equal((await srv.fetch(`/api/v1/${unknown}`)).status, 404);
  await sleep(100); // counted on completion
  const m = await srv.metrics();
  const leaked = m.samples.filter((s) => s.name && JSON.stringify(s.labels).match(new RegExp(`${junk}|${unknown}`)));
  assert.deepEqual(leaked, [], 'raw path segments leaked into labels');
  const hit = m
    .all('atrium_http_requests_total', { method: 'GET', status: '404' })
    .find((s) => s.labels.route.startsWith('/api/v1/test/jobs/'));
  assert.ok(hit, 'a 404 on the job route is counted under its pattern');
  assert.notEqual(hit.labels.route, `/api/v1/test/jobs/${junk}`);
});

test('duration histogram is well formed: cumulative buckets, +Inf = _count, _sum present', async () => {
  await srv.fetch('/healthz');
  const m = await srv.metrics();
  const buckets = m.all('atrium_http_request_duration_seconds_bucket');
  assert.ok(buckets.length >= 2, 'histogram buckets present');
  // Group by labels other than le.
  const groups = new Map();
  for (const b of buckets) {
    const { le, ...rest } = b.labels;
    assert.ok(le !== undefined, 'every bucket has le');
    const k = JSON.stringify(rest);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push({ le: le === '+Inf' ? Infinity : Number(le), v: b.value });
  }
  for (const [k, list] of groups) {
    list.sort((a, b) => a.le - b.le);
    assert.equal(list[list.length - 1].le, Infinity, `+Inf bucket for ${k}`);
    for (let i = 1; i < list.length; i++) assert.ok(list[i].v >= list[i - 1].v, `buckets cumulative for ${k}`);
    const labels = JSON.parse(k);
    const count = m.get('atrium_http_request_duration_seconds_count', labels);
    const sum = m.get('atrium_http_request_duration_seconds_sum', labels);
    assert.equal(count, list[list.length - 1].v, `_count equals +Inf bucket for ${k}`);
    assert.ok(sum >= 0, `_sum for ${k}`);
  }
  assert.ok(m.sum('atrium_http_request_duration_seconds_count') >= 1);
});

testOnPostgres('/readyz turns 503 problem+json when the store stops answering, and recovers', async () => {
  const s2 = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
  const db = new URL(s2.databaseUrl).pathname.slice(1);
  const admin = process.env.ATRIUM_TEST_PG_URL;
  try {
    assert.equal((await s2.req('/readyz')).status, 200);
    await psql(admin, `ALTER DATABASE "${db}" ALLOW_CONNECTIONS false`);
    await psql(admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}'`);
    let last;
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      last = await s2.req('/readyz');
      if (last.status === 503) break;
      assert.ok(last.status === 200 || last.status === 503, `readyz answered ${last.status}: ${last.text}`);
      await sleep(100);
    }
    problemOf(last, 503);
    // Liveness does not depend on the store.
    assert.equal((await s2.req('/healthz')).status, 200);
    await psql(admin, `ALTER DATABASE "${db}" ALLOW_CONNECTIONS true`);
    const end2 = Date.now() + 10_000;
    while (Date.now() < end2) {
      last = await s2.req('/readyz');
      if (last.status === 200) break;
      await sleep(200);
    }
    assert.equal(last.status, 200, `readyz did not recover: ${last.text}`);
    assert.equal((await s2.req('/api/v1/system')).status, 200);
  } finally {
    await psql(admin, `ALTER DATABASE "${db}" ALLOW_CONNECTIONS true`).catch(() => {});
    await s2.stop();
  }
});
