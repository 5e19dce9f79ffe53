// What an integrator writes against neighborhood-text with a client generated from its OpenAPI
// document: openapi-typescript turns openapi/openapi.json into `paths` and `components` types
// (src/schema.d.ts, `npm run generate`), and openapi-fetch is the client that checks every path,
// parameter, body and answer against them at compile time (`tsc --noEmit`).
//
// It creates a neighborhood, adds a member, lists the members and reads the history, as a CRM or
// newsletter sync would. It also receives the service's events as an integrator does: a small
// HTTP receiver, an event endpoint registered at it, each delivery verified with the Standard
// Webhooks library (`standardwebhooks`) under the endpoint's secret, and the event log read back
// and matched to the deliveries. ./scripts/integrator-client runs it against a sandbox app it
// starts (in sandbox mode an endpoint may be http on a loopback address; a real one is https).
//
// Authentication is by API token (`Authorization: Bearer ntk_...`). A platform admin's token
// (`neighborhood-text admin create` prints one) creates the neighborhood and then a token of the
// neighborhood's own, with the captain role, which is what an integrator is given and uses for
// everything else: it can act in that one neighborhood only, and stops working when revoked or
// when its maker loses the role.
//
// Usage: NT_BASE_URL=http://127.0.0.1:8080 NT_ADMIN_TOKEN=ntk_... node dist/integrator.js

import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";
import createClient from "openapi-fetch";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { components, paths } from "./schema.js";

type ErrorBody = components["schemas"]["ErrorBody"];
type MemberOut = components["schemas"]["MemberOut"];
type MessageOut = components["schemas"]["MessageOut"];
/** A delivery's body: a union discriminated by `type`, one member per kind of event. */
type IntegratorEventPayload = components["schemas"]["IntegratorEventPayload"];
type LoggedEventOut = components["schemas"]["LoggedEventOut"];

// The union really is discriminated: without narrowing on `type`, `data` is any kind's data, and
// `display_name` is not on all of them (announcement.sent's, budget.alert's...). tsc fails here if
// the generated union ever stops being one (every member the same, or `data` loose).
// @ts-expect-error display_name is only on some kinds of event
type _NotOnEveryKind = IntegratorEventPayload["data"]["display_name"];

