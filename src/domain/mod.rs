//! Pure types and rules, no I/O: values are parsed here once, at the edge, and trusted after.

pub mod access;
pub mod announcement;
pub mod audience;
pub mod catch_up;
pub mod channel;
pub mod client_ip;
pub mod clock;
pub mod costs;
pub mod destinations;
pub mod join_digest;
pub mod join_questions;
pub mod join_request;
pub mod keywords;
pub mod member;
pub mod member_list;
pub mod neighborhood;
pub mod phone;
pub mod quiet_hours;
pub mod segments;
pub mod template;

/// Why an input value was refused, phrased for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);
