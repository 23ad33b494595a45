// The one black-box harness (DESIGN.md §6): starts the real `atrium` binary on a free loopback port
// against a scratch store (SQLite file or a fresh PostgreSQL database), and cleans everything up.
//
//   const srv = await startServer({ env: { ATRIUM_JOB_WORKERS: '0' } });
//   const res = await srv.fetch('/healthz');
//   await srv.stop();                       // resolves with the exit code
//
// Environment read here:
//   ATRIUM_TEST_BACKEND  sqlite (default) | pg
//   ATRIUM_TEST_PG_URL   postgres://user@host:port/db of a server where this harness may CREATE DATABASE
//   ATRIUM_BIN           the binary to test (default ./atrium), relative to the repo root
//   ATRIUM_TEST_SANITIZER 'asan' when ATRIUM_BIN is the ASan+UBSan build (scripts/test.sh sets it):
//                        tests may relax memory and timing bounds then (see SANITIZER below)
//
// Every wait has a timeout; every server, scratch folder and scratch database is removed by stop()
// or, if a test forgot, when the test process exits.

import { spawn, spawnSync, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 20_000;
const CLI_TIMEOUT_MS = 30_000;
const FETCH_TIMEOUT_MS = 30_000;
const PSQL_TIMEOUT_MS = 30_000;

/** 'asan' under the sanitizer build, else ''. */
export const SANITIZER = process.env.ATRIUM_TEST_SANITIZER || '';

export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Absolute path of a repo-relative (or absolute) path. */
export function repoPath(p) {
  return path.isAbsolute(p) ? p : path.join(REPO_ROOT, p);
}

// ---------------------------------------------------------------------------------------------------
// Cleanup of everything this process started, even when a test forgets or the process is killed.

const live = new Set(); // { proc?, dataDir, ownsDir, pgDb?, pgAdminUrl? }

function cleanupSync() {
  for (const r of live) {
    try {
      if (r.proc && r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    } catch {}
  }
  for (const r of live) {
    if (r.pgDb) {
      try {
        spawnSync('psql', ['-X', '-q', '-d', r.pgAdminUrl, '-c', `DROP DATABASE IF EXISTS "${r.pgDb}" WITH (FORCE)`], {
          stdio: 'ignore',
          timeout: 10_000,
        });
      } catch {}
    }
    if (r.ownsDir && r.dataDir) {
      try {
        fs.rmSync(r.dataDir, { recursive: true, force: true });
      } catch {}
    }
  }
  live.clear();
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    cleanupSync();
    process.exit(128 + (os.constants.signals[sig] || 15));
  });
}

// ---------------------------------------------------------------------------------------------------
// Small helpers.

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Environment for the child: ours without any ATRIUM_* (so a developer's shell can't leak in). */
function baseEnv() {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ATRIUM_')) out[k] = v;
  return out;
}

/** Drops keys whose value is undefined or null, so callers can unset a harness default. */
function cleanEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

