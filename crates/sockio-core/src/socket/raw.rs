//! [`RawJson`]: one JSON value kept as the text it was sent as.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::error::{InvalidJson, JsonError};
use super::json::{self, JsonKind, Options, analyze};
use crate::engine::Str;

/// The nesting depth [`RawJson`]'s constructors accept, and the default of
/// [`DecoderConfig::max_depth`](super::DecoderConfig::max_depth): serde_json's
/// recursion limit, so whatever is accepted can also be deserialized.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// One JSON value, as text: exactly the bytes a peer sent (key order,
/// number spelling, escapes and inner whitespace included), without the
/// whitespace around it.
///
/// A decoded packet's arguments are slices of the Engine.IO message they
/// arrived in, shared without copying; sending one on re-emits the same
/// bytes. Every constructor checks that the text is one JSON value, nested
/// at most [`DEFAULT_MAX_DEPTH`] deep.
///
/// ```
/// use sockio_core::socket::RawJson;
///
/// let raw: RawJson = r#" {"b":1.50,"a":[]} "#.parse()?;
/// assert_eq!(raw.as_str(), r#"{"b":1.50,"a":[]}"#);
///
/// #[derive(serde::Deserialize)]
/// struct Point { b: f64 }
/// assert_eq!(raw.deserialize::<Point>()?.b, 1.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Values from the msgpack parser
///
/// A value decoded by the msgpack parser also keeps the MessagePack it was
/// decoded from ([`RawJson::msgpack`]): a slice of the message, not a
/// copy (short values only when the JSON text would not give the same
/// bytes back). The msgpack encoder sends those bytes as they came, so a value
/// passed on from one msgpack peer to another keeps everything JSON has no
/// form for (`undefined`, NaN, ±Infinity, `Date`, `ArrayBuffer` as opposed
/// to `Buffer`, integer widths). The JSON text, what serde, the default
/// parser and every other method here see, is what `JSON.stringify` makes
/// of the value in JavaScript (see
/// [`decode_msgpack`](super::decode_msgpack) for the mapping). Comparing,
/// hashing and ordering look at the JSON text only.
#[derive(Clone)]
pub struct RawJson(Repr);

/// The text, and for a value the msgpack parser decoded its MessagePack
/// too, behind an `Arc`: `RawJson` stays the size of `Bytes` for text, the
/// default parser's path, the msgpack parser pays one allocation per value
/// that keeps its MessagePack, and a clone is one reference count either
/// way.
#[derive(Clone)]
enum Repr {
    Json(Str),
    Msgpack(Arc<FromMsgpack>),
}

struct FromMsgpack {
    text: Str,
    msgpack: Bytes,
}

impl RawJson {
    /// `null`.
    pub const NULL: Self = Self::from_static("null");
    /// `true`.
    pub const TRUE: Self = Self::from_static("true");
    /// `false`.
    pub const FALSE: Self = Self::from_static("false");
    /// `{}`.
    pub const EMPTY_OBJECT: Self = Self::from_static("{}");
    /// `[]`.
    pub const EMPTY_ARRAY: Self = Self::from_static("[]");

    /// The constants above: `text` must be one JSON value.
    const fn from_static(text: &'static str) -> Self {
        Self(Repr::Json(Str::from_static(text)))
    }

    /// Checks that `text` is one JSON value (whitespace around it is
    /// dropped, without copying).
    pub fn new(text: impl Into<Str>) -> Result<Self, InvalidJson> {
        let text = text.into();
        let a = analyze(
            text.as_bytes(),
            &Options {
                max_depth: DEFAULT_MAX_DEPTH,
                split: false,
                attachments: None,
            },
        )
        .map_err(InvalidJson::from_fault)?;
        if a.span.len() == text.len() {
            Ok(Self(Repr::Json(text)))
        } else {
            Ok(Self::from_validated(text.into_bytes().slice(a.span)))
        }
    }

    /// Checks that `bytes` are UTF-8 and one JSON value.
    pub fn from_bytes(bytes: Bytes) -> Result<Self, InvalidJson> {
        let text = Str::try_from_bytes(bytes).map_err(|_| InvalidJson::utf8())?;
        Self::new(text)
    }

