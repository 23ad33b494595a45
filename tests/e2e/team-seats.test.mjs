// Seats in the browser, on a server whose new workspaces get 4 seats (ATRIUM_DEFAULT_SEATS): inviting past the limit (the
// addresses that fit are invited, the rest say why), the full meter pointing to Billing, the invite
// dialog refusing up front, reactivation refused when full; then a week passes, the invitation
// expires (its link says so), its seat comes back, and it can be resent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { linkIn, waitForMail } from './mail.mjs';
import { apiAs, check, createAccount, DEMO, openBrowser, PASSWORD, signIn, startDemo, startServer } from './support.mjs';

const LONG = '31536000';

describe('seat limit in the browser', () => {
  let srv;
  let wsId;
  let owner;
  let b;
  const sasha = { name: 'Sasha Owner', email: 'sasha@example.com', password: PASSWORD };

  /** Invites `email`, then accepts as a new person through the public API (as the mailed link would). */
  const join = async (email, name) => {
    const r = await owner('POST', `/workspaces/${wsId}/invitations`, { emails: [email], role: 'member' });
    assert.equal(r.body.results[0].status, 'invited', JSON.stringify(r.body));
    const token = new URL(linkIn(await waitForMail(srv, { to: email }), '/invitations/')).pathname.split('/').pop();
    const a = await srv.post(`/api/v1/invitations/${token}/accept`, { name, password: PASSWORD }, { headers: { origin: new URL(srv.url).origin } });
    assert.equal(a.status, 201, a.text);
  };

  before(async () => {
    srv = await startServer({
      env: {
        ATRIUM_DEFAULT_SEATS: '4',
        ATRIUM_SIGNUP: 'true',
        ATRIUM_JOB_WORKERS: '0',
        ATRIUM_LOGIN_IP_PER_MINUTE: '100000',
        ATRIUM_SESSION_IDLE: LONG,
        ATRIUM_SESSION_ABSOLUTE: LONG,
      },
    });
    await createAccount(srv, sasha);
    owner = await apiAs(srv, sasha);
    wsId = (await owner('GET', '/workspaces')).body.items[0].id;
    await join('devon@example.com', 'Devon Seat');
    await join('mira@example.com', 'Mira Seat');
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  const row = (page, text) => page.locator('.team-card tbody tr', { hasText: text });
  const seats = (page) => page.locator('.seats-card');
  /** Waits until the seat meter's text matches `re` (it refreshes after each change). */
  const seatsSay = (page, re) =>
    page.waitForFunction((src) => new RegExp(src).test(document.querySelector('.seats-card')?.innerText ?? ''), re.source);

  test('inviting past the limit, the full meter, refusals that point to Billing, expiry', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, sasha);
    await w.goto(`/w/${wsId}/settings/team`);
    await page.locator('.team-card tbody tr').first().waitFor();
    await page.locator('.seats-title').waitFor();
    await seatsSay(page, /3\s+of 4 seats used[\s\S]*1 seat free/);

    // Two addresses, one seat: the dialog warns, the first is invited, the second says why.
    await page.getByRole('button', { name: 'Invite people' }).first().click();
    const dialog = page.getByRole('dialog', { name: "Invite people to Sasha Owner's workspace" });
    await dialog.getByLabel('Email addresses').fill('uma@example.com vic@example.com ');
    await dialog.getByText('Only 1 seat is free').waitFor();
    await check(page, 'team-invite-over-limit', { fullPage: false });
    await dialog.getByRole('button', { name: 'Send 2 invitations' }).click();
    const results = page.getByRole('dialog', { name: '1 of 2 invitations sent' });
    await results.waitFor();
    assert.match(await results.locator('.invite-result[data-email="uma@example.com"]').innerText(), /Invited as Member/);
    assert.match(
      await results.locator('.invite-result[data-email="vic@example.com"]').innerText(),
      /No free seat: All 4 seats are in use; free one or add seats in Billing\./,
    );
    await results.getByRole('button', { name: 'Done' }).click();

    // The meter is full and says what to do.
    await seats(page).getByText('All 4 seats are in use').waitFor();
    await seatsSay(page, /4\s+of 4 seats used[\s\S]*No seats free/);
    await seatsSay(page, /New invitations, and reactivating members, are refused until a seat frees up\.[\s\S]*Billing/);
    await check(page, 'team-seats-full');

    // The invite dialog refuses up front.
    await page.getByRole('button', { name: 'Invite people' }).first().click();
    await dialog.getByText('All 4 seats are in use').waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Send invitation' }).isDisabled(), true);
    await check(page, 'team-invite-seats-full', { fullPage: false });
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Deactivating frees a seat; someone takes it; reactivating is then refused with the reason.
    await page.getByRole('tab', { name: /Members/ }).click();
    await page.getByRole('button', { name: 'Actions for Devon Seat' }).click();
    await page.getByRole('menuitem', { name: 'Deactivate…' }).click();
    await page.getByRole('alertdialog', { name: 'Deactivate Devon Seat?' }).getByRole('button', { name: 'Deactivate' }).click();
    await row(page, 'Devon Seat').getByText('Deactivated').waitFor();
    await seats(page).getByText('1 seat free').waitFor();
    const taken = await owner('POST', `/workspaces/${wsId}/invitations`, { emails: ['wes@example.com'], role: 'member' });
    assert.equal(taken.body.results[0].status, 'invited');
    await page.getByRole('tab', { name: /Pending invitations/ }).click();
    await row(page, 'wes@example.com').waitFor();
    await page.getByRole('tab', { name: /Members/ }).click();
    await page.getByRole('button', { name: 'Actions for Devon Seat' }).click();
    await page.getByRole('menuitem', { name: 'Reactivate' }).click();
    await page.getByRole('alert').filter({ hasText: 'All seats are in use' }).waitFor();
    await row(page, 'Devon Seat').getByText('Deactivated').waitFor();

    // A week and a day later the invitations have expired: their seats are free again.
    const mail = await waitForMail(srv, { to: 'uma@example.com', subject: /invited you/ });
    const link = linkIn(mail, '/invitations/');
    const moved = await srv.post('/api/v1/test/clock', { advance_seconds: 8 * 86400 });
    assert.equal(moved.status, 200, moved.text);
    await page.reload();
    await page.locator('.seats-title').waitFor();
    await seatsSay(page, /2\s+of 4 seats used[\s\S]*0 pending invitations/);

    const x = await b.page(srv.url);
    await x.page.goto(link);
    await x.page.getByRole('heading', { level: 1, name: 'This invitation has expired' }).waitFor();
    await x.page.getByText('Ask Sasha Owner to resend it', { exact: false }).waitFor();
    await check(x.page, 'invitation-expired');
    x.assertClean();
    await x.context.close();

    // Expired invitations are one filter away, and can be resent.
    await page.getByRole('tab', { name: /Pending invitations/ }).click();
    await page.getByText('No pending invitations').waitFor();
    await page.getByRole('combobox', { name: 'Status' }).selectOption('expired');
    const uma = row(page, 'uma@example.com');
    await uma.getByText(/^Since \w+ \d+/).waitFor();
    await uma.getByText("Expired", { exact: true }).waitFor();
    await check(page, 'team-invitations-expired');
    await uma.getByRole('button', { name: 'Resend the invitation to uma@example.com' }).click();
    await page.getByRole('status').filter({ hasText: 'Invitation resent to uma@example.com' }).waitFor();
    // It's pending again (and leaves the "Expired" list).
    await page.getByRole('combobox', { name: 'Status' }).selectOption('pending');
    await row(page, 'uma@example.com').getByText('Pending', { exact: true }).waitFor();
    await seats(page).getByText('1 pending invitation').waitFor();
    w.assertClean();
    await w.context.close();
  });
});

// A sub-account billed by its agency (the demo's Acme Dental): its seat card shows its own members and
// invitations and who provides the seats, never the agency's pool; when the pool is full it says so
// without a figure (issue 12, item 7).
describe('seats of a sub-account billed by its agency', () => {
  let srv;
  let ids;
  let b;
  before(async () => {
    ({ srv, ids } = await startDemo({ ATRIUM_JOB_WORKERS: '0' }));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('the seat card names the agency and shows no figure of its pool', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.subadmin);
    await w.goto(`/w/${ids.dental}/settings/team`);
    await page.locator('.seats-title').waitFor();
    const card = page.locator('.seats-card');
    await page.waitForFunction(() => /Seats are provided by Acme Agency/.test(document.querySelector('.seats-card')?.innerText ?? ''));
    const text = await card.innerText();
    assert.match(text, /\d+\s+seats? used here/);
    assert.doesNotMatch(text, /\bof \d+ seats\b|seats? free\b|free seat/, text);
    assert.equal(await card.getByRole('meter').count(), 0, 'no meter of the agency pool');
    await check(page, 'team-seats-provided', { fullPage: false });
  });
});
