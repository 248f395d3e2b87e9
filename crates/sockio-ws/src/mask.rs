//! Payload masking (RFC 6455 section 5.3).
//!
//! XOR-ing with a repeating four-byte key is the hottest loop of a WebSocket
//! server: every byte a client sends goes through it. The implementation is
//! safe Rust written so that the compiler vectorizes it: the key is spread
//! over a 64-byte block and the payload is processed in 64-byte chunks, each
//! one a fixed-length loop of independent XORs.

const BLOCK: usize = 64;

/// XORs `buf` with `key`, as if `buf` started at offset `offset` of the
/// masked payload (so a payload can be unmasked in pieces as it arrives).
///
/// Masking is its own inverse: the same call masks and unmasks.
///
/// ```
/// use sockio_ws::mask::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut data = *b"Hello";
/// apply_mask(&mut data, key, 0);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// // In two pieces, with the offset carried over:
/// let (a, b) = data.split_at_mut(2);
/// apply_mask(a, key, 0);
/// apply_mask(b, key, 2);
/// assert_eq!(&data, b"Hello");
/// ```
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    let mut pattern = [0u8; BLOCK];
    for (i, b) in pattern.iter_mut().enumerate() {
        *b = key[i & 3];
    }
    let mut chunks = buf.chunks_exact_mut(BLOCK);
    for chunk in &mut chunks {
        for (b, k) in chunk.iter_mut().zip(pattern.iter()) {
            *b ^= *k;
        }
    }
    for (b, k) in chunks.into_remainder().iter_mut().zip(pattern.iter()) {
        *b ^= *k;
    }
}

/// The key as seen from byte `offset` of the payload.
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset & 3;
    [key[r], key[(r + 1) & 3], key[(r + 2) & 3], key[(r + 3) & 3]]
}

/// The obvious byte-at-a-time masking loop, kept as the reference the fast
/// version is tested and benchmarked against.
#[doc(hidden)]
pub fn apply_mask_bytewise(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(i + offset) & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_bytewise(data in proptest::collection::vec(any::<u8>(), 0..600), key: [u8; 4], offset in 0usize..8) {
            let mut fast = data.clone();
            let mut slow = data.clone();
            apply_mask(&mut fast, key, offset);
            apply_mask_bytewise(&mut slow, key, offset);
            prop_assert_eq!(&fast, &slow);
            apply_mask(&mut fast, key, offset);
            prop_assert_eq!(fast, data);
        }

        #[test]
        fn split_anywhere(data in proptest::collection::vec(any::<u8>(), 0..300), key: [u8; 4], cut in 0usize..300) {
            let cut = cut.min(data.len());
            let mut whole = data.clone();
            apply_mask(&mut whole, key, 0);
            let mut parts = data;
            let (a, b) = parts.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            prop_assert_eq!(whole, parts);
        }
    }
}
