//! serde with binary attachments: serializing bytes as placeholders, and
//! deserializing placeholders as bytes.
//!
//! Serializing goes through serde_json with a formatter whose byte arrays
//! (what `serialize_bytes` writes, as `bytes::Bytes` and `serde_bytes` do)
//! become `{"_placeholder":true,"num":N}` while the bytes are collected as
//! attachments. Deserializing an argument of a packet with attachments goes
//! through a `serde_json::Value`, walked by a deserializer that hands a
//! placeholder to the visitor as bytes.

use std::io;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::ser::Formatter;
use serde_json::{Map, Number, Value};

use super::raw::RawJson;

/// A compact formatter that turns byte arrays into placeholders.
struct PlaceholderFormatter<'a> {
    attachments: &'a mut Vec<Bytes>,
}

impl Formatter for PlaceholderFormatter<'_> {
    fn write_byte_array<W>(&mut self, writer: &mut W, value: &[u8]) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let num = self.attachments.len();
        self.attachments.push(Bytes::copy_from_slice(value));
        write!(writer, "{{\"_placeholder\":true,\"num\":{num}}}")
    }
}

/// Serializes `value` as JSON into `out`, appending its binary data to
/// `attachments` (placeholders count on from the attachments already
/// there).
pub(crate) fn to_json_with_binary<T: serde::Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
    attachments: &mut Vec<Bytes>,
) -> Result<(), serde_json::Error> {
    let before = attachments.len();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut *out, PlaceholderFormatter { attachments });
    let result = value.serialize(&mut ser);
    if result.is_err() {
        attachments.truncate(before);
    }
    result
}

/// Deserializes `raw`, whose placeholders index `attachments` (straight
/// from the text, borrowing if `T` likes, when there is no attachment).
pub(crate) fn from_json_with_binary<'de, T: de::Deserialize<'de>>(
    raw: &'de RawJson,
    attachments: &[Bytes],
) -> Result<T, serde_json::Error> {
    if attachments.is_empty() {
        return serde_json::from_slice(raw.as_bytes());
    }
    let value: Value = serde_json::from_slice(raw.as_bytes())?;
    T::deserialize(Resolve {
        value: &value,
        attachments,
    })
}

/// Deserializes a sequence of arguments, placeholders resolved.
pub(crate) fn seq_with_binary<'de, T: de::Deserialize<'de>>(
    args: &'de [RawJson],
    attachments: &'de [Bytes],
) -> Result<T, serde_json::Error> {
    T::deserialize(ArgsDeserializer { args, attachments })
}

/// The bytes a placeholder object refers to, if `map` is one.
fn placeholder<'a>(map: &Map<String, Value>, attachments: &'a [Bytes]) -> Option<&'a Bytes> {
    if map.len() != 2 || map.get("_placeholder") != Some(&Value::Bool(true)) {
        return None;
    }
    let num = usize::try_from(map.get("num")?.as_u64()?).ok()?;
    attachments.get(num)
}

/// A deserializer over a `serde_json::Value` that reads placeholders as
/// bytes. It never lends out borrowed data, so it serves any lifetime.
struct Resolve<'a> {
    value: &'a Value,
    attachments: &'a [Bytes],
}

impl<'a> Resolve<'a> {
    fn child(&self, value: &'a Value) -> Self {
        Self {
            value,
            attachments: self.attachments,
        }
    }
}

fn visit_number<'de, V: Visitor<'de>>(
    n: &Number,
    visitor: V,
) -> Result<V::Value, serde_json::Error> {
    if let Some(u) = n.as_u64() {
        visitor.visit_u64(u)
    } else if let Some(i) = n.as_i64() {
        visitor.visit_i64(i)
    } else {
        visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
    }
}

impl<'de> Deserializer<'de> for Resolve<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => visit_number(n, visitor),
            Value::String(s) => visitor.visit_str(s),
            Value::Array(items) => visitor.visit_seq(SeqResolve {
                items: items.iter(),
                attachments: self.attachments,
            }),
            Value::Object(map) => match placeholder(map, self.attachments) {
                Some(bytes) => visitor.visit_bytes(bytes),
                None => visitor.visit_map(MapResolve {
                    entries: map.iter(),
                    value: None,
                    attachments: self.attachments,
                }),
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Object(map) if map.len() == 1 => {
                let Some((variant, value)) = map.iter().next() else {
                    return Err(de::Error::custom("empty enum object"));
                };
                visitor.visit_enum(EnumResolve {
                    variant,
                    value: self.child(value),
                })
            }
            _ => Err(de::Error::invalid_type(
                de::Unexpected::Other("JSON value"),
                &"a string or an object with one key",
            )),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct SeqResolve<'a> {
    items: std::slice::Iter<'a, Value>,
    attachments: &'a [Bytes],
}

