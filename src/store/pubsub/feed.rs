//! The connection the subscriber listens on.
//!
//! - One node: a pub/sub connection (`SUBSCRIBE`); changes are sent with `PUBLISH`.
//! - A Redis Cluster: sharded pub/sub (`SSUBSCRIBE`, Redis 7), over the cluster client's RESP3
//!   connection. A channel carries its neighborhood's hash tag, so it is served by the node that
//!   holds the neighborhood's keys, and `SPUBLISH` goes to that node alone. A classic `PUBLISH`
//!   on a cluster is copied to every node over the cluster bus, so its cost would grow with the
//!   cluster.

use std::time::Duration;

use redis::aio::{PubSubSink, PubSubStream};
use redis::cluster_async::ClusterConnection;
use redis::{FromRedisValue, ProtocolVersion, PushInfo, PushKind, RedisResult};
use tokio::sync::mpsc;

use futures::StreamExt;

use crate::store::connection::RedisEndpoint;

pub(super) enum Feed {
    Node {
        sink: PubSubSink,
        messages: PubSubStream,
    },
    Cluster {
        conn: ClusterConnection,
        pushes: mpsc::UnboundedReceiver<PushInfo>,
    },
}

/// What the feed heard.
pub(super) enum Heard {
    Message {
        channel: String,
        payload: String,
    },
    /// Redis ended the subscription to `channel` by itself: on a cluster, when the channel's slot
    /// moved to another node (a failover or a resharding).
    Unsubscribed {
        channel: String,
    },
    /// The connection (on a cluster, one node's) is gone: messages may have been missed.
    Lost(&'static str),
}

impl Feed {
    pub(super) async fn open(endpoint: &RedisEndpoint, timeout: Duration) -> RedisResult<Self> {
        if endpoint.cluster {
            let (sender, pushes) = mpsc::unbounded_channel();
            let client = endpoint
                .cluster_client_builder()
                .use_protocol(ProtocolVersion::RESP3)
                .push_sender(sender)
                .build()?;
            let conn = client
                .get_async_connection_with_config(endpoint.cluster_config(timeout))
                .await?;
            return Ok(Self::Cluster { conn, pushes });
        }
        let (sink, messages) = endpoint.node_client()?.get_async_pubsub().await?.split();
        Ok(Self::Node { sink, messages })
    }

    pub(super) async fn subscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Self::Node { sink, .. } => sink.subscribe(channel).await,
            Self::Cluster { conn, .. } => conn.ssubscribe(channel).await,
        }
    }

    pub(super) async fn unsubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Self::Node { sink, .. } => sink.unsubscribe(channel).await,
            Self::Cluster { conn, .. } => conn.sunsubscribe(channel).await,
        }
    }

    /// On a cluster, every primary answers (the client sends `PING` to each).
    pub(super) async fn ping(&mut self) -> RedisResult<()> {
        match self {
            Self::Node { sink, .. } => sink.ping::<redis::Value>().await.map(drop),
            Self::Cluster { conn, .. } => redis::cmd("PING")
                .query_async::<redis::Value>(conn)
                .await
                .map(drop),
        }
    }

    /// The next thing worth the subscriber's attention.
    pub(super) async fn next(&mut self) -> Heard {
        match self {
            Self::Node { messages, .. } => loop {
                let Some(message) = messages.next().await else {
                    return Heard::Lost("the connection closed");
                };
                if let Ok(payload) = message.get_payload::<String>() {
                    return Heard::Message {
                        channel: message.get_channel_name().to_owned(),
                        payload,
                    };
                }
            },
            Self::Cluster { pushes, .. } => loop {
                let Some(push) = pushes.recv().await else {
                    return Heard::Lost("the connection closed");
                };
                match push.kind {
                    PushKind::SMessage => {
                        if let Some((channel, payload)) = channel_and_payload(push.data) {
                            return Heard::Message { channel, payload };
                        }
                    }
                    PushKind::SUnsubscribe => {
                        if let Some(channel) = push.data.into_iter().next()
                            && let Ok(channel) = String::from_redis_value(channel)
                        {
                            return Heard::Unsubscribed { channel };
                        }
                    }
                    PushKind::Disconnection => {
                        return Heard::Lost("a node's connection closed");
                    }
                    // Confirmations of our own subscriptions.
                    _ => {}
                }
            },
        }
    }
}

fn channel_and_payload(data: Vec<redis::Value>) -> Option<(String, String)> {
    let mut data = data.into_iter();
    let channel = String::from_redis_value(data.next()?).ok()?;
    let payload = String::from_redis_value(data.next()?).ok()?;
    Some((channel, payload))
}
