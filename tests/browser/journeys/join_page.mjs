// A neighbor asks to join from the public page on a 360 px phone: the empty form and a bad phone
// get the API's field errors in place, a good request gets to the code step, a wrong code gets the
// API's message, a new code texted to the simulated phone gets them through, and the captains
// find the request pending.

import {
  DESKTOP, PHONE, api, codeCount, createNeighborhood, expect, latestCode, newPage, screenshot,
} from '../lib.mjs';

const OWNER = '+15550007800';
const NEIGHBOR = '+15550007801';
const QUESTION = 'Which street do you live on?';

export default async function joinPage({ browser, base }) {
  const neighborhood = await createNeighborhood({
    name: 'Maple Court',
    description: 'Porch swaps, lost cats and snow days on Maple Court.',
    area_code: '415',
    owner_phone: OWNER,
    owner_name: 'Olive',
    join_questions: [
      { id: 'street', text: QUESTION, required: true },
      { id: 'years', text: 'How long have you lived here?', required: false },
    ],
  });
  expect(neighborhood.join_url, 'the join link points at this very app').toBe(`${base}/join/${neighborhood.slug}`);

  const page = await newPage(browser, { viewport: PHONE });
  await page.goto(`/join/${neighborhood.slug}`);
  await expect(page.getByRole('heading', { level: 1 }), 'the page title').toHaveText('Join Maple Court');
  await expect(page.getByText('Porch swaps, lost cats'), 'the description').toBeVisible();
  await expect(page.getByText('Sandbox:').first(), 'the sandbox banner').toBeVisible();
  const card = (await api('GET', `/api/v1/join/${neighborhood.slug}`, undefined, { token: null })).body;
  await expect(page.getByRole('checkbox', { name: card.consent_text }), 'the consent text, verbatim, as the checkbox label').toBeVisible();
  const horizontalOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(horizontalOverflow, 'pixels the 360 px page scrolls sideways').toBe(0);
  await screenshot(page, 'join-360');

  const name = page.getByRole('textbox', { name: 'Your name' });
  const phone = page.getByRole('textbox', { name: 'Mobile number' });
  const street = page.getByRole('textbox', { name: QUESTION });
  const consent = page.getByRole('checkbox');
  const ask = page.getByRole('button', { name: 'Text me a code' });
  const alert = page.getByRole('alert');

  // Everything empty: the API refuses each required field, and the page says so at each one.
  await ask.click();
  await expect(alert, 'the summary').toHaveText('Please fix the 4 fields marked below.');
  await expect(name, 'the name field').toHaveAttribute('aria-invalid', 'true');
  await expect(name, 'the name error').toHaveDescription('Give a name neighbors will see.');
  await expect(phone, 'the phone error').toHaveDescription('Enter your mobile number.');
  await expect(street, 'the required question').toHaveDescription(`Answer "${QUESTION}" to ask to join.`);
  await expect(consent, 'the consent error').toHaveDescription('Agree to receive the group\'s texts to join.');
  await expect(page.getByRole('textbox', { name: 'Street address' }), 'the optional address').toHaveAttribute('aria-invalid', null);
  await expect(name, 'the first field in error').toBeFocused();
  await screenshot(page, 'errors-360');

  // A bad phone: exactly what the API says about it, next to the phone field.
  const details = { name: 'Ben Neighbor', phone: '555', answers: { street: 'Elm Street' }, consent: true };
  const refusal = await api('POST', `/api/v1/join/${neighborhood.slug}`, details, { token: null });
  expect(refusal.status, 'the API on a bad phone').toBe(400);
  const phoneError = refusal.body.details.find((detail) => detail.field === 'phone')?.message;
  expect(phoneError, 'the API names the phone').toBeTruthy();
  await name.fill(details.name);
  await phone.fill(details.phone);
  await street.fill(details.answers.street);
  await consent.check();
  await ask.click();
  await expect(phone, 'the phone error').toHaveDescription(phoneError);
  await expect(phone, 'the phone field').toBeFocused();
  await expect(name, 'the name, fixed').toHaveAttribute('aria-invalid', null);
  await expect(alert, 'the summary').toHaveText('Please fix the field marked below.');

  // A good request: the code step names the phone as people write it and points at /sandbox.
  await phone.fill('(555) 000-7801');
  await ask.click();
  const confirmHeading = page.getByRole('heading', { name: 'Confirm your phone' });
  await expect(confirmHeading).toBeVisible();
  await expect(page.getByText('Enter the code we texted to +1 555 000 7801.'), 'the code step').toBeVisible();
  const sandboxLink = page.getByRole('link', { name: '/sandbox (opens in a new tab)' });
  await expect(sandboxLink, 'the link to the simulated phone').toHaveAttribute('target', '_blank');
  await expect(sandboxLink).toHaveAttribute('href', '/sandbox');
  await latestCode(page, NEIGHBOR, { matching: /(\d{6}) is your code to join Maple Court/ });

  // Back keeps what was typed; asking again texts a fresh code for the same request.
  await page.getByRole('button', { name: 'Change my details' }).click();
  await expect(name, 'the name after going back').toHaveValue('Ben Neighbor');
  await expect(street, 'the answer after going back').toHaveValue('Elm Street');
  await expect(consent, 'the consent after going back').toBeVisible();
  expect(await consent.isChecked(), 'the consent after going back is still given').toBe(true);
  await ask.click();
  await expect(confirmHeading).toBeVisible();
  const second = await latestCode(page, NEIGHBOR, { atLeast: 2 });

  // A wrong code: the API's message, and the field ready for another try.
  const code = page.getByRole('textbox', { name: '6-digit code' });
  const wrong = second.replace(/^./, (digit) => String((Number(digit) + 1) % 10));
  await code.fill(wrong);
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expect(alert, 'the wrong-code message').toHaveText('That code is wrong, expired or used. Ask to join again for a new one.');
  await expect(code, 'the code field').toHaveAttribute('aria-invalid', 'true');
  await expect(code, 'the code field after a wrong code').toBeFocused();

  // A new code, then the right one.
  await page.getByRole('button', { name: 'Text me a new code' }).click();
  await expect(page.getByRole('status'), 'the resend note').toHaveText('We texted a new code to +1 555 000 7801. Use the newest one.');
  const newest = await latestCode(page, NEIGHBOR, { atLeast: 3 });
  expect(await codeCount(page, NEIGHBOR), 'codes texted to the neighbor').toBe(3);
  await code.fill(newest);
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();

  // Done: what happens next under the approval policy, and what to text.
  const done = page.getByRole('heading', { name: 'Thanks, Ben Neighbor: your phone is confirmed' });
  await expect(done, 'the success state').toBeVisible();
  await expect(done, 'the success heading').toBeFocused();
  await expect(page.getByText('A captain will review your request.'), 'what happens next').toBeVisible();
  await expect(page.getByRole('link', { name: '+1 415' }), 'the number to text').toHaveAttribute('href', `sms:${neighborhood.phone_number}`);
  await expect(page.getByRole('listitem').filter({ hasText: 'LEAVE' }), 'how to leave').toContainText('to leave the group');
  await screenshot(page, 'success-360');

  // The captains see it pending, with the answer and the phone as entered.
  const requests = await api('GET', `/api/v1/neighborhoods/${neighborhood.id}/join-requests`);
  expect(requests.status, 'listing join requests').toBe(200);
  const request = requests.body.items.find((item) => item.name === 'Ben Neighbor');
  expect(request?.state, 'the join request').toBe('pending');
  expect(request.phone, 'the phone of the request').toBe(NEIGHBOR);
  expect(request.channel, 'the channel').toBe('web');
  expect(request.answers[QUESTION], 'the answer').toBe('Elm Street');
  expect(request.consent_text, 'the consent kept').toBe(card.consent_text);

  // The same page on a laptop.
  const wide = await newPage(browser, { viewport: DESKTOP });
  await wide.goto(`/join/${neighborhood.slug}`);
  await expect(wide.getByRole('heading', { level: 1 })).toHaveText('Join Maple Court');
  const formWidth = await wide.locator('form').evaluate((form) => form.getBoundingClientRect().width);
  expect(formWidth < 600, `the form stays a readable column on a laptop (${formWidth} px)`).toBe(true);
  await screenshot(wide, 'join-1280');
}
