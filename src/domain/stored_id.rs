//! Ids as member records store them (`#[serde(with = "stored_id")]`): the 32-digit simple form,
//! four bytes shorter than the hyphenated one, on every record. Either form reads.

use serde::{Deserialize, Deserializer, Serializer};
use uuid::Uuid;

pub fn serialize<S: Serializer>(id: &Uuid, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(id.simple().encode_lower(&mut Uuid::encode_buffer()))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    Uuid::deserialize(deserializer)
}
