//! The analysis pipeline: one pass over a capture, front to back, from
//! records to conversations and, through the protocol analyzers picked for
//! each conversation (the seam: `protocol.rs`, `registry.rs`, `select.rs`;
//! docs/adding-a-protocol.md), typed records such as HTTP exchanges.
//! Results stream out through an [`Output`]; nothing here keeps
//! per-packet state beyond the open conversations.

mod conn;
pub mod diff;
mod dns;
pub mod endpoints;
pub mod follow;
mod http1;
mod http2;
mod protocol;
mod record;
mod registry;
pub mod report;
mod select;
#[cfg(test)]
mod tests;
pub mod tls;
mod trouble;

pub use conn::ConnAnalyzer;
pub use dns::wire::{rcode_name as dns_rcode_name, type_name as dns_type_name};
pub use http1::{http_exchanges, HttpExchange};
pub use http2::{grpc_status_code, grpc_status_name, Grpc, Labeller as Http2Labeller, StreamFacts};
pub(crate) use http2::{hpack_integer, hpack_string};
pub use protocol::{Context, DatagramAnalyzer, Emit, Probe, StreamAnalyzer, Tally};
pub use record::{InnerPacket, Record};
pub use registry::{DatagramEntry, Registry, StreamEntry, BUILTIN};
pub use select::{Selector, MAX_PROBE_BYTES, UNKNOWN};
pub use trouble::TroubleLog;

use tls::KeyLog;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::filter::Filter;
use crate::flow::{Conversation, Dir, FlowHandler, FlowTable, FrameMeta, PacketInfo, TableLimits};
use crate::pcap::decode::{self, DecodeIssue, Transport, Udp};
use crate::pcap::defrag::Defragmenter;
use crate::pcap::link;
use crate::pcap::tunnel::{self, Decap};
use crate::pcap::{Format, Frame, Reader};
use crate::time::{Span, Timestamp};

/// Where the results go. A method that fails stops the analysis:
/// [`analyze`] returns its error.
pub trait Output {
    /// A finished conversation (in the order they end, not by id).
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError>;
    /// One packet of a conversation (only when `Options::packets` is set).
    fn packet(&mut self, _conv: &Conversation, _packet: &PacketInfo) -> Result<(), OutputError> {
        Ok(())
    }
    /// A finished HTTP exchange (request and response, or what was seen of
    /// them), as soon as it is complete. Handed over, not lent: keeping
    /// it costs no copy.
    fn exchange(&mut self, _exchange: HttpExchange) -> Result<(), OutputError> {
        Ok(())
    }
    /// A finished DNS lookup (a query and its response, or either alone).
    fn dns(&mut self, _lookup: report::DnsRow) -> Result<(), OutputError> {
        Ok(())
    }
    /// Called every `PROGRESS_EVERY` records: bytes of the file read so
    /// far and records read. Return `Ok(false)` to stop (the analysis then
    /// ends early, without an error).
    fn progress(&mut self, _bytes: u64, _records: u64) -> Result<bool, OutputError> {
        Ok(true)
    }
}

/// An [`Output`] could not take a result (a store that failed to write).
/// Boxed: the `Result`s that carry it back through every analyzer stay
/// one word.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", .0.context, .0.cause)]
pub struct OutputError(Box<OutputFailure>);

#[derive(Debug)]
struct OutputFailure {
    /// What was being written, e.g. "storing conversation 12".
    context: String,
    cause: Box<dyn std::error::Error + Send + Sync>,
}

impl OutputError {
    pub fn new(
        context: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> OutputError {
        OutputError(Box::new(OutputFailure {
            context: context.into(),
            cause: cause.into(),
        }))
    }

    /// What was being written when the output failed.
    pub fn context(&self) -> &str {
        &self.0.context
    }

    /// The output's own error.
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0.cause
    }
}

/// How often `Output::progress` is called, in records.
pub const PROGRESS_EVERY: u64 = 65_536;

/// Knobs of one analysis.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only packets matching this filter count (tcpdump's filter language).
    pub filter: Option<Filter>,
    pub limits: TableLimits,
    /// Report every packet of every conversation to `Output::packet`.
    pub packets: bool,
    /// The protocol analyzers to run ([`BUILTIN`] by default).
    pub registry: &'static Registry,
    /// TLS secrets to decrypt with (`analyze --keylog`); a pcapng's
    /// Decryption Secrets Blocks add to them.
    pub keylog: Option<Arc<KeyLog>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            filter: None,
            limits: TableLimits::default(),
            packets: false,
            registry: &BUILTIN,
            keylog: None,
        }
    }
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
    pub source: Failure,
    /// What had been read before the failure.
    pub records_read: u64,
}

