// Brute force, lockout and enumeration (reliability.md T5 a, b, d; §6.3): the per-account lock ladder
// on the test clock, the per-IP window with 429 + Retry-After, and identical answers (status, body,
// headers, time) for wrong password, unknown email, disabled and locked accounts. Both backends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startServer } from '../lib/server.mjs';

// ---------------------------------------------------------------------------------------------------
// Helpers (each auth-*.test.mjs file carries its own copy: only test files live in tests/api).

const NO_IP_LIMIT = { ATRIUM_LOGIN_IP_PER_MINUTE: '100000' };
const INVALID_CREDENTIALS =
  '{"type":"urn:atrium:problem:invalid-credentials","title":"The email or password is incorrect.","status":401}';
const STEP = 60;
const MAX = 900;

const uniq = (p) => `${p}-${randomBytes(4).toString('hex')}`;
const strongPw = () => `Tidal-${randomBytes(6).toString('hex')}-Lantern`;

async function addUser(srv, email, password) {
  const r = await srv.cli(['user', 'add', email, '--name', 'Brute User', '--password-stdin'], {}, { input: `${password}\n` });
  assert.equal(r.code, 0, `user add ${email} → ${r.code}: ${r.stderr}`);
}

function signIn(srv, email, password, headers = {}) {
  return srv.post('/api/v1/session', { email, password }, { headers });
}

async function newUser(srv, prefix) {
  const u = { email: `${uniq(prefix)}@example.test`, pw: strongPw() };
  await addUser(srv, u.email, u.pw);
  return u;
}

async function advance(srv, seconds) {
  const r = await srv.post('/api/v1/test/clock', { advance_seconds: seconds });
  assert.equal(r.status, 200, r.text);
}

/** Everything about a failed sign-in that an attacker can see, except Date and X-Request-Id. */
function observable(r) {
  const headers = [...r.headers.entries()].filter(([k]) => !['date', 'x-request-id'].includes(k));
  return JSON.stringify({ status: r.status, headers, body: r.text });
}

function assertRefused(r, what) {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.text, INVALID_CREDENTIALS, `${what}: body`);
  assert.equal(r.headers.get('set-cookie'), null, `${what}: no cookie`);
}

async function assertAccepted(srv, u, what) {
  const r = await signIn(srv, u.email, u.pw);
  assert.equal(r.status, 201, `${what}: ${r.status} ${r.text}`);
  return r;
}

