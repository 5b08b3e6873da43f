//! Following one conversation: its packets' bytes read back from the
//! capture file by record offset, as the reassembled stream (both
//! directions in delivery order, gaps marked: Wireshark's "Follow TCP
//! stream") and as a pcap file of its own. The caller hands the packets in
//! capture order (the store keeps the list); nothing here knows where they
//! are kept.
//!
//! The stream is rebuilt by feeding the conversation's packets, re-read
//! and re-decoded, through the same `flow` reassembly the analysis used.
//! A packet that was reassembled from IP fragments (at any tunnel depth,
//! or at two at once: fragments inside a fragmented tunnel) is read back
//! as the analysis saw it: its last fragment's record, with the others
//! found among the [`FRAGMENT_LOOKBACK`] records before it.
//!
//! Given a TLS key log ([`StreamBuilder::decrypting`]), a TCP stream goes
//! through the TLS analyzer as well: when records were decrypted, the view
//! holds their plaintext, each chunk saying which records it came from
//! (README, "TLS"); otherwise the raw bytes, as without keys. A part of
//! the stream that starts after the handshake is decrypted by warming up
//! first ([`StreamBuilder::warming`]): the packets before the part go
//! through reassembly and the decryptor, and nothing of them is kept.

use std::cell::Cell;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use serde::ser::SerializeStruct;
use serde::Serialize;

use crate::analysis::tls::{KeyLog, RecordSpan, StreamDecryptor};
use crate::flow::{
    Conversation, Dir, FlowHandler, FlowTable, FrameMeta, PacketInfo, Proto, StreamSink,
    TableLimits,
};
use crate::pcap::at_offset::{RecordFile, PREVIOUS_MAX_LEN};
use crate::pcap::decode::Fragment;
use crate::pcap::defrag::Defragmenter;
use crate::pcap::tunnel::{self, Decap};
use crate::pcap::{decode, Frame, LinkType, Transport};
use crate::time::Timestamp;

/// Why a conversation could not be followed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("stored capture: {0}")]
    Record(#[from] crate::pcap::at_offset::Error),
    #[error("writing pcap: {0}")]
    Write(#[from] std::io::Error),
    #[error("writing pcap: {0}")]
    Pcap(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// What a piece of a stream is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkKind {
    Data,
    /// Bytes that were never captured.
    Gap,
    Fin,
    Reset,
}

/// A run of one direction's stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamChunk {
    pub kind: ChunkKind,
    pub dir: Dir,
    /// Capture time of the packet that delivered the run's first bytes.
    pub ts: Timestamp,
    pub frame: u64,
    /// Bytes in the run (for a gap: bytes missing).
    pub len: u64,
    /// The bytes kept (all of `len`, unless the view was truncated).
    pub bytes: Vec<u8>,
    /// Decrypted: the TLS records the bytes came from.
    pub tls: Option<RecordSpan>,
}

impl Serialize for StreamChunk {
    /// `text` holds the bytes as UTF-8 (invalid sequences replaced); when
    /// they are not valid UTF-8, `base64` holds them exactly.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("StreamChunk", 7)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("dir", &self.dir)?;
        st.serialize_field("ts", &self.ts)?;
        st.serialize_field("frame", &self.frame)?;
        st.serialize_field("len", &self.len)?;
        if let Some(records) = &self.tls {
            st.serialize_field("decrypted", &true)?;
            st.serialize_field("tls_records", records)?;
        }
        if self.kind == ChunkKind::Data {
            match std::str::from_utf8(&self.bytes) {
                Ok(text) => st.serialize_field("text", text)?,
                Err(_) => {
                    st.serialize_field("text", &String::from_utf8_lossy(&self.bytes))?;
                    st.serialize_field("base64", &base64(&self.bytes))?;
                }
            }
        }
        st.end()
    }
}

