//! Browser journeys, a test target of their own (`cargo test --test browser`) so that
//! `cargo test --test api` never installs or starts a browser; `cargo test` runs both.
//!
//! A real Chromium (Debian's, driven by playwright-core from
//! `tests/browser/`) uses the pages of a fresh sandbox app, the way a neighbor or a captain would.
//! Each test spawns its own app, reachable at its public URL (port 0 becomes the bound port, so
//! join links and invite links work in the browser), then runs one journey with
//! `node tests/browser/run.mjs <journey> '<json args>'` and fails with node's output when it does.
//! `scripts/browser-deps` installs what is missing (Chromium, Node.js, `npm ci`), once per process.
//! Screenshots land in `<target>/screenshots/<journey>/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use tokio::process::Command;
use tokio::sync::OnceCell;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use neighborhood_text::config::Settings;
use neighborhood_text::secret::Secret;

use crate::helpers::{TestApp, sandbox_settings, spawn_sandbox_app_with, spawn_sandbox_instance};

// The `api` target's helpers; this target uses only the sandbox ones.
#[path = "api/helpers/mod.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

/// A journey starts a browser and walks several pages on a machine that may be compiling too.
const JOURNEY_TIMEOUT: Duration = Duration::from_secs(180);
/// Installing Chromium with apt-get on a fresh machine takes a while; a ready machine, no time.
const DEPS_TIMEOUT: Duration = Duration::from_secs(900);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where screenshots go: beside the build, `<target>/screenshots`.
fn screenshots_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("screenshots")
}

/// Runs `scripts/browser-deps` once per test process; every later call gets the same outcome.
async fn browser_deps() -> &'static Result<(), String> {
    static DEPS: OnceCell<Result<(), String>> = OnceCell::const_new();
    DEPS.get_or_init(|| async {
        let script = repo().join("scripts/browser-deps");
        let run = Command::new(&script)
            .current_dir(repo())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(DEPS_TIMEOUT, run).await {
            Err(_) => Err(format!("{} took over {DEPS_TIMEOUT:?}", script.display())),
            Ok(Err(error)) => Err(format!("could not run {}: {error}", script.display())),
            Ok(Ok(output)) if output.status.success() => Ok(()),
            Ok(Ok(output)) => Err(format!(
                "{} failed ({}):\n{}{}",
                script.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )),
        }
    })
    .await
}

/// Listens on a free loopback port and names it as its public URL.
fn reachable_where_bound(settings: &mut Settings) {
    settings.bind = "127.0.0.1:0".parse().expect("address");
    settings.public_url = "http://127.0.0.1:0".parse().expect("url");
}

/// A fresh sandbox app whose public URL is where it really listens, with its settings changed
/// by `adjust` (as its `NT_*` variables would).
async fn spawn_browser_app(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let receiver = MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    reachable_where_bound(&mut settings);
    adjust(&mut settings);
    let app = spawn_sandbox_app_with(receiver, settings).await;
    assert_eq!(
        app.state.settings.public_url.as_str().trim_end_matches('/'),
        app.address,
        "the public URL takes the bound port"
    );
    app
}

/// Runs `journey` (tests/browser/journeys/<journey>.mjs) in Chromium against a fresh sandbox app;
/// panics with the journey's output when it fails.
async fn run_journey(journey: &str) {
    run_journey_on(journey, Instances::One, |_| {}).await;
}

/// How many instances of the service the journey gets.
enum Instances {
    One,
    /// A second instance on the same Redis, at `base2`: what one handles, the other must show.
    Two,
}

/// Runs `journey` against `instances`; the first has its settings changed by `adjust`.
async fn run_journey_on(journey: &str, instances: Instances, adjust: impl FnOnce(&mut Settings)) {
    run_journey_with(journey, instances, adjust, json!({})).await;
}

