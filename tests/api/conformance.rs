//! Responses match the committed OpenAPI document (finding F7). Representative operations are
//! called on a sandbox app in a state where most optional fields have no value (no budget, no
//! quiet hours, members not yet placed, a token that never expires, ...), and each answer is
//! validated against the schema the document gives its operation, status and media type. The
//! document's OpenAPI 3.0 schemas are read as OpenAPI defines them: a field may be `null` only
//! where it says `nullable`, and an absent optional field is fine.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_sandbox_app};

/// The committed document, its schemas turned into JSON Schema (draft 4, which OpenAPI 3.0's
/// schema objects extend).
pub struct Document {
    root: Value,
}

impl Document {
    pub fn committed() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
        let text = std::fs::read_to_string(path).expect("openapi/openapi.json");
        let mut root: Value = serde_json::from_str(&text).expect("the document is JSON");
        as_json_schema(&mut root);
        Self { root }
    }

    /// Fails unless the document lists `status` for `method template` with `content_type`, and
    /// `body` matches that response's schema.
    fn check(
        &self,
        method: &Method,
        template: &str,
        status: u16,
        content_type: &str,
        body: &Value,
    ) {
        let operation = &self.root["paths"][template][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not in the document"
        );
        let response = &operation["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which the document does not list"
        );
        let essence = |media_type: &str| {
            let essence = media_type.split(';').next().unwrap_or_default();
            essence.trim().to_ascii_lowercase()
        };
        let schema = response["content"]
            .as_object()
            .and_then(|content| {
                content
                    .iter()
                    .find(|(media_type, _)| essence(media_type) == essence(content_type))
            })
            .map(|(_, media)| media["schema"].clone())
            .unwrap_or_else(|| {
                panic!("{method} {template} {status}: `{content_type}` is not documented")
            });
        self.assert_matches(&schema, body, &format!("{method} {template} {status}"));
    }

    /// Fails unless `body` matches the document's schema `component`, such as a webhook's
    /// payload, which no response of the document carries whole.
    pub fn check_component(&self, component: &str, body: &Value) {
        let schema = json!({ "$ref": format!("#/components/schemas/{component}") });
        assert!(
            self.root["components"]["schemas"][component].is_object(),
            "the document has no schema {component}"
        );
        self.assert_matches(&schema, body, component);
    }

    fn assert_matches(&self, schema: &Value, body: &Value, what: &str) {
        // The schema, with the components its references point into.
        let schema = json!({"components": self.root["components"], "allOf": [schema]});
        let validator = jsonschema::draft4::new(&schema).expect("the document's schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|error| format!("{} (at `{}`)", error, error.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} does not match the document:\n{}\nbody: {body:#}",
            errors.join("\n")
        );
    }
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema: `null` joins the allowed types. Without it, a
/// typed field does not admit `null`.
fn as_json_schema(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.remove("nullable") == Some(Value::Bool(true)) {
                match object.get("type").cloned() {
                    Some(Value::String(ty)) => {
                        object.insert("type".into(), json!([ty, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(object));
                        object.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
            object.values_mut().for_each(as_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(as_json_schema),
        _ => {}
    }
}

/// Sends `method path` (an instance of `template`) as the platform admin, expects `status`,
/// checks the answer against the document and returns its JSON body.
pub async fn call(
    app: &TestApp,
    document: &Document,
    method: Method,
    template: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let mut request = app.http.request(method.clone(), app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let actual = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "{method} {path}: {text}");
    let json: Value = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{method} {path}: not JSON ({error}): {text}"));
    document.check(&method, template, status, &content_type, &json);
    json
}

#[tokio::test]
async fn answers_with_optional_fields_absent_match_the_committed_document() {
    let document = Document::committed();
    let app = spawn_sandbox_app().await;
    let doc = &document;
    let app = &app;

    // A neighborhood with no budget nor quiet hours, and a member not yet placed in a shard.
    let hood = call(
        app,
        doc,
        Method::POST,
        "/api/v1/neighborhoods",
        "/api/v1/neighborhoods",
        Some(json!({"name": "Schema Street", "area_code": "415", "owner_phone": "+15550001001", "owner_name": "Olive"})),
        201,
    )
    .await;
    let id = hood["id"].as_str().expect("id").to_owned();
    let hood_path = format!("/api/v1/neighborhoods/{id}");
    let sub = |rest: &str| format!("{hood_path}{rest}");
    call(
        app,
        doc,
        Method::POST,
        "/api/v1/neighborhoods/{id}/members",
        &sub("/members"),
        Some(json!({"phone": "+15550001002", "display_name": "Ned"})),
        202,
    )
    .await;
    // An announcement scheduled for later: not sent, not cancelled, no message yet.
    let later = (time::OffsetDateTime::now_utc() + time::Duration::hours(6))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let announcement = call(
        app,
        doc,
        Method::POST,
        "/api/v1/neighborhoods/{id}/messages",
        &sub("/messages"),
        Some(json!({"body": "Street sweeping tomorrow", "send_at": later})),
        201,
    )
    .await;
    let announcement_id = announcement["id"].as_str().expect("id").to_owned();
    call(
        app,
        doc,
        Method::POST,
        "/api/v1/neighborhoods/{id}/messages/estimate",
        &sub("/messages/estimate"),
        Some(json!({"body": "How much?"})),
        200,
    )
    .await;
    // A block without a note, a token without a scope or an expiry.
    call(
        app,
        doc,
        Method::POST,
        "/api/v1/neighborhoods/{id}/blocked-phones",
        &sub("/blocked-phones"),
        Some(json!({"phone": "+15550001003"})),
        200,
    )
    .await;
    call(
        app,
        doc,
        Method::POST,
        "/api/v1/tokens",
        "/api/v1/tokens",
        Some(json!({"name": "reports"})),
        201,
    )
    .await;
    // Imported neighbors without consent attested: join requests, undecided.
    let imported = app
        .http
        .post(app.url(&sub("/import?dry_run=false")))
        .header("content-type", "text/csv")
        .body("name,phone\nIda,+15550001004\nNobody,not a phone\n")
        .send()
        .await
        .expect("import sent");
    assert_eq!(imported.status(), 200);
    let report: Value = imported.json().await.expect("report");
    doc.check(
        &Method::POST,
        "/api/v1/neighborhoods/{id}/import",
        200,
        "application/json",
        &report,
    );

    let reads = [
        ("/health", "/health".to_owned()),
        ("/api/v1/auth/me", "/api/v1/auth/me".to_owned()),
        ("/api/v1/neighborhoods", "/api/v1/neighborhoods".to_owned()),
        ("/api/v1/neighborhoods/{id}", hood_path.clone()),
        ("/api/v1/neighborhoods/{id}/members", sub("/members")),
        ("/api/v1/neighborhoods/{id}/messages", sub("/messages")),
        (
            "/api/v1/neighborhoods/{id}/announcements",
            sub("/announcements"),
        ),
        (
            "/api/v1/neighborhoods/{id}/announcements/{announcement_id}",
            sub(&format!("/announcements/{announcement_id}")),
        ),
        (
            "/api/v1/neighborhoods/{id}/join-requests",
            sub("/join-requests"),
        ),
        (
            "/api/v1/neighborhoods/{id}/blocked-phones",
            sub("/blocked-phones"),
        ),
        (
            "/api/v1/neighborhoods/{id}/invites/link",
            sub("/invites/link"),
        ),
        ("/api/v1/neighborhoods/{id}/audit", sub("/audit")),
        ("/api/v1/neighborhoods/{id}/summary", sub("/summary")),
        ("/api/v1/neighborhoods/{id}/costs", sub("/costs")),
        ("/api/v1/tokens", "/api/v1/tokens".to_owned()),
        (
            "/api/v1/neighborhoods/{id}/export/members",
            sub("/export/members?format=json"),
        ),
        (
            "/api/v1/neighborhoods/{id}/export/join-requests",
            sub("/export/join-requests?format=json"),
        ),
        (
            "/api/v1/neighborhoods/{id}/export/audit",
            sub("/export/audit?format=json"),
        ),
    ];
    for (template, path) in &reads {
        call(app, doc, Method::GET, template, path, None, 200).await;
    }
    call(
        app,
        doc,
        Method::POST,
        "/api/v1/neighborhoods/{id}/sync",
        &sub("/sync"),
        None,
        200,
    )
    .await;
}

#[test]
fn the_check_refuses_null_where_the_document_does_not_allow_it() {
    let document = Document {
        root: {
            let mut root = json!({
                "paths": {"/thing": {"get": {"responses": {"200": {"content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                }}}}}},
                "components": {"schemas": {"Thing": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string"},
                        "note": {"type": "string"},
                        "budget": {"type": "integer", "nullable": true}
                    }
                }}}
            });
            as_json_schema(&mut root);
            root
        },
    };
    let check = |body: Value| {
        std::panic::catch_unwind(|| {
            document.check(&Method::GET, "/thing", 200, "application/json", &body)
        })
        .is_ok()
    };
    assert!(check(json!({"id": "a"})), "absent optional fields");
    assert!(
        check(json!({"id": "a", "budget": null})),
        "null where nullable"
    );
    assert!(
        !check(json!({"id": "a", "note": null})),
        "null where not nullable"
    );
    assert!(!check(json!({"note": "x"})), "a required field missing");
}
