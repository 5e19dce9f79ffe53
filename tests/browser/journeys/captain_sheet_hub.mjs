// The spreadsheet hub in Settings (issue 27): a captain on a 360 px phone finds the "Google Sheet"
// section, first back from a refused consent (the page says why, once, and cleans its address),
// then connects for real: the browser goes to the stand-in for Google's consent page (a wiremock
// of tests/browser.rs, on `localhost` so it is another site, as Google is), which sends it
// straight back to the service's callback with a code; the service trades it at the stand-in's
// token endpoint and lands the captain on Settings, which says "connected" once and takes
// ?sheet_hub=connected out of the address. She pastes the spreadsheet's link and saves; Preview
// shows the import's dry run of the stand-in's rows (the counts, a rejected row and why, a
// column not read, nothing changed in the service); Sync now files the rows as join requests and
// shows the counts. The sheet is then edited (the journey tells the stand-in, through `extra.sheets`)
// and a second sync shows one update and the phone that left the sheet, which stays. Disconnect
// asks first and ends with the Connect button again. The section fits the phone and passes axe in
// each state.

import {
  PHONE, api, config, createNeighborhood, expect, expectAccessible, health, latestCode, newPage, openTab, poll, screenshot, sideways,
} from '../lib.mjs';

/** The spreadsheet the stand-in serves (`values/Sheet1`), as tests/browser.rs names it. */
export const SHEET_ID = '1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms';
/** The link a captain copies from the address bar. */
export const SHEET_LINK = `https://docs.google.com/spreadsheets/d/${SHEET_ID}/edit#gid=0`;

/** The page fits the phone and passes axe; a screenshot of it as `name`. */
export async function checkState(page, what, name) {
  expect(await sideways(page), `no sideways scrolling: ${what}`).toEqual([]);
  await expectAccessible(page, `${what}, phone`);
  await screenshot(page, name);
}

