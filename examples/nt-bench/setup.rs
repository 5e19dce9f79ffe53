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
const SHARD_SIZE: usize = 50;

/// The neighborhood the load runs against, and the member whose texts it sends.
pub struct Fixture {
    pub neighborhood_id: String,
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
    let api = Api::new(&service.base, &token)?;

    let neighborhood = api.create_neighborhood().await?;
    let id = neighborhood["id"]
        .as_str()
        .context("the new neighborhood has no id")?
        .to_owned();

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

fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("a member without `{field}`: {value}"))
}

/// Fictional 555 numbers, as the sandbox uses.
fn member_phone(n: usize) -> String {
    format!("+1555{:07}", 3_100_000 + n)
}

/// Names like the ones neighbors give: a first name and an initial, all different.
fn member_name(n: usize) -> String {
    const FIRST: [&str; 40] = [
        "Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kate",
        "Luis", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor",
        "Wen", "Ximena", "Yusuf", "Zoe", "Aaron", "Bea", "Chen", "Dolores", "Emeka", "Fatima",
        "Gus", "Hana", "Ivan", "June", "Kofi", "Lena", "Marco", "Nadia",
    ];
    let initial = char::from(b'A' + ((n / FIRST.len()) % 26) as u8);
    format!("{} {initial}.", FIRST[n % FIRST.len()])
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
        api_base: Some(format!("{}/sandbox/twilio/", service.base).parse()?),
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

/// The service's REST API as a platform admin.
struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse()?,
        );
        Ok(Self {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .no_proxy()
                .default_headers(headers)
                .timeout(Duration::from_secs(30))
                .build()?,
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
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
    async fn create_neighborhood(&self) -> anyhow::Result<Value> {
        let body = json!({
            "name": "Bench Street",
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
