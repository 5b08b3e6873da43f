//! [`Tls`]: the TLS stream analyzer of one TCP conversation, and its
//! probe. Records come from the [`Framer`] of each direction; plaintext
//! handshake messages are reassembled across records and read by
//! [`hello`](super::hello) and [`cert`](super::cert).

use std::sync::Arc;

use tls_parser::{parse_tls_handshake_msg_certificate, TlsAlertDescription, TlsMessageHandshake};

use crate::flow::{Dir, StreamSink};
use crate::time::Timestamp;

use super::super::protocol::{Context, Emit, Probe, StreamAnalyzer, Tally};
use super::super::record::{InnerPacket, Record};
use super::super::registry::BUILTIN;
use super::super::select::Selector;
use super::super::OutputError;
use super::cert::{self, MAX_CHAIN};
use super::decrypt::{self, RecordKeys};
use super::framing::{
    self, is_record_header, Framer, RecordEvent, ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC,
    HANDSHAKE, HEADER_LEN,
};
use super::hello::{self, cipher_name, version_name, ClientHello, ServerHello};
use super::keylog::{KeyLog, Secrets};
use super::plain::{PlainPiece, RecordSpan};
use super::summary::{human, AlertSeen, Decrypted, Resumption, Side, TlsSummary};

/// The name this analyzer registers under.
pub const NAME: &str = "tls";

/// Largest handshake message reassembled (a long certificate chain fits;
/// a bigger claim is noted and the direction's handshake is not read on).
const MAX_HANDSHAKE_MSG: usize = 256 * 1024;

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const ENCRYPTED_EXTENSIONS: u8 = 8;
const CERTIFICATE: u8 = 11;
const FINISHED: u8 = 20;
const KEY_UPDATE: u8 = 24;

/// Whether a stream starting with `first_bytes` is TLS: a plausible record
/// header (any content type: a capture may start mid-connection), or an
/// SSLv2-compatible ClientHello.
pub fn probe(_dir: Dir, first_bytes: &[u8]) -> Probe {
    if let Some(&first) = first_bytes.first() {
        if first & 0x80 != 0 {
            return match first_bytes.get(2..5) {
                None => Probe::NeedMore,
                Some(&[1, 3, minor]) if minor <= 4 => Probe::Yes,
                Some(_) => Probe::No,
            };
        }
    }
    if first_bytes.len() >= HEADER_LEN {
        return if is_record_header(first_bytes) {
            Probe::Yes
        } else {
            Probe::No
        };
    }
    let plausible = match *first_bytes {
        [] => true,
        [t] => (20..=24).contains(&t),
        [t, 3] => (20..=24).contains(&t),
        [t, 3, minor, ..] => (20..=24).contains(&t) && minor <= 4,
        _ => false,
    };
    if plausible {
        Probe::NeedMore
    } else {
        Probe::No
    }
}

/// Builds the analyzer (the registry's constructor).
pub fn new() -> Box<dyn StreamAnalyzer> {
    Box::new(Tls::default())
}

/// One direction's reading state.
#[derive(Debug, Default)]
struct Half {
    /// Made at the first bytes; boxed, so taking it out while it frames
    /// (its records go to the whole analyzer) moves a pointer, not the
    /// framer.
    framer: Option<Box<Framer>>,
    /// Plaintext handshake bytes not yet a whole message.
    handshake: Vec<u8>,
    /// Records after this side's ChangeCipherSpec (or TLS 1.3's
    /// ServerHello) are encrypted.
    encrypted: bool,
    /// The handshake of this direction is no longer read (a message over
    /// [`MAX_HANDSHAKE_MSG`]).
    handshake_given_up: bool,
    /// Bytes of an SSLv2-compatible hello still to skip.
    skip: usize,
    /// Some payload arrived in this direction.
    started: bool,
    /// FIN or RST: time and whether it was a reset.
    closed: Option<(Timestamp, bool)>,
    /// Records framed.
    records: u64,
    /// Records sent after the (final) ServerHello.
    records_after_server_hello: u64,
}

/// The TLS analyzer of one TCP conversation.
#[derive(Default)]
pub struct Tls {
    halves: [Half; 2],
    /// The direction the ClientHello went (the TLS client's sending side).
    client_dir: Option<Dir>,
    client_hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    summary: TlsSummary,
    tls13: bool,
    server_sent_certificate: bool,
    server_changed_cipher: bool,
    finished: bool,
    decryption: Decryption,
    /// For the followed stream: decrypted application data is kept here
    /// instead of going to an analyzer.
    pub(super) tap: Option<Vec<PlainPiece>>,
}

