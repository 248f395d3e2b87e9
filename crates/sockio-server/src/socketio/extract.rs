//! Extractors: what a handler asks for by the types of its parameters, as
//! an axum handler does.
//!
//! Every handler (an event's, a connection's, a disconnection's, a
//! connection middleware) is a function or closure, sync or async, whose
//! parameters each implement [`FromParts`] for its kind of handler:
//!
//! | parameter | event | connect, middleware | disconnect |
//! |---|---|---|---|
//! | [`SocketRef`] | the socket | the socket | the socket |
//! | [`Data<T>`] | the event's values, by the argument model | the auth payload | – |
//! | [`TryData<T>`] | as `Data`, or why they did not fit | the auth payload, or why not | – |
//! | [`Args`] | the values as they came | the auth payload | – |
//! | [`Bin`] | the binary attachments | – | – |
//! | `Option<`[`AckSender`]`>` | the answer, if the client asked for one | – | – |
//! | [`Event`] | the event's name | – | – |
//! | [`DisconnectReason`] | – | – | why |
//! | [`State<T>`] | shared state given to the builder | the same | the same |
//! | [`Extension<T>`] | a value of this socket's extensions | the same | the same |
//! | [`Handshake`] | what the client sent when it connected | the same | the same |
//! | [`SocketIo`] | the server | the server | the server |
//!
//! "By the argument model": `()` reads no value, a tuple one value per
//! element, any other type the first value (see
//! [`Args::parse`](sockio_core::socket::Args::parse)).
//!
//! When a parameter cannot be extracted (values that do not fit `Data<T>`,
//! a state or extension that was never set) the handler does not run: the
//! failure goes to the socket's [`on_error`](SocketRef::on_error) handler
//! or, without one, to the log (target `sockio_server::socketio`, warn);
//! a middleware refuses the connection with the failure as its message.

use std::fmt;
use std::ops::Deref;

use serde::de::DeserializeOwned;
use sockio_core::socket::{Args, DataError};

use super::SocketIo;
use super::ack::AckSender;
use super::handshake::Handshake;
use super::reason::DisconnectReason;
use super::socket::SocketRef;

/// The kinds of handler, which decide what a parameter may be.
pub mod kind {
    /// An event handler ([`SocketRef::on`](super::SocketRef::on)).
    #[derive(Debug)]
    pub enum Event {}
    /// A connect handler or a connection middleware.
    #[derive(Debug)]
    pub enum Connect {}
    /// A disconnect or disconnecting handler.
    #[derive(Debug)]
    pub enum Disconnect {}

    /// The kinds whose handlers get values: an event's arguments, a
    /// connection's auth payload (what `Data`, `TryData` and `Args` read).
    pub trait WithValues: sealed::Sealed {}
    impl WithValues for Event {}
    impl WithValues for Connect {}

    mod sealed {
        pub trait Sealed {}
        impl Sealed for super::Event {}
        impl Sealed for super::Connect {}
    }
}

/// What a handler is called with, from which its parameters are taken.
#[derive(Debug)]
pub struct Parts {
    pub(crate) socket: SocketRef,
    /// An event's values (its name left out), or a CONNECT's auth payload
    /// as one value.
    pub(crate) args: Args,
    pub(crate) event: Option<String>,
    pub(crate) ack: Option<AckSender>,
    pub(crate) reason: Option<DisconnectReason>,
}

impl Parts {
    pub(crate) fn new(socket: SocketRef) -> Self {
        Self {
            socket,
            args: Args::new(),
            event: None,
            ack: None,
            reason: None,
        }
    }

    /// Parts of a connect handler or middleware: the auth payload as the
    /// one value.
    pub(crate) fn with_auth(mut self, socket: &SocketRef) -> Self {
        self.args = Args::from_raw(vec![socket.handshake().auth.clone()]);
        self
    }

    /// The socket the handler runs for.
    pub fn socket(&self) -> &SocketRef {
        &self.socket
    }
}

