//! Neighborhoods through the HTTP API, with Twilio at the wire (wiremock).

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path, path_regex, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{ACCOUNT_SID, SERVICE_SID, Who, json_of, mount_working_twilio, spawn_app};

fn account_path(rest: &str) -> String {
    format!("/api/2010-04-01/Accounts/{ACCOUNT_SID}{rest}")
}

#[tokio::test]
async fn creating_a_neighborhood_buys_a_number_and_creates_its_conversation() {
    let app = spawn_app().await;
    // The exact calls, at the wire, each exactly once.
    Mock::given(method("GET"))
        .and(path(account_path("/AvailablePhoneNumbers/US/Local.json")))
        .and(query_param("AreaCode", "415"))
        .and(query_param("SmsEnabled", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "available_phone_numbers": [{"phone_number": "+14155550100", "friendly_name": "(415) 555-0100",
                "capabilities": {"SMS": true, "MMS": true, "voice": true}}],
            "uri": "/x"
        })))
        .expect(1)
        .mount(&app.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(account_path("/IncomingPhoneNumbers.json")))
        .and(body_string_contains("PhoneNumber=%2B14155550100"))
        .and(body_string_contains(
            "SmsUrl=https%3A%2F%2Ftext.example.org%2Fwebhooks%2Ftwilio%2Fsms",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "PN0123456789abcdef0123456789abcdef", "phone_number": "+14155550100",
            "sms_url": "https://text.example.org/webhooks/twilio/sms"
        })))
        .expect(1)
        .mount(&app.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/messaging/v1/Services/{SERVICE_SID}/PhoneNumbers")))
        .and(body_string_contains("PhoneNumberSid=PN0123456789abcdef0123456789abcdef"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "PN0123456789abcdef0123456789abcdef", "service_sid": SERVICE_SID, "phone_number": "+14155550100"
        })))
        .expect(1)
        .mount(&app.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path("/conversations/v1/Conversations"))
        .and(body_string_contains(format!(
            "MessagingServiceSid={SERVICE_SID}"
        )))
        .and(body_string_contains("FriendlyName=Elm+Street+Block+Club"))
        .and(body_string_contains("UniqueName=nb-"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "CH0123456789abcdef0123456789abcdef", "unique_name": "nb-x-0", "state": "active"
        })))
        .expect(1)
        .mount(&app.twilio)
        .await;

    let created = app
        .create_neighborhood(&json!({"owner_phone": "+15550000999", "name": "Elm Street Block Club", "description": "Porch talk", "area_code": "415"}))
        .await;

    assert_eq!(created["name"], "Elm Street Block Club");
    assert_eq!(created["slug"], "elm-street-block-club");
    assert_eq!(
        created["join_url"],
        "https://text.example.org/join/elm-street-block-club"
    );
    assert_eq!(created["phone_number"], "+14155550100");
    assert_eq!(created["state"], "active");
    assert_eq!(created["mode"], "open");
    assert_eq!(created["join_policy"], "approval");
    assert_eq!(
        created["shards"][0]["conversation_sid"],
        "CH0123456789abcdef0123456789abcdef"
    );
    let conversation_create = app
        .twilio
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|request| request.url.path() == "/conversations/v1/Conversations")
        .expect("conversation created");
    let form = String::from_utf8_lossy(&conversation_create.body);
    assert!(
        !form.contains("Timers."),
        "neighborhood conversations never close on a timer: {form}"
    );
    let id = created["id"].as_str().expect("id");
    assert!(
        form.contains(&format!("UniqueName=nb-{}-0", id.replace('-', ""))),
        "{form}"
    );

    let fetched = app
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;
    assert_eq!(fetched, created);
    let listed = app.get(&Who::Admin, "/api/v1/neighborhoods", 200).await;
    assert_eq!(listed["items"], json!([created]));
}

