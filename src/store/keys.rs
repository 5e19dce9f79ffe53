//! Every Redis key format, and nowhere else.
//!
//! All keys of one neighborhood share the hash tag `{nb:<id>}` so multi-key transactions on a
//! neighborhood stay in one Redis Cluster slot. Deployment-wide indexes share the tag `{global}`
//! so their updates are atomic too. The prefix separates deployments and tests on one Redis.

use uuid::Uuid;

use crate::domain::neighborhood::Slug;
use crate::domain::phone::Phone;

/// How many hashes the deployment's phone roles are spread over: with Redis's default
/// `hash-max-listpack-entries` of 128, each stays a listpack up to about 130,000 memberships.
const PHONE_ROLE_BUCKETS: u16 = 1024;

/// How many hashes a neighborhood's participant index is spread over: listpacks up to about
/// 16,000 members, at a key's overhead (about 100 bytes) per bucket in use.
const PARTICIPANT_BUCKETS: u16 = 128;

/// A bucket number from `text` that every instance and version computes alike.
fn bucket_of(text: &str, buckets: u16) -> u16 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    u16::from_be_bytes([digest[0], digest[1]]) % buckets
}

#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix a sandbox instance uses in place of the configured `prefix`: whatever the
    /// sandbox seeds (its platform admin, tokens, simulated data) never lands in the keyspace a
    /// production instance on the same Redis and prefix reads (finding 5).
    pub fn sandbox_prefix(prefix: &str) -> String {
        format!("{prefix}:sandbox")
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// JSON of one neighborhood.
    pub fn neighborhood(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:neighborhood", self.prefix, id.simple())
    }

    /// Ids of active neighborhoods (a sorted set read by lexical order: uuid v7 sorts by time).
    pub fn active_neighborhoods(&self) -> String {
        format!("{}:{{global}}:neighborhoods:active", self.prefix)
    }

    /// Ids of archived neighborhoods, same shape.
    pub fn archived_neighborhoods(&self) -> String {
        format!("{}:{{global}}:neighborhoods:archived", self.prefix)
    }

    /// The GCRA state (theoretical arrival time, ms) of one subject under one named rate limit.
    /// No hash tag: every rate-limit command touches this one key only.
    pub fn rate_limit(&self, name: &str, subject: &str) -> String {
        format!("{}:rate:{name}:{subject}", self.prefix)
    }

    /// 1:1 texts one neighborhood sent on one UTC day (`date`: `YYYY-MM-DD`), and beside it
    /// (`:tripped`) whether its daily cap has refused one yet, so the captains are told once.
    pub fn daily_texts(&self, id: Uuid, date: &str) -> String {
        format!("{}:{{nb:{}}}:texts:{date}", self.prefix, id.simple())
    }

    /// Phones captains brought into one neighborhood's group without the phone asking, on one UTC
    /// day (`date`: `YYYY-MM-DD`): see `services::additions`.
    pub fn daily_additions(&self, id: Uuid, date: &str) -> String {
        format!("{}:{{nb:{}}}:additions:{date}", self.prefix, id.simple())
    }

    /// 1:1 texts the whole deployment sent on one UTC day, same shape.
    pub fn deployment_daily_texts(&self, date: &str) -> String {
        format!("{}:{{global}}:texts:{date}", self.prefix)
    }

    /// Which neighborhood holds a phone number: one number is never shared (Twilio error 50416).
    pub fn number_claim(&self, number: &Phone) -> String {
        format!("{}:{{global}}:number:{}", self.prefix, number.as_str())
    }

    /// Which neighborhood texts from a WhatsApp sender: one sender, one neighborhood.
    pub fn whatsapp_sender_claim(&self, sender: &Phone) -> String {
        format!(
            "{}:{{global}}:whatsapp-sender:{}",
            self.prefix,
            sender.as_str()
        )
    }

    /// Which neighborhood owns a `/join/{slug}` link.
    pub fn slug_claim(&self, slug: &Slug) -> String {
        format!("{}:{{global}}:slug:{}", self.prefix, slug.as_str())
    }

    /// Members of a neighborhood: hash member id -> JSON.
    pub fn members(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:members", self.prefix, id.simple())
    }

    /// The consent terms of a neighborhood's members, each kept once: hash digest -> JSON of the
    /// channel, text and approver that members who joined the same way share (see
    /// `domain::consent_terms`). Never deleted while a member may refer to them.
    pub fn consent_terms(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:consent-terms", self.prefix, id.simple())
    }

    /// Which member an SMS participant is: hash participant sid -> member id (simple form), one
    /// of `PARTICIPANT_BUCKETS` hashes chosen by the sid, small enough for Redis to keep each as
    /// a listpack (a tenth of a hash table's bytes) up to about 16,000 members. Delivery receipts
    /// name only the participant; entries may outlive the participant (readers check the member).
    pub fn participant_members(&self, id: Uuid, participant_sid: &str) -> String {
        format!(
            "{}:{{nb:{}}}:participant-members:{}",
            self.prefix,
            id.simple(),
            bucket_of(participant_sid, PARTICIPANT_BUCKETS)
        )
    }

    /// The form of `participant_members` before it was split: one hash sid -> member id. Only
    /// read now.
    pub fn participant_members_old_form(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:participant-members", self.prefix, id.simple())
    }

    /// A neighborhood's members by phone: hash E.164 -> member id.
    pub fn member_phones(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:member-phones", self.prefix, id.simple())
    }

    /// A neighborhood's audit log: a stream, append-only.
    pub fn audit(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:audit", self.prefix, id.simple())
    }

    /// Deployment-wide audit log (platform admins, platform tokens).
    pub fn platform_audit(&self) -> String {
        format!("{}:{{global}}:audit", self.prefix)
    }

    /// The roles phones hold as active members, one of `PHONE_ROLE_BUCKETS` hashes chosen by the
    /// phone: `<E.164>|<neighborhood id, simple>` -> role (see `store::members`). Says where a
    /// phone is a member with one read; each hash stays a listpack (a tenth of a hash table's
    /// bytes, and no key per phone) up to about 130,000 memberships in the deployment.
    pub fn phone_roles(&self, phone: &Phone) -> String {
        format!(
            "{}:{{global}}:roles-by-phone:{}",
            self.prefix,
            bucket_of(phone.as_str(), PHONE_ROLE_BUCKETS)
        )
    }

    /// The form of `phone_roles` before the buckets: a key per phone, hash neighborhood id ->
    /// role. Read beside them; a write of a phone's role in a neighborhood removes its entry here.
    pub fn phone_roles_old_form(&self, phone: &Phone) -> String {
        format!("{}:{{global}}:phone-roles:{}", self.prefix, phone.as_str())
    }

    /// Platform admins: hash E.164 -> JSON.
    pub fn platform_admins(&self) -> String {
        format!("{}:{{global}}:platform-admins", self.prefix)
    }

    /// A pending sign-in code of a phone (hashed, with attempts left); expires by TTL.
    pub fn login_code(&self, phone: &Phone) -> String {
        format!("{}:{{global}}:login-code:{}", self.prefix, phone.as_str())
    }

    /// Wrong sign-in codes entered for a phone from devices it never signed in on: hash `count`
    /// and `warned` (the phone was texted that someone is trying); expires 24 h after the first.
    pub fn login_failures(&self, phone: &Phone) -> String {
        format!(
            "{}:{{global}}:login-failures:{}",
            self.prefix,
            phone.as_str()
        )
    }

    /// Present while sign-in from new devices is locked for a phone; expires when the lock ends.
    pub fn login_lock(&self, phone: &Phone) -> String {
        format!("{}:{{global}}:login-lock:{}", self.prefix, phone.as_str())
    }

    /// A signed-in session: the phone it belongs to; expires by TTL.
    pub fn session(&self, session_id: Uuid) -> String {
        format!("{}:{{global}}:session:{}", self.prefix, session_id.simple())
    }

    /// When a phone last signed out everywhere (ms since the epoch): sessions and trusted
    /// devices signed in before it are void. Expires once no session could be that old.
    pub fn sessions_ended(&self, phone: &Phone) -> String {
        format!(
            "{}:{{global}}:sessions-ended:{}",
            self.prefix,
            phone.as_str()
        )
    }

    /// API tokens: hash token id -> JSON (the secret's hash, never the secret).
    pub fn api_tokens(&self) -> String {
        format!("{}:{{global}}:api-tokens", self.prefix)
    }

    /// API tokens by the hash of their secret: hash -> token id.
    pub fn api_token_hashes(&self) -> String {
        format!("{}:{{global}}:api-token-hashes", self.prefix)
    }

    /// A neighborhood's outbox: a stream of Twilio side effects, written in the same transaction
    /// as the change that needs them.
    pub fn outbox(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:outbox", self.prefix, id.simple())
    }

    /// Neighborhoods whose outbox may hold work: a set of ids.
    pub fn outbox_active(&self) -> String {
        format!("{}:{{global}}:outbox-active", self.prefix)
    }

    /// The pattern that finds every outbox (to recover a lost `outbox_active` entry).
    pub fn outbox_pattern(&self) -> String {
        format!("{}:{{nb:*}}:outbox", self.prefix)
    }

    /// SMS participants placed or being placed per Conversation of a neighborhood: hash
    /// conversation sid -> count.
    pub fn shard_counts(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:shard-counts", self.prefix, id.simple())
    }

    /// Places reserved in a neighborhood's Conversations and not taken yet, each held by the
    /// member whose addition reserved it: hash member id -> conversation sid. A crash leaves the
    /// place with its holder, whose addition, claimed again, takes it up.
    pub fn shard_reservations(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:shard-reservations", self.prefix, id.simple())
    }

    /// Creates of a neighborhood's outbox that may have reached Twilio (1:1 texts, relays): hash
    /// effect id -> when the first attempt started (Unix ms), so a retry looks for what the
    /// earlier attempt made before making it again.
    pub fn effect_attempts(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:effect-attempts", self.prefix, id.simple())
    }

    /// A neighborhood's outbox effects carried out lately whose stream ids fall in one second
    /// (`second`, Unix): a string of records `<ms within the second>-<sequence>,` (see
    /// `store::outbox::DoneMark`), so a second stream entry for the same effect (a requeue
    /// repeated after a lost answer, a reclaimed entry) is dropped rather than done again. Gone
    /// an hour after its last record.
    pub fn effects_done(&self, id: Uuid, second: u64) -> String {
        format!(
            "{}:{{nb:{}}}:effects-done:{second}",
            self.prefix,
            id.simple()
        )
    }

    /// The form of `effects_done` before it was kept per second: sorted set effect id -> when
    /// (Unix ms). Only read now, until it expires an hour after its last write.
    pub fn effects_done_old_form(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:effects-done", self.prefix, id.simple())
    }

    /// When each Conversation of a neighborhood may next be changed (Redis clock, ms), so every
    /// instance keeps to Twilio's mutations per second per Conversation: hash sid -> time.
    pub fn shard_pace(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:shard-pace", self.prefix, id.simple())
    }

    /// Held while one worker creates a new Conversation for a neighborhood.
    pub fn shard_lock(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:shard-lock", self.prefix, id.simple())
    }

    /// Held while one reconciliation of a neighborhood with Twilio runs.
    pub fn reconcile_lock(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:reconcile-lock", self.prefix, id.simple())
    }

    /// Set by the instance that runs this period's reconciliation of every neighborhood; expires
    /// a little before the next period.
    pub fn reconcile_schedule(&self) -> String {
        format!("{}:{{global}}:reconcile-schedule", self.prefix)
    }

    /// A neighborhood's join requests: hash request id -> JSON.
    pub fn join_requests(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:join-requests", self.prefix, id.simple())
    }

    /// Open join requests by phone: hash E.164 -> request id (one open request per phone).
    pub fn open_join_requests(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:open-join-requests", self.prefix, id.simple())
    }

    /// Unverified join requests by creation time: sorted set request id -> ms, so they expire.
    pub fn unverified_join_requests(&self, id: Uuid) -> String {
        format!(
            "{}:{{nb:{}}}:unverified-join-requests",
            self.prefix,
            id.simple()
        )
    }

    /// The counter behind join requests' short numbers (`#12`).
    pub fn join_request_numbers(&self, id: Uuid) -> String {
        format!(
            "{}:{{nb:{}}}:join-request-numbers",
            self.prefix,
            id.simple()
        )
    }

    /// The hashed code that verifies a join request's phone; expires by TTL.
    pub fn join_code(&self, id: Uuid, request_id: Uuid) -> String {
        format!(
            "{}:{{nb:{}}}:join-code:{}",
            self.prefix,
            id.simple(),
            request_id.simple()
        )
    }

    /// Which neighborhood a Conversation belongs to: hash conversation sid -> neighborhood id.
    pub fn conversation_neighborhoods(&self) -> String {
        format!("{}:{{global}}:conversation-neighborhoods", self.prefix)
    }

    /// Set once a Twilio webhook delivery (its `I-Twilio-Idempotency-Token`) was handled, so a
    /// retried delivery is not acted on twice.
    pub fn webhook_delivery(&self, id: Uuid, token: &str) -> String {
        format!("{}:{{nb:{}}}:webhook:{token}", self.prefix, id.simple())
    }

    /// How far each of a neighborhood's Conversations has been read back from Twilio: hash
    /// conversation sid -> the highest message `index` recorded with every earlier one handled.
    pub fn shard_watermarks(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:shard-watermarks", self.prefix, id.simple())
    }

    /// When the newest inbound text to a neighborhood's number that was handled was sent (unix
    /// ms): the backfill reads the number's Messages log from that day on.
    pub fn inbound_watermark(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:inbound-watermark", self.prefix, id.simple())
    }

    /// Held while one backfill pass (of every neighborhood) runs, by any instance.
    pub fn backfill_lock(&self) -> String {
        format!("{}:{{global}}:backfill-lock", self.prefix)
    }

    /// Pub/sub channel of a neighborhood's changes, for browsers on any instance.
    pub fn events_channel(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:events", self.prefix, id.simple())
    }

    /// A neighborhood's message history: a stream, trimmed to the retention setting.
    pub fn messages(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:messages", self.prefix, id.simple())
    }

    /// Integrators' endpoints of the neighborhood: hash endpoint id -> record (URL, event types,
    /// signing secrets).
    pub fn event_endpoints(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:event-endpoints", self.prefix, id.simple())
    }

    /// One endpoint's delivery log: a stream of attempts, newest last.
    pub fn event_deliveries(&self, id: Uuid, endpoint_id: Uuid) -> String {
        format!(
            "{}:{{nb:{}}}:event-deliveries:{}",
            self.prefix,
            id.simple(),
            endpoint_id.simple()
        )
    }

    /// The neighborhood's events for integrators' endpoints: a stream, each entry written in the
    /// same step as the change it tells of, so the stream's order is the order things happened.
    pub fn integrator_events(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:integrator-events", self.prefix, id.simple())
    }

    /// How far each endpoint has got through the events: hash endpoint id -> progress (the last
    /// event delivered, failed attempts at the next, when to try again, whether it is turned off).
    pub fn endpoint_progress(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:endpoint-progress", self.prefix, id.simple())
    }

    /// Held by the one instance delivering to an endpoint, so its events go out one at a time
    /// and in order whichever instances run.
    pub fn endpoint_lease(&self, id: Uuid, endpoint_id: Uuid) -> String {
        format!(
            "{}:{{nb:{}}}:endpoint-lease:{}",
            self.prefix,
            id.simple(),
            endpoint_id.simple()
        )
    }

    /// Neighborhoods with integrators' endpoints: a set of ids the deliverers look through.
    pub fn endpoint_neighborhoods(&self) -> String {
        format!("{}:{{global}}:endpoint-neighborhoods", self.prefix)
    }

    /// A neighborhood's spreadsheet hub: hash `connection`, `config`, `sync` (JSON records, see
    /// `domain::sheet_hub`) and `access` (the sealed access token and when it expires).
    pub fn sheet_hub(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:sheet-hub", self.prefix, id.simple())
    }

    /// The phones of the hub's last sync (a JSON list): those gone from the sheet since are
    /// reported.
    pub fn sheet_hub_phones(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:sheet-hub-phones", self.prefix, id.simple())
    }

    /// Form mode: the fingerprints of the responses read so far (a JSON list), so each is filed
    /// once.
    pub fn sheet_hub_responses(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:sheet-hub-responses", self.prefix, id.simple())
    }

    /// A captain's way through Google's consent page: the PKCE verifier and who asked, under
    /// the `state` Google hands back, for ten minutes and one use.
    pub fn sheet_hub_consent(&self, id: Uuid, state: &str) -> String {
        format!(
            "{}:{{nb:{}}}:sheet-hub-consent:{state}",
            self.prefix,
            id.simple()
        )
    }

    /// Held by the one instance syncing the neighborhood's sheet.
    pub fn sheet_hub_lease(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:sheet-hub-lease", self.prefix, id.simple())
    }

    /// Neighborhoods with a spreadsheet hub: the ids the sync job looks through.
    pub fn sheet_hub_neighborhoods(&self) -> String {
        format!("{}:{{global}}:sheet-hub-neighborhoods", self.prefix)
    }

    /// Set once the write named `name` is made (`message:<sid>`: a group message with its
    /// relays; `reply:<mark>`: an inbound text's reply), for `DELIVERY_MEMORY`: making it again
    /// after a first whose answer was lost writes nothing.
    pub fn written_once(&self, id: Uuid, name: &str) -> String {
        format!("{}:{{nb:{}}}:once:{name}", self.prefix, id.simple())
    }

    /// The pictures of the neighborhood's messages: hash media SID -> its type and size, so
    /// only a picture of this neighborhood is ever shown through it.
    pub fn media(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:media", self.prefix, id.simple())
    }

    /// When each WhatsApp member last wrote to the neighborhood's sender (their 24-hour window
    /// runs from it): hash phone -> Unix ms by the service's clock.
    pub fn whatsapp_last_inbound(&self, id: Uuid) -> String {
        format!(
            "{}:{{nb:{}}}:whatsapp:last-inbound",
            self.prefix,
            id.simple()
        )
    }

    /// WhatsApp members whose window closed with the group still writing: hash phone -> the
    /// history stream position (Redis ms) from which they missed messages.
    pub fn whatsapp_missed(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:whatsapp:missed", self.prefix, id.simple())
    }

    /// When each WhatsApp member was last sent the new-messages template: hash phone -> Unix ms.
    pub fn whatsapp_notices(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:whatsapp:notices", self.prefix, id.simple())
    }

    /// Our 1:1 texts to a WhatsApp member kept until their window opens: a list, oldest first.
    pub fn whatsapp_held(&self, id: Uuid, phone: &Phone) -> String {
        format!(
            "{}:{{nb:{}}}:whatsapp:held:{}",
            self.prefix,
            id.simple(),
            phone.as_str()
        )
    }

    /// A new member's one-time catch-up link: how many messages it shows; expires.
    pub fn catch_up_code(&self, id: Uuid, code: &str) -> String {
        format!("{}:{{nb:{}}}:catch-up:{code}", self.prefix, id.simple())
    }

    /// Phones a neighborhood's captains blocked from asking to join: hash phone -> JSON.
    pub fn blocked_phones(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:blocked-phones", self.prefix, id.simple())
    }

    /// A neighborhood's personal invite links: hash invite code -> the invited phone.
    pub fn invites(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:invites", self.prefix, id.simple())
    }

    /// A neighborhood's cost ledger for one UTC month (`2026-11`): a hash of counters (segments
    /// and messages out and in) plus the budget alert flags of that month. Expires after
    /// `store::costs::LEDGER_TTL`.
    pub fn cost_ledger(&self, id: Uuid, month: &str) -> String {
        format!("{}:{{nb:{}}}:costs:{month}", self.prefix, id.simple())
    }

    /// The member ids that sent or received a group message in one UTC month (Conversations
    /// bills each of them once a month): a set, expiring with the ledger.
    pub fn cost_active_users(&self, id: Uuid, month: &str) -> String {
        format!(
            "{}:{{nb:{}}}:costs:{month}:active",
            self.prefix,
            id.simple()
        )
    }

    /// A neighborhood's announcements, sent, scheduled and cancelled: hash id -> JSON.
    pub fn announcements(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:announcements", self.prefix, id.simple())
    }

    /// A neighborhood's saved announcement templates: hash id -> JSON.
    pub fn templates(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:templates", self.prefix, id.simple())
    }

    /// A neighborhood's scheduled announcements: sorted set of ids by requested send time (ms),
    /// written with the record; read when quiet hours change.
    pub fn scheduled_announcements(&self, id: Uuid) -> String {
        format!(
            "{}:{{nb:{}}}:announcements-scheduled",
            self.prefix,
            id.simple()
        )
    }

    /// Set once a billable event (a message's delivery, a relay) was counted, so a retried
    /// webhook or effect does not count it twice; expires by TTL.
    pub fn cost_event(&self, id: Uuid, event: &str) -> String {
        format!("{}:{{nb:{}}}:cost-event:{event}", self.prefix, id.simple())
    }

    /// Announcements held while the month's cost is at or over the budget: a list of JSON,
    /// oldest first.
    pub fn held_announcements(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:held-announcements", self.prefix, id.simple())
    }

    /// Neighborhoods that may have held announcements: a set of ids, for the periodic release.
    pub fn held_neighborhoods(&self) -> String {
        format!("{}:{{global}}:held-announcements", self.prefix)
    }

    /// Scheduled announcements of every neighborhood by the time (ms) an instance should next
    /// look at them: sorted set of `<neighborhood id>:<announcement id>`. A claimed entry's score
    /// is pushed to the end of its lease.
    pub fn announcements_due(&self) -> String {
        format!("{}:{{global}}:announcements-due", self.prefix)
    }

    /// The join requests one captain's next digest names: hash request number -> JSON
    /// (`DigestItem`). Written in the same step as the request reaching the captains.
    pub fn join_digest(&self, id: Uuid, member_id: Uuid) -> String {
        format!(
            "{}:{{nb:{}}}:join-digest:{}",
            self.prefix,
            id.simple(),
            member_id.simple()
        )
    }

    /// The pattern that finds every captain's digest (to recover a lost `join_digests_due` entry).
    pub fn join_digest_pattern(&self) -> String {
        format!("{}:{{nb:*}}:join-digest:*", self.prefix)
    }

    /// When each captain of a neighborhood was last sent a digest: hash member id -> ms.
    pub fn join_digest_sent(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:join-digest-sent", self.prefix, id.simple())
    }

    /// Captains' digests of every neighborhood by when an instance should next look at them:
    /// sorted set of `<neighborhood id>:<member id>` by ms. A claimed entry's score is pushed to
    /// the end of its lease.
    pub fn join_digests_due(&self) -> String {
        format!("{}:{{global}}:join-digests-due", self.prefix)
    }
}

