//! Broadcast options: which sockets (rooms, exceptions) and how (flags).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Room;

/// How a broadcast is sent. Serializes as the reference's `flags` object
/// (`timeout` in milliseconds; fields at their default are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BroadcastFlags {
    /// Dropped for a receiver that is not ready to take it right now.
    #[serde(skip_serializing_if = "is_false")]
    pub volatile: bool,
    /// Compressed where the transport can (default true).
    #[serde(skip_serializing_if = "is_true")]
    pub compress: bool,
    /// Only the sockets of this server (a remote adapter does not forward).
    #[serde(skip_serializing_if = "is_false")]
    pub local: bool,
    /// How long to wait for acknowledgements.
    #[serde(with = "millis", skip_serializing_if = "Option::is_none", default)]
    pub timeout: Option<Duration>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Default for BroadcastFlags {
    fn default() -> Self {
        Self {
            volatile: false,
            compress: true,
            local: false,
            timeout: None,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    #[expect(clippy::ref_option, reason = "serde's `with` passes a reference")]
    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// Which sockets a broadcast reaches, and how. Serializes as the
/// reference's `BroadcastOptions` (`rooms`, `except`, `flags`), for remote
/// adapters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BroadcastOptions {
    /// The sockets in any of these rooms; every socket when empty.
    pub rooms: Vec<Room>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<Room>,
    /// How to send.
    pub flags: BroadcastFlags,
}

impl BroadcastOptions {
    /// Every socket.
    pub fn all() -> Self {
        Self::default()
    }

    /// The sockets in any of `rooms`.
    pub fn to<I, R>(rooms: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<Room>,
    {
        Self {
            rooms: rooms.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Adds a room to reach (no duplicates).
    pub fn add_room(&mut self, room: Room) {
        if !self.rooms.contains(&room) {
            self.rooms.push(room);
        }
    }

    /// Adds a room to leave out (no duplicates).
    pub fn add_except(&mut self, room: Room) {
        if !self.except.contains(&room) {
            self.except.push(room);
        }
    }

    /// Whether a socket in `socket_rooms` is reached: in one of the rooms
    /// (or no rooms given) and in none of the exceptions.
    pub fn includes(&self, socket_rooms: &[Room]) -> bool {
        let included = self.rooms.is_empty() || socket_rooms.iter().any(|r| self.rooms.contains(r));
        included && !socket_rooms.iter().any(|r| self.except.contains(r))
    }
}
