//! A folder or file that cannot be used fails the build with the path and the OS
//! error (tests run as root, so permission bits cannot make a folder unwritable:
//! these use paths that no user can write).

use auditrail_core::{BuildError, DeliveryOptions, Dispatcher, Filter, NodeId};
use auditrail_target_file::{FileTarget, FileTargetConfig, Rotation};

fn config(dir: std::path::PathBuf) -> FileTargetConfig {
    FileTargetConfig {
        dir: Some(dir.into()),
        ..Default::default()
    }
}

#[test]
fn a_folder_under_a_regular_file_is_an_io_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("regular-file");
    std::fs::write(&file, b"x").unwrap();
    let dir = file.join("audit");
    for rotation in [Rotation::Size, Rotation::Hourly] {
        let c = FileTargetConfig {
            rotation: Some(rotation),
            ..config(dir.clone())
        };
        match FileTarget::open(&c) {
            Err(BuildError::Io { path, source }) => {
                assert_eq!(path, dir);
                assert_eq!(source.kind(), std::io::ErrorKind::NotADirectory, "{source}");
                let said = format!("{}: is a regular file, not a folder", file.display());
                assert!(source.to_string().contains(&said), "{source}");
            }
            Err(other) => panic!("expected an I/O error, got {other}"),
            Ok(_) => panic!("a folder under a regular file was accepted"),
        }
    }
}

#[test]
fn an_active_file_that_is_a_folder_is_an_io_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("audit.log")).unwrap();
    let err = FileTarget::open(&config(tmp.path().to_path_buf()))
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(matches!(err, BuildError::Io { .. }), "{text}");
    assert!(
        text.contains("audit.log") && text.contains("Is a directory"),
        "{text}"
    );
}

#[test]
fn an_existing_folder_that_refuses_new_files_is_an_io_error_naming_the_file() {
    // sysfs refuses to create files even for root: a folder that exists but cannot
    // be written.
    let dir = std::path::PathBuf::from("/sys/kernel");
    if !dir.is_dir() {
        eprintln!("no /sys/kernel on this machine; nothing to check");
        return;
    }
    for rotation in [Rotation::Size, Rotation::Daily] {
        let c = FileTargetConfig {
            rotation: Some(rotation),
            ..config(dir.clone())
        };
        match FileTarget::open(&c) {
            Err(BuildError::Io { path, source }) => {
                assert!(path.starts_with(&dir), "{}", path.display());
                assert!(
                    path.to_string_lossy().contains("audit"),
                    "{}",
                    path.display()
                );
                assert_eq!(
                    source.kind(),
                    std::io::ErrorKind::PermissionDenied,
                    "{source}"
                );
            }
            Err(other) => panic!("expected an I/O error, got {other}"),
            Ok(_) => panic!("{rotation:?}: a folder that refuses files was accepted"),
        }
    }
}

#[test]
fn the_dispatcher_build_error_names_target_path_and_os_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("regular-file");
    std::fs::write(&file, b"x").unwrap();
    let err = Dispatcher::builder(NodeId::new("n1").unwrap())
        .registered_target(
            "local",
            &auditrail_target_file::REGISTRATION,
            serde_json::json!({ "dir": file.join("audit") }),
            Filter::all(),
            DeliveryOptions::default(),
        )
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("\"local\""), "{err}");
    assert!(err.contains("regular-file/audit"), "{err}");
    assert!(
        err.contains("regular-file: is a regular file, not a folder"),
        "{err}"
    );
}
