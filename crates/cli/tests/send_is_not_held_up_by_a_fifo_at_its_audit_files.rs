//! A FIFO (named pipe) put at the name of one of a `file` target's own files: the
//! active `audit.log`, the size rotation's lock file `.audit.log.lock`, or the day's
//! file of `rotation = "daily"`. `auditrail send` blocked for ever opening it for
//! writing (no reader; its `--timeout` never came), and with a FIFO at the day's file
//! wrote the batch into the pipe and blamed a truncation. Now the FIFO is refused at
//! once, naming it and what it is; as for any target whose files cannot be used, the
//! event is not acknowledged (dead-lettered at the deadline: exit status 4), never
//! written into the pipe.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::tamper_support;

use std::time::Duration;

#[cfg(unix)]
#[test]
fn each_audit_file_replaced_by_a_fifo_is_named_and_not_waited_on() {
    let args: Vec<&str> = common::SEND_A_LOGIN
        .iter()
        .copied()
        .chain(["--timeout", "1"])
        .collect();
    for (rotation, file) in [
        ("size", Some("audit.log")),
        ("size", Some(".audit.log.lock")),
        ("daily", None), // the day's file, `audit.YYYY-MM-DD.log`
    ] {
        let node = common::Node::with_file_target(&format!("rotation = \"{rotation}\""));
        // A first run makes the files; an operator then replaces one by a FIFO.
        let first = node.run(&args, "");
        assert!(first.status.success(), "{:?}", common::text(&first));
        let name = file.map(str::to_owned).unwrap_or_else(|| {
            std::fs::read_dir(node.path().join("audit"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .find(|n| n.starts_with("audit.2"))
                .expect("the day's file")
        });
        let fifo = node.path().join("audit").join(&name);
        std::fs::remove_file(&fifo).unwrap();
        tamper_support::make_fifo(&fifo);
        // Without the fix: `None` for the size rotation's files, the send still
        // waiting in open(2) after a minute.
        let out = node
            .run_within(&args, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("a FIFO at {name}: send hung"));
        let (_, err) = common::text(&out);
        let named = fifo.display().to_string();
        assert!(
            err.lines()
                .any(|l| l.contains(&named)
                    && l.contains("is a FIFO (named pipe), not a regular file")),
            "{name}: {err}"
        );
        assert_eq!(out.status.code(), Some(4), "{name}: {err}");
        assert!(err.contains("1 dead-lettered"), "{name}: {err}");
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo(),
            "{name}: the FIFO is left for the operator"
        );
    }
}

#[cfg(unix)]
use std::os::unix::fs::FileTypeExt;