function setting(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (see the usage at the top of src/integrator.ts)`);
  }
  return value;
}

const baseUrl = setting("NT_BASE_URL");

/** A client that sends one API token with every request. */
function clientWith(token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

/**
 * The answer's body when the call succeeded. Otherwise the service answered its `ErrorBody`
 * (`{code, message, details}`, with a stable `code`), which becomes the error thrown.
 */
function expectData<T>(
  what: string,
  result: { data?: T; error?: ErrorBody; response: Response },
): T {
  if (result.data === undefined) {
    const error = result.error;
    const cause = error ? `${error.code}: ${error.message}` : "no body";
    throw new Error(`${what} answered ${result.response.status} (${cause})`);
  }
  return result.data;
}

/** Asks again until `found` returns a value, for at most `seconds`. */
async function eventually<T>(what: string, seconds: number, found: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await found();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not seen within ${seconds} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One line about an event: a `switch` on `type` narrows `data` to that kind's fields. */
function describe(event: IntegratorEventPayload): string {
  switch (event.type) {
    case "member.joined":
    case "member.left":
    case "member.removed":
    case "member.opted_out":
      return `${event.type}: ${event.data.display_name} (${event.data.member_id}, ${event.data.channel})`;
    case "join_request.created":
    case "join_request.decided":
      return `${event.type}: ${event.data.display_name} (${event.data.decision ?? "waiting"})`;
    case "message.posted":
      return `${event.type}: ${event.data.sender_name}: ${event.data.body}`;
    case "announcement.sent":
      return `${event.type}: ${event.data.body}`;
    case "budget.alert":
      return `${event.type}: ${event.data.threshold_percent} % of ${event.data.monthly_budget}`;
    case "webhook.test":
      return `${event.type}: endpoint ${event.data.endpoint_id}`;
    default: {
      // Every kind is handled: a new one in the document fails to compile here.
      const unknownKind: never = event;
      return `unknown event ${JSON.stringify(unknownKind)}`;
    }
  }
}

/** A POST as the receiver got it: its headers and its body's bytes, untouched. */
interface Delivery {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * An HTTP receiver on a free loopback port that keeps every POST and answers 204, as an
 * integrator's endpoint does (verifying before acting on one is the caller's part, below).
 */
async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; close: () => void }> {
  const deliveries: Delivery[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method === "POST") {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) {
          if (value !== undefined) {
            headers[name] = Array.isArray(value) ? value.join(", ") : value;
          }
        }
        deliveries.push({ headers, body: Buffer.concat(chunks) });
        response.writeHead(204).end();
      } else {
        response.writeHead(405).end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/neighborhood-text/events`,
    deliveries,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * What an integrator does with each POST before acting on it: `Webhook.verify` checks the
 * signature of `{webhook-id}.{webhook-timestamp}.{body}` under the secret (and that the timestamp
 * is within 5 minutes), and answers the parsed body. The same body with one byte changed must be
 * refused.
 */
function verified(webhook: Webhook, delivery: Delivery): IntegratorEventPayload {
  const id = delivery.headers["webhook-id"] ?? "";
  if (!id.startsWith("evt_") || !delivery.headers["webhook-timestamp"] || !delivery.headers["webhook-signature"]) {
    throw new Error(`a delivery without Standard Webhooks headers: ${JSON.stringify(delivery.headers)}`);
  }
  const contentType = delivery.headers["content-type"] ?? "";
  if (!contentType.startsWith("application/json")) {
    throw new Error(`delivery ${id} is not JSON: content-type ${contentType}`);
  }
  let parsed: unknown;
  try {
    parsed = webhook.verify(delivery.body, delivery.headers);
  } catch (error) {
    throw new Error(`delivery ${id} did not verify: ${error instanceof Error ? error.message : String(error)}`);
  }

  const altered = Buffer.from(delivery.body);
  const at = Math.floor(altered.length / 2);
  altered.writeUInt8(altered.readUInt8(at) ^ 0x01, at);
  try {
    webhook.verify(altered, delivery.headers);
    throw new Error(`delivery ${id} with byte ${at} of its body changed was verified all the same`);
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) {
      throw error;
    }
  }
  // Signed by the service, and the service's tests check every kind of body against the
  // committed document: from here on it is the documented union.
  return parsed as IntegratorEventPayload;
}

