//! The compressor and decompressor of one connection.
//!
//! Both are created on first use, so an idle connection that negotiated
//! deflate holds no zlib state, and both are freed after each message when
//! the sending side agreed to `*_no_context_takeover`.

use bytes::BytesMut;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::ProtocolError;

/// The four bytes a sync flush ends with, which RFC 7692 removes from
/// each message and the receiver appends back.
const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The most bytes a deflate encoder may reasonably turn `len` bytes into,
/// so that a compressed message of an allowed size is not refused for its
/// overhead: nine bits per byte (fixed-Huffman literals, what zlib-rs's
/// fastest level emits for random data), plus block headers and the flush.
pub(crate) fn max_compressed_len(len: usize) -> usize {
    len.saturating_add(len / 8).saturating_add(64)
}

/// zlib's raw deflate takes window bits 9 to 15 (see the module docs of
/// `deflate` for why 8 becomes 9).
fn zlib_bits(bits: u8) -> u8 {
    bits.clamp(9, 15)
}

/// Compresses outgoing messages.
pub(crate) struct Deflater {
    state: Option<Compress>,
    level: Compression,
    window_bits: u8,
    reset_each_message: bool,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("window_bits", &self.window_bits)
            .field("reset_each_message", &self.reset_each_message)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    pub(crate) fn new(level: u32, window_bits: u8, reset_each_message: bool) -> Self {
        Self {
            state: None,
            level: Compression::new(level.min(9)),
            window_bits: zlib_bits(window_bits),
            reset_each_message,
        }
    }

    /// Appends the compressed form of `input` (one whole message, trailer
    /// removed) to `out`.
    pub(crate) fn compress(&mut self, input: &[u8], out: &mut BytesMut) {
        let (level, bits) = (self.level, self.window_bits);
        let c = self
            .state
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, bits));
        let start = out.len();
        let in_start = c.total_in();
        loop {
            let consumed = (c.total_in() - in_start) as usize;
            let room = (input.len() - consumed) + (input.len() >> 8) + 64;
            let len = out.len();
            out.resize(len + room, 0);
            let out_before = c.total_out();
            // Errors here mean a misuse of zlib (a buffer error with no
            // progress possible), which the loop below rules out.
            let _ = c.compress(&input[consumed..], &mut out[len..], FlushCompress::Sync);
            let produced = (c.total_out() - out_before) as usize;
            out.truncate(len + produced);
            let done = (c.total_in() - in_start) as usize == input.len();
            if done && produced < room {
                break;
            }
        }
        if out[start..].ends_with(&TRAILER) {
            out.truncate(out.len() - TRAILER.len());
        }
        if out.len() == start {
            // zlib writes nothing for an empty message right after a flush;
            // an empty payload would not inflate (the receiver appends the
            // trailer to it), so send an empty stored block (RFC 7692
            // section 7.2.3.6).
            out.extend_from_slice(&[0x00]);
        }
        if self.reset_each_message {
            // Without context takeover nothing needs to survive the
            // message: free the state (hundreds of KiB) until the next one.
            self.state = None;
        }
    }
}

/// Decompresses incoming messages, piece by piece, within a size limit.
pub(crate) struct Inflater {
    state: Option<Decompress>,
    window_bits: u8,
    reset_each_message: bool,
    /// Bytes produced for the message in progress.
    produced: usize,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("reset_each_message", &self.reset_each_message)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    pub(crate) fn new(window_bits: u8, reset_each_message: bool) -> Self {
        Self {
            state: None,
            // A larger window than the peer's always decodes its data; 8
            // cannot be asked of zlib.
            window_bits: zlib_bits(window_bits),
            reset_each_message,
            produced: 0,
        }
    }

