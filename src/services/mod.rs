//! What the service does, whoever asks: the HTTP API, Twilio's webhooks, a captain's texts and
//! the background jobs all call these functions, which hold the rules and write through `store`.

pub mod additions;
pub mod announcements;
pub mod audiences;
pub mod audit_log;
pub mod catch_up;
pub mod codes;
pub mod costs;
pub mod deliveries;
pub mod event_deliveries;
pub mod event_endpoints;
pub mod group_messages;
pub mod inbound;
pub mod invites;
pub mod join_digests;
pub mod join_history;
pub mod joining;
pub mod member_list;
pub mod members;
pub mod neighborhoods;
pub mod phone_names;
pub mod pictures;
pub mod provisioning;
pub mod relay;
pub mod sending;
pub mod templates;
pub mod texts;
pub mod whatsapp_window;
