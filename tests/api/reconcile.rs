//! Reconciliation against the emulator: drift made behind the app's back (straight through the
//! emulated Twilio REST API, or straight in the store) is found, repaired once, and reported.

use std::time::Duration;

use neighborhood_text::domain::member::{Member, MemberStatus, SyncState};
use neighborhood_text::jobs::reconcile::{ReconcileError, SkipReason, SyncReport, reconcile};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    TestApp, Who, emulator_client, eventually, poll_until, spawn_app_with, test_settings,
};

const OWNER: &str = "+15550007000";
const WAIT: Duration = Duration::from_secs(20);

/// A sandbox app whose own periodic reconciliation is off, so only the test reconciles.
async fn spawn() -> TestApp {
    let receiver = wiremock::MockServer::start().await;
    let mut settings = test_settings(&receiver);
    settings.twilio_account_sid = None;
    settings.twilio_auth_token = None;
    settings.twilio_messaging_service_sid = None;
    settings.twilio_api_base = None;
    settings.sandbox = neighborhood_text::config::SandboxMode::On;
    settings.reconcile_every_secs = 0;
    let app = spawn_app_with(receiver, settings).await;
    eventually(WAIT, "the sandbox to configure its webhooks", || async {
        let configuration: Value = app
            .emulator_get("/conversations/v1/Configuration/Webhooks")
            .await
            .json()
            .await
            .unwrap_or_default();
        configuration["pre_webhook_url"].is_string()
    })
    .await;
    app
}

/// A neighborhood whose owner and `phones` are all in the group text; returns (id, number).
async fn synced_neighborhood(app: &TestApp, area_code: &str, phones: &[&str]) -> (Uuid, String) {
    let created = app
        .create_neighborhood(
            &json!({"name": "Reconcile Street", "area_code": area_code, "owner_phone": OWNER}),
        )
        .await;
    let id: Uuid = created["id"].as_str().expect("id").parse().expect("uuid");
    for (n, phone) in phones.iter().enumerate() {
        app.post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members"),
            &json!({"phone": phone, "display_name": format!("Neighbor {n}")}),
            202,
        )
        .await;
    }
    wait_until_synced(app, id).await;
    let number = created["phone_number"].as_str().expect("number").to_owned();
    (id, number)
}

/// Waits until no member waits for the outbox; fails on a failed one.
async fn wait_until_synced(app: &TestApp, id: Uuid) -> Vec<Member> {
    poll_until(WAIT, "every member to be in sync", || async {
        let members = app.state.store.members(id).await.expect("members");
        assert!(
            !members
                .iter()
                .any(|m| matches!(m.sync, SyncState::Failed { .. })),
            "a member failed to sync: {members:?}"
        );
        members
            .iter()
            .all(|m| m.sync == SyncState::Done)
            .then_some(members)
    })
    .await
}

async fn member_by_phone(app: &TestApp, id: Uuid, phone: &str) -> Member {
    let phone = neighborhood_text::domain::phone::Phone::parse(phone).expect("phone");
    app.state
        .store
        .member_by_phone(id, &phone)
        .await
        .expect("store")
        .expect("member")
}

/// Changes a member record straight in the store, as drift would.
async fn overwrite_member(app: &TestApp, before: &Member, change: impl Fn(&mut Member)) {
    let mut after = before.clone();
    change(&mut after);
    assert!(
        app.state
            .store
            .replace_members(before.neighborhood_id, &[(before, &after)])
            .await
            .expect("store")
    );
}

/// Twilio's view: (participant sid, phone) of every SMS participant, per Conversation.
async fn twilio_view(app: &TestApp, id: Uuid) -> Vec<(String, Vec<(String, String)>)> {
    let neighborhood = app
        .state
        .store
        .get_neighborhood(id)
        .await
        .expect("store")
        .expect("neighborhood");
    let client = emulator_client(app);
    let mut shards = Vec::new();
    for shard in neighborhood.shards {
        let participants = client
            .list_participants(&shard.conversation_sid)
            .await
            .expect("participants")
            .into_iter()
            .filter_map(|p| Some((p.sid, p.messaging_binding?.address?)))
            .collect();
        shards.push((shard.conversation_sid, participants));
    }
    shards
}

/// In how many places Twilio holds `phone`.
async fn times_in_twilio(app: &TestApp, id: Uuid, phone: &str) -> usize {
    twilio_view(app, id)
        .await
        .iter()
        .flat_map(|(_, participants)| participants)
        .filter(|(_, address)| address == phone)
        .count()
}

async fn delete_in_twilio(app: &TestApp, conversation_sid: &str, participant_sid: &str) {
    let response = app
        .emulator_delete(&format!(
            "/conversations/v1/Conversations/{conversation_sid}/Participants/{participant_sid}"
        ))
        .await;
    assert_eq!(response.status(), 204);
}

fn assert_no_changes(report: &SyncReport) {
    assert!(!report.changed_anything(), "{report:#?}");
    assert!(report.skipped.is_empty(), "{report:#?}");
}

