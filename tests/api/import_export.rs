//! Import from a spreadsheet's CSV and export as CSV or JSON, end to end against the emulator:
//! the dry-run report, upsert by phone, attested consent, who may do what, the export round trip,
//! and a 10,000-row file streamed in.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use neighborhood_text::domain::member::Role;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, Who, add_member, eventually, json_of, participants_by_shard, session_client,
    spawn_sandbox_app, wait_until_synced,
};

const OWNER: &str = "+15550030000";
const MODERATOR: &str = "+15550030001";
const WAIT: Duration = Duration::from_secs(30);

/// A neighborhood owned by Olive, asking one join question (`street`); returns (id, number).
async fn neighborhood(app: &TestApp, name: &str) -> (String, String) {
    let created = app
        .create_neighborhood(
            &json!({"name": name, "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let questions = json!({"join_questions": [
        {"id": "street", "text": "Which street do you live on?", "required": false}
    ]});
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &questions,
        200,
    )
    .await;
    (
        id,
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

/// `POST .../import?{query}` with `csv` as `client`; answers (status, body).
async fn import_as(
    client: &reqwest::Client,
    app: &TestApp,
    id: &str,
    query: &str,
    csv: impl Into<reqwest::Body>,
) -> (u16, Value) {
    json_of(
        client
            .post(app.url(&format!("/api/v1/neighborhoods/{id}/import?{query}")))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

async fn import(app: &TestApp, id: &str, query: &str, csv: &str) -> (u16, Value) {
    import_as(&app.http, app, id, query, csv.to_owned()).await
}

/// `GET .../export/{what}?format={format}` as `client`: the response, checked to be a download.
async fn export_as(
    client: &reqwest::Client,
    app: &TestApp,
    id: &str,
    what: &str,
    format: &str,
) -> String {
    let response = client
        .get(app.url(&format!(
            "/api/v1/neighborhoods/{id}/export/{what}?format={format}"
        )))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200, "export {what}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let disposition = header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"")
            && disposition.ends_with(&format!(".{format}\"")),
        "{disposition}"
    );
    let expected_type = if format == "csv" {
        "text/csv"
    } else {
        "application/json"
    };
    assert!(header("content-type").starts_with(expected_type));
    response.text().await.expect("body")
}

/// A CSV file as rows of cells, the header first.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|record| {
            record
                .expect("a CSV record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The row of a CSV export whose `column` is `value`, as column -> cell.
fn row_where(rows: &[Vec<String>], column: &str, value: &str) -> BTreeMap<String, String> {
    let header = &rows[0];
    let at = header.iter().position(|c| c == column).expect("column");
    let row = rows[1..]
        .iter()
        .find(|row| row[at] == value)
        .unwrap_or_else(|| panic!("no row with {column} = {value}"));
    header.iter().cloned().zip(row.iter().cloned()).collect()
}

/// The report's listed rows as (row, outcome, reason).
fn details(report: &Value) -> Vec<(u64, String, String)> {
    report["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|row| {
            (
                row["row"].as_u64().expect("row"),
                row["outcome"].as_str().expect("outcome").to_owned(),
                row["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn counts(report: &Value) -> [u64; 5] {
    ["rows", "added", "updated", "unchanged", "rejected"].map(|field| {
        report[field]
            .as_u64()
            .unwrap_or_else(|| panic!("{field}: {report}"))
    })
}

async fn join_requests(app: &TestApp, id: &str) -> Vec<Value> {
    let list = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    list["items"].as_array().expect("items").clone()
}

/// Members as the platform admin lists them.
async fn members(app: &TestApp, id: &str) -> Vec<Value> {
    let list = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members?limit=500"),
            200,
        )
        .await;
    list["items"].as_array().expect("items").clone()
}

fn with_phone<'a>(items: &'a [Value], phone: &str) -> Vec<&'a Value> {
    items.iter().filter(|item| item["phone"] == phone).collect()
}

const ANA: &str = "+15550030101";
const OLGA: &str = "+15550030102";

/// A spreadsheet export of mixed quality: BOM, CRLF, shuffled and oddly cased headers, quotes,
/// an unknown column, and rows of every kind.
fn messy_sheet() -> String {
    [
        "\u{feff}Phone Number,NAME, Address ,which street do you live on?,Favorite color",
        &format!("{ANA},Ana,1 Elm St,Elm,blue"),
        "(415) 555-0103,\"Ruiz, Ben\",,Oak,",
        "call me,Cy,,,",
        &format!("{ANA},Ana again,,,"),
        "+15550030106,,,,",
        ",,,,",
        "+15550030108,\"Dee \"\"D\"\" Long\",\"2 Oak St, Apt 3\",,",
        &format!("+15550030109,{},,,", "N".repeat(41)),
        &format!("{OLGA},Olga Changed,,,"),
    ]
    .join("\r\n")
        + "\r\n"
}

#[tokio::test]
async fn a_dry_run_reports_every_row_by_number_and_changes_nothing() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Dry Street").await;
    app.add_member_by_api(&id, ANA, "Ana").await;
    app.add_member_by_api(&id, OLGA, "Olga").await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    app.text(OLGA, &number, "STOP").await;
    eventually(WAIT, "Olga to be opted out", || async {
        with_phone(&members(&app, &id).await, OLGA)[0]["status"] == "opted_out"
    })
    .await;

    let (status, report) = import(&app, &id, "", &messy_sheet()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["dry_run"], true, "a dry run unless asked otherwise");
    assert_eq!(counts(&report), [8, 2, 1, 0, 5], "{report}");
    let listed = details(&report);
    let outcome_of = |row: u64| {
        listed
            .iter()
            .find(|(r, _, _)| *r == row)
            .unwrap_or_else(|| panic!("row {row} is not listed: {report}"))
    };
    assert_eq!(outcome_of(2).1, "updated");
    assert_eq!(
        report["details"][0]["changed"],
        json!(["address", "answers"])
    );
    assert_eq!(outcome_of(3).1, "added");
    assert_eq!(report["details"][1]["record"], "join_request");
    assert_eq!(report["details"][1]["phone"], "+14155550103");
    assert!(outcome_of(4).2.contains("not a phone number"), "{report}");
    assert!(outcome_of(5).2.contains("Same phone as row 2"), "{report}");
    assert!(outcome_of(6).2.contains("No name"), "{report}");
    assert_eq!(outcome_of(8).1, "added", "row 7 is blank and skipped");
    assert!(outcome_of(9).2.contains("at most 40"), "{report}");
    assert!(outcome_of(10).2.contains("Texted STOP"), "{report}");
    assert_eq!(
        listed.iter().map(|(row, _, _)| *row).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6, 8, 9, 10],
        "in file order"
    );
    assert_eq!(
        report["warnings"][0]["column"], "Favorite color (E)",
        "{report}"
    );

    assert!(join_requests(&app, &id).await.is_empty(), "nothing written");
    let ana = with_phone(&members(&app, &id).await, ANA)[0].clone();
    assert_eq!(ana["address"], Value::Null);

    let (status, refused) = import(&app, &id, "", "name,address\nAna,1 Elm St\n").await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["code"], "validation_failed");
    assert_eq!(refused["details"][0]["field"], "phone");
}

