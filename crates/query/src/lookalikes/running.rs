//! The marks of values that come one row at a time and never end (the web console's
//! live tail, the event server's `/v1/stream`): by the rules of [`Marks`](super::Marks),
//! over a window of the newest rows, each mark said once, when the row that makes it
//! comes.
//!
//! An answer is marked whole, once ([`Marks::of_json`](super::Marks::of_json)); a
//! stream is shown row by row, and a value shown before its look-alike came (`Iris`,
//! then `lris`) is marked when the look-alike comes: the marks a row makes name the
//! values of rows before it too. The window is bounded in rows and in the bytes it
//! holds, so that what a stream holds does not grow with the time it runs; a value that
//! left the window is no look-alike of the values that come after, and a mark said is
//! not taken back (a viewer still shows its rows).
//!
//! The bytes are counted from above ([`Running::held_bytes`]): each value's text where
//! it is kept (its row, its group, its skeleton), the bookkeeping around it and the
//! allocator's rounding, so that the holder can count the window in a memory budget.
//! Before, the bound was 128 KiB of the values' text alone, and a window of 1000 rows
//! of six short distinct values held some 2.3 MB (3.2 MB when they shared a skeleton):
//! the bookkeeping, not the text, is most of it.

use std::collections::{BTreeSet, HashMap, VecDeque};

use unicode_security::skeleton;

use super::{beyond_ascii, group_escapes, other_script, Mark};

/// What a row holds besides its values: its place in the window and its list.
const ROW_BYTES: usize = 64;
/// What a value holds in its row besides its text: its place in the row's list (column
/// and `String`) and the rounding of its text's allocation.
const IN_ROW_BYTES: usize = 48;
/// What a distinct value of a group holds besides its text twice (the value and its
/// skeleton, the group's key, counted for each value: a group's values share it): its
/// `Held`, its group's map entry, their slack (a `Vec` and a hash map grow by doubling)
/// and the allocator's rounding.
const HELD_BYTES: usize = 224;
/// What a distinct value [`other_script`] marks holds besides its text: its map entry,
/// its slack and rounding.
const ALONE_BYTES: usize = 128;
/// What a `BTreeSet` node of the indexes said escaped holds (eleven keys, and the
/// edges of an inner node: 100 to 200 bytes); indexes added in order leave nodes
/// half full.
const SAID_NODE_BYTES: usize = 128;

// Measured with a counting allocator (the bytes asked for, after 1500 rows of six values
// in a window of 1000 rows without a bound in bytes), held and counted: distinct short
// values, 1.26 MB and 1.78 MB; distinct values of 20 bytes, 1.59 MB and 2.06 MB; of one
// skeleton, 1.60 MB and 3.71 MB; of 256 bytes each marked whole, 34.7 MB and 46.2 MB;
// mixing scripts, 0.70 MB and 1.20 MB; values that repeat, 0.23 MB and 0.37 MB.