    /// Wraps text this module has checked (or produced).
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        Self(Repr::Json(Str::from_validated(bytes)))
    }

    /// Attaches the MessagePack this value was decoded from (one complete
    /// MessagePack value whose JSON view is this text).
    pub(crate) fn with_msgpack(self, msgpack: Bytes) -> Self {
        let text = self.into_str();
        Self(Repr::Msgpack(Arc::new(FromMsgpack { text, msgpack })))
    }

    fn text(&self) -> &Str {
        match &self.0 {
            Repr::Json(text) => text,
            Repr::Msgpack(m) => &m.text,
        }
    }

    /// The MessagePack this value was decoded from, when the msgpack
    /// parser decoded it: one complete value, a slice of the message it
    /// came in. The msgpack encoder writes these bytes instead of
    /// converting the JSON text.
    ///
    /// `None` for values built or decoded from text, and for values of at
    /// most 64 bytes of MessagePack that the encoder writes back the same
    /// from their JSON text (small integers, short strings, `nil`,
    /// booleans, ...): those are not kept, to save memory.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sockio_core::socket::{DecoderConfig, decode_msgpack, encode_msgpack};
    ///
    /// // notepack.io's {type: 2, data: ["e", NaN, undefined], nsp: "/"}
    /// let msg = Bytes::from_static(
    ///     b"\x83\xa4type\x02\xa4data\x93\xa1e\xcb\x7f\xf8\0\0\0\0\0\0\xd4\0\0\xa3nsp\xa1/",
    /// );
    /// let packet = decode_msgpack(&msg, &DecoderConfig::default())?;
    /// let args = packet.args().unwrap();
    /// assert_eq!(args.get(1).unwrap(), "null"); // as JSON.stringify writes NaN
    /// assert_eq!(args.get(1).unwrap().msgpack().unwrap()[..], *b"\xcb\x7f\xf8\0\0\0\0\0\0");
    /// assert_eq!(args.get(2).unwrap(), "null"); // undefined in an array
    /// assert_eq!(args.get(2).unwrap().msgpack().unwrap()[..], *b"\xd4\0\0");
    /// assert_eq!(encode_msgpack(&packet), msg); // NaN and undefined go back out
    /// # Ok::<(), sockio_core::socket::DecodeError>(())
    /// ```
    pub fn msgpack(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Json(_) => None,
            Repr::Msgpack(m) => Some(&m.msgpack),
        }
    }

    /// This value without its MessagePack form: the msgpack encoder then
    /// writes what the JSON text says (NaN as `null`, a `Date` as its
    /// string, binary data as `bin`).
    pub fn without_msgpack(self) -> Self {
        Self(Repr::Json(self.into_str()))
    }

    /// A JSON string with the text of `s`, escaped as `JSON.stringify`
    /// does.
    pub fn string(s: &str) -> Self {
        let mut out = BytesMut::with_capacity(json::string_len(s));
        json::write_string(&mut out, s);
        Self::from_validated(out.freeze())
    }

    /// A JSON number.
    pub fn number(n: u64) -> Self {
        Self::from_validated(Bytes::from(n.to_string()))
    }

    /// `value` serialized by serde_json.
    ///
    /// Binary data (`serialize_bytes`, as `bytes::Bytes` does) becomes an
    /// array of numbers here, as in serde_json; to send it as an attachment,
    /// push the value into [`Args`](super::Args) instead.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, JsonError> {
        let text = serde_json::to_vec(value).map_err(JsonError::new)?;
        // serde_json writes one valid value, with no whitespace around it.
        Ok(Self::from_validated(Bytes::from(text)))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.text().as_str()
    }

    /// The JSON text's bytes.
    pub fn as_bytes(&self) -> &Bytes {
        self.text().as_bytes()
    }

    /// The JSON text, giving up the guarantee.
    pub fn into_str(self) -> Str {
        match self.0 {
            Repr::Json(text) => text,
            Repr::Msgpack(m) => m.text.clone(),
        }
    }

    /// The length of the text in bytes.
    pub fn len(&self) -> usize {
        self.text().as_bytes().len()
    }

    /// Always false: a JSON value has at least one byte. (Here for
    /// symmetry with [`RawJson::len`].)
    pub fn is_empty(&self) -> bool {
        self.text().as_bytes().is_empty()
    }

    /// What kind of value this is.
    pub fn kind(&self) -> JsonKind {
        JsonKind::of_first_byte(self.text().as_bytes().first().copied().unwrap_or(b'n'))
    }

    /// The text of a JSON string, unescaped (lone surrogate escapes become
    /// U+FFFD); `None` for other values. Borrows when there is no escape.
    pub fn as_string(&self) -> Option<Cow<'_, str>> {
        let b = self.text().as_bytes();
        (self.kind() == JsonKind::String).then(|| json::unescape(&b[1..b.len() - 1]))
    }

    /// The `num` of a binary placeholder, if this value is exactly one:
    /// an object with the two keys `_placeholder` (`true`) and `num` (a
    /// non-negative integer), in any order.
    pub fn placeholder(&self) -> Option<usize> {
        if self.kind() != JsonKind::Object {
            return None;
        }
        // A placeholder holds no container, so depth 1 is enough.
        let opts = Options {
            max_depth: 1,
            split: false,
            attachments: Some(usize::MAX),
        };
        let a = analyze(self.text().as_bytes(), &opts).ok()?;
        a.placeholder.and_then(|n| usize::try_from(n).ok())
    }

    /// Deserializes the value with serde_json (borrowing strings from it
    /// where the type allows).
    ///
    /// Placeholders are not resolved here: use
    /// [`Args::deserialize`](super::Args::deserialize) for arguments that
    /// may carry binary data.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, JsonError> {
        serde_json::from_slice(self.text().as_bytes()).map_err(JsonError::new)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for RawJson {}

