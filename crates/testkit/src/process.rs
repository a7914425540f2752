//! A test that runs part of itself in a second process (a writer to kill, a second
//! opener of a locked store) starts its own test binary again with `--exact NAME`.

/// The name under which the test harness knows the test function `function` of the
/// module whose `module_path!()` is `module_path`: the path without the binary's own
/// crate name. The integration tests of a crate are modules of one binary
/// (`tests/main.rs`), so a bare function name matches no test there, and the child would
/// run nothing and pass.
///
/// ```
/// assert_eq!(
///     auditrail_testkit::process::harness_name("integration::store_kill9", "child"),
///     "store_kill9::child"
/// );
/// assert_eq!(auditrail_testkit::process::harness_name("alone", "child"), "child");
/// ```
pub fn harness_name(module_path: &str, function: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{function}"),
        None => function.to_owned(),
    }
}
