// A captain triages join requests on a phone, then on a desktop: picks a digest for her own
// join-request texts in Settings, sees each request as one compact row with its history (denied
// before, same name as a member), reads a long answer comfortably at 360 px, approves with focus
// moving to the next row and one toast at a time, undoes an approval (that neighbor's phone
// gets nothing), is asked before a denial, and approves 300 waiting requests at once; her phone
// got a digest, not 300 texts.

import {
  DESKTOP, PHONE, api, config, createNeighborhood, expect, expectAccessible, health, inboxItems, latestCode,
  newPage, poll, sandboxTab, screenshot,
} from '../lib.mjs';

const CY = '+15550500001';
const BEN = '+15550500002';
const CARA = '+15550500003';
const DEE = '+15550500004';
const EVE = '+15550500005';
const DORA = '+15550500006';
const NAMESAKE = '+15550500007';
const WEB = '+15550500008';
const CROWD = 300;
const QUESTION = 'Which street do you live on, and how long have you been a neighbor there?';

/** Texts `to` from the simulated phone `from` through the emulator's control API. */
async function text(from, to, body) {
  const sent = await api('POST', `/sandbox/api/phones/${encodeURIComponent(from)}/messages`, { to, body }, { token: null });
  expect(sent.status, `texting from ${from}: ${JSON.stringify(sent.body)}`).toBe(200);
}

async function pendingRequests(id) {
  const answer = await api('GET', `/api/v1/neighborhoods/${id}/join-requests?state=pending`);
  return answer.body.items;
}

/** Whether `locator`'s centre is really it (or inside it), not something drawn over it. */
async function notCovered(page, locator) {
  const handle = await locator.elementHandle();
  return page.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return element === top || element.contains(top);
  }, handle);
}