/// Keys of the Twilio emulator (sandbox mode). They all share the hash tag `{sandbox}`: the
/// emulator enforces Twilio's rules in Lua scripts that read and write several of them at once.
#[derive(Debug, Clone)]
pub struct SandboxKeys {
    base: String,
}

impl SandboxKeys {
    pub fn new(prefix: &str) -> Self {
        Self {
            base: format!("{prefix}:{{sandbox}}"),
        }
    }

    /// A counter that orders everything the emulator creates.
    pub fn sequence(&self) -> String {
        format!("{}:sequence", self.base)
    }

    /// Latency and fault injection settings (JSON).
    pub fn faults(&self) -> String {
        format!("{}:faults", self.base)
    }

    /// REST calls the emulator received: hash operation (`POST /v1/Conversations/{sid}/Messages`)
    /// -> count.
    pub fn requests(&self) -> String {
        format!("{}:requests", self.base)
    }

    /// Pub/sub channel of phone and number events, for live pages on every instance.
    pub fn events_channel(&self) -> String {
        format!("{}:events", self.base)
    }

    /// Incoming phone numbers: hash PN sid -> JSON.
    pub fn numbers(&self) -> String {
        format!("{}:numbers", self.base)
    }

    /// Hash E.164 -> PN sid.
    pub fn number_by_phone(&self) -> String {
        format!("{}:number-by-phone", self.base)
    }

