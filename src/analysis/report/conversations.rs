//! The conversation table: one row per TCP or UDP conversation, as
//! `analyze --json` prints it and `/api/captures/ID/conversations` lists it.
//! Adding a column here adds it to the JSON, the store, the sort keys and
//! (when a page lists it) the web table.

use std::net::SocketAddr;

use super::query::Order::{Asc, Desc};
use super::query::{Cond, Filter};
use super::table::{Cell, Row};
use super::table::{Column, FilterOp, Unit};
use crate::analysis::tls::{Decrypted, TlsSummary};
use crate::filter::{RowExpr, RowPred};
use crate::flow::{Conversation, Dir, Proto, State};
use crate::time::{Span, Timestamp};

type C = Column<ConversationRow>;

crate::table! {
    /// One conversation as `analyze --json` and `/api/.../conversations` show it.
    pub struct ConversationRow in "conversations" {
        id: u64 = C::spec("#", "conversation number").short("id").look("id").sorts(Asc),
        proto: Proto = C::spec("proto", "transport protocol").sorts(Asc),
        client: SocketAddr = C::spec("client", "the side that opened the connection")
            .indexed(Asc),
        server: SocketAddr = C::spec("server", "the side that was connected to").indexed(Asc),
        start: Option<Timestamp> = C::spec("start", "first packet, from the start of the capture")
            .unit(Unit::Seconds)
            .indexed(Asc),
        end: Option<Timestamp> = C::spec("end", "last packet, from the start of the capture")
            .unit(Unit::Seconds)
            .sorts(Asc),
        duration: Span = C::spec("duration", "first to last packet")
            .unit(Unit::Seconds)
            .indexed(Desc),
        packets_c2s: u64 = C::spec("packets →", "frames from the client").short("pkts>")
            .unit(Unit::Packets)
            .sorts(Desc),
        packets_s2c: u64 = C::spec("packets ←", "frames from the server").short("<pkts")
            .unit(Unit::Packets)
            .sorts(Desc),
        bytes_c2s: u64 = C::spec("bytes →", "original frame lengths from the client")
            .short("bytes>")
            .unit(Unit::Bytes)
            .sorts(Desc),
        bytes_s2c: u64 = C::spec("bytes ←", "original frame lengths from the server")
            .short("<bytes")
            .unit(Unit::Bytes)
            .sorts(Desc),
        payload_c2s: u64 = C::spec("payload →", "unique payload bytes from the client")
            .unit(Unit::Bytes)
            .sorts(Desc),
        payload_s2c: u64 = C::spec("payload ←", "unique payload bytes from the server")
            .unit(Unit::Bytes)
            .sorts(Desc),
        state: State = C::spec("state", "how the conversation ended").sorts(Asc),
        http_exchanges: u64 = C::spec("HTTP", "HTTP exchanges").short("http").sorts(Desc),
        handshake_rtt: Option<Span> = C::spec("handshake", "SYN to the client's ACK of the SYN-ACK")
            .unit(Unit::Seconds)
            .sorts(Desc),
        retransmissions: u64 = C::spec("retrans.", "segments that repeated payload already seen")
            .unit(Unit::Packets)
            .indexed(Desc),
        gap_bytes_c2s: u64 = C::spec("gaps →", "bytes from the client never seen")
            .unit(Unit::Bytes)
            .sorts(Desc),
        gap_bytes_s2c: u64 = C::spec("gaps ←", "bytes from the server never seen")
            .unit(Unit::Bytes)
            .sorts(Desc),
        zero_windows: u64 = C::spec("zero win.", "segments advertising a zero receive window")
            .unit(Unit::Packets)
            .sorts(Desc),
        roles_from_handshake: bool =
            C::spec("roles known", "client and server known from the handshake"),
        first_frame: u64 = C::spec("first frame", "the conversation's first packet")
            .unit(Unit::Frame)
            .sorts(Asc),
        last_frame: u64 = C::spec("last frame", "the conversation's last packet")
            .unit(Unit::Frame)
            .sorts(Asc),
        /// Absent from the JSON of a conversation no tunnel carried.
        #[serde(skip_serializing_if = "Option::is_none")]
        tunnel: Option<String> = C::spec(
            "tunnel",
            "the tunnels that carried it, outermost first: kind, VNI or key, outer endpoints",
        )
        .sorts(Asc),
        // TLS columns: absent from the JSON of a conversation without TLS.
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_sni: Option<String> = C::spec("SNI", "server name the TLS client asked for")
            .short("sni")
            .sorts(Asc)
            .filter("sni", FilterOp::EqualNoCase),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_version: Option<String> = C::spec("TLS", "TLS version the server chose")
            .short("tls")
            .sorts(Asc),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_alpn: Option<String> = C::spec("ALPN", "application protocol the server chose")
            .short("alpn")
            .sorts(Asc),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_handshake: Option<Span> =
            C::spec("TLS handshake", "ClientHello to the server's Finished")
                .short("tls hs")
                .unit(Unit::Seconds)
                .sorts(Desc),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_alert: Option<String> =
            C::spec("TLS alert", "first TLS alert worth showing (side: description)")
                .short("alert")
                .sorts(Asc),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_failure: Option<String> =
            C::spec("TLS failure", "how the TLS handshake failed, in a sentence"),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_cipher: Option<String> = C::spec("cipher suite", "TLS cipher suite the server chose")
            .sorts(Asc),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_ja4: Option<String> = C::spec("JA4", "the TLS client's JA4 fingerprint")
            .sorts(Asc)
            .filter("ja4", FilterOp::Equal),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_cert: Option<String> = C::spec(
            "certificate",
            "the server certificate's subject and SANs, flagged when expired or expiring",
        ),
        #[serde(skip_serializing_if = "Option::is_none")]
        tls_notes: Option<String> = C::spec(
            "TLS notes",
            "resumption, HelloRetryRequest, and input that could not be read as TLS",
        ),
        // Stored for the `tls` and `decrypted` row predicates of a filter
        // expression; the JSON has the TLS columns above instead.
        #[serde(skip)]
        tls: bool = C::spec("TLS seen", "the conversation carries TLS").no_json(),
        #[serde(skip)]
        tls_decrypted: bool =
            C::spec("decrypted", "TLS records decrypted with a key log").no_json(),
    }
    derived {
        packets: |r| r.packets()
            => C::spec("packets", "frames both ways").unit(Unit::Packets).indexed(Desc),
        bytes: |r| r.bytes()
            => C::spec("bytes", "original frame lengths both ways").unit(Unit::Bytes).indexed(Desc),
    }
}

