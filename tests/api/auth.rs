//! Signing in by SMS code, sessions, CSRF, API tokens, roles and the audit log.

use std::time::Duration;

use neighborhood_text::domain::member::Role;
use neighborhood_text::domain::phone::Phone;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    TestApp, Who, add_member, eventually, poll_until, session_client, spawn_sandbox_app,
};

const OWNER: &str = "+15550005001";
const CAPTAIN: &str = "+15550005002";
const MODERATOR: &str = "+15550005003";

pub(crate) async fn neighborhood(app: &TestApp, owner: &str) -> (Uuid, Value) {
    let created = app.create_neighborhood(&json!({"name": "Auth Street", "area_code": "503", "owner_phone": owner, "owner_name": "Olive"})).await;
    (
        created["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("id"),
        created,
    )
}

/// Asks for a sign-in code for `phone`: always 202, whether or not the phone has a role.
async fn request_code(app: &TestApp, phone: &str) -> Value {
    app.post(
        &Who::Anonymous,
        "/api/v1/auth/code",
        &json!({"phone": phone}),
        202,
    )
    .await
}

/// Asks for a sign-in code for `phone`; the status and body as they came (202, or 429 when
/// sign-in is locked or limited).
pub(crate) async fn ask_code(app: &TestApp, phone: &str) -> (u16, Value) {
    crate::helpers::json_of(
        app.post_raw("/api/v1/auth/code", &json!({"phone": phone}))
            .await,
    )
    .await
}

/// The six digits of the newest sign-in text in a simulated phone other than `not`, polling
/// until it arrives (codes are sent in the background).
pub(crate) async fn code_texted_to_except(app: &TestApp, phone: &str, not: &str) -> String {
    poll_until(
        Duration::from_secs(10),
        &format!("a sign-in text to reach {phone}"),
        || async {
            let inbox = app.inbox(phone).await;
            let (_, body, _) = inbox
                .iter()
                .rev()
                .find(|(_, body, _)| body.contains("sign-in code"))?;
            let code: String = body.chars().take_while(char::is_ascii_digit).collect();
            (code.len() == 6 && code != not).then_some(code)
        },
    )
    .await
}

pub(crate) async fn code_texted_to(app: &TestApp, phone: &str) -> String {
    code_texted_to_except(app, phone, "").await
}

/// Signs in with a code, the response as it came (its cookie is what a test checks).
pub(crate) async fn sign_in(app: &TestApp, phone: &str, code: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/auth/session"))
        .json(&json!({"phone": phone, "code": code}))
        .send()
        .await
        .expect("sent")
}

/// Signs in with a code that must be refused (400); returns the error body.
async fn sign_in_refused(app: &TestApp, phone: &str, code: &str) -> Value {
    app.post(
        &Who::Anonymous,
        "/api/v1/auth/session",
        &json!({"phone": phone, "code": code}),
        400,
    )
    .await
}

/// A client carrying the cookie from a sign-in answer, from our own origin.
pub(crate) fn cookie_client(response: &reqwest::Response) -> reqwest::Client {
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie set");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        cookie
            .split(';')
            .next()
            .expect("pair")
            .parse()
            .expect("header"),
    );
    headers.insert(
        reqwest::header::ORIGIN,
        "https://text.example.org".parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

pub(crate) async fn redis() -> neighborhood_text::store::connection::RedisConnection {
    crate::helpers::test_redis().await
}

#[tokio::test]
async fn a_captain_signs_in_with_the_code_texted_to_their_phone_and_signs_out() {
    let app = spawn_sandbox_app().await;
    let (id, created) = neighborhood(&app, OWNER).await;

    request_code(&app, OWNER).await;
    let code = code_texted_to(&app, OWNER).await;
    assert_eq!(
        app.inbox(OWNER).await[0].0,
        created["phone_number"].as_str().expect("number"),
        "texted from the neighborhood's number"
    );
    let response = sign_in(&app, OWNER, &code).await;
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_owned();
    for attribute in [
        "__Host-nt_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    let client = cookie_client(&response);
    let owner = Who::from(client.clone());

    let me = app.get(&owner, "/api/v1/auth/me", 200).await;
    assert_eq!(me["phone"], OWNER);
    assert_eq!(
        me["roles"],
        json!([{"neighborhood_id": id, "role": "owner"}])
    );
    // The owner sees their neighborhood.
    app.get(&owner, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;

    let signed_out = client
        .delete(app.url("/api/v1/auth/session"))
        .send()
        .await
        .expect("sent");
    assert_eq!(signed_out.status(), 204);
    assert!(
        signed_out
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    let body = app.get(&owner, "/api/v1/auth/me", 401).await;
    assert_eq!(body["code"], "unauthorized", "the session ended everywhere");
}

#[tokio::test]
async fn unknown_phones_get_the_same_answer_and_no_text() {
    let app = spawn_sandbox_app().await;
    neighborhood(&app, OWNER).await;
    let stranger = "+15550005999";

    let known = request_code(&app, OWNER).await;
    let unknown = request_code(&app, stranger).await;

    assert_eq!(known, unknown);
    code_texted_to(&app, OWNER).await;
    assert!(app.inbox(stranger).await.is_empty());
    let key = app
        .state
        .store
        .keys()
        .login_code(&Phone::parse(stranger).expect("phone"));
    let exists: bool = redis::cmd("EXISTS")
        .arg(key)
        .query_async(&mut redis().await)
        .await
        .expect("exists");
    assert!(!exists, "no code is kept for a phone without a role");
    let body = sign_in_refused(&app, stranger, "123456").await;
    assert_eq!(body["code"], "invalid_code");
}

#[tokio::test]
async fn codes_are_stored_hashed_work_once_and_burn_after_five_wrong_tries() {
    let app = spawn_sandbox_app().await;
    neighborhood(&app, OWNER).await;
    request_code(&app, OWNER).await;
    let code = code_texted_to(&app, OWNER).await;

    let key = app
        .state
        .store
        .keys()
        .login_code(&Phone::parse(OWNER).expect("phone"));
    let stored: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(&key)
        .query_async(&mut redis().await)
        .await
        .expect("hgetall");
    assert!(!stored.is_empty());
    assert!(
        stored.iter().all(|(_, value)| !value.contains(&code)),
        "the code is not stored in clear: {stored:?}"
    );

    assert_eq!(sign_in(&app, OWNER, &code).await.status(), 200);
    let body = sign_in_refused(&app, OWNER, &code).await;
    assert_eq!(body["code"], "invalid_code", "a code works once");

    request_code(&app, OWNER).await;
    let fresh = code_texted_to_except(&app, OWNER, &code).await;
    let wrong = if fresh == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        assert_eq!(sign_in(&app, OWNER, wrong).await.status(), 400);
    }
    // Five wrong tries burn the code.
    sign_in_refused(&app, OWNER, &fresh).await;
}

#[tokio::test]
async fn expired_codes_and_ended_sessions_are_refused() {
    let app = spawn_sandbox_app().await;
    neighborhood(&app, OWNER).await;
    request_code(&app, OWNER).await;
    let code = code_texted_to(&app, OWNER).await;
    let key = app
        .state
        .store
        .keys()
        .login_code(&Phone::parse(OWNER).expect("phone"));
    // Codes expire by their Redis TTL: run the clock out on this one.
    let _: () = redis::cmd("PEXPIRE")
        .arg(&key)
        .arg(1)
        .query_async(&mut redis().await)
        .await
        .expect("pexpire");
    eventually(Duration::from_secs(5), "the code to expire", || async {
        !redis::cmd("EXISTS")
            .arg(&key)
            .query_async::<bool>(&mut redis().await)
            .await
            .unwrap_or(true)
    })
    .await;
    assert_eq!(sign_in(&app, OWNER, &code).await.status(), 400);

    let client = session_client(&app, OWNER).await;
    assert_eq!(
        client
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .expect("sent")
            .status(),
        200
    );
    let mut conn = redis().await;
    let sessions: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:{{global}}:session:*", app.keys_prefix))
        .query_async(&mut conn)
        .await
        .expect("keys");
    let _: () = redis::cmd("DEL")
        .arg(&sessions)
        .query_async(&mut conn)
        .await
        .expect("del");
    assert_eq!(
        client
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .expect("sent")
            .status(),
        401,
        "an ended session no longer works"
    );
}

#[tokio::test]
async fn cookie_writes_from_another_site_are_refused() {
    let app = spawn_sandbox_app().await;
    neighborhood(&app, OWNER).await;
    let cookie =
        neighborhood_text::auth::session::start(&app.state, &Phone::parse(OWNER).expect("phone"))
            .await
            .expect("session");
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let http = reqwest::Client::new();

    let no_origin = http
        .delete(app.url("/api/v1/auth/session"))
        .header("cookie", &pair)
        .send()
        .await
        .expect("sent");
    assert_eq!(no_origin.status(), 403);
    let body: Value = no_origin.json().await.expect("json body");
    assert_eq!(body["code"], "forbidden");
    let evil = http
        .delete(app.url("/api/v1/auth/session"))
        .header("cookie", &pair)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(evil.status(), 403);
    let read = http
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &pair)
        .send()
        .await
        .expect("sent");
    assert_eq!(read.status(), 200, "reads need no Origin");
    let ours = http
        .delete(app.url("/api/v1/auth/session"))
        .header("cookie", &pair)
        .header("origin", "https://text.example.org")
        .send()
        .await
        .expect("sent");
    assert_eq!(ours.status(), 204);
}

#[tokio::test]
async fn sign_in_limits_hold_across_two_instances_sharing_redis() {
    let first = spawn_sandbox_app().await;
    let second = crate::helpers::spawn_second_sandbox_instance(&first).await;
    let phone = "+15550005777";

    for app in [&first, &second, &first] {
        request_code(app, phone).await;
    }
    let limited = reqwest::Client::new()
        .post(second.url("/api/v1/auth/code"))
        .json(&json!({"phone": phone}))
        .send()
        .await
        .expect("sent");
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.expect("body");
    assert_eq!(body["code"], "rate_limited");
    // Another phone is not limited.
    request_code(&first, "+15550005778").await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_scoped_and_revocable() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, OWNER).await;
    let (other, _) = neighborhood(&app, "+15550005010").await;

    let created = app
        .post(
            &Who::Admin,
            "/api/v1/tokens",
            &json!({"name": "newsletter", "neighborhood_id": id, "role": "captain"}),
            201,
        )
        .await;
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let token_id = created["token"]["id"].as_str().expect("id").to_owned();
    let integrator = Who::token(&secret);

    app.patch(
        &integrator,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"description": "Via token"}),
        200,
    )
    .await;
    // A token acts in its own neighborhood only.
    app.get(&integrator, &format!("/api/v1/neighborhoods/{other}"), 403)
        .await;
    // A captain token cannot do what only the owner may.
    app.post(
        &integrator,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        403,
    )
    .await;

    let listed = app.get(&Who::Admin, "/api/v1/tokens", 200).await;
    let listed_token = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["id"] == token_id.as_str())
        .expect("listed")
        .clone();
    assert!(listed_token.get("secret").is_none());
    assert!(listed_token["last_used_at"].is_string(), "{listed_token}");
    let mut conn = redis().await;
    let tokens: Vec<String> = redis::cmd("HVALS")
        .arg(app.state.store.keys().api_tokens())
        .query_async(&mut conn)
        .await
        .expect("hvals");
    assert!(
        tokens.iter().all(|json| !json.contains(&secret)),
        "the secret is not stored"
    );

    app.delete(&Who::Admin, &format!("/api/v1/tokens/{token_id}"), 200)
        .await;
    // A revoked token stops working at once.
    app.get(&integrator, &format!("/api/v1/neighborhoods/{id}"), 401)
        .await;

    let body = app
        .post(
            &Who::Admin,
            "/api/v1/tokens",
            &json!({"name": "", "neighborhood_id": id}),
            400,
        )
        .await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "role"]);
}

