//! The permission matrix: every operation of the generated OpenAPI document, called by every kind
//! of principal, answers as the policy table says. An operation missing from the table (or from
//! the sample requests below) fails the test, so a new endpoint cannot ship unguarded. Every
//! answer's status must also be one the operation lists in the document.

use neighborhood_text::auth::policy::{self, Access};
use neighborhood_text::domain::access::TokenScope;
use neighborhood_text::domain::member::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    ADMIN_PHONE, TestApp, add_member, bearer_client, session_client, spawn_sandbox_app,
};

const OWNER: &str = "+15550004001";
const CAPTAIN: &str = "+15550004002";
const MODERATOR: &str = "+15550004003";
const MEMBER: &str = "+15550004004";
const OTHER_OWNER: &str = "+15550004005";
const OTHER_CAPTAIN: &str = "+15550004006";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Member,
    Moderator,
    CaptainElsewhere,
    Captain,
    Owner,
    PlatformAdmin,
    PlatformToken,
    TokenInScope,
    TokenOutOfScope,
}

const EVERYONE: [Who; 10] = [
    Who::Anonymous,
    Who::Member,
    Who::Moderator,
    Who::CaptainElsewhere,
    Who::Captain,
    Who::Owner,
    Who::PlatformAdmin,
    Who::PlatformToken,
    Who::TokenInScope,
    Who::TokenOutOfScope,
];

impl Who {
    fn is_token(self) -> bool {
        matches!(
            self,
            Who::Member | Who::PlatformToken | Who::TokenInScope | Who::TokenOutOfScope
        )
    }

    fn is_admin(self) -> bool {
        matches!(self, Who::PlatformAdmin | Who::PlatformToken)
    }

    /// The role this principal holds in the neighborhood under test.
    fn role_here(self) -> Option<Role> {
        match self {
            Who::Member => Some(Role::Member),
            Who::Moderator => Some(Role::Moderator),
            Who::Captain => Some(Role::Captain),
            Who::Owner | Who::TokenInScope => Some(Role::Owner),
            _ => None,
        }
    }

    /// What the policy table says this principal may do.
    fn allowed(self, access: Access) -> bool {
        match access {
            Access::Public => true,
            _ if self == Who::Anonymous => false,
            Access::SignedIn => true,
            Access::Session => !self.is_token(),
            Access::PlatformAdmin => self.is_admin(),
            Access::Neighborhood(needed) => {
                self.is_admin() || self.role_here().is_some_and(|role| role >= needed)
            }
            // The sample token request is for a member-role token of the neighborhood under test.
            Access::TokenScope => {
                self.is_admin() || self.role_here().is_some_and(|role| role >= Role::Captain)
            }
        }
    }
}

/// A neighborhood with one principal of each kind, and another neighborhood beside it.
struct Fixture {
    neighborhood: Uuid,
    slug: String,
    request_id: Uuid,
    member_id: Uuid,
    captain_id: Uuid,
    token_id: Uuid,
    announcement_id: String,
    template_id: String,
    endpoint_id: String,
    clients: Vec<(Who, reqwest::Client)>,
}

async fn token_client(app: &TestApp, scope: TokenScope) -> (Uuid, reqwest::Client) {
    let (token, secret) = neighborhood_text::auth::tokens::mint(
        &app.state.store,
        "matrix",
        scope,
        // The bootstrap kind of token: nobody's role can end its authority here.
        "cli".into(),
        None,
    )
    .await
    .expect("token");
    (token.id, bearer_client(&secret))
}

/// The emulator sells 100 numbers per area code: fixtures spread over many.
fn next_area_code() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    (201 + NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 600).to_string()
}