function run(cmd, args, { env, timeout = CLI_TIMEOUT_MS, input, cwd = REPO_ROOT } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: cleanEnv(env), cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, stdout, stderr: stderr + String(err), timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (os.constants.signals[signal] || 0), signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** psql against a URL; rejects with psql's stderr on failure. Returns trimmed stdout. */
export async function psql(url, sql) {
  const r = await run('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
    env: baseEnv(),
    timeout: PSQL_TIMEOUT_MS,
  });
  if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${sql}\n${r.stderr}`);
  return r.stdout.trim();
}

/** sqlite3 on a database file; rejects with stderr on failure. Returns trimmed stdout. */
export async function sqlite(file, sql) {
  const r = await run('sqlite3', ['-batch', file, sql], { env: baseEnv(), timeout: PSQL_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`sqlite3 failed (${r.code}): ${sql}\n${r.stderr}`);
  return r.stdout.trim();
}

/** Runs SQL on whichever store a scratch/server uses. */
export async function storeSql(target, sql) {
  if (target.backend === 'pg') return psql(target.databaseUrl, sql);
  return sqlite(target.databaseUrl.replace(/^sqlite:/, ''), sql);
}

function pgUrlFor(adminUrl, db) {
  const u = new URL(adminUrl);
  u.pathname = '/' + db;
  return u.href;
}

// ---------------------------------------------------------------------------------------------------
// Scratch stores.

/**
 * Creates a scratch data dir (and for PG a fresh database). Returns
 * { backend, dataDir, databaseUrl, env, cli(args, extraEnv), cleanup() }.
 */
export async function makeScratch({ backend = process.env.ATRIUM_TEST_BACKEND || 'sqlite', bin } = {}) {
  if (backend !== 'sqlite' && backend !== 'pg') throw new Error(`unknown ATRIUM_TEST_BACKEND '${backend}'`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-test-'));
  const rec = { dataDir, ownsDir: true };
  live.add(rec);
  let databaseUrl;
  if (backend === 'pg') {
    const admin = process.env.ATRIUM_TEST_PG_URL;
    if (!admin) {
      cleanupRec(rec);
      throw new Error('ATRIUM_TEST_BACKEND=pg needs ATRIUM_TEST_PG_URL (scripts/test.sh starts a server)');
    }
    const db = `atrium_t_${process.pid}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    rec.pgAdminUrl = admin;
    rec.pgDb = db;
    try {
      await psql(admin, `CREATE DATABASE "${db}"`);
    } catch (e) {
      rec.pgDb = undefined;
      await cleanupRec(rec);
      throw e;
    }
    databaseUrl = pgUrlFor(admin, db);
  } else {
    databaseUrl = `sqlite:${path.join(dataDir, 'atrium.db')}`;
  }
  const scratch = {
    backend,
    dataDir,
    databaseUrl,
    bin: repoPath(bin || process.env.ATRIUM_BIN || './atrium'),
    env: { ATRIUM_ENV: 'test', ATRIUM_LISTEN: '127.0.0.1:0', ATRIUM_DATA_DIR: dataDir, ATRIUM_DATABASE_URL: databaseUrl },
    /** Runs the binary with this scratch's env (+ extraEnv); resolves {code, stdout, stderr}. */
    cli(args, extraEnv = {}, opts = {}) {
      return run(scratch.bin, args, { env: { ...baseEnv(), ...scratch.env, ...extraEnv }, ...opts });
    },
    sql(q) {
      return storeSql(scratch, q);
    },
    cleanup() {
      return cleanupRec(rec);
    },
  };
  return scratch;
}

