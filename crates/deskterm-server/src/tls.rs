//! HTTPS: a certificate chain and its private key, read from PEM files, so
//! operators' tokens do not cross the network in clear. (The other
//! supported set-up is plain HTTP on loopback behind a TLS proxy.)

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A server's TLS identity, ready to accept connections.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads a PEM certificate chain (the server's certificate first) and
    /// the PEM private key that goes with it.
    pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<Tls> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                anyhow::anyhow!("cannot read the TLS certificate {}: {e}", cert.display())
            })?;
        if chain.is_empty() {
            anyhow::bail!(
                "the TLS certificate file {} holds no PEM certificate",
                cert.display()
            );
        }
        let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            anyhow::anyhow!("cannot read the TLS private key {}: {e}", key.display())
        })?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("cannot set up TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| {
                anyhow::anyhow!(
                    "the TLS certificate {} and key {} do not go together: {e}",
                    cert.display(),
                    key.display()
                )
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}