/// Why an analysis stopped.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The capture could not be read further.
    #[error(transparent)]
    Read(#[from] crate::pcap::Error),
    /// The output failed to take a result.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Most packets analyzers may hand back per captured frame (a tunnel in a
/// tunnel counts each level): a loop of them stops there.
const MAX_INNER_PER_FRAME: usize = 1024;

struct Handler<'o> {
    out: &'o mut dyn Output,
    packets: bool,
    registry: &'static Registry,
    /// Packets analyzers found inside payloads, for the flow table next.
    inner: Vec<InnerPacket>,
    /// TLS secrets: the key log given, plus the capture's own.
    keys: Arc<KeyLog>,
    /// The output's first error: nothing more goes to it, and the analysis
    /// stops after the packet being processed.
    failed: Option<OutputError>,
    /// The tunnels around the packet going into the flow table now (a
    /// stack: entered and left in place, never copied per packet).
    tunnel: tunnel::Path,
    /// Open conversations a tunnel carried (the first one seen), by id.
    tunnels: FxHashMap<u64, tunnel::Path>,
    /// Clients' recent DNS answers, for the DNS time in HTTP verdicts.
    lookups: dns::RecentLookups,
}

/// What a `Handler` gives analyzers to emit into.
struct Sink<'a> {
    out: &'a mut dyn Output,
    inner: &'a mut Vec<InnerPacket>,
    conv: &'a Conversation,
    lookups: &'a mut dns::RecentLookups,
}

impl Emit for Sink<'_> {
    fn record(&mut self, mut record: Record) -> Result<(), OutputError> {
        match &mut record {
            Record::Dns(row) => self.lookups.note(row),
            Record::Http(ex) => {
                let took = self.conv.start.and_then(|connected| {
                    self.lookups.before_connecting(
                        self.conv.id,
                        ex.client.ip(),
                        ex.server.ip(),
                        ex.exchange.host.as_deref(),
                        connected,
                    )
                });
                if let Some(took) = took {
                    crate::http::add_dns_time(&mut ex.verdict, took);
                }
            }
        }
        record.deliver(self.out)
    }

    fn inner_packet(&mut self, packet: InnerPacket) {
        self.inner.push(packet);
    }
}

impl Handler<'_> {
    fn drain(&mut self, conv: &Conversation, conn: &mut ConnAnalyzer) {
        if self.failed.is_some() {
            return;
        }
        let mut sink = Sink {
            out: &mut *self.out,
            inner: &mut self.inner,
            conv,
            lookups: &mut self.lookups,
        };
        if let Err(e) = conn.drain(conv, &self.keys, &mut sink) {
            self.failed = Some(e);
        }
    }

    fn note(&mut self, result: Result<(), OutputError>) {
        if let Err(e) = result {
            self.failed.get_or_insert(e);
        }
    }
}

impl Handler<'_> {
    /// A conversation starts inside the current tunnels: it keeps them.
    #[cold]
    #[inline(never)]
    fn carried_by_tunnel(&mut self, id: u64) {
        self.tunnels.insert(id, self.tunnel);
    }
}