/// Decryption state: the session's secrets once looked up, each
/// direction's keys, and the analyzer of the decrypted bytes.
#[derive(Default)]
struct Decryption {
    /// The key log was consulted (at the first drain after the ClientHello).
    looked_up: bool,
    secrets: Option<Secrets>,
    /// Keys in use, by direction index.
    keys: [Option<RecordKeys>; 2],
    /// TLS 1.3: the application keys, used after the handshake's Finished.
    next: [Option<RecordKeys>; 2],
    /// Decrypted handshake bytes not yet a whole message (TLS 1.3).
    handshake: [Vec<u8>; 2],
    /// A record did not authenticate: this direction is not decrypted on.
    failed: [bool; 2],
    /// After a gap: bytes lost so far, and how many more records may be
    /// tried before giving up (the sequence number is unknown).
    after_gap: [Option<(u64, u8)>; 2],
    /// The analyzer of the plaintext, from the first application data.
    inner: Option<Selector>,
    /// Records decrypted.
    records: u64,
    /// Why the conversation is not decrypted, for people.
    why_not: Option<String>,
    /// The key logs have no secrets for this session's client random.
    no_key: bool,
}

/// Records tried after a gap before decryption gives up on a direction.
const RESUME_TRIES: u8 = 4;
/// The fewest bytes a record takes on the wire (header, one byte, a
/// 16-byte tag): bounds the records a gap can have held.
const MIN_RECORD_ON_WIRE: u64 = 22;
/// Sequence numbers tried after a gap, at most.
const MAX_LOST_RECORDS: u64 = 1024;

impl Decryption {
    fn outcome(&self) -> Decrypted {
        if self.records > 0 {
            Decrypted::Yes
        } else if self.no_key {
            Decrypted::NoKey
        } else if self.looked_up {
            Decrypted::Failed
        } else {
            Decrypted::NotTried
        }
    }
}

impl Tls {
    /// Records decrypted so far.
    pub(super) fn decrypted_records(&self) -> u64 {
        self.decryption.records
    }

    /// What was found so far (complete once `finish` ran).
    pub fn summary(&self) -> &TlsSummary {
        &self.summary
    }

    fn side(&self, dir: Dir) -> Side {
        match self.client_dir {
            Some(c) if c != dir => Side::Server,
            Some(_) => Side::Client,
            // No hello seen: trust the TCP roles.
            None if dir == Dir::ToServer => Side::Client,
            None => Side::Server,
        }
    }

    fn half(&mut self, side: Side) -> &mut Half {
        let dir = match (self.client_dir.unwrap_or(Dir::ToServer), side) {
            (c, Side::Client) => c,
            (c, Side::Server) => c.reverse(),
        };
        &mut self.halves[dir.index()]
    }

    fn note(&mut self, note: String) {
        if self.summary.notes.len() < 16 && !self.summary.notes.contains(&note) {
            self.summary.notes.push(note);
        }
    }

    /// The first bytes of a direction may be an SSLv2-compatible
    /// ClientHello: skipped (its fields are not read), then records follow.
    fn check_sslv2(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let half = &mut self.halves[dir.index()];
        if std::mem::replace(&mut half.started, true) {
            return;
        }
        if let [hi, lo, 1, 3, ..] = *bytes {
            if hi & 0x80 != 0 {
                half.skip = (usize::from(hi & 0x7f) << 8 | usize::from(lo)) + 2;
                self.client_dir.get_or_insert(dir);
                self.summary.client_hello.get_or_insert((ts, frame));
                self.note(
                    "SSLv2-compatible ClientHello: its SNI, ALPN and JA4 are not read".into(),
                );
            }
        }
    }

    fn record(&mut self, dir: Dir, rec: RecordEvent<'_>) {
        if let Some(plain) = self.decrypt(dir, &rec) {
            return self.plain_record(dir, &rec, plain);
        }
        self.sealed_record(dir, rec);
    }

    /// Decrypts a record when this direction has keys and the record is
    /// encrypted; `None` otherwise (it is then read as it came).
    fn decrypt(&mut self, dir: Dir, rec: &RecordEvent<'_>) -> Option<decrypt::Plain> {
        let d = dir.index();
        let side = self.side(dir).as_str();
        let dec = &mut self.decryption;
        if dec.failed[d] || !self.halves[d].encrypted {
            return None;
        }
        let body = rec.body?;
        if self.tls13 && rec.content_type != APPLICATION_DATA {
            return None; // a compatibility ChangeCipherSpec, a clear alert
        }
        if let Some(lost) = rec.lost_before {
            dec.after_gap[d] = Some((lost, RESUME_TRIES));
        }
        if let (Some((lost, tries)), Some(keys)) = (dec.after_gap[d], &mut dec.keys[d]) {
            let most = (lost / MIN_RECORD_ON_WIRE).min(MAX_LOST_RECORDS) + 1;
            if let Some((plain, skipped)) =
                keys.open_after_gap(rec.content_type, rec.version, body, most)
            {
                dec.after_gap[d] = None;
                dec.records += 1;
                let note = format!(
                    "{side}: decryption resumed after the gap at the record of frame {} \
                     ({skipped} record{} lost)",
                    rec.frame + 1,
                    if skipped == 1 { "" } else { "s" }
                );
                self.note(note);
                return Some(plain);
            }
            let seen = lost.saturating_add((rec.len + HEADER_LEN) as u64);
            dec.after_gap[d] = (tries > 1).then_some((seen, tries - 1));
            if tries > 1 {
                return None;
            }
            let note = format!(
                "{side}: decryption could not resume after the gap (tried up to frame {})",
                rec.frame + 1
            );
            self.decryption.failed[d] = true;
            self.note(note);
            return None;
        }
        if let Some(keys) = &mut dec.keys[d] {
            if let Some(plain) = keys.open(rec.content_type, rec.version, body) {
                dec.records += 1;
                return Some(plain);
            }
        }
        // TLS 1.3 without the handshake secrets (or a Finished not seen):
        // the application keys may apply from here.
        if let Some(next) = &mut dec.next[d] {
            if let Some(plain) = next.open(rec.content_type, rec.version, body) {
                dec.keys[d] = dec.next[d].take();
                dec.records += 1;
                return Some(plain);
            }
        }
        if dec.keys[d].is_some() || dec.next[d].is_some() {
            if dec.records == 0 && dec.next[d].is_none() {
                // Nothing ever decrypted: the key does not fit.
                dec.why_not.get_or_insert_with(|| {
                    "the key log's secret does not decrypt this session".to_string()
                });
            } else if self.tls13 && dec.next[d].is_some() && dec.keys[d].is_none() {
                // Handshake records without handshake secrets: skipped.
                return None;
            }
            let note = format!(
                "{side}: decryption stopped at a record that does not authenticate (frame {})",
                rec.frame + 1
            );
            self.decryption.failed[d] = true;
            self.note(note);
        }
        None
    }

