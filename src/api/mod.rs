//! The REST surface: one file per resource with its DTOs, response enums and handlers, all
//! merged into one `OpenApiService` whose document is committed at `openapi/openapi.json`.

pub mod error;
pub mod neighborhoods;
pub mod system;

use poem_openapi::{OpenApiService, Tags};

/// Fixed so a crate version bump does not churn the committed spec.
pub const API_VERSION: &str = "1.0.0";

#[derive(Tags)]
pub enum ApiTags {
    /// A neighborhood: its number, its Conversations, its settings.
    Neighborhoods,
    /// Health, readiness and metrics.
    System,
}

pub type Api = (system::SystemApi, neighborhoods::NeighborhoodsApi);

/// The API with its OpenAPI document. Building it does no I/O, so tests can print the spec.
pub fn service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (system::SystemApi, neighborhoods::NeighborhoodsApi),
        "neighborhood-text",
        API_VERSION,
    )
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
