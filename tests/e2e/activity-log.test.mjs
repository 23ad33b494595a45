// Issue 14 item 4: the Activity log reads as sentences — each event type in words with people's
// names (not addresses), amounts and dates in the viewer's locale, the exact time (ISO) on hover, no
// raw state names or cents — with filters by kind and by person, and a CSV export of the selection.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { apiAs, check, DEMO, openBrowser, signIn, startDemo } from './support.mjs';

describe('the Activity log in words', () => {
  let srv;
  let ids;
  let owner;
  let b;
  let seatsFrom;
  let seatsTo;
  before(async () => {
    ({ srv, ids, api: owner } = await startDemo());
    const B = `/workspaces/${ids.root}/billing`;
    // Seats 3 more than now (preview first, as the UI does).
    seatsFrom = (await owner('GET', B)).body.subscription.quantity;
    seatsTo = seatsFrom + 3;
    const pv = await owner('POST', `${B}/preview`, { quantity: seatsTo });
    assert.equal(pv.status, 200, JSON.stringify(pv.body));
    const ch = await owner('POST', `${B}/subscription/change`, { quantity: seatsTo, proration_date: pv.body.proration_date });
    assert.equal(ch.status, 200, JSON.stringify(ch.body));
    // A role change (by name, not address) and an invitation.
    const mia = (await owner('GET', `/workspaces/${ids.root}/members?q=Mia`)).body.items[0];
    assert.equal((await owner('PATCH', `/workspaces/${ids.root}/members/${mia.id}`, { role: 'admin' })).status, 200);
    assert.equal((await owner('PATCH', `/workspaces/${ids.root}/members/${mia.id}`, { role: 'member' })).status, 200);
    // The admin acts too, so the person filter has someone to tell apart.
    const admin = await apiAs(srv, DEMO.admin);
    const inv = await admin('POST', `/workspaces/${ids.root}/invitations`, { emails: ['new.hire@example.com'], role: 'member' });
    assert.ok(inv.status === 200 || inv.status === 201, JSON.stringify(inv.body));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  const feedText = (page) => page.locator('.feed').evaluate((el) => el.innerText);

  test('sentences with names, no raw names or cents; exact time on hover', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await w.goto(`/w/${ids.root}/settings/activity`);
    await page.getByRole('heading', { level: 1, name: 'Activity' }).waitFor();
    await page.locator('.feed-item').first().waitFor();
    // Names arrive with the member list.
    await page.getByText('changed the role of Mia Member from', { exact: false }).first().waitFor();
    const text = await feedText(page);
    assert.match(text, new RegExp(`Olivia Owner changed seats from ${seatsFrom} to ${seatsTo}`));
    assert.match(text, /Olivia Owner changed the role of Mia Member from admin to member/);
    assert.match(text, /Adam Admin invited new\.hire@example\.com as a member/);
    // Nothing raw: no "did …", no state names with underscores, no machine timestamps, no addresses
    // of people the workspace knows by name.
    assert.doesNotMatch(text, /did “|past_due|[a-z]+_[a-z]+|\d{4}-\d\d-\d\dT\d\d:/);
    assert.doesNotMatch(text, /(owner|admin|member)@acme\.test/);
    // Invoice amounts, when the change issued one, are money in the viewer's locale, not cents.
    for (const line of text.split('\n').filter((l) => /issued invoice/.test(l))) assert.match(line, /for \$[\d,]+\.\d\d/);
    // The exact time on hover.
    const title = await page.locator('.feed-item time').first().getAttribute('title');
    assert.match(title, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    await check(page, 'activity-sentences');
    w.assertClean();
    await w.context.close();
  });

  test('filters by kind and by person; the CSV export follows the filters', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await w.goto(`/w/${ids.root}/settings/activity`);
    await page.locator('.feed-item').first().waitFor();

    await page.getByLabel('Kind').selectOption({ label: 'Members and roles' });
    await page.waitForFunction(() => [...document.querySelectorAll('.feed-item')].every((li) => li.dataset.action.startsWith('member.')));
    assert.ok((await page.locator('.feed-item').count()) >= 2);

    await page.getByLabel('Kind').selectOption({ label: 'All kinds' });
    await page.getByLabel('Person').selectOption({ label: 'Adam Admin' });
    await page.waitForFunction(() => [...document.querySelectorAll('.feed-actor')].every((el) => el.textContent === 'Adam Admin'));
    assert.match(await feedText(page), /Adam Admin invited new\.hire@example\.com/);

    // The export holds exactly what the filters select.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    const lines = csv.trim().split('\r\n');
    assert.match(lines[0], /^time,actor_name,actor,actor_type,action,/);
    assert.ok(lines.length >= 2);
    for (const l of lines.slice(1)) assert.match(l, /^[^,]+,Adam Admin,admin@acme\.test,/);
    assert.ok(lines.some((l) => l.includes(',invitation.created,')));
    await check(page, 'activity-filtered');
    w.assertClean();
    await w.context.close();
  });
});