/// Why a handler's parameter could not be extracted; the handler did not
/// run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The values do not fit the type asked for with [`Data`].
    #[error("invalid arguments: {0}")]
    Data(#[source] DataError),
    /// [`State<T>`] of a type the builder was not given
    /// ([`SocketIoBuilder::with_state`](super::SocketIoBuilder::with_state)).
    #[error("no state of type {0} was given to the builder")]
    MissingState(&'static str),
    /// [`SocketIo`] asked for while the server is being dropped.
    #[error("the server is gone")]
    ServerClosed,
    /// [`Extension<T>`] of a type the socket's extensions do not hold.
    #[error("the socket has no extension of type {0}")]
    MissingExtension(&'static str),
}

/// A type a handler of kind `K` (see [`kind`]) may take as a parameter.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of this handler",
    label = "not an extractor for this kind of handler",
    note = "event handlers take: SocketRef, Data<T>, TryData<T>, Args, Bin, Option<AckSender>, Event, State<T>, Extension<T>, Handshake, SocketIo",
    note = "connect handlers and middlewares take: SocketRef, Data<T> (the auth payload), TryData<T>, Args, State<T>, Extension<T>, Handshake, SocketIo",
    note = "disconnect handlers take: SocketRef, DisconnectReason, State<T>, Extension<T>, Handshake, SocketIo"
)]
pub trait FromParts<K>: Sized {
    /// Takes the value from `parts`.
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError>;
}

impl<K> FromParts<K> for SocketRef {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        Ok(parts.socket.clone())
    }
}

impl<K> FromParts<K> for SocketIo {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        parts.socket.io().ok_or(ExtractError::ServerClosed)
    }
}

impl<K> FromParts<K> for Handshake {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        Ok(parts.socket.handshake().clone())
    }
}

/// The event's values (or the connection's auth payload) read as `T` by
/// the argument model: `()` none, a tuple one per element, any other type
/// the first value. Binary values read as `bytes::Bytes` anywhere.
///
/// When they do not fit, the handler does not run (see the [module
/// docs](self)); ask for [`TryData<T>`] to handle that yourself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data<T>(pub T);

impl<T> Deref for Data<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<K: kind::WithValues, T: DeserializeOwned> FromParts<K> for Data<T> {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        parts.args.parse().map(Data).map_err(ExtractError::Data)
    }
}

/// As [`Data<T>`], but the handler runs either way and gets why the values
/// did not fit.
#[derive(Debug)]
pub struct TryData<T>(pub Result<T, DataError>);

impl<K: kind::WithValues, T: DeserializeOwned> FromParts<K> for TryData<T> {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        Ok(Self(parts.args.parse()))
    }
}

impl<K: kind::WithValues> FromParts<K> for Args {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        Ok(parts.args.clone())
    }
}

/// The binary attachments of the event, in placeholder order (also
/// reachable through [`Data`] as `bytes::Bytes` values where they sit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin(pub Vec<bytes::Bytes>);

impl FromParts<kind::Event> for Bin {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        Ok(Self(parts.args.attachments().to_vec()))
    }
}

/// The event's name (useful in [`SocketRef::on_any`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event(pub String);

impl Deref for Event {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl FromParts<kind::Event> for Event {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        Ok(Self(parts.event.clone().unwrap_or_default()))
    }
}

/// The answer to the event, when the client asked for one (`None` when it
/// did not). Taken once: a second `Option<AckSender>` parameter is `None`.
impl FromParts<kind::Event> for Option<AckSender> {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        Ok(parts.ack.take())
    }
}

impl FromParts<kind::Disconnect> for DisconnectReason {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        // Disconnect handlers are always called with a reason.
        Ok(parts.reason.unwrap_or(Self::ServerNamespaceDisconnect))
    }
}

/// Shared state given to the builder with
/// [`SocketIoBuilder::with_state`](super::SocketIoBuilder::with_state),
/// cloned for the handler (wrap it in an `Arc` if it is large).
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<K, T: Clone + Send + Sync + 'static> FromParts<K> for State<T> {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        parts
            .socket
            .server_state::<T>()
            .map(State)
            .ok_or(ExtractError::MissingState(std::any::type_name::<T>()))
    }
}

/// A value of the socket's typed extensions ([`SocketRef::extensions`]),
/// cloned: per-socket state without serialization. Extensions live on
/// this server only; what must survive connection state recovery or be
/// read from another server goes in [`SocketRef::set_data`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Extension<T>(pub T);

impl<T> Deref for Extension<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<K, T: Clone + Send + Sync + 'static> FromParts<K> for Extension<T> {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        parts
            .socket
            .extensions()
            .get::<T>()
            .map(Extension)
            .ok_or(ExtractError::MissingExtension(std::any::type_name::<T>()))
    }
}

impl<K, T: FromParts<K>> FromParts<K> for Result<T, ExtractError> {
    fn from_parts(parts: &mut Parts) -> Result<Self, ExtractError> {
        Ok(T::from_parts(parts))
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
