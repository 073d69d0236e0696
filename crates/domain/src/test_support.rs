//! Test-only helpers: a minimal serde serializer that captures strings, and
//! deserialisation from plain strings/integers, so the serde behaviour of the
//! identifier types can be tested without a JSON dependency.

use std::fmt;

use serde::de::value::Error as DeError;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::ser::{self, Impossible, Serialize, Serializer};

/// Error of [`StrCapture`]: the value did not serialise as a plain string.
#[derive(Debug)]
pub struct NotAString(String);

impl fmt::Display for NotAString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAString {}

impl ser::Error for NotAString {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Serializer that only accepts strings (or newtypes around strings).
pub struct StrCapture;

macro_rules! reject {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $name(self $(, _: $arg)*) -> Result<String, NotAString> {
            Err(NotAString(stringify!($name).to_owned()))
        })*
    };
}

impl Serializer for StrCapture {
    type Ok = String;
    type Error = NotAString;
    type SerializeSeq = Impossible<String, NotAString>;
    type SerializeTuple = Impossible<String, NotAString>;
    type SerializeTupleStruct = Impossible<String, NotAString>;
    type SerializeTupleVariant = Impossible<String, NotAString>;
    type SerializeMap = Impossible<String, NotAString>;
    type SerializeStruct = Impossible<String, NotAString>;
    type SerializeStructVariant = Impossible<String, NotAString>;

    fn serialize_str(self, v: &str) -> Result<String, NotAString> {
        Ok(v.to_owned())
    }

    reject!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<String, NotAString> {
        Err(NotAString("some".to_owned()))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, NotAString> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, NotAString> {
        Err(NotAString("newtype variant".to_owned()))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotAString> {
        Err(NotAString("seq".to_owned()))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotAString> {
        Err(NotAString("tuple".to_owned()))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotAString> {
        Err(NotAString("tuple struct".to_owned()))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotAString> {
        Err(NotAString("tuple variant".to_owned()))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotAString> {
        Err(NotAString("map".to_owned()))
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NotAString> {
        Err(NotAString("struct".to_owned()))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotAString> {
        Err(NotAString("struct variant".to_owned()))
    }
}

/// Serialises `value`, which must serialise as a plain string.
pub fn ser_str<T: Serialize>(value: &T) -> Result<String, NotAString> {
    value.serialize(StrCapture)
}

/// Deserialises a `T` from a plain string value.
pub fn de_str<T: DeserializeOwned>(s: &str) -> Result<T, DeError> {
    T::deserialize(IntoDeserializer::<DeError>::into_deserializer(s))
}

/// Deserialises a `T` from an unsigned integer value.
pub fn de_u64<T: DeserializeOwned>(n: u64) -> Result<T, DeError> {
    T::deserialize(IntoDeserializer::<DeError>::into_deserializer(n))
}

/// Deserialises a `T` from a signed integer value.
pub fn de_i64<T: DeserializeOwned>(n: i64) -> Result<T, DeError> {
    T::deserialize(IntoDeserializer::<DeError>::into_deserializer(n))
}
