//! Socket.IO packets, their arguments, and their text encoding.

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::binary;
use super::error::{DataError, JsonError};
use super::json::{self, JsonKind, Options, Tok, analyze};
use super::raw::RawJson;
use super::shape::{self, Shape};
use crate::engine::Str;

/// The seven Socket.IO packet types, with their numbers on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum PacketKind {
    /// `0`: connect to a namespace (client, with optional auth data), or
    /// the server's acceptance (with the socket id).
    Connect = 0,
    /// `1`: leave a namespace.
    Disconnect = 1,
    /// `2`: an event, with its name and arguments.
    Event = 2,
    /// `3`: the answer to an event that asked for one.
    Ack = 3,
    /// `4`: the server refuses a connection to a namespace.
    ConnectError = 4,
    /// `5`: an event with binary attachments.
    BinaryEvent = 5,
    /// `6`: an answer with binary attachments.
    BinaryAck = 6,
}

impl PacketKind {
    /// The type for its number, if there is one.
    pub fn from_u8(n: u8) -> Option<Self> {
        Some(match n {
            0 => Self::Connect,
            1 => Self::Disconnect,
            2 => Self::Event,
            3 => Self::Ack,
            4 => Self::ConnectError,
            5 => Self::BinaryEvent,
            6 => Self::BinaryAck,
            _ => return None,
        })
    }

    /// The number on the wire.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Whether this is `BinaryEvent` or `BinaryAck`.
    pub fn is_binary(self) -> bool {
        matches!(self, Self::BinaryEvent | Self::BinaryAck)
    }

    /// Whether this is `Event` or `BinaryEvent`.
    pub fn is_event(self) -> bool {
        matches!(self, Self::Event | Self::BinaryEvent)
    }

    /// Whether this is `Ack` or `BinaryAck`.
    pub fn is_ack(self) -> bool {
        matches!(self, Self::Ack | Self::BinaryAck)
    }

    /// The binary form of an event or ack, the type itself otherwise.
    pub(crate) fn to_binary(self) -> Self {
        match self {
            Self::Event => Self::BinaryEvent,
            Self::Ack => Self::BinaryAck,
            other => other,
        }
    }

    /// The plain form of a binary event or ack, the type itself otherwise.
    pub(crate) fn to_plain(self) -> Self {
        match self {
            Self::BinaryEvent => Self::Event,
            Self::BinaryAck => Self::Ack,
            other => other,
        }
    }
}

/// The main namespace.
pub(crate) const MAIN_NSP: Str = Str::from_static("/");

/// A Socket.IO packet.
///
/// Build one with the constructors ([`Packet::event`], [`Packet::ack`],
/// [`Packet::connect`], ...), which keep type and data consistent; the
/// fields are public for matching and for taking a decoded packet apart.
/// The encoders write whatever the fields hold: a namespace must start
/// with `/` and hold no `,`, and the data must be what the type carries
/// (see [`Data`]), or the peer will refuse the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet type. The encoders send an event or ack as
    /// `BinaryEvent` / `BinaryAck` when its arguments carry attachments, as
    /// `Event` / `Ack` otherwise, whichever of the two this says.
    pub kind: PacketKind,
    /// The namespace, `/` for the main one.
    pub nsp: Str,
    /// The acknowledgement id: on an event, asks the receiver to answer
    /// with an ack of the same id; on an ack, the event it answers.
    pub id: Option<u64>,
    /// The payload.
    pub data: Data,
}

/// The payload of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// No payload: `Disconnect`, and `Connect` without auth data.
    None,
    /// One JSON value: the object of a `Connect`, the object or string of
    /// a `ConnectError`.
    Value(RawJson),
    /// The array of an event (its name first) or an ack, with binary
    /// attachments.
    Args(Args),
}

impl Packet {
    fn new(kind: PacketKind, nsp: impl Into<Str>, data: Data) -> Self {
        Self {
            kind,
            nsp: nsp.into(),
            id: None,
            data,
        }
    }

    /// A CONNECT from a client, with optional auth data (a JSON object).
    pub fn connect(nsp: impl Into<Str>, auth: Option<RawJson>) -> Self {
        Self::new(
            PacketKind::Connect,
            nsp,
            auth.map_or(Data::None, Data::Value),
        )
    }

