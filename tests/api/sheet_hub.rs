//! The spreadsheet hub end to end (issue 27): a captain connects a Google account (PKCE), the
//! sheet is previewed, synced, edited and synced again, access is revoked and reconnected, and
//! two instances never sync one neighborhood at once. Google is a wiremock server matching the
//! exact requests and answering as Google documents.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{TestApp, Who, poll_until, spawn_sandbox_app_with};

const OWNER: &str = "+15550087000";
const SPREADSHEET: &str = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms";
const CLIENT_ID: &str = "hub-test.apps.googleusercontent.com";
const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";

fn with_google(settings: &mut neighborhood_text::config::Settings, google: &MockServer) {
    let base: url::Url = google.uri().parse().expect("url");
    settings.google_client_id = Some(CLIENT_ID.to_owned());
    settings.google_client_secret = Some(neighborhood_text::secret::Secret::new("GOCSPX-test"));
    settings.google_auth_base = base.clone();
    settings.google_token_base = base.clone();
    settings.google_sheets_base = base;
    settings.session_secret = Some(neighborhood_text::secret::Secret::new(
        "a-session-secret-of-at-least-32-characters",
    ));
}

async fn hub_app(google: &MockServer, prefix: Option<&str>) -> TestApp {
    let receiver = MockServer::start().await;
    let mut settings = crate::helpers::sandbox_settings(&receiver);
    settings.reconcile_every_secs = 0;
    if let Some(prefix) = prefix {
        settings.redis_prefix = prefix.to_owned();
    }
    with_google(&mut settings, google);
    spawn_sandbox_app_with(receiver, settings).await
}

/// A signed-in browser of `phone` that does not follow redirects, so the callback's answer shows.
async fn browser(app: &TestApp, phone: &str) -> reqwest::Client {
    let cookie = neighborhood_text::auth::session::start(
        &app.state,
        &neighborhood_text::domain::phone::Phone::parse(phone).expect("phone"),
    )
    .await
    .expect("session");
    let mut headers = reqwest::header::HeaderMap::new();
    let pair = cookie.split(';').next().expect("cookie pair");
    headers.insert(reqwest::header::COOKIE, pair.parse().expect("header"));
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Matches a token request whose `code_verifier` is the one behind `challenge` (RFC 7636 S256).
struct VerifierOf(String);

impl wiremock::Match for VerifierOf {
    fn matches(&self, request: &Request) -> bool {
        url::form_urlencoded::parse(&request.body)
            .find(|(name, _)| name == "code_verifier")
            .is_some_and(|(_, verifier)| {
                let digest = Sha256::digest(verifier.as_bytes());
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == self.0
            })
    }
}

fn tokens(access: &str) -> Value {
    json!({
        "access_token": access,
        "expires_in": 3599,
        "refresh_token": "1//hub-refresh",
        "scope": SCOPE,
        "token_type": "Bearer",
    })
}

/// Connects through the consent page as `browser`, Google granting `code`; answers where the
/// callback sent the browser.
async fn connect(
    app: &TestApp,
    google: &MockServer,
    browser: &reqwest::Client,
    id: &str,
    code: &str,
    access: &str,
) -> String {
    let started = browser
        .post(app.url(&format!("/api/v1/neighborhoods/{id}/sheet-hub/connect")))
        .header("origin", crate::helpers::PUBLIC_URL)
        .send()
        .await
        .expect("connect");
    assert_eq!(started.status(), 200);
    let started: Value = started.json().await.expect("json");
    let consent: url::Url = started["authorization_url"]
        .as_str()
        .expect("url")
        .parse()
        .expect("url");
    let query: std::collections::HashMap<String, String> =
        consent.query_pairs().into_owned().collect();
    assert_eq!(consent.path(), "/o/oauth2/v2/auth");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["scope"], SCOPE);
    assert_eq!(query["access_type"], "offline");
    assert_eq!(query["code_challenge_method"], "S256");
    let redirect_uri = format!("{}/api/v1/google/callback", crate::helpers::PUBLIC_URL);
    assert_eq!(query["redirect_uri"], redirect_uri);
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains(format!(
            "code={}&",
            url::form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>()
        )))
        .and(VerifierOf(query["code_challenge"].clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens(access)))
        .up_to_n_times(1)
        .mount(google)
        .await;
    let back = browser
        .get(callback_url(
            app,
            &[
                ("state", query["state"].as_str()),
                ("code", code),
                ("scope", SCOPE),
            ],
        ))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), 303);
    back.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

