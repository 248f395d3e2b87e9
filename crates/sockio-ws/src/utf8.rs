//! Incremental UTF-8 validation for text messages that arrive in pieces.
//!
//! A fragmented text message (or one frame read in several chunks) is
//! checked as each piece arrives, so an invalid byte fails the connection as
//! soon as it is seen (RFC 6455 section 8.1 allows, and Autobahn rewards,
//! failing fast), not when the message ends. At most three bytes of an
//! incomplete code point are carried between pieces.

/// The input is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

/// State of a validation in progress.
#[derive(Debug, Default, Clone)]
pub struct Utf8Validator {
    /// The start of a code point that the previous piece ended inside.
    pending: [u8; 4],
    pending_len: usize,
}

/// The length of a UTF-8 sequence given its first byte (0 if the byte can
/// never start one).
fn sequence_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 0,
    }
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next piece. Fails as soon as the bytes seen so far cannot
    /// be the start of valid UTF-8.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        if self.pending_len > 0 {
            let need = sequence_len(self.pending[0]);
            let take = (need - self.pending_len).min(input.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&input[..take]);
            let have = self.pending_len + take;
            input = &input[take..];
            match std::str::from_utf8(&self.pending[..have]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_none() => {
                    self.pending_len = have;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
        }
        match simdutf8::compat::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let tail = &input[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Ends the message: fails if it stopped inside a code point. The
    /// validator is ready for the next message afterwards.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let incomplete = self.pending_len > 0;
        self.pending_len = 0;
        if incomplete { Err(InvalidUtf8) } else { Ok(()) }
    }

    /// Forgets any state (the message was abandoned).
    pub fn reset(&mut self) {
        self.pending_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_split(bytes: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &c in cuts {
            let c = c.clamp(start, bytes.len());
            v.feed(&bytes[start..c])?;
            start = c;
        }
        v.feed(&bytes[start..])?;
        v.finish()
    }

    #[test]
    fn fails_fast_inside_a_piece() {
        let mut v = Utf8Validator::new();
        v.feed("κόσμε".as_bytes()).unwrap();
        // 0xF4 0x90 can never start a valid sequence (above U+10FFFF): fail
        // now, before the rest arrives.
        assert_eq!(v.feed(&[0xf4, 0x90]), Err(InvalidUtf8));
    }

    #[test]
    fn truncated_at_end() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xce]).unwrap();
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }

    #[test]
    fn one_byte_at_a_time() {
        let s = "Hello-µ@ßöäüàá-UTF-8!! 𝄞 €";
        let cuts: Vec<usize> = (0..s.len()).collect();
        check_split(s.as_bytes(), &cuts).unwrap();
    }

    proptest! {
        #[test]
        fn agrees_with_std(bytes in proptest::collection::vec(any::<u8>(), 0..64), cuts in proptest::collection::vec(0usize..64, 0..6)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let expected = std::str::from_utf8(&bytes).is_ok();
            prop_assert_eq!(check_split(&bytes, &cuts).is_ok(), expected);
        }

        #[test]
        fn valid_strings_split_anywhere(s in "\\PC{0,40}", cuts in proptest::collection::vec(0usize..200, 0..6)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert!(check_split(s.as_bytes(), &cuts).is_ok());
        }
    }
}
