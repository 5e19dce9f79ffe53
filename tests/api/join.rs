//! Joining through the web: ask, confirm the phone by code, a captain approves or denies; end to
//! end against the emulator.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, eventually, spawn_sandbox_app};

const OWNER: &str = "+15550007700";
const NEIGHBOR: &str = "+15550007701";

async fn neighborhood(app: &TestApp) -> (String, String, String) {
    let created = app.create_neighborhood(&json!({"name": "Join Street", "area_code": "303", "owner_phone": OWNER, "owner_name": "Olive"})).await;
    let id = created["id"].as_str().expect("id").to_owned();
    eventually(
        Duration::from_secs(20),
        "the owner to join the group",
        || async {
            let members = app
                .get(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/members"),
                    200,
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

/// Asks to join from the public page; fails unless the answer is `status`.
async fn ask(app: &TestApp, slug: &str, body: &Value, status: u16) -> Value {
    app.post(
        &Who::Anonymous,
        &format!("/api/v1/join/{slug}"),
        body,
        status,
    )
    .await
}

/// Confirms the phone with the code texted to it; fails unless the answer is `status`.
async fn confirm(app: &TestApp, slug: &str, request_id: &str, phone: &str, status: u16) -> Value {
    let text = app.wait_for_text(phone, "is your code to join").await;
    let code: String = text.chars().take(6).collect();
    app.post(
        &Who::Anonymous,
        &format!("/api/v1/join/{slug}/verify"),
        &json!({"request_id": request_id, "code": code}),
        status,
    )
    .await
}

#[tokio::test]
async fn a_neighbor_asks_on_the_web_confirms_their_phone_and_a_captain_lets_them_in() {
    let app = spawn_sandbox_app().await;
    let (id, slug, number) = neighborhood(&app).await;

    let card = app
        .get(&Who::Anonymous, &format!("/api/v1/join/{slug}"), 200)
        .await;
    assert!(
        card["consent_text"]
            .as_str()
            .unwrap_or_default()
            .contains("Reply LEAVE")
    );
    let asked = ask(
        &app,
        &slug,
        &json!({"name": "Ana Ruiz", "phone": NEIGHBOR, "address": "14 Elm St", "consent": true}),
        202,
    )
    .await;
    assert_eq!(asked["state"], "pending_verification", "{asked}");
    let request_id = asked["request_id"].as_str().expect("id").to_owned();

    // Finding 9: asking again while unverified replaces the request's fields with the new
    // submission's (so no one else's stay), hence the address is given again.
    let again = ask(
        &app,
        &slug,
        &json!({"name": "Ana Ruiz", "phone": NEIGHBOR, "address": "14 Elm St", "consent": true}),
        202,
    )
    .await;
    assert_eq!(
        again["request_id"].as_str(),
        Some(request_id.as_str()),
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

    let confirmed = confirm(&app, &slug, &request_id, NEIGHBOR, 200).await;
    assert_eq!(confirmed["state"], "pending", "{confirmed}");
    let notice = app.wait_for_text(OWNER, "New join request #").await;
    assert!(
        notice.contains("Ana Ruiz, 14 Elm St. Reply #approve"),
        "{notice}"
    );

    let listed = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
            200,
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
    // Two captains approving at once both succeed, and make one member.
    let (first, second) = tokio::join!(
        app.post(&Who::Admin, &approve, &empty, 202),
        app.post(&Who::Admin, &approve, &empty, 202)
    );
    assert_eq!(
        first["request"]["member_id"], second["request"]["member_id"],
        "and make one member"
    );

    app.wait_for_text(NEIGHBOR, "Welcome to Join Street!").await;
    eventually(
        Duration::from_secs(20),
        "the neighbor to be in the group",
        || async {
            let members = app
                .get(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/members"),
                    200,
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

    let body = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/deny"),
            &json!({}),
            409,
        )
        .await;
    assert_eq!(
        body["code"], "conflict",
        "an approved request cannot be denied"
    );
}

#[tokio::test]
async fn a_denied_neighbor_gets_a_polite_text_and_cannot_be_approved_after() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let asked = ask(
        &app,
        &slug,
        &json!({"name": "Ben", "phone": NEIGHBOR, "consent": true}),
        202,
    )
    .await;
    let request_id = asked["request_id"].as_str().expect("id").to_owned();
    confirm(&app, &slug, &request_id, NEIGHBOR, 200).await;

    let denied = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/deny"),
            &json!({}),
            200,
        )
        .await;
    assert_eq!(denied["state"], "denied");
    assert!(
        denied["decided_by"]
            .as_str()
            .unwrap_or_default()
            .starts_with("token:")
    );
    app.wait_for_text(NEIGHBOR, "could not add you this time")
        .await;
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve"),
        &json!({}),
        409,
    )
    .await;
}

#[tokio::test]
async fn bad_join_requests_are_refused_clearly() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;

    let body = ask(
        &app,
        &slug,
        &json!({"name": " ", "phone": "call me", "consent": false}),
        400,
    )
    .await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "phone", "consent"]);

    let asked = ask(
        &app,
        &slug,
        &json!({"name": "Cy", "phone": NEIGHBOR, "consent": true}),
        202,
    )
    .await;
    let request_id = asked["request_id"].as_str().expect("id");
    let wrong = app
        .post(
            &Who::Anonymous,
            &format!("/api/v1/join/{slug}/verify"),
            &json!({"request_id": request_id, "code": "000001"}),
            400,
        )
        .await;
    assert_eq!(wrong["code"], "invalid_code");
    // An unconfirmed request cannot be approved.
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve"),
        &json!({}),
        409,
    )
    .await;

    app.get(&Who::Anonymous, "/api/v1/join/no-such-place", 404)
        .await;
    archive(&app, &id).await;
    let body = ask(
        &app,
        &slug,
        &json!({"name": "Dee", "phone": "+15550007702", "consent": true}),
        409,
    )
    .await;
    assert_eq!(body["code"], "neighborhood_archived");
}

