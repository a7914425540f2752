//! The server's own `[tls]` certificate expired (or not valid yet) was taken at start and
//! at a reload without a word, while every node failed its handshake and spooled. Now
//! the log warns, naming the file and the validity period, at start and at a reload;
//! the certificate is still used (a renewal may be on its way).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::serve_support;

const CONFIG: &str = "data_dir = \"data\"\n[tls]\ncert = \"tls.crt\"\nkey = \"tls.key\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// Writes `tls.crt` and `tls.key`: a certificate valid from `from` to `to` (y, m, d).
fn write_pair(dir: &Path, from: (i32, u8, u8), to: (i32, u8, u8)) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("tls.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("tls.key"), key.serialize_pem()).unwrap();
}

#[test]
fn an_expired_or_not_yet_valid_certificate_is_warned_of_at_start_and_at_reload() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    write_pair(dir.path(), (2025, 1, 1), (2025, 2, 1));
    let server = serve_support::start(dir.path(), &["--config", "server.toml"]);
    let file = dir.path().join("tls.crt");
    let expired = format!(
        "tls.cert {}: the server's certificate has expired (valid from 2025-01-01T00:00:00Z to \
         2025-02-01T00:00:00Z",
        file.display()
    );
    let log = server.stderr();
    assert!(log.contains(&expired), "{log}");
    write_pair(dir.path(), (2090, 1, 1), (2091, 1, 1));
    serve_support::hangup(&server);
    serve_support::wait_for_log(&server, "reloaded (keys");
    let log = server.stderr();
    assert!(
        log.contains(&format!(
            "tls.cert {}: the server's certificate is not valid yet (valid from \
             2090-01-01T00:00:00Z to 2091-01-01T00:00:00Z",
            file.display()
        )),
        "{log}"
    );
    assert_eq!(server.terminate(), 0);
}
