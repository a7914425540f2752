//! Tidy check of the error style: no function visible outside its module (`pub`,
//! `pub(crate)`, `pub(super)`, `pub(in …)`) in `crates/` returns `Result<_, String>`. A
//! caller across a module boundary gets a `thiserror` enum of its failure family, whose
//! variants carry the facts (path, key, value, line) and keep the underlying error as
//! `#[source]`; a string loses both. Test files (`tests/`, `tests.rs`) are not checked.
//!
//! The scan reads text, not a syntax tree (xtask is std only): it takes each line that
//! opens a `pub… fn`, joins the lines up to the body's `{` (or `;`), and looks at the
//! return type after the parameter list.

#![cfg(test)]

use std::path::{Path, PathBuf};

/// Functions allowed to keep `Result<_, String>`: `(file, fn name)`, each saying why.
const ALLOWED: &[(&str, &str)] = &[
    // A clap value parser: `fn(&str) -> Result<T, String>` is the signature clap's
    // `value_parser` takes; clap prints the string after the argument's name.
    ("crates/cli/src/commands/delivery.rs", "timeout_seconds"),
];

/// The name and return type of the function a signature declares, when it is visible
/// outside its module (`sig` is the text from the visibility to the body's `{` or `;`).
fn visible_fn(sig: &str) -> Option<(&str, &str)> {
    let rest = sig.trim_start().strip_prefix("pub")?;
    let rest = if let Some(r) = rest.strip_prefix('(') {
        &r[r.find(')')? + 1..]
    } else {
        rest
    };
    let mut words = rest.trim_start();
    // Qualifiers between the visibility and `fn`.
    loop {
        let next = ["const ", "async ", "unsafe ", "extern \"C\" ", "extern "]
            .iter()
            .find_map(|q| words.strip_prefix(q));
        match next {
            Some(r) => words = r.trim_start(),
            None => break,
        }
    }
    let after_fn = words.strip_prefix("fn ")?.trim_start();
    let name_end = after_fn
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after_fn.len());
    let name = &after_fn[..name_end];
    // The parameter list: the first `(` outside the generics, to its matching `)`. An
    // `->` inside the generics (`F: Fn() -> T`) closes no `<`.
    let bytes = after_fn.as_bytes();
    let (mut angle, mut paren, mut params_end) = (0i32, 0i32, None);
    for (i, &b) in bytes.iter().enumerate().skip(name_end) {
        match b {
            b'<' => angle += 1,
            b'>' if i > 0 && bytes[i - 1] != b'-' => angle -= 1,
            b'(' => paren += 1,
            b')' => {
                paren -= 1;
                if paren == 0 && angle == 0 {
                    params_end = Some(i + 1);
                    break;
                }
            }
            _ => {}
        }
    }
    let tail = after_fn[params_end?..].trim_start();
    let ret = tail.strip_prefix("->")?;
    let ret = ret.split(" where ").next().unwrap_or(ret);
    Some((name, ret.trim().trim_end_matches(['{', ';']).trim()))
}

/// Whether a type names `Result<…, String>` anywhere (`Option<Result<T, String>>`,
/// a tuple holding one, `std::result::Result<T, String>`).
fn has_string_error(ty: &str) -> bool {
    let ty: String = ty.split_whitespace().collect();
    let mut rest = ty.as_str();
    while let Some(at) = rest.find("Result<") {
        let preceded = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let args = &rest[at + "Result<".len()..];
        rest = args;
        if preceded {
            continue; // `FooResult<…>`: another type.
        }
        // The last top-level argument, up to the matching `>`.
        // (A trailing comma leaves an empty last argument: the one before it counts.)
        let (mut depth, mut start, mut previous) = (0i32, 0usize, "");
        for (i, c) in args.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '>' if depth == 0 => {
                    let last = Some(&args[start..i])
                        .filter(|a| !a.is_empty())
                        .unwrap_or(previous);
                    // One argument is an alias's `Ok` type (`io::Result<String>`).
                    let two = start > 0;
                    if two && (last == "String" || last == "std::string::String") {
                        return true;
                    }
                    break;
                }
                '>' => depth -= 1,
                ',' if depth == 0 => {
                    previous = &args[start..i];
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    false
}

/// `path:line: name` of each function visible outside its module that returns
/// `Result<_, String>` in the Rust sources below `dir` (tests left out), as paths
/// relative to `root`.
fn string_error_fns(root: &Path, dir: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                if name != "tests" && name != "target" {
                    stack.push(p);
                }
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") || name == "tests.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            found.extend(string_error_fns_in(&rel, &text));
        }
    }
    found.sort();
    found
}

