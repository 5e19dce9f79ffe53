//! Issue 23: a member's photo reaches the whole group, end to end against the emulator: every
//! other member once, across shards, signed, for a counted number of REST calls; the history
//! keeps it; the ledger counts MMS; pictures the group does not take reach nobody.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, Who, add_members, eventually, participants_by_shard, poll_until,
    spawn_counting_sandbox_app, wait_until_synced,
};

const OWNER: &str = "+15550023000";
const WAIT: Duration = Duration::from_secs(60);

/// A sandbox app without the periodic reconciliation, whose REST calls would blur the counts.
async fn spawn_app() -> TestApp {
    spawn_counting_sandbox_app(|_| {}).await
}

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

/// A JPEG's first bytes and filler: what the emulator stores as the picture.
fn photo(size: usize) -> Vec<u8> {
    let mut data = vec![0xFF, 0xD8, 0xFF, 0xE0];
    data.resize(size, 0x42);
    data
}

#[tokio::test]
async fn a_photo_from_shard_3_of_150_members_reaches_the_149_others_once_signed_and_counted() {
    let app = spawn_app().await;
    let (id, number) = neighborhood(&app, "Photo Street").await;
    let phones: Vec<String> = (1..=149).map(|n| format!("+1555024{n:04}")).collect();
    // In waves that each fill a Conversation before the next arrives: shards of 50, 50 and 50.
    let mut synced = 1;
    for wave in [&phones[..49], &phones[49..99], &phones[99..]] {
        add_members(&app, &id, wave, synced).await;
        synced += wave.len();
        wait_until_synced(&app, &id, synced, Duration::from_secs(180)).await;
    }
    let members = wait_until_synced(&app, &id, 150, Duration::from_secs(180)).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let shards = participants_by_shard(&app, &id).await;
    let sizes: Vec<usize> = shards.iter().map(|(_, phones)| phones.len()).collect();
    assert_eq!(sizes, [50, 50, 50], "three shards");
    let sender = members
        .iter()
        .find(|m| m["conversation_sid"] == shards[2].0.as_str())
        .expect("a member of the third shard");
    let sender_phone = sender["phone"].as_str().expect("phone").to_owned();
    let name = sender["display_name"].as_str().expect("name");
    let signed = format!("{name}: Lost dog, brown lab, answers to Rex");
    let everyone_else: Vec<String> = members
        .iter()
        .filter_map(|m| m["phone"].as_str())
        .filter(|phone| *phone != sender_phone)
        .map(str::to_owned)
        .collect();
    assert_eq!(everyone_else.len(), 149);
    let picture = photo(48_000);
    let before = app.inboxes_media().await;
    app.rest_calls(true).await;

    let routed = app
        .text_with_media(
            &sender_phone,
            &number,
            "Lost dog, brown lab, answers to Rex",
            &[("image/jpeg", picture.clone())],
        )
        .await;
    assert_eq!(routed["outcome"], "conversation", "{routed}");

    let seen = |phone: &str| before.get(phone).map_or(0, Vec::len);
    poll_until(WAIT, "every other member to get the photo", || async {
        let after = app.inboxes_media().await;
        everyone_else
            .iter()
            .all(|phone| {
                after
                    .get(phone)
                    .is_some_and(|inbox| inbox.len() > seen(phone))
            })
            .then_some(())
    })
    .await;
    eventually(WAIT, "the photo in the history", || async {
        let page = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/messages"),
                200,
            )
            .await;
        page["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
    })
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;

    let after = app.inboxes_media().await;
    let one_photo = vec![("image/jpeg".to_owned(), picture.len() as u64)];
    for phone in &everyone_else {
        let new = &after[phone][seen(phone)..];
        assert_eq!(new.len(), 1, "{phone} gets the photo exactly once: {new:?}");
        assert_eq!(new[0].1, signed, "{phone}: signed with the sender's name");
        assert_eq!(new[0].2, one_photo, "{phone}: with the picture");
    }
    assert_eq!(
        after.get(&sender_phone).map_or(0, Vec::len),
        seen(&sender_phone),
        "the sender gets nothing"
    );
    let calls = app.rest_calls(false).await;
    println!("REST calls to the emulator for one photo to 150 members over 3 shards: {calls}");
    assert_eq!(
        calls["counts"]["POST /v1/Conversations/{sid}/Messages"], 2,
        "one relay into each other shard: {calls}"
    );
    assert_eq!(
        calls["counts"]["POST /v1/Services/{sid}/Media"], 2,
        "the picture uploaded once per relay: {calls}"
    );
    assert_eq!(
        calls["counts"]["GET /v1/Services/{sid}/Media/{sid}/Content"], 1,
        "the picture downloaded once: {calls}"
    );

    let page = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            200,
        )
        .await;
    let message = &page["items"][0];
    assert_eq!(message["body"], "Lost dog, brown lab, answers to Rex");
    assert_eq!(message["media"][0]["content_type"], "image/jpeg");
    assert_eq!(message["media"][0]["size"], picture.len());
    // Captains see it through the service, never at Twilio's address.
    let media_sid = message["media"][0]["media_sid"]
        .as_str()
        .expect("media sid");
    let shown = app
        .get_raw(&format!("/api/v1/neighborhoods/{id}/media/{media_sid}"))
        .await;
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.headers()["content-type"], "image/jpeg");
    assert_eq!(shown.bytes().await.expect("bytes").to_vec(), picture);
    let stranger = app
        .get_raw(&format!(
            "/api/v1/neighborhoods/{id}/media/ME0123456789abcdef0123456789abcdef"
        ))
        .await;
    assert_eq!(stranger.status(), 404, "only this neighborhood's pictures");

    let costs: Value = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/costs"),
            200,
        )
        .await;
    let month = &costs["months"][0];
    assert_eq!(
        month["mms_out"], 149,
        "one MMS to each other member: {month}"
    );
    assert_eq!(month["mms_in"], 1, "{month}");
}