async fn set_policy(app: &TestApp, id: &str, changes: Value) {
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &changes,
        200,
    )
    .await;
}

/// Archives the neighborhood, keeping its number.
async fn archive(app: &TestApp, id: &str) {
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        200,
    )
    .await;
}

/// The neighborhood's join requests, as a captain lists them (`query` narrows them).
async fn join_requests(app: &TestApp, id: &str, query: &str) -> Value {
    app.get(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests{query}"),
        200,
    )
    .await
}

/// Asks to join as `phone` and confirms the code; returns the confirmation.
async fn ask_and_confirm(app: &TestApp, slug: &str, body: &Value) -> Value {
    let asked = ask(app, slug, body, 202).await;
    let phone = body["phone"].as_str().expect("phone");
    confirm(
        app,
        slug,
        asked["request_id"].as_str().expect("id"),
        phone,
        200,
    )
    .await
}

#[tokio::test]
async fn under_the_open_policy_a_confirmed_neighbor_is_in_without_a_captain() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    set_policy(&app, &id, json!({"join_policy": "open"})).await;
    let card = app
        .get(&Who::Anonymous, &format!("/api/v1/join/{slug}"), 200)
        .await;
    assert_eq!(card["join_policy"], "open");

    let confirmed = ask_and_confirm(
        &app,
        &slug,
        &json!({"name": "Ana Ruiz", "phone": NEIGHBOR, "consent": true}),
    )
    .await;

    assert_eq!(confirmed["state"], "approved");
    app.wait_for_text(NEIGHBOR, "Welcome to Join Street!").await;
    let requests = join_requests(&app, &id, "").await;
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

    let refused = ask(
        &app,
        &slug,
        &json!({"name": "Uninvited", "phone": "+15550007705", "consent": true}),
        403,
    )
    .await;
    assert_eq!(refused["code"], "invite_only");

    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/invites"),
        &json!({"phones": [NEIGHBOR]}),
        202,
    )
    .await;
    let invite = app.wait_for_text(NEIGHBOR, "?invite=").await;
    let code: String = invite
        .split("?invite=")
        .nth(1)
        .expect("code")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    // An invite is for the phone it was sent to.
    ask(
        &app,
        &slug,
        &json!({"name": "Ana", "phone": "+15550007705", "consent": true, "invite": code}),
        403,
    )
    .await;

    let confirmed = ask_and_confirm(
        &app,
        &slug,
        &json!({"name": "Ana", "phone": NEIGHBOR, "consent": true, "invite": code}),
    )
    .await;
    assert_eq!(confirmed["state"], "pending");
    let requests = join_requests(&app, &id, "").await;
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
    let card = app
        .get(&Who::Anonymous, &format!("/api/v1/join/{slug}"), 200)
        .await;
    assert_eq!(card["join_questions"][0]["id"], "street");
    assert_eq!(card["join_questions"][1]["required"], false);

    let refused = ask(
        &app,
        &slug,
        &json!({"name": "Ana", "phone": NEIGHBOR, "consent": true, "answers": {"pets": "a cat", "age": "40"}}),
        400,
    )
    .await;
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
    let requests = join_requests(&app, &id, "").await;
    let request = &requests["items"][0];
    assert_eq!(
        request["answers"],
        json!({"Which street do you live on?": "Elm", "Any pets?": "a cat"})
    );
    let approved = app
        .post(
            &Who::Admin,
            &format!(
                "/api/v1/neighborhoods/{id}/join-requests/{}/approve",
                request["id"].as_str().expect("id")
            ),
            &json!({}),
            202,
        )
        .await;
    assert_eq!(
        approved["member"]["answers"]["Which street do you live on?"],
        "Elm"
    );
    assert_eq!(approved["member"]["consent"]["channel"], "web");

    let bad = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"join_questions": [{"id": "Bad Id", "text": "?"}]}),
            400,
        )
        .await;
    assert_eq!(bad["details"][0]["field"], "join_questions");
}

