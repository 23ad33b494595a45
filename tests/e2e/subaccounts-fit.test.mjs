// Issue 14 item 1: the Sub-Accounts table fits desktop widths (1024–1920 px) without scrolling
// sideways; each row's "Open" and "…" buttons are whole and on screen; after using a row's menu the
// table has not moved sideways and the row acted on still shows its name.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { check, DEMO, openBrowser, signIn, startDemo } from './support.mjs';

describe('sub-accounts table at desktop widths', () => {
  let srv;
  let ids;
  let owner;
  let b;
  before(async () => {
    ({ srv, ids, api: owner } = await startDemo());
    // The widest content a row can hold: a long name and display name, a long suspension reason.
    const long = await owner('POST', `/workspaces/${ids.root}/subaccounts`, {
      name: 'Northwind Orthodontics and Family Dental Group of Greater Springfield',
      display_name: 'Northwind Orthodontics & Family Dental — Springfield Downtown Clinic',
      timezone: 'America/Argentina/Buenos_Aires',
    });
    assert.equal(long.status, 201, JSON.stringify(long.body));
    const s = await owner('POST', `/workspaces/${ids.root}/subaccounts/${long.body.id}/suspend`, {
      reason: 'Invoice 1042 is 30 days overdue; contact billing@acme.test or call the agency front desk to settle it.',
    });
    assert.equal(s.status, 200, JSON.stringify(s.body));
    b = await openBrowser();
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  // Everything the test measures, in one pass: the table's own overflow, and each row's action
  // buttons and name link against the viewport and the table's visible box.
  const measure = (page) =>
    page.evaluate(() => {
      const wrap = document.querySelector('.subs-card .table-wrap');
      const box = wrap.getBoundingClientRect();
      const inside = (el) => {
        const r = el.getBoundingClientRect();
        return (
          r.width > 0 &&
          r.left >= Math.max(0, box.left) - 0.5 &&
          r.right <= Math.min(window.innerWidth, box.right) + 0.5 &&
          r.right <= document.documentElement.clientWidth + 0.5
        );
      };
      return {
        scrollWidth: wrap.scrollWidth,
        clientWidth: wrap.clientWidth,
        scrollLeft: wrap.scrollLeft,
        pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        rows: [...document.querySelectorAll('.subs-card tbody tr')].map((tr) => ({
          name: tr.querySelector('.sub-link')?.textContent,
          nameVisible: !!tr.querySelector('.sub-link') && inside(tr.querySelector('.sub-link')),
          actions: [...tr.querySelectorAll('.cell-actions button')].map((btn) => ({
            label: btn.getAttribute('aria-label') || btn.textContent.trim(),
            visible: inside(btn),
          })),
        })),
      };
    });

  for (const width of [1024, 1440, 1920]) {
    test(`fits at ${width} px, actions on screen, the acted-on row keeps its name`, async () => {
      const w = await b.page(srv.url);
      const { page } = w;
      await page.setViewportSize({ width, height: 900 });
      await signIn(w, DEMO.owner);
      await w.goto(`/w/${ids.root}/settings/subaccounts`);
      await page.getByRole('heading', { level: 1, name: 'Sub-Accounts' }).waitFor();
      await page.locator('.subs-card tbody tr').nth(2).waitFor();

      let m = await measure(page);
      assert.ok(m.scrollWidth <= m.clientWidth, `at ${width} px the table scrolls sideways: ${m.scrollWidth} > ${m.clientWidth}`);
      assert.ok(m.pageOverflow <= 0, `at ${width} px the page scrolls sideways by ${m.pageOverflow} px`);
      for (const r of m.rows) {
        assert.ok(r.nameVisible, `at ${width} px the name of ${r.name} is not visible`);
        assert.equal(r.actions.length, 2, `${r.name}: expected Open/Restore and the menu button`);
        for (const a of r.actions) assert.ok(a.visible, `at ${width} px "${a.label}" of ${r.name} is cut off or off screen`);
      }
      // The long name is truncated with its full text on hover, not wrapped into a tall row.
      const longLink = page.locator('.sub-link', { hasText: 'Northwind' });
      assert.match(await longLink.getAttribute('title'), /Northwind Orthodontics and Family Dental Group of Greater Springfield/);

      // Use a row menu (open, pick, cancel the dialog); focus goes back to the "…" button. Rows go by
      // the workspace name; the display name is for customers (docs/guide/workspace.md, "Which name shows where").
      const target = 'Northwind Orthodontics and Family Dental Group of Greater Springfield';
      await page.getByRole('button', { name: `More actions for ${target}` }).click();
      await page.getByRole('menuitem', { name: 'Rename…' }).click();
      const dialog = page.getByRole('dialog', { name: `Rename ${target}` });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByRole('button', { name: `More actions for ${target}` }).click();
      await page.keyboard.press('Escape');
      m = await measure(page);
      assert.equal(m.scrollLeft, 0, 'the table scrolled sideways after using the row menu');
      const acted = m.rows.find((r) => r.name === target);
      assert.ok(acted?.nameVisible, 'the row acted on no longer shows its name');
      // The acted-on row stays marked, so it is easy to find again.
      assert.match((await page.locator('.subs-card tbody tr', { hasText: 'Northwind' }).getAttribute('class')) ?? '', /is-focused-row/);
      if (width === 1440) await check(page, 'subaccounts-1440');
      if (width === 1024) await check(page, 'subaccounts-1024');
      w.assertClean();
      await w.context.close();
    });
  }
});