/// As [`run_journey_on`], handing the journey `extra` (its `extra` argument, e.g. the address of
/// a stand-in that the test runs).
async fn run_journey_with(
    journey: &str,
    instances: Instances,
    adjust: impl FnOnce(&mut Settings),
    extra: serde_json::Value,
) {
    if let Err(problem) = browser_deps().await {
        panic!("the browser tests cannot run: {problem}");
    }
    let app = spawn_browser_app(adjust).await;
    let second = match instances {
        Instances::One => None,
        Instances::Two => Some(spawn_sandbox_instance(&app.prefix, reachable_where_bound).await),
    };
    let args = json!({
        "base": app.address,
        "base2": second.as_ref().map(|other| other.address.clone()),
        "token": app.admin_token,
        "screenshots": screenshots_dir(),
        "extra": extra,
    });
    let started = Instant::now();
    let node = Command::new("node")
        .arg("tests/browser/run.mjs")
        .arg(journey)
        .arg(args.to_string())
        .current_dir(repo())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(JOURNEY_TIMEOUT, node).await {
        Ok(output) => output.expect("node runs (scripts/browser-deps installs it)"),
        Err(_) => panic!("journey {journey} took over {JOURNEY_TIMEOUT:?}; node was stopped"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "journey {journey} failed ({}) after {:.1} s:\n{stdout}{stderr}",
        output.status,
        started.elapsed().as_secs_f64()
    );
    // Shown with --nocapture (nextest: --no-capture): the journey's own timing.
    print!("{stdout}{stderr}");
}

#[tokio::test]
async fn a_neighbor_asks_to_join_from_the_public_page() {
    run_journey("join_page").await;
}

/// A neighbor picks WhatsApp on the join page, gets the code on the simulated WhatsApp phone,
/// and the captain sees the channel and moves her between channels (issue 21).
#[tokio::test]
async fn a_neighbor_joins_on_whatsapp_from_the_join_page_and_the_captain_sees_the_channel() {
    run_journey("join_whatsapp").await;
}

/// A neighbor whose phone reads Spanish joins in Spanish, switches the page's language and back,
/// and gets the code and the welcome in Spanish (issue 22).
#[tokio::test]
async fn a_neighbor_joins_in_spanish_from_the_join_page() {
    run_journey("join_spanish").await;
}

/// The whole story: a captain signs in and creates a neighborhood, a neighbor signs up from the
/// invite link with the phone code, the captain approves, the neighbor texts from /sandbox (served
/// by a second instance) and the captain's Messages view and the other members' phones show it.
#[tokio::test]
async fn a_captain_starts_a_neighborhood_and_a_neighbor_joins_the_group_text() {
    run_journey_on("captain_journey", Instances::Two, |_| {}).await;
}

/// A captain denies a request, removes a member with a notice, turns announce-only on and posts an
/// announcement, and sees the API's message when a request fails.
#[tokio::test]
async fn a_captain_moderates_the_group() {
    run_journey("captain_moderation").await;
}

/// A captain sets quiet hours, sees an announcement held by them in the Scheduled list, edits it
/// into an urgent one that reaches a member at once, and schedules and cancels another.
#[tokio::test]
async fn a_captain_schedules_announcements_around_quiet_hours() {
    run_journey("captain_announcements").await;
}

/// A captain moves through every view by the phone's bottom bar and a laptop's row of tabs, with
/// focus on each new page's heading; every view passes axe-core at WCAG 2.2 AA at both widths, and
/// the simulated phones page loads once, names members' phones and finds one by name or digits.
#[tokio::test]
async fn a_captain_finds_every_view_on_a_phone_and_a_laptop_and_each_passes_axe() {
    run_journey("captain_navigation").await;
}

/// A captain of a thousand neighbors finds people A to Z and by a search that ignores accents and
/// phone formatting, flags likely duplicates, filters by status, and removes ten at once after a
/// confirmation, at phone and desktop widths.
#[tokio::test]
async fn a_captain_manages_a_thousand_members_in_compact_rows() {
    run_journey("captain_member_list").await;
}

/// A captain writes announcements in the composer, on a phone (behind "New announcement") and a
/// desktop: the review line, the confirm sheet (Cancel sends nothing), an announcement to one
/// street that reaches only its phones, and a template saved and reused.
#[tokio::test]
async fn a_captain_reviews_targets_and_confirms_announcements_at_phone_and_desktop_widths() {
    run_journey("captain_composer").await;
}

/// A captain triages join requests on a phone and a desktop: compact rows with history flags,
/// approve with focus moving on and Undo that really undoes, Deny that asks first, and 300
/// requests approved at once while her phone gets a digest instead of 300 texts.
#[tokio::test]
async fn a_captain_triages_join_requests_quickly_and_safely() {
    run_journey("captain_triage").await;
}

/// A neighbor's phone texts a photo to the number and the captain, on a phone, sees it in
/// Messages as a thumbnail that loaded through the service, with its alt text, and opens the full
/// picture in a new tab (issue 23).
#[tokio::test]
async fn a_neighbors_photo_shows_in_the_captains_messages() {
    run_journey("captain_photos").await;
}

/// A captain on a phone adds an endpoint for events in Settings, sees its signing secret once,
/// sends a test event that a receiver of the journey's own gets signed as Standard Webhooks says,
/// reads the delivery log and rotates the secret; the receiver then fails until the service turns
/// the endpoint off (its reason in the page), the captain enables it again and the waiting event
/// arrives, replays since before it and the same event comes again; then she deletes it (issue 26).
/// Failed deliveries are retried twice at once (`NT_EVENT_RETRY_SECS=0,0`), for this app only.
#[tokio::test]
async fn a_captain_tests_enables_again_and_replays_an_event_endpoint_on_a_phone() {
    run_journey_on("captain_event_endpoints", Instances::One, |settings| {
        settings.event_retry_secs = vec![0, 0];
    })
    .await;
}

/// The spreadsheet the Sheets stand-in serves (the journey pastes its link).
const SHEET_ID: &str = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms";

/// Google's consent page, answered as a captain who allows: straight back to the `redirect_uri`
/// it was given, with a code and the `state` it was given.
struct ConsentAllowed;

impl Respond for ConsentAllowed {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        let (Some(redirect_uri), Some(state)) = (query("redirect_uri"), query("state")) else {
            return ResponseTemplate::new(400).set_body_string("redirect_uri and state wanted");
        };
        let Ok(mut back) = url::Url::parse(&redirect_uri) else {
            return ResponseTemplate::new(400).set_body_string("redirect_uri is not a URL");
        };
        back.query_pairs_mut()
            .append_pair("code", "test-code")
            .append_pair("state", &state);
        ResponseTemplate::new(302).insert_header("location", back.as_str())
    }
}

