//! `BuildContext` is `#[non_exhaustive]`: a target crate (its tests, its benches) makes
//! one with `BuildContext::new`, with no folder check until `with_folder_check` gives
//! one, so that a field added later breaks none of them.

use std::sync::Arc;

use auditrail_core::{BuildContext, FolderCheck, FolderGone, NodeId};

#[derive(Debug)]
struct Gone;

impl FolderCheck for Gone {
    fn check(&self) -> Result<(), FolderGone> {
        Err(FolderGone {
            folder: "data".into(),
            found: "gone".into(),
        })
    }
}

#[tokio::test]
async fn the_constructor_sets_each_field_and_no_folder_check() {
    let ctx = BuildContext::new(
        NodeId::new("node-a").unwrap(),
        "central",
        "run",
        "run/deadletter",
        tokio::runtime::Handle::current(),
    );
    assert_eq!(ctx.node.as_str(), "node-a");
    assert_eq!(ctx.target_name, "central");
    assert_eq!(ctx.run_dir, std::path::Path::new("run"));
    assert_eq!(ctx.dead_letter_dir, std::path::Path::new("run/deadletter"));
    assert!(ctx.folder_check.is_none());
}

#[tokio::test]
async fn with_folder_check_gives_the_check_the_target_asks() {
    let ctx = BuildContext::new(
        NodeId::new("node-a").unwrap(),
        "central",
        "run",
        "run/deadletter",
        tokio::runtime::Handle::current(),
    )
    .with_folder_check(Arc::new(Gone));
    let check = ctx.folder_check.as_deref().expect("a folder check");
    let err = auditrail_core::folder_check::ask(Some(check)).unwrap_err();
    assert!(
        err.to_string().contains("the data folder data: gone"),
        "{err}"
    );
}
