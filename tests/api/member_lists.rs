//! The member list at scale, end to end against the emulator: the orders it reads in and paging
//! through each, a search that ignores accents, case and phone formatting, counts that agree
//! with the summary, possible-duplicate flags, and changing many members at once.

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, spawn_sandbox_app};

const OWNER: &str = "+15550020000";

/// A neighborhood owned by Olive (`OWNER`); returns its id.
async fn neighborhood(app: &TestApp, name: &str) -> String {
    let created = app
        .create_neighborhood(
            &json!({"name": name, "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}),
        )
        .await;
    created["id"].as_str().expect("id").to_owned()
}

/// Adds a member as the platform admin; returns their id.
async fn add(app: &TestApp, id: &str, phone: &str, name: &str, address: Option<&str>) -> String {
    let member = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members"),
            &json!({"phone": phone, "display_name": name, "address": address}),
            202,
        )
        .await;
    member["id"].as_str().expect("id").to_owned()
}

/// `GET .../members?{query}` as `who`; fails unless the answer is `status`.
async fn list(who: &Who, app: &TestApp, id: &str, query: &str, status: u16) -> Value {
    app.get(
        who,
        &format!("/api/v1/neighborhoods/{id}/members?{query}"),
        status,
    )
    .await
}

/// `q` as a query parameter, encoded.
fn search(q: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .finish()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["display_name"].as_str().expect("name").to_owned())
        .collect()
}

/// Every member matching `query`, read `limit` at a time through `next_after`.
async fn every_page(app: &TestApp, id: &str, query: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = list(
            &Who::Admin,
            app,
            id,
            &format!("{query}&limit={limit}{after}"),
            200,
        )
        .await;
        seen.extend(names(&page));
        match page["next_after"].as_str() {
            Some(next) => {
                assert_eq!(names(&page).len(), limit, "only the last page is short");
                after = format!("&after={next}");
            }
            None => break,
        }
        assert!(seen.len() <= 50, "paging never ends: {seen:?}");
    }
    seen
}

/// `POST .../members/bulk` as `who`; fails unless the answer is `status`.
async fn bulk(who: &Who, app: &TestApp, id: &str, body: Value, status: u16) -> Value {
    app.post(
        who,
        &format!("/api/v1/neighborhoods/{id}/members/bulk"),
        &body,
        status,
    )
    .await
}

/// The neighborhood's audit entries whose action starts with `prefix`.
async fn audit_entries(app: &TestApp, id: &str, prefix: &str) -> Vec<Value> {
    let log = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit?limit=200"),
            200,
        )
        .await;
    log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|entry| {
            entry["action"]
                .as_str()
                .is_some_and(|action| action.starts_with(prefix))
        })
        .cloned()
        .collect()
}

/// A 400 in the one error shape naming `field`.
fn assert_field_error(body: &Value, field: &str) {
    assert_eq!(body["code"], "validation_failed", "{body}");
    let fields: Vec<&str> = body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, [field], "{body}");
}

#[tokio::test]
async fn each_order_pages_through_everyone_once_and_names_sort_ignoring_case_and_accents() {
    let app = spawn_sandbox_app().await;
    let id = neighborhood(&app, "Sorting Street").await;
    for (n, name) in ["zoe", "Émile", "adam", "Bea", "Ólafur", "carl"]
        .into_iter()
        .enumerate()
    {
        add(&app, &id, &format!("+1555002010{n}"), name, None).await;
    }
    let joined = ["Olive", "zoe", "Émile", "adam", "Bea", "Ólafur", "carl"];
    let by_name = ["adam", "Bea", "carl", "Émile", "Ólafur", "Olive", "zoe"];
    let newest: Vec<&str> = joined.iter().rev().copied().collect();
    for (sort, expected) in [
        ("sort=name", by_name.to_vec()),
        ("sort=newest", newest),
        ("sort=oldest", joined.to_vec()),
        ("", joined.to_vec()),
    ] {
        let whole = list(&Who::Admin, &app, &id, &format!("{sort}&limit=500"), 200).await;
        assert_eq!(names(&whole), expected, "{sort:?} in one page");
        for limit in [1, 2, 3] {
            assert_eq!(
                every_page(&app, &id, sort, limit).await,
                expected,
                "{sort:?} {limit} at a time covers everyone once, in order"
            );
        }
    }
    assert_eq!(
        every_page(&app, &id, "sort=name&q=o", 2).await,
        ["Ólafur", "Olive", "zoe"],
        "a filtered name order pages too"
    );

    let unknown = uuid::Uuid::now_v7();
    let body = list(
        &Who::Admin,
        &app,
        &id,
        &format!("sort=name&after={unknown}"),
        400,
    )
    .await;
    assert_field_error(&body, "after");
    list(&Who::Admin, &app, &id, "sort=shoe_size", 400).await;
}

