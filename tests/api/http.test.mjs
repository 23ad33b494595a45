// HTTP conventions every response follows: security headers, request ids, 404/405 problems (T16c).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, problemOf } from '../lib/server.mjs';

const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

let srv;
before(async () => {
  srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
});
after(async () => {
  await srv?.stop();
});

function assertSecurityHeaders(r, what) {
  const h = r.headers;
  const csp = h.get('content-security-policy') || '';
  assert.ok(csp.includes("frame-ancestors 'none'"), `${what}: CSP lacks frame-ancestors 'none': '${csp}'`);
  assert.ok(csp.includes("object-src 'none'"), `${what}: CSP lacks object-src 'none': '${csp}'`);
  assert.equal(h.get('x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
  assert.equal(h.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  const rp = h.get('referrer-policy') || '';
  assert.match(
    rp,
    /^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin|origin|origin-when-cross-origin)$/,
    `${what}: Referrer-Policy '${rp}'`,
  );
  assert.match(h.get('x-request-id') || '', ID_RE, `${what}: X-Request-Id`);
}

const JSON_CASES = [
  ['GET', '/healthz', 200],
  ['GET', '/readyz', 200],
  ['GET', '/api/v1/system', 200],
  ['GET', '/api/v1/test/clock', 200],
  ['GET', '/api/v1/does-not-exist', 404],
  ['GET', '/api/v1/test/jobs/job_unknown', 404],
  ['POST', '/healthz', 405],
  ['DELETE', '/api/v1/system', 405],
];

for (const [method, path, status] of JSON_CASES) {
  test(`${method} ${path} → ${status} carries the security headers and Cache-Control: no-store`, async () => {
    const r = await srv.req(path, { method });
    assert.equal(r.status, status, r.text);
    assertSecurityHeaders(r, `${method} ${path}`);
    assert.match(r.headers.get('cache-control') || '', /no-store/, `${method} ${path}: Cache-Control`);
    assert.match(r.headers.get('content-type') || '', /^application\/(problem\+)?json/);
  });
}

test('a 400 from a JSON route carries the security headers too', async () => {
  const r = await srv.post('/api/v1/test/jobs', '{"kind":');
  assert.equal(r.status, 400, r.text);
  assertSecurityHeaders(r, 'POST bad JSON');
  assert.match(r.headers.get('cache-control') || '', /no-store/);
});

test('/metrics and the UI root carry the security headers', async () => {
  for (const path of ['/metrics', '/', '/favicon-does-not-exist.ico']) {
    const r = await srv.req(path);
    assert.ok(r.status < 500, `${path} answered ${r.status}`);
    assertSecurityHeaders(r, `GET ${path}`);
  }
});

test('unknown routes answer 404 problem+json, whatever the method', async () => {
  for (const [method, path] of [
    ['GET', '/api/v1/nope'],
    ['POST', '/api/v1/nope'],
    ['DELETE', '/api/v1/workspaces-nope/x/y'],
    ['GET', '/api/v2/system'],
    ['GET', '/api/v1/system/extra'],
  ]) {
    const r = await srv.req(path, { method });
    const p = problemOf(r, 404);
    assert.equal(p.status, 404, `${method} ${path}`);
  }
});

test('a wrong method on a known path answers 405 with Allow', async () => {
  const cases = [
    ['POST', '/healthz', ['GET']],
    ['PUT', '/readyz', ['GET']],
    ['DELETE', '/api/v1/system', ['GET']],
    ['PATCH', '/api/v1/test/clock', ['GET', 'POST']],
    ['GET', '/api/v1/test/sleep', ['POST']],
    ['DELETE', '/api/v1/test/jobs', ['POST']],
  ];
  for (const [method, path, allowed] of cases) {
    const r = await srv.req(path, { method });
    problemOf(r, 405);
    const allow = (r.headers.get('allow') || '').split(',').map((s) => s.trim()).filter(Boolean);
    for (const m of allowed) assert.ok(allow.includes(m), `${method} ${path}: Allow '${allow}' lacks ${m}`);
    assert.ok(!allow.includes(method), `${method} ${path}: Allow '${allow}' lists the refused method`);
  }
});

test('a valid incoming X-Request-Id is echoed', async () => {
  for (const id of ['abc', 'req-123_ABC.x', 'a'.repeat(64), '0', '.-_']) {
    const r = await srv.fetch('/healthz', { headers: { 'x-request-id': id } });
    assert.equal(r.headers.get('x-request-id'), id);
  }
});

test('an invalid incoming X-Request-Id is replaced by a generated one', async () => {
  for (const id of ['a'.repeat(65), 'has space', 'semi;colon', '<script>', 'a/b', 'quote"d', 'ünï']) {
    const r = await srv.fetch('/healthz', { headers: { 'x-request-id': Buffer.from(id, 'utf8').toString('latin1') } });
    const got = r.headers.get('x-request-id') || '';
    assert.notEqual(got, id);
    assert.match(got, ID_RE, `replacement for ${JSON.stringify(id)}`);
  }
  const r = await srv.fetch('/healthz', { headers: { 'x-request-id': '' } });
  assert.match(r.headers.get('x-request-id') || '', ID_RE);
});

test('generated request ids are unique', async () => {
  const ids = new Set();
  for (let i = 0; i < 50; i++) {
    const r = await srv.fetch('/healthz');
    ids.add(r.headers.get('x-request-id'));
  }
  assert.equal(ids.size, 50);
});

test('problem bodies expose no internals', async () => {
  const r = await srv.req('/api/v1/test/jobs/%27%20OR%201=1--');
  assert.ok(r.status === 404 || r.status === 400, r.text);
  assert.doesNotMatch(r.text, /sqlite|SQLITE|postgres|syntax error|\.c:\d+|SELECT /i);
});
