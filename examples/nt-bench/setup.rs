//! Realistic data, made through the service's own API: a platform admin (`admin create`), a
//! neighborhood, and members added by a captain until the neighborhood has its shards, each
//! member placed in a Conversation by the outbox.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt};
use neighborhood_text::secret::Secret;
use neighborhood_text::twilio::{Credentials, RetryPolicy, TwilioClient, TwilioConfig};
use serde_json::{Value, json};

use crate::Plan;
use crate::service::{Service, ServiceEnv};

const OWNER_PHONE: &str = "+15553000000";
/// Members are added a few at a time, as a busy captain (or an import) would.
const ADD_CONCURRENCY: usize = 4;
/// A Conversation holds at most this many SMS participants (Twilio's limit, and the emulator's).
pub const SHARD_SIZE: usize = 50;
/// Members on the first page of the member list, as the admin app asks for it (the API's default).
pub const MEMBER_PAGE: usize = 100;

/// The neighborhood the load runs against, and the member whose texts it sends.
pub struct Fixture {
    pub neighborhood_id: String,
    /// Its join link's name (`/join/{slug}`).
    pub slug: String,
    /// The platform admin's API token, for the member list.
    pub token: String,
    pub members: usize,
    pub shards: usize,
    pub author_phone: String,
    pub author_name: String,
    /// 1-based, as the API counts shards.
    pub author_shard: usize,
    pub conversation_sid: String,
    pub participant_sid: String,
    pub setup: Duration,
    pub adding: Duration,
    pub syncing: Duration,
}

pub async fn prepare(plan: &Plan, env: &ServiceEnv, service: &Service) -> anyhow::Result<Fixture> {
    let started = Instant::now();
    let token = env.create_admin(OWNER_PHONE, "Olive Bench").await?;
    let api = Api::new(service, &token)?;

    let neighborhood = api.create_neighborhood("Bench Street").await?;
    let id = text(&neighborhood, "id")?;
    let slug = text(&neighborhood, "slug")?;

    let adding_started = Instant::now();
    let added = (1..plan.members)
        .map(|n| (member_phone(n), member_name(n)))
        .collect::<Vec<_>>();
    futures::stream::iter(
        added
            .iter()
            .map(|(phone, name)| api.add_member(&id, phone, name)),
    )
    .buffer_unordered(ADD_CONCURRENCY)
    .try_collect::<Vec<()>>()
    .await?;
    let adding = adding_started.elapsed();
    println!(
        "nt-bench: added {} members in {:.1} s; waiting for the outbox to place them",
        added.len(),
        adding.as_secs_f64()
    );

    let syncing_started = Instant::now();
    let within = Duration::from_secs(60 + 2 * plan.members as u64);
    let members = api.wait_until_synced(&id, plan.members, within).await?;
    let syncing = syncing_started.elapsed();

    let neighborhood = api.get(&format!("/api/v1/neighborhoods/{id}")).await?;
    let shards: Vec<String> = neighborhood["shards"]
        .as_array()
        .context("the neighborhood has no shards")?
        .iter()
        .filter_map(|shard| shard["conversation_sid"].as_str().map(str::to_owned))
        .collect();
    let expected_shards = plan.members.div_ceil(SHARD_SIZE);
    if shards.len() != expected_shards {
        println!(
            "nt-bench: warning: {} members are in {} shards, not the {expected_shards} expected",
            plan.members,
            shards.len()
        );
    }

    // A member from the middle of the neighborhood (members come oldest first; the owner is
    // the first), sending from their own shard.
    let author = members
        .iter()
        .skip(members.len() / 2)
        .find(|member| member["role"] == "member" && member["status"] == "active")
        .context("no active member to send as")?;
    let author_phone = text(author, "phone")?;
    let author_name = text(author, "display_name")?;
    let conversation_sid = text(author, "conversation_sid")?;
    let author_shard = shards
        .iter()
        .position(|sid| *sid == conversation_sid)
        .context("the author's Conversation is not among the neighborhood's shards")?
        + 1;
    let participant_sid = participant_sid(env, service, &conversation_sid, &author_phone).await?;

    Ok(Fixture {
        neighborhood_id: id,
        slug,
        token,
        members: members.len(),
        shards: shards.len(),
        author_phone,
        author_name,
        author_shard,
        conversation_sid,
        participant_sid,
        setup: started.elapsed(),
        adding,
        syncing,
    })
}

