//! The argument model: how a Rust value maps to a Socket.IO argument list.
//!
//! A Socket.IO event carries any number of arguments. A Rust value stands
//! for them this way, both when it is sent and when it is read:
//!
//! - `()` is no argument;
//! - a tuple `(a, b, ..)` is one argument per element;
//! - any other value (a struct, a string, a `Vec`, an `Option`, a tuple
//!   struct, `Bytes`) is one argument.
//!
//! Binary data (what `serialize_bytes` writes: `bytes::Bytes`,
//! `serde_bytes`) travels as an attachment wherever it sits.
//!
//! Which case a type falls in is found by a probe that asks the type's
//! serde implementation for its first call and stops there: nothing is
//! serialized or allocated to find out.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{self, Impossible, Serialize, Serializer};

use serde::de::DeserializeOwned;

use super::error::{DataError, JsonError};
use super::packet::Args;
use super::raw::RawJson;

/// How many arguments a value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `()`: no argument.
    None,
    /// Any value but a tuple: one argument.
    One,
    /// A tuple: one argument per element.
    Many,
}

/// The shape of a value about to be serialized.
pub(crate) fn of_value<T: Serialize + ?Sized>(value: &T) -> Shape {
    match value.serialize(Probe) {
        Ok(never) => match never {},
        Err(Found(shape)) => shape,
    }
}

/// The shape of a type about to be deserialized.
pub(crate) fn of_type<'de, T: de::Deserialize<'de>>() -> Shape {
    match T::deserialize(Probe) {
        Ok(_) => Shape::One,
        Err(Found(shape)) => shape,
    }
}

/// Serializes and deserializes nothing: its first call names the shape.
struct Probe;

/// The probe's answer, carried as an error to stop at the first call.
#[derive(Debug)]
struct Found(Shape);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "argument shape {:?}", self.0)
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        Self(Shape::One)
    }
}

impl de::Error for Found {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        Self(Shape::One)
    }
}

/// The probe never succeeds.
enum Never {}

macro_rules! one {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Err(Found(Shape::One))
        })*
    };
}

impl Serializer for Probe {
    type Ok = Never;
    type Error = Found;
    type SerializeSeq = Impossible<Never, Found>;
    type SerializeTuple = Impossible<Never, Found>;
    type SerializeTupleStruct = Impossible<Never, Found>;
    type SerializeTupleVariant = Impossible<Never, Found>;
    type SerializeMap = Impossible<Never, Found>;
    type SerializeStruct = Impossible<Never, Found>;
    type SerializeStructVariant = Impossible<Never, Found>;