impl FlowHandler for Handler<'_> {
    type Conn = ConnAnalyzer;

    fn open_tcp(&mut self, _conv: &Conversation) -> ConnAnalyzer {
        ConnAnalyzer::stream(self.registry)
    }

    fn open_udp(&mut self, conv: &Conversation, dir: Dir, payload: &[u8]) -> Option<ConnAnalyzer> {
        if self.registry.datagrams.is_empty() {
            return None;
        }
        ConnAnalyzer::claim_datagrams(self.registry, conv, dir, payload)
    }

    fn sees_every_datagram(&self) -> bool {
        // Past a conversation's first packet (which records its tunnel),
        // only a packet list wants each one.
        self.packets
    }

    fn datagram(
        &mut self,
        conn: &mut ConnAnalyzer,
        dir: Dir,
        ts: Timestamp,
        frame: u64,
        payload: &[u8],
    ) {
        conn.datagram(dir, ts, frame, payload);
    }

    #[inline]
    fn packet(
        &mut self,
        conv: &Conversation,
        conn: Option<&mut ConnAnalyzer>,
        packet: &PacketInfo,
    ) {
        if self.tunnel.depth() > 0 && conv.packets() == 1 {
            self.carried_by_tunnel(conv.id);
        }
        if let Some(conn) = conn {
            conn.packet(packet);
            self.drain(conv, conn);
        }
        if self.packets && self.failed.is_none() {
            let r = self.out.packet(conv, packet);
            self.note(r);
        }
    }

    fn streams_ended(&mut self, conv: &mut Conversation, mut conn: ConnAnalyzer, now: Timestamp) {
        conn.finish(now);
        self.drain(conv, &mut conn);
        conv.app = conn.facts();
    }

    fn closed(&mut self, mut conv: Conversation, _now: Timestamp) {
        if !self.tunnels.is_empty() {
            conv.tunnel = self.tunnels.remove(&conv.id);
        }
        // No handshake, and every record was started by the other side:
        // the port heuristic picked the wrong side as the client.
        if !conv.roles_from_handshake
            && conv.app.records > 0
            && conv.app.reversed == conv.app.records
        {
            conv.swap_roles();
        }
        if self.failed.is_none() {
            let r = self.out.conversation(&conv);
            self.note(r);
        }
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

/// Decoding and flow-table work of one analysis: captured frames and the
/// packets analyzers find inside them go through the same steps.
struct Pipeline<'o> {
    table: FlowTable<Handler<'o>>,
    defrag: Defragmenter,
    protocols: BTreeMap<&'static str, u64>,
    // Nearly every packet is one of these: plain counters, not map lookups.
    tcp_packets: u64,
    udp_packets: u64,
    first_issue: BTreeMap<&'static str, (u64, String)>,
}

