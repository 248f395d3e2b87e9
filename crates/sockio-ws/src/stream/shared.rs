//! State the reading and writing halves of a connection share: the close
//! handshake and termination (what is queued and not yet written is
//! counted by the queue, `queue.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::close::CloseFrame;

/// Close-handshake state, shared by the reader and the writer task.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Set by whoever queues the one close frame this endpoint sends.
    close_claimed: AtomicBool,
    /// Set by [`WsWriter::terminate`](super::WsWriter::terminate): the
    /// connection is dropped as soon as the writer sees it.
    terminated: AtomicBool,
    terminate_frame: Mutex<Option<CloseFrame>>,
    /// How long a close may take, from when it is claimed.
    close_timeout: Duration,
    state: Mutex<Watched>,
    /// Woken on every change of `state`.
    changed: Notify,
}

/// The state, and the reader's waker, woken with `changed` (the reader
/// polls for bytes and for changes at once, without a `Notified` per read).
#[derive(Debug, Default)]
struct Watched {
    state: State,
    reader: Option<Waker>,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    /// When the connection is dropped if the close has not completed: the
    /// close timeout after the close was claimed, whatever is still
    /// queued before the close frame.
    close_deadline: Option<Instant>,
    close_sent: bool,
    close_received: bool,
    /// The reader was dropped: nobody will see the peer's close frame.
    reader_gone: bool,
    writer_done: bool,
    /// The writer gave the connection up (terminated, or its close did not
    /// finish in time): the reader stops too.
    abandoned: bool,
}

impl Shared {
    pub(crate) fn new(close_timeout: Duration) -> Self {
        Self {
            close_claimed: AtomicBool::new(false),
            terminated: AtomicBool::new(false),
            terminate_frame: Mutex::new(None),
            close_timeout,
            state: Mutex::new(Watched::default()),
            changed: Notify::new(),
        }
    }

    /// Claims the right to send the close frame. True once only; starts
    /// the close timeout.
    pub(crate) fn claim_close(&self) -> bool {
        let first = !self.close_claimed.swap(true, Ordering::AcqRel);
        if first {
            let deadline = Instant::now() + self.close_timeout;
            self.update(|s| s.close_deadline = Some(deadline));
        }
        first
    }

    /// Whether a close frame was queued (by either half).
    pub(crate) fn close_claimed(&self) -> bool {
        self.close_claimed.load(Ordering::Acquire)
    }

    /// Marks the connection for termination, with the close frame to try
    /// sending. True the first time.
    pub(crate) fn terminate(&self, frame: Option<CloseFrame>) -> bool {
        let first = !self.terminated.swap(true, Ordering::AcqRel);
        if first {
            {
                let mut slot = self
                    .terminate_frame
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                *slot = frame;
            }
            // The writer may be blocked on a peer that does not read.
            self.changed.notify_waiters();
        }
        first
    }

    /// The close frame given to [`Shared::terminate`].
    pub(crate) fn take_terminate_frame(&self) -> Option<CloseFrame> {
        self.terminate_frame
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.terminated.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Watched> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let reader = {
            let mut w = self.lock();
            f(&mut w.state);
            w.reader.take()
        };
        self.changed.notify_waiters();
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    fn get(&self) -> State {
        self.lock().state
    }

    /// For the reader, about to wait for bytes: registers `waker` to be
    /// woken on the next change, and returns whether the writer gave the
    /// connection up, and when the reader must give up waiting for the
    /// peer: the close timeout after the close was claimed, once our close
    /// frame went out.
    pub(crate) fn watch_for_reader(&self, waker: &Waker) -> (bool, Option<Instant>) {
        let mut w = self.lock();
        match &w.reader {
            Some(known) if known.will_wake(waker) => {}
            _ => w.reader = Some(waker.clone()),
        }
        let s = w.state;
        (s.abandoned, s.close_deadline.filter(|_| s.close_sent))
    }

    pub(crate) fn set_close_sent(&self) {
        self.update(|s| s.close_sent = true);
    }

    pub(crate) fn set_close_received(&self) {
        self.update(|s| s.close_received = true);
    }

    pub(crate) fn set_reader_gone(&self) {
        self.update(|s| s.reader_gone = true);
    }

    pub(crate) fn set_writer_done(&self, abandoned: bool) {
        self.update(|s| {
            s.writer_done = true;
            s.abandoned |= abandoned;
        });
    }

    pub(crate) fn close_sent(&self) -> bool {
        self.get().close_sent
    }

    /// Waits for the next change of state. Call [`Shared::changed`] before
    /// looking at the state, then await it, so no change is missed.
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// Resolves when the writer must stop writing: the connection was
    /// terminated, or its close did not complete by the close deadline.
    pub(crate) async fn give_up(&self) {
        loop {
            let changed = self.changed();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_terminated() {
                return;
            }
            let deadline = self.get().close_deadline;
            match deadline {
                Some(at) => tokio::select! {
                    () = tokio::time::sleep_until(at) => return,
                    () = &mut changed => {}
                },
                None => changed.await,
            }
        }
    }

    /// Waits, until the close deadline, for the peer's close frame, or
    /// until no reader is left to see it.
    pub(crate) async fn wait_close_received(&self) {
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
        let deadline = self.get().close_deadline;
        match deadline {
            Some(at) => {
                let _ = tokio::time::timeout_at(at, wait).await;
            }
            None => wait.await,
        }
    }
}