async function failN(srv, u, n, what = 'wrong password') {
  for (let i = 0; i < n; i++) assertRefused(await signIn(srv, u.email, `${u.pw}-nope`), `${what} #${i + 1}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function shuffle(xs) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Interleaved timing of sign-in classes: {name: () => request}. Returns {name: [ms...]}. */
async function timeClasses(classes, rounds, check) {
  const names = Object.keys(classes);
  const out = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) check(n, await classes[n]()); // warm-up, not measured
  for (let i = 0; i < rounds; i++) {
    for (const n of shuffle([...names])) {
      const t = performance.now();
      const r = await classes[n]();
      out[n].push(performance.now() - t);
      check(n, r);
    }
  }
  return out;
}

/** Medians within 40 % of each other, and minimums within 35 % (2 shared cores: noise only adds time;
 * a missing Argon2 burn is a ~50x difference). Returns {ok, desc, meds}. */
function similar(samples) {
  const meds = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  const mins = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.min(...v)]));
  const spread = (o) => {
    const v = Object.values(o);
    return (Math.max(...v) - Math.min(...v)) / Math.max(...v);
  };
  const desc = Object.keys(meds)
    .map((k) => `${k} median ${meds[k].toFixed(1)} / min ${mins[k].toFixed(1)} ms`)
    .join('; ');
  return { ok: spread(meds) <= 0.4 && spread(mins) <= 0.35, desc, meds, mins };
}

/** Measures up to 3 times (a load spike on the shared box can skew one run; a real difference skews all). */
async function assertSimilarTiming(t, classes, rounds, check, label) {
  let last;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const samples = await timeClasses(classes, rounds, check);
    last = { samples, ...similar(samples) };
    t.diagnostic(`${label} attempt ${attempt}: ${last.desc}`);
    assert.ok(Math.min(...Object.values(last.mins)) > 10, `${label}: every class costs an Argon2 verification (${last.desc})`);
    if (last.ok) return last;
  }
  assert.fail(`${label}: timing differs between classes in 3 runs (${last.desc})`);
}

// ---------------------------------------------------------------------------------------------------
// Per-account lockout (default settings: 5 failures, 60 s steps, 900 s max, 12 h reset).

let lk;
before(async () => {
  lk = await startServer({ env: { ...NO_IP_LIMIT } });
  // Freeze the test clock: the lock's edges are then exact, however slowly Argon2 runs on a busy box.
  const r = await lk.post('/api/v1/test/clock', { freeze: true });
  assert.equal(r.status, 200, r.text);
});
after(async () => {
  await lk?.stop();
});

test('T5a: 5 failures lock the account; the right password gets the same 401 while locked; failures during the lock do not extend it; it lapses', async () => {
  const u = await newUser(lk, 'lock');
  const other = await newUser(lk, 'bystander');
  const wrong = await signIn(lk, u.email, `${u.pw}-nope`);
  assertRefused(wrong, 'first failure');
  await failN(lk, u, 3);
  // 4 failures: not locked yet.
  await assertAccepted(lk, u, 'after 4 failures (below the threshold)');
  await failN(lk, u, 5); // (the success reset the count) → locked for 60 s
  const locked = await signIn(lk, u.email, u.pw);
  assertRefused(locked, 'right password while locked');
  assert.equal(observable(locked), observable(wrong), 'a locked account answers exactly like a wrong password');
  const unknown = await signIn(lk, `nobody-${u.email}`, u.pw);
  assert.equal(observable(unknown), observable(wrong), 'an unknown email answers exactly like a wrong password');
  await assertAccepted(lk, other, 'another account is not affected by the lock');
  await advance(lk, 30);
  await failN(lk, u, 3, 'failure during the lock');
  await advance(lk, 27); // 57 s after the 5th failure
  assertRefused(await signIn(lk, u.email, u.pw), 'right password 57 s into a 60 s lock');
  await advance(lk, 5); // 62 s: lapsed, and the failures during the lock did not extend it
  await assertAccepted(lk, u, 'after the 60 s lock lapsed');
});

test('T5a: the lock grows by one step per further failure up to the 900 s maximum, then lapses (no permanent lock)', async () => {
  const u = await newUser(lk, 'ladder');
  await failN(lk, u, 5); // #5 → 60 s
  let lock = STEP;
  for (let k = 6; k <= 20; k++) {
    await advance(lk, lock + 1); // the previous lock has lapsed
    assertRefused(await signIn(lk, u.email, `${u.pw}-nope`), `failure #${k}`);
    const expected = Math.min(STEP * (1 + k - 5), MAX);
    await advance(lk, expected - 3);
    assertRefused(await signIn(lk, u.email, u.pw), `right password ${expected - 3} s into the lock after failure #${k} (${expected} s)`);
    lock = 3; // remaining part of this lock
    if (k === 20) assert.equal(expected, MAX);
  }
  await advance(lk, lock + 1);
  await assertAccepted(lk, u, 'after the longest lock lapsed');
  // Success reset the count: 4 more failures do not lock.
  await failN(lk, u, 4);
  await assertAccepted(lk, u, 'after a success, 4 failures are below the threshold again');
});

test('T5a: the failure count resets after 12 h without failures', async () => {
  const fresh = await newUser(lk, 'reset');
  const control = await newUser(lk, 'noreset');
  await failN(lk, fresh, 4);
  await failN(lk, control, 4);
  await advance(lk, 43200 - 120);
  await failN(lk, control, 1); // 5th within 12 h → locked
  await advance(lk, 121); // fresh: 12 h + 1 s since its last failure; control: 121 s after its lock began
  await failN(lk, fresh, 1); // counts as the 1st again
  await assertAccepted(lk, fresh, 'count restarted after 12 h');
  // The control was locked at the 5th failure (60 s) and has lapsed by now: check it was locked by
  // failing once more (6th → 120 s) and probing.
  await failN(lk, control, 1);
  assertRefused(await signIn(lk, control.email, control.pw), 'control locked after its 6th failure');
});

