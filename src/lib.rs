//! neighborhood-text: a neighborhood's own SMS group chat on one Twilio number.
//!
//! `config` reads the `NT_*` settings; `startup` builds and runs the HTTP app over `state`; `api`
//! is the REST surface and its OpenAPI document; `jobs` carries out queued Twilio side effects,
//! sends scheduled announcements when due and reconciles with Twilio; `provisioning` runs a
//! neighborhood's Twilio side (number, Conversations) with undo on failure; `joining` decides
//! join requests; `announcements` sends, schedules, edits and cancels captains' announcements;
//! `membership` handles what neighbors text (LEAVE, STOP, START, JOIN); `import` and `export`
//! move neighbors in from a spreadsheet and records out to one; `costs` keeps the cost ledger and
//! the monthly budget (alerts, held announcements); `webhooks` is Twilio's way in; `domain` holds
//! pure types and rules; `store` is Redis (every key format in `store::keys`); `twilio` is the
//! REST client; `sandbox` emulates Twilio; `telemetry` sets up logs and metrics; `ui` embeds the
//! static web pages; `secret` keeps secrets out of logs.

pub mod admin;
pub mod api;
pub mod auth;
pub mod config;
pub mod domain;
pub mod export;
pub mod import;
pub mod jobs;
pub mod qr;
pub mod sandbox;
pub mod secret;
pub mod services;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod twilio;
pub mod ui;
pub mod webhooks;
