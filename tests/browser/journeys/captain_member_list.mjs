// A captain runs a neighborhood of a thousand: the Members page shows compact rows A to Z a page
// at a time (more as they scroll), finds "Núñez" by typing "nunez" and by a phone number however
// it is written, flags a likely duplicate, filters by status, opens a member's details (focus
// comes back on closing), and removes ten members at once after confirming in a dialog: the
// count drops by ten and the audit log has one entry for it. At phone and desktop widths.

import {
  DESKTOP, PHONE, api, config, createNeighborhood, expect, expectAccessible, health, latestCode, newPage, poll,
  screenshot,
} from '../lib.mjs';

const SIZE = 1000;
const FIRST = ['Ava', 'Ben', 'Chloé', 'Dev', 'Élise', 'Finn', 'Gus', 'Hana', 'Ivo', 'Jun', 'Kai', 'Lena', 'Milo', 'Noor', 'Omar', 'Pia', 'Quin', 'Rosa', 'Sami', 'Tess'];
const LAST = ['Abbott', 'Baker', 'Çelik', 'Diaz', 'Evans', 'Fox', 'Grant', 'Holt', 'Ito', 'Jones', 'Khan', 'Lopez', 'Moore', 'Nash', 'Ortiz', 'Park', 'Quinn', 'Reyes', 'Shah', 'Tran', 'Ueda', 'Vega', 'Wong', 'Xu', 'Young', 'Zhou', 'Ahn', 'Bose', 'Cruz', 'Dunn', 'Eze', 'Ford', 'Gray', 'Hale', 'Ibe', 'Jain', 'Kim', 'Lam', 'Mora', 'Ng', 'Oh', 'Pope', 'Rao', 'Sato', 'Toth', 'Uhl', 'Vu', 'Webb', 'Yoon', 'Zaki'];
const NUNEZ = { name: 'José Núñez', phone: '+14155552042', address: '5 Álamo Way' };

/** How the server compares names: accents dropped, any case. */
const fold = (text) => text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** The thousand neighbors: unique names, with Núñez and two Maria Garcias among them. */
function neighbors() {
  const people = [NUNEZ,
    { name: 'Maria Garcia', phone: '+14155552100', address: '9 Oak Rd' },
    { name: 'María García', phone: '+14155552101', address: '40 Pine St' }];
  for (let i = 0; people.length < SIZE; i += 1) {
    const name = `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}`;
    people.push({ name, phone: `+1415555${3000 + i}`, address: `${100 + i} Elm St` });
  }
  return people;
}

/** CSV-quoted. */
const cell = (text) => `"${String(text).replaceAll('"', '""')}"`;

async function importNeighbors(id, people) {
  const csv = ['name,phone,address', ...people.map((p) => [p.name, p.phone, p.address].map(cell).join(','))].join('\n');
  const response = await fetch(new URL(`/api/v1/neighborhoods/${id}/import?dry_run=false&attest_consent=true`, config.base), {
    method: 'POST',
    headers: { authorization: `Bearer ${config.token}`, 'content-type': 'text/csv', accept: 'application/json' },
    body: csv,
  });
  const report = await response.json();
  expect(response.status, `the import: ${JSON.stringify(report).slice(0, 500)}`).toBe(200);
}

/** The member rows on screen, as their names. */
const rowNames = (page) => page.locator('.member-table tr[data-member] .member-name').allTextContents();

async function signIn(page, phone) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(page, phone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await page.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Your neighborhoods' })).toBeVisible();
}

/** Fails unless every member row and its controls are at least 44 px tall and nothing scrolls sideways. */
async function expectCompact(page, what) {
  const sizes = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('.member-table tr[data-member]')].slice(0, 20);
    const targets = [...document.querySelectorAll('.member-table .member-name, .member-table .pick-target')].slice(0, 40);
    return {
      rows: rows.map((row) => row.getBoundingClientRect().height),
      targets: targets.map((node) => Math.min(node.getBoundingClientRect().height, node.getBoundingClientRect().width)),
      sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    };
  });
  expect(Math.max(...sizes.rows) <= 52, `${what}: one line per member (${sizes.rows.join(', ')} px)`).toBeTruthy();
  expect(Math.min(...sizes.targets) >= 44, `${what}: targets of 44 px (${sizes.targets.join(', ')})`).toBeTruthy();
  expect(sizes.sideways, `${what}: no sideways scrolling`).toBe(0);
}

