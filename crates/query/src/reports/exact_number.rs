//! `report_number(raw, lo, hi)`: a message's number read only when its exact value is
//! within `lo..=hi`, for the reports' number placeholders
//! ([`super::values::checked_numbers`]).
//!
//! Why not `try_cast(raw AS DOUBLE) BETWEEN lo AND hi`: the bound was checked after
//! the number was rounded to a double, so a number just past a bound that rounds onto
//! it was read as the bound. `responseTimeMS: 9007199254740993` (2^53 + 1) became
//! 9007199254740992 and was counted as a latency, while 2^53 + 2 was left out;
//! `-1e-400` became `-0` and was read as a latency of 0. Here the JSON text itself is
//! compared with the bounds, exactly, and only a number within them is rounded.
//!
//! The function is registered on a report's own session
//! ([`super::one_listing::ReportEngine`]), not on the engine users' SQL runs on.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The function's name in the reports' SQL.
pub(super) const NAME: &str = "report_number";

/// The function, to register on a report's session.
pub(super) fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(ReportNumber(Signature::any(3, Volatility::Immutable)))
}

/// `report_number(raw, lo, hi)`: `raw` (a value's JSON text, NULL when absent) as a
/// double when it is a JSON number whose exact value is from `lo` to `hi` (integer
/// literals), else NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ReportNumber(Signature);

impl ScalarUDFImpl for ReportNumber {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.0
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [raw, lo, hi] = args.args.as_slice() else {
            return exec_err!("{NAME} takes 3 arguments, got {}", args.args.len());
        };
        let (Some(lo), Some(hi)) = (bound(lo), bound(hi)) else {
            return exec_err!("{NAME} takes integer literals as its bounds");
        };
        let raw = cast(&raw.to_array(args.number_rows)?, &DataType::Utf8)?;
        let read: Float64Array = raw
            .as_string::<i32>()
            .iter()
            .map(|text| text.and_then(|t| within(t, lo, hi)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(read)))
    }
}

fn bound(v: &ColumnarValue) -> Option<i64> {
    match v {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(b))) => Some(*b),
        _ => None,
    }
}

/// `text` as a double when it is a JSON number whose exact value is from `lo` to `hi`.
pub(super) fn within(text: &str, lo: i64, hi: i64) -> Option<f64> {
    let text = text.trim_matches([' ', '\t', '\n', '\r']);
    let exact = Exact::parse(text)?;
    if exact.cmp_int(lo) == Ordering::Less || exact.cmp_int(hi) == Ordering::Greater {
        return None;
    }
    // Rounded only now: within the bounds, which are doubles exactly (|bound| <= 2^53),
    // the double is within them too.
    text.parse::<f64>().ok().filter(|d| d.is_finite())
}

/// A JSON number's exact value: its sign, its integer part (`None`: past u128) and
/// whether it has a fraction that is not zero.
struct Exact {
    negative: bool,
    int: Option<u128>,
    fraction: bool,
}

