// The durable job queue through the test routes: enqueue, dedupe, run, retry with backoff on the
// program clock, dead jobs, background workers, surviving a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeScratch, problemOf, jobCounts, RFC3339, sleep } from '../lib/server.mjs';

let srv; // workers off: jobs only run when the test says so
before(async () => {
  srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
});
after(async () => {
  await srv?.stop();
});

async function enqueue(s, body) {
  const r = await s.post('/api/v1/test/jobs', body);
  assert.ok(r.status === 201, `enqueue ${JSON.stringify(body)} → ${r.status} ${r.text}`);
  assert.deepEqual(Object.keys(r.body), ['id']);
  assert.match(r.body.id, /^job_[0-9A-Za-z]{10,}$/);
  return r.body.id;
}
async function getJob(s, id) {
  const r = await s.req(`/api/v1/test/jobs/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}
async function runDue(s) {
  const r = await s.post('/api/v1/test/jobs/run', {});
  assert.equal(r.status, 200, r.text);
  assert.ok(Number.isInteger(r.body.ran), r.text);
  return r.body.ran;
}
async function advance(s, seconds) {
  const r = await s.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
  return r.body.now_us;
}
async function nowUs(s) {
  return (await s.req('/api/v1/test/clock')).body.now_us;
}
/** Seconds from the program clock's now to the job's run_at. */
async function delayOf(s, job) {
  return (Date.parse(job.run_at) * 1000 - (await nowUs(s))) / 1e6;
}

test('enqueue a noop job: 201 {id}; GET describes it queued', async () => {
  const id = await enqueue(srv, { kind: 'test.noop' });
  const j = await getJob(srv, id);
  assert.deepEqual(
    Object.keys(j).filter((k) => ['id', 'kind', 'state', 'attempts', 'max_attempts', 'run_at', 'last_error'].includes(k)).sort(),
    ['attempts', 'id', 'kind', 'last_error', 'max_attempts', 'run_at', 'state'],
  );
  assert.equal(j.id, id);
  assert.equal(j.kind, 'test.noop');
  assert.equal(j.state, 'queued');
  assert.equal(j.attempts, 0);
  assert.ok(Number.isInteger(j.max_attempts) && j.max_attempts >= 1);
  assert.match(j.run_at, RFC3339);
  assert.ok(Date.parse(j.run_at) * 1000 <= (await nowUs(srv)) + 1e6, 'a new job is due now');
  assert.equal(j.last_error, null);
});

test('run runs the due jobs once: done, attempts 1; metrics follow', async () => {
  await runDue(srv); // drain whatever earlier tests left
  const c0 = await jobCounts(srv);
  const m0 = await srv.metrics();
  const ids = [await enqueue(srv, { kind: 'test.noop' }), await enqueue(srv, { kind: 'test.noop', max_attempts: 1 })];
  const c1 = await jobCounts(srv);
  assert.equal(c1.queued, c0.queued + 2);
  assert.equal(await runDue(srv), 2);
  for (const id of ids) {
    const j = await getJob(srv, id);
    assert.equal(j.state, 'done');
    assert.equal(j.attempts, 1);
    assert.equal(j.last_error, null);
  }
  assert.equal(await runDue(srv), 0, 'nothing is due any more');
  const c2 = await jobCounts(srv);
  assert.equal(c2.queued, c0.queued);
  assert.equal(c2.done, c0.done + 2);
  const m2 = await srv.metrics();
  assert.equal(m2.get('atrium_jobs_processed_total') - m0.get('atrium_jobs_processed_total'), 2);
  assert.equal(m2.get('atrium_jobs_failed_total'), m0.get('atrium_jobs_failed_total'));
});

test('the same dedupe_key returns the same id and creates one job', async () => {
  const c0 = await jobCounts(srv);
  const key = 'dedupe-' + Math.random().toString(36).slice(2);
  const a = await srv.post('/api/v1/test/jobs', { kind: 'test.noop', dedupe_key: key });
  const b = await srv.post('/api/v1/test/jobs', { kind: 'test.noop', dedupe_key: key });
  assert.equal(a.status, 201, a.text);
  assert.ok(b.status === 200 || b.status === 201, b.text);
  assert.equal(b.body.id, a.body.id);
  const c1 = await jobCounts(srv);
  assert.equal(c1.queued, c0.queued + 1);
  await runDue(srv);
});

test('20 concurrent enqueues with one dedupe_key → one job, one id', async () => {
  const c0 = await jobCounts(srv);
  const key = 'race-' + Math.random().toString(36).slice(2);
  const rs = await Promise.all(
    Array.from({ length: 20 }, () => srv.post('/api/v1/test/jobs', { kind: 'test.noop', dedupe_key: key })),
  );
  for (const r of rs) assert.ok(r.status === 200 || r.status === 201, `${r.status} ${r.text}`);
  assert.equal(new Set(rs.map((r) => r.body.id)).size, 1);
  const c1 = await jobCounts(srv);
  assert.equal(c1.queued, c0.queued + 1);
  assert.equal(await runDue(srv), 1);
});

test('a dedupe_key of 128 characters is accepted', async () => {
  await enqueue(srv, { kind: 'test.noop', dedupe_key: 'k'.repeat(128) });
  await runDue(srv);
});

test('flaky job with fail_times 2: retried with exponential backoff on the program clock, done after 3 attempts', async () => {
  await runDue(srv);
  const m0 = await srv.metrics();
  const id = await enqueue(srv, { kind: 'test.flaky', fail_times: 2 });
  assert.equal(await runDue(srv), 1);
  let j = await getJob(srv, id);
  assert.equal(j.state, 'queued');
  assert.equal(j.attempts, 1);
  assert.equal(typeof j.last_error, 'string');
  assert.ok(j.last_error.length > 0);
  const d1 = await delayOf(srv, j);
  assert.ok(d1 >= 0.9 && d1 <= 3.5, `first backoff ${d1} s (want ~2 s, +25 % jitter)`);
  assert.equal(await runDue(srv), 0, 'not due before the backoff passes');

  await advance(srv, 10);
  assert.equal(await runDue(srv), 1);
  j = await getJob(srv, id);
  assert.equal(j.state, 'queued');
  assert.equal(j.attempts, 2);
  const d2 = await delayOf(srv, j);
  assert.ok(d2 >= 1.9 && d2 <= 6.5, `second backoff ${d2} s (want ~4 s, +25 % jitter)`);
  assert.ok(d2 > d1 * 1.2, `backoff grows: ${d1} → ${d2}`);

  await advance(srv, 20);
  assert.equal(await runDue(srv), 1);
  j = await getJob(srv, id);
  assert.equal(j.state, 'done');
  assert.equal(j.attempts, 3);
  const m1 = await srv.metrics();
  assert.ok(m1.get('atrium_jobs_processed_total') - m0.get('atrium_jobs_processed_total') >= 1, 'processed counted');
  assert.ok(m1.get('atrium_jobs_failed_total') - m0.get('atrium_jobs_failed_total') >= 1, 'failures were counted');
});

test('max_attempts 2 with fail_times 5 ends dead with last_error', async () => {
  await runDue(srv);
  const c0 = await jobCounts(srv);
  const id = await enqueue(srv, { kind: 'test.flaky', fail_times: 5, max_attempts: 2 });
  assert.equal(await runDue(srv), 1);
  await advance(srv, 10);
  assert.equal(await runDue(srv), 1);
  const j = await getJob(srv, id);
  assert.equal(j.state, 'dead');
  assert.equal(j.attempts, 2);
  assert.equal(j.max_attempts, 2);
  assert.equal(typeof j.last_error, 'string');
  assert.ok(j.last_error.length > 0);
  await advance(srv, 3600 * 24);
  assert.equal(await runDue(srv), 0, 'a dead job never runs again');
  const c1 = await jobCounts(srv);
  assert.equal(c1.dead, c0.dead + 1);
});

test('max_attempts 1: the first failure is final', async () => {
  const id = await enqueue(srv, { kind: 'test.flaky', fail_times: 1, max_attempts: 1 });
  assert.equal(await runDue(srv), 1);
  const j = await getJob(srv, id);
  assert.equal(j.state, 'dead');
  assert.equal(j.attempts, 1);
});

test('backoff is capped at one hour (+25 % jitter)', async () => {
  await runDue(srv);
  const id = await enqueue(srv, { kind: 'test.flaky', fail_times: 100, max_attempts: 100 });
  let j;
  for (let attempt = 1; attempt <= 14; attempt++) {
    assert.equal(await runDue(srv), 1, `attempt ${attempt} ran`);
    j = await getJob(srv, id);
    assert.equal(j.attempts, attempt);
    const d = await delayOf(srv, j);
    assert.ok(d <= 3600 * 1.25 + 2, `attempt ${attempt}: backoff ${d} s is over the cap`);
    if (attempt >= 13) assert.ok(d >= 3600 - 2, `attempt ${attempt}: backoff ${d} s is under the cap`);
    await advance(srv, 2 * 3600);
  }
  assert.equal(j.state, 'queued');
});

test('fail_times 0 on a flaky job succeeds first time', async () => {
  const id = await enqueue(srv, { kind: 'test.flaky', fail_times: 0 });
  assert.ok((await runDue(srv)) >= 1);
  const j = await getJob(srv, id);
  assert.equal(j.state, 'done');
  assert.equal(j.attempts, 1);
});

test('an unknown job id → 404 problem+json', async () => {
  for (const id of ['job_01ARZ3NDEKTSV4RRFFQ69G5FAV', 'job_', 'nope', 'job_' + 'x'.repeat(300), "job_'%20OR%20'1'='1"]) {
    problemOf(await srv.req(`/api/v1/test/jobs/${id}`), 404);
  }
  const r = await srv.req('/api/v1/test/jobs/..%2f..%2fetc');
  assert.ok(r.status === 400 || r.status === 404, r.text);
});

test('background workers run due jobs without being asked', async () => {
  const w = await startServer({ env: { ATRIUM_JOB_WORKERS: '2', ATRIUM_JOB_POLL_MS: '50' } });
  try {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await enqueue(w, { kind: 'test.noop' }));
    const flaky = await enqueue(w, { kind: 'test.flaky', fail_times: 1 });
    const end = Date.now() + 10_000;
    let states;
    for (;;) {
      states = await Promise.all(ids.map(async (id) => (await getJob(w, id)).state));
      if (states.every((s) => s === 'done') || Date.now() > end) break;
      await sleep(50);
    }
    assert.deepEqual(states, ['done', 'done', 'done', 'done', 'done']);
    // The flaky one failed once and waits for its backoff; moving the clock lets a worker finish it.
    const end2 = Date.now() + 10_000;
    let fj;
    for (;;) {
      fj = await getJob(w, flaky);
      if (fj.attempts >= 1 || Date.now() > end2) break;
      await sleep(50);
    }
    assert.equal(fj.attempts, 1);
    await advance(w, 60);
    for (;;) {
      fj = await getJob(w, flaky);
      if (fj.state === 'done' || Date.now() > end2 + 10_000) break;
      await sleep(50);
    }
    assert.equal(fj.state, 'done', 'a worker picked the job up after the clock moved');
    assert.equal(fj.attempts, 2);
    assert.equal(await w.stop(), 0);
  } finally {
    await w.stop();
  }
});

test('a queued job survives a restart', async () => {
  const sc = await makeScratch();
  try {
    const a = await startServer({ scratch: sc, env: { ATRIUM_JOB_WORKERS: '0' } });
    const id = await enqueue(a, { kind: 'test.noop' });
    assert.equal(await a.stop(), 0);
    const b = await startServer({ scratch: sc, env: { ATRIUM_JOB_WORKERS: '0' } });
    try {
      assert.equal((await getJob(b, id)).state, 'queued');
      assert.equal(await runDue(b), 1);
      assert.equal((await getJob(b, id)).state, 'done');
    } finally {
      await b.stop();
    }
  } finally {
    await sc.cleanup();
  }
});