    /// A CONNECT from a client that asks to recover its session: `pid`
    /// and `offset` first, then the keys of `auth` (an object), as
    /// socket.io-client sends them.
    pub fn connect_with_recovery(
        nsp: impl Into<Str>,
        auth: Option<&RawJson>,
        pid: &str,
        offset: &str,
    ) -> Self {
        let mut out = BytesMut::new();
        out.put_slice(b"{\"pid\":");
        json::write_string(&mut out, pid);
        out.put_slice(b",\"offset\":");
        json::write_string(&mut out, offset);
        if let Some(auth) = auth.filter(|a| a.kind() == JsonKind::Object) {
            let text = auth.as_str();
            let inner = text[1..text.len() - 1].trim_matches([' ', '\t', '\n', '\r']);
            if !inner.is_empty() {
                out.put_u8(b',');
                out.put_slice(inner.as_bytes());
            }
        }
        out.put_u8(b'}');
        Self::connect(nsp, Some(RawJson::from_validated(out.freeze())))
    }

    /// The server's CONNECT accepting a client: `{"sid":…}`, plus the
    /// private session id `pid` when connection state recovery is on.
    pub fn connect_ok(nsp: impl Into<Str>, sid: &str, pid: Option<&str>) -> Self {
        let mut out = BytesMut::new();
        out.put_slice(b"{\"sid\":");
        json::write_string(&mut out, sid);
        if let Some(pid) = pid {
            out.put_slice(b",\"pid\":");
            json::write_string(&mut out, pid);
        }
        out.put_u8(b'}');
        Self::connect(nsp, Some(RawJson::from_validated(out.freeze())))
    }

    /// A CONNECT_ERROR: `{"message":…}`, with `"data"` when given.
    pub fn connect_error(nsp: impl Into<Str>, message: &str, data: Option<&RawJson>) -> Self {
        let mut out = BytesMut::new();
        out.put_slice(b"{\"message\":");
        json::write_string(&mut out, message);
        if let Some(data) = data {
            out.put_slice(b",\"data\":");
            out.put_slice(data.as_bytes());
        }
        out.put_u8(b'}');
        Self::new(
            PacketKind::ConnectError,
            nsp,
            Data::Value(RawJson::from_validated(out.freeze())),
        )
    }

    /// A DISCONNECT.
    pub fn disconnect(nsp: impl Into<Str>) -> Self {
        Self::new(PacketKind::Disconnect, nsp, Data::None)
    }

    /// An EVENT (a BINARY_EVENT if `args` has attachments). The first
    /// argument is the event name: start from [`Args::event`].
    pub fn event(nsp: impl Into<Str>, args: Args) -> Self {
        let kind = if args.attachments.is_empty() {
            PacketKind::Event
        } else {
            PacketKind::BinaryEvent
        };
        Self::new(kind, nsp, Data::Args(args))
    }

    /// An ACK answering event `id` (a BINARY_ACK if `args` has
    /// attachments).
    pub fn ack(nsp: impl Into<Str>, id: u64, args: Args) -> Self {
        let kind = if args.attachments.is_empty() {
            PacketKind::Ack
        } else {
            PacketKind::BinaryAck
        };
        Self::new(kind, nsp, Data::Args(args)).with_id(id)
    }

