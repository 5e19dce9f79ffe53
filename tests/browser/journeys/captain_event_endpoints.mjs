// Events for integrators in Settings (issue 26): a captain on a 360 px phone adds an endpoint for
// a small receiver of this journey's own (http on loopback, which sandbox mode accepts), sees its
// signing secret once, sends a test event and reads the receiver's 200 in the page; the receiver
// got the Standard Webhooks headers and the signature verifies with the secret shown. The
// Deliveries table lists the test, rotating the secret shows a new one (and the next test carries
// signatures under both), and Delete removes the endpoint. The section fits the phone and passes
// axe.

import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

import {
  PHONE, api, createNeighborhood, expect, expectAccessible, health, latestCode, newPage, openTab, poll, screenshot,
} from '../lib.mjs';

/** A receiver on 127.0.0.1 that records every request and answers 200 with a little JSON. */
async function startReceiver() {
  const received = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method, path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"received":true}');
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks/neighborhood`,
    received,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

/**
 * The `v1,` signatures of a delivery that verify under `secret` (`whsec_` and base64 key bytes):
 * the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, as Standard Webhooks says.
 */
function verifiedBy(delivery, secret) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${delivery.headers['webhook-id']}.${delivery.headers['webhook-timestamp']}.${delivery.body}`)
    .digest('base64');
  return (delivery.headers['webhook-signature'] ?? '').split(' ')
    .filter((signature) => signature === `v1,${expected}`);
}

/**
 * What makes the page scroll sideways (it must not on a phone): its width, then the innermost
 * elements and the text reaching past its right edge; empty when nothing does.
 */
const sideways = (page) => page.evaluate(() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const past = (rect) => rect.right > width + 0.5;
  const over = [...document.body.querySelectorAll('*')].filter((node) => past(node.getBoundingClientRect()));
  const innermost = over.filter((node) => !over.some((other) => other !== node && node.contains(other)))
    .map((node) => `<${node.tagName.toLowerCase()} class="${node.className}"> ${(node.textContent ?? '').slice(0, 40)}`);
  // Text that does not wrap spills out of a box that itself fits.
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    if (past(range.getBoundingClientRect())) texts.push(`text in <${text.parentElement.tagName.toLowerCase()}>: ${text.data.slice(0, 60)}`);
  }
  return [`${document.documentElement.scrollWidth} px wide in ${width}`, ...innermost, ...texts];
});

export default async function captainEventEndpoints({ browser }) {
  const receiver = await startReceiver();
  try {
    await walk(browser, receiver);
  } finally {
    await receiver.close();
  }
}

