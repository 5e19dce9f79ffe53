// A captain writes announcements in the composer. On a phone the conversation comes first and the
// composer opens from "New announcement" (and closes back to it). Typing updates the review line:
// segments change past 160 characters of the signed text and with an emoji, which it names as
// the reason for UCS-2. The confirm sheet says whom, how many segments and what it costs; Cancel
// sends nothing and returns to the button, Confirm sends. An announcement to Elm Ave reaches only
// the Elm Ave phones, and the history says to whom; one picked neighbor is counted alone. A text
// saved as a template on the phone is reused on a desktop, where the composer stays in view. Each
// view passes axe at both widths and with the confirm sheet open; phone targets are 44 px.

import {
  DESKTOP, PHONE, api, createNeighborhood, expect, expectAccessible, health, inboxItems, latestCode, newPage,
  poll, sandboxTab, screenshot,
} from '../lib.mjs';

const BEN = '+15550420002';
const CLEO = '+15550420003';
const DEV = '+15550420004';

async function signIn(browser, viewport, captainPhone, codes) {
  const page = await newPage(browser, { viewport });
  await page.goto('/');
  await page.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(page, captainPhone, { atLeast: codes, matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await page.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Elm Commons' }).click();
  await page.getByRole('link', { name: 'Messages' }).click();
  return page;
}

export default async function captainComposer({ browser }) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Elm Commons', area_code: '415', owner_phone: captainPhone, owner_name: 'Ana',
  });
  const id = neighborhood.id;
  for (const [phone, name, address] of [[BEN, 'Ben', '12 Elm Ave'], [CLEO, 'Cleo', '40 Elm Avenue, Apt 2'], [DEV, 'Dev', '3 Oak St']]) {
    const added = await api('POST', `/api/v1/neighborhoods/${id}/members`, { phone, display_name: name, address });
    expect(added.status, `adding ${name}: ${JSON.stringify(added.body)}`).toBe(202);
  }
  // Everyone in the group text, and a few messages in the history to read.
  await poll(async () => {
    const members = await api('GET', `/api/v1/neighborhoods/${id}/members`);
    return members.body.items.length === 4 && members.body.items.every((m) => m.sync === 'done');
  }, { timeout: 30_000, message: () => 'four members in the group text' });
  for (const body of ['Welcome, neighbors', 'Garden club meets Sunday', 'Lost cat: grey tabby, answers to Miso']) {
    const posted = await api('POST', `/api/v1/neighborhoods/${id}/messages`, { body });
    expect(posted.status, `announcing: ${JSON.stringify(posted.body)}`).toBe(202);
  }

  // ---- a phone: the conversation first ----
  const captain = await signIn(browser, PHONE, captainPhone, 1);
  const history = captain.getByRole('list', { name: 'Messages, newest first' });
  await expect(history.getByRole('listitem').first(), 'the newest message').toContainText('Lost cat');
  const newest = await history.getByRole('listitem').first().boundingBox();
  expect(newest.y + newest.height <= PHONE.height, `the newest message above the fold (ends at ${newest.y + newest.height})`).toBe(true);
  const opener = captain.getByRole('button', { name: 'New announcement' });
  await expect(opener, 'the composer behind a button').toBeVisible();
  const text = captain.getByRole('textbox', { name: 'Announcement', exact: true });
  await expect(text, 'the composer closed').toBeHidden();
  await expectAccessible(captain, 'Messages, phone');
  await screenshot(captain, 'messages-phone');

  const tall = await opener.boundingBox();
  expect(tall.height >= 44, `the opener is a 44 px target (${tall.height})`).toBe(true);
  await opener.click();
  await expect(text, 'the composer open, its text box focused').toBeFocused();
  await expect(opener).toHaveAttribute('aria-expanded', 'true');
  await captain.getByRole('button', { name: 'Close' }).click();
  await expect(text).toBeHidden();
  await expect(opener, 'Close returns to the button').toBeFocused();
  await opener.click();

  // ---- the review line ----
  const review = captain.locator('.composer .review');
  // "Ana: " signs it: 155 characters make 160, one segment; 156 make two.
  await text.fill('a'.repeat(155));
  await expect(review).toContainText('155/1600 characters');
  await expect(review).toContainText(/1 segment \(GSM-7\) · 4 people · about \$0\.\d\d/);
  await text.fill('a'.repeat(156));
  await expect(review).toContainText(/2 segments \(GSM-7\) · 4 people · about \$0\.\d\d/);
  await text.fill('Party at the park 🎉');
  await expect(review).toContainText('1 segment (UCS-2 because of “🎉”) · 4 people');
  await screenshot(captain, 'composer-phone');

  // ---- the confirm sheet: Cancel sends nothing ----
  const send = captain.getByRole('button', { name: 'Send to everyone' });
  await send.click();
  const sheet = captain.getByRole('dialog', { name: 'Send this announcement?' });
  await expect(sheet.getByText(/^Text 4 people, 1 segment each, about \$0\.\d\d$/), 'people, segments, cost').toBeVisible();
  await expect(sheet.getByRole('button', { name: 'Cancel' }), 'focus starts on Cancel').toBeFocused();
  for (const name of ['Confirm', 'Cancel']) {
    const box = await sheet.getByRole('button', { name }).boundingBox();
    expect(box.height >= 44, `${name} is a 44 px target (${box.height})`).toBe(true);
  }
  await expectAccessible(captain, 'the confirm sheet, phone');
  await screenshot(captain, 'confirm-phone');
  await sheet.getByRole('button', { name: 'Cancel' }).click();
  await expect(sheet).toBeHidden();
  await expect(send, 'Cancel returns focus to the button').toBeFocused();
  await expect(text, 'the text is kept').toHaveValue('Party at the park 🎉');

  // ---- Confirm sends ----
  await send.click();
  await sheet.getByRole('button', { name: 'Confirm' }).click();
  await expect(captain.getByText(/^Announcement sent to the group \(about \$\d+\.\d\d\)\.$/)).toBeVisible();
  const inboxes = await sandboxTab(captain.context());
  await expect(inboxItems(inboxes, BEN).filter({ hasText: 'Ana: Party at the park 🎉' }), "on Ben's phone, once").toHaveCount(1);
  const parties = await api('GET', `/api/v1/neighborhoods/${id}/messages?q=party`);
  expect(parties.body.items.length, 'one party announcement: the cancelled one was never sent').toBe(1);

  // ---- to one street ----
  await captain.getByRole('radio', { name: 'People on a street' }).check();
  await captain.getByRole('checkbox', { name: 'Elm Ave (2 people)' }).check();
  await text.fill('Water is off on Elm Ave tomorrow 9 to 5.');
  await expect(review).toContainText(/1 segment \(GSM-7\) · 2 people · about \$0\.\d\d/);
  await captain.getByRole('button', { name: 'Send to chosen people' }).click();
  await expect(sheet.getByText(/^Text 2 people, 1 segment each, about \$0\.\d\d$/)).toBeVisible();
  await sheet.getByRole('button', { name: 'Confirm' }).click();
  await expect(captain.getByText(/^Announcement sent to 2 people on Elm Ave \(about \$0\.\d\d\)\.$/)).toBeVisible();
  const water = 'Ana: Water is off on Elm Ave tomorrow 9 to 5.';
  await expect(inboxItems(inboxes, BEN).filter({ hasText: water }), 'Ben on Elm Ave').toHaveCount(1);
  await expect(inboxItems(inboxes, CLEO).filter({ hasText: water }), 'Cleo on Elm Avenue').toHaveCount(1);
  await expect(history.getByRole('listitem').first(), 'the history says to whom').toContainText('To 2 people on Elm Ave');
  await expect(captain.getByRole('radio', { name: /^Everyone/, checked: true }), 'back to everyone').toBeVisible();
  const drained = await api('GET', `/api/v1/neighborhoods/${id}/messages?q=water`);
  expect(drained.body.items.map((m) => m.audience), 'one announcement, to Elm Ave').toEqual(['To 2 people on Elm Ave']);
  await expect(inboxItems(inboxes, DEV).filter({ hasText: 'Water is off' }), 'nothing for Dev on Oak St').toHaveCount(0);
  await expect(inboxItems(inboxes, captainPhone).filter({ hasText: 'Water is off' }), 'nothing for Ana').toHaveCount(0);

  // ---- saved as a template ----
  await text.fill('Street sweeping Tuesday: please move your cars.');
  await captain.getByRole('button', { name: 'Save as template' }).click();
  await captain.getByRole('textbox', { name: 'Template name' }).fill('Street sweeping');
  await captain.getByRole('button', { name: 'Save template' }).click();
  await expect(captain.getByText('Saved the template “Street sweeping”.')).toBeVisible();
  await expect(captain.getByRole('button', { name: 'Save as template' }), 'back to the button').toBeFocused();
  await expectAccessible(captain, 'the composer, phone');

  // ---- a desktop: the composer in view, the template reused ----
  const desk = await signIn(browser, DESKTOP, captainPhone, 2);
  const deskText = desk.getByRole('textbox', { name: 'Announcement', exact: true });
  await expect(deskText, 'the composer in view on a desktop').toBeVisible();
  await expect(desk.getByRole('button', { name: 'New announcement' }), 'no opener needed').toBeHidden();
  // Picked by name: the review line counts exactly them.
  await desk.getByRole('radio', { name: 'People I pick' }).check();
  await desk.getByRole('searchbox', { name: 'Find a member' }).fill('dev');
  await desk.getByRole('checkbox', { name: 'Dev, 3 Oak St' }).check();
  await deskText.fill('Your parcel is with me.');
  await expect(desk.locator('.composer .review')).toContainText(/1 segment \(GSM-7\) · 1 person · about \$0\.01/);
  await expect(desk.getByRole('button', { name: 'Send to chosen people' })).toBeVisible();
  await expectAccessible(desk, 'the composer picking members, desktop');
  await desk.getByRole('radio', { name: /^Everyone/ }).check();
  await desk.getByRole('combobox', { name: 'Template' }).selectOption({ label: 'Street sweeping' });
  await desk.getByRole('button', { name: 'Use a template' }).click();
  await expect(deskText, 'the template in the text box').toHaveValue('Street sweeping Tuesday: please move your cars.');
  await expect(desk.locator('.composer .review')).toContainText(/1 segment \(GSM-7\) · 4 people/);
  await expectAccessible(desk, 'Messages, desktop');
  await screenshot(desk, 'messages-desktop');
  await desk.getByRole('button', { name: 'Send to everyone' }).click();
  const deskSheet = desk.getByRole('dialog', { name: 'Send this announcement?' });
  await expect(deskSheet.getByText(/^Text 4 people, 1 segment each, about \$0\.\d\d$/)).toBeVisible();
  await expectAccessible(desk, 'the confirm sheet, desktop');
  await deskSheet.getByRole('button', { name: 'Confirm' }).click();
  await expect(inboxItems(inboxes, DEV).filter({ hasText: 'Ana: Street sweeping Tuesday' }), "on Dev's phone").toHaveCount(1);
}
