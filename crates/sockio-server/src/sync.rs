//! The crate's one policy for poisoned locks: go on with the data.
//!
//! A lock is poisoned when a thread panicked while holding it. No lock of
//! this crate is held while application code runs (handlers are called
//! after their guards are dropped, and their panics are caught), and every
//! critical section leaves its data consistent at each step, so the data
//! behind a poisoned lock is still valid: it is used as it is. No path
//! skips its work because of poisoning (a registration silently dropped,
//! a socket left in a table).

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `mutex`, poisoned or not.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Read-locks `lock`, poisoned or not.
pub(crate) fn lock_read<T: ?Sized>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

/// Write-locks `lock`, poisoned or not.
pub(crate) fn lock_write<T: ?Sized>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}
