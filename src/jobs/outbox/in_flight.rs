//! The entries a worker has claimed and is carrying out: each in its own task, so thousands can
//! wait on Twilio (or on their Conversation's next slot) at once, while one person's effects, or
//! one Conversation's relays, still run one after another in stream order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use futures::future::BoxFuture;

use tokio::task::JoinSet;
use uuid::Uuid;

use crate::store::StoreError;
use crate::store::outbox::{Effect, OutboxEntry};

/// Claimed entries in flight on this worker, at most this many.
pub const MAX_IN_FLIGHT: usize = 4_000;
/// Of which at most this many from one neighborhood, so one big backlog does not hold up the rest.
pub const MAX_IN_FLIGHT_PER_NEIGHBORHOOD: usize = 2_000;

/// What a finished task reports.
pub struct Finished {
    neighborhood_id: Uuid,
    subject: String,
    entry_id: String,
    /// Whether the entry was settled (false: put back to wait for another worker).
    pub outcome: Result<bool, StoreError>,
}

/// Carries out one entry of a neighborhood: whether it was settled.
pub type Work =
    Arc<dyn Fn(Uuid, OutboxEntry) -> BoxFuture<'static, Result<bool, StoreError>> + Send + Sync>;

pub struct InFlight {
    work: Work,
    tasks: JoinSet<Finished>,
    /// Every entry running or queued behind its subject, by neighborhood and id (a reclaimed
    /// entry that is still running here is not started twice). The neighborhood is part of the
    /// key: each outbox is a stream of its own, and two streams written in the same millisecond
    /// hand out the same id (`1733411488463-0`), which alone once held one neighborhood's entry
    /// back until it was reclaimed, 30 s later.
    entries: HashSet<(Uuid, String)>,
    /// Entries queued behind the running one of their subject.
    queued: HashMap<String, VecDeque<(Uuid, OutboxEntry)>>,
    per_neighborhood: HashMap<Uuid, usize>,
}

impl InFlight {
    pub fn new(work: Work) -> Self {
        Self {
            work,
            tasks: JoinSet::new(),
            entries: HashSet::new(),
            queued: HashMap::new(),
            per_neighborhood: HashMap::new(),
        }
    }

    /// Room for how many more entries of `neighborhood_id`.
    pub fn room_for(&self, neighborhood_id: Uuid) -> usize {
        let theirs = self
            .per_neighborhood
            .get(&neighborhood_id)
            .copied()
            .unwrap_or(0);
        (MAX_IN_FLIGHT - self.entries.len().min(MAX_IN_FLIGHT))
            .min(MAX_IN_FLIGHT_PER_NEIGHBORHOOD - theirs.min(MAX_IN_FLIGHT_PER_NEIGHBORHOOD))
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Starts an entry now, or queues it behind its subject's running one. False when it is
    /// already here.
    pub fn start(&mut self, neighborhood_id: Uuid, entry: OutboxEntry) -> bool {
        if !self.entries.insert((neighborhood_id, entry.id.clone())) {
            return false;
        }
        *self.per_neighborhood.entry(neighborhood_id).or_default() += 1;
        let subject = subject(neighborhood_id, &entry.effect);
        match self.queued.get_mut(&subject) {
            Some(queue) => queue.push_back((neighborhood_id, entry)),
            None => {
                self.queued.insert(subject.clone(), VecDeque::new());
                self.spawn(subject, neighborhood_id, entry);
            }
        }
        true
    }

    fn spawn(&mut self, subject: String, neighborhood_id: Uuid, entry: OutboxEntry) {
        let entry_id = entry.id.clone();
        let running = (self.work)(neighborhood_id, entry);
        self.tasks.spawn(async move {
            Finished {
                neighborhood_id,
                subject,
                entry_id,
                outcome: running.await,
            }
        });
    }

    /// The next task to finish (pending forever when none runs); its subject's next entry starts.
    pub async fn next_finished(&mut self) -> Finished {
        loop {
            match self.tasks.join_next().await {
                Some(Ok(finished)) => {
                    self.settle(&finished);
                    return finished;
                }
                // A task panicked: its entry stays claimed and another pass reclaims it.
                Some(Err(error)) => tracing::error!(%error, "an outbox task failed"),
                None => std::future::pending::<()>().await,
            }
        }
    }

    /// Every task finished by now, without waiting.
    pub fn finished_now(&mut self) -> Vec<Finished> {
        let mut finished = Vec::new();
        while let Some(joined) = self.tasks.try_join_next() {
            match joined {
                Ok(done) => {
                    self.settle(&done);
                    finished.push(done);
                }
                Err(error) => tracing::error!(%error, "an outbox task failed"),
            }
        }
        finished
    }

    fn settle(&mut self, finished: &Finished) {
        self.entries
            .remove(&(finished.neighborhood_id, finished.entry_id.clone()));
        if let Some(count) = self.per_neighborhood.get_mut(&finished.neighborhood_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_neighborhood.remove(&finished.neighborhood_id);
            }
        }
        let next = self
            .queued
            .get_mut(&finished.subject)
            .and_then(VecDeque::pop_front);
        match next {
            Some((neighborhood_id, entry)) => {
                self.spawn(finished.subject.clone(), neighborhood_id, entry)
            }
            None => {
                self.queued.remove(&finished.subject);
            }
        }
    }
}