#[tokio::test]
async fn the_real_run_does_what_the_dry_run_said_and_again_changes_nothing() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Real Street").await;
    app.add_member_by_api(&id, ANA, "Ana").await;
    app.add_member_by_api(&id, OLGA, "Olga").await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    app.text(OLGA, &number, "STOP").await;
    eventually(WAIT, "Olga to be opted out", || async {
        with_phone(&members(&app, &id).await, OLGA)[0]["status"] == "opted_out"
    })
    .await;

    let (_, dry) = import(&app, &id, "dry_run=true", &messy_sheet()).await;
    let (status, real) = import(&app, &id, "dry_run=false", &messy_sheet()).await;
    assert_eq!(status, 200, "{real}");
    assert_eq!(real["dry_run"], false);
    assert_eq!(counts(&real), counts(&dry));
    assert_eq!(
        real["details"], dry["details"],
        "the real run does what the dry run said"
    );

    let requests = join_requests(&app, &id).await;
    assert_eq!(requests.len(), 2, "{requests:?}");
    let ben = with_phone(&requests, "+14155550103")[0];
    assert_eq!(
        (&ben["name"], &ben["channel"], &ben["state"]),
        (&json!("Ruiz, Ben"), &json!("import"), &json!("pending"))
    );
    assert_eq!(ben["answers"]["Which street do you live on?"], "Oak");
    let numbers: HashSet<&Value> = requests.iter().map(|r| &r["number"]).collect();
    assert_eq!(numbers.len(), 2, "each request has its own number");
    let all = members(&app, &id).await;
    let ana = with_phone(&all, ANA)[0];
    assert_eq!(
        (
            &ana["address"],
            &ana["answers"]["Which street do you live on?"]
        ),
        (&json!("1 Elm St"), &json!("Elm"))
    );
    assert_eq!(
        with_phone(&all, OLGA)[0]["display_name"],
        "Olga",
        "not changed"
    );

    let (_, again) = import(&app, &id, "dry_run=false", &messy_sheet()).await;
    assert_eq!(counts(&again), [8, 0, 0, 3, 5], "{again}");
    let renamed = "phone,name\n(415) 555-0103,Benjamin Ruiz\n";
    let (_, update) = import(&app, &id, "dry_run=false", renamed).await;
    assert_eq!(counts(&update), [1, 0, 1, 0, 0], "{update}");
    let requests = join_requests(&app, &id).await;
    let bens = with_phone(&requests, "+14155550103");
    assert_eq!(bens.len(), 1, "updated in place, never a second request");
    assert_eq!(bens[0]["name"], "Benjamin Ruiz");
    assert_eq!(members(&app, &id).await.len(), 3, "no member was added");

    let audit = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit?limit=200"),
            200,
        )
        .await;
    let imports: Vec<&Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|entry| entry["action"] == "members.import")
        .collect();
    assert_eq!(
        imports.len(),
        3,
        "one entry per real run, none for the dry run"
    );
    assert_eq!(
        imports[2]["detail"],
        json!({"rows": 8, "added": 2, "updated": 1, "unchanged": 0, "rejected": 5,
               "attest_consent": false, "completed": true})
    );
}