async function integrate(receiver: { url: string; deliveries: Delivery[] }): Promise<void> {
  const platform = clientWith(setting("NT_ADMIN_TOKEN"));

  // 1. A neighborhood (platform admins only). In the sandbox, area code 555 gets an emulated number.
  const neighborhood = expectData(
    "create_neighborhood",
    await platform.POST("/api/v1/neighborhoods", {
      body: {
        name: "Integrator Street",
        area_code: "555",
        owner_phone: "+15550000101",
        owner_name: "Olive",
      },
    }),
  );
  console.log(`created neighborhood ${neighborhood.name} (${neighborhood.id}), join link ${neighborhood.join_url}`);

  // The integrator's own credential: a captain token for this neighborhood alone.
  const created = expectData(
    "create_token",
    await platform.POST("/api/v1/tokens", {
      body: { name: "integrator example", neighborhood_id: neighborhood.id, role: "captain" },
    }),
  );
  console.log(`made a ${created.token.role ?? "platform"} token for it (${created.token.id})`);
  const api = clientWith(created.secret);
  const neighborhoodId = neighborhood.id;
  const path = { id: neighborhoodId };

  // Events: an endpoint registered at the receiver (captains may, so the captain token does),
  // before the member is added: events are logged from a neighborhood's first endpoint on.
  const registered = expectData(
    "create_event_endpoint",
    await api.POST("/api/v1/neighborhoods/{id}/event-endpoints", {
      params: { path },
      body: {
        url: receiver.url,
        // member.left is a neighbor texting LEAVE; a captain's (or this script's) removal is
        // member.removed.
        events: ["member.joined", "member.left", "member.removed"],
        description: "integrator example",
        // A CRM keys people by phone: `data.phone` (captains only may ask for it). The event log
        // carries it too, to a captain, so with it the log's bodies are the deliveries' exactly.
        include_phones: true,
      },
    }),
  );
  if (!registered.secret.startsWith("whsec_")) {
    throw new Error("create_event_endpoint answered a secret that is not whsec_...");
  }
  const webhook = new Webhook(registered.secret);
  const endpoint = registered.endpoint;
  console.log(`registered event endpoint ${endpoint.id} at ${endpoint.url} for ${endpoint.events.join(", ")}`);

  // 2. A member, added directly (captains attest the neighbor agreed; they get a welcome text).
  const added: MemberOut = expectData(
    "add_member",
    await api.POST("/api/v1/neighborhoods/{id}/members", {
      params: { path },
      body: { phone: "+15550000102", display_name: "Ben Integrator", address: "12 Elm St" },
    }),
  );
  console.log(`added ${added.display_name} (${added.id}), role ${added.role}, sync ${added.sync}`);

  // The same phone again is refused with a stable code, typed as the ErrorCode enum.
  const again = await api.POST("/api/v1/neighborhoods/{id}/members", {
    params: { path },
    body: { phone: "+15550000102", display_name: "Ben Again" },
  });
  if (again.error === undefined) {
    throw new Error("add_member took the same phone twice");
  }
  console.log(`adding the same phone again: ${again.response.status} ${again.error.code}`);

  // 3. The members, searched by name.
  const list = expectData(
    "list_members",
    await api.GET("/api/v1/neighborhoods/{id}/members", {
      params: { path, query: { q: "ben", sort: "name", limit: 50 } },
    }),
  );
  if (!list.items.some((member) => member.id === added.id)) {
    throw new Error(`list_members did not list ${added.id}: ${JSON.stringify(list.items)}`);
  }
  console.log(
    `listed ${list.total} member(s) matching "ben"; everyone by status: ${JSON.stringify(list.counts)}`,
  );

  // Adding is carried out in the background (`sync` is `pending` until Twilio has them).
  const placed = await eventually(`${added.display_name} in the group text`, 20, async () => {
    const page = expectData(
      "list_members",
      await api.GET("/api/v1/neighborhoods/{id}/members", { params: { path, query: { q: "ben" } } }),
    );
    return page.items.find((member) => member.id === added.id && member.sync === "done");
  });
  console.log(`${placed.display_name} is in the group text (Conversation ${placed.shard ?? "?"})`);

  // 4. The history: an announcement from the captain token, then read back from the history.
  const announced = expectData(
    "post_announcement",
    await api.POST("/api/v1/neighborhoods/{id}/messages", {
      params: { path },
      body: { body: "Street sweeping on Tuesday: please move your cars." },
    }),
  );
  // 202 (sent now) and 201 (scheduled) have different bodies; `held` only exists on the first.
  if (!("held" in announced)) {
    throw new Error(`the announcement was scheduled rather than sent: ${JSON.stringify(announced)}`);
  }
  console.log(
    `announced ${announced.message_sid} to ${announced.estimate.recipients} people, about $${announced.estimate.cost} (held: ${announced.held})`,
  );

  const inHistory: MessageOut = await eventually("the announcement in the history", 10, async () => {
    const page = expectData(
      "list_messages",
      await api.GET("/api/v1/neighborhoods/{id}/messages", { params: { path, query: { limit: 20 } } }),
    );
    // By Twilio's message sid: the 202's `id` is empty until the history has placed the message.
    return page.items.find((message) => message.message_sid === announced.message_sid);
  });
  console.log(`history: "${inHistory.body}" from ${inHistory.sender_name} at ${inHistory.at}`);

  // 5. The member removed, as a CRM would when someone moves away (member.removed).
  const removed = expectData(
    "remove_member",
    await api.DELETE("/api/v1/neighborhoods/{id}/members/{member_id}", {
      params: { path: { id: neighborhoodId, member_id: added.id } },
    }),
  );
  if (removed.status !== "removed") {
    throw new Error(`remove_member answered status ${removed.status}`);
  }
  console.log(`removed ${removed.display_name} (status ${removed.status})`);

  // 6. The deliveries: member.joined and member.removed for that member, in that order, each
  // verified under the endpoint's secret.
  const expected = ["member.joined", "member.removed"];
  const deliveries = await eventually("member.joined and member.removed at the receiver", 30, async () =>
    receiver.deliveries.length >= expected.length ? receiver.deliveries.slice() : undefined,
  );
  const events = deliveries.map((delivery) => verified(webhook, delivery));
  events.forEach((event, i) => {
    if (event.type !== expected[i]) {
      throw new Error(`delivery ${i + 1} is ${event.type}, expected ${expected[i]}`);
    }
    // Narrowed by `type`: these are MemberEventData's fields, checked by tsc.
    if (event.type === "member.joined" || event.type === "member.removed") {
      const data = event.data;
      const same = data.member_id === added.id && data.display_name === added.display_name;
      if (!same || data.neighborhood_id !== neighborhoodId) {
        throw new Error(`${event.type} is about someone else: ${JSON.stringify(data)}`);
      }
      if (data.phone !== "+15550000102") {
        throw new Error(`${event.type} carries phone ${data.phone ?? "none"}, not the member's (include_phones)`);
      }
    }
    console.log(`delivered and verified ${deliveries[i]?.headers["webhook-id"]}: ${describe(event)}`);
  });
  console.log("a copy of each delivery with one byte of the body changed was refused");

  // 7. The event log, read by cursor, as after an outage: the same events, by the same ids, with
  // the same bodies.
  const logged: LoggedEventOut[] = [];
  let after: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages >= 50) {
      throw new Error("list_integrator_events: still answering events after 50 pages");
    }
    const page = expectData(
      "list_integrator_events",
      await api.GET("/api/v1/neighborhoods/{id}/event-log", {
        params: { path, query: after === undefined ? { limit: 100 } : { after, limit: 100 } },
      }),
    );
    logged.push(...page.items);
    if (page.items.length === 0) {
      break;
    }
    after = page.cursor;
  }
  const joinedNames: string[] = [];
  for (const item of logged) {
    const event = item.event;
    if (event.type === "member.joined") {
      // Narrowed to IntegratorEventPayload_MemberJoinedEvent: `data` is MemberEventData.
      joinedNames.push(event.data.display_name);
    }
  }
  if (!isDeepStrictEqual(joinedNames, [added.display_name])) {
    throw new Error(`the log's member.joined events name ${JSON.stringify(joinedNames)}, expected ${added.display_name}`);
  }
  const subscribed = new Set<string>(endpoint.events);
  const loggedForEndpoint = logged.filter((item) => subscribed.has(item.event.type));
  const deliveredIds = deliveries.map((delivery) => delivery.headers["webhook-id"]);
  const loggedIds = loggedForEndpoint.map((item) => item.id);
  if (!isDeepStrictEqual(loggedIds, deliveredIds)) {
    throw new Error(`the log's ids ${JSON.stringify(loggedIds)}, the deliveries' ${JSON.stringify(deliveredIds)}`);
  }
  loggedForEndpoint.forEach((item, i) => {
    const body: unknown = JSON.parse(deliveries[i]?.body.toString("utf8") ?? "null");
    if (!isDeepStrictEqual(item.event, body)) {
      throw new Error(`event ${item.id}: logged ${JSON.stringify(item.event)}, delivered ${JSON.stringify(body)}`);
    }
  });
  // Nothing else came meanwhile (another event, or one of these twice).
  if (receiver.deliveries.length !== expected.length) {
    const bodies = receiver.deliveries.map((delivery) => delivery.body.toString()).join(" | ");
    throw new Error(`the receiver got ${receiver.deliveries.length} deliveries, not ${expected.length}: ${bodies}`);
  }
  const types = logged.map((item) => item.event.type).join(", ");
  console.log(
    `event log: ${logged.length} event(s) (${types}); the ${loggedForEndpoint.length} subscribed to are the deliveries, by id and body`,
  );
}

async function main(): Promise<void> {
  const receiver = await startReceiver();
  try {
    await integrate(receiver);
  } finally {
    receiver.close();
  }
  console.log("integrator-client: passed");
}

main().catch((error: unknown) => {
  console.error(`integrator-client: failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
