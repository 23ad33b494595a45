// The operators' metrics (issue 13, docs/operations.md "Monitoring"): HELP and TYPE on every family,
// latency by route, the build, mail sent and failed, the oldest due job's age by kind, sign-in failures
// and lockouts, and 429s by limiter; each counter is shown to move after the action it counts. Both
// backends. Jobs run only when the test asks (ATRIUM_JOB_WORKERS=0 + POST /api/v1/test/jobs/run).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { startServer, sleep } from '../lib/server.mjs';

const FAMILIES = {
  atrium_http_requests_total: 'counter',
  atrium_http_request_duration_seconds: 'histogram',
  atrium_http_in_flight: 'gauge',
  atrium_build_info: 'gauge',
  atrium_mail_sent_total: 'counter',
  atrium_mail_failed_total: 'counter',
  atrium_jobs: 'gauge',
  atrium_jobs_oldest_due_seconds: 'gauge',
  atrium_signin_failures_total: 'counter',
  atrium_signin_lockouts_total: 'counter',
  atrium_rate_limited_total: 'counter',
  atrium_store_pool_size: 'gauge',
  atrium_schema_version: 'gauge',
};

const strongPw = () => `Tidal-${randomBytes(6).toString('hex')}-Lantern`;
const uniqEmail = (p) => `${p}-${randomBytes(4).toString('hex')}@example.test`;

let srv;
before(async () => {
  srv = await startServer({
    env: { ATRIUM_JOB_WORKERS: '0', ATRIUM_LOCKOUT_THRESHOLD: '2', ATRIUM_LOGIN_IP_PER_MINUTE: '8' },
  });
});
after(async () => {
  await srv?.stop();
});

async function addUser(s, email, password) {
  const r = await s.cli(['user', 'add', email, '--name', 'Metrics User', '--password-stdin'], {}, { input: `${password}\n` });
  assert.equal(r.code, 0, r.stderr);
}

async function runJobs(s) {
  const r = await s.post('/api/v1/test/jobs/run', {});
  assert.equal(r.status, 200, r.text);
}

/** /metrics once every request so far has been counted (requests are counted when they complete). */
async function settled(s) {
  await sleep(50);
  return s.metrics();
}

