//! Issue 21: members on SMS or WhatsApp are one group. The emulator stands in for Twilio with a
//! WhatsApp sender registered on the Messaging Service; WhatsApp members are participants bound
//! `whatsapp:+E164` to `whatsapp:` and the sender, in the same Conversations as SMS members.

use std::collections::HashMap;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, Who, participants_by_shard, poll_until, sandbox_settings, spawn_counting_sandbox_app,
    spawn_sandbox_app_with, wait_until_synced,
};

const OWNER: &str = "+15550021000";
const WAIT: Duration = Duration::from_secs(60);

/// A sandbox app without the periodic reconciliation, whose REST calls would blur the counts.
async fn spawn_app() -> TestApp {
    spawn_counting_sandbox_app(|_| {}).await
}

/// A neighborhood owned by Olive on SMS; returns (id, number).
async fn neighborhood(app: &TestApp, name: &str) -> (String, String) {
    let created = app
        .create_neighborhood(
            &json!({"name": name, "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}),
        )
        .await;
    (
        created["id"].as_str().expect("id").to_owned(),
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

/// A neighborhood whose own number is also its WhatsApp sender; returns (id, number).
async fn whatsapp_neighborhood(app: &TestApp, name: &str) -> (String, String) {
    let (id, number) = neighborhood(app, name).await;
    app.register_whatsapp_sender(&number).await;
    let updated = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"whatsapp_sender": number}),
            200,
        )
        .await;
    assert_eq!(updated["whatsapp_sender"], number.as_str());
    (id, number)
}

async fn add(app: &TestApp, id: &str, phone: &str, name: &str, channel: &str) -> Value {
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members"),
        &json!({"phone": phone, "display_name": name, "channel": channel}),
        202,
    )
    .await
}

/// Every address's inbox: (from, body), oldest first.
async fn inboxes(app: &TestApp) -> HashMap<String, Vec<(String, String)>> {
    app.inboxes()
        .await
        .into_iter()
        .map(|(address, inbox)| {
            let texts = inbox
                .into_iter()
                .map(|(from, body, _)| (from, body))
                .collect();
            (address, texts)
        })
        .collect()
}

fn received(inboxes: &HashMap<String, Vec<(String, String)>>, address: &str, body: &str) -> usize {
    inboxes.get(address).map_or(0, |inbox| {
        inbox.iter().filter(|(_, text)| text == body).count()
    })
}

/// The address Twilio reaches a member at: `whatsapp:` and their phone on WhatsApp.
fn address_of(member: &Value) -> String {
    let phone = member["phone"].as_str().expect("phone");
    match member["channel"].as_str() {
        Some("whatsapp") => format!("whatsapp:{phone}"),
        _ => phone.to_owned(),
    }
}

