//! The sending half of the protocol, sans-IO: messages in, frame bytes out.

use bytes::{BufMut, Bytes, BytesMut};

use crate::close::CloseFrame;
use crate::deflate::{DeflateParams, Deflater};
use crate::frame::{FrameHeader, OpCode};
use crate::mask::apply_mask;
use crate::message::Message;
use crate::{Config, Role};

/// Bytes of masking keys drawn from the OS RNG at once.
const KEY_POOL: usize = 1024;

/// Masking keys for a client, drawn from the OS RNG in batches so that
/// each frame costs no system call. The pool is allocated on first use:
/// a server's encoders never mask, and 1 KiB inline was a third of each
/// server connection's writer task.
#[derive(Debug)]
struct MaskKeys {
    pool: Option<Box<[u8; KEY_POOL]>>,
    used: usize,
}

impl MaskKeys {
    fn new() -> Self {
        Self {
            pool: None,
            used: KEY_POOL,
        }
    }

    fn next(&mut self) -> [u8; 4] {
        let pool = self.pool.get_or_insert_with(|| Box::new([0; KEY_POOL]));
        if self.used == KEY_POOL {
            if getrandom::fill(&mut pool[..]).is_err() {
                // The OS RNG failing is not something a connection can
                // recover from; fall back to a key that still masks, from
                // the address and time, rather than panicking.
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                for (i, b) in pool.iter_mut().enumerate() {
                    *b = (t >> (i % 4 * 8)) as u8 ^ i as u8;
                }
            }
            self.used = 0;
        }
        let key = [
            pool[self.used],
            pool[self.used + 1],
            pool[self.used + 2],
            pool[self.used + 3],
        ];
        self.used += 4;
        key
    }
}

/// Payloads at least this long are written from their own buffer rather
/// than copied behind the frame header.
const ZERO_COPY_MIN: usize = 4096;

/// Payloads shorter than this have a two-byte server frame header (FIN,
/// the opcode, the length), which [`SMALL_HEADERS`] holds for text and for
/// binary.
const SMALL_PAYLOAD: usize = 126;

/// The header of every unmasked, uncompressed, final text frame (the first
/// 126) and binary frame (the next 126) with a payload shorter than
/// [`SMALL_PAYLOAD`].
static SMALL_HEADERS: [[u8; 2]; 2 * SMALL_PAYLOAD] = {
    let mut table = [[0u8; 2]; 2 * SMALL_PAYLOAD];
    let mut len = 0;
    while len < SMALL_PAYLOAD {
        table[len] = [0x81, len as u8];
        table[SMALL_PAYLOAD + len] = [0x82, len as u8];
        len += 1;
    }
    table
};

/// Encodes the frames sent by one endpoint: masking for a client,
/// compression when negotiated.
#[derive(Debug)]
pub struct Encoder {
    role: Role,
    deflater: Option<Deflater>,
    threshold: usize,
    keys: MaskKeys,
}

impl Encoder {
    /// An encoder for an endpoint playing `role`, compressing with the
    /// negotiated `deflate` parameters (if any) and `config`'s level and
    /// threshold.
    pub fn new(role: Role, config: &Config, deflate: Option<DeflateParams>) -> Self {
        let deflater = deflate.map(|p| match role {
            Role::Server => Deflater::new(
                config.deflate.level,
                p.server_max_window_bits,
                p.server_no_context_takeover,
            ),
            Role::Client => Deflater::new(
                config.deflate.level,
                p.client_max_window_bits,
                p.client_no_context_takeover,
            ),
        });
        Self {
            role,
            deflater,
            threshold: config.deflate.threshold,
            keys: MaskKeys::new(),
        }
    }

    /// The role this encoder plays.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Appends `msg` as one frame to `out`. Data messages at or over the
    /// threshold are compressed when deflate was negotiated; control
    /// payloads over 125 bytes are cut to 125 (a close reason is already
    /// bounded by [`CloseFrame::new`]).
    pub fn encode(&mut self, msg: &Message, out: &mut BytesMut) {
        self.encode_with(msg, true, out);
    }

