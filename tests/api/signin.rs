//! Sign-in that resists guessing and lockout, cookie hardening, the absolute session lifetime,
//! signing out everywhere, and what `/metrics` and the logs expose.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use neighborhood_text::auth::session::Claims;
use neighborhood_text::config::Settings;
use neighborhood_text::domain::phone::Phone;
use neighborhood_text::secret::Secret;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::auth::{
    ask_code, code_texted_to, code_texted_to_except, cookie_client, neighborhood, sign_in,
};
use crate::helpers::{
    TestApp, eventually, json_of, sandbox_settings, session_client, spawn_sandbox_app,
    spawn_sandbox_app_with,
};

const OWNER: &str = "+15550006001";
const CAPTAIN: &str = "+15550006002";
const WARNING: &str = "too many wrong";
const WAIT: Duration = Duration::from_secs(10);
/// The sandbox's platform admin, who can sign in before any neighborhood exists.
const ADMIN: &str = "+15550000001";

fn phone(value: &str) -> Phone {
    Phone::parse(value).expect("phone")
}

/// The sign-in codes texted to `phone`, oldest first.
async fn codes_texted(app: &TestApp, phone: &str) -> Vec<String> {
    app.inbox(phone)
        .await
        .iter()
        .filter(|(_, body, _)| body.contains("sign-in code"))
        .map(|(_, body, _)| body.chars().take_while(char::is_ascii_digit).collect())
        .collect()
}

/// Waits until `phone` has received `count` sign-in codes; returns the newest.
async fn code_number(app: &TestApp, phone: &str, count: usize) -> String {
    eventually(WAIT, "the sign-in texts", || async {
        codes_texted(app, phone).await.len() >= count
    })
    .await;
    codes_texted(app, phone).await[count - 1].clone()
}

async fn app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let receiver = MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    adjust(&mut settings);
    spawn_sandbox_app_with(receiver, settings).await
}

/// A sandbox app whose phones lock after three wrong codes.
async fn app_locking_after_three() -> TestApp {
    app_with(|settings| settings.signin_max_wrong_codes = 3).await
}

/// A code that is not `right`.
fn wrong(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// The `name=value` pairs of every `Set-Cookie` of an answer.
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_owned)
        .collect()
}

