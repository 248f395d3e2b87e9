//! The namespaces of one connection, joined or being joined.

use super::NamespaceState;
use super::acks::AckTable;
use crate::engine::Str;
use crate::socket::{Args, RawJson};

/// One namespace of the connection.
#[derive(Debug)]
pub(super) struct Nsp {
    pub(super) name: Str,
    /// Unique within the connection, never reused: ties ack timers to this
    /// very entry, not to a later one of the same name.
    pub(super) serial: u64,
    pub(super) state: NamespaceState,
    /// The socket id, once joined.
    pub(super) sid: Option<String>,
    /// The private session id (connection state recovery), once joined.
    pub(super) pid: Option<String>,
    /// Client role: the `pid` the CONNECT asked to recover.
    pub(super) asked_pid: Option<String>,
    /// Client role: the last argument of the last event received, when a
    /// string and the server gave a `pid` (the recovery offset).
    pub(super) offset: Option<RawJson>,
    pub(super) acks: AckTable,
    /// Client role: events that came before the CONNECT answer (the missed
    /// events of a recovered session), delivered after it.
    pub(super) early: Vec<(Args, Option<u64>)>,
}

/// The namespaces, in the order they were asked for. A connection has a
/// few (at most `max_namespaces` on a server): a vector searched by name
/// beats a map.
#[derive(Debug, Default)]
pub(super) struct Namespaces {
    list: Vec<Nsp>,
    next_serial: u64,
}

impl Namespaces {
    pub(super) fn get(&self, name: &str) -> Option<&Nsp> {
        self.list.iter().find(|n| n.name == name)
    }

    pub(super) fn get_mut(&mut self, name: &str) -> Option<&mut Nsp> {
        self.list.iter_mut().find(|n| n.name == name)
    }

    /// The joined namespace `name`.
    pub(super) fn connected_mut(&mut self, name: &str) -> Option<&mut Nsp> {
        self.get_mut(name)
            .filter(|n| n.state == NamespaceState::Connected)
    }

    pub(super) fn by_serial_mut(&mut self, serial: u64) -> Option<&mut Nsp> {
        self.list.iter_mut().find(|n| n.serial == serial)
    }

    /// Adds `name` (not present) in `state`.
    pub(super) fn insert(&mut self, name: Str, state: NamespaceState) -> &mut Nsp {
        let serial = self.next_serial;
        self.next_serial += 1;
        // Most connections join one namespace: no room kept for four.
        crate::lean::push(
            &mut self.list,
            Nsp {
                name,
                serial,
                state,
                sid: None,
                pid: None,
                asked_pid: None,
                offset: None,
                acks: AckTable::default(),
                early: Vec::new(),
            },
        );
        let last = self.list.len() - 1;
        &mut self.list[last]
    }

    pub(super) fn remove(&mut self, name: &str) -> Option<Nsp> {
        let i = self.list.iter().position(|n| n.name == name)?;
        Some(self.list.remove(i))
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    pub(super) fn iter(&self) -> std::slice::Iter<'_, Nsp> {
        self.list.iter()
    }

    /// Takes every namespace, in order.
    pub(super) fn take_all(&mut self) -> Vec<Nsp> {
        std::mem::take(&mut self.list)
    }
}
