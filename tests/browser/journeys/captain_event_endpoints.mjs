// Events for integrators in Settings (issue 26): a captain on a 360 px phone adds an endpoint for
// a small receiver of this journey's own (http on loopback, which sandbox mode accepts), sees its
// signing secret once, sends a test event and reads the receiver's 200 in the page; the receiver
// got the Standard Webhooks headers and the signature verifies with the secret shown. The
// Deliveries table lists the test, rotating the secret shows a new one (and the next test carries
// signatures under both). Then the receiver fails: a member added meanwhile is refused three
// times (the app retries at once, NT_EVENT_RETRY_SECS=0,0) and the service turns the endpoint off,
// which the page shows with its reason; the receiver mends, "Enable again" sends the waiting event
// (the delivery log shows the three refusals and the 200), and "Replay since…" a time before it
// puts it back in line (the page says how many) and sends it again with the same webhook-id.
// Delete removes the endpoint. The section fits the phone and passes axe in each state.

import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

import {
  PHONE, api, createNeighborhood, expect, expectAccessible, health, inboxItems, latestCode, newPage, openTab, poll, sandboxTab,
  screenshot, sideways,
} from '../lib.mjs';

/** A neighbor the captain adds while the receiver is down. */
const BEA = '+15550070001';

/**
 * A receiver on 127.0.0.1 that records every request (with the status it answered) and answers
 * 200 with a little JSON, or 500 while `failing` is set.
 */