#[tokio::test]
async fn attested_consent_makes_members_who_join_the_group_text() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Consent Street").await;
    let sheet = "name,phone,street\nAna,+15550030201,Elm\nBen,+15550030202,\n";
    let (status, report) = import(&app, &id, "dry_run=false&attest_consent=true", sheet).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [2, 2, 0, 0, 0], "{report}");
    assert_eq!(report["details"][0]["record"], "member");

    let synced = wait_until_synced(&app, &id, 3, WAIT).await;
    let ana = with_phone(&synced, "+15550030201")[0];
    assert_eq!(ana["status"], "active");
    assert_eq!(ana["consent"]["channel"], "import");
    assert!(
        ana["consent"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("attests")),
        "{ana}"
    );
    assert_eq!(ana["answers"]["Which street do you live on?"], "Elm");
    let in_twilio: Vec<String> = participants_by_shard(&app, &id)
        .await
        .into_iter()
        .flat_map(|(_, addresses)| addresses)
        .collect();
    assert!(
        in_twilio.contains(&"+15550030201".to_owned())
            && in_twilio.contains(&"+15550030202".to_owned()),
        "{in_twilio:?}"
    );
    assert!(join_requests(&app, &id).await.is_empty());
}

#[tokio::test]
async fn moderators_may_not_import_and_see_no_phones_in_exports() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Mod Street").await;
    let neighborhood_id = id.parse().expect("uuid");
    add_member(&app, neighborhood_id, MODERATOR, Role::Moderator).await;
    let moderator = session_client(&app, MODERATOR).await;
    let sheet = "name,phone\nAna,+15550030301\n";
    let (status, refused) = import_as(&moderator, &app, &id, "", sheet).await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")));
    import(&app, &id, "dry_run=false", sheet).await;

    let seen_by_moderator = csv_rows(&export_as(&moderator, &app, &id, "members", "csv").await);
    assert_eq!(seen_by_moderator[0][2], "phone", "the column stays");
    assert!(seen_by_moderator[1..].iter().all(|row| row[2].is_empty()));
    let requests = csv_rows(&export_as(&moderator, &app, &id, "join-requests", "csv").await);
    assert_eq!(row_where(&requests, "name", "Ana")["phone"], "");
    let owner = session_client(&app, OWNER).await;
    let requests = csv_rows(&export_as(&owner, &app, &id, "join-requests", "csv").await);
    assert_eq!(row_where(&requests, "name", "Ana")["phone"], "+15550030301");
    let audit = app
        .http
        .get(app.url(&format!("/api/v1/neighborhoods/{id}/export/audit")))
        .send()
        .await
        .expect("sent");
    assert_eq!(audit.status().as_u16(), 200);
    let audit = moderator
        .get(app.url(&format!("/api/v1/neighborhoods/{id}/export/audit")))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        audit.status().as_u16(),
        403,
        "the audit log is for captains"
    );
}