    /// Messaging Services: hash MG sid -> JSON.
    pub fn services(&self) -> String {
        format!("{}:services", self.base)
    }

    /// Phone numbers of one Messaging Service: hash PN sid -> JSON.
    pub fn service_numbers(&self, service_sid: &str) -> String {
        format!("{}:service-numbers:{service_sid}", self.base)
    }

    /// WhatsApp senders of the account: hash `whatsapp:+E164` -> ChannelSender JSON.
    pub fn whatsapp_senders(&self) -> String {
        format!("{}:whatsapp-senders", self.base)
    }

    /// WhatsApp's customer service windows: hash `<sender>|<user>` (both `whatsapp:+E164`) -> when
    /// the user last wrote to the sender (Unix ms, by the emulator's clock).
    pub fn whatsapp_windows(&self) -> String {
        format!("{}:whatsapp-windows", self.base)
    }

    /// Which Messaging Service a number belongs to: hash PN sid -> MG sid.
    pub fn number_service(&self) -> String {
        format!("{}:number-service", self.base)
    }

    /// Conversations: hash CH sid -> JSON.
    pub fn conversations(&self) -> String {
        format!("{}:conversations", self.base)
    }

    /// Conversations in creation order: sorted set of CH sids.
    pub fn conversation_order(&self) -> String {
        format!("{}:conversation-order", self.base)
    }