    /// A decrypted record: handshake messages, alerts and application
    /// data (handed to the inner analyzer).
    fn plain_record(&mut self, dir: Dir, rec: &RecordEvent<'_>, plain: decrypt::Plain) {
        let side = self.side(dir);
        if plain.content_type != ALERT {
            // Timing reads the record as it was sent (TLS 1.3 wraps every
            // type as application data).
            let outer = if self.tls13 {
                APPLICATION_DATA
            } else {
                rec.content_type
            };
            let sealed = RecordEvent {
                content_type: outer,
                body: None,
                ..*rec
            };
            self.sealed_record(dir, sealed);
        }
        match plain.content_type {
            APPLICATION_DATA if self.tap.is_some() => {
                if let Some(tap) = &mut self.tap {
                    tap.push(PlainPiece {
                        dir,
                        record: RecordSpan::of(rec),
                        bytes: plain.data,
                    });
                }
            }
            APPLICATION_DATA => {
                let inner = self.decryption.inner.get_or_insert_with(|| {
                    let by_alpn = match self.summary.alpn.as_deref() {
                        Some("http/1.1") => Selector::named(&BUILTIN, super::super::http1::NAME),
                        // The hook for HTTP/2: its analyzer, once registered as "h2".
                        Some("h2") => Selector::named(&BUILTIN, "h2"),
                        _ => None,
                    };
                    by_alpn.unwrap_or_else(|| Selector::probing(&BUILTIN))
                });
                inner.data(dir, rec.end_ts, rec.end_frame, &plain.data);
            }
            ALERT => {
                if let [level, code] = plain.data[..] {
                    self.summary.alerts.push(AlertSeen {
                        from: side,
                        ts: rec.ts,
                        frame: rec.frame,
                        fatal: Some(level == 2),
                        description: Some(alert_name(code)),
                    });
                }
            }
            HANDSHAKE if self.tls13 => self.decrypted_handshake(dir, &plain.data),
            // TLS ≤ 1.2: the Finished after ChangeCipherSpec.
            _ => {}
        }
    }

    /// TLS 1.3 handshake messages that were encrypted.
    fn decrypted_handshake(&mut self, dir: Dir, bytes: &[u8]) {
        let d = dir.index();
        let mut buf = std::mem::take(&mut self.decryption.handshake[d]);
        buf.extend_from_slice(bytes);
        let mut at = 0;
        while let Some(&[ty, a, b, c]) = buf.get(at..at + 4) {
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if len > MAX_HANDSHAKE_MSG {
                buf.clear();
                at = 0;
                break;
            }
            let Some(msg) = buf.get(at + 4..at + 4 + len) else {
                break;
            };
            match ty {
                ENCRYPTED_EXTENSIONS => {
                    if let Some(alpn) = super::hello::encrypted_extensions_alpn(msg) {
                        self.summary.alpn = Some(alpn);
                    }
                }
                CERTIFICATE if self.side(dir) == Side::Server => {
                    let at_ts = self.summary.client_hello.map(|(ts, _)| ts);
                    for der in super::hello::tls13_certificates(msg)
                        .into_iter()
                        .take(MAX_CHAIN)
                    {
                        match cert::summarize(der, at_ts) {
                            Ok(c) => self.summary.certificates.push(c),
                            Err(e) => self.note(e),
                        }
                    }
                }
                FINISHED => {
                    if let Some(next) = self.decryption.next[d].take() {
                        self.decryption.keys[d] = Some(next);
                    }
                }
                KEY_UPDATE => {
                    let updated = self.decryption.keys[d]
                        .as_ref()
                        .and_then(RecordKeys::updated);
                    if updated.is_some() {
                        self.decryption.keys[d] = updated;
                    }
                }
                _ => {}
            }
            at += 4 + len;
        }
        buf.drain(..at);
        self.decryption.handshake[d] = buf;
    }

