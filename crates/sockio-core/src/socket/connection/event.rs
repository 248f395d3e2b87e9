//! What a [`Connection`](super::Connection) reports: its role, events,
//! disconnect reasons.

use std::fmt;

use crate::engine::{CloseReason, Str};
use crate::socket::{Args, RawJson, Recovery};

/// Which end of the connection a [`Connection`](super::Connection) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The server: answers CONNECTs, enforces the connect timeout and the
    /// namespace cap, closes on packets for namespaces not joined.
    Server,
    /// The client: sends CONNECTs, gets the answers, tracks the recovery
    /// offset of each namespace.
    Client,
}

/// Whether a namespace is joined yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamespaceState {
    /// A CONNECT is waiting for its answer: from the server's driver
    /// ([`Connection::accept`](super::Connection::accept) or
    /// [`Connection::refuse`](super::Connection::refuse)) on a server, from
    /// the server on a client.
    Connecting,
    /// Joined: events and acks flow.
    Connected,
}

/// What happened on a [`Connection`](super::Connection), polled with
/// [`Connection::poll_event`](super::Connection::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server role: the client asks to join `nsp`. Answer with
    /// [`Connection::accept`](super::Connection::accept) or
    /// [`Connection::refuse`](super::Connection::refuse), now or later.
    ConnectRequest {
        /// The namespace.
        nsp: Str,
        /// The CONNECT payload (an object), if any: the client's `auth`,
        /// with `pid` and `offset` in it when it asks to recover.
        auth: Option<RawJson>,
        /// The session the client asks to recover (connection state
        /// recovery): the `pid` and `offset` strings of the payload.
        recovery: Option<Recovery>,
    },
    /// Client role: the server accepted the CONNECT for `nsp`. Events the
    /// server sent before its answer (the missed events of a recovered
    /// session) follow right after this.
    Connected {
        /// The namespace.
        nsp: Str,
        /// The socket id the server gave.
        sid: String,
        /// The private session id, when the server has connection state
        /// recovery on: the key of a later recovery.
        pid: Option<String>,
        /// Whether the server recovered the session asked for (it answered
        /// with the `pid` the CONNECT carried).
        recovered: bool,
    },
    /// Client role: the server refused the CONNECT for `nsp` (or answered
    /// it in a way a v5 client cannot read). The namespace is not joined.
    ConnectError {
        /// The namespace.
        nsp: Str,
        /// The error's `message`.
        message: String,
        /// The error's `data`, if any.
        data: Option<RawJson>,
    },
    /// An EVENT (or BINARY_EVENT, complete) from the peer on a joined
    /// namespace.
    Event {
        /// The namespace.
        nsp: Str,
        /// The arguments, the event name first.
        args: Args,
        /// Set when the peer asks for an answer: give it with
        /// [`Connection::ack`](super::Connection::ack).
        id: Option<u64>,
    },
    /// The answer to an event sent with an ack id.
    Ack {
        /// The namespace.
        nsp: Str,
        /// The ack id the event was sent with.
        id: u64,
        /// The answer's arguments.
        args: Args,
    },
    /// No answer came by the deadline given for ack `id`; a late answer is
    /// ignored.
    AckTimedOut {
        /// The namespace.
        nsp: Str,
        /// The ack id.
        id: u64,
    },
    /// The namespace is left (or, when the connection closed or the peer
    /// sent DISCONNECT, given up while being joined). Every ack still
    /// awaited on it is failed: their ids are in `pending_acks`, and no
    /// other event will come for them.
    Disconnected {
        /// The namespace.
        nsp: Str,
        /// Why.
        reason: DisconnectReason,
        /// The ack ids that will get no answer, in increasing order.
        pending_acks: Vec<u64>,
    },
}

/// Why a namespace was left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The peer sent DISCONNECT.
    Peer,
    /// This side left with [`Connection::disconnect`](super::Connection::disconnect)
    /// (a DISCONNECT was queued).
    Local,
    /// The whole connection closed: the driver said why with
    /// [`Connection::close`](super::Connection::close), or the peer broke
    /// the protocol ([`CloseReason::ParseError`]).
    Closed(CloseReason),
}

impl DisconnectReason {
    /// The reason as the reference reports it on this side:
    /// "client namespace disconnect" / "server namespace disconnect" on a
    /// server, "io server disconnect" / "io client disconnect" on a
    /// client, the Engine.IO reason ("transport close", "ping timeout", …)
    /// for a closed connection.
    pub fn as_str(self, role: Role) -> &'static str {
        match (self, role) {
            (Self::Peer, Role::Server) => "client namespace disconnect",
            (Self::Local, Role::Server) => "server namespace disconnect",
            (Self::Peer, Role::Client) => "io server disconnect",
            (Self::Local, Role::Client) => "io client disconnect",
            (Self::Closed(reason), _) => reason.as_str(),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Server => "server",
            Self::Client => "client",
        })
    }
}