test('T5a: concurrent guesses cannot outrun the lock: failures recorded while locked do not extend it', async () => {
  const u = await newUser(lk, 'burst');
  // 20 wrong guesses at once (as 20 IPs of a botnet would send them). The 5th recorded failure locks
  // the account for 60 s; the rest land during that lock and must not extend it.
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(lk, u.email, `Guess-${i}-${u.pw}`)));
  for (const r of rs) assertRefused(r, 'concurrent wrong guess');
  assertRefused(await signIn(lk, u.email, u.pw), 'right password right after the burst (locked)');
  await advance(lk, STEP + 2);
  await assertAccepted(lk, u, `right password ${STEP + 2} s after a burst of 20 concurrent failures`);
});

test('T5d: a locked account costs the same time as an unknown email (Argon2 is burnt for both)', async (t) => {
  const u = await newUser(lk, 'locktime');
  await failN(lk, u, 5);
  await assertSimilarTiming(
    t,
    {
      locked: () => signIn(lk, u.email, u.pw),
      unknown: () => signIn(lk, `nobody-${u.email}`, u.pw),
    },
    10,
    (n, r) => assertRefused(r, n),
    'locked vs unknown',
  );
});

// ---------------------------------------------------------------------------------------------------
// Enumeration: identical answers and similar time (a server where accounts never lock).

test('T5d: wrong password, unknown or malformed email, disabled account: same status, headers, body and time', async (t) => {
  const en = await startServer({ env: { ...NO_IP_LIMIT, ATRIUM_LOCKOUT_THRESHOLD: '1000' } });
  try {
    const u = await newUser(en, 'known');
    const d = await newUser(en, 'disabled');
    const dis = await en.cli(['user', 'disable', d.email]);
    assert.equal(dis.code, 0, dis.stderr);
    const pw = strongPw();
    const classes = {
      wrong_password: () => signIn(en, u.email, pw),
      unknown_email: () => signIn(en, `nobody-${randomBytes(3).toString('hex')}@example.test`, pw),
      malformed_email: () => signIn(en, 'not an email', pw),
      disabled_right_password: () => signIn(en, d.email, d.pw),
    };
    let ref = null;
    const check = (n, r) => {
      assertRefused(r, n);
      const o = observable(r);
      ref ??= o;
      assert.equal(o, ref, `${n} answers differently`);
    };
    const { samples } = await assertSimilarTiming(t, classes, 12, check, 'enumeration');
    // T6 "verify p95 ≤ 300 ms" is a figure for an idle box; here it is reported, and only a gross
    // misconfiguration (several seconds per hash) fails.
    const sorted = [...samples.wrong_password].sort((a, b) => a - b);
    const p95 = sorted[Math.ceil(sorted.length * 0.95) - 1];
    t.diagnostic(`wrong-password sign-in p95 ${p95.toFixed(1)} ms`);
    assert.ok(sorted[0] < 1000, `fastest sign-in ${sorted[0].toFixed(1)} ms`);
  } finally {
    await en.stop();
  }
});

// ---------------------------------------------------------------------------------------------------
// Per-IP window (default 10 per minute), separately for sign-in and sign-up.