#[tokio::test]
async fn when_the_conversation_cannot_be_created_the_bought_number_is_released_and_nothing_is_stored()
 {
    let app = spawn_app().await;
    mount_working_twilio(&app.twilio).await;
    Mock::given(method("POST"))
        .and(path("/conversations/v1/Conversations"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 50000, "message": "Something about the Conversation was refused", "status": 400,
            "more_info": "https://www.twilio.com/docs/errors/50000"
        })))
        .with_priority(1)
        .expect(1)
        .mount(&app.twilio)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(format!(
            r"^{}$",
            account_path(r"/IncomingPhoneNumbers/PN[0-9a-f]{32}\.json")
        )))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(1)
        .expect(1)
        .mount(&app.twilio)
        .await;

    let stored_before = app.stored_keys().await;
    let body = app
        .post(
            &Who::Admin,
            "/api/v1/neighborhoods",
            &json!({"owner_phone": "+15550000999", "name": "Oak Lane", "area_code": "212"}),
            502,
        )
        .await;
    assert_eq!(body["code"], "twilio_error");
    assert!(
        !body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("refused"),
        "Twilio's text is not echoed: {body}"
    );
    assert_eq!(
        app.stored_keys().await,
        stored_before,
        "nothing half-stored"
    );
    let listed = app.get(&Who::Admin, "/api/v1/neighborhoods", 200).await;
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn an_owned_number_is_adopted_and_can_never_serve_two_neighborhoods() {
    let app = spawn_app().await;
    mount_working_twilio(&app.twilio).await;
    Mock::given(method("GET"))
        .and(path(account_path("/IncomingPhoneNumbers.json")))
        .and(query_param("PhoneNumber", "+13125550142"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "incoming_phone_numbers": [{"sid": "PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phone_number": "+13125550142",
                "sms_url": "https://old.example.org/sms"}],
            "next_page_uri": null
        })))
        .with_priority(1)
        .expect(1)
        .mount(&app.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(account_path(
            "/IncomingPhoneNumbers/PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
        )))
        .and(body_string_contains(
            "SmsUrl=https%3A%2F%2Ftext.example.org%2Fwebhooks%2Ftwilio%2Fsms",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sid": "PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "phone_number": "+13125550142"
        })))
        .with_priority(1)
        .expect(1)
        .mount(&app.twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/api/2010-04-01/Accounts/AC00000000000000000000000000000001/IncomingPhoneNumbers.json",
        ))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .expect(0)
        .mount(&app.twilio)
        .await;

    let first = app
        .create_neighborhood(&json!({"owner_phone": "+15550000999", "name": "Maple", "phone_number": "(312) 555-0142"}))
        .await;
    assert_eq!(first["phone_number"], "+13125550142");
    assert_eq!(
        first["phone_number_sid"],
        "PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );

    let body = app.post(&Who::Admin, "/api/v1/neighborhoods",
            &json!({"owner_phone": "+15550000999", "name": "Maple Two", "phone_number": "+13125550142"}), 409).await;
    assert_eq!(body["code"], "number_taken");
}

#[tokio::test]
async fn a_number_the_account_does_not_own_is_refused_and_its_claim_freed() {
    let app = spawn_app().await;
    mount_working_twilio(&app.twilio).await;
    Mock::given(method("GET"))
        .and(path(account_path("/IncomingPhoneNumbers.json")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"incoming_phone_numbers": [], "next_page_uri": null})),
        )
        .with_priority(1)
        .mount(&app.twilio)
        .await;

    let stored_before = app.stored_keys().await;
    let body = app.post(&Who::Admin, "/api/v1/neighborhoods",
            &json!({"owner_phone": "+15550000999", "name": "Birch", "phone_number": "+13125550199"}), 422).await;
    assert_eq!(body["code"], "number_not_owned");
    assert_eq!(
        app.stored_keys().await,
        stored_before,
        "nothing half-stored"
    );
}