impl Pipeline<'_> {
    /// Decodes one frame and puts it in the flow table.
    #[inline]
    fn frame(&mut self, frame: &Frame<'_>) {
        // The packet is borrowed where `decode` left it: moving it out of
        // the `Result` copied its ~200 bytes (two `memcpy` calls a frame,
        // and a tunnelled packet is two frames).
        let decoded = decode::decode(frame);
        let packet = match &decoded {
            Ok(p) => p,
            Err(issue) => {
                let name = issue_name(issue);
                *self.protocols.entry(name).or_default() += 1;
                self.first_issue
                    .entry(name)
                    .or_insert_with(|| (frame.index, issue.to_string()));
                return;
            }
        };
        match packet.shim {
            None => self.decoded(frame, packet),
            Some(shim) => self.shimmed(frame, packet, shim),
        }
    }

    /// A packet behind an MPLS label stack or in a PPPoE session: the
    /// shim is a hop of its path, as a tunnel's is (out of line: plain
    /// traffic never comes here).
    #[cold]
    #[inline(never)]
    fn shimmed(&mut self, frame: &Frame<'_>, packet: &decode::Packet<'_>, shim: link::Shim) {
        self.table
            .handler_mut()
            .tunnel
            .enter_shim(tunnel::Hop::shim(shim));
        self.decoded(frame, packet);
        self.table.handler_mut().tunnel.leave_shim();
    }

    /// Puts a decoded packet in the flow table (through the defragmenter
    /// and into the tunnels it carries). Inlined into [`Pipeline::frame`],
    /// as it was part of it: plain traffic pays no call and no copy of the
    /// packet for it.
    #[inline(always)]
    fn decoded(&mut self, frame: &Frame<'_>, packet: &decode::Packet<'_>) {
        let (src, dst) = (packet.src, packet.dst);
        let reassembled;
        let defragged;
        // Borrowed, not copied: most packets are not fragments.
        let transport: &Transport<'_> = match packet.fragment {
            Some(frag) => {
                let ts = frame.ts.unwrap_or_default();
                match self.defrag.push(packet, frag, ts) {
                    Some(whole) => {
                        reassembled = whole;
                        if tunnel::is_ip_protocol(packet.protocol) {
                            // A tunnel in fragments, opened now it is whole.
                            self.ip_tunnel(frame, packet, &reassembled);
                            return;
                        }
                        let len = reassembled.len() as u32;
                        match decode::transport(packet.protocol, &reassembled, len) {
                            Ok(t) => {
                                defragged = t;
                                &defragged
                            }
                            Err(issue) => {
                                *self.protocols.entry(issue_name(&issue)).or_default() += 1;
                                return;
                            }
                        }
                    }
                    None => {
                        *self.protocols.entry("ip-fragment").or_default() += 1;
                        return;
                    }
                }
            }
            None => &packet.transport,
        };
        let meta = FrameMeta {
            ts: frame.ts,
            frame: frame.index,
            offset: frame.offset,
            orig_len: frame.orig_len,
        };
        match transport {
            Transport::Tcp(tcp) => {
                self.tcp_packets += 1;
                self.table.tcp(src, dst, tcp, meta);
            }
            Transport::Udp(udp) => self.datagram(frame, src, dst, udp, meta),
            &Transport::Other { protocol } => {
                if tunnel::is_ip_protocol(protocol) {
                    self.ip_tunnel(frame, packet, packet.l4);
                    return;
                }
                let name = match protocol {
                    decode::PROTO_ICMP => "icmp",
                    decode::PROTO_ICMPV6 => "icmpv6",
                    _ => "other-ip",
                };
                *self.protocols.entry(name).or_default() += 1;
            }
            Transport::Fragment { .. } => {
                *self.protocols.entry("ip-fragment").or_default() += 1;
            }
        }
    }

    /// A UDP datagram into the flow table (and into the tunnel it may
    /// carry). Out of line: the frame step keeps its registers for TCP,
    /// most of any capture (inlined, this arm cost every TCP packet about
    /// 13 instructions of spills).
    #[inline(never)]
    fn datagram(
        &mut self,
        frame: &Frame<'_>,
        src: IpAddr,
        dst: IpAddr,
        udp: &Udp<'_>,
        meta: FrameMeta,
    ) {
        self.udp_packets += 1;
        if tunnel::is_udp_port(udp.dst_port) {
            self.udp_tunnel(frame, src, dst, udp, meta);
        } else {
            self.table.udp(src, dst, udp, meta);
        }
    }

    /// A datagram to a tunnel's port: counted in its flow (as a run: a
    /// tunnel's outer flow sends one per packet it carries), then the
    /// packet it carries, if it is one. Inlined into the (out of line)
    /// datagram step: plain traffic pays one compare.
    #[inline(always)]
    fn udp_tunnel(
        &mut self,
        frame: &Frame<'_>,
        src: IpAddr,
        dst: IpAddr,
        udp: &Udp<'_>,
        meta: FrameMeta,
    ) {
        self.table.udp_run(src, dst, udp, meta);
        if let Some(decap) = tunnel::udp(src, dst, udp.dst_port, udp.payload) {
            self.tunnel(frame, decap);
        }
    }

    /// An IP payload of an encapsulation's protocol (`l4`: the datagram's
    /// payload, reassembled when it came in fragments): the packet it
    /// carries (an empty one, as a PPTP acknowledgment, counts as today's
    /// other-ip).
    #[cold]
    #[inline(never)]
    fn ip_tunnel(&mut self, frame: &Frame<'_>, packet: &decode::Packet<'_>, l4: &[u8]) {
        match tunnel::ip(packet.src, packet.dst, packet.protocol, l4) {
            Some(decap) => self.tunnel(frame, decap),
            None => *self.protocols.entry("other-ip").or_default() += 1,
        }
    }

    /// Decodes the packet a tunnel carries as a frame of its own, with the
    /// outer frame's place, time and length (tshark counts a tunnelled
    /// packet's conversation in frame lengths too); an encapsulation left
    /// closed, or nested past [`tunnel::MAX_DEPTH`], is counted and warned
    /// about. Inlined into the two (out of line) tunnel steps above: a
    /// VXLAN packet paid two calls and a copy of the `Decap` for it.
    #[inline(always)]
    fn tunnel(&mut self, outer: &Frame<'_>, decap: Decap<'_>) {
        let depth = self.table.handler().tunnel.tunnels();
        let (hop, link_type, data) = match decap {
            Decap::Inner { hop, link, data } if depth < tunnel::MAX_DEPTH => (hop, link, data),
            Decap::Inner { .. } => {
                self.undecoded(outer, "tunnels nested too deep".to_string());
                return;
            }
            Decap::Undecoded(what) => {
                self.undecoded(outer, what.to_string());
                return;
            }
        };
        let inner = Frame {
            link_type,
            data,
            ..*outer
        };
        self.table.handler_mut().tunnel.enter(hop);
        self.frame(&inner);
        self.table.handler_mut().tunnel.leave();
    }

    fn undecoded(&mut self, frame: &Frame<'_>, what: String) {
        const NAME: &str = "undecoded-tunnel";
        *self.protocols.entry(NAME).or_default() += 1;
        self.first_issue
            .entry(NAME)
            .or_insert_with(|| (frame.index, what));
    }

    /// Puts the packets analyzers found while `outer` was processed into
    /// the flow table, as frames of their own at `outer`'s place in the
    /// file (and those found in them, up to [`MAX_INNER_PER_FRAME`]).
    fn inner_packets(&mut self, outer: u64) {
        let mut done = 0;
        while !self.table.handler().inner.is_empty() && done < MAX_INNER_PER_FRAME {
            let found = std::mem::take(&mut self.table.handler_mut().inner);
            for p in found.iter().take(MAX_INNER_PER_FRAME - done) {
                let frame = Frame {
                    index: p.frame,
                    offset: outer,
                    ts: Some(p.ts),
                    link_type: p.link_type,
                    interface: 0,
                    orig_len: p.data.len() as u32,
                    data: &p.data,
                };
                self.frame(&frame);
            }
            done += found.len();
        }
        self.table.handler_mut().inner.clear();
    }

    /// The output's error, if it failed.
    fn failure(&mut self) -> Option<OutputError> {
        self.table.handler_mut().failed.take()
    }
}