/// The findings of [`string_error_fns`] in one file's text.
fn string_error_fns_in(rel: &str, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if !code.starts_with("pub") || !code.contains("fn ") && !code.ends_with("fn") {
            continue;
        }
        // Join the signature's lines (comments dropped) up to its body or `;`.
        let mut sig = String::new();
        for l in lines.iter().skip(i).take(40) {
            let l = l.split("//").next().unwrap_or("");
            sig.push(' ');
            sig.push_str(l.trim());
            if l.contains('{') || l.trim_end().ends_with(';') {
                break;
            }
        }
        let Some((name, ret)) = visible_fn(&sig) else {
            continue;
        };
        if has_string_error(ret) && !ALLOWED.contains(&(rel, name)) {
            found.push(format!("{rel}:{}: {name} -> {ret}", i + 1));
        }
    }
    found
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

#[test]
fn no_function_across_modules_returns_a_string_error() {
    let found = string_error_fns(&root(), "crates");
    assert!(
        found.is_empty(),
        "functions visible outside their module return `Result<_, String>`: return a \
         `thiserror` enum of the failure family instead (variants with the facts, the \
         cause as `#[source]`), or add the function to ALLOWED in xtask/src/tidy_errors.rs \
         saying why: {found:#?}"
    );
}

#[test]
fn the_check_finds_string_errors_in_every_shape() {
    let text = r#"
pub fn plain(s: &str) -> Result<(), String> {
pub(crate) fn crate_wide() -> Result<u64, String> {
pub(super) async fn parent(a: u8) -> Option<Result<Vec<u8>, String>> {
    pub(crate) fn multi_line<F: Fn() -> u8>(
        f: F,
    ) -> std::result::Result<
        HashMap<String, u8>,
        String,
    > {
pub fn tuple() -> (u8, Result<(), String>) {
pub fn typed() -> Result<(), ConfigError> {
pub fn string_ok() -> Result<String, io::Error> {
pub fn alias() -> io::Result<String> {
pub fn nested() -> io::Result<Result<u64, String>> {
pub fn closure_arg(f: impl Fn() -> Result<(), String>) -> u8 {
pub fn other_result() -> MyResult<(), String> {
fn private() -> Result<(), String> {
pub struct NotAFn(Result<(), String>);
"#;
    let found = string_error_fns_in("x.rs", text);
    let names: Vec<&str> = found
        .iter()
        .map(|f| {
            f.split(": ")
                .nth(1)
                .unwrap_or("")
                .split(' ')
                .next()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(
        names,
        [
            "plain",
            "crate_wide",
            "parent",
            "multi_line",
            "tuple",
            "nested"
        ],
        "{found:#?}"
    );
}

#[test]
fn the_allowed_functions_exist_and_still_return_a_string() {
    // An entry left behind after its function was fixed or renamed would let another
    // function of that name in.
    let root = root();
    for (file, name) in ALLOWED {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let still = lines.iter().enumerate().any(|(i, l)| {
            let sig: String = lines[i..(i + 5).min(lines.len())].join(" ");
            l.trim_start().starts_with("pub")
                && visible_fn(&sig).is_some_and(|(n, ret)| n == *name && has_string_error(ret))
        });
        assert!(
            still,
            "ALLOWED names {file} {name}, which no longer returns Result<_, String>"
        );
    }
}
