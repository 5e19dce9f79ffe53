//! One Redis pub/sub connection per instance, shared by every live-update stream (security
//! review, finding 10: a connection per stream let a few thousand streams exhaust Redis's client
//! limit, and with it the whole service).
//!
//! A task owns the connection. It subscribes a channel when the first stream asks for it, fans
//! each message out in process through a `tokio::sync::broadcast` per channel, unsubscribes when
//! the channel's last stream ends, and closes the connection when no channel is left.
//!
//! On a Redis Cluster the subscriptions are sharded ([`feed`]); a channel whose slot moves to
//! another node (a failover, a resharding) ends its streams the same way.
//!
//! When the connection drops (Redis restarts, a proxy cuts it, a ping goes unanswered) every open
//! stream ends, rather than carrying on over a fresh connection: pub/sub keeps nothing for an
//! absent subscriber, so a stream that lived through the gap would silently miss the changes made
//! during it. An ended stream makes the browser's `EventSource` reconnect, and the app refetches
//! every view on reconnecting, so nothing is missed; the next stream opens a fresh connection.

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;
use std::time::Duration;

use futures::Stream;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::StoreError;
use super::connection::RedisEndpoint;
use feed::{Feed, Heard};

mod feed;

/// How often the shared connection is pinged: a connection that died without a word (or that a
/// managed Redis closes for idling) is noticed within this and the Redis timeout.
const PING_EVERY: Duration = Duration::from_secs(10);
/// Messages a stream may fall behind by before it is ended (its browser reconnects and
/// refetches). Events are a few dozen bytes.
const BACKLOG: usize = 128;

/// Hands out subscriptions over the instance's one pub/sub connection; the owning task starts
/// with the first subscription (and again if it ever stopped).
pub(super) struct Subscriber {
    endpoint: RedisEndpoint,
    timeout: Duration,
    commands: Mutex<Option<mpsc::UnboundedSender<Command>>>,
}

enum Command {
    Subscribe {
        channel: String,
        reply: oneshot::Sender<Result<broadcast::Receiver<String>, StoreError>>,
    },
    /// A stream on the channel ended; its receiver is gone already.
    Released { channel: String },
}

impl Subscriber {
    /// Does no I/O: the connection opens with the first subscription.
    pub(super) fn new(endpoint: RedisEndpoint, timeout: Duration) -> Self {
        Self {
            endpoint,
            timeout,
            commands: Mutex::new(None),
        }
    }

    /// The messages published on `channel` from now on; the stream ends when the shared
    /// connection drops, or when this stream falls [`BACKLOG`] messages behind.
    pub(super) async fn subscribe(
        &self,
        channel: &str,
    ) -> Result<impl Stream<Item = String> + use<>, StoreError> {
        let commands = self.task();
        let (reply, answer) = oneshot::channel();
        commands
            .send(Command::Subscribe {
                channel: channel.to_owned(),
                reply,
            })
            .map_err(|_| stopped())?;
        let receiver = answer.await.map_err(|_| stopped())??;
        let subscription = Subscription {
            receiver,
            _release: Release {
                channel: channel.to_owned(),
                commands,
            },
        };
        Ok(futures::stream::unfold(
            subscription,
            |mut subscription| async move {
                match subscription.receiver.recv().await {
                    Ok(payload) => Some((payload, subscription)),
                    Err(broadcast::error::RecvError::Lagged(skipped)) => {
                        tracing::debug!(skipped, "live-update stream fell behind; ending it");
                        None
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            },
        ))
    }

    /// The owning task's mailbox, starting the task if it is not running.
    fn task(&self) -> mpsc::UnboundedSender<Command> {
        let mut commands = self
            .commands
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match commands.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, receiver) = mpsc::unbounded_channel();
                let owner = Owner {
                    endpoint: self.endpoint.clone(),
                    timeout: self.timeout,
                    channels: HashMap::new(),
                    connection: None,
                };
                tokio::spawn(owner.run(receiver));
                *commands = Some(sender.clone());
                sender
            }
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable(
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            "the live-update subscriber stopped",
        )
        .into(),
    )
}

fn timed_out() -> redis::RedisError {
    io::Error::new(io::ErrorKind::TimedOut, "Redis did not answer in time").into()
}

/// One stream's hold on a channel. Fields drop in order: the receiver first, so that when the
/// owner hears of the release, the channel's receiver count no longer includes this one.
struct Subscription {
    receiver: broadcast::Receiver<String>,
    _release: Release,
}

struct Release {
    channel: String,
    commands: mpsc::UnboundedSender<Command>,
}

impl Drop for Release {
    fn drop(&mut self) {
        // The owner may be gone (shutdown); then there is nothing left to release.
        let _ = self.commands.send(Command::Released {
            channel: std::mem::take(&mut self.channel),
        });
    }
}

/// The task that owns the connection.
struct Owner {
    endpoint: RedisEndpoint,
    timeout: Duration,
    /// Every subscribed channel, with its streams' shared sender.
    channels: HashMap<String, broadcast::Sender<String>>,
    connection: Option<Feed>,
}

