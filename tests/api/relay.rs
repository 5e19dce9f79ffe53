//! A member's text reaches the whole group, end to end against the emulator: every other member
//! exactly once, across shards, for one REST call per other shard; it goes into the history
//! without a phone number; keywords and captain commands reach nobody and get a private reply.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    TestApp, Who, add_members, eventually, participants_by_shard, poll_until,
    spawn_counting_sandbox_app, wait_until_synced,
};

const OWNER: &str = "+15550007700";
const ANA: &str = "+15550007701";
const BO: &str = "+15550007702";
const CY: &str = "+15550007703";
const WAIT: Duration = Duration::from_secs(30);

/// What each simulated phone has received: (from, body, status), oldest first.
type Inboxes = HashMap<String, Vec<(String, String, String)>>;

/// A sandbox app without the periodic reconciliation, whose REST calls would blur the counts.
async fn spawn_app() -> TestApp {
    spawn_counting_sandbox_app(|_| {}).await
}

/// A neighborhood owned by Olive (`OWNER`); returns (id, number).
async fn neighborhood(app: &TestApp) -> (String, String) {
    let created = app
        .create_neighborhood(&json!({"name": "Relay Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    (
        created["id"].as_str().expect("id").to_owned(),
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

/// Every phone's inbox, from one read of the emulator's state (no REST call, so not counted).
async fn inboxes(app: &TestApp) -> Inboxes {
    app.inboxes().await
}

/// The bodies `phone` received after `before` was taken.
fn new_texts(before: &Inboxes, after: &Inboxes, phone: &str) -> Vec<String> {
    let seen = before.get(phone).map_or(0, Vec::len);
    after
        .get(phone)
        .map(|inbox| inbox[seen..].iter().map(|m| m.1.clone()).collect())
        .unwrap_or_default()
}

/// The neighborhood's history, newest first, read from the store (the history API is not ours).
async fn history(app: &TestApp, id: &str) -> Vec<neighborhood_text::store::messages::HistoryEntry> {
    app.state
        .store
        .messages(Uuid::parse_str(id).expect("id"), None, 10, |_| true)
        .await
        .expect("history")
        .into_iter()
        .map(|stored| stored.entry)
        .collect()
}

/// Members as the directory lists them.
async fn members(app: &TestApp, id: &str) -> Vec<Value> {
    let members = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members?limit=500"),
            200,
        )
        .await;
    members["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_members_text_reaches_each_other_member_once_and_the_history_without_phone_numbers() {
    let app = spawn_app().await;
    let (id, number) = neighborhood(&app).await;
    app.add_member_by_api(&id, ANA, "Ana R.").await;
    app.add_member_by_api(&id, BO, "Bo Diaz").await;
    let members = wait_until_synced(&app, &id, 3, WAIT).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let ana = members
        .iter()
        .find(|m| m["phone"] == ANA)
        .expect("Ana listed");
    let before = inboxes(&app).await;

    let routed = app.text(ANA, &number, "Block party Saturday at 4").await;

    assert_eq!(routed["outcome"], "conversation", "{routed}");
    let signed = "Ana R.: Block party Saturday at 4";
    eventually(WAIT, "the text to reach Olive and Bo", || async {
        let after = inboxes(&app).await;
        [OWNER, BO].iter().all(|phone| {
            new_texts(&before, &after, phone)
                .iter()
                .any(|b| b == signed)
        })
    })
    .await;
    eventually(WAIT, "the text in the history", || async {
        !history(&app, &id).await.is_empty()
    })
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let after = inboxes(&app).await;
    for phone in [OWNER, BO] {
        assert_eq!(
            new_texts(&before, &after, phone),
            [signed],
            "{phone} gets the text once, signed with Ana's name"
        );
        let from_number = after[phone].last().expect("received");
        assert_eq!(
            (from_number.0.as_str(), from_number.2.as_str()),
            (number.as_str(), "delivered")
        );
    }
    assert!(
        new_texts(&before, &after, ANA).is_empty(),
        "the sender gets nothing: {:?}",
        new_texts(&before, &after, ANA)
    );

    let history = history(&app, &id).await;
    assert_eq!(history.len(), 1, "{history:?}");
    let entry = &history[0];
    assert_eq!(entry.sender_name, "Ana R.");
    assert_eq!(entry.body, "Block party Saturday at 4");
    assert_eq!(
        Some(entry.conversation_sid.as_str()),
        ana["conversation_sid"].as_str()
    );
    assert_eq!(
        entry.member_id.map(|id| id.to_string()).as_deref(),
        ana["id"].as_str()
    );
    assert!(entry.message_sid.starts_with("IM"), "{entry:?}");
    let serialized = serde_json::to_string(entry).expect("json");
    for phone in [OWNER, ANA, BO, number.as_str()] {
        assert!(
            !serialized.contains(&phone[2..]),
            "{phone} in the history: {serialized}"
        );
    }
}

#[tokio::test]
async fn in_120_members_over_three_shards_a_text_reaches_each_other_member_once_for_two_rest_calls()
{
    let app = spawn_app().await;
    let (id, number) = neighborhood(&app).await;
    let phones: Vec<String> = (1..=119).map(|n| format!("+1555003{n:04}")).collect();
    // In waves that each fill a Conversation before the next arrives: members added all at once
    // spread over the Conversations opened for them (see `jobs::outbox::placement`), and this
    // test wants shards of 50, 50 and 20.
    let mut synced = 1;
    for wave in [&phones[..49], &phones[49..99], &phones[99..]] {
        add_members(&app, &id, wave, synced).await;
        synced += wave.len();
        wait_until_synced(&app, &id, synced, Duration::from_secs(120)).await;
    }
    let members = wait_until_synced(&app, &id, 120, Duration::from_secs(120)).await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    let shards = participants_by_shard(&app, &id).await;
    let sizes: Vec<usize> = shards.iter().map(|(_, phones)| phones.len()).collect();
    assert_eq!(sizes, [50, 50, 20], "three shards");
    // The sender is in the middle shard: the text is relayed into the first and the last.
    let sender = members
        .iter()
        .find(|m| m["conversation_sid"] == shards[1].0.as_str())
        .expect("a member of the second shard");
    let sender_phone = sender["phone"].as_str().expect("phone").to_owned();
    let signed = format!(
        "{}: Lost cat on Elm, answers to Miso",
        sender["display_name"].as_str().expect("name")
    );
    let everyone_else: Vec<String> = members
        .iter()
        .filter_map(|m| m["phone"].as_str())
        .filter(|phone| *phone != sender_phone)
        .map(str::to_owned)
        .collect();
    assert_eq!(everyone_else.len(), 119);
    assert!(everyone_else.iter().any(|phone| phone == OWNER));
    let before = inboxes(&app).await;
    let cleared = app.rest_calls(true).await;
    assert!(cleared["total"].as_u64() > Some(0), "{cleared}");

    let routed = app
        .text(&sender_phone, &number, "Lost cat on Elm, answers to Miso")
        .await;

    assert_eq!(routed["outcome"], "conversation", "{routed}");
    poll_until(
        Duration::from_secs(60),
        "every other member to get the text",
        || async {
            let after = inboxes(&app).await;
            everyone_else
                .iter()
                .all(|phone| new_texts(&before, &after, phone).contains(&signed))
                .then_some(())
        },
    )
    .await;
    // The history entry is written in one step with the relays; once it is there, an empty
    // outbox means both relays were carried out.
    eventually(WAIT, "the text in the history", || async {
        !history(&app, &id).await.is_empty()
    })
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;

    let calls = app.rest_calls(false).await;
    println!("REST calls to the emulator for one text to 120 members over 3 shards: {calls}");
    assert_eq!(
        calls,
        json!({"counts": {"POST /v1/Conversations/{sid}/Messages": 2}, "total": 2}),
        "one relay into each other shard, nothing else"
    );
    let after = inboxes(&app).await;
    for phone in &everyone_else {
        assert_eq!(
            new_texts(&before, &after, phone),
            [signed.as_str()],
            "{phone} gets the text exactly once"
        );
    }
    assert!(
        new_texts(&before, &after, &sender_phone).is_empty(),
        "the sender gets nothing"
    );
    let history = history(&app, &id).await;
    assert_eq!(history.len(), 1, "recorded once, not once per shard");
    assert_eq!(history[0].conversation_sid, shards[1].0);
}

#[tokio::test]
async fn stop_leave_help_and_a_members_captain_command_reach_nobody_and_get_their_reply() {
    let app = spawn_app().await;
    let (id, number) = neighborhood(&app).await;
    app.add_member_by_api(&id, ANA, "Ana R.").await;
    app.add_member_by_api(&id, BO, "Bo Diaz").await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    // A real pending request for Ana's `#approve`.
    assert_eq!(
        app.text(CY, &number, "JOIN Cy Lee").await["outcome"],
        "sms_webhook"
    );
    // The owner hears of it by the digest's first text, sent at once after a quiet spell.
    let notice = app
        .wait_for_text(OWNER, "New join request #")
        .await
        .strip_prefix("New join request #")
        .map(str::to_owned)
        .expect("the owner's notice of Cy's request");
    app.wait_for_outbox_drained(&id, WAIT).await;
    let request: String = notice.chars().take_while(char::is_ascii_digit).collect();
    assert!(!request.is_empty(), "{notice}");

    let approve = format!("#approve {request}");
    let cases = [
        (ANA, "HELP", "Reply STOP to unsubscribe. Msg&Data Rates May Apply.".to_owned()),
        (
            ANA,
            approve.as_str(),
            "Only the neighborhood's captains can use that command.".to_owned(),
        ),
        (
            ANA,
            "LEAVE",
            "You left Relay Street. Text JOIN and your name to this number to ask to rejoin."
                .to_owned(),
        ),
        (
            BO,
            "STOP",
            "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.".to_owned(),
        ),
    ];
    for (sender, text, reply) in cases {
        let before = inboxes(&app).await;

        let routed = app.text(sender, &number, text).await;

        assert_eq!(routed["outcome"], "rejected", "{text}: {routed}");
        // Whatever the text sets off is queued before the emulator answers (it waits for both
        // webhooks), so once the outbox is empty every reply has been delivered.
        eventually(WAIT, &format!("a reply to {text}"), || async {
            !new_texts(&before, &inboxes(&app).await, sender).is_empty()
        })
        .await;
        app.wait_for_outbox_drained(&id, WAIT).await;
        let after = inboxes(&app).await;
        assert_eq!(
            new_texts(&before, &after, sender),
            [reply.as_str()],
            "{text}: only its reply"
        );
        for other in [OWNER, ANA, BO].into_iter().filter(|p| *p != sender) {
            assert!(
                new_texts(&before, &after, other).is_empty(),
                "{text} reached {other}: {:?}",
                new_texts(&before, &after, other)
            );
        }
    }

    assert!(
        history(&app, &id).await.is_empty(),
        "nothing went to the group"
    );
    let requests = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
            200,
        )
        .await;
    assert_eq!(
        requests["items"][0]["phone"], CY,
        "Cy's request is still pending: {requests}"
    );
    let statuses: HashMap<String, String> = members(&app, &id)
        .await
        .iter()
        .map(|m| {
            (
                m["phone"].as_str().unwrap_or_default().to_owned(),
                m["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses[ANA], "left");
    assert_eq!(statuses[BO], "opted_out");
    assert_eq!(statuses[OWNER], "active");
}

/// Twilio can post a relay and then answer 500 (or never answer): the copy is in the shard, but
/// the service cannot tell. Neither the client nor the outbox posts it blind again: the retry finds
/// the copy among the shard's newest messages, so each member of the other shard gets it once.
#[tokio::test]
async fn a_relay_whose_answer_is_lost_after_twilio_posted_it_reaches_each_member_once() {
    let app = spawn_app().await;
    let (id, number) = neighborhood(&app).await;
    let phones: Vec<String> = (1..=50).map(|n| format!("+1555004{n:04}")).collect();
    add_members(&app, &id, &phones, 1).await;
    let members = wait_until_synced(&app, &id, 51, Duration::from_secs(120)).await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    let shards = participants_by_shard(&app, &id).await;
    assert_eq!(shards.len(), 2, "two shards");
    let sender = members
        .iter()
        .find(|m| m["conversation_sid"] == shards[0].0.as_str())
        .expect("a member of the first shard");
    let sender_phone = sender["phone"].as_str().expect("phone").to_owned();
    let signed = format!(
        "{}: Tree down on Oak",
        sender["display_name"].as_str().expect("name")
    );
    let other_shard: Vec<String> = shards[1].1.clone();
    assert!(!other_shard.is_empty());
    let before = inboxes(&app).await;
    // Every REST call is carried out, then answered 500, until the copy is in: the relay's first
    // post goes through, and its answer is lost.
    app.put(
        &Who::Admin,
        "/sandbox/api/faults",
        &json!({"rate_applied_500": 1.0}),
        200,
    )
    .await;

    app.text(&sender_phone, &number, "Tree down on Oak").await;
    poll_until(WAIT, "the copy in the other shard", || async {
        let after = inboxes(&app).await;
        other_shard
            .iter()
            .all(|phone| new_texts(&before, &after, phone).contains(&signed))
            .then_some(())
    })
    .await;
    app.put(&Who::Admin, "/sandbox/api/faults", &json!({}), 200)
        .await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;

    let after = inboxes(&app).await;
    for phone in &other_shard {
        assert_eq!(
            new_texts(&before, &after, phone),
            [signed.as_str()],
            "{phone} gets the relayed text exactly once"
        );
    }
}
