// The whole story on phones: the sandbox admin signs in with the code texted to their simulated
// phone and creates a neighborhood; a neighbor opens the invite link in a browser of their own and
// asks to join with the phone code; the captain approves with one tap; the neighbor texts the
// group from /sandbox on a second instance, and the message, signed with their name, shows up live
// in the captain's Messages view (first instance) and on the other members' simulated phones.

import {
  DESKTOP, PHONE, api, openTab, expect, health, inboxItems, latestCode, newPage, poll, sandboxTab, screenshot,
} from '../lib.mjs';

const NEIGHBOR = '+15550300002';
const OTHER = '+15550300003';
const HELLO = 'Hello from Ben, porch light is on';

export default async function captainJourney({ browser, base2 }) {
  expect(Boolean(base2), 'a second instance to text through').toBe(true);
  const { sandbox_admin_phone: captainPhone } = await health();
  expect(captainPhone, 'the sandbox admin phone').toBeTruthy();

  // ---- the captain signs in and creates the neighborhood ----
  const captain = await newPage(browser, { viewport: PHONE });
  await captain.goto('/');
  await expect(captain.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(captain.getByRole('textbox', { name: 'Your phone' }), 'the sandbox admin, prefilled').toHaveValue(captainPhone);
  await screenshot(captain, 'signin-360');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  await expect(captain.getByText('Sandbox: the code arrives on the simulated phone'), 'where the code goes').toBeVisible();
  const signInCode = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(signInCode);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await expect(captain.getByRole('heading', { name: 'Your neighborhoods' })).toBeVisible();
  await expect(captain.getByText('No neighborhood yet'), 'the empty home').toBeVisible();

  await captain.getByRole('link', { name: 'Create a neighborhood' }).click();
  await captain.getByRole('textbox', { name: 'Name', exact: true }).fill('Elm Street');
  await captain.getByRole('textbox', { name: 'Description' }).fill('Lost cats, porch swaps and snow days.');
  await captain.getByRole('textbox', { name: 'Area code for its number' }).fill('415');
  await captain.getByRole('textbox', { name: 'Your name on texts' }).fill('Ana');
  await captain.getByRole('button', { name: 'Create neighborhood' }).click();
  await expect(captain.getByRole('heading', { name: 'Elm Street', level: 1 })).toBeVisible();
  await expect(captain.getByRole('heading', { name: 'Invite neighbors' }), 'a new neighborhood opens on Invite').toBeVisible();
  const joinLink = await captain.getByRole('textbox', { name: 'Join link' }).inputValue();
  expect(joinLink, 'the join link').toMatch(/\/join\/elm-street$/);
  await screenshot(captain, 'invite-360');
  const neighborhoodId = /#\/n\/([0-9a-f-]{36})\//.exec(captain.url())?.[1];
  expect(neighborhoodId, 'the neighborhood id in the address').toBeTruthy();
  const { body: neighborhood } = await api('GET', `/api/v1/neighborhoods/${neighborhoodId}`);

  // Another member already in the group, to receive the neighbor's text.
  const added = await api('POST', `/api/v1/neighborhoods/${neighborhoodId}/members`, { phone: OTHER, display_name: 'Cara' });
  expect(added.status, `adding Cara: ${JSON.stringify(added.body)}`).toBe(202);

  // ---- the neighbor opens the invite link in a browser of their own ----
  const neighbor = await newPage(browser, { viewport: PHONE });
  await neighbor.goto(joinLink);
  await expect(neighbor.getByRole('heading', { level: 1 })).toHaveText('Join Elm Street');
  await neighbor.getByRole('textbox', { name: 'Your name' }).fill('Ben Brown');
  await neighbor.getByRole('textbox', { name: 'Mobile number' }).fill(NEIGHBOR);
  await neighbor.getByRole('textbox', { name: 'Street address' }).fill('12 Elm Street');
  await neighbor.getByRole('checkbox').check();
  await neighbor.getByRole('button', { name: 'Text me a code' }).click();
  await expect(neighbor.getByRole('heading', { name: 'Confirm your phone' })).toBeVisible();
  const joinCode = await latestCode(neighbor, NEIGHBOR, { matching: /(\d{6}) is your code to join Elm Street/ });
  await neighbor.getByRole('textbox', { name: '6-digit code' }).fill(joinCode);
  await neighbor.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(neighbor.getByText('A captain will review your request.'), 'what happens next').toBeVisible();

  // ---- the captain approves with one tap; the waiting count is in the tab title ----
  await openTab(captain, /^Join requests/);
  const request = captain.getByRole('listitem').filter({ hasText: 'Ben Brown' });
  await expect(request, 'the request, live').toContainText('12 Elm Street');
  await expect(request, 'how they asked').toContainText('Asked on the join page');
  await poll(async () => (await captain.title()).startsWith('(1) '), { message: () => 'the waiting count in the tab title' });
  await screenshot(captain, 'join-requests-360');
  await captain.getByRole('button', { name: 'Approve Ben Brown' }).click();
  await expect(captain.getByText('Ben Brown is approved and gets a welcome text.'), 'the approval note').toBeVisible();
  await expect(request, 'the decided request leaves the waiting list').toHaveCount(0);
  await poll(async () => !(await captain.title()).startsWith('('), { message: () => 'the tab title without a waiting count' });

  // The member list catches up live as Twilio adds Ben (no reload).
  await openTab(captain, 'Members');
  await captain.getByRole('button', { name: 'Ben Brown' }).click();
  const ben = captain.getByRole('region', { name: 'Ben Brown' });
  await expect(ben.getByText('Gets the group text'), 'Ben in the group text').toBeVisible();
  await expect(ben, 'phones are shown to captains').toContainText('+1 555 030 0002');
  await screenshot(captain, 'members-360');
  await openTab(captain, 'Messages');
  await expect(captain.getByText('No messages yet.')).toBeVisible();

  // ---- the neighbor texts the group from the simulated phones page of the second instance ----
  const phones = await newPage(browser, { viewport: PHONE });
  await phones.goto(`${base2}/sandbox`);
  await phones.getByRole('textbox', { name: 'Your phone' }).fill(NEIGHBOR);
  await phones.getByRole('combobox', { name: 'To' }).selectOption(neighborhood.phone_number);
  await phones.getByRole('textbox', { name: 'Message' }).fill(HELLO);
  await phones.getByRole('button', { name: 'Send' }).click();
  await expect(phones.getByText('Sent to the group.'), 'the emulator routed it to the group').toBeVisible();
  await expect(inboxItems(phones, NEIGHBOR).filter({ hasText: 'Welcome' }).first(), 'the welcome text').toBeVisible();
  await screenshot(phones, 'sandbox-360');

  // The captain sees it arrive live, name first.
  const signed = `Ben Brown: ${HELLO}`;
  await expect(captain.getByRole('list', { name: 'Messages, newest first' }).getByRole('listitem').first(), 'the message, live').toContainText(signed);
  await screenshot(captain, 'messages-360');

  // Every other member's phone got it, signed; the sender's did not get an echo.
  const inboxes = await sandboxTab(captain.context());
  for (const phone of [captainPhone, OTHER]) {
    await expect(inboxItems(inboxes, phone).filter({ hasText: signed }), `the text on ${phone}`).toHaveCount(1);
  }
  await expect(inboxItems(inboxes, NEIGHBOR).filter({ hasText: HELLO }), 'no echo to Ben').toHaveCount(0);

  // The same pages on a desktop, for the screenshots.
  const desk = await newPage(browser, { viewport: DESKTOP });
  await desk.context().addCookies(await captain.context().cookies());
  await desk.goto('/');
  await expect(desk.getByRole('heading', { name: 'Elm Street' })).toBeVisible();
  await expect(desk.getByText('3 members'), 'the member count on the home page').toBeVisible();
  await expect(desk.getByText('3 phones on the group text', { exact: true }), 'the phones on the group text, in plain words').toBeVisible();
  await screenshot(desk, 'home-1280');
  const loaded = {
    members: () => desk.getByRole('button', { name: 'Ben Brown' }),
    messages: () => desk.getByText(signed),
    invite: () => desk.getByRole('img', { name: /QR code/ }),
    settings: () => desk.getByRole('heading', { name: 'API tokens' }),
    audit: () => desk.getByRole('listitem').filter({ hasText: /approved|Approved/ }).first(),
  };
  for (const [tab, ready] of Object.entries(loaded)) {
    await desk.goto(`/#/n/${neighborhoodId}/${tab}`);
    await expect(ready(), `the ${tab} tab, loaded`).toBeVisible();
    await expect(desk.getByText('Live', { exact: true }), 'the live feed').toBeVisible();
    await screenshot(desk, `${tab}-1280`);
  }
}
