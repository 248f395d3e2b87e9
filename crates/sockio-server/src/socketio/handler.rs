//! Handlers: functions and closures, sync or async, whose parameters are
//! extractors (see [`extract`](super::extract)).

use std::future::Future;
use std::sync::Arc;

use super::extract::{ExtractError, FromParts, Parts};
use super::namespace::ConnectError;
use super::queue::Job;

/// Markers telling sync handlers from async ones (they appear in the
/// handler traits' type parameters, which the compiler infers).
pub mod marker {
    /// A handler that returns when done.
    #[derive(Debug)]
    pub enum Sync {}
    /// A handler that returns a future.
    #[derive(Debug)]
    pub enum Async {}
}

/// A handler of kind `K` (an event, a connection, a disconnection; see
/// [`extract::kind`](super::extract::kind)): a function or closure, sync
/// or async, taking up to 8 extractors and returning `()` or a future of
/// `()`. `M` is inferred.
///
/// ```
/// use sockio_server::socketio::{AckSender, Data, SocketIo, SocketRef};
///
/// let io = SocketIo::builder().build();
/// io.ns("/", |socket: SocketRef| {
///     // Sync: runs as the event arrives.
///     socket.on("ping", |ack: Option<AckSender>| {
///         if let Some(ack) = ack {
///             ack.send("pong").ok();
///         }
///     });
///     // Async: awaits as it likes; this socket's next events wait for it.
///     socket.on("ask", async |socket: SocketRef, Data(question): Data<String>| {
///         let _answer: Result<String, _> = socket.emit_with_ack("question", question).await;
///     });
/// });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler of this kind",
    label = "not a handler",
    note = "a handler is a function or closure, sync or async (`async |..| {{ .. }}` or `|..| async move {{ .. }}`), taking up to 8 extractors and returning `()` (a middleware: `Result<(), ConnectError>`)",
    note = "give each closure parameter its type: `|socket: SocketRef, Data(msg): Data<Msg>| ..`; see the `extract` module for what each kind of handler may take"
)]
pub trait Handler<K, M>: Send + Sync + 'static {
    /// Whether the handler returns a future (it then runs on its socket's
    /// queue).
    #[doc(hidden)]
    const ASYNC: bool;

    /// Calls the handler: done, or the future to run.
    #[doc(hidden)]
    fn call(&self, parts: Parts) -> Result<Option<Job>, ExtractError>;
}

/// A connection middleware: a function or closure, sync or async, taking
/// up to 8 extractors of the connect kind and returning
/// `Result<(), ConnectError>` (or a future of it). An error refuses the
/// connection: the client gets `connect_error` with its message and data.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connection middleware",
    label = "not a middleware",
    note = "a middleware is a function or closure, sync or async, taking up to 8 extractors (SocketRef, Data<T> for the auth payload, State<T>, Handshake, ..) and returning `Result<(), ConnectError>`"
)]
pub trait Middleware<M>: Send + Sync + 'static {
    /// Runs the middleware.
    #[doc(hidden)]
    fn call(&self, parts: Parts) -> MiddlewareOutcome;
}

/// What a middleware returned: at once, or later.
#[doc(hidden)]
pub enum MiddlewareOutcome {
    Ready(Result<(), ConnectError>),
    Pending(std::pin::Pin<Box<dyn Future<Output = Result<(), ConnectError>> + Send>>),
}

/// A middleware whose parameters could not be extracted refuses the
/// connection with the reason.
fn refused(e: &ExtractError) -> MiddlewareOutcome {
    MiddlewareOutcome::Ready(Err(ConnectError::new(e.to_string())))
}

macro_rules! impl_handlers {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<K, F, $($ty,)*> Handler<K, (marker::Sync, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) + Send + Sync + 'static,
            $($ty: FromParts<K>,)*
        {
            const ASYNC: bool = false;
            fn call(&self, mut parts: Parts) -> Result<Option<Job>, ExtractError> {
                $(let $ty = $ty::from_parts(&mut parts)?;)*
                self($($ty,)*);
                Ok(None)
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<K, F, Fut, $($ty,)*> Handler<K, (marker::Async, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromParts<K>,)*
        {
            const ASYNC: bool = true;
            fn call(&self, mut parts: Parts) -> Result<Option<Job>, ExtractError> {
                $(let $ty = $ty::from_parts(&mut parts)?;)*
                Ok(Some(Box::pin(self($($ty,)*))))
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<F, $($ty,)*> Middleware<(marker::Sync, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Result<(), ConnectError> + Send + Sync + 'static,
            $($ty: FromParts<super::extract::kind::Connect>,)*
        {
            fn call(&self, mut parts: Parts) -> MiddlewareOutcome {
                let run = |parts: &mut Parts| -> Result<MiddlewareOutcome, ExtractError> {
                    $(let $ty = $ty::from_parts(parts)?;)*
                    Ok(MiddlewareOutcome::Ready(self($($ty,)*)))
                };
                run(&mut parts).unwrap_or_else(|e| refused(&e))
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<F, Fut, $($ty,)*> Middleware<(marker::Async, $($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
            $($ty: FromParts<super::extract::kind::Connect>,)*
        {
            fn call(&self, mut parts: Parts) -> MiddlewareOutcome {
                let run = |parts: &mut Parts| -> Result<MiddlewareOutcome, ExtractError> {
                    $(let $ty = $ty::from_parts(parts)?;)*
                    Ok(MiddlewareOutcome::Pending(Box::pin(self($($ty,)*))))
                };
                run(&mut parts).unwrap_or_else(|e| refused(&e))
            }
        }
    };
}

impl_handlers!();
impl_handlers!(T1);
impl_handlers!(T1, T2);
impl_handlers!(T1, T2, T3);
impl_handlers!(T1, T2, T3, T4);
impl_handlers!(T1, T2, T3, T4, T5);
impl_handlers!(T1, T2, T3, T4, T5, T6);
impl_handlers!(T1, T2, T3, T4, T5, T6, T7);
impl_handlers!(T1, T2, T3, T4, T5, T6, T7, T8);

/// A handler with its types erased.
#[derive(Clone)]
pub(crate) struct BoxedHandler {
    call: Arc<dyn Fn(Parts) -> Result<Option<Job>, ExtractError> + Send + Sync>,
    pub(crate) is_async: bool,
}

impl BoxedHandler {
    pub(crate) fn new<K, M, H: Handler<K, M>>(handler: H) -> Self {
        Self {
            call: Arc::new(move |parts| handler.call(parts)),
            is_async: H::ASYNC,
        }
    }

    pub(crate) fn call(&self, parts: Parts) -> Result<Option<Job>, ExtractError> {
        (self.call)(parts)
    }
}

/// A middleware with its types erased.
#[derive(Clone)]
pub(crate) struct BoxedMiddleware(Arc<dyn Fn(Parts) -> MiddlewareOutcome + Send + Sync>);

impl BoxedMiddleware {
    pub(crate) fn new<M, H: Middleware<M>>(middleware: H) -> Self {
        Self(Arc::new(move |parts| middleware.call(parts)))
    }

    pub(crate) fn call(&self, parts: Parts) -> MiddlewareOutcome {
        (self.0)(parts)
    }
}
