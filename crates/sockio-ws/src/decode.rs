//! The receiving half of the protocol, sans-IO: bytes in, messages out.
//!
//! [`Decoder::decode`] takes bytes from the front of a buffer and returns
//! complete messages and control frames, checking every rule of RFC 6455
//! and RFC 7692 on the way. Payloads are unmasked, inflated and UTF-8
//! checked as they arrive, so a violation is reported as soon as its byte
//! is seen, and memory never exceeds the configured limits. A frame that
//! arrives whole and unfragmented is returned without copying its payload.

use bytes::{Bytes, BytesMut};

use crate::close::CloseFrame;
use crate::deflate::{DeflateParams, Inflater, max_compressed_len};
use crate::frame::{FrameHeader, OpCode};
use crate::mask::apply_mask;
use crate::message::{Message, Utf8Bytes};
use crate::utf8::Utf8Validator;
use crate::{Config, ProtocolError, Role};

/// The limits the decoder enforces, copied from [`Config`].
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_frame: usize,
    max_message: usize,
    max_decompressed: usize,
    max_fragments: usize,
}

/// A message being reassembled from fragments.
#[derive(Debug)]
struct Partial {
    text: bool,
    compressed: bool,
    /// The payload so far (inflated, when compressed).
    data: BytesMut,
    /// Bytes received on the wire for this message.
    wire_len: usize,
    fragments: usize,
}

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct Current {
    header: FrameHeader,
    /// Payload bytes not yet read.
    remaining: usize,
    /// Payload bytes already read (the mask offset).
    read: usize,
}

/// Decodes frames received by one endpoint.
#[derive(Debug)]
pub struct Decoder {
    role: Role,
    limits: Limits,
    inflater: Option<Inflater>,
    current: Option<Current>,
    partial: Option<Partial>,
    /// Payload of the control frame being read.
    control: BytesMut,
    utf8: Utf8Validator,
    failed: Option<ProtocolError>,
}

impl Decoder {
    /// A decoder for an endpoint playing `role`, with the limits of
    /// `config` and, if negotiated, permessage-deflate.
    pub fn new(role: Role, config: &Config, deflate: Option<DeflateParams>) -> Self {
        let inflater = deflate.map(|p| match role {
            // A server inflates what the client compressed.
            Role::Server => Inflater::new(p.client_max_window_bits, p.client_no_context_takeover),
            Role::Client => Inflater::new(p.server_max_window_bits, p.server_no_context_takeover),
        });
        Self {
            role,
            limits: Limits {
                max_frame: config.max_frame_size,
                max_message: config.max_message_size,
                max_decompressed: config.max_decompressed_size,
                max_fragments: config.max_fragments,
            },
            inflater,
            current: None,
            partial: None,
            control: BytesMut::new(),
            utf8: Utf8Validator::new(),
            failed: None,
        }
    }

    /// Decodes from the front of `buf`, consuming what it uses. Returns the
    /// next complete message or control frame, `Ok(None)` when more bytes
    /// are needed, or the first violation found. After an error the
    /// decoder keeps returning it: the connection must be closed with
    /// [`ProtocolError::close_code`].
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.decode_inner(buf);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    /// Whether a fragmented message is in progress.
    pub fn in_message(&self) -> bool {
        self.partial.is_some()
    }

    fn decode_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, ProtocolError> {
        loop {
            let current = match self.current {
                Some(c) => c,
                None => {
                    let Some((header, header_len)) = FrameHeader::parse(buf)? else {
                        return Ok(None);
                    };
                    self.check_header(&header)?;
                    // Checked against max_frame (a usize) above.
                    let len = header.payload_len as usize;
                    if self.partial.is_none()
                        && header.fin
                        && !header.rsv1
                        && !header.opcode.is_control()
                        && buf.len() >= header_len + len
                    {
                        // Fast path: a whole unfragmented frame is here.
                        let _ = buf.split_to(header_len);
                        let mut payload = buf.split_to(len);
                        if let Some(key) = header.mask {
                            apply_mask(&mut payload, key, 0);
                        }
                        return Ok(Some(self.simple_message(header.opcode, payload.freeze())?));
                    }
                    let _ = buf.split_to(header_len);
                    let c = Current {
                        header,
                        remaining: len,
                        read: 0,
                    };
                    self.start_frame(&header)?;
                    self.current = Some(c);
                    c
                }
            };
            let take = current.remaining.min(buf.len());
            if take == 0 && current.remaining > 0 {
                return Ok(None);
            }
            let mut chunk = buf.split_to(take);
            if let Some(key) = current.header.mask {
                apply_mask(&mut chunk, key, current.read);
            }
            let remaining = current.remaining - take;
            self.current = Some(Current {
                remaining,
                read: current.read + take,
                ..current
            });
            if current.header.opcode.is_control() {
                self.control.extend_from_slice(&chunk);
                if remaining == 0 {
                    self.current = None;
                    let payload = self.control.split().freeze();
                    return Ok(Some(control_message(current.header.opcode, payload)?));
                }
            } else {
                self.data_chunk(&chunk)?;
                if remaining == 0 {
                    self.current = None;
                    if current.header.fin {
                        return self.finish_message().map(Some);
                    }
                }
            }
        }
    }

