//! Which error statuses an operation lists in the OpenAPI document.
//!
//! A handler returns `Result<XResponse, ApiError<S>>`, where `S` is one of the sets below or a
//! tuple of them: `ApiError<(SignedIn, Invalid, NotFound)>`. The document then lists exactly
//! those statuses, and [`EVERY_OPERATION`]'s, with the one error body. The set is
//! a promise to integrators, not a filter: an error outside it still answers with its own
//! status, and is logged as a bug so the set gets fixed.

use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaResponses, Registry};

use super::{ApiError, ErrorResponse};

/// Every error status of [`ErrorResponse`], in order; a set is a bit mask over them.
const ALL: [u16; 12] = [400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503];

const fn mask(statuses: &[u16]) -> u32 {
    let mut mask = 0;
    let mut i = 0;
    while i < statuses.len() {
        let mut bit = 0;
        while bit < ALL.len() {
            if ALL[bit] == statuses[i] {
                mask |= 1 << bit;
            }
            bit += 1;
        }
        i += 1;
    }
    mask
}

/// What any operation can answer, whatever it does: 500, and 415, which
/// `crate::limits::bound_requests` answers before routing to any request sent with a
/// `Content-Encoding`, body or not (the import, which inflates its body, to a coding it cannot
/// inflate). Its other refusal, 413 for a body over the size, is listed by the
/// operations that take a body ([`JsonBody`]).
const EVERY_OPERATION: u32 = mask(&[415, 500]);

/// A set of error statuses an operation can answer with.
pub trait Statuses: 'static {
    /// The statuses, as bits over `ALL`.
    const MASK: u32;

    /// Whether the set holds `status`; [`EVERY_OPERATION`]'s are in every set.
    fn lists(status: u16) -> bool {
        (Self::MASK | EVERY_OPERATION) & mask(&[status]) != 0
    }
}

/// Nothing but what every operation lists: for an operation that fails in no way of its own,
/// such as the liveness probe.
#[derive(Debug)]
pub enum Baseline {}

impl Statuses for Baseline {
    const MASK: u32 = 0;
}

/// Every status: for an error not (yet) returned by an operation, such as one a helper
/// builds or an authentication checker raises.
#[derive(Debug)]
pub enum AnyStatus {}

impl Statuses for AnyStatus {
    const MASK: u32 = mask(&[400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503]);
}

/// 400: a path or query parameter, or a field, is invalid.
#[derive(Debug)]
pub enum Invalid {}

impl Statuses for Invalid {
    const MASK: u32 = mask(&[400]);
}

/// 400, 413 and 415: the operation takes a JSON body, which may be unreadable (400), over
/// `crate::limits::MAX_BODY` (413) or not sent as `application/json` (415, which every
/// operation lists anyway).
#[derive(Debug)]
pub enum JsonBody {}

impl Statuses for JsonBody {
    const MASK: u32 = mask(&[400, 413, 415]);
}

/// 401, 403 and 503: the operation needs a session or an API token. None or an unknown one
/// is 401; a session cookie sent from another site, or a role too low, is 403; checking the
/// credentials reads Redis, so 503 when it is unreachable.
#[derive(Debug)]
pub enum SignedIn {}

impl Statuses for SignedIn {
    const MASK: u32 = mask(&[401, 403, 503]);
}

/// 403: a public operation that can refuse (a neighborhood that takes invitations only).
#[derive(Debug)]
pub enum Refused {}

impl Statuses for Refused {
    const MASK: u32 = mask(&[403]);
}

/// 404: the neighborhood, member, request or link does not exist.
#[derive(Debug)]
pub enum NotFound {}

impl Statuses for NotFound {
    const MASK: u32 = mask(&[404]);
}

/// 409: the change conflicts with the current state (archived, taken, changed meanwhile).
#[derive(Debug)]
pub enum Conflict {}

impl Statuses for Conflict {
    const MASK: u32 = mask(&[409]);
}

/// 413: the body is over the operation's limit.
#[derive(Debug)]
pub enum TooLarge {}

impl Statuses for TooLarge {
    const MASK: u32 = mask(&[413]);
}

/// 422: well-formed, but Twilio has no such number to give.
#[derive(Debug)]
pub enum Unprocessable {}

impl Statuses for Unprocessable {
    const MASK: u32 = mask(&[422]);
}

/// 429: the operation is rate limited.
#[derive(Debug)]
pub enum RateLimited {}

impl Statuses for RateLimited {
    const MASK: u32 = mask(&[429]);
}

/// 502: the operation calls Twilio while the caller waits.
#[derive(Debug)]
pub enum Twilio {}

impl Statuses for Twilio {
    const MASK: u32 = mask(&[502]);
}

/// 502: the operation reads a Google Sheet while the caller waits.
#[derive(Debug)]
pub enum Google {}

impl Statuses for Google {
    const MASK: u32 = mask(&[502]);
}

/// 503: the operation reads or writes Redis (or needs a Twilio account), which may be
/// unavailable.
#[derive(Debug)]
pub enum Unavailable {}

impl Statuses for Unavailable {
    const MASK: u32 = mask(&[503]);
}

macro_rules! status_set_union {
    ($($set:ident),+) => {
        impl<$($set: Statuses),+> Statuses for ($($set,)+) {
            const MASK: u32 = $($set::MASK)|+;
        }
    };
}

status_set_union!(A, B);
status_set_union!(A, B, C);
status_set_union!(A, B, C, D);
status_set_union!(A, B, C, D, E);
status_set_union!(A, B, C, D, E, F);
status_set_union!(A, B, C, D, E, F, G);
status_set_union!(A, B, C, D, E, F, G, H);

impl<S: Statuses> ApiResponse for ApiError<S> {
    fn meta() -> MetaResponses {
        let mut meta = ErrorResponse::meta();
        meta.responses
            .retain(|response| response.status.is_some_and(S::lists));
        meta
    }

    fn register(registry: &mut Registry) {
        ErrorResponse::register(registry);
    }
}

impl<S: Statuses> From<ApiError<S>> for poem::Error {
    fn from(error: ApiError<S>) -> Self {
        let status = error.status();
        if !S::lists(status.as_u16()) {
            // The answer keeps its true status; the document is what is wrong.
            tracing::error!(
                status = status.as_u16(),
                listed = std::any::type_name::<S>(),
                "bug: an operation answered with an error status its OpenAPI entry does not list"
            );
        }
        error.response.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_union_lists_its_parts_and_what_every_operation_lists_only() {
        type Set = (SignedIn, NotFound);
        for status in [401, 403, 404, 415, 500, 503] {
            assert!(Set::lists(status), "{status}");
        }
        for status in [400, 409, 413, 422, 429, 502] {
            assert!(!Set::lists(status), "{status}");
        }
    }

    #[test]
    fn the_document_lists_only_the_set() {
        let listed: Vec<u16> = ApiError::<(Invalid, Twilio)>::meta()
            .responses
            .iter()
            .filter_map(|response| response.status)
            .collect();
        assert_eq!(listed, [400, 415, 500, 502]);
        let baseline: Vec<u16> = ApiError::<Baseline>::meta()
            .responses
            .iter()
            .filter_map(|response| response.status)
            .collect();
        assert_eq!(baseline, [415, 500]);
        let every = ApiError::<AnyStatus>::meta().responses.len();
        assert_eq!(every, ALL.len());
    }

    #[test]
    fn an_error_outside_the_set_keeps_its_own_status() {
        let error: poem::Error = ApiError::<Invalid>::not_found("member").into();
        assert_eq!(error.status(), poem::http::StatusCode::NOT_FOUND);
    }
}
