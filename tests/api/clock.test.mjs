// The test clock (DESIGN.md §4 "one clock that tests can move") and the test-only routes' existence.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, problemOf, RFC3339 } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
});
after(async () => {
  await srv?.stop();
});

function assertClockBody(b) {
  assert.deepEqual(Object.keys(b).sort(), ['now', 'now_us']);
  assert.match(b.now, RFC3339);
  assert.ok(Number.isSafeInteger(b.now_us), `now_us ${b.now_us}`);
  // now and now_us describe the same instant (now may drop sub-second digits).
  assert.ok(Math.abs(Date.parse(b.now) * 1000 - b.now_us) < 1_000_000, `${b.now} vs ${b.now_us}`);
}

test('GET /api/v1/test/clock starts at the real time', async () => {
  const r = await srv.req('/api/v1/test/clock');
  assert.equal(r.status, 200, r.text);
  assertClockBody(r.body);
  assert.ok(Math.abs(r.body.now_us / 1000 - Date.now()) < 60_000, `clock ${r.body.now} is not now`);
});

test('POST {"set"} moves the clock there; GET agrees', async () => {
  const target = Date.UTC(2031, 0, 2, 3, 4, 5) * 1000;
  const r = await srv.post('/api/v1/test/clock', { set: '2031-01-02T03:04:05Z' });
  assert.equal(r.status, 200, r.text);
  assertClockBody(r.body);
  assert.ok(r.body.now_us >= target && r.body.now_us < target + 5_000_000, `now_us ${r.body.now_us}`);
  assert.ok(r.body.now.startsWith('2031-01-02T03:04:0'), r.body.now);
  const g = await srv.req('/api/v1/test/clock');
  assert.ok(g.body.now_us >= r.body.now_us && g.body.now_us < target + 10_000_000, `GET ${g.body.now}`);
});

test('"set" accepts an offset and fractional seconds', async () => {
  const r = await srv.post('/api/v1/test/clock', { set: '2031-06-01T12:00:00.250+02:00' });
  assert.equal(r.status, 200, r.text);
  const target = Date.UTC(2031, 5, 1, 10, 0, 0, 250) * 1000;
  assert.ok(r.body.now_us >= target && r.body.now_us < target + 5_000_000, `${r.body.now}`);
  assert.ok(r.body.now.startsWith('2031-06-01T10:00:0'), r.body.now);
  assert.match(r.body.now, /Z$/, 'the clock answers in UTC');
});

test('POST {"advance_seconds"} moves the clock forward by that much', async () => {
  const a = (await srv.req('/api/v1/test/clock')).body.now_us;
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: 3600 });
  assert.equal(r.status, 200, r.text);
  assertClockBody(r.body);
  const d = r.body.now_us - a;
  assert.ok(d >= 3600e6 && d < 3605e6, `advanced by ${d} us`);
  const r2 = await srv.post('/api/v1/test/clock', { advance_seconds: 86400 * 400 });
  assert.equal(r2.status, 200, r2.text);
  assert.ok(r2.body.now_us - r.body.now_us >= 86400 * 400 * 1e6);
});

test('extreme "set" values are refused (400) or answered as valid RFC 3339, never garbled', async () => {
  for (const set of ['0001-01-01T00:00:00Z', '0999-12-31T23:59:59Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59Z']) {
    const r = await srv.post('/api/v1/test/clock', { set });
    if (r.status === 400) {
      problemOf(r, 400);
      continue;
    }
    assert.equal(r.status, 200, `${set} → ${r.status} ${r.text}`);
    assert.match(r.body.now, RFC3339, `${set} → now ${r.body.now}`);
    assert.ok(r.body.now.startsWith(set.slice(0, 16)), `${set} → now ${r.body.now}`);
    const s = await srv.req('/api/v1/system');
    assert.equal(s.status, 200, s.text);
    assert.match(s.body.time, RFC3339, `system time at ${set}: ${s.body.time}`);
  }
  const big = await srv.post('/api/v1/test/clock', { advance_seconds: Number.MAX_SAFE_INTEGER });
  assert.ok(big.status === 400 || (big.status === 200 && RFC3339.test(big.body.now)), `${big.status} ${big.text}`);
  assert.equal((await srv.req('/healthz')).status, 200);
  // Back to a sane time for the tests below.
  assert.equal((await srv.post('/api/v1/test/clock', { set: '2032-01-01T00:00:00Z' })).status, 200);
});

test('the program clock drives the system time', async () => {
  await srv.post('/api/v1/test/clock', { set: '2033-03-03T03:03:03Z' });
  const s = await srv.req('/api/v1/system');
  assert.equal(s.status, 200, s.text);
  assert.ok(s.body.time.startsWith('2033-03-03T03:03:'), `system time ${s.body.time}`);
});

test('both or neither of set/advance_seconds → 400; bad values → 400 naming the field', async () => {
  const before_ = (await srv.req('/api/v1/test/clock')).body.now_us;
  const cases = [
    [{ set: '2031-01-01T00:00:00Z', advance_seconds: 1 }, null],
    [{}, null],
    [{ set: 'yesterday' }, 'set'],
    [{ set: '2031-13-01T00:00:00Z' }, 'set'],
    [{ set: '2031-01-01 00:00:00' }, 'set'],
    [{ set: 12345 }, 'set'],
    [{ advance_seconds: '10' }, 'advance_seconds'],
    [{ advance_seconds: 1.5 }, 'advance_seconds'],
    [{ advance_seconds: null }, 'advance_seconds'],
  ];
  for (const [body, field] of cases) {
    const r = await srv.post('/api/v1/test/clock', body);
    const p = problemOf(r, 400);
    if (field) {
      const fields = (p.errors || []).map((e) => String(e.field).replace(/^[$/.]+/, ''));
      assert.ok(fields.includes(field), `${JSON.stringify(body)} → ${r.text}`);
    }
  }
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: 1, extra: true });
  const p = problemOf(r, 400);
  assert.ok((p.errors || []).some((e) => e.code === 'unknown_field'), r.text);
  const after_ = (await srv.req('/api/v1/test/clock')).body.now_us;
  assert.ok(after_ - before_ < 5_000_000, 'a refused request moved the clock');
});

test('test routes do not exist outside ATRIUM_ENV=test (404, not 405)', async () => {
  const dev = await startServer({ env: { ATRIUM_ENV: 'development', ATRIUM_JOB_WORKERS: '0' } });
  try {
    const cases = [
      ['GET', '/api/v1/test/clock', undefined],
      ['POST', '/api/v1/test/clock', '{"advance_seconds":10}'],
      ['POST', '/api/v1/test/jobs', '{"kind":"test.noop"}'],
      ['GET', '/api/v1/test/jobs/job_x', undefined],
      ['POST', '/api/v1/test/jobs/run', '{}'],
      ['POST', '/api/v1/test/sleep', '{"ms":1}'],
    ];
    for (const [method, path, body] of cases) {
      const r = await dev.req(path, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
      problemOf(r, 404);
    }
    assert.equal((await dev.req('/healthz')).status, 200);
    const sys = await dev.req('/api/v1/system');
    assert.equal(sys.status, 200);
    assert.ok(Math.abs(Date.parse(sys.body.time) - Date.now()) < 60_000, 'the clock is the real one');
  } finally {
    await dev.stop();
  }
});