#[tokio::test]
async fn ownership_moves_only_by_transfer_and_every_step_is_audited() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, OWNER).await;
    let captain_id = add_member(&app, id, CAPTAIN, Role::Captain).await;
    let owner = Who::session(&app, OWNER).await;
    let members = app
        .get(&owner, &format!("/api/v1/neighborhoods/{id}/members"), 200)
        .await;
    let owner_id = members["items"][0]["id"]
        .as_str()
        .expect("owner id")
        .to_owned();
    assert_eq!(members["items"][0]["role"], "owner");

    let body = app
        .patch(
            &owner,
            &format!("/api/v1/neighborhoods/{id}/members/{owner_id}"),
            &json!({"role": "captain"}),
            409,
        )
        .await;
    assert_eq!(body["code"], "role_rule");
    let body = app
        .delete(
            &owner,
            &format!("/api/v1/neighborhoods/{id}/members/{owner_id}"),
            409,
        )
        .await;
    assert_eq!(body["code"], "role_rule", "the owner cannot be removed");
    let body = app
        .patch(
            &owner,
            &format!("/api/v1/neighborhoods/{id}/members/{captain_id}"),
            &json!({"role": "owner"}),
            409,
        )
        .await;
    assert_eq!(
        body["code"], "role_rule",
        "nobody becomes owner by a role change"
    );

    let captain = Who::session(&app, CAPTAIN).await;
    let ownership = format!("/api/v1/neighborhoods/{id}/ownership");
    // Only the owner hands the neighborhood over.
    app.post(&captain, &ownership, &json!({"member_id": captain_id}), 403)
        .await;
    let promoted = app
        .post(&owner, &ownership, &json!({"member_id": captain_id}), 200)
        .await;
    assert_eq!(promoted["role"], "owner");

    let members = app
        .get(
            &captain,
            &format!("/api/v1/neighborhoods/{id}/members"),
            200,
        )
        .await;
    let roles: Vec<(&str, &str)> = members["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap_or(""),
                m["role"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        roles.contains(&(owner_id.as_str(), "captain"))
            && roles.iter().filter(|(_, role)| *role == "owner").count() == 1,
        "{roles:?}"
    );

    let audit = app
        .get(
            &captain,
            &format!("/api/v1/neighborhoods/{id}/audit?limit=1"),
            200,
        )
        .await;
    assert_eq!(audit["items"][0]["action"], "ownership.transfer");
    assert_eq!(audit["items"][0]["actor"], format!("phone:{OWNER}"));
    assert!(
        audit["items"][0]["source"]
            .as_str()
            .unwrap_or_default()
            .starts_with("ip:")
    );
    let before = audit["next_before"].as_str().expect("more pages");
    let older = app
        .get(
            &captain,
            &format!("/api/v1/neighborhoods/{id}/audit?before={before}"),
            200,
        )
        .await;
    assert_eq!(
        older["items"]
            .as_array()
            .and_then(|items| items.last())
            .map(|entry| entry["action"].clone()),
        Some(json!("neighborhood.create"))
    );
}

