//! A count with its noun, singular for one: `1 problem`, `2 problems`, `0 files`. The
//! one way operator-facing summaries say how many of something there are (before, some
//! said `1 problems`).

use std::fmt;

/// `n` and the noun for it: [`counted`]. Displays as `"{n} {noun}"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    n: u64,
    one: &'static str,
    many: &'static str,
}

/// `n` with `one` when it is 1, else with `many`: `counted(1, "file", "files")` shows
/// as `1 file`, `counted(0, "file", "files")` as `0 files`.
pub fn counted(n: impl Into<Count>, one: &'static str, many: &'static str) -> Counted {
    Counted {
        n: n.into().0,
        one,
        many,
    }
}

/// A count given to [`counted`]: any unsigned integer up to 64 bits.
#[derive(Debug, Clone, Copy)]
pub struct Count(u64);

impl From<u64> for Count {
    fn from(n: u64) -> Count {
        Count(n)
    }
}

impl From<u32> for Count {
    fn from(n: u32) -> Count {
        Count(n.into())
    }
}

impl From<usize> for Count {
    fn from(n: usize) -> Count {
        // usize is at most 64 bits on every target auditrail builds for.
        Count(u64::try_from(n).unwrap_or(u64::MAX))
    }
}

impl Counted {
    /// The noun alone, as chosen for the count (`problem` or `problems`).
    pub fn noun(&self) -> &'static str {
        if self.n == 1 {
            self.one
        } else {
            self.many
        }
    }
}

impl fmt::Display for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.n, self.noun())
    }
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(
            counted(1u64, "problem", "problems").to_string(),
            "1 problem"
        );
        assert_eq!(
            counted(0usize, "problem", "problems").to_string(),
            "0 problems"
        );
        assert_eq!(counted(2u32, "entry", "entries").to_string(), "2 entries");
    }
}
