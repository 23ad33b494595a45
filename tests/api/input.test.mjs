// Bad input (T15 limits, DESIGN.md §5): every case gets a clear 4xx, writes nothing, and the server
// stays healthy. "Nothing written" = the atrium_jobs{state} gauges do not move (workers are off).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawRequest, problemOf, jobCounts } from '../lib/server.mjs';

const MIB = 1048576;
let srv;
let counts0;

before(async () => {
  srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
  counts0 = await jobCounts(srv);
});
after(async () => {
  await srv?.stop();
});
afterEach(async () => {
  // The server is still healthy, and nothing was written.
  const h = await srv.req('/healthz');
  assert.equal(h.status, 200, 'server unhealthy after bad input');
  assert.deepEqual(await jobCounts(srv), counts0, 'a rejected request wrote a job');
});

/** Every code in a problem's errors (and a top-level code, if the server adds one). */
function codes(p) {
  const out = (p.errors || []).map((e) => e.code);
  if (p.code) out.push(p.code);
  return out;
}
function fieldsWith(p, code) {
  return (p.errors || []).filter((e) => e.code === code).map((e) => String(e.field).replace(/^[$/.]+/, ''));
}

function rawPost(path, body, headers = {}) {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Type: application/json\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    `Content-Length: ${buf.length}\r\nConnection: close\r\n\r\n`;
  return rawRequest(srv.port, Buffer.concat([Buffer.from(head, 'latin1'), buf]), { timeoutMs: 15_000 });
}

test('a body one byte over 1 MiB → 413 problem+json', async () => {
  const pad = 'x'.repeat(MIB + 1 - '{"kind":"test.noop","dedupe_key":""}'.length);
  const body = `{"kind":"test.noop","dedupe_key":"${pad}"}`;
  assert.equal(Buffer.byteLength(body), MIB + 1);
  const r = await rawPost('/api/v1/test/jobs', body);
  assert.equal(r.status, 413, `raw answer: ${r.raw.slice(0, 300)}`);
  assert.match(r.headers['content-type'] || '', /^application\/problem\+json/);
  const p = JSON.parse(r.body);
  assert.equal(p.status, 413);
});

test('a body of exactly 1 MiB is read (validation answers, not 413)', async () => {
  const pad = 'x'.repeat(MIB - '{"kind":"test.noop","dedupe_key":""}'.length);
  const body = `{"kind":"test.noop","dedupe_key":"${pad}"}`;
  assert.equal(Buffer.byteLength(body), MIB);
  const r = await srv.post('/api/v1/test/jobs', body);
  const p = problemOf(r, 400);
  assert.deepEqual(
    (p.errors || []).map((e) => String(e.field).replace(/^[$/.]+/, '')),
    ['dedupe_key'],
    'only dedupe_key (longer than 128) is wrong',
  );
});

test('a large declared Content-Length with a small body is refused, not awaited forever', async () => {
  const head =
    `POST /api/v1/test/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${50 * MIB}\r\n\r\n{"kind":`;
  const r = await rawRequest(srv.port, Buffer.from(head), { timeoutMs: 5000 });
  assert.ok(r.status === 413 || (r.status === null && !r.timedOut), `answer: ${r.raw.slice(0, 200)} timedOut=${r.timedOut}`);
});