    /// Rules that depend on the role, the extensions and the state.
    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if h.rsv2 || h.rsv3 {
            return Err(ProtocolError::ReservedBits);
        }
        if h.rsv1 && (self.inflater.is_none() || !matches!(h.opcode, OpCode::Text | OpCode::Binary))
        {
            return Err(ProtocolError::ReservedBits);
        }
        if h.opcode.is_control() {
            if h.payload_len > 125 {
                return Err(ProtocolError::ControlFrameTooLong(h.payload_len));
            }
            if !h.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            return Ok(());
        }
        match (h.opcode, &self.partial) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation);
            }
            _ => {}
        }
        // A compressed message may be a little larger on the wire than the
        // limits (incompressible data grows); its real size is bounded by
        // `max_decompressed` as it inflates.
        let compressed = h.rsv1 || self.partial.as_ref().is_some_and(|p| p.compressed);
        let allow = |limit: usize| {
            if compressed {
                max_compressed_len(limit)
            } else {
                limit
            }
        };
        if h.payload_len > allow(self.limits.max_frame) as u64 {
            return Err(ProtocolError::FrameTooLarge {
                len: h.payload_len,
                max: self.limits.max_frame,
            });
        }
        let so_far = self.partial.as_ref().map_or(0, |p| p.wire_len) as u64;
        if so_far + h.payload_len > allow(self.limits.max_message) as u64 {
            return Err(ProtocolError::MessageTooLarge {
                max: self.limits.max_message,
            });
        }
        Ok(())
    }

    /// Opens the message (first frame) or counts the fragment.
    fn start_frame(&mut self, h: &FrameHeader) -> Result<(), ProtocolError> {
        if h.opcode.is_control() {
            self.control.clear();
            return Ok(());
        }
        let len = h.payload_len as usize;
        match &mut self.partial {
            Some(p) => {
                p.fragments += 1;
                if p.fragments > self.limits.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        max: self.limits.max_fragments,
                    });
                }
                p.wire_len += len;
                if !p.compressed {
                    p.data.reserve(len);
                }
            }
            None => {
                self.utf8.reset();
                self.partial = Some(Partial {
                    text: h.opcode == OpCode::Text,
                    compressed: h.rsv1,
                    data: BytesMut::with_capacity(if h.rsv1 { 0 } else { len }),
                    wire_len: len,
                    fragments: 1,
                });
            }
        }
        Ok(())
    }

    /// Adds a piece of data-frame payload to the message in progress.
    fn data_chunk(&mut self, chunk: &[u8]) -> Result<(), ProtocolError> {
        let Some(p) = self.partial.as_mut() else {
            return Err(ProtocolError::UnexpectedContinuation);
        };
        let start = p.data.len();
        if p.compressed {
            let inflater = self.inflater.as_mut().ok_or(ProtocolError::ReservedBits)?;
            inflater.inflate(chunk, &mut p.data, self.limits.max_decompressed)?;
        } else {
            p.data.extend_from_slice(chunk);
        }
        if p.text {
            self.utf8
                .feed(&p.data[start..])
                .map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        Ok(())
    }

    /// Completes the message in progress.
    fn finish_message(&mut self) -> Result<Message, ProtocolError> {
        let Some(mut p) = self.partial.take() else {
            return Err(ProtocolError::UnexpectedContinuation);
        };
        if p.compressed {
            let start = p.data.len();
            let inflater = self.inflater.as_mut().ok_or(ProtocolError::ReservedBits)?;
            inflater.finish(&mut p.data, self.limits.max_decompressed)?;
            if p.text {
                self.utf8
                    .feed(&p.data[start..])
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
            }
        }
        let data = p.data.freeze();
        if p.text {
            self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(Message::Text(Utf8Bytes::from_validated(data)))
        } else {
            Ok(Message::Binary(data))
        }
    }

    /// A whole unfragmented, uncompressed data frame.
    fn simple_message(&mut self, opcode: OpCode, payload: Bytes) -> Result<Message, ProtocolError> {
        if opcode == OpCode::Text {
            simdutf8::basic::from_utf8(&payload).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(Message::Text(Utf8Bytes::from_validated(payload)))
        } else {
            Ok(Message::Binary(payload))
        }
    }
}

fn control_message(opcode: OpCode, payload: Bytes) -> Result<Message, ProtocolError> {
    Ok(match opcode {
        OpCode::Ping => Message::Ping(payload),
        OpCode::Pong => Message::Pong(payload),
        _ => Message::Close(CloseFrame::parse(&payload)?),
    })
}
