//! [`RawJson`]: one JSON value kept as the text it was sent as.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

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
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawJson(Str);

impl RawJson {
    /// `null`.
    pub const NULL: Self = Self(Str::from_static("null"));
    /// `true`.
    pub const TRUE: Self = Self(Str::from_static("true"));
    /// `false`.
    pub const FALSE: Self = Self(Str::from_static("false"));
    /// `{}`.
    pub const EMPTY_OBJECT: Self = Self(Str::from_static("{}"));
    /// `[]`.
    pub const EMPTY_ARRAY: Self = Self(Str::from_static("[]"));

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
            Ok(Self(text))
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
        Self(Str::from_validated(bytes))
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
        self.0.as_str()
    }

    /// The JSON text's bytes.
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// The JSON text, giving up the guarantee.
    pub fn into_str(self) -> Str {
        self.0
    }

    /// The length of the text in bytes.
    pub fn len(&self) -> usize {
        self.0.as_bytes().len()
    }

    /// Always false: a JSON value has at least one byte. (Here for
    /// symmetry with [`RawJson::len`].)
    pub fn is_empty(&self) -> bool {
        self.0.as_bytes().is_empty()
    }

    /// What kind of value this is.
    pub fn kind(&self) -> JsonKind {
        JsonKind::of_first_byte(self.0.as_bytes().first().copied().unwrap_or(b'n'))
    }

    /// The text of a JSON string, unescaped (lone surrogate escapes become
    /// U+FFFD); `None` for other values. Borrows when there is no escape.
    pub fn as_string(&self) -> Option<Cow<'_, str>> {
        let b = self.0.as_bytes();
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
        let a = analyze(self.0.as_bytes(), &opts).ok()?;
        a.placeholder.and_then(|n| usize::try_from(n).ok())
    }

    /// Deserializes the value with serde_json (borrowing strings from it
    /// where the type allows).
    ///
    /// Placeholders are not resolved here: use
    /// [`Args::deserialize`](super::Args::deserialize) for arguments that
    /// may carry binary data.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, JsonError> {
        serde_json::from_slice(self.0.as_bytes()).map_err(JsonError::new)
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.as_str())
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
        raw.0
    }
}

impl PartialEq<str> for RawJson {
    fn eq(&self, other: &str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<&str> for RawJson {
    fn eq(&self, other: &&str) -> bool {
        self.0 == **other
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
