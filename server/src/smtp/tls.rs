//! TLS for both modes, with the same trust: the built-in web roots plus the policy's extra roots.
//!
//! Implicit TLS runs its own handshake so that the connection can be made to the checked address
//! and the `Securing` stage reported between connecting and the handshake. STARTTLS goes through
//! lettre, which needs its own parameters.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use lettre::transport::smtp::client::{AsyncTokioStream, Certificate, CertificateStore, TlsParameters};
use rustls::{
    ClientConfig, RootCertStore,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, ServerName, pem::PemObject},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream};

/// Parses the extra root certificates; start-up calls it to reject an unusable CA file early.
pub fn extra_roots(pem_files: &[Vec<u8>]) -> io::Result<Vec<CertificateDer<'static>>> {
    let mut roots = Vec::new();
    for pem in pem_files {
        for certificate in CertificateDer::pem_slice_iter(pem) {
            roots.push(certificate.map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?);
        }
    }
    Ok(roots)
}

fn client_config(extra_root_certificates: &[Vec<u8>]) -> io::Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for certificate in extra_roots(extra_root_certificates)? {
        roots
            .add(certificate)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
    }

    // Like lettre does for STARTTLS, this uses the process default provider and falls back to ring.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Runs the TLS handshake on a fresh connection, verifying the certificate against `host`,
/// which is also sent as SNI.
pub(crate) async fn connect_implicit(
    tcp: TcpStream,
    host: &str,
    extra_root_certificates: &[Vec<u8>],
) -> io::Result<ImplicitTlsStream> {
    let config = client_config(extra_root_certificates)?;
    let server_name =
        ServerName::try_from(host.to_owned()).map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;

    let stream = TlsConnector::from(Arc::new(config)).connect(server_name, tcp).await?;
    Ok(ImplicitTlsStream(stream))
}

/// Parameters for lettre's STARTTLS upgrade, verifying against `host`.
pub(crate) fn starttls_parameters(host: &str, extra_root_certificates: &[Vec<u8>]) -> io::Result<TlsParameters> {
    let mut builder = TlsParameters::builder(host.to_owned()).certificate_store(CertificateStore::WebpkiRoots);
    for root in extra_roots(extra_root_certificates)? {
        let certificate = Certificate::from_der(root.to_vec()).map_err(io::Error::other)?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(io::Error::other)
}

/// A TLS connection in the shape lettre's SMTP client takes.
#[derive(Debug)]
pub(crate) struct ImplicitTlsStream(TlsStream<TcpStream>);

impl AsyncTokioStream for ImplicitTlsStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for ImplicitTlsStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTlsStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