/// Both directions of one conversation.
#[derive(Clone, Debug, Serialize)]
pub struct StreamView {
    pub conversation: u64,
    /// Bytes kept per direction at most.
    pub max_bytes_per_dir: usize,
    /// Stream bytes delivered, client→server and server→client.
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    /// More bytes were delivered than the view holds.
    pub truncated: bool,
    /// Packets whose record could not be read back or decoded.
    pub unreadable_packets: u64,
    pub chunks: Vec<StreamChunk>,
    /// The chunks are TLS plaintext: this many records were decrypted (the
    /// byte counts are then of plaintext too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decrypted_records: Option<u64>,
    /// Why the TLS records of this view are shown as sent although a key
    /// log was given (set by the caller that chose not to decrypt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_note: Option<String>,
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = [
            c[0],
            c.get(1).copied().unwrap_or(0),
            c.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Collects one direction-ordered stream under a byte cap.
#[derive(Default)]
struct Collector {
    max: usize,
    chunks: Vec<StreamChunk>,
    delivered: [u64; 2],
    kept: [usize; 2],
    truncated: bool,
}

impl Collector {
    fn full(&self) -> bool {
        self.kept[0] >= self.max && self.kept[1] >= self.max
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: ChunkKind,
        dir: Dir,
        ts: Timestamp,
        frame: u64,
        len: u64,
        bytes: &[u8],
        tls: Option<RecordSpan>,
    ) {
        if let Some(last) = self.chunks.last_mut() {
            if last.dir == dir
                && last.kind == kind
                && last.tls.is_some() == tls.is_some()
                && matches!(kind, ChunkKind::Data | ChunkKind::Gap)
            {
                last.len += len;
                last.bytes.extend_from_slice(bytes);
                if let (Some(run), Some(next)) = (&mut last.tls, &tls) {
                    run.extend(next);
                }
                return;
            }
        }
        self.chunks.push(StreamChunk {
            kind,
            dir,
            ts,
            frame,
            len,
            bytes: bytes.to_vec(),
            tls,
        });
    }

    /// Keeps what fits of a run of data bytes.
    fn keep(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8], tls: Option<RecordSpan>) {
        let i = dir.index();
        self.delivered[i] += bytes.len() as u64;
        let room = self.max.saturating_sub(self.kept[i]);
        if room == 0 {
            self.truncated = true;
            return;
        }
        let keep = &bytes[..bytes.len().min(room)];
        if keep.len() < bytes.len() {
            self.truncated = true;
        }
        self.kept[i] += keep.len();
        self.push(
            ChunkKind::Data,
            dir,
            ts,
            frame,
            keep.len() as u64,
            keep,
            tls,
        );
    }
}

/// A TCP stream's raw bytes, and with a key log its decrypted plaintext
/// beside them (the view shows the plaintext if any record decrypted).
/// While `warming` is set, the decryptor reads the stream and nothing is
/// kept.
#[derive(Default)]
struct Follower {
    raw: Collector,
    plain: Option<Box<(StreamDecryptor, Collector)>>,
    warming: Arc<AtomicBool>,
    /// Records the decryptor had decrypted when the warm-up ended.
    records_before: Option<u64>,
}

impl Follower {
    /// Whether nothing is kept yet; notes the records decrypted before the
    /// first event that is.
    fn warm(&mut self) -> bool {
        if self.warming.load(Ordering::Relaxed) {
            return true;
        }
        if self.records_before.is_none() {
            self.records_before = Some(self.plain.as_ref().map_or(0, |p| p.0.records()));
        }
        false
    }

    fn each(&mut self, f: impl Fn(&mut Collector)) {
        if self.warm() {
            return;
        }
        f(&mut self.raw);
        if let Some(p) = &mut self.plain {
            f(&mut p.1);
        }
    }
}

impl StreamSink for Follower {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let warm = self.warm();
        if !warm {
            self.raw.data(dir, ts, frame, bytes);
        }
        if let Some(p) = &mut self.plain {
            let (decryptor, plain) = &mut **p;
            decryptor.data(dir, ts, frame, bytes);
            for piece in decryptor.take() {
                if !warm {
                    let r = piece.record;
                    plain.keep(piece.dir, r.end_ts, r.end_frame, &piece.bytes, Some(r));
                }
            }
        }
    }

    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        if let Some(p) = &mut self.plain {
            p.0.gap(dir, ts, frame, len);
        }
        self.each(|c| c.gap(dir, ts, frame, len));
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        if let Some(p) = &mut self.plain {
            p.0.fin(dir, ts, frame);
        }
        self.each(|c| c.fin(dir, ts, frame));
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        if let Some(p) = &mut self.plain {
            p.0.reset(dir, ts, frame);
        }
        self.each(|c| c.reset(dir, ts, frame));
    }
}