test('T5b: the 11th sign-in within a minute from one IP → 429 + Retry-After; X-Forwarded-For does not help; a new window opens after 60 s', async () => {
  const rl = await startServer({ env: { ATRIUM_SIGNUP: 'true' } }); // the default limit (10/min)
  try {
    const u = await newUser(rl, 'rate');
    const victim = await newUser(rl, 'ratevictim');
    for (let i = 1; i <= 10; i++) {
      assertRefused(await signIn(rl, `nobody${i}@example.test`, 'Whatever-pass-1'), `attempt ${i}`);
    }
    const tries = [
      ['right password', u.email, u.pw, {}],
      ['X-Forwarded-For', u.email, u.pw, { 'x-forwarded-for': '203.0.113.7' }],
      ['X-Real-IP', u.email, u.pw, { 'x-real-ip': '203.0.113.8' }],
      ['Forwarded', u.email, u.pw, { forwarded: 'for=203.0.113.9' }],
    ];
    let firstRetry = null;
    for (const [what, email, pw, headers] of tries) {
      const r = await signIn(rl, email, pw, headers);
      assert.equal(r.status, 429, `${what}: ${r.status} ${r.text}`);
      assert.equal(r.body.type, 'urn:atrium:problem:rate-limited');
      assert.equal(r.body.status, 429);
      assert.equal(r.headers.get('set-cookie'), null);
      const ra = r.headers.get('retry-after');
      assert.match(ra || '', /^\d+$/, `${what}: Retry-After ${ra}`);
      assert.ok(Number(ra) >= 1 && Number(ra) <= 60, `${what}: Retry-After ${ra}`);
      firstRetry ??= Number(ra);
    }
    // Limited attempts are not verified, so they do not count against the account either.
    for (let i = 0; i < 6; i++) assert.equal((await signIn(rl, victim.email, 'Wrong-password-9')).status, 429);
    // The window is on the program clock: Retry-After counts down with it.
    await advance(rl, 30);
    const mid = await signIn(rl, u.email, u.pw);
    assert.equal(mid.status, 429);
    const ra2 = Number(mid.headers.get('retry-after'));
    assert.ok(ra2 <= firstRetry - 28 && ra2 >= 1, `Retry-After went from ${firstRetry} to ${ra2} after 30 s`);
    await advance(rl, 31);
    const ok = await signIn(rl, u.email, u.pw);
    assert.equal(ok.status, 201, `a new window after 61 s: ${ok.text}`);
    const v = await signIn(rl, victim.email, victim.pw);
    assert.equal(v.status, 201, `429'd attempts did not lock the victim: ${v.text}`);
  } finally {
    await rl.stop();
  }
});

test('T5b: sign-up has its own per-IP window; sign-in being limited does not block sign-up and vice versa', async () => {
  const rl = await startServer({ env: { ATRIUM_SIGNUP: 'true', ATRIUM_LOGIN_IP_PER_MINUTE: '3' } });
  try {
    const u = await newUser(rl, 'su');
    for (let i = 0; i < 3; i++) assertRefused(await signIn(rl, u.email, 'Wrong-password-9'), `sign-in ${i}`);
    assert.equal((await signIn(rl, u.email, u.pw)).status, 429);
    const email = `${uniq('signup')}@example.test`;
    const first = await rl.post('/api/v1/signup', { name: 'S', email, password: strongPw() });
    assert.equal(first.status, 201, `sign-up while sign-in is limited: ${first.text}`);
    for (let i = 0; i < 2; i++) {
      const dup = await rl.post('/api/v1/signup', { name: 'S', email, password: strongPw() });
      assert.equal(dup.status, 409, dup.text);
    }
    const users = await rl.sql('SELECT count(*) FROM users');
    const over = await rl.post('/api/v1/signup', { name: 'S', email: `${uniq('signup')}@example.test`, password: strongPw() });
    assert.equal(over.status, 429, over.text);
    assert.equal(over.body.type, 'urn:atrium:problem:rate-limited');
    const ra = Number(over.headers.get('retry-after'));
    assert.ok(ra >= 1 && ra <= 60, `Retry-After ${ra}`);
    assert.equal(await rl.sql('SELECT count(*) FROM users'), users, 'a limited sign-up creates nothing');
    await advance(rl, 61);
    assert.equal((await signIn(rl, u.email, u.pw)).status, 201);
  } finally {
    await rl.stop();
  }
});

test('T5b: 16 concurrent sign-ins from one IP → exactly 10 answered, 6 × 429 (the window is counted atomically)', async () => {
  const rl = await startServer({});
  try {
    const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => signIn(rl, `nobody${i}@example.test`, 'Whatever-pass-1')));
    const count = (st) => rs.filter((r) => r.status === st).length;
    assert.deepEqual({ 401: count(401), 429: count(429) }, { 401: 10, 429: 6 }, rs.map((r) => r.status).join(' '));
  } finally {
    await rl.stop();
  }
});