export default async function captainSheetHub({ browser }) {
  const sheets = config.extra?.sheets;
  expect(sheets, 'the Sheets stand-in (extra.sheets)').toMatch(/^http:\/\//);
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Maple Court', area_code: '415', owner_phone: captainPhone, owner_name: 'Ana',
  });
  const id = neighborhood.id;
  const hub = `/api/v1/neighborhoods/${id}/sheet-hub`;
  const settingsHash = `#/n/${id}/settings`;

  // ---- the captain, on a phone, signs in and opens Settings ----
  const captain = await newPage(browser, { viewport: PHONE });
  await captain.goto('/');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await captain.getByRole('link', { name: 'Maple Court' }).click();
  await openTab(captain, 'Settings');
  await captain.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Google Sheet' }).click();
  const section = captain.getByRole('region', { name: 'Google Sheet' });
  await expect(section.getByRole('heading', { name: 'Google Sheet' }), 'the jump link moves focus').toBeFocused();
  const connect = section.getByRole('button', { name: 'Connect a Google Sheet' });
  await expect(connect, 'not connected yet').toBeVisible();
  await expect(section, 'what connecting does').toContainText('allow read-only access to your spreadsheets');
  await checkState(captain, 'the sheet hub, not connected', 'not-connected-phone');

  // ---- back from a consent that was not given: said once, and the address cleaned ----
  await captain.goto(`/?sheet_hub=error&reason=denied${settingsHash}`);
  const denied = section.getByRole('alert').filter({ hasText: 'Not connected: access was not allowed on Google\'s page.' });
  await expect(denied, 'why it did not connect').toBeVisible();
  await expect(denied, 'focus on it, far down the page').toBeFocused();
  expect(new URL(captain.url()).search, 'the query taken out of the address').toBe('');
  expect(new URL(captain.url()).hash, 'the route kept').toBe(settingsHash);
  await checkState(captain, 'the sheet hub after a refused consent', 'consent-denied-phone');

  // ---- connecting: Google's page (the stand-in) sends her straight back with a code ----
  await connect.click();
  const connected = section.getByRole('status').filter({ hasText: 'Google account connected. Now paste the spreadsheet\'s link below and save.' });
  await expect(connected, 'back on Settings, connected').toBeVisible({ timeout: 30_000 });
  await expect(connected, 'focus on the news').toBeFocused();
  const landed = new URL(captain.url());
  expect(`${landed.origin}${landed.pathname}${landed.search}`, 'back at the app, the query taken out').toBe(`${config.base}/`);
  expect(landed.hash, 'on Settings').toBe(settingsHash);
  const state = await api('GET', hub);
  expect(state.status, `GET sheet-hub: ${JSON.stringify(state.body)}`).toBe(200);
  expect(state.body.connected, 'connected in the service').toBe(true);
  const facts = section.locator('dl.sheet-hub-facts');
  await expect(facts, 'who connected it').toContainText(/Connected by\s*you, \w{3} \d{1,2}, \d{4}/);
  await expect(facts, 'no sync yet').toContainText(/Last sync\s*Not yet/);
  const preview = section.getByRole('button', { name: 'Preview', exact: true });
  const syncNow = section.getByRole('button', { name: 'Sync now' });
  await expect(section.getByText('Save a spreadsheet link to preview or sync it.'), 'nothing to read before saving').toBeVisible();
  await expect(preview, 'no preview before a spreadsheet is saved').toHaveAttribute('disabled', '');
  await checkState(captain, 'the sheet hub, just connected', 'connected-phone');

  // The news is said once: a reload does not say it again.
  await captain.reload();
  await expect(section.getByRole('textbox', { name: 'Spreadsheet link' }), 'the form again').toBeVisible();
  await expect(section.getByText('Google account connected.'), 'said once').toHaveCount(0);

  // ---- what to read: the link pasted, the rest as it comes ----
  await section.getByRole('textbox', { name: 'Spreadsheet link' }).fill(SHEET_LINK);
  await expect(section.getByRole('textbox', { name: 'Sheet or range' }), 'the whole first tab by default').toHaveValue('Sheet1');
  expect(await section.getByRole('radio', { name: 'A list of people' }).isChecked(), 'roster mode').toBe(true);
  const attest = section.getByRole('checkbox', { name: /^I confirm that everyone in this sheet agreed to get this group's texts/ });
  expect(await attest.isChecked(), 'consent not attested unless she says so').toBe(false);
  // A Form's responses are join requests always: no consent to attest there.
  await section.getByRole('radio', { name: 'A Google Form\'s responses' }).check();
  await expect(attest, 'no attestation for Form responses').toBeHidden();
  await section.getByRole('radio', { name: 'A list of people' }).check();
  await expect(attest, 'the attestation back').toBeVisible();
  await expect(section.getByRole('spinbutton', { name: 'Sync every (minutes)' }), 'every 15 minutes by default').toHaveValue('15');
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(section.getByRole('status').filter({ hasText: /^Saved at / }), 'saved').toBeVisible();
  await expect(preview, 'a preview now').toHaveAttribute('disabled', null);
  await expect(section.getByRole('link', { name: 'Open it in Google Sheets' }), 'a link to the sheet')
    .toHaveAttribute('href', `https://docs.google.com/spreadsheets/d/${SHEET_ID}/edit`);
  await expect(facts, 'the schedule starts with the first sync').toContainText(/Next sync\s*After the first “Sync now”/);
  const saved = (await api('GET', hub)).body;
  expect(`${saved.spreadsheet} ${saved.range} ${saved.mode} ${saved.attest_consent} ${saved.interval_minutes}`, 'saved in the service')
    .toBe(`${SHEET_ID} Sheet1 roster false 15`);

  // ---- preview: the dry run of the sheet's rows; nothing changes ----
  await preview.click();
  const report = section.locator('.sheet-hub-report');
  await expect(report, 'the counts').toContainText('Preview, nothing changed yet. 4 rows: 3 to add, 0 to update, 0 unchanged, 1 rejected.');
  await expect(report, 'focus on the report').toBeFocused();
  await expect(report, 'as join requests').toContainText('New rows would become join requests for a captain to approve.');
  await expect(report, 'the column not read').toContainText('Favorite color (D): Not imported');
  const rows = report.getByRole('list', { name: 'Rows of the preview' }).getByRole('listitem');
  await expect(rows.filter({ hasText: 'Row 2, +1 555 010 2001: To add' }), 'Ana to add').toHaveCount(1);
  await expect(rows.filter({ hasText: 'Row 4: Rejected (`call me` is not a phone number we can text.)' }), 'the rejected row and why').toHaveCount(1);
  const before = (await api('GET', `/api/v1/neighborhoods/${id}/summary`)).body;
  expect(before.pending_requests, 'a preview files nothing').toBe(0);
  await checkState(captain, 'the sheet hub with a preview', 'preview-phone');

  // ---- sync now: the rows become join requests ----
  await syncNow.click();
  const last = section.locator('.sheet-hub-last');
  await expect(last, 'the last sync\'s counts').toContainText('4 rows: 3 added, 0 updated, 0 unchanged, 1 rejected.');
  await expect(last, 'focus on them').toBeFocused();
  await expect(captain.getByRole('status').filter({ hasText: 'Synced: 3 added, 0 updated.' }), 'the toast').toBeVisible();
  await expect(facts, 'synced by a captain').toContainText(/Last sync\s*\w{3} \d{1,2}, \d{4}.*, by a captain/);
  await expect(facts, 'and the next on schedule').toContainText(/Next sync\s*\w{3} \d{1,2}, \d{4}/);
  await expect(report, 'the preview put away').toHaveCount(0);
  let summary = null;
  await poll(async () => {
    summary = (await api('GET', `/api/v1/neighborhoods/${id}/summary`)).body;
    return summary.pending_requests === 3;
  }, { message: () => `three join requests filed; the summary: ${JSON.stringify(summary)}` });
  await checkState(captain, 'the sheet hub after a sync', 'synced-phone');

  // ---- the sheet is edited: Ana's address changes, Ben's row is deleted ----
  const edited = await fetch(new URL('/test/edit-sheet', sheets), { method: 'POST' });
  expect(edited.status, 'the stand-in edits its sheet').toBe(200);
  await syncNow.click();
  await expect(last, 'the second sync\'s counts').toContainText('3 rows: 0 added, 1 updated, 1 unchanged, 1 rejected.');
  await expect(last, 'Ben left the sheet, and stays').toContainText('1 phone of the sync before is no longer in the sheet. Nothing is removed automatically');
  await expect(last.getByRole('list', { name: 'Phones no longer in the sheet' }).getByRole('listitem'), 'his phone listed')
    .toHaveText('+1 555 010 2002');
  const synced = (await api('GET', hub)).body.last_sync;
  expect(`${synced.removed_from_sheet} ${JSON.stringify(synced.removed_phones)}`, 'in the service').toBe('1 ["+15550102002"]');
  summary = (await api('GET', `/api/v1/neighborhoods/${id}/summary`)).body;
  expect(summary.pending_requests, 'nobody removed: Ben\'s request still waits').toBe(3);
  await checkState(captain, 'the sheet hub with a phone gone from the sheet', 'removed-from-sheet-phone');

  // ---- disconnect: asked first, then back to Connect ----
  let asked = '';
  captain.once('dialog', (dialog) => {
    asked = dialog.message();
    dialog.dismiss();
  });
  const disconnect = section.getByRole('button', { name: 'Disconnect' });
  await disconnect.click();
  await poll(() => asked !== '', { message: () => 'the confirmation asked' });
  expect(asked, 'what disconnecting does').toContain('access to the Google account is revoked at Google');
  await expect(disconnect, 'still connected after Cancel').toBeVisible();
  expect((await api('GET', hub)).body.connected, 'Cancel changes nothing').toBe(true);
  captain.once('dialog', (dialog) => dialog.accept());
  await disconnect.click();
  await expect(captain.getByRole('status').filter({ hasText: 'Google Sheet disconnected.' }), 'the toast').toBeVisible();
  await expect(connect, 'Connect again').toBeVisible();
  await expect(section.getByRole('heading', { name: 'Google Sheet' }), 'focus back on the section').toBeFocused();
  await expect(section.locator('.sheet-hub-last'), 'the sync report gone').toHaveCount(0);
  expect((await api('GET', hub)).body.connected, 'disconnected in the service').toBe(false);
  await checkState(captain, 'the sheet hub after disconnecting', 'disconnected-phone');

  // ---- the audit log tells it in words, newest first ----
  await openTab(captain, 'Audit log');
  // The filters listen once the first page is in, when "Who" joins "What".
  await expect(captain.getByRole('combobox', { name: 'Who' }), 'the audit log loaded').toBeVisible();
  await captain.getByRole('combobox', { name: 'What' }).selectOption({ label: 'Google Sheet' });
  const entries = captain.locator('ol.audit > li');
  await expect(entries, 'connect, save, two syncs, disconnect').toHaveCount(5);
  const said = [
    'Disconnected the Google Sheet', 'Synced the Google Sheet', 'Synced the Google Sheet',
    'Changed the Google Sheet settings', 'Connected a Google account for the Google Sheet',
  ];
  for (const [index, words] of said.entries()) {
    await expect(entries.nth(index).locator('strong'), `entry ${index + 1}`).toHaveText(words);
  }
  await expect(entries.nth(2), 'the first sync\'s counts').toContainText(/Added\s*3/);
  await expect(entries.nth(1), 'the phone gone from the sheet, counted').toContainText(/Removed from sheet\s*1/);
  await expectAccessible(captain, 'the audit log of the sheet hub, phone');
}
