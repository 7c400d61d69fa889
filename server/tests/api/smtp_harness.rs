//! The real SMTP server the tests talk to (`end2end/smtp-harness`, npm `smtp-server`), and a
//! throwaway certificate authority with certificates for it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::LazyLock;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

pub struct TestCertificates {
    _dir: tempfile::TempDir,
    /// PEM of the CA that signed both server certificates.
    pub ca_file: PathBuf,
    pub ca_pem: Vec<u8>,
    /// Certificate and key for `localhost`.
    pub localhost: (PathBuf, PathBuf),
    /// Certificate and key for `wrong.example`, to serve where `localhost` is expected.
    pub wrong_host: (PathBuf, PathBuf),
    /// Certificate and key for `localhost` that expired in 2021.
    pub expired: (PathBuf, PathBuf),
}

pub static CERTIFICATES: LazyLock<TestCertificates> = LazyLock::new(make_certificates);

fn make_certificates() -> TestCertificates {
    let dir = tempfile::tempdir().unwrap();

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Relais test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_certificate = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf = |file_name: &str, name: &str, expired: bool| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let certificate = params.signed_by(&key, &issuer).unwrap();

        let certificate_path = dir.path().join(format!("{file_name}.pem"));
        let key_path = dir.path().join(format!("{file_name}.key"));
        std::fs::write(&certificate_path, certificate.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (certificate_path, key_path)
    };
    let localhost = leaf("localhost", "localhost", false);
    let wrong_host = leaf("wrong-host", "wrong.example", false);
    let expired = leaf("expired", "localhost", true);

    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_certificate.pem()).unwrap();

    TestCertificates {
        ca_pem: ca_certificate.pem().into_bytes(),
        ca_file,
        localhost,
        wrong_host,
        expired,
        _dir: dir,
    }
}

/// Adds a server certificate to the harness options.
pub fn with_certificate(mut options: Value, (certificate, key): &(PathBuf, PathBuf)) -> Value {
    options["certFile"] = json!(certificate);
    options["keyFile"] = json!(key);
    options
}

fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/smtp-harness")
}

/// One running harness; it is killed when dropped.
pub struct Harness {
    _child: Child,
    pub port: u16,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Harness {
    pub async fn start(options: Value) -> Self {
        let dir = harness_dir();
        assert!(
            dir.join("node_modules").exists(),
            "run `npm ci` in {} first (scripts/setup does it)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .current_dir(&dir)
            .env("SMTP_HARNESS_OPTIONS", options.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the SMTP harness");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();

        let listening = next_event(&mut stdout).await;
        assert_eq!(listening["event"], "listening", "{listening}");
        let port = listening["port"].as_u64().unwrap() as u16;

        Self {
            _child: child,
            port,
            stdout,
        }
    }

    /// Returns the next message the server accepted.
    pub async fn next_message(&mut self) -> Value {
        let event = next_event(&mut self.stdout).await;
        assert_eq!(event["event"], "message", "{event}");
        event
    }

    /// Returns whether the server accepted a message within a short wait.
    pub async fn has_message(&mut self) -> bool {
        tokio::time::timeout(Duration::from_millis(300), self.stdout.next_line())
            .await
            .is_ok_and(|line| line.ok().flatten().is_some())
    }
}

async fn next_event(stdout: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
        .await
        .expect("the SMTP harness printed an event within 10 s")
        .expect("the SMTP harness output is readable")
        .expect("the SMTP harness is still running");
    serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a harness event: {line}"))
}
