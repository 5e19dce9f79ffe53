//! The web pages, embedded in the binary from `ui/` (plain HTML, CSS and ES modules, no build step).

use poem::endpoint::{EmbeddedFileEndpoint, EmbeddedFilesEndpoint};
use poem::http::header;
use poem::middleware::SetHeader;
use poem::{Endpoint, EndpointExt};

#[derive(rust_embed::RustEmbed)]
#[folder = "ui/"]
pub struct Assets;

/// Everything the pages load comes from this origin: no CDN, font or script from elsewhere can
/// creep in, and injected markup could run nothing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The API reference (`/docs`, poem-openapi's bundled Swagger UI) shares the admin app's origin
/// and cookies (security review, finding 19). Its page is generated with inline script and style,
/// so those are allowed; it still loads and calls nothing from elsewhere and cannot be framed.
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

fn secured<E: Endpoint>(endpoint: E) -> impl Endpoint {
    secured_by(endpoint, CONTENT_SECURITY_POLICY)
}

/// The API reference, with its own policy.
pub fn docs(endpoint: impl Endpoint) -> impl Endpoint {
    secured_by(endpoint, DOCS_CONTENT_SECURITY_POLICY)
}

fn secured_by<E: Endpoint>(endpoint: E, policy: &'static str) -> impl Endpoint {
    endpoint.with(
        SetHeader::new()
            .overriding(header::CONTENT_SECURITY_POLICY, policy)
            .overriding(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .overriding(header::REFERRER_POLICY, "same-origin"),
    )
}

/// Serves `ui/`, with `index.html` for directories.
pub fn endpoint() -> impl Endpoint {
    secured(EmbeddedFilesEndpoint::<Assets>::new())
}

/// One file of `ui/`, e.g. the page behind `/join/{slug}`.
pub fn page(path: &str) -> impl Endpoint {
    secured(EmbeddedFileEndpoint::<Assets>::new(path))
}