#[tokio::test]
async fn phone_numbers_are_shown_to_captains_and_above_only() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, OWNER).await;
    add_member(&app, id, MODERATOR, Role::Moderator).await;
    add_member(&app, id, CAPTAIN, Role::Captain).await;

    for (phone, sees) in [(MODERATOR, false), (CAPTAIN, true), (OWNER, true)] {
        let who = Who::session(&app, phone).await;
        let members = app
            .get(&who, &format!("/api/v1/neighborhoods/{id}/members"), 200)
            .await;
        let shown = members["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|m| m["phone"].is_string());
        let hidden = members["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|m| m["phone"].is_null());
        assert!(if sees { shown } else { hidden }, "{phone}: {members}");
    }
}

/// Finding 19: Twilio's words about a failed addition can quote the phone number, so they are
/// for captains; a moderator sees the error without them.
#[tokio::test]
async fn twilios_own_words_about_a_failed_sync_are_for_captains_only() {
    use neighborhood_text::domain::member::SyncState;
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, OWNER).await;
    add_member(&app, id, MODERATOR, Role::Moderator).await;
    let failing = add_member(&app, id, "+15550005004", Role::Member).await;
    let before = app
        .state
        .store
        .member(id, failing)
        .await
        .expect("redis")
        .expect("member");
    let failed = neighborhood_text::domain::member::Member {
        sync: SyncState::Failed {
            error: "Twilio error 50416".into(),
            detail: Some("Twilio error 50416: +15550005004 is in another conversation".into()),
        },
        ..before.clone()
    };
    assert!(
        app.state
            .store
            .replace_members(id, &[(&before, &failed)])
            .await
            .expect("redis")
    );

    for (phone, expected) in [
        (MODERATOR, "Twilio error 50416"),
        (
            OWNER,
            "Twilio error 50416: +15550005004 is in another conversation",
        ),
    ] {
        let listed = app
            .get(
                &Who::session(&app, phone).await,
                &format!("/api/v1/neighborhoods/{id}/members"),
                200,
            )
            .await;
        let shown = listed["items"]
            .as_array()
            .and_then(|items| items.iter().find(|m| m["id"] == failing.to_string()))
            .expect("the failing member");
        assert_eq!(shown["sync_error"], expected, "{phone}: {shown}");
    }
}

