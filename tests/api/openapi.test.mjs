// The OpenAPI description (docs/openapi.yaml, DESIGN.md §3): it lints clean with Redocly's recommended
// rules (redocly.yaml), it describes exactly the routes of `ATRIUM_ENV=production ./atrium routes`
// (both directions; test-only routes are not in production) with security and tags that agree with
// each route's auth and section, the server serves it as JSON at GET /api/v1/openapi.json, and real
// responses of the running server validate against its schemas.
//
// The YAML is converted by scripts/openapi-json.py (the same step the build embeds), run with a
// Python that has PyYAML (/usr/bin/python3 when present). Runs on both backends.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, repoPath, REPO_ROOT, RFC3339 } from '../lib/server.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const DOC_PATH = 'docs/openapi.yaml';
const REDOCLY = repoPath('tests/node_modules/@redocly/cli/bin/cli.js');
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// ---------------------------------------------------------------------------------------------------
// The document and the route table.

/** The environment for child tools: ours without ATRIUM_* plus `extra`. */
function childEnv(extra = {}) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ATRIUM_')) out[k] = v;
  return { ...out, ...extra };
}

let docCache = null;
/** docs/openapi.yaml as the build converts it (scripts/openapi-json.py), parsed. */
function loadDoc() {
  if (docCache) return docCache;
  const r = spawnSync(PYTHON, [repoPath('scripts/openapi-json.py'), repoPath(DOC_PATH)], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, `scripts/openapi-json.py failed (${r.status}):\n${r.stderr}${r.error ?? ''}`);
  docCache = JSON.parse(r.stdout);
  return docCache;
}

/** Every row of `ATRIUM_ENV=production atrium routes`, with the pattern in OpenAPI form. */
function routeTable() {
  const bin = repoPath(process.env.ATRIUM_BIN || './atrium');
  const r = spawnSync(bin, ['routes'], { env: childEnv({ ATRIUM_ENV: 'production' }), encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `${bin} routes failed (${r.status}):\n${r.stderr}${r.error ?? ''}`);
  const rows = r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  assert.ok(rows.length > 10, `atrium routes listed only ${rows.length} rows`);
  return rows.map((row) => ({ ...row, path: row.pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}') }));
}

const opKey = (method, p) => `${method.toUpperCase()} ${p}`;

/** Every operation of the document: [{method, path, op, pathItem}]. */
function operations(doc) {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths || {}))
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path: p, op: item[m], pathItem: item });
  return out;
}

/** Follows a local $ref ("#/components/...") to its target, repeatedly. */
function deref(doc, node) {
  let n = node;
  for (let i = 0; n && typeof n === 'object' && typeof n.$ref === 'string' && i < 32; i++) {
    assert.ok(n.$ref.startsWith('#/'), `only local $refs are supported: ${n.$ref}`);
    n = n.$ref
      .slice(2)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((o, k) => (o == null ? undefined : o[k]), doc);
    assert.ok(n !== undefined, `unresolved $ref ${node.$ref}`);
  }
  return n;
}

/** The parameters of an operation (path-level ones included), dereferenced. */
function paramsOf(doc, { op, pathItem }) {
  return [...(pathItem.parameters || []), ...(op.parameters || [])].map((p) => deref(doc, p));
}

// ---------------------------------------------------------------------------------------------------
// A small JSON Schema (2020-12) validator: the keywords docs/openapi.yaml uses. Returns a list of
// "path: problem" strings, empty when the value is valid.