    /// Sets up the record keys once the secrets and the ServerHello are
    /// both known.
    fn setup_keys(&mut self) {
        let dec = &mut self.decryption;
        if dec.keys.iter().chain(&dec.next).any(Option::is_some) || dec.why_not.is_some() {
            return;
        }
        let (Some(secrets), Some(ch), Some(sh)) =
            (&dec.secrets, &self.client_hello, &self.server_hello)
        else {
            return;
        };
        if sh.version < 0x0301 {
            dec.why_not = Some("SSL 3.0 is not decrypted".into());
            return;
        }
        let Some(suite) = decrypt::suite(sh.cipher) else {
            dec.why_not = Some(format!("unsupported suite {}", cipher_name(sh.cipher)));
            return;
        };
        let c = self.client_dir.unwrap_or(Dir::ToServer).index();
        let s = 1 - c;
        if self.tls13 {
            let keys = |secret: &Option<Vec<u8>>| {
                secret.as_deref().and_then(|x| RecordKeys::tls13(suite, x))
            };
            dec.keys[c] = keys(&secrets.client_handshake);
            dec.keys[s] = keys(&secrets.server_handshake);
            dec.next[c] = keys(&secrets.client_traffic);
            dec.next[s] = keys(&secrets.server_traffic);
            if dec.keys.iter().chain(&dec.next).all(Option::is_none) {
                dec.why_not = Some("the key log has no TLS 1.3 secrets for this session".into());
            }
        } else {
            let Some(master) = &secrets.master else {
                dec.why_not = Some("the key log has no CLIENT_RANDOM line for this session".into());
                return;
            };
            let keys = RecordKeys::tls12(
                suite,
                sh.version,
                master,
                &ch.random,
                &sh.random,
                sh.encrypt_then_mac,
            );
            match keys {
                Some((client, server)) => {
                    dec.keys[c] = Some(client);
                    dec.keys[s] = Some(server);
                }
                None => dec.why_not = Some("the master secret does not fit the suite".into()),
            }
        }
        // A framer made later keeps them from the start (`Tls::framer`).
        for framer in self.halves.iter_mut().filter_map(|h| h.framer.as_mut()) {
            framer.keep_all = true;
        }
    }

    /// At a drain: looks the session up in the key log, once the
    /// ClientHello is known.
    pub(super) fn look_up_keys(&mut self, keys: &KeyLog) {
        if self.decryption.looked_up || keys.is_empty() {
            return;
        }
        let Some(ch) = &self.client_hello else {
            if self.halves.iter().any(|h| h.records > 0) && self.summary.client_hello.is_none() {
                self.decryption.looked_up = true;
                self.decryption.why_not = Some("capture started after the handshake".into());
            }
            return;
        };
        self.decryption.looked_up = true;
        match keys.get(&ch.random) {
            Some(secrets) => {
                self.decryption.secrets = Some(secrets.clone());
                self.setup_keys();
            }
            None => {
                let short: String = ch.random[..4].iter().map(|b| format!("{b:02x}")).collect();
                self.decryption.no_key = true;
                self.decryption.why_not =
                    Some(format!("no key for this session (client random {short}…)"));
            }
        }
    }

    fn sealed_record(&mut self, dir: Dir, rec: RecordEvent<'_>) {
        let side = self.side(dir);
        let after_server_hello = self.server_hello.is_some();
        let half = &mut self.halves[dir.index()];
        half.records += 1;
        if after_server_hello {
            half.records_after_server_hello += 1;
        }
        let encrypted = half.encrypted;
        match rec.content_type {
            HANDSHAKE if !encrypted => {
                if let Some(body) = rec.body {
                    self.handshake_bytes(dir, &rec, body);
                }
            }
            // TLS ≤ 1.2: the first encrypted handshake message after the
            // server's ChangeCipherSpec is its Finished.
            HANDSHAKE if side == Side::Server && self.summary.server_finished.is_none() => {
                self.summary.server_finished = Some((rec.ts, rec.frame));
            }
            HANDSHAKE => {}
            // TLS 1.3 sends one for middlebox compatibility (RFC 8446
            // §D.4), after a HelloRetryRequest too, before the version is
            // known from the ServerHello.
            CHANGE_CIPHER_SPEC if !self.tls13 && !self.summary.hello_retry => {
                self.halves[dir.index()].encrypted = true;
                if side == Side::Server {
                    self.server_changed_cipher = true;
                    self.resumption_at_change_cipher();
                }
            }
            CHANGE_CIPHER_SPEC => {}
            ALERT => self.alert(side, &rec),
            APPLICATION_DATA => self.application_data(side, &rec),
            _ => {}
        }
    }

