//! The HTTP server loop: poem's endpoint served by hyper, with the timeouts poem's `Server` does
//! not set.
//!
//! poem 3.1's `Server` builds hyper's connection without a timer, so hyper's header-read timeout
//! never fires and a client that trickles its headers holds a connection slot for ever (security
//! review, finding 11). Here every connection gets a timer and `NT_REQUEST_READ_SECS` to send each
//! request's headers; the same timer closes a keep-alive connection that sends nothing for that
//! long. Reading the body has its own deadline (`limits`), so a request cannot stall either.
//!
//! Idle keep-alive connections get no timeout of their own because hyper (1.12) has none for
//! HTTP/1: its header-read clock starts as soon as the connection waits for a request, the first
//! or the next, so idling and trickling headers are one state on one clock. Only a timer of our
//! own watching each connection could tell them apart, and nothing needs it to: an idle
//! connection holds the same slot as a slow one, and proxies and browsers reopen one at no cost.
//! HTTP/2 connections are pinged every `NT_REQUEST_READ_SECS` and closed when a ping goes
//! unanswered as long.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::endpoint::BoxEndpoint;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, IntoEndpoint, Response};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Serves `endpoint` on `listener` until `shutdown` resolves, then stops accepting and gives the
/// open connections `grace` to finish their requests.
pub async fn serve(
    listener: TcpListener,
    endpoint: impl IntoEndpoint<Endpoint: 'static>,
    read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) -> io::Result<()> {
    let endpoint: Arc<BoxEndpoint<'static, Response>> =
        Arc::new(endpoint.into_endpoint().map_to_response().boxed());
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(%error, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let local = stream.local_addr()?;
        let endpoint = endpoint.clone();
        let stopping = stopping.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let endpoint = endpoint.clone();
                async move {
                    let request = poem::Request::from((
                        request,
                        LocalAddr(Addr::SocketAddr(local)),
                        RemoteAddr(Addr::SocketAddr(peer)),
                        Scheme::HTTP,
                    ));
                    let response = endpoint.get_response(request).await;
                    Ok::<_, Infallible>(hyper::Response::<
                        http_body_util::combinators::BoxBody<bytes::Bytes, io::Error>,
                    >::from(response))
                }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout);
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(read_timeout)
                .keep_alive_timeout(read_timeout);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                () = stopping.cancelled() => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    stopping.cancel();
    connections.close();
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "requests still running after the grace period were cut"
        );
    }
    Ok(())
}