impl From<&Conversation> for ConversationRow {
    fn from(c: &Conversation) -> Self {
        let (to_s, to_c) = (Dir::ToServer.index(), Dir::ToClient.index());
        let tls = c.app.tls.as_deref();
        ConversationRow {
            id: c.id,
            proto: c.proto,
            client: c.client,
            server: c.server,
            start: c.start,
            end: c.end,
            duration: c.duration(),
            packets_c2s: c.dirs[to_s].packets,
            packets_s2c: c.dirs[to_c].packets,
            bytes_c2s: c.dirs[to_s].bytes,
            bytes_s2c: c.dirs[to_c].bytes,
            payload_c2s: c.payload(Dir::ToServer),
            payload_s2c: c.payload(Dir::ToClient),
            state: c.state,
            http_exchanges: crate::analysis::http_exchanges(c),
            handshake_rtt: c.handshake_rtt,
            retransmissions: c.retransmissions(),
            gap_bytes_c2s: c.streams[to_s].gap_bytes,
            gap_bytes_s2c: c.streams[to_c].gap_bytes,
            zero_windows: u64::from(c.dirs[0].zero_windows) + u64::from(c.dirs[1].zero_windows),
            roles_from_handshake: c.roles_from_handshake,
            first_frame: c.first_frame,
            last_frame: c.last_frame,
            tunnel: c.tunnel.map(|t| t.to_string()),
            tls_sni: tls.and_then(|t| t.sni.clone()),
            tls_version: tls.and_then(|t| t.version.map(str::to_string)),
            tls_alpn: tls.and_then(|t| t.alpn.clone()),
            tls_handshake: tls.and_then(TlsSummary::handshake_time),
            tls_alert: tls
                .and_then(TlsSummary::alert)
                .map(|a| format!("{}: {}", a.from.as_str(), a.name())),
            tls_failure: tls.and_then(|t| t.failure.clone()),
            tls_cipher: tls.and_then(|t| t.cipher.clone()),
            tls_ja4: tls.and_then(|t| t.ja4.clone()),
            tls_cert: tls.and_then(TlsSummary::leaf_certificate),
            tls_notes: tls.and_then(TlsSummary::notes_line),
            tls: tls.is_some(),
            tls_decrypted: tls.is_some_and(|t| t.decrypted == Decrypted::Yes),
        }
    }
}

impl ConversationRow {
    /// Frames both ways.
    pub fn packets(&self) -> u64 {
        self.packets_c2s.saturating_add(self.packets_s2c)
    }

