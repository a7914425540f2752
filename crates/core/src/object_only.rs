//! Reading a struct from an object (a JSON object, a TOML table) only.
//!
//! A struct that derives `Deserialize` also accepts serde's *sequence* form: its field
//! values in declaration order, without their names (`["01a2...", "2026-...", "generic",
//! null, "n", 1, null, {...}]` for an event). No protocol or config format of auditrail
//! has that form: an array given where an object belongs was accepted as an object the
//! writer never wrote (stored and signed, for an event), and one of the wrong length
//! was refused naming an internal type (`expected struct Wire with 8 elements`).
//! [`Object`] reads a struct from an object only, and refuses anything else with what
//! the value should have been ([`ObjectOnly::MUST_BE`]).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A struct read from an object only: see the module docs.
pub trait ObjectOnly {
    /// What the value must be, as a sentence's subject and verb: `an event must be a
    /// JSON object`. The refusal of an array says it.
    const MUST_BE: &'static str;
}

/// `T`, read from an object only ([`ObjectOnly`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de> + ObjectOnly> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any`, not `deserialize_map`: an array then reaches `visit_seq`,
        // which says what it is; other values get serde's `invalid type: ..., expected`.
        deserializer
            .deserialize_any(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

/// For `#[serde(deserialize_with = "...")]` on a field of type `T`.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de> + ObjectOnly>(
    deserializer: D,
) -> Result<T, D::Error> {
    Object::<T>::deserialize(deserializer).map(|o| o.0)
}

/// [`object`] for a field of type `Option<T>`.
pub fn option<'de, D: Deserializer<'de>, T: Deserialize<'de> + ObjectOnly>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<Object<T>>::deserialize(deserializer).map(|o| o.map(|o| o.0))
}

/// [`object`] for a field of type `Vec<T>` (each item an object).
pub fn vec<'de, D: Deserializer<'de>, T: Deserialize<'de> + ObjectOnly>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Vec::<Object<T>>::deserialize(deserializer).map(|v| v.into_iter().map(|o| o.0).collect())
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + ObjectOnly> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "expected an event must be a JSON object" would not read: the rule, as
        // what is expected.
        write!(f, "an object ({})", T::MUST_BE)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        // An array of objects is most likely several values sent as one (a batch of
        // events in one Kafka record, a JSON array posted as a line): said as such, not
        // as the field-values form, which its writer never meant.
        let why = match seq.next_element::<FirstItem>() {
            Ok(Some(FirstItem::Object)) => {
                "an array of objects, as of several in one value, is not accepted: give \
                 each as a value of its own"
            }
            _ => "the values of its fields in a row, without their names, are not accepted",
        };
        Err(de::Error::custom(format_args!(
            "{}, not an array ({why})",
            T::MUST_BE
        )))
    }
}

/// Whether an array's first item is an object (its content skipped).
enum FirstItem {
    Object,
    Other,
}

impl<'de> Deserialize<'de> for FirstItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Kind;
        impl<'de> Visitor<'de> for Kind {
            type Value = FirstItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstItem, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(FirstItem::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FirstItem, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(FirstItem::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<FirstItem, E> {
                Ok(FirstItem::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<FirstItem, E> {
                Ok(FirstItem::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<FirstItem, E> {
                Ok(FirstItem::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<FirstItem, E> {
                Ok(FirstItem::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<FirstItem, E> {
                Ok(FirstItem::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<FirstItem, E> {
                Ok(FirstItem::Other)
            }
        }
        deserializer.deserialize_any(Kind)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        a: u8,
        b: String,
    }

    impl ObjectOnly for Pair {
        const MUST_BE: &'static str = "a pair must be a JSON object";
    }

    #[test]
    fn an_object_is_read_and_an_array_or_a_scalar_refused_saying_what_it_must_be() {
        let ok: Object<Pair> = serde_json::from_str(r#"{"a":1,"b":"x"}"#).unwrap();
        assert_eq!(
            ok.0,
            Pair {
                a: 1,
                b: "x".into()
            }
        );
        // The derived struct alone takes the array: the fault this module is for.
        assert!(serde_json::from_str::<Pair>(r#"[1,"x"]"#).is_ok());
        let e = serde_json::from_str::<Object<Pair>>(r#"[1,"x"]"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("a pair must be a JSON object, not an array"),
            "{e}"
        );
        assert!(e.contains("the values of its fields in a row"), "{e}");
        // Several objects in one value: said as such.
        let e = serde_json::from_str::<Object<Pair>>(r#"[{"a":1,"b":"x"},{"a":2,"b":"y"}]"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "a pair must be a JSON object, not an array (an array of objects, as of \
                 several in one value, is not accepted: give each as a value of its own)"
            ),
            "{e}"
        );
        let e = serde_json::from_str::<Object<Pair>>(r#"[1]"#)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("struct Pair"), "{e}");
        let e = serde_json::from_str::<Object<Pair>>("3")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("invalid type: integer `3`, expected an object (a pair must be"),
            "{e}"
        );
    }
}
