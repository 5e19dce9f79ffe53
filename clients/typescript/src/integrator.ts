// What an integrator writes against neighborhood-text with a client generated from its OpenAPI
// document: openapi-typescript turns openapi/openapi.json into `paths` and `components` types
// (src/schema.d.ts, `npm run generate`), and openapi-fetch is the client that checks every path,
// parameter, body and answer against them at compile time (`tsc --noEmit`).
//
// It creates a neighborhood, adds a member, lists the members and reads the history, as a CRM or
// newsletter sync would. ./scripts/integrator-client runs it against a sandbox app it starts.
//
// Authentication is by API token (`Authorization: Bearer ntk_...`). A platform admin's token
// (`neighborhood-text admin create` prints one) creates the neighborhood and then a token of the
// neighborhood's own, with the captain role, which is what an integrator is given and uses for
// everything else: it can act in that one neighborhood only, and stops working when revoked or
// when its maker loses the role.
//
// Usage: NT_BASE_URL=http://127.0.0.1:8080 NT_ADMIN_TOKEN=ntk_... node dist/integrator.js

import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type ErrorBody = components["schemas"]["ErrorBody"];
type MemberOut = components["schemas"]["MemberOut"];
type MessageOut = components["schemas"]["MessageOut"];

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

async function main(): Promise<void> {
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
  const path = { id: neighborhood.id };

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
  console.log("integrator-client: passed");
}

main().catch((error: unknown) => {
  console.error(`integrator-client: failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
