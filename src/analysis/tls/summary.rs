//! What the TLS analyzer found about one conversation ([`TlsSummary`]):
//! the handshake's facts, its timing, alerts, certificates, and the one
//! sentence that names a failure. README, "TLS", lists what each field
//! means and where it differs from Wireshark.

use serde::Serialize;

use crate::time::{Span, Timestamp};

/// Which TLS endpoint did something: the one that sent the ClientHello is
/// the client, whatever the TCP handshake said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// How a session was resumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resumption {
    /// TLS ≤ 1.2: the server accepted the client's session ID.
    SessionId,
    /// TLS ≤ 1.2: the server accepted the client's session ticket.
    Ticket,
    /// TLS 1.3: the server selected a pre-shared key.
    Psk,
}

impl Resumption {
    pub fn as_str(self) -> &'static str {
        match self {
            Resumption::SessionId => "session ID",
            Resumption::Ticket => "ticket",
            Resumption::Psk => "PSK",
        }
    }
}

/// One alert record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertSeen {
    pub from: Side,
    pub ts: Timestamp,
    pub frame: u64,
    /// `None` when the alert was encrypted (its content unknown).
    pub fatal: Option<bool>,
    /// RFC 8446 §6 name (`handshake_failure`), `None` when encrypted.
    pub description: Option<String>,
}

impl AlertSeen {
    pub fn is_encrypted(&self) -> bool {
        self.description.is_none()
    }

    /// `handshake_failure`, or `encrypted alert`.
    pub fn name(&self) -> &str {
        self.description.as_deref().unwrap_or("encrypted alert")
    }
}

/// The validity of a certificate at the time of the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validity {
    Valid,
    /// Ends within [`EXPIRING_WITHIN`] of the handshake.
    Expiring,
    Expired,
    NotYetValid,
}

/// A certificate ending this close to the handshake is flagged expiring.
pub const EXPIRING_WITHIN: Span = Span::from_nanos(30 * 86_400 * 1_000_000_000);

/// One certificate of the chain the server sent in clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// DNS names and addresses of the subject alternative names.
    pub sans: Vec<String>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub validity: Validity,
}

/// Whether a conversation's records were decrypted with a key log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decrypted {
    /// No key log was given (or the conversation never got that far).
    #[default]
    NotTried,
    /// At least one record was decrypted.
    Yes,
    /// The key logs have no secret for this session's client random.
    NoKey,
    /// A key was found but did not decrypt, the suite is not supported, or
    /// the capture started after the handshake.
    Failed,
}

/// Everything the TLS analyzer found on one conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TlsSummary {
    /// Negotiated version (`TLS 1.3`), from the ServerHello.
    pub version: Option<&'static str>,
    /// Highest version the client offered.
    pub client_version: Option<&'static str>,
    pub sni: Option<String>,
    pub alpn_offered: Vec<String>,
    pub alpn: Option<String>,
    /// IANA name of the negotiated suite, or its number in hex.
    pub cipher: Option<String>,
    pub resumption: Option<Resumption>,
    /// The server answered the first ClientHello with a HelloRetryRequest.
    pub hello_retry: bool,
    /// The client's JA4 fingerprint (FoxIO's BSD-licensed JA4, TLS over TCP).
    pub ja4: Option<String>,
    pub certificates: Vec<CertSummary>,
    pub alerts: Vec<AlertSeen>,
    /// The first ClientHello: time and frame.
    pub client_hello: Option<(Timestamp, u64)>,
    pub server_hello: Option<(Timestamp, u64)>,
    /// The server's Finished (TLS ≤ 1.2), or the end of the server's
    /// encrypted first flight (TLS 1.3, where the Finished cannot be told
    /// apart from the records before it without keys).
    pub server_finished: Option<(Timestamp, u64)>,
    /// The first application data record (either side).
    pub first_app_data: Option<(Timestamp, u64)>,
    /// What went wrong, in a sentence.
    pub failure: Option<String>,
    /// Input that could not be read as TLS, in sentences.
    pub notes: Vec<String>,
    /// What came of decrypting it (kept out of the JSON: the notes say it).
    #[serde(skip)]
    pub decrypted: Decrypted,
}