impl<'de> de::SeqAccess<'de> for SeqResolve<'_> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        match self.items.next() {
            Some(value) => seed
                .deserialize(Resolve {
                    value,
                    attachments: self.attachments,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapResolve<'a> {
    entries: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
    attachments: &'a [Bytes],
}

impl<'de> de::MapAccess<'de> for MapResolve<'_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("value asked before key"))?;
        seed.deserialize(Resolve {
            value,
            attachments: self.attachments,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct EnumResolve<'a> {
    variant: &'a str,
    value: Resolve<'a>,
}

impl<'de, 'a> de::EnumAccess<'de> for EnumResolve<'a> {
    type Error = serde_json::Error;
    type Variant = Resolve<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Self::Error> {
        let variant = seed.deserialize(self.variant.into_deserializer())?;
        Ok((variant, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for Resolve<'_> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }
}

/// A sequence of raw arguments, each deserialized on its own: by
/// serde_json straight from the text when there is no attachment (strings
/// may be borrowed), through [`Resolve`] otherwise.
struct ArgsDeserializer<'de> {
    args: &'de [RawJson],
    attachments: &'de [Bytes],
}

impl<'de> Deserializer<'de> for ArgsDeserializer<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(ArgsSeq {
            args: self.args.iter(),
            attachments: self.attachments,
        })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple tuple_struct map struct
        enum identifier ignored_any
    }
}

struct ArgsSeq<'de> {
    args: std::slice::Iter<'de, RawJson>,
    attachments: &'de [Bytes],
}

impl<'de> de::SeqAccess<'de> for ArgsSeq<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        let Some(raw) = self.args.next() else {
            return Ok(None);
        };
        if self.attachments.is_empty() {
            let mut de = serde_json::Deserializer::from_slice(raw.as_bytes());
            return seed.deserialize(&mut de).map(Some);
        }
        let value: Value = serde_json::from_slice(raw.as_bytes())?;
        seed.deserialize(Resolve {
            value: &value,
            attachments: self.attachments,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.args.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct File {
        name: String,
        data: Bytes,
        parts: Vec<Bytes>,
        thumb: Option<Bytes>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Unit,
        Blob(Bytes),
        Pair(u8, Bytes),
        Named { data: Bytes },
    }

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    #[test]
    fn bytes_become_placeholders_at_any_depth() {
        let file = File {
            name: "f".into(),
            data: b(b"abc"),
            parts: vec![b(b"1"), b(b"")],
            thumb: Some(b(&[0xff])),
        };
        let mut out = Vec::new();
        let mut attachments = vec![b(b"earlier")];
        to_json_with_binary(&file, &mut out, &mut attachments).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"{"name":"f","data":{"_placeholder":true,"num":1},"parts":[{"_placeholder":true,"num":2},{"_placeholder":true,"num":3}],"thumb":{"_placeholder":true,"num":4}}"#
        );
        assert_eq!(
            attachments,
            [b(b"earlier"), b(b"abc"), b(b"1"), b(b""), b(&[0xff])]
        );
        let raw = RawJson::from_validated(Bytes::from(out));
        let back: File = from_json_with_binary(&raw, &attachments).unwrap();
        assert_eq!(back, file);
    }

    #[test]
    fn enums_and_values_through_placeholders() {
        let shapes = vec![
            Shape::Unit,
            Shape::Blob(b(b"x")),
            Shape::Pair(7, b(b"y")),
            Shape::Named { data: b(b"z") },
        ];
        let mut out = Vec::new();
        let mut attachments = Vec::new();
        to_json_with_binary(&shapes, &mut out, &mut attachments).unwrap();
        let raw = RawJson::from_validated(Bytes::from(out));
        let back: Vec<Shape> = from_json_with_binary(&raw, &attachments).unwrap();
        assert_eq!(back, shapes);
        // serde_json's Value has no bytes: binary data is refused, cleanly.
        assert!(from_json_with_binary::<Value>(&raw, &attachments).is_err());
    }

    #[test]
    fn errors_leave_attachments_as_they_were() {
        use std::collections::BTreeMap;
        let mut bad = BTreeMap::new();
        bad.insert(vec![1u8], 0);
        let mut out = Vec::new();
        let mut attachments = vec![b(b"a")];
        // The bytes are collected, then the map key fails.
        assert!(to_json_with_binary(&(b(b"x"), bad), &mut out, &mut attachments).is_err());
        assert_eq!(attachments, [b(b"a")]);
    }
}
