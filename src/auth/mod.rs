//! Who is asking, and may they?
//!
//! `principal` is who is asking (an API token or a signed-in phone); `api::security` reads it off
//! a request before anything else about the request is read, so anonymous calls get 401 and
//! reveal nothing.
//! `policy` is the one table that says which principals may run which operation; handlers ask
//! it and nothing else decides. `session` signs and rotates session cookies, `tokens` mints API
//! tokens. (The codes texted to sign in are `services::codes`.)

pub mod policy;
pub mod principal;
pub mod session;
pub mod tokens;