#[tokio::test]
async fn the_search_ignores_accents_case_and_phone_formatting() {
    let app = spawn_sandbox_app().await;
    let id = neighborhood(&app, "Search Street").await;
    add(&app, &id, "+14155552042", "José Núñez", Some("5 Álamo Way")).await;
    add(&app, &id, "+14155552043", "Ana Rivera", None).await;
    add(&app, &id, "+14155550042", "Ben Ng", None).await;
    let admin = &Who::Admin;
    for q in [
        "nunez",
        "NUÑEZ",
        "jose",
        "555-2042",
        "(415) 555-2042",
        "+1 415 555 2042",
        "415.555.2042",
        "alamo way",
    ] {
        let found = list(admin, &app, &id, &search(q), 200).await;
        assert_eq!(names(&found), ["José Núñez"], "{q:?}");
        assert_eq!(found["total"], 1, "{q:?}");
    }
    let found = list(admin, &app, &id, &search("555-204"), 200).await;
    assert_eq!(
        names(&found),
        ["José Núñez", "Ana Rivera"],
        "part of a number"
    );

    let owner = Who::session(&app, OWNER).await;
    let found = list(&owner, &app, &id, &search("(415) 555-2042"), 200).await;
    assert_eq!(names(&found), ["José Núñez"], "the owner searches phones");
    let moderator_id = add(&app, &id, "+14155550050", "Mo Derator", None).await;
    app.patch(
        admin,
        &format!("/api/v1/neighborhoods/{id}/members/{moderator_id}"),
        &json!({"role": "moderator"}),
        200,
    )
    .await;
    let moderator = Who::session(&app, "+14155550050").await;
    let by_phone = list(&moderator, &app, &id, &search("555-2042"), 200).await;
    assert_eq!(by_phone["total"], 0, "a moderator cannot search phones");
    let by_address = list(&moderator, &app, &id, &search("alamo"), 200).await;
    assert_eq!(by_address["total"], 0, "nor addresses");
    let by_name = list(&moderator, &app, &id, &search("NÚNEZ"), 200).await;
    assert_eq!(names(&by_name), ["José Núñez"]);
}

#[tokio::test]
async fn the_in_the_group_count_is_the_summarys_and_counts_cover_every_status() {
    let app = spawn_sandbox_app().await;
    let id = neighborhood(&app, "Counting Street").await;
    let mut ids = Vec::new();
    for (n, name) in ["Ana", "Ben", "Cy", "Di", "Ed"].into_iter().enumerate() {
        ids.push(add(&app, &id, &format!("+1555002030{n}"), name, None).await);
    }
    bulk(
        &Who::Admin,
        &app,
        &id,
        json!({"member_ids": [ids[0]], "action": "remove"}),
        200,
    )
    .await;
    bulk(
        &Who::Admin,
        &app,
        &id,
        json!({"member_ids": [ids[1]], "action": "pause"}),
        200,
    )
    .await;

    let summary = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/summary"),
            200,
        )
        .await;
    let in_group = list(&Who::Admin, &app, &id, "status=active", 200).await;
    assert_eq!(in_group["total"], summary["members"], "{summary}");
    assert_eq!(in_group["total"], 4, "Olive, Cy, Di and Ed");
    assert_eq!(
        in_group["counts"],
        json!({"active": 4, "paused": 1, "left": 0, "removed": 1, "opted_out": 0})
    );
    assert_eq!(in_group["counts"]["paused"], summary["paused"]);
    let everyone = list(&Who::Admin, &app, &id, "", 200).await;
    assert_eq!(everyone["total"], 6, "any status lists the removed too");
    assert_eq!(
        everyone["counts"], in_group["counts"],
        "counts ignore filters"
    );
}

