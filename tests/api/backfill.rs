//! Issue 18, F2 and F2b: Twilio is the durable log we repair from. The service runs on a Redis of
//! its own, which the test kills and restarts; Twilio is the emulator running apart (its own
//! state in the shared test Redis), so it keeps working while the service's Redis is down, as
//! Twilio would. Texts written during the outage are turned away by the webhooks (503; Twilio
//! does not call a post-event again), and the backfill, triggered by those 503s once Redis
//! answers again, records, relays and answers each of them, once.

use std::collections::HashMap;
use std::time::Duration;

use neighborhood_text::jobs::backfill::Report;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::standalone_twilio::{
    Sent, Tally, drained, history, inboxes, pass_now, service, standalone_emulator, tally, text,
};
use crate::helpers::{OwnRedis, Who, add_members, eventually, poll_until, wait_until_synced};

const OWNER: &str = "+15550047700";
const STRANGER: &str = "+15550049999";
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn group_texts_and_a_join_sent_while_redis_was_down_are_recorded_relayed_and_answered_once_after()
 {
    let emulator = standalone_emulator().await;
    let mut redis = OwnRedis::start().await;
    let app = service(&redis.url, false, &emulator).await;
    let created = app
        .create_neighborhood(&json!({"name": "Backfill Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let number = created["phone_number"].as_str().expect("number").to_owned();
    // 200 members, as in the issue: four Conversations of 50, filled one after the other.
    let phones: Vec<String> = (1..=199).map(|n| format!("+1555004{n:04}")).collect();
    let mut synced = 1;
    for wave in [
        &phones[..49],
        &phones[49..99],
        &phones[99..149],
        &phones[149..],
    ] {
        add_members(&app, &id, wave, synced).await;
        synced += wave.len();
        wait_until_synced(&app, &id, synced, Duration::from_secs(120)).await;
    }
    let members = wait_until_synced(&app, &id, 200, Duration::from_secs(120)).await;
    drained(&app, &redis.connection().await, &id).await;
    let shards: Vec<&str> = {
        let mut shards: Vec<&str> = members
            .iter()
            .filter_map(|m| m["conversation_sid"].as_str())
            .collect();
        shards.sort_unstable();
        shards.dedup();
        shards
    };
    assert_eq!(shards.len(), 4, "four Conversations");
    let authors: Vec<&Value> = shards
        .iter()
        .flat_map(|shard| {
            members
                .iter()
                .filter(move |m| m["conversation_sid"] == *shard && m["phone"] != OWNER)
                .take(2)
        })
        .collect();
    assert_eq!(authors.len(), 8, "two authors in each Conversation");

    // Before the outage, the webhooks work: a text reaches everyone, signed.
    let warm_up = Sent {
        author: authors[0]["phone"].as_str().expect("phone").to_owned(),
        name: authors[0]["display_name"]
            .as_str()
            .expect("name")
            .to_owned(),
        body: "Street sweeping moved to Tuesday".to_owned(),
    };
    text(&emulator, &warm_up.author, &number, &warm_up.body).await;
    poll_until(WAIT, "the warm-up text to reach everyone", || async {
        let counts = tally(
            std::slice::from_ref(&warm_up),
            &members,
            &inboxes(&emulator).await,
        );
        (counts.received == counts.expected).then_some(())
    })
    .await;
    drained(&app, &redis.connection().await, &id).await;

    redis.kill();
    let turned_away = app.state.backfill.turned_away();
    let outage: Vec<Sent> = authors
        .iter()
        .enumerate()
        .map(|(n, author)| Sent {
            author: author["phone"].as_str().expect("phone").to_owned(),
            name: author["display_name"].as_str().expect("name").to_owned(),
            body: format!("Outage text {n}: has anyone seen a grey cat?"),
        })
        .collect();
    for sent in &outage {
        let routed = text(&emulator, &sent.author, &number, &sent.body).await;
        assert_eq!(routed["outcome"], "conversation", "{routed}");
    }
    text(&emulator, STRANGER, &number, "JOIN Zed Q.").await;
    // Each group text was turned away twice (the number's SMS webhook, which Twilio calls for a
    // member's text too, and the post-event), the JOIN once; Twilio does not call again.
    let expected_turned_away = 2 * outage.len() as u64 + 1;
    eventually(
        WAIT,
        "every webhook of the outage to be answered",
        || async { app.state.backfill.turned_away() - turned_away >= expected_turned_away },
    )
    .await;
    assert_eq!(
        app.state.backfill.turned_away() - turned_away,
        expected_turned_away
    );
    assert!(app.state.backfill.is_due(), "the 503s call for a backfill");
    let passes = app.state.backfill.passes();

    redis.restart().await;
    // The job picks the outage up as soon as Redis answers: no call, no sleep.
    eventually(WAIT, "the backfill pass after the outage", || async {
        app.state.backfill.passes() > passes
    })
    .await;
    drained(&app, &redis.connection().await, &id).await;

    let after = tally(&outage, &members, &inboxes(&emulator).await);
    println!("outage texts after the backfill: {after:?}");
    assert_eq!(
        after,
        Tally {
            sent: 8,
            expected: 8 * 199,
            received: 8 * 199,
            ..Tally::default()
        },
        "every member gets each outage text once, relays signed"
    );
    let recorded = history(&app, &id).await;
    for sent in outage.iter().chain([&warm_up]) {
        assert_eq!(
            recorded.iter().filter(|e| e.body == sent.body).count(),
            1,
            "{} in the history once",
            sent.body
        );
    }
    let requests = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    let zed: Vec<&Value> = requests["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "Zed Q.")
        .collect();
    assert_eq!(zed.len(), 1, "the JOIN is filed once: {requests}");
    let answered = |inboxes: HashMap<String, Vec<String>>| {
        inboxes
            .get(STRANGER)
            .into_iter()
            .flatten()
            .filter(|body| body.starts_with("Thanks, Zed Q.!"))
            .count()
    };
    assert_eq!(answered(inboxes(&emulator).await), 1, "and answered once");

    // Running it again changes nothing: past the watermarks, and, with the watermarks
    // forgotten, by the claims every message and text was acted on under.
    let again = pass_now(&app).await;
    assert_eq!(
        again,
        Report::default(),
        "a second pass finds nothing to do"
    );
    let keys = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone());
    let neighborhood_id = Uuid::parse_str(&id).expect("id");
    let _: () = redis::cmd("DEL")
        .arg(keys.shard_watermarks(neighborhood_id))
        .arg(keys.inbound_watermark(neighborhood_id))
        .query_async(&mut redis.connection().await)
        .await
        .expect("DEL");
    let from_scratch = pass_now(&app).await;
    assert_eq!(
        from_scratch,
        Report::default(),
        "a pass reading everything again acts on nothing again"
    );
    drained(&app, &redis.connection().await, &id).await;
    let inboxes_now = inboxes(&emulator).await;
    assert_eq!(tally(&outage, &members, &inboxes_now), after);
    let warm_up_copies = tally(std::slice::from_ref(&warm_up), &members, &inboxes_now);
    assert_eq!((warm_up_copies.lost, warm_up_copies.doubled), (0, 0));
    assert_eq!(history(&app, &id).await.len(), recorded.len());
    assert_eq!(answered(inboxes(&emulator).await), 1);
}

/// Issue 21: WhatsApp messages to the neighborhood's sender are in Twilio's Messages log under
/// `To=whatsapp:<sender>`. A `JOIN` written on WhatsApp while Redis was down is filed for
/// WhatsApp and answered there, once, by the pass after.
#[tokio::test]
async fn a_join_written_on_whatsapp_while_redis_was_down_is_filed_and_answered_there_once_after() {
    let emulator = standalone_emulator().await;
    let mut redis = OwnRedis::start().await;
    let app = service(&redis.url, false, &emulator).await;
    let created = app
        .create_neighborhood(&json!({"name": "Pier Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let number = created["phone_number"].as_str().expect("number").to_owned();
    let registered = reqwest::Client::new()
        .post(format!("{emulator}/sandbox/api/whatsapp-senders"))
        .json(&json!({"phone": number}))
        .send()
        .await
        .expect("sent");
    assert_eq!(registered.status(), 201, "the WhatsApp sender");
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"whatsapp_sender": number}),
        200,
    )
    .await;
    let sender = format!("whatsapp:{number}");
    let wanda = format!("whatsapp:{STRANGER}");

    redis.kill();
    let turned_away = app.state.backfill.turned_away();
    let passes = app.state.backfill.passes();
    let routed = text(&emulator, &wanda, &sender, "JOIN Wanda W.").await;
    assert_eq!(routed["outcome"], "sms_webhook", "{routed}");
    eventually(WAIT, "the webhook turned away", || async {
        app.state.backfill.turned_away() > turned_away
    })
    .await;
    redis.restart().await;
    eventually(WAIT, "the backfill pass after the outage", || async {
        app.state.backfill.passes() > passes
    })
    .await;

    let answer = "Your request to join Pier Street is with the captains";
    let answered = |inboxes: HashMap<String, Vec<String>>| {
        inboxes
            .get(&wanda)
            .into_iter()
            .flatten()
            .filter(|body| body.contains(answer))
            .count()
    };
    poll_until(WAIT, "the answer on WhatsApp", || async {
        (answered(inboxes(&emulator).await) > 0).then_some(())
    })
    .await;
    let requests = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    let items = requests["items"].as_array().expect("requests");
    assert_eq!(items.len(), 1, "filed once: {requests}");
    assert_eq!(items[0]["name"], "Wanda W.");
    assert!(
        items[0]["consent_text"]
            .as_str()
            .is_some_and(|text| text.contains("on WhatsApp")),
        "{requests}"
    );

    // Another pass, with the watermark forgotten, acts on nothing again.
    let keys = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone());
    let _: () = redis::cmd("DEL")
        .arg(keys.inbound_watermark(Uuid::parse_str(&id).expect("id")))
        .query_async(&mut redis.connection().await)
        .await
        .expect("DEL");
    assert_eq!(pass_now(&app).await, Report::default());
    assert_eq!(answered(inboxes(&emulator).await), 1, "answered once");

    // Let in, she is a WhatsApp member.
    app.post(
        &Who::Admin,
        &format!(
            "/api/v1/neighborhoods/{id}/join-requests/{}/approve",
            items[0]["id"].as_str().expect("id")
        ),
        &json!({}),
        202,
    )
    .await;
    let members = wait_until_synced(&app, &id, 2, WAIT).await;
    let member = members
        .iter()
        .find(|m| m["display_name"] == "Wanda W.")
        .expect("a member");
    assert_eq!(member["channel"], "whatsapp", "{member}");
}
