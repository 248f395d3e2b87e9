//! Event names with a meaning of their own.

/// Event names a peer must not use: the reference gives them to lifecycle
/// events (`connect`, `connect_error` on the client; `disconnect` on both
/// sides; `disconnecting` on the server) and Node's `EventEmitter`
/// (`newListener`, `removeListener`). The reference parser refuses EVENT
/// packets with these names; a server built on this crate decodes them
/// (unless [`DecoderConfig::reject_reserved_events`](super::DecoderConfig::reject_reserved_events))
/// and must never dispatch them to lifecycle handlers.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `name` is one of [`RESERVED_EVENTS`].
///
/// ```
/// use sockio_core::socket::is_reserved_event;
///
/// assert!(is_reserved_event("disconnect"));
/// assert!(!is_reserved_event("message"));
/// assert!(!is_reserved_event("Disconnect"));
/// ```
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}
