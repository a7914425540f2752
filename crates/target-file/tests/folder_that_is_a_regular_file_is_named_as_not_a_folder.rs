//! A file target's `dir` that is a regular file (a stray copy, a restore gone wrong)
//! stops the target's start with an error that says the path is not a folder. `mkdir`
//! says "File exists (os error 17)" of it, which sends the operator looking for a
//! folder that exists.

use auditrail_core::BuildError;
use auditrail_target_file::{FileTarget, FileTargetConfig, Rotation};

#[test]
fn the_error_says_the_path_is_a_regular_file_not_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("audit");
    std::fs::write(&file, b"x\n").unwrap();
    for rotation in [Rotation::Never, Rotation::Size, Rotation::Daily] {
        let c = FileTargetConfig {
            dir: Some(file.clone().into()),
            rotation: Some(rotation),
            ..Default::default()
        };
        match FileTarget::open(&c) {
            Err(e @ BuildError::Io { .. }) => {
                let text = e.to_string();
                let said = format!("{}: is a regular file, not a folder", file.display());
                assert!(text.contains(&said), "{rotation:?}: {text}");
                assert!(!text.contains("File exists"), "{rotation:?}: {text}");
            }
            Err(other) => panic!("expected an I/O error, got {other}"),
            Ok(_) => panic!("a regular file was taken for the folder"),
        }
        assert_eq!(
            std::fs::read(&file).unwrap(),
            b"x\n",
            "the file is left alone"
        );
    }
}
