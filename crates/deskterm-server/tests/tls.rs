//! HTTPS: with `--tls-cert`/`--tls-key` the server speaks TLS only, and
//! unusable certificate files are refused with a clear error.

#[path = "support/certs.rs"]
mod certs;

use std::path::Path;

use certs::Certs;
use deskterm_server::{Db, Options, Tls};
use reqwest::StatusCode;

/// A client that trusts only `ca_pem`.
fn client_trusting(ca_pem: &str) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_api_is_served_over_tls_only() {
    let certs = Certs::new();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("helpdesk.db")).await.unwrap();
    let (_, token) = deskterm_server::add_operator(&db, "Ana Test", "ana@example.com")
        .await
        .unwrap();
    let options = Options {
        tls: Some(Tls::from_pem_files(&certs.path("cert.pem"), &certs.path("key.pem")).unwrap()),
        ..Options::default()
    };
    let server = deskterm_server::spawn_with(db, "127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap();
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let r = client_trusting(&certs.ca_pem)
        .get(format!("{url}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("an HTTPS request with the CA trusted");
    assert_eq!(r.status(), StatusCode::OK);

    let plain = url.replacen("https://", "http://", 1);
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{plain}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(r.is_err(), "plain HTTP to the TLS port was answered: {r:?}");

    let stranger = client_trusting(&Certs::new().ca_pem)
        .get(format!("{url}/api/v1/me"))
        .send()
        .await;
    assert!(
        stranger.is_err(),
        "a certificate from an untrusted CA was accepted"
    );
    server.shutdown().await;
}

fn tls_error(cert: &Path, key: &Path) -> String {
    format!("{:#}", Tls::from_pem_files(cert, key).unwrap_err())
}

#[test]
fn unusable_certificate_files_are_refused_clearly() {
    let certs = Certs::new();
    let (cert, key) = (certs.path("cert.pem"), certs.path("key.pem"));
    let missing = certs.path("missing.pem");

    let e = tls_error(&missing, &key);
    assert!(
        e.contains("cannot read the TLS certificate") && e.contains("missing.pem"),
        "{e}"
    );
    let e = tls_error(&cert, &missing);
    assert!(
        e.contains("cannot read the TLS private key") && e.contains("missing.pem"),
        "{e}"
    );
    let e = tls_error(&key, &key);
    assert!(e.contains("holds no PEM certificate"), "{e}");
    let e = tls_error(&cert, &cert);
    assert!(e.contains("cannot read the TLS private key"), "{e}");
    let e = tls_error(&cert, &certs.path("other-key.pem"));
    assert!(e.contains("do not go together"), "{e}");
    assert!(
        !e.contains("PRIVATE KEY-----"),
        "no key material in errors: {e}"
    );
}