    fn application_data(&mut self, side: Side, rec: &RecordEvent<'_>) {
        if self.summary.client_hello.is_none() && self.server_hello.is_none() {
            self.note("capture started after the handshake: no hello seen".into());
        }
        if !self.tls13 {
            self.summary
                .first_app_data
                .get_or_insert((rec.ts, rec.frame));
            return;
        }
        // TLS 1.3: the server's first flight ends when the client answers
        // (its Finished); the client's next record is application data.
        let client_records = self.half(Side::Client).records_after_server_hello;
        match side {
            Side::Server if client_records == 0 => {
                self.summary.server_finished = Some((rec.ts, rec.frame));
            }
            Side::Server if client_records > 0 => {
                self.summary
                    .first_app_data
                    .get_or_insert((rec.ts, rec.frame));
            }
            Side::Client if client_records > 1 => {
                self.summary
                    .first_app_data
                    .get_or_insert((rec.ts, rec.frame));
            }
            _ => {}
        }
    }

    fn alert(&mut self, from: Side, rec: &RecordEvent<'_>) {
        let plain = match rec.body {
            // Two bytes cannot be encrypted (a MAC or tag is longer).
            Some(&[level, code]) => Some((level, code)),
            _ => None,
        };
        if self.summary.alerts.len() >= 64 {
            return;
        }
        self.summary.alerts.push(AlertSeen {
            from,
            ts: rec.ts,
            frame: rec.frame,
            fatal: plain.map(|(level, _)| level == 2),
            description: plain.map(|(_, code)| alert_name(code)),
        });
    }

    fn handshake_bytes(&mut self, dir: Dir, rec: &RecordEvent<'_>, body: &[u8]) {
        let half = &mut self.halves[dir.index()];
        if half.handshake_given_up {
            return;
        }
        half.handshake.extend_from_slice(body);
        let mut buf = std::mem::take(&mut half.handshake);
        let mut at = 0;
        while let Some(&[ty, a, b, c]) = buf.get(at..at + 4) {
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if len > MAX_HANDSHAKE_MSG {
                self.halves[dir.index()].handshake_given_up = true;
                self.note(format!(
                    "a handshake message of {len} bytes (more than {MAX_HANDSHAKE_MSG}): the rest of the handshake was not read"
                ));
                return;
            }
            let Some(msg) = buf.get(at + 4..at + 4 + len) else {
                break;
            };
            self.handshake_message(dir, ty, msg, rec);
            at += 4 + len;
        }
        buf.drain(..at);
        self.halves[dir.index()].handshake = buf;
    }

    fn handshake_message(&mut self, dir: Dir, ty: u8, body: &[u8], rec: &RecordEvent<'_>) {
        match ty {
            CLIENT_HELLO => {
                self.client_dir.get_or_insert(dir);
                self.summary.client_hello.get_or_insert((rec.ts, rec.frame));
                if self.client_hello.is_some() {
                    return; // the second one, after a HelloRetryRequest
                }
                match hello::client_hello(body) {
                    Some(ch) => {
                        if let Some(note) = &ch.note {
                            self.note(format!("ClientHello: {note}"));
                        }
                        self.summary.client_version = version_name(ch.version);
                        self.summary.sni = ch.sni.clone();
                        self.summary.alpn_offered = ch.alpn.clone();
                        self.summary.ja4 = Some(ch.ja4.clone());
                        self.client_hello = Some(ch);
                    }
                    None => self.note("a ClientHello that does not parse".into()),
                }
            }
            SERVER_HELLO => {
                self.client_dir.get_or_insert(dir.reverse());
                let Some(sh) = hello::server_hello(body) else {
                    return self.note("a ServerHello that does not parse".into());
                };
                if sh.hello_retry {
                    self.summary.hello_retry = true;
                    return;
                }
                self.summary.server_hello = Some((rec.ts, rec.frame));
                self.summary.version = version_name(sh.version);
                self.summary.cipher = Some(cipher_name(sh.cipher));
                self.summary.alpn = sh.alpn.clone();
                if sh.version == 0x0304 {
                    self.tls13 = true;
                    for half in &mut self.halves {
                        half.encrypted = true;
                    }
                    if sh.psk {
                        self.summary.resumption = Some(Resumption::Psk);
                    }
                }
                self.server_hello = Some(sh);
                self.setup_keys();
            }
            CERTIFICATE if !self.tls13 && self.side(dir) == Side::Server => {
                self.server_sent_certificate = true;
                self.certificates(body);
            }
            _ => {}
        }
    }

    fn certificates(&mut self, body: &[u8]) {
        let Ok((_, TlsMessageHandshake::Certificate(chain))) =
            parse_tls_handshake_msg_certificate(body)
        else {
            return self.note("a Certificate message that does not parse".into());
        };
        let at = self.summary.client_hello.map(|(ts, _)| ts);
        for raw in chain.cert_chain.iter().take(MAX_CHAIN) {
            match cert::summarize(raw.data, at) {
                Ok(c) => self.summary.certificates.push(c),
                Err(e) => self.note(e),
            }
        }
    }