#[tokio::test]
async fn sms_and_whatsapp_members_are_one_group_across_three_shards() {
    let app = spawn_app().await;
    let (id, number) = whatsapp_neighborhood(&app, "Mixed Street").await;

    // 119 more, SMS and WhatsApp alternating, in waves that fill a Conversation each (50, 50, 20):
    // both channels count toward Twilio's 50.
    let people: Vec<(String, &str)> = (1..=119)
        .map(|n| {
            let channel = if n % 2 == 0 { "whatsapp" } else { "sms" };
            (format!("+1555021{n:04}"), channel)
        })
        .collect();
    let mut synced = 1;
    for wave in [&people[..49], &people[49..99], &people[99..]] {
        stream::iter(wave.iter().enumerate())
            .map(|(n, (phone, channel))| {
                let (app, id) = (&app, &id);
                async move {
                    let added =
                        add(app, id, phone, &format!("Neighbor {}", synced + n), channel).await;
                    assert_eq!(added["channel"], *channel);
                }
            })
            .buffer_unordered(8)
            .collect::<Vec<()>>()
            .await;
        synced += wave.len();
        wait_until_synced(&app, &id, synced, WAIT).await;
    }
    let members = wait_until_synced(&app, &id, 120, WAIT).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let shards = participants_by_shard(&app, &id).await;
    let sizes: Vec<usize> = shards
        .iter()
        .map(|(_, addresses)| addresses.len())
        .collect();
    assert_eq!(
        sizes,
        [50, 50, 20],
        "three shards, both channels counted together"
    );
    let whatsapp_bound = shards
        .iter()
        .flat_map(|(_, addresses)| addresses)
        .filter(|address| address.starts_with("whatsapp:+"))
        .count();
    assert_eq!(
        whatsapp_bound, 59,
        "every WhatsApp member bound as whatsapp:+E164"
    );

    // Added by a captain, the WhatsApp members never wrote to the sender: outside WhatsApp's
    // 24-hour window only the approved template reaches them, and their welcome waits.
    let notice = "There are new messages in Mixed Street. Reply READ to read them.";
    let on_whatsapp: Vec<String> = members
        .iter()
        .filter(|m| m["channel"] == "whatsapp")
        .map(address_of)
        .collect();
    let before = inboxes(&app).await;
    for address in &on_whatsapp {
        assert_eq!(
            received(&before, address, notice),
            1,
            "{address}: {:?}",
            before.get(address)
        );
        assert_eq!(
            before[address].len(),
            1,
            "only the template: {:?}",
            before[address]
        );
    }
    // Their READ opens the window and brings the welcome; the group sees none of it.
    stream::iter(&on_whatsapp)
        .map(|address| {
            let (app, sender) = (&app, format!("whatsapp:{number}"));
            async move {
                let routed = app.text(address, &sender, "READ").await;
                assert_eq!(routed["outcome"], "rejected", "{routed}");
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    app.wait_for_outbox_drained(&id, WAIT).await;

    // The welcome went over each member's own channel.
    let before = inboxes(&app).await;
    let welcome = "Welcome to Mixed Street!";
    for member in members.iter().filter(|m| m["phone"] != OWNER) {
        let address = address_of(member);
        let inbox = before.get(&address).cloned().unwrap_or_default();
        let from = if address.starts_with("whatsapp:") {
            format!("whatsapp:{number}")
        } else {
            number.clone()
        };
        assert!(
            inbox
                .iter()
                .any(|(sender, body)| *sender == from && body.starts_with(welcome)),
            "{address} got no welcome from {from}: {inbox:?}"
        );
    }

    // One member of each channel in the middle shard writes to the group.
    let middle = &shards[1].0;
    for channel in ["sms", "whatsapp"] {
        let author = members
            .iter()
            .find(|m| m["conversation_sid"] == middle.as_str() && m["channel"] == channel)
            .expect("a member of the middle shard on the channel");
        let author_address = address_of(author);
        let text = format!("Found keys by the mailboxes ({channel})");
        let signed = format!("{}: {text}", author["display_name"].as_str().expect("name"));
        let others: Vec<String> = members
            .iter()
            .map(address_of)
            .filter(|address| *address != author_address)
            .collect();
        let before = inboxes(&app).await;
        app.rest_calls(true).await;

        let to = if channel == "whatsapp" {
            format!("whatsapp:{number}")
        } else {
            number.clone()
        };
        let routed = app.text(&author_address, &to, &text).await;
        assert_eq!(routed["outcome"], "conversation", "{routed}");

        poll_until(WAIT, "every other member to get the text", || async {
            let now = inboxes(&app).await;
            others
                .iter()
                .all(|address| {
                    received(&now, address, &signed) > received(&before, address, &signed)
                })
                .then_some(())
        })
        .await;
        app.wait_for_outbox_drained(&id, WAIT).await;
        let calls = app.rest_calls(false).await;
        assert_eq!(
            calls,
            json!({"counts": {"POST /v1/Conversations/{sid}/Messages": 2}, "total": 2}),
            "one relay into each other shard, as on SMS alone"
        );
        // Read once the outbox is empty: a copy still on its way would show as a second one.
        let after = inboxes(&app).await;
        for address in &others {
            assert_eq!(
                received(&after, address, &signed) - received(&before, address, &signed),
                1,
                "{address} gets the {channel} text exactly once"
            );
        }
        assert_eq!(
            received(&after, &author_address, &signed),
            received(&before, &author_address, &signed),
            "the author gets nothing back"
        );
    }
    println!(
        "mixed group: 120 members (61 SMS, 59 WhatsApp) in shards of {sizes:?}; a text from each channel reached the 119 others once, for 2 REST calls each"
    );
}

#[tokio::test]
async fn whatsapp_members_need_a_sender_of_the_account_which_stays_while_they_use_it() {
    let app = spawn_app().await;
    let (id, number) = neighborhood(&app, "Sender Street").await;
    let members = format!("/api/v1/neighborhoods/{id}/members");
    let settings = format!("/api/v1/neighborhoods/{id}");

    // No sender yet: nobody can be on WhatsApp.
    let refused = app
        .post(
            &Who::Admin,
            &members,
            &json!({"phone": "+15550021901", "display_name": "Wen", "channel": "whatsapp"}),
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "channel", "{refused}");

    // A number Twilio has no WhatsApp sender for is refused, and says what to do.
    let unregistered = app
        .patch(
            &Who::Admin,
            &settings,
            &json!({"whatsapp_sender": number}),
            400,
        )
        .await;
    assert_eq!(unregistered["details"][0]["field"], "whatsapp_sender");
    assert!(
        unregistered["details"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("is not a WhatsApp sender")),
        "{unregistered}"
    );

    app.register_whatsapp_sender(&number).await;
    let set = app
        .patch(
            &Who::Admin,
            &settings,
            &json!({"whatsapp_sender": number}),
            200,
        )
        .await;
    assert_eq!(set["whatsapp_sender"], number.as_str());
    let wen = add(&app, &id, "+15550021901", "Wen", "whatsapp").await;
    assert_eq!(wen["channel"], "whatsapp");
    let sam = add(&app, &id, "+15550021902", "Sam", "sms").await;
    assert_eq!(sam["channel"], "sms");
    let listed = wait_until_synced(&app, &id, 3, WAIT).await;
    let channels: Vec<(&str, &str)> = listed
        .iter()
        .map(|m| {
            (
                m["display_name"].as_str().unwrap_or_default(),
                m["channel"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(channels.contains(&("Wen", "whatsapp")), "{channels:?}");
    assert!(channels.contains(&("Sam", "sms")), "{channels:?}");

    // Wen's participant is bound to the sender: it cannot go while Wen is in.
    let kept = app
        .patch(
            &Who::Admin,
            &settings,
            &json!({"whatsapp_sender": null}),
            409,
        )
        .await;
    assert!(
        kept["message"]
            .as_str()
            .is_some_and(|message| message.contains("1 members are on WhatsApp")),
        "{kept}"
    );
    let unchanged = app.get(&Who::Admin, &settings, 200).await;
    assert_eq!(unchanged["whatsapp_sender"], number.as_str());

    // One sender, one neighborhood: a text to it must find its group.
    let (other, _) = neighborhood(&app, "Other Street").await;
    let taken = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{other}"),
            &json!({"whatsapp_sender": number}),
            409,
        )
        .await;
    assert_eq!(taken["code"], "number_taken", "{taken}");
}

/// The texts `address` received from `from`, oldest first.
async fn texts_from(app: &TestApp, address: &str, from: &str) -> Vec<String> {
    inboxes(app)
        .await
        .remove(address)
        .unwrap_or_default()
        .into_iter()
        .filter(|(sender, _)| sender == from)
        .map(|(_, body)| body)
        .collect()
}

/// Waits until `address` has received a text from `from` containing `words`.
async fn wait_for(app: &TestApp, address: &str, from: &str, words: &str) -> Vec<String> {
    poll_until(WAIT, &format!("{address} to get \"{words}\""), || async {
        let texts = texts_from(app, address, from).await;
        texts
            .iter()
            .any(|text| text.contains(words))
            .then_some(texts)
    })
    .await
}

#[tokio::test]
async fn a_neighbor_joins_on_whatsapp_and_help_stop_and_start_work_there() {
    let app = spawn_app().await;
    let (id, number) = whatsapp_neighborhood(&app, "Wharf Street").await;
    let sender = format!("whatsapp:{number}");
    let wanda = "whatsapp:+15550021951";
    add(&app, &id, "+15550021952", "Sid", "sms").await;

    // JOIN to the WhatsApp sender files a request for WhatsApp, answered there.
    let routed = app.text(wanda, &sender, "JOIN Wanda W.").await;
    assert_eq!(routed["outcome"], "sms_webhook", "{routed}");
    wait_for(
        &app,
        wanda,
        &sender,
        "Your request to join Wharf Street is with the captains",
    )
    .await;
    let requests = poll_until(WAIT, "the join request", || async {
        let listed = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/join-requests"),
                200,
            )
            .await;
        listed["items"]
            .as_array()
            .filter(|items| !items.is_empty())
            .cloned()
    })
    .await;
    let request_id = requests[0]["id"].as_str().expect("request id");
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve"),
        &json!({}),
        202,
    )
    .await;
    wait_for(&app, wanda, &sender, "Welcome to Wharf Street!").await;
    let members = wait_until_synced(&app, &id, 3, WAIT).await;
    let member = members
        .iter()
        .find(|m| m["display_name"] == "Wanda W.")
        .expect("Wanda a member");
    assert_eq!(member["channel"], "whatsapp");
    let shards = participants_by_shard(&app, &id).await;
    assert!(shards[0].1.contains(&wanda.to_owned()), "{shards:?}");

    // HELP: Twilio answers nothing on WhatsApp, so we do; the group sees nothing.
    let routed = app.text(wanda, &sender, "HELP").await;
    assert_eq!(routed["outcome"], "rejected", "{routed}");
    wait_for(
        &app,
        wanda,
        &sender,
        "Reply LEAVE to leave this group, STOP to stop all messages",
    )
    .await;

    // STOP: out of every group, confirmed once.
    let routed = app.text(wanda, &sender, "STOP").await;
    assert_eq!(routed["outcome"], "rejected", "{routed}");
    wait_for(
        &app,
        wanda,
        &sender,
        "You will get no more messages from this number",
    )
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let stopped = texts_from(&app, wanda, &sender).await;
    assert_eq!(
        stopped
            .iter()
            .filter(|text| text.contains("You will get no more messages"))
            .count(),
        1,
        "{stopped:?}"
    );
    let wanda_now = app.listed_member(&id, "display_name", "Wanda W.").await;
    assert_eq!(wanda_now["status"], "opted_out", "{wanda_now}");
    let sid_inbox = texts_from(&app, "+15550021952", &number).await;
    assert!(
        sid_inbox.iter().all(|text| !text.starts_with("Wanda W.:")),
        "keywords reach nobody else: {sid_inbox:?}"
    );

    // START asks back in, on WhatsApp again.
    app.text(wanda, &sender, "START").await;
    wait_for(
        &app,
        wanda,
        &sender,
        "Your request to rejoin Wharf Street is with the captains",
    )
    .await;
}

#[tokio::test]
async fn a_captain_moves_a_member_between_sms_and_whatsapp_and_their_participant_is_replaced_once()
{
    let app = spawn_app().await;
    let (id, number) = whatsapp_neighborhood(&app, "Switch Street").await;
    let sam = add(&app, &id, "+15550021971", "Sam", "sms").await;
    add(&app, &id, "+15550021972", "Tia", "sms").await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let sam_path = format!(
        "/api/v1/neighborhoods/{id}/members/{}",
        sam["id"].as_str().expect("id")
    );

    let moved = app
        .patch(&Who::Admin, &sam_path, &json!({"channel": "whatsapp"}), 200)
        .await;
    assert_eq!(moved["channel"], "whatsapp");
    let members = wait_until_synced(&app, &id, 3, WAIT).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let shards = participants_by_shard(&app, &id).await;
    let mut bound: Vec<String> = shards.iter().flat_map(|(_, a)| a.clone()).collect();
    bound.sort();
    assert_eq!(
        bound,
        [OWNER, "+15550021972", "whatsapp:+15550021971"],
        "Sam's SMS participant replaced by a WhatsApp one, once"
    );
    assert!(members.iter().all(|m| m["sync"] == "done"), "{members:?}");

    // The group reaches Sam on WhatsApp now: first as the template (Sam never wrote there),
    // then, once Sam answers, as the message itself.
    let sender = format!("whatsapp:{number}");
    app.text("+15550021972", &number, "Bins go out tonight")
        .await;
    wait_for(
        &app,
        "whatsapp:+15550021971",
        &sender,
        "There are new messages in Switch Street",
    )
    .await;
    app.text("whatsapp:+15550021971", &sender, "READ").await;
    wait_for(
        &app,
        "whatsapp:+15550021971",
        &sender,
        "Tia: Bins go out tonight",
    )
    .await;
    let on_sms = texts_from(&app, "+15550021971", &number).await;
    assert!(
        on_sms
            .iter()
            .all(|text| !text.contains("Bins go out tonight")),
        "{on_sms:?}"
    );

    // And back.
    app.patch(&Who::Admin, &sam_path, &json!({"channel": "sms"}), 200)
        .await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let mut bound: Vec<String> = participants_by_shard(&app, &id)
        .await
        .into_iter()
        .flat_map(|(_, a)| a)
        .collect();
    bound.sort();
    assert_eq!(bound, [OWNER, "+15550021971", "+15550021972"]);

    // Without a sender there is no WhatsApp to move to.
    let (plain, _) = neighborhood(&app, "Plain Street").await;
    let pat = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{plain}/members"),
            &json!({"phone": "+15550021973", "display_name": "Pat"}),
            202,
        )
        .await;
    let refused = app
        .patch(
            &Who::Admin,
            &format!(
                "/api/v1/neighborhoods/{plain}/members/{}",
                pat["id"].as_str().expect("id")
            ),
            &json!({"channel": "whatsapp"}),
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "channel", "{refused}");
}

/// Waits for the neighborhood's one join request (`what`, for the timeout's message) and
/// approves it as the platform admin.
async fn approve_the_request(app: &TestApp, id: &str, what: &str) {
    let request = poll_until(WAIT, what, || async {
        let listed = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/join-requests"),
                200,
            )
            .await;
        listed["items"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/{request}/approve"),
        &json!({}),
        202,
    )
    .await;
}

/// A sandbox app whose clock (the service's and the emulator's) the test moves.
async fn spawn_app_with_clock() -> (TestApp, neighborhood_text::config::Clock) {
    let clock = neighborhood_text::config::Clock::default();
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.reconcile_every_secs = 0;
    settings.clock = clock.clone();
    (spawn_sandbox_app_with(receiver, settings).await, clock)
}

/// How many texts of `address`'s inbox from `from` contain `words`.
async fn count_of(app: &TestApp, address: &str, from: &str, words: &str) -> usize {
    texts_from(app, address, from)
        .await
        .iter()
        .filter(|text| text.contains(words))
        .count()
}

#[tokio::test]
async fn a_whatsapp_member_silent_for_a_day_gets_one_template_then_what_they_missed_once() {
    let (app, clock) = spawn_app_with_clock().await;
    let (id, number) = whatsapp_neighborhood(&app, "Quiet Street").await;
    let sender = format!("whatsapp:{number}");
    let wanda = "whatsapp:+15550021981";
    let sid = "+15550021982";
    add(&app, &id, sid, "Sid", "sms").await;
    // Wanda asks on WhatsApp, so her window is open when she is let in.
    app.text(wanda, &sender, "JOIN Wanda").await;
    approve_the_request(&app, &id, "Wanda's request").await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    wait_for(&app, wanda, &sender, "Welcome to Quiet Street!").await;

    // Within the window the group's texts reach her as they are.
    app.text(sid, &number, "Lost cat on Elm").await;
    wait_for(&app, wanda, &sender, "Sid: Lost cat on Elm").await;

    // 25 hours of silence: the window is closed.
    clock.advance(Duration::from_secs(25 * 3600));
    app.text(sid, &number, "Cat found!").await;
    let notice = "There are new messages in Quiet Street. Reply READ to read them.";
    wait_for(&app, wanda, &sender, notice).await;
    app.text(sid, &number, "Thanks everyone").await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    assert_eq!(
        count_of(&app, wanda, &sender, notice).await,
        1,
        "one template a day"
    );
    assert_eq!(
        count_of(&app, wanda, &sender, "Cat found!").await,
        0,
        "free-form fails outside the window"
    );
    let failed = app
        .emulator_get(&format!(
            "/api/2010-04-01/Accounts/{}/Messages.json?To={}",
            neighborhood_text::sandbox::DEFAULT_ACCOUNT_SID,
            wanda.replace('+', "%2B").replace(':', "%3A")
        ))
        .await
        .json::<Value>()
        .await
        .expect("messages");
    let refused: Vec<&Value> = failed["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["error_code"] == 63016)
        .collect();
    assert_eq!(
        refused.len(),
        2,
        "Twilio failed both group copies with 63016: {failed}"
    );

    // She answers: the window opens, and what she missed comes once, in one text.
    let routed = app.text(wanda, &sender, "READ").await;
    assert_eq!(
        routed["outcome"], "rejected",
        "READ is hers alone: {routed}"
    );
    let texts = wait_for(&app, wanda, &sender, "Catch up on Quiet Street").await;
    let catch_up: Vec<&String> = texts.iter().filter(|t| t.contains("Catch up on")).collect();
    assert_eq!(catch_up.len(), 1, "{texts:?}");
    assert!(
        catch_up[0].contains("Sid: Cat found!") && catch_up[0].contains("Sid: Thanks everyone"),
        "{}",
        catch_up[0]
    );
    assert!(
        !catch_up[0].contains("Lost cat"),
        "what she had seen is not repeated: {}",
        catch_up[0]
    );
    let sid_inbox = texts_from(&app, sid, &number).await;
    assert!(
        sid_inbox.iter().all(|t| !t.contains("READ")),
        "{sid_inbox:?}"
    );

    // Open again: texts reach her as they are, and a READ now just says so.
    app.text(sid, &number, "Block party Saturday").await;
    wait_for(&app, wanda, &sender, "Sid: Block party Saturday").await;
    app.text(wanda, &sender, "READ").await;
    wait_for(&app, wanda, &sender, "You are up to date with Quiet Street").await;

    // Another day of silence: an announcement goes as its own template.
    clock.advance(Duration::from_secs(25 * 3600));
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &json!({"body": "Street sweeping moved to Tuesday"}),
        202,
    )
    .await;
    wait_for(
        &app,
        wanda,
        &sender,
        "Street sweeping moved to Tuesday Reply READ to read the group.",
    )
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    assert_eq!(
        count_of(&app, wanda, &sender, notice).await,
        1,
        "the announcement needed no notice"
    );

    // The ledger counts WhatsApp by the message, and the templates with Meta's fee.
    let costs = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/costs"),
            200,
        )
        .await;
    let month = &costs["months"][0];
    assert_eq!(month["whatsapp_templates"], 2, "{month}");
    assert!(
        month["whatsapp_messages_in"].as_u64().unwrap_or(0) >= 3,
        "{month}"
    );
    let lines: Vec<&str> = month["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|line| line["item"].as_str())
        .collect();
    assert!(lines.contains(&"whatsapp_templates"), "{lines:?}");
}

/// The join page offers WhatsApp where it can send the code there: the neighborhood has a
/// sender and the account an authentication template. The code comes as that template (she has
/// never written to the sender), and once she is in, her welcome waits for her first message.
#[tokio::test]
async fn a_neighbor_asks_on_the_join_page_for_whatsapp_and_gets_the_code_there() {
    let app = spawn_app().await;
    let created = app
        .create_neighborhood(&json!({
            "name": "Web Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"
        }))
        .await;
    let id = created["id"].as_str().expect("id");
    let slug = created["slug"].as_str().expect("slug");
    let number = created["phone_number"].as_str().expect("number");
    let phone = "+15550021991";
    let wanda = format!("whatsapp:{phone}");
    let sender = format!("whatsapp:{number}");
    let asking = json!({
        "name": "Wanda W.", "phone": phone, "channel": "whatsapp", "consent": true
    });

    // Without a sender the card offers SMS only, and a request for WhatsApp says why.
    let card = app
        .get(&Who::Anonymous, &format!("/api/v1/join/{slug}"), 200)
        .await;
    assert!(card.get("whatsapp").is_none(), "{card}");
    let refused = app
        .post(
            &Who::Anonymous,
            &format!("/api/v1/join/{slug}"),
            &asking,
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "channel", "{refused}");

    app.register_whatsapp_sender(number).await;
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"whatsapp_sender": number}),
        200,
    )
    .await;
    let card = app
        .get(&Who::Anonymous, &format!("/api/v1/join/{slug}"), 200)
        .await;
    assert_eq!(card["whatsapp"]["number"], number, "{card}");
    let consent = card["whatsapp"]["consent_text"].as_str().expect("consent");
    assert!(
        consent.contains("Web Street neighbors on WhatsApp"),
        "{consent}"
    );

    let asked = app
        .post(
            &Who::Anonymous,
            &format!("/api/v1/join/{slug}"),
            &asking,
            202,
        )
        .await;
    assert!(
        asked["message"]
            .as_str()
            .is_some_and(|m| m.contains("on WhatsApp")),
        "{asked}"
    );
    let texts = wait_for(&app, &wanda, &sender, "is your verification code").await;
    let code: String = texts
        .iter()
        .find(|text| text.contains("is your verification code"))
        .expect("the code")
        .chars()
        .take(6)
        .collect();
    assert!(
        app.inbox(phone).await.is_empty(),
        "nothing came by SMS: {:?}",
        app.inbox(phone).await
    );
    let verified = app
        .post(
            &Who::Anonymous,
            &format!("/api/v1/join/{slug}/verify"),
            &json!({"request_id": asked["request_id"], "code": code}),
            200,
        )
        .await;
    assert_eq!(verified["state"], "pending", "{verified}");
    let listed = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    let request = &listed["items"][0];
    assert_eq!(request["consent_text"], consent, "{request}");
    app.post(
        &Who::Admin,
        &format!(
            "/api/v1/neighborhoods/{id}/join-requests/{}/approve",
            request["id"].as_str().expect("request id")
        ),
        &json!({}),
        202,
    )
    .await;
    let members = wait_until_synced(&app, id, 2, WAIT).await;
    let member = members
        .iter()
        .find(|m| m["display_name"] == "Wanda W.")
        .expect("Wanda a member");
    assert_eq!(member["channel"], "whatsapp", "{member}");
    let shards = participants_by_shard(&app, id).await;
    assert!(shards[0].1.contains(&wanda), "{shards:?}");

    // Outside her window the welcome waits behind the notice; her READ brings it.
    wait_for(
        &app,
        &wanda,
        &sender,
        "There are new messages in Web Street. Reply READ to read them.",
    )
    .await;
    assert_eq!(
        count_of(&app, &wanda, &sender, "Welcome to Web Street!").await,
        0
    );
    app.text(&wanda, &sender, "READ").await;
    wait_for(&app, &wanda, &sender, "Welcome to Web Street!").await;

    // Both templates are in the ledger at the template price.
    app.wait_for_outbox_drained(id, WAIT).await;
    let costs = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/costs"),
            200,
        )
        .await;
    assert_eq!(costs["months"][0]["whatsapp_templates"], 2, "{costs}");
}

