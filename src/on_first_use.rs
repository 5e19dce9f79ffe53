//! An endpoint built the first time it is asked for rather than at start-up.
//!
//! The OpenAPI document (and the docs page, which embeds it) takes longer to generate than the
//! rest of start-up together, and most instances never serve it: generated eagerly it held back
//! `/ready` and kept its pages of code and its copies of the document resident for good.

use std::sync::OnceLock;

use poem::{Endpoint, Request, Result};

/// `build()`'s endpoint, made on the first request and kept.
pub struct OnFirstUse<E, F> {
    build: F,
    built: OnceLock<E>,
}

impl<E, F: Fn() -> E> OnFirstUse<E, F> {
    pub fn new(build: F) -> Self {
        Self {
            build,
            built: OnceLock::new(),
        }
    }
}

impl<E, F> Endpoint for OnFirstUse<E, F>
where
    E: Endpoint,
    F: Fn() -> E + Send + Sync,
{
    type Output = E::Output;

    async fn call(&self, request: Request) -> Result<Self::Output> {
        self.built.get_or_init(&self.build).call(request).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use poem::{IntoEndpoint, handler};

    use super::*;

    #[handler]
    fn hello() -> &'static str {
        "hello"
    }

    #[tokio::test]
    async fn it_is_built_once_on_the_first_request() {
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        let endpoint = OnFirstUse::new(|| {
            BUILT.fetch_add(1, Ordering::SeqCst);
            hello.into_endpoint()
        });
        assert_eq!(BUILT.load(Ordering::SeqCst), 0);
        for _ in 0..3 {
            let response = endpoint.get_response(Request::default()).await;
            let body = response.into_body().into_string().await.expect("text");
            assert_eq!(body, "hello");
        }
        assert_eq!(BUILT.load(Ordering::SeqCst), 1);
    }
}
