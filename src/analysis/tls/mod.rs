//! The TLS analyzer: finds TLS by content on any port (a record header, a
//! hello), and reports per conversation the handshake's facts (version,
//! SNI, ALPN, suite, resumption, HelloRetryRequest, JA4), the server's
//! certificate chain when it is in clear, alerts, the handshake's timing
//! and, when it failed, a sentence saying how. README, "TLS", describes
//! the fields. Application data is skipped unread: it costs no copy.

mod analyzer;
mod cert;
mod decrypt;
mod framing;
mod hello;
mod keylog;
mod plain;
mod summary;

pub use analyzer::{new, probe, Tls, NAME};
pub use keylog::KeyLog;
pub use plain::{PlainPiece, RecordSpan, StreamDecryptor};
pub use summary::{AlertSeen, CertSummary, Decrypted, Resumption, Side, TlsSummary, Validity};
