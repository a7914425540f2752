//! Terminal bar charts, so that "which node / project dominates" is seen at a glance.

use unicode_width::UnicodeWidthStr;

use crate::commands::shown;

/// A bar of `width` cells for `value` out of `max`, with eighth-cell precision.
pub(super) fn bar(value: f64, max: f64, width: usize) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    if max <= 0.0 || value <= 0.0 {
        return String::new();
    }
    let eighths = ((value / max) * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    s.push_str(PARTS[eighths % 8]);
    if s.is_empty() {
        s.push('▏'); // a non-zero value always shows
    }
    s
}

/// What a table shows where a value is missing (a failed login that named no user).
const NONE: &str = "(none)";

/// A cell of a [`table_of`]: a value from events, the report's own text, or none.
pub(super) enum Cell {
    /// A value taken from events, of the column named first (the path of its field in
    /// the report's JSON rows, `[].user`, which the answer's marks name it by), shown
    /// through [`shown::table_cell`], and in quotes when it reads as a missing value
    /// (`"(none)"`).
    Text(&'static str, String),
    /// The report's own text (a count, a time, a bar, or a list whose values were
    /// each shown through [`shown::list_item`]): written as it is. An empty one is
    /// an empty cell (no latency, no bar), not an empty text from an event.
    Own(String),
    /// No value: `(none)`.
    Missing,
}

/// The report's own text: `count.to_string().into()`.
impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Own(text)
    }
}

/// Left-aligned text table: header, rows, each column as wide as its widest cell, in
/// the columns a terminal gives it (`unicode_width`: a CJK character takes two).
/// A [`Cell::Text`] is shown through [`shown::table_cell`]: it holds a value taken
/// from events. A [`Cell::Missing`] is `(none)`, and a value that reads so is shown in
/// quotes (`"(none)"`): a user can be named `(none)`, and the two read the same before.
pub(super) fn table_of(header: &[&str], rows: &[Vec<Cell>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Cell::Missing => NONE.to_owned(),
                    Cell::Own(text) => text.clone(),
                    Cell::Text(column, text) => match shown::table_cell(column, text) {
                        shown if shown == NONE => format!("\"{NONE}\""),
                        shown => shown.into_owned(),
                    },
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.width());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                // Padded by width: `format!`'s `{:<w$}` counts characters.
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[i] - cell.width() + 2));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_maximum() {
        assert_eq!(bar(10.0, 10.0, 4), "████");
        assert_eq!(bar(5.0, 10.0, 4), "██");
        assert_eq!(bar(0.01, 10.0, 4), "▏");
        assert_eq!(bar(0.0, 10.0, 4), "");
    }

    #[test]
    fn tables_align_columns() {
        let t = table_of(
            &["A", "B"],
            &[vec![
                Cell::Text("", "long-cell".into()),
                "x".to_owned().into(),
            ]],
        );
        assert_eq!(t, "A          B\nlong-cell  x\n");
    }

    #[test]
    fn wide_characters_are_aligned_by_their_width() {
        let t = table_of(
            &["USER", "N"],
            &[
                vec![
                    Cell::Text("", "\u{7530}\u{4e2d}".into()),
                    "1".to_owned().into(),
                ],
                vec![Cell::Text("", "bob".into()), "2".to_owned().into()],
            ],
        );
        assert_eq!(t, "USER  N\n\u{7530}\u{4e2d}  1\nbob   2\n");
    }

    #[test]
    fn users_told_apart_only_by_white_space_are_two_rows_that_look_different() {
        let t = table_of(
            &["USER", "EVENTS"],
            &[
                vec![Cell::Text("", "alice".into()), "3".to_owned().into()],
                vec![Cell::Text("", "alice ".into()), "1".to_owned().into()],
            ],
        );
        let rows: Vec<&str> = t.lines().skip(1).collect();
        assert_eq!(rows, ["alice     3", "\"alice \"  1"], "{t}");
    }

    #[test]
    fn a_missing_value_reads_apart_from_a_value_named_like_it() {
        let t = table_of(
            &["USER", "N"],
            &[
                vec![Cell::Missing, Cell::Text("", "1".into())],
                vec![Cell::Text("", "(none)".into()), Cell::Text("", "2".into())],
                vec![
                    Cell::Text("", "\u{0}(none)".into()),
                    Cell::Text("", "3".into()),
                ],
            ],
        );
        let users: Vec<&str> = t
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(users, ["(none)", "\"(none)\"", "\\u{0}(none)"], "{t}");
    }
}