/// Where Google sends the browser back, with `pairs` in the query.
fn callback_url(app: &TestApp, pairs: &[(&str, &str)]) -> String {
    let mut url: url::Url = app.url("/api/v1/google/callback").parse().expect("url");
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

/// The sheet as Google answers `values.get`: a header, then `people` rows.
fn value_range(people: &[Vec<String>]) -> Value {
    let mut values = vec![vec![
        "Name".to_owned(),
        "Phone number".to_owned(),
        "Address".to_owned(),
    ]];
    values.extend(people.iter().cloned());
    json!({"range": "Neighbors!A1:Z1000", "majorDimension": "ROWS", "values": values})
}

fn person(n: usize) -> Vec<String> {
    vec![
        format!("Neighbor {n}"),
        format!("(555) 31{:05}", n),
        format!("{n} Elm St"),
    ]
}

/// Answers the sheet's `values.get` with `body` to `access`; a later answer replaces an earlier
/// one by its lower `priority` (wiremock tries the lowest first).
async fn sheet_answers(google: &MockServer, priority: u8, access: &str, body: ResponseTemplate) {
    range_answers(google, priority, access, "Neighbors", body).await;
}

/// [`sheet_answers`] for the range `encoded` (as it goes in the path).
async fn range_answers(
    google: &MockServer,
    priority: u8,
    access: &str,
    encoded: &str,
    body: ResponseTemplate,
) {
    Mock::given(method("GET"))
        .and(path(format!(
            "/v4/spreadsheets/{SPREADSHEET}/values/{encoded}"
        )))
        .and(query_param("majorDimension", "ROWS"))
        .and(query_param("valueRenderOption", "FORMATTED_VALUE"))
        .and(header("authorization", format!("Bearer {access}")))
        .respond_with(body)
        .with_priority(priority)
        .mount(google)
        .await;
}

async fn sheet_reads(google: &MockServer) -> usize {
    google
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().starts_with("/v4/spreadsheets/"))
        .count()
}

async fn token_requests(google: &MockServer, grant: &str) -> usize {
    google
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/token" && String::from_utf8_lossy(&r.body).contains(grant))
        .count()
}