impl Follower {
    /// The plaintext when records were decrypted after the warm-up, else
    /// the raw bytes; and how many records were decrypted after it.
    fn into_view(self) -> (Collector, Option<u64>) {
        let Some(p) = self.plain else {
            return (self.raw, None);
        };
        let records = p.0.records();
        let shown = records.saturating_sub(self.records_before.unwrap_or(records));
        if shown > 0 {
            (p.1, Some(shown))
        } else {
            (self.raw, None)
        }
    }
}

impl StreamSink for Collector {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        self.keep(dir, ts, frame, bytes, None);
    }

    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        if self.kept[dir.index()] < self.max {
            self.push(ChunkKind::Gap, dir, ts, frame, len, &[], None);
        }
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.push(ChunkKind::Fin, dir, ts, frame, 0, &[], None);
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.push(ChunkKind::Reset, dir, ts, frame, 0, &[], None);
    }
}

/// Receives the rebuilt conversation's analyzer when its streams end.
struct Rebuild {
    max: usize,
    /// Decrypt TLS with these.
    keys: Option<Arc<KeyLog>>,
    /// Shared with every follower: packets fed now are a warm-up.
    warming: Arc<AtomicBool>,
    /// By conversation id.
    done: Vec<(u64, Follower)>,
}

impl FlowHandler for Rebuild {
    type Conn = Follower;

    fn open_tcp(&mut self, _conv: &Conversation) -> Follower {
        let collector = || Collector {
            max: self.max,
            ..Collector::default()
        };
        Follower {
            raw: collector(),
            plain: self
                .keys
                .clone()
                .map(|k| Box::new((StreamDecryptor::new(k), collector()))),
            warming: Arc::clone(&self.warming),
            records_before: None,
        }
    }

    fn packet(&mut self, _conv: &Conversation, _conn: Option<&mut Follower>, _packet: &PacketInfo) {
    }

    fn streams_ended(&mut self, conv: &mut Conversation, conn: Follower, _now: Timestamp) {
        self.done.push((conv.id, conn));
    }

    fn closed(&mut self, _conv: Conversation, _now: Timestamp) {}
}

/// The two endpoints of the followed conversation, to find its packet
/// inside a frame that carries it through tunnels.
#[derive(Clone, Copy, Debug)]
pub struct Ends {
    pub client: SocketAddr,
    pub server: SocketAddr,
}

impl Ends {
    fn are(&self, src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16) -> bool {
        let (a, b) = (
            SocketAddr::new(src, src_port),
            SocketAddr::new(dst, dst_port),
        );
        (a == self.client && b == self.server) || (a == self.server && b == self.client)
    }
}

/// Records before a fragment searched for the rest of its datagram.
pub const FRAGMENT_LOOKBACK: usize = 64;
/// File bytes one stream view's fragment searches walk back over in all
/// (a hostile file can make every search fail or walk far). Fragments of
/// one datagram are near each other, so a real capture spends a few bytes
/// per fragment; past this the fragments left count as unreadable.
pub const LOOKBACK_BUDGET: u64 = 256 << 20;

/// What one decoded layer of a frame is to the followed conversation.
enum Step<'a> {
    /// The conversation's own packet.
    Found,
    /// A tunnel whose packet may be it: decode this next.
    Inner(LinkType, &'a [u8]),
    Lost,
}

