//! A reload (SIGHUP) whose `[tls] cert` now holds an expired certificate (a renewal gone
//! wrong, an old backup put back) put it in place of the running, valid one with only
//! a warning: from then on every node refused the handshake and collection stopped.
//! Such a reload is now refused, naming the file, both validity periods and what to
//! do; the running certificate keeps serving (a real node still delivers over it),
//! and a valid certificate put there later is taken by the next SIGHUP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::common;
use crate::serve_support;

const CONFIG: &str = "data_dir = \"data\"\n[tls]\ncert = \"tls.crt\"\nkey = \"tls.key\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// A CA (`ca.crt`) and what `write_pair` issues with it.
struct Ca {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl Ca {
    fn new(dir: &Path) -> Ca {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.join("ca.crt"), cert.pem()).unwrap();
        Ca { cert, key }
    }

    /// Writes `tls.crt` and `tls.key`: a certificate for 127.0.0.1 valid from `from`
    /// to `to` (y, m, d), issued by this CA.
    fn write_pair(&self, dir: &Path, from: (i32, u8, u8), to: (i32, u8, u8)) {
        let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        std::fs::write(dir.join("tls.crt"), cert.pem()).unwrap();
        std::fs::write(dir.join("tls.key"), key.serialize_pem()).unwrap();
    }
}

/// `auditrail send` of one event to the server, trusting the CA (at most 20 s): its
/// exit code and output.
fn send(dir: &Path, server: &serve_support::ServerProc) -> (Option<i32>, String) {
    let node = common::Node::with_eventserver_target(
        "node-tls",
        &format!("https://{}", server.addr),
        &format!(
            "backoff_max_ms = 200\nca_file = \"{}\"\n",
            dir.join("ca.crt").display()
        ),
    );
    let out = node.send_login("20");
    (out.status.code(), common::text(&out).1)
}

#[test]
fn an_expired_certificate_is_not_put_in_place_of_a_valid_one() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path());
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    ca.write_pair(dir.path(), (2020, 1, 1), (2090, 1, 1));
    let server = serve_support::start(dir.path(), &["--config", "server.toml"]);
    let (status, out) = send(dir.path(), &server);
    assert_eq!(status, Some(0), "{out}");

    ca.write_pair(dir.path(), (2025, 1, 1), (2025, 2, 1));
    serve_support::hangup(&server);
    serve_support::wait_for_log(&server, "not reloaded");
    let log = server.stderr();
    let file = dir.path().join("tls.crt");
    assert!(
        log.contains(&format!(
            "tls.cert {}: the new certificate has expired (valid from 2025-01-01T00:00:00Z \
             to 2025-02-01T00:00:00Z",
            file.display()
        )) && log.contains("while the running one is valid until 2090-01-01T00:00:00Z"),
        "{log}"
    );
    // The running certificate still serves.
    let (status, out) = send(dir.path(), &server);
    assert_eq!(status, Some(0), "{out}");

    // A valid one put there later is taken.
    ca.write_pair(dir.path(), (2021, 1, 1), (2091, 1, 1));
    serve_support::hangup(&server);
    serve_support::wait_for_log(&server, "reloaded (keys");
    let (status, out) = send(dir.path(), &server);
    assert_eq!(status, Some(0), "{out}");
    assert_eq!(server.terminate(), 0);
}