    /// TLS ≤ 1.2: a server that changes cipher without sending a
    /// certificate resumed a session (by ticket when one was offered).
    fn resumption_at_change_cipher(&mut self) {
        if self.server_sent_certificate || self.summary.resumption.is_some() {
            return;
        }
        let (Some(ch), Some(_)) = (&self.client_hello, &self.server_hello) else {
            return;
        };
        self.summary.resumption = if ch.has_ticket {
            Some(Resumption::Ticket)
        } else if ch.has_session_id {
            Some(Resumption::SessionId)
        } else {
            None
        };
    }

    /// The sentence naming what went wrong, if anything did.
    fn failure(&self) -> Option<String> {
        let s = &self.summary;
        let (hello_ts, _) = s.client_hello?;
        let after = |ts: Timestamp| human(ts.since(hello_ts));
        let done = s.server_finished.is_some() || s.first_app_data.is_some();
        let bad_alert = s.alerts.iter().find(|a| {
            a.fatal == Some(true) || (!done && a.description.as_deref() != Some("close_notify"))
        });
        if let Some(a) = bad_alert {
            let what = match &a.description {
                Some(d) => d.clone(),
                None => "an encrypted alert".to_string(),
            };
            return Some(format!(
                "{} sent {what} {} after ClientHello",
                a.from.as_str(),
                after(a.ts)
            ));
        }
        if done {
            return None;
        }
        let client = self.halves[self.client_dir.unwrap_or(Dir::ToServer).index()].closed;
        let server = self.halves[self.client_dir.unwrap_or(Dir::ToServer).reverse().index()].closed;
        let how = |reset: bool| if reset { "reset" } else { "closed" };
        if s.server_hello.is_none() {
            return Some(match server.or(client) {
                Some((ts, reset)) if server.is_some() => format!(
                    "server {} the connection {} after ClientHello without a ServerHello",
                    how(reset),
                    after(ts)
                ),
                Some((ts, reset)) => format!(
                    "client {} the connection {} after ClientHello without a ServerHello",
                    how(reset),
                    after(ts)
                ),
                None => "no ServerHello after the ClientHello".to_string(),
            });
        }
        let client_answered = self.halves[self.client_dir.unwrap_or(Dir::ToServer).index()]
            .records_after_server_hello
            > 0;
        match (client, server) {
            (Some((ts, reset)), _) if self.server_sent_certificate && !client_answered => {
                Some(format!(
                    "client {} the connection {} after the certificate: untrusted certificate?",
                    how(reset),
                    after(ts)
                ))
            }
            (Some((ts, reset)), None) => Some(format!(
                "client {} the connection {} after ClientHello, before the handshake finished",
                how(reset),
                after(ts)
            )),
            (_, Some((ts, reset))) => Some(format!(
                "server {} the connection {} after ClientHello, before the handshake finished",
                how(reset),
                after(ts)
            )),
            (None, None) => None,
        }
    }

    fn frame_notes(&mut self) {
        for dir in [Dir::ToServer, Dir::ToClient] {
            let side = self.side(dir);
            let Some(framer) = self.halves[dir.index()].framer.as_deref() else {
                continue;
            };
            if framer.is_inside_record() {
                self.note(format!(
                    "{}: the stream ends inside a record",
                    side.as_str()
                ));
            }
            let Some(framer) = self.halves[dir.index()].framer.as_deref() else {
                continue;
            };
            let resumed: Vec<String> = framer
                .resumed
                .iter()
                .map(|r| {
                    format!(
                        "{}: {} bytes missing at stream offset {}; records read again from \
                         offset {} (frame {})",
                        side.as_str(),
                        r.record_at - r.gap_at,
                        r.gap_at,
                        r.record_at,
                        r.frame + 1
                    )
                })
                .collect();
            let broken = framer.broken().cloned().or_else(|| framer.unresumed_gap());
            for note in resumed {
                self.note(note);
            }
            if let Some(broken) = broken {
                if matches!(broken, framing::Broken::Gap { .. })
                    && self.halves[dir.index()].records == 0
                {
                    continue;
                }
                self.note(format!("{}: {broken}", side.as_str()));
            }
        }
    }
}

/// `handshake_failure` for 40 (RFC 8446 §6, RFC 5246 §7.2).
fn alert_name(code: u8) -> String {
    let debug = TlsAlertDescription(code).to_string();
    if debug.starts_with("TlsAlertDescription") {
        return format!("alert {code}");
    }
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, ch) in debug.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