#[tokio::test]
async fn requests_of_an_archived_neighborhood_can_no_longer_be_decided() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let mut request_ids = Vec::new();
    for phone in [NEIGHBOR, "+15550007706"] {
        let asked = ask(
            &app,
            &slug,
            &json!({"name": "Neighbor", "phone": phone, "consent": true}),
            202,
        )
        .await;
        let request_id = asked["request_id"].as_str().expect("id").to_owned();
        confirm(&app, &slug, &request_id, phone, 200).await;
        request_ids.push(request_id);
    }
    archive(&app, &id).await;

    for (decision, request_id) in ["approve", "deny"].iter().zip(&request_ids) {
        let body = app
            .post(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/{decision}"),
                &json!({}),
                409,
            )
            .await;
        assert_eq!(body["code"], "neighborhood_archived", "{decision}");
    }
    let requests = join_requests(&app, &id, "?state=pending").await;
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
    let asked = ask(
        &app,
        &slug,
        &json!({"name": "Late Larry", "phone": NEIGHBOR, "consent": true}),
        202,
    )
    .await;
    let request_id = asked["request_id"].as_str().expect("id").to_owned();
    app.wait_for_text(NEIGHBOR, "is your code to join").await;
    let key = app
        .state
        .store
        .keys()
        .join_code(id.parse().expect("uuid"), request_id.parse().expect("uuid"));
    let mut redis = crate::helpers::test_redis().await;
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

    let body = confirm(&app, &slug, &request_id, NEIGHBOR, 400).await;

    assert_eq!(body["code"], "invalid_code");
}

/// Finding 14: the join form does not tell anyone whether a phone is in the group. A member's
/// phone gets the same 202 and "we texted you a code" as a stranger's; the member's phone gets a
/// note instead of a code, and the answer's id confirms nothing (a wrong id answers like a wrong
/// code). No request reaches the captains.
#[tokio::test]
async fn the_join_form_does_not_reveal_membership() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let stranger = ask(
        &app,
        &slug,
        &json!({"name": "Stan", "phone": NEIGHBOR, "consent": true}),
        202,
    )
    .await;
    let member = ask(
        &app,
        &slug,
        &json!({"name": "Olive", "phone": OWNER, "consent": true}),
        202,
    )
    .await;
    assert_eq!(member["state"], stranger["state"]);
    assert_eq!(member["message"], stranger["message"]);
    assert_eq!(
        member.as_object().map(|o| o.keys().collect::<Vec<_>>()),
        stranger.as_object().map(|o| o.keys().collect::<Vec<_>>())
    );
    app.wait_for_text(OWNER, "You are already in").await;
    let wrong = app
        .post(
            &Who::Anonymous,
            &format!("/api/v1/join/{slug}/verify"),
            &json!({"request_id": member["request_id"], "code": "000001"}),
            400,
        )
        .await;
    assert_eq!(wrong["code"], "invalid_code");
    let requests = join_requests(&app, &id, "").await;
    let phones: Vec<_> = requests["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["phone"].clone())
        .collect();
    assert!(!phones.contains(&json!(OWNER)), "{requests}");
}

/// The codes texted to `phone` so far.
async fn codes_sent(app: &TestApp, phone: &str) -> usize {
    app.inbox(phone)
        .await
        .iter()
        .filter(|(_, body, _)| body.contains("is your code to join"))
        .count()
}

/// Finding 9: an unverified request holds no phone's place. Someone asking first with a
/// neighbor's phone does not block the neighbor's own request, and their data is gone once the
/// neighbor asks (the neighbor's fields replace it): the captains see the neighbor's only.
#[tokio::test]
async fn an_unverified_request_does_not_hold_the_phones_place() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let squatter = ask(
        &app,
        &slug,
        &json!({"name": "Mallory", "phone": NEIGHBOR, "address": "1 Fake St", "consent": true}),
        202,
    )
    .await;
    eventually(Duration::from_secs(20), "the first code", || async {
        codes_sent(&app, NEIGHBOR).await == 1
    })
    .await;
    let own = ask(
        &app,
        &slug,
        &json!({"name": "Vera", "phone": NEIGHBOR, "address": "2 Real Rd", "consent": true}),
        202,
    )
    .await;
    // The phone's one unverified request, now with the neighbor's own fields.
    assert_eq!(own["request_id"], squatter["request_id"]);
    eventually(Duration::from_secs(20), "the second code", || async {
        codes_sent(&app, NEIGHBOR).await == 2
    })
    .await;
    let confirmed = confirm(
        &app,
        &slug,
        own["request_id"].as_str().expect("id"),
        NEIGHBOR,
        200,
    )
    .await;
    assert_eq!(confirmed["state"], "pending");
    let listed = join_requests(&app, &id, "").await;
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["name"], "Vera");
    assert_eq!(items[0]["address"], "2 Real Rd");
    assert!(!listed.to_string().contains("Mallory"), "{listed}");
    assert!(!listed.to_string().contains("1 Fake St"), "{listed}");
}