fn step<'a>(packet: &decode::Packet<'a>, ends: &Ends) -> Step<'a> {
    let decap = match packet.transport {
        Transport::Tcp(t) if ends.are(packet.src, t.src_port, packet.dst, t.dst_port) => {
            return Step::Found
        }
        Transport::Udp(u) if ends.are(packet.src, u.src_port, packet.dst, u.dst_port) => {
            return Step::Found
        }
        Transport::Udp(u) if tunnel::is_udp_port(u.dst_port) => {
            tunnel::udp(packet.src, packet.dst, u.dst_port, u.payload)
        }
        Transport::Other { protocol }
            if packet.fragment.is_none() && tunnel::is_ip_protocol(protocol) =>
        {
            tunnel::ip(packet.src, packet.dst, protocol, packet.l4)
        }
        _ => None,
    };
    match decap {
        Some(Decap::Inner { link, data, .. }) => Step::Inner(link, data),
        _ => Step::Lost,
    }
}

/// Hands `f` the followed conversation's packet in `frame`: the frame's
/// own when its endpoints are the conversation's, else the one a tunnel
/// in it carries, opened as the analysis opened it (a VXLAN frame belongs
/// both to its outer UDP flow and to the conversation inside). A fragment,
/// at any depth, is completed from the records before it (`earlier`), once
/// per frame.
fn conversation_packet<R>(
    mut frame: Frame<'_>,
    ends: &Ends,
    earlier: Option<&Earlier<'_>>,
    f: impl FnOnce(decode::Packet<'_>) -> R,
) -> Option<R> {
    for depth in 0..=tunnel::MAX_DEPTH {
        let packet = decode::decode(&frame).ok()?;
        if let Some(frag) = packet.fragment {
            let earlier = earlier?;
            // Inside a tunnel, the datagram's other fragments may ride in
            // fragmented outer datagrams: the search opens those.
            let search = Earlier {
                opens: earlier.opens || depth > 0,
                ..*earlier
            };
            let whole = search.reassemble(&packet, frag, ends)?;
            let packet = completed(&packet, &whole)?;
            return match step(&packet, ends) {
                Step::Found => Some(f(packet)),
                Step::Inner(link_type, data) => {
                    let inner = Frame {
                        link_type,
                        data,
                        ..frame
                    };
                    // The packet inside may be a fragment too (fragmented
                    // at two depths at once): its others are among the
                    // same records before.
                    let inside = Earlier {
                        opens: true,
                        ..*earlier
                    };
                    conversation_packet(inner, ends, Some(&inside), f)
                }
                Step::Lost => None,
            };
        }
        match step(&packet, ends) {
            Step::Found => return Some(f(packet)),
            Step::Inner(link_type, data) => {
                frame = Frame {
                    link_type,
                    data,
                    ..frame
                }
            }
            Step::Lost => return None,
        }
    }
    None
}

/// The fragment `packet` completed as the datagram `whole` (its payload,
/// reassembled): the packet as the analysis saw it.
fn completed<'a>(packet: &decode::Packet<'a>, whole: &'a [u8]) -> Option<decode::Packet<'a>> {
    let len = u32::try_from(whole.len()).ok()?;
    let transport = if tunnel::is_ip_protocol(packet.protocol) {
        Transport::Other {
            protocol: packet.protocol,
        }
    } else {
        decode::transport(packet.protocol, whole, len).ok()?
    };
    Some(decode::Packet {
        fragment: None,
        l4: whole,
        l4_len: len,
        transport,
        ..*packet
    })
}

/// The fragment `wanted` on the way into `frame`'s tunnels, handed to `f`.
/// Another fragment met first, the last of an outer datagram, is completed
/// from the records before it (`earlier`, one level: a fragment inside a
/// fragmented tunnel) and the way goes on inside it.
fn fragment_in<R>(
    mut frame: Frame<'_>,
    ends: &Ends,
    earlier: Option<&Earlier<'_>>,
    wanted: &dyn Fn(&decode::Packet<'_>, Fragment) -> bool,
    f: impl FnOnce(&decode::Packet<'_>, Fragment) -> R,
) -> Option<R> {
    for _ in 0..=tunnel::MAX_DEPTH {
        let packet = decode::decode(&frame).ok()?;
        if let Some(frag) = packet.fragment {
            if wanted(&packet, frag) {
                return Some(f(&packet, frag));
            }
            // Only a last fragment can be completed from the records
            // before it; the others of its datagram are skipped quickly.
            let earlier = earlier.filter(|_| !frag.more)?;
            let whole = earlier.reassemble(&packet, frag, ends)?;
            let packet = completed(&packet, &whole)?;
            return match step(&packet, ends) {
                Step::Inner(link_type, data) => {
                    let inner = Frame {
                        link_type,
                        data,
                        ..frame
                    };
                    fragment_in(inner, ends, None, wanted, f)
                }
                Step::Found | Step::Lost => None,
            };
        }
        match step(&packet, ends) {
            Step::Inner(link_type, data) => {
                frame = Frame {
                    link_type,
                    data,
                    ..frame
                }
            }
            Step::Found | Step::Lost => return None,
        }
    }
    None
}

/// The records before a packet's, where the other fragments of its
/// datagram are.
#[derive(Clone, Copy)]
struct Earlier<'f> {
    file: &'f RecordFile,
    /// The packet's own record.
    offset: u64,
    /// File bytes the stream's fragment searches may still walk back over
    /// (shared by the stream's packets: see [`LOOKBACK_BUDGET`]).
    budget: &'f Cell<u64>,
    /// The fragment searched for is inside a tunnel: a record whose outer
    /// datagram is fragmented is completed (from the records before it) to
    /// look inside. Off for a fragment outside any tunnel, and for those
    /// searches themselves (one level; the budget bounds the rest).
    opens: bool,
}

impl Earlier<'_> {
    /// The datagram `last` (a fragment, usually its last) completes, with
    /// fragments of the same source, destination, protocol and id from up
    /// to [`FRAGMENT_LOOKBACK`] records before it.
    fn reassemble(
        &self,
        last: &decode::Packet<'_>,
        frag: Fragment,
        ends: &Ends,
    ) -> Option<Vec<u8>> {
        let mut defrag = Defragmenter::default();
        let ts = Timestamp::default();
        if let Some(whole) = defrag.push(last, frag, ts) {
            return Some(whole);
        }
        let same = |p: &decode::Packet<'_>, f: Fragment| {
            (p.src, p.dst, p.protocol, f.id) == (last.src, last.dst, last.protocol, frag.id)
        };
        let mut at = self.offset;
        let mut buf = Vec::new();
        for _ in 0..FRAGMENT_LOOKBACK {
            let left = self.budget.get();
            let Some(before) = self.file.previous(at).ok().flatten() else {
                // A failed search read up to its bound.
                self.budget
                    .set(left.saturating_sub(PREVIOUS_MAX_LEN as u64));
                return None;
            };
            let walked = at - before;
            if walked > left {
                self.budget.set(0);
                return None;
            }
            self.budget.set(left - walked);
            at = before;
            let Ok(rec) = self.file.read_at(at, &mut buf) else {
                continue;
            };
            let frame = Frame {
                index: 0,
                offset: at,
                ts: None,
                link_type: rec.link_type,
                interface: 0,
                orig_len: rec.orig_len,
                data: &buf[..rec.caplen],
            };
            // A record whose outer datagram is fragmented may carry the
            // wanted fragment inside: that datagram is completed from the
            // records before it (see `opens`).
            let nested = Earlier {
                offset: at,
                opens: false,
                ..*self
            };
            let nested = self.opens.then_some(&nested);
            let whole = fragment_in(frame, ends, nested, &same, |p, f| defrag.push(p, f, ts));
            if let Some(Some(whole)) = whole {
                return Some(whole);
            }
        }
        None
    }
}

