//! `capture --upload https://…` (issue 17): the upload reaches a TLS
//! endpoint on loopback whose certificate a CA made for the test signed,
//! when that CA is given (`--ca-file`), with the API token as a Bearer
//! header; without the CA the certificate is refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tracedeck::capture::{upload_file_with, RetryPolicy, UploadAccess, UploadError};

/// What the endpoint received: the request head (lowercase) and the body.
type Received = (String, Vec<u8>);

/// A TLS endpoint on 127.0.0.1 that answers each upload `201 {"id","url"}`;
/// returns its port, the CA's PEM and what it received.
fn tls_endpoint() -> (u16, String, mpsc::Receiver<Received>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tracedeck test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = vec![SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST))];
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut reader = BufReader::new(&mut tls);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => head.push_str(&line.to_ascii_lowercase()),
                }
            }
            if head.is_empty() {
                // The client refused our certificate.
                continue;
            }
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let answer = r#"{"id":"0123","url":"/c/0123"}"#;
            write!(
                tls,
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            )
            .unwrap();
            tls.conn.send_close_notify();
            let _ = tls.flush();
            let _ = tx.send((head, body));
        }
    });
    (port, ca.pem(), rx)
}

#[test]
fn capture_upload_over_https_with_a_private_ca() {
    let (port, ca_pem, received) = tls_endpoint();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let capture = dir.path().join("out.pcap");
    std::fs::write(&capture, b"pcap bytes for the test").unwrap();
    let server = format!("https://127.0.0.1:{port}");
    let once = RetryPolicy {
        attempts: 1,
        first_delay: Duration::from_millis(10),
        timeout: Duration::from_secs(20),
    };
    let mut no_retry = |_: u32, _: &UploadError, _: Duration| {};

    let without_ca = upload_file_with(
        &server,
        &capture,
        &UploadAccess::default(),
        &once,
        &mut no_retry,
    );
    let err = without_ca
        .expect_err("the test CA is not a webpki root")
        .to_string();
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("UnknownIssuer"),
        "{err}"
    );

    let access = UploadAccess {
        token: Some("tdk_test_token".into()),
        ca_file: Some(ca_file),
        ..UploadAccess::default()
    };
    let up = upload_file_with(&server, &capture, &access, &once, &mut no_retry).unwrap();
    assert_eq!(up.link, format!("https://127.0.0.1:{port}/c/0123"));
    let (head, body) = received.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(head.starts_with("post /api/captures "), "{head}");
    assert!(
        head.contains("authorization: bearer tdk_test_token"),
        "{head}"
    );
    assert_eq!(body, b"pcap bytes for the test");

    let bad_ca = dir.path().join("bad.pem");
    std::fs::write(&bad_ca, "not a certificate").unwrap();
    let access = UploadAccess {
        token: None,
        ca_file: Some(bad_ca),
        ..UploadAccess::default()
    };
    let err = upload_file_with(&server, &capture, &access, &once, &mut no_retry).unwrap_err();
    assert!(matches!(err, UploadError::Ca { .. }), "{err}");
}
