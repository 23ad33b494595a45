// The deployment recipes of deploy/ (issue 13, docs/operations.md): the systemd unit (verified by
// systemd-analyze, and the sd_notify protocol it relies on, received on a real datagram socket), the
// nginx and Caddy examples (checked by the servers themselves, then a request through each proving the
// client's address reaches Atrium), and the container recipe (built where a container engine runs,
// linted otherwise). None of this depends on the store, so it runs on SQLite only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, repoPath, canConnect, sleep } from '../lib/server.mjs';

const BACKEND = process.env.ATRIUM_TEST_BACKEND || 'sqlite';
const testOnSqlite = BACKEND === 'sqlite' ? test : () => {};
const BIN = repoPath(process.env.ATRIUM_BIN || './atrium');
const UNIT = repoPath('deploy/systemd/atrium.service');
const CLIENT_IP = '127.0.0.5'; // the test's "browser": a loopback address other than the proxy's

/** A scratch folder for the duration of fn. */
async function withDir(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-deploy-'));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** A TCP port free on 127.0.0.1 now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitConnect(port, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await canConnect(port, 500)) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port} after ${ms} ms`);
}

/** One request from CLIENT_IP (so the proxy sees a client that is not itself). Resolves {status, headers, text}. */
function request(url, headers = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      { method: 'GET', headers, localAddress: CLIENT_IP, rejectUnauthorized: false, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Starts a child process for the duration of fn; kills it (SIGTERM, then SIGKILL) afterwards. */
async function withProcess(cmd, args, opts, fn) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    return await fn(child, () => output);
  } finally {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * Asserts that requests through a proxy at `base` reach Atrium with the client's own address: a
 * client that writes X-Forwarded-For and Forwarded itself is not believed, the proxy is the `peer`,
 * and /metrics is not served to the public.
 */
async function assertClientAddressArrives(srv, base) {
  const before = srv.logs.length;
  const r = await request(`${base}/api/v1/system`, {
    'x-forwarded-for': '203.0.113.9',
    forwarded: 'for=198.51.100.1',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).name, 'atrium');
  const line = await srv.waitForLog((l) => l.msg === 'request' && l.route === '/api/v1/system');
  assert.equal(line.ip, CLIENT_IP, `the client address did not arrive: ${JSON.stringify(line)}`);
  assert.equal(line.peer, '127.0.0.1', JSON.stringify(line));
  assert.ok(srv.logs.length > before);
  const m = await request(`${base}/metrics`);
  assert.equal(m.status, 404, 'the proxy example serves /metrics to the public');
}

// ---------------------------------------------------------------------------------------------------
// The systemd unit

/** The unit's [Service] directives as [key, value] pairs, in order. */
function unitDirectives(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('[') && l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

testOnSqlite('the systemd unit passes systemd-analyze verify and security, with its hardening in place', async () => {
  if (!have('systemd-analyze')) {
    assert.fail('systemd-analyze is missing: scripts/deps.sh test installs the systemd package');
  }
  const text = fs.readFileSync(UNIT, 'utf8');
  const d = unitDirectives(text);
  const value = (k) => d.filter(([key]) => key === k).map(([, v]) => v);
  assert.deepEqual(value('Type'), ['notify']);
  assert.deepEqual(value('ExecStart'), ['/usr/local/bin/atrium serve']);
  for (const [k, v] of [
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['CapabilityBoundingSet', ''],
    ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'],
    ['ReadWritePaths', '/var/lib/atrium'],
  ])
    assert.deepEqual(value(k), [v], `${k}=${v}`);
  assert.ok(value('SystemCallFilter').includes('@system-service'));
  assert.ok(value('WatchdogSec').length === 1, 'WatchdogSec');
  assert.ok(value('LoadCredential').some((v) => v.startsWith('ATRIUM_SECRET_KEY:')), 'the key as a credential');

  await withDir(async (dir) => {
    // verify checks that ExecStart exists: point it at the binary under test.
    const copy = path.join(dir, 'atrium.service');
    fs.writeFileSync(copy, text.replaceAll('/usr/local/bin/atrium', BIN));
    const v = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stderr.trim(), '', `systemd-analyze verify warns:\n${v.stderr}`);
    const s = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', copy], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const m = /Overall exposure level for \S+: ([\d.]+)/.exec(s.stdout);
    assert.ok(m, s.stdout + s.stderr);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} (systemd-analyze security); want ≤ 2.0`);

    // The settings file the unit reads holds settings Atrium knows and accepts (paths moved into the
    // scratch), and the key arrives as the credential, made the way docs/operations.md says.
    assert.deepEqual(value('EnvironmentFile'), ['/etc/atrium/atrium.env']);
    const env = {};
    for (const line of fs.readFileSync(repoPath('deploy/systemd/atrium.env'), 'utf8').split('\n')) {
      if (!line.trim() || line.startsWith('#')) continue;
      const [k, ...rest] = line.split('=');
      env[k] = rest.join('=').replaceAll('/var/lib/atrium', dir);
    }
    assert.equal(env.ATRIUM_ENV, 'production');
    env.ATRIUM_LISTEN = '127.0.0.1:0';
    env.ATRIUM_METRICS_LISTEN = '127.0.0.1:0';
    const creds = path.join(dir, 'credentials');
    fs.mkdirSync(creds, { mode: 0o700 });
    const made = spawnSync('sh', ['-c', `openssl rand -hex 32 > ${creds}/ATRIUM_SECRET_KEY`]);
    assert.equal(made.status, 0);
    const cli = (args, input) =>
      spawnSync(BIN, args, {
        env: { PATH: process.env.PATH, ...env, CREDENTIALS_DIRECTORY: creds },
        encoding: 'utf8',
        input,
        timeout: 60_000,
      });
    const c = cli(['config', 'check']);
    assert.equal(c.status, 0, c.stderr);
    assert.ok(!/unknown/i.test(c.stderr), c.stderr);
    assert.match(c.stdout, /^ATRIUM_SECRET_KEY=\(set, hidden\)$/m);
    assert.equal(cli(['migrate']).status, 0);
    const u = cli(['user', 'add', 'ops@example.test', '--password-stdin'], 'correct-horse-battery-staple-42\n');
    assert.equal(u.status, 0, u.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'keys')), 'the key came from the credential, not a file in the data folder');
    const a = cli(['audit', 'verify']);
    assert.equal(a.status, 0, a.stderr);
  });
});

// The sd_notify receiver: Node has no AF_UNIX datagram sockets, so python3 binds one (an abstract name,
// as systemd's is not) and prints each datagram as a JSON line.
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1].replace('@', '\\0', 1))
print(json.dumps("BOUND"), flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

testOnSqlite('atrium serve notifies READY=1 once its port answers, WATCHDOG=1 while alive, STOPPING=1 on SIGTERM', async () => {
  const name = `@atrium-notify-test-${process.pid}-${Date.now()}`;
  await withProcess('python3', ['-c', RECEIVER, name], {}, async (child) => {
    const messages = [];
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        messages.push({ at: Date.now(), text: JSON.parse(buf.slice(0, i)) });
        buf = buf.slice(i + 1);
      }
    });
    const waitFor = async (re, ms = 10_000) => {
      const end = Date.now() + ms;
      for (;;) {
        const hit = messages.find((m) => re.test(m.text));
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`no ${re} within ${ms} ms: ${JSON.stringify(messages)}`);
        await sleep(20);
      }
    };
    await waitFor(/^BOUND$/);
    const srv = await startServer({ env: { NOTIFY_SOCKET: name, WATCHDOG_USEC: '400000' } });
    try {
      const ready = await waitFor(/(^|\n)READY=1(\n|$)/);
      // Sent after the listening socket answers: the port takes a request now.
      const h = await srv.fetch('/healthz');
      assert.equal(h.status, 200);
      assert.ok(!messages.some((m) => /STOPPING=1/.test(m.text)));
      await waitFor(/^WATCHDOG=1$/, 5000);
      const watchdogs = () => messages.filter((m) => m.text === 'WATCHDOG=1').length;
      await sleep(700);
      assert.ok(watchdogs() >= 2, `WATCHDOG=1 every 200 ms; got ${watchdogs()}`);
      assert.ok(messages.indexOf(ready) < messages.findIndex((m) => m.text === 'WATCHDOG=1'));
      assert.equal(await srv.stop('SIGTERM'), 0);
      const stopping = await waitFor(/(^|\n)STOPPING=1(\n|$)/);
      assert.ok(stopping.at >= ready.at);
    } finally {
      await srv.stop();
    }
  });
});

testOnSqlite('without NOTIFY_SOCKET nothing is sent and serve starts as before; a bad one is only a warning', async () => {
  const srv = await startServer({ env: { NOTIFY_SOCKET: 'not/a/socket' } });
  try {
    assert.equal((await srv.fetch('/healthz')).status, 200);
    await srv.waitForLog((l) => l.msg === 'cannot notify the service manager');
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});

// ---------------------------------------------------------------------------------------------------
// nginx

/** A self-signed certificate for 127.0.0.1 in dir: {cert, key}. */
function selfSigned(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=atrium.example.com', '-keyout', key, '-out', cert],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return { cert, key };
}

testOnSqlite('the nginx example passes nginx -t and brings the client address to Atrium over TLS', async () => {
  if (!have('nginx') || !have('openssl')) assert.fail('nginx and openssl come with scripts/deps.sh test');
  await withDir(async (dir) => {
    const srv = await startServer({ env: { ATRIUM_TRUSTED_PROXIES: '127.0.0.1/32', ATRIUM_TLS: 'true' } });
    try {
      const { cert, key } = selfSigned(dir);
      const [tlsPort, plainPort] = [await freePort(), await freePort()];
      let site = fs.readFileSync(repoPath('deploy/nginx/atrium.conf'), 'utf8');
      // The example as shipped, moved to this test's certificate, ports and Atrium.
      const swaps = [
        ['/etc/letsencrypt/live/atrium.example.com/fullchain.pem', cert],
        ['/etc/letsencrypt/live/atrium.example.com/privkey.pem', key],
        ['listen 443 ssl http2;', `listen 127.0.0.1:${tlsPort} ssl http2;`],
        ['listen [::]:443 ssl http2;', ''],
        ['listen 80;', `listen 127.0.0.1:${plainPort};`],
        ['listen [::]:80;', ''],
        ['server 127.0.0.1:8080;', `server 127.0.0.1:${srv.port};`],
      ];
      for (const [from, to] of swaps) {
        assert.ok(site.includes(from), `deploy/nginx/atrium.conf no longer has '${from}'`);
        site = site.replaceAll(from, to);
      }
      fs.writeFileSync(path.join(dir, 'atrium.conf'), site);
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((t) => `${t}_temp_path ${dir}/${t};`)
        .join(' ');
      fs.writeFileSync(
        path.join(dir, 'nginx.conf'),
        `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;\n` +
          `events {}\nhttp { access_log off; ${temp} include ${dir}/atrium.conf; }\n`,
      );
      const t = spawnSync('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      assert.equal(t.status, 0, t.stderr);
      assert.match(t.stderr, /test is successful/);

      await withProcess('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], {}, async (_child, output) => {
        await waitConnect(tlsPort).catch((e) => assert.fail(`${e.message}\n${output()}`));
        await assertClientAddressArrives(srv, `https://127.0.0.1:${tlsPort}`);
        const redirect = await request(`http://127.0.0.1:${plainPort}/settings?x=1`, { host: 'atrium.example.com' });
        assert.equal(redirect.status, 308);
        assert.equal(redirect.headers.location, 'https://atrium.example.com/settings?x=1');
      });
    } finally {
      await srv.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Caddy

testOnSqlite('the Caddy example passes caddy validate and brings the client address to Atrium', async () => {
  const file = repoPath('deploy/caddy/Caddyfile');
  const text = fs.readFileSync(file, 'utf8');
  // What matters for Atrium, whatever Caddy can check here.
  assert.match(text, /reverse_proxy 127\.0\.0\.1:8080/);
  assert.match(text, /header_up -Forwarded/);
  assert.match(text, /respond \/metrics 404/);
  const depth = [...text.replace(/#.*$/gm, '')].reduce((n, c) => n + (c === '{') - (c === '}'), 0);
  assert.equal(depth, 0, 'unbalanced braces');
  if (!have('caddy')) {
    // scripts/deps.sh test installs Debian's caddy; without it the checks above are all we do.
    return;
  }
  await withDir(async (dir) => {
    const env = { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
    const v = spawnSync('caddy', ['validate', '--config', file, '--adapter', 'caddyfile'], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout + v.stderr, /Valid configuration/);

    // Served on plain HTTP here (no certificate authority to ask), otherwise the file as shipped.
    const srv = await startServer({ env: { ATRIUM_TRUSTED_PROXIES: '127.0.0.1/32' } });
    try {
      const port = await freePort();
      const local = path.join(dir, 'Caddyfile');
      fs.writeFileSync(
        local,
        '{\n\tadmin off\n\tauto_https off\n}\n' +
          text
            .replace('atrium.example.com {', `http://127.0.0.1:${port} {`)
            .replace('reverse_proxy 127.0.0.1:8080', `reverse_proxy 127.0.0.1:${srv.port}`),
      );
      await withProcess('caddy', ['run', '--config', local, '--adapter', 'caddyfile'], { env }, async (_c, output) => {
        await waitConnect(port).catch((e) => assert.fail(`${e.message}\n${output()}`));
        await assertClientAddressArrives(srv, `http://127.0.0.1:${port}`);
      });
    } finally {
      await srv.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// The container recipe

/** The Containerfile's instructions: [{op, args, line}], continuation lines joined. */
function instructions(text) {
  const out = [];
  let cur = '';
  let line = 0;
  text.split('\n').forEach((l, i) => {
    if (!cur && (l.trim().startsWith('#') || !l.trim())) return;
    if (!cur) line = i + 1;
    cur += l.replace(/\\$/, ' ');
    if (!l.endsWith('\\')) {
      const m = /^\s*(\S+)\s*(.*)$/.exec(cur);
      out.push({ op: m[1].toUpperCase(), args: m[2].trim(), line });
      cur = '';
    }
  });
  return out;
}

/** The shared libraries the binary links against, as the Debian packages that ship them. */
function runtimePackages() {
  const r = spawnSync('readelf', ['-d', BIN], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const libs = [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map((m) => m[1]);
  const pkgs = new Map();
  for (const lib of libs) {
    const s = spawnSync('dpkg', ['-S', `*/${lib}`], { encoding: 'utf8' });
    if (s.status !== 0) continue;
    const pkg = s.stdout.split('\n')[0].split(':')[0];
    pkgs.set(lib, pkg);
  }
  return pkgs;
}

testOnSqlite('the container recipe builds a non-root image with a health check and the data folder as a volume', async () => {
  const file = repoPath('deploy/container/Containerfile');
  const ins = instructions(fs.readFileSync(file, 'utf8'));
  const froms = ins.filter((i) => i.op === 'FROM');
  assert.ok(froms.length >= 2, 'a multi-stage build');
  for (const f of froms) assert.match(f.args, /debian:12(-slim)?\b|-bookworm(-slim)?\b/, `line ${f.line}: Debian 12`);
  assert.match(froms.at(-1).args, /debian:12/, 'the runtime is Debian 12 itself');
  const stages = froms.map((f) => /\bAS\s+(\S+)/i.exec(f.args)?.[1]).filter(Boolean);
  const lastFrom = ins.lastIndexOf(froms.at(-1));
  const final = ins.slice(lastFrom);

  // Every COPY from the build context names a file or folder of this repository; --from a stage.
  for (const c of ins.filter((i) => i.op === 'COPY')) {
    const words = c.args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='));
    const paths = words.filter((w) => !w.startsWith('--'));
    // COPY sources are relative to the build context (the repository), whatever the WORKDIR.
    assert.ok(paths.length >= 2, `line ${c.line}: COPY SRC... DEST`);
    if (from) {
      assert.ok(stages.includes(from.slice(7)), `line ${c.line}: no stage ${from}`);
      continue;
    }
    for (const src of paths.slice(0, -1)) assert.ok(fs.existsSync(repoPath(src)), `line ${c.line}: ${src} does not exist`);
  }

  // The final stage: a user that is not root, a health check on /healthz at the listening port, the
  // data folder as a volume, and the libraries the binary needs.
  const users = final.filter((i) => i.op === 'USER');
  assert.equal(users.length, 1, 'USER in the final stage');
  assert.ok(!/^(root|0)(:|$)/.test(users[0].args), `USER ${users[0].args}`);
  const env = Object.fromEntries(
    final
      .filter((i) => i.op === 'ENV')
      .flatMap((i) => i.args.split(/\s+/))
      .map((kv) => kv.split('=')),
  );
  const port = /:(\d+)$/.exec(env.ATRIUM_LISTEN)?.[1];
  assert.ok(port, 'ENV ATRIUM_LISTEN=host:port');
  assert.match(env.ATRIUM_LISTEN, /^0\.0\.0\.0:/, 'reachable from outside the container');
  assert.ok(final.some((i) => i.op === 'EXPOSE' && i.args.split(/\s+/).includes(port)), `EXPOSE ${port}`);
  const hc = final.filter((i) => i.op === 'HEALTHCHECK');
  assert.equal(hc.length, 1, 'HEALTHCHECK');
  assert.match(hc[0].args, new RegExp(`CMD .*http://127\\.0\\.0\\.1:${port}/healthz`));
  const volume = final.find((i) => i.op === 'VOLUME');
  assert.ok(volume && volume.args.includes(env.ATRIUM_DATA_DIR), 'the data folder is a VOLUME');
  assert.ok(env.ATRIUM_DATABASE_URL.startsWith(`sqlite:${env.ATRIUM_DATA_DIR}/`), 'the database lives in the volume');
  const installs = final
    .filter((i) => i.op === 'RUN')
    .map((i) => i.args)
    .join(' ');
  // The sanitizer runtimes come only from the ASan test build; the image builds a release binary.
  for (const [lib, pkg] of runtimePackages())
    if (!/^libc6|^libgcc|^libasan|^libubsan|^liblsan|^libtsan/.test(pkg)) assert.ok(installs.includes(` ${pkg} `), `${lib} needs ${pkg} in the final stage`);
  if (hc[0].args.includes('curl')) assert.match(installs, / curl /);
  const entry = final.find((i) => i.op === 'ENTRYPOINT');
  const copied = final.find((i) => i.op === 'COPY' && i.args.includes('--from='));
  assert.ok(entry && copied && copied.args.endsWith(JSON.parse(entry.args)[0]), 'ENTRYPOINT is the binary copied in');
  const cmd = JSON.parse(final.find((i) => i.op === 'CMD').args);
  const help = spawnSync(BIN, ['help'], { encoding: 'utf8' }).stdout;
  assert.ok(help.includes(`  ${cmd.join(' ')} `) || help.includes(`  ${cmd[0]} [${cmd[1]}]`), `atrium ${cmd.join(' ')}`);

  // What the image runs, run here: CMD with the image's settings (the data folder and port moved into
  // a scratch) starts in production on an empty folder, and the HEALTHCHECK command passes against it.
  await withDir(async (dir) => {
    const scratchEnv = {
      ...env,
      ATRIUM_DATA_DIR: dir,
      ATRIUM_DATABASE_URL: env.ATRIUM_DATABASE_URL.replace(env.ATRIUM_DATA_DIR, dir),
      ATRIUM_LISTEN: '127.0.0.1:0',
    };
    const srv = await startServer({ args: cmd, env: scratchEnv });
    try {
      const check = hc[0].args.replace(/^.*?CMD\s+/, '').replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${srv.port}`);
      const r = spawnSync('sh', ['-c', check], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 0, `HEALTHCHECK ${check}: ${r.stdout}${r.stderr}`);
      assert.ok(fs.existsSync(path.join(dir, 'keys', 'hash.key')), 'the first start made the key in the volume');
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  });

  // A real build where an engine answers (none does on the CI machine: docker without a daemon).
  for (const engine of ['podman', 'docker', 'buildah']) {
    if (!have(engine)) continue;
    const info = spawnSync(engine, ['info'], { stdio: 'ignore', timeout: 20_000 });
    if (info.status !== 0) continue;
    const b = spawnSync(engine, ['build', '-f', file, '-t', 'atrium-test', repoPath('.')], {
      encoding: 'utf8',
      timeout: 1_800_000,
    });
    assert.equal(b.status, 0, b.stderr.slice(-4000));
    break;
  }
});

// ---------------------------------------------------------------------------------------------------
// docs/operations.md: every atrium command in its sh blocks is one the binary knows

/** `atrium help` (and `atrium user help`) as {command → {text, subcommands}}. */
function helpIndex() {
  const out = {};
  let cur = null;
  for (const line of spawnSync(BIN, ['help'], { encoding: 'utf8' }).stdout.split('\n')) {
    const m = /^ {2}([a-z][a-z-]*)(.*)$/.exec(line);
    if (m) {
      cur = out[m[1]] ||= { text: '', subcommands: new Set() };
      for (const s of line.matchAll(new RegExp(`(?:^|\\|)\\s*${m[1]} ([a-z][a-z|-]*)`, 'g')))
        for (const w of s[1].split('|')) cur.subcommands.add(w);
    } else if (!/^\s{4,}/.test(line)) {
      cur = null;
    }
    if (cur) cur.text += line + '\n';
  }
  const user = spawnSync(BIN, ['user', 'help'], { encoding: 'utf8' });
  out.user.text += user.stdout + user.stderr;
  return out;
}

/** The atrium invocations in the sh blocks of a Markdown file: [{line, args}]. */
function documentedCommands(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  for (const block of text.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const joined = block[1].replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      for (const segment of line.split(/\||&&|;/)) {
        const words = segment
          .trim()
          .split(/\s+/)
          .filter((w) => w);
        while (words.length && /^[A-Z_]+=/.test(words[0])) words.shift();
        let args = null;
        if (words[0] === 'atrium' || words[0] === 'atrium_as_service') args = words.slice(1);
        else if (/^(podman|docker)$/.test(words[0]) && words[1] === 'exec' && words[3] === 'atrium') args = words.slice(4);
        if (args) out.push({ line, args });
      }
    }
  }
  return out;
}

testOnSqlite('every atrium command in the sh blocks of docs/operations.md exists, with options it takes', () => {
  const help = helpIndex();
  const cmds = documentedCommands(repoPath('docs/operations.md'));
  assert.ok(cmds.length >= 10, `found only ${cmds.length} commands`);
  const seen = new Set();
  for (const { line, args } of cmds) {
    const h = help[args[0]];
    assert.ok(h, `${line}: atrium has no command '${args[0]}'`);
    seen.add(args[0]);
    if (h.subcommands.size) assert.ok(h.subcommands.has(args[1]), `${line}: no '${args[0]} ${args[1]}' in atrium help`);
    for (const opt of args.filter((a) => a.startsWith('--')))
      assert.ok(h.text.includes(opt), `${line}: '${args[0]}' takes no ${opt}`);
  }
  // The recipes are really documented: the doc's commands cover the operator's life.
  for (const c of ['migrate', 'serve', 'backup', 'restore', 'config', 'audit', 'version']) assert.ok(seen.has(c), c);
});