impl StreamSink for Tls {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, mut bytes: &[u8]) {
        self.check_sslv2(dir, ts, frame, bytes);
        let half = &mut self.halves[dir.index()];
        if half.skip > 0 {
            let n = half.skip.min(bytes.len());
            let n = self.framer(dir).skip(n);
            self.halves[dir.index()].skip -= n;
            bytes = &bytes[n..];
        }
        if bytes.is_empty() {
            return;
        }
        self.framer(dir);
        let Some(mut framer) = self.halves[dir.index()].framer.take() else {
            return;
        };
        framer.push(ts, frame, bytes, &mut |rec| {
            self.record(dir, rec);
            self.decryption.has_keys()
        });
        self.halves[dir.index()].framer = Some(framer);
    }

    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        self.halves[dir.index()].started = true;
        self.framer(dir).gap(len);
        if let Some(inner) = &mut self.decryption.inner {
            inner.gap(dir, ts, frame, len);
        }
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.halves[dir.index()].closed.get_or_insert((ts, false));
        if let Some(inner) = &mut self.decryption.inner {
            inner.fin(dir, ts, frame);
        }
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.halves[dir.index()].closed.get_or_insert((ts, true));
        if let Some(inner) = &mut self.decryption.inner {
            inner.reset(dir, ts, frame);
        }
    }

    /// The records a filled hole releases are decrypted in this same
    /// packet's step, so the inner analyzer (HTTP/2 inside TLS) learns of
    /// the hold before their plaintext reaches it.
    fn held(&mut self, dir: Dir, since: Timestamp, ts: Timestamp) {
        if let Some(inner) = &mut self.decryption.inner {
            inner.held(dir, since, ts);
        }
    }
}

impl Tls {
    /// The framer of a direction, made at first use (keeping every record
    /// whole when keys are already set up).
    fn framer(&mut self, dir: Dir) -> &mut Framer {
        let keep_all = self.decryption.has_keys();
        self.halves[dir.index()].framer.get_or_insert_with(|| {
            let mut f = Box::<Framer>::default();
            f.keep_all = keep_all;
            f
        })
    }
}

impl Decryption {
    /// Keys are set up: records must be kept whole to be decrypted.
    fn has_keys(&self) -> bool {
        self.keys.iter().chain(&self.next).any(Option::is_some)
    }
}

/// Passes records on, marking HTTP exchanges as decrypted from TLS.
struct MarkTls<'a> {
    emit: &'a mut dyn Emit,
}

impl Emit for MarkTls<'_> {
    fn record(&mut self, mut record: Record) -> Result<(), OutputError> {
        // Other record types pass unchanged (HTTP is the only one today).
        #[allow(irrefutable_let_patterns)]
        if let Record::Http(exchange) = &mut record {
            exchange.tls = true;
        }
        self.emit.record(record)
    }

    fn inner_packet(&mut self, packet: InnerPacket) {
        self.emit.inner_packet(packet);
    }
}