async function cleanupRec(rec) {
  live.delete(rec);
  if (rec.pgDb) {
    try {
      await psql(rec.pgAdminUrl, `DROP DATABASE IF EXISTS "${rec.pgDb}" WITH (FORCE)`);
    } catch {}
  }
  if (rec.ownsDir) fs.rmSync(rec.dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------
// The server.

const READY_RE = /Atrium is ready at (http:\/\/127\.0\.0\.1:(\d+)\/)/;

/**
 * Starts `atrium serve --init` (--init: a scratch store starts empty, and only an explicit --init lets
 * serve create a SQLite database). Options:
 *   env      extra environment (overrides the harness defaults)
 *   backend  'sqlite' | 'pg'
 *   bin      binary path (repo-relative or absolute)
 *   scratch  reuse a store from makeScratch() (the caller cleans it up; stop() leaves it)
 *   args     arguments instead of ['serve', '--init']
 */
export async function startServer({
  env = {},
  backend = process.env.ATRIUM_TEST_BACKEND || 'sqlite',
  bin = process.env.ATRIUM_BIN || './atrium',
  scratch = null,
  args = ['serve', '--init'],
} = {}) {
  const ownsScratch = !scratch;
  const sc = scratch || (await makeScratch({ backend, bin }));
  const binPath = repoPath(bin);
  const fullEnv = cleanEnv({ ...baseEnv(), ...sc.env, ...env });
  const logs = [];
  const stdoutLines = [];
  const rec = { dataDir: sc.dataDir, ownsDir: false };

  const proc = spawn(binPath, args, { env: fullEnv, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  rec.proc = proc;
  live.add(rec);
  // A forgotten server must not keep the test file alive; the exit hook kills it.
  proc.unref();
  proc.stdout.unref?.();
  proc.stderr.unref?.();

  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? 128 + (os.constants.signals[signal] || 0)));
    proc.on('error', () => resolve(-1));
  });
  let spawnError = null;
  proc.on('error', (e) => (spawnError = e));

  const lineReader = (stream, sink, onLine) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        sink.push(line);
        onLine?.(line);
      }
    });
    stream.on('end', () => {
      if (buf) sink.push(buf);
      buf = '';
    });
  };

  let url;
  let port;
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`atrium did not print "Atrium is ready" within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    lineReader(proc.stdout, stdoutLines, (line) => {
      const m = READY_RE.exec(line);
      if (m && !url) {
        url = m[1];
        port = Number(m[2]);
        clearTimeout(timer);
        resolve();
      }
    });
    lineReader(proc.stderr, logs);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`atrium exited with ${code} before it was ready${spawnError ? ` (${spawnError.message})` : ''}`));
    });
  });

  const cleanupAll = async () => {
    live.delete(rec);
    if (ownsScratch) await sc.cleanup();
  };

  try {
    await ready;
  } catch (e) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await within(exited, 5000);
    await cleanupAll();
    e.message += `\nbinary: ${binPath} ${args.join(' ')}\nstdout:\n${stdoutLines.join('\n')}\nstderr:\n${logs.join('\n')}`;
    throw e;
  }

  let stopping = null;
  const srv = {
    url,
    port,
    backend: sc.backend,
    dataDir: sc.dataDir,
    databaseUrl: sc.databaseUrl,
    env: fullEnv,
    logs,
    stdout: stdoutLines,
    proc,
    exited,
    scratch: sc,
    /** fetch relative to the server URL; a default 30 s timeout unless opts.signal is given. */
    fetch(p, opts = {}) {
      const target = new URL(String(p).replace(/^\//, ''), url);
      return fetch(target, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'manual', ...opts });
    },
    /** fetch + parse: {status, headers, body (parsed JSON or null), text}. */
    async req(p, opts = {}) {
      const res = await srv.fetch(p, opts);
      const text = await res.text();
      let body = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, headers: res.headers, body, text };
    },
    /** POST a JSON value (or a raw string body) with Content-Type application/json. */
    post(p, body, opts = {}) {
      return srv.req(p, {
        method: 'POST',
        ...opts,
        headers: { 'content-type': 'application/json', ...(opts.headers || {}) },
        body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
      });
    },
    /** Current /metrics as a parsed map (see parseMetrics). */
    async metrics() {
      const res = await srv.fetch('/metrics');
      const text = await res.text();
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text.slice(0, 500)}`);
      return parseMetrics(text);
    },
    /** Access-log entries (parsed JSON lines with msg "request"). */
    accessLogs() {
      return parsedLogs(logs).filter((l) => l.msg === 'request');
    },
    /** Waits until predicate(logs) is truthy, up to timeoutMs. */
    async waitForLog(pred, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = parsedLogs(logs).find(pred);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`log line not seen within ${timeoutMs} ms; logs:\n${logs.join('\n')}`);
        await sleep(25);
      }
    },
    /** Sends a signal and waits for the exit (SIGKILL after 20 s); resolves with the exit code. */
    stop(signal = 'SIGTERM') {
      if (!stopping) {
        stopping = (async () => {
          if (proc.exitCode === null && proc.signalCode === null) {
            try {
              proc.kill(signal);
            } catch {}
          }
          let killTimer;
          const code = await Promise.race([
            exited,
            new Promise((resolve) => {
              killTimer = setTimeout(() => {
                try {
                  proc.kill('SIGKILL');
                } catch {}
                exited.then(resolve);
              }, STOP_TIMEOUT_MS);
            }),
          ]);
          clearTimeout(killTimer);
          await cleanupAll();
          return code;
        })();
      }
      return stopping;
    },
    /** Runs the same binary with the same env (+ extraEnv); resolves {code, stdout, stderr}. */
    cli(cliArgs, extraEnv = {}, opts = {}) {
      return run(binPath, cliArgs, { env: { ...fullEnv, ...extraEnv }, ...opts });
    },
    sql(q) {
      return storeSql(sc, q);
    },
  };
  return srv;
}

