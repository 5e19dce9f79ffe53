//! Joining through the web: ask, confirm the phone by code, a captain approves or denies; end to
//! end against the emulator.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, json_of, spawn_sandbox_app};

const OWNER: &str = "+15550007700";
const NEIGHBOR: &str = "+15550007701";

async fn neighborhood(app: &TestApp) -> (String, String, String) {
    let created = app.create_neighborhood(&json!({"name": "Join Street", "area_code": "303", "owner_phone": OWNER, "owner_name": "Olive"})).await;
    let id = created["id"].as_str().expect("id").to_owned();
    eventually(
        Duration::from_secs(20),
        "the owner to join the group",
        || async {
            let (_, members) = json_of(
                app.get_raw(&format!("/api/v1/neighborhoods/{id}/members"))
                    .await,
            )
            .await;
            members["items"][0]["sync"] == "done"
        },
    )
    .await;
    (
        id,
        created["slug"].as_str().expect("slug").to_owned(),
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

async fn ask(app: &TestApp, slug: &str, body: &Value) -> (u16, Value) {
    json_of(
        reqwest::Client::new()
            .post(app.url(&format!("/api/v1/join/{slug}")))
            .json(body)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

/// The newest text in `phone`'s inbox containing `needle`, polling until it arrives.
async fn text_containing(app: &TestApp, phone: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((_, body, _)) = app
            .inbox(phone)
            .await
            .into_iter()
            .rev()
            .find(|(_, body, _)| body.contains(needle))
        {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no text with `{needle}` reached {phone}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn confirm(app: &TestApp, slug: &str, request_id: &str, phone: &str) -> (u16, Value) {
    let text = text_containing(app, phone, "is your code to join").await;
    let code: String = text.chars().take(6).collect();
    json_of(
        reqwest::Client::new()
            .post(app.url(&format!("/api/v1/join/{slug}/verify")))
            .json(&json!({"request_id": request_id, "code": code}))
            .send()
            .await
            .expect("sent"),
    )
    .await
}

#[tokio::test]
async fn a_neighbor_asks_on_the_web_confirms_their_phone_and_a_captain_lets_them_in() {
    let app = spawn_sandbox_app().await;
    let (id, slug, number) = neighborhood(&app).await;

    let (status, card) = json_of(
        reqwest::get(app.url(&format!("/api/v1/join/{slug}")))
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        card["consent_text"]
            .as_str()
            .unwrap_or_default()
            .contains("Reply LEAVE")
    );
    let (status, asked) = ask(
        &app,
        &slug,
        &json!({"name": "Ana Ruiz", "phone": NEIGHBOR, "address": "14 Elm St", "consent": true}),
    )
    .await;
    assert_eq!(
        (status, asked["state"].as_str()),
        (202, Some("pending_verification")),
        "{asked}"
    );
    let request_id = asked["request_id"].as_str().expect("id").to_owned();

    let (status, again) = ask(
        &app,
        &slug,
        &json!({"name": "Ana Ruiz", "phone": NEIGHBOR, "consent": true}),
    )
    .await;
    assert_eq!(
        (status, again["request_id"].as_str()),
        (202, Some(request_id.as_str())),
        "one open request per phone"
    );
    // Asking again texts a fresh code that replaces the first: wait for both texts.
    eventually(Duration::from_secs(20), "two code texts", || async {
        app.inbox(NEIGHBOR)
            .await
            .iter()
            .filter(|(_, body, _)| body.contains("is your code to join"))
            .count()
            == 2
    })
    .await;

    let (status, confirmed) = confirm(&app, &slug, &request_id, NEIGHBOR).await;
    assert_eq!(
        (status, confirmed["state"].as_str()),
        (200, Some("pending")),
        "{confirmed}"
    );
    let notice = text_containing(&app, OWNER, "New join request #").await;
    assert!(
        notice.contains("Ana Ruiz, 14 Elm St. Reply #approve"),
        "{notice}"
    );

    let (_, listed) = json_of(
        app.get_raw(&format!(
            "/api/v1/neighborhoods/{id}/join-requests?state=pending"
        ))
        .await,
    )
    .await;
    let request = &listed["items"][0];
    assert_eq!(request["id"], request_id.as_str());
    assert_eq!(request["phone"], NEIGHBOR);
    assert!(
        request["consent_text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("I agree to receive group text messages")
    );

    let approve = format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve");
    let empty = json!({});
    let (first, second) = tokio::join!(
        app.post_raw(&approve, &empty),
        app.post_raw(&approve, &empty)
    );
    let (first, second) = (json_of(first).await, json_of(second).await);
    assert_eq!(
        (first.0, second.0),
        (202, 202),
        "two captains approving at once both succeed: {first:?} {second:?}"
    );
    assert_eq!(
        first.1["request"]["member_id"], second.1["request"]["member_id"],
        "and make one member"
    );

    text_containing(&app, NEIGHBOR, "Welcome to Join Street!").await;
    eventually(
        Duration::from_secs(20),
        "the neighbor to be in the group",
        || async {
            let (_, members) = json_of(
                app.get_raw(&format!("/api/v1/neighborhoods/{id}/members"))
                    .await,
            )
            .await;
            let items = members["items"].as_array().cloned().unwrap_or_default();
            items.len() == 2 && items.iter().all(|m| m["sync"] == "done")
        },
    )
    .await;
    let routed = app.text(NEIGHBOR, &number, "hi all").await;
    assert_eq!(routed["outcome"], "conversation");
    assert_eq!(
        app.inbox(OWNER).await.last().map(|m| m.1.clone()),
        Some("Ana Ruiz: hi all".to_owned())
    );

    let (status, body) = json_of(
        app.post_raw(
            &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/deny"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "an approved request cannot be denied"
    );
}

#[tokio::test]
async fn a_denied_neighbor_gets_a_polite_text_and_cannot_be_approved_after() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let (_, asked) = ask(
        &app,
        &slug,
        &json!({"name": "Ben", "phone": NEIGHBOR, "consent": true}),
    )
    .await;
    let request_id = asked["request_id"].as_str().expect("id").to_owned();
    confirm(&app, &slug, &request_id, NEIGHBOR).await;

    let (status, denied) = json_of(
        app.post_raw(
            &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/deny"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((status, denied["state"].as_str()), (200, Some("denied")));
    assert!(
        denied["decided_by"]
            .as_str()
            .unwrap_or_default()
            .starts_with("token:")
    );
    text_containing(&app, NEIGHBOR, "could not add you this time").await;
    let (status, _) = json_of(
        app.post_raw(
            &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn bad_join_requests_are_refused_clearly() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;

    let (status, body) = ask(
        &app,
        &slug,
        &json!({"name": " ", "phone": "call me", "consent": false}),
    )
    .await;
    assert_eq!(status, 400);
    let fields: Vec<&str> = body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "phone", "consent"]);

    let (_, asked) = ask(
        &app,
        &slug,
        &json!({"name": "Cy", "phone": NEIGHBOR, "consent": true}),
    )
    .await;
    let request_id = asked["request_id"].as_str().expect("id");
    let wrong = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/join/{slug}/verify")))
        .json(&json!({"request_id": request_id, "code": "000001"}))
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(wrong).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_code")));
    let (status, _) = json_of(
        app.post_raw(
            &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "an unconfirmed request cannot be approved");

    let (status, _) = json_of(
        reqwest::get(app.url("/api/v1/join/no-such-place"))
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json_of(
        app.post_raw(
            &format!("/api/v1/neighborhoods/{id}/archive"),
            &json!({"release_number": false}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = ask(
        &app,
        &slug,
        &json!({"name": "Dee", "phone": "+15550007702", "consent": true}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("neighborhood_archived"))
    );
}

async fn set_policy(app: &TestApp, id: &str, changes: Value) {
    let (status, body) = json_of(
        app.patch_raw(&format!("/api/v1/neighborhoods/{id}"), &changes)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Asks to join as `phone` and confirms the code; returns the confirmation.
async fn ask_and_confirm(app: &TestApp, slug: &str, body: &Value) -> Value {
    let (status, asked) = ask(app, slug, body).await;
    assert_eq!(status, 202, "{asked}");
    let phone = body["phone"].as_str().expect("phone");
    let (status, confirmed) =
        confirm(app, slug, asked["request_id"].as_str().expect("id"), phone).await;
    assert_eq!(status, 200, "{confirmed}");
    confirmed
}

#[tokio::test]
async fn under_the_open_policy_a_confirmed_neighbor_is_in_without_a_captain() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    set_policy(&app, &id, json!({"join_policy": "open"})).await;
    let (_, card) = json_of(
        reqwest::get(app.url(&format!("/api/v1/join/{slug}")))
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(card["join_policy"], "open");

    let confirmed = ask_and_confirm(
        &app,
        &slug,
        &json!({"name": "Ana Ruiz", "phone": NEIGHBOR, "consent": true}),
    )
    .await;

    assert_eq!(confirmed["state"], "approved");
    text_containing(&app, NEIGHBOR, "Welcome to Join Street!").await;
    let (_, requests) = json_of(
        app.get_raw(&format!("/api/v1/neighborhoods/{id}/join-requests"))
            .await,
    )
    .await;
    assert_eq!(requests["items"][0]["decided_by"], "policy:open");
    assert!(
        !app.inbox(OWNER)
            .await
            .iter()
            .any(|m| m.1.starts_with("New join request")),
        "no captain is asked"
    );
}

#[tokio::test]
async fn an_invite_only_neighborhood_takes_personal_invite_links_only() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    set_policy(&app, &id, json!({"join_policy": "invite_only"})).await;

    let (status, refused) = ask(
        &app,
        &slug,
        &json!({"name": "Uninvited", "phone": "+15550007705", "consent": true}),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("invite_only"))
    );

    let (status, _) = json_of(
        app.post_raw(
            &format!("/api/v1/neighborhoods/{id}/invites"),
            &json!({"phones": [NEIGHBOR]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 202);
    let invite = text_containing(&app, NEIGHBOR, "?invite=").await;
    let code: String = invite
        .split("?invite=")
        .nth(1)
        .expect("code")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let (status, _) = ask(
        &app,
        &slug,
        &json!({"name": "Ana", "phone": "+15550007705", "consent": true, "invite": code}),
    )
    .await;
    assert_eq!(status, 403, "an invite is for the phone it was sent to");

    let confirmed = ask_and_confirm(
        &app,
        &slug,
        &json!({"name": "Ana", "phone": NEIGHBOR, "consent": true, "invite": code}),
    )
    .await;
    assert_eq!(confirmed["state"], "pending");
    let (_, requests) = json_of(
        app.get_raw(&format!("/api/v1/neighborhoods/{id}/join-requests"))
            .await,
    )
    .await;
    assert_eq!(requests["items"][0]["channel"], "invite");
}

#[tokio::test]
async fn join_questions_are_asked_and_the_answers_reach_the_captains() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let questions = json!([
        {"id": "street", "text": "Which street do you live on?", "required": true},
        {"id": "pets", "text": "Any pets?"}
    ]);
    set_policy(&app, &id, json!({"join_questions": questions})).await;
    let (_, card) = json_of(
        reqwest::get(app.url(&format!("/api/v1/join/{slug}")))
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(card["join_questions"][0]["id"], "street");
    assert_eq!(card["join_questions"][1]["required"], false);

    let (status, refused) = ask(
        &app,
        &slug,
        &json!({"name": "Ana", "phone": NEIGHBOR, "consent": true, "answers": {"pets": "a cat", "age": "40"}}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    let fields: Vec<&str> = refused["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["answers.age", "answers.street"]);

    ask_and_confirm(
        &app,
        &slug,
        &json!({"name": "Ana", "phone": NEIGHBOR, "consent": true, "answers": {"street": "Elm", "pets": "a cat"}}),
    )
    .await;
    let (_, requests) = json_of(
        app.get_raw(&format!("/api/v1/neighborhoods/{id}/join-requests"))
            .await,
    )
    .await;
    let request = &requests["items"][0];
    assert_eq!(
        request["answers"],
        json!({"Which street do you live on?": "Elm", "Any pets?": "a cat"})
    );
    let (status, approved) = json_of(
        app.post_raw(
            &format!(
                "/api/v1/neighborhoods/{id}/join-requests/{}/approve",
                request["id"].as_str().expect("id")
            ),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        approved["member"]["answers"]["Which street do you live on?"],
        "Elm"
    );
    assert_eq!(approved["member"]["consent"]["channel"], "web");

    let (status, bad) = json_of(
        app.patch_raw(
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"join_questions": [{"id": "Bad Id", "text": "?"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["details"][0]["field"], "join_questions");
}

#[tokio::test]
async fn requests_of_an_archived_neighborhood_can_no_longer_be_decided() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let mut request_ids = Vec::new();
    for phone in [NEIGHBOR, "+15550007706"] {
        let (_, asked) = ask(
            &app,
            &slug,
            &json!({"name": "Neighbor", "phone": phone, "consent": true}),
        )
        .await;
        let request_id = asked["request_id"].as_str().expect("id").to_owned();
        confirm(&app, &slug, &request_id, phone).await;
        request_ids.push(request_id);
    }
    let (status, _) = json_of(
        app.post_raw(
            &format!("/api/v1/neighborhoods/{id}/archive"),
            &json!({"release_number": false}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);

    for (decision, request_id) in ["approve", "deny"].iter().zip(&request_ids) {
        let (status, body) = json_of(
            app.post_raw(
                &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/{decision}"),
                &json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("neighborhood_archived")),
            "{decision}"
        );
    }
    let (_, requests) = json_of(
        app.get_raw(&format!(
            "/api/v1/neighborhoods/{id}/join-requests?state=pending"
        ))
        .await,
    )
    .await;
    assert_eq!(
        requests["items"].as_array().map(Vec::len),
        Some(2),
        "both still pending"
    );
}

#[tokio::test]
async fn an_expired_code_no_longer_confirms_the_phone() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let (_, asked) = ask(
        &app,
        &slug,
        &json!({"name": "Late Larry", "phone": NEIGHBOR, "consent": true}),
    )
    .await;
    let request_id = asked["request_id"].as_str().expect("id").to_owned();
    text_containing(&app, NEIGHBOR, "is your code to join").await;
    let key = app
        .state
        .store
        .keys()
        .join_code(id.parse().expect("uuid"), request_id.parse().expect("uuid"));
    let mut redis = redis::Client::open(crate::helpers::redis_url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    // Codes expire by their Redis TTL: run the clock out on this one.
    let _: () = redis::cmd("PEXPIRE")
        .arg(&key)
        .arg(1)
        .query_async(&mut redis)
        .await
        .expect("pexpire");
    eventually(Duration::from_secs(5), "the code to expire", || {
        let mut redis = redis.clone();
        let key = key.clone();
        async move {
            !redis::cmd("EXISTS")
                .arg(&key)
                .query_async::<bool>(&mut redis)
                .await
                .unwrap_or(true)
        }
    })
    .await;

    let (status, body) = confirm(&app, &slug, &request_id, NEIGHBOR).await;

    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_code")));
}
