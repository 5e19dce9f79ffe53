//! The integration tests but the browser journeys (those are `tests/browser.rs`): the app on
//! port 0, real Redis with a prefix per test, Twilio at the wire through wiremock or played by
//! the built-in emulator. `cargo test --test api` runs them alone.

mod abuse;
mod announcements;
mod archive;
mod audit_log;
mod auth;
mod authority;
mod backfill;
mod catch_up;
mod cli;
mod composer;
mod conformance;
mod costs;
mod directory;
mod event_endpoints;
mod events;
mod helpers;
mod import_export;
mod invites;
mod join;
mod keywords;
mod languages;
mod member_lists;
mod memory;
mod neighborhoods;
mod outages;
mod outbox;
mod permissions;
mod photos;
mod rate_limits;
mod reconcile;
mod redis_cluster;
mod redis_failover;
mod redis_tls;
mod relay;
mod sandbox;
mod sandbox_conformance;
mod signin;
mod system;
mod toll_fraud;
mod traces;
mod triage;
mod twilio_client;
mod webhooks;
mod whatsapp;