// ---------------------------------------------------------------------------------------------------
// Response and protocol helpers.

/** Parses a fetch Response as JSON; throws with the status and text if it is not JSON. */
export async function json(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected JSON, got ${res.status} ${res.headers.get('content-type')}: ${text.slice(0, 500)}`);
  }
}

/** The JSON log lines (unparseable lines are returned as {raw}). */
export function parsedLogs(lines) {
  return lines
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return { raw: l };
      }
    });
}

/**
 * Parses Prometheus text. Returns { text, types: Map(name → type), samples: [{name, labels, value}],
 * get(name, labels?) → value of the one sample whose labels include `labels` (undefined if none),
 * sum(name, labels?) → sum over matching samples }.
 */
export function parseMetrics(text) {
  const samples = [];
  const types = new Map();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('#')) {
      const m = /^# TYPE (\S+) (\S+)/.exec(line);
      if (m) types.set(m[1], m[2]);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    if (!m) {
      samples.push({ name: null, bad: line });
      continue;
    }
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;
      let lm;
      while ((lm = re.exec(m[3]))) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  const match = (s, name, labels) =>
    s.name === name && Object.entries(labels || {}).every(([k, v]) => s.labels[k] === String(v));
  return {
    text,
    types,
    samples,
    get(name, labels) {
      const hits = samples.filter((s) => match(s, name, labels));
      return hits.length ? hits[0].value : undefined;
    },
    all(name, labels) {
      return samples.filter((s) => match(s, name, labels));
    },
    sum(name, labels) {
      return samples.filter((s) => match(s, name, labels)).reduce((a, s) => a + s.value, 0);
    },
  };
}

/**
 * Sends raw bytes over a TCP socket to 127.0.0.1:port and collects the answer until the server closes
 * or `timeoutMs` passes. Resolves { status (number|null), headers (lower-case map), body, raw, closed,
 * reset, timedOut }.
 */
export function rawRequest(port, bytes, { timeoutMs = 5000, halfClose = false } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    let reset = false;
    let timedOut = false;
    let done = false;
    const sock = net.connect({ host: '127.0.0.1', port });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const head = raw.split('\r\n\r\n')[0];
      const lines = head.split('\r\n');
      const sm = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] || '');
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const bodyStart = raw.indexOf('\r\n\r\n');
      resolve({
        status: sm ? Number(sm[1]) : null,
        headers,
        body: bodyStart >= 0 ? raw.slice(bodyStart + 4) : '',
        raw,
        closed: !timedOut,
        reset,
        timedOut,
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      finish();
    }, timeoutMs);
    sock.on('connect', () => {
      sock.write(bytes, () => {
        if (halfClose) sock.end();
      });
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
      else chunks.push(Buffer.from(''));
      finish();
    });
    sock.on('close', finish);
    sock.on('end', finish);
  });
}

/** Resolves true when a TCP connection to 127.0.0.1:port is accepted within timeoutMs. */
export function canConnect(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => {
      sock.destroy();
      resolve(false);
    }, timeoutMs);
    sock.on('connect', () => {
      clearTimeout(t);
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

/** The problem+json checks every error response must pass; returns the parsed body. */
export function problemOf(r, status) {
  const ct = r.headers.get('content-type') || '';
  if (!ct.startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json ${status}, got ${r.status} '${ct}': ${r.text.slice(0, 300)}`);
  }
  if (r.status !== status) throw new Error(`expected status ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
  const b = r.body;
  if (!b || typeof b.type !== 'string' || typeof b.title !== 'string' || b.status !== status) {
    throw new Error(`bad problem body for ${status}: ${r.text.slice(0, 300)}`);
  }
  return b;
}

/** atrium_jobs{state} gauges from /metrics: {queued, running, done, dead}. */
export async function jobCounts(srv) {
  const m = await srv.metrics();
  const out = {};
  for (const state of ['queued', 'running', 'done', 'dead']) out[state] = m.get('atrium_jobs', { state });
  return out;
}

/** Resolves with p's value, or with the string 'timeout' after ms (the timer is cleared either way). */
export function within(p, ms) {
  let timer;
  return Promise.race([p, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export { sleep };
