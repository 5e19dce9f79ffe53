//! Every Redis key format, and nowhere else.
//!
//! All keys of one neighborhood share the hash tag `{nb:<id>}` so multi-key transactions on a
//! neighborhood stay in one Redis Cluster slot. Deployment-wide indexes share the tag `{global}`
//! so their updates are atomic too. The prefix separates deployments and tests on one Redis.

use uuid::Uuid;

use crate::domain::neighborhood::Slug;
use crate::domain::phone::Phone;

#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// JSON of one neighborhood.
    pub fn neighborhood(&self, id: Uuid) -> String {
        format!("{}:{{nb:{}}}:neighborhood", self.prefix, id.simple())
    }

    /// Ids of active neighborhoods (a sorted set read by lexical order: uuid v7 sorts by time).
    pub fn active_neighborhoods(&self) -> String {
        format!("{}:{{global}}:neighborhoods:active", self.prefix)
    }

    /// Ids of archived neighborhoods, same shape.
    pub fn archived_neighborhoods(&self) -> String {
        format!("{}:{{global}}:neighborhoods:archived", self.prefix)
    }

    /// Which neighborhood holds a phone number: one number is never shared (Twilio error 50416).
    pub fn number_claim(&self, number: &Phone) -> String {
        format!("{}:{{global}}:number:{}", self.prefix, number.as_str())
    }

    /// Which neighborhood owns a `/join/{slug}` link.
    pub fn slug_claim(&self, slug: &Slug) -> String {
        format!("{}:{{global}}:slug:{}", self.prefix, slug.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighborhood_keys_carry_one_hash_tag() {
        let keys = Keys::new("nt");
        let id = Uuid::nil();
        assert_eq!(
            keys.neighborhood(id),
            "nt:{nb:00000000000000000000000000000000}:neighborhood"
        );
        let phone = Phone::parse("+15551234567").unwrap();
        assert_eq!(keys.number_claim(&phone), "nt:{global}:number:+15551234567");
    }
}
