//! The REST surface: one file per resource with its DTOs, response enums and handlers, all
//! merged into one `OpenApiService` whose document is committed at `openapi/openapi.json`.

pub mod announcements;
pub mod audiences;
pub mod audit;
pub mod auth;
pub mod blocks;
pub mod catch_up;
pub mod costs;
pub mod error;
pub mod event_endpoints;
pub mod events;
pub mod export;
pub mod import;
pub mod invites;
pub mod join;
pub mod join_request_batches;
pub mod join_requests;
pub mod members;
pub mod messages;
pub mod neighborhoods;
pub mod pictures;
pub mod security;
pub mod sheet_hub;
pub mod summary;
pub mod sync;
pub mod system;
pub mod templates;
pub mod tokens;

use poem_openapi::{OpenApiService, Tags};

/// Fixed so a crate version bump does not churn the committed spec.
pub const API_VERSION: &str = "1.0.0";

#[derive(Tags)]
pub enum ApiTags {
    /// Signing in with a code texted to your phone.
    Auth,
    /// A neighborhood: its number, its Conversations, its settings.
    Neighborhoods,
    /// Members, their roles, and ownership.
    Members,
    /// Asking to join (public).
    Join,
    /// Join requests, for captains.
    JoinRequests,
    /// What the group said, and the captains' announcements (now or scheduled).
    Messages,
    /// Inviting neighbors: texts, link, QR code.
    Invites,
    /// Who did what.
    Audit,
    /// Neighbors in from a spreadsheet; members, join requests, messages and the audit log out
    /// as CSV or JSON files.
    ImportExport,
    /// API tokens for integrators.
    Tokens,
    /// What texting costs: the monthly ledger and the budget.
    Costs,
    /// Integrators' endpoints: the neighborhood's events posted to your server, signed.
    Events,
    /// A Google Sheet (or a Google Form's responses) the group is kept in step with.
    SheetHub,
    /// Health, readiness and metrics.
    System,
}

pub type Api = (
    system::SystemApi,
    auth::AuthApi,
    neighborhoods::NeighborhoodsApi,
    members::MembersApi,
    messages::MessagesApi,
    announcements::AnnouncementsApi,
    sync::SyncApi,
    events::EventsApi,
    join::JoinApi,
    JoinRequestApis,
    invites::InvitesApi,
    audit::AuditApi,
    tokens::TokensApi,
    RunningApis,
);

/// Deciding join requests, one at a time and in batches.
pub type JoinRequestApis = (
    join_requests::JoinRequestsApi,
    join_request_batches::JoinRequestBatchesApi,
);

/// Running a neighborhood week to week; a tuple of its own because poem-openapi takes at most 16
/// APIs in one.
pub type RunningApis = (
    blocks::BlocksApi,
    summary::SummaryApi,
    catch_up::CatchUpApi,
    import::ImportApi,
    export::ExportApi,
    costs::CostsApi,
    audiences::AudiencesApi,
    templates::TemplatesApi,
    pictures::PicturesApi,
    event_endpoints::EventEndpointsApi,
    sheet_hub::SheetHubApi,
);

/// The API with its OpenAPI document. Building it does no I/O, so tests can print the spec.
pub fn service() -> OpenApiService<Api, ()> {
    let apis = (
        system::SystemApi,
        auth::AuthApi,
        neighborhoods::NeighborhoodsApi,
        members::MembersApi,
        messages::MessagesApi,
        announcements::AnnouncementsApi,
        sync::SyncApi,
        events::EventsApi,
        join::JoinApi,
        (
            join_requests::JoinRequestsApi,
            join_request_batches::JoinRequestBatchesApi,
        ),
        invites::InvitesApi,
        audit::AuditApi,
        tokens::TokensApi,
        (
            blocks::BlocksApi,
            summary::SummaryApi,
            catch_up::CatchUpApi,
            import::ImportApi,
            export::ExportApi,
            costs::CostsApi,
            audiences::AudiencesApi,
            templates::TemplatesApi,
            pictures::PicturesApi,
            event_endpoints::EventEndpointsApi,
            sheet_hub::SheetHubApi,
        ),
    );
    OpenApiService::new(apis, "neighborhood-text", API_VERSION)
        .description(
            "A neighborhood's own SMS group chat on one phone number. Every error answers with \
             `{code, message, details}`; `code` is stable.",
        )
        .license(poem_openapi::LicenseObject::new("MIT"))
}

/// The document as committed: pretty JSON with a final newline.
pub fn spec_json() -> String {
    service().spec() + "\n"
}