/// Finding 9: an unverified request expires once its code's lifetime and a margin are over: it
/// leaves the captains' list and frees the phone's place, so a new request is a new one.
#[tokio::test]
async fn an_unverified_request_expires() {
    let app = spawn_sandbox_app().await;
    let (id, slug, _) = neighborhood(&app).await;
    let stale = ask(
        &app,
        &slug,
        &json!({"name": "Slow Sam", "phone": NEIGHBOR, "consent": true}),
        202,
    )
    .await;
    let listed = join_requests(&app, &id, "?state=pending_verification").await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    // Back-date it past its lifetime (the index holds each unverified request's creation time).
    let key = app
        .state
        .store
        .keys()
        .unverified_join_requests(id.parse().expect("uuid"));
    let mut redis = crate::helpers::test_redis().await;
    let _: () = redis::cmd("ZADD")
        .arg(&key)
        .arg("XX")
        .arg(0)
        .arg(stale["request_id"].as_str().expect("id"))
        .query_async(&mut redis)
        .await
        .expect("zadd");

    let listed = join_requests(&app, &id, "").await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(0),
        "{listed}"
    );
    let index: u64 = redis::cmd("ZCARD")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .expect("zcard");
    assert_eq!(index, 0);
    let again = ask(
        &app,
        &slug,
        &json!({"name": "Sam", "phone": NEIGHBOR, "consent": true}),
        202,
    )
    .await;
    assert_ne!(again["request_id"], stale["request_id"]);
    assert_eq!(again["state"], "pending_verification");
}

/// Usability review B9: the audit log says which join questions were saved, and saving the same
/// settings again adds no entry.
#[tokio::test]
async fn saved_join_questions_are_audited_with_their_text_and_an_unchanged_save_is_not() {
    let app = spawn_sandbox_app().await;
    let (id, _, _) = neighborhood(&app).await;
    let updates = || async {
        let audit = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/audit?limit=200"),
                200,
            )
            .await;
        audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|entry| entry["action"] == "neighborhood.update")
            .cloned()
            .collect::<Vec<Value>>()
    };
    let questions = json!({"join_questions": [{"id": "street", "text": "Which street do you live on?", "required": true}]});

    set_policy(&app, &id, questions.clone()).await;
    set_policy(&app, &id, questions).await;

    let entries = updates().await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        entries[0]["detail"]["join_questions"],
        json!(["Which street do you live on?"])
    );
}

/// A join link shared in a chat app previews with the neighborhood's name: the page's title and
/// `og:` tags name it (escaped), since preview bots run no script; an unknown link gets the plain
/// page, and the icon every browser asks for is there.
#[tokio::test]
async fn a_shared_join_link_previews_with_the_neighborhoods_name() {
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(&json!({"name": "Elm & \"Oak\" Row", "area_code": "415", "owner_phone": "+15550007700", "description": "Porch lights <on> at dusk"}))
        .await;
    let slug = created["slug"].as_str().expect("slug");
    let page = app.get_raw(&format!("/join/{slug}")).await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<title>Join Elm &amp; \"Oak\" Row's group text</title>"),
        "{html}"
    );
    assert!(html.contains(
        "<meta property=\"og:title\" content=\"Join Elm &amp; &quot;Oak&quot; Row's group text\">"
    ));
    assert!(html.contains(
        "<meta property=\"og:description\" content=\"Porch lights &lt;on&gt; at dusk\">"
    ));
    assert!(html.contains(&format!(
        "<meta property=\"og:url\" content=\"{}join/{slug}\">",
        app.state.settings.public_url.as_str()
    )));

    let unknown = app.get_raw("/join/no-such-place").await;
    assert_eq!(unknown.status().as_u16(), 200);
    let html = unknown.text().await.expect("html");
    assert!(html.contains("<title>Join your neighborhood's group text</title>"));
    assert!(!html.contains("og:title"));

    let icon = app.get_raw("/favicon.ico").await;
    assert_eq!(icon.status().as_u16(), 200);
    assert_eq!(
        icon.headers()[reqwest::header::CONTENT_TYPE],
        "image/svg+xml"
    );
}
