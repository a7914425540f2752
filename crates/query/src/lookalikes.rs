//! Values of an answer that a person could take for other values by their letters'
//! look (Unicode UTS #39, "Unicode Security Mechanisms"), and which of their characters
//! to show escaped (`\u{430}`) so that they are told apart: the one rule of the CLI's
//! text output (`shown.rs`) and of the web console, which gets it from the server in
//! each answer ([`Marks`], the answers' `lookalikes`).
//!
//! Two rules:
//!
//! - [`other_script`], a value alone: it mixes scripts, or reads as ASCII in another
//!   script (`аdmin` with a Cyrillic `а`): every character beyond ASCII is escaped.
//! - [`Marks`], values of one column together: two values of a column that share a
//!   confusable skeleton (UTS #39 §4: `Iris` and `lris`, `0pen` and `Open`, `admin` and
//!   `adrnin`; values the first rule marks are left out) and are not canonically
//!   equivalent (not one text in NFC: `José` with U+00E9 and `José` with `e` + U+0301
//!   are one name, which the shown text tells apart by its own rule, `Jose\u{301}`) are
//!   confusable with each other. In each, the characters where it differs from another
//!   value of its group (what lies between their common start and common end) are
//!   escaped: `\u{49}ris` and `\u{6c}ris`, `ad\u{6d}in` and `ad\u{72}\u{6e}in`. Every
//!   such value is marked, not only the one that came second: an audit viewer cannot
//!   tell which of the two is the impostor. A value is marked in its column only:
//!   `lris` as the only node is shown as it is beside the users `Iris` and `lris`.
//!
//! A stream of rows (the console's live tail) is marked as its rows come, over a
//! window of the newest ([`Running`]).
//!
//! The cost is bounded per answer: one skeleton per distinct value of a column (a hash
//! map), each value of a group compared with at most [`MATES`] others, and a value
//! longer than [`LONGEST_COMPARED`] bytes neither compared nor marked (names are
//! short; an answer of 110 values of 1 MB each ran its query worker out of memory
//! making their skeletons and copies).

use std::collections::{BTreeSet, HashMap};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_security::{skeleton, MixedScript};

use crate::json_values::is_json_value;

mod running;

pub use running::Running;

/// How many other values of its group a value is compared with: enough that each is
/// marked where it differs from its look-alikes, bounded when a client sends many
/// values of one skeleton.
pub const MATES: usize = 8;

/// The longest value (bytes) compared with others or marked: a user name, node or
/// routing key is far shorter, and a longer value (a kilobyte-long `authUser` a
/// client sent, a megabyte a query made) would cost a skeleton and a copy each.
pub const LONGEST_COMPARED: usize = 256;

/// Whether `text` alone can pass for another text of other code points (UTS #39): it
/// holds a character beyond ASCII, and either mixes scripts (not single-script, §5.1,
/// by augmented script sets: digits and punctuation go with any script, Han with kana,
/// Hangul or Bopomofo counts as one), as `аdmin` with a Cyrillic `а` (U+0430) does
/// beside the Latin `admin`, or reads as ASCII (its confusable skeleton, §4, is ASCII),
/// as the all-Cyrillic `орѕ` reads `ops`, or the fullwidth `ｄｅｍｏ` `demo`. Such a text
/// is shown with every character beyond ASCII escaped. A text of one script that does
/// not read as ASCII (`Иван`, `José`, `田中`) is not.
pub fn other_script(text: &str) -> bool {
    !text.is_ascii() && (!text.is_single_script() || skeleton(text).all(|c| c.is_ascii()))
}

/// One value's mark in one column: the characters to show escaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mark {
    /// The column: of batches, its position (`0` for the first); of a report as JSON,
    /// the path of member names to the value, array positions left out (`[].user`;
    /// `[].topics{}` for the member names of an object, such as a map of counts).
    pub column: String,
    /// The value.
    pub value: String,
    /// The indexes of its characters (Unicode code points, from 0) to show escaped.
    pub escaped: Vec<usize>,
}

/// The values of an answer that are shown with characters escaped by the rules above,
/// and which characters, per column: the same value in another column, where it looks
/// like no other, is not marked there.
#[derive(Debug, Default, Clone)]
pub struct Marks {
    /// Column → value → the indexes of its characters to show escaped.
    by_column: HashMap<String, HashMap<String, BTreeSet<usize>>>,
}

impl Marks {
    /// The marks of the text columns of `batches` (one answer), each batch column a
    /// column. Columns of JSON (the events' `message`) and other types are not read.
    pub fn of_batches(batches: &[RecordBatch]) -> Marks {
        let mut columns = Columns::default();
        for batch in batches {
            let schema = batch.schema();
            for (i, (field, column)) in schema.fields().iter().zip(batch.columns()).enumerate() {
                if is_json_value(field) {
                    continue;
                }
                let mut add = |v: Option<&str>| {
                    if let Some(v) = v {
                        columns.add(i.to_string(), v);
                    }
                };
                match column.data_type() {
                    DataType::Utf8 => column.as_string::<i32>().iter().for_each(&mut add),
                    DataType::LargeUtf8 => column.as_string::<i64>().iter().for_each(&mut add),
                    DataType::Utf8View => column.as_string_view().iter().for_each(&mut add),
                    _ => {}
                }
            }
        }
        columns.marks()
    }

