// What the API refuses reaches the neighbor: an unknown join link shows a friendly not-found page
// (never the raw error), and an invitation-only neighborhood explains itself, then shows the API's
// own refusal of an invite code that is not valid.

import { PHONE, api, createNeighborhood, expect, newPage, screenshot } from '../lib.mjs';

export default async function joinErrors({ browser }) {
  const page = await newPage(browser, { viewport: PHONE });

  await page.goto('/join/no-such-street');
  const missing = page.getByRole('heading', { level: 1 });
  await expect(missing, 'an unknown link').toHaveText('We can’t find this neighborhood');
  await expect(page.getByText('The link may be mistyped'), 'what to do about it').toBeVisible();
  await expect(page.getByRole('textbox'), 'a form for a neighborhood that does not exist').toHaveCount(0);
  expect(await page.title(), 'the tab title').toBe('Neighborhood not found');
  await screenshot(page, 'not-found-360');

  const neighborhood = await createNeighborhood({
    name: 'Quiet Lane',
    area_code: '303',
    owner_phone: '+15550007900',
    owner_name: 'Quinn',
    join_policy: 'invite_only',
  });

  // Without an invite there is nothing to fill in, only how to get in.
  await page.goto(`/join/${neighborhood.slug}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Join Quiet Lane');
  await expect(page.getByText('takes new members by invitation only'), 'the invite-only notice').toBeVisible();
  await expect(page.getByRole('button', { name: 'Text me a code' }), 'the ask button').toHaveCount(0);

  // With a code the API does not know, the request is refused in the API's words.
  const details = { name: 'Ivy', phone: '+15550007901', consent: true, invite: 'not-a-real-code' };
  const refusal = await api('POST', `/api/v1/join/${neighborhood.slug}`, details, { token: null });
  expect(refusal.status, 'the API on a bad invite').toBe(403);
  await page.goto(`/join/${neighborhood.slug}?invite=${details.invite}`);
  await expect(page.getByText('You were invited'), 'the note for invited neighbors').toBeVisible();
  await page.getByRole('textbox', { name: 'Your name' }).fill(details.name);
  await page.getByRole('textbox', { name: 'Mobile number' }).fill(details.phone);
  await page.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Text me a code' }).click();
  const alert = page.getByRole('alert');
  await expect(alert, 'the refusal').toHaveText(refusal.body.message);
  await expect(alert, 'the refusal, focused for screen readers').toBeFocused();
  await screenshot(page, 'invite-refused-360');
}
