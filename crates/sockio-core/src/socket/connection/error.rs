//! The errors of a [`Connection`](super::Connection).

use super::Role;
use crate::engine::Str;
use crate::socket::{DecodeError, PacketKind};

/// The peer broke the protocol, or the server's connect timeout passed:
/// the connection must close. The [`Connection`](super::Connection) is
/// closed already (its namespaces reported
/// [`Event::Disconnected`](super::Event::Disconnected)); the driver
/// closes the Engine.IO session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// A message is not a valid Socket.IO packet, or a binary packet's
    /// attachments did not arrive in time.
    #[error("parse error: {0}")]
    Decode(#[from] DecodeError),
    /// Server role: a packet the connection's state does not allow, as the
    /// reference closes for ("invalid state"): an EVENT or ACK for a
    /// namespace not joined, or a CONNECT_ERROR from the client.
    #[error("unexpected {kind:?} packet for namespace {nsp}")]
    UnexpectedPacket {
        /// The packet's namespace.
        nsp: Str,
        /// The packet's type.
        kind: PacketKind,
    },
    /// Server role: no namespace was joined within the connect timeout.
    #[error("no namespace joined within the connect timeout")]
    ConnectTimeout,
}

/// A call that does not fit the connection's state or role. Nothing was
/// queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The connection is closed.
    #[error("the connection is closed")]
    Closed,
    /// A server-only call on a client, or the other way round.
    #[error("not available to a {0}")]
    WrongRole(Role),
    /// The namespace is not joined (emit, ack, disconnect), or has no
    /// CONNECT waiting for an answer (accept, refuse).
    #[error("namespace {0} is not in the required state")]
    NotConnected(String),
    /// Client role: the namespace is joined or being joined already.
    #[error("namespace {0} is joined or being joined already")]
    AlreadyConnected(String),
    /// Client role: a namespace name must start with `/` (and, with the
    /// default parser, hold no `,`).
    #[error("invalid namespace name {0:?}")]
    InvalidNamespace(String),
    /// Client role: CONNECT auth data must be a JSON object.
    #[error("auth data must be a JSON object")]
    InvalidAuth,
    /// An event needs a name (a string first argument) that is not a
    /// reserved one (`connect`, `disconnect`, …): the peer would close the
    /// connection.
    #[error("an event needs a name that is not reserved")]
    InvalidEventName,
    /// The ack id is awaited already on this namespace, or is past
    /// [`MAX_ACK_ID`](crate::socket::MAX_ACK_ID).
    #[error("ack id {0} is in use or out of range")]
    AckIdInUse(u64),
}
