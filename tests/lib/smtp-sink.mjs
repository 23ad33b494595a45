// A real SMTP server on loopback for the mail tests: tests/lib/smtp_sink.py (aiosmtpd, Debian package
// python3-aiosmtpd) on a free port, saving each message it receives to a scratch folder; plus a small
// MIME reader (RFC 5322 headers with folding, RFC 2047 encoded words, multipart, base64 and
// quoted-printable) so tests can read what a mail client would show.
//
//   const sink = await startSmtpSink();
//   const srv = await startServer({ env: { ATRIUM_SMTP_URL: sink.url, ATRIUM_PUBLIC_URL: 'https://atrium.test' } });
//   ... cause a mail, run the jobs ...
//   const [m] = await sink.waitFor((m) => m.to.includes('new@x.test'));
//   m.subject, m.text, m.html, m.envelope.rcpt_tos, m.links
//   await sink.stop();
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 10_000;

/** Debian's interpreter, where python3-aiosmtpd lives (a pyenv/venv python3 first on PATH lacks it). */
function pythonBin() {
  for (const p of ['/usr/bin/python3', '/bin/python3']) if (fs.existsSync(p)) return p;
  return 'python3';
}

const live = new Set();
process.on('exit', () => {
  for (const s of live) {
    try {
      s.proc.kill('SIGKILL');
    } catch {}
    try {
      fs.rmSync(s.dir, { recursive: true, force: true });
    } catch {}
  }
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the sink. Returns { port, url ('smtp://127.0.0.1:PORT'), dir, messages(), count(),
 * waitFor(pred|n, {timeoutMs, count}), since(n), failing(bool), clear(), stop() }.
 */
export async function startSmtpSink() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-smtp-'));
  const proc = spawn(pythonBin(), [path.join(HERE, 'smtp_sink.py'), '--dir', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  proc.unref();
  proc.stdout.unref?.();
  proc.stderr.unref?.();
  const rec = { proc, dir };
  live.add(rec);
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`smtp sink did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`smtp sink exited with ${code} before it was ready (is python3-aiosmtpd installed?)\n${stderr}`));
    });
  }).catch(async (e) => {
    live.delete(rec);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  });

  const cache = new Map(); // seq → parsed message
  const sink = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    dir,
    get stderr() {
      return stderr;
    },
    /** Every message received so far, in arrival order, parsed (see parseMail) plus envelope and seq. */
    messages() {
      const names = fs
        .readdirSync(dir)
        .filter((f) => /^\d+\.json$/.test(f))
        .sort();
      const out = [];
      for (const f of names) {
        const seq = Number(f.slice(0, -5));
        if (!cache.has(seq)) {
          const envelope = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
          const raw = fs.readFileSync(path.join(dir, `${f.slice(0, -5)}.eml`));
          cache.set(seq, { seq, envelope, ...parseMail(raw) });
        }
        out.push(cache.get(seq));
      }
      return out;
    },
    count() {
      return sink.messages().length;
    },
    /** Messages after the first n (use with a count() taken before the action). */
    since(n) {
      return sink.messages().slice(n);
    },
    /**
     * Waits until at least `count` (default 1) messages match pred (a function, or a number: that many
     * messages in all); resolves with the matches. Rejects after timeoutMs with what did arrive.
     */
    async waitFor(pred, { timeoutMs = 10_000, count = 1 } = {}) {
      const match = typeof pred === 'number' ? () => true : pred;
      const want = typeof pred === 'number' ? pred : count;
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hits = sink.messages().filter(match);
        if (hits.length >= want) return hits;
        if (Date.now() > end) {
          const seen = sink
            .messages()
            .map((m) => `  #${m.seq} to ${m.envelope.rcpt_tos.join(',')}: ${m.subject}`)
            .join('\n');
          throw new Error(`smtp sink: ${hits.length} of ${want} wanted messages within ${timeoutMs} ms; received:\n${seen}\n${stderr}`);
        }
        await sleep(25);
      }
    },
    /** While on, the sink answers DATA with 451 (a temporary failure). */
    failing(on) {
      const f = path.join(dir, '.fail');
      if (on) fs.writeFileSync(f, '');
      else fs.rmSync(f, { force: true });
    },
    async stop() {
      if (!live.has(rec)) return;
      live.delete(rec);
      try {
        proc.stdin.end();
        proc.kill('SIGTERM');
      } catch {}
      let timer;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return sink;
}

// ---------------------------------------------------------------------------------------------------
// MIME reading.

/** Decodes RFC 2047 encoded words (B and Q, any charset TextDecoder knows) in a header value. */
export function decodeWords(value) {
  // Whitespace between two adjacent encoded words is not shown (RFC 2047 §6.2).
  const joined = value.replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)/g, '$1');
  // Adjacent words may split one multi-byte character, so decode runs of words of one charset together.
  return joined.replace(/(?:=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=)+/g, (run) => {
    const words = [...run.matchAll(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g)];
    let out = '';
    let bytes = [];
    let cs = null;
    const flush = () => {
      if (bytes.length) out += new TextDecoder(cs || 'utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (const [, charset, enc, text] of words) {
      const c = charset.toLowerCase().split('*')[0];
      if (cs !== null && c !== cs) flush();
      cs = c;
      if (enc.toUpperCase() === 'B') bytes.push(...Buffer.from(text, 'base64'));
      else bytes.push(...qpBytes(text.replace(/_/g, ' '), false));
    }
    flush();
    return out;
  });
}