/// Reads `reader` to the end and analyzes every record.
pub fn analyze(
    reader: &mut Reader,
    opts: &Options,
    out: &mut dyn Output,
) -> Result<CaptureSummary, Error> {
    let handler = Handler {
        out,
        packets: opts.packets,
        registry: opts.registry,
        inner: Vec::new(),
        keys: opts.keylog.clone().unwrap_or_default(),
        failed: None,
        tunnel: tunnel::Path::default(),
        tunnels: FxHashMap::default(),
        lookups: dns::RecentLookups::default(),
    };
    let mut pipe = Pipeline {
        table: FlowTable::new(handler, opts.limits),
        defrag: Defragmenter::default(),
        protocols: BTreeMap::new(),
        tcp_packets: 0,
        udp_packets: 0,
        first_issue: BTreeMap::new(),
    };
    let mut first_ts: Option<Timestamp> = None;
    let mut last_ts: Option<Timestamp> = None;
    let mut records = 0u64;
    let mut matched = 0u64;
    let stop = |source: Failure, records_read| Error {
        source,
        records_read,
    };
    loop {
        if records > 0 && records.is_multiple_of(PROGRESS_EVERY) {
            let pos = reader.position();
            match pipe.table.handler_mut().out.progress(pos, records) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(stop(e.into(), records)),
            }
        }
        if let Some(secrets) = reader.take_tls_secrets() {
            // A Decryption Secrets Block: its key log joins the others.
            let text = String::from_utf8_lossy(&secrets);
            let at = reader.position();
            Arc::make_mut(&mut pipe.table.handler_mut().keys).add(
                &text,
                &format!("decryption secrets block before offset {at}"),
            );
        }
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(source) => return Err(stop(source.into(), records)),
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
        pipe.frame(&frame);
        let handler = pipe.table.handler();
        if !handler.inner.is_empty() {
            pipe.inner_packets(frame.offset);
        }
        if pipe.table.handler().failed.is_some() {
            if let Some(e) = pipe.failure() {
                return Err(stop(e.into(), records));
            }
        }
    }
    let Pipeline {
        table,
        defrag,
        mut protocols,
        tcp_packets,
        udp_packets,
        first_issue,
    } = pipe;
    for (name, n) in [("tcp", tcp_packets), ("udp", udp_packets)] {
        if n > 0 {
            protocols.insert(name, n);
        }
    }
    let conversations = table.conversations_seen();
    let key_warnings = table.handler().keys.warnings();
    let overflows = table.global_overflows;
    let evicted_early = table.evicted_early;
    let max_open = opts.limits.max_open;
    if let Some(e) = table.finish().failed {
        return Err(stop(e.into(), records));
    }
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
    warnings.extend(key_warnings);
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
