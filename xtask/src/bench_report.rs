//! What the process benches' reports share (`cargo xtask bench peers` and `bench scale`):
//! the run's conditions, how numbers read (`161 K`, `58 K - 64 K`, `2 000 000`), and the
//! report's place in docs/benchmarks.md.

use std::fmt::Write as _;
use std::path::PathBuf;

/// How, when and where a bench ran.
pub(crate) struct Run {
    pub command: String,
    pub started: String,
    pub ended: String,
    pub machine: String,
    pub file_system: String,
    pub load_before: String,
    pub load_after: String,
}

impl Run {
    /// The command line as typed (`cargo xtask bench <name> <args>`).
    pub(crate) fn command(name: &str, args: &[String]) -> String {
        std::iter::once(format!("cargo xtask bench {name}"))
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// "Measured ... by `...`." and the machine line; `data` names what lies on the
    /// measured file system (`data`, `stores`).
    pub(crate) fn header(&self, data: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Measured {} to {} by `{}`.\n",
            self.started, self.ended, self.command
        );
        let _ = writeln!(
            s,
            "- Machine: {}; {data} on {}.",
            self.machine, self.file_system
        );
        s
    }
}

/// Writes `report` into docs/benchmarks.md: between the lines `begin` and `end` when
/// they are there (text around them is kept), else as a new section `heading` at the end.
pub(crate) fn write_docs(
    report: &str,
    begin: &str,
    end: &str,
    heading: &str,
) -> Result<PathBuf, String> {
    let path = crate::run::workspace_root().join("docs/benchmarks.md");
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    std::fs::write(&path, place_section(&text, report, begin, end, heading))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// `text` with `report` between the lines `begin` and `end`, or, without them, with a new
/// section `heading` holding the report between them at the end.
pub(crate) fn place_section(
    text: &str,
    report: &str,
    begin: &str,
    end: &str,
    heading: &str,
) -> String {
    let generated = format!("{begin}\n{report}\n{end}");
    match (text.find(begin), text.find(end)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{generated}{}", &text[..b], &text[e + end.len()..])
        }
        _ => format!("{}\n\n{heading}\n\n{generated}\n", text.trim_end()),
    }
}

/// "min - max" of the values (one value alone when they read the same), each shown by
/// `show`; "-" when there are none.
pub(crate) fn range(values: impl Iterator<Item = f64>, show: impl Fn(f64) -> String) -> String {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        "-".into()
    } else if show(lo) == show(hi) {
        show(lo)
    } else {
        format!("{} - {}", show(lo), show(hi))
    }
}

/// Events per second as `950`, `8.4 K`, `161 K` or `1.23 M`.
pub(crate) fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0} K", v / 1e3)
    } else if v >= 1e3 {
        format!("{:.1} K", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// `2000000` as `2 000 000`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str = "<!-- begin -->";
    const END: &str = "<!-- end -->";
    const HEADING: &str = "## Bench";

    #[test]
    fn a_new_report_replaces_the_old_one_and_keeps_the_text_around_it() {
        let old =
            format!("# B\n\n{HEADING}\n\nsettings\n\n{BEGIN}\nold table\n\n{END}\n\n### Profile\n");
        let new = place_section(&old, "new table\n", BEGIN, END, HEADING);
        assert_eq!(
            new,
            format!("# B\n\n{HEADING}\n\nsettings\n\n{BEGIN}\nnew table\n\n{END}\n\n### Profile\n")
        );
    }

    #[test]
    fn without_markers_the_report_becomes_a_new_section_at_the_end() {
        let new = place_section("# B\n\ntext\n", "table\n", BEGIN, END, HEADING);
        assert_eq!(
            new,
            format!("# B\n\ntext\n\n{HEADING}\n\n{BEGIN}\ntable\n\n{END}\n")
        );
    }

    #[test]
    fn numbers_and_ranges_read_well() {
        assert_eq!(thousands(2_000_000), "2 000 000");
        assert_eq!(thousands(999), "999");
        assert_eq!(
            range([58_478.0, 64_425.0, 57_820.0].into_iter(), rate),
            "58 K - 64 K"
        );
        assert_eq!(range([1.0, 1.0].into_iter(), |v| format!("{v}")), "1");
        assert_eq!(range(std::iter::empty(), rate), "-");
        assert_eq!(rate(1_234_567.0), "1.23 M");
        assert_eq!(rate(161_000.0), "161 K");
        assert_eq!(rate(8_400.0), "8.4 K");
        assert_eq!(rate(950.0), "950");
    }

    #[test]
    fn the_header_names_the_command_and_the_machine() {
        let run = Run {
            command: Run::command("peers", &["--rounds".into(), "3".into()]),
            started: "a".into(),
            ended: "b".into(),
            machine: "2 cores".into(),
            file_system: "ext4".into(),
            load_before: "1".into(),
            load_after: "2".into(),
        };
        assert_eq!(
            run.header("data"),
            "Measured a to b by `cargo xtask bench peers --rounds 3`.\n\n- Machine: 2 cores; data on ext4.\n"
        );
    }
}