/// Whom an effect concerns: a member, a texted phone, or the Conversation a relay goes to.
fn subject(neighborhood_id: Uuid, effect: &Effect) -> String {
    match effect {
        Effect::AddParticipant { member_id } | Effect::RemoveParticipant { member_id, .. } => {
            format!("member:{member_id}")
        }
        Effect::SendSms { to, .. } | Effect::SendWhatsappTemplate { to, .. } => {
            format!("phone:{neighborhood_id}:{to}")
        }
        Effect::Relay {
            conversation_sid, ..
        } => format!("conversation:{conversation_sid}"),
        Effect::Publish { .. } => format!("events:{neighborhood_id}"),
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    fn entry(id: &str, effect: Effect) -> OutboxEntry {
        OutboxEntry {
            id: id.to_owned(),
            effect,
            attempts: 0,
            effect_id: id.to_owned(),
            trace: None,
        }
    }

    fn add(member_id: Uuid) -> Effect {
        Effect::AddParticipant { member_id }
    }

    #[tokio::test]
    async fn one_subjects_entries_run_one_after_another_in_order_and_others_side_by_side() {
        let (sender, mut started) = tokio::sync::mpsc::unbounded_channel();
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
        let work: Work = {
            let gate = gate.clone();
            Arc::new(move |_: Uuid, entry: OutboxEntry| {
                let (sender, gate) = (sender.clone(), gate.clone());
                async move {
                    sender.send(entry.id.clone()).unwrap();
                    if entry.id == "1" {
                        gate.acquire().await.unwrap().forget();
                    }
                    Ok(true)
                }
                .boxed()
            })
        };
        let neighborhood = Uuid::new_v4();
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let mut in_flight = InFlight::new(work);
        assert!(in_flight.start(neighborhood, entry("1", add(ann))));
        assert!(in_flight.start(neighborhood, entry("2", add(ann))));
        assert!(in_flight.start(neighborhood, entry("3", add(bob))));
        assert!(
            !in_flight.start(neighborhood, entry("1", add(ann))),
            "an entry already here is not started twice"
        );
        assert_eq!(
            in_flight.room_for(neighborhood),
            MAX_IN_FLIGHT_PER_NEIGHBORHOOD - 3
        );

        // Bob's entry runs beside Ann's first; Ann's second waits for her first to finish.
        let mut first_two = vec![started.recv().await.unwrap(), started.recv().await.unwrap()];
        first_two.sort();
        assert_eq!(first_two, ["1", "3"]);
        in_flight.next_finished().await;
        assert!(
            started.try_recv().is_err(),
            "Ann's second entry started early"
        );
        gate.add_permits(1);
        while !in_flight.is_empty() {
            in_flight.next_finished().await;
        }
        assert_eq!(started.recv().await.unwrap(), "2");
        assert_eq!(
            in_flight.room_for(neighborhood),
            MAX_IN_FLIGHT_PER_NEIGHBORHOOD
        );
    }

    #[tokio::test]
    async fn entries_of_two_neighborhoods_with_the_same_stream_id_both_run() {
        let (sender, mut started) = tokio::sync::mpsc::unbounded_channel();
        let work: Work = Arc::new(move |neighborhood: Uuid, _: OutboxEntry| {
            let sender = sender.clone();
            async move {
                sender.send(neighborhood).unwrap();
                Ok(true)
            }
            .boxed()
        });
        let mut in_flight = InFlight::new(work);
        let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
        // Two streams written in the same millisecond: the same id, different entries.
        assert!(in_flight.start(first, entry("1733411488463-0", add(Uuid::new_v4()))));
        assert!(in_flight.start(second, entry("1733411488463-0", add(Uuid::new_v4()))));
        while !in_flight.is_empty() {
            in_flight.next_finished().await;
        }
        let mut ran = vec![started.recv().await.unwrap(), started.recv().await.unwrap()];
        ran.sort();
        let mut expected = vec![first, second];
        expected.sort();
        assert_eq!(ran, expected);
    }

    #[test]
    fn a_neighborhood_gets_no_more_than_its_share() {
        let mut in_flight = InFlight::new(Arc::new(|_, _| async { Ok(true) }.boxed()));
        let busy = Uuid::new_v4();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        for n in 0..MAX_IN_FLIGHT_PER_NEIGHBORHOOD {
            in_flight.start(busy, entry(&n.to_string(), add(Uuid::new_v4())));
        }
        assert_eq!(in_flight.room_for(busy), 0);
        assert_eq!(
            in_flight.room_for(Uuid::new_v4()),
            MAX_IN_FLIGHT - MAX_IN_FLIGHT_PER_NEIGHBORHOOD
        );
    }
}