/// `values.get` of the stand-in's sheet, as Google answers it: a header row, three people and a
/// row whose phone is not one; once edited (`POST /test/edit-sheet`), Ana's address has changed
/// and Ben's row is gone.
struct SheetValues {
    edited: Arc<AtomicBool>,
}

impl Respond for SheetValues {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut values = vec![
            json!(["Name", "Phone", "Address", "Favorite color"]),
            json!(["Ana Ruiz", "(555) 010-2001", "12 Elm St", "blue"]),
            json!(["Ben Ortiz", "(555) 010-2002", "14 Elm St", "green"]),
            json!(["Cy Park", "call me", "16 Elm St"]),
            json!(["Dee Lang", "+1 555 010 2004", "18 Elm St", "red"]),
        ];
        if self.edited.load(Ordering::SeqCst) {
            values[1] = json!(["Ana Ruiz", "(555) 010-2001", "12 Elm Street", "blue"]);
            values.remove(2);
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "range": "Sheet1!A1:Z1000",
            "majorDimension": "ROWS",
            "values": values,
        }))
    }
}

/// The journey's way to edit the stand-in's sheet.
struct EditSheet {
    edited: Arc<AtomicBool>,
}

impl Respond for EditSheet {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.edited.store(true, Ordering::SeqCst);
        ResponseTemplate::new(200)
    }
}