#[tokio::test]
async fn without_drift_the_report_lists_no_changes() {
    let app = spawn().await;
    let (id, _) = synced_neighborhood(&app, "415", &["+15550007001", "+15550007002"]).await;

    let report = reconcile(&app.state, id).await.expect("reconciled");

    assert_no_changes(&report);
    assert_eq!(report.members_checked, 3);
    assert_eq!(report.shards.len(), 1);
    let shard = &report.shards[0];
    assert_eq!(
        (shard.sms_participants_found, shard.sms_participants_after),
        (3, 3)
    );
    let counts = app.state.store.shard_counts(id).await.expect("counts");
    assert_eq!(counts.get(&shard.conversation_sid), Some(&3));
}

#[tokio::test]
async fn a_participant_deleted_in_twilio_is_requeued_and_rejoins_once() {
    let app = spawn().await;
    let ana = "+15550007011";
    let (id, _) = synced_neighborhood(&app, "415", &[ana, "+15550007012"]).await;
    let before = member_by_phone(&app, id, ana).await;
    let placed = before.participant.clone().expect("placed");
    delete_in_twilio(&app, &placed.conversation_sid, &placed.participant_sid).await;

    let report = reconcile(&app.state, id).await.expect("reconciled");

    assert_eq!(report.requeued.len(), 1, "{report:#?}");
    assert_eq!(report.requeued[0].member_id, before.id);
    assert_eq!(report.requeued[0].previous, Some(placed.clone()));
    assert!(report.removed_strays.is_empty() && report.removed_departed.is_empty());
    assert_eq!(report.shards[0].sms_participants_found, 2);
    wait_until_synced(&app, id).await;
    let after = member_by_phone(&app, id, ana).await;
    let replaced = after.participant.expect("placed again");
    assert_ne!(replaced.participant_sid, placed.participant_sid);
    assert_eq!(times_in_twilio(&app, id, ana).await, 1);
    let counts = app.state.store.shard_counts(id).await.expect("counts");
    assert_eq!(counts.get(&placed.conversation_sid), Some(&3));
    assert_no_changes(&reconcile(&app.state, id).await.expect("again"));
}

#[tokio::test]
async fn a_stray_participant_of_no_member_is_deleted() {
    let app = spawn().await;
    let (id, number) = synced_neighborhood(&app, "415", &["+15550007021"]).await;
    let stranger = "+15550007029";
    let (conversation_sid, _) = twilio_view(&app, id).await.remove(0);
    let created = app
        .emulator_post(
            &format!("/conversations/v1/Conversations/{conversation_sid}/Participants"),
            &[
                ("MessagingBinding.Address", stranger),
                ("MessagingBinding.ProxyAddress", &number),
            ],
        )
        .await;
    assert_eq!(created.status(), 201);

    let report = reconcile(&app.state, id).await.expect("reconciled");

    assert_eq!(report.removed_strays.len(), 1, "{report:#?}");
    let stray = &report.removed_strays[0];
    assert_eq!(
        (stray.member_id, stray.phone.as_str(), stray.queued),
        (None, stranger, false)
    );
    assert!(report.requeued.is_empty() && report.relinked.is_empty());
    assert_eq!(
        (
            report.shards[0].sms_participants_found,
            report.shards[0].sms_participants_after
        ),
        (3, 2)
    );
    assert_eq!(times_in_twilio(&app, id, stranger).await, 0);
    let counts = app.state.store.shard_counts(id).await.expect("counts");
    assert_eq!(counts.get(&conversation_sid), Some(&2));
    assert_no_changes(&reconcile(&app.state, id).await.expect("again"));
}

#[tokio::test]
async fn a_member_who_left_in_redis_is_removed_from_twilio() {
    let app = spawn().await;
    let ben = "+15550007031";
    let (id, _) = synced_neighborhood(&app, "415", &[ben, "+15550007032"]).await;
    let before = member_by_phone(&app, id, ben).await;
    let placed = before.participant.clone().expect("placed");
    overwrite_member(&app, &before, |m| m.status = MemberStatus::Left).await;

    let report = reconcile(&app.state, id).await.expect("reconciled");

    assert_eq!(report.removed_departed.len(), 1, "{report:#?}");
    let removed = &report.removed_departed[0];
    assert_eq!(removed.member_id, Some(before.id));
    assert_eq!(removed.participant_sid, placed.participant_sid);
    assert!(removed.queued);
    let members = wait_until_synced(&app, id).await;
    let after = members.iter().find(|m| m.id == before.id).expect("member");
    assert_eq!(
        (after.status, &after.participant),
        (MemberStatus::Left, &None)
    );
    assert_eq!(times_in_twilio(&app, id, ben).await, 0);
    let counts = app.state.store.shard_counts(id).await.expect("counts");
    assert_eq!(counts.get(&placed.conversation_sid), Some(&2));
    assert_no_changes(&reconcile(&app.state, id).await.expect("again"));
}

