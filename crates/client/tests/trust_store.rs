//! Which servers the client trusts is the OS's decision (rustls-platform-verifier): a company
//! network that inspects TLS installs its own root in the OS's trust store, and the app must then
//! work through it, with no setting of its own.
//!
//! The real server sits behind a TLS terminator whose certificate is signed by a root made here,
//! as an inspecting proxy's is. On Linux the trust store is the system's CA bundle, or the file
//! `SSL_CERT_FILE` names instead; the test points it at a throw-away copy of the system's bundle
//! (so the machine's own store is never touched), first without the root, then with it added, as
//! `update-ca-certificates` would add it. The environment is the process's: this file holds one
//! test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]
#![cfg(target_os = "linux")]

mod support;

use std::sync::Arc;

use support::*;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use unipos_client::unipos_protocol::Email;
use unipos_client::{ApiClient, ClientConfig};

/// Debian's and Ubuntu's bundle of the roots the system trusts.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[tokio::test]
async fn a_server_is_trusted_once_its_root_is_in_the_os_trust_store_and_not_before() {
    let t = TestServer::start().await;
    let (root_pem, terminator) = inspecting_terminator(t.server().addr()).await;
    let client = || {
        let config = ClientConfig::with_bases(&terminator, t.server().web_base().as_str())
            .unwrap()
            .app("unipos-client-tests", "0.0.0");
        ApiClient::new(config).unwrap()
    };
    let store = tempfile::tempdir().unwrap();
    let system = std::fs::read_to_string(SYSTEM_BUNDLE).unwrap_or_default();
    // SSL_CERT_DIR would be read too, and the system's folder may hold the root's hash link.
    std::env::remove_var("SSL_CERT_DIR");

    // The trust store as it is before the company installs its root (plus an unrelated root,
    // so it is never empty even on a machine without a system bundle).
    let before = store.path().join("before.pem");
    std::fs::write(&before, format!("{system}\n{}", unrelated_root_pem())).unwrap();
    std::env::set_var("SSL_CERT_FILE", &before);
    let err = client()
        .forgot(&Email::parse(DEMO_EMAIL).unwrap(), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "tls", "{err:?}");
    // Mail goes out in the order it was asked for: once the mail of a request made later,
    // straight to the server, is out, a request that had got through would have its mail too.
    let straight = t.api();
    straight
        .forgot(&Email::parse(DEMO_ADMIN_EMAIL).unwrap(), None)
        .await
        .unwrap();
    t.wait_for_mails(DEMO_ADMIN_EMAIL, 1).await;
    assert!(
        t.mails_to(DEMO_EMAIL).is_empty(),
        "nothing reached the server"
    );

    // The same store with the root added: the same request goes through to the server.
    let after = store.path().join("after.pem");
    std::fs::write(&after, format!("{system}\n{root_pem}")).unwrap();
    std::env::set_var("SSL_CERT_FILE", &after);
    let accepted = client()
        .forgot(&Email::parse(DEMO_EMAIL).unwrap(), None)
        .await
        .unwrap();
    assert_eq!(accepted.status, 202);
    let mails = t.wait_for_mails(DEMO_EMAIL, 1).await;
    assert_eq!(mails[0].subject, RESET_MAIL_SUBJECT);
}

/// A TLS terminator in front of `backend` (as a company's inspecting proxy or a load balancer
/// is), with a certificate for `localhost` signed by a root made now. Returns that root (PEM)
/// and the terminator's https base URL.
async fn inspecting_terminator(backend: std::net::SocketAddr) -> (String, String) {
    use tokio_rustls::rustls::{crypto::ring, ServerConfig};

    let root_key = rcgen::KeyPair::generate().unwrap();
    let root = rcgen::CertifiedIssuer::self_signed(
        root_params("Example Corp TLS Inspection Root"),
        root_key,
    )
    .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &root)
        .unwrap();

    let chain = vec![CertificateDer::from(leaf.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return; // the client refused the certificate
                };
                if let Ok(mut upstream) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                }
            });
        }
    });
    (root.pem(), format!("https://localhost:{port}"))
}

fn root_params(name: &str) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params
}

fn unrelated_root_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    root_params("Some Other Root")
        .self_signed(&key)
        .unwrap()
        .pem()
}
