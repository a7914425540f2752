//! A secret key's line (`ed25519-secret:<64 hex>`, what `auditrail keys new` writes)
//! given where its public half goes, on the command line or in the file
//! `--public-key` names, is refused naming the mistake, and the secret is never shown:
//! the error printed it in full (`(got "ed25519-secret:...")`, or as the path of a file
//! not found), and what is printed reaches terminals, journals and log collectors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const HEX: &str = "e547c0ffee0123456789abcdef0123456789abcdef0123456789abcdef012345";

fn verify(dir: &std::path::Path, public_key: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "store", "--public-key", public_key])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_secret_key_given_as_the_public_key_is_named_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("store")).unwrap();
    let secret = format!("ed25519-secret:{HEX}");

    let said = verify(dir.path(), &secret);
    assert!(said.contains("this is a secret key"), "{said}");
    assert!(!said.contains(&HEX[..16]), "{said}");

    std::fs::write(dir.path().join("key.pub"), format!("{secret}\n")).unwrap();
    let said = verify(dir.path(), "key.pub");
    assert!(
        said.contains("key.pub") && said.contains("this is a secret key"),
        "{said}"
    );
    assert!(!said.contains(&HEX[..16]), "{said}");

    // Any other text is shown by its start and length only.
    let said = verify(dir.path(), &format!("ed25519:{HEX}zz"));
    assert!(said.contains("(74 characters)"), "{said}");
    assert!(!said.contains(&HEX[..16]), "{said}");
}
