//! The marks of values that come one row at a time and never end (the web console's
//! live tail, the event server's `/v1/stream`): by the rules of [`Marks`](super::Marks),
//! over a window of the newest rows, each mark said once, when the row that makes it
//! comes.
//!
//! An answer is marked whole, once ([`Marks::of_json`](super::Marks::of_json)); a
//! stream is shown row by row, and a value shown before its look-alike came (`Iris`,
//! then `lris`) is marked when the look-alike comes: the marks a row makes name the
//! values of rows before it too. The window is bounded in rows and in bytes of values,
//! so that what a stream holds does not grow with the time it runs; a value that left
//! the window is no look-alike of the values that come after, and a mark said is not
//! taken back (a viewer still shows its rows).

use std::collections::{BTreeSet, HashMap, VecDeque};

use unicode_security::skeleton;

use super::{beyond_ascii, group_escapes, other_script, Mark};

/// The look-alikes of the newest rows of a stream ([`Running::add`]).
#[derive(Debug)]
pub struct Running {
    max_rows: usize,
    max_bytes: usize,
    /// The column names, by position.
    names: Vec<String>,
    /// The rows in the window, oldest first: each value with its column's position.
    rows: VecDeque<Vec<(usize, String)>>,
    /// The bytes of the values in `rows`.
    bytes: usize,
    /// Per column: skeleton → the distinct values of that skeleton in the window (not
    /// those [`other_script`] marks), in the order they came.
    groups: Vec<HashMap<String, Vec<Held>>>,
    /// Per column: the values [`other_script`] marks in the window, with how many of
    /// its rows hold each.
    alone: Vec<HashMap<String, usize>>,
}

/// A value of a group in the window.
#[derive(Debug)]
struct Held {
    value: String,
    /// How many rows of the window hold it.
    rows: usize,
    /// The indexes of its characters said escaped so far.
    said: BTreeSet<usize>,
}

impl Running {
    /// A window of at most `max_rows` rows and `max_bytes` bytes of values (the newest
    /// row is kept whatever its size).
    pub fn new(max_rows: usize, max_bytes: usize) -> Running {
        Running {
            max_rows: max_rows.max(1),
            max_bytes,
            names: Vec::new(),
            rows: VecDeque::new(),
            bytes: 0,
            groups: Vec::new(),
            alone: Vec::new(),
        }
    }

    /// Adds the next row, its text values with their columns, and gives the marks it
    /// makes: of its own values, and of the values of rows before it that now look like
    /// one of them (each with every character said escaped so far). Empty when it makes
    /// none, or only marks said before.
    pub fn add(&mut self, row: &[(&str, &str)]) -> Vec<Mark> {
        // Room for the row first: what it is compared with is the window it joins.
        let size: usize = row.iter().map(|(_, v)| v.len()).sum();
        while !self.rows.is_empty()
            && (self.rows.len() >= self.max_rows || self.bytes + size > self.max_bytes)
        {
            self.drop_oldest();
        }
        let mut marks = Vec::new();
        let mut kept = Vec::with_capacity(row.len());
        for &(name, value) in row {
            let column = self.column(name);
            self.bytes += value.len();
            kept.push((column, value.to_owned()));
            if other_script(value) {
                let rows = self.alone[column].entry(value.to_owned()).or_insert(0);
                *rows += 1;
                if *rows == 1 {
                    marks.push(Mark {
                        column: name.to_owned(),
                        value: value.to_owned(),
                        escaped: beyond_ascii(value).into_iter().collect(),
                    });
                }
                continue;
            }
            let group = self.groups[column]
                .entry(skeleton(value).collect())
                .or_default();
            if let Some(held) = group.iter_mut().find(|h| h.value == value) {
                held.rows += 1;
                continue;
            }
            group.push(Held {
                value: value.to_owned(),
                rows: 1,
                said: BTreeSet::new(),
            });
            if group.len() < 2 {
                continue;
            }
            let escapes =
                group_escapes(&group.iter().map(|h| h.value.as_str()).collect::<Vec<_>>());
            for (held, escaped) in group.iter_mut().zip(escapes) {
                if !escaped.is_subset(&held.said) {
                    held.said.extend(escaped);
                    marks.push(Mark {
                        column: name.to_owned(),
                        value: held.value.clone(),
                        escaped: held.said.iter().copied().collect(),
                    });
                }
            }
        }
        self.rows.push_back(kept);
        marks
    }

    /// The position of the column `name`, added when new.
    fn column(&mut self, name: &str) -> usize {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return i;
        }
        self.names.push(name.to_owned());
        self.groups.push(HashMap::new());
        self.alone.push(HashMap::new());
        self.names.len() - 1
    }

    /// Takes the oldest row out of the window.
    fn drop_oldest(&mut self) {
        let Some(row) = self.rows.pop_front() else {
            return;
        };
        for (column, value) in row {
            self.bytes -= value.len();
            if let Some(rows) = self.alone[column].get_mut(&value) {
                *rows -= 1;
                if *rows == 0 {
                    self.alone[column].remove(&value);
                }
                continue;
            }
            let key: String = skeleton(&value).collect();
            let Some(group) = self.groups[column].get_mut(&key) else {
                continue;
            };
            if let Some(i) = group.iter().position(|h| h.value == value) {
                group[i].rows -= 1;
                if group[i].rows == 0 {
                    // In order: the values a value is compared with are the first ones.
                    group.remove(i);
                }
            }
            if group.is_empty() {
                self.groups[column].remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(marks: &[Mark]) -> Vec<(&str, &str, Vec<usize>)> {
        marks
            .iter()
            .map(|m| (m.column.as_str(), m.value.as_str(), m.escaped.clone()))
            .collect()
    }

    #[test]
    fn a_look_alike_marks_itself_and_the_value_shown_before_it_once() {
        let mut r = Running::new(10, 1 << 20);
        assert!(r.add(&[("user", "Iris"), ("node", "lris")]).is_empty());
        assert_eq!(
            said(&r.add(&[("user", "lris"), ("node", "n1")])),
            [("user", "Iris", vec![0]), ("user", "lris", vec![0])]
        );
        // Said once.
        assert!(r.add(&[("user", "lris")]).is_empty());
        assert_eq!(
            said(&r.add(&[("user", "\u{430}dmin")])),
            [("user", "\u{430}dmin", vec![0])]
        );
        assert!(r.add(&[("user", "\u{430}dmin")]).is_empty());
        // Canonically equivalent: one name.
        assert!(r
            .add(&[("user", "Jos\u{e9}"), ("user", "Jose\u{301}")])
            .is_empty());
    }

    #[test]
    fn a_value_that_left_the_window_is_no_look_alike_of_those_after() {
        let mut r = Running::new(2, 1 << 20);
        assert!(r.add(&[("user", "Iris")]).is_empty());
        assert!(r.add(&[("user", "bob")]).is_empty());
        assert!(r.add(&[("user", "carol")]).is_empty());
        assert!(r.add(&[("user", "lris")]).is_empty());
        // Bytes too: the newest row joins whatever its size.
        let mut r = Running::new(100, 7);
        assert!(r.add(&[("user", "Iris")]).is_empty());
        assert!(r.add(&[("user", "bob")]).is_empty());
        assert!(r.add(&[("user", "lris")]).is_empty());
        assert!(r.add(&[("user", "a value over the bytes")]).is_empty());
    }
}