/// Google for the sheet hub's journeys: its consent page (on `localhost`, so it is another site
/// than the app, as Google is), which sends the browser straight back to the service's callback,
/// its token and revoke endpoints (`google`), and the Sheets API (`sheets`), to which each test
/// mounts its own sheet.
struct GoogleStandIns {
    google: MockServer,
    sheets: MockServer,
}

impl GoogleStandIns {
    async fn start() -> Self {
        let google = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/o/oauth2/v2/auth"))
            .respond_with(ConsentAllowed)
            .mount(&google)
            .await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "ya29.test",
                "expires_in": 3599,
                "refresh_token": "1//test-refresh",
                "scope": "https://www.googleapis.com/auth/spreadsheets.readonly",
                "token_type": "Bearer",
            })))
            .mount(&google)
            .await;
        Mock::given(method("POST"))
            .and(path("/revoke"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&google)
            .await;
        let sheets = MockServer::start().await;
        Self { google, sheets }
    }

    /// Serves `range` (as it goes in the request's path) of the spreadsheet with `answer`, to
    /// the access token the token endpoint gives.
    async fn serve(&self, range: &str, answer: impl Respond + 'static) {
        Mock::given(method("GET"))
            .and(path(format!("/v4/spreadsheets/{SHEET_ID}/values/{range}")))
            .and(header("authorization", "Bearer ya29.test"))
            .respond_with(answer)
            .mount(&self.sheets)
            .await;
    }

    /// The service's settings for these stand-ins (Google set up by the operator).
    fn settings(&self) -> impl FnOnce(&mut Settings) + use<> {
        let consent = self.google.uri().replace("127.0.0.1", "localhost");
        let token = self.google.uri();
        let sheets = self.sheets.uri();
        move |settings| {
            settings.google_client_id = Some("test-client.apps.googleusercontent.com".to_owned());
            settings.google_client_secret = Some(Secret::new("test-client-secret"));
            settings.session_secret =
                Some(Secret::new("a session secret of at least 32 characters"));
            settings.google_auth_base = consent.parse().expect("url");
            settings.google_token_base = token.parse().expect("url");
            settings.google_sheets_base = sheets.parse().expect("url");
        }
    }
}

/// A captain on a phone connects a Google Sheet in Settings (issue 27): Google's consent page, its
/// token endpoint and the Sheets API are wiremock stand-ins (the consent page on `localhost`, so
/// it is another site than the app, as Google is); the browser goes there and comes straight back
/// to the service's callback. She saves the sheet's link, previews it, syncs it twice (the sheet
/// edited between) and disconnects, which revokes the token at the stand-in.
#[tokio::test]
async fn a_captain_connects_previews_syncs_and_disconnects_the_sheet_hub_on_a_phone() {
    let stand_ins = GoogleStandIns::start().await;
    let edited = Arc::new(AtomicBool::new(false));
    stand_ins
        .serve(
            "Sheet1",
            SheetValues {
                edited: Arc::clone(&edited),
            },
        )
        .await;
    Mock::given(method("POST"))
        .and(path("/test/edit-sheet"))
        .respond_with(EditSheet {
            edited: Arc::clone(&edited),
        })
        .mount(&stand_ins.sheets)
        .await;

    run_journey_with(
        "captain_sheet_hub",
        Instances::One,
        stand_ins.settings(),
        json!({ "sheets": stand_ins.sheets.uri() }),
    )
    .await;

    // What the service sent Google: the code traded once with its PKCE verifier, and the token
    // revoked on disconnecting.
    let requests = stand_ins
        .google
        .received_requests()
        .await
        .expect("requests recorded");
    let bodies = |wanted: &str| -> Vec<String> {
        requests
            .iter()
            .filter(|request| {
                request.method == wiremock::http::Method::POST && request.url.path() == wanted
            })
            .map(|request| String::from_utf8_lossy(&request.body).into_owned())
            .collect()
    };
    let exchanges: Vec<String> = bodies("/token")
        .into_iter()
        .filter(|body| body.contains("grant_type=authorization_code"))
        .collect();
    assert_eq!(exchanges.len(), 1, "one code exchange: {exchanges:?}");
    assert!(
        exchanges[0].contains("code=test-code") && exchanges[0].contains("code_verifier="),
        "the code and its verifier: {}",
        exchanges[0]
    );
    assert_eq!(
        bodies("/revoke").len(),
        1,
        "the token revoked once at Google"
    );
}