    /// Inflates the next piece of a compressed message, appending to `out`.
    /// Fails with `DecompressedTooLarge` as soon as the message's output
    /// passes `limit`, having allocated at most `limit + 1` bytes of it.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        let bits = self.window_bits;
        let d = self
            .state
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let mut consumed = 0;
        loop {
            let remaining_limit = limit.saturating_sub(self.produced) + 1;
            let room = (input.len() - consumed)
                .saturating_mul(4)
                .clamp(1024, 256 << 10)
                .min(remaining_limit);
            let len = out.len();
            out.resize(len + room, 0);
            let (in_before, out_before) = (d.total_in(), d.total_out());
            let status = d.decompress(&input[consumed..], &mut out[len..], FlushDecompress::Sync);
            let read = (d.total_in() - in_before) as usize;
            let written = (d.total_out() - out_before) as usize;
            out.truncate(len + written);
            consumed += read;
            self.produced += written;
            if self.produced > limit {
                return Err(ProtocolError::DecompressedTooLarge { max: limit });
            }
            match status {
                Ok(Status::StreamEnd) => {
                    // The peer ended the deflate stream (BFINAL); what
                    // follows starts a new one.
                    d.reset(false);
                }
                Ok(_) => {}
                Err(_) => return Err(ProtocolError::CorruptDeflate),
            }
            if consumed == input.len() && written < room {
                return Ok(());
            }
            if read == 0 && written == 0 {
                // No progress with input left and room to write: the
                // stream cannot continue.
                return Err(ProtocolError::CorruptDeflate);
            }
        }
    }

    /// Ends the message: inflates the removed trailer, then resets the
    /// decompressor if the peer does not keep its context.
    pub(crate) fn finish(&mut self, out: &mut BytesMut, limit: usize) -> Result<(), ProtocolError> {
        let result = self.inflate(&TRAILER, out, limit);
        self.produced = 0;
        if self.reset_each_message || result.is_err() {
            // Nothing survives the message: free the state until the next.
            self.state = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(deflater: &mut Deflater, inflater: &mut Inflater, msg: &[u8]) {
        let mut compressed = BytesMut::new();
        deflater.compress(msg, &mut compressed);
        let mut out = BytesMut::new();
        inflater.inflate(&compressed, &mut out, 1 << 20).unwrap();
        inflater.finish(&mut out, 1 << 20).unwrap();
        assert_eq!(&out[..], msg);
    }

    #[test]
    fn rfc7692_hello_example() {
        // RFC 7692 section 7.2.3.1: "Hello" compressed without context.
        let mut inflater = Inflater::new(15, true);
        let mut out = BytesMut::new();
        inflater
            .inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        inflater.finish(&mut out, 100).unwrap();
        assert_eq!(&out[..], b"Hello");
    }

    #[test]
    fn context_takeover_shrinks_repeats() {
        let mut d = Deflater::new(6, 15, false);
        let mut i = Inflater::new(15, false);
        let msg = b"Hello, hello, this is a message that repeats itself".repeat(3);
        let mut first = BytesMut::new();
        d.compress(&msg, &mut first);
        let mut second = BytesMut::new();
        d.compress(&msg, &mut second);
        assert!(second.len() < first.len());
        for c in [first, second] {
            let mut out = BytesMut::new();
            i.inflate(&c, &mut out, 1 << 20).unwrap();
            i.finish(&mut out, 1 << 20).unwrap();
            assert_eq!(&out[..], &msg[..]);
        }
    }

    #[test]
    fn every_window_size() {
        for bits in 8..=15 {
            for reset in [false, true] {
                let mut d = Deflater::new(6, bits, reset);
                let mut i = Inflater::new(bits, reset);
                for n in [0usize, 1, 100, 5000, 70_000] {
                    let msg: Vec<u8> = (0..n).map(|k| (k % 251) as u8 ^ (k / 7) as u8).collect();
                    round_trip(&mut d, &mut i, &msg);
                }
            }
        }
    }

    #[test]
    fn empty_messages_between_others() {
        for reset in [false, true] {
            let mut d = Deflater::new(1, 15, reset);
            let mut i = Inflater::new(15, reset);
            for msg in [&b"a"[..], b"", b"", b"abc", b"", b"a"] {
                round_trip(&mut d, &mut i, msg);
            }
        }
    }

    /// Worst-case expansion stays within [`max_compressed_len`].
    #[test]
    fn incompressible_data_expansion_is_bounded() {
        let mut d = Deflater::new(1, 15, false);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..(1 << 20))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut out = BytesMut::new();
        d.compress(&data, &mut out);
        assert!(out.len() > data.len());
        assert!(out.len() <= max_compressed_len(data.len()), "{}", out.len());
    }

    #[test]
    fn bomb_stops_at_limit() {
        let mut d = Deflater::new(9, 15, true);
        let zeros = vec![0u8; 10 << 20];
        let mut compressed = BytesMut::new();
        d.compress(&zeros, &mut compressed);
        assert!(compressed.len() < 20 << 10);
        let mut i = Inflater::new(15, true);
        let mut out = BytesMut::new();
        let err = i.inflate(&compressed, &mut out, 1 << 20).unwrap_err();
        assert_eq!(err, ProtocolError::DecompressedTooLarge { max: 1 << 20 });
        assert!(out.len() <= (1 << 20) + 1);
    }

    #[test]
    fn corrupt_data_is_an_error() {
        let mut i = Inflater::new(15, true);
        let mut out = BytesMut::new();
        let r = i
            .inflate(&[0xff; 32], &mut out, 1 << 20)
            .and_then(|()| i.finish(&mut out, 1 << 20));
        assert_eq!(r, Err(ProtocolError::CorruptDeflate));
    }
}
