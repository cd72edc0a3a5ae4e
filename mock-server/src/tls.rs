//! TLS for [`crate::Config::with_tls`]: a throw-away certificate authority and a server certificate for
//! `localhost` and `127.0.0.1`, made at start and never written anywhere unless asked, and the rustls acceptor that
//! offers HTTP/2 and HTTP/1.1 by ALPN, so clients can be tested over the protocol they use against the real API.

use std::io;
use std::sync::Arc;

use chrono::{Datelike, Days, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The ALPN protocols offered, preferred first.
pub(crate) const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// What a TLS server needs: the acceptor, and the CA certificate for clients to trust.
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) ca_pem: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Tls").finish_non_exhaustive()
    }
}

/// The date `days` away from today (UTC), as year, month and day.
fn day(days: i64) -> (i32, u8, u8) {
    let today = Utc::now().date_naive();
    let d = if days >= 0 {
        today.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(days.unsigned_abs()))
    }
    .unwrap_or(today);
    (d.year(), d.month() as u8, d.day() as u8)
}

/// Sets a certificate's validity to the days `from..=to` from today.
fn valid(params: &mut CertificateParams, from: i64, to: i64) {
    let ((y0, m0, d0), (y1, m1, d1)) = (day(from), day(to));
    params.not_before = rcgen::date_time_ymd(y0, m0, d0);
    params.not_after = rcgen::date_time_ymd(y1, m1, d1);
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "mock-server");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A fresh CA and the server certificate it signed.
struct Certificates {
    ca_pem: String,
    /// The server's private key, PKCS#8 DER.
    key: Vec<u8>,
    /// The server's certificate, then the CA's, DER.
    chain: Vec<Vec<u8>>,
}

/// Makes a CA and a server certificate for `localhost` and `127.0.0.1` it signs: ECDSA P-256, valid from yesterday
/// for a year.
fn certificates() -> Result<Certificates, rcgen::Error> {
    let mut ca = CertificateParams::default();
    ca.distinguished_name = name("mock-server throw-away CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    valid(&mut ca, -1, 366);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    leaf.distinguished_name = name("localhost");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    valid(&mut leaf, -1, 365);
    let cert = leaf.signed_by(&key, &ca)?;
    Ok(Certificates {
        ca_pem: ca.pem(),
        key: key.serialize_der(),
        chain: vec![cert.der().to_vec(), ca.der().to_vec()],
    })
}

/// Makes fresh certificates and a rustls configuration with the `ring` provider that serves them with ALPN `h2`
/// then `http/1.1`.
pub(crate) fn setup() -> io::Result<Tls> {
    let failed = |what: &str, error: &dyn std::fmt::Display| {
        io::Error::other(format!("mock-server: cannot {what}: {error}"))
    };
    let made = certificates().map_err(|error| failed("make the TLS certificates", &error))?;
    // An explicit provider: installing a process-wide default would change what other rustls users in the same
    // process (such as a test's HTTP client) pick.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| {
            b.with_no_client_auth().with_single_cert(
                made.chain.into_iter().map(Into::into).collect(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key)),
            )
        })
        .map_err(|error| failed("configure TLS", &error))?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem: made.ca_pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CA is PEM text of one certificate, and each setup makes a new one.
    #[test]
    fn each_setup_makes_a_fresh_ca() {
        let a = setup().unwrap();
        let b = setup().unwrap();
        for tls in [&a, &b] {
            assert!(tls.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
            assert_eq!(tls.ca_pem.matches("BEGIN CERTIFICATE").count(), 1);
        }
        assert_ne!(a.ca_pem, b.ca_pem);
    }
}