    /// Sets the acknowledgement id (an event that asks for an answer).
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = Some(id);
        self
    }

    /// Whether this is an event (binary or not).
    pub fn is_event(&self) -> bool {
        self.kind.is_event()
    }

    /// Whether this is an ack (binary or not).
    pub fn is_ack(&self) -> bool {
        self.kind.is_ack()
    }

    /// The event name: the first argument, if it is a string.
    pub fn event_name(&self) -> Option<Cow<'_, str>> {
        if !self.is_event() {
            return None;
        }
        self.args()?.event_name()
    }

    /// The arguments of an event or ack.
    pub fn args(&self) -> Option<&Args> {
        match &self.data {
            Data::Args(args) => Some(args),
            _ => None,
        }
    }

    /// The arguments of an event or ack, to change them.
    pub fn args_mut(&mut self) -> Option<&mut Args> {
        match &mut self.data {
            Data::Args(args) => Some(args),
            _ => None,
        }
    }

    /// The single value of a CONNECT or CONNECT_ERROR.
    pub fn value(&self) -> Option<&RawJson> {
        match &self.data {
            Data::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Deserializes the single value of a CONNECT or CONNECT_ERROR.
    pub fn deserialize_value<'a, T: Deserialize<'a>>(&'a self) -> Result<T, DataError> {
        Ok(self.value().ok_or(DataError::NoData)?.deserialize()?)
    }

    /// The session a client asks to recover: the `pid` and `offset`
    /// strings of a CONNECT payload (connection state recovery). `None`
    /// when either is missing or not a string.
    pub fn recovery(&self) -> Option<Recovery> {
        if self.kind != PacketKind::Connect {
            return None;
        }
        let raw = self.value()?;
        let buf = raw.as_bytes();
        let mut lexer = json::Lexer::new(buf, super::DEFAULT_MAX_DEPTH);
        let mut depth = 0usize;
        let mut key: Option<Cow<'_, str>> = None;
        let (mut pid, mut offset) = (None, None);
        while let Ok(Some(token)) = lexer.next_token() {
            let text = &buf[token.start..token.end];
            match token.tok {
                Tok::ArrayStart | Tok::ObjectStart => {
                    depth += 1;
                    if depth > 1 {
                        key = None;
                    }
                }
                Tok::ArrayEnd | Tok::ObjectEnd => depth -= 1,
                Tok::Key { .. } if depth == 1 => {
                    key = Some(json::unescape(&text[1..text.len() - 1]));
                }
                Tok::Str { .. } if depth == 1 => {
                    let value = json::unescape(&text[1..text.len() - 1]).into_owned();
                    match key.take().as_deref() {
                        Some("pid") => pid = Some(value),
                        Some("offset") => offset = Some(value),
                        _ => {}
                    }
                }
                _ if depth == 1 => key = None,
                _ => {}
            }
        }
        Some(Recovery {
            pid: pid?,
            offset: offset?,
        })
    }

    /// Appends `offset` as a last string argument of an event, as the
    /// server does for connection state recovery (the client keeps the
    /// last string argument as its offset). Does nothing to other packets.
    pub fn append_offset(&mut self, offset: &str) {
        if self.is_event()
            && let Some(args) = self.args_mut()
        {
            args.push_string(offset);
        }
    }

    /// The type written on the wire: an event or ack is binary exactly
    /// when it has attachments (socket.io-parser 4.2.7 refuses a binary
    /// packet without any).
    pub(crate) fn wire_kind(&self) -> PacketKind {
        match &self.data {
            Data::Args(args) if !args.attachments.is_empty() => self.kind.to_binary(),
            _ => self.kind.to_plain(),
        }
    }

    /// The number of attachments.
    fn attachment_count(&self) -> usize {
        self.args().map_or(0, |a| a.attachments.len())
    }

    fn has_nsp_prefix(&self) -> bool {
        !self.nsp.is_empty() && self.nsp != "/"
    }

    /// The length of the text [`Packet::encode_text`] writes.
    pub fn text_len(&self) -> usize {
        let mut n = 1;
        if self.wire_kind().is_binary() {
            n += decimal_len(self.attachment_count() as u64) + 1;
        }
        if self.has_nsp_prefix() {
            n += self.nsp.len() + 1;
        }
        if let Some(id) = self.id {
            n += decimal_len(id);
        }
        n + match &self.data {
            Data::None => 0,
            Data::Value(v) => v.len(),
            Data::Args(args) => args.json_len(),
        }
    }

    /// Appends the text of the packet (the default parser's encoding):
    ///
    /// ```text
    /// <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
    /// ```
    ///
    /// The namespace only when it is not `/`; the attachments count only
    /// for binary packets. The attachments themselves follow as binary
    /// messages (see [`Packet::encode`]).
    pub fn encode_text(&self, out: &mut BytesMut) {
        out.reserve(self.text_len());
        let kind = self.wire_kind();
        out.put_u8(b'0' + kind.as_u8());
        if kind.is_binary() {
            put_decimal(out, self.attachment_count() as u64);
            out.put_u8(b'-');
        }
        if self.has_nsp_prefix() {
            out.put_slice(self.nsp.as_bytes());
            out.put_u8(b',');
        }
        if let Some(id) = self.id {
            put_decimal(out, id);
        }
        match &self.data {
            Data::None => {}
            Data::Value(v) => out.put_slice(v.as_bytes()),
            Data::Args(args) => args.write_json(out),
        }
    }

    /// Encodes the packet as the default parser does: the text message,
    /// and the attachments to send after it, one binary message each, in
    /// order (shared, not copied).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sockio_core::socket::{Args, Packet};
    ///
    /// let args = Args::event("baz").with_binary(Bytes::from_static(&[1, 2, 3, 4]));
    /// let (text, attachments) = Packet::event("/", args).encode();
    /// assert_eq!(text, r#"51-["baz",{"_placeholder":true,"num":0}]"#);
    /// assert_eq!(attachments, [Bytes::from_static(&[1, 2, 3, 4])]);
    /// ```
    pub fn encode(&self) -> (Str, Vec<Bytes>) {
        let text = match (&self.data, self.kind, self.id, self.has_nsp_prefix()) {
            (Data::None, PacketKind::Connect, None, false) => Str::from_static("0"),
            (Data::None, PacketKind::Disconnect, None, false) => Str::from_static("1"),
            _ => {
                let mut out = BytesMut::with_capacity(self.text_len());
                self.encode_text(&mut out);
                // ASCII digits and separators around UTF-8 parts.
                Str::from_validated(out.freeze())
            }
        };
        let attachments = self
            .args()
            .map(|a| a.attachments.clone())
            .unwrap_or_default();
        (text, attachments)
    }
}

/// What a client that asks to recover its session sent in its CONNECT
/// (see [`Packet::recovery`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Recovery {
    /// The private session id the server gave in its CONNECT reply.
    pub pid: String,
    /// The offset of the last packet the client received.
    pub offset: String,
}

