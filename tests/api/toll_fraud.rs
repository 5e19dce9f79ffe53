//! No toll fraud (security review, findings 2, 8, 12, 15): texts go only to allowed countries,
//! 1:1 texts stop at a daily cap (across instances) and the captains hear of it once, and per-IP
//! limits count an IPv6 /64 and a proxy's header only as configured.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::MockServer;

use crate::helpers::{
    TestApp, Who, json_of, sandbox_settings, spawn_app_with, spawn_sandbox_app,
    spawn_sandbox_app_with, spawn_sandbox_instance, test_settings, wait_until_synced,
};
use neighborhood_text::store::outbox::Effect;

const OWNER: &str = "+15550007800";

async fn neighborhood(app: &TestApp) -> (String, String) {
    let created = app
        .create_neighborhood(&json!({"name": "Toll Street", "area_code": "303", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    // Settled: the owner is in the group and nothing is left in the outbox.
    wait_until_synced(app, &id, 1, Duration::from_secs(20)).await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    (id, created["slug"].as_str().expect("slug").to_owned())
}

/// SMS the emulator was asked to send (`POST .../Messages.json`), all senders.
async fn sms_calls(app: &TestApp) -> u64 {
    let calls = app.rest_calls(false).await;
    calls["counts"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(operation, _)| operation.contains("Messages.json"))
        .map(|(_, count)| count.as_u64().unwrap_or(0))
        .sum()
}

fn join_body(phone: &str) -> Value {
    json!({"name": "Pat", "phone": phone, "consent": true})
}

#[tokio::test]
async fn a_join_request_from_abroad_is_refused_and_no_text_is_sent() {
    let app = spawn_sandbox_app().await;
    let (id, slug) = neighborhood(&app).await;
    app.rest_calls(true).await;

    // The UK, and Jamaica (which shares +1 with the US): refused, on the phone field.
    for phone in ["+442079460958", "+18765550123"] {
        let refused = app
            .post(
                &Who::Anonymous,
                &format!("/api/v1/join/{slug}"),
                &join_body(phone),
                400,
            )
            .await;
        assert_eq!(refused["details"][0]["field"], "phone", "{refused}");
        assert!(
            refused["details"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("the US or Canada"),
            "{refused}"
        );
    }
    // Nor can a captain add one.
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members"),
        &json!({"phone": "+442079460958", "display_name": "Abroad"}),
        400,
    )
    .await;
    // The last guard: a text to a phone abroad that reached the outbox anyway is dropped, while
    // a text to a US phone queued after it goes out.
    let nb = Uuid::parse_str(&id).expect("uuid");
    app.state
        .store
        .enqueue_effects(
            nb,
            &[
                Effect::SendSms {
                    to: "+442079460958".into(),
                    body: "abroad".into(),
                },
                Effect::SendSms {
                    to: "+15550007899".into(),
                    body: "at home".into(),
                },
            ],
        )
        .await
        .expect("queued");
    app.wait_for_text("+15550007899", "at home").await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert_eq!(sms_calls(&app).await, 1, "only the text at home was sent");
}

#[tokio::test]
async fn the_daily_cap_stops_texts_across_instances_and_tells_the_captains_once() {
    const CAP: u64 = 4;
    let receiver = MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.daily_texts_per_neighborhood = CAP;
    let first = spawn_sandbox_app_with(receiver, settings).await;
    let second = spawn_sandbox_instance(&first.prefix, |settings| {
        settings.daily_texts_per_neighborhood = CAP;
    })
    .await;
    let (id, slug) = neighborhood(&first).await;
    let summary_path = format!("/api/v1/neighborhoods/{id}/summary");
    let before = first.get(&Who::Admin, &summary_path, 200).await;
    let sent = before["texts_today"]["sent"].as_u64().expect("sent");
    assert!(sent < CAP, "{before}");
    assert_eq!(before["texts_today"]["paused"], false);

    // Join codes from both instances, alternately, until the cap; then none.
    let apps = [&first, &second];
    for n in sent..CAP {
        let phone = format!("+155500078{:02}", 10 + n);
        apps[n as usize % 2]
            .post(
                &Who::Anonymous,
                &format!("/api/v1/join/{slug}"),
                &join_body(&phone),
                202,
            )
            .await;
    }
    for n in 0..3 {
        let phone = format!("+155500078{:02}", 50 + n);
        let refused = apps[n % 2]
            .post(
                &Who::Anonymous,
                &format!("/api/v1/join/{slug}"),
                &join_body(&phone),
                503,
            )
            .await;
        assert_eq!(refused["code"], "texts_paused", "{refused}");
    }
    // The notice went out while the first refusal was answered: exactly one, on either instance.
    let notices: Vec<_> = first
        .inbox(OWNER)
        .await
        .into_iter()
        .filter(|(_, body, _)| body.contains("one-to-one texts for today"))
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    for phone in (50..53).map(|n| format!("+155500078{n}")) {
        assert!(first.inbox(&phone).await.is_empty(), "{phone} got a text");
    }
    let after = second.get(&Who::Admin, &summary_path, 200).await;
    assert_eq!(after["texts_today"]["sent"], CAP, "{after}");
    assert_eq!(after["texts_today"]["paused"], true, "{after}");
    let metrics = first
        .get_raw("/metrics")
        .await
        .text()
        .await
        .expect("metrics");
    assert!(metrics.contains("text_cap_trips_total"), "{metrics}");
}

/// Asks a sign-in code for `phone` claiming to come from `forwarded`; answers the status.
async fn ask_code(app: &TestApp, phone: &str, forwarded: &str) -> u16 {
    let (status, _) = json_of(
        app.anonymous
            .post(app.url("/api/v1/auth/code"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"phone": phone}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    status
}

async fn app_behind_proxy(trusted: &str) -> TestApp {
    let twilio = MockServer::start().await;
    let mut settings = test_settings(&twilio);
    settings.client_ip_header = Some("X-Forwarded-For".into());
    settings.trusted_proxies =
        neighborhood_text::domain::client_ip::TrustedProxies::parse(trusted).expect("ranges");
    spawn_app_with(twilio, settings).await
}

/// Requests a code for ten phones, each from `from(n)`: the per-IP limit allows ten.
async fn use_up_one_address(app: &TestApp, from: impl Fn(u32) -> String) {
    for n in 0..10 {
        let phone = format!("+155500079{n:02}");
        assert_eq!(ask_code(app, &phone, &from(n)).await, 202, "request {n}");
    }
}

#[tokio::test]
async fn ipv6_addresses_in_one_slash_64_share_a_rate_limit_bucket() {
    let app = app_behind_proxy("127.0.0.0/8,::1/128").await;
    use_up_one_address(&app, |n| format!("2001:db8:7:8::{:x}", n + 1)).await;
    assert_eq!(
        ask_code(&app, "+15550007950", "2001:db8:7:8:abcd::1").await,
        429
    );
    assert_eq!(ask_code(&app, "+15550007951", "2001:db8:7:9::1").await, 202);
}

#[tokio::test]
async fn the_proxy_header_counts_only_from_a_trusted_proxy_and_from_the_right() {
    // The test client (127.0.0.1) is not a trusted proxy: the header is ignored, so ten
    // different claimed addresses are one client.
    let untrusted = app_behind_proxy("192.0.2.0/24").await;
    use_up_one_address(&untrusted, |n| format!("198.51.100.{n}")).await;
    assert_eq!(
        ask_code(&untrusted, "+15550007950", "198.51.100.99").await,
        429
    );

    // Trusted: the right-most hop that is not a proxy is the client, whatever the client
    // wrote to the left of it.
    let trusted = app_behind_proxy("127.0.0.0/8,10.0.0.0/8").await;
    use_up_one_address(&trusted, |n| {
        format!("198.51.100.{n}, 203.0.113.9, 10.0.0.2")
    })
    .await;
    assert_eq!(
        ask_code(&trusted, "+15550007950", "198.51.100.99, 203.0.113.9").await,
        429
    );
    assert_eq!(
        ask_code(&trusted, "+15550007951", "203.0.113.10").await,
        202
    );
}

/// `POST .../import?{query}` of `csv` as `client`.
async fn import_as(
    client: &reqwest::Client,
    app: &TestApp,
    id: &str,
    query: &str,
    csv: &str,
) -> (u16, Value) {
    json_of(
        client
            .post(app.url(&format!("/api/v1/neighborhoods/{id}/import?{query}")))
            .header("content-type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await
            .expect("sent"),
    )
    .await
}

/// Finding 12: a stolen captain account cannot fill a neighborhood with numbers that never asked.
/// Direct adds, imports with attested consent and approvals of imported requests share one daily
/// count across instances; past it rows are reported, requests refused with 429, and a platform
/// admin adds the rest.
#[tokio::test]
async fn captains_add_a_bounded_number_of_unasked_people_a_day_and_a_platform_admin_adds_past_it() {
    const CAP: u64 = 3;
    let receiver = MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.daily_additions_per_neighborhood = CAP;
    let first = spawn_sandbox_app_with(receiver, settings).await;
    let second = spawn_sandbox_instance(&first.prefix, |settings| {
        settings.daily_additions_per_neighborhood = CAP;
    })
    .await;
    let (id, _) = neighborhood(&first).await;
    let captain_on_first = Who::session(&first, OWNER).await;
    let captain_on_second = crate::helpers::session_client(&second, OWNER).await;
    let members_path = format!("/api/v1/neighborhoods/{id}/members");
    first
        .post(
            &captain_on_first,
            &members_path,
            &json!({"phone": "+15550007801", "display_name": "Ann"}),
            202,
        )
        .await;

    let sheet = "name,phone\nBo,+15550007802\nCy,+15550007803\nDi,+15550007804\nEd,+15550007805\n";
    let (status, preview) = import_as(
        &captain_on_second,
        &second,
        &id,
        "attest_consent=true",
        sheet,
    )
    .await;
    assert_eq!(
        (status, &preview["added"], &preview["rejected"]),
        (200, &json!(2), &json!(2)),
        "{preview}"
    );
    let (status, report) = import_as(
        &captain_on_second,
        &second,
        &id,
        "dry_run=false&attest_consent=true",
        sheet,
    )
    .await;
    assert_eq!(
        (status, &report["added"], &report["rejected"]),
        (200, &json!(2), &json!(2)),
        "{report}"
    );
    let held_back: Vec<&Value> = report["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter(|row| row["outcome"] == "rejected")
        .collect();
    assert_eq!(
        held_back
            .iter()
            .map(|row| row["phone"].clone())
            .collect::<Vec<_>>(),
        [json!("+15550007804"), json!("+15550007805")]
    );
    assert!(
        held_back[0]["reason"]
            .as_str()
            .is_some_and(|why| why.contains("NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD")),
        "{report}"
    );

    let response = first
        .client(&captain_on_first)
        .post(first.url(&members_path))
        .json(&json!({"phone": "+15550007806", "display_name": "Fay"}))
        .send()
        .await
        .expect("sent");
    assert!(response.headers().contains_key("retry-after"));
    let (status, refused) = json_of(response).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (429, Some("daily_additions_reached")),
        "{refused}"
    );

    // Imported without consent: requests; approving one is an addition all the same.
    let (status, _) = import_as(
        &captain_on_second,
        &second,
        &id,
        "dry_run=false",
        "name,phone\nGus,+15550007807\n",
    )
    .await;
    assert_eq!(status, 200);
    let requests = first
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    let gus = requests["items"]
        .as_array()
        .and_then(|items| items.iter().find(|r| r["phone"] == "+15550007807"))
        .and_then(|r| r["id"].as_str())
        .expect("Gus's request")
        .to_owned();
    let refused = first
        .post(
            &captain_on_first,
            &format!("/api/v1/neighborhoods/{id}/join-requests/{gus}/approve"),
            &json!({}),
            429,
        )
        .await;
    assert_eq!(refused["code"], "daily_additions_reached");

    // A platform admin adds past the cap.
    first
        .post(
            &Who::Admin,
            &members_path,
            &json!({"phone": "+15550007806", "display_name": "Fay"}),
            202,
        )
        .await;
    first
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests/{gus}/approve"),
            &json!({}),
            202,
        )
        .await;
    let (status, rest) = import_as(
        &first.http,
        &first,
        &id,
        "dry_run=false&attest_consent=true",
        sheet,
    )
    .await;
    assert_eq!(
        (status, &rest["added"], &rest["rejected"]),
        (200, &json!(2), &json!(0)),
        "{rest}"
    );

    let listed = first.get(&Who::Admin, &members_path, 200).await;
    let mut phones: Vec<String> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["phone"].as_str().map(str::to_owned))
        .collect();
    phones.sort();
    assert_eq!(
        phones,
        (0..=7)
            .map(|n| format!("+1555000780{n}"))
            .collect::<Vec<_>>(),
        "everyone added exactly once: {listed}"
    );
}
