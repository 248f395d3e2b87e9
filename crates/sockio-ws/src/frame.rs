//! The frame layer (RFC 6455 section 5.2): opcodes, header parsing and
//! encoding, and pre-encoded server frames for sharing.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               | Masking-key, if MASK set to 1 |
//! +-------------------------------+-------------------------------+
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use crate::ProtocolError;

/// A frame opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: a text message (or its first fragment).
    Text,
    /// 0x2: a binary message (or its first fragment).
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// The opcode for `bits`, or the reserved-opcode error.
    pub fn from_bits(bits: u8) -> Result<Self, ProtocolError> {
        Ok(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xa => Self::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }

    /// The four opcode bits.
    pub fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xa,
        }
    }

    /// Whether this is a control opcode (close, ping, pong).
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: the last frame of a message.
    pub fin: bool,
    /// RSV1 (permessage-deflate's "compressed" bit).
    pub rsv1: bool,
    /// RSV2.
    pub rsv2: bool,
    /// RSV3.
    pub rsv3: bool,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

/// The largest possible header: 2 + 8 length bytes + 4 mask bytes.
pub const MAX_HEADER_LEN: usize = 14;

impl FrameHeader {
    /// Parses a header from the start of `buf`. Returns the header and its
    /// length in bytes, or `None` if `buf` does not hold a whole header yet.
    /// Only framing-level rules are checked here (opcode, 64-bit length);
    /// role, extension and control-frame rules are the decoder's.
    pub fn parse(buf: &[u8]) -> Result<Option<(Self, usize)>, ProtocolError> {
        let [b0, b1, rest @ ..] = buf else {
            return Ok(None);
        };
        let opcode = OpCode::from_bits(b0 & 0x0f)?;
        let masked = b1 & 0x80 != 0;
        let (payload_len, len_bytes) = match b1 & 0x7f {
            126 => match rest {
                [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 2),
                _ => return Ok(None),
            },
            127 => match rest.first_chunk::<8>() {
                Some(bytes) => {
                    let len = u64::from_be_bytes(*bytes);
                    if len >> 63 != 0 {
                        return Err(ProtocolError::InvalidLength);
                    }
                    (len, 8)
                }
                None => return Ok(None),
            },
            n => (u64::from(n), 0),
        };
        let mut header_len = 2 + len_bytes;
        let mask = if masked {
            let Some(key) = rest[len_bytes..].first_chunk::<4>() else {
                return Ok(None);
            };
            header_len += 4;
            Some(*key)
        } else {
            None
        };
        Ok(Some((
            Self {
                fin: b0 & 0x80 != 0,
                rsv1: b0 & 0x40 != 0,
                rsv2: b0 & 0x20 != 0,
                rsv3: b0 & 0x10 != 0,
                opcode,
                mask,
                payload_len,
            },
            header_len,
        )))
    }

    /// The encoded length of this header.
    pub fn len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xffff => 2,
            _ => 8,
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Always false: a header has at least two bytes.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the encoded header to `out`, using the shortest length form.
    pub fn encode(&self, out: &mut BytesMut) {
        let b0 = u8::from(self.fin) << 7
            | u8::from(self.rsv1) << 6
            | u8::from(self.rsv2) << 5
            | u8::from(self.rsv3) << 4
            | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        out.reserve(self.len());
        out.put_u8(b0);
        match self.payload_len {
            // The match arm bounds the casts.
            n @ 0..=125 => out.put_u8(mask_bit | n as u8),
            n @ 126..=0xffff => {
                out.put_u8(mask_bit | 126);
                out.put_u16(n as u16);
            }
            n => {
                out.put_u8(mask_bit | 127);
                out.put_u64(n);
            }
        }
        if let Some(key) = self.mask {
            out.put_slice(&key);
        }
    }
}

/// Encodes a complete unmasked (server) frame with the given opcode and
/// payload into one buffer: the shape a broadcast shares between all its
/// receivers. Control-frame length rules are the caller's.
///
/// ```
/// use sockio_ws::frame::{encode_server_frame, OpCode};
/// let frame = encode_server_frame(OpCode::Text, b"Hello");
/// assert_eq!(&frame[..], &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
/// ```
pub fn encode_server_frame(opcode: OpCode, payload: &[u8]) -> Bytes {
    let header = FrameHeader {
        fin: true,
        rsv1: false,
        rsv2: false,
        rsv3: false,
        opcode,
        mask: None,
        payload_len: payload.len() as u64,
    };
    let mut out = BytesMut::with_capacity(header.len() + payload.len());
    header.encode(&mut out);
    out.put_slice(payload);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_shortest_form() {
        for (len, header_len) in [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let h = FrameHeader {
                fin: true,
                rsv1: false,
                rsv2: false,
                rsv3: false,
                opcode: OpCode::Binary,
                mask: None,
                payload_len: len,
            };
            let mut out = BytesMut::new();
            h.encode(&mut out);
            assert_eq!(out.len(), header_len);
            assert_eq!(FrameHeader::parse(&out).unwrap(), Some((h, header_len)));
        }
    }

    #[test]
    fn partial_headers_wait() {
        let full = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..full.len() {
            assert_eq!(FrameHeader::parse(&full[..cut]).unwrap(), None, "cut {cut}");
        }
        let (h, n) = FrameHeader::parse(&full).unwrap().unwrap();
        assert_eq!((h.payload_len, n, h.mask), (65536, 14, Some([1, 2, 3, 4])));
    }

    #[test]
    fn rejects_reserved_opcodes_and_huge_lengths() {
        for op in [3u8, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
        let huge = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::parse(&huge), Err(ProtocolError::InvalidLength));
    }
}