fn pair_named(cookies: &[String], name: &str) -> Option<String> {
    cookies
        .iter()
        .filter_map(|cookie| cookie.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// A browser on our own origin sending `cookie`.
fn browser(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().expect("header"));
    headers.insert(
        reqwest::header::ORIGIN,
        "https://text.example.org".parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// Signs `phone` in through its texted code; returns the device cookie pair it was given.
async fn device_of(app: &TestApp, phone: &str) -> String {
    assert_eq!(ask_code(app, phone).await.0, 202);
    let code = code_texted_to(app, phone).await;
    let response = sign_in(app, phone, &code).await;
    assert_eq!(response.status(), 200);
    pair_named(&set_cookies(&response), "__Host-nt_device").expect("a device cookie")
}

async fn post_as(client: &reqwest::Client, app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    json_of(
        client
            .post(app.url(path))
            .json(&body)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

async fn warnings(app: &TestApp, phone: &str) -> usize {
    app.inbox(phone)
        .await
        .iter()
        .filter(|(_, body, _)| body.contains(WARNING))
        .count()
}

async fn status_of_me(app: &TestApp, client: &reqwest::Client) -> u16 {
    client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn wrong_codes_lock_sign_in_for_the_phone_and_text_it_once() {
    let app = app_locking_after_three().await;
    neighborhood(&app, OWNER).await;
    ask_code(&app, OWNER).await;
    let code = code_texted_to(&app, OWNER).await;

    for _ in 0..2 {
        let (status, body) = json_of(sign_in(&app, OWNER, wrong(&code)).await).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_code")));
    }
    let locking = sign_in(&app, OWNER, wrong(&code)).await;
    assert_eq!(locking.status(), 429, "the third wrong code locks");
    assert!(locking.headers().contains_key("retry-after"));
    let (_, body) = json_of(locking).await;
    assert_eq!(body["code"], "sign_in_locked", "{body}");

    let (status, body) = json_of(sign_in(&app, OWNER, &code).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("sign_in_locked")),
        "while locked even the right code is not compared"
    );
    let (status, body) = ask_code(&app, OWNER).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("sign_in_locked"))
    );
    eventually(WAIT, "the warning text", || async {
        warnings(&app, OWNER).await == 1
    })
    .await;

    // The lock runs out (its TTL, cut short here) while the day's count stands: the next wrong
    // code locks again at once, without a second text.
    let lock = app.state.store.keys().login_lock(&phone(OWNER));
    let _: () = redis::cmd("DEL")
        .arg(&lock)
        .query_async(&mut crate::auth::redis().await)
        .await
        .expect("del");
    let (status, _) = json_of(sign_in(&app, OWNER, "222222").await).await;
    assert_eq!(status, 429, "the day's count still stands");
    // A second warning would have been sent before the answer came back: a text sent after
    // it (a code for another phone) has arrived, so a second warning would be in by now.
    assert_eq!(ask_code(&app, ADMIN).await.0, 202);
    code_texted_to(&app, ADMIN).await;
    assert_eq!(warnings(&app, OWNER).await, 1, "the phone is warned once");
}

#[tokio::test]
async fn a_new_code_does_not_reset_the_count_of_wrong_codes() {
    let app = app_locking_after_three().await;
    neighborhood(&app, OWNER).await;
    ask_code(&app, OWNER).await;
    let first = code_texted_to(&app, OWNER).await;
    for _ in 0..2 {
        assert_eq!(sign_in(&app, OWNER, wrong(&first)).await.status(), 400);
    }

    assert_eq!(ask_code(&app, OWNER).await.0, 202);
    let second = code_texted_to_except(&app, OWNER, &first).await;
    let (status, body) = json_of(sign_in(&app, OWNER, wrong(&second)).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("sign_in_locked")),
        "the third wrong code of the day locks, new code or not"
    );
}

#[tokio::test]
async fn someone_elses_code_requests_do_not_lock_the_captain_out() {
    let app = app_locking_after_three().await;
    neighborhood(&app, OWNER).await;
    let device = device_of(&app, OWNER).await;

    // A stranger asks for the owner's codes until the per-phone limit answers 429.
    let statuses: Vec<u16> = futures::future::join_all((0..4).map(|_| ask_code(&app, OWNER)))
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    let sent = statuses.iter().filter(|status| **status == 202).count();
    assert_eq!(sent, 2, "strangers meet the per-phone limit: {statuses:?}");
    code_number(&app, OWNER, 1 + sent).await;

    let owner = browser(&device);
    let (status, body) = post_as(&owner, &app, "/api/v1/auth/code", json!({"phone": OWNER})).await;
    assert_eq!(
        status, 202,
        "the owner's own device still gets a code: {body}"
    );
    let code = code_number(&app, OWNER, 2 + sent).await;
    let (status, _) = post_as(
        &owner,
        &app,
        "/api/v1/auth/session",
        json!({"phone": OWNER, "code": code}),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_stranger_tripping_the_lock_does_not_lock_the_captains_own_device() {
    let app = app_locking_after_three().await;
    neighborhood(&app, OWNER).await;
    let device = device_of(&app, OWNER).await;

    let owner = browser(&device);
    assert_eq!(
        post_as(&owner, &app, "/api/v1/auth/code", json!({"phone": OWNER}))
            .await
            .0,
        202
    );
    let code = code_number(&app, OWNER, 2).await;
    // The stranger guesses until the phone locks.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(sign_in(&app, OWNER, wrong(&code)).await.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 429]);

    let (status, body) = post_as(
        &owner,
        &app,
        "/api/v1/auth/session",
        json!({"phone": OWNER, "code": code}),
    )
    .await;
    assert_eq!(status, 200, "the owner's device is not locked out: {body}");
}

#[tokio::test]
async fn session_cookies_carry_the_host_prefix_behind_https_only() {
    let app = spawn_sandbox_app().await;
    let admin = ADMIN;
    ask_code(&app, admin).await;
    let code = code_texted_to(&app, admin).await;
    let response = sign_in(&app, admin, &code).await;
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(&response);
    let session = cookies
        .iter()
        .find(|cookie| cookie.starts_with("__Host-nt_session="))
        .expect("a __Host- session cookie");
    for attribute in ["; Secure", "; Path=/", "; HttpOnly"] {
        assert!(
            session.contains(attribute),
            "{attribute} missing: {session}"
        );
    }
    assert!(!session.contains("Domain"), "{session}");
    assert!(
        cookies.iter().all(|cookie| cookie.starts_with("__Host-")),
        "{cookies:?}"
    );
    let pair = session.split(';').next().expect("pair");
    assert_eq!(status_of_me(&app, &browser(pair)).await, 200);
    // The same token under the plain name, as a sibling subdomain could plant it, is ignored.
    let planted = pair.trim_start_matches("__Host-");
    assert_eq!(status_of_me(&app, &browser(planted)).await, 401);

    // Over plain http (local use) browsers refuse `__Host-`: the plain name is used.
    let local = app_with(|settings| {
        settings.public_url = "http://127.0.0.1:0".parse().expect("url");
    })
    .await;
    let cookie = neighborhood_text::auth::session::start(&local.state, &phone(admin))
        .await
        .expect("session");
    assert!(cookie.starts_with("nt_session="), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    let pair = cookie.split(';').next().expect("pair");
    let client = reqwest::Client::new();
    let me = client
        .get(local.url("/api/v1/auth/me"))
        .header("cookie", pair)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 200);
}

fn claims_of(app: &TestApp, pair: &str) -> Claims {
    let token = pair.split_once('=').expect("pair").1;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(app.state.session_key.expose().as_bytes()),
        &validation,
    )
    .expect("our token")
    .claims
}

fn forged(app: &TestApp, claims: &Claims) -> String {
    let key = EncodingKey::from_secret(app.state.session_key.expose().as_bytes());
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("jwt");
    format!("__Host-nt_session={token}")
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_rotates() {
    let app = app_with(|settings| settings.session_max_age_days = 30).await;
    let cookie = neighborhood_text::auth::session::start(&app.state, &phone(ADMIN))
        .await
        .expect("session");
    let real = claims_of(&app, cookie.split(';').next().expect("pair"));
    let now = time::OffsetDateTime::now_utc();
    let day = 24 * 3600;

    // Signed in 29 days ago and rotated two days ago: still valid, and rotation keeps the
    // sign-in time, so the fresh cookie lives one day, not fourteen.
    let old = Claims {
        iat: now.unix_timestamp() - 2 * day,
        signed_in_ms: (now.unix_timestamp() - 29 * day) * 1000,
        ..real.clone()
    };
    let response = browser(&forged(&app, &old))
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let rotated = pair_named(&set_cookies(&response), "__Host-nt_session").expect("rotated");
    let max_age: i64 = set_cookies(&response)[0]
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|secs| secs.parse().ok())
        .expect("Max-Age");
    assert!(max_age <= day, "capped by the absolute lifetime: {max_age}");
    assert_eq!(claims_of(&app, &rotated).signed_in_ms, old.signed_in_ms);
    assert_eq!(status_of_me(&app, &browser(&rotated)).await, 200);

    // Past 30 days since the sign-in, a session that still exists in Redis ends.
    let rotated_claims = claims_of(&app, &rotated);
    let too_old = Claims {
        signed_in_ms: (now.unix_timestamp() - 30 * day - 60) * 1000,
        ..rotated_claims
    };
    assert_eq!(
        status_of_me(&app, &browser(&forged(&app, &too_old))).await,
        401
    );
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_of_the_phone() {
    let app = spawn_sandbox_app().await;
    neighborhood(&app, OWNER).await;
    let here = session_client(&app, OWNER).await;
    let there = session_client(&app, OWNER).await;
    let someone_else = session_client(&app, CAPTAIN).await;

    let response = here
        .delete(app.url("/api/v1/auth/sessions"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 204);
    assert!(set_cookies(&response)[0].contains("Max-Age=0"));

    assert_eq!(status_of_me(&app, &here).await, 401);
    assert_eq!(
        status_of_me(&app, &there).await,
        401,
        "the other device too"
    );
    assert_eq!(
        status_of_me(&app, &someone_else).await,
        200,
        "other phones stay signed in"
    );

    // Signing in again afterwards works.
    ask_code(&app, OWNER).await;
    let code = code_texted_to(&app, OWNER).await;
    let again = sign_in(&app, OWNER, &code).await;
    assert_eq!(again.status(), 200);
    assert_eq!(status_of_me(&app, &cookie_client(&again)).await, 200);

    // An API token has no sessions to end.
    let (status, _) = json_of(
        app.http
            .delete(app.url("/api/v1/auth/sessions"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let open = spawn_sandbox_app().await;
    let anonymous = reqwest::Client::new();
    let status = |response: reqwest::Response| response.status().as_u16();
    assert_eq!(
        status(
            anonymous
                .get(open.url("/metrics"))
                .send()
                .await
                .expect("sent")
        ),
        200,
        "public without a token setting"
    );

    let token = "metrics-token-0123456789";
    let guarded = app_with(|settings| settings.metrics_token = Some(Secret::new(token))).await;
    let (code, body) = json_of(
        anonymous
            .get(guarded.url("/metrics"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((code, body["code"].as_str()), (401, Some("unauthorized")));
    let wrong = anonymous
        .get(guarded.url("/metrics"))
        .bearer_auth("metrics-token-9876543210")
        .send()
        .await
        .expect("sent");
    assert_eq!(status(wrong), 401);
    let right = anonymous
        .get(guarded.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(status(right), 200);
}