async function walk(browser, receiver) {
  const { sandbox_admin_phone: captainPhone } = await health();
  const neighborhood = await createNeighborhood({
    name: 'Linden Row', area_code: '415', owner_phone: captainPhone, owner_name: 'Ana',
  });
  const id = neighborhood.id;

  // ---- the captain, on a phone, opens Settings and jumps to the section ----
  const captain = await newPage(browser, { viewport: PHONE });
  await captain.goto('/');
  await captain.getByRole('button', { name: 'Text me a code' }).click();
  const code = await latestCode(captain, captainPhone, { matching: /(\d{6}) is your neighborhood-text sign-in code/ });
  await captain.getByRole('textbox', { name: 'Code from the text' }).fill(code);
  await captain.getByRole('button', { name: 'Sign in' }).click();
  await captain.getByRole('link', { name: 'Linden Row' }).click();
  await openTab(captain, 'Settings');
  await captain.getByRole('navigation', { name: 'Settings sections' })
    .getByRole('link', { name: 'Events for integrators' }).click();
  const section = captain.getByRole('region', { name: 'Events for integrators' });
  await expect(section.getByRole('heading', { name: 'Events for integrators' }), 'the jump link moves focus').toBeFocused();
  await expect(section.getByText('No endpoints yet.'), 'none yet').toBeVisible();

  // ---- adding one: the API's word when no event is picked, then two events ----
  await section.getByRole('textbox', { name: 'URL' }).fill(receiver.url);
  await section.getByRole('button', { name: 'Add endpoint' }).click();
  const events = section.getByRole('group', { name: 'Events to send' });
  await expect(events, "the API's word under the events").toHaveDescription('Name at least one event type, each once.');
  await events.getByRole('checkbox', { name: 'Someone joined (member.joined)' }).check();
  await events.getByRole('checkbox', { name: 'A member wrote to the group (message.posted)' }).check();
  await section.getByRole('textbox', { name: 'Description' }).fill('CRM sync');
  await section.getByRole('button', { name: 'Add endpoint' }).click();

  // ---- its secret, once ----
  const added = section.getByRole('heading', { name: `Endpoint ${receiver.url} added` });
  await expect(added, 'focus on the secret').toBeFocused();
  await expect(section.getByText("Copy the signing secret now: it won't be shown again."), 'the warning').toBeVisible();
  await expect(section.getByText(/Standard Webhooks library/), 'how to verify').toBeVisible();
  await expect(section.getByRole('button', { name: 'Copy' }), 'a copy button').toBeVisible();
  const secretBox = section.getByRole('textbox', { name: 'Signing secret' });
  const secret = await secretBox.inputValue();
  expect(secret, 'the secret shown').toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  expect(await sideways(captain), 'no sideways scrolling with the secret shown').toEqual([]);
  await expectAccessible(captain, 'event endpoints with a new secret, phone');
  await screenshot(captain, 'endpoint-added-phone');

  const row = section.getByRole('listitem').filter({ hasText: receiver.url });
  await expect(row, 'the endpoint listed').toContainText('Sent: Someone joined (member.joined) and A member wrote to the group (message.posted).');
  await expect(row, 'with its description').toContainText('CRM sync');
  await expect(row, 'and when it was added').toContainText(/Added \w{3} \d{1,2}, \d{4}/);
  await section.getByRole('button', { name: 'I have copied it' }).click();
  await expect(secretBox, 'the secret put away').toHaveCount(0);

  // ---- a test event: the 200 in the page, the signature good at the receiver ----
  await row.getByRole('button', { name: `Send test event to ${receiver.url}` }).click();
  await expect(row.getByRole('status'), 'the answer, in a live region').toContainText(/^Delivered: the endpoint answered HTTP 200 in \d+ ms\.$/);
  await poll(() => receiver.received.length >= 1, { message: () => 'the test event at the receiver' });
  const [test] = receiver.received;
  expect(test.method, 'posted').toBe('POST');
  expect(test.path, 'to the URL registered').toBe('/hooks/neighborhood');
  for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    expect(test.headers[header], `the ${header} header`).toBeTruthy();
  }
  expect(JSON.parse(test.body).type, 'a test event').toBe('webhook.test');
  expect(Math.abs(Date.now() / 1000 - Number(test.headers['webhook-timestamp'])) < 300, 'a timestamp of now').toBe(true);
  expect(verifiedBy(test, secret).length, `the signature ${test.headers['webhook-signature']} verifies with the secret shown`).toBe(1);

  // ---- its deliveries ----
  const deliveriesButton = row.getByRole('button', { name: `Deliveries to ${receiver.url}` });
  await deliveriesButton.click();
  await expect(deliveriesButton, 'open').toHaveAttribute('aria-expanded', 'true');
  const table = row.getByRole('table', { name: `Latest deliveries to ${receiver.url}, newest first` });
  const testRow = table.getByRole('row').filter({ hasText: 'webhook.test' });
  await expect(testRow, 'the test delivery').toHaveCount(1);
  await expect(testRow, 'its status').toContainText('HTTP 200');
  await expect(testRow, 'the first bytes of the answer').toContainText('{"received":true}');
  expect(await sideways(captain), 'no sideways scrolling with the deliveries open').toEqual([]);
  await expectAccessible(captain, 'event endpoints with deliveries, phone');
  await screenshot(captain, 'deliveries-phone');

  // ---- a new secret; the old one signs too for a while ----
  let asked = '';
  captain.once('dialog', (dialog) => {
    asked = dialog.message();
    dialog.accept();
  });
  await row.getByRole('button', { name: `Rotate secret of ${receiver.url}` }).click();
  const rotated = section.getByRole('heading', { name: `New signing secret for ${receiver.url}` });
  await expect(rotated, 'focus on the new secret').toBeFocused();
  expect(asked, 'asked first').toContain('keeps signing deliveries for 24 hours');
  const newSecret = await section.getByRole('textbox', { name: 'Signing secret' }).inputValue();
  expect(newSecret, 'a new secret').toMatch(/^whsec_/);
  expect(newSecret !== secret, 'not the old one').toBe(true);
  await expect(section.getByText(/with the old one too until/), 'when the old one stops').toBeVisible();
  await expect(row, 'the list says so too').toContainText('The previous secret signs too until');
  await screenshot(captain, 'secret-rotated-phone');
  await section.getByRole('button', { name: 'I have copied it' }).click();

  await row.getByRole('button', { name: `Send test event to ${receiver.url}` }).click();
  await expect(row.getByRole('status'), 'the second test').toContainText('HTTP 200');
  await poll(() => receiver.received.length >= 2, { message: () => 'the second test event at the receiver' });
  const second = receiver.received[1];
  expect(verifiedBy(second, newSecret).length, 'signed with the new secret').toBe(1);
  expect(verifiedBy(second, secret).length, 'and with the old one, meanwhile').toBe(1);

  // ---- deleting it ----
  asked = '';
  captain.once('dialog', (dialog) => {
    asked = dialog.message();
    dialog.accept();
  });
  await row.getByRole('button', { name: `Delete ${receiver.url}` }).click();
  await expect(row, 'gone from the list').toHaveCount(0);
  expect(asked, 'asked first').toContain(`Delete the endpoint ${receiver.url}?`);
  await expect(section.getByText('No endpoints yet.'), 'none left').toBeVisible();
  const left = await api('GET', `/api/v1/neighborhoods/${id}/event-endpoints`);
  expect(left.body.items, 'deleted in the service').toEqual([]);
  await expectAccessible(captain, 'event endpoints after deleting, phone');
  await screenshot(captain, 'endpoint-deleted-phone');
}
