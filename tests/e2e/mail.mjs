// Reading the mail Atrium writes when it has no SMTP server: each message is a <id>.eml file in
// <data dir>/mail/ once its job has run. A small MIME reader (headers with RFC 2047 words,
// multipart bodies, quoted-printable and base64 parts) is enough to find the links people click.
//
//   await runJobs(srv);
//   const m = await waitForMail(srv, { to: 'ada@example.com', subject: /invited you/ });
//   const link = linkIn(m, '/invitations/');

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/** Runs the due background jobs now (the server was started with ATRIUM_JOB_WORKERS=0). */
export async function runJobs(srv) {
  const r = await srv.post('/api/v1/test/jobs/run', {});
  assert.equal(r.status, 200, `POST /api/v1/test/jobs/run answered ${r.status}: ${r.text}`);
  return r.body?.ran ?? 0;
}

function decodeQP(text) {
  const bytes = [];
  const soft = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(body, encoding) {
  const enc = (encoding || '7bit').toLowerCase();
  if (enc === 'quoted-printable') return decodeQP(body);
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** "=?UTF-8?B?...?=" and "=?UTF-8?Q?...?=" words in a header value. */
function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset, kind, text) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQP(text.replace(/_/g, ' ')),
    );
}

function parseHeaders(block) {
  const headers = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  return headers;
}

function split(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { headers: parseHeaders(raw), body: '' };
  return { headers: parseHeaders(raw.slice(0, m.index)), body: raw.slice(m.index + m[0].length) };
}

/** Parses one message into {to, subject, text, html, headers}. */
export function parseMessage(raw) {
  const { headers, body } = split(raw);
  const type = headers['content-type'] || 'text/plain';
  const parts = [];
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const part = split(chunk.replace(/^\r?\n/, ''));
      parts.push({
        type: (part.headers['content-type'] || 'text/plain').split(';')[0].trim().toLowerCase(),
        text: decodeBody(part.body, part.headers['content-transfer-encoding']),
      });
    }
  } else {
    parts.push({ type: type.split(';')[0].trim().toLowerCase(), text: decodeBody(body, headers['content-transfer-encoding']) });
  }
  return {
    headers,
    to: headers.to || '',
    subject: headers.subject || '',
    text: parts.find((p) => p.type === 'text/plain')?.text ?? '',
    html: parts.find((p) => p.type === 'text/html')?.text ?? '',
  };
}

/** Every message in the server's mail folder, oldest first (ids are time-sortable). */
export function readMail(srv) {
  const dir = path.join(srv.dataDir, 'mail');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml') && !f.startsWith('.'))
    .sort()
    .map((f) => ({ file: f, ...parseMessage(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}

/**
 * Runs the jobs and returns the newest message to `to` (whose subject matches, if given) that was
 * not in `seen` (file names), waiting a little for it.
 */
export async function waitForMail(srv, { to, subject, seen = new Set() }, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await runJobs(srv);
    const hit = readMail(srv)
      .filter((m) => !seen.has(m.file) && m.to.toLowerCase().includes(to.toLowerCase()) && (!subject || subject.test(m.subject)))
      .pop();
    if (hit) return hit;
    if (Date.now() > end) throw new Error(`no mail to ${to} within ${timeoutMs} ms; have: ${readMail(srv).map((m) => `${m.to}: ${m.subject}`).join('; ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first link in the message's text part whose path starts with `prefix`. */
export function linkIn(message, prefix) {
  const urls = message.text.match(/https?:\/\/[^\s<>"]+/g) ?? [];
  const hit = urls.find((u) => new URL(u).pathname.startsWith(prefix));
  assert.ok(hit, `no ${prefix} link in:\n${message.text}`);
  return hit;
}
