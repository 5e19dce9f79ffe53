// A captain on a phone sets quiet hours (the time zone prefilled with the browser's own), posts an
// announcement that quiet hours hold, sees it in the Scheduled list, edits it into an urgent one
// that goes out at once to a member's phone, then schedules another for tomorrow (the form is back
// on "Send now", its button saying so) and cancels it. On a phone the composer opens from "New
// announcement", and each send is confirmed in a sheet first.

import {
  PHONE, api, openTab, createNeighborhood, expect, health, inboxItems, latestCode, newPage, sandboxTab, screenshot,
} from '../lib.mjs';

const BEN = '+15550410002';

/** "HH:MM" `minutes` from now on the page's clock (its time zone). */
async function clock(page, minutes) {
  return page.evaluate((offset) => {
    const at = new Date(Date.now() + offset * 60_000);
    return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  }, minutes);
}

export default async function captainAnnouncements({ browser }) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Maple Court', area_code: '415', owner_phone: captainPhone, owner_name: 'Ana',
  });
  const id = neighborhood.id;
  const added = await api('POST', `/api/v1/neighborhoods/${id}/members`, { phone: BEN, display_name: 'Ben' });
  expect(added.status, `adding Ben: ${JSON.stringify(added.body)}`).toBe(202);

  // ---- sign in ----
  const captain = await newPage(browser, { viewport: PHONE });
  captain.on('dialog', (dialog) => dialog.accept());
  await captain.goto('/');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await captain.getByRole('link', { name: 'Maple Court' }).click();

  // ---- quiet hours around now, in the browser's own zone ----
  await openTab(captain, 'Settings');
  const quiet = captain.locator('#quiet');
  await quiet.getByRole('checkbox', { name: 'Hold announcements during quiet hours' }).check();
  const zone = quiet.getByRole('combobox', { name: 'Time zone' });
  await expect(zone, "the browser's zone, prefilled").toHaveValue('America/Los_Angeles');
  await quiet.getByLabel('Quiet from').fill(await clock(captain, -60));
  await quiet.getByLabel('Until').fill(await clock(captain, 120));
  await quiet.getByRole('button', { name: 'Save quiet hours' }).click();
  await expect(quiet.getByText('It is quiet hours now.'), 'the summary').toBeVisible();
  await screenshot(captain, 'quiet-hours-360');

  // ---- posted during quiet hours: held, and listed as scheduled ----
  await openTab(captain, 'Messages');
  // On a phone the composer opens from its button; every send is confirmed first.
  await captain.getByRole('button', { name: 'New announcement' }).click();
  const confirm = captain.getByRole('dialog');
  await captain.getByRole('textbox', { name: 'Announcement', exact: true }).fill('Book swap Saturday');
  await captain.getByRole('button', { name: 'Send to everyone' }).click();
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(captain.getByText(/^Quiet hours: it goes out/), 'the answer says it waits').toBeVisible();
  const scheduled = captain.getByRole('list', { name: 'Scheduled announcements, soonest first' });
  const held = scheduled.getByRole('listitem').filter({ hasText: 'Book swap Saturday' });
  await expect(held, 'in the Scheduled list').toContainText('after quiet hours');
  await screenshot(captain, 'scheduled-360');

  // ---- edited into an urgent one: it goes out at once ----
  await held.getByRole('button', { name: 'Edit' }).click();
  await scheduled.getByRole('textbox', { name: 'Text' }).fill('Book swap Sunday');
  await scheduled.getByRole('checkbox', { name: 'Urgent (ignore quiet hours)' }).check();
  await scheduled.getByRole('button', { name: 'Save' }).click();
  await expect(captain.getByText('Scheduled announcement saved.')).toBeVisible();
  const inboxes = await sandboxTab(captain.context());
  await expect(inboxItems(inboxes, BEN).filter({ hasText: 'Ana: Book swap Sunday' }), "on Ben's phone").toHaveCount(1);
  await expect(captain.getByRole('list', { name: 'Messages, newest first' }).getByRole('listitem').first(), 'in the history, live')
    .toContainText('Ana: Book swap Sunday');
  await expect(scheduled.getByRole('listitem'), 'no longer scheduled').toHaveCount(0);

  // ---- scheduled for tomorrow, then cancelled ----
  await captain.getByRole('textbox', { name: 'Announcement', exact: true }).fill('Potluck tomorrow');
  await captain.getByRole('radio', { name: 'Schedule for a time' }).check();
  const tomorrow = await captain.evaluate(() => {
    const at = new Date(Date.now() + 26 * 3_600_000);
    const pad = (n) => String(n).padStart(2, '0');
    return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
  });
  await captain.getByLabel('Send at').fill(tomorrow);
  await captain.getByRole('button', { name: 'Schedule', exact: true }).click();
  await expect(confirm.getByText(/^Schedule for \w{3} \w{3} \d{1,2}, \d{1,2}:\d\d [AP]M: 2 people, 1 segment each, about \$0\.\d\d$/), 'the confirm sheet names the time')
    .toBeVisible();
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(captain.getByText(/^Scheduled: it goes out/)).toBeVisible();
  // B1: the form is back on "Send now" and its button says so. A "Schedule" button left behind
  // sent the next announcement to everyone at once.
  await expect(captain.getByRole('radio', { name: 'Send now', checked: true }), 'back on Send now').toBeVisible();
  await expect(captain.getByRole('button', { name: 'Schedule', exact: true }), 'no Schedule button left behind')
    .toHaveCount(0);
  await expect(captain.getByRole('button', { name: 'Send to everyone' }), 'the button says what it does').toBeVisible();
  const potluck = scheduled.getByRole('listitem').filter({ hasText: 'Potluck tomorrow' });
  await expect(potluck).toBeVisible();
  await potluck.getByRole('button', { name: 'Cancel announcement' }).click();
  await expect(captain.getByText('Announcement cancelled.')).toBeVisible();
  await expect(potluck, 'gone from the Scheduled list').toHaveCount(0);
  const listed = await api('GET', `/api/v1/neighborhoods/${id}/announcements`);
  expect(listed.body.items.map((a) => `${a.body}: ${a.state}`).join(', '), 'the announcements, newest first')
    .toBe('Potluck tomorrow: cancelled, Book swap Sunday: sent');
  await expect(inboxItems(inboxes, BEN).filter({ hasText: 'Potluck' }), 'nothing cancelled reaches Ben').toHaveCount(0);
}
