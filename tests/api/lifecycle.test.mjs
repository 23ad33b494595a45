// Process lifecycle and hygiene: graceful shutdown, the sleep route, access logs without secrets
// (T17), idle/slow connections and descriptor leaks (T15).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  startServer, makeScratch, repoPath, problemOf, canConnect, parsedLogs, rawRequest, RFC3339, sleep, within,
} from '../lib/server.mjs';
import { startWorld, signIn, DEMO_PASSWORDS } from './lib-world.mjs';

test('POST /api/v1/test/sleep sleeps and answers {"slept_ms"}; bad values → 400', async () => {
  const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
  try {
    const t0 = Date.now();
    const r = await srv.post('/api/v1/test/sleep', { ms: 120 });
    const took = Date.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { slept_ms: 120 });
    assert.ok(took >= 115, `answered after ${took} ms`);
    for (const body of [{ ms: 0 }, { ms: 10001 }, { ms: -5 }, { ms: '10' }, { ms: 1.5 }, {}, { ms: 1, x: 1 }]) {
      const b = await srv.post('/api/v1/test/sleep', body);
      problemOf(b, 400);
    }
    // Sleeping requests do not block others.
    const t1 = Date.now();
    const slow = srv.post('/api/v1/test/sleep', { ms: 1500 });
    await sleep(50);
    const h = await srv.req('/healthz');
    assert.equal(h.status, 200);
    assert.ok(Date.now() - t1 < 1000, 'healthz waited for the sleeper');
    assert.equal((await slow).status, 200);
  } finally {
    await srv.stop();
  }
});

test('SIGTERM: the in-flight request still gets its 200, new connections are refused, exit 0', async () => {
  const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '1' } });
  let exitCode;
  try {
    // An idle keep-alive connection must not hold the shutdown up.
    assert.equal((await srv.req('/healthz')).status, 200);
    const t0 = Date.now();
    const inflight = srv.post('/api/v1/test/sleep', { ms: 800 });
    // Wait until the server has the request (in-flight gauge), at most 400 ms.
    const end = Date.now() + 400;
    while (Date.now() < end) {
      const m = await srv.metrics();
      if (m.get('atrium_http_in_flight') >= 2) break;
      await sleep(20);
    }
    const signalledAt = Date.now();
    srv.proc.kill('SIGTERM');
    await sleep(150);
    const refused = !(await canConnect(srv.port, 500));
    const r = await inflight;
    const answeredAt = Date.now();
    assert.equal(r.status, 200, `in-flight request: ${r.status} ${r.text}`);
    assert.deepEqual(r.body, { slept_ms: 800 });
    assert.ok(answeredAt - t0 >= 790);
    assert.ok(refused, 'a new connection was accepted after SIGTERM');
    exitCode = await within(srv.exited, 11_000);
    assert.notEqual(exitCode, 'timeout', 'did not exit within ATRIUM_SHUTDOWN_TIMEOUT (10 s)');
    assert.equal(exitCode, 0, `exit code; logs:\n${srv.logs.slice(-10).join('\n')}`);
    assert.ok(Date.now() - signalledAt < 10_000);
  } finally {
    await srv.stop();
  }
});

test('SIGTERM with nothing in flight exits 0 promptly', async () => {
  const srv = await startServer();
  await srv.req('/api/v1/system');
  const t0 = Date.now();
  const code = await srv.stop('SIGTERM');
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
});

test('SIGINT is graceful too', async () => {
  const srv = await startServer();
  await srv.req('/healthz');
  assert.equal(await srv.stop('SIGINT'), 0);
});

test('ATRIUM_SHUTDOWN_TIMEOUT bounds the wait for a request that outlives it', async () => {
  const srv = await startServer({ env: { ATRIUM_SHUTDOWN_TIMEOUT: '1', ATRIUM_JOB_WORKERS: '0' } });
  const slow = srv.post('/api/v1/test/sleep', { ms: 8000 }).catch((e) => e);
  try {
    await sleep(300);
    const t0 = Date.now();
    srv.proc.kill('SIGTERM');
    const code = await within(srv.exited, 6000);
    assert.notEqual(code, 'timeout', 'still running 6 s after SIGTERM with a 1 s shutdown timeout');
    assert.ok(Date.now() - t0 < 4500, `exited after ${Date.now() - t0} ms`);
    // Issue 12 item 17: abandoning a request is not a clean exit, and the log says how many.
    assert.notEqual(code, 0, 'exit status after abandoning a running request');
    const line = parsedLogs(srv.logs).find((l) => l.abandoned !== undefined);
    assert.ok(line, `no log line counts the abandoned requests:\n${srv.logs.slice(-5).join('\n')}`);
    assert.equal(line.abandoned, 1);
  } finally {
    await srv.stop('SIGKILL');
    await slow;
  }
});