async function startReceiver() {
  const received = [];
  const receiver = { failing: false };
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const status = receiver.failing ? 500 : 200;
      received.push({
        method: request.method, path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status,
      });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(status === 200 ? '{"received":true}' : '{"error":"database is down"}');
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${server.address().port}/hooks/neighborhood`,
    received,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  });
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

  // ---- the receiver fails: the service retries at once, then turns the endpoint off ----
  const endpoints = `/api/v1/neighborhoods/${id}/event-endpoints`;
  receiver.failing = true;
  const before = receiver.received.length;
  // The event happens after this; "Replay since…" later goes back to it (whole seconds, as the
  // field takes them).
  const eventAfter = Math.floor(Date.now() / 1000) * 1000;
  const joining = await api('POST', `/api/v1/neighborhoods/${id}/members`, { phone: BEA, display_name: 'Bea' });
  expect(joining.status, `adding Bea: ${JSON.stringify(joining.body)}`).toBe(202);
  let listed = [];
  await poll(async () => {
    listed = (await api('GET', endpoints)).body.items ?? [];
    return listed.length === 1 && listed[0].enabled === false;
  }, { timeout: 30_000, message: () => `the endpoint turned off by the service; it is ${JSON.stringify(listed)}` });
  const [endpoint] = listed;
  const reason = 'Turned off: 3 attempts at one event failed; the last: it answered 500';
  expect(endpoint.disabled_reason, 'why, in the API').toBe(reason.slice('Turned off: '.length));
  const refused = receiver.received.slice(before);
  expect(refused.map((request) => request.status), 'three attempts, each refused').toEqual([500, 500, 500]);
  const eventId = refused[0].headers['webhook-id'];
  expect(eventId, 'a webhook-id').toMatch(/\S/);
  expect(refused.every((request) => request.headers['webhook-id'] === eventId), 'one event attempted three times').toBe(true);
  const joined = JSON.parse(refused[0].body);
  expect(`${joined.type} ${joined.data?.display_name}`, 'the event').toBe('member.joined Bea');

  // The page shows it once the captain looks again, and her phone is told.
  await captain.reload();
  await expect(row.getByText('turned off', { exact: true }), 'the badge').toBeVisible();
  await expect(row.getByText(reason, { exact: true }), 'and the reason').toBeVisible();
  const enableAgain = row.getByRole('button', { name: `Enable again ${receiver.url}` });
  await expect(enableAgain, 'a way back').toBeVisible();
  const told = inboxItems(await sandboxTab(captain.context()), captainPhone)
    .filter({ hasText: 'Linden Row: events to 127.0.0.1 failed for a day, so they are turned off.' });
  await expect(told, 'the captain texted, once').toHaveCount(1);
  expect(await sideways(captain), 'no sideways scrolling with the endpoint turned off').toEqual([]);
  await expectAccessible(captain, 'event endpoints with one turned off, phone');
  await screenshot(captain, 'endpoint-turned-off-phone');

  // ---- mended and enabled again: the waiting event arrives ----
  receiver.failing = false;
  await enableAgain.click();
  await expect(captain.getByRole('status').filter({ hasText: `${receiver.url} is on again.` }), 'the toast').toBeVisible();
  await expect(section.getByRole('heading', { name: 'Endpoints for this neighborhood' }), 'focus back on the list').toBeFocused();
  await expect(row.getByText('turned off', { exact: true }), 'no badge now').toHaveCount(0);
  await expect(enableAgain, 'nothing to enable').toHaveCount(0);
  await poll(() => receiver.received.length > before + 3, { message: () => 'the waiting event at the receiver' });
  const arrived = receiver.received[before + 3];
  expect(arrived.headers['webhook-id'], 'the event that waited').toBe(eventId);
  expect(arrived.body, 'as it was').toBe(refused[0].body);
  expect(arrived.status, 'taken').toBe(200);
  expect(verifiedBy(arrived, newSecret).length, 'signed with the current secret').toBe(1);

  // Its delivery in the log, under the three refusals (the record follows the answer).
  const memberDeliveries = async () => (await api('GET', `${endpoints}/${endpoint.id}/deliveries`)).body.items
    .filter((delivery) => delivery.event_type === 'member.joined' && delivery.delivered).length;
  await poll(async () => (await memberDeliveries()) >= 1, { message: () => 'the delivery recorded' });
  await deliveriesButton.click();
  await expect(deliveriesButton, 'open again').toHaveAttribute('aria-expanded', 'true');
  const joinedRows = table.getByRole('row').filter({ hasText: 'member.joined' });
  await expect(joinedRows, 'four attempts at the event').toHaveCount(4);
  await expect(joinedRows.first(), 'the newest taken').toContainText('HTTP 200');
  await expect(joinedRows.first(), 'with its answer').toContainText('{"received":true}');
  await expect(joinedRows.filter({ hasText: 'HTTP 500' }), 'after three refusals').toHaveCount(3);
  await expect(joinedRows.filter({ hasText: 'HTTP 500' }).first(), 'whose answer shows').toContainText('database is down');
  expect(await sideways(captain), 'no sideways scrolling with the attempts listed').toEqual([]);
  await expectAccessible(captain, 'event endpoints enabled again with deliveries, phone');
  await screenshot(captain, 'endpoint-enabled-again-phone');

  // ---- "Replay since…" a time before the event: it comes again, with the same webhook-id ----
  const since = await captain.evaluate((at) => {
    const time = new Date(at);
    const pad = (n) => String(n).padStart(2, '0');
    // As the field keeps it: seconds only when there are some.
    const seconds = time.getSeconds() ? `:${pad(time.getSeconds())}` : '';
    return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}T${pad(time.getHours())}:${pad(time.getMinutes())}${seconds}`;
  }, eventAfter);
  await row.getByText('Replay since…', { exact: true }).click();
  const replay = row.getByRole('button', { name: `Replay events to ${receiver.url}` });
  await expect(replay, 'the form open').toBeVisible();
  await row.getByLabel('Send again every event since').fill(since);
  expect(await sideways(captain), 'no sideways scrolling with the replay form open').toEqual([]);
  await expectAccessible(captain, 'event endpoints with the replay form open, phone');
  await screenshot(captain, 'replay-form-phone');
  const shown = before + 4;
  await replay.click();
  const url = receiver.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await expect(captain.getByRole('status').filter({ hasText: new RegExp(`^1 event since .+ put back in line: it is sent to ${url} again\\.$`) }),
    'how many went back in line').toBeVisible();
  await expect(replay, 'the list shown afresh, the form put away').toBeHidden();
  await poll(() => receiver.received.length > shown, { message: () => 'the replayed event at the receiver' });
  const again = receiver.received[shown];
  expect(again.headers['webhook-id'], 'the same webhook-id').toBe(eventId);
  expect(again.body, 'the same event').toBe(refused[0].body);
  expect(again.status, 'taken again').toBe(200);
  expect(verifiedBy(again, newSecret).length, 'signed').toBe(1);
  await poll(async () => (await memberDeliveries()) >= 2, { message: () => 'the replayed delivery recorded' });
  expect(receiver.received.length, 'nothing else sent').toBe(shown + 1);
  await deliveriesButton.click();
  await expect(joinedRows.filter({ hasText: 'HTTP 200' }), 'the log shows it twice taken').toHaveCount(2);
  await expectAccessible(captain, 'event endpoints after a replay, phone');
  await screenshot(captain, 'replayed-phone');

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