    /// Original frame lengths both ways.
    pub fn bytes(&self) -> u64 {
        self.bytes_c2s.saturating_add(self.bytes_s2c)
    }

    /// A row with every field set, for tests.
    #[cfg(test)]
    pub(crate) fn example() -> ConversationRow {
        ConversationRow {
            id: 7,
            proto: Proto::Tcp,
            client: "10.0.0.1:53422".parse().unwrap(),
            server: "[::1]:8080".parse().unwrap(),
            start: Some(Timestamp::from_nanos(1_700_000_000_123_456_789)),
            end: Some(Timestamp::from_nanos(1_700_000_001_000_000_000)),
            duration: Span::from_nanos(876_543_211),
            packets_c2s: 6,
            packets_s2c: 4,
            bytes_c2s: 500,
            bytes_s2c: 900,
            payload_c2s: 78,
            payload_s2c: 512,
            state: State::HalfClosed,
            http_exchanges: 1,
            handshake_rtt: Some(Span::from_nanos(1234)),
            retransmissions: 2,
            gap_bytes_c2s: 3,
            gap_bytes_s2c: 4,
            zero_windows: 5,
            roles_from_handshake: true,
            first_frame: 10,
            last_frame: 20,
            tunnel: Some("vxlan vni 42 192.0.2.1→192.0.2.2".into()),
            tls_sni: Some("example.com".into()),
            tls_version: Some("TLS 1.3".into()),
            tls_alpn: Some("h2".into()),
            tls_handshake: Some(Span::from_nanos(4321)),
            tls_alert: Some("server: handshake_failure".into()),
            tls_failure: Some("server sent handshake_failure 3 ms after ClientHello".into()),
            tls_cipher: Some("TLS_AES_128_GCM_SHA256".into()),
            tls_ja4: Some("t13d1516h2_8daaf6152771_e5627efa2ab1".into()),
            tls_cert: Some("CN=example.com (example.com, www.example.com)".into()),
            tls_notes: Some("resumed (psk)".into()),
            tls: true,
            tls_decrypted: true,
        }
    }
}

/// The row predicates of a filter expression (`tls`, `sni NAME`, `ja4 FP`,
/// `decrypted`) as conditions on the stored columns of a conversation:
/// the store turns it into SQL, [`ConvWhere::matches`] tests a row in
/// memory.
#[derive(Clone, Debug, PartialEq)]
pub enum ConvWhere {
    Is(Filter),
    And(Box<ConvWhere>, Box<ConvWhere>),
    Or(Box<ConvWhere>, Box<ConvWhere>),
    Not(Box<ConvWhere>),
}

impl ConvWhere {
    /// What the row predicates mean on this table: `sni` ignores ASCII
    /// case, as the `sni=` parameter does; `ja4` is exact, as `ja4=` is.
    pub fn of(e: &RowExpr) -> ConvWhere {
        let is = |name: &str, cond: Cond| {
            let column = ConversationRow::column(name).map_or(0, |(i, _)| i);
            ConvWhere::Is(Filter {
                column,
                param: "filter",
                cond,
            })
        };
        let boxed = |e: &RowExpr| Box::new(ConvWhere::of(e));
        match e {
            RowExpr::Pred(RowPred::Tls) => is("tls", Cond::Equal(Cell::Bool(true))),
            RowExpr::Pred(RowPred::Decrypted) => is("tls_decrypted", Cond::Equal(Cell::Bool(true))),
            RowExpr::Pred(RowPred::Sni(name)) => is("tls_sni", Cond::EqualNoCase(name.clone())),
            RowExpr::Pred(RowPred::Ja4(fp)) => {
                is("tls_ja4", Cond::Equal(Cell::Text(fp.clone().into())))
            }
            RowExpr::And(a, b) => ConvWhere::And(boxed(a), boxed(b)),
            RowExpr::Or(a, b) => ConvWhere::Or(boxed(a), boxed(b)),
            RowExpr::Not(a) => ConvWhere::Not(boxed(a)),
        }
    }

    /// Whether a conversation passes.
    pub fn matches(&self, row: &ConversationRow) -> bool {
        match self {
            ConvWhere::Is(f) => f
                .cond
                .matches(&(ConversationRow::COLUMNS[f.column].get)(row)),
            ConvWhere::And(a, b) => a.matches(row) && b.matches(row),
            ConvWhere::Or(a, b) => a.matches(row) || b.matches(row),
            ConvWhere::Not(a) => !a.matches(row),
        }
    }
}