test('one JSON access-log line per request, with request id and route pattern', async () => {
  const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
  try {
    const rid = 'log-check-' + Math.random().toString(36).slice(2, 10);
    assert.equal((await srv.fetch('/healthz', { headers: { 'x-request-id': rid } })).status, 200);
    const rid2 = rid + '-404';
    assert.equal((await srv.fetch('/api/v1/test/jobs/job_abc123', { headers: { 'x-request-id': rid2 } })).status, 404);
    const rid3 = rid + '-405';
    assert.equal((await srv.fetch('/healthz', { method: 'POST', headers: { 'x-request-id': rid3 } })).status, 405);
    await srv.waitForLog((l) => l.request_id === rid3);
    await sleep(100);
    for (const [id, method, route, status] of [
      [rid, 'GET', '/healthz', 200],
      [rid2, 'GET', '/api/v1/test/jobs/:job_id', 404],
      [rid3, 'POST', '/healthz', 405],
    ]) {
      const lines = srv.accessLogs().filter((l) => l.request_id === id);
      assert.equal(lines.length, 1, `exactly one access line for ${id}`);
      const l = lines[0];
      assert.match(l.ts, RFC3339);
      assert.equal(l.level, 'info');
      assert.equal(l.msg, 'request');
      assert.equal(l.method, method);
      assert.equal(l.status, status);
      assert.ok(Number.isInteger(l.us) && l.us >= 0, `us ${l.us}`);
      if (id === rid3) {
        // 405: the path is known but no route row matched; any label but a raw path will do.
        assert.ok(l.route === '/healthz' || l.route === '-' || l.route === null, `route ${l.route}`);
      } else if (id === rid2) {
        assert.ok(!String(l.route).includes('job_abc123'), `route logged raw: ${l.route}`);
        assert.ok(String(l.route).startsWith('/api/v1/test/jobs/'), `route ${l.route}`);
      } else {
        assert.equal(l.route, route);
      }
    }
    // Every stderr line is one JSON object.
    const bad = parsedLogs(srv.logs).filter((l) => l.raw !== undefined);
    assert.deepEqual(bad, [], 'non-JSON lines on stderr');
  } finally {
    await srv.stop();
  }
});

test('logs never hold the query string, cookies or tokens', async () => {
  const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0', ATRIUM_LOG_LEVEL: 'debug' } });
  try {
    const rid = 'canary-' + Math.random().toString(36).slice(2, 10);
    const r = await srv.fetch('/api/v1/system?token=CANARY123&x=1', {
      headers: { cookie: 's=CANARY456; other=CANARY457', authorization: 'Bearer CANARY789', 'x-request-id': rid },
    });
    assert.equal(r.status, 200);
    await srv.fetch('/api/v1/nope?password=CANARY321', { headers: { cookie: 'session=CANARY654' } });
    await srv.post('/api/v1/test/jobs', '{"kind":"CANARY987"', { headers: { authorization: 'Basic CANARY741' } });
    await srv.waitForLog((l) => l.request_id === rid);
    await sleep(200);
    const all = srv.logs.join('\n');
    for (const c of ['CANARY123', 'CANARY456', 'CANARY457', 'CANARY789', 'CANARY321', 'CANARY654', 'CANARY741']) {
      assert.ok(!all.includes(c), `${c} found in logs`);
    }
    assert.ok(!all.includes('token='), 'query string logged');
  } finally {
    await srv.stop();
  }
});