#[tokio::test]
async fn an_archived_neighborhood_refuses_imports() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Gone Street").await;
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        200,
    )
    .await;
    let (status, refused) = import(&app, &id, "", "name,phone\nAna,+15550030401\n").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("neighborhood_archived"))
    );
}

#[tokio::test]
async fn an_exported_member_list_imports_back_unchanged() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Round Street").await;
    let sheet = "name,phone,address,street\n\
                 Ana,+15550030501,\"1 Elm St, Apt 2\",Elm\n\
                 =Eve,+15550030502,,\n\
                 Ana,+15550030503,,Oak\n\
                 Rob,+15550030504,,\n";
    let (_, added) = import(&app, &id, "dry_run=false&attest_consent=true", sheet).await;
    assert_eq!(counts(&added), [4, 4, 0, 0, 0], "{added}");
    let synced = wait_until_synced(&app, &id, 5, WAIT).await;
    let rob = with_phone(&synced, "+15550030504")[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let removed = app
        .http
        .delete(app.url(&format!("/api/v1/neighborhoods/{id}/members/{rob}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(removed.status().as_u16(), 200);
    wait_until_synced(&app, &id, 5, WAIT).await;

    let exported = export_as(&app.http, &app, &id, "members", "csv").await;
    let rows = csv_rows(&exported);
    assert_eq!(rows.len(), 6, "a header and five members");
    assert_eq!(row_where(&rows, "phone", "+15550030503")["name"], "Ana 2");
    assert_eq!(row_where(&rows, "phone", "+15550030502")["name"], "'=Eve");

    let (status, dry) = import(&app, &id, "", &exported).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(counts(&dry), [5, 0, 0, 5, 0], "{dry}");
    assert_eq!(
        dry["warnings"],
        json!([]),
        "the export's own columns are known"
    );
    let (_, real) = import(&app, &id, "dry_run=false", &exported).await;
    assert_eq!(counts(&real), [5, 0, 0, 5, 0], "{real}");
    let listed = details(&real);
    assert_eq!(listed.len(), 1, "only the removed member, with why: {real}");
    assert!(listed[0].2.starts_with("Removed by a captain"));
    assert_eq!(
        export_as(&app.http, &app, &id, "members", "csv").await,
        exported,
        "the import changed nothing"
    );
}

#[tokio::test]
async fn every_json_export_has_the_same_rows_as_its_csv() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Twin Street").await;
    let sheet = "name,phone,address,street\nAna,+15550030601,\"1 Elm St, Apt 2\",Elm\n";
    import(&app, &id, "dry_run=false&attest_consent=true", sheet).await;
    import(&app, &id, "dry_run=false", "name,phone\nBen,+15550030602\n").await;
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &json!({"body": "Street fair, \"Saturday\""}),
        202,
    )
    .await;
    wait_until_synced(&app, &id, 2, WAIT).await;
    // Ana's two pictures: the messages export lists them by type and size.
    let jpeg = [vec![0xFF, 0xD8, 0xFF, 0xE0], vec![0x42; 4796]].concat();
    let png = [b"\x89PNG\r\n\x1a\n".to_vec(), vec![0; 112]].concat();
    let routed = app
        .text_with_media(
            "+15550030601",
            &number,
            "Lost cat",
            &[("image/jpeg", jpeg), ("image/png", png)],
        )
        .await;
    assert_eq!(routed["outcome"], "conversation", "{routed}");
    eventually(WAIT, "the pictures in the history", || async {
        let page = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/messages"),
                200,
            )
            .await;
        page["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|m| m["body"] == "Lost cat"))
    })
    .await;

    for what in ["members", "join-requests", "messages", "audit"] {
        let csv = csv_rows(&export_as(&app.http, &app, &id, what, "csv").await);
        let text = export_as(&app.http, &app, &id, what, "json").await;
        let json: Vec<serde_json::Map<String, Value>> =
            serde_json::from_str(&text).expect("a JSON array of objects");
        assert!(!json.is_empty(), "{what} is empty");
        assert_eq!(
            csv.len(),
            json.len() + 1,
            "{what}: a header and the same rows"
        );
        let header = &csv[0];
        for (row, object) in csv[1..].iter().zip(&json) {
            assert_eq!(object.len(), header.len(), "{what}: the same columns");
            let values: Vec<&str> = header
                .iter()
                .map(|column| match &object[column] {
                    Value::Null => "",
                    value => value.as_str().expect("values are strings"),
                })
                .collect();
            assert_eq!(values, *row, "{what}: the same cells");
        }
        // One object per line, keys in the CSV's column order.
        let first = text.lines().nth(1).expect("a first object");
        let positions: Vec<usize> = header
            .iter()
            .map(|column| first.find(&format!("{}:", json!(column))).expect("key"))
            .collect();
        assert!(positions.is_sorted(), "{what}: column order in {first}");
    }
    let messages = csv_rows(&export_as(&app.http, &app, &id, "messages", "csv").await);
    let announcement = row_where(&messages, "sender_name", "Twin Street");
    assert_eq!(announcement["body"], "Street fair, \"Saturday\"");
    assert_eq!(announcement["media"], "", "no pictures, an empty cell");
    assert_eq!(
        row_where(&messages, "body", "Lost cat")["media"],
        "image/jpeg 4800; image/png 120"
    );
}

/// `rows` rows of new neighbors, as chunks of about a hundred rows each.
fn generated_sheet(rows: u32) -> Vec<String> {
    let mut chunks = vec!["name,phone,address\n".to_owned()];
    for start in (0..rows).step_by(100) {
        chunks.push(
            (start..(start + 100).min(rows))
                .map(|n| format!("Neighbor {n},+1555{:07},{n} Long Street\n", 3_000_000 + n))
                .collect(),
        );
    }
    chunks
}

fn streamed(chunks: Vec<String>) -> reqwest::Body {
    reqwest::Body::wrap_stream(futures::stream::iter(
        chunks.into_iter().map(Ok::<_, std::io::Error>),
    ))
}

#[tokio::test]
async fn ten_thousand_rows_stream_in_as_ten_thousand_join_requests() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Big Street").await;
    let started = Instant::now();
    let (status, report) = import_as(
        &app.http,
        &app,
        &id,
        "dry_run=false",
        streamed(generated_sheet(10_000)),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [10_000, 10_000, 0, 0, 0]);
    assert_eq!(report["details"].as_array().map(Vec::len), Some(1_000));
    assert_eq!(report["details_truncated"], true);
    println!("10,000-row import: {took:?} (debug build, shared machine)");

    let exported = csv_rows(&export_as(&app.http, &app, &id, "join-requests", "csv").await);
    assert_eq!(exported.len(), 10_001);
    let numbers: HashSet<&String> = exported[1..].iter().map(|row| &row[1]).collect();
    assert_eq!(numbers.len(), 10_000, "every request has its own number");
    let column = |name: &str| {
        exported[0]
            .iter()
            .position(|header| header == name)
            .expect("column")
    };
    let (asked_by, state) = (column("asked_by"), column("state"));
    assert!(
        exported[1..]
            .iter()
            .all(|row| row[asked_by] == "import" && row[state] == "pending")
    );
}