/// The consent question of the stand-in's Google Form, word for word as it heads its column
/// (the journey types it).
const FORM_QUESTION: &str = "I agree to receive texts from Oak Row's group";
/// The tab a Google Form writes its responses to, `'Form Responses 1'`, as it goes in the path.
const FORM_RANGE: &str = "%27Form%20Responses%201%27";

/// A captain on a phone reads a Google Form's responses with the sheet hub (Form mode): the
/// consent question wanted, then saved; the preview of two responses, one that did not agree; a
/// sync that files the other as a join request, which Join requests shows as from the Google
/// Form with the question as its consent.
#[tokio::test]
async fn a_captain_files_google_form_responses_through_the_sheet_hub_on_a_phone() {
    let stand_ins = GoogleStandIns::start().await;
    stand_ins
        .serve(
            FORM_RANGE,
            ResponseTemplate::new(200).set_body_json(json!({
                "range": "'Form Responses 1'!A1:Z1000",
                "majorDimension": "ROWS",
                "values": [
                    ["Timestamp", "Your name", "Mobile number", "Street address", FORM_QUESTION],
                    ["12/6/2026 9:01:00", "Fay Moreno", "(555) 010-3001", "20 Oak Row", "I agree"],
                    ["12/6/2026 9:05:00", "Gus Hill", "(555) 010-3002", "22 Oak Row", ""],
                ],
            })),
        )
        .await;

    run_journey_with(
        "captain_sheet_hub_form",
        Instances::One,
        stand_ins.settings(),
        json!({ "question": FORM_QUESTION }),
    )
    .await;

    // Every read was of the form's tab (the preview's and the sync's).
    let reads: Vec<String> = stand_ins
        .sheets
        .received_requests()
        .await
        .expect("requests recorded")
        .iter()
        .map(|request| request.url.path().to_owned())
        .collect();
    let form = format!("/v4/spreadsheets/{SHEET_ID}/values/{FORM_RANGE}");
    assert!(
        reads.len() >= 2 && reads.iter().all(|read| *read == form),
        "the form's responses read for the preview and the sync: {reads:?}"
    );
}

#[tokio::test]
async fn a_join_link_that_fails_tells_the_neighbor_why() {
    run_journey("join_errors").await;
}

#[tokio::test]
async fn an_integrator_reads_the_api_reference_under_its_content_security_policy() {
    run_journey("api_docs").await;
}

/// A browser that revisits a page asks whether its copy of each file is still good; the answer
/// must be 304, never an error (a 500 there left revisited pages without their script and style).
#[tokio::test]
async fn a_browser_revisiting_a_page_reuses_its_copies_of_the_files() {
    let app = spawn_browser_app(|_| {}).await;
    let client = reqwest::Client::new();
    for path in ["/join.js", "/app/app.css", "/sandbox.js"] {
        let first = client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(first.status().as_u16(), 200, "{path}");
        let etag = first
            .headers()
            .get("etag")
            .expect("an etag")
            .to_str()
            .expect("ascii")
            .to_owned();
        let again = client
            .get(app.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("sent");
        assert_eq!(again.status().as_u16(), 304, "{path} revalidated");
    }
}
