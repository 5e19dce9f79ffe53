// A captain on a phone runs a neighborhood day to day: sees the API's own message when a request
// is refused (a bad area code, an empty announcement), denies a join request, blocks a phone
// (its next request is refused politely and reaches no captain), removes a member
// with a private notice, turns announcements-only on (a member's text then goes to the captains,
// not the group) and posts an announcement that reaches the remaining members.

import {
  PHONE, api, openTab, createNeighborhood, expect, health, inboxItems, latestCode, newPage, sandboxTab, screenshot,
} from '../lib.mjs';

const BEN = '+15550400002';
const CARA = '+15550400003';
const DAN = '+15550400004';
const EVE = '+15550400005';

/** Texts `to` from the simulated phone `from` through the emulator's control API. */
async function text(from, to, body) {
  const sent = await api('POST', `/sandbox/api/phones/${encodeURIComponent(from)}/messages`, { to, body }, { token: null });
  expect(sent.status, `texting from ${from}: ${JSON.stringify(sent.body)}`).toBe(200);
  return sent.body;
}

export default async function captainModeration({ browser }) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Oak Lane', area_code: '415', owner_phone: captainPhone, owner_name: 'Ana',
  });
  const id = neighborhood.id;
  for (const [phone, name] of [[BEN, 'Ben'], [CARA, 'Cara']]) {
    const added = await api('POST', `/api/v1/neighborhoods/${id}/members`, { phone, display_name: name });
    expect(added.status, `adding ${name}: ${JSON.stringify(added.body)}`).toBe(202);
  }
  expect((await text(DAN, neighborhood.phone_number, 'JOIN Dan')).outcome, 'Dan asks by text').toBe('sms_webhook');
  expect((await text(EVE, neighborhood.phone_number, 'JOIN Eve')).outcome, 'Eve asks by text').toBe('sms_webhook');

  // ---- sign in ----
  const captain = await newPage(browser, { viewport: PHONE });
  await captain.goto('/');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await expect(captain.getByRole('heading', { name: 'Your neighborhoods' })).toBeVisible();

  // ---- a refused request shows the API's own message, next to the field it is about ----
  await captain.getByRole('link', { name: 'Create a neighborhood' }).click();
  const refusal = await api('POST', '/api/v1/neighborhoods', { name: 'Pine Row', area_code: '41', owner_phone: captainPhone });
  expect(refusal.status, 'the API refuses a two-digit area code').toBe(400);
  const areaError = refusal.body.details.find((detail) => detail.field === 'area_code')?.message;
  expect(areaError, 'the API names the area code').toBeTruthy();
  await captain.getByRole('textbox', { name: 'Name', exact: true }).fill('Pine Row');
  const areaCode = captain.getByRole('textbox', { name: 'Area code for its number' });
  await areaCode.fill('41');
  await captain.getByRole('textbox', { name: 'Your name on texts' }).fill('Ana');
  await captain.getByRole('button', { name: 'Create neighborhood' }).click();
  await expect(captain.getByRole('alert'), 'the summary').toHaveText(refusal.body.message);
  await expect(areaCode, 'the area code error').toHaveDescription(areaError);
  await expect(areaCode, 'the field in error').toBeFocused();
  await screenshot(captain, 'create-error-360');
  await captain.getByRole('link', { name: 'Cancel' }).click();

  // ---- deny ----
  await captain.getByRole('link', { name: 'Oak Lane' }).click();
  const danRequest = captain.getByRole('listitem').filter({ hasText: '#1 Dan' });
  await expect(danRequest, 'how Dan asked').toContainText('Texted the number');
  await captain.getByRole('button', { name: 'Deny Dan' }).click();
  // Deny asks first, in a dialog that says what Dan is told.
  const denyDialog = captain.getByRole('dialog', { name: 'Deny Dan?' });
  await expect(denyDialog, 'the deny dialog').toContainText('could not add you this time');
  await denyDialog.getByRole('button', { name: 'Deny', exact: true }).click();
  await expect(captain.getByText("Dan's request is denied."), 'the denial note').toBeVisible();
  await expect(danRequest, 'the waiting list without Dan').toHaveCount(0);
  await captain.getByRole('combobox', { name: 'Show' }).selectOption('denied');
  await expect(danRequest, 'Dan among the denied, decided by the captain named').toContainText(/Decided.* by Ana/);
  const inboxes = await sandboxTab(captain.context());
  await expect(inboxItems(inboxes, DAN).filter({ hasText: 'could not add you this time' }), "Dan's polite no").toHaveCount(1);

  // ---- block: Eve's phone is refused from now on, politely, and no captain is told ----
  await captain.getByRole('combobox', { name: 'Show' }).selectOption('pending');
  captain.once('dialog', (dialog) => dialog.accept());
  await captain.getByRole('button', { name: 'Details for Eve' }).click();
  await captain.getByRole('button', { name: "Block Eve's phone" }).click();
  await expect(captain.getByText("Eve's request is denied."), 'the block denies the request').toBeVisible();
  const blocked = await api('GET', `/api/v1/neighborhoods/${id}/blocked-phones`);
  expect(blocked.body.items.map((item) => item.phone).join(','), 'the blocked phones').toBe(EVE);
  await text(EVE, neighborhood.phone_number, 'JOIN Eve');
  await expect(inboxItems(inboxes, EVE).filter({ hasText: 'cannot take a request to join' }), "Eve's polite no").toHaveCount(1);
  const requests = await api('GET', `/api/v1/neighborhoods/${id}/join-requests?state=pending`);
  expect(requests.body.items.length, 'no new request from Eve').toBe(0);

  // ---- remove, with a notice only Cara gets ----
  await openTab(captain, 'Members');
  await captain.getByRole('button', { name: 'Cara', exact: true }).click();
  const cara = captain.getByRole('region', { name: 'Cara', exact: true });
  await expect(cara.getByText('Gets the group text'), 'Cara in the group text').toBeVisible();
  await cara.getByText('Remove from the group').click();
  await cara.getByRole('textbox', { name: 'Text to Cara (optional)' }).fill('We are closing your spot, thanks for everything.');
  await screenshot(captain, 'remove-360');
  await cara.getByRole('button', { name: 'Remove Cara' }).click();
  await expect(captain.getByText('Cara is removed from the group.'), 'the removal note').toBeVisible();
  await expect(captain.getByRole('button', { name: 'Cara', exact: true }), 'Cara leaves the "In the group" list').toHaveCount(0);
  await captain.getByRole('combobox', { name: 'Status' }).selectOption('');
  const caraRow = captain.getByRole('row').filter({ has: captain.getByRole('button', { name: 'Cara', exact: true }) });
  await expect(caraRow.getByText('Removed', { exact: true }), 'Cara marked removed').toBeVisible();
  await expect(inboxItems(inboxes, CARA).filter({ hasText: 'We are closing your spot' }), "Cara's notice").toHaveCount(1);

  // ---- announcements only: a member's text goes to the captains, not the group ----
  await openTab(captain, 'Settings');
  await captain.getByRole('radio', { name: 'Announcements only' }).check();
  await captain.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(captain.getByText('announcements only'), 'the header says so').toBeVisible();
  const routed = await text(BEN, neighborhood.phone_number, 'Can I sell my bike here?');
  expect(routed.outcome, 'the service keeps it out of the group').toBe('rejected');
  await expect(inboxItems(inboxes, captainPhone).filter({ hasText: 'Ben (to the captains): Can I sell my bike here?' }), 'forwarded to the captain').toHaveCount(1);

  // ---- an announcement: refused while empty, then sent to the remaining members ----
  await openTab(captain, 'Messages');
  await captain.getByRole('button', { name: 'New announcement' }).click();
  const send = captain.getByRole('button', { name: 'Send to everyone' });
  const announcement = captain.getByRole('textbox', { name: 'Announcement', exact: true });
  await send.click();
  await expect(announcement, 'the empty announcement').toHaveAttribute('aria-invalid', 'true');
  await expect(captain.getByRole('alert'), "the API's message").toBeVisible();
  await announcement.fill('Street sweeping Tuesday: please move your cars.');
  await send.click();
  await captain.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
  await expect(captain.getByText(/^Announcement sent to the group \(about \$\d+\.\d\d\)\.$/)).toBeVisible();
  const signed = 'Ana: Street sweeping Tuesday: please move your cars.';
  await expect(inboxItems(inboxes, BEN).filter({ hasText: signed }), "the announcement on Ben's phone").toHaveCount(1);
  await expect(captain.getByRole('list', { name: 'Messages, newest first' }).getByRole('listitem').first(), 'the announcement in the history, live')
    .toContainText(signed);
  await expect(inboxItems(inboxes, CARA).filter({ hasText: 'Street sweeping' }), 'nothing for Cara after removal').toHaveCount(0);
  await screenshot(captain, 'announcement-360');

  // ---- import from a spreadsheet: a check first, then the real run ----
  await openTab(captain, 'Import & export');
  await captain.getByLabel('CSV file').setInputFiles({
    name: 'neighbors.csv', mimeType: 'text/csv', buffer: Buffer.from('Name,Phone\nGus,+15550400009\nNo Phone,\n'),
  });
  await captain.getByRole('button', { name: 'Check the file' }).click();
  await expect(captain.getByText('Dry run, nothing changed yet. 2 rows: 1 to add, 0 to update, 0 unchanged, 1 rejected.'), 'the dry run').toBeVisible();
  await expect(captain.getByText(/^Row 3: Rejected/), 'the bad row, by its spreadsheet number').toBeVisible();
  await screenshot(captain, 'import-check-360');
  await captain.getByRole('button', { name: 'Import it' }).click();
  await expect(captain.getByText('2 rows: 1 added, 0 updated, 0 unchanged, 1 rejected.'), 'the real run').toBeVisible();
  const imported = await api('GET', `/api/v1/neighborhoods/${id}/join-requests?state=pending`);
  expect(imported.body.items.map((request) => request.name), 'the imported join request').toEqual(['Gus']);
  await expect(captain.getByRole('link', { name: 'CSV' }).first(), 'the member export').toHaveAttribute('href', `/api/v1/neighborhoods/${id}/export/members?format=csv`);

  // ---- archive with a farewell, then delete: the typed name guards both ----
  await openTab(captain, 'Settings');
  await captain.getByRole('textbox', { name: 'Farewell text (optional)' }).fill('Oak Lane signs off. Thank you!');
  await captain.getByRole('textbox', { name: 'Type “Oak Lane” to confirm' }).fill('Oak Lane');
  await captain.getByRole('button', { name: 'Archive neighborhood' }).click();
  await expect(captain.getByText('Oak Lane is archived: its group text has ended'), 'the archived settings').toBeVisible();
  await expect(inboxItems(inboxes, BEN).filter({ hasText: 'Oak Lane: Oak Lane signs off. Thank you!' }), 'the farewell on Ben\'s phone').toHaveCount(1);
  const confirmDelete = captain.getByRole('textbox', { name: 'Type “Oak Lane” to confirm' });
  await confirmDelete.fill('Oak');
  await captain.getByRole('button', { name: 'Delete everything' }).click();
  await expect(confirmDelete, "the API's word on a mistyped name").toHaveDescription('Type the neighborhood\'s name, Oak Lane, exactly.');
  await confirmDelete.fill('Oak Lane');
  await captain.getByRole('button', { name: 'Delete everything' }).click();
  await expect(captain.getByRole('heading', { name: 'Your neighborhoods' }), 'back home').toBeVisible();
  await expect(captain.getByText('No neighborhood yet'), 'nothing left').toBeVisible();
  const gone = await api('GET', `/api/v1/neighborhoods/${id}`);
  expect(gone.status, 'the API has nothing left either').toBe(404);
}