#[tokio::test]
async fn a_file_past_the_row_limit_is_refused_with_413() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Huge Street").await;
    let rows = neighborhood_text::import::MAX_ROWS + 1;
    let (status, refused) =
        import_as(&app.http, &app, &id, "", streamed(generated_sheet(rows))).await;
    assert_eq!(status, 413, "{refused}");
    assert_eq!(refused["code"], "payload_too_large");
    assert!(join_requests(&app, &id).await.is_empty());
}

/// Issue 21: a `channel` column puts new members on SMS or WhatsApp, shows in the exports and
/// imports back unchanged; a member is not moved between channels by an import, and WhatsApp
/// needs the neighborhood's WhatsApp sender.
#[tokio::test]
async fn the_channel_column_imports_exports_and_round_trips() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Channel Street").await;
    let sheet = "name,phone,channel\n\
                 Wen,+15550030901,whatsapp\n\
                 Sam,+15550030902,SMS\n\
                 Tess,+15550030903,\n\
                 Pip,+15550030904,pigeon\n";
    // No WhatsApp sender yet: the WhatsApp row is refused and says why.
    let (_, before_sender) = import(&app, &id, "", sheet).await;
    let refused = details(&before_sender);
    assert!(
        refused.iter().any(|(row, outcome, reason)| *row == 2
            && outcome == "rejected"
            && reason.contains("no WhatsApp sender")),
        "{before_sender}"
    );

    app.register_whatsapp_sender(&number).await;
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"whatsapp_sender": number}),
        200,
    )
    .await;
    let (status, report) = import(&app, &id, "dry_run=false&attest_consent=true", sheet).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [4, 3, 0, 0, 1], "{report}");
    assert!(
        details(&report)
            .iter()
            .any(|(row, _, reason)| *row == 5
                && reason.contains("`sms` or `whatsapp`, not `pigeon`")),
        "{report}"
    );
    let synced = wait_until_synced(&app, &id, 4, WAIT).await;
    let channel_of = |phone: &str| with_phone(&synced, phone)[0]["channel"].clone();
    assert_eq!(channel_of("+15550030901"), "whatsapp");
    assert_eq!(channel_of("+15550030902"), "sms");
    assert_eq!(channel_of("+15550030903"), "sms", "an empty cell is SMS");

    let exported = export_as(&app.http, &app, &id, "members", "csv").await;
    let rows = csv_rows(&exported);
    assert_eq!(
        row_where(&rows, "phone", "+15550030901")["channel"],
        "whatsapp"
    );
    assert_eq!(row_where(&rows, "phone", "+15550030902")["channel"], "sms");
    let (_, again) = import(&app, &id, "dry_run=false", &exported).await;
    assert_eq!(counts(&again), [4, 0, 0, 4, 0], "{again}");
    assert_eq!(
        export_as(&app.http, &app, &id, "members", "csv").await,
        exported,
        "the import changed nothing"
    );

    // Moving a member between channels is not an import's to do.
    let (_, moved) = import(
        &app,
        &id,
        "",
        "name,phone,channel\nSam,+15550030902,whatsapp\n",
    )
    .await;
    assert_eq!(counts(&moved), [1, 0, 0, 0, 1], "{moved}");
    assert!(
        details(&moved)[0]
            .2
            .contains("Sam is on SMS: an import does not move a member to WhatsApp"),
        "{moved}"
    );
}