#[tokio::test]
async fn a_day_old_session_is_rotated_on_its_next_request() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use neighborhood_text::auth::session::{Claims, SESSION_TTL};
    let app = spawn_sandbox_app().await;
    neighborhood(&app, OWNER).await;
    let phone = Phone::parse(OWNER).expect("phone");
    let old_session = Uuid::new_v4();
    app.state
        .store
        .store_session(old_session, &phone, SESSION_TTL)
        .await
        .expect("stored");
    let issued = time::OffsetDateTime::now_utc().unix_timestamp() - 2 * 24 * 3600;
    let claims = Claims {
        sub: OWNER.into(),
        sid: old_session,
        iat: issued,
        exp: issued + SESSION_TTL.as_secs() as i64,
        signed_in_ms: issued * 1000,
    };
    let key = EncodingKey::from_secret(app.state.session_key.expose().as_bytes());
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).expect("jwt");

    let response = reqwest::Client::new()
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", format!("__Host-nt_session={token}"))
        .send()
        .await
        .expect("sent");

    assert_eq!(response.status(), 200);
    let rotated = cookie_client(&response);
    assert!(
        app.state
            .store
            .session_phone(old_session)
            .await
            .expect("read")
            .is_none(),
        "the old session ended"
    );
    assert_eq!(
        rotated
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .expect("sent")
            .status(),
        200,
        "the new cookie works"
    );
    let stale = reqwest::Client::new()
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", format!("__Host-nt_session={token}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(stale.status(), 401);
}