    /// Like [`Encoder::encode`], but a data message is never compressed:
    /// RFC 7692 lets the sender choose per message, and an uncompressed
    /// one goes out with RSV1 clear (the deflate context, if taken over,
    /// is left as it was).
    pub fn encode_uncompressed(&mut self, msg: &Message, out: &mut BytesMut) {
        self.encode_with(msg, false, out);
    }

    fn encode_with(&mut self, msg: &Message, compress: bool, out: &mut BytesMut) {
        match msg {
            Message::Text(t) => self.encode_data(OpCode::Text, t.as_bytes(), compress, out),
            Message::Binary(b) => self.encode_data(OpCode::Binary, b, compress, out),
            Message::Ping(p) => {
                self.encode_frame(OpCode::Ping, true, false, &p[..p.len().min(125)], out);
            }
            Message::Pong(p) => {
                self.encode_frame(OpCode::Pong, true, false, &p[..p.len().min(125)], out);
            }
            Message::Close(frame) => {
                let payload = frame.as_ref().map(CloseFrame::payload).unwrap_or_default();
                self.encode_frame(OpCode::Close, true, false, &payload, out);
            }
        }
    }

    fn encode_data(&mut self, opcode: OpCode, payload: &[u8], compress: bool, out: &mut BytesMut) {
        match &mut self.deflater {
            Some(d) if compress && payload.len() >= self.threshold => {
                let mut compressed = BytesMut::with_capacity(payload.len() / 2 + 16);
                d.compress(payload, &mut compressed);
                self.encode_frame(opcode, true, true, &compressed, out);
            }
            _ => self.encode_frame(opcode, true, false, payload, out),
        }
    }

    /// Like [`Encoder::encode`], but for a large uncompressed server
    /// message appends only the frame header to `out` and returns the
    /// payload, to be written after it without copying (a vectored write
    /// sends both).
    pub fn encode_zero_copy(&mut self, msg: &Message, out: &mut BytesMut) -> Option<Bytes> {
        self.encode_zero_copy_with(msg, true, out)
    }

    /// Whether a data payload of `len` bytes is compressed: asked for,
    /// deflate negotiated, and at least the threshold.
    fn compresses(&self, compress: bool, len: usize) -> bool {
        compress && self.deflater.is_some() && len >= self.threshold
    }

    /// A server's frame for a short text or binary message it sends
    /// uncompressed, as a static header and the message's own payload:
    /// nothing is allocated or copied (a reply or an event of a chat is
    /// usually this short). `None` for anything else.
    pub(crate) fn small_frame(&self, msg: &Message, compress: bool) -> Option<[Bytes; 2]> {
        if self.role != Role::Server {
            return None;
        }
        let (payload, base) = match msg {
            Message::Text(t) => (t.as_bytes(), 0),
            Message::Binary(b) => (b, SMALL_PAYLOAD),
            _ => return None,
        };
        let len = payload.len();
        if len >= SMALL_PAYLOAD || self.compresses(compress, len) {
            return None;
        }
        let header = Bytes::from_static(&SMALL_HEADERS[base + len]);
        Some([header, payload.clone()])
    }

    /// [`Encoder::encode_zero_copy`], compressing only if `compress` (see
    /// [`Encoder::encode_uncompressed`]).
    pub(crate) fn encode_zero_copy_with(
        &mut self,
        msg: &Message,
        compress: bool,
        out: &mut BytesMut,
    ) -> Option<Bytes> {
        let payload = match msg {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
            _ => {
                self.encode(msg, out);
                return None;
            }
        };
        let compress = self.compresses(compress, payload.len());
        if self.role == Role::Client || compress || payload.len() < ZERO_COPY_MIN {
            self.encode_with(msg, compress, out);
            return None;
        }
        let opcode = if matches!(msg, Message::Text(_)) {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload_len: payload.len() as u64,
        }
        .encode(out);
        Some(payload.clone())
    }

