// A captain finds their way on a phone and on a laptop: on the phone a bottom bar holds the first
// tabs and a "More" button the rest, and names the open one; on a laptop every tab shows in one
// row. After each view change focus is on the page's heading, so a screen reader announces it.
// Every view, the public join page, the flyer and the simulated phones pass axe-core at WCAG 2.2
// AA at both widths. The simulated phones page loads its state once, names each member's phone
// and finds one among many by name (accents ignored) or by digits.

import {
  DESKTOP, MORE, PHONE, api, codeCount, createNeighborhood, expect, expectAccessible, health, latestCode, newPage, openTab, screenshot,
} from '../lib.mjs';

const ANA = '+15550420002';
const BO = '+15550420003';

/** Tabs in order: [link label, the heading focus lands on]. */
const TABS = [
  [/^Join requests/, 'Join requests'],
  ['Members', 'Members'],
  ['Messages', 'Messages'],
  ['Invite', 'Invite neighbors'],
  ['Import & export', 'Import & export'],
  ['Settings', 'Settings'],
  ['Audit log', 'Audit log'],
];

const SIGN_IN_CODE = /(\d{6}) is your neighborhood-text sign-in code/;

/** Signs in; with `resend`, asks for a second code from the code step and uses that one. */
async function signIn(page, phone, { resend = false } = {}) {
  await page.goto('/');
  await expect(page.getByRole('textbox', { name: 'Your phone' }), 'the phone field has focus on load').toBeFocused();
  await expectAccessible(page, 'sign-in');
  // Codes of earlier sign-ins are on the simulated phone too: wait for this one.
  const earlier = await codeCount(page, phone, { matching: SIGN_IN_CODE });
  await page.getByRole('button', { name: 'Text me a code' }).click();
  let code = await latestCode(page, phone, { atLeast: earlier + 1, matching: SIGN_IN_CODE });
  await expectAccessible(page, 'sign-in, the code step');
  if (resend) {
    const before = await codeCount(page, phone, { matching: SIGN_IN_CODE });
    await page.getByRole('button', { name: 'Text me a new code' }).click();
    await expect(page.getByText(/^A new code is on its way/), 'the resend is confirmed').toBeVisible();
    code = await latestCode(page, phone, { atLeast: before + 1, matching: SIGN_IN_CODE });
  }
  await page.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The element with focus is the heading named `text`. */
async function expectFocusOnHeading(page, text, where) {
  await expect(page.getByRole('heading', { name: text, exact: true }).first(), `${where}: focus on the heading`).toBeFocused();
}

async function walkTabs(page, width) {
  for (const [label, heading] of TABS) {
    await openTab(page, label);
    await expectFocusOnHeading(page, heading, `${heading} (${width})`);
    await expectAccessible(page, `${heading} (${width})`);
  }
}

export default async function captainNavigation({ browser }) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Birch Row', area_code: '415', owner_phone: captainPhone, owner_name: 'Dana',
  });
  const id = neighborhood.id;
  for (const [phone, name] of [[ANA, 'Ana Núñez'], [BO, 'Bo Li']]) {
    const added = await api('POST', `/api/v1/neighborhoods/${id}/members`, { phone, display_name: name });
    expect(added.status, `adding ${name}: ${JSON.stringify(added.body)}`).toBe(202);
  }

  // ---- a phone: the bottom bar ----
  const captain = await newPage(browser, { viewport: PHONE });
  await signIn(captain, captainPhone, { resend: true });
  await expectFocusOnHeading(captain, 'Your neighborhoods', 'home after sign-in');
  await expectAccessible(captain, 'home (phone)');
  await captain.getByRole('link', { name: 'Birch Row' }).click();
  await expectFocusOnHeading(captain, 'Join requests', 'the first tab');

  const bar = captain.getByRole('navigation', { name: 'Neighborhood' });
  const box = await bar.boundingBox();
  expect(Math.round(box.y + box.height), 'the tab bar sits at the bottom of the screen').toBe(PHONE.height);
  for (const name of ['Members', 'Messages']) {
    await expect(bar.getByRole('link', { name }), `${name} on the bar`).toBeVisible();
    const link = await bar.getByRole('link', { name }).boundingBox();
    expect(link.height >= 44, `${name} is at least 44 px tall (${link.height})`).toBe(true);
  }
  const more = bar.getByRole('button', { name: MORE });
  await expect(more, 'the rest behind More').toHaveAttribute('aria-expanded', 'false');
  await expect(bar.getByRole('link', { name: 'Settings' }), 'Settings waits behind More').toBeHidden();
  await more.click();
  await expect(bar.getByRole('link', { name: 'Settings' }), 'More opens the rest').toBeVisible();
  await screenshot(captain, 'more-open-phone');
  await captain.keyboard.press('Escape');
  await expect(more, 'Escape closes it').toHaveAttribute('aria-expanded', 'false');
  await expect(more, 'focus back on More').toBeFocused();

  await walkTabs(captain, 'phone');
  await expect(bar.getByRole('button', { name: 'Audit (more pages)' }), 'More names the open tab').toHaveText('Audit ▾');
  await screenshot(captain, 'audit-phone');

  // ---- quiet hours on a phone (B12): the box beside its label, one time format ----
  await openTab(captain, 'Settings');
  const quiet = captain.locator('#quiet');
  const enable = quiet.getByRole('checkbox', { name: 'Hold announcements during quiet hours' });
  const boxAt = await enable.boundingBox();
  const labelAt = await quiet.locator('label', { hasText: 'Hold announcements during quiet hours' }).boundingBox();
  expect(labelAt.x > boxAt.x + boxAt.width, 'the label is to the right of its box').toBe(true);
  expect(labelAt.y < boxAt.y + boxAt.height, 'on the same line, not below').toBe(true);
  await enable.check();
  await quiet.getByLabel('Quiet from').fill('21:00');
  await quiet.getByLabel('Until').fill('08:00');
  await quiet.getByRole('button', { name: 'Save quiet hours' }).click();
  await expect(quiet.getByText(/^Announcements wait from 9:00\sPM until 8:00\sAM/), 'the summary reads like the inputs').toBeVisible();
  await expectAccessible(captain, 'settings with quiet hours (phone)');
  await screenshot(captain, 'quiet-hours-phone');

  // ---- a laptop: one row of tabs ----
  const desk = await newPage(browser, { viewport: DESKTOP });
  await signIn(desk, captainPhone);
  await expectAccessible(desk, 'home (desktop)');
  await desk.getByRole('link', { name: 'Birch Row' }).click();
  const row = desk.getByRole('navigation', { name: 'Neighborhood' });
  for (const [label] of TABS) await expect(row.getByRole('link', { name: label }), `${label} in the row`).toBeVisible();
  await expect(row.getByRole('button', { name: MORE }), 'no More on a laptop').toBeHidden();
  await walkTabs(desk, 'desktop');

  // ---- the audit log, filtered by kind and by person ----
  const log = desk.getByRole('list').filter({ has: desk.getByRole('listitem') }).last();
  await expect(desk.getByText('Created the neighborhood'), 'everything at first').toBeVisible();
  await desk.getByRole('combobox', { name: 'What' }).selectOption({ label: 'Members' });
  await expect(desk.getByText('Created the neighborhood'), 'only member changes').toBeHidden();
  await expect(log.getByText('Added a member'), 'the two added').toHaveCount(2);
  await desk.getByRole('combobox', { name: 'Who' }).selectOption({ label: 'Dana' });
  await expect(desk.getByText('No entry matches these filters.'), 'Dana added nobody').toBeVisible();
  await desk.getByRole('combobox', { name: 'What' }).selectOption({ label: 'Every kind of change' });
  await expect(log.getByText('Changed the settings'), "Dana's quiet hours").toBeVisible();
  await expect(log.getByRole('listitem'), 'and nothing else of hers').toHaveCount(1);
  await expectAccessible(desk, 'audit log filtered (desktop)');
  await desk.goto('/#/new');
  await expect(desk.getByRole('heading', { name: 'Create a neighborhood' }), 'the create view').toBeVisible();
  await expect(desk.locator('input[name="name"]'), 'a form view keeps focus in its first field').toBeFocused();
  await expectAccessible(desk, 'create (desktop)');
  await desk.goto(`/#/n/${id}/flyer`);
  await expect(desk.locator('.flyer h1'), 'the flyer').toHaveText('Birch Row');
  await expectAccessible(desk, 'flyer (desktop)');

  // ---- the public join page ----
  for (const viewport of [PHONE, DESKTOP]) {
    const neighbor = await newPage(browser, { viewport });
    await neighbor.goto(`/join/${neighborhood.slug}`);
    await expect(neighbor.getByRole('heading', { level: 1 }), 'the join page').toContainText('Birch Row');
    await expectAccessible(neighbor, `join page (${viewport.width} px)`);
    await neighbor.context().close();
  }

  // ---- the simulated phones: one state load, names, search ----
  for (const viewport of [PHONE, DESKTOP]) {
    const phones = await newPage(browser, { viewport });
    let stateLoads = 0;
    phones.on('request', (request) => {
      if (new URL(request.url()).pathname === '/sandbox/api/state') stateLoads += 1;
    });
    await phones.goto('/sandbox');
    const card = phones.getByRole('article', { name: 'Ana Núñez' });
    await expect(card, "Ana's phone, by her name").toBeVisible();
    await expect(card, 'with her number').toContainText(ANA);
    await expect(phones.getByText(/^\d+ phones?, the most recent first\.$/), 'the count').toBeVisible();
    const find = phones.getByRole('searchbox', { name: 'Find a phone' });
    await find.fill('nunez');
    await expect(card, 'found without the accents').toBeVisible();
    await expect(phones.getByRole('article', { name: 'Bo Li' }), 'Bo is filtered out').toBeHidden();
    await expect(phones.getByText(/^1 of \d+ phones match\.$/), 'how many match').toBeVisible();
    await find.fill('555-042-0003');
    await expect(phones.getByRole('article', { name: 'Bo Li' }), 'found by formatted digits').toBeVisible();
    await expect(card, 'Ana filtered out').toBeHidden();
    await expectAccessible(phones, `simulated phones (${viewport.width} px)`);
    await screenshot(phones, `sandbox-${viewport === PHONE ? 'phone' : 'desktop'}`);
    expect(stateLoads, 'the state is loaded once').toBe(1);
    await phones.context().close();
  }
}