#[tokio::test]
async fn too_many_too_large_or_not_a_picture_reaches_nobody_and_the_sender_is_told() {
    let app = spawn_app().await;
    let (id, number) = neighborhood(&app, "Careful Street").await;
    let ana = "+15550023001";
    add_members(&app, &id, &[ana.to_owned()], 1).await;
    wait_until_synced(&app, &id, 2, WAIT).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    app.rest_calls(true).await;

    let eleven: Vec<(&str, Vec<u8>)> = (0..11).map(|_| ("image/png", photo(100))).collect();
    let too_large = [("image/jpeg", photo(5 * 1024 * 1024 + 1))];
    let a_film = [("video/mp4", photo(100))];
    let notes = [
        "Your message was not sent: a message to the group takes at most 10 pictures. Send them in a few messages.",
        "Your message was not sent: its pictures come to 5.0 MB, and a message to the group takes at most 5.0 MB. Send fewer or smaller pictures.",
        "Your message was not sent: the group takes pictures only (JPEG, PNG or GIF), not video/mp4.",
    ];
    for (media, note) in [&eleven[..], &too_large[..], &a_film[..]]
        .into_iter()
        .zip(notes)
    {
        let routed = app.text_with_media(ana, &number, "look", media).await;
        assert_eq!(routed["outcome"], "rejected", "{routed}");
        poll_until(WAIT, note, || async {
            app.inbox(ana)
                .await
                .iter()
                .any(|(_, body, _)| body == note)
                .then_some(())
        })
        .await;
    }
    app.wait_for_outbox_drained(&id, WAIT).await;
    let owner_inbox = app.inbox_media(OWNER).await;
    assert!(
        owner_inbox
            .iter()
            .all(|(_, body, media)| !body.ends_with(": look") && media.is_empty()),
        "nothing reached the group: {owner_inbox:?}"
    );
    let page = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            200,
        )
        .await;
    assert_eq!(page["items"], json!([]), "nothing in the history");
    let calls = app.rest_calls(false).await;
    assert!(
        calls["counts"].as_object().is_none_or(|counts| counts
            .keys()
            .all(|op| !op.contains("Media") && !op.contains("Conversations/{sid}/Messages"))),
        "nothing relayed or uploaded: {calls}"
    );
}