impl Hash for RawJson {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text().hash(state);
    }
}

impl PartialOrd for RawJson {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RawJson {
    fn cmp(&self, other: &Self) -> Ordering {
        self.text().cmp(other.text())
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.as_str())?;
        if let Some(m) = self.msgpack() {
            write!(f, " (msgpack, {} bytes)", m.len())?;
        }
        Ok(())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for RawJson {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for RawJson {
    type Err = InvalidJson;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(Str::from(s.to_owned()))
    }
}

impl TryFrom<&'static str> for RawJson {
    type Error = InvalidJson;
    fn try_from(s: &'static str) -> Result<Self, Self::Error> {
        Self::new(Str::from_static(s))
    }
}

impl TryFrom<String> for RawJson {
    type Error = InvalidJson;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(Str::from(s))
    }
}

impl TryFrom<Str> for RawJson {
    type Error = InvalidJson;
    fn try_from(s: Str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<RawJson> for Str {
    fn from(raw: RawJson) -> Self {
        raw.into_str()
    }
}

impl PartialEq<str> for RawJson {
    fn eq(&self, other: &str) -> bool {
        *self.text() == *other
    }
}

impl PartialEq<&str> for RawJson {
    fn eq(&self, other: &&str) -> bool {
        *self.text() == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_check_and_trim() {
        let raw = RawJson::new(" [1, 2] \n").unwrap();
        assert_eq!(raw, "[1, 2]");
        assert_eq!(raw.kind(), JsonKind::Array);
        assert!(RawJson::new("[1,").is_err());
        assert!(RawJson::new("").is_err());
        assert!(RawJson::new("1 2").is_err());
        assert!(RawJson::from_bytes(Bytes::from_static(b"\"\xff\"")).is_err());
        let deep = "[".repeat(DEFAULT_MAX_DEPTH + 1);
        assert!(RawJson::new(deep).is_err());
    }

    #[test]
    fn strings() {
        let raw = RawJson::string("a\"\n");
        assert_eq!(raw, r#""a\"\n""#);
        assert_eq!(raw.as_string().unwrap(), "a\"\n");
        assert!(matches!(
            RawJson::string("plain").as_string(),
            Some(Cow::Borrowed("plain"))
        ));
        assert_eq!(RawJson::NULL.as_string(), None);
        assert_eq!(RawJson::number(42), "42");
    }

    #[test]
    fn placeholders() {
        for (text, num) in [
            (r#"{"_placeholder":true,"num":0}"#, Some(0)),
            (r#"{ "num" : 12 , "_placeholder" : true }"#, Some(12)),
            (r#"{"\u005fplaceholder":true,"num":3}"#, Some(3)),
            (r#"{"_placeholder":true,"num":0,"x":1}"#, None),
            (r#"{"_placeholder":false,"num":0}"#, None),
            (r#"{"_placeholder":true,"num":"0"}"#, None),
            (r#"{"_placeholder":true,"num":{"a":1}}"#, None),
            (r#"["_placeholder",true]"#, None),
        ] {
            assert_eq!(RawJson::new(text).unwrap().placeholder(), num, "{text}");
        }
    }

    #[test]
    fn serde() {
        let raw = RawJson::from_serialize(&("x", 1, [true])).unwrap();
        assert_eq!(raw, r#"["x",1,[true]]"#);
        let (a, b, c): (&str, u8, Vec<bool>) = raw.deserialize().unwrap();
        assert_eq!((a, b, c), ("x", 1, vec![true]));
        assert!(raw.deserialize::<String>().is_err());
    }
}
