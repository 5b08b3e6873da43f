//! The hellos: what a ClientHello offers (SNI, ALPN, versions, session
//! ID, ticket, JA4) and what a ServerHello chose (version, suite, ALPN,
//! resumption, HelloRetryRequest). Message bodies are parsed with
//! `tls-parser`; the extension list is walked here, one extension at a
//! time, so that one malformed extension costs only itself.

use sha2::{Digest, Sha256};
use tls_parser::{
    parse_tls_client_hello_extension, parse_tls_handshake_client_hello,
    parse_tls_handshake_msg_server_hello, parse_tls_server_hello_extension, SNIType,
    TlsCipherSuite, TlsExtension, TlsMessageHandshake,
};

/// Most extensions read from one hello: a ClientHello with thousands of
/// them is read up to here, and the rest are counted as cut.
pub const MAX_EXTENSIONS: usize = 512;

/// The `random` of a ServerHello that is a HelloRetryRequest (RFC 8446
/// §4.1.3): SHA-256 of "HelloRetryRequest".
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

const EXT_SNI: u16 = 0x0000;
const EXT_ALPN: u16 = 0x0010;
const EXT_ENCRYPT_THEN_MAC: u16 = 0x0016;

/// What a ClientHello offered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version`, or the highest of `supported_versions`.
    pub version: u16,
    pub random: [u8; 32],
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub has_session_id: bool,
    /// A non-empty session ticket was offered.
    pub has_ticket: bool,
    pub ja4: String,
    /// Extensions past [`MAX_EXTENSIONS`], or one that did not parse.
    pub note: Option<String>,
}

/// What a ServerHello chose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version`, or `supported_versions` (TLS 1.3).
    pub version: u16,
    pub random: [u8; 32],
    pub cipher: u16,
    pub alpn: Option<String>,
    pub session_id: Vec<u8>,
    /// The server selected a pre-shared key (TLS 1.3 resumption).
    pub psk: bool,
    /// Encrypt-then-MAC was agreed (RFC 7366: CBC suites MAC the ciphertext).
    pub encrypt_then_mac: bool,
    pub hello_retry: bool,
}

/// `TLS 1.2` for `0x0303`.
pub fn version_name(v: u16) -> Option<&'static str> {
    Some(match v {
        0x0002 => "SSL 2.0",
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        _ => return None,
    })
}

/// IANA name of a cipher suite, or its number.
pub fn cipher_name(id: u16) -> String {
    TlsCipherSuite::from_id(id)
        .map(|c| c.name.to_string())
        .unwrap_or_else(|| format!("0x{id:04x}"))
}

