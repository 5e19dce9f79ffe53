//! Redis over TLS, as Upstash and managed Redis require: `rediss://` with the CA given in
//! `NT_REDIS_CA_FILE`, against a `redis-server` of the test's own that speaks only TLS.

use std::time::Duration;

use serde_json::json;

use neighborhood_text::config::RedisReach;
use neighborhood_text::store::Store;
use neighborhood_text::store::connection;

use crate::helpers::{OwnRedis, parse_redis_url, sandbox_settings, spawn_sandbox_app_with};

const OWNER: &str = "+15550032000";
const NEIGHBOR: &str = "+15550032001";

fn reach(ca_file: Option<std::path::PathBuf>) -> RedisReach {
    RedisReach {
        redis_cluster: false,
        redis_cluster_nodes: Vec::new(),
        redis_ca_file: ca_file,
        redis_wait_replicas: 0,
    }
}

#[tokio::test]
async fn the_service_runs_on_redis_over_tls_with_the_ca_it_is_given() {
    let redis = OwnRedis::start_tls().await;
    assert!(redis.url.starts_with("rediss://"));
    // An ACL user of its own, named with its password in the URL, as managed Redis hands out.
    let mut conn = redis.connection().await;
    let _: () = redis::cmd("ACL")
        .arg(
            &[
                "SETUSER",
                "neighborhood",
                "on",
                ">s3cret-pw",
                "~*",
                "&*",
                "+@all",
            ][..],
        )
        .query_async(&mut conn)
        .await
        .expect("ACL SETUSER");
    let url = redis
        .url
        .replace("rediss://", "rediss://neighborhood:s3cret-pw@");
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.redis_url = parse_redis_url(&url);
    settings.redis_reach = reach(Some(redis.ca_file()));
    let app = spawn_sandbox_app_with(receiver, settings).await;

    let ready = app.get_raw("/ready").await;
    assert_eq!(ready.status().as_u16(), 200, "ready over rediss://");
    // One flow end to end: a neighborhood, a member added, their welcome text delivered.
    let created = app
        .create_neighborhood(&json!({"name": "Tls Terrace", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id");
    app.add_member_by_api(id, NEIGHBOR, "Nia").await;
    let welcome = app.wait_for_text(NEIGHBOR, "Tls Terrace").await;
    assert!(welcome.contains("Tls Terrace"), "{welcome}");
}

#[tokio::test]
async fn a_ca_that_did_not_sign_the_servers_certificate_is_refused_with_a_hint() {
    let redis = OwnRedis::start_tls().await;
    let endpoint = reach(Some(redis.other_ca_file()))
        .endpoint(&parse_redis_url(&redis.url))
        .expect("a readable CA file");
    let store = Store::connect(&endpoint, "tls-wrong-ca", Duration::from_secs(2)).expect("lazy");
    let error = store
        .ping()
        .await
        .expect_err("the wrong CA must not be trusted");
    assert_eq!(
        connection::hint(&error),
        Some(
            "the server's TLS certificate is not trusted: set NT_REDIS_CA_FILE to the CA that \
             signed it (without it the system's roots are used)"
        ),
        "{error}"
    );

    // Nor do the system's roots trust a test CA.
    let endpoint = reach(None)
        .endpoint(&parse_redis_url(&redis.url))
        .expect("no CA file");
    let store =
        Store::connect(&endpoint, "tls-system-roots", Duration::from_secs(2)).expect("lazy");
    assert!(store.ping().await.is_err());
}

#[tokio::test]
async fn a_ca_file_that_cannot_be_used_stops_the_boot_with_one_sentence() {
    let url = parse_redis_url("rediss://127.0.0.1:6380");
    let missing = reach(Some("/nonexistent/ca.pem".into()))
        .endpoint(&url)
        .expect_err("a missing file");
    assert!(
        missing.starts_with("NT_REDIS_CA_FILE /nonexistent/ca.pem could not be read"),
        "{missing}"
    );
    let not_pem = std::env::temp_dir().join(format!("nt-not-a-ca-{}.txt", uuid::Uuid::new_v4()));
    std::fs::write(&not_pem, "hello").expect("a file");
    let refused = reach(Some(not_pem.clone()))
        .endpoint(&url)
        .expect_err("not a certificate");
    let _ = std::fs::remove_file(&not_pem);
    assert!(refused.contains("holds no PEM certificate"), "{refused}");
}