/// The arguments of an event or ack, each kept as raw JSON, and the binary
/// attachments their placeholders refer to.
///
/// An event's first argument is its name. Binary data sits in the JSON as
/// placeholders, `{"_placeholder":true,"num":N}`, where `N` indexes
/// [`Args::attachments`].
///
/// ```
/// use bytes::Bytes;
/// use sockio_core::socket::Args;
///
/// let mut args = Args::event("upload");
/// args.push(&serde_json::json!({"name": "a.txt"}))?;
/// args.push_binary(Bytes::from_static(b"hello"));
/// assert_eq!(args.event_name().as_deref(), Some("upload"));
/// assert_eq!(args.get(2).unwrap(), r#"{"_placeholder":true,"num":0}"#);
/// assert_eq!(args.binary_arg(2), Some(&Bytes::from_static(b"hello")));
/// let (name, data): (String, Bytes) = (args.deserialize(0)?, args.deserialize(2)?);
/// assert_eq!((name.as_str(), &data[..]), ("upload", &b"hello"[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    pub(crate) args: Vec<RawJson>,
    pub(crate) attachments: Vec<Bytes>,
}

impl Args {
    /// No arguments (an ack without values).
    pub fn new() -> Self {
        Self::default()
    }

    /// The arguments of an event named `name`, to which its values are
    /// then added.
    pub fn event(name: &str) -> Self {
        Self {
            args: vec![RawJson::string(name)],
            attachments: Vec::new(),
        }
    }

    /// Arguments given as raw JSON, without attachments.
    pub fn from_raw(args: Vec<RawJson>) -> Self {
        Self {
            args,
            attachments: Vec::new(),
        }
    }

    /// Arguments and attachments; the placeholders in `args` must index
    /// `attachments`.
    pub fn from_parts(args: Vec<RawJson>, attachments: Vec<Bytes>) -> Self {
        Self { args, attachments }
    }

    /// The arguments and attachments.
    pub fn into_parts(self) -> (Vec<RawJson>, Vec<Bytes>) {
        (self.args, self.attachments)
    }

    /// The arguments a value stands for (see [`IntoArgs`](super::IntoArgs)): `()` none, a
    /// tuple one per element, any other value one; binary data anywhere
    /// in it (what `serialize_bytes` writes: `bytes::Bytes`, `serde_bytes`)
    /// becomes a placeholder and an attachment.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sockio_core::socket::Args;
    ///
    /// assert!(Args::from_value(&())?.is_empty());
    /// assert_eq!(Args::from_value(&vec![1, 2])?.len(), 1);
    /// let args = Args::from_value(&("hi", Bytes::from_static(b"ab")))?;
    /// assert_eq!(args.as_slice(), ["\"hi\"", r#"{"_placeholder":true,"num":0}"#]);
    /// # Ok::<(), sockio_core::socket::JsonError>(())
    /// ```
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<Self, JsonError> {
        let mut args = Self::new();
        args.extend_value(value)?;
        Ok(args)
    }

