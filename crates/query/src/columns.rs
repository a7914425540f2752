//! One name per column: the rule that an answer's columns, and the fields of each struct
//! in it, have names of their own. [`Engine::sql`](crate::Engine::sql) applies it to the
//! planned statement, before it runs, for every caller: the event server's `/v1/query`
//! (in its process or in a query worker), `auditrail sql` in each output format.
//!
//! Why refuse, rather than write the answer or rename a column: a JSON row is an object
//! keyed by column name, and `SELECT * FROM events e1, events e2` (a join's columns keep
//! their table's names) gave rows holding `"id"` twice. JSON leaves such an object's
//! meaning open (RFC 8259 §4), and the readers that clients use (JavaScript,
//! Python's `json`, `serde_json` into a map) keep one value and drop the other without a
//! word: the answer is silently another. CSV readers that key rows by their header
//! (Python's `csv.DictReader`) do the same. The event server refuses such objects in
//! its own input (docs/protocol.md, "No key twice in any object"), and must not write
//! them. A renamed column (`id_1`, as DuckDB does) is a name the statement never gave:
//! a client that reads `id` gets one of the two values without knowing which, and a
//! name such as `id_1` can be taken by another column. The statement's author knows
//! which is which; naming them apart with `AS` costs one word. DataFusion already
//! refuses two identical expressions (`SELECT authUser, authUser`) the same way ("Consider
//! aliasing"); this extends the rule to what its check lets through (columns of two
//! tables, struct fields), and [`crate::QueryError::is_duplicate_column`] answers both alike.
//!
//! Names are compared exactly, as JSON compares them (RFC 8259 §8.3) and as the event
//! server compares keys in its input: `a` and `A` are two columns (the engine reads
//! identifiers case-sensitively too), kept apart by every JSON reader. The same holds
//! for two spellings of one letter in Unicode (composed and decomposed `é`). A client
//! that folds case (PowerShell's `ConvertFrom-Json` refuses `{"a":1,"A":2}`) names its
//! columns apart with `AS` itself.

use std::collections::HashMap;
use std::fmt::Write as _;

use datafusion::arrow::datatypes::{DataType, Fields};

use crate::error::QueryError;

/// Names given more than once, named in one message at most; the rest are counted.
const NAMED: usize = 5;
/// Characters of a name quoted in a message at most (an alias can be as long as the
/// statement).
const NAME_CHARS: usize = 80;

/// What every refusal of the rule tells the user to do.
pub(crate) const NAME_THEM_APART: &str = "each column of an answer, and each field of a \
    struct in it, needs a name of its own (a JSON row is an object keyed by column name, and \
    JSON readers keep only one value of a name given twice): name them apart with AS \
    (`SELECT e1.id, e2.id AS id2 ...`; a struct's fields by the names given to \
    `named_struct`), or list the columns instead of `*`";

/// A name that more than one column of an answer has, or more than one field of one
/// struct in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SameName {
    /// The name.
    pub name: String,
    /// Where the fields are, when they are fields of a struct: the column's name and
    /// the names of the fields down to the struct (a list's items add nothing). Empty
    /// for the answer's own columns.
    pub within: Vec<String>,
    /// Their positions among the answer's columns (or the struct's fields), from 1.
    pub positions: Vec<usize>,
}

/// Refuses `fields`, an answer's columns, if two of them, or two fields of one struct in
/// them, have the same name (see the module docs).
pub(crate) fn check(fields: &Fields) -> Result<(), QueryError> {
    let mut found = Vec::new();
    walk(fields, &mut Vec::new(), &mut found);
    if found.is_empty() {
        Ok(())
    } else {
        Err(QueryError::DuplicateColumn { names: found })
    }
}

/// Adds to `found` the names given more than once among `fields` (in the order of
/// their first use), then those inside each field's type.
fn walk(fields: &Fields, within: &mut Vec<String>, found: &mut Vec<SameName>) {
    // A map, not pairwise comparison: `SELECT *` of a join of hundreds of tables has
    // thousands of columns.
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        match first.get(f.name().as_str()) {
            Some(&at) => names[at].1.push(i + 1),
            None => {
                first.insert(f.name(), names.len());
                names.push((f.name(), vec![i + 1]));
            }
        }
    }
    found.extend(
        names
            .into_iter()
            .filter(|(_, positions)| positions.len() > 1)
            .map(|(name, positions)| SameName {
                name: name.to_owned(),
                within: within.clone(),
                positions,
            }),
    );
    for f in fields {
        within.push(f.name().clone());
        inside(f.data_type(), within, found);
        within.pop();
    }
}