#[tokio::test]
async fn invalid_fields_are_all_reported_at_once_and_nothing_reaches_twilio() {
    let app = spawn_app().await;

    let body = app.post(&Who::Admin, "/api/v1/neighborhoods",
            &json!({"owner_phone": "+15550000999", "name": "  ", "slug": "Bad Slug", "area_code": "012", "phone_number": "+14155550100"}), 400).await;
    assert_eq!(body["code"], "validation_failed");
    let fields: Vec<&str> = body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "slug", "area_code"]);
    assert!(
        app.twilio
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn unreadable_bodies_and_unknown_fields_get_the_one_error_shape() {
    let app = spawn_app().await;
    for (body, content_type, expected_status, expected_code) in [
        ("{\"name\": ", "application/json", 400, "bad_request"),
        (
            "{\"nmae\": \"Elm\", \"area_code\": \"415\"}",
            "application/json",
            400,
            "bad_request",
        ),
        (
            "{\"name\": [\"Elm\"], \"area_code\": \"415\"}",
            "application/json",
            400,
            "bad_request",
        ),
        (
            "name=Elm",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
    ] {
        let response = app
            .http
            .post(app.url("/api/v1/neighborhoods"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("sent");
        let (status, json) = json_of(response).await;
        assert_eq!(status, expected_status, "{body} -> {json}");
        assert_eq!(json["code"], expected_code, "{body} -> {json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(json["details"].is_array());
    }
    let json = app
        .get(&Who::Admin, "/api/v1/neighborhoods/not-a-uuid", 400)
        .await;
    assert_eq!(json["code"], "bad_request");
    let json = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{}", uuid::Uuid::now_v7()),
            404,
        )
        .await;
    assert_eq!(json["code"], "not_found");
    let json = app.get(&Who::Admin, "/api/v1/nothing-here", 404).await;
    assert_eq!(json["code"], "not_found");
}

#[tokio::test]
async fn renaming_a_neighborhood_renames_its_conversation_and_other_changes_stay_local() {
    let app = spawn_app().await;
    mount_working_twilio(&app.twilio).await;
    let created = app
        .create_neighborhood(
            &json!({"owner_phone": "+15550000999", "name": "Cedar", "area_code": "503"}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let conversation = created["shards"][0]["conversation_sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    Mock::given(method("POST"))
        .and(path(format!(
            "/conversations/v1/Conversations/{conversation}"
        )))
        .and(body_string_contains("FriendlyName=Cedar+Court"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"sid": conversation, "state": "active"})),
        )
        .with_priority(1)
        .expect(1)
        .mount(&app.twilio)
        .await;

    let renamed = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"name": "Cedar Court"}),
            200,
        )
        .await;
    assert_eq!(renamed["name"], "Cedar Court");
    assert_eq!(renamed["slug"], "cedar", "the join link survives a rename");

    // The owner's participant is added in the background: settled first, so the count below
    // sees only what the next change does.
    app.wait_for_outbox_drained(id, std::time::Duration::from_secs(30))
        .await;
    let calls_before = app
        .twilio
        .received_requests()
        .await
        .expect("recording")
        .len();
    let changed = app.patch(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"),
            &json!({"description": "Quiet street", "mode": "announce_only", "join_policy": "invite_only"}), 200).await;
    assert_eq!(
        app.twilio
            .received_requests()
            .await
            .expect("recording")
            .len(),
        calls_before,
        "changes other than the name make no Twilio call"
    );
    assert_eq!(changed["description"], "Quiet street");
    assert_eq!(changed["mode"], "announce_only");
    assert_eq!(changed["join_policy"], "invite_only");
    assert_eq!(changed["name"], "Cedar Court");

    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"mode": "chaos"}),
        400,
    )
    .await;
}

