//! neighborhood-text: a neighborhood's own SMS group chat on one Twilio number.
//!
//! Layers, top to bottom; each uses only those below it (the `layering` test fails on a circle):
//! - `main`, `startup`: settings in, the HTTP app and the background jobs out; `admin` is the CLI.
//!   `serve` is the connection loop (header-read timeout), `limits` bounds request bodies,
//!   `replication` holds an answer until Redis replicas have the change (`NT_REDIS_WAIT_REPLICAS`).
//! - Edges: `api` (the REST surface and its OpenAPI document), `webhooks` (Twilio's way in, with
//!   captains' `#commands`), `jobs` (the outbox of Twilio side effects, scheduled announcements,
//!   reconciliation with Twilio). They authorize, call one service function, audit and answer.
//! - `auth`: principals (API tokens, session cookies), sessions, minting tokens, and the one
//!   permission table; `api::security` reads the principal off a request.
//! - `services`: the rules. `joining` files and decides join requests (web and text alike),
//!   `members` admits and changes members, `announcements`, `neighborhoods` (found, or 404/409),
//!   `provisioning` (a neighborhood's Twilio side, with undo), `relay`, `costs`, `texts`, `codes`,
//!   `catch_up`. `import` and `export` move members in from a spreadsheet and records out;
//!   `sheet_hub` keeps the group in step with a connected Google Sheet, through the import.
//! - `state` (what every handler reaches), `store` (Redis; every key format in `store::keys`),
//!   `twilio` (the REST client), `sandbox` (the Twilio emulator), `google` (OAuth and the Sheets
//!   API at the wire, and the cipher that keeps a refresh token sealed at rest).
//! - `domain`: pure types and rules. `config`, `telemetry`, `secret`, `qr`, `ui`, `on_first_use`
//!   stand aside.

pub mod admin;
pub mod api;
pub mod auth;
pub mod config;
pub mod domain;
pub mod export;
pub mod google;
pub mod i18n;
pub mod import;
pub mod jobs;
pub mod limits;
pub mod on_first_use;
pub mod outbound;
pub mod qr;
pub mod replication;
pub mod sandbox;
pub mod secret;
pub mod serve;
pub mod services;
pub mod sheet_hub;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod twilio;
pub mod ui;
pub mod webhooks;

#[cfg(test)]
mod layering;
