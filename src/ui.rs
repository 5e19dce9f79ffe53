//! The web pages, embedded in the binary from `ui/` (plain HTML, CSS and ES modules, no build step).

use poem::endpoint::{EmbeddedFileEndpoint, EmbeddedFilesEndpoint};
use poem::http::header;
use poem::middleware::SetHeader;
use poem::web::{Data, Html, Path, Query};
use poem::{Endpoint, EndpointExt, IntoResponse, handler};

use crate::i18n::{self, Language};
use crate::services::neighborhoods;
use crate::state::AppState;

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

/// `/locales/{code}`: the public pages' words in a shipped language (`{"language", "name",
/// "messages": {id: pattern}}`, see [`i18n::page_messages`]); with `?catalog=app`, the admin
/// app's (see [`i18n::app_messages`]; `language` then names the language they are in, English
/// for one that ships no admin catalog). 404 for a language not shipped or another catalog.
pub fn page_messages() -> impl Endpoint {
    secured(page_messages_json.with(SetHeader::new().overriding(header::CACHE_CONTROL, "no-cache")))
}

/// The query of `/locales/{code}`.
#[derive(Debug, Default, serde::Deserialize)]
struct CatalogQuery {
    catalog: Option<String>,
}

#[handler]
fn page_messages_json(
    Path(code): Path<String>,
    Query(query): Query<CatalogQuery>,
) -> poem::Response {
    let Some(language) = Language::parse(&code).filter(|language| language.code() == code) else {
        return poem::http::StatusCode::NOT_FOUND.into_response();
    };
    let (language, messages) = match query.catalog.as_deref() {
        None => (language, i18n::page_messages(language)),
        Some("app") => i18n::app_messages(language),
        Some(_) => return poem::http::StatusCode::NOT_FOUND.into_response(),
    };
    poem::web::Json(serde_json::json!({
        "language": language.code(),
        "name": language.name(),
        "messages": messages,
    }))
    .into_response()
}

/// The join page's static title, replaced by one naming the neighborhood.
const JOIN_TITLE: &str = "<title>Join your neighborhood's group text</title>";

/// `/join/{slug}`: the join page, its title and link-preview tags (`og:`) naming the neighborhood,
/// so a link shared in iMessage, WhatsApp or Facebook reads "Join Oak Hollow's group text" (the
/// preview bots run no script). An unknown link, or a store that does not answer, gets the plain
/// page, whose script then says what is wrong.
pub fn join_page() -> impl Endpoint {
    secured(join_page_html.with(SetHeader::new().overriding(header::CACHE_CONTROL, "no-cache")))
}

#[handler]
async fn join_page_html(Path(slug): Path<String>, state: Data<&AppState>) -> impl IntoResponse {
    let template =
        Assets::get("join.html").map(|file| String::from_utf8_lossy(&file.data).into_owned());
    let template = template.unwrap_or_default();
    match neighborhoods::active_by_slug(&state, &slug).await {
        Ok(neighborhood) => {
            let url = crate::services::invites::join_url(&state, &neighborhood);
            let title = format!("Join {}'s group text", neighborhood.name.as_str());
            let description = match neighborhood.description.as_str() {
                "" => "One number to text your neighbors. A captain approves who joins.",
                text => text,
            };
            Html(template.replacen(JOIN_TITLE, &preview_tags(&title, description, &url), 1))
        }
        Err(_) => Html(template),
    }
}

fn preview_tags(title: &str, description: &str, url: &str) -> String {
    let attribute = |text: &str| html_escape::encode_double_quoted_attribute(text).into_owned();
    format!(
        "<title>{}</title>\n  \
         <meta name=\"description\" content=\"{description}\">\n  \
         <meta property=\"og:type\" content=\"website\">\n  \
         <meta property=\"og:site_name\" content=\"neighborhood-text\">\n  \
         <meta property=\"og:title\" content=\"{title_attribute}\">\n  \
         <meta property=\"og:description\" content=\"{description}\">\n  \
         <meta property=\"og:url\" content=\"{url}\">",
        html_escape::encode_text(title),
        description = attribute(description),
        title_attribute = attribute(title),
        url = attribute(url),
    )
}

#[cfg(test)]
mod tests {
    use poem::http::{StatusCode, header};
    use poem::{Endpoint, Request, Route};

    async fn get(uri: &str) -> poem::Response {
        let route = Route::new().at("/locales/:code", super::page_messages());
        let request = Request::builder().uri(uri.parse().expect("a uri")).finish();
        route.get_response(request).await
    }

    async fn json(response: poem::Response) -> serde_json::Value {
        let body = response.into_body().into_bytes().await.expect("a body");
        serde_json::from_slice(&body).expect("json")
    }

    #[tokio::test]
    async fn the_admin_catalog_is_served_in_english_with_the_pages_headers() {
        let response = get("/locales/es?catalog=app").await;
        assert_eq!(response.status(), StatusCode::OK);
        for name in [
            header::CONTENT_SECURITY_POLICY,
            header::X_CONTENT_TYPE_OPTIONS,
            header::CACHE_CONTROL,
        ] {
            assert!(response.headers().contains_key(&name), "{name} missing");
        }
        let body = json(response).await;
        assert_eq!(body["language"], "en", "Spanish has no admin catalog yet");
        assert_eq!(body["messages"]["app-signin-title"], "Sign in");
        assert!(body["messages"]["page-join-title"].is_null());

        let pages = json(get("/locales/es").await).await;
        assert_eq!(pages["language"], "es");
        assert_eq!(
            pages["messages"]["page-join-title"],
            "Unirte a {$neighborhood}"
        );
        assert!(pages["messages"]["app-shared-network"].is_string());
        assert!(pages["messages"]["app-signin-title"].is_null());

        for uri in ["/locales/fr?catalog=app", "/locales/en?catalog=other"] {
            assert_eq!(get(uri).await.status(), StatusCode::NOT_FOUND, "{uri}");
        }
    }
}
