// Profile photo upload (issue 14, item 10): "Upload photo" opens the file chooser; a PNG, JPEG or WebP
// opens the crop dialog with the whole picture, the square over it and a round preview; the sliders
// (keyboard) and a drag move the square, the preview follows, and Save sends the file with that square
// (?x&y&size in the picture's pixels). The page then shows the server's own 256×256 PNG. A file of
// another type is refused before anything is sent; a refusal of the server shows in the dialog; the
// photo can be removed. Desktop and phone, axe on each state.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { check, createAccount, openBrowser, startServer, uniqueEmail } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const JPEG = fs.readFileSync(path.resolve(here, '..', 'api', 'fixtures', 'avatar-source.jpg')); // 300×200
const WEBP = fs.readFileSync(path.resolve(here, '..', 'api', 'fixtures', 'avatar-source.webp')); // 300×200

describe('profile photo upload', () => {
  let srv;
  let b;
  before(async () => {
    srv = await startServer({ env: { ATRIUM_SIGNUP: 'true', ATRIUM_LOGIN_IP_PER_MINUTE: '100000' } });
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  /** A new account, signed in, on its Profile page. */
  async function onProfile(opts) {
    const account = await createAccount(srv, { name: 'Grace Hopper', email: uniqueEmail('grace') });
    const w = await b.page(srv.url, opts);
    await w.goto('/sign-in?next=%2Fsettings%2Fprofile');
    await w.page.getByLabel('Email').fill(account.email);
    await w.page.getByLabel('Password', { exact: true }).fill(account.password);
    await w.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await w.page.waitForURL(/\/settings\/profile$/);
    await w.page.getByRole('heading', { level: 1, name: 'Profile' }).waitFor();
    return w;
  }

  /** Clicks the button and answers the file chooser with (name, type, buffer). */
  async function choose(page, button, file) {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: button }).click()]);
    await chooser.setFiles(file);
  }

  const previewHash = (page) =>
    page.getByRole('img', { name: 'Preview of your photo' }).evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let h = 0;
      for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) >>> 0;
      return h;
    });

  test('upload a JPEG, choose the square with the keyboard and a drag, and see the re-encoded photo', async () => {
    const w = await onProfile();
    const { page } = w;
    await check(page, 'profile-avatar-empty');
    await choose(page, 'Upload photo', { name: 'me.jpg', mimeType: 'image/jpeg', buffer: JPEG });
    const dialog = page.getByRole('dialog', { name: 'Crop your photo' });
    await dialog.waitFor();
    await dialog.getByText('200 × 200 px of 300 × 200').waitFor();
    const centred = await previewHash(page);
    await check(page, 'profile-avatar-crop', { fullPage: false });

    // Keyboard: the square to the far right; the preview follows.
    await dialog.getByLabel('Left and right').focus();
    await page.keyboard.press('End');
    assert.equal(await dialog.getByLabel('Left and right').inputValue(), '100');
    assert.notEqual(await previewHash(page), centred, 'the preview shows the chosen square');
    // Zoom in (a smaller square), then drag it 30 CSS pixels left.
    await dialog.getByLabel('Zoom').focus();
    await page.keyboard.press('End');
    await dialog.getByText(/^25 × 25 px of 300 × 200$/).waitFor();
    const box = await page.getByTestId('crop-box').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 30, box.y + box.height / 2 + 10, { steps: 4 });
    await page.mouse.up();
    const x = Number(await dialog.getByLabel('Left and right').inputValue());
    const y = Number(await dialog.getByLabel('Up and down').inputValue());
    assert.ok(x < 187 && x > 120, `dragged left: x ${x}`);
    assert.ok(y > 87, `dragged down: y ${y}`);

    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT' && r.url().includes('/api/v1/me/avatar')),
      dialog.getByRole('button', { name: 'Save photo' }).click(),
    ]);
    const q = new URL(req.url()).searchParams;
    assert.deepEqual([q.get('x'), q.get('y'), q.get('size')], [String(x), String(y), '25']);
    assert.equal(req.headers()['content-type'], 'image/jpeg');
    await page.getByRole('status').getByText('Photo updated').waitFor();
    await dialog.waitFor({ state: 'hidden' });

    const img = page.getByRole('img', { name: 'Your profile photo' });
    await img.waitFor();
    const src = await img.getAttribute('src');
    assert.match(src, /^\/api\/v1\/avatars\/av_[0-9A-Z]{26}$/);
    await page.waitForFunction(() => document.querySelector('img.avatar-img')?.complete);
    const served = await page.evaluate(async (u) => {
      const r = await fetch(u);
      const bmp = await createImageBitmap(await r.blob());
      return { type: r.headers.get('content-type'), nosniff: r.headers.get('x-content-type-options'), w: bmp.width, h: bmp.height };
    }, src);
    assert.deepEqual(served, { type: 'image/png', nosniff: 'nosniff', w: 256, h: 256 });
    // The link field is for linked pictures; with an uploaded one, Remove is the way out.
    assert.equal(await page.getByLabel('Avatar URL').count(), 0);
    await check(page, 'profile-avatar-set');

    // Remove: initials again, the photo URL is gone.
    await page.getByRole('button', { name: 'Remove photo' }).click();
    await page.getByRole('status').getByText('Photo removed').waitFor();
    await page.getByRole('button', { name: 'Upload photo' }).waitFor();
    assert.equal(await page.evaluate(async (u) => (await fetch(u, { cache: 'no-store' })).status, src), 404);
    w.assertClean();
  });

  test('a file of another type is refused before sending; a refusal of the server shows in the dialog', async () => {
    const w = await onProfile();
    const { page } = w;
    let sent = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/me/avatar')) sent++;
    });
    await choose(page, 'Upload photo', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await page.getByRole('alert').getByText('Choose a PNG, JPEG or WebP picture.').waitFor();
    await choose(page, 'Upload photo', { name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(5 * 1024 * 1024 + 1) });
    await page.getByRole('alert').getByText(/choose one of 5 MB or less/).waitFor();
    await choose(page, 'Upload photo', { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('\x89PNG\r\n\x1a\nnot really', 'latin1') });
    await page.getByRole('alert').getByText("This file can't be read as a picture.").waitFor();
    assert.equal(sent, 0, 'nothing was sent');

    // The server refuses (here: made to, by route interception): the message stays next to the picture.
    await page.route('**/api/v1/me/avatar**', (route) =>
      route.fulfill({
        status: 422,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'urn:atrium:problem:invalid-image',
          title: 'The picture was not accepted.',
          status: 422,
          errors: [{ field: 'image', code: 'corrupt', message: 'The picture could not be read.' }],
        }),
      }),
    );
    await choose(page, 'Upload photo', { name: 'me.webp', mimeType: 'image/webp', buffer: WEBP });
    const dialog = page.getByRole('dialog', { name: 'Crop your photo' });
    await dialog.getByRole('button', { name: 'Save photo' }).click();
    await dialog.getByText('The picture could not be read.').waitFor();
    await check(page, 'profile-avatar-refused', { fullPage: false });
    await page.unroute('**/api/v1/me/avatar**');
    // Saving again, for real, works (WebP in, PNG out).
    await dialog.getByRole('button', { name: 'Save photo' }).click();
    await page.getByRole('status').getByText('Photo updated').waitFor();
    w.assertClean();
  });

  test('phone: the crop dialog fits the screen', async () => {
    const w = await onProfile({ phone: true });
    const { page } = w;
    await choose(page, 'Upload photo', { name: 'me.jpg', mimeType: 'image/jpeg', buffer: JPEG });
    const dialog = page.getByRole('dialog', { name: 'Crop your photo' });
    await dialog.waitFor();
    const overflow = await page.evaluate(() => {
      const d = document.querySelector('[role="dialog"]');
      return { page: document.scrollingElement.scrollWidth > document.scrollingElement.clientWidth, dialog: d.scrollWidth > d.clientWidth };
    });
    assert.deepEqual(overflow, { page: false, dialog: false });
    await check(page, 'profile-avatar-crop-phone', { fullPage: false });
    await dialog.getByRole('button', { name: 'Save photo' }).click();
    await page.getByRole('img', { name: 'Your profile photo' }).waitFor();
    w.assertClean();
  });
});