    /// Hash unique name -> CH sid.
    pub fn conversation_by_unique_name(&self) -> String {
        format!("{}:conversation-by-unique-name", self.base)
    }

    /// Participants of a conversation: hash MB sid -> JSON.
    pub fn participants(&self, conversation_sid: &str) -> String {
        format!("{}:participants:{conversation_sid}", self.base)
    }

    /// Participants of a conversation in creation order: sorted set of MB sids.
    pub fn participant_order(&self, conversation_sid: &str) -> String {
        format!("{}:participant-order:{conversation_sid}", self.base)
    }

    /// SMS participants of a conversation (Twilio allows 50): set of MB sids.
    pub fn sms_participants(&self, conversation_sid: &str) -> String {
        format!("{}:sms-participants:{conversation_sid}", self.base)
    }

    /// (Address, ProxyAddress) pairs bound in active or inactive conversations:
    /// hash `address|proxy` -> `CH...|MB...`.
    pub fn bindings(&self) -> String {
        format!("{}:bindings", self.base)
    }

    /// Messages of a conversation: sorted set scored by index, members are JSON.
    pub fn messages(&self, conversation_sid: &str) -> String {
        format!("{}:messages:{conversation_sid}", self.base)
    }

    /// Next message index of a conversation.
    pub fn message_index(&self, conversation_sid: &str) -> String {
        format!("{}:message-index:{conversation_sid}", self.base)
    }

