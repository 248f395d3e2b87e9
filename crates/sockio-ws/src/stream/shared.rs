//! State the reading and writing halves of a connection share: the close
//! handshake.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Close-handshake state, shared by the reader and the writer task.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Set by whoever queues the one close frame this endpoint sends.
    close_claimed: AtomicBool,
    /// Items pushed on the write queue and not yet written to the
    /// transport (queued, or taken by the writer task and in flight).
    unwritten: AtomicUsize,
    state: Mutex<State>,
    /// Woken on every change of `state`.
    changed: Notify,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    close_sent_at: Option<Instant>,
    close_received: bool,
    /// The reader was dropped: nobody will see the peer's close frame.
    reader_gone: bool,
    writer_done: bool,
}

impl Shared {
    /// Claims the right to send the close frame. True once only.
    pub(crate) fn claim_close(&self) -> bool {
        !self.close_claimed.swap(true, Ordering::AcqRel)
    }

    /// Whether a close frame was queued (by either half).
    pub(crate) fn close_claimed(&self) -> bool {
        self.close_claimed.load(Ordering::Acquire)
    }

    /// Counts an item about to be pushed on the write queue.
    pub(crate) fn add_unwritten(&self) {
        self.unwritten.fetch_add(1, Ordering::AcqRel);
    }

    /// Uncounts `n` items: written, or never queued.
    pub(crate) fn sub_unwritten(&self, n: usize) {
        // Saturating: a count can never go below what was added.
        let _ = self
            .unwritten
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
    }

    /// Items queued and not yet written.
    pub(crate) fn unwritten(&self) -> usize {
        self.unwritten.load(Ordering::Acquire)
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
        self.changed.notify_waiters();
    }

    fn get(&self) -> State {
        self.state.lock().map(|s| *s).unwrap_or_default()
    }

    pub(crate) fn set_close_sent(&self) {
        self.update(|s| s.close_sent_at = Some(Instant::now()));
    }

    pub(crate) fn set_close_received(&self) {
        self.update(|s| s.close_received = true);
    }

    pub(crate) fn set_reader_gone(&self) {
        self.update(|s| s.reader_gone = true);
    }

    pub(crate) fn set_writer_done(&self) {
        self.update(|s| s.writer_done = true);
    }

    pub(crate) fn close_sent(&self) -> bool {
        self.get().close_sent_at.is_some()
    }

    /// When the reader must give up waiting for the peer: `timeout` after
    /// our close frame went out.
    pub(crate) fn read_deadline(&self, timeout: Duration) -> Option<Instant> {
        self.get().close_sent_at.map(|at| at + timeout)
    }

    /// Waits for the next change of state. Call [`Shared::changed`] before
    /// looking at the state, then await it, so no change is missed.
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// Waits (at most `timeout`) for the peer's close frame, or until no
    /// reader is left to see it.
    pub(crate) async fn wait_close_received(&self, timeout: Duration) {
        let wait = async {
            loop {
                let changed = self.changed();
                tokio::pin!(changed);
                changed.as_mut().enable();
                let state = self.get();
                if state.close_received || state.reader_gone {
                    return;
                }
                changed.await;
            }
        };
        let _ = tokio::time::timeout(timeout, wait).await;
    }
}
