//! TLS for the PostgreSQL backend, on the workspace's one TLS stack
//! (rustls with aws-lc-rs, as reqwest uses it).
//!
//! Which `sslmode` means what (libpq's names, stricter where it matters):
//!
//! * `disable`, `allow`, or absent with no CA configured: no TLS (the
//!   default, as before TLS was supported: a private network or a Unix
//!   socket);
//! * absent with a CA configured (`sslrootcert=`, `FF_DB_CA_FILE`): as
//!   `require` — naming a CA asks for TLS;
//! * `prefer`: TLS when the server offers it, plain when it says no;
//! * `require`, `verify-ca`, `verify-full`: TLS or no connection.
//!
//! Whenever TLS is used the server's certificate chain **and host name are
//! verified** (libpq checks neither under `prefer`/`require`): against the
//! system's trust store, or only against the CA certificates in
//! `sslrootcert=` / `FF_DB_CA_FILE` when given (a private CA, a cloud
//! provider's bundle). Encryption to an unauthenticated peer protects
//! nothing from the attacker who can intercept the connection.
//!
//! Written here (a connector of ~100 lines) rather than taken from
//! `tokio-postgres-rustls`, which brings `ring` and an X.509 parser beside
//! aws-lc-rs; the one thing it adds is channel binding (SCRAM-SHA-256-PLUS),
//! which the verified chain makes unnecessary. Client certificates
//! (`sslcert`/`sslkey`) are refused with a clear error.

use std::{
    future::Future,
    io,
    path::Path,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use rustls::{ClientConfig, RootCertStore, pki_types::ServerName};
use rustls_pki_types::{CertificateDer, pem::PemObject};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::{
    config::SslMode,
    tls::{ChannelBinding, MakeTlsConnect, TlsConnect},
};

/// What a URL's TLS parameters asked for, taken out of the URL (the
/// driver knows only three modes and no `sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TlsParams {
    /// The mode for the driver; `None` when the URL names none.
    pub mode: Option<SslMode>,
    /// `sslrootcert=`: the CA certificates to trust instead of the system's.
    pub root_cert: Option<String>,
}

/// Splits libpq's TLS parameters out of `url`: the URL the driver parses
/// and what they asked for.
pub(super) fn split_params(url: &str) -> Result<(String, TlsParams), String> {
    let mut params = TlsParams {
        mode: None,
        root_cert: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), params));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "sslmode" => {
                params.mode = Some(match value.as_str() {
                    "disable" | "allow" => SslMode::Disable,
                    "prefer" => SslMode::Prefer,
                    "require" | "verify-ca" | "verify-full" => SslMode::Require,
                    other => {
                        return Err(format!(
                            "sslmode={other} is not one of disable, allow, prefer, require, \
                             verify-ca, verify-full"
                        ));
                    }
                });
            }
            "sslrootcert" => params.root_cert = Some(value),
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                return Err(format!(
                    "{key}: client certificates and revocation lists are not supported; \
                     authenticate with a password (FF_DB_PASSWORD)"
                ));
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, params))
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The rustls configuration verifying the server: only the CA
/// certificates in `ca_file` when given, else the system's trust store.
pub(super) fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let config = match ca_file {
        Some(path) => {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("reading CA certificates from {}: {e}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "{} holds no usable CA certificate (PEM, BEGIN CERTIFICATE)",
                    path.display()
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            let verifier = rustls_platform_verifier::Verifier::new(provider)
                .map_err(|e| format!("loading the system's trusted certificates: {e}"))?;
            builder
                .dangerous() // not dangerous: the platform's own verifier
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// The driver's TLS connector: `None` when the mode is `disable` (the
/// driver then never calls it).
#[derive(Clone)]
pub(super) struct Connector(pub Option<Arc<ClientConfig>>);

impl<S> MakeTlsConnect<S> for Connector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Handshake;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Handshake, io::Error> {
        // The name is checked in `connect`: the driver asks for a connector
        // for every host, a Unix socket directory included, TLS or not.
        Ok(Handshake {
            config: self.0.clone(),
            domain: domain.to_owned(),
        })
    }
}

/// One handshake with one host.
pub(super) struct Handshake {
    config: Option<Arc<ClientConfig>>,
    domain: String,
}

impl<S> TlsConnect<S> for Handshake
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let config = self.config.ok_or_else(|| {
                io::Error::other("TLS was not configured for this connection (sslmode=disable)")
            })?;
            let name = ServerName::try_from(self.domain.clone()).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("'{}' is not a host name TLS can verify", self.domain),
                )
            })?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await?;
            Ok(Stream(Box::new(tls)))
        })
    }
}

/// A TLS session to the server.
pub(super) struct Stream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S> tokio_postgres::tls::TlsStream for Stream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_modes_map_to_the_drivers_and_leave_the_rest_of_the_url() {
        let (url, p) = split_params("postgres://u@h/db").expect("test");
        assert_eq!((url.as_str(), p.mode), ("postgres://u@h/db", None));
        let (url, p) = split_params(
            "postgres://u@h/db?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .expect("test");
        assert_eq!(url, "postgres://u@h/db?application_name=x");
        assert_eq!(p.mode, Some(SslMode::Require));
        assert_eq!(p.root_cert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(
            split_params("postgres://h/d?sslmode=prefer")
                .expect("test")
                .1
                .mode,
            Some(SslMode::Prefer)
        );
        assert_eq!(
            split_params("postgres://h/d?sslmode=allow")
                .expect("test")
                .1
                .mode,
            Some(SslMode::Disable)
        );
        let bad = split_params("postgres://h/d?sslmode=maybe").expect_err("refused");
        assert!(bad.contains("sslmode=maybe"), "{bad}");
        let cert = split_params("postgres://h/d?sslcert=/c.pem").expect_err("refused");
        assert!(cert.contains("client certificates"), "{cert}");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("test");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("test");
        let e = client_config(Some(&path)).expect_err("refused");
        assert!(e.contains("ca.pem") && e.contains("no usable CA"), "{e}");
        let missing = client_config(Some(&dir.path().join("none.pem"))).expect_err("refused");
        assert!(missing.contains("none.pem"), "{missing}");
    }
}