    /// Mutations of a conversation in one second, for Twilio's 30/s limit.
    pub fn mutations(&self, conversation_sid: &str, second: u64) -> String {
        format!("{}:mutations:{conversation_sid}:{second}", self.base)
    }

    /// The account's Conversations webhook configuration (JSON).
    pub fn webhook_configuration(&self) -> String {
        format!("{}:webhook-configuration", self.base)
    }

    /// Phones that texted STOP to a Messaging Service (or to a number outside any service).
    pub fn opted_out(&self, scope_sid: &str) -> String {
        format!("{}:opted-out:{scope_sid}", self.base)
    }

    /// Every simulated phone seen: sorted set by first appearance.
    pub fn phones(&self) -> String {
        format!("{}:phones", self.base)
    }

    /// What a simulated phone received: list of JSON, oldest first.
    pub fn inbox(&self, phone: &str) -> String {
        format!("{}:inbox:{phone}", self.base)
    }

    /// v2010 Messages (direct SMS and inbound texts): hash SM sid -> JSON.
    pub fn sms_messages(&self) -> String {
        format!("{}:sms-messages", self.base)
    }

    /// v2010 Messages in creation order: sorted set of SM sids.
    pub fn sms_message_order(&self) -> String {
        format!("{}:sms-message-order", self.base)
    }