pub fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("a member without `{field}`: {value}"))
}

/// Fictional 555 numbers, as the sandbox uses.
pub fn member_phone(n: usize) -> String {
    format!("+1555{:07}", 3_100_000 + n)
}

/// `count` people (name, phone) with consecutive numbers from `first_phone`, as an import file
/// lists them.
pub fn people(first_phone: usize, count: usize) -> Vec<(String, String)> {
    (0..count)
        .map(|n| (member_name(n), format!("+1555{:07}", first_phone + n)))
        .collect()
}

/// How long placing `members` may take before the run gives up (generous: 100 ms of Twilio
/// latency and 30 additions a second per Conversation, and a busy machine).
pub fn placing_time(members: usize) -> Duration {
    Duration::from_secs(60 + members as u64 / 5)
}

/// Names like the ones neighbors give: a first name and an initial, all different (a number
/// after them past the 1,040 pairs).
pub fn member_name(n: usize) -> String {
    const FIRST: [&str; 40] = [
        "Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kate",
        "Luis", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor",
        "Wen", "Ximena", "Yusuf", "Zoe", "Aaron", "Bea", "Chen", "Dolores", "Emeka", "Fatima",
        "Gus", "Hana", "Ivan", "June", "Kofi", "Lena", "Marco", "Nadia",
    ];
    let pairs = FIRST.len() * 26;
    let initial = char::from(b'A' + ((n / FIRST.len()) % 26) as u8);
    match n / pairs {
        0 => format!("{} {initial}.", FIRST[n % FIRST.len()]),
        round => format!("{} {initial}. {}", FIRST[n % FIRST.len()], round + 1),
    }
}

/// The member's participant in their Conversation, as Twilio (the emulator) lists it: real
/// pre-event requests carry its SID.
async fn participant_sid(
    env: &ServiceEnv,
    service: &Service,
    conversation_sid: &str,
    phone: &str,
) -> anyhow::Result<String> {
    let twilio = TwilioClient::new(TwilioConfig {
        account_sid: env.account_sid.clone(),
        credentials: Credentials::AuthToken(Secret::new(env.auth_token.clone())),
        api_base: Some(service.emulator_rest.parse()?),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy::default(),
    })?;
    twilio
        .list_participants(conversation_sid)
        .await?
        .into_iter()
        .find(|participant| {
            participant
                .messaging_binding
                .as_ref()
                .and_then(|binding| binding.address.as_deref())
                == Some(phone)
        })
        .map(|participant| participant.sid)
        .with_context(|| format!("{phone} is not a participant of {conversation_sid}"))
}