/// Rebuilds a conversation's stream from its packets, fed in order.
pub struct StreamBuilder {
    file: RecordFile,
    conversation: u64,
    proto: Proto,
    ends: Ends,
    table: FlowTable<Rebuild>,
    udp: Collector,
    buf: Vec<u8>,
    unreadable: u64,
    /// Packets fed now are a warm-up.
    warm: bool,
    /// What is left of [`LOOKBACK_BUDGET`].
    lookback_left: Cell<u64>,
}

impl StreamBuilder {
    pub fn new(
        file: RecordFile,
        conversation: u64,
        proto: Proto,
        ends: Ends,
        max: usize,
    ) -> StreamBuilder {
        StreamBuilder {
            file,
            conversation,
            proto,
            ends,
            table: FlowTable::new(
                Rebuild {
                    max,
                    keys: None,
                    warming: Arc::new(AtomicBool::new(false)),
                    done: Vec::new(),
                },
                TableLimits::default(),
            ),
            udp: Collector {
                max,
                ..Collector::default()
            },
            buf: Vec::new(),
            unreadable: 0,
            lookback_left: Cell::new(LOOKBACK_BUDGET),
            warm: false,
        }
    }

    /// Decrypts TLS with `keys` (before the first packet).
    pub fn decrypting(mut self, keys: Arc<KeyLog>) -> StreamBuilder {
        self.table.handler_mut().keys = Some(keys);
        self
    }