test('every family has # HELP and # TYPE, and every sample belongs to a family that has them', async () => {
  await srv.fetch('/healthz');
  const text = await (await srv.fetch('/metrics')).text();
  const help = new Set([...text.matchAll(/^# HELP (\S+) \S.*$/gm)].map((m) => m[1]));
  const type = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
  for (const [name, t] of Object.entries(FAMILIES)) {
    assert.ok(help.has(name), `# HELP ${name}`);
    assert.equal(type.get(name), t, `# TYPE ${name} ${t}`);
  }
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)[0];
    const family = type.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(help.has(family) && type.has(family), `${name} has no # HELP/# TYPE`);
  }
  const m = await srv.metrics();
  const version = (await srv.req('/api/v1/system')).body.version;
  assert.equal(m.get('atrium_build_info', { version }), 1);
  assert.ok(m.get('atrium_signin_lockouts_total') >= 0, 'an unlabelled counter shows 0 before it moves');
});

test('latency is a histogram per route pattern and method', async () => {
  const key = { route: '/healthz', method: 'GET' };
  const m0 = await settled(srv);
  const c0 = m0.get('atrium_http_request_duration_seconds_count', key) || 0;
  for (let i = 0; i < 3; i++) assert.equal((await srv.fetch('/healthz')).status, 200);
  assert.equal((await srv.fetch('/api/v1/system')).status, 200);
  const m = await settled(srv);
  assert.equal(m.get('atrium_http_request_duration_seconds_count', key), c0 + 3);
  const buckets = m.all('atrium_http_request_duration_seconds_bucket', key);
  assert.equal(buckets.length, 13);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative');
  assert.equal(buckets.at(-1).labels.le, '+Inf');
  assert.equal(buckets.at(-1).value, c0 + 3);
  assert.ok(m.get('atrium_http_request_duration_seconds_sum', key) > 0);
  assert.ok(m.get('atrium_http_request_duration_seconds_count', { route: '/api/v1/system', method: 'GET' }) >= 1);
});

test('failed sign-ins by reason, lockouts and the sign-in limiter’s 429s are counted', async () => {
  const u = { email: uniqEmail('metrics'), pw: strongPw() };
  await addUser(srv, u.email, u.pw);
  const signIn = (email, password) => srv.post('/api/v1/session', { email, password });
  const m0 = await settled(srv);
  const fail = (reason, m = m0) => m.get('atrium_signin_failures_total', { reason }) || 0;

  assert.equal((await signIn(uniqEmail('nobody'), strongPw())).status, 401);
  assert.equal((await signIn(u.email, 'wrong-password-1')).status, 401);
  assert.equal((await signIn(u.email, 'wrong-password-2')).status, 401); // the second failure locks
  assert.equal((await signIn(u.email, u.pw)).status, 401); // right, but locked
  let m = await settled(srv);
  assert.equal(fail('unknown', m) - fail('unknown'), 1);
  assert.equal(fail('password', m) - fail('password'), 2);
  assert.equal(fail('locked', m) - fail('locked'), 1);
  assert.equal(m.get('atrium_signin_lockouts_total') - m0.get('atrium_signin_lockouts_total'), 1);

  const limited0 = m.get('atrium_rate_limited_total', { limiter: 'login' }) || 0;
  let status = 0;
  for (let i = 0; i < 10 && status !== 429; i++) status = (await signIn(u.email, 'wrong-again')).status;
  assert.equal(status, 429, 'the per-IP sign-in limit answers 429');
  m = await settled(srv);
  assert.equal(m.get('atrium_rate_limited_total', { limiter: 'login' }), limited0 + 1);
});

test('mail sent, and the oldest due job’s age by kind until it runs', async () => {
  const email = uniqEmail('mailmetrics');
  await addUser(srv, email, strongPw());
  await runJobs(srv);
  const m0 = await settled(srv);
  assert.equal(m0.get('atrium_jobs_oldest_due_seconds', { kind: 'mail.send' }), 0, 'nothing waits');
  assert.equal((await srv.post('/api/v1/password/forgot', { email })).status, 202);
  const adv = await srv.post('/api/v1/test/clock', { advance_seconds: 90 });
  assert.equal(adv.status, 200, adv.text);
  const m1 = await settled(srv);
  const age = m1.get('atrium_jobs_oldest_due_seconds', { kind: 'mail.send' });
  assert.ok(age >= 90 && age < 200, `age ${age}`);
  await runJobs(srv);
  const m2 = await settled(srv);
  assert.equal(m2.get('atrium_jobs_oldest_due_seconds', { kind: 'mail.send' }), 0);
  const sent = (m) => m.get('atrium_mail_sent_total', { transport: 'folder' }) || 0;
  assert.equal(sent(m2) - sent(m0), 1);
});

test('a failed delivery is counted by transport', async () => {
  // An SMTP port where nothing listens: every attempt fails.
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const s = await startServer({
    env: { ATRIUM_JOB_WORKERS: '0', ATRIUM_SMTP_URL: `smtp://127.0.0.1:${port}`, ATRIUM_MAIL_FROM: 'Atrium <no-reply@example.test>' },
  });
  try {
    const email = uniqEmail('failmail');
    await addUser(s, email, strongPw());
    const m0 = await settled(s);
    assert.equal((await s.post('/api/v1/password/forgot', { email })).status, 202);
    await runJobs(s);
    const m = await settled(s);
    const failed = (x) => x.get('atrium_mail_failed_total', { transport: 'smtp' }) || 0;
    assert.ok(failed(m) - failed(m0) >= 1, m.text.split('\n').filter((l) => l.includes('mail_')).join('\n'));
    assert.equal(m.get('atrium_mail_sent_total', { transport: 'smtp' }) || 0, 0);
  } finally {
    await s.stop();
  }
});