#[tokio::test]
async fn a_record_naming_the_wrong_participant_is_relinked_without_touching_twilio() {
    let app = spawn().await;
    let cy = "+15550007041";
    let (id, _) = synced_neighborhood(&app, "415", &[cy]).await;
    let before = member_by_phone(&app, id, cy).await;
    let real = before.participant.clone().expect("placed");
    let view = twilio_view(&app, id).await;
    overwrite_member(&app, &before, |m| {
        if let Some(participant) = m.participant.as_mut() {
            participant.participant_sid = "MB00000000000000000000000000000000".into();
        }
    })
    .await;

    let report = reconcile(&app.state, id).await.expect("reconciled");

    assert_eq!(report.relinked.len(), 1, "{report:#?}");
    assert_eq!(report.relinked[0].to, Some(real.clone()));
    assert!(report.requeued.is_empty() && report.removed_strays.is_empty());
    let after = member_by_phone(&app, id, cy).await;
    assert_eq!(
        (after.participant, after.sync),
        (Some(real), SyncState::Done)
    );
    assert_eq!(twilio_view(&app, id).await, view, "Twilio is untouched");
}

#[tokio::test]
async fn a_pending_member_is_skipped_and_nothing_of_theirs_is_touched() {
    let app = spawn().await;
    let dee = "+15550007051";
    let (id, _) = synced_neighborhood(&app, "415", &[dee]).await;
    let before = member_by_phone(&app, id, dee).await;
    // As if a removal were queued: the record is pending while Twilio still holds them.
    overwrite_member(&app, &before, |m| {
        m.status = MemberStatus::Removed;
        m.sync = SyncState::Pending;
    })
    .await;

    let report = reconcile(&app.state, id).await.expect("reconciled");

    assert_eq!(report.skipped.len(), 1, "{report:#?}");
    assert_eq!(
        (report.skipped[0].member_id, report.skipped[0].reason),
        (before.id, SkipReason::Pending)
    );
    assert!(!report.changed_anything(), "{report:#?}");
    assert_eq!(times_in_twilio(&app, id, dee).await, 1);
}

#[tokio::test]
async fn a_second_reconciliation_at_the_same_time_is_refused_and_nothing_is_doubled() {
    let app = spawn().await;
    let eve = "+15550007061";
    let (id, _) = synced_neighborhood(&app, "415", &[eve]).await;
    let placed = member_by_phone(&app, id, eve)
        .await
        .participant
        .expect("placed");
    delete_in_twilio(&app, &placed.conversation_sid, &placed.participant_sid).await;

    let (first, second) = tokio::join!(reconcile(&app.state, id), reconcile(&app.state, id));

    let (report, refused) = match (first, second) {
        (Ok(report), Err(error)) | (Err(error), Ok(report)) => (report, error),
        other => panic!("expected one run and one refusal, got {other:?}"),
    };
    assert!(
        matches!(refused, ReconcileError::AlreadyRunning),
        "{refused:?}"
    );
    assert_eq!(report.requeued.len(), 1, "{report:#?}");
    wait_until_synced(&app, id).await;
    assert_eq!(times_in_twilio(&app, id, eve).await, 1);
    assert_no_changes(
        &reconcile(&app.state, id)
            .await
            .expect("the lock is released"),
    );
    assert_eq!(times_in_twilio(&app, id, eve).await, 1);
}

#[tokio::test]
async fn unknown_and_archived_neighborhoods_are_refused() {
    let app = spawn().await;
    assert!(matches!(
        reconcile(&app.state, Uuid::now_v7()).await,
        Err(ReconcileError::NotFound)
    ));
    let (id, _) = synced_neighborhood(&app, "415", &[]).await;
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        200,
    )
    .await;

    assert!(matches!(
        reconcile(&app.state, id).await,
        Err(ReconcileError::Archived)
    ));
}

#[tokio::test]
async fn the_periodic_job_repairs_every_active_neighborhood() {
    let app = spawn().await;
    let (first, _) = synced_neighborhood(&app, "415", &["+15550007071"]).await;
    let (second, _) = synced_neighborhood(&app, "212", &["+15550007081"]).await;
    let mut deleted = Vec::new();
    for (id, phone) in [(first, "+15550007071"), (second, "+15550007081")] {
        let placed = member_by_phone(&app, id, phone)
            .await
            .participant
            .expect("placed");
        delete_in_twilio(&app, &placed.conversation_sid, &placed.participant_sid).await;
        deleted.push((id, phone));
    }

    let job = tokio::spawn(neighborhood_text::jobs::reconcile::run_periodically(
        app.state.clone(),
        Duration::from_millis(200),
    ));

    for (id, phone) in deleted {
        eventually(WAIT, "the periodic job to bring the member back", || {
            let app = &app;
            async move { times_in_twilio(app, id, phone).await == 1 }
        })
        .await;
    }
    job.abort();
}