#[tokio::test]
async fn the_sandbox_admin_signs_in_before_any_neighborhood_exists() {
    let app = crate::helpers::spawn_sandbox_app().await;
    let admin = "+15550000001";
    let health: Value = app.get_raw("/health").await.json().await.expect("json");
    assert_eq!(health["sandbox_admin_phone"], admin, "{health}");

    // No neighborhood number yet: the code comes from the Messaging Service's own number.
    request_code(&app, admin).await;
    let code = code_texted_to(&app, admin).await;
    let signed_in = sign_in(&app, admin, &code).await;
    assert_eq!(signed_in.status(), 200);
    let me: Value = signed_in.json().await.expect("json");
    assert_eq!(me["platform_admin"], true, "{me}");

    // Outside the sandbox nobody is made an admin.
    let real = crate::helpers::spawn_app().await;
    let health: Value = real.get_raw("/health").await.json().await.expect("json");
    assert!(health["sandbox_admin_phone"].is_null(), "{health}");
    let phone = neighborhood_text::domain::phone::Phone::parse(admin).expect("phone");
    assert!(
        real.state
            .store
            .platform_admin(&phone)
            .await
            .expect("redis")
            .is_none()
    );
}

/// Finding 13: a join request's address and answers are for captains and up, as a member's are,
/// in the list, the export and the `#pending` text.
#[tokio::test]
async fn join_request_addresses_and_answers_are_for_captains_and_above_only() {
    use neighborhood_text::domain::join_request::{Consent, JoinChannel, JoinRequest, JoinState};
    use neighborhood_text::domain::member::DisplayName;
    let app = spawn_sandbox_app().await;
    let (id, created) = neighborhood(&app, OWNER).await;
    let number = created["phone_number"].as_str().expect("number").to_owned();
    // Real members of the group text, so their `#pending` reaches the commands.
    for (phone, name, role) in [(MODERATOR, "Mo", "moderator"), (CAPTAIN, "Cara", "captain")] {
        let member = app.add_member_by_api(&id.to_string(), phone, name).await;
        let response = app
            .patch_raw(
                &format!("/api/v1/neighborhoods/{id}/members/{member}"),
                &json!({ "role": role }),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    eventually(
        Duration::from_secs(20),
        "everyone in the group text",
        || async {
            let listed = app
                .get(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/members"),
                    200,
                )
                .await;
            listed["items"]
                .as_array()
                .is_some_and(|items| items.len() == 3 && items.iter().all(|m| m["sync"] == "done"))
        },
    )
    .await;
    let now = time::OffsetDateTime::now_utc();
    let request = JoinRequest {
        language: None,
        id: Uuid::now_v7(),
        number: 7,
        neighborhood_id: id,
        phone: Phone::parse("+15550005009").expect("phone"),
        member_channel: Default::default(),
        name: DisplayName::parse("Rae").expect("name"),
        address: Some("12 Secret Lane".into()),
        answers: [("Why?".to_owned(), "private answer".to_owned())].into(),
        channel: JoinChannel::Web,
        state: JoinState::Pending,
        consent: Consent {
            text: "ok".into(),
            at: now,
            ip: Some("203.0.113.9".into()),
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
        .expect("stored");

    for (phone, sees) in [(MODERATOR, false), (CAPTAIN, true), (OWNER, true)] {
        let who = Who::session(&app, phone).await;
        let list = app
            .get(
                &who,
                &format!("/api/v1/neighborhoods/{id}/join-requests"),
                200,
            )
            .await;
        let listed = list.to_string();
        let export = app
            .get(
                &who,
                &format!("/api/v1/neighborhoods/{id}/export/join-requests?format=json"),
                200,
            )
            .await
            .to_string();
        // The export has a column per current join question only, and this neighborhood has
        // none, so the answer shows in the list alone.
        for (shown, private) in [
            (&listed, "12 Secret Lane"),
            (&listed, "private answer"),
            (&export, "12 Secret Lane"),
        ] {
            assert!(shown.contains("Rae"), "{phone}: {shown}");
            assert_eq!(shown.contains(private), sees, "{phone}: {shown}");
        }
    }

    for (phone, sees) in [(MODERATOR, false), (CAPTAIN, true)] {
        app.text(phone, &number, "#pending").await;
        let reply = app.wait_for_text(phone, "Waiting: #7 Rae").await;
        assert_eq!(reply.contains("12 Secret Lane"), sees, "{phone}: {reply}");
    }
}