test('a 64 KiB request header → 431 or another 4xx, or a closed connection; never 5xx', async () => {
  const req = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'A'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`;
  const r = await rawRequest(srv.port, Buffer.from(req), { timeoutMs: 10_000 });
  assert.ok(!r.timedOut, 'the server neither answered nor closed');
  if (r.status !== null) assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
  assert.notEqual(r.status, 200);
});

test('many headers (2,000 small ones) → 4xx or closed; never 5xx', async () => {
  let req = 'GET /healthz HTTP/1.1\r\nHost: x\r\n';
  for (let i = 0; i < 2000; i++) req += `X-H${i}: ${'v'.repeat(30)}\r\n`;
  req += 'Connection: close\r\n\r\n';
  const r = await rawRequest(srv.port, Buffer.from(req), { timeoutMs: 10_000 });
  assert.ok(!r.timedOut);
  if (r.status !== null) assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
});

test('invalid JSON → 400 invalid_json', async () => {
  for (const body of ['{"kind":', '{kind: "test.noop"}', '{"kind":"test.noop"} trailing', "{'kind':'test.noop'}", '{"kind":"test.noop",}', '{"kind":"test.noop"}{}']) {
    const r = await srv.post('/api/v1/test/jobs', body);
    const p = problemOf(r, 400);
    assert.ok(codes(p).includes('invalid_json'), `${JSON.stringify(body)} → ${r.text}`);
  }
  // An empty body may have its own code.
  for (const body of ['', ' ', '\r\n']) {
    const r = await srv.post('/api/v1/test/jobs', body);
    const p = problemOf(r, 400);
    assert.ok(codes(p).some((c) => c === 'invalid_json' || c === 'empty_body'), `${JSON.stringify(body)} → ${r.text}`);
  }
});

test('a JSON value that is not an object → 400', async () => {
  for (const body of ['[]', '"test.noop"', 'null', '42', 'true', '[{"kind":"test.noop"}]']) {
    const r = await srv.post('/api/v1/test/jobs', body);
    problemOf(r, 400);
  }
});

test('duplicate keys → 400 duplicate_key naming the key', async () => {
  const r = await srv.post('/api/v1/test/jobs', '{"kind":"test.noop","kind":"test.flaky"}');
  const p = problemOf(r, 400);
  assert.ok(codes(p).includes('duplicate_key'), r.text);
  // The key is named, in the error's field or at least in its message.
  const e = p.errors.find((x) => x.code === 'duplicate_key');
  assert.ok(String(e.field).replace(/^[$/.]+/, '') === 'kind' || /\bkind\b/.test(e.message), r.text);
});

test('duplicate keys in a nested object are caught too', async () => {
  const r = await srv.post('/api/v1/test/clock', '{"set":"2030-01-01T00:00:00Z","x":{"a":1,"a":2}}');
  const p = problemOf(r, 400);
  assert.ok(codes(p).includes('duplicate_key'), r.text);
});

test('unknown fields → 400 with one unknown_field error per field', async () => {
  const r = await srv.post('/api/v1/test/jobs', { kind: 'test.noop', colour: 'blue', id: 'job_x', state: 'done' });
  const p = problemOf(r, 400);
  assert.deepEqual(fieldsWith(p, 'unknown_field').sort(), ['colour', 'id', 'state'], r.text);
});

test('a validation problem names every bad field at once', async () => {
  const r = await srv.post('/api/v1/test/jobs', {
    kind: 'test.nope',
    fail_times: 101,
    max_attempts: 0,
    dedupe_key: 'k'.repeat(129),
  });
  const p = problemOf(r, 400);
  const fields = (p.errors || []).map((e) => String(e.field).replace(/^[$/.]+/, '')).sort();
  assert.deepEqual(fields, ['dedupe_key', 'fail_times', 'kind', 'max_attempts'], r.text);
  for (const e of p.errors) {
    assert.equal(typeof e.code, 'string');
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 0);
  }
});

test('wrong types and out-of-range values are validation errors', async () => {
  const cases = [
    [{}, 'kind'],
    [{ kind: 1 }, 'kind'],
    [{ kind: null }, 'kind'],
    [{ kind: 'test.noop', fail_times: -1 }, 'fail_times'],
    [{ kind: 'test.noop', fail_times: 1.5 }, 'fail_times'],
    [{ kind: 'test.noop', fail_times: '1' }, 'fail_times'],
    [{ kind: 'test.noop', max_attempts: 101 }, 'max_attempts'],
    [{ kind: 'test.noop', max_attempts: true }, 'max_attempts'],
    [{ kind: 'test.noop', dedupe_key: 7 }, 'dedupe_key'],
    [{ kind: 'test.noop', dedupe_key: ['a'] }, 'dedupe_key'],
  ];
  for (const [body, field] of cases) {
    const r = await srv.post('/api/v1/test/jobs', body);
    const p = problemOf(r, 400);
    const fields = (p.errors || []).map((e) => String(e.field).replace(/^[$/.]+/, ''));
    assert.deepEqual(fields, [field], `${JSON.stringify(body)} → ${r.text}`);
  }
});

test('a huge number is refused cleanly', async () => {
  for (const n of ['1e400', '99999999999999999999999', '-1e400']) {
    const r = await srv.post('/api/v1/test/jobs', `{"kind":"test.noop","fail_times":${n}}`);
    problemOf(r, 400);
  }
});

test('wrong Content-Type on a JSON route → 415', async () => {
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/xml']) {
    const r = await srv.req('/api/v1/test/jobs', {
      method: 'POST',
      headers: { 'content-type': ct },
      body: '{"kind":"test.noop"}',
    });
    problemOf(r, 415);
  }
});

test('invalid UTF-8 → 400 invalid_utf8 or invalid_json', async () => {
  const bodies = [
    Buffer.from([0x7b, 0x22, 0x6b, 0x69, 0x6e, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"kind":"\xff\xfe"}
    Buffer.concat([Buffer.from('{"kind":"test.noop","dedupe_key":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), // overlong
    Buffer.concat([Buffer.from('{"kind":"test.noop","dedupe_key":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), // surrogate
    Buffer.concat([Buffer.from('{"kind":"test.noop","dedupe_key":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]), // truncated
    Buffer.concat([Buffer.from('{"kind":"test.noop","'), Buffer.from([0x80]), Buffer.from('":1}')]), // in a key
  ];
  for (const body of bodies) {
    const r = await srv.post('/api/v1/test/jobs', new Uint8Array(body));
    const p = problemOf(r, 400);
    const c = codes(p);
    assert.ok(c.includes('invalid_utf8') || c.includes('invalid_json'), `${body.toString('hex')} → ${r.text}`);
  }
});

test('nesting deeper than 32 → 400 too_deep; shallow nesting parses', async () => {
  for (const depth of [40, 1000, 100000]) {
    const body = `{"kind":"test.noop","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const r = await srv.post('/api/v1/test/jobs', body);
    const p = problemOf(r, 400);
    assert.ok(codes(p).includes('too_deep'), `depth ${depth} → ${r.text.slice(0, 300)}`);
  }
  const objs = `{"kind":"test.noop","x":${'{"a":'.repeat(50)}1${'}'.repeat(50)}}`;
  const r1 = await srv.post('/api/v1/test/jobs', objs);
  assert.ok(codes(problemOf(r1, 400)).includes('too_deep'), r1.text.slice(0, 300));
  // Depth 21: parses, then the unknown field is what is wrong.
  const ok = `{"kind":"test.noop","x":${'['.repeat(20)}${']'.repeat(20)}}`;
  const r2 = await srv.post('/api/v1/test/jobs', ok);
  const p2 = problemOf(r2, 400);
  assert.deepEqual(fieldsWith(p2, 'unknown_field'), ['x'], r2.text);
  assert.ok(!codes(p2).includes('too_deep'));
});

