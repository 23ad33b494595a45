// The Team page in the browser: the seat meter, the members table (search, filters, sort), the
// invite dialog (a pasted list, one address already a member → per-address results), resend and
// cancel, changing a role (with the rules and the disabled choices explained), removing, the
// activity sheet, the last-owner refusal on "Leave", a two-step ownership transfer, what a plain
// member sees, and the page on a phone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { check, DEMO, openBrowser, signIn, startDemo } from './support.mjs';

describe('team page in the browser', () => {
  let srv;
  let ids;
  let owner;
  let b;
  before(async () => {
    ({ srv, ids, api: owner } = await startDemo({ ATRIUM_JOB_WORKERS: '0' }));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  const rows = (page) => page.locator('.team-card tbody tr');
  const row = (page, text) => page.locator('.team-card tbody tr', { hasText: text });
  const openTeam = async (w) => {
    await w.goto(`/w/${ids.root}/settings/team`);
    await w.page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    await rows(w.page).first().waitFor();
    await w.page.locator('.seats-title').waitFor();
  };
  const action = async (page, name, item) => {
    await page.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: item }).click();
  };
  /** Waits until the seat meter's text matches `re` (it refreshes after each change). */
  const seatsSay = (page, re) =>
    page.waitForFunction((src) => new RegExp(src).test(document.querySelector('.seats-card')?.innerText ?? ''), re.source);
  /** Pastes text into the focused element the way a browser does (a ClipboardEvent with data). */
  const paste = (page, text) =>
    page.evaluate((t) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', t);
      document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, text);

  test('members, seats, search, filters and sort', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Team' }).click();
    await page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    await rows(page).first().waitFor();
    assert.equal(await rows(page).count(), 4);
    await page.locator('.seats-title').waitFor();
    await seatsSay(page, /5\s+of 12 seats used[\s\S]*7 seats free[\s\S]*5 active members[\s\S]*0 pending invitations/);
    assert.match(await row(page, 'Olivia Owner').innerText(), /You[\s\S]*Owner[\s\S]*Active/);
    assert.equal(await page.getByRole('meter', { name: 'Seats used' }).getAttribute('aria-valuenow'), '5');
    await check(page, 'team-members');

    // Search (debounced, kept in the URL).
    await page.getByRole('searchbox', { name: 'Search members' }).fill('mia');
    await page.waitForFunction(() => document.querySelectorAll('.team-card tbody tr').length === 1);
    await page.waitForURL(/\?q=mia$/);
    assert.match(await rows(page).first().innerText(), /Mia Member/);
    await page.getByRole('searchbox', { name: 'Search members' }).fill('nobody-like-this');
    await page.getByText('No members match').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.team-card tbody tr').length === 4);

    // Role filter, then sort by name both ways with the header button.
    await page.getByRole('combobox', { name: 'Role' }).selectOption('member');
    await page.waitForFunction(() => document.querySelectorAll('.team-card tbody tr').length === 2);
    await page.getByRole('combobox', { name: 'Role' }).selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('.team-card tbody tr').length === 4);
    await page.getByRole('button', { name: 'Member', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('.team-card tbody tr .member-name')?.textContent?.startsWith('Olivia'));
    assert.equal(await page.locator('th[aria-sort="descending"]').count(), 1);
    await page.getByRole('button', { name: 'Member', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('.team-card tbody tr .member-name')?.textContent?.startsWith('Adam'));

    // The tabs answer the arrow keys.
    await page.getByRole('tab', { name: /Members/ }).focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/\?tab=invitations$/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'team-tab-invitations');
    await page.keyboard.press('ArrowLeft');
    await rows(page).first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.team-card tbody tr').length === 4);

    // Status filter: nobody is deactivated yet.
    await page.getByRole('combobox', { name: 'Status' }).selectOption('deactivated');
    await page.getByText('No members match').waitFor();
    await page.getByRole('combobox', { name: 'Status' }).selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('.team-card tbody tr').length === 4);
    w.assertClean();
    await w.context.close();
  });

  test('invite a pasted list: per-address results; resend; cancel', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await openTeam(w);

    await page.getByRole('button', { name: 'Invite people' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Invite people to Acme Agency' });
    await dialog.waitFor();
    // The address box has focus; nothing in it yet.
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('chips-input')), true);
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    await dialog.getByText('Add at least one email address.').waitFor();

    // A list pasted from a mail client: a "Name <address>" line, a member's address, a typo.
    await paste(page, 'Grace Hopper <grace@example.com>,\nmember@acme.test; not-an-address');
    assert.deepEqual(
      await dialog.locator('.chip').evaluateAll((els) => els.map((e) => e.getAttribute('data-email'))),
      ['grace@example.com', 'member@acme.test', 'not-an-address'],
    );
    assert.equal(await dialog.locator('.chip.is-invalid').count(), 1);
    await dialog.getByRole('button', { name: 'Send 2 invitations' }).click();
    await dialog.getByText('Fix or remove the address marked in red.').waitFor();
    await dialog.getByRole('button', { name: 'Remove not-an-address' }).click();
    // Typing works too: a comma turns the address into a chip; a duplicate is skipped.
    await dialog.getByLabel('Email addresses').pressSequentially('GRACE@example.com,');
    assert.equal(await dialog.locator('.chip').count(), 2);
    // Owners may grant every role; the hint follows the choice.
    assert.equal(await dialog.getByRole('combobox', { name: 'Role' }).locator('option[disabled]').count(), 0);
    await dialog.getByRole('combobox', { name: 'Role' }).selectOption('admin');
    await dialog.getByText('Manages the team, settings, integrations and API keys.', { exact: false }).waitFor();
    await dialog.getByLabel('Personal note').fill('Welcome to the agency, Grace!');
    await check(page, 'team-invite-dialog', { fullPage: false });

    await dialog.getByRole('button', { name: 'Send 2 invitations' }).click();
    const results = page.getByRole('dialog', { name: '1 of 2 invitations sent' });
    await results.waitFor();
    const ok = results.locator('.invite-result[data-email="grace@example.com"]');
    const bad = results.locator('.invite-result[data-email="member@acme.test"]');
    assert.match(await ok.innerText(), /Invited as Admin/);
    assert.match(await bad.innerText(), /Already a member: This person is already a member\./);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Done');
    await check(page, 'team-invite-results', { fullPage: false });
    await results.getByRole('button', { name: 'Done' }).click();

    // The new invitation is on the Pending tab, which the dialog switched to.
    await page.waitForURL(/\?tab=invitations$/);
    assert.equal(await page.getByRole('tab', { name: /Pending invitations/ }).getAttribute('aria-selected'), 'true');
    const grace = row(page, 'grace@example.com');
    await grace.waitFor();
    assert.match(await grace.innerText(), /Admin[\s\S]*Olivia Owner[\s\S]*Not resent[\s\S]*Pending[\s\S]*Expires in 7 days/);
    assert.match(await grace.innerText(), /Welcome to the agency, Grace!/);
    await seatsSay(page, /6\s+of 12 seats used[\s\S]*1 pending invitation/);
    await check(page, 'team-invitations');

    // Resend: the same row, a fresh link; too soon again is refused with a clear wait.
    await grace.getByRole('button', { name: 'Resend the invitation to grace@example.com' }).click();
    await page.getByRole('status').filter({ hasText: 'Invitation resent to grace@example.com' }).waitFor();
    await grace.getByText('Resent once').waitFor();
    await grace.getByRole('button', { name: 'Resend the invitation to grace@example.com' }).click();
    await grace.getByText('Resent 2 times').waitFor();
    await grace.getByRole('button', { name: 'Resend the invitation to grace@example.com' }).click();
    await page.getByRole('alert').filter({ hasText: 'This invitation was just resent' }).waitFor();
    assert.equal(await rows(page).count(), 1, 'resending never makes a second invitation');

    // Cancel (with a confirmation): the row goes, and so does its seat.
    await grace.getByRole('button', { name: 'Cancel the invitation to grace@example.com' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Cancel the invitation to grace@example.com?' });
    await confirm.waitFor();
    await check(page, 'team-invitation-cancel', { fullPage: false });
    await confirm.getByRole('button', { name: 'Cancel invitation' }).click();
    await page.getByRole('status').filter({ hasText: 'Invitation to grace@example.com cancelled' }).waitFor();
    await page.getByText('No pending invitations').waitFor();
    await seatsSay(page, /5\s+of 12 seats used/);
    // …and it is listed under "Cancelled".
    await page.getByRole('combobox', { name: 'Status' }).selectOption('revoked');
    await row(page, 'grace@example.com').getByText('Cancelled').waitFor();

    // One address that is refused: the same per-address answer, nothing sent.
    await page.getByRole('button', { name: 'Invite people' }).first().click();
    await dialog.getByLabel('Email addresses').fill('admin@acme.test');
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    const none = page.getByRole('dialog', { name: 'No invitations were sent' });
    await none.waitFor();
    assert.match(await none.locator('.invite-result[data-email="admin@acme.test"]').innerText(), /Already a member: This person is already a member\./);
    await none.getByRole('button', { name: 'Done' }).click();
    await none.waitFor({ state: 'detached' });
    w.assertClean();
    await w.context.close();
  });

  test('change a role (rules, confirmation), activity, remove; what an admin may not do', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await openTeam(w);

    await action(page, 'Mia Member', 'Change role…');
    const dialog = page.getByRole('alertdialog', { name: "Change Mia Member's role" });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Only owners can make someone an owner[\s\S]*Nobody can grant a role above their own[\s\S]*always keeps at least one active owner/);
    const save = dialog.getByRole('button', { name: 'Change role' });
    assert.equal(await save.isDisabled(), true, 'nothing to save until another role is picked');
    await dialog.getByRole('radio', { name: /^Admin/ }).check();
    await dialog.getByText('Mia will be able to manage the team', { exact: false }).waitFor();
    await check(page, 'team-role-dialog', { fullPage: false });
    await dialog.getByRole('radio', { name: /^Member/ }).check();
    assert.equal(await save.isDisabled(), true, 'back to the current role: nothing to save');
    await dialog.getByRole('radio', { name: /^Admin/ }).check();
    await dialog.getByRole('button', { name: 'Make Mia an admin' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'Mia Member is now an admin' }).waitFor();
    await row(page, 'Mia Member').getByText('Admin', { exact: true }).waitFor();

    // The activity sheet tells the story.
    await action(page, 'Mia Member', 'View activity');
    const sheet = page.getByRole('dialog', { name: 'Mia Member' });
    await sheet.waitFor();
    await sheet.locator('.timeline-item[data-action="member.role_changed"]').waitFor();
    assert.match(await sheet.locator('.timeline-item').first().innerText(), /Olivia Owner changed Mia Member's role from Member to Admin/);
    await check(page, 'team-member-activity', { fullPage: false });
    await sheet.getByRole('button', { name: 'Close activity' }).click();
    await sheet.waitFor({ state: 'detached' });

    // Remove (with a confirmation that says what happens).
    await action(page, 'Dev Developer', 'Remove from workspace…');
    const remove = page.getByRole('alertdialog', { name: 'Remove Dev Developer from Acme Agency?' });
    await remove.getByText('Their Atrium account and past activity are kept.').waitFor();
    await remove.getByRole('button', { name: 'Remove member' }).click();
    await page.getByRole('status').filter({ hasText: 'Dev Developer was removed' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.team-card tbody tr').length === 3);
    await seatsSay(page, /4\s+of 12 seats used/);

    // Deactivate and reactivate.
    await action(page, 'Mia Member', 'Deactivate…');
    await page.getByRole('alertdialog', { name: 'Deactivate Mia Member?' }).getByRole('button', { name: 'Deactivate' }).click();
    await row(page, 'Mia Member').getByText('Deactivated').waitFor();
    await seatsSay(page, /3\s+of 12 seats used/);
    await action(page, 'Mia Member', 'Reactivate');
    await row(page, 'Mia Member').getByText('Active', { exact: true }).waitFor();

    // An admin: owners are out of reach, and the role dialog says why Owner can't be picked.
    const a = await b.page(srv.url);
    await signIn(a, DEMO.admin);
    await openTeam(a);
    await a.page.getByRole('button', { name: 'Actions for Olivia Owner' }).click();
    assert.deepEqual(await a.page.getByRole('menuitem').allInnerTexts(), ['View activity']);
    await a.page.keyboard.press('Escape');
    await action(a.page, 'Mia Member', 'Change role…');
    const ad = a.page.getByRole('alertdialog', { name: "Change Mia Member's role" });
    assert.equal(await ad.getByRole('radio', { name: /^Owner/ }).isDisabled(), true);
    await ad.getByText('Only owners can make someone an owner.', { exact: true }).waitFor();
    await check(a.page, 'team-role-dialog-admin', { fullPage: false });
    await ad.getByRole('button', { name: 'Cancel' }).click();
    // The invite dialog offers only roles an admin may grant.
    await a.page.getByRole('button', { name: 'Invite people' }).first().click();
    const inv = a.page.getByRole('dialog', { name: 'Invite people to Acme Agency' });
    assert.equal(await inv.getByRole('combobox', { name: 'Role' }).locator('option[value="owner"]').isDisabled(), true);
    assert.match(await inv.getByRole('combobox', { name: 'Role' }).locator('option[value="owner"]').innerText(), /only owners can make someone an owner/i);
    await inv.getByRole('button', { name: 'Cancel' }).click();
    a.assertClean();
    await a.context.close();

    // Mia goes back to being a member (the last test needs one).
    const mia = (await owner('GET', `/workspaces/${ids.root}/members?q=mia`)).body.items[0];
    assert.equal((await owner('PATCH', `/workspaces/${ids.root}/members/${mia.id}`, { role: 'member' })).status, 200);
    w.assertClean();
    await w.context.close();
  });

  test('leaving as the only owner is refused clearly; ownership transfer in two steps', async () => {
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.owner);
    await openTeam(w);

    // Known beforehand: the page says so, and the dialog explains instead of offering a doomed button.
    await page.getByText("You're the only owner. Make someone else an owner before you leave.").waitFor();
    await page.getByRole('button', { name: 'Leave workspace…' }).click();
    const cant = page.getByRole('alertdialog', { name: "You can't leave Acme Agency yet" });
    await cant.getByText('choose Make owner… in their row', { exact: false }).waitFor();
    assert.equal(await cant.getByRole('button', { name: 'Leave workspace' }).count(), 0);
    await check(page, 'team-leave-only-owner', { fullPage: false });
    await cant.getByRole('button', { name: 'Got it' }).click();

    // Learned only from the server (another owner was demoted behind this page's back): a clear refusal.
    const adam = (await owner('GET', `/workspaces/${ids.root}/members?q=admin%40acme.test`)).body.items[0];
    assert.equal((await owner('PATCH', `/workspaces/${ids.root}/members/${adam.id}`, { role: 'owner' })).status, 200);
    await page.reload();
    await row(page, 'Adam Admin').getByText('Owner', { exact: true }).waitFor();
    assert.equal(await page.getByText("You're the only owner.", { exact: false }).count(), 0);
    assert.equal((await owner('PATCH', `/workspaces/${ids.root}/members/${adam.id}`, { role: 'admin' })).status, 200);
    await page.getByRole('button', { name: 'Leave workspace…' }).click();
    const leave = page.getByRole('alertdialog', { name: 'Leave Acme Agency?' });
    await leave.getByRole('button', { name: 'Leave workspace' }).click();
    await leave.getByRole('alert').filter({ hasText: "You're the only owner of Acme Agency" }).waitFor();
    await check(page, 'team-leave-last-owner', { fullPage: false });
    await leave.getByRole('button', { name: 'Cancel' }).click();
    await page.reload();
    await rows(page).first().waitFor();

    // Make Adam the owner: a request, not a change.
    await action(page, 'Adam Admin', 'Make owner…');
    const offer = page.getByRole('alertdialog', { name: 'Make Adam Admin the owner of Acme Agency?' });
    await offer.getByText('you become an admin').waitFor();
    await offer.getByRole('button', { name: 'Send request' }).click();
    const notice = page.getByTestId('ownership-transfer');
    await notice.getByText('You offered ownership of Acme Agency to Adam Admin').waitFor();
    await row(page, 'Adam Admin').getByText('Ownership offered').waitFor();
    await check(page, 'team-transfer-pending');

    // Adam sees it on his Team page and accepts.
    const a = await b.page(srv.url);
    await signIn(a, DEMO.admin);
    await openTeam(a);
    const mine = a.page.getByTestId('ownership-transfer');
    await mine.getByText('Olivia Owner wants to make you the owner of Acme Agency').waitFor();
    await check(a.page, 'team-transfer-offer');
    await mine.getByRole('button', { name: 'Accept ownership' }).click();
    await a.page.getByRole('alertdialog', { name: 'Become the owner of Acme Agency?' }).getByRole('button', { name: 'Accept ownership' }).click();
    await a.page.getByRole('status').filter({ hasText: "You're now an owner of Acme Agency" }).waitFor();
    await row(a.page, 'Adam Admin').getByText('Owner', { exact: true }).waitFor();
    await row(a.page, 'Olivia Owner').getByText('Admin', { exact: true }).waitFor();
    assert.equal(await a.page.getByTestId('ownership-transfer').count(), 0);
    a.assertClean();
    await a.context.close();

    // The swap was atomic: Olivia is an admin now, and her page says so after a reload.
    const olivia = await owner('GET', `/workspaces/${ids.root}/members?q=owner%40acme.test`);
    assert.equal(olivia.body.items[0].role, 'admin');
    await page.reload();
    await rows(page).first().waitFor();
    await row(page, 'Adam Admin').getByText('Owner', { exact: true }).waitFor();
    assert.equal(await page.getByTestId('ownership-transfer').count(), 0);
    w.assertClean();
    await w.context.close();
  });

  test('a member at the Team address; the page on a phone', async () => {
    const m = await b.page(srv.url);
    await signIn(m, DEMO.member);
    await m.goto(`/w/${ids.root}/settings/team`);
    await m.page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    // Issue 14 item 6: a read-only directory; no ownership box without an offer (team-directory.test.mjs).
    await m.page.getByRole('table', { name: 'People in Acme Agency' }).waitFor();
    assert.equal(await m.page.getByRole('button', { name: 'Accept ownership' }).count(), 0);
    await check(m.page, 'team-member-directory');
    m.assertClean();
    await m.context.close();

    const p = await b.page(srv.url, { phone: true });
    await signIn(p, DEMO.admin);
    await openTeam(p);
    await check(p.page, 'team-members-phone');
    await p.page.getByRole('button', { name: 'Invite people' }).first().click();
    const dialog = p.page.getByRole('dialog', { name: 'Invite people to Acme Agency' });
    await dialog.getByLabel('Email addresses').fill('ken@example.com, lin@example.com ');
    assert.equal(await dialog.locator('.chip').count(), 2);
    await check(p.page, 'team-invite-dialog-phone', { fullPage: false });
    await dialog.getByRole('button', { name: 'Send 2 invitations' }).click();
    await p.page.getByRole('dialog', { name: '2 invitations sent' }).getByRole('button', { name: 'Done' }).click();
    await row(p.page, 'ken@example.com').waitFor();
    await check(p.page, 'team-invitations-phone');
    p.assertClean();
    await p.context.close();
  });
});
