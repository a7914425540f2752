//! A node whose event server's certificate it refuses said only rustls' variant name:
//! `invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))` for a self-signed
//! CA certificate (what `openssl req -x509` makes), refused even once it is in
//! `ca_file`, and `UnknownIssuer` for one issued by a CA the node does not trust. The
//! error now says what to do, after rustls' words; the events stay spooled (status 3).
//! A real `auditrail serve` with `[tls]`, and the real `send`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::common;
use crate::serve_support;

const CONFIG: &str = "data_dir = \"data\"\n[tls]\ncert = \"tls.crt\"\nkey = \"tls.key\"\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// Starts a TLS server in `dir` whose certificate for 127.0.0.1 is made by `make`.
fn serve_with(dir: &Path, is_ca: bool) -> serve_support::ServerProc {
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
    if is_ca {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("tls.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("tls.key"), key.serialize_pem()).unwrap();
    std::fs::write(dir.join("server.toml"), CONFIG).unwrap();
    serve_support::start(dir, &["--config", "server.toml"])
}

fn send(server: &serve_support::ServerProc, ca_file: Option<&Path>) -> (Option<i32>, String) {
    let ca = ca_file.map_or(String::new(), |f| {
        format!("ca_file = \"{}\"\n", f.display())
    });
    let node = common::Node::with_eventserver_target(
        "node-tls",
        &format!("https://{}", server.addr),
        &format!("backoff_max_ms = 200\n{ca}"),
    );
    let out = node.send_login("2");
    (out.status.code(), common::text(&out).1)
}

#[test]
fn a_ca_certificate_as_the_servers_own_is_named_as_such_even_in_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(dir.path(), true);
    let (status, err) = send(&server, Some(&dir.path().join("tls.crt")));
    assert_eq!(status, Some(3), "{err}");
    assert!(
        err.contains("the server presents a CA certificate") && err.contains("CA:FALSE"),
        "{err}"
    );
    server.terminate();
}

#[test]
fn a_certificate_of_an_issuer_not_trusted_says_to_set_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(dir.path(), false);
    let (status, err) = send(&server, None);
    assert_eq!(status, Some(3), "{err}");
    assert!(
        err.contains("not issued by a CA this node trusts: set `ca_file`"),
        "{err}"
    );
    server.terminate();
}
