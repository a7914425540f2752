//! What a message field can be set to: a value that has a JSON form.
//!
//! `serde_json` turns a float that is NaN or infinite into `null` when it makes a
//! `Value` of it (`Value::from(f64::NAN)`, `json!`, `to_value`), so a field set through
//! `impl Into<Value>` recorded `null` in the audit trail in place of the number, and
//! nobody was told. [`FieldValue`] converts as `Value::from` does, and refuses such a
//! float instead, saying where it is, so that the draft is refused at emit.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};
use thiserror::Error;

/// A value that [`EventDraft::field`](crate::EventDraft::field), `audit!` and
/// [`Message::insert`](crate::Message::insert) accept: what `serde_json::Value` is made
/// from (strings, booleans, integers, floats, `Value`, `Map`, `Number`, `()`, and
/// `Option`, `Vec`, slices and arrays of these), converted as `Value::from` converts
/// them, except that a float that is NaN or infinite is refused ([`NonFinite`]): JSON
/// has no form for it, and `Value::from` would make it `null`.
///
/// A value of another type can be given as a `serde_json::Value` (then made by the
/// caller: beware that `serde_json` turns a NaN or infinite float into `null` there),
/// or its type can implement this trait.
pub trait FieldValue {
    /// The JSON value, or the float inside it that has no JSON form.
    fn into_field_value(self) -> Result<Value, NonFinite>;
}

/// A float that is NaN or infinite, which no JSON value can hold.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{value} is not a finite number: JSON has no form for NaN or an infinity")]
#[non_exhaustive]
pub struct NonFinite {
    /// The float.
    pub value: f64,
    /// Where it is inside the value given: empty for the value itself, `[2]` for the
    /// third item of an array, `[2][0]` deeper.
    pub at: String,
}

impl NonFinite {
    /// `value` (NaN or infinite), as the value given itself.
    pub fn new(value: f64) -> NonFinite {
        NonFinite {
            value,
            at: String::new(),
        }
    }

    /// The same float, found at item `index` of an array.
    fn in_item(mut self, index: usize) -> NonFinite {
        self.at = format!("[{index}]{}", self.at);
        self
    }
}

macro_rules! lossless {
    ($($ty:ty)*) => {
        $(
            impl FieldValue for $ty {
                fn into_field_value(self) -> Result<Value, NonFinite> {
                    Ok(Value::from(self))
                }
            }
        )*
    };
}

// Every type `Value::from` takes whose every value has a JSON form.
lossless! {
    Value Map<String, Value> Number bool String &str Cow<'_, str> ()
    i8 i16 i32 i64 isize u8 u16 u32 u64 usize
}

impl FieldValue for f64 {
    fn into_field_value(self) -> Result<Value, NonFinite> {
        if self.is_finite() {
            Ok(Value::from(self))
        } else {
            Err(NonFinite::new(self))
        }
    }
}

impl FieldValue for f32 {
    fn into_field_value(self) -> Result<Value, NonFinite> {
        if self.is_finite() {
            Ok(Value::from(self))
        } else {
            Err(NonFinite::new(f64::from(self)))
        }
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    fn into_field_value(self) -> Result<Value, NonFinite> {
        self.map_or(Ok(Value::Null), FieldValue::into_field_value)
    }
}

impl<T: FieldValue> FieldValue for Vec<T> {
    fn into_field_value(self) -> Result<Value, NonFinite> {
        items(self)
    }
}

impl<T: FieldValue, const N: usize> FieldValue for [T; N] {
    fn into_field_value(self) -> Result<Value, NonFinite> {
        items(self)
    }
}

impl<T: FieldValue + Clone> FieldValue for &[T] {
    fn into_field_value(self) -> Result<Value, NonFinite> {
        items(self.iter().cloned())
    }
}

fn items<T: FieldValue>(items: impl IntoIterator<Item = T>) -> Result<Value, NonFinite> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.into_field_value().map_err(|e| e.in_item(i)))
        .collect::<Result<Vec<Value>, NonFinite>>()
        .map(Value::Array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_values_convert_as_serde_json_converts_them() {
        assert_eq!(1.5f64.into_field_value().unwrap(), Value::from(1.5));
        assert_eq!(0.1f32.into_field_value().unwrap(), Value::from(0.1f32));
        assert_eq!(u64::MAX.into_field_value().unwrap(), Value::from(u64::MAX));
        assert_eq!(None::<f64>.into_field_value().unwrap(), Value::Null);
        assert_eq!(
            vec![Some(1.0), None].into_field_value().unwrap(),
            serde_json::json!([1.0, null])
        );
    }

    #[test]
    fn nan_and_infinities_are_refused_with_where() {
        assert_eq!(f64::NAN.into_field_value().unwrap_err().at, "");
        assert!(f32::NEG_INFINITY.into_field_value().is_err());
        let nested = vec![vec![1.0], vec![2.0, f64::INFINITY]];
        let err = nested.into_field_value().unwrap_err();
        assert_eq!(err.at, "[1][1]");
        assert_eq!(err.value, f64::INFINITY);
        let slice: &[f64] = &[0.0, f64::NAN];
        assert_eq!(slice.into_field_value().unwrap_err().at, "[1]");
        assert_eq!([Some(f64::NAN)].into_field_value().unwrap_err().at, "[0]");
    }
}