export default async function captainMemberList({ browser }) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Thousand Oaks', area_code: '415', owner_phone: captainPhone, owner_name: 'Olive',
  });
  const id = neighborhood.id;
  // Signed in before the thousand welcome texts take the day's texts.
  const phone = await newPage(browser, { viewport: PHONE });
  await signIn(phone, captainPhone);

  const people = neighbors();
  const started = Date.now();
  await importNeighbors(id, people);
  let summary = null;
  await poll(async () => {
    summary = (await api('GET', `/api/v1/neighborhoods/${id}/summary`)).body;
    return summary.members === SIZE + 1 && summary.sync_pending === 0;
  }, { timeout: 120_000, message: () => `the thousand in the group text: ${JSON.stringify(summary)}` });
  console.log(`${SIZE} members imported and in the group text in ${Date.now() - started} ms`);
  const everyone = [...people.map((p) => p.name), 'Olive'];
  const aToZ = [...everyone].map((name) => (name === 'María García' ? 'María García 2' : name))
    .sort((a, b) => (fold(a) < fold(b) ? -1 : fold(a) > fold(b) ? 1 : 0));

  // ---- phone: compact rows A to Z, a page at a time ----
  await phone.goto(`/#/n/${id}/members`);
  const count = phone.locator('.member-count');
  await expect(count, 'the count the home page shows').toHaveText(`${SIZE + 1} members`);
  await expect(phone.getByRole('combobox', { name: 'Status' }), 'in the group by default').toHaveValue('active');
  await expect(phone.locator('.member-table tr[data-member]'), 'one page of rows').toHaveCount(100);
  expect(await rowNames(phone), 'the first page, A to Z').toEqual(aToZ.slice(0, 100));
  await expectCompact(phone, 'phone');
  await expectAccessible(phone, 'members, phone');
  await screenshot(phone, 'members-phone');
  await phone.getByRole('button', { name: 'Show 100 more' }).scrollIntoViewIfNeeded();
  await expect(phone.locator('.member-table tr[data-member]'), 'scrolling near the end loads the next page').toHaveCount(200);
  expect((await rowNames(phone)).slice(100), 'the second page continues A to Z').toEqual(aToZ.slice(100, 200));
  await phone.setViewportSize({ width: 320, height: 640 });
  await expectCompact(phone, '320 px');
  await phone.setViewportSize(PHONE);

  // ---- search: accents, case and phone formatting ignored ----
  const search = phone.getByRole('searchbox', { name: 'Search' });
  for (const query of ['nunez', '555-2042', '(415) 555-2042']) {
    await search.fill(query);
    await expect(phone.locator('.member-table tr[data-member]'), `"${query}" finds one`).toHaveCount(1);
    await expect(phone.getByRole('button', { name: NUNEZ.name }), `"${query}" finds Núñez`).toBeVisible();
  }
  await search.fill('nunez');
  const toggle = phone.getByRole('button', { name: NUNEZ.name, exact: true });
  await toggle.click();
  await expect(toggle, 'the details are open').toHaveAttribute('aria-expanded', 'true');
  await expect(toggle, 'focus stays on the name').toBeFocused();
  const details = phone.getByRole('region', { name: NUNEZ.name });
  await expect(details, "Núñez's phone").toContainText('+1 415 555 2042');
  await expect(details, 'the address').toContainText(NUNEZ.address);
  const nameWidth = (await toggle.boundingBox()).width;
  expect(nameWidth > 150, `the open details leave the name its room (${nameWidth} px)`).toBeTruthy();
  await expectAccessible(phone, 'members with details open, phone');
  await screenshot(phone, 'members-details-phone');
  await details.getByRole('button', { name: 'Pause texts' }).focus();
  await phone.keyboard.press('Escape');
  await expect(toggle, 'closed').toHaveAttribute('aria-expanded', 'false');
  await expect(toggle, 'focus back on the name').toBeFocused();

  await search.fill('garcia');
  await expect(phone.locator('.member-table tr[data-member]'), 'both Marias').toHaveCount(2);
  await expect(phone.getByText('Possible duplicate of María García 2'), 'the first flagged').toBeVisible();
  await expect(phone.getByText('Possible duplicate of Maria Garcia', { exact: true }), 'and the second').toBeVisible();
  await search.fill('');

  // ---- desktop: a table; tick ten, remove them after confirming ----
  const desk = await newPage(browser, { viewport: DESKTOP });
  await desk.context().addCookies(await phone.context().cookies());
  await desk.goto(`/#/n/${id}/members`);
  const deskCount = desk.locator('.member-count');
  await expect(deskCount).toHaveText(`${SIZE + 1} members`);
  await expect(desk.getByRole('columnheader', { name: 'Street' }), 'the street column on desktop').toBeVisible();
  await expectCompact(desk, 'desktop');
  await expectAccessible(desk, 'members, desktop');
  await screenshot(desk, 'members-desktop');
  const first = desk.getByRole('button', { name: aToZ[0], exact: true });
  await first.click();
  const firstDetails = desk.getByRole('region', { name: aToZ[0] });
  await expect(firstDetails.getByRole('button', { name: 'Pause texts' }), 'the actions are in the details').toBeVisible();
  await expectAccessible(desk, 'members with details open, desktop');
  await firstDetails.getByRole('button', { name: `Close ${aToZ[0]}` }).click();
  await expect(firstDetails, 'closed').toHaveCount(0);
  await expect(first, 'focus back on the name').toBeFocused();
  // Oldest first puts the owner on top: she is ticked with the next nine, and skipped.
  await desk.getByRole('combobox', { name: 'Sort' }).selectOption('oldest');
  const joined = ['Olive', ...people.map((p) => (p.name === 'María García' ? 'María García 2' : p.name))];
  await expect(desk.locator('.member-table tr[data-member] .member-name').first(), 'oldest first').toHaveText('Olive');
  expect((await rowNames(desk)).slice(0, 10), 'in joining order').toEqual(joined.slice(0, 10));
  const doomed = joined.slice(1, 10);
  for (const name of ['Olive', ...doomed]) {
    await desk.getByRole('checkbox', { name: `Select ${name}`, exact: true }).check();
  }
  const bar = desk.getByRole('region', { name: 'Selected members' });
  await expect(bar.getByRole('status'), 'the selection').toHaveText('10 members selected');
  await bar.getByRole('combobox', { name: 'Change the selected' }).selectOption('remove');
  await bar.getByRole('button', { name: 'Apply to 10 members' }).click();
  const dialog = desk.getByRole('dialog', { name: 'Remove 10 members?' });
  await expect(dialog, 'a confirmation first').toBeVisible();
  await expectAccessible(desk, 'bulk removal confirmation, desktop');
  await screenshot(desk, 'members-confirm-desktop');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog, 'cancelled').toBeHidden();
  await expect(deskCount, 'nobody removed').toHaveText(`${SIZE + 1} members`);
  await bar.getByRole('button', { name: 'Apply to 10 members' }).click();
  await dialog.getByRole('button', { name: 'Remove 10 members' }).click();
  await expect(desk.getByRole('status').filter({ hasText: 'Removed 9 members. Skipped 1 member (Olive): The owner cannot be removed' }),
    'one toast with the outcome').toBeVisible();
  await expect(deskCount, 'nine fewer: the owner stays').toHaveText(`${SIZE + 1 - 9} members`);
  await expect(deskCount, 'focus on the count once the bar is gone').toBeFocused();

  // Back to A to Z: ten more at once, and the count drops by ten.
  await desk.getByRole('combobox', { name: 'Sort' }).selectOption('name');
  const remaining = aToZ.filter((name) => name !== 'Olive' && !doomed.includes(name));
  await expect(desk.locator('.member-table tr[data-member] .member-name').first(), 'A to Z again').toHaveText(remaining[0]);
  const next = remaining.slice(0, 10);
  const selectAll = desk.getByRole('checkbox', { name: 'Select all shown' });
  await selectAll.check();
  await expect(bar.getByRole('status'), 'all shown').toHaveText('100 members selected');
  await selectAll.uncheck();
  await expect(bar, 'none selected: the bar hides').toBeHidden();
  for (const name of next) await desk.getByRole('checkbox', { name: `Select ${name}`, exact: true }).check();
  await bar.getByRole('combobox', { name: 'Change the selected' }).selectOption('remove');
  await bar.getByRole('button', { name: 'Apply to 10 members' }).click();
  await dialog.getByRole('button', { name: 'Remove 10 members' }).click();
  await expect(desk.getByRole('status').filter({ hasText: 'Removed 10 members.' }), 'the toast').toBeVisible();
  await expect(deskCount, 'ten fewer').toHaveText(`${SIZE + 1 - 19} members`);
  expect((await rowNames(desk)).slice(0, 2), 'the list goes on A to Z after them').toEqual(remaining.slice(10, 12));

  // ---- filter by status: the removed ----
  await desk.getByRole('combobox', { name: 'Status' }).selectOption('removed');
  await expect(deskCount, 'the removed').toHaveText('19 members match');
  await expect(desk.locator('.member-table tr[data-member]')).toHaveCount(19);
  await expect(desk.getByRole('row', { name: new RegExp(next[0]) }).getByText('Removed', { exact: true }), 'marked removed').toBeVisible();

  // ---- one audit entry per bulk change ----
  const log = await api('GET', `/api/v1/neighborhoods/${id}/audit?limit=200`);
  const bulk = log.body.items.filter((item) => item.action.startsWith('member.bulk'));
  expect(bulk.length, 'one entry for each bulk removal').toBe(2);
  expect(bulk[0].detail.changed, 'ten in the last').toBe(10);
  expect(log.body.items.filter((item) => item.action === 'member.remove').length, 'no entry per member').toBe(0);
  await desk.getByRole('link', { name: 'Audit' }).click();
  await expect(desk.getByText('Removed 10 members', { exact: true }), 'the audit log in words').toBeVisible();
  await expect(desk.getByText('Removed 9 members', { exact: true })).toBeVisible();

  // Home counts what the Members page counts.
  await desk.goto('/');
  await expect(desk.getByText(`${SIZE + 1 - 19} members`, { exact: true }), 'the home page agrees').toBeVisible();
}
