// A neighbor joins on WhatsApp from the join page (issue 21). The captain sets the neighborhood's
// WhatsApp sender in Settings; on a 360 px phone the neighbor picks WhatsApp, agrees to the
// WhatsApp consent, and the code arrives on the simulated WhatsApp phone, which /sandbox shows in
// WhatsApp's look, from "<neighborhood> on WhatsApp". The captain approves and sees the channel in
// Members; her welcome waits behind WhatsApp's notice until she replies READ; the captain moves
// her to SMS, and invites another neighbor on WhatsApp.

import {
  PHONE, api, createNeighborhood, expect, expectAccessible, health, latestCode, newPage, openTab, poll, sandboxTab, screenshot,
} from '../lib.mjs';

const WANDA = '+15550600001';
const WANDA_ON_WHATSAPP = `whatsapp:${WANDA}`;

/**
 * The WhatsApp messages Wanda's phone received, on the /sandbox page: the list is named by her
 * number, or by her name and number once the page knows her.
 */
const whatsappInbox = (tab) => tab
  .getByRole('list', { name: /^WhatsApp messages received by (\+15550600001|Wanda Wu \(\+15550600001\))$/ })
  .getByRole('listitem');

export default async function joinWhatsapp({ browser }) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const { id, slug, phone_number: number } = await createNeighborhood({
    name: 'Harbor Lane', area_code: '415', owner_phone: captainPhone, owner_name: 'Hana',
  });
  // At Twilio a WhatsApp sender is registered with Meta first; the emulator registers one at once.
  const registered = await api('POST', '/sandbox/api/whatsapp-senders', { phone: number }, { token: null });
  expect(registered.status, `the sender registered: ${JSON.stringify(registered.body)}`).toBe(201);

  // ---- the captain turns WhatsApp on in Settings ----
  const captain = await newPage(browser, { viewport: PHONE });
  await captain.goto('/');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  const signInCode = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(signInCode);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await expect(captain.getByRole('heading', { name: 'Your neighborhoods' })).toBeVisible();
  await captain.goto(`/#/n/${id}/settings`);
  const whatsapp = captain.getByRole('region', { name: 'WhatsApp' });
  await expect(whatsapp, 'off at first').toContainText('Members get the group by SMS only.');
  await whatsapp.getByRole('textbox', { name: 'WhatsApp sender number' }).fill('+1555');
  await whatsapp.getByRole('button', { name: 'Save WhatsApp sender' }).click();
  await expect(whatsapp.getByRole('textbox', { name: 'WhatsApp sender number' }), 'a bad number is refused in place')
    .toHaveAttribute('aria-invalid', 'true');
  await whatsapp.getByRole('textbox', { name: 'WhatsApp sender number' }).fill(number);
  await whatsapp.getByRole('button', { name: 'Save WhatsApp sender' }).click();
  await expect(whatsapp.getByRole('status'), 'saved').toContainText('Saved: members can be on WhatsApp through');
  await expectAccessible(captain, 'settings with WhatsApp at 360 px');

  // ---- the neighbor picks WhatsApp on the join page ----
  const card = (await api('GET', `/api/v1/join/${slug}`, undefined, { token: null })).body;
  expect(card.whatsapp?.number, 'the join card offers WhatsApp').toBe(number);
  const neighbor = await newPage(browser, { viewport: PHONE });
  await neighbor.goto(`/join/${slug}`);
  const channel = neighbor.getByRole('group', { name: 'How you get the group’s messages' });
  expect(await channel.getByRole('radio', { name: 'Text messages (SMS)' }).isChecked(), 'SMS unless chosen').toBe(true);
  await expect(neighbor.getByRole('checkbox', { name: card.consent_text }), 'the SMS consent').toBeVisible();
  await channel.getByRole('radio', { name: 'WhatsApp' }).check();
  const consent = neighbor.getByRole('checkbox', { name: card.whatsapp.consent_text });
  await expect(consent, 'the consent names WhatsApp').toBeVisible();
  await neighbor.getByRole('textbox', { name: 'Your name' }).fill('Wanda Wu');
  await neighbor.getByRole('textbox', { name: 'Mobile number' }).fill('(555) 060-0001');
  await consent.check();
  await expectAccessible(neighbor, 'the join page with WhatsApp chosen at 360 px');
  await screenshot(neighbor, 'join-whatsapp-360');
  await neighbor.getByRole('button', { name: 'Send me a code on WhatsApp' }).click();
  await expect(neighbor.getByRole('heading', { name: 'Confirm your phone' })).toBeVisible();
  await expect(neighbor.getByText('Enter the code we sent on WhatsApp to +1 555 060 0001.'), 'the code step names WhatsApp').toBeVisible();

  // The code is on the WhatsApp phone, which /sandbox shows as one, not on the SMS phone.
  const phones = await sandboxTab(neighbor.context());
  await phones.bringToFront();
  const codeText = whatsappInbox(phones).filter({ hasText: 'is your verification code' });
  await expect(codeText, 'the code on WhatsApp').toHaveCount(1);
  await expect(codeText.locator('.from'), 'from the neighborhood on WhatsApp').toHaveText('Harbor Lane on WhatsApp');
  const wandaCard = phones.getByRole('article').filter({ has: phones.getByRole('heading', { name: '+15550600001' }) });
  await expect(wandaCard.getByText('WhatsApp', { exact: true }), 'tagged WhatsApp').toBeVisible();
  await expectAccessible(phones, 'the simulated phones with a WhatsApp phone');
  await screenshot(phones, 'sandbox-whatsapp-360');
  const code = /(\d{6}) is your verification code/.exec(await codeText.locator('.text').textContent())[1];
  await neighbor.bringToFront();
  await neighbor.getByRole('textbox', { name: '6-digit code' }).fill(code);
  await neighbor.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(neighbor.getByRole('heading', { name: 'Thanks, Wanda Wu: your phone is confirmed' })).toBeVisible();
  await expect(neighbor.getByRole('link', { name: /\+1 415/ }), 'the WhatsApp number, as a WhatsApp link')
    .toHaveAttribute('href', `https://wa.me/${number.replace(/\D/g, '')}`);
  await expect(neighbor.getByRole('listitem').filter({ hasText: 'READ' }), 'how the first messages arrive').toContainText('reply READ');
  await screenshot(neighbor, 'join-whatsapp-done-360');

  // ---- the captain approves and sees the channel ----
  await captain.bringToFront();
  await openTab(captain, /^Join requests/);
  await captain.getByRole('button', { name: 'Approve Wanda Wu' }).click();
  await expect(captain.getByText('Wanda Wu is approved'), 'the approval note').toBeVisible();
  await openTab(captain, 'Members');
  const row = captain.getByRole('row', { name: /Wanda Wu/ });
  await expect(row.getByText('WhatsApp', { exact: true }), 'the channel badge').toBeVisible();
  await captain.getByRole('button', { name: 'Wanda Wu' }).click();
  const details = captain.getByRole('region', { name: 'Wanda Wu' });
  await expect(details.getByRole('definition').filter({ hasText: /^WhatsApp$/ }), 'Texts by WhatsApp').toBeVisible();
  await expect(details.getByText('Gets the group text'), 'Wanda in the group').toBeVisible();
  await screenshot(captain, 'members-whatsapp-360');

  // Outside her window the welcome waits behind WhatsApp's notice; READ brings it.
  await phones.bringToFront();
  const inbox = whatsappInbox(phones);
  await expect(inbox.filter({ hasText: 'There are new messages in Harbor Lane. Reply READ to read them.' }), 'the notice').toHaveCount(1);
  await phones.getByRole('button', { name: 'Write as this WhatsApp phone +15550600001' }).click();
  await expect(phones.getByRole('textbox', { name: 'Your phone' })).toHaveValue(WANDA_ON_WHATSAPP);
  await expect(phones.getByRole('combobox', { name: 'To' }), 'To follows the phone to WhatsApp').toHaveValue(`whatsapp:${number}`);
  await phones.getByRole('textbox', { name: 'Message' }).fill('READ');
  await phones.getByRole('button', { name: 'Send' }).click();
  await expect(inbox.filter({ hasText: 'Welcome to Harbor Lane!' }), 'the welcome, once').toHaveCount(1);

  // ---- the captain moves her to SMS, then back ----
  await captain.bringToFront();
  await details.getByRole('button', { name: 'Move to SMS' }).click();
  await expect(captain.getByText('Wanda Wu now gets the group by SMS.'), 'moved').toBeVisible();
  await poll(async () => {
    const members = (await api('GET', `/api/v1/neighborhoods/${id}/members`)).body.items;
    const wanda = members.find((member) => member.display_name === 'Wanda Wu');
    return wanda?.channel === 'sms' && wanda.sync === 'done';
  }, { message: () => 'Wanda on SMS at Twilio' });
  await expect(row.getByText('WhatsApp', { exact: true }), 'the badge goes').toHaveCount(0);

  await inviteOnWhatsapp(captain, phones);
}

/** The captain invites a neighbor on WhatsApp from the Invite view; it arrives on WhatsApp. */
async function inviteOnWhatsapp(captain, phones) {
  await openTab(captain, 'Invite');
  await captain.getByRole('group', { name: 'Send invites by' }).getByRole('radio', { name: 'WhatsApp' }).check();
  await captain.getByRole('textbox', { name: 'Phone numbers to invite' }).fill('+1 555 060 0002');
  await captain.getByRole('button', { name: 'Send WhatsApp invites' }).click();
  await expect(captain.getByRole('heading', { name: '1 invite is on the way' }), 'sent').toBeVisible();
  await expectAccessible(captain, 'the Invite view with WhatsApp');
  await phones.bringToFront();
  const invite = phones.getByRole('list', { name: /^WhatsApp messages received by \+15550600002$/ }).getByRole('listitem');
  await expect(invite.filter({ hasText: "Hana invited you to Harbor Lane's neighborhood group on WhatsApp. Join at" }),
    'the invite on WhatsApp, from the captain by name').toHaveCount(1);
  await expect(invite.locator('.from'), 'from the neighborhood on WhatsApp').toHaveText('Harbor Lane on WhatsApp');
}