    /// Appends the arguments `value` stands for, as [`Args::from_value`].
    pub fn extend_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        match shape::of_value(value) {
            Shape::None => Ok(()),
            Shape::One => self.push(value),
            Shape::Many => {
                let mut text = Vec::new();
                binary::to_json_with_binary(value, &mut text, &mut self.attachments)
                    .map_err(JsonError::new)?;
                let text = Bytes::from(text);
                let opts = Options {
                    max_depth: usize::MAX,
                    split: true,
                    attachments: None,
                };
                match analyze(&text, &opts) {
                    Ok(a) if a.kind == JsonKind::Array => {
                        self.args.extend(
                            a.elements
                                .into_iter()
                                .map(|r| RawJson::from_validated(text.slice(r))),
                        );
                        Ok(())
                    }
                    // A tuple's Serialize that writes something else than
                    // a sequence: one argument, as it wrote it.
                    _ => {
                        self.args.push(RawJson::from_validated(text));
                        Ok(())
                    }
                }
            }
        }
    }

    /// Reads the arguments as `T` by the argument model (see [`IntoArgs`](super::IntoArgs)):
    /// `()` takes none (and ignores any), a tuple takes one argument per
    /// element, any other type the first argument (a missing one reads as
    /// `null`, so an `Option` is `None`). Arguments past those read are
    /// ignored, as JavaScript ignores extra arguments. Placeholders read as
    /// bytes, as in [`Args::deserialize`].
    ///
    /// ```
    /// use sockio_core::socket::Args;
    ///
    /// let args = Args::from_value(&(1, "two"))?;
    /// let (n, s): (u8, String) = args.parse()?;
    /// assert_eq!((n, s.as_str()), (1, "two"));
    /// assert_eq!(args.parse::<u8>()?, 1);
    /// assert_eq!(Args::new().parse::<Option<u8>>()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, DataError> {
        self.parse_from(0)
    }

    /// [`Args::parse`] of the arguments from `start` on: `parse_from(1)`
    /// reads an event's values after its name.
    pub fn parse_from<'a, T: Deserialize<'a>>(&'a self, start: usize) -> Result<T, DataError> {
        match shape::of_type::<T>() {
            Shape::None => {
                T::deserialize(serde::de::value::UnitDeserializer::<serde_json::Error>::new())
                    .map_err(|e| DataError::Json(JsonError::new(e)))
            }
            Shape::Many => self.deserialize_from(start.min(self.args.len())),
            Shape::One => match self.args.get(start) {
                Some(_) => self.deserialize(start),
                None => T::deserialize(serde_json::Value::Null)
                    .map_err(|_| DataError::NoArgument(start)),
            },
        }
    }

    /// Appends `value` serialized by serde_json. Binary data in it (what
    /// `serialize_bytes` writes: `bytes::Bytes`, `serde_bytes`) becomes a
    /// placeholder and a copy of the bytes is attached, at any depth. For
    /// `Bytes` you have at hand, [`Args::push_binary`] attaches without
    /// copying.
    pub fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonError> {
        let mut text = Vec::new();
        binary::to_json_with_binary(value, &mut text, &mut self.attachments)
            .map_err(JsonError::new)?;
        // serde_json writes one valid value with no whitespace around it.
        self.args.push(RawJson::from_validated(Bytes::from(text)));
        Ok(())
    }

    /// Appends a raw JSON argument (its placeholders, if any, must index
    /// [`Args::attachments`]).
    pub fn push_raw(&mut self, value: RawJson) {
        self.args.push(value);
    }

    /// Appends a JSON string argument.
    pub fn push_string(&mut self, s: &str) {
        self.args.push(RawJson::string(s));
    }

    /// Appends binary data as an argument: a placeholder, and `data` as the
    /// next attachment (not copied).
    pub fn push_binary(&mut self, data: Bytes) {
        let num = self.attachments.len();
        self.attachments.push(data);
        self.args.push(RawJson::from_validated(Bytes::from(format!(
            "{{\"_placeholder\":true,\"num\":{num}}}"
        ))));
    }

    /// [`Args::push`], by value.
    pub fn with<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Self, JsonError> {
        self.push(value)?;
        Ok(self)
    }

    /// [`Args::push_raw`], by value.
    pub fn with_raw(mut self, value: RawJson) -> Self {
        self.push_raw(value);
        self
    }

    /// [`Args::push_string`], by value.
    pub fn with_string(mut self, s: &str) -> Self {
        self.push_string(s);
        self
    }

    /// [`Args::push_binary`], by value.
    pub fn with_binary(mut self, data: Bytes) -> Self {
        self.push_binary(data);
        self
    }

    /// The number of arguments (an event's name included).
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether there is no argument.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// The argument at `index`.
    pub fn get(&self, index: usize) -> Option<&RawJson> {
        self.args.get(index)
    }

    /// The arguments.
    pub fn as_slice(&self) -> &[RawJson] {
        &self.args
    }

    /// The arguments, to reorder or drop some (placeholders keep their
    /// numbers).
    pub fn as_mut_vec(&mut self) -> &mut Vec<RawJson> {
        &mut self.args
    }

    /// The arguments in order.
    pub fn iter(&self) -> std::slice::Iter<'_, RawJson> {
        self.args.iter()
    }

    /// The first argument as a string: an event's name.
    pub fn event_name(&self) -> Option<Cow<'_, str>> {
        self.args.first()?.as_string()
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// The attachment a placeholder with this `num` refers to.
    pub fn attachment(&self, num: usize) -> Option<&Bytes> {
        self.attachments.get(num)
    }

    /// The bytes of argument `index`, if that argument is a placeholder.
    pub fn binary_arg(&self, index: usize) -> Option<&Bytes> {
        self.attachments.get(self.args.get(index)?.placeholder()?)
    }

    /// Deserializes argument `index`. In a packet with attachments,
    /// placeholders deserialize as bytes (`bytes::Bytes`, `Vec<u8>` via
    /// `serde_bytes`), at any depth; strings are then copied, not
    /// borrowed.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self, index: usize) -> Result<T, DataError> {
        let raw = self.args.get(index).ok_or(DataError::NoArgument(index))?;
        binary::from_json_with_binary(raw, &self.attachments)
            .map_err(|e| DataError::Json(JsonError::new(e)))
    }

    /// Deserializes the arguments from `start` on as one sequence (a
    /// tuple, a `Vec`, a tuple struct): `deserialize_from(1)` reads an
    /// event's values after its name. Placeholders as in
    /// [`Args::deserialize`].
    pub fn deserialize_from<'a, T: Deserialize<'a>>(
        &'a self,
        start: usize,
    ) -> Result<T, DataError> {
        let args = self.args.get(start..).ok_or(DataError::NoArgument(start))?;
        binary::seq_with_binary(args, &self.attachments)
            .map_err(|e| DataError::Json(JsonError::new(e)))
    }

    /// The length of the JSON array of the arguments.
    pub(crate) fn json_len(&self) -> usize {
        2 + self.args.iter().map(RawJson::len).sum::<usize>() + self.args.len().saturating_sub(1)
    }

    /// Appends the JSON array of the arguments.
    pub(crate) fn write_json(&self, out: &mut BytesMut) {
        out.put_u8(b'[');
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                out.put_u8(b',');
            }
            out.put_slice(arg.as_bytes());
        }
        out.put_u8(b']');
    }
}

