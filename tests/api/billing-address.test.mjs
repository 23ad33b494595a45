// Issue 12 item 11: an invoice address line of any length the API accepts reaches the invoice whole.
// A postal code with a 48-character Japanese city and a 48-character region make one line of over 256
// bytes; a fixed line buffer cut it mid-character and the line vanished from the JSON document, the
// HTML view and the PDF. Here the full line, and long address lines, are in all three (the PDF's text
// as pdftotext extracts it, in drawing order, wrapped lines joined).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startBillingServer, newRoot, startClock, moveClock, invoices, invoice, B, T0, TRIAL_END } from './lib-billing.mjs';

const run = promisify(execFile);

const repeat = (s, n) => Array.from({ length: n }, (_, i) => [...s][i % [...s].length]).join('');
const CITY = repeat('千代田区丸の内一丁目霞が関二丁目永田町三丁目', 48);
const REGION = repeat('東京都特別区部多摩地域島嶼部', 48);
const POSTAL = '100-0005';
const LINE1 = repeat('丸の内ビルディング二十三階', 120);
const LINE2 = 'Suite 2300, Marunouchi Building, 2-4-1 Marunouchi';
const CUSTOMER = '株式会社アトリウム商事';
const CITY_LINE = `${POSTAL} ${CITY}, ${REGION}`;

let srv;
let a;
let inv;

before(async () => {
  srv = await startBillingServer();
  a = await newRoot(srv, { developer: true, name: 'Yui Yamada' });
  await startClock(a.owner, a.wsId, T0);
  assert.equal([...CITY].length, 48);
  assert.equal([...REGION].length, 48);
  assert.ok(Buffer.byteLength(CITY_LINE) > 256, 'the line is longer than the old buffer');
  const c = await a.owner.patch(
    `${B(a.wsId)}/customer`,
    { name: CUSTOMER, address_line1: LINE1, address_line2: LINE2, city: CITY, postal_code: POSTAL, region: REGION, country: 'JP' },
    { ifMatch: '*' },
  );
  assert.equal(c.status, 200, c.text);
  await moveClock(a.owner, a.wsId, TRIAL_END);
  const list = await invoices(a.owner, a.wsId);
  assert.equal(list.length, 1, JSON.stringify(list));
  inv = await invoice(a.owner, a.wsId, list[0].id);
});

after(async () => {
  await srv?.stop();
});

test('the invoice document carries every address line whole', () => {
  assert.deepEqual(inv.customer.address, [LINE1, LINE2, CITY_LINE, 'JP']);
});

test('the HTML view shows every address line whole', async () => {
  const res = await srv.fetch(`${B(a.wsId)}/invoices/${inv.id}/html`, { headers: { cookie: a.owner.cookie } });
  assert.equal(res.status, 200);
  const html = await res.text();
  for (const line of [LINE1, LINE2, CITY_LINE]) assert.ok(html.includes(line), `${line} in the HTML`);
});

test('the PDF text holds every address line whole, wrapped but not cut', async () => {
  const res = await srv.fetch(`${B(a.wsId)}/invoices/${inv.id}/pdf`, { headers: { cookie: a.owner.cookie } });
  assert.equal(res.status, 200);
  const pdf = Buffer.from(await res.arrayBuffer());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-pdf-'));
  try {
    const file = path.join(dir, 'invoice.pdf');
    fs.writeFileSync(file, pdf);
    // -raw: the text in drawing order, so the BILL TO block's wrapped lines follow one another.
    const { stdout } = await run('pdftotext', ['-raw', '-enc', 'UTF-8', file, '-'], { timeout: 30_000 });
    const flat = stdout.replace(/\s+/g, '');
    for (const line of [CUSTOMER, LINE1, LINE2, CITY_LINE])
      assert.ok(flat.includes(line.replace(/\s+/g, '')), `${line} in the PDF text:\n${stdout}`);
    assert.ok(!flat.includes('\u2026'), `nothing in the PDF is shortened with an ellipsis:\n${stdout}`);
    // Where a CJK font is installed (scripts/deps.sh adds fonts-wqy-microhei), the characters DejaVu
    // Sans lacks are drawn in it, not as empty boxes: a second font family is embedded.
    const cjk = await run('fc-list', [':lang=ja', 'family'], { timeout: 30_000 }).catch(() => ({ stdout: '' }));
    if (cjk.stdout.trim()) {
      const { stdout: fonts } = await run('pdffonts', [file], { timeout: 30_000 });
      assert.match(fonts, /Noto|WenQuanYi|CJK/i, `a CJK font is embedded:\n${fonts}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