#[tokio::test]
async fn likely_duplicates_are_flagged_across_the_whole_neighborhood() {
    let app = spawn_sandbox_app().await;
    let id = neighborhood(&app, "Twin Street").await;
    let maria = add(&app, &id, "+15550020401", "Maria Garcia", Some("9 Oak Rd")).await;
    let maria_again = add(&app, &id, "+15550020402", "María García", None).await;
    let tenant = add(&app, &id, "+15550020403", "Tess Ng", Some("12 Elm St.")).await;
    let housemate = add(&app, &id, "+15550020404", "Hal Ng", Some("12 elm st")).await;
    let loner = add(&app, &id, "+15550020405", "Lone Wolf", Some("1 Far Lane")).await;

    let admin = &Who::Admin;
    let first = list(admin, &app, &id, "sort=name&q=garcia&limit=1", 200).await;
    assert_eq!(first["total"], 2);
    let flag = &first["items"][0]["possible_duplicate_of"];
    assert_eq!(
        (first["items"][0]["id"].as_str(), flag["id"].as_str()),
        (Some(maria.as_str()), Some(maria_again.as_str())),
        "flagged though the other is not on the page: {first}"
    );
    assert_eq!(flag["same"], "name");
    assert_eq!(
        flag["display_name"], "María García 2",
        "the second got a number"
    );
    let everyone = list(admin, &app, &id, "limit=500", 200).await;
    let flag_of = |member: &str| {
        everyone["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|m| m["id"] == member)
            .map(|m| m["possible_duplicate_of"].clone())
            .expect("listed")
    };
    assert_eq!(flag_of(&maria_again)["id"], maria.as_str());
    assert_eq!(
        (
            flag_of(&tenant)["id"].as_str(),
            flag_of(&tenant)["same"].as_str()
        ),
        (Some(housemate.as_str()), Some("address"))
    );
    assert_eq!(flag_of(&housemate)["id"], tenant.as_str());
    assert!(flag_of(&loner).is_null(), "{everyone}");

    bulk(
        admin,
        &app,
        &id,
        json!({"member_ids": [maria_again], "action": "remove"}),
        200,
    )
    .await;
    let after_removal = list(admin, &app, &id, "q=garcia", 200).await;
    assert!(
        after_removal["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|m| m["possible_duplicate_of"].is_null()),
        "a removed member is not a duplicate: {after_removal}"
    );
}

#[tokio::test]
async fn a_bulk_change_follows_the_single_change_rules_per_member_and_is_one_audit_entry() {
    let app = spawn_sandbox_app().await;
    let id = neighborhood(&app, "Bulk Street").await;
    let owner_id = list(&Who::Admin, &app, &id, "", 200).await["items"][0]["id"]
        .as_str()
        .expect("owner")
        .to_owned();
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(
            add(
                &app,
                &id,
                &format!("+1555002050{n}"),
                &format!("Bulk {n}"),
                None,
            )
            .await,
        );
    }
    let stranger = uuid::Uuid::now_v7().to_string();
    let admin = &Who::Admin;

    let removed = bulk(
        admin,
        &app,
        &id,
        json!({"member_ids": [owner_id, ids[0], ids[1], stranger, ids[0]], "action": "remove"}),
        200,
    )
    .await;
    assert_eq!(
        (removed["done"].as_u64(), removed["skipped"].as_u64()),
        (Some(2), Some(2)),
        "{removed}"
    );
    let results = removed["results"].as_array().expect("results");
    assert_eq!(results.len(), 4, "a repeated id counts once: {removed}");
    assert_eq!(results[0]["member_id"], owner_id.as_str());
    assert_eq!(results[0]["outcome"], "skipped");
    assert!(
        results[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("owner cannot be removed")),
        "the single DELETE's rule: {removed}"
    );
    assert_eq!(
        (
            results[1]["outcome"].as_str(),
            results[1]["member"]["status"].as_str()
        ),
        (Some("done"), Some("removed"))
    );
    assert_eq!(results[3]["outcome"], "skipped");
    let entries = audit_entries(&app, &id, "member.bulk").await;
    assert_eq!(
        entries.len(),
        1,
        "one entry for the whole change: {entries:?}"
    );
    assert_eq!(entries[0]["action"], "member.bulk_remove");
    assert_eq!(entries[0]["detail"]["changed"], 2);
    assert_eq!(
        entries[0]["detail"]["members"],
        json!([format!("member:{}", ids[0]), format!("member:{}", ids[1])])
    );
    assert!(
        audit_entries(&app, &id, "member.remove").await.is_empty(),
        "no entry per member"
    );

    let again = bulk(
        admin,
        &app,
        &id,
        json!({"member_ids": [ids[0]], "action": "remove"}),
        200,
    )
    .await;
    assert_eq!(again["results"][0]["reason"], "Already removed.");
    assert_eq!(
        audit_entries(&app, &id, "member.bulk").await.len(),
        1,
        "a change that changed nothing is not logged"
    );

    let paused = bulk(
        admin,
        &app,
        &id,
        json!({"member_ids": [ids[2], ids[0], owner_id], "action": "pause"}),
        200,
    )
    .await;
    let outcomes: Vec<&str> = paused["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(outcomes, ["done", "skipped", "skipped"], "{paused}");
    assert!(
        paused["results"][1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Only an active member can be paused")),
        "{paused}"
    );
    let resumed = bulk(
        admin,
        &app,
        &id,
        json!({"member_ids": [ids[2]], "action": "resume"}),
        200,
    )
    .await;
    assert_eq!(resumed["results"][0]["member"]["status"], "active");

    let promoted = bulk(
        admin,
        &app,
        &id,
        json!({"member_ids": [ids[2], ids[3], owner_id], "action": "set_role", "role": "captain"}),
        200,
    )
    .await;
    assert_eq!(promoted["done"], 2, "{promoted}");
    assert_eq!(
        promoted["results"][2]["outcome"], "skipped",
        "the owner stays owner"
    );
    let captains = list(admin, &app, &id, "role=captain", 200).await;
    assert_eq!(names(&captains), ["Bulk 2", "Bulk 3"]);
    let actions: Vec<String> = audit_entries(&app, &id, "member.bulk")
        .await
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "member.bulk_role_change",
            "member.bulk_resume",
            "member.bulk_pause",
            "member.bulk_remove"
        ]
    );

    let too_many: Vec<String> = (0..501).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for (body, field) in [
        (json!({"member_ids": [], "action": "remove"}), "member_ids"),
        (
            json!({"member_ids": too_many, "action": "remove"}),
            "member_ids",
        ),
        (
            json!({"member_ids": [ids[3]], "action": "set_role"}),
            "role",
        ),
        (
            json!({"member_ids": [ids[3]], "action": "pause", "role": "captain"}),
            "role",
        ),
    ] {
        let refused = bulk(admin, &app, &id, body, 400).await;
        assert_field_error(&refused, field);
    }
    bulk(
        admin,
        &app,
        &id,
        json!({"member_ids": [ids[3]], "action": "explode"}),
        400,
    )
    .await;

    let moderator_id = add(&app, &id, "+15550020599", "Mod", None).await;
    bulk(
        admin,
        &app,
        &id,
        json!({"member_ids": [moderator_id], "action": "set_role", "role": "moderator"}),
        200,
    )
    .await;
    let moderator = Who::session(&app, "+15550020599").await;
    bulk(
        &moderator,
        &app,
        &id,
        json!({"member_ids": [ids[3]], "action": "remove"}),
        403,
    )
    .await;
}