/// Issue 22: a `language` column (or `idioma`) gives each neighbor the language of their texts:
/// a new member is welcomed in it, a member's changes, the exports carry it and import back
/// unchanged, and a language we do not ship is refused with the ones we do.
#[tokio::test]
async fn the_language_column_imports_exports_and_round_trips() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Idioma Street").await;
    let sheet = "name,phone,idioma\n\
                 Lupe,+15550030911,es\n\
                 Lou,+15550030912,\n\
                 Lia,+15550030913,fr\n";
    let (status, report) = import(&app, &id, "dry_run=false&attest_consent=true", sheet).await;
    assert_eq!(status, 200, "{report}");
    assert!(
        details(&report)
            .iter()
            .any(|(row, outcome, reason)| *row == 4
                && outcome == "rejected"
                && reason.contains("`fr` is not one of the languages we text in: en, es")),
        "{report}"
    );
    let synced = wait_until_synced(&app, &id, 3, WAIT).await;
    assert_eq!(with_phone(&synced, "+15550030911")[0]["language"], "es");
    assert!(
        with_phone(&synced, "+15550030912")[0]
            .get("language")
            .is_none()
    );
    let lupe = app.wait_for_text("+15550030911", "Idioma Street").await;
    assert!(
        lupe.starts_with("¡Te damos la bienvenida a Idioma Street!"),
        "{lupe}"
    );
    let lou = app.wait_for_text("+15550030912", "Idioma Street").await;
    assert!(lou.starts_with("Welcome to Idioma Street!"), "{lou}");

    let exported = export_as(&app.http, &app, &id, "members", "csv").await;
    let rows = csv_rows(&exported);
    assert_eq!(row_where(&rows, "phone", "+15550030911")["language"], "es");
    let (_, again) = import(&app, &id, "dry_run=false", &exported).await;
    assert_eq!(counts(&again), [3, 0, 0, 3, 0], "{again}");

    // A member's language changes by the column.
    let (_, changed) = import(
        &app,
        &id,
        "dry_run=false",
        "name,phone,language\nLou,+15550030912,es\n",
    )
    .await;
    assert_eq!(counts(&changed), [1, 0, 1, 0, 0], "{changed}");
    let lou_now = app.listed_member(&id, "phone", "+15550030912").await;
    assert_eq!(lou_now["language"], "es", "{lou_now}");
}
