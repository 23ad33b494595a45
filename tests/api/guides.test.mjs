// User guides (issue 14): GET /guide/<section> answers every Settings section that exists today with
// an HTML page titled for it (docs/guide/<section>.md rendered at build time, everything escaped),
// linking to the other guides; an unknown section is a 404 problem. Every docs/guide file is served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, repoPath, problemOf } from '../lib/server.mjs';

const SECTIONS = {
  workspace: 'Workspace Settings',
  profile: 'Profile',
  notifications: 'Notifications',
  team: 'Team',
  billing: 'Billing',
  subaccounts: 'Sub-Accounts',
  api_keys: 'API Keys',
  activity: 'Activity',
  billing_recovery: 'Billing Recovery',
};

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

test('every section has a guide, served as an HTML page with its title', async () => {
  const files = fs.readdirSync(repoPath('docs/guide')).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)).sort();
  assert.deepEqual(files, Object.keys(SECTIONS).sort(), 'one guide per section, no more');
  for (const [id, title] of Object.entries(SECTIONS)) {
    const r = await srv.req(`/guide/${id}`);
    assert.equal(r.status, 200, `${id}: ${r.text.slice(0, 200)}`);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(r.text.startsWith('<!DOCTYPE html>'));
    assert.ok(r.text.includes(`<h1>${title.replace('&', '&amp;')}</h1>`), `${id}: the title`);
    assert.ok(r.text.includes(`<title>${title} · Atrium guide</title>`));
    assert.match(r.text, /<h2 id="who-can-do-what">Who can do what<\/h2>/, `${id}: says what each role can do`);
    assert.match(r.text, /<h2 id="common-problems">Common problems<\/h2>/, `${id}: lists common problems`);
    // No raw HTML from the Markdown, no script, and links only to safe targets.
    assert.doesNotMatch(r.text, /<script|javascript:|\son[a-z]+=/i);
    for (const [, href] of r.text.matchAll(/href="([^"]*)"/g)) assert.match(href, /^(\/|https:\/\/|#|mailto:)/, `${id}: link ${href}`);
    for (const other of Object.keys(SECTIONS)) if (other !== id) assert.ok(r.text.includes(`href="/guide/${other}"`), `${id} links to ${other}`);
  }
  assert.equal((await srv.fetch('/guide.css')).status, 200, 'the stylesheet the pages link');
});

test('a section without a guide is a 404 problem', async () => {
  for (const p of ['/guide/nope', '/guide/voice', '/guide/TEAM']) problemOf(await srv.req(p), 404);
});
