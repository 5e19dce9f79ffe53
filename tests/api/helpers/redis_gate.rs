//! A TCP proxy in front of the test Redis, to make Redis disappear and come back for one app.

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::redis_url;

/// A TCP proxy in front of the test Redis that can refuse connections and cut open ones, so a
/// test can make Redis disappear and come back without touching the shared server.
pub struct RedisGate {
    pub url: String,
    open: watch::Sender<bool>,
    cut: watch::Sender<u64>,
    stalled: watch::Sender<bool>,
}

impl RedisGate {
    pub async fn start(open: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind gate");
        let port = listener.local_addr().expect("gate address").port();
        let upstream = url::Url::parse(&redis_url()).expect("redis url");
        let upstream = format!(
            "{}:{}",
            upstream.host_str().unwrap_or("127.0.0.1"),
            upstream.port().unwrap_or(6379)
        );
        let (open_tx, open_rx) = watch::channel(open);
        let (cut_tx, cut_rx) = watch::channel(0u64);
        let (stalled_tx, stalled_rx) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*open_rx.borrow() {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = cut_rx.clone();
                cut.mark_unchanged();
                let mut stalled = stalled_rx.clone();
                tokio::spawn(async move {
                    // A stalled gate holds new connections open without an answer, like a
                    // Redis that has stopped responding.
                    if *stalled.borrow_and_update() {
                        let _ = stalled.wait_for(|stalled| !stalled).await;
                    }
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            url: format!("redis://127.0.0.1:{port}"),
            open: open_tx,
            cut: cut_tx,
            stalled: stalled_tx,
        }
    }

    /// Redis stops answering: open connections are dropped and new ones hang.
    pub fn stall(&self) {
        self.stalled.send_replace(true);
        self.cut_connections();
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Refuses new connections and drops the open ones.
    pub fn close(&self) {
        self.open.send_replace(false);
        self.cut_connections();
    }

    /// Drops the open connections but keeps accepting new ones.
    pub fn cut_connections(&self) {
        self.cut.send_modify(|generation| *generation += 1);
    }
}