test('a NUL inside a JSON string is refused or kept exact, never truncated', async () => {
  const r = await srv.post('/api/v1/test/jobs', '{"kind":"test.noop\\u0000evil"}');
  problemOf(r, 400);
});

test('path traversal on static paths → 400 or 404, never file contents', async () => {
  const paths = [
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..%2f..%2fetc/passwd',
    '/assets/%00x.js',
    '/assets/../../../../etc/passwd',
    '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/assets/%2E%2E/%2E%2E/etc/passwd',
    '/..%5c..%5cetc/passwd',
    '/index.html/../../etc/passwd',
    '/assets/x.js%00.png',
  ];
  for (const p of paths) {
    const r = await rawRequest(srv.port, Buffer.from(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    assert.ok(r.status === 400 || r.status === 404, `${p} → ${r.status}: ${r.raw.slice(0, 200)}`);
    assert.doesNotMatch(r.body, /root:|daemon:|\/bin\/(ba)?sh/, `${p} leaked a file`);
  }
});

test('odd static paths never serve a file from disk and never 5xx', async () => {
  for (const p of ['//etc/passwd', '/assets//etc/passwd', '/assets/%252e%252e/etc/passwd', '/etc/passwd', '/proc/self/environ']) {
    const r = await rawRequest(srv.port, Buffer.from(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    assert.ok(r.status !== null && r.status < 500, `${p} → ${r.status}`);
    assert.doesNotMatch(r.body, /root:|daemon:|\/bin\/(ba)?sh|PATH=/, `${p} leaked a file`);
  }
});

test('garbage request lines are refused with 4xx or a close, never 5xx', async () => {
  const reqs = [
    'GARBAGE\r\n\r\n',
    'GET\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'POST /api/v1/test/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST /api/v1/test/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    '\x00\x01\x02\x03\r\n\r\n',
  ];
  for (const q of reqs) {
    const r = await rawRequest(srv.port, Buffer.from(q, 'latin1'), { timeoutMs: 5000, halfClose: true });
    if (r.status !== null) assert.ok(r.status < 500, `${JSON.stringify(q)} → ${r.status}`);
  }
});