async fn neighborhood(app: &TestApp) -> String {
    let created = app
        .create_neighborhood(&json!({"name": "Sheet Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    created["id"].as_str().expect("id").to_owned()
}

async fn post(app: &TestApp, id: &str, action: &str, status: u16) -> Value {
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/sheet-hub/{action}"),
        &json!({}),
        status,
    )
    .await
}

async fn pending_requests(app: &TestApp, id: &str) -> u64 {
    app.get(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/summary"),
        200,
    )
    .await["pending_requests"]
        .as_u64()
        .expect("count")
}

#[tokio::test]
async fn a_sheet_is_connected_previewed_synced_kept_in_step_and_paused_once_when_access_is_revoked()
{
    let google = MockServer::start().await;
    let app = hub_app(&google, None).await;
    let id = neighborhood(&app).await;
    let owner = browser(&app, OWNER).await;
    let hub = format!("/api/v1/neighborhoods/{id}/sheet-hub");

    // Connect: PKCE at Google, back to Settings; the visit is good once.
    let landed = connect(&app, &google, &owner, &id, "4/first-code", "ya29.first").await;
    assert_eq!(landed, format!("/?sheet_hub=connected#/n/{id}/settings"));
    let status = app.get(&Who::Admin, &hub, 200).await;
    assert_eq!(
        (status["available"].as_bool(), status["connected"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(status["connected_by"], format!("phone:{OWNER}"));

    // Choose the sheet by its link.
    let link = format!("https://docs.google.com/spreadsheets/d/{SPREADSHEET}/edit#gid=0");
    app.put(
        &Who::Admin,
        &hub,
        &json!({"spreadsheet": link, "range": "   "}),
        400,
    )
    .await;
    let saved = app
        .put(
            &Who::Admin,
            &hub,
            &json!({"spreadsheet": link, "range": "Neighbors"}),
            200,
        )
        .await;
    assert_eq!(saved["spreadsheet"], SPREADSHEET);
    assert!(
        saved.get("next_sync_at").is_none(),
        "not before a captain's first sync"
    );

    // 500 neighbors and a row whose phone is not one.
    let mut people: Vec<Vec<String>> = (1..=500).map(person).collect();
    people.push(vec!["Nobody".into(), "not a phone".into(), String::new()]);
    sheet_answers(
        &google,
        9,
        "ya29.first",
        ResponseTemplate::new(200).set_body_json(value_range(&people)),
    )
    .await;

    let preview = post(&app, &id, "preview", 200).await;
    assert_eq!(
        (
            preview["dry_run"].as_bool(),
            preview["rows"].as_u64(),
            preview["added"].as_u64(),
            preview["rejected"].as_u64()
        ),
        (Some(true), Some(501), Some(500), Some(1))
    );
    assert_eq!(
        pending_requests(&app, &id).await,
        0,
        "a preview changes nothing"
    );

    let first = post(&app, &id, "sync", 200).await;
    println!("first sync: {}", first["last_sync"]);
    let counts = |sync: &Value| {
        [
            "rows",
            "added",
            "updated",
            "unchanged",
            "rejected",
            "removed_from_sheet",
        ]
        .map(|field| sync["last_sync"][field].as_u64().unwrap_or(u64::MAX))
    };
    assert_eq!(counts(&first), [501, 500, 0, 0, 1, 0]);
    assert_eq!(pending_requests(&app, &id).await, 500);
    assert!(first["next_sync_at"].is_string(), "on schedule from now on");

    // Unchanged: one request to Google, and the access token is reused.
    let reads = sheet_reads(&google).await;
    let again = post(&app, &id, "sync", 200).await;
    assert_eq!(again["last_sync"]["sheet_unchanged"], true);
    assert_eq!(sheet_reads(&google).await, reads + 1);
    assert_eq!(token_requests(&google, "grant_type=refresh_token").await, 0);

    // Three rows edited, two new, one gone.
    people[0][0] = "Neighbor One Renamed".into();
    people[1][2] = "2 Oak Ave".into();
    people[2][0] = "Neighbor Three Renamed".into();
    let gone = people.remove(3);
    people.push(person(501));
    people.push(person(502));
    sheet_answers(
        &google,
        8,
        "ya29.first",
        ResponseTemplate::new(200).set_body_json(value_range(&people)),
    )
    .await;
    let second = post(&app, &id, "sync", 200).await;
    println!("second sync: {}", second["last_sync"]);
    assert_eq!(counts(&second), [502, 2, 3, 496, 1, 1]);
    assert_eq!(
        second["last_sync"]["removed_phones"],
        json!(["+15553100004"])
    );
    assert_eq!(gone[1], "(555) 3100004");
    assert_eq!(
        pending_requests(&app, &id).await,
        502,
        "a row gone removes nobody"
    );

    // Access revoked: the token no longer works and cannot be refreshed.
    sheet_answers(
        &google,
        7,
        "ya29.first",
        ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=1%2F%2Fhub-refresh"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})))
        .mount(&google)
        .await;
    let revoked = post(&app, &id, "sync", 200).await;
    assert_eq!(revoked["paused"], true);
    assert_eq!(revoked["problem"]["code"], "revoked");
    assert!(revoked.get("next_sync_at").is_none(), "paused: no schedule");
    let told = || async {
        app.inbox(OWNER)
            .await
            .into_iter()
            .filter(|message| message.1.contains("syncing your Google Sheet stopped"))
            .count()
    };
    poll_until(
        Duration::from_secs(20),
        "the captains to be told",
        || async { (told().await == 1).then_some(()) },
    )
    .await;
    let still = post(&app, &id, "sync", 200).await;
    assert_eq!(still["problem"]["code"], "revoked");
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert_eq!(told().await, 1, "told once");

    // Reconnected: the pause ends, and syncing works with the new access.
    let landed = connect(&app, &google, &owner, &id, "4/second-code", "ya29.second").await;
    assert_eq!(landed, format!("/?sheet_hub=connected#/n/{id}/settings"));
    let reconnected = app.get(&Who::Admin, &hub, 200).await;
    assert_eq!(
        (reconnected["paused"].as_bool(), reconnected.get("problem")),
        (Some(false), None)
    );
    sheet_answers(
        &google,
        6,
        "ya29.second",
        ResponseTemplate::new(200).set_body_json(value_range(&people)),
    )
    .await;
    let back = post(&app, &id, "sync", 200).await;
    assert_eq!(
        back["last_sync"]["sheet_unchanged"], false,
        "a new connection reads again"
    );
    assert_eq!(counts(&back)[1..3], [0, 0]);

    // Disconnected: revoked at Google, in the form body.
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=1%2F%2Fhub-refresh"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&google)
        .await;
    app.delete(&Who::Admin, &hub, 204).await;
    let after = app.get(&Who::Admin, &hub, 200).await;
    assert_eq!(after["connected"], false);
    google.verify().await;
}

#[tokio::test]
async fn a_consent_visit_is_for_the_captain_who_started_it_once_and_a_refusal_is_said() {
    let google = MockServer::start().await;
    let app = hub_app(&google, None).await;
    let id = neighborhood(&app).await;
    let owner = browser(&app, OWNER).await;
    let started: Value = owner
        .post(app.url(&format!("/api/v1/neighborhoods/{id}/sheet-hub/connect")))
        .header("origin", crate::helpers::PUBLIC_URL)
        .send()
        .await
        .expect("connect")
        .json()
        .await
        .expect("json");
    let consent: url::Url = started["authorization_url"]
        .as_str()
        .expect("url")
        .parse()
        .expect("url");
    let state = consent
        .query_pairs()
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .expect("state");
    let landing = |client: reqwest::Client, query: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = query
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            let answer = client
                .get(callback_url(app, &pairs))
                .send()
                .await
                .expect("callback");
            assert_eq!(answer.status(), 303);
            answer.headers()["location"]
                .to_str()
                .expect("location")
                .to_owned()
        }
    };
    // Not signed in, or signed in as someone else: the visit is not theirs to finish.
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let expired = format!("/?sheet_hub=error&reason=expired#/n/{id}/settings");
    assert_eq!(
        landing(
            stranger,
            vec![("state", state.clone()), ("code", "4/x".into())]
        )
        .await,
        expired
    );
    // The captain says no on Google's page.
    assert_eq!(
        landing(
            owner.clone(),
            vec![("state", state.clone()), ("error", "access_denied".into())]
        )
        .await,
        format!("/?sheet_hub=error&reason=denied#/n/{id}/settings")
    );
    // Used once: a replay finds nothing.
    assert_eq!(
        landing(
            owner.clone(),
            vec![("state", state.clone()), ("code", "4/x".into())]
        )
        .await,
        expired
    );
    assert_eq!(
        landing(owner, vec![("state", "garbage".into())]).await,
        "/?sheet_hub=error&reason=expired#/"
    );
    let status = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/sheet-hub"),
            200,
        )
        .await;
    assert_eq!(status["connected"], false);
    assert!(
        google
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "Google was never asked"
    );
}

#[tokio::test]
async fn two_instances_never_sync_one_neighborhood_at_once_and_the_schedule_syncs_it_once() {
    let google = MockServer::start().await;
    let first = hub_app(&google, None).await;
    let second = hub_app(&google, Some(&first.prefix)).await;
    let id = neighborhood(&first).await;
    let owner = browser(&first, OWNER).await;
    connect(&first, &google, &owner, &id, "4/code", "ya29.only").await;
    let hub = format!("/api/v1/neighborhoods/{id}/sheet-hub");
    first
        .put(
            &Who::Admin,
            &hub,
            &json!({"spreadsheet": SPREADSHEET, "range": "Neighbors", "interval_minutes": 5}),
            200,
        )
        .await;
    let people: Vec<Vec<String>> = (1..=20).map(person).collect();
    // Slow enough that both instances ask while the first sync reads.
    sheet_answers(
        &google,
        5,
        "ya29.only",
        ResponseTemplate::new(200)
            .set_body_json(value_range(&people))
            .set_delay(Duration::from_millis(700)),
    )
    .await;
    let sync = |app: &TestApp| {
        app.http
            .post(app.url(&format!("{hub}/sync")))
            .json(&json!({}))
            .send()
    };
    let (a, b) = tokio::join!(sync(&first), sync(&second));
    let mut statuses = [
        a.expect("sync").status().as_u16(),
        b.expect("sync").status().as_u16(),
    ];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(sheet_reads(&google).await, 1);

    // Made due now: both instances' schedules look, one syncs.
    let keys = neighborhood_text::store::keys::Keys::new(first.keys_prefix.clone());
    let neighborhood_id = uuid::Uuid::parse_str(&id).expect("uuid");
    let mut state: neighborhood_text::domain::sheet_hub::SyncState = {
        let stored = first
            .state
            .store
            .sheet_hub(neighborhood_id)
            .await
            .expect("hub");
        stored.sync
    };
    state.next_at_ms = Some(0);
    let mut redis = crate::helpers::test_redis().await;
    let _: () = redis::cmd("HSET")
        .arg(keys.sheet_hub(neighborhood_id))
        .arg("sync")
        .arg(serde_json::to_string(&state).expect("json"))
        .query_async(&mut redis)
        .await
        .expect("HSET");
    let scheduled = poll_until(Duration::from_secs(30), "a scheduled sync", || async {
        let status = first.get(&Who::Admin, &hub, 200).await;
        (status["last_sync"]["trigger"] == "schedule").then_some(status)
    })
    .await;
    assert_eq!(scheduled["last_sync"]["sheet_unchanged"], true);
    assert_eq!(
        sheet_reads(&google).await,
        2,
        "the scheduled sync read once"
    );
    // An instance that saw it due before that sync and takes the lease after it reads the hub
    // again under the lease, and does nothing; its next look finds nothing due.
    use neighborhood_text::sheet_hub;
    sheet_hub::sync(
        &second.state,
        neighborhood_id,
        neighborhood_text::domain::sheet_hub::SyncTrigger::Schedule,
        None,
    )
    .await
    .expect("a late scheduled sync");
    assert_eq!(sheet_hub::sync_due(&second.state).await.expect("look"), 0);
    assert_eq!(sheet_reads(&google).await, 2);
    assert_eq!(
        first.get(&Who::Admin, &hub, 200).await["next_sync_at"],
        scheduled["next_sync_at"]
    );
}

const QUESTION: &str = "I agree to receive texts from Sheet Street's group";
/// `'Form Responses 1'` as it goes in the request's path.
const FORM_RANGE: &str = "%27Form%20Responses%201%27";

fn response(at: &str, name: &str, phone: &str, agrees: &str) -> Vec<String> {
    [at, name, phone, "12 Elm St", agrees]
        .map(str::to_owned)
        .to_vec()
}

fn form_sheet(responses: &[Vec<String>]) -> Value {
    let mut values = vec![
        [
            "Timestamp",
            "Your name",
            "Mobile",
            "Street address",
            QUESTION,
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    values.extend(responses.iter().cloned());
    json!({"range": "'Form Responses 1'!A1:Z1000", "majorDimension": "ROWS", "values": values})
}

async fn requests_in(app: &TestApp, id: &str, state: &str) -> Vec<Value> {
    app.get(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests?state={state}"),
        200,
    )
    .await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_forms_new_responses_become_join_requests_once_with_their_consent_and_the_captains_told()
{
    let google = MockServer::start().await;
    let app = hub_app(&google, None).await;
    let id = neighborhood(&app).await;
    let owner = browser(&app, OWNER).await;
    connect(&app, &google, &owner, &id, "4/form-code", "ya29.form").await;
    let hub = format!("/api/v1/neighborhoods/{id}/sheet-hub");
    let form = json!({"spreadsheet": SPREADSHEET, "range": "'Form Responses 1'", "mode": "form"});
    app.put(&Who::Admin, &hub, &form, 400).await;
    let with_question = json!({"spreadsheet": SPREADSHEET, "range": "'Form Responses 1'", "mode": "form", "consent_question": QUESTION});
    let saved = app.put(&Who::Admin, &hub, &with_question, 200).await;
    assert_eq!(saved["mode"], "form");

    let mut responses = vec![
        response("12/6/2026 9:01:00", "Ana Ruiz", "(555) 320-0001", "I agree"),
        response("12/6/2026 9:02:00", "Bo Chen", "(555) 320-0002", ""),
        response("12/6/2026 9:03:00", "Cy Diaz", "(555) 320-0003", "I agree"),
    ];
    range_answers(
        &google,
        9,
        "ya29.form",
        FORM_RANGE,
        ResponseTemplate::new(200).set_body_json(form_sheet(&responses)),
    )
    .await;

    let preview = post(&app, &id, "preview", 200).await;
    assert_eq!(
        (
            preview["rows"].as_u64(),
            preview["added"].as_u64(),
            preview["rejected"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(
        preview["warnings"],
        json!([]),
        "the timestamp and consent columns are read"
    );
    assert_eq!(
        preview["details"][1]["reason"],
        format!("Did not agree to \"{QUESTION}\".")
    );
    assert!(requests_in(&app, &id, "pending").await.is_empty());

    let first = post(&app, &id, "sync", 200).await;
    assert_eq!(
        (
            first["last_sync"]["added"].as_u64(),
            first["last_sync"]["rejected"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let pending = requests_in(&app, &id, "pending").await;
    assert_eq!(pending.len(), 2);
    for request in &pending {
        assert_eq!(
            (
                request["channel"].as_str(),
                request["consent_text"].as_str()
            ),
            (Some("form"), Some(QUESTION))
        );
    }
    // The captains are told as of any request (each, or in their digest).
    poll_until(
        Duration::from_secs(20),
        "the captains to hear of both",
        || async {
            let told = app
                .inbox(OWNER)
                .await
                .into_iter()
                .map(|m| m.1)
                .collect::<Vec<_>>();
            let of = |name: &str| {
                told.iter()
                    .any(|text| text.contains("join request") && text.contains(name))
            };
            (of("Ana Ruiz") && of("Cy Diaz") && !of("Bo Chen")).then_some(())
        },
    )
    .await;

    // Ana is turned down; a new response comes in: only it is filed, Ana's is not again.
    let ana = pending
        .iter()
        .find(|r| r["name"] == "Ana Ruiz")
        .expect("Ana's request");
    app.post(
        &Who::Admin,
        &format!(
            "/api/v1/neighborhoods/{id}/join-requests/{}/deny",
            ana["id"].as_str().expect("id")
        ),
        &json!({}),
        200,
    )
    .await;
    responses.push(response(
        "12/6/2026 9:30:00",
        "Dee Evans",
        "(555) 320-0004",
        "I agree",
    ));
    range_answers(
        &google,
        8,
        "ya29.form",
        FORM_RANGE,
        ResponseTemplate::new(200).set_body_json(form_sheet(&responses)),
    )
    .await;
    let second = post(&app, &id, "sync", 200).await;
    assert_eq!(
        ["rows", "added", "unchanged", "rejected"].map(|f| second["last_sync"][f].as_u64()),
        [Some(4), Some(1), Some(3), Some(0)]
    );
    let names: Vec<String> = requests_in(&app, &id, "pending")
        .await
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Dee Evans".to_owned()) && !names.contains(&"Ana Ruiz".to_owned()));
}

#[tokio::test]
async fn googles_quota_is_waited_out_a_sheet_no_longer_shared_pauses_and_deleting_revokes() {
    let google = MockServer::start().await;
    let app = hub_app(&google, None).await;
    let id = neighborhood(&app).await;
    let owner = browser(&app, OWNER).await;
    connect(&app, &google, &owner, &id, "4/quota", "ya29.quota").await;
    let hub = format!("/api/v1/neighborhoods/{id}/sheet-hub");
    let config = json!({"spreadsheet": SPREADSHEET, "range": "Neighbors"});
    app.put(&Who::Admin, &hub, &config, 200).await;
    let people: Vec<Vec<String>> = (1..=3).map(person).collect();
    sheet_answers(
        &google,
        9,
        "ya29.quota",
        ResponseTemplate::new(200).set_body_json(value_range(&people)),
    )
    .await;
    post(&app, &id, "sync", 200).await;

    // Over the quota: tried again after Google's Retry-After, not paused, nobody texted.
    sheet_answers(
        &google,
        8,
        "ya29.quota",
        ResponseTemplate::new(429)
            .insert_header("retry-after", "600")
            .set_body_json(json!({"error": {"code": 429, "message": "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user'.", "status": "RESOURCE_EXHAUSTED"}})),
    )
    .await;
    let before = time::OffsetDateTime::now_utc();
    let throttled = post(&app, &id, "sync", 200).await;
    assert_eq!(
        (
            throttled["paused"].as_bool(),
            throttled["problem"]["code"].as_str()
        ),
        (Some(false), Some("rate_limited"))
    );
    let next = time::OffsetDateTime::parse(
        throttled["next_sync_at"].as_str().expect("next"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("time");
    assert!(
        next - before >= time::Duration::seconds(600),
        "waits out Retry-After: {next}"
    );
    // Failing for about an hour (six tries in a row): the captains are told, once.
    let still_failing = || async {
        app.inbox(OWNER)
            .await
            .iter()
            .filter(|m| m.1.contains("has not let us read your Google Sheet"))
            .count()
    };
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert_eq!(still_failing().await, 0, "a first failure texts nobody");
    for _ in 2..=7 {
        let again = post(&app, &id, "sync", 200).await;
        assert_eq!(again["paused"], false);
    }
    poll_until(
        Duration::from_secs(20),
        "the captains to hear Google keeps failing",
        || async { (still_failing().await >= 1).then_some(()) },
    )
    .await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert_eq!(still_failing().await, 1, "told once");

    // No longer shared with the connected account: paused, the captains told.
    sheet_answers(
        &google,
        7,
        "ya29.quota",
        ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}})),
    )
    .await;
    let forbidden = post(&app, &id, "sync", 200).await;
    assert_eq!(
        (
            forbidden["paused"].as_bool(),
            forbidden["problem"]["code"].as_str()
        ),
        (Some(true), Some("forbidden"))
    );
    poll_until(
        Duration::from_secs(20),
        "the captains to be told",
        || async {
            app.inbox(OWNER)
                .await
                .iter()
                .any(|m| m.1.contains("no longer shared"))
                .then_some(())
        },
    )
    .await;
    assert!(
        !app.inbox(OWNER)
            .await
            .iter()
            .any(|m| m.1.contains("Google access was removed")),
        "told what happened, and only that"
    );
    // Shared again and saved again: the pause is over.
    sheet_answers(
        &google,
        6,
        "ya29.quota",
        ResponseTemplate::new(200).set_body_json(value_range(&people)),
    )
    .await;
    let saved = app.put(&Who::Admin, &hub, &config, 200).await;
    assert_eq!(
        (saved["paused"].as_bool(), saved.get("problem")),
        (Some(false), None)
    );
    let resumed = post(&app, &id, "sync", 200).await;
    assert_eq!(resumed["last_sync"]["rows"], 3);

    // Deleting the neighborhood revokes the access at Google.
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=1%2F%2Fhub-refresh"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&google)
        .await;
    let owner_session = Who::session(&app, OWNER).await;
    app.post(
        &owner_session,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        200,
    )
    .await;
    app.send(
        &owner_session,
        reqwest::Method::DELETE,
        &format!("/api/v1/neighborhoods/{id}"),
        Some(&json!({"confirm_name": "Sheet Street"})),
        200,
    )
    .await;
    google.verify().await;
}

#[tokio::test]
async fn rows_past_todays_additions_are_taken_by_a_later_sync_of_the_same_sheet() {
    let google = MockServer::start().await;
    let receiver = MockServer::start().await;
    let mut settings = crate::helpers::sandbox_settings(&receiver);
    settings.reconcile_every_secs = 0;
    settings.daily_additions_per_neighborhood = 2;
    with_google(&mut settings, &google);
    let app = spawn_sandbox_app_with(receiver, settings).await;
    let id = neighborhood(&app).await;
    let owner = browser(&app, OWNER).await;
    connect(&app, &google, &owner, &id, "4/cap", "ya29.cap").await;
    let hub = format!("/api/v1/neighborhoods/{id}/sheet-hub");
    let attested =
        json!({"spreadsheet": SPREADSHEET, "range": "Neighbors", "attest_consent": true});
    app.put(&Who::Admin, &hub, &attested, 200).await;
    let people: Vec<Vec<String>> = (1..=3).map(person).collect();
    sheet_answers(
        &google,
        9,
        "ya29.cap",
        ResponseTemplate::new(200).set_body_json(value_range(&people)),
    )
    .await;

    let first = post(&app, &id, "sync", 200).await;
    let counts =
        |sync: &Value| ["added", "rejected", "held_back"].map(|f| sync["last_sync"][f].as_u64());
    assert_eq!(counts(&first), [Some(2), Some(1), Some(1)]);
    // The same sheet again, the same day: read through again, still held back.
    let again = post(&app, &id, "sync", 200).await;
    assert_eq!(again["last_sync"]["sheet_unchanged"], false);
    assert_eq!(counts(&again), [Some(0), Some(1), Some(1)]);
    // The next day (its count starts again): taken.
    let keys = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone());
    let today = neighborhood_text::services::sending::today();
    let neighborhood_id = uuid::Uuid::parse_str(&id).expect("uuid");
    let mut redis = crate::helpers::test_redis().await;
    let _: () = redis::cmd("DEL")
        .arg(keys.daily_additions(neighborhood_id, &today))
        .query_async(&mut redis)
        .await
        .expect("DEL");
    let next_day = post(&app, &id, "sync", 200).await;
    assert_eq!(counts(&next_day), [Some(1), Some(0), Some(0)]);
    let unchanged = post(&app, &id, "sync", 200).await;
    assert_eq!(unchanged["last_sync"]["sheet_unchanged"], true);
}
