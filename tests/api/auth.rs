//! Signing in by SMS code, sessions, CSRF, API tokens, roles and the audit log.

use std::time::Duration;

use neighborhood_text::domain::member::Role;
use neighborhood_text::domain::phone::Phone;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    TestApp, add_member, bearer_client, eventually, json_of, session_client, spawn_sandbox_app,
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

pub(crate) async fn request_code(app: &TestApp, phone: &str) -> (u16, Value) {
    json_of(
        reqwest::Client::new()
            .post(app.url("/api/v1/auth/code"))
            .json(&json!({"phone": phone}))
            .send()
            .await
            .expect("sent"),
    )
    .await
}

/// The six digits of the newest sign-in text in a simulated phone other than `not`, polling
/// until it arrives (codes are sent in the background).
pub(crate) async fn code_texted_to_except(app: &TestApp, phone: &str, not: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let inbox = app.inbox(phone).await;
        let newest = inbox
            .iter()
            .rev()
            .find(|(_, body, _)| body.contains("sign-in code"));
        if let Some((_, body, _)) = newest {
            let code: String = body.chars().take_while(char::is_ascii_digit).collect();
            if code.len() == 6 && code != not {
                return code;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no sign-in text reached {phone}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn code_texted_to(app: &TestApp, phone: &str) -> String {
    code_texted_to_except(app, phone, "").await
}

pub(crate) async fn sign_in(app: &TestApp, phone: &str, code: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/auth/session"))
        .json(&json!({"phone": phone, "code": code}))
        .send()
        .await
        .expect("sent")
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

pub(crate) async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(crate::helpers::redis_url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis")
}

#[tokio::test]
async fn a_captain_signs_in_with_the_code_texted_to_their_phone_and_signs_out() {
    let app = spawn_sandbox_app().await;
    let (id, created) = neighborhood(&app, OWNER).await;

    let (status, answer) = request_code(&app, OWNER).await;
    assert_eq!(status, 202, "{answer}");
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

    let (status, me) = json_of(
        client
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["phone"], OWNER);
    assert_eq!(
        me["roles"],
        json!([{"neighborhood_id": id, "role": "owner"}])
    );
    let (status, _) = json_of(
        client
            .get(app.url(&format!("/api/v1/neighborhoods/{id}")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200, "the owner sees their neighborhood");

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
    let (status, body) = json_of(
        client
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorized")),
        "the session ended everywhere"
    );
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
    let (status, body) = json_of(sign_in(&app, stranger, "123456").await).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_code")));
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
    let (status, body) = json_of(sign_in(&app, OWNER, &code).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_code")),
        "a code works once"
    );

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
    let (status, _) = json_of(sign_in(&app, OWNER, &fresh).await).await;
    assert_eq!(status, 400, "five wrong tries burn the code");
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
        .arg(format!("{}:{{global}}:session:*", app.prefix))
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
    let (status, body) = json_of(no_origin).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
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
        assert_eq!(request_code(app, phone).await.0, 202);
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
    assert_eq!(
        request_code(&first, "+15550005778").await.0,
        202,
        "another phone is not limited"
    );
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_scoped_and_revocable() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, OWNER).await;
    let (other, _) = neighborhood(&app, "+15550005010").await;

    let (status, created) = json_of(
        app.post_json(
            "/api/v1/tokens",
            &json!({"name": "newsletter", "neighborhood_id": id, "role": "captain"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let token_id = created["token"]["id"].as_str().expect("id").to_owned();
    let integrator = bearer_client(&secret);

    let patched = integrator
        .patch(app.url(&format!("/api/v1/neighborhoods/{id}")))
        .json(&json!({"description": "Via token"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(patched.status(), 200);
    let elsewhere = integrator
        .get(app.url(&format!("/api/v1/neighborhoods/{other}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        elsewhere.status(),
        403,
        "a token acts in its own neighborhood only"
    );
    let archive = integrator
        .post(app.url(&format!("/api/v1/neighborhoods/{id}/archive")))
        .json(&json!({"release_number": false}))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        archive.status(),
        403,
        "a captain token cannot do what only the owner may"
    );

    let (_, listed) = json_of(app.get("/api/v1/tokens").await).await;
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

    let (status, _) = json_of(
        app.http
            .delete(app.url(&format!("/api/v1/tokens/{token_id}")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    let after = integrator
        .get(app.url(&format!("/api/v1/neighborhoods/{id}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(after.status(), 401, "a revoked token stops working at once");

    let (status, body) = json_of(
        app.post_json(
            "/api/v1/tokens",
            &json!({"name": "", "neighborhood_id": id}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
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
    let owner = session_client(&app, OWNER).await;
    let (_, members) = json_of(
        owner
            .get(app.url(&format!("/api/v1/neighborhoods/{id}/members")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let owner_id = members["items"][0]["id"]
        .as_str()
        .expect("owner id")
        .to_owned();
    assert_eq!(members["items"][0]["role"], "owner");

    let (status, body) = json_of(
        owner
            .patch(app.url(&format!("/api/v1/neighborhoods/{id}/members/{owner_id}")))
            .json(&json!({"role": "captain"}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("role_rule")));
    let (status, body) = json_of(
        owner
            .delete(app.url(&format!("/api/v1/neighborhoods/{id}/members/{owner_id}")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("role_rule")),
        "the owner cannot be removed"
    );
    let (status, body) = json_of(
        owner
            .patch(app.url(&format!("/api/v1/neighborhoods/{id}/members/{captain_id}")))
            .json(&json!({"role": "owner"}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("role_rule")),
        "nobody becomes owner by a role change"
    );

    let captain = session_client(&app, CAPTAIN).await;
    let (status, _) = json_of(
        captain
            .post(app.url(&format!("/api/v1/neighborhoods/{id}/ownership")))
            .json(&json!({"member_id": captain_id}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 403, "only the owner hands the neighborhood over");
    let (status, promoted) = json_of(
        owner
            .post(app.url(&format!("/api/v1/neighborhoods/{id}/ownership")))
            .json(&json!({"member_id": captain_id}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((status, promoted["role"].as_str()), (200, Some("owner")));

    let (_, members) = json_of(
        captain
            .get(app.url(&format!("/api/v1/neighborhoods/{id}/members")))
            .send()
            .await
            .expect("sent"),
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

    let (status, audit) = json_of(
        captain
            .get(app.url(&format!("/api/v1/neighborhoods/{id}/audit?limit=1")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(audit["items"][0]["action"], "ownership.transfer");
    assert_eq!(audit["items"][0]["actor"], format!("phone:{OWNER}"));
    assert!(
        audit["items"][0]["source"]
            .as_str()
            .unwrap_or_default()
            .starts_with("ip:")
    );
    let before = audit["next_before"].as_str().expect("more pages");
    let (_, older) = json_of(
        captain
            .get(app.url(&format!("/api/v1/neighborhoods/{id}/audit?before={before}")))
            .send()
            .await
            .expect("sent"),
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
        let client = session_client(&app, phone).await;
        let (status, members) = json_of(
            client
                .get(app.url(&format!("/api/v1/neighborhoods/{id}/members")))
                .send()
                .await
                .expect("sent"),
        )
        .await;
        assert_eq!(status, 200);
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
    let health: Value = app.get("/health").await.json().await.expect("json");
    assert_eq!(health["sandbox_admin_phone"], admin, "{health}");

    // No neighborhood number yet: the code comes from the Messaging Service's own number.
    let (status, _) = request_code(&app, admin).await;
    assert_eq!(status, 202);
    let code = code_texted_to(&app, admin).await;
    let signed_in = sign_in(&app, admin, &code).await;
    assert_eq!(signed_in.status(), 200);
    let me: Value = signed_in.json().await.expect("json");
    assert_eq!(me["platform_admin"], true, "{me}");

    // Outside the sandbox nobody is made an admin.
    let real = crate::helpers::spawn_app().await;
    let health: Value = real.get("/health").await.json().await.expect("json");
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