/// The look-alikes of the newest rows of a stream ([`Running::add`]).
#[derive(Debug)]
pub struct Running {
    max_rows: usize,
    max_bytes: usize,
    /// The column names, by position.
    names: Vec<String>,
    /// The rows in the window, oldest first: each value with its column's position.
    rows: VecDeque<Vec<(usize, String)>>,
    /// The bytes the window holds, counted from above ([`Running::held_bytes`]).
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
    /// A window of at most `max_rows` rows holding at most `max_bytes` bytes
    /// ([`Running::held_bytes`]; the newest row is kept whatever its size).
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
        // Each value's skeleton (none for a value marked alone), once: the room the row
        // may take is counted from them.
        let row: Vec<(&str, &str, Option<String>)> = row
            .iter()
            .map(|&(name, value)| {
                let key = (!other_script(value)).then(|| skeleton(value).collect());
                (name, value, key)
            })
            .collect();
        // Room for the row first: what it is compared with is the window it joins. Its
        // size as if each value were new to the window and marked whole.
        let size: usize = ROW_BYTES
            + row
                .iter()
                .map(|(_, value, key)| {
                    in_row(value)
                        + key.as_ref().map_or(alone(value), |k| held(value, k))
                        + said(value.chars().count())
                })
                .sum::<usize>();
        while !self.rows.is_empty()
            && (self.rows.len() >= self.max_rows || self.bytes + size > self.max_bytes)
        {
            self.drop_oldest();
        }
        self.bytes += ROW_BYTES;
        let mut marks = Vec::new();
        let mut kept = Vec::with_capacity(row.len());
        for (name, value, key) in row {
            let column = self.column(name);
            self.bytes += in_row(value);
            kept.push((column, value.to_owned()));
            let Some(key) = key else {
                let rows = self.alone[column].entry(value.to_owned()).or_insert(0);
                *rows += 1;
                if *rows == 1 {
                    self.bytes += alone(value);
                    marks.push(Mark {
                        column: name.to_owned(),
                        value: value.to_owned(),
                        escaped: beyond_ascii(value).into_iter().collect(),
                    });
                }
                continue;
            };
            let held_size = held(value, &key);
            // One value at first: a `Vec` starts with room for four.
            let group = self.groups[column]
                .entry(key)
                .or_insert_with(|| Vec::with_capacity(1));
            if let Some(h) = group.iter_mut().find(|h| h.value == value) {
                h.rows += 1;
                continue;
            }
            self.bytes += held_size;
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
            for (h, escaped) in group.iter_mut().zip(escapes) {
                if !escaped.is_subset(&h.said) {
                    let before = said(h.said.len());
                    h.said.extend(escaped);
                    self.bytes += said(h.said.len()) - before;
                    marks.push(Mark {
                        column: name.to_owned(),
                        value: h.value.clone(),
                        escaped: h.said.iter().copied().collect(),
                    });
                }
            }
        }
        self.rows.push_back(kept);
        marks
    }

    /// The bytes the window holds, counted from above: the values' texts where they are
    /// kept, the bookkeeping around them and its slack. At most the `max_bytes` it was
    /// made with, or the newest row's alone.
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }

    /// Takes the oldest rows out of the window until it holds at most `max_bytes`
    /// ([`Running::held_bytes`]; the newest row is kept whatever its size): a holder
    /// that could not count more in its budget compares the rows that come with fewer.
    /// The next rows may fill it again up to the bound it was made with.
    pub fn shrink_to(&mut self, max_bytes: usize) {
        while self.rows.len() > 1 && self.bytes > max_bytes {
            self.drop_oldest();
        }
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
        self.bytes -= ROW_BYTES;
        for (column, value) in row {
            self.bytes -= in_row(&value);
            if let Some(rows) = self.alone[column].get_mut(&value) {
                *rows -= 1;
                if *rows == 0 {
                    self.alone[column].remove(&value);
                    self.bytes -= alone(&value);
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
                    let h = group.remove(i);
                    self.bytes -= held(&h.value, &key) + said(h.said.len());
                }
            }
            if group.is_empty() {
                self.groups[column].remove(&key);
            }
        }
    }
}

/// The bytes a value holds in its row.
fn in_row(value: &str) -> usize {
    value.len() + IN_ROW_BYTES
}

/// The bytes a distinct value of a group holds, `key` its skeleton (said escaped
/// characters apart).
fn held(value: &str, key: &str) -> usize {
    value.len() + key.len() + HELD_BYTES
}

/// The bytes a set of `indexes` said escaped holds.
fn said(indexes: usize) -> usize {
    indexes.div_ceil(5) * SAID_NODE_BYTES
}

/// The bytes a distinct value [`other_script`] marks holds.
fn alone(value: &str) -> usize {
    value.len() + ALONE_BYTES
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

    #[test]
    fn the_bytes_held_are_those_of_the_rows_in_the_window() {
        let row = |i: usize| [("user", format!("user{i}")), ("ip", format!("10.0.0.{i}"))];
        let add = |r: &mut Running, i: usize| {
            let values = row(i);
            let row: Vec<(&str, &str)> = values.iter().map(|(c, v)| (*c, v.as_str())).collect();
            r.add(&row);
        };
        let mut long = Running::new(2, usize::MAX);
        (0..5).for_each(|i| add(&mut long, i));
        let mut short = Running::new(2, usize::MAX);
        (3..5).for_each(|i| add(&mut short, i));
        assert_eq!(long.held_bytes(), short.held_bytes());
        assert!(long.held_bytes() > 0);
        // Shrunk: the newest row alone.
        let one_row = {
            let mut r = Running::new(2, usize::MAX);
            add(&mut r, 4);
            r.held_bytes()
        };
        long.shrink_to(one_row);
        assert_eq!(long.held_bytes(), one_row);
        long.shrink_to(0);
        assert_eq!(long.held_bytes(), one_row);
    }
}
