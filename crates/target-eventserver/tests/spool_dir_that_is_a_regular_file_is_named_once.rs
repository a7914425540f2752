//! A `spool_dir` that is a regular file stops the target's setup with the project's
//! words for it, the path said once: `PATH: is a regular file, not a folder: ...`. The
//! error of the folder to create named the path, and the setup error wrapping it named
//! it again in front (`PATH: PATH: is a regular file, ...`), which reads as two paths.

use crate::common;

use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::ctx;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_path_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("afile");
    std::fs::write(&file, b"x\n").unwrap();
    let mut c = EventServerConfig::new("http://127.0.0.1:9".to_owned());
    c.spool_dir = Some(file.clone().into());
    let err = EventServerTarget::new(c, &ctx(dir.path(), "es"))
        .expect_err("a regular file was taken for the spool folder");
    assert_eq!(
        auditrail_core::ErrorReport(&err).to_string(),
        format!(
            "{}: is a regular file, not a folder: a folder is needed there (move it away, or \
             configure another path)",
            file.display()
        )
    );
}