impl<'a> IntoIterator for &'a Args {
    type Item = &'a RawJson;
    type IntoIter = std::slice::Iter<'a, RawJson>;
    fn into_iter(self) -> Self::IntoIter {
        self.args.iter()
    }
}

/// The number of decimal digits of `n`.
fn decimal_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Appends `n` in decimal.
fn put_decimal(out: &mut BytesMut, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&buf[i..]);
}

/// Encodes `packet` with the default parser: see [`Packet::encode`].
pub fn encode(packet: &Packet) -> (Str, Vec<Bytes>) {
    packet.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &'static str) -> RawJson {
        RawJson::try_from(s).unwrap()
    }

    fn text(p: &Packet) -> String {
        let (t, _) = p.encode();
        assert_eq!(t.len(), p.text_len(), "{p:?}");
        t.as_str().to_owned()
    }

    #[test]
    fn decimal() {
        for n in [0, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut out = BytesMut::new();
            put_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
            assert_eq!(decimal_len(n), out.len());
        }
    }

    #[test]
    fn encodes_as_the_reference() {
        let cases = [
            (Packet::connect("/", None), "0"),
            (
                Packet::connect("/admin", Some(raw(r#"{"token":"x"}"#))),
                r#"0/admin,{"token":"x"}"#,
            ),
            (
                Packet::connect("/", Some(raw(r#"{"token":"x"}"#))),
                r#"0{"token":"x"}"#,
            ),
            (Packet::disconnect("/"), "1"),
            (Packet::disconnect("/admin"), "1/admin,"),
            (
                Packet::event("/", Args::event("hello").with(&1).unwrap()),
                r#"2["hello",1]"#,
            ),
            (
                Packet::event("/admin", Args::event("x")),
                r#"2/admin,["x"]"#,
            ),
            (
                Packet::event("/", Args::event("ack me")).with_id(1),
                r#"21["ack me"]"#,
            ),
            (
                Packet::ack("/admin", 5, Args::new().with_string("y")),
                r#"3/admin,5["y"]"#,
            ),
            (Packet::ack("/", 5, Args::new()), "35[]"),
            (
                Packet::connect_error("/", "Not authorized", Some(&raw(r#"{"code":1}"#))),
                r#"4{"message":"Not authorized","data":{"code":1}}"#,
            ),
            (
                Packet::connect_error("/", "x\"y", None),
                r#"4{"message":"x\"y"}"#,
            ),
            (Packet::connect_ok("/", "abc", None), r#"0{"sid":"abc"}"#),
            (
                Packet::connect_ok("/", "abc", Some("p")),
                r#"0{"sid":"abc","pid":"p"}"#,
            ),
            // An empty namespace is the main one, as `obj.nsp &&` has it.
            (Packet::disconnect(""), "1"),
        ];
        for (packet, wire) in cases {
            assert_eq!(text(&packet), wire);
        }
    }

    #[test]
    fn argument_model_both_ways() {
        use crate::socket::IntoArgs;
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Msg {
            text: String,
            blob: Bytes,
        }
        let msg = Msg {
            text: "hi".into(),
            blob: Bytes::from_static(b"\x00\x01"),
        };
        // One value: one argument, its bytes an attachment.
        let one = (&msg).into_event_args("m").unwrap();
        assert_eq!(one.len(), 2);
        assert_eq!(one.attachments(), [Bytes::from_static(b"\x00\x01")]);
        assert_eq!(one.parse_from::<Msg>(1).unwrap(), msg);
        // A tuple: one argument each, binary at the top level too.
        let many = (1, Bytes::from_static(b"b"), "c")
            .into_event_args("m")
            .unwrap();
        let (wire, _) = Packet::event("/", many.clone()).encode();
        assert_eq!(&*wire, r#"51-["m",1,{"_placeholder":true,"num":0},"c"]"#);
        let (n, b, c): (u8, Bytes, String) = many.parse_from(1).unwrap();
        assert_eq!((n, &b[..], c.as_str()), (1, &b"b"[..], "c"));
        // The first of several, when one is asked for.
        assert_eq!(many.parse_from::<u8>(1).unwrap(), 1);
        // Unit: none sent, any ignored.
        assert_eq!(().into_event_args("m").unwrap().len(), 1);
        many.parse_from::<()>(1).unwrap();
        // Missing: null for an Option, an error naming the index otherwise.
        let bare = Args::event("m");
        assert_eq!(bare.parse_from::<Option<u8>>(1).unwrap(), None);
        assert!(matches!(
            bare.parse_from::<u8>(1),
            Err(DataError::NoArgument(1))
        ));
        assert!(bare.parse_from::<(u8, u8)>(1).is_err());
        // A wrong shape is an error, not a panic.
        assert!(matches!(many.parse_from::<Msg>(1), Err(DataError::Json(_))));
    }

    #[test]
    fn binary_kind_follows_the_attachments() {
        let args = Args::event("bin").with_binary(Bytes::from_static(b"\x01"));
        let mut p = Packet::event("/", args);
        assert_eq!(p.kind, PacketKind::BinaryEvent);
        assert_eq!(text(&p), r#"51-["bin",{"_placeholder":true,"num":0}]"#);
        // A plain kind with attachments is sent as binary anyway.
        p.kind = PacketKind::Event;
        assert_eq!(text(&p), r#"51-["bin",{"_placeholder":true,"num":0}]"#);
        let ack = Packet::ack("/admin", 15, Args::new().with_binary(Bytes::new()));
        assert_eq!(ack.kind, PacketKind::BinaryAck);
        assert_eq!(text(&ack), r#"61-/admin,15[{"_placeholder":true,"num":0}]"#);
        // A binary kind without attachments is sent plain.
        let zero = Packet {
            kind: PacketKind::BinaryEvent,
            ..Packet::event("/", Args::event("x"))
        };
        assert_eq!(text(&zero), r#"2["x"]"#);
    }

    #[test]
    fn recovery_fields() {
        let auth = raw(r#"{ "token" : "t" }"#);
        let p = Packet::connect_with_recovery("/", Some(&auth), "pid1", "off1");
        assert_eq!(text(&p), r#"0{"pid":"pid1","offset":"off1","token" : "t"}"#);
        assert_eq!(
            p.recovery(),
            Some(Recovery {
                pid: "pid1".into(),
                offset: "off1".into()
            })
        );
        let bare = Packet::connect_with_recovery("/", Some(&raw("{ }")), "a", "b");
        assert_eq!(text(&bare), r#"0{"pid":"a","offset":"b"}"#);
        for (payload, expected) in [
            (r#"{"pid":"a"}"#, None),
            (r#"{"pid":"a","offset":1}"#, None),
            (r#"{"x":{"pid":"a","offset":"b"}}"#, None),
            (
                r#"{"x":[1,{"pid":"a"}],"pid":"b","offset":"c"}"#,
                Some(("b", "c")),
            ),
            (r#"{"p\u0069d":"a","offset":"b\n"}"#, Some(("a", "b\n"))),
        ] {
            let p = Packet::connect("/", Some(RawJson::try_from(payload).unwrap()));
            let got = p.recovery();
            assert_eq!(
                got.as_ref().map(|r| (r.pid.as_str(), r.offset.as_str())),
                expected,
                "{payload}"
            );
        }
        assert_eq!(Packet::disconnect("/").recovery(), None);
    }

    #[test]
    fn offset_is_the_last_argument() {
        let mut p = Packet::event("/", Args::event("m").with(&1).unwrap());
        p.append_offset("1700000000000-42");
        assert_eq!(text(&p), r#"2["m",1,"1700000000000-42"]"#);
        let mut ack = Packet::ack("/", 1, Args::new());
        ack.append_offset("x");
        assert_eq!(text(&ack), "31[]");
    }

    #[test]
    fn args_from_serialize() {
        let args = Args::from_value(&("hi", Bytes::from_static(b"ab"), [1, 2])).unwrap();
        assert_eq!(args.len(), 3);
        assert_eq!(args.get(1).unwrap(), r#"{"_placeholder":true,"num":0}"#);
        assert_eq!(args.binary_arg(1), Some(&Bytes::from_static(b"ab")));
        let single = Args::from_value(&"alone").unwrap();
        assert_eq!(single.as_slice(), [raw(r#""alone""#)]);
        let (s, b, v): (String, Bytes, Vec<u8>) = args.deserialize_from(0).unwrap();
        assert_eq!((s.as_str(), &b[..], v), ("hi", &b"ab"[..], vec![1, 2]));
        let rest: (Bytes, [u8; 2]) = args.deserialize_from(1).unwrap();
        assert_eq!(rest.1, [1, 2]);
        assert!(matches!(
            args.deserialize::<u8>(9),
            Err(DataError::NoArgument(9))
        ));
        assert!(matches!(
            args.deserialize_from::<()>(4),
            Err(DataError::NoArgument(4))
        ));
        assert!(matches!(args.deserialize::<u8>(0), Err(DataError::Json(_))));
    }

    #[test]
    fn args_borrow_without_attachments() {
        let args = Args::from_raw(vec![raw(r#""name""#), raw(r#"{"k":"v"}"#)]);
        let name: &str = args.deserialize(0).unwrap();
        assert_eq!(name, "name");
        #[derive(Deserialize)]
        struct K<'a> {
            k: &'a str,
        }
        let (k,): (K<'_>,) = args.deserialize_from(1).unwrap();
        assert_eq!(k.k, "v");
    }
}
