// The spreadsheet hub in Form mode (issue 27): a captain on a 360 px phone whose neighbors sign up
// through a Google Form connects Google (the stand-ins of tests/browser.rs, as in
// captain_sheet_hub), names the form's response tab and chooses "A Google Form's responses". The
// attestation goes away and the consent question is asked for; saving without it is refused by
// the service, and the page says so next to the field. With the question (given by the Rust test
// as `extra.question`, word for word as the stand-in's sheet heads its column) it saves and shows
// it. The preview reads two responses: one to add, one that did not agree (and why), nothing
// filed. Sync now files the one that agreed as a join request, which Join requests lists as from
// the Google Form, with the question as what they agreed to. The section and the list fit the
// phone and pass axe in each state.

import {
  PHONE, api, config, createNeighborhood, expect, health, latestCode, newPage, openTab, poll,
} from '../lib.mjs';
import { SHEET_ID, SHEET_LINK, checkState } from './captain_sheet_hub.mjs';

/** `text` as a regular expression that matches it literally. */
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The tab a Google Form writes its responses to, as a captain names it. */
const FORM_TAB = '\'Form Responses 1\'';

export default async function captainSheetHubForm({ browser }) {
  const question = config.extra?.question;
  expect(question, 'the form\'s consent question (extra.question)').toMatch(/^I agree /);
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Oak Row', area_code: '415', owner_phone: captainPhone, owner_name: 'Olive',
  });
  const id = neighborhood.id;
  const hub = `/api/v1/neighborhoods/${id}/sheet-hub`;

  // ---- the captain, on a phone, signs in and connects Google (the stand-in allows at once) ----
  const captain = await newPage(browser, { viewport: PHONE });
  await captain.goto('/');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await captain.getByRole('link', { name: 'Oak Row' }).click();
  await openTab(captain, 'Settings');
  await captain.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Google Sheet' }).click();
  const section = captain.getByRole('region', { name: 'Google Sheet' });
  await section.getByRole('button', { name: 'Connect a Google Sheet' }).click();
  await expect(section.getByRole('status').filter({ hasText: 'Google account connected.' }), 'back on Settings, connected')
    .toBeVisible({ timeout: 30_000 });

  // ---- Form mode: no attestation; the consent question asked for ----
  const link = section.getByRole('textbox', { name: 'Spreadsheet link' });
  await link.fill(SHEET_LINK);
  await section.getByRole('textbox', { name: 'Sheet or range' }).fill(FORM_TAB);
  const asked = section.getByRole('textbox', { name: /^Consent question \(exactly as your form asks it\)/ });
  await expect(asked, 'no consent question for a list of people').toBeHidden();
  await section.getByRole('radio', { name: 'A Google Form\'s responses' }).check();
  await expect(asked, 'the consent question asked for').toBeVisible();
  await expect(asked, 'marked required').toHaveAttribute('required', '');
  await expect(asked, 'with what to copy').toHaveDescription('Copy it from the form word for word: it heads its column in the response sheet.');
  await expect(section.getByRole('checkbox', { name: /^I confirm that everyone in this sheet agreed/ }), 'no attestation for a form')
    .toBeHidden();

  // Saving without it: the service refuses, and the page says why beside the field.
  const save = section.getByRole('button', { name: 'Save', exact: true });
  await save.click();
  const wanted = 'In form mode, give the form\'s consent question word for word, as it heads its column';
  await expect(section.getByRole('alert'), 'the refusal said').toBeVisible();
  await expect(section.locator('.field-error').filter({ hasText: wanted }), 'the reason next to the field').toBeVisible();
  await expect(asked, 'the field marked').toHaveAttribute('aria-invalid', 'true');
  await expect(asked, 'and read with it').toHaveDescription(wanted);
  await expect(asked, 'focus on the field to fix').toBeFocused();
  expect((await api('GET', hub)).body.spreadsheet ?? null, 'nothing saved').toBe(null);
  await checkState(captain, 'the sheet hub in Form mode, the consent question wanted', 'form-question-wanted-phone');

  // With the question, word for word: saved, and shown among the facts.
  await asked.fill(question);
  await save.click();
  await expect(section.getByRole('status').filter({ hasText: /^Saved at / }), 'saved').toBeVisible();
  await expect(asked, 'no longer marked').toHaveAttribute('aria-invalid', null);
  await expect(section.locator('.field-error').filter({ hasText: wanted }), 'the reason gone').toHaveCount(0);
  const facts = section.locator('dl.sheet-hub-facts');
  await expect(facts, 'the saved question').toContainText(new RegExp(`Consent question\\W*${escapeRegExp(question)}`));
  const saved = (await api('GET', hub)).body;
  expect(`${saved.spreadsheet} ${saved.range} ${saved.mode} ${saved.attest_consent}`, 'saved in the service')
    .toBe(`${SHEET_ID} ${FORM_TAB} form false`);
  expect(saved.consent_question, 'the question as typed').toBe(question);
  await checkState(captain, 'the sheet hub in Form mode, saved', 'form-saved-phone');

  // ---- preview: one response to add, one that did not agree; nothing filed ----
  await section.getByRole('button', { name: 'Preview', exact: true }).click();
  const report = section.locator('.sheet-hub-report');
  await expect(report, 'the counts').toContainText('Preview, nothing changed yet. 2 rows: 1 to add, 0 to update, 0 unchanged, 1 rejected.');
  await expect(report, 'focus on the report').toBeFocused();
  await expect(report, 'responses as join requests').toContainText('Each new response that agreed would become a join request');
  expect(await report.getByText('Columns not read').count(), 'the timestamp and consent columns are read').toBe(0);
  const rows = report.getByRole('list', { name: 'Rows of the preview' }).getByRole('listitem');
  await expect(rows.filter({ hasText: 'Row 2, +1 555 010 3001: To add' }), 'Fay to add').toHaveCount(1);
  await expect(rows.filter({ hasText: `Row 3: Rejected (Did not agree to "${question}".)` }), 'Gus did not agree, and it says so')
    .toHaveCount(1);
  expect((await api('GET', `/api/v1/neighborhoods/${id}/summary`)).body.pending_requests, 'a preview files nothing').toBe(0);
  await checkState(captain, 'the sheet hub with a form\'s preview', 'form-preview-phone');

  // ---- sync now: the response that agreed becomes a join request ----
  await section.getByRole('button', { name: 'Sync now' }).click();
  await expect(section.locator('.sheet-hub-last'), 'the sync\'s counts').toContainText('2 rows: 1 added, 0 updated, 0 unchanged, 1 rejected.');
  await expect(captain.getByRole('status').filter({ hasText: 'Synced: 1 added, 0 updated.' }), 'the toast').toBeVisible();
  let pending = [];
  await poll(async () => {
    pending = (await api('GET', `/api/v1/neighborhoods/${id}/join-requests?state=pending`)).body.items ?? [];
    return pending.length === 1;
  }, { message: () => `one join request filed; found ${JSON.stringify(pending)}` });
  const [filed] = pending;
  expect(`${filed.name} ${filed.phone} ${filed.channel}`, 'Fay\'s, from the form').toBe('Fay Moreno +15550103001 form');
  expect(filed.consent_text, 'the question as her consent').toBe(question);

  // ---- Join requests: from the Google Form, the question as what she agreed to ----
  await openTab(captain, /^Join requests/);
  const requests = captain.getByRole('list', { name: 'Join requests' }).getByRole('listitem');
  await expect(requests, 'one request').toHaveCount(1);
  const fay = requests.filter({ has: captain.getByRole('heading', { name: /^#\d+ Fay Moreno$/ }) });
  await expect(fay.locator('.meta'), 'where it came from').toContainText(/20 Oak Row · .* · Google Form$/);
  await fay.getByRole('button', { name: 'Details for Fay Moreno' }).click();
  await expect(fay.getByRole('definition').filter({ hasText: question }), 'what she agreed to').toBeVisible();
  await expect(fay.getByRole('definition').filter({ hasText: '+1 555 010 3001' }), 'her phone').toBeVisible();
  await checkState(captain, 'a join request from the Google Form', 'form-request-phone');
}
