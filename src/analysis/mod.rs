//! The analysis pipeline: one pass over a capture, front to back, from
//! records to conversations (and, through the per-conversation analyzers,
//! HTTP exchanges). Results stream out through an [`Output`]; nothing here
//! keeps per-packet state beyond the open conversations.

mod conn;
pub mod follow;
pub mod report;

pub use conn::{ConnAnalyzer, HttpExchange};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::filter::Filter;
use crate::flow::{Conversation, FlowHandler, FlowTable, FrameMeta, PacketInfo, TableLimits};
use crate::pcap::decode::{self, DecodeIssue, Transport};
use crate::pcap::defrag::Defragmenter;
use crate::pcap::{Format, Reader};
use crate::time::{Span, Timestamp};

/// Where the results go.
pub trait Output {
    /// A finished conversation (in the order they end, not by id).
    fn conversation(&mut self, conv: &Conversation);
    /// One packet of a conversation (only when `Options::packets` is set).
    fn packet(&mut self, _conv: &Conversation, _packet: &PacketInfo) {}
    /// A finished HTTP exchange (request and response, or what was seen of
    /// them), as soon as it is complete. Handed over, not lent: keeping
    /// it costs no copy.
    fn exchange(&mut self, _exchange: HttpExchange) {}
    /// Called every `PROGRESS_EVERY` records: bytes of the file read so
    /// far and records read. Return `false` to stop.
    fn progress(&mut self, _bytes: u64, _records: u64) -> bool {
        true
    }
}

/// How often `Output::progress` is called, in records.
pub const PROGRESS_EVERY: u64 = 65_536;

/// Knobs of one analysis.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only packets matching this filter count (tcpdump's filter language).
    pub filter: Option<Filter>,
    pub limits: TableLimits,
    /// Report every packet of every conversation to `Output::packet`.
    pub packets: bool,
}

/// What the capture itself looked like.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureSummary {
    pub format: Format,
    pub compressed: bool,
    pub link_types: Vec<u32>,
    /// All packet records read.
    pub packets: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub warnings: Vec<String>,
    /// With a filter: the records it kept.
    pub matched: Option<u64>,
    /// Records per network protocol (`tcp`, `udp`, `icmp`, `other-ip`,
    /// `non-ip`, `malformed`, ...).
    pub protocols: BTreeMap<String, u64>,
    pub conversations: u64,
    /// Bytes of the (decompressed) file read.
    pub bytes_read: u64,
}

impl CaptureSummary {
    pub fn duration(&self) -> Span {
        match (self.first_ts, self.last_ts) {
            (Some(a), Some(b)) => b.since(a),
            _ => Span::ZERO,
        }
    }
}

/// The analysis of a file failed part-way.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct Error {
    #[source]
    pub source: crate::pcap::Error,
    /// What had been read before the failure.
    pub records_read: u64,
}

struct Handler<'o> {
    out: &'o mut dyn Output,
    packets: bool,
}

impl FlowHandler for Handler<'_> {
    type Conn = ConnAnalyzer;

    fn open_tcp(&mut self, _conv: &Conversation) -> ConnAnalyzer {
        ConnAnalyzer::default()
    }

    fn packet(
        &mut self,
        conv: &Conversation,
        conn: Option<&mut ConnAnalyzer>,
        packet: &PacketInfo,
    ) {
        if let Some(conn) = conn {
            conn.packet(packet);
            let out = &mut *self.out;
            conn.drain(conv, &mut |e| out.exchange(e));
        }
        if self.packets {
            self.out.packet(conv, packet);
        }
    }

    fn streams_ended(&mut self, conv: &mut Conversation, mut conn: ConnAnalyzer, now: Timestamp) {
        conn.finish(now);
        let out = &mut *self.out;
        conn.drain(conv, &mut |e| out.exchange(e));
        conv.http_exchanges = conn.exchanges;
        conv.http_reversed = conn.reversed;
    }

    fn closed(&mut self, mut conv: Conversation, _now: Timestamp) {
        // No handshake, and every request went the other way: the port
        // heuristic picked the wrong side as the client.
        if !conv.roles_from_handshake
            && conv.http_exchanges > 0
            && conv.http_reversed == conv.http_exchanges
        {
            conv.swap_roles();
        }
        self.out.conversation(&conv);
    }
}

fn issue_name(issue: &DecodeIssue) -> &'static str {
    match issue {
        DecodeIssue::Link(crate::pcap::link::LinkIssue::UnknownLinkType(_)) => "unsupported-link",
        DecodeIssue::Link(crate::pcap::link::LinkIssue::NotIp(_)) => "non-ip",
        DecodeIssue::Link(crate::pcap::link::LinkIssue::Truncated)
        | DecodeIssue::TruncatedIp
        | DecodeIssue::TruncatedTransport => "truncated",
        DecodeIssue::MalformedIp(_) | DecodeIssue::MalformedTransport(_) => "malformed",
    }
}