test('idle and trickling connections do not starve others, and are closed after the timeout', async () => {
  const srv = await startServer({ env: { ATRIUM_CONNECTION_TIMEOUT: '2', ATRIUM_JOB_WORKERS: '0' } });
  const socks = [];
  try {
    let closed = 0;
    for (let i = 0; i < 64; i++) {
      const s = net.connect({ host: '127.0.0.1', port: srv.port });
      s.on('error', () => {});
      s.on('close', () => closed++);
      s.on('connect', () => s.write(i % 2 ? 'GET /healthz HTTP/1.1\r\nHo' : ''));
      socks.push(s);
    }
    await sleep(200);
    const t0 = Date.now();
    const h = await srv.req('/healthz');
    assert.equal(h.status, 200);
    assert.ok(Date.now() - t0 < 1000, `healthz took ${Date.now() - t0} ms with 64 slow clients`);
    const end = Date.now() + 8000;
    while (closed < 64 && Date.now() < end) await sleep(100);
    assert.equal(closed, 64, `${closed}/64 slow connections closed by the server within 8 s (timeout 2 s)`);
    assert.equal((await srv.req('/healthz')).status, 200);
  } finally {
    for (const s of socks) s.destroy();
    await srv.stop();
  }
});

test('500 connections opened and closed leave no descriptors behind', async () => {
  const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
  try {
    const fdDir = `/proc/${srv.proc.pid}/fd`;
    const count = () => fs.readdirSync(fdDir).length;
    await srv.req('/healthz');
    await sleep(200);
    const base = count();
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from(
          { length: 50 },
          () =>
            new Promise((resolve) => {
              const s = net.connect({ host: '127.0.0.1', port: srv.port });
              s.on('error', resolve);
              s.on('close', resolve);
              s.on('connect', () => {
                if (batch % 2) s.end('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
                else s.destroy();
              });
              s.resume();
            }),
        ),
      );
    }
    const end = Date.now() + 5000;
    let now = count();
    while (now > base && Date.now() < end) {
      await sleep(100);
      now = count();
    }
    assert.ok(now <= base, `descriptors ${base} → ${now}`);
    assert.equal((await srv.req('/healthz')).status, 200);
  } finally {
    await srv.stop();
  }
});

// Issue 12 item 6: address reuse let a second server bind the same port and take half the traffic.
test('a second `atrium serve` on a busy port exits with status 2 naming the address', async () => {
  const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
  try {
    const address = `127.0.0.1:${srv.port}`;
    const r = await srv.cli(['serve'], { ATRIUM_LISTEN: address, ATRIUM_JOB_WORKERS: '0' }, { timeout: 10_000 });
    assert.equal(r.timedOut, false, `the second server kept running: ${r.stdout}`);
    assert.equal(r.code, 2, `exit status; stderr: ${r.stderr}`);
    assert.ok(r.stderr.includes(address), `the message names ${address}: ${r.stderr}`);
    assert.match(r.stderr, /in use/);
    assert.ok(!r.stdout.includes('is ready'), r.stdout);
    // The first server still answers every request.
    for (let i = 0; i < 6; i++) assert.equal((await srv.req('/healthz')).status, 200);
  } finally {
    await srv.stop();
  }
});

// Issue 12 item 13: a byte every 300 ms kept MHD's inactivity timeout from ever firing.
test('clients trickling header bytes are cut at ATRIUM_HTTP_HEADER_TIMEOUT; others are still served', async () => {
  const srv = await startServer({
    env: { ATRIUM_HTTP_HEADER_TIMEOUT: '2', ATRIUM_CONNECTION_TIMEOUT: '30', ATRIUM_JOB_WORKERS: '0' },
  });
  const socks = [];
  const timers = [];
  try {
    const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(400);
    const closedAt = new Array(20).fill(0);
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) {
      const s = net.connect({ host: '127.0.0.1', port: srv.port });
      s.on('error', () => {});
      s.on('close', () => (closedAt[i] = Date.now()));
      let at = 0;
      s.on('connect', () => {
        timers.push(
          setInterval(() => {
            if (!s.destroyed && at < request.length) s.write(request[at++]);
          }, 300),
        );
      });
      socks.push(s);
    }
    await sleep(500);
    assert.equal((await srv.req('/healthz')).status, 200, 'a normal request while 20 clients trickle');
    const end = Date.now() + 6000;
    while (closedAt.some((t) => t === 0) && Date.now() < end) await sleep(100);
    const open = closedAt.filter((t) => t === 0).length;
    assert.equal(open, 0, `${open}/20 trickling connections still open ${Date.now() - t0} ms later (header timeout 2 s)`);
    for (const t of closedAt) assert.ok(t - t0 < 4500, `closed after ${t - t0} ms`);
    assert.equal((await srv.req('/healthz')).status, 200, 'served after the slow clients were cut');
  } finally {
    for (const t of timers) clearInterval(t);
    for (const s of socks) s.destroy();
    await srv.stop();
  }
});