    /// Appends a data message as frames of at most `fragment` payload
    /// bytes (compressed first when negotiated and over the threshold;
    /// only the first frame carries RSV1). Control messages are never
    /// fragmented and go through [`Encoder::encode`].
    pub fn encode_fragmented(&mut self, msg: &Message, fragment: usize, out: &mut BytesMut) {
        let (opcode, payload) = match msg {
            Message::Text(t) => (OpCode::Text, t.as_bytes()),
            Message::Binary(b) => (OpCode::Binary, b),
            control => return self.encode(control, out),
        };
        let fragment = fragment.max(1);
        let mut compressed = BytesMut::new();
        let (payload, rsv1): (&[u8], bool) = match &mut self.deflater {
            Some(d) if payload.len() >= self.threshold => {
                d.compress(payload, &mut compressed);
                (&compressed, true)
            }
            _ => (payload, false),
        };
        let count = payload.len().div_ceil(fragment).max(1);
        for i in 0..count {
            let piece = &payload
                [(i * fragment).min(payload.len())..((i + 1) * fragment).min(payload.len())];
            let op = if i == 0 { opcode } else { OpCode::Continuation };
            self.encode_frame(op, i == count - 1, rsv1 && i == 0, piece, out);
        }
    }

    /// Appends one raw frame, masked if this is a client. `rsv1` marks a
    /// compressed payload (the caller compressed it). Use it to send a
    /// message in fragments: the first frame with the data opcode, the
    /// rest with [`OpCode::Continuation`], `fin` on the last.
    pub fn encode_frame(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv1: bool,
        payload: &[u8],
        out: &mut BytesMut,
    ) {
        let mask = match self.role {
            Role::Client => Some(self.keys.next()),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin,
            rsv1,
            rsv2: false,
            rsv3: false,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        out.reserve(header.len() + payload.len());
        header.encode(out);
        let start = out.len();
        out.put_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut out[start..], key, 0);
        }
    }

    /// Encodes `msg` into a buffer of its own.
    pub fn encode_to_bytes(&mut self, msg: &Message) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(msg, &mut out);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::DeflateParams;

    fn whole(msg: &Message, role: Role) -> BytesMut {
        let mut out = BytesMut::new();
        Encoder::new(role, &Config::default(), None).encode(msg, &mut out);
        out
    }

    #[test]
    fn small_frames_are_the_encoded_frames_without_a_copy() {
        let server = Encoder::new(Role::Server, &Config::default(), None);
        for len in 0..SMALL_PAYLOAD {
            let text = Message::text("x".repeat(len));
            let binary = Message::Binary(Bytes::from(vec![7u8; len]));
            for msg in [text, binary] {
                let [head, payload] = server.small_frame(&msg, true).expect("short");
                let mut joined = BytesMut::from(&head[..]);
                joined.extend_from_slice(&payload);
                assert_eq!(joined, whole(&msg, Role::Server), "{len}");
                // The payload is the message's own bytes.
                let own = match &msg {
                    Message::Text(t) => t.as_bytes().as_ptr(),
                    Message::Binary(b) => b.as_ptr(),
                    _ => unreachable!(),
                };
                assert!(len == 0 || payload.as_ptr() == own);
            }
        }
        let long = Message::text("x".repeat(SMALL_PAYLOAD));
        assert!(server.small_frame(&long, false).is_none());
        assert!(
            server
                .small_frame(&Message::Ping(Bytes::new()), false)
                .is_none()
        );
        let client = Encoder::new(Role::Client, &Config::default(), None);
        assert!(client.small_frame(&Message::text("hi"), false).is_none());
        // Compressed when asked and long enough: not a small frame.
        let params = DeflateParams::default();
        let mut config = Config::default();
        config.deflate.threshold = 4;
        let deflating = Encoder::new(Role::Server, &config, Some(params));
        assert!(
            deflating
                .small_frame(&Message::text("hello"), true)
                .is_none()
        );
        assert!(
            deflating
                .small_frame(&Message::text("hello"), false)
                .is_some()
        );
        assert!(deflating.small_frame(&Message::text("hi"), true).is_some());
    }
}