impl StreamAnalyzer for Tls {
    fn finish(&mut self, ts: Timestamp) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        if let Some(inner) = &mut self.decryption.inner {
            inner.finish(ts);
        }
        self.frame_notes();
        if let Some(why) = self.decryption.why_not.clone() {
            self.note(format!("not decrypted: {why}"));
        }
        self.summary.decrypted = self.decryption.outcome();
        self.summary.failure = self.failure();
    }

    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        self.look_up_keys(cx.keys);
        match &mut self.decryption.inner {
            Some(inner) => inner.drain(cx, &mut MarkTls { emit }),
            None => Ok(()),
        }
    }

    fn tally(&self) -> Tally {
        let inner = self
            .decryption
            .inner
            .as_ref()
            .map(StreamAnalyzer::tally)
            .unwrap_or_default();
        Tally {
            confirmed: self.client_hello.is_some()
                || self.server_hello.is_some()
                || self.halves.iter().any(|h| h.records >= 2),
            records: inner.records,
            reversed: inner.reversed,
        }
    }

    fn tls(&self) -> Option<Arc<TlsSummary>> {
        Some(Arc::new(self.summary.clone()))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![content_type, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    /// A handshake message cut into records of at most 16 KiB.
    fn handshake_records(ty: u8, body: &[u8]) -> Vec<u8> {
        let mut msg = vec![ty];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(body);
        msg.chunks(1 << 14)
            .flat_map(|c| record(HANDSHAKE, c))
            .collect()
    }

    fn client_hello_body(extensions: &[u8]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(0); // no session id
        b.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        b.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        b.extend_from_slice(extensions);
        b
    }

    fn sni(name: &str) -> Vec<u8> {
        let n = name.len() as u16;
        let mut e = vec![0, 0];
        e.extend_from_slice(&(n + 5).to_be_bytes());
        e.extend_from_slice(&(n + 3).to_be_bytes());
        e.push(0);
        e.extend_from_slice(&n.to_be_bytes());
        e.extend_from_slice(name.as_bytes());
        e
    }

    fn run(to_server: &[&[u8]], to_client: &[&[u8]]) -> TlsSummary {
        let mut tls = Tls::default();
        let mut frame = 0;
        for (dir, chunks) in [(Dir::ToServer, to_server), (Dir::ToClient, to_client)] {
            for chunk in chunks {
                tls.data(
                    dir,
                    Timestamp::from_nanos(frame * 1000),
                    frame as u64,
                    chunk,
                );
                frame += 1;
            }
        }
        tls.finish(Timestamp::from_nanos(frame * 1000));
        tls.summary().clone()
    }

    #[test]
    fn the_probe_knows_records_and_sslv2_hellos() {
        assert_eq!(
            probe(Dir::ToServer, b"\x16\x03\x01\x02\x00\x01"),
            Probe::Yes
        );
        assert_eq!(
            probe(Dir::ToClient, b"\x15\x03\x03\x00\x02\x02\x28"),
            Probe::Yes
        );
        assert_eq!(probe(Dir::ToServer, b"\x17\x03\x03\x40\x00"), Probe::Yes);
        assert_eq!(probe(Dir::ToServer, b"\x16\x03"), Probe::NeedMore);
        assert_eq!(probe(Dir::ToServer, b""), Probe::NeedMore);
        assert_eq!(probe(Dir::ToServer, b"GET / HTTP/1.1\r\n"), Probe::No);
        assert_eq!(
            probe(Dir::ToServer, b"\x16\x03\x01\xff\xff"),
            Probe::No,
            "too long"
        );
        assert_eq!(probe(Dir::ToServer, b"\x16\x02"), Probe::No);
        assert_eq!(
            probe(Dir::ToServer, b"\x80\x2e\x01\x03\x01"),
            Probe::Yes,
            "SSLv2 hello"
        );
        assert_eq!(probe(Dir::ToServer, b"\x80\x2e"), Probe::NeedMore);
        assert_eq!(probe(Dir::ToServer, b"\x80\x2e\x04\x00\x02"), Probe::No);
    }

    #[test]
    fn a_client_hello_across_records_and_segments() {
        let hello = handshake_records(CLIENT_HELLO, &client_hello_body(&sni("example.com")));
        let (a, b) = hello.split_at(7);
        let s = run(&[a, b], &[]);
        assert_eq!(s.sni.as_deref(), Some("example.com"));
        assert!(s.ja4.as_deref().is_some_and(|j| j.starts_with("t12d0101")));
        assert_eq!(
            s.failure.as_deref(),
            Some("no ServerHello after the ClientHello")
        );
    }

    #[test]
    fn thousands_of_extensions_are_a_note_not_a_panic() {
        let mut exts = sni("many.example");
        for i in 0..5000u16 {
            exts.extend_from_slice(&(0x7000 + i).to_be_bytes());
            exts.extend_from_slice(&[0, 0]);
        }
        let hello = handshake_records(CLIENT_HELLO, &client_hello_body(&exts));
        assert!(hello.len() > 1 << 14, "spans records");
        let s = run(&[&hello], &[]);
        assert_eq!(s.sni.as_deref(), Some("many.example"));
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("more than 512 extensions")),
            "{:?}",
            s.notes
        );
    }

    #[test]
    fn huge_claims_are_refused_without_buffering() {
        // A record header claiming 64 KiB, and a handshake message
        // claiming 16 MB inside a legal record.
        let s = run(
            &[b"\x16\x03\x01\xff\xff"],
            &[&record(HANDSHAKE, &[2, 0xff, 0xff, 0xff, 1])],
        );
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("claims 65535 bytes, more than TLS allows")),
            "{:?}",
            s.notes
        );
        assert!(
            s.notes.iter().any(|n| n.contains("16777215 bytes")),
            "{:?}",
            s.notes
        );
    }

    #[test]
    fn truncated_and_corrupted_records_are_noted() {
        let hello = handshake_records(CLIENT_HELLO, &client_hello_body(&[]));
        let s = run(&[&hello[..hello.len() - 3]], &[]);
        assert_eq!(s.sni, None);
        assert!(s
            .notes
            .iter()
            .any(|n| n == "client: the stream ends inside a record"));
        let mut corrupted = hello.clone();
        corrupted.extend_from_slice(b"\x00garbage");
        let s = run(&[&corrupted], &[]);
        assert!(
            s.notes.iter().any(|n| n.contains("are not a TLS record")),
            "{:?}",
            s.notes
        );
        // A hello whose body is garbage inside valid framing.
        let s = run(&[&record(HANDSHAKE, &[1, 0, 0, 3, 9, 9, 9])], &[]);
        assert!(s
            .notes
            .iter()
            .any(|n| n == "a ClientHello that does not parse"));
    }

    #[test]
    fn an_sslv2_compatible_hello_is_skipped() {
        let mut v2 = vec![0x80, 0x0b, 1, 3, 1, 0, 3, 0, 0, 0, 0x10, 0, 0];
        v2.truncate(13);
        let alert = record(ALERT, &[2, 40]);
        let s = run(&[&v2], &[&alert]);
        assert!(s
            .notes
            .iter()
            .any(|n| n.starts_with("SSLv2-compatible ClientHello")));
        assert_eq!(
            s.failure.as_deref(),
            Some("server sent handshake_failure 1 µs after ClientHello")
        );
    }

    #[test]
    fn alert_names_follow_the_rfc() {
        assert_eq!(alert_name(40), "handshake_failure");
        assert_eq!(alert_name(0), "close_notify");
        assert_eq!(alert_name(200), "alert 200");
    }
}
