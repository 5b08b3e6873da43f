//! Certificate chain summaries: subject, issuer, SANs and validity of each
//! certificate a server sent in clear, read with `x509-parser`, and
//! whether it had expired (or was about to) at the time of the handshake.

use std::net::IpAddr;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{parse_x509_certificate, X509Certificate};

use super::summary::{CertSummary, Validity, EXPIRING_WITHIN};
use crate::time::Timestamp;

/// Most certificates summarised per chain.
pub const MAX_CHAIN: usize = 10;
/// Most SANs kept per certificate (the rest are counted).
const MAX_SANS: usize = 32;

/// Summarises one DER certificate, judged at `at` (the handshake's time).
pub fn summarize(der: &[u8], at: Option<Timestamp>) -> Result<CertSummary, String> {
    let (_, cert) = parse_x509_certificate(der).map_err(|e| format!("certificate: {e}"))?;
    let not_before = Timestamp::from_nanos(secs_to_nanos(cert.validity().not_before.timestamp()));
    let not_after = Timestamp::from_nanos(secs_to_nanos(cert.validity().not_after.timestamp()));
    let validity = match at {
        Some(t) if t < not_before => Validity::NotYetValid,
        Some(t) if t > not_after => Validity::Expired,
        Some(t) if not_after.since(t) < EXPIRING_WITHIN => Validity::Expiring,
        _ => Validity::Valid,
    };
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans: sans(&cert),
        not_before,
        not_after,
        validity,
    })
}

fn secs_to_nanos(secs: i64) -> i64 {
    secs.saturating_mul(1_000_000_000)
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    let names = &ext.value.general_names;
    let mut out: Vec<String> = names
        .iter()
        .take(MAX_SANS)
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some((*d).to_string()),
            GeneralName::IPAddress(ip) => match ip.len() {
                4 => <[u8; 4]>::try_from(*ip)
                    .ok()
                    .map(|a| IpAddr::from(a).to_string()),
                16 => <[u8; 16]>::try_from(*ip)
                    .ok()
                    .map(|a| IpAddr::from(a).to_string()),
                _ => None,
            },
            GeneralName::RFC822Name(m) => Some((*m).to_string()),
            GeneralName::URI(u) => Some((*u).to_string()),
            _ => None,
        })
        .collect();
    if names.len() > MAX_SANS {
        out.push(format!("… {} more", names.len() - MAX_SANS));
    }
    out
}