/// GREASE values (RFC 8701): `0x?a?a` with both bytes equal.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// The extensions of a hello, one `(type, whole extension)` at a time,
/// and what could not be walked.
fn extensions(raw: &[u8]) -> (Vec<(u16, &[u8])>, Option<String>) {
    let mut out = Vec::new();
    let mut rest = raw;
    while rest.len() >= 4 {
        if out.len() == MAX_EXTENSIONS {
            let mut more = 0usize;
            while let [_, _, hi, lo, ..] = *rest {
                let len = 4 + usize::from(u16::from_be_bytes([hi, lo]));
                more += 1;
                rest = rest.get(len..).unwrap_or_default();
            }
            return (
                out,
                Some(format!(
                    "hello with more than {MAX_EXTENSIONS} extensions: {more} were not read"
                )),
            );
        }
        let ty = u16::from_be_bytes([rest[0], rest[1]]);
        let len = 4 + usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let Some(ext) = rest.get(..len) else {
            return (out, Some(format!("extension 0x{ty:04x} is cut short")));
        };
        out.push((ty, ext));
        rest = &rest[len..];
    }
    let note = (!rest.is_empty()).then(|| "trailing bytes after the extensions".to_string());
    (out, note)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads a ClientHello body (after the 4-byte handshake header).
pub fn client_hello(body: &[u8]) -> Option<ClientHello> {
    let (_, ch) = parse_tls_handshake_client_hello(body).ok()?;
    let mut hello = ClientHello {
        version: ch.version.0,
        has_session_id: ch.session_id.is_some_and(|s| !s.is_empty()),
        ..ClientHello::default()
    };
    if let Some(r) = ch.random.get(..32) {
        hello.random.copy_from_slice(r);
    }
    let (exts, mut note) = extensions(ch.ext.unwrap_or_default());
    let mut sig_algs: Vec<u16> = Vec::new();
    let mut versions: Vec<u16> = Vec::new();
    for (ty, raw) in &exts {
        match parse_tls_client_hello_extension(raw) {
            Ok((_, TlsExtension::SNI(names))) => {
                hello.sni = names
                    .iter()
                    .find(|(t, _)| *t == SNIType::HostName)
                    .map(|(_, n)| text(n));
            }
            Ok((_, TlsExtension::ALPN(protos))) => {
                hello.alpn = protos.iter().map(|p| text(p)).collect();
            }
            Ok((_, TlsExtension::SessionTicket(t))) => hello.has_ticket = !t.is_empty(),
            Ok((_, TlsExtension::SignatureAlgorithms(algs))) => sig_algs = algs,
            Ok((_, TlsExtension::SupportedVersions(vs))) => {
                versions = vs.iter().map(|v| v.0).filter(|v| !is_grease(*v)).collect();
            }
            Ok(_) => {}
            Err(_) => {
                note.get_or_insert_with(|| format!("extension 0x{ty:04x} did not parse"));
            }
        }
    }
    if let Some(max) = versions.iter().copied().max() {
        hello.version = max;
    }
    let ext_types: Vec<u16> = exts.iter().map(|(t, _)| *t).collect();
    let ciphers: Vec<u16> = ch.ciphers.iter().map(|c| c.0).collect();
    hello.ja4 = ja4(
        hello.version,
        hello.sni.is_some(),
        &ciphers,
        &ext_types,
        hello.alpn.first().map(String::as_bytes),
        &sig_algs,
    );
    hello.note = note;
    Some(hello)
}

/// Reads a ServerHello body (after the 4-byte handshake header).
pub fn server_hello(body: &[u8]) -> Option<ServerHello> {
    let (_, msg) = parse_tls_handshake_msg_server_hello(body).ok()?;
    let TlsMessageHandshake::ServerHello(sh) = msg else {
        return None;
    };
    let mut hello = ServerHello {
        version: sh.version.0,
        cipher: sh.cipher.0,
        session_id: sh.session_id.unwrap_or_default().to_vec(),
        hello_retry: sh.random == HELLO_RETRY_RANDOM,
        ..ServerHello::default()
    };
    if let Some(r) = sh.random.get(..32) {
        hello.random.copy_from_slice(r);
    }
    let (exts, _) = extensions(sh.ext.unwrap_or_default());
    for (ty, raw) in &exts {
        // By number: tls-parser 0.12 reads ServerHello extension 21
        // (padding) as encrypt_then_mac and 22 as unknown.
        if *ty == EXT_ENCRYPT_THEN_MAC {
            hello.encrypt_then_mac = true;
            continue;
        }
        match parse_tls_server_hello_extension(raw) {
            Ok((_, TlsExtension::ALPN(protos))) => hello.alpn = protos.first().map(|p| text(p)),
            Ok((_, TlsExtension::SupportedVersions(vs))) => {
                if let Some(v) = vs.first() {
                    hello.version = v.0;
                }
            }
            Ok((_, TlsExtension::PreSharedKey(_))) => hello.psk = true,
            _ => {}
        }
    }
    Some(hello)
}

/// The ALPN protocol an EncryptedExtensions message (TLS 1.3, its body:
/// the extension list with its 2-byte length) confirms.
pub fn encrypted_extensions_alpn(body: &[u8]) -> Option<String> {
    let (exts, _) = extensions(body.get(2..)?);
    exts.iter()
        .find_map(|(_, raw)| match parse_tls_server_hello_extension(raw) {
            Ok((_, TlsExtension::ALPN(protos))) => protos.first().map(|p| text(p)),
            _ => None,
        })
}

/// The DER certificates of a TLS 1.3 Certificate message body (RFC 8446
/// §4.4.2: a request context, then entries with their own extensions).
pub fn tls13_certificates(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let Some(&ctx_len) = body.first() else {
        return out;
    };
    let mut rest = body.get(1 + usize::from(ctx_len) + 3..).unwrap_or_default();
    let u24 = |b: &[u8]| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]);
    while rest.len() >= 3 {
        let len = u24(rest);
        let Some(cert) = rest.get(3..3 + len) else {
            break;
        };
        out.push(cert);
        let Some(ext_len) = rest.get(3 + len..5 + len) else {
            break;
        };
        let ext_len = usize::from(u16::from_be_bytes([ext_len[0], ext_len[1]]));
        rest = rest.get(5 + len + ext_len..).unwrap_or_default();
    }
    out
}