    /// v2010 Messages to one phone in creation order (the `To` filter): sorted set of SM sids.
    pub fn sms_messages_to(&self, phone: &str) -> String {
        format!("{}:sms-messages-to:{phone}", self.base)
    }

    /// Media Content Service resources: hash ME sid -> JSON.
    pub fn media(&self) -> String {
        format!("{}:media", self.base)
    }

    /// One media's bytes: a string, expiring after `sandbox::records::media::CONTENT_TTL`.
    pub fn media_content(&self, media_sid: &str) -> String {
        format!("{}:media-content:{media_sid}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighborhood_keys_carry_one_hash_tag() {
        let keys = Keys::new("nt");
        let id = Uuid::nil();
        assert_eq!(
            keys.neighborhood(id),
            "nt:{nb:00000000000000000000000000000000}:neighborhood"
        );
        let phone = Phone::parse("+15551234567").unwrap();
        assert_eq!(keys.number_claim(&phone), "nt:{global}:number:+15551234567");
    }

    #[test]
    fn buckets_are_fixed_by_their_text() {
        // Stored data depends on these: a changed function would lose every bucketed entry.
        let phone = Phone::parse("+15551234567").unwrap();
        assert_eq!(
            Keys::new("nt").phone_roles(&phone),
            format!(
                "nt:{{global}}:roles-by-phone:{}",
                bucket_of("+15551234567", 1024)
            )
        );
        assert_eq!(bucket_of("+15551234567", 1024), 0x259);
        assert_eq!(bucket_of("MB00000000000000000000000000000001", 128), 6);
    }

    #[test]
    fn sandbox_keys_share_one_hash_tag() {
        let keys = SandboxKeys::new("nt");
        assert_eq!(keys.bindings(), "nt:{sandbox}:bindings");
        assert_eq!(keys.participants("CH1"), "nt:{sandbox}:participants:CH1");
        assert_eq!(keys.media(), "nt:{sandbox}:media");
        assert_eq!(keys.media_content("ME1"), "nt:{sandbox}:media-content:ME1");
    }
}