/** The bytes of quoted-printable text (soft breaks removed when body is true). */
function qpBytes(text, body = true) {
  const s = body ? text.replace(/=\r?\n/g, '') : text;
  const out = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = s.charCodeAt(i);
      if (code > 0x7f) out.push(...Buffer.from(s[i], 'latin1'));
      else out.push(code);
    }
  }
  return out;
}

/** Splits raw (latin1 string) into header block and body at the first empty line. */
function splitHead(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return [raw, ''];
  return [raw.slice(0, m.index), raw.slice(m.index + m[0].length)];
}

/** Parses a header block into [{name, value}] (unfolded, raw). */
function parseHeaders(block) {
  const lines = block.split(/\r?\n/);
  const out = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1].value += line;
    else {
      const i = line.indexOf(':');
      if (i > 0) out.push({ name: line.slice(0, i).trim().toLowerCase(), value: line.slice(i + 1).replace(/^[ \t]+/, '') });
    }
  }
  return out;
}

/** Content-Type → {type, params}. */
function parseContentType(v) {
  const [type, ...rest] = (v || 'text/plain').split(';');
  const params = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    let val = p.slice(i + 1).trim();
    if (val.startsWith('"') && val.endsWith('"')) val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    params[p.slice(0, i).trim().toLowerCase()] = val;
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Decodes one leaf body (latin1 string of raw bytes) by its transfer encoding and charset. */
function decodeBody(body, cte, charset) {
  let bytes;
  const enc = (cte || '7bit').trim().toLowerCase();
  if (enc === 'base64') bytes = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  else if (enc === 'quoted-printable') bytes = Buffer.from(qpBytes(body));
  else bytes = Buffer.from(body, 'latin1');
  return new TextDecoder((charset || 'utf-8').toLowerCase(), { fatal: true }).decode(bytes).replace(/\r\n/g, '\n');
}

function parseEntity(raw, parts) {
  const [head, body] = splitHead(raw);
  const headers = parseHeaders(head);
  const get = (n) => headers.find((h) => h.name === n)?.value;
  const ct = parseContentType(get('content-type'));
  if (ct.type.startsWith('multipart/')) {
    const b = ct.params.boundary;
    if (!b) throw new Error('multipart without a boundary');
    const chunks = body.split(new RegExp(`(?:^|\\r?\\n)--${b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*(?:\\r?\\n|$)`));
    // chunks: preamble, then (part, closeMarker) pairs.
    for (let i = 1; i < chunks.length; i += 2) {
      if (chunks[i] === '--') break;
      const part = chunks[i + 1];
      if (part !== undefined && chunks[i] === undefined) parseEntity(part, parts);
    }
    return headers;
  }
  parts.push({
    type: ct.type,
    charset: ct.params.charset,
    encoding: (get('content-transfer-encoding') || '7bit').toLowerCase(),
    content: decodeBody(body, get('content-transfer-encoding'), ct.params.charset),
    rawLines: body.split(/\r?\n/),
  });
  return headers;
}

/**
 * Parses a raw message (Buffer or string). Returns { raw (string), headers ([{name, value}]),
 * header(name) (the first, decoded), subject, from, to, messageId, date, contentType, parts
 * ([{type, charset, encoding, content, rawLines}]), text, html, links (every http(s) URL in the text
 * part) }.
 */
export function parseMail(input) {
  const raw = Buffer.isBuffer(input) ? input.toString('latin1') : input;
  const parts = [];
  const headers = parseEntity(raw, parts);
  const header = (n) => {
    const h = headers.find((x) => x.name === n.toLowerCase());
    return h ? decodeWords(Buffer.from(h.value, 'latin1').toString('utf8')) : undefined;
  };
  const text = parts.find((p) => p.type === 'text/plain')?.content;
  const html = parts.find((p) => p.type === 'text/html')?.content;
  return {
    raw,
    headers,
    header,
    subject: header('subject'),
    from: header('from'),
    to: header('to'),
    messageId: header('message-id'),
    date: header('date'),
    contentType: parseContentType(headers.find((h) => h.name === 'content-type')?.value).type,
    parts,
    text,
    html,
    links: text ? [...text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0]) : [],
  };
}

// ---------------------------------------------------------------------------------------------------
// The folder transport and links.

/**
 * The messages Atrium wrote to <dataDir>/mail/<id>.eml (no ATRIUM_SMTP_URL), oldest first (ids are
 * time-sortable), parsed, each with its file name in `file` and id in `id`.
 */
export function readMailFolder(dataDir) {
  const dir = path.join(dataDir, 'mail');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^msg_[0-9A-Z]+\.eml$/.test(f))
    .sort()
    .map((f) => ({ file: f, id: f.slice(0, -4), ...parseMail(fs.readFileSync(path.join(dir, f))) }));
}

/** The token of the first link in a message's text part that goes to /<kind>/TOKEN (e.g. 'invitations'). */
export function linkToken(mail, kind = 'invitations') {
  const re = new RegExp(`/${kind}/([A-Za-z0-9_-]+)(?=$|[\\s?#"<])`);
  for (const l of mail.links) {
    const m = re.exec(l);
    if (m) return m[1];
  }
  throw new Error(`no /${kind}/ link in the mail "${mail.subject}":\n${mail.text}`);
}
