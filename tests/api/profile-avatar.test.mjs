// Avatar upload (issue 14, item 10): PUT /me/avatar takes a PNG, JPEG or WebP (≤ 5 MiB) and the square
// to keep, and Atrium serves only what it re-encoded itself: a 256×256 PNG at a new URL per upload, as
// image/png with nosniff and an immutable cache. Garbage, polyglots, a Content-Type that lies, oversize
// bodies, bombs announced by their header (refused before decoding) and crops outside the picture are
// 4xx and change nothing. Runs on both backends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { repoPath, problemOf } from '../lib/server.mjs';
import { startWorld } from './lib-world.mjs';

let w;
let p;
let srv;

before(async () => {
  w = await startWorld({ extras: false });
  ({ p, srv } = w);
});

after(async () => {
  await w?.stop();
});

const fixture = (name) => fs.readFileSync(repoPath(`tests/api/fixtures/${name}`));
const JPEG = () => fixture('avatar-source.jpg'); // 300×200, with a <script> comment
const WEBP = () => fixture('avatar-source.webp'); // 300×200

// ---- A small PNG writer (enough to build valid pictures, and headers that lie) ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
const SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
function ihdr(wd, ht) {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(wd, 0);
  b.writeUInt32BE(ht, 4);
  b[8] = 8; // bit depth
  b[9] = 6; // RGBA
  return chunk('IHDR', b);
}
/** A wd×ht RGBA PNG (a gradient), with extra chunks before IDAT. */
function png(wd, ht, extra = []) {
  const raw = Buffer.alloc((wd * 4 + 1) * ht);
  for (let y = 0; y < ht; y++)
    for (let x = 0; x < wd; x++) {
      const o = y * (wd * 4 + 1) + 1 + x * 4;
      raw[o] = (x * 255) / wd;
      raw[o + 1] = (y * 255) / ht;
      raw[o + 2] = 128;
      raw[o + 3] = 255;
    }
  return Buffer.concat([SIG, ihdr(wd, ht), ...extra, chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
/** Width and height from a PNG's IHDR, and its chunk types. */
function pngInfo(buf) {
  assert.deepEqual(buf.subarray(0, 8), SIG, 'a PNG signature');
  const types = [];
  for (let o = 8; o + 8 <= buf.length; ) {
    const n = buf.readUInt32BE(o);
    types.push(buf.toString('latin1', o + 4, o + 8));
    o += 12 + n;
  }
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), types };
}

/** PUT /me/avatar as pr with raw bytes and a Content-Type (and ?query). */
function upload(pr, bytes, type, query = '') {
  return pr.req('PUT', `/api/v1/me/avatar${query}`, { headers: { 'content-type': type }, body: bytes });
}
// principal.req sets application/json only when `body` is given through its own path: send raw here.
function raw(pr) {
  return {
    req: (method, path, { headers = {}, body } = {}) => {
      const h = { cookie: pr.cookie, 'x-csrf-token': pr.csrf, origin: srv.url.replace(/\/$/, ''), ...headers };
      return srv.req(path, { method, headers: h, body });
    },
  };
}
/** GET a URL as raw bytes. */
async function fetchBytes(path) {
  const res = await srv.fetch(path);
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
/** The caller's avatar_url now. */
async function avatarUrl(pr) {
  return (await pr.get('/api/v1/me/profile')).body.avatar_url;
}
function fieldError(r, status, field, code) {
  const b = problemOf(r, status);
  assert.ok(
    (b.errors || []).some((e) => e.field === field && e.code === code),
    `expected ${field}/${code} in ${r.text}`,
  );
}

test('PNG, JPEG and WebP come back as a new 256×256 PNG at a new URL, served strictly', async () => {
  const html = chunk('tEXt', Buffer.from('Comment\0<html><script>alert(1)</script></html>', 'latin1'));
  const sources = [
    ['image/png', png(64, 48, [html])],
    ['image/jpeg', JPEG()],
    ['image/webp', WEBP()],
  ];
  const seen = new Set();
  for (const [type, bytes] of sources) {
    const r = await upload(raw(p.member), bytes, type);
    assert.equal(r.status, 200, `${type}: ${r.text}`);
    assert.match(r.body.avatar_url, /^\/api\/v1\/avatars\/av_[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.ok(!seen.has(r.body.avatar_url), 'a new URL at every upload');
    seen.add(r.body.avatar_url);
    assert.equal(await avatarUrl(p.member), r.body.avatar_url);
    const g = await fetchBytes(r.body.avatar_url);
    assert.equal(g.status, 200);
    assert.equal(g.headers.get('content-type'), 'image/png');
    assert.equal(g.headers.get('x-content-type-options'), 'nosniff');
    assert.match(g.headers.get('cache-control'), /immutable/);
    assert.match(g.headers.get('content-security-policy'), /sandbox/);
    const info = pngInfo(g.bytes);
    assert.equal(info.width, 256, type);
    assert.equal(info.height, 256, type);
    assert.ok(!info.types.includes('tEXt') && !g.bytes.includes('<script>'), `${type}: nothing of the upload's metadata survives`);
    assert.notDeepEqual(g.bytes, bytes, 'the bytes are not the upload');
  }
  // Only the latest picture is kept: the earlier URLs are gone.
  const urls = [...seen];
  for (const u of urls.slice(0, -1)) assert.equal((await fetchBytes(u)).status, 404, u);
  // Another user sees the picture in the team list too (avatar_url is shared).
  const members = await p.owner.get(`/api/v1/workspaces/${w.ws.A}/members?limit=100`);
  const me = members.body.items.find((m) => m.user.id === p.member.userId);
  assert.equal(me.user.avatar_url, urls.at(-1));
});

test('the crop box chooses the square; one outside the picture is a field error', async () => {
  const left = await upload(raw(p.admin), JPEG(), 'image/jpeg', '?x=0&y=0&size=200');
  assert.equal(left.status, 200, left.text);
  const right = await upload(raw(p.admin), JPEG(), 'image/jpeg', '?x=100&y=0&size=200');
  assert.equal(right.status, 200, right.text);
  const a = (await fetchBytes(left.body.avatar_url)).bytes;
  assert.equal((await fetchBytes(left.body.avatar_url)).status, 404, 'replaced');
  const b = (await fetchBytes(right.body.avatar_url)).bytes;
  assert.equal(pngInfo(b).width, 256);
  assert.notDeepEqual(a, b);
  const before = await avatarUrl(p.admin);
  fieldError(await upload(raw(p.admin), JPEG(), 'image/jpeg', '?x=150&y=0&size=200'), 422, 'size', 'bad_crop');
  fieldError(await upload(raw(p.admin), JPEG(), 'image/jpeg', '?x=0&y=0'), 400, 'size', 'required');
  fieldError(await upload(raw(p.admin), JPEG(), 'image/jpeg', '?x=-1&y=0&size=10'), 400, 'x', 'range');
  assert.equal(await avatarUrl(p.admin), before, 'refusals change nothing');
});

test('garbage, polyglots and lying types are refused and change nothing', async () => {
  const before = await avatarUrl(p.member);
  const cases = [
    [Buffer.from('<html><script>alert(1)</script></html>'), 'image/png', 422, 'image', 'unsupported_type'],
    [Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), 'image/png', 422, 'image', 'unsupported_type'],
    // A PNG signature followed by HTML: no valid IHDR.
    [Buffer.concat([SIG, Buffer.from('<html><script>alert(1)</script></html>')]), 'image/png', 422, 'image', 'corrupt'],
    // A PNG cut short inside its image data.
    [png(64, 48).subarray(0, 60), 'image/png', 422, 'image', 'corrupt'],
    [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a]), 'image/jpeg', 422, 'image', 'corrupt'],
    [Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'), Buffer.alloc(8)]), 'image/webp', 422, 'image', 'corrupt'],
    // The bytes are a JPEG, the header says PNG.
    [JPEG(), 'image/png', 400, 'image', 'type_mismatch'],
  ];
  for (const [bytes, type, status, field, code] of cases) fieldError(await upload(raw(p.member), bytes, type), status, field, code);
  for (const type of ['application/json', 'image/gif', 'text/html', 'image/pngx']) {
    const r = await upload(raw(p.member), png(8, 8), type);
    assert.equal(problemOf(r, 415).type, 'urn:atrium:problem:unsupported-media-type', type);
  }
  assert.equal(await avatarUrl(p.member), before);
});

test('over 5 MiB is 413 naming the field; far over is refused by the server', async () => {
  const big = Buffer.concat([png(8, 8), Buffer.alloc(5 * 1024 * 1024)]);
  fieldError(await upload(raw(p.member), big, 'image/png'), 413, 'image', 'too_large');
  const huge = Buffer.alloc(9 * 1024 * 1024);
  assert.equal((await upload(raw(p.member), huge, 'image/png')).status, 413);
});

test('a header announcing a huge picture is refused before any pixel is decoded', async () => {
  // Valid headers with tiny bodies: decoding would allocate gigabytes.
  const idat = chunk('IDAT', zlib.deflateSync(Buffer.alloc(16)));
  const iend = chunk('IEND', Buffer.alloc(0));
  const bombs = [
    Buffer.concat([SIG, ihdr(100000, 100000), idat, iend]),
    Buffer.concat([SIG, ihdr(8001, 1), idat, iend]),
    Buffer.concat([SIG, ihdr(7000, 7000), idat, iend]), // 49 megapixels
  ];
  // A baseline JPEG whose frame header says 60000×60000.
  const sof = Buffer.from([0xff, 0xc0, 0, 11, 8, 0xea, 0x60, 0xea, 0x60, 1, 1, 0x11, 0]);
  const dqt = Buffer.concat([Buffer.from([0xff, 0xdb, 0, 67, 0]), Buffer.alloc(64, 1)]);
  const dht = Buffer.concat([Buffer.from([0xff, 0xc4, 0, 20, 0, 1]), Buffer.alloc(15), Buffer.from([0])]);
  const sos = Buffer.from([0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0]);
  bombs.push(Buffer.concat([Buffer.from([0xff, 0xd8]), dqt, sof, dht, sos, Buffer.alloc(32), Buffer.from([0xff, 0xd9])]));
  for (const [i, bytes] of bombs.entries()) {
    const type = i < 3 ? 'image/png' : 'image/jpeg';
    const t0 = Date.now();
    const r = await upload(raw(p.member), bytes, type);
    fieldError(r, 422, 'image', 'too_many_pixels');
    assert.ok(Date.now() - t0 < 2000, `bomb ${i} answered in ${Date.now() - t0} ms`);
  }
  assert.equal((await srv.fetch('/readyz')).status, 200, 'the server is fine');
});

test('removing the picture clears avatar_url and its URL; only the caller, signed in, may upload', async () => {
  const r = await upload(raw(p.owner), png(40, 40), 'image/png');
  assert.equal(r.status, 200, r.text);
  const d = await p.owner.del('/api/v1/me/avatar');
  assert.equal(d.status, 200, d.text);
  assert.equal(d.body.avatar_url, null);
  assert.equal((await fetchBytes(r.body.avatar_url)).status, 404);
  assert.equal(problemOf(await srv.req('/api/v1/me/avatar', { method: 'PUT', headers: { 'content-type': 'image/png' }, body: png(8, 8) }), 401).status, 401);
  // Without the CSRF token a cookie upload is refused.
  const noCsrf = await srv.req('/api/v1/me/avatar', { method: 'PUT', headers: { cookie: p.owner.cookie, 'content-type': 'image/png' }, body: png(8, 8) });
  assert.equal(problemOf(noCsrf, 403).type, 'urn:atrium:problem:csrf');
  assert.equal((await fetchBytes('/api/v1/avatars/not-an-id')).status, 404);
});
