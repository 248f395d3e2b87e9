//! The per-socket event queue that runs asynchronous handlers: one task per
//! socket (created with its first asynchronous handler), running the
//! socket's events one after another in the order they arrived. A handler
//! that never completes holds up its own socket only.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

/// One event's work.
pub(crate) type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Most events one socket may have waiting for its handlers; past it the
/// socket is disconnected (the client sends faster than its handlers run).
pub(crate) const MAX_QUEUED_EVENTS: usize = 4096;

/// Starts a socket's queue; `on_panic` runs (on the queue's task) when a
/// job panics, and the queue goes on.
pub(crate) fn spawn(on_panic: impl Fn() + Send + 'static) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(MAX_QUEUED_EVENTS);
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            if CatchUnwind(job).await.is_err() {
                on_panic();
            }
        }
    });
    tx
}

/// Runs `future` right here until it first waits (to the end, in the
/// usual case: the in-memory adapter and sync middlewares answer at once),
/// then on a task. Without a tokio runtime to finish it, the rest is
/// dropped and logged.
pub(crate) fn run_now_or_spawn(future: impl Future<Output = ()> + Send + 'static) {
    let mut future = Box::pin(future);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    if future.as_mut().poll(&mut cx).is_ready() {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn(future);
        }
        Err(_) => tracing::warn!(
            target: "sockio_server::socketio",
            "work left unfinished: no tokio runtime to run it on"
        ),
    }
}

/// A future whose panic becomes an `Err`.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}
