//! Requests to the app as someone, with the expected status checked in one line:
//! `app.post(&Who::Admin, path, &body, 202).await` returns the JSON answer, and a wrong status
//! fails the test with the method, path, both statuses and the body. The `*_raw` forms send as the
//! platform admin and return the response as it came, for checks on headers or non-JSON bodies.

use reqwest::Method;
use serde_json::Value;

use super::{TestApp, bearer_client, session_client};

/// Who sends a request.
#[derive(Clone)]
pub enum Who {
    /// The platform admin's bootstrap API token ([`TestApp::http`]).
    Admin,
    /// No credentials at all.
    Anonymous,
    /// A client of the test's own: an API token ([`Who::token`]), a session cookie
    /// ([`Who::session`]) or anything else a test builds.
    Client(reqwest::Client),
}

impl Who {
    /// Sends `token` as a bearer token.
    pub fn token(token: &str) -> Self {
        Self::Client(bearer_client(token))
    }

    /// A browser signed in as `phone`: the session cookie and our own origin.
    pub async fn session(app: &TestApp, phone: &str) -> Self {
        Self::Client(session_client(app, phone).await)
    }
}

impl From<reqwest::Client> for Who {
    fn from(client: reqwest::Client) -> Self {
        Self::Client(client)
    }
}

impl TestApp {
    /// The client that sends as `who`.
    pub fn client<'a>(&'a self, who: &'a Who) -> &'a reqwest::Client {
        match who {
            Who::Admin => &self.http,
            Who::Anonymous => &self.anonymous,
            Who::Client(client) => client,
        }
    }

    /// `GET path` as `who`; fails unless the answer is `status`; returns the JSON body.
    pub async fn get(&self, who: &Who, path: &str, status: u16) -> Value {
        self.send(who, Method::GET, path, None, status).await
    }

    /// `POST path` with a JSON `body` as `who`; fails unless the answer is `status`; returns the
    /// JSON body.
    pub async fn post(&self, who: &Who, path: &str, body: &Value, status: u16) -> Value {
        self.send(who, Method::POST, path, Some(body), status).await
    }

    /// `PATCH path` with a JSON `body` as `who`; fails unless the answer is `status`; returns the
    /// JSON body.
    pub async fn patch(&self, who: &Who, path: &str, body: &Value, status: u16) -> Value {
        self.send(who, Method::PATCH, path, Some(body), status)
            .await
    }

    /// `PUT path` with a JSON `body` as `who`; fails unless the answer is `status`; returns the
    /// JSON body.
    pub async fn put(&self, who: &Who, path: &str, body: &Value, status: u16) -> Value {
        self.send(who, Method::PUT, path, Some(body), status).await
    }

    /// `DELETE path` as `who`; fails unless the answer is `status`; returns the JSON body
    /// (`Value::Null` when there is none, as with 204).
    pub async fn delete(&self, who: &Who, path: &str, status: u16) -> Value {
        self.send(who, Method::DELETE, path, None, status).await
    }

    /// Any request as `who`, with a JSON `body` or none (a `POST` that takes no body); fails
    /// unless the answer is `status`; returns the JSON body (`Value::Null` when there is none).
    pub async fn send(
        &self,
        who: &Who,
        method: Method,
        path: &str,
        body: Option<&Value>,
        status: u16,
    ) -> Value {
        let mut request = self.client(who).request(method.clone(), self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path} was not sent: {error}"));
        let actual = response.status().as_u16();
        let text = response
            .text()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: no body ({error})"));
        assert!(
            actual == status,
            "{method} {path}: expected {status}, got {actual}: {text}"
        );
        if text.is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&text).unwrap_or_else(|error| {
            panic!(
                "{method} {path} answered {actual} with a body that is not JSON ({error}): {text}"
            )
        })
    }

    /// `GET path` as the platform admin, the response as it came.
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// `POST path` with a JSON `body` as the platform admin, the response as it came.
    pub async fn post_raw(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `PATCH path` with a JSON `body` as the platform admin, the response as it came.
    pub async fn patch_raw(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }
}