    /// The marks of the strings of `value` (a report as JSON): a column is a path of
    /// member names (array positions left out: `users[].user`); the member names of
    /// an object are a column too (a map from values to counts: `topics{}`).
    pub fn of_json(value: &serde_json::Value) -> Marks {
        let mut columns = Columns::default();
        walk(value, &mut String::new(), &mut columns);
        columns.marks()
    }

    /// The indexes of the characters of `value`, in `column`, to show escaped; empty
    /// when none is.
    pub fn escaped(&self, column: &str, value: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_column
            .get(column)
            .and_then(|values| values.get(value))
            .into_iter()
            .flatten()
            .copied()
    }

    /// Whether no value is marked.
    pub fn is_empty(&self) -> bool {
        self.by_column.is_empty()
    }

    /// Each marked value and its characters to escape, in the order of the columns,
    /// then of the values.
    pub fn list(&self) -> Vec<Mark> {
        let mut list: Vec<Mark> = self
            .by_column
            .iter()
            .flat_map(|(column, values)| {
                values.iter().map(|(value, escaped)| Mark {
                    column: column.clone(),
                    value: value.clone(),
                    escaped: escaped.iter().copied().collect(),
                })
            })
            .collect();
        list.sort_by(|a, b| (&a.column, &a.value).cmp(&(&b.column, &b.value)));
        list
    }
}

