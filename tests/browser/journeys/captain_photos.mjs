// A neighbor's photo in the captain's Messages view (issue 23): Ben's phone texts a picture to
// the neighborhood number, and the captain, on a 360 px phone, sees it in the history as a small
// thumbnail that really loaded (through the service, never from Twilio), described for a screen
// reader by who sent it and its size; tapping it opens the full picture in a new tab. The view
// passes axe with the picture in it. Then the captain sends an announcement with a picture from
// the composer: chosen, uploaded and shown back before it goes, it reaches Ben's phone with the
// picture, and the history shows it.

import {
  PHONE, api, createNeighborhood, expect, expectAccessible, health, latestCode, newPage, poll, screenshot,
} from '../lib.mjs';

const BEN = '+15550440002';
/** A real 8x8 PNG (a blue and orange checkerboard, 82 bytes), as a phone would attach it. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAGUlEQVR42mPQiDpxokIDk2TAKgokGQalDgCzt1ZBI32qLAAAAABJRU5ErkJggg==';
const WORDS = 'Found this dog on Maple, brown lab';

export default async function captainPhotos({ browser }) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Maple Court', area_code: '415', owner_phone: captainPhone, owner_name: 'Ana',
  });
  const id = neighborhood.id;
  const added = await api('POST', `/api/v1/neighborhoods/${id}/members`, { phone: BEN, display_name: 'Ben R.' });
  expect(added.status, `adding Ben: ${JSON.stringify(added.body)}`).toBe(202);
  await poll(async () => {
    const members = await api('GET', `/api/v1/neighborhoods/${id}/members`);
    return members.body.items.length === 2 && members.body.items.every((m) => m.sync === 'done');
  }, { timeout: 30_000, message: () => 'Ben in the group text' });

  // ---- Ben's phone texts a picture to the number ----
  const sent = await api('POST', `/sandbox/api/phones/${encodeURIComponent(BEN)}/messages`, {
    to: neighborhood.phone_number,
    body: WORDS,
    media: [{ content_type: 'image/png', data_base64: PNG_BASE64 }],
  }, { token: null });
  expect(sent.status, `Ben's picture: ${JSON.stringify(sent.body)}`).toBe(200);
  expect(sent.body.outcome, 'the picture goes to the group').toBe('conversation');
  let history = [];
  await poll(async () => {
    history = (await api('GET', `/api/v1/neighborhoods/${id}/messages`)).body.items ?? [];
    return history.some((message) => message.media?.length === 1);
  }, { message: () => `the picture in the history: ${JSON.stringify(history)}` });
  const [picture] = history.find((message) => message.media?.length === 1).media;
  expect(picture.content_type, 'the picture as sent').toBe('image/png');

  // ---- the captain, on a phone, sees it in Messages ----
  const captain = await newPage(browser, { viewport: PHONE });
  await captain.goto('/');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await captain.getByRole('link', { name: 'Maple Court' }).click();
  await captain.getByRole('link', { name: 'Messages' }).click();

  const message = captain.getByRole('list', { name: 'Messages, newest first' }).getByRole('listitem')
    .filter({ hasText: WORDS });
  await expect(message, "Ben's message, signed").toContainText(`Ben R.: ${WORDS}`);
  // 82 bytes read as 1 kB: the alt text says who sent it and how big it is.
  const thumbnail = message.getByRole('img', { name: 'Photo from Ben R., 1 kB' });
  await expect(thumbnail, 'the thumbnail').toBeVisible();
  const src = `/api/v1/neighborhoods/${id}/media/${picture.media_sid}`;
  await expect(thumbnail, 'read through the service').toHaveAttribute('src', src);
  await expect(thumbnail, 'loaded only when near').toHaveAttribute('loading', 'lazy');
  await poll(() => thumbnail.evaluate((img) => img.complete && img.naturalWidth > 0), {
    message: () => 'the thumbnail loaded (naturalWidth > 0)',
  });
  expect(await thumbnail.evaluate((img) => img.naturalWidth), 'the 8x8 picture itself').toBe(8);
  const box = await thumbnail.boundingBox();
  expect(box.width <= 120 && box.height <= 120 && box.x + box.width <= PHONE.width,
    `a small thumbnail inside 360 px (${JSON.stringify(box)})`).toBe(true);
  await expectAccessible(captain, 'Messages with a photo, phone');
  await screenshot(captain, 'messages-photo-phone');

  // ---- tapping it opens the full picture in a new tab ----
  const link = message.getByRole('link', { name: /^Photo from Ben R\., 1 kB \(opens full size in a new tab\)$/ });
  await expect(link, 'the link says where it goes').toHaveAttribute('target', '_blank');
  const [full] = await Promise.all([
    captain.context().waitForEvent('page'),
    link.click(),
  ]);
  await full.waitForLoadState();
  expect(new URL(full.url()).pathname, 'the full picture, read through the service').toBe(src);
  // The browser shows a picture it is given on its own in a page of one <img>.
  expect(await full.evaluate(() => document.images[0]?.naturalWidth ?? 0), 'the full picture, shown').toBe(8);
  await full.close();

  // ---- an announcement with a picture, from the composer ----
  await captain.getByRole('button', { name: 'New announcement' }).click();
  const pictureInput = captain.getByLabel('Picture (optional)');
  await pictureInput.setInputFiles({ name: 'tree.png', mimeType: 'image/png', buffer: Buffer.from(PNG_BASE64, 'base64') });
  await expect(captain.getByText('Picture ready: it goes with the announcement.'), 'uploaded').toBeVisible();
  const preview = captain.getByRole('img', { name: 'The picture to send' });
  await expect(preview, 'shown back before it goes').toBeVisible();
  await poll(() => preview.evaluate((img) => img.complete && img.naturalWidth === 8), {
    message: () => 'the preview loaded through the service',
  });
  await captain.getByRole('textbox', { name: 'Announcement', exact: true }).fill('Tree down on Maple, go around');
  await expectAccessible(captain, 'the composer with a picture, phone');
  await screenshot(captain, 'composer-picture-phone');
  await captain.getByRole('button', { name: 'Send to everyone' }).click();
  await captain.getByRole('dialog', { name: 'Send this announcement?' }).getByRole('button', { name: 'Confirm' }).click();
  await poll(async () => {
    const state = (await api('GET', '/sandbox/api/state', undefined, { token: null })).body;
    const ben = (state.phones ?? []).find((phone) => phone.phone === BEN);
    return (ben?.inbox ?? []).some((item) => item.body?.endsWith(': Tree down on Maple, go around')
      && item.media?.length === 1 && item.media[0].content_type === 'image/png');
  }, { timeout: 30_000, message: () => "the announcement with its picture on Ben's phone" });
  const announced = captain.getByRole('list', { name: 'Messages, newest first' }).getByRole('listitem')
    .filter({ hasText: 'Tree down on Maple' });
  await expect(announced.getByRole('img'), 'the history shows its picture').toBeVisible();
}