/// Invites go either way: on WhatsApp a personal invite is the invite template (the phone never
/// wrote to the sender), with the personal link; the neighbor's JOIN on WhatsApp is then
/// recognised as invited, in an invite-only neighborhood too.
#[tokio::test]
async fn a_captain_invites_a_phone_on_whatsapp_and_its_join_there_counts_as_invited() {
    let app = spawn_app().await;
    let (id, number) = neighborhood(&app, "Invite Lane").await;
    let phone = "+15550021971";
    let wanda = format!("whatsapp:{phone}");
    let sender = format!("whatsapp:{number}");
    let invite = json!({"phones": [phone], "channel": "whatsapp"});

    let refused = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/invites"),
            &invite,
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "channel", "{refused}");

    app.register_whatsapp_sender(&number).await;
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"whatsapp_sender": number, "join_policy": "invite_only"}),
        200,
    )
    .await;
    let link = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/invites/link"),
            200,
        )
        .await;
    assert_eq!(link["whatsapp_number"], number.as_str(), "{link}");
    assert!(
        link["flyer_text"]
            .as_str()
            .is_some_and(|text| text.contains("on WhatsApp to")),
        "{link}"
    );
    let sent = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/invites"),
            &invite,
            202,
        )
        .await;
    assert_eq!(sent["invited"], json!([phone]), "{sent}");
    let texts = wait_for(
        &app,
        &wanda,
        &sender,
        "neighborhood group on WhatsApp. Join at",
    )
    .await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].starts_with("A neighbor invited you to Invite Lane's neighborhood group")
            && texts[0].contains("/join/invite-lane?invite="),
        "{}",
        texts[0]
    );
    assert!(app.inbox(phone).await.is_empty(), "nothing by SMS");

    // Invite-only: her JOIN on WhatsApp is taken because she was invited.
    app.text(&wanda, &sender, "JOIN Wanda W.").await;
    wait_for(
        &app,
        &wanda,
        &sender,
        "Your request to join Invite Lane is with the captains",
    )
    .await;

    // The template is in the ledger.
    app.wait_for_outbox_drained(&id, WAIT).await;
    let costs = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/costs"),
            200,
        )
        .await;
    assert_eq!(costs["months"][0]["whatsapp_templates"], 1, "{costs}");
}