function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function validate(doc, schema, value, where = '$') {
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [`${where}: no value is allowed here`];
  if (schema.$ref) {
    const errs = validate(doc, deref(doc, { $ref: schema.$ref }), value, where);
    const { $ref, ...rest } = schema; // 3.1 allows keywords beside $ref
    return Object.keys(rest).length ? errs.concat(validate(doc, rest, value, where)) : errs;
  }
  const errs = [];
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const ok = types.some((ty) => ty === t || (ty === 'number' && t === 'integer'));
    if (!ok) return [`${where}: is ${t} (${JSON.stringify(value)?.slice(0, 80)}), expected ${types.join(' or ')}`];
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value))
    errs.push(`${where}: must be ${JSON.stringify(schema.const)}, is ${JSON.stringify(value)}`);
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    errs.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (t === 'string') {
    const len = [...value].length;
    if (schema.minLength !== undefined && len < schema.minLength) errs.push(`${where}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && len > schema.maxLength) errs.push(`${where}: longer than ${schema.maxLength}`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
      errs.push(`${where}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && !RFC3339.test(value)) errs.push(`${where}: ${value} is not an RFC 3339 time`);
  }
  if (t === 'integer' || t === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${where}: ${value} < ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${where}: ${value} > ${schema.maximum}`);
  }
  if (t === 'array') {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errs.push(`${where}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      errs.push(`${where}: more than ${schema.maxItems} items`);
    if (schema.items !== undefined) value.forEach((v, i) => errs.push(...validate(doc, schema.items, v, `${where}[${i}]`)));
  }
  if (t === 'object') {
    const props = schema.properties || {};
    for (const k of schema.required || []) if (!(k in value)) errs.push(`${where}: missing required "${k}"`);
    if (schema.minProperties !== undefined && Object.keys(value).length < schema.minProperties)
      errs.push(`${where}: fewer than ${schema.minProperties} properties`);
    for (const [k, v] of Object.entries(value)) {
      if (k in props) errs.push(...validate(doc, props[k], v, `${where}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${where}: "${k}" is not in the schema`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object')
        errs.push(...validate(doc, schema.additionalProperties, v, `${where}.${k}`));
    }
  }
  if (schema.allOf) for (const s of schema.allOf) errs.push(...validate(doc, s, value, where));
  if (schema.anyOf && !schema.anyOf.some((s) => validate(doc, s, value, where).length === 0))
    errs.push(`${where}: matches none of anyOf`);
  if (schema.oneOf) {
    const results = schema.oneOf.map((s) => validate(doc, s, value, where));
    const n = results.filter((r) => r.length === 0).length;
    if (n !== 1)
      errs.push(`${where}: matches ${n} of oneOf, not 1${n ? '' : ': ' + results.map((r) => r[0]).join(' | ')}`);
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------------
// (a) Redocly's lint, and the YAML meaning the same to PyYAML (the build) and to Redocly.

function redocly(args) {
  if (!fs.existsSync(REDOCLY)) assert.fail(`@redocly/cli is not installed: run \`cd tests && npm ci\` (looked for ${REDOCLY})`);
  return spawnSync(process.execPath, [REDOCLY, ...args], {
    cwd: REPO_ROOT,
    env: childEnv({ REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1', CI: 'true' }),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
}

test('redocly lint docs/openapi.yaml passes (recommended rules, redocly.yaml) with no warnings', () => {
  const r = redocly(['lint', DOC_PATH, '--config', 'redocly.yaml', '--format', 'json']);
  let report = null;
  try {
    report = JSON.parse(r.stdout);
  } catch {}
  const problems = (report?.problems || [])
    .map((p) => `  ${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? '?'}`)
    .join('\n');
  assert.equal(r.status, 0, `redocly lint exited ${r.status}\n${problems}\n${r.stderr.slice(-3000)}`);
  assert.ok(report, `no JSON report from redocly lint:\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(-2000)}`);
  assert.equal(report.totals.errors, 0, problems);
  assert.equal(report.totals.warnings, 0, `lint warnings:\n${problems}`);
});

test('PyYAML (the build) and Redocly read docs/openapi.yaml the same way', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-openapi-')), 'bundle.json');
  try {
    const r = redocly(['bundle', DOC_PATH, '--config', 'redocly.yaml', '--ext', 'json', '-o', out]);
    assert.equal(r.status, 0, `redocly bundle exited ${r.status}\n${r.stderr.slice(-3000)}`);
    assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), loadDoc());
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
});

test('scripts/openapi-json.py refuses invalid YAML and duplicate keys', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-openapi-'));
  try {
    const cases = {
      'broken.yaml': 'openapi: 3.1.0\npaths: {a: [}\n',
      'dup.yaml': 'openapi: 3.1.0\ninfo: {title: x, version: "1"}\npaths: {}\npaths: {}\n',
      'notopenapi.yaml': '- just\n- a list\n',
    };
    for (const [name, text] of Object.entries(cases)) {
      fs.writeFileSync(path.join(dir, name), text);
      const r = spawnSync(PYTHON, [repoPath('scripts/openapi-json.py'), path.join(dir, name)], { encoding: 'utf8' });
      assert.equal(r.status, 1, `${name}: expected exit 1, got ${r.status}; stdout ${r.stdout}`);
      assert.equal(r.stdout, '', `${name}: wrote output despite the error`);
      assert.match(r.stderr, /openapi-json: /, name);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------
// (b) The document and the route table agree.

test('every route of `atrium routes` (production) has an operation, and every operation a route', () => {
  const doc = loadDoc();
  const routes = routeTable();
  const inTable = new Set(routes.map((r) => opKey(r.method, r.path)));
  const inDoc = new Set(operations(doc).map((o) => opKey(o.method, o.path)));
  const missing = [...inTable].filter((k) => !inDoc.has(k)).sort();
  const extra = [...inDoc].filter((k) => !inTable.has(k)).sort();
  const msg = [];
  if (missing.length) msg.push(`routes with no operation in ${DOC_PATH} (add them):\n  ${missing.join('\n  ')}`);
  if (extra.length)
    msg.push(`operations in ${DOC_PATH} that no route serves (remove them, or add the route):\n  ${extra.join('\n  ')}`);
  assert.ok(!missing.length && !extra.length, msg.join('\n'));
  assert.ok(!routes.some((r) => r.path.startsWith('/api/v1/test/')), 'test-only routes listed in production');
});

test("each operation's security agrees with its route's auth (and scope), and its tag with its section", () => {
  const doc = loadDoc();
  const ops = new Map(operations(doc).map((o) => [opKey(o.method, o.path), o]));
  const tagOfSection = new Map((doc.tags || []).filter((t) => t['x-section']).map((t) => [t['x-section'], t.name]));
  const problems = [];
  for (const r of routeTable()) {
    const o = ops.get(opKey(r.method, r.path));
    if (!o) continue; // reported by the test above
    const where = opKey(r.method, r.path);
    const sec = o.op.security ?? doc.security ?? [];
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(r.method);
    const anonymous = sec.length === 0 || sec.some((s) => Object.keys(s).length === 0);
    const withKey = sec.filter((s) => 'apiKey' in s);
    const withSession = sec.filter((s) => 'sessionCookie' in s);
    const csrfOk = withSession.every((s) => !write || 'csrfToken' in s);
    if (r.auth === 'public' || r.auth === 'operator') {
      if (!anonymous) problems.push(`${where}: route is ${r.auth}, but the operation requires authentication`);
      if (withKey.length) problems.push(`${where}: route is ${r.auth}, but the operation lists apiKey`);
    } else if (r.auth === 'session' || r.auth === 'user') {
      if (anonymous) problems.push(`${where}: route needs a caller (${r.auth}), but the operation allows anonymous calls`);
      if (!withSession.length) problems.push(`${where}: route takes a session, but the operation lists no sessionCookie`);
      if (!csrfOk) problems.push(`${where}: a write with a session needs csrfToken beside sessionCookie`);
      if (sec.some((s) => !('sessionCookie' in s) && !('apiKey' in s)))
        problems.push(`${where}: a security requirement has neither sessionCookie nor apiKey`);
      if (r.auth === 'session' && withKey.length)
        problems.push(`${where}: route is session-only (API keys get 401 session-required), but the operation lists apiKey`);
      if (r.auth === 'user') {
        const want = r.section ? [`${r.section}:${r.access}`] : [];
        if (withKey.length !== 1) problems.push(`${where}: route accepts API keys, so list {apiKey: ${JSON.stringify(want)}}`);
        else if (JSON.stringify(withKey[0].apiKey) !== JSON.stringify(want))
          problems.push(`${where}: apiKey scopes ${JSON.stringify(withKey[0].apiKey)}, the route needs ${JSON.stringify(want)}`);
      }
    } else {
      problems.push(`${where}: unknown route auth "${r.auth}" (teach this test about it)`);
    }
    if (r.section) {
      const tag = tagOfSection.get(r.section);
      if (!tag) problems.push(`${where}: no tag has x-section: ${r.section}`);
      else if (!(o.op.tags || []).includes(tag)) problems.push(`${where}: section ${r.section}, so tag it "${tag}"`);
    }
  }
  assert.deepEqual(problems, []);
});

test('operations follow the API conventions: errors are problems, bodies are closed, 4xx declared', () => {
  const doc = loadDoc();
  const auth = new Map(routeTable().map((r) => [opKey(r.method, r.path), r.auth]));
  const problems = [];
  for (const o of operations(doc)) {
    const where = opKey(o.method, o.path);
    const codes = Object.keys(o.op.responses || {});
    const params = paramsOf(doc, o);
    const need = (code, why) => {
      if (!codes.includes(code)) problems.push(`${where}: declare ${code} (${why})`);
    };
    if (!o.op.summary || !o.op.description) problems.push(`${where}: needs a summary and a description`);
    if (!o.op.operationId) problems.push(`${where}: needs an operationId`);
    if (!codes.some((c) => /^2\d\d$/.test(c))) problems.push(`${where}: no 2xx response`);
    const a = auth.get(where);
    if (a === 'session' || a === 'user') need('401', 'it needs a caller');
    if (a === 'user') need('429', 'API keys are rate limited');
    if (params.some((p) => p.in === 'path')) need('404', 'it has a path parameter');
    // A payment provider's webhook takes the provider's event as it is sent (its bytes are what the
    // signature covers): other fields are the provider's own, and the media type is not checked.
    if (o.op.requestBody && o.op['x-provider-webhook'] === true) {
      need('400', 'a bad signature or event');
      if (auth.get(where) !== 'public') problems.push(`${where}: x-provider-webhook is for public routes (the signature authenticates)`);
      if (!paramsOf(doc, o).some((p) => p.in === 'header' && p.required)) problems.push(`${where}: a webhook names its signature header`);
    } else if (o.op.requestBody) {
      need('400', 'it has a body');
      need('415', 'it has a body');
      const body = deref(doc, o.op.requestBody);
      const media = Object.keys(body.content || {});
      // An upload (the avatar) sends the file itself: only image types, each a binary string.
      const upload = media.length > 0 && media.every((m) => /^image\/[a-z]+$/.test(m));
      if (upload) {
        for (const m of media)
          if (body.content[m].schema?.contentMediaType !== m) problems.push(`${where}: ${m} body needs contentMediaType ${m}`);
      } else {
        if (media.join() !== 'application/json') problems.push(`${where}: request body must be application/json only (or image uploads)`);
        const schema = deref(doc, body.content?.['application/json']?.schema);
        if (schema?.additionalProperties !== false)
          problems.push(`${where}: request body schema needs additionalProperties: false (unknown fields are rejected)`);
      }
    }
    if (params.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')) {
      need('409', 'Idempotency-Key in progress');
      need('422', 'Idempotency-Key reused');
    }
    for (const [code, resp] of Object.entries(o.op.responses || {})) {
      if (!/^[45]\d\d$/.test(code)) continue;
      const content = deref(doc, resp).content || {};
      const ref = content['application/problem+json']?.schema?.$ref;
      if (Object.keys(content).join() !== 'application/problem+json' || ref !== '#/components/schemas/Problem')
        problems.push(`${where}: ${code} must be application/problem+json with the Problem schema`);
    }
  }
  assert.deepEqual(problems, []);
});

// ---------------------------------------------------------------------------------------------------
// (c) and (d): the running server.

let srv;
const WEBHOOK_SECRET = 'whsec_openapi_test';

/** A signed-up owner and a request helper with their session (CSRF token and Origin on writes). */
async function signedUpOwner(name) {
  const email = `oa-${randomBytes(4).toString('hex')}@example.com`;
  const password = `Harbor-${randomBytes(6).toString('hex')}-Quill`;
  const up = await srv.post('/api/v1/signup', { name, email, password });
  assert.equal(up.status, 201, up.text);
  const cookie = up.headers.get('set-cookie').split(';')[0];
  const origin = srv.url.replace(/\/$/, '');
  const as = (method, p, body, headers = {}) =>
    srv.req(p, {
      method,
      headers: {
        cookie,
        ...(method === 'GET' ? {} : { 'x-csrf-token': up.body.csrf_token, origin }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const ws = (await as('GET', '/api/v1/workspaces')).body.items[0].id;
  return { email, as, ws };
}

describe('the running server', () => {
  before(async () => {
    srv = await startServer({ env: { ATRIUM_SIGNUP: 'true', ATRIUM_LOGIN_IP_PER_MINUTE: '100000', ATRIUM_JOB_WORKERS: '0', ATRIUM_STRIPE_WEBHOOK_SECRETS: WEBHOOK_SECRET } });
  });
  after(async () => {
    await srv?.stop();
  });

  test('GET /api/v1/openapi.json serves docs/openapi.yaml as JSON', async () => {
    const r = await srv.req('/api/v1/openapi.json');
    assert.equal(r.status, 200, `GET /api/v1/openapi.json answered ${r.status} (is the route wired?): ${r.text.slice(0, 300)}`);
    assert.match(r.headers.get('content-type') || '', /^application\/json/);
    assert.ok(r.body, 'the body is not JSON');
    assert.deepEqual(r.body, loadDoc(), 'the served document differs from docs/openapi.yaml (rebuild?)');
  });

  /**
   * Checks a real response against the document: the status is declared for the operation (by method
   * and path template), and the body validates against the declared schema of its media type.
   */
  function conforms(method, template, r) {
    const doc = loadDoc();
    const item = doc.paths[template];
    assert.ok(item?.[method.toLowerCase()], `no operation ${method} ${template}`);
    const op = item[method.toLowerCase()];
    const declared = op.responses[String(r.status)] ?? op.responses[`${String(r.status)[0]}XX`] ?? op.responses.default;
    assert.ok(declared, `${method} ${template} answered ${r.status}, not declared in the document: ${r.text.slice(0, 300)}`);
    const resp = deref(doc, declared);
    const content = resp.content || {};
    if (!Object.keys(content).length) {
      assert.equal(r.text, '', `${method} ${template} ${r.status}: a body the document does not declare`);
      return;
    }
    const ct = (r.headers.get('content-type') || '').split(';')[0].trim();
    assert.ok(content[ct], `${method} ${template} ${r.status}: content-type ${ct}, declared ${Object.keys(content)}`);
    if (ct.endsWith('json')) {
      const errs = validate(doc, content[ct].schema, r.body);
      assert.deepEqual(errs, [], `${method} ${template} ${r.status} does not match its schema:\n${r.text.slice(0, 1500)}`);
    }
    for (const name of Object.keys(resp.headers || {}))
      if (name === 'ETag' || name === 'Location') assert.ok(r.headers.get(name), `${method} ${template}: no ${name} header`);
  }

  const WS = '/api/v1/workspaces/{workspace_id}';

  test('real responses match their schemas: public, sign-up and sign-in, problems', async () => {
    conforms('GET', '/healthz', await srv.req('/healthz'));
    conforms('GET', '/readyz', await srv.req('/readyz'));
    conforms('GET', '/api/v1/system', await srv.req('/api/v1/system'));
    conforms('GET', '/api/v1/auth/options', await srv.req('/api/v1/auth/options'));
    conforms('GET', '/api/v1/scopes', await srv.req('/api/v1/scopes'));

    const email = `oa-${randomBytes(4).toString('hex')}@example.com`;
    const password = `Harbor-${randomBytes(6).toString('hex')}-Quill`;
    const up = await srv.post('/api/v1/signup', { name: 'Ada Spec', email, password });
    assert.equal(up.status, 201, up.text);
    conforms('POST', '/api/v1/signup', up);
    const inn = await srv.post('/api/v1/session', { email, password });
    assert.equal(inn.status, 201, inn.text);
    conforms('POST', '/api/v1/session', inn);

    // Problems: wrong password, a validation error naming several fields, wrong media type, 404, 401.
    const wrong = await srv.post('/api/v1/session', { email, password: 'not-the-password' });
    assert.equal(wrong.status, 401);
    conforms('POST', '/api/v1/session', wrong);
    const invalid = await srv.post('/api/v1/signup', { nmae: 'typo', email: 'not-an-email' });
    assert.equal(invalid.status, 400);
    assert.ok(invalid.body.errors.length >= 3, invalid.text);
    conforms('POST', '/api/v1/signup', invalid);
    const media = await srv.req('/api/v1/session', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(media.status, 415);
    conforms('POST', '/api/v1/session', media);
    conforms('GET', '/api/v1/me', await srv.req('/api/v1/me'));
    conforms('GET', '/api/v1/invitations/{token}', await srv.req(`/api/v1/invitations/${'x'.repeat(40)}`));
  });

  test('real responses match their schemas: a signed-in owner across the sections, and an API key', async () => {
    const email = `oa-${randomBytes(4).toString('hex')}@example.com`;
    const password = `Lantern-${randomBytes(6).toString('hex')}-Moss`;
    const up = await srv.post('/api/v1/signup', { name: 'Grace Spec', email, password });
    assert.equal(up.status, 201, up.text);
    const cookie = up.headers.get('set-cookie').split(';')[0];
    const origin = srv.url.replace(/\/$/, '');
    const as = (method, p, body, headers = {}) =>
      srv.req(p, {
        method,
        headers: {
          cookie,
          ...(method === 'GET' ? {} : { 'x-csrf-token': up.body.csrf_token, origin }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    conforms('GET', '/api/v1/me', await as('GET', '/api/v1/me'));
    conforms('GET', '/api/v1/me/sessions', await as('GET', '/api/v1/me/sessions'));
    conforms('GET', '/api/v1/me/profile', await as('GET', '/api/v1/me/profile'));
    conforms('PATCH', '/api/v1/me/profile', await as('PATCH', '/api/v1/me/profile', { timezone: 'Europe/Paris' }));
    const list = await as('GET', '/api/v1/workspaces');
    conforms('GET', '/api/v1/workspaces', list);
    const ws = list.body.items[0].id;
    const at = (p) => p.replace('{workspace_id}', ws);

    conforms('GET', `${WS}/sections`, await as('GET', at(`${WS}/sections`)));
    const doc = await as('GET', at(WS));
    conforms('GET', WS, doc);
    const ifMatch = { 'if-match': doc.headers.get('etag') };
    conforms('PATCH', WS, await as('PATCH', at(WS), { website: 'https://example.com' }, ifMatch));
    conforms('PATCH', WS, await as('PATCH', at(WS), { website: null })); // 428 without If-Match
    conforms('PATCH', WS, await as('PATCH', at(WS), { website: null }, { 'if-match': '"v1"' })); // 412 stale
    conforms('GET', `${WS}/notifications`, await as('GET', at(`${WS}/notifications`)));
    const notif = (groups) => as('PATCH', at(`${WS}/notifications`), { groups });
    conforms('PATCH', `${WS}/notifications`, await notif({ billing: { email: false } }));
    conforms('PATCH', `${WS}/notifications`, await notif({ security: { email: false } })); // 400 locked
    conforms('GET', `${WS}/members`, await as('GET', at(`${WS}/members`)));
    conforms('GET', `${WS}/invitations`, await as('GET', at(`${WS}/invitations`)));
    const inv = await as('POST', at(`${WS}/invitations`), { emails: ['new.person@example.com', 'nope'], role: 'member' });
    conforms('POST', `${WS}/invitations`, inv);
    const idem = { 'idempotency-key': `oa-${randomBytes(4).toString('hex')}` };
    const sub = await as('POST', at(`${WS}/subaccounts`), { name: 'Spec Dental' }, idem);
    assert.equal(sub.status, 201, sub.text);
    conforms('POST', `${WS}/subaccounts`, sub);
    const replay = await as('POST', at(`${WS}/subaccounts`), { name: 'Spec Dental' }, idem);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true', replay.text);
    assert.deepEqual(replay.body, sub.body);
    conforms('POST', `${WS}/subaccounts`, replay);
    conforms('POST', `${WS}/subaccounts`, await as('POST', at(`${WS}/subaccounts`), { name: 'Other' }, idem)); // 422
    conforms('GET', `${WS}/subaccounts`, await as('GET', at(`${WS}/subaccounts`)));
    conforms('POST', `${WS}/subaccounts/{subaccount_id}/suspend`,
      await as('POST', at(`${WS}/subaccounts/${sub.body.id}/suspend`), { reason: 'Unpaid' }));
    conforms('POST', `${WS}/subaccounts/{subaccount_id}/suspend`,
      await as('POST', at(`${WS}/subaccounts/${sub.body.id}/suspend`), { reason: 'Again' })); // 409
    conforms('GET', `${WS}/audit-events`, await as('GET', at(`${WS}/audit-events?limit=5`)));
    conforms('GET', `${WS}/audit-events`, await as('GET', at(`${WS}/audit-events?since=yesterday`))); // 400

    // API keys: the policy, a key, and the key at work.
    conforms('GET', `${WS}/api-key-policy`, await as('GET', at(`${WS}/api-key-policy`)));
    conforms('PATCH', `${WS}/api-key-policy`, await as('PATCH', at(`${WS}/api-key-policy`), { default_days: 30 }));
    const made = await as('POST', at(`${WS}/api-keys`), {
      name: 'Spec reader',
      scopes: ['workspace:read', 'team:read'],
      expires_in_days: 30,
      owner: 'workspace',
      allowed_cidrs: ['127.0.0.0/8', '::1/128'],
    });
    assert.equal(made.status, 201, made.text);
    conforms('POST', `${WS}/api-keys`, made);
    conforms('GET', `${WS}/api-keys`, await as('GET', at(`${WS}/api-keys`)));
    conforms('GET', `${WS}/api-keys/{key_id}`, await as('GET', at(`${WS}/api-keys/${made.body.key.id}`)));
    const bearer = { authorization: `Bearer ${made.body.secret}` };
    const viaKey = await srv.req(at(WS), { headers: bearer });
    conforms('GET', WS, viaKey);
    assert.ok(viaKey.headers.get('ratelimit-limit'), 'an API-key response carries RateLimit-Limit');
    const noScope = await srv.req(at(`${WS}/subaccounts`), { headers: bearer });
    assert.equal(noScope.status, 403, noScope.text);
    conforms('GET', `${WS}/subaccounts`, noScope);
    const rotated = await as('POST', at(`${WS}/api-keys/${made.body.key.id}/rotate`), { overlap_hours: 1 });
    conforms('POST', `${WS}/api-keys/{key_id}/rotate`, rotated);
    conforms('GET', `${WS}/api-keys/{key_id}`, await as('GET', at(`${WS}/api-keys/${made.body.key.id}`)));
    conforms('DELETE', `${WS}/api-keys/{key_id}`, await as('DELETE', at(`${WS}/api-keys/${rotated.body.key.id}`)));
    conforms('DELETE', `${WS}/api-keys/{key_id}`, await as('DELETE', at(`${WS}/api-keys/${rotated.body.key.id}`))); // 409
    const revoked = await srv.req(at(WS), { headers: { authorization: `Bearer ${rotated.body.secret}` } });
    assert.equal(revoked.status, 401, revoked.text);
    conforms('GET', WS, revoked);
  });
  test('real responses match their schemas: billing, usage, billing recovery, a plan without a feature, the webhook', async () => {
    // A sign-up starts a 14-day Pro trial (manual collection); its owner gets developer access for the
    // test clock and Billing Recovery.
    const { email, as, ws } = await signedUpOwner('Bill Spec');
    const dev = await srv.cli(['user', 'grant-developer', email]);
    assert.equal(dev.code, 0, dev.stderr);
    const B = `${WS}/billing`;
    const at = (p, ids = {}) => Object.entries({ workspace_id: ws, ...ids }).reduce((x, [k, v]) => x.replace(`{${k}}`, v), p);
    const call = async (method, template, body, { ids, headers, status } = {}) => {
      const r = await as(method, at(template, ids), body, headers);
      if (status) assert.equal(r.status, status, `${method} ${template}: ${r.text.slice(0, 500)}`);
      conforms(method, template, r);
      return r;
    };

    await call('GET', B, undefined, { status: 200 });
    await call('GET', `${B}/plans`, undefined, { status: 200 });
    const cust = await call('GET', `${B}/customer`, undefined, { status: 200 });
    await call('PATCH', `${B}/customer`, { country: 'DE' }, { status: 428 });
    await call('PATCH', `${B}/customer`, { country: 'de', tax_id: null }, { headers: { 'if-match': '*' }, status: 400 });
    await call('PATCH', `${B}/customer`, { name: 'Spec GmbH' }, { headers: { 'if-match': '"v999"' }, status: 412 });
    await call('PATCH', `${B}/customer`, { name: 'Spec GmbH', country: 'DE', city: 'Berlin' }, { headers: { 'if-match': cust.headers.get('etag') }, status: 200 });
    await call('POST', `${B}/preview`, { quantity: 12 }, { status: 200 });
    await call('POST', `${B}/preview`, {}, { status: 400 });
    await call('POST', `${B}/subscription/change`, { quantity: 12 }, { headers: { 'idempotency-key': `oa-${randomBytes(4).toString('hex')}` }, status: 200 });
    await call('POST', `${B}/subscription/change`, { quantity: 12 }, { status: 409 });
    await call('POST', `${B}/subscription`, { plan_id: 'pro', quantity: 3 }, { status: 409 });
    await call('POST', `${B}/subscription/cancel`, { at_period_end: 'soon' }, { status: 400 });
    await call('POST', `${B}/subscription/resume`, undefined, { status: 409 });
    await call('POST', `${B}/subscription/cancel`, { reason: 'Trying the cancel' }, { status: 200 });
    await call('GET', B, undefined, { status: 200 }); // the canceling banner
    await call('POST', `${B}/subscription/resume`, undefined, { status: 200 });
    await call('POST', `${B}/checkout`, undefined, { status: 409 });
    await call('POST', `${B}/portal`, undefined, { status: 200 });
    await call('POST', `${B}/usage`, { events: [{ event_id: 'spec-1', metric: 'api_calls', quantity: 120 }] }, { status: 200 });
    await call('POST', `${B}/usage`, { events: [{ event_id: 'spec-2', metric: 'no_such_metric', quantity: 1 }] }, { status: 400 });

    // The test clock: past the trial's end (the first invoice), then past its due date (recovery).
    // Without a clock: 200 with frozen_time null is meant, 404 in this build (billing matrix finding 2).
    await call('GET', `${B}/test-clock`);
    await call('POST', `${B}/test-clock/advance`, { frozen_time: '2099-01-01T00:00:00Z' }, { status: 409 });
    const clock = await call('POST', `${B}/test-clock`, undefined, { status: 201 });
    await call('POST', `${B}/test-clock`, {}, { status: 409 });
    const t0 = Date.parse(clock.body.frozen_time);
    const iso = (days) => new Date(t0 + days * 86400e3).toISOString();
    await call('POST', `${B}/test-clock/advance`, { frozen_time: iso(15) }, { status: 200 });
    await call('GET', `${B}/test-clock`, undefined, { status: 200 });
    const list = await call('GET', `${B}/invoices`, undefined, { status: 200 });
    assert.equal(list.body.items.length, 1, list.text);
    const inv = list.body.items[0].id;
    await call('GET', `${B}/invoices/{invoice_id}`, undefined, { ids: { invoice_id: inv }, status: 200 });
    await call('GET', `${B}/invoices/{invoice_id}/html`, undefined, { ids: { invoice_id: inv }, status: 200 });
    await call('GET', `${B}/invoices/{invoice_id}/pdf`, undefined, { ids: { invoice_id: inv }, status: 200 });
    await call('POST', `${B}/invoices/{invoice_id}/pay`, undefined, { ids: { invoice_id: inv }, status: 409 });
    await call('GET', `${B}/invoices/{invoice_id}`, undefined, { ids: { invoice_id: `in_${'0'.repeat(26)}` }, status: 404 });
    await call('POST', `${B}/test-clock/advance`, { frozen_time: iso(24) }, { status: 200 });
    const rec = await call('GET', `${WS}/billing-recovery`, undefined, { status: 200 });
    assert.equal(rec.body.past_due.length, 1, rec.text);
    const sub = rec.body.past_due[0].subscription_id;
    await call('POST', `${WS}/billing-recovery/{subscription_id}/retry`, undefined, { ids: { subscription_id: sub }, status: 202 });
    await call('POST', `${WS}/billing-recovery/{subscription_id}/recovered`, undefined, { ids: { subscription_id: sub }, status: 200 });
    await call('POST', `${WS}/billing-recovery/{subscription_id}/retry`, undefined, { ids: { subscription_id: sub }, status: 409 });
    await call('POST', `${B}/invoices/{invoice_id}/void`, undefined, { ids: { invoice_id: inv }, status: 409 });
    await call('GET', `${WS}/billing-recovery`, undefined, { status: 200 });
    // The next renewal's invoice: uncollectible, then paid out of band, then not voidable.
    await call('POST', `${B}/test-clock/advance`, { frozen_time: iso(47) }, { status: 200 });
    const open = (await as('GET', at(`${B}/invoices`))).body.items.find((i) => i.status === 'open');
    assert.ok(open, 'no open renewal invoice');
    await call('POST', `${B}/invoices/{invoice_id}/mark-uncollectible`, undefined, { ids: { invoice_id: open.id }, status: 200 });
    await call('POST', `${B}/invoices/{invoice_id}/mark-paid`, undefined, { ids: { invoice_id: open.id }, status: 200 });
    await call('POST', `${B}/invoices/{invoice_id}/mark-uncollectible`, undefined, { ids: { invoice_id: open.id }, status: 409 });

    // A sub-account billed on its own, and back to the agency; inside it, the agency's billing.
    const child = await as('POST', at(`${WS}/subaccounts`), { name: 'Spec Child' });
    assert.equal(child.status, 201, child.text);
    const S = { subaccount_id: child.body.id };
    await call('PUT', `${WS}/subaccounts/{subaccount_id}/billing`, { mode: 'own', plan_id: 'starter' }, { ids: S, status: 200 });
    await call('PUT', `${WS}/subaccounts/{subaccount_id}/billing`, { mode: 'parent' }, { ids: S, status: 200 });
    await call('PUT', `${WS}/subaccounts/{subaccount_id}/billing`, { mode: 'parent' }, { ids: S, status: 409 });
    await call('PUT', `${WS}/subaccounts/{subaccount_id}/billing`, { mode: 'sometimes' }, { ids: S, status: 400 });
    const inChild = (r) => r.replace('{workspace_id}', child.body.id);
    conforms('GET', B, await as('GET', inChild(B)));
    conforms('GET', `${B}/customer`, await as('GET', inChild(`${B}/customer`)));

    // An API key reports usage (scope usage:write).
    const key = await as('POST', at(`${WS}/api-keys`), { name: 'Meter', scopes: ['usage:write'], expires_in_days: 30, owner: 'workspace' });
    assert.equal(key.status, 201, key.text);
    const viaKey = await srv.req(at(`${B}/usage`), {
      method: 'POST',
      headers: { authorization: `Bearer ${key.body.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ event_id: 'spec-key-1', metric: 'contacts', quantity: 3 }, { event_id: 'spec-1', metric: 'api_calls', quantity: 120 }] }),
    });
    assert.equal(viaKey.status, 200, viaKey.text);
    conforms('POST', `${B}/usage`, viaKey);
    conforms('GET', B, await srv.req(at(B), { headers: { authorization: `Bearer ${key.body.secret}` } })); // 403 insufficient-scope
    // Billing follows the program clock again.
    await call('DELETE', `${B}/test-clock`, undefined, { status: 204 });
    await call('DELETE', `${B}/test-clock`, undefined, { status: 404 });

    // A plan without a feature: a Starter workspace meets 402 plan-required in Sub-Accounts; ending
    // its subscription and starting another (no second trial: an invoice at once).
    const starter = await signedUpOwner('Stan Starter');
    const SB = B.replace('{workspace_id}', starter.ws);
    const change = await starter.as('POST', `${SB}/subscription/change`, { plan_id: 'starter', quantity: 2 });
    assert.equal(change.status, 200, change.text);
    const plan402 = await starter.as('GET', `${WS}/subaccounts`.replace('{workspace_id}', starter.ws));
    assert.equal(plan402.status, 402, plan402.text);
    assert.deepEqual([plan402.body.feature, plan402.body.plans.map((p) => p.id)], ['sub_accounts', ['pro', 'agency']]);
    conforms('GET', `${WS}/subaccounts`, plan402);
    conforms('POST', `${B}/subscription/cancel`, await starter.as('POST', `${SB}/subscription/cancel`, { at_period_end: false }));
    conforms('GET', B, await starter.as('GET', SB));
    const restart = await starter.as('POST', `${SB}/subscription`, { plan_id: 'starter', interval: 'year', quantity: 2 });
    assert.equal(restart.status, 201, restart.text);
    conforms('POST', `${B}/subscription`, restart);
    conforms('GET', B, await starter.as('GET', SB));
    conforms('POST', `${B}/preview`, await starter.as('POST', `${SB}/preview`, { quantity: 3 }));
    conforms('POST', `${B}/preview`, await starter.as('POST', `${SB}/preview`, { interval: 'month' }));

    // The provider's webhook: unsigned, then signed.
    const hook = '/api/v1/billing/webhooks/stripe';
    const event = JSON.stringify({ id: `evt_${randomBytes(6).toString('hex')}`, type: 'customer.updated', created: Math.floor(Date.now() / 1000), data: { object: { id: 'cus_spec' } } });
    const unsigned = await srv.req(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: event });
    assert.equal(unsigned.status, 400, unsigned.text);
    conforms('POST', hook, unsigned);
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${event}`).digest('hex');
    const signed = await srv.req(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${sig}` }, body: event });
    assert.equal(signed.status, 200, signed.text);
    conforms('POST', hook, signed);
  });
});
