//! Growth for the small queues and lists every connection keeps: most
//! hold one item at a time, and the standard first allocation of four
//! items, kept for the connection's life, was a few hundred bytes of each
//! idle connection.

use std::collections::VecDeque;

/// The exact room to add before a push into a collection of `len` items
/// with room for `capacity`: growing to one, two, then four items; `None`
/// when the usual growth applies (there is room, or it holds four).
fn exact_growth(len: usize, capacity: usize) -> Option<usize> {
    (len == capacity && capacity < 4).then(|| capacity.max(1))
}

/// Pushes `item` at the back of `queue`, growing a small queue to one,
/// two, then four items (doubling after that, as usual).
pub(crate) fn push_back<T>(queue: &mut VecDeque<T>, item: T) {
    if let Some(more) = exact_growth(queue.len(), queue.capacity()) {
        queue.reserve_exact(more);
    }
    queue.push_back(item);
}

/// [`push_back`] for a `Vec`.
pub(crate) fn push<T>(list: &mut Vec<T>, item: T) {
    if let Some(more) = exact_growth(list.len(), list.capacity()) {
        list.reserve_exact(more);
    }
    list.push(item);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_queues_grow_one_item_at_a_time() {
        let mut q = VecDeque::new();
        let mut seen = Vec::new();
        for i in 0..9 {
            push_back(&mut q, i);
            seen.push(q.capacity());
        }
        assert_eq!(&seen[..3], &[1, 2, 4]);
        assert!(seen[8] >= 9);
        assert_eq!(
            q.into_iter().collect::<Vec<_>>(),
            (0..9).collect::<Vec<_>>()
        );
    }
}