/// `POST .../pictures` with `data` typed `content_type`, as the platform admin.
async fn upload(app: &TestApp, id: &str, content_type: &str, data: Vec<u8>) -> (u16, Value) {
    let response = app
        .client(&Who::Admin)
        .post(app.url(&format!("/api/v1/neighborhoods/{id}/pictures")))
        .header("content-type", content_type)
        .body(data)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn a_captains_announcement_with_a_picture_reaches_every_shard_once() {
    let app = spawn_app().await;
    let (id, _) = neighborhood(&app, "Notice Street").await;
    let phones: Vec<String> = (1..=59).map(|n| format!("+1555025{n:04}")).collect();
    let mut synced = 1;
    for wave in [&phones[..49], &phones[49..]] {
        add_members(&app, &id, wave, synced).await;
        synced += wave.len();
        wait_until_synced(&app, &id, synced, Duration::from_secs(120)).await;
    }
    app.wait_for_outbox_drained(&id, WAIT).await;
    let sizes: Vec<usize> = participants_by_shard(&app, &id)
        .await
        .iter()
        .map(|(_, phones)| phones.len())
        .collect();
    assert_eq!(sizes, [50, 10], "two shards");

    // Only a picture every phone shows, within what a message may carry.
    let (status, refused) = upload(&app, &id, "video/mp4", photo(100)).await;
    assert_eq!(
        (status, &refused["code"]),
        (415, &json!("unsupported_media_type"))
    );
    let compressed = app
        .client(&Who::Admin)
        .post(app.url(&format!("/api/v1/neighborhoods/{id}/pictures")))
        .header("content-type", "image/jpeg")
        .header("content-encoding", "gzip")
        .body(photo(100))
        .send()
        .await
        .expect("request sent");
    assert_eq!(compressed.status(), 415, "a picture comes as it is");
    let (status, refused) = upload(&app, &id, "image/jpeg", photo(5 * 1024 * 1024 + 1)).await;
    assert_eq!(
        (status, &refused["code"]),
        (413, &json!("payload_too_large"))
    );
    let picture = photo(200_000);
    let (status, uploaded) = upload(&app, &id, "image/jpeg", picture.clone()).await;
    assert_eq!(status, 201, "{uploaded}");
    let media_sid = uploaded["media_sid"]
        .as_str()
        .expect("media sid")
        .to_owned();
    assert_eq!(uploaded["size"], picture.len());

    let messages = format!("/api/v1/neighborhoods/{id}/messages");
    let refused = app
        .post(
            &Who::Admin,
            &messages,
            &json!({"body": "Hi", "media_sid": "ME0123456789abcdef0123456789abcdef"}),
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "media_sid", "{refused}");
    let refused = app
        .post(
            &Who::Admin,
            &messages,
            &json!({"body": "Hi", "media_sid": media_sid, "audience": {"kind": "roles", "roles": ["owner"]}}),
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "media_sid", "{refused}");

    // Priced as MMS: one to each SMS phone.
    let estimate = app
        .post(
            &Who::Admin,
            &format!("{messages}/estimate"),
            &json!({"body": "Tree down on Oak", "media_sid": media_sid}),
            200,
        )
        .await;
    let recipients = estimate["recipients"].as_u64().expect("recipients");
    assert_eq!(recipients, 60, "{estimate}");
    assert_eq!(estimate["sms_cost"], "1.32", "60 MMS at $0.022: {estimate}");

    let before = app.inboxes_media().await;
    app.rest_calls(true).await;
    let sent = app
        .post(
            &Who::Admin,
            &messages,
            &json!({"body": "Tree down on Oak", "media_sid": media_sid}),
            202,
        )
        .await;
    assert_eq!(sent["media"][0]["media_sid"], media_sid.as_str(), "{sent}");
    let everyone: Vec<String> = phones.iter().cloned().chain([OWNER.to_owned()]).collect();
    let seen = |phone: &str| before.get(phone).map_or(0, Vec::len);
    poll_until(WAIT, "everyone to get the announcement", || async {
        let after = app.inboxes_media().await;
        everyone
            .iter()
            .all(|phone| {
                after
                    .get(phone)
                    .is_some_and(|inbox| inbox.len() > seen(phone))
            })
            .then_some(())
    })
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let after = app.inboxes_media().await;
    for phone in &everyone {
        let new = &after[phone][seen(phone)..];
        assert_eq!(new.len(), 1, "{phone} gets it once: {new:?}");
        assert!(new[0].1.ends_with(": Tree down on Oak"), "{phone}: {new:?}");
        assert_eq!(
            new[0].2,
            [("image/jpeg".to_owned(), picture.len() as u64)],
            "{phone}: with the picture"
        );
    }
    let calls = app.rest_calls(false).await;
    println!("REST calls for an announcement with a picture to 60 members in 2 shards: {calls}");
    assert_eq!(
        calls["counts"]["GET /v1/Services/{sid}/Media/{sid}/Content"], 1,
        "downloaded once: {calls}"
    );
    assert_eq!(
        calls["counts"]["POST /v1/Services/{sid}/Media"], 2,
        "{calls}"
    );
    assert_eq!(
        calls["counts"]["POST /v1/Conversations/{sid}/Messages"], 2,
        "{calls}"
    );
    eventually(WAIT, "in the history with its picture", || async {
        let page = app.get(&Who::Admin, &messages, 200).await;
        page["items"][0]["media"][0]["media_sid"] == media_sid.as_str()
    })
    .await;
}