test('a client trickling its body is cut at ATRIUM_HTTP_BODY_TIMEOUT', async () => {
  const srv = await startServer({
    env: { ATRIUM_HTTP_BODY_TIMEOUT: '2', ATRIUM_CONNECTION_TIMEOUT: '30', ATRIUM_JOB_WORKERS: '0' },
  });
  let timer;
  try {
    const body = JSON.stringify({ ms: 1 }) + ' '.repeat(200);
    const s = net.connect({ host: '127.0.0.1', port: srv.port });
    let answer = '';
    s.on('data', (d) => (answer += d));
    s.on('error', () => {});
    const closed = new Promise((resolve) => s.on('close', resolve));
    const t0 = Date.now();
    s.on('connect', () => {
      s.write(`POST /api/v1/test/sleep HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`);
      let at = 0;
      timer = setInterval(() => {
        if (!s.destroyed && at < body.length) s.write(body[at++]);
      }, 300);
    });
    const r = await within(closed, 6000);
    assert.notEqual(r, 'timeout', 'the trickling body was not cut within 6 s (body timeout 2 s)');
    assert.ok(Date.now() - t0 < 4500, `cut after ${Date.now() - t0} ms`);
    assert.ok(!answer.startsWith('HTTP/1.1 200'), 'the request was served anyway');
    assert.equal((await srv.req('/healthz')).status, 200);
  } finally {
    clearInterval(timer);
    await srv.stop();
  }
});

// Issue 12 item 17: closing the listening socket reset the connections still in its accept queue.
test('SIGTERM: connections waiting in the accept queue are answered (200 or 503), never reset', async () => {
  const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
  try {
    assert.equal((await srv.req('/healthz')).status, 200);
    // A stopped process accepts nothing: every connection made now waits in the kernel's queue.
    srv.proc.kill('SIGSTOP');
    const results = [];
    for (let i = 0; i < 40; i++) {
      results.push(
        rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 8000 }),
      );
    }
    await sleep(300);
    srv.proc.kill('SIGTERM');
    srv.proc.kill('SIGCONT');
    const all = await Promise.all(results);
    const reset = all.filter((r) => r.reset).length;
    const unanswered = all.filter((r) => !r.reset && r.status === null).length;
    assert.equal(reset, 0, `${reset}/40 queued connections were reset`);
    assert.equal(unanswered, 0, `${unanswered}/40 queued connections were closed without an answer`);
    for (const r of all) {
      assert.ok(r.status === 200 || r.status === 503, `status ${r.status}`);
      if (r.status === 503) {
        assert.equal(r.headers['connection'], 'close');
        assert.ok(r.headers['retry-after'], 'a 503 says when to retry');
        assert.equal(JSON.parse(r.body).status, 503);
      }
    }
    assert.equal(await within(srv.exited, 8000), 0);
  } finally {
    await srv.stop('SIGKILL');
  }
});

// Issue 12 item 16: a full disk answered a generic 500, and the WAL kept the space after it was freed.
// The store is made full deterministically: SQLite capped at its current size (PRAGMA max_page_count,
// through a test route), PostgreSQL refusing inserts with SQLSTATE 53100 (disk_full) from a trigger.
test('a full store: writes answer 507 storage-full with Retry-After, reads still work, and writes resume once space is back', async () => {
  const w = await startWorld({ extras: false, env: { ATRIUM_JOB_WORKERS: '0' } });
  const { srv, p, ws } = w;
  const pg = srv.backend === 'pg';
  const setFull = async (full) => {
    if (!pg) {
      const r = await srv.post('/api/v1/test/store/full', { full });
      assert.equal(r.status, 200, r.text);
    } else if (full) {
      await srv.sql(`CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$;
        CREATE TRIGGER test_disk_full BEFORE INSERT ON api_keys FOR EACH ROW EXECUTE FUNCTION test_disk_full();`);
    } else {
      await srv.sql('DROP TRIGGER test_disk_full ON api_keys; DROP FUNCTION test_disk_full();');
    }
  };
  const path = `/api/v1/workspaces/${ws.A}/api-keys`;
  const create = (name) => p.owner.post(path, { name, scopes: ['team:read'], owner: 'workspace' });
  try {
    assert.equal((await create('before-full')).status, 201);
    await setFull(true);
    let full = null;
    const made = [];
    for (let i = 0; i < 300 && !full; i++) {
      const r = await create(`while-full-${i}`);
      if (r.status === 201) made.push(r);
      else full = r;
    }
    assert.ok(full, 'every write succeeded on a full store');
    const problem = problemOf(full, 507);
    assert.equal(problem.type, 'urn:atrium:problem:storage-full');
    assert.ok(Number(full.headers.get('retry-after')) > 0, 'Retry-After');
    const count = Number(await srv.sql(`SELECT COUNT(*) FROM api_keys WHERE name LIKE 'while-full-%'`));
    assert.equal(count, made.length, 'the refused write changed nothing');
    // Reads still work, and further writes keep answering 507 (never a 500).
    assert.equal((await p.owner.get(path)).status, 200);
    problemOf(await create('still-full'), 507);
    if (!pg) {
      // The failed write checkpointed the WAL with TRUNCATE.
      const wal = fs.statSync(`${srv.databaseUrl.slice('sqlite:'.length)}-wal`).size;
      assert.ok(wal < 64 * 1024, `WAL still ${wal} bytes after a write failed for space`);
    }
    await setFull(false);
    for (let i = 0; i < 5; i++) assert.equal((await create(`after-full-${i}`)).status, 201, 'writes resume without a restart');
    assert.equal(srv.proc.exitCode, null, 'the server kept running');
  } finally {
    await w.stop();
  }
});

