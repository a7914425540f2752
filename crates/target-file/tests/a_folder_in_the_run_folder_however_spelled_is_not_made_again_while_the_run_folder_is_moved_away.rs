//! A `file` target's folder in the run folder, with the run folder's check (an event
//! server's data folder, moved away while the server runs: `mv data data.moved`): the
//! audit folder went with it, and is not made again at its path, which would make the
//! run folder again there, holding only it. However the two paths are spelled: a
//! relative run folder (`--data-dir data`) and an absolute `dir`, the run folder named
//! through a symbolic link, `./` before one and not the other, `elsewhere/../run`.
//! Each of these was taken for a folder elsewhere (the paths' text compared) and made
//! again, with the run folder. A folder really elsewhere is still made again.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::{
    BuildContext, EventDraft, FolderCheck, FolderGone, NodeId, TargetConfig, TargetError,
};
use auditrail_target_file::FileTargetConfig;

/// The run folder's check, as the event server's of its data folder: in place while
/// the folder at its path is the one there at start.
#[derive(Debug)]
struct RunFolder {
    path: PathBuf,
    id: (u64, u64),
}

impl RunFolder {
    fn of(path: &Path) -> RunFolder {
        let m = std::fs::metadata(path).unwrap();
        RunFolder {
            path: path.to_owned(),
            id: (m.dev(), m.ino()),
        }
    }
}

impl FolderCheck for RunFolder {
    fn check(&self) -> Result<(), FolderGone> {
        match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == self.id => Ok(()),
            _ => Err(FolderGone {
                folder: self.path.clone(),
                found: "moved away".into(),
            }),
        }
    }
}

fn event(seq: u64) -> Arc<auditrail_core::Event> {
    Arc::new(
        EventDraft::new("generic", "login")
            .complete(&NodeId::new("n1").unwrap(), || seq)
            .unwrap(),
    )
}

/// `path` (absolute) from the working directory, as a relative path.
fn from_cwd(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let ups = cwd.components().count() - 1;
    let mut rel = PathBuf::new();
    for _ in 0..ups {
        rel.push("..");
    }
    rel.join(path.strip_prefix("/").unwrap())
}

/// A target writing in `dir`, built with run folder `run_dir` and the check of the
/// real run folder `run`; writes, then `run` is moved away (and `elsewhere`, the
/// folder `dir` really is in when it is not in `run`, removed), then writes again.
/// Returns the second write's error, `None` when it was taken.
async fn write_after_the_run_folder_moved(
    run: &Path,
    run_dir: &Path,
    dir: &Path,
    elsewhere: &Path,
) -> Option<TargetError> {
    let ctx = BuildContext::new(
        NodeId::new("n1").unwrap(),
        "local",
        run_dir,
        run_dir.join("deadletter"),
        tokio::runtime::Handle::current(),
    )
    .with_folder_check(Arc::new(RunFolder::of(run)));
    let config = FileTargetConfig {
        dir: Some(dir.into()),
        ..Default::default()
    };
    let mut target = config.build(&ctx).unwrap();
    target.send(&[event(1)]).await.unwrap();

    std::fs::rename(run, run.with_extension("moved")).unwrap();
    if elsewhere.exists() {
        std::fs::remove_dir_all(elsewhere).unwrap();
    }
    let second = target.send(&[event(2)]).await.err();
    let _ = target.shutdown().await;
    second
}

/// Each spelling of a folder in the run folder: the write waits (a retryable error
/// naming the run folder) and the run folder is not made again at its path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn however_spelled_the_audit_folder_and_the_run_folder_are_not_made_again() {
    type Spelling = fn(&Path) -> (PathBuf, PathBuf);
    let spellings: [(&str, Spelling); 6] = [
        ("relative run folder, absolute dir", |base| {
            (from_cwd(&base.join("run")), base.join("run/audit"))
        }),
        ("run folder through a symbolic link", |base| {
            std::os::unix::fs::symlink(base.join("run"), base.join("run-link")).unwrap();
            (base.join("run-link"), base.join("run/audit"))
        }),
        ("dir through a symbolic link", |base| {
            std::os::unix::fs::symlink(base.join("run"), base.join("run-link")).unwrap();
            (base.join("run"), base.join("run-link/audit"))
        }),
        ("./ before the run folder only", |base| {
            let rel = from_cwd(base);
            (Path::new(".").join(rel.join("run")), rel.join("run/audit"))
        }),
        ("elsewhere/../run", |base| {
            (base.join("run"), base.join("elsewhere/../run/audit"))
        }),
        ("a slash after the run folder", |base| {
            (base.join("run/"), base.join("run/audit/"))
        }),
    ];
    let mut wrong = Vec::new();
    for (case, spell) in spellings {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let run = base.join("run");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::create_dir_all(base.join("elsewhere")).unwrap();
        let (run_dir, dir) = spell(&base);
        let second =
            write_after_the_run_folder_moved(&run, &run_dir, &dir, &base.join("nothing")).await;
        assert!(
            run.with_extension("moved").join("audit").is_dir(),
            "{case}: the audit folder did not move with the run folder"
        );
        let named = format!("the data folder {}", run.display());
        match second {
            Some(TargetError::Retryable { message, .. }) if message.contains(&named) => {}
            other => wrong.push(format!("{case}: the write answered {other:?}")),
        }
        if std::fs::symlink_metadata(&run).is_ok() {
            wrong.push(format!(
                "{case}: the run folder was made again at its path ({} with `dir` {})",
                run_dir.display(),
                dir.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A folder beside the run folder, removed while the run folder is moved away: made
/// again, and the write taken; the run folder is not made again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_elsewhere_is_made_again() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let run = base.join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::os::unix::fs::symlink(&run, base.join("run-link")).unwrap();
    let elsewhere = base.join("elsewhere");
    let second =
        write_after_the_run_folder_moved(&run, &base.join("run-link"), &elsewhere, &elsewhere)
            .await;
    assert!(
        second.is_none(),
        "the write in a folder elsewhere waited for the run folder: {second:?}"
    );
    assert!(elsewhere.is_dir());
    assert!(std::fs::symlink_metadata(&run).is_err());
}