/// The structs inside a value of type `t` (the writers write each as an object).
fn inside(t: &DataType, within: &mut Vec<String>, found: &mut Vec<SameName>) {
    match t {
        DataType::Struct(fields) => walk(fields, within, found),
        DataType::List(item)
        | DataType::LargeList(item)
        | DataType::ListView(item)
        | DataType::LargeListView(item)
        | DataType::FixedSizeList(item, _)
        | DataType::Map(item, _) => inside(item.data_type(), within, found),
        DataType::Dictionary(_, values) => inside(values, within, found),
        DataType::RunEndEncoded(_, values) => inside(values.data_type(), within, found),
        DataType::Union(fields, _) => {
            for (_, f) in fields.iter() {
                inside(f.data_type(), within, found);
            }
        }
        _ => {}
    }
}

/// The message of [`QueryError::DuplicateColumn`]: `more than one column named "id"
/// (columns 1 and 16), ...: each column ... needs a name of its own ...`.
pub(crate) fn describe(names: &[SameName]) -> String {
    let mut text = String::new();
    for (i, same) in names.iter().take(NAMED).enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let what = if same.within.is_empty() {
            "column"
        } else {
            "field"
        };
        if i == 0 {
            let _ = write!(text, "more than one {what} named ");
        }
        let _ = write!(
            text,
            "{} ({what}s {}",
            quoted(&same.name),
            positions(&same.positions)
        );
        if !same.within.is_empty() {
            let path: Vec<String> = same.within.iter().map(|n| quoted(n)).collect();
            let _ = write!(text, " of {}", path.join("."));
        }
        text.push(')');
    }
    if names.len() > NAMED {
        let _ = write!(text, " and {} more names", names.len() - NAMED);
    }
    format!("{text}: {NAME_THEM_APART}")
}

/// `1 and 16`, `1, 5 and 9`.
fn positions(positions: &[usize]) -> String {
    match positions.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => {
            let rest: Vec<String> = rest.iter().map(usize::to_string).collect();
            format!("{} and {last}", rest.join(", "))
        }
        None => String::new(),
    }
}

/// `name` as an SQL identifier is written (`"id"`, a `"` inside doubled), shortened,
/// with its control characters escaped as JSON would (a name can be any text).
fn quoted(name: &str) -> String {
    let mut short: String = name.chars().take(NAME_CHARS).collect();
    if short.len() < name.len() {
        short.push('…');
    }
    let mut out = String::from("\"");
    for c in short.chars() {
        match c {
            '"' => out.push_str("\"\""),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn int(name: &str) -> Field {
        Field::new(name, DataType::Int64, true)
    }

    fn names(fields: Vec<Field>) -> Vec<SameName> {
        match check(Schema::new(fields).fields()) {
            Ok(()) => Vec::new(),
            Err(QueryError::DuplicateColumn { names }) => names,
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn each_name_given_twice_is_named_with_its_positions_from_1() {
        let found = names(vec![int("id"), int("node"), int("x"), int("id"), int("id")]);
        assert_eq!(
            found,
            vec![SameName {
                name: "id".into(),
                within: vec![],
                positions: vec![1, 4, 5]
            }]
        );
        let text = describe(&found);
        assert!(
            text.starts_with("more than one column named \"id\" (columns 1, 4 and 5): "),
            "{text}"
        );
        assert!(text.contains("AS"), "{text}");
    }

    #[test]
    fn names_differing_in_case_are_two_names() {
        assert_eq!(names(vec![int("a"), int("A")]), vec![]);
    }

    #[test]
    fn fields_of_a_struct_inside_a_list_are_named_with_their_path() {
        let inner = DataType::Struct(vec![int("a"), int("a")].into());
        let list = DataType::List(Arc::new(Field::new("item", inner, true)));
        let outer = DataType::Struct(vec![Field::new("l", list, true)].into());
        let found = names(vec![int("a"), Field::new("s", outer, true)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].within, vec!["s".to_owned(), "l".to_owned()]);
        assert_eq!(
            describe(&found).split(": ").next().unwrap(),
            "more than one field named \"a\" (fields 1 and 2 of \"s\".\"l\")"
        );
    }

    #[test]
    fn many_names_are_counted_beyond_the_first_five() {
        let fields: Vec<Field> = (0..2)
            .flat_map(|_| (0..8).map(|i| int(&format!("c{i}"))))
            .collect();
        let text = describe(&names(fields));
        assert!(
            text.contains("\"c4\" (columns 5 and 13) and 3 more names: "),
            "{text}"
        );
        assert!(!text.contains("\"c5\""), "{text}");
    }

    #[test]
    fn a_name_is_quoted_shortened_and_escaped() {
        assert_eq!(quoted("a\"b\n"), "\"a\"\"b\\u000a\"");
        let long = "x".repeat(200);
        assert_eq!(quoted(&long).chars().count(), NAME_CHARS + 3);
    }
}