fn walk(value: &serde_json::Value, path: &mut String, columns: &mut Columns) {
    match value {
        serde_json::Value::String(s) => columns.add(path.clone(), s),
        serde_json::Value::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            for item in items {
                walk(item, path, columns);
            }
            path.truncate(len);
        }
        serde_json::Value::Object(members) => {
            let len = path.len();
            path.push_str("{}");
            for name in members.keys() {
                columns.add(path.clone(), name);
            }
            path.truncate(len);
            for (name, member) in members {
                path.push('.');
                path.push_str(name);
                walk(member, path, columns);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// The distinct values of each column, grouped by skeleton.
#[derive(Default)]
struct Columns {
    /// Column → skeleton → the distinct values of that skeleton.
    groups: HashMap<String, HashMap<String, Vec<String>>>,
    /// The values [`other_script`] marks, with their column.
    other_script: BTreeSet<(String, String)>,
}

impl Columns {
    fn add(&mut self, column: String, value: &str) {
        if value.len() > LONGEST_COMPARED {
            return;
        }
        // Another script is told apart by its escaped characters already (`\u{430}dmin`
        // beside `admin`): the groups are of look-alikes that escape nothing else.
        if other_script(value) {
            self.other_script.insert((column, value.to_owned()));
            return;
        }
        let skeletons = self.groups.entry(column).or_default();
        let group = skeletons.entry(skeleton(value).collect()).or_default();
        if !group.iter().any(|v| v == value) {
            group.push(value.to_owned());
        }
    }

    fn marks(self) -> Marks {
        let mut by_column: HashMap<String, HashMap<String, BTreeSet<usize>>> = HashMap::new();
        for (column, value) in self.other_script {
            let escaped = beyond_ascii(&value);
            by_column.entry(column).or_default().insert(value, escaped);
        }
        for (column, skeletons) in self.groups {
            for group in skeletons.into_values() {
                if group.len() < 2 {
                    continue;
                }
                for (value, escaped) in group.iter().zip(group_escapes(&group)) {
                    if !escaped.is_empty() {
                        by_column
                            .entry(column.clone())
                            .or_default()
                            .entry(value.clone())
                            .or_default()
                            .extend(escaped);
                    }
                }
            }
        }
        for values in by_column.values_mut() {
            values.retain(|_, escaped| !escaped.is_empty());
        }
        by_column.retain(|_, values| !values.is_empty());
        Marks { by_column }
    }
}

/// The indexes of the characters of `value` (one [`other_script`] marks) to escape:
/// every one beyond ASCII.
fn beyond_ascii(value: &str) -> BTreeSet<usize> {
    value
        .chars()
        .enumerate()
        .filter(|(_, c)| !c.is_ascii())
        .map(|(i, _)| i)
        .collect()
}

/// The indexes of the characters to escape in each value of `group` (the distinct
/// values of one column that share a skeleton, in the order they came), in its order:
/// where it differs from each of at most [`MATES`] others that are not canonically
/// equivalent to it (empty when there is none).
fn group_escapes<S: AsRef<str>>(group: &[S]) -> Vec<BTreeSet<usize>> {
    // Canonically equivalent values (one text in NFC) are one value here: `José` in
    // NFC and in NFD are one name, and the one not in NFC is shown with its combining
    // marks escaped by the shown text's own rule (`Jose\u{301}`), so the other is shown
    // as it is. Two values not in NFC that look alike still are marked (`I\u{301}ris`,
    // `l\u{301}ris`).
    let nfc: Vec<String> = group.iter().map(|v| v.as_ref().nfc().collect()).collect();
    let chars: Vec<Vec<char>> = group.iter().map(|v| v.as_ref().chars().collect()).collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let mut escaped = BTreeSet::new();
            for other in chars
                .iter()
                .enumerate()
                .filter(|(j, _)| nfc[*j] != nfc[i])
                .take(MATES)
            {
                escaped.extend(differing(value, other.1));
            }
            escaped
        })
        .collect()
}

/// The indexes of `a`'s characters between its common start and common end with `b`.
fn differing(a: &[char], b: &[char]) -> std::ops::Range<usize> {
    let start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - start;
    let end = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    start..a.len() - end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(marks: &Marks, column: &str, value: &str) -> Vec<usize> {
        marks.escaped(column, value).collect()
    }

    #[test]
    fn values_of_one_skeleton_in_a_column_are_marked_where_they_differ() {
        let mut columns = Columns::default();
        for v in ["Iris", "lris", "admin", "adrnin", "0pen", "Open", "bob"] {
            columns.add("user".to_owned(), v);
        }
        // Another column: no group across columns.
        columns.add("node".to_owned(), "b0b");
        let marks = columns.marks();
        assert_eq!(shown(&marks, "user", "Iris"), [0]);
        assert_eq!(shown(&marks, "user", "lris"), [0]);
        assert_eq!(shown(&marks, "user", "admin"), [2]);
        assert_eq!(shown(&marks, "user", "adrnin"), [2, 3]);
        assert_eq!(shown(&marks, "user", "0pen"), [0]);
        assert_eq!(shown(&marks, "user", "Open"), [0]);
        assert!(shown(&marks, "user", "bob").is_empty());
        assert!(shown(&marks, "node", "b0b").is_empty());
    }

    #[test]
    fn a_value_longer_than_compared_is_neither_compared_nor_marked() {
        let long = "I".repeat(LONGEST_COMPARED) + "ris";
        let long_twin = "l".repeat(LONGEST_COMPARED) + "ris";
        let mut columns = Columns::default();
        for v in [long.as_str(), long_twin.as_str(), "Iris", "lris"] {
            columns.add("user".to_owned(), v);
        }
        columns.add("user".to_owned(), &format!("\u{430}{long}"));
        let marks = columns.marks();
        assert!(shown(&marks, "user", &long).is_empty());
        assert!(shown(&marks, "user", &long_twin).is_empty());
        assert_eq!(marks.list().len(), 2, "{:?}", marks.list());
    }

    #[test]
    fn another_script_is_marked_alone_and_beside_its_look_alike() {
        let mut columns = Columns::default();
        columns.add("a".to_owned(), "\u{430}dmin");
        columns.add("b".to_owned(), "Иван");
        let marks = columns.marks();
        assert_eq!(shown(&marks, "a", "\u{430}dmin"), [0]);
        assert!(shown(&marks, "b", "Иван").is_empty());
        assert!(other_script("\u{430}dmin") && !other_script("José"));
    }

    #[test]
    fn the_same_letters_in_another_order_are_marked_whole() {
        let mut columns = Columns::default();
        columns.add("u".to_owned(), "Il");
        columns.add("u".to_owned(), "lI");
        let marks = columns.marks();
        assert_eq!(shown(&marks, "u", "Il"), [0, 1]);
        assert_eq!(shown(&marks, "u", "lI"), [0, 1]);
    }

    #[test]
    fn a_value_is_marked_in_its_column_alone() {
        let mut columns = Columns::default();
        columns.add("user".to_owned(), "Iris");
        columns.add("user".to_owned(), "lris");
        columns.add("node".to_owned(), "lris");
        let marks = columns.marks();
        assert_eq!(shown(&marks, "user", "lris"), [0]);
        assert!(shown(&marks, "node", "lris").is_empty());
        let list = marks.list();
        let listed: Vec<(&str, &str)> = list
            .iter()
            .map(|m| (m.column.as_str(), m.value.as_str()))
            .collect();
        assert_eq!(listed, [("user", "Iris"), ("user", "lris")]);
    }

    #[test]
    fn canonically_equivalent_values_are_one_value_of_their_group() {
        let mut columns = Columns::default();
        // José in NFC and in NFD: one name (the shown text escapes the NFD one's mark).
        columns.add("user".to_owned(), "Jos\u{e9}");
        columns.add("user".to_owned(), "Jose\u{301}");
        // Í and ĺ, both in NFD: two names that look alike, marked.
        columns.add("user".to_owned(), "I\u{301}ris");
        columns.add("user".to_owned(), "l\u{301}ris");
        let marks = columns.marks();
        assert!(shown(&marks, "user", "Jos\u{e9}").is_empty());
        assert!(shown(&marks, "user", "Jose\u{301}").is_empty());
        assert_eq!(shown(&marks, "user", "I\u{301}ris"), [0]);
        assert_eq!(shown(&marks, "user", "l\u{301}ris"), [0]);
    }
}