/// Reads `reader` to the end and analyzes every record.
pub fn analyze(
    reader: &mut Reader,
    opts: &Options,
    out: &mut dyn Output,
) -> Result<CaptureSummary, Error> {
    let mut table = FlowTable::new(
        Handler {
            out,
            packets: opts.packets,
        },
        opts.limits,
    );
    let mut defrag = Defragmenter::default();
    let mut protocols: BTreeMap<&'static str, u64> = BTreeMap::new();
    // Nearly every packet is one of these: plain counters, not map lookups.
    let (mut tcp_packets, mut udp_packets) = (0u64, 0u64);
    let mut first_ts: Option<Timestamp> = None;
    let mut last_ts: Option<Timestamp> = None;
    let mut records = 0u64;
    let mut matched = 0u64;
    let mut first_issue: BTreeMap<&'static str, (u64, String)> = BTreeMap::new();
    loop {
        if records > 0 && records.is_multiple_of(PROGRESS_EVERY) {
            let pos = reader.position();
            if !table.handler_mut().out.progress(pos, records) {
                break;
            }
        }
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(source) => {
                return Err(Error {
                    source,
                    records_read: records,
                })
            }
        };
        records += 1;
        if let Some(ts) = frame.ts {
            first_ts = Some(first_ts.map_or(ts, |f| f.min(ts)));
            last_ts = Some(last_ts.map_or(ts, |l| l.max(ts)));
        }
        if let Some(filter) = &opts.filter {
            if !filter.matches(&frame) {
                continue;
            }
            matched += 1;
        }
        let packet = match decode::decode(&frame) {
            Ok(p) => p,
            Err(issue) => {
                let name = issue_name(&issue);
                *protocols.entry(name).or_default() += 1;
                first_issue
                    .entry(name)
                    .or_insert_with(|| (frame.index, issue.to_string()));
                continue;
            }
        };
        let (src, dst) = (packet.src, packet.dst);
        let reassembled;
        let transport = match packet.fragment {
            Some(frag) => {
                let ts = frame.ts.unwrap_or_default();
                match defrag.push(&packet, frag, ts) {
                    Some(whole) => {
                        reassembled = whole;
                        let len = reassembled.len() as u32;
                        match decode::transport(packet.protocol, &reassembled, len) {
                            Ok(t) => t,
                            Err(issue) => {
                                *protocols.entry(issue_name(&issue)).or_default() += 1;
                                continue;
                            }
                        }
                    }
                    None => {
                        *protocols.entry("ip-fragment").or_default() += 1;
                        continue;
                    }
                }
            }
            None => packet.transport,
        };
        let meta = FrameMeta {
            ts: frame.ts,
            frame: frame.index,
            offset: frame.offset,
            orig_len: frame.orig_len,
        };
        match transport {
            Transport::Tcp(tcp) => {
                tcp_packets += 1;
                table.tcp(src, dst, &tcp, meta);
            }
            Transport::Udp(udp) => {
                udp_packets += 1;
                table.udp(src, dst, &udp, meta);
            }
            Transport::Other { protocol } => {
                let name = match protocol {
                    decode::PROTO_ICMP => "icmp",
                    decode::PROTO_ICMPV6 => "icmpv6",
                    _ => "other-ip",
                };
                *protocols.entry(name).or_default() += 1;
            }
            Transport::Fragment { .. } => {
                *protocols.entry("ip-fragment").or_default() += 1;
            }
        }
    }
    for (name, n) in [("tcp", tcp_packets), ("udp", udp_packets)] {
        if n > 0 {
            protocols.insert(name, n);
        }
    }
    let conversations = table.conversations_seen();
    let overflows = table.global_overflows;
    let evicted_early = table.evicted_early;
    let max_open = opts.limits.max_open;
    table.finish();
    let mut warnings: Vec<String> = reader.warnings().iter().map(|w| w.to_string()).collect();
    for (name, (index, what)) in &first_issue {
        let n = protocols.get(name).copied().unwrap_or(0);
        warnings.push(format!(
            "{n} {name} packet(s), first at record {}: {what}",
            index + 1
        ));
    }
    if overflows > 0 {
        warnings.push(format!(
            "out-of-order data passed the reassembly memory cap {overflows} time(s); those holes were reported as gaps"
        ));
    }
    if evicted_early > 0 {
        warnings.push(format!(
            "more than {max_open} conversations were open at once: {evicted_early} left the table early (finished ones first: closed, reset, unanswered, idle UDP; past {} also the least recently active); a later packet of one of them counts as a new conversation", 2 * max_open
        ));
    }
    if defrag.dropped > 0 {
        warnings.push(format!(
            "{} fragmented datagram(s) never completed",
            defrag.dropped
        ));
    }
    Ok(CaptureSummary {
        format: reader.format(),
        compressed: reader.is_compressed(),
        link_types: reader.link_types().collect(),
        packets: records,
        first_ts,
        last_ts,
        warnings,
        matched: opts.filter.as_ref().map(|_| matched),
        protocols: protocols
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        conversations,
        bytes_read: reader.position(),
    })
}
