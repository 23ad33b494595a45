// The page an invitation email leads to, reached by the link in the mail Atrium really wrote (the
// mail folder, decoded as a mail client would): a new person creates their account and joins; an
// existing account signs in (and comes back) and joins; someone signed in with another address is
// told why and can switch; cancelled, used, replaced and unknown links each get a clear page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { linkIn, waitForMail } from './mail.mjs';
import { check, createAccount, DEMO, openBrowser, signIn, startDemo, WS_PAGE } from './support.mjs';

describe('accepting an invitation in the browser', () => {
  let srv;
  let ids;
  let owner;
  let b;
  before(async () => {
    ({ srv, ids, api: owner } = await startDemo({ ATRIUM_JOB_WORKERS: '0', ATRIUM_SIGNUP: 'true' }));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  /** Invites `email` through the API and returns the link from the mail it gets. */
  const invite = async (email, role = 'member', message) => {
    const r = await owner('POST', `/workspaces/${ids.root}/invitations`, { emails: [email], role, ...(message ? { message } : {}) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.results[0].status, 'invited');
    const mail = await waitForMail(srv, { to: email, subject: /invited you/ });
    const link = linkIn(mail, '/invitations/');
    // Exactly {public url}/invitations/{token}: the app must serve that path.
    assert.equal(new URL(link).origin, new URL(srv.url).origin);
    assert.match(new URL(link).pathname, /^\/invitations\/[A-Za-z0-9_-]{32,}$/);
    return { link, id: r.body.results[0].invitation.id };
  };

  test('a new person: the link from the mail, the account form, straight into the workspace', async () => {
    const { link } = await invite('nina@example.com', 'member', 'Welcome aboard, Nina!\nThe client files are in Acme Agency.');
    const w = await b.page(srv.url);
    const { page } = w;
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Join Acme Agency' }).waitFor();
    const card = page.locator('.auth-card');
    assert.match(await card.innerText(), /Olivia Owner invited you to join Acme Agency on Atrium as a member/);
    assert.match(await card.innerText(), /Role\s+Member[\s\S]*For\s+nina@example\.com[\s\S]*Valid until/);
    assert.match(await card.innerText(), /Olivia Owner wrote\s+Welcome aboard, Nina!/);
    assert.equal(await page.getByLabel('Email').inputValue(), 'nina@example.com');
    await check(page, 'invitation-new-person');

    const form = page.getByRole('form', { name: 'Create your account and join' });
    await form.getByRole('button', { name: 'Create account and join' }).click();
    await form.getByText('Enter your name.').waitFor();
    await form.getByLabel('Full name').fill('Nina Newcomer');
    await form.getByLabel('Password', { exact: true }).fill('short');
    await form.getByRole('button', { name: 'Create account and join' }).click();
    await form.getByText('This password has 5 characters. Use at least 12.').waitFor();
    await form.getByLabel('Password', { exact: true }).fill('Nimbus-Lantern-Quarry-81');
    await form.getByRole('button', { name: 'Create account and join' }).click();
    await page.waitForURL(WS_PAGE);
    await page.getByRole('status').filter({ hasText: 'Welcome to Acme Agency' }).waitFor();
    assert.match(page.url(), new RegExp(`/w/${ids.root}/settings/`));
    await page.getByRole('button', { name: /Nina Newcomer\s*, account menu/ }).waitFor();
    await check(page, 'invitation-joined');

    // She shows up on the Team page as a member who was invited by Olivia.
    const members = await owner('GET', `/workspaces/${ids.root}/members?q=nina`);
    assert.equal(members.body.items[0].role, 'member');

    // The link is spent: opening it again says so, and offers the way in.
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'This invitation was already used' }).waitFor();
    await page.getByRole('link', { name: 'Open Acme Agency' }).waitFor();
    await check(page, 'invitation-used');
    w.assertClean();
    await w.context.close();

    // The same spent link, signed out: the generic wording and a way to sign in.
    const x = await b.page(srv.url);
    await x.page.goto(link);
    await x.page.getByRole('heading', { level: 1, name: 'This invitation was already used' }).waitFor();
    await x.page.getByText('If that was you, sign in as nina@example.com', { exact: false }).waitFor();
    x.assertClean();
    await x.context.close();
  });

  test('an existing account: sign in from the invitation, come back, join', async () => {
    const ezra = await createAccount(srv, { name: 'Ezra Existing', email: 'ezra@example.com' });
    const { link } = await invite(ezra.email, 'admin');
    const w = await b.page(srv.url);
    const { page } = w;
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Join Acme Agency' }).waitFor();

    // Trying to create the account again is answered with the way forward.
    const form = page.getByRole('form', { name: 'Create your account and join' });
    await form.getByLabel('Full name').fill('Ezra Existing');
    await form.getByLabel('Password', { exact: true }).fill('Another-Long-Password-77');
    await form.getByRole('button', { name: 'Create account and join' }).click();
    const exists = form.getByRole('status').filter({ hasText: 'You already have an account with ezra@example.com' });
    await exists.waitFor();

    await exists.getByRole('link', { name: 'Sign in to accept' }).click();
    await page.waitForURL(/\/sign-in\?next=/);
    await page.getByText('Sign in to accept your invitation.', { exact: false }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), 'ezra@example.com');
    await page.getByLabel('Password', { exact: true }).fill(ezra.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/invitations/'));
    const join = page.getByRole('button', { name: 'Join Acme Agency' });
    await join.waitFor();
    await page.getByText('Signed in as ezra@example.com').waitFor();
    assert.match(await page.locator('.auth-card').innerText(), /as an admin/);
    await check(page, 'invitation-signed-in');
    await join.click();
    await page.waitForURL(WS_PAGE);
    await page.getByRole('status').filter({ hasText: 'Welcome to Acme Agency' }).waitFor();
    // An admin now: the Team section is in the navigation.
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Team' }).waitFor();
    w.assertClean();
    await w.context.close();
  });

  test('signed in with another address: why, and a way to switch', async () => {
    const { link } = await invite('zoe@example.com');
    const w = await b.page(srv.url);
    const { page } = w;
    await signIn(w, DEMO.member);
    await page.goto(link);
    const warn = page.getByRole('status').filter({ hasText: 'This invitation is for zoe@example.com' });
    await warn.waitFor();
    assert.match(await warn.innerText(), /You're signed in as member@acme\.test/);
    assert.equal(await page.getByRole('button', { name: 'Join Acme Agency' }).count(), 0);
    await check(page, 'invitation-other-account');
    await page.getByRole('button', { name: 'Sign out and continue' }).click();
    await page.getByRole('form', { name: 'Create your account and join' }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), 'zoe@example.com');
    w.assertClean();
    await w.context.close();
  });

  test('cancelled, replaced and unknown links; the page on a phone', async () => {
    const w = await b.page(srv.url);
    const { page } = w;

    const cancelled = await invite('carl@example.com');
    assert.equal((await owner('DELETE', `/workspaces/${ids.root}/invitations/${cancelled.id}`)).status, 204);
    await page.goto(cancelled.link);
    await page.getByRole('heading', { level: 1, name: 'This invitation was cancelled' }).waitFor();
    await page.getByText('Olivia Owner or another admin of Acme Agency cancelled it', { exact: false }).waitFor();
    await check(page, 'invitation-cancelled');

    // Resending sends a new link; the old one stops working.
    const first = await invite('dora@example.com');
    const again = await owner('POST', `/workspaces/${ids.root}/invitations/${first.id}/resend`);
    assert.equal(again.status, 200);
    await page.goto(first.link);
    await page.getByRole('heading', { level: 1, name: "This invitation link isn't valid" }).waitFor();
    await page.getByText('resending an invitation sends a new link', { exact: false }).waitFor();
    await page.getByRole('link', { name: 'Go to sign in' }).waitFor();
    await check(page, 'invitation-unknown');

    await w.goto('/invitations/this-is-not-a-token');
    await page.getByRole('heading', { level: 1, name: "This invitation link isn't valid" }).waitFor();
    w.assertClean();
    await w.context.close();

    const p = await b.page(srv.url, { phone: true });
    const fresh = await invite('pia@example.com', 'admin', 'See you on Monday!');
    await p.page.goto(fresh.link);
    await p.page.getByRole('heading', { level: 1, name: 'Join Acme Agency' }).waitFor();
    await check(p.page, 'invitation-new-person-phone');
    p.assertClean();
    await p.context.close();
  });
});