    one! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_unit(self) -> Result<Never, Found> {
        Err(Found(Shape::None))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Never, Found> {
        Err(Found(Shape::One))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Never, Found> {
        Err(Found(Shape::One))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Never, Found> {
        Err(Found(Shape::One))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Found> {
        Err(Found(Shape::One))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Found> {
        Err(Found(Shape::Many))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Found> {
        Err(Found(Shape::One))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Found> {
        Err(Found(Shape::One))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Found> {
        Err(Found(Shape::One))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Found> {
        Err(Found(Shape::One))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Found> {
        Err(Found(Shape::One))
    }
}

impl<'de> Deserializer<'de> for Probe {
    type Error = Found;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
        Err(Found(Shape::One))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
        Err(Found(Shape::None))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Found> {
        Err(Found(Shape::Many))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit_struct newtype_struct seq tuple_struct map
        struct enum identifier ignored_any
    }
}

/// What an emit or an acknowledgement carries: a value by the argument
/// model, or [`Args`] already built.
///
/// Every serializable value is one: `()` is no argument, a tuple one
/// argument per element (fixed-size arrays too: serde writes them as
/// tuples), any other value one argument; `bytes::Bytes` anywhere in it
/// travels as binary. [`Args`] goes as it is, for arguments received and
/// passed on or built one by one.
///
/// ```
/// use bytes::Bytes;
/// use sockio_core::socket::{Args, IntoArgs};
///
/// assert_eq!(().into_args()?.len(), 0);
/// assert_eq!("hello".into_args()?.len(), 1);
/// assert_eq!((1, "two", Bytes::from_static(b"3")).into_args()?.len(), 3);
/// assert_eq!(vec![1, 2, 3].into_args()?.len(), 1);
/// let built = Args::new().with_string("a").with_binary(Bytes::from_static(b"b"));
/// assert_eq!(built.clone().into_args()?, built);
/// # Ok::<(), sockio_core::socket::JsonError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as Socket.IO arguments",
    label = "not serializable",
    note = "pass a value that implements `serde::Serialize` (a tuple for several arguments, `()` for none), or `sockio_core::socket::Args`"
)]
pub trait IntoArgs {
    /// The arguments.
    fn into_args(self) -> Result<Args, JsonError>;

    /// The arguments of an event named `event`: its name, then these.
    fn into_event_args(self, event: &str) -> Result<Args, JsonError>
    where
        Self: Sized,
    {
        let mut args = self.into_args()?;
        args.args.insert(0, RawJson::string(event));
        Ok(args)
    }
}

impl<T: Serialize> IntoArgs for T {
    fn into_args(self) -> Result<Args, JsonError> {
        Args::from_value(&self)
    }

    fn into_event_args(self, event: &str) -> Result<Args, JsonError> {
        let mut args = Args::event(event);
        args.extend_value(&self)?;
        Ok(args)
    }
}

impl IntoArgs for Args {
    fn into_args(self) -> Result<Args, JsonError> {
        Ok(self)
    }
}

/// What arguments received (an event's values, an acknowledgement's) are
/// read as: a type by the argument model (see [`Args::parse`]), or
/// [`Args`] as they came.
///
/// ```
/// use sockio_core::socket::{Args, FromArgs};
///
/// let args = Args::from_value(&(1, "two"))?;
/// let (n, s) = <(u8, String)>::from_args(&args)?;
/// assert_eq!((n, s.as_str()), (1, "two"));
/// assert_eq!(Args::from_args(&args)?, args);
/// # Ok::<(), sockio_core::socket::DataError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from Socket.IO arguments",
    label = "not deserializable",
    note = "ask for a type that implements `serde::de::DeserializeOwned` (a tuple for several arguments, `()` for none), or `sockio_core::socket::Args`"
)]
pub trait FromArgs: Sized {
    /// Reads the arguments.
    fn from_args(args: &Args) -> Result<Self, DataError>;
}

impl<T: DeserializeOwned> FromArgs for T {
    fn from_args(args: &Args) -> Result<Self, DataError> {
        args.parse()
    }
}

impl FromArgs for Args {
    fn from_args(args: &Args) -> Result<Self, DataError> {
        Ok(args.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Point {
        x: i32,
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Pair(i32, i32);

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Unit;

    #[test]
    fn values() {
        assert_eq!(of_value(&()), Shape::None);
        assert_eq!(of_value(&(1,)), Shape::Many);
        assert_eq!(of_value(&(1, "a", ())), Shape::Many);
        assert_eq!(of_value(&1), Shape::One);
        assert_eq!(of_value("a"), Shape::One);
        assert_eq!(of_value(&vec![1, 2]), Shape::One);
        assert_eq!(of_value(&[1, 2]), Shape::Many, "arrays serialize as tuples");
        assert_eq!(of_value(&Point { x: 1 }), Shape::One);
        assert_eq!(of_value(&Pair(1, 2)), Shape::One);
        assert_eq!(of_value(&Unit), Shape::One);
        assert_eq!(of_value(&None::<i32>), Shape::One);
        assert_eq!(of_value(&bytes::Bytes::from_static(b"x")), Shape::One);
        assert_eq!(of_value(&serde_json::json!([1, 2])), Shape::One);
    }

    #[test]
    fn types() {
        assert_eq!(of_type::<()>(), Shape::None);
        assert_eq!(of_type::<(i32,)>(), Shape::Many);
        assert_eq!(of_type::<(String, bytes::Bytes)>(), Shape::Many);
        assert_eq!(of_type::<i32>(), Shape::One);
        assert_eq!(of_type::<String>(), Shape::One);
        assert_eq!(of_type::<Vec<i32>>(), Shape::One);
        assert_eq!(of_type::<Point>(), Shape::One);
        assert_eq!(of_type::<Pair>(), Shape::One);
        assert_eq!(of_type::<Option<Point>>(), Shape::One);
        assert_eq!(of_type::<serde_json::Value>(), Shape::One);
    }
}