#[tokio::test]
async fn a_spanish_whatsapp_member_gets_the_spanish_templates_and_reads_with_leer() {
    let (app, clock) = spawn_app_with_clock().await;
    let (id, number) = whatsapp_neighborhood(&app, "Calle Quieta").await;
    let sender = format!("whatsapp:{number}");
    let lucia = "whatsapp:+15550021991";
    let sid = "+15550021992";
    add(&app, &id, sid, "Sid", "sms").await;
    app.text(lucia, &sender, "UNIRME Lucía").await;
    approve_the_request(&app, &id, "Lucía's request").await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    wait_for(
        &app,
        lucia,
        &sender,
        "¡Te damos la bienvenida a Calle Quieta!",
    )
    .await;

    // A day of silence: the notice is the Spanish copy of the template.
    clock.advance(Duration::from_secs(25 * 3600));
    app.text(sid, &number, "Cat found!").await;
    wait_for(
        &app,
        lucia,
        &sender,
        "Hay mensajes nuevos en Calle Quieta. Responde LEER para leerlos.",
    )
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    assert_eq!(
        count_of(&app, lucia, &sender, "There are new messages").await,
        0,
        "no English notice"
    );

    // LEER is READ: hers alone, and what she missed comes in Spanish.
    let routed = app.text(lucia, &sender, "leer").await;
    assert_eq!(routed["outcome"], "rejected", "{routed}");
    let texts = wait_for(&app, lucia, &sender, "Resumen de Calle Quieta").await;
    assert!(
        texts.iter().any(|t| t.contains("Sid: Cat found!")),
        "{texts:?}"
    );
    let sid_inbox = texts_from(&app, sid, &number).await;
    assert!(
        sid_inbox.iter().all(|t| !t.contains("leer")),
        "{sid_inbox:?}"
    );

    // Another day: an announcement goes as the Spanish announcement template (its text as
    // written: group texts are never translated).
    clock.advance(Duration::from_secs(25 * 3600));
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &json!({"body": "Street sweeping moved to Tuesday"}),
        202,
    )
    .await;
    wait_for(
        &app,
        lucia,
        &sender,
        "Calle Quieta: Street sweeping moved to Tuesday Responde LEER para leer el grupo.",
    )
    .await;
}