/// The neighborhood where the "captain elsewhere" is a captain; no operation under test touches it.
async fn other_neighborhood(app: &TestApp) -> Uuid {
    let elsewhere = app.create_neighborhood(&json!({"name": "Other Street", "area_code": next_area_code(), "owner_phone": OTHER_OWNER})).await;
    let other: Uuid = elsewhere["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("id");
    add_member(app, other, OTHER_CAPTAIN, Role::Captain).await;
    other
}

async fn fixture(app: &TestApp, other: Uuid) -> Fixture {
    let here = app
        .create_neighborhood(
            &json!({"name": "Matrix Street", "area_code": next_area_code(), "owner_phone": OWNER}),
        )
        .await;
    let neighborhood: Uuid = here["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("id");
    let slug = here["slug"].as_str().expect("slug").to_owned();
    let request_id = pending_join_request(app, neighborhood).await;
    let announcement_id = scheduled_announcement(app, neighborhood).await;
    let template_id = saved_template(app, neighborhood).await;
    let endpoint_id = event_endpoint(app, neighborhood).await;
    let captain_id = add_member(app, neighborhood, CAPTAIN, Role::Captain).await;
    add_member(app, neighborhood, MODERATOR, Role::Moderator).await;
    let member_id = add_member(app, neighborhood, MEMBER, Role::Member).await;
    let (token_id, in_scope) = token_client(
        app,
        TokenScope::Neighborhood {
            neighborhood_id: neighborhood,
            role: Role::Owner,
        },
    )
    .await;
    let (_, out_of_scope) = token_client(
        app,
        TokenScope::Neighborhood {
            neighborhood_id: other,
            role: Role::Owner,
        },
    )
    .await;
    let (_, member_token) = token_client(
        app,
        TokenScope::Neighborhood {
            neighborhood_id: neighborhood,
            role: Role::Member,
        },
    )
    .await;
    let clients = vec![
        (Who::Anonymous, reqwest::Client::new()),
        (Who::Member, member_token),
        (Who::Moderator, session_client(app, MODERATOR).await),
        (
            Who::CaptainElsewhere,
            session_client(app, OTHER_CAPTAIN).await,
        ),
        (Who::Captain, session_client(app, CAPTAIN).await),
        (Who::Owner, session_client(app, OWNER).await),
        (Who::PlatformAdmin, session_client(app, ADMIN_PHONE).await),
        (Who::PlatformToken, bearer_client(&app.admin_token)),
        (Who::TokenInScope, in_scope),
        (Who::TokenOutOfScope, out_of_scope),
    ];
    Fixture {
        neighborhood,
        slug,
        request_id,
        member_id,
        captain_id,
        token_id,
        announcement_id,
        template_id,
        endpoint_id,
        clients,
    }
}

/// An integrator's endpoint on a loopback port nothing listens on, to rotate, test and delete.
async fn event_endpoint(app: &TestApp, neighborhood: Uuid) -> String {
    let response = app
        .post_raw(
            &format!("/api/v1/neighborhoods/{neighborhood}/event-endpoints"),
            &json!({"url": "http://127.0.0.1:9/hooks", "events": ["member.joined"]}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.expect("json");
    created["endpoint"]["id"].as_str().expect("id").to_owned()
}

/// An announcement scheduled a day ahead, to edit, cancel and read.
async fn scheduled_announcement(app: &TestApp, neighborhood: Uuid) -> String {
    let send_at = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let response = app
        .post_raw(
            &format!("/api/v1/neighborhoods/{neighborhood}/messages"),
            &json!({"body": "Street fair next week", "send_at": send_at}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let scheduled: Value = response.json().await.expect("json");
    scheduled["id"].as_str().expect("id").to_owned()
}

async fn saved_template(app: &TestApp, neighborhood: Uuid) -> String {
    let response = app
        .post_raw(
            &format!("/api/v1/neighborhoods/{neighborhood}/templates"),
            &json!({"name": "Street fair", "body": "Street fair next week"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let saved: Value = response.json().await.expect("json");
    saved["id"].as_str().expect("id").to_owned()
}

/// A verified request waiting for a captain.
async fn pending_join_request(app: &TestApp, neighborhood: Uuid) -> Uuid {
    use neighborhood_text::domain::join_request::{Consent, JoinChannel, JoinRequest, JoinState};
    let now = time::OffsetDateTime::now_utc();
    let request = JoinRequest {
        language: None,
        id: Uuid::now_v7(),
        number: 1,
        neighborhood_id: neighborhood,
        phone: neighborhood_text::domain::phone::Phone::parse("+15550004050").expect("phone"),
        member_channel: Default::default(),
        name: neighborhood_text::domain::member::DisplayName::parse("Asker").expect("name"),
        address: None,
        answers: Default::default(),
        channel: JoinChannel::Web,
        state: JoinState::Pending,
        consent: Consent {
            text: "yes".into(),
            at: now,
            ip: None,
            message_sid: None,
        },
        created_at: now,
        decided_by: None,
        decided_at: None,
        member_id: None,
        previously: None,
    };
    app.state
        .store
        .insert_join_request(&request)
        .await
        .expect("stored")
}

/// A valid request body for each operation that takes one.
fn sample_body(operation_id: &str, fixture: &Fixture) -> Option<Value> {
    Some(match operation_id {
        "request_login_code" => json!({"phone": OWNER}),
        "create_session" => json!({"phone": OWNER, "code": "000000"}),
        "create_neighborhood" => {
            json!({"name": "New Street", "area_code": "212", "owner_phone": OWNER})
        }
        "update_neighborhood" => json!({"description": "Changed", "monthly_budget": "20.00"}),
        "archive_neighborhood" => json!({"release_number": false}),
        // A wrong name: allowed principals get 400 and nothing is deleted.
        "delete_neighborhood" => json!({"confirm_name": "Not its name"}),
        "update_member" => json!({"role": "moderator"}),
        "bulk_update_members" => json!({"member_ids": [fixture.member_id], "action": "pause"}),
        "post_announcement" | "estimate_announcement" => {
            json!({"body": "Street fair Saturday"})
        }
        "update_announcement" => json!({"body": "Street fair Sunday", "urgent": true}),
        "create_template" => json!({"name": "Sweeping", "body": "Street sweeping Tuesday"}),
        "update_template" => json!({"body": "Street fair Sunday"}),
        "add_member" => json!({"phone": "+15550004099", "display_name": "Newcomer"}),
        "send_invites" => json!({"phones": ["+15550004097"]}),
        "create_event_endpoint" => {
            json!({"url": "http://127.0.0.1:9/other", "events": ["member.left"]})
        }
        "replay_event_endpoint" => json!({"since": "2026-01-01T00:00:00Z"}),
        "configure_sheet_hub" => json!({"spreadsheet": "not a sheet", "range": "Sheet1"}),
        "submit_join_request" => {
            json!({"name": "Newcomer", "phone": "+15550004098", "consent": true})
        }
        "approve_join_requests" | "deny_join_requests" => {
            json!({"request_ids": [fixture.request_id]})
        }
        "block_phone" => json!({"phone": "+15550004095", "note": "spam"}),
        "verify_join_request" => json!({"request_id": fixture.request_id, "code": "000000"}),
        "transfer_ownership" => json!({"member_id": fixture.captain_id}),
        "create_token" => {
            json!({"name": "sync", "neighborhood_id": fixture.neighborhood, "role": "member"})
        }
        // A CSV body (sent as `text/csv`); a dry run, the import's default.
        "import_members" => json!("name,phone\nNewcomer,+15550004096\n"),
        // A picture's bytes, sent as the first type the operation takes.
        "upload_picture" => json!("GIF89a: a picture's bytes"),
        _ => return None,
    })
}

struct Operation {
    id: String,
    method: String,
    path: String,
    has_body: bool,
    /// The request body's media type, when it takes one.
    content_type: Option<String>,
    /// Every status the document lists for it.
    listed: Vec<u16>,
}

fn operations() -> Vec<Operation> {
    let spec: Value = serde_json::from_str(&neighborhood_text::api::spec_json()).expect("spec");
    let mut found = Vec::new();
    for (path, methods) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in methods.as_object().expect("methods") {
            found.push(Operation {
                id: operation["operationId"]
                    .as_str()
                    .expect("every operation has an id")
                    .to_owned(),
                method: method.to_uppercase(),
                path: path.clone(),
                has_body: operation.get("requestBody").is_some(),
                content_type: operation["requestBody"]["content"]
                    .as_object()
                    .and_then(|content| content.keys().next().cloned()),
                listed: operation["responses"]
                    .as_object()
                    .expect("responses")
                    .keys()
                    .map(|status| status.parse().expect("numeric status"))
                    .collect(),
            });
        }
    }
    found
}

/// Calls one operation as one principal; describes the mismatch, if any.
async fn check(
    app: &TestApp,
    operation: &Operation,
    access: Access,
    who: Who,
    fixture: &Fixture,
) -> Option<String> {
    let body = sample_body(&operation.id, fixture);
    if operation.has_body && body.is_none() {
        return Some(format!(
            "{} takes a body but has no sample request here",
            operation.id
        ));
    }
    let url = app.url(
        &operation
            .path
            .replace("{id}", &fixture.neighborhood.to_string())
            .replace("{member_id}", &fixture.member_id.to_string())
            .replace("{token_id}", &fixture.token_id.to_string())
            .replace("{request_id}", &fixture.request_id.to_string())
            .replace("{announcement_id}", &fixture.announcement_id)
            .replace("{template_id}", &fixture.template_id)
            .replace("{endpoint_id}", &fixture.endpoint_id)
            .replace("{slug}", &fixture.slug)
            .replace("{phone}", "+15550004095"),
    );
    let client = &fixture
        .clients
        .iter()
        .find(|(kind, _)| *kind == who)
        .expect("client")
        .1;
    let method = reqwest::Method::from_bytes(operation.method.as_bytes()).expect("method");
    let mut request = client.request(method, &url);
    match (&body, operation.content_type.as_deref()) {
        (Some(Value::String(raw)), Some(content_type)) if content_type != "application/json" => {
            request = request
                .header("content-type", content_type)
                .body(raw.clone());
        }
        (Some(body), _) => request = request.json(body),
        (None, _) => {}
    }
    let status = request.send().await.expect("sent").status().as_u16();
    if !operation.listed.contains(&status) {
        return Some(format!(
            "{} {} by {who:?}: got {status}, which the OpenAPI document does not list ({:?})",
            operation.method, operation.path, operation.listed
        ));
    }
    let expected_ok = who.allowed(access);
    let fine = match (expected_ok, who) {
        (true, _) => status != 401 && status != 403,
        (false, Who::Anonymous) => status == 401,
        (false, _) => status == 403,
    };
    (!fine).then(|| {
        format!(
            "{} {} by {who:?}: got {status}, expected {}",
            operation.method,
            operation.path,
            if expected_ok { "allowed" } else { "refused" }
        )
    })
}

#[tokio::test]
async fn every_operation_answers_every_principal_as_the_policy_table_says() {
    let app = spawn_sandbox_app().await;
    let other = other_neighborhood(&app).await;
    let operations = operations();
    let mut failures = Vec::new();
    let mut shared: Option<Fixture> = None;
    for operation in &operations {
        let Some(access) = policy::access_for(&operation.id) else {
            failures.push(format!("{} has no entry in the policy table", operation.id));
            continue;
        };
        let read_only = operation.method == "GET";
        if read_only && shared.is_none() {
            shared = Some(fixture(&app, other).await);
        }
        // Writes get a fresh neighborhood per principal, so one principal's change cannot decide
        // another's answer; reads share one. Principals run concurrently.
        let fixtures: Vec<Option<Fixture>> = if read_only {
            EVERYONE.iter().map(|_| None).collect()
        } else {
            futures::future::join_all(
                EVERYONE
                    .iter()
                    .map(|_| async { Some(fixture(&app, other).await) }),
            )
            .await
        };
        let checks = EVERYONE.iter().zip(&fixtures).map(|(who, own)| {
            let fixture = own.as_ref().or(shared.as_ref()).expect("a fixture");
            check(&app, operation, access, *who, fixture)
        });
        failures.extend(
            futures::future::join_all(checks)
                .await
                .into_iter()
                .flatten(),
        );
        // Signing out everywhere ended the shared fixture's sessions too: later reads get a
        // fresh one.
        if operation.id == "delete_all_sessions" {
            shared = None;
        }
    }
    println!(
        "permission matrix: {} operations x {} principals = {} checks",
        operations.len(),
        EVERYONE.len(),
        operations.len() * EVERYONE.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        operations.len() >= 20,
        "the spec lost operations: {}",
        operations.len()
    );
}

#[tokio::test]
async fn an_anonymous_call_gets_401_before_any_validation() {
    let app = spawn_sandbox_app().await;
    let anonymous = reqwest::Client::new();
    for (method, path, body) in [
        ("POST", "/api/v1/neighborhoods", "{not json"),
        ("GET", "/api/v1/neighborhoods/not-a-uuid", ""),
        (
            "PATCH",
            "/api/v1/neighborhoods/00000000-0000-0000-0000-000000000000",
            "{}",
        ),
        ("GET", "/api/v1/neighborhoods?limit=0", ""),
        ("DELETE", "/api/v1/tokens/nope", ""),
    ] {
        let response = anonymous
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                app.url(path),
            )
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("sent");
        let status = response.status().as_u16();
        let json: Value = response.json().await.expect("error body");
        assert_eq!(
            (status, json["code"].as_str()),
            (401, Some("unauthorized")),
            "{method} {path}: {json}"
        );
    }
}