impl Exact {
    /// The value of `text` when it is a JSON number (RFC 8259: `-?(0|[1-9][0-9]*)`,
    /// an optional `.` and digits, an optional exponent), else `None`.
    fn parse(text: &str) -> Option<Exact> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let int_len = digits(rest);
        let int = &rest[..int_len];
        if int.is_empty() || (int.len() > 1 && int.starts_with('0')) {
            return None;
        }
        let mut rest = &rest[int_len..];
        let mut frac = "";
        if let Some(after) = rest.strip_prefix('.') {
            let n = digits(after);
            if n == 0 {
                return None;
            }
            frac = &after[..n];
            rest = &after[n..];
        }
        let mut exp: i64 = 0;
        if let Some(after) = rest.strip_prefix(['e', 'E']) {
            let (sign, after) = match after.as_bytes().first() {
                Some(b'-') => (-1, &after[1..]),
                Some(b'+') => (1, &after[1..]),
                _ => (1, after),
            };
            let n = digits(after);
            if n == 0 || n != after.len() {
                return None;
            }
            // Saturating: an exponent past i64 is as far out as i64's end.
            exp = after[..n].bytes().fold(0i64, |e, d| {
                e.saturating_mul(10).saturating_add(i64::from(d - b'0'))
            }) * sign;
            rest = "";
        }
        if !rest.is_empty() {
            return None;
        }
        // The value is `mantissa × 10^shift`, the mantissa all the digits.
        let mantissa = format!("{int}{frac}");
        let mantissa = mantissa.trim_start_matches('0');
        let shift = exp.saturating_sub(i64::try_from(frac.len()).ok()?);
        let (int, fraction) = if mantissa.is_empty() {
            (Some(0), false)
        } else if shift >= 0 {
            let zeros = u32::try_from(shift).ok();
            let int = mantissa
                .parse::<u128>()
                .ok()
                .zip(zeros.and_then(|z| 10u128.checked_pow(z)))
                .and_then(|(m, p)| m.checked_mul(p));
            (int, false)
        } else {
            let cut = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
            match mantissa.len().checked_sub(cut) {
                // All digits after the point: below 1, and not zero.
                None | Some(0) => (Some(0), true),
                Some(at) => (
                    mantissa[..at].parse::<u128>().ok(),
                    mantissa[at..].bytes().any(|d| d != b'0'),
                ),
            }
        };
        Some(Exact {
            negative,
            int,
            fraction,
        })
    }

    /// The exact value compared with `b`.
    fn cmp_int(&self, b: i64) -> Ordering {
        if self.int == Some(0) && !self.fraction {
            // Zero, also `-0`.
            return 0.cmp(&b);
        }
        // The magnitude compared with |b|: (integer part, fraction) against (|b|, none).
        let magnitude = |b: u128| match self.int {
            None => Ordering::Greater,
            Some(i) => (i, self.fraction).cmp(&(b, false)),
        };
        match (self.negative, b < 0) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude(u128::from(b.unsigned_abs())),
            (true, true) => magnitude(u128::from(b.unsigned_abs())).reverse(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::within;

    const MAX: i64 = 1 << 53;

    #[test]
    fn a_number_just_past_a_bound_is_left_out_however_written() {
        for text in [
            "9007199254740993",
            "9007199254740992.5",
            "9007199254740992.0000000000000000000000001",
            "9.007199254740993e15",
            "90071992547409921E-1",
            "9007199254740993e0",
            "1e400",
            "-1e-400",
            "-0.0000001",
            "-1",
        ] {
            assert_eq!(within(text, 0, MAX), None, "{text}");
        }
    }

    #[test]
    fn a_number_on_or_within_the_bounds_is_read() {
        for (text, read) in [
            ("9007199254740992", 9007199254740992.0),
            ("9007199254740992.000", 9007199254740992.0),
            ("9.007199254740992E+15", 9007199254740992.0),
            ("900719925474099200e-2", 9007199254740992.0),
            ("9007199254740991.9", 9007199254740992.0),
            ("0", 0.0),
            ("-0", 0.0),
            ("-0.0e5", 0.0),
            ("1e-400", 0.0),
            ("12.5", 12.5),
        ] {
            assert_eq!(within(text, 0, MAX), Some(read), "{text}");
        }
    }

    #[test]
    fn negative_bounds_are_compared_exactly() {
        let (lo, hi) = (-62_167_219_200_000, 253_402_300_799_999);
        assert_eq!(within("-62167219200000", lo, hi), Some(-62167219200000.0));
        assert_eq!(within("-62167219200000.001", lo, hi), None);
        assert_eq!(
            within("-62167219199999.999", lo, hi),
            Some(-62167219199999.999)
        );
        assert_eq!(within("253402300799999.001", lo, hi), None);
        assert_eq!(within("-9223372036854775808", lo, hi), None);
    }

    #[test]
    fn what_is_no_json_number_is_left_out() {
        for text in [
            "\"5000\"", "true", "null", "{}", "01", "1.", ".5", "1e", "+1", "NaN", "inf", "", "1 2",
        ] {
            assert_eq!(within(text, 0, MAX), None, "{text}");
        }
    }
}