export default async function captainTriage({ browser }) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Birch Court', area_code: '415', owner_phone: captainPhone, owner_name: 'Ana',
  });
  const { id, slug } = neighborhood;
  const number = neighborhood.phone_number;
  const questions = await api('PATCH', `/api/v1/neighborhoods/${id}`, { join_questions: [{ id: 'street', text: QUESTION }] });
  expect(questions.status, `the join question: ${JSON.stringify(questions.body)}`).toBe(200);
  const cy = await api('POST', `/api/v1/neighborhoods/${id}/members`, { phone: CY, display_name: 'Cy Member' });
  expect(cy.status, 'Cy is a member').toBe(202);

  // ---- sign in, and pick a digest for join-request texts in Settings ----
  const captain = await newPage(browser, { viewport: PHONE });
  await captain.goto('/');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await expect(captain.getByRole('heading', { name: 'Your neighborhoods' })).toBeVisible();
  await captain.goto(`/#/n/${id}/settings`);
  const notices = captain.getByRole('region', { name: 'Join request texts' });
  await notices.getByRole('radio', { name: 'A digest at most every 15 minutes' }).check();
  await notices.getByRole('button', { name: 'Save join request texts' }).click();
  await expect(notices.getByText('Saved: A digest at most every 15 minutes.'), 'the setting saved').toBeVisible();
  await expectAccessible(captain, 'settings with join request texts at 360 px');

  // ---- requests: Dora was denied once and asks again; someone uses Cy's name; one asks on the web ----
  await text(DORA, number, 'JOIN Dora Diaz');
  await poll(async () => (await pendingRequests(id)).length === 1, { message: () => "Dora's first request" });
  const [first] = await pendingRequests(id);
  const denied = await api('POST', `/api/v1/neighborhoods/${id}/join-requests/deny`, { request_ids: [first.id] });
  expect(denied.status, 'denied by the API').toBe(200);
  for (const [phone, name] of [[DORA, 'Dora Diaz'], [BEN, 'Ben Brown'], [CARA, 'Cara Cruz'], [DEE, 'Dee Dunn'], [EVE, 'Eve Ellis'], [NAMESAKE, 'cy member']]) {
    await text(phone, number, `JOIN ${name}`);
  }
  const asked = await api('POST', `/api/v1/join/${slug}`, {
    name: 'Wren Webb', phone: WEB, consent: true, answers: { street: 'Birch Court, on the corner by the park, for about twelve years now' },
  }, { token: null });
  expect(asked.status, `asking on the web: ${JSON.stringify(asked.body)}`).toBe(202);
  const webCode = await latestCode(config.base, WEB, { matching: /(\d{6}) is your code to join/ });
  const verified = await api('POST', `/api/v1/join/${slug}/verify`, { request_id: asked.body.request_id, code: webCode }, { token: null });
  expect(verified.status, 'the web request confirmed').toBe(200);
  await poll(async () => (await pendingRequests(id)).length === 7, { message: () => 'seven pending requests' });

  // ---- the dense list at 360 px ----
  await captain.getByRole('link', { name: /^Join requests/ }).click();
  const rows = captain.getByRole('list', { name: 'Join requests' }).getByRole('listitem');
  await expect(rows, 'one row per request').toHaveCount(7);
  await captain.getByRole('combobox', { name: 'Sort' }).selectOption('oldest');
  const row = (name) => rows.filter({ has: captain.getByRole('heading', { name: new RegExp(`#\\d+ ${name}$`) }) });
  await expect(row('Dora Diaz'), 'the history flag').toContainText('Denied before');
  await expect(row('Dora Diaz')).toContainText('by an API token');
  await expect(row('cy member'), 'a possible duplicate').toContainText('Same name as member Cy Member');
  await expect(row('Ben Brown').getByRole('time'), 'when, relative').toHaveText(/ago|now/);
  const rowHeight = (await row('Ben Brown').boundingBox()).height;
  expect(rowHeight < 130, `a compact row at 360 px (${rowHeight} px)`).toBe(true);

  // B7: a long question's answer reads as a line, not a word per line.
  await row('Wren Webb').getByRole('button', { name: 'Details for Wren Webb' }).click();
  const answer = row('Wren Webb').getByRole('definition').filter({ hasText: 'twelve years' });
  await expect(answer).toBeVisible();
  const answerBox = await answer.boundingBox();
  expect(answerBox.width > 250, `the answer uses the row's width (${answerBox.width} px)`).toBe(true);
  await expectAccessible(captain, 'join requests at 360 px');
  await screenshot(captain, 'join-requests-phone');

  // Search ignores case and accents, and finds phone digits.
  const search = captain.getByRole('searchbox', { name: 'Search' });
  await search.fill('CARÁ');
  await expect(rows).toHaveCount(1);
  await search.fill('0500004');
  await expect(rows, 'found by phone digits').toHaveCount(1);
  await expect(rows).toContainText('Dee Dunn');
  await search.fill('');
  await expect(rows).toHaveCount(7);

  // ---- approve: focus moves on, one toast at a time, Undo really undoes ----
  await captain.getByRole('button', { name: 'Approve Ben Brown' }).click();
  await expect(captain.getByText('Ben Brown is approved and gets a welcome text.'), 'the approval note').toBeVisible();
  await expect(row('Ben Brown'), 'Ben leaves the list').toHaveCount(0);
  const approveCara = captain.getByRole('button', { name: 'Approve Cara Cruz' });
  await expect(approveCara, 'focus on the next request').toBeFocused();
  expect(await notCovered(captain, approveCara), 'the toast leaves the next Approve clear').toBe(true);
  await captain.keyboard.press('Enter');
  await expect(captain.locator('.toast'), 'one toast at a time').toHaveCount(1);
  await expect(captain.getByText('Cara Cruz is approved and gets a welcome text.')).toBeVisible();
  await expect(captain.getByRole('button', { name: 'Approve Dee Dunn' }), 'focus on the next request').toBeFocused();
  await captain.getByRole('button', { name: 'Undo' }).click();
  await expect(captain.getByText('Undone: Cara Cruz still waits; nothing was sent.')).toBeVisible();
  await expect(approveCara, 'Cara is back, focused').toBeFocused();
  const inboxes = await sandboxTab(captain.context());
  await expect(inboxItems(inboxes, BEN).filter({ hasText: 'Welcome to Birch Court' }), "Ben's welcome").toHaveCount(1);
  await captain.bringToFront();

  // Dee's approval goes out once its toast is dismissed; Cara, undone before, got nothing.
  await captain.getByRole('button', { name: 'Approve Dee Dunn' }).click();
  await captain.getByRole('button', { name: 'Dismiss' }).click();
  await expect(captain.locator('.toast'), 'dismissed').toHaveCount(0);
  await expect(inboxItems(inboxes, DEE).filter({ hasText: 'Welcome to Birch Court' }), "Dee's welcome").toHaveCount(1);
  await expect(inboxItems(inboxes, CARA).filter({ hasText: 'Welcome' }), "Cara's phone got no welcome").toHaveCount(0);
  await expect(inboxItems(inboxes, CARA), 'only the reply to her JOIN').toHaveCount(1);
  expect((await pendingRequests(id)).some((request) => request.name === 'Cara Cruz'), 'Cara still waits').toBe(true);

  // ---- deny asks first ----
  await captain.getByRole('button', { name: 'Deny Eve Ellis' }).click();
  const dialog = captain.getByRole('dialog', { name: 'Deny Eve Ellis?' });
  await expect(dialog, 'what Eve is told').toContainText('could not add you this time');
  await expect(dialog.getByRole('textbox', { name: 'Reason (optional)' })).toBeFocused();
  await expectAccessible(captain, 'the deny dialog at 360 px');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(captain.getByRole('button', { name: 'Deny Eve Ellis' }), 'focus back on Deny').toBeFocused();
  await expect(row('Eve Ellis'), 'Eve still waits').toHaveCount(1);

  // ---- 300 neighbors ask; on a desktop the captain approves them all at once ----
  const crowd = Array.from({ length: CROWD }, (_, n) => `+1555051${String(n).padStart(4, '0')}`);
  for (let start = 0; start < CROWD; start += 20) {
    await Promise.all(crowd.slice(start, start + 20).map((phone, n) => text(phone, number, `JOIN Neighbor ${start + n + 1}`)));
  }
  const waiting = 5 + CROWD;
  await poll(async () => (await pendingRequests(id)).length === waiting, { timeout: 60_000, message: () => `${waiting} pending requests` });

  const desk = await newPage(browser, { viewport: DESKTOP });
  await desk.context().addCookies(await captain.context().cookies());
  await desk.goto(`/#/n/${id}/requests`);
  const deskRows = desk.getByRole('list', { name: 'Join requests' }).getByRole('listitem');
  await expect(deskRows, 'every waiting request').toHaveCount(waiting);
  await expect(deskRows.filter({ hasText: 'Dora Diaz' }), 'the history flag on a desktop').toContainText('Denied before');
  const deskRowHeight = (await deskRows.filter({ hasText: 'Neighbor 300' }).boundingBox()).height;
  expect(deskRowHeight < 80, `one line per request at 1280 px (${deskRowHeight} px)`).toBe(true);
  await expectAccessible(desk, 'join requests at 1280 px');
  await desk.getByRole('button', { name: 'Deny Eve Ellis' }).click();
  await expectAccessible(desk, 'the deny dialog at 1280 px');
  await desk.getByRole('dialog', { name: 'Deny Eve Ellis?' }).getByRole('textbox', { name: 'Reason (optional)' }).fill('Lives across town');
  await desk.getByRole('dialog').getByRole('button', { name: 'Deny', exact: true }).click();
  await expect(desk.getByText("Eve Ellis's request is denied.")).toBeVisible();
  await expect(desk.getByRole('button', { name: 'Approve Cara Cruz' }), 'focus moves on to the next (older) request').toBeFocused();
  await screenshot(desk, 'join-requests-desktop');

  await desk.getByRole('checkbox', { name: 'Select all shown' }).check();
  const approveSelected = desk.getByRole('button', { name: `Approve selected (${waiting - 1})` });
  await approveSelected.click();
  const confirm = desk.getByRole('dialog', { name: `Approve ${waiting - 1} neighbors?` });
  await confirm.getByRole('button', { name: `Approve ${waiting - 1}` }).click();
  await expect(desk.getByText(`${waiting - 1} approved; each gets a welcome text.`), 'the batch note').toBeVisible({ timeout: 60_000 });
  await expect(deskRows, 'the list empties').toHaveCount(0);
  await expect(desk.getByText('No requests are waiting.')).toBeVisible();
  await poll(async () => !(await desk.title()).startsWith('('), { message: () => 'the tab title without a waiting count' });

  // Members appear; Eve's denial carries its reason in one audit entry; the batch is one entry.
  const members = await api('GET', `/api/v1/neighborhoods/${id}/members?limit=500&status=active`);
  expect(members.body.total, 'every approved neighbor is a member').toBe(2 + 2 + waiting - 1);
  const audit = await api('GET', `/api/v1/neighborhoods/${id}/audit?limit=200`);
  const actions = audit.body.items.map((entry) => entry.action);
  expect(actions.filter((action) => action === 'join_request.approve_many').length, 'one entry for the batch').toBe(1);
  expect(audit.body.items.find((entry) => entry.action === 'join_request.deny')?.detail?.reason, "Eve's reason").toBe('Lives across town');
  await desk.getByRole('link', { name: 'Audit log' }).click();
  const batchEntry = desk.getByRole('listitem').filter({ hasText: 'Approved join requests' });
  await expect(batchEntry, 'the batch in the audit log, in words').toContainText(`Requests approved${waiting - 1}`);
  await expect(batchEntry).toHaveCount(1);
  await expectAccessible(desk, 'the audit log at 1280 px');
  await desk.getByRole('link', { name: 'Members' }).click();
  await desk.getByRole('searchbox', { name: 'Search' }).fill('Neighbor 300');
  await expect(desk.getByRole('button', { name: 'Neighbor 300', exact: true }), 'the crowd among the members').toBeVisible();

  // The captain's phone got a digest: one text for the first request, then nothing within 15 min.
  const captainTexts = inboxItems(inboxes, captainPhone).filter({ hasText: /join request/ });
  await expect(captainTexts.first(), 'a join-request text').toBeVisible();
  const count = await captainTexts.count();
  expect(count <= 2, `digest texts, not ${waiting + 2}: ${count}`).toBe(true);
}