/// What woke the owner.
enum Wake {
    Command(Option<Command>),
    Heard(Heard),
    Ping,
}

impl Owner {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut pings = tokio::time::interval(PING_EVERY);
        pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wake = tokio::select! {
                command = commands.recv() => Wake::Command(command),
                heard = next_heard(&mut self.connection) => Wake::Heard(heard),
                _ = pings.tick() => Wake::Ping,
            };
            match wake {
                // Every handle on the store is gone: the instance is shutting down.
                Wake::Command(None) => return,
                Wake::Command(Some(Command::Subscribe { channel, reply })) => {
                    let _ = reply.send(self.subscribe(channel).await);
                }
                Wake::Command(Some(Command::Released { channel })) => {
                    self.release(&channel).await;
                }
                Wake::Heard(Heard::Message { channel, payload }) => {
                    self.deliver(&channel, payload);
                }
                Wake::Heard(Heard::Unsubscribed { channel }) => self.end(&channel),
                Wake::Heard(Heard::Lost(why)) => self.lose(why),
                Wake::Ping => self.ping().await,
            }
        }
    }

    async fn subscribe(
        &mut self,
        channel: String,
    ) -> Result<broadcast::Receiver<String>, StoreError> {
        if let Some(sender) = self.channels.get(&channel) {
            return Ok(sender.subscribe());
        }
        // Twice: the connection may have dropped without our hearing of it yet.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let feed = match &mut self.connection {
                Some(feed) => feed,
                None => {
                    let feed = self.connect().await?;
                    self.connection.insert(feed)
                }
            };
            let subscribed = tokio::time::timeout(self.timeout, feed.subscribe(&channel))
                .await
                .unwrap_or_else(|_| Err(timed_out()));
            match subscribed {
                Ok(()) => {
                    let (sender, receiver) = broadcast::channel(BACKLOG);
                    self.channels.insert(channel, sender);
                    return Ok(receiver);
                }
                Err(error) => {
                    self.lose("a subscription failed");
                    if attempt == 2 {
                        return Err(error.into());
                    }
                }
            }
        }
    }

    async fn connect(&self) -> Result<Feed, StoreError> {
        let feed = tokio::time::timeout(self.timeout, Feed::open(&self.endpoint, self.timeout))
            .await
            .unwrap_or_else(|_| Err(timed_out()))?;
        tracing::debug!("live-update subscriber connected to Redis");
        Ok(feed)
    }

    /// Unsubscribes a channel no stream listens to any more, and closes the connection once no
    /// channel is left.
    async fn release(&mut self, channel: &str) {
        if self
            .channels
            .get(channel)
            .is_none_or(|sender| sender.receiver_count() > 0)
        {
            return;
        }
        self.channels.remove(channel);
        if self.channels.is_empty() {
            self.connection = None;
            return;
        }
        let Some(feed) = &mut self.connection else {
            return;
        };
        let unsubscribed = tokio::time::timeout(self.timeout, feed.unsubscribe(channel))
            .await
            .unwrap_or_else(|_| Err(timed_out()));
        if unsubscribed.is_err() {
            self.lose("an unsubscription failed");
        }
    }

    fn deliver(&self, channel: &str, payload: String) {
        if let Some(sender) = self.channels.get(channel) {
            // No receiver left: its release is on its way.
            let _ = sender.send(payload);
        }
    }

    /// Ends the streams of a channel Redis unsubscribed by itself (its slot moved): they would
    /// hear nothing more. A channel we released ourselves is no longer listed, and its
    /// confirmation changes nothing. With no channel left the connection closes, as on a
    /// release: the next stream starts on a fresh one, with the cluster's slot map as it is now
    /// rather than the one this connection kept through the move.
    fn end(&mut self, channel: &str) {
        if self.channels.remove(channel).is_some() {
            tracing::info!(
                "live-update channel moved to another Redis node; its streams end and browsers reconnect"
            );
            if self.channels.is_empty() {
                self.connection = None;
            }
        }
    }

    async fn ping(&mut self) {
        let Some(feed) = &mut self.connection else {
            return;
        };
        let answered = tokio::time::timeout(self.timeout, feed.ping())
            .await
            .unwrap_or_else(|_| Err(timed_out()));
        if answered.is_err() {
            self.lose("a ping went unanswered");
        }
    }

    /// Drops the connection and ends every stream (see the module docs for why they end).
    fn lose(&mut self, why: &'static str) {
        if self.connection.take().is_some() || !self.channels.is_empty() {
            tracing::warn!(
                why,
                streams = self
                    .channels
                    .values()
                    .map(broadcast::Sender::receiver_count)
                    .sum::<usize>(),
                "live-update subscription to Redis lost; open streams end and browsers reconnect"
            );
        }
        self.channels.clear();
    }
}

async fn next_heard(connection: &mut Option<Feed>) -> Heard {
    match connection {
        Some(feed) => feed.next().await,
        None => std::future::pending().await,
    }
}