#[tokio::test]
async fn archiving_closes_the_conversation_releases_the_number_and_freezes_the_neighborhood() {
    let app = spawn_app().await;
    mount_working_twilio(&app.twilio).await;
    let created = app
        .create_neighborhood(
            &json!({"owner_phone": "+15550000999", "name": "Spruce", "area_code": "617"}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let conversation = created["shards"][0]["conversation_sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    let number_sid = created["phone_number_sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    Mock::given(method("POST"))
        .and(path(format!(
            "/conversations/v1/Conversations/{conversation}"
        )))
        .and(body_string_contains("State=closed"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"sid": conversation, "state": "closed"})),
        )
        .with_priority(1)
        .expect(1)
        .mount(&app.twilio)
        .await;
    Mock::given(method("DELETE"))
        .and(path(account_path(&format!(
            "/IncomingPhoneNumbers/{number_sid}.json"
        ))))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(1)
        .expect(1)
        .mount(&app.twilio)
        .await;

    let archived = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/archive"),
            &json!({"release_number": true}),
            200,
        )
        .await;
    assert_eq!(archived["state"], "archived");

    let active = app.get(&Who::Admin, "/api/v1/neighborhoods", 200).await;
    assert_eq!(active["items"], json!([]));
    let listed = app
        .get(&Who::Admin, "/api/v1/neighborhoods?state=archived", 200)
        .await;
    assert_eq!(listed["items"][0]["id"], id);

    let again = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/archive"),
            &json!({"release_number": true}),
            409,
        )
        .await;
    assert_eq!(again["code"], "neighborhood_archived");
    let patched = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"name": "Back"}),
            409,
        )
        .await;
    assert_eq!(patched["code"], "neighborhood_archived");
}

#[tokio::test]
async fn a_kept_number_is_free_for_a_new_neighborhood_after_archiving() {
    let app = spawn_app().await;
    mount_working_twilio(&app.twilio).await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"IncomingPhoneNumbers/PN[0-9a-f]{32}\.json$"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(1)
        .expect(0)
        .mount(&app.twilio)
        .await;
    let first = app
        .create_neighborhood(&json!({"owner_phone": "+15550000999", "name": "Willow", "phone_number": "+12065550111"}))
        .await;
    let id = first["id"].as_str().expect("id");

    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        200,
    )
    .await;

    let second = app
        .create_neighborhood(&json!({"owner_phone": "+15550000999", "name": "Willow", "phone_number": "+12065550111"}))
        .await;
    assert_eq!(second["phone_number"], "+12065550111");
    assert_eq!(
        second["slug"], "willow-2",
        "the archived neighborhood keeps its link"
    );
}

#[tokio::test]
async fn neighborhoods_are_listed_in_pages_oldest_first() {
    let app = spawn_app().await;
    mount_working_twilio(&app.twilio).await;
    let mut ids = Vec::new();
    for name in ["One", "Two", "Three"] {
        let created = app
            .create_neighborhood(&json!({"owner_phone": "+15550000999", "name": format!("Street {name}"), "area_code": "415"}))
            .await;
        ids.push(created["id"].as_str().expect("id").to_owned());
    }

    let first = app
        .get(&Who::Admin, "/api/v1/neighborhoods?limit=2", 200)
        .await;
    let first_ids: Vec<&str> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(first_ids, [ids[0].as_str(), ids[1].as_str()]);
    let after = first["next_after"].as_str().expect("a next page");
    let second = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods?limit=2&after={after}"),
            200,
        )
        .await;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["items"][0]["id"], ids[2].as_str());
    assert_eq!(second["next_after"], Value::Null);

    let body = app
        .get(&Who::Admin, "/api/v1/neighborhoods?limit=0", 400)
        .await;
    assert_eq!(body["details"][0]["field"], "limit");
}

#[tokio::test]
async fn without_a_twilio_account_creating_is_refused_clearly() {
    let twilio = wiremock::MockServer::start().await;
    let mut settings = crate::helpers::test_settings(&twilio);
    settings.twilio_account_sid = None;
    settings.twilio_auth_token = None;
    settings.twilio_messaging_service_sid = None;
    settings.twilio_api_base = None;
    settings.sandbox = neighborhood_text::config::SandboxMode::Off;
    let app = crate::helpers::spawn_app_with(twilio, settings).await;

    let body = app
        .post(
            &Who::Admin,
            "/api/v1/neighborhoods",
            &json!({"owner_phone": "+15550000999", "name": "Elm", "area_code": "415"}),
            503,
        )
        .await;
    assert_eq!(body["code"], "twilio_not_configured");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("NT_TWILIO_ACCOUNT_SID")
    );
}
