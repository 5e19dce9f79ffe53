//! The Google client against a wiremock stand-in: each request exactly as Google's documents
//! describe it (method, path, query, form fields, bearer header), each answer shaped as Google
//! sends it, and every refusal mapped to the variant a sync reacts to.

use std::time::Duration;

use neighborhood_text::google::oauth::{
    CodeVerifier, OAuthError, Revocation, SHEETS_READONLY_SCOPE,
};
use neighborhood_text::google::sheets::{Dimension, SheetsError, SpreadsheetId};
use neighborhood_text::google::{GoogleClient, GoogleConfig};
use neighborhood_text::secret::Secret;
use serde_json::json;
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const CLIENT_ID: &str = "1234567890-abc.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-client-secret-for-tests";
const REDIRECT_URI: &str = "https://hood.example/api/v1/google/callback";
const CODE: &str = "4/0AfJohXn-authorization-code";
const ACCESS_TOKEN: &str = "ya29.a0AfB_access-token-for-tests";
const REFRESH_TOKEN: &str = "1//0gLx-refresh-token-for-tests";
const SPREADSHEET_ID: &str = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms";
const RANGE: &str = "'Form Responses 1'!A1:Z";
/// `RANGE` as one path segment, every reserved character encoded.
const ENCODED_RANGE: &str = "%27Form%20Responses%201%27%21A1%3AZ";

fn config_for(server: &MockServer) -> GoogleConfig {
    let base = Url::parse(&server.uri()).expect("the mock server's URL");
    let mut config = GoogleConfig::new(CLIENT_ID, Secret::new(CLIENT_SECRET));
    config.auth_base = base.clone();
    config.token_base = base.clone();
    config.sheets_base = base;
    config.request_timeout = Duration::from_secs(5);
    config
}

fn client_for(server: &MockServer) -> GoogleClient {
    GoogleClient::new(config_for(server)).expect("the client builds")
}

/// The body is a form with exactly these fields (in any order) and nothing else.
struct FormIs(Vec<(&'static str, String)>);

impl Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        let form_type = request
            .headers
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            == Some("application/x-www-form-urlencoded");
        let mut sent: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let mut expected: Vec<(String, String)> = self
            .0
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        sent.sort();
        expected.sort();
        form_type && sent == expected
    }
}

/// The query string holds exactly these parameters and nothing else.
struct QueryIs(Vec<(&'static str, &'static str)>);

impl Match for QueryIs {
    fn matches(&self, request: &Request) -> bool {
        let mut sent: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let mut expected: Vec<(String, String)> = self
            .0
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        sent.sort();
        expected.sort();
        sent == expected
    }
}

fn exchange_form(verifier: &CodeVerifier) -> FormIs {
    FormIs(vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", CODE.to_owned()),
        ("code_verifier", verifier.expose().to_owned()),
        ("client_id", CLIENT_ID.to_owned()),
        ("client_secret", CLIENT_SECRET.to_owned()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
    ])
}

fn refresh_form() -> FormIs {
    FormIs(vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", REFRESH_TOKEN.to_owned()),
        ("client_id", CLIENT_ID.to_owned()),
        ("client_secret", CLIENT_SECRET.to_owned()),
    ])
}

fn oauth_error(status: u16, error: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": error, "error_description": description}))
}

/// Google's error body for REST APIs (`google.rpc.Status` as JSON).
fn google_error(status: u16, message: &str, status_name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"code": status, "message": message, "status": status_name}
    }))
}

fn values_get_mock() -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!(
            "/v4/spreadsheets/{SPREADSHEET_ID}/values/{ENCODED_RANGE}"
        )))
        .and(QueryIs(vec![
            ("majorDimension", "ROWS"),
            ("valueRenderOption", "FORMATTED_VALUE"),
        ]))
        .and(header("authorization", format!("Bearer {ACCESS_TOKEN}")))
}

async fn values_get(
    server: &MockServer,
) -> Result<neighborhood_text::google::sheets::ValueRange, SheetsError> {
    client_for(server)
        .values_get(
            &Secret::new(ACCESS_TOKEN),
            &SpreadsheetId::parse(&format!(
                "https://docs.google.com/spreadsheets/d/{SPREADSHEET_ID}/edit#gid=0"
            ))
            .expect("a Sheets link"),
            RANGE,
        )
        .await
}

