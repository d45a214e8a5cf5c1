//! The rustls side: which certificates are trusted, and how much of the server's certificate is
//! checked for each `sslmode`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Where the trusted CA certificates come from (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roots {
    /// A PEM file of one or more CA certificates.
    File(PathBuf),
    /// The operating system's store (`SSL_CERT_FILE`/`SSL_CERT_DIR` are honoured), or Mozilla's
    /// roots (webpki-roots) where the system has none; `sslrootcert=system`, and the default of
    /// `verify-ca`/`verify-full`.
    System,
}

impl Roots {
    pub(crate) fn describe(&self) -> String {
        match self {
            Roots::File(path) => format!("sslrootcert={}", path.display()),
            Roots::System => "the system's trusted CA certificates".to_owned(),
        }
    }
}

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Nothing: the connection is encrypted, but the server is not authenticated (`require`,
    /// `prefer`, `allow` without `sslrootcert`). The handshake signatures are still checked, so
    /// the session key belongs to whoever holds the certificate's private key.
    Nothing,
    /// The chain up to a trusted CA, not the host name (`verify-ca`; `require` with `sslrootcert`).
    Chain,
    /// The chain and that the certificate names the host connected to (`verify-full`).
    ChainAndHost,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client configuration for one connection attempt.
pub(crate) fn client_config(
    verify: Verify,
    roots: Option<&Roots>,
    sni: bool,
) -> Result<ClientConfig, String> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Nothing => Arc::new(LibpqVerifier {
            chain: None,
            algorithms: provider.signature_verification_algorithms,
        }),
        Verify::Chain | Verify::ChainAndHost => {
            let store = Arc::new(root_store(roots.unwrap_or(&Roots::System))?);
            if verify == Verify::Chain {
                Arc::new(LibpqVerifier {
                    chain: Some(store),
                    algorithms: provider.signature_verification_algorithms,
                })
            } else {
                WebPkiServerVerifier::builder_with_provider(store, provider.clone())
                    .build()
                    .map_err(|e| format!("cannot use the trusted CA certificates: {e}"))?
            }
        }
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.enable_sni = sni;
    Ok(config)
}

fn root_store(roots: &Roots) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let certs = read_pem_certificates(path)?;
            let (added, ignored) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "sslrootcert={}: none of its {ignored} certificate(s) can be used as a CA",
                    path.display()
                ));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
        }
    }
    Ok(store)
}

fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "cannot read sslrootcert={}: {e}; it must name a PEM file holding the CA certificate \
             that signed the server's certificate",
            path.display()
        )
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("sslrootcert={} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "sslrootcert={} holds no certificate (expected PEM blocks `-----BEGIN CERTIFICATE-----`)",
            path.display()
        ));
    }
    Ok(certs)
}

/// The two checks rustls has no verifier for: libpq's `sslmode=require` without a root
/// certificate (`chain: None`: any certificate, though the handshake must still be signed by
/// its key) and `sslmode=verify-ca` (`chain: Some`: the chain must lead to a trusted CA; the
/// host name is not compared with the certificate).
#[derive(Debug)]
struct LibpqVerifier {
    chain: Option<Arc<RootCertStore>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for LibpqVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.chain {
            let cert = ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