/// The service's REST API as a platform admin, and the sandbox's control API.
pub struct Api {
    base: String,
    /// The emulator's control API (`{this}/api/...`).
    emulator: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(service: &Service, token: &str) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse()?,
        );
        Ok(Self {
            base: service.base.clone(),
            emulator: service.emulator_control.clone(),
            client: reqwest::Client::builder()
                .no_proxy()
                .default_headers(headers)
                .timeout(Duration::from_secs(30))
                .build()?,
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        if status != 200 {
            bail!("GET {path}: {status}: {body}");
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// The sandbox prepares its Messaging Service just after start, so early failures are retried.
    pub async fn create_neighborhood(&self, name: &str) -> anyhow::Result<Value> {
        let body = json!({
            "name": name,
            "description": "The benchmark's neighborhood",
            "area_code": "415",
            "owner_phone": OWNER_PHONE,
            "owner_name": "Olive B.",
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let response = self
                .client
                .post(format!("{}/api/v1/neighborhoods", self.base))
                .json(&body)
                .send()
                .await?;
            let status = response.status();
            let text = response.text().await?;
            if status == 201 {
                return Ok(serde_json::from_str(&text)?);
            }
            if !status.is_server_error() || Instant::now() > deadline {
                bail!("creating the neighborhood: {status}: {text}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Adds one member as a captain would; conflicts with concurrent writers are retried.
    async fn add_member(&self, id: &str, phone: &str, name: &str) -> anyhow::Result<()> {
        let body = json!({"phone": phone, "display_name": name});
        let url = format!("{}/api/v1/neighborhoods/{id}/members", self.base);
        for attempt in 1..=20u64 {
            let response = self.client.post(&url).json(&body).send().await?;
            let status = response.status();
            let text = response.text().await?;
            match status.as_u16() {
                202 => return Ok(()),
                // An earlier attempt got through after all.
                409 if text.contains("already a member") => return Ok(()),
                409 | 429 | 500..=599 => {
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                _ => bail!("adding {phone}: {status}: {text}"),
            }
        }
        bail!("adding {phone}: still refused after 20 attempts")
    }

    /// Pages through the member list until every member is placed (`sync` is `done`).
    async fn wait_until_synced(
        &self,
        id: &str,
        expected: usize,
        within: Duration,
    ) -> anyhow::Result<Vec<Value>> {
        let started = Instant::now();
        let mut reported = Instant::now();
        loop {
            let members = self.all_members(id).await?;
            let failed: Vec<&Value> = members.iter().filter(|m| m["sync"] == "failed").collect();
            if let Some(member) = failed.first() {
                bail!(
                    "{} member(s) failed to sync, e.g. {}",
                    failed.len(),
                    member["sync_error"]
                );
            }
            let done = members.iter().filter(|m| m["sync"] == "done").count();
            if members.len() == expected && done == expected {
                println!(
                    "nt-bench: all {expected} members placed in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                return Ok(members);
            }
            if started.elapsed() > within {
                bail!(
                    "after {} s, {done} of {} members are placed ({expected} expected)",
                    within.as_secs(),
                    members.len()
                );
            }
            if reported.elapsed() > Duration::from_secs(5) {
                println!("  {done} of {} placed", members.len());
                reported = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// A real import of `people` (name, phone): members at once with `attest_consent`, join
    /// requests waiting for a captain otherwise. Fails unless every row was added.
    pub async fn import(
        &self,
        id: &str,
        people: &[(String, String)],
        attest_consent: bool,
    ) -> anyhow::Result<()> {
        let mut csv = String::from("name,phone\n");
        for (name, phone) in people {
            csv.push_str(&format!("{name},{phone}\n"));
        }
        let response = self
            .client
            .post(format!(
                "{}/api/v1/neighborhoods/{id}/import?dry_run=false&attest_consent={attest_consent}",
                self.base
            ))
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(csv)
            .send()
            .await?;
        let status = response.status();
        let report: Value = response.json().await?;
        if status != 200 || report["added"].as_u64() != Some(people.len() as u64) {
            bail!("importing {} people: {status}: {report}", people.len());
        }
        Ok(())
    }

    /// Waits until the neighborhood has `expected` members, every one placed in a Conversation.
    pub async fn wait_until_placed(
        &self,
        id: &str,
        expected: u64,
        within: Duration,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let summary = self
                .get(&format!("/api/v1/neighborhoods/{id}/summary"))
                .await?;
            let count = |field: &str| summary[field].as_u64().unwrap_or(0);
            if count("sync_failed") > 0 {
                bail!(
                    "{} member(s) failed to sync: {summary}",
                    count("sync_failed")
                );
            }
            if count("members") == expected && count("sync_pending") == 0 {
                return Ok(());
            }
            if started.elapsed() > within {
                bail!(
                    "after {} s, {} of {expected} members, {} still to place",
                    within.as_secs(),
                    count("members"),
                    count("sync_pending")
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The ids of the join requests waiting for a captain.
    pub async fn pending_requests(&self, id: &str) -> anyhow::Result<Vec<String>> {
        let list = self
            .get(&format!(
                "/api/v1/neighborhoods/{id}/join-requests?state=pending"
            ))
            .await?;
        list["items"]
            .as_array()
            .context("no items in the join request list")?
            .iter()
            .map(|request| text(request, "id"))
            .collect()
    }

    /// Approves join requests in one call (the batch a captain's "Approve all" sends); every
    /// one must be approved.
    pub async fn approve_all(&self, id: &str, request_ids: &[String]) -> anyhow::Result<()> {
        let response = self
            .client
            .post(format!(
                "{}/api/v1/neighborhoods/{id}/join-requests/approve",
                self.base
            ))
            .json(&json!({ "request_ids": request_ids }))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        let approved = body["approved"].as_array().map_or(0, Vec::len);
        if status != 202 || approved != request_ids.len() {
            bail!("approving {} requests: {status}: {body}", request_ids.len());
        }
        Ok(())
    }

    /// Latency the emulator adds to every REST answer from now on.
    pub async fn set_twilio_latency(&self, latency_ms: u64) -> anyhow::Result<()> {
        let response = self
            .client
            .put(format!("{}/api/faults", self.emulator))
            .json(&json!({ "latency_ms": latency_ms }))
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "setting the emulator's latency: {status}: {}",
                response.text().await?
            );
        }
        Ok(())
    }

    /// The REST calls the emulator counted since the last reset, in all; `reset` starts over.
    pub async fn twilio_calls(&self, reset: bool) -> anyhow::Result<(u64, Value)> {
        let url = format!("{}/api/requests", self.emulator);
        let request = if reset {
            self.client.delete(url)
        } else {
            self.client.get(url)
        };
        let response = request.send().await?;
        let status = response.status();
        let counts: Value = response.json().await?;
        if status != 200 {
            bail!("reading the emulator's request counts: {status}: {counts}");
        }
        let total = counts["total"]
            .as_u64()
            .context("no total in the emulator's request counts")?;
        Ok((total, counts["counts"].clone()))
    }

    /// Texts the neighborhood's number from a simulated phone, as a neighbor would.
    pub async fn text_from(&self, phone: &str, to: &str, body: &str) -> anyhow::Result<Value> {
        self.send_from(phone, &json!({ "to": to, "body": body }))
            .await
    }

    /// A simulated phone's message with one picture, `content_type`.
    pub async fn photo_from(
        &self,
        phone: &str,
        to: &str,
        body: &str,
        content_type: &str,
        picture: &[u8],
    ) -> anyhow::Result<Value> {
        use base64::Engine;
        let data = base64::engine::general_purpose::STANDARD.encode(picture);
        let media = json!([{ "content_type": content_type, "data_base64": data }]);
        self.send_from(phone, &json!({ "to": to, "body": body, "media": media }))
            .await
    }

    async fn send_from(&self, phone: &str, message: &Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(format!(
                "{}/api/phones/{}/messages",
                self.emulator,
                phone.replace('+', "%2B")
            ))
            .json(message)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        if status != 200 {
            bail!("texting from {phone}: {status}: {answer}");
        }
        Ok(answer)
    }

    /// `GET .../members?limit=500&after=...`, page after page.
    async fn all_members(&self, id: &str) -> anyhow::Result<Vec<Value>> {
        let mut members = Vec::new();
        let mut path = format!("/api/v1/neighborhoods/{id}/members?limit=500");
        loop {
            let page = self.get(&path).await?;
            members.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_after"].as_str() {
                Some(next) => {
                    path = format!("/api/v1/neighborhoods/{id}/members?limit=500&after={next}");
                }
                None => return Ok(members),
            }
        }
    }
}