#[tokio::test]
async fn connecting_sends_the_captain_to_google_and_trades_the_code_with_its_verifier() {
    let server = MockServer::start().await;
    let client = client_for(&server);
    let verifier = CodeVerifier::generate();
    let consent = client.authorization_url(REDIRECT_URI, "state-123", &verifier.challenge());
    assert_eq!(
        consent.as_str().split('?').next(),
        Some(format!("{}/o/oauth2/v2/auth", server.uri()).as_str())
    );
    assert!(consent.query_pairs().any(|(name, value)| name == "code_challenge"
        && value == verifier.challenge().as_str()));

    Mock::given(method("POST"))
        .and(path("/token"))
        .and(exchange_form(&verifier))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "expires_in": 3599,
            "refresh_token": REFRESH_TOKEN,
            "scope": SHEETS_READONLY_SCOPE,
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let tokens = client
        .exchange_code(CODE, &verifier, REDIRECT_URI)
        .await
        .expect("tokens");
    assert_eq!(tokens.access_token.expose(), ACCESS_TOKEN);
    assert_eq!(tokens.expires_in, Duration::from_secs(3599));
    assert_eq!(
        tokens.refresh_token.as_ref().map(Secret::expose),
        Some(REFRESH_TOKEN)
    );
    assert_eq!(tokens.refresh_token_expires_in, None);
    assert_eq!(tokens.token_type, "Bearer");
    assert!(tokens.grants(SHEETS_READONLY_SCOPE));
    let shown = format!("{tokens:?} {verifier:?} {client:?}");
    for secret in [
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        CLIENT_SECRET,
        verifier.expose(),
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn refreshing_posts_the_refresh_grant_and_keeps_no_new_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(refresh_form())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "expires_in": 3599,
            "scope": SHEETS_READONLY_SCOPE,
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let tokens = client_for(&server)
        .refresh(&Secret::new(REFRESH_TOKEN))
        .await
        .expect("tokens");
    assert_eq!(tokens.access_token.expose(), ACCESS_TOKEN);
    assert!(tokens.refresh_token.is_none());
}

#[tokio::test]
async fn a_revoked_refresh_token_is_invalid_grant() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(refresh_form())
        .respond_with(oauth_error(
            400,
            "invalid_grant",
            "Token has been expired or revoked.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_for(&server)
        .refresh(&Secret::new(REFRESH_TOKEN))
        .await
        .expect_err("refused");
    assert_eq!(
        error,
        OAuthError::InvalidGrant {
            description: Some("Token has been expired or revoked.".to_owned())
        }
    );
    assert!(!error.is_retryable());
    assert!(!format!("{error} {error:?}").contains(REFRESH_TOKEN));
}

#[tokio::test]
async fn a_code_exchanged_twice_is_invalid_grant_too() {
    let server = MockServer::start().await;
    let verifier = CodeVerifier::generate();
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(exchange_form(&verifier))
        .respond_with(oauth_error(400, "invalid_grant", "Bad Request"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_for(&server)
        .exchange_code(CODE, &verifier, REDIRECT_URI)
        .await
        .expect_err("refused");
    assert!(matches!(error, OAuthError::InvalidGrant { .. }));
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_rejection_in_googles_words() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(oauth_error(401, "invalid_client", "Unauthorized"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_for(&server)
        .refresh(&Secret::new(REFRESH_TOKEN))
        .await
        .expect_err("refused");
    assert_eq!(
        error,
        OAuthError::Rejected {
            status: 401,
            error: Some("invalid_client".to_owned()),
            description: Some("Unauthorized".to_owned()),
        }
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_throttled_or_failing_token_endpoint_is_retryable_with_its_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            oauth_error(429, "rate_limit_exceeded", "Rate limit exceeded")
                .insert_header("retry-after", "7"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server);

    let throttled = client
        .refresh(&Secret::new(REFRESH_TOKEN))
        .await
        .expect_err("throttled");
    assert!(throttled.is_retryable());
    assert_eq!(throttled.retry_after(), Some(Duration::from_secs(7)));
    let failing = client
        .refresh(&Secret::new(REFRESH_TOKEN))
        .await
        .expect_err("failing");
    assert_eq!(
        failing,
        OAuthError::Unavailable {
            status: 503,
            retry_after: None
        }
    );
}

#[tokio::test]
async fn disconnecting_revokes_the_token_in_the_form_body_and_accepts_one_already_gone() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(QueryIs(vec![]))
        .and(FormIs(vec![("token", REFRESH_TOKEN.to_owned())]))
        .respond_with(ResponseTemplate::new(200))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(FormIs(vec![("token", REFRESH_TOKEN.to_owned())]))
        .respond_with(oauth_error(
            400,
            "invalid_token",
            "Token expired or revoked",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server);

    let token = Secret::new(REFRESH_TOKEN);
    assert_eq!(client.revoke(&token).await, Ok(Revocation::Revoked));
    assert_eq!(client.revoke(&token).await, Ok(Revocation::AlreadyInvalid));
}

#[tokio::test]
async fn reading_a_range_sends_the_bearer_token_and_googles_query_and_reads_the_rows() {
    let server = MockServer::start().await;
    values_get_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "range": "'Form Responses 1'!A1:Z1000",
            "majorDimension": "ROWS",
            "values": [
                ["Timestamp", "Name", "Phone", "Address", "I agree to receive texts"],
                ["11/21/2026 9:14:02", "Ana Lima", "(555) 010-0001", "12 Maple St", "Yes"],
                ["11/21/2026 9:20:45", "Bo Chen", "+1 555 010 0002"]
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let values = values_get(&server).await.expect("the range");
    assert_eq!(values.range, "'Form Responses 1'!A1:Z1000");
    assert_eq!(values.major_dimension, Dimension::Rows);
    assert_eq!(values.values.len(), 3);
    assert_eq!(values.values[1][2], "(555) 010-0001");
    assert_eq!(
        values.values[2],
        vec!["11/21/2026 9:20:45", "Bo Chen", "+1 555 010 0002"]
    );
}

#[tokio::test]
async fn an_empty_range_comes_without_values_and_reads_as_no_rows() {
    let server = MockServer::start().await;
    values_get_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "range": "'Form Responses 1'!A1:Z1000",
            "majorDimension": "ROWS"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let values = values_get(&server).await.expect("the range");
    assert!(values.values.is_empty());
}

#[tokio::test]
async fn an_expired_access_token_is_unauthorized() {
    let server = MockServer::start().await;
    values_get_mock()
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                "status": "UNAUTHENTICATED",
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_EXPIRED",
                    "domain": "googleapis.com"
                }]
            }
        })))
        .expect(1)
        .mount(&server)
        .await;

    let error = values_get(&server).await.expect_err("refused");
    assert!(
        matches!(error, SheetsError::Unauthorized { .. }),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains(ACCESS_TOKEN));
}

#[tokio::test]
async fn a_spreadsheet_no_longer_shared_is_forbidden() {
    let server = MockServer::start().await;
    values_get_mock()
        .respond_with(google_error(
            403,
            "The caller does not have permission",
            "PERMISSION_DENIED",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = values_get(&server).await.expect_err("refused");
    assert_eq!(
        error,
        SheetsError::Forbidden {
            message: "The caller does not have permission".to_owned(),
            reason: None,
        }
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_deleted_spreadsheet_is_not_found() {
    let server = MockServer::start().await;
    values_get_mock()
        .respond_with(google_error(
            404,
            "Requested entity was not found.",
            "NOT_FOUND",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = values_get(&server).await.expect_err("refused");
    assert_eq!(
        error,
        SheetsError::NotFound {
            message: "Requested entity was not found.".to_owned()
        }
    );
}

#[tokio::test]
async fn a_renamed_sheet_is_a_range_not_found() {
    let server = MockServer::start().await;
    values_get_mock()
        .respond_with(google_error(
            400,
            "Unable to parse range: 'Form Responses 1'!A1:Z",
            "INVALID_ARGUMENT",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = values_get(&server).await.expect_err("refused");
    assert_eq!(
        error,
        SheetsError::RangeNotFound {
            message: "Unable to parse range: 'Form Responses 1'!A1:Z".to_owned()
        }
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_used_up_quota_is_rate_limited_with_googles_retry_after() {
    let server = MockServer::start().await;
    values_get_mock()
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_json(json!({
                    "error": {
                        "code": 429,
                        "message": "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:1234567890'.",
                        "status": "RESOURCE_EXHAUSTED",
                        "details": [{
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "RATE_LIMIT_EXCEEDED",
                            "domain": "googleapis.com"
                        }]
                    }
                })),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = values_get(&server).await.expect_err("throttled");
    assert!(
        matches!(error, SheetsError::RateLimited { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn an_answer_over_the_size_cap_is_refused() {
    let server = MockServer::start().await;
    let row = vec!["x".repeat(100); 20];
    values_get_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "range": "'Form Responses 1'!A1:Z1000",
            "majorDimension": "ROWS",
            "values": vec![row; 10]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut config = config_for(&server);
    config.max_response_bytes = 4 * 1024;

    let error = GoogleClient::new(config)
        .expect("the client builds")
        .values_get(
            &Secret::new(ACCESS_TOKEN),
            &SpreadsheetId::parse(SPREADSHEET_ID).expect("an ID"),
            RANGE,
        )
        .await
        .expect_err("too large");
    assert_eq!(error, SheetsError::TooLarge { limit: 4 * 1024 });
}

#[tokio::test]
async fn a_stalled_google_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let mut config = config_for(&server);
    config.request_timeout = Duration::from_millis(200);

    let error = GoogleClient::new(config)
        .expect("the client builds")
        .refresh(&Secret::new(REFRESH_TOKEN))
        .await
        .expect_err("timed out");
    assert_eq!(error, OAuthError::Timeout);
    assert!(error.is_retryable());
}