    /// While `on`, the packets fed only warm the TCP reassembly and the
    /// TLS decryptor up (a part of the stream that starts after the
    /// handshake): nothing of them is kept or counted. UDP has no warm-up.
    pub fn warming(&mut self, on: bool) {
        self.table
            .handler_mut()
            .warming
            .store(on, Ordering::Relaxed);
        if on {
            self.warm = true;
        } else if std::mem::take(&mut self.warm) {
            // Packets of the warm-up that could not be read are not this
            // view's.
            self.unreadable = 0;
        }
    }

    /// Feeds one packet; returns `false` once nothing more can be kept.
    pub fn packet(&mut self, p: &PacketInfo) -> bool {
        let Ok(rec) = self.file.read_at(p.offset, &mut self.buf) else {
            self.unreadable += 1;
            return true;
        };
        let frame = Frame {
            index: p.frame,
            offset: p.offset,
            ts: p.ts,
            link_type: rec.link_type,
            interface: 0,
            orig_len: rec.orig_len,
            data: &self.buf[..rec.caplen],
        };
        let meta = FrameMeta {
            ts: p.ts,
            frame: p.frame,
            offset: p.offset,
            orig_len: rec.orig_len,
        };
        let earlier = Earlier {
            file: &self.file,
            offset: p.offset,
            budget: &self.lookback_left,
            opens: false,
        };
        let (proto, table, udp) = (self.proto, &mut self.table, &mut self.udp);
        let fed = conversation_packet(frame, &self.ends, Some(&earlier), |packet| {
            match (packet.transport, proto) {
                (Transport::Tcp(tcp), Proto::Tcp) => {
                    table.tcp(packet.src, packet.dst, &tcp, meta);
                    Some(true)
                }
                (Transport::Udp(u), Proto::Udp) => {
                    let ts = p.ts.unwrap_or_default();
                    udp.data(p.dir, ts, p.frame, u.payload);
                    let missing = u64::from(u.payload_len).saturating_sub(u.payload.len() as u64);
                    if missing > 0 {
                        udp.gap(p.dir, ts, p.frame, missing);
                    }
                    Some(!udp.full())
                }
                _ => None,
            }
        });
        match fed.flatten() {
            Some(more) => more,
            None => {
                self.unreadable += 1;
                true
            }
        }
    }

    pub fn finish(self) -> StreamView {
        let max = self.udp.max;
        let mut decrypted_records = None;
        let c = match self.proto {
            Proto::Udp => self.udp,
            Proto::Tcp => {
                let mut done = self.table.finish().done;
                done.sort_by_key(|(id, _)| *id);
                let mut done = done.into_iter().map(|(_, f)| {
                    let (c, records) = f.into_view();
                    if let Some(n) = records {
                        *decrypted_records.get_or_insert(0) += n;
                    }
                    c
                });
                let mut first = done.next().unwrap_or_default();
                // One conversation is expected; merge any others in order.
                for other in done {
                    first.delivered[0] += other.delivered[0];
                    first.delivered[1] += other.delivered[1];
                    first.truncated |= other.truncated;
                    first.chunks.extend(other.chunks);
                }
                first
            }
        };
        StreamView {
            conversation: self.conversation,
            max_bytes_per_dir: max,
            bytes_c2s: c.delivered[0],
            bytes_s2c: c.delivered[1],
            truncated: c.truncated,
            unreadable_packets: self.unreadable,
            chunks: c.chunks,
            decrypted_records,
            tls_note: None,
        }
    }
}