/// JA4's version code: `13`, `12`, `s3`, `00` when unknown.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        _ => "00",
    }
}

/// The first 12 hex digits of SHA-256 of `list`, `000000000000` when the
/// list is empty.
fn truncated_hash(list: &str) -> String {
    if list.is_empty() {
        return "0".repeat(12);
    }
    let digest = Sha256::digest(list.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_list(values: &[u16]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:04x}")).collect();
    items.join(",")
}

/// The JA4 client fingerprint (FoxIO's JA4, BSD 3-Clause; TLS over TCP):
/// `t13d1516h2_8daaf6152771_e5627efa2ab1`.
pub fn ja4(
    version: u16,
    has_sni: bool,
    ciphers: &[u16],
    extensions: &[u16],
    first_alpn: Option<&[u8]>,
    signature_algorithms: &[u16],
) -> String {
    let mut ciphers: Vec<u16> = ciphers.iter().copied().filter(|c| !is_grease(*c)).collect();
    let exts: Vec<u16> = extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e))
        .collect();
    let alpn = match first_alpn {
        Some(&[first, .., last]) | Some(&[first @ last]) => {
            if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                format!("{}{}", first as char, last as char)
            } else {
                let (f, l) = (format!("{first:02x}"), format!("{last:02x}"));
                format!("{}{}", &f[..1], &l[1..])
            }
        }
        _ => "00".to_string(),
    };
    let a = format!(
        "t{}{}{:02}{:02}{}",
        ja4_version(version),
        if has_sni { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts.len().min(99),
        alpn
    );
    ciphers.sort_unstable();
    let mut hashed_exts: Vec<u16> = exts
        .into_iter()
        .filter(|e| *e != EXT_SNI && *e != EXT_ALPN)
        .collect();
    hashed_exts.sort_unstable();
    let sigs: Vec<u16> = signature_algorithms
        .iter()
        .copied()
        .filter(|s| !is_grease(*s))
        .collect();
    let mut c = hex_list(&hashed_exts);
    if !sigs.is_empty() {
        c.push('_');
        c.push_str(&hex_list(&sigs));
    }
    format!(
        "{a}_{}_{}",
        truncated_hash(&hex_list(&ciphers)),
        if hashed_exts.is_empty() {
            truncated_hash("")
        } else {
            truncated_hash(&c)
        }
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ja4_of_the_reference_example() {
        // The worked example of FoxIO's JA4 technical details (a Chrome
        // ClientHello): its lists and its published fingerprint.
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035, 0x0a0a,
        ];
        let exts = [
            0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
            0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ];
        let sigs = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        let fp = ja4(0x0304, true, &ciphers, &exts, Some(b"h2"), &sigs);
        assert_eq!(fp, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    }

    #[test]
    fn grease_is_recognised() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa));
        assert!(!is_grease(0x0a1a) && !is_grease(0x1301));
    }

    #[test]
    fn odd_alpn_values_are_hex() {
        let fp = ja4(0x0303, false, &[], &[], Some(&[0xab, 0x01, 0xcd]), &[]);
        assert!(fp.starts_with("t12i0000ad_"), "{fp}");
        assert!(fp.ends_with("_000000000000_000000000000"), "{fp}");
    }

    #[test]
    fn thousands_of_extensions_are_read_up_to_the_cap() {
        let mut raw = Vec::new();
        for i in 0..5000u16 {
            raw.extend_from_slice(&(0x7000 + i).to_be_bytes());
            raw.extend_from_slice(&[0, 0]);
        }
        let (exts, note) = extensions(&raw);
        assert_eq!(exts.len(), MAX_EXTENSIONS);
        assert!(note.unwrap().contains("4488 were not read"));
    }
}