// The same on a real full disk: the SQLite store on a 4 MiB tmpfs, mounted in a mount namespace of
// the server's own (unshare; as root in CI, else in a user namespace), filled with a file from outside
// through /proc/PID/root, then freed. It does not depend on the backend under test.
test('a SQLite store on a tmpfs that fills up answers 507, and writes resume when space is freed', async () => {
  const sc = await makeScratch({ backend: 'sqlite' });
  const dir = path.join(sc.dataDir, 'small');
  fs.mkdirSync(dir);
  const atrium = repoPath(process.env.ATRIUM_BIN || './atrium');
  const ns = process.getuid() === 0 ? ['--mount'] : ['--map-root-user', '--mount'];
  const script = 'mount -t tmpfs -o size=4m tmpfs "$1" && "$0" demo >/dev/null && exec "$0" serve';
  let srv;
  try {
    srv = await startServer({
      scratch: sc,
      bin: '/usr/bin/unshare',
      args: [...ns, 'sh', '-c', script, atrium, dir],
      env: { ATRIUM_DATA_DIR: dir, ATRIUM_DATABASE_URL: `sqlite:${dir}/atrium.db`, ATRIUM_JOB_WORKERS: '0' },
    });
    const inside = (f) => `/proc/${srv.proc.pid}/root${dir}/${f}`;
    assert.ok(fs.existsSync(inside('atrium.db')), 'the database is on the tmpfs');
    const owner = await signIn(srv, 'owner', 'owner@acme.test', DEMO_PASSWORDS.owner);
    const switcher = await owner.get('/api/v1/workspaces');
    const wsA = switcher.body.items.find((i) => i.slug === 'acme-agency').id;
    const create = (name) => owner.post(`/api/v1/workspaces/${wsA}/api-keys`, { name, scopes: ['team:read'], owner: 'workspace' });
    assert.equal((await create('before-full')).status, 201);

    // Leave about 64 KiB free.
    const st = fs.statfsSync(inside('atrium.db'));
    const free = st.bavail * st.bsize;
    assert.ok(free > 256 * 1024, `only ${free} bytes free on the tmpfs before filling it`);
    fs.writeFileSync(inside('filler'), Buffer.alloc(free - 64 * 1024));
    let full = null;
    for (let i = 0; i < 300 && !full; i++) {
      const r = await create(`while-full-${i}`);
      if (r.status !== 201) full = r;
    }
    assert.ok(full, 'every write succeeded on a full disk');
    assert.equal(problemOf(full, 507).type, 'urn:atrium:problem:storage-full');
    assert.equal((await owner.get(`/api/v1/workspaces/${wsA}/api-keys`)).status, 200, 'reads still work');

    fs.unlinkSync(inside('filler'));
    for (let i = 0; i < 20; i++) assert.equal((await create(`after-full-${i}`)).status, 201, 'writes resume without a restart');
    assert.equal(srv.proc.exitCode, null, 'the server kept running');
  } finally {
    await srv?.stop();
    await sc.cleanup();
  }
});