/// Writes packets re-read from the stored capture as a pcap file
/// (nanosecond timestamps, the link type of the first packet).
pub struct PcapExport<'w> {
    file: RecordFile,
    out: Option<&'w mut dyn Write>,
    writer: Option<PcapWriter<&'w mut dyn Write>>,
    buf: Vec<u8>,
}

impl<'w> PcapExport<'w> {
    pub fn new(file: RecordFile, out: &'w mut dyn Write) -> PcapExport<'w> {
        PcapExport {
            file,
            out: Some(out),
            writer: None,
            buf: Vec::new(),
        }
    }

    fn header(link: u32) -> PcapHeader {
        PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: 262_144,
            datalink: DataLink::from(link),
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
        }
    }

    fn start(&mut self, link: u32) -> Result<()> {
        if self.writer.is_none() {
            if let Some(out) = self.out.take() {
                let w = PcapWriter::with_header(out, Self::header(link)).map_err(pcap_err)?;
                self.writer = Some(w);
            }
        }
        Ok(())
    }

    pub fn packet(&mut self, p: &PacketInfo) -> Result<()> {
        self.packet_edited(p, &mut |_, _| {})
    }

    /// As `packet`, with `edit` changing the captured bytes in place first
    /// (a redacted export: README, "Redacted sharing").
    pub fn packet_edited(
        &mut self,
        p: &PacketInfo,
        edit: &mut dyn FnMut(LinkType, &mut [u8]),
    ) -> Result<()> {
        let rec = self.file.read_at(p.offset, &mut self.buf)?;
        edit(rec.link_type, &mut self.buf[..rec.caplen]);
        self.start(rec.link_type.0)?;
        let nanos = p.ts.map_or(0, |t| t.as_nanos()).max(0) as u64;
        let packet = PcapPacket::new(
            Duration::from_nanos(nanos),
            rec.orig_len,
            &self.buf[..rec.caplen],
        );
        if let Some(w) = self.writer.as_mut() {
            w.write_packet(&packet).map_err(pcap_err)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.start(1)?;
        if let Some(w) = self.writer.take() {
            w.into_writer().flush()?;
        }
        Ok(())
    }
}

fn pcap_err(e: pcap_file::PcapError) -> Error {
    match e {
        pcap_file::PcapError::IoError(source) => Error::Write(source),
        other => Error::Pcap(other.to_string()),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expect) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expect);
        }
    }

    #[test]
    fn collector_caps_each_direction() {
        let mut c = Collector {
            max: 4,
            ..Collector::default()
        };
        let t = Timestamp::ZERO;
        c.data(Dir::ToServer, t, 0, b"GET ");
        c.data(Dir::ToServer, t, 1, b"/ HTTP/1.1");
        c.data(Dir::ToClient, t, 2, b"HT");
        c.gap(Dir::ToClient, t, 3, 10);
        c.data(Dir::ToClient, t, 4, b"TP/1.1");
        assert_eq!(c.delivered, [14, 8]);
        assert!(c.truncated);
        let kinds: Vec<(ChunkKind, Dir, u64)> =
            c.chunks.iter().map(|k| (k.kind, k.dir, k.len)).collect();
        assert_eq!(
            kinds,
            vec![
                (ChunkKind::Data, Dir::ToServer, 4),
                (ChunkKind::Data, Dir::ToClient, 2),
                (ChunkKind::Gap, Dir::ToClient, 10),
                (ChunkKind::Data, Dir::ToClient, 2),
            ]
        );
        let json = serde_json::to_value(&c.chunks[0]).unwrap();
        assert_eq!(json["text"], "GET ");
        assert_eq!(json["dir"], "to_server");
    }
}