impl TlsSummary {
    /// ClientHello → ServerHello: the server's handshake time.
    pub fn server_hello_time(&self) -> Option<Span> {
        Some(self.server_hello?.0.since(self.client_hello?.0))
    }

    /// ClientHello → the server's Finished: the whole handshake as the
    /// server saw it through.
    pub fn handshake_time(&self) -> Option<Span> {
        Some(self.server_finished?.0.since(self.client_hello?.0))
    }

    /// The alert to show in a table: the first fatal one, else the first
    /// one that is not a plain close. An encrypted alert after the
    /// handshake is nearly always the close_notify of a session that went
    /// well: it is not shown.
    pub fn alert(&self) -> Option<&AlertSeen> {
        let done = self
            .server_finished
            .or(self.first_app_data)
            .map(|(ts, _)| ts);
        self.alerts
            .iter()
            .find(|a| a.fatal == Some(true))
            .or_else(|| {
                self.alerts.iter().find(|a| match &a.description {
                    Some(d) => d != "close_notify",
                    None => done.is_none_or(|d| a.ts < d),
                })
            })
    }
}

impl TlsSummary {
    /// The server's own certificate in a line: `CN=a.example (a.example,
    /// b.example), expiring`.
    pub fn leaf_certificate(&self) -> Option<String> {
        let leaf = self.certificates.first()?;
        let mut line = leaf.subject.clone();
        if !leaf.sans.is_empty() {
            line.push_str(&format!(" ({})", leaf.sans.join(", ")));
        }
        match leaf.validity {
            Validity::Valid => {}
            Validity::Expiring => line.push_str(", expiring"),
            Validity::Expired => line.push_str(", expired"),
            Validity::NotYetValid => line.push_str(", not yet valid"),
        }
        Some(line)
    }

    /// Resumption, HelloRetryRequest and notes, `; `-separated.
    pub fn notes_line(&self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        if let Some(r) = self.resumption {
            parts.push(format!("resumed ({})", r.as_str()));
        }
        if self.hello_retry {
            parts.push("HelloRetryRequest".into());
        }
        parts.extend(self.notes.iter().cloned());
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// `3 ms`, `1.250 s`: a span for a sentence.
pub fn human(span: Span) -> String {
    let ns = span.as_nanos();
    if ns.abs() < 1_000_000 {
        format!("{} µs", ns / 1_000)
    } else if ns.abs() < 1_000_000_000 {
        format!("{} ms", ns / 1_000_000)
    } else {
        format!("{:.3} s", span.as_secs_f64())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(human(Span::from_nanos(3_400_000)), "3 ms");
        assert_eq!(human(Span::from_nanos(120_000)), "120 µs");
        assert_eq!(human(Span::from_nanos(1_250_000_000)), "1.250 s");
    }

    #[test]
    fn the_shown_alert_is_the_first_fatal_one() {
        let alert = |fatal, d: Option<&str>| AlertSeen {
            from: Side::Server,
            ts: Timestamp::ZERO,
            frame: 0,
            fatal,
            description: d.map(str::to_string),
        };
        let mut s = TlsSummary {
            alerts: vec![alert(Some(false), Some("close_notify"))],
            ..TlsSummary::default()
        };
        assert!(s.alert().is_none(), "a plain close is no alert to show");
        s.alerts.push(alert(None, None));
        assert!(
            s.alert().is_some_and(AlertSeen::is_encrypted),
            "before any Finished"
        );
        s.server_finished = Some((Timestamp::from_nanos(-1), 0));
        assert!(
            s.alert().is_none(),
            "an encrypted close after the handshake"
        );
        s.alerts.push(alert(Some(true), Some("bad_record_mac")));
        assert_eq!(s.alert().map(AlertSeen::name), Some("bad_record_mac"));
    }
}
