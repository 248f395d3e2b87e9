//! Awaited acknowledgements: per namespace, the ids and their deadlines;
//! per connection, the deadlines in order.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::socket::MAX_ACK_ID;

/// The acks one namespace of a connection awaits, and its id counter.
#[derive(Debug, Default)]
pub(super) struct AckTable {
    next_id: u64,
    /// Ack id → its deadline (`None`: no timeout).
    pending: BTreeMap<u64, Option<Instant>>,
}

impl AckTable {
    /// A table whose counter is at `next` (to test the wrap).
    #[cfg(test)]
    pub(super) fn starting_at(next: u64) -> Self {
        Self {
            next_id: next,
            pending: BTreeMap::new(),
        }
    }

    /// The next free id: a counter from 0, as the reference's, wrapping
    /// after [`MAX_ACK_ID`] and skipping ids still awaited.
    pub(super) fn next_id(&mut self) -> u64 {
        loop {
            let id = self.next_id;
            self.next_id = if id >= MAX_ACK_ID { 0 } else { id + 1 };
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    /// Awaits `id` until `deadline`; false if it is awaited already or
    /// out of range.
    pub(super) fn insert(&mut self, id: u64, deadline: Option<Instant>) -> bool {
        if id > MAX_ACK_ID || self.pending.contains_key(&id) {
            return false;
        }
        self.pending.insert(id, deadline);
        true
    }

    /// Stops awaiting `id`: `Some(deadline)` if it was awaited.
    pub(super) fn remove(&mut self, id: u64) -> Option<Option<Instant>> {
        self.pending.remove(&id)
    }

    /// How many acks are awaited.
    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Takes every awaited ack, in increasing id order.
    pub(super) fn take_all(&mut self) -> BTreeMap<u64, Option<Instant>> {
        std::mem::take(&mut self.pending)
    }
}

/// The deadlines of every awaited ack of a connection, soonest first:
/// `(deadline, namespace serial, ack id)`. Entries are removed exactly
/// when their ack stops being awaited, so the first one is always live.
#[derive(Debug, Default)]
pub(super) struct AckTimers(BTreeSet<(Instant, u64, u64)>);

impl AckTimers {
    pub(super) fn insert(&mut self, deadline: Instant, serial: u64, id: u64) {
        self.0.insert((deadline, serial, id));
    }

    pub(super) fn remove(&mut self, deadline: Instant, serial: u64, id: u64) {
        self.0.remove(&(deadline, serial, id));
    }

    /// The soonest deadline.
    pub(super) fn first(&self) -> Option<Instant> {
        self.0.first().map(|&(deadline, _, _)| deadline)
    }

    /// Takes the soonest entry if its deadline is reached at `now`:
    /// `(namespace serial, ack id)`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(u64, u64)> {
        if self.first()? > now {
            return None;
        }
        self.0.pop_first().map(|(_, serial, id)| (serial, id))
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}
