//! `FlowTable`: assigns each decoded packet to its conversation, keeps the
//! counters, drives TCP reassembly (and hands UDP payloads) into a
//! per-conversation analyzer, and hands finished conversations to a
//! `FlowHandler`.
//!
//! Memory grows with the conversations still open: a closed or reset
//! conversation is handed on once it has been idle for
//! [`TableLimits::closed_linger`] of capture time, an unanswered SYN (a port
//! scan makes millions) after [`TableLimits::syn_linger`], longer than a
//! SYN's retries; late retransmissions and final ACKs still count toward
//! it, as in tshark.
//!
//! A conversation that lingered out is not written at once: it rests a
//! while longer as a tombstone (a bounded number of them, for
//! [`TableLimits::tombstone_linger`]), so that a RST or retransmitted FIN
//! arriving minutes after the close joins it again instead of starting a
//! one-packet conversation, as tshark's table shows it. Only then is it
//! handed to [`FlowHandler::closed`].

use std::collections::hash_map::Entry as MapEntry;

use rustc_hash::FxHashMap;
use std::net::{IpAddr, SocketAddr};

use super::conversation::{guess_server, AppFacts, Conversation, Proto, State};
use super::reassembly::{HalfStream, ReassemblyLimits};
use super::stream::{Dir, StreamSink};
use super::window::{Handshake, WindowScale};
use crate::pcap::decode::{tcp_flags, Tcp, Udp};
use crate::time::{Span, Timestamp};

/// Caps and timeouts of the table.
#[derive(Clone, Copy, Debug)]
pub struct TableLimits {
    pub reassembly: ReassemblyLimits,
    /// How long a conversation ended by FIN or RST stays in the table
    /// after its last packet, to count late ACKs and retransmitted FINs
    /// (their backoff stays well under it).
    pub closed_linger: Span,
    /// The same for an unanswered SYN: longer than a client's SYN retries
    /// (Linux gives up after 127 s), which are the same conversation.
    pub syn_linger: Span,
    /// How often (capture time) the table is swept for lingering conversations.
    pub sweep_every: Span,
    /// Out-of-order bytes buffered across all conversations. Past it, the
    /// conversation that asks for more declares its holes gaps instead.
    pub max_buffered_total: usize,
    /// Conversations in the table past which the finished ones (TCP ended
    /// or unanswered, UDP idle for `pressure_idle`) leave it without
    /// waiting out their linger: a SYN flood or a UDP scan would otherwise
    /// grow the table by one entry per packet. Past twice this many, the
    /// least recently active leave too, open or not: memory stays bounded
    /// whatever the capture holds.
    pub max_open: usize,
    pub pressure_idle: Span,
    /// Conversations that lingered out and wait, finished, for a late
    /// packet of theirs (see the module doc); past it the oldest is written.
    pub max_tombstones: usize,
    /// How long a tombstone waits after its conversation's last packet:
    /// longer than a peer's FIN retries (Linux gives up on an orphaned
    /// FIN after about 100 s).
    pub tombstone_linger: Span,
}

impl Default for TableLimits {
    fn default() -> Self {
        TableLimits {
            reassembly: ReassemblyLimits::default(),
            closed_linger: Span::from_nanos(30_000_000_000),
            syn_linger: Span::from_nanos(130_000_000_000),
            sweep_every: Span::from_nanos(5_000_000_000),
            max_buffered_total: 256 << 20,
            // Twice this (the hard limit) stays under 7/8 of 32768 slots:
            // the table never grows to 65536 (26 MB, plus the old one
            // while it moves).
            max_open: 14_000,
            pressure_idle: Span::from_nanos(10_000_000_000),
            max_tombstones: 4096,
            tombstone_linger: Span::from_nanos(300_000_000_000),
        }
    }
}

/// One packet as the per-conversation packet list records it.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct PacketInfo {
    pub frame: u64,
    /// Offset of the record in the capture file.
    pub offset: u64,
    pub ts: Option<Timestamp>,
    pub dir: Dir,
    pub tcp_flags: u8,
    pub seq: u32,
    pub ack: u32,
    /// The header's window field, as sent.
    pub window: u16,
    /// The sender's window scale when the packet was seen; in JSON as
    /// Wireshark's `tcp.window_size_scalefactor` (the multiplier, -1
    /// unknown, -2 not in use).
    pub window_scale: WindowScale,
    /// The window offered in bytes: `window` scaled, as Wireshark's
    /// calculated window (`tcp.window_size`).
    pub window_size: u32,
    /// Transport payload length (IP header's view).
    pub payload_len: u32,
    pub orig_len: u32,
    /// Whether the segment repeated bytes seen before.
    pub retransmission: bool,
}

impl PacketInfo {
    /// The calculated window of a segment with `flags` and header window
    /// `window` from a sender with `scale` (a SYN's is never scaled).
    pub fn calculated_window(scale: WindowScale, window: u16, flags: u8) -> u32 {
        scale.window(window, flags & tcp_flags::SYN != 0)
    }
}

/// Where a packet sits in the capture.
#[derive(Clone, Copy, Debug)]
pub struct FrameMeta {
    pub ts: Option<Timestamp>,
    /// 0-based record index.
    pub frame: u64,
    /// Byte offset of the record in the capture file.
    pub offset: u64,
    pub orig_len: u32,
}

/// What the table tells its owner.
pub trait FlowHandler {
    /// Per-conversation analyzer fed with the reassembled streams (TCP) or
    /// the datagrams (UDP).
    type Conn: StreamSink;
    /// A TCP conversation's first payload byte arrives: return its analyzer.
    fn open_tcp(&mut self, conv: &Conversation) -> Self::Conn;
    /// A new UDP conversation, at its first datagram (`dir`, `payload`):
    /// its analyzer, or `None` when no analyzer wants the flow (its
    /// datagrams then cost nothing beyond counting).
    fn open_udp(&mut self, _conv: &Conversation, _dir: Dir, _payload: &[u8]) -> Option<Self::Conn> {
        None
    }
    /// The payload of one datagram of a UDP conversation that has an
    /// analyzer, before [`FlowHandler::packet`] sees the packet.
    fn datagram(
        &mut self,
        _conn: &mut Self::Conn,
        _dir: Dir,
        _ts: Timestamp,
        _frame: u64,
        _payload: &[u8],
    ) {
    }
    /// Every packet of every conversation, after counting and reassembly
    /// (`conn` is the conversation's analyzer, if it has one).
    fn packet(&mut self, conv: &Conversation, conn: Option<&mut Self::Conn>, packet: &PacketInfo);
    /// Whether [`FlowHandler::packet`] must see every datagram of a UDP
    /// conversation without analyzer past its first two. When it need not,
    /// [`FlowTable::udp_run`] counts runs of them in bulk.
    fn sees_every_datagram(&self) -> bool {
        true
    }
    /// The analyzer of a conversation gets no more data: both TCP streams
    /// ended (FIN or RST each way, nothing left to deliver), or the
    /// conversation is leaving the table. The conversation itself may stay
    /// in the table a while longer, counting late packets.
    fn streams_ended(&mut self, conv: &mut Conversation, conn: Self::Conn, now: Timestamp);
    /// A finished conversation (evicted, or at the end of the capture),
    /// after `streams_ended`.
    fn closed(&mut self, conv: Conversation, now: Timestamp);
}

/// A conversation's identity, the same whichever way a packet goes: its
/// two endpoints in a fixed order. Compact and hashed in five words: it is
/// looked up once per packet.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    lo: Endpoint,
    hi: Endpoint,
    proto: Proto,
}

/// An address and port; IPv4 addresses are kept in the low word, with the
/// family in `port_family` so that no IPv6 address can equal one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Endpoint {
    ip: [u64; 2],
    port_family: u32,
}

impl Endpoint {
    fn new(addr: SocketAddr) -> Endpoint {
        match addr.ip() {
            IpAddr::V4(v4) => Endpoint {
                ip: [0, u64::from(u32::from(v4))],
                port_family: u32::from(addr.port()),
            },
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                Endpoint {
                    ip: [(bits >> 64) as u64, bits as u64],
                    port_family: u32::from(addr.port()) | 1 << 16,
                }
            }
        }
    }
}

impl Key {
    fn new(proto: Proto, a: SocketAddr, b: SocketAddr) -> Key {
        let (a, b) = (Endpoint::new(a), Endpoint::new(b));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        Key { lo, hi, proto }
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.lo.ip[0] ^ self.hi.ip[0].rotate_left(32));
        state.write_u64(self.lo.ip[1]);
        state.write_u64(self.hi.ip[1]);
        let ports = u64::from(self.lo.port_family) << 32 | u64::from(self.hi.port_family);
        state.write_u64(ports ^ (self.proto as u64) << 63);
    }
}

struct TcpState {
    halves: [HalfStream; 2],
    syn_seq: [Option<u32>; 2],
    first_seq: [Option<u32>; 2],
    syn_ts: Option<Timestamp>,
    synack_seen: bool,
    handshake_done: bool,
    /// Each side's window scale, from the SYNs.
    scales: Handshake,
    data_seen: bool,
    /// The last RST has not been followed by a SYN or new bytes from the
    /// side that sent it: the conversation's state is `reset`.
    reset_live: bool,
    /// The analyzer was handed back (`FlowHandler::streams_ended`).
    conn_done: bool,
    /// What the analyzers handed back before a revival after a RST found:
    /// the next analyzer's facts add to it.
    earlier_app: Option<AppFacts>,
}

struct Entry<C> {
    conv: Conversation,
    tcp: Option<Box<TcpState>>,
    /// Boxed: the table's slots stay small, and a conversation whose
    /// streams ended keeps nothing of it. For TCP, made at the first
    /// payload byte: a flood of SYNs or bare ACKs never gets one. For UDP,
    /// only when an analyzer claims the flow at its first datagram.
    conn: Option<Box<C>>,
}

/// Datagrams of one UDP flow, one way, counted here and added to their
/// conversation before anything reads it (see [`FlowTable::udp_run`]).
struct Run {
    key: Key,
    src: IpAddr,
    dst: IpAddr,
    ports: (u16, u16),
    dir: Dir,
    packets: u64,
    bytes: u64,
    payload_wire: u64,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    last_frame: u64,
}

impl Run {
    fn new(key: Key, src: IpAddr, dst: IpAddr, ports: (u16, u16), dir: Dir) -> Run {
        Run {
            key,
            src,
            dst,
            ports,
            dir,
            packets: 0,
            bytes: 0,
            payload_wire: 0,
            start: None,
            end: None,
            last_frame: 0,
        }
    }

    #[inline(always)]
    fn is(&self, src: IpAddr, dst: IpAddr, ports: (u16, u16)) -> bool {
        self.ports == ports && self.src == src && self.dst == dst
    }

    /// Counts one datagram as [`count`] would.
    #[inline(always)]
    fn add(&mut self, at: &FrameMeta, payload_len: u32) {
        self.packets += 1;
        self.bytes += u64::from(at.orig_len);
        self.payload_wire += u64::from(payload_len);
        self.last_frame = at.frame;
        if let Some(ts) = at.ts {
            self.start = Some(self.start.map_or(ts, |s| s.min(ts)));
            self.end = Some(self.end.map_or(ts, |e| e.max(ts)));
        }
    }

    /// Adds what was counted to the conversation: sums, the earliest and
    /// latest times and the last frame, as one `count` per datagram did.
    fn settle(&self, conv: &mut Conversation) {
        let c = &mut conv.dirs[self.dir.index()];
        c.packets += self.packets;
        c.bytes += self.bytes;
        c.payload_wire += self.payload_wire;
        if self.packets > 0 {
            conv.last_frame = self.last_frame;
        }
        if let Some(s) = self.start {
            conv.start = Some(conv.start.map_or(s, |t| t.min(s)));
        }
        if let Some(e) = self.end {
            conv.end = Some(conv.end.map_or(e, |t| t.max(e)));
        }
    }
}

/// The conversation table.
pub struct FlowTable<H: FlowHandler> {
    handler: H,
    limits: TableLimits,
    map: FxHashMap<Key, Entry<H::Conn>>,
    /// Finished conversations that lingered out, by key, and the order
    /// they came in (with their id: a key rejoined and retired again
    /// appears twice, and only its last place counts).
    tombstones: FxHashMap<Key, Entry<H::Conn>>,
    tombstone_order: std::collections::VecDeque<(Key, u64)>,
    next_id: u64,
    last_sweep: Option<Timestamp>,
    now: Timestamp,
    /// Out-of-order bytes held by all open conversations.
    buffered_total: usize,
    /// Times the global buffer cap forced holes to become gaps.
    pub global_overflows: u64,
    /// Conversations that left the table early because it passed
    /// `max_open`.
    pub evicted_early: u64,
    /// Table size at which the next early eviction runs.
    evict_at: usize,
    last_frame: u64,
    /// The UDP flow whose datagrams are being counted in bulk, if any, and
    /// the last flow and direction that came through
    /// [`FlowTable::udp_run`] without being it (two in a row one way take
    /// the run over).
    run: Option<Run>,
    run_candidate: Option<(Key, Dir)>,
}

impl<H: FlowHandler> FlowTable<H> {
    pub fn new(handler: H, limits: TableLimits) -> Self {
        FlowTable {
            handler,
            limits,
            map: FxHashMap::default(),
            tombstones: FxHashMap::default(),
            tombstone_order: std::collections::VecDeque::new(),
            next_id: 0,
            last_sweep: None,
            now: Timestamp::ZERO,
            buffered_total: 0,
            global_overflows: 0,
            evicted_early: 0,
            evict_at: limits.max_open,
            last_frame: 0,
            run: None,
            run_candidate: None,
        }
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    pub fn open_conversations(&self) -> usize {
        self.map.len()
    }

    /// Conversations created so far.
    pub fn conversations_seen(&self) -> u64 {
        self.next_id
    }

    /// Moves the table's clock to a packet's time, sweeping when it is
    /// due. Inlined into `tcp` and `udp`: a call per packet (two for a
    /// tunnelled one) cost more than its few compares; the sweep and the
    /// eviction stay out of line.
    #[inline(always)]
    fn advance(&mut self, ts: Option<Timestamp>, frame: u64) {
        self.last_frame = frame;
        let Some(ts) = ts else { return };
        if ts > self.now {
            self.now = ts;
        }
        let last = *self.last_sweep.get_or_insert(ts);
        if self.now.since(last) >= self.limits.sweep_every {
            self.sweep_now();
        }
        if self.map.len() > self.evict_at {
            self.evict_finished();
        }
    }

    #[cold]
    #[inline(never)]
    fn sweep_now(&mut self) {
        self.end_run();
        // A flow that left and comes again shows its first two again.
        self.run_candidate = None;
        self.last_sweep = Some(self.now);
        self.sweep();
    }

    /// The table is over `max_open`: finished conversations leave now.
    #[cold]
    #[inline(never)]
    fn evict_finished(&mut self) {
        self.end_run();
        self.run_candidate = None;
        let now = self.now;
        let idle = self.limits.pressure_idle;
        let done = in_id_order(self.map.iter().filter(|(_, e)| match e.conv.state {
            State::Closed | State::Reset | State::Refused | State::SynSent => true,
            State::Stateless => e.conv.end.is_some_and(|end| now.since(end) >= idle),
            _ => false,
        }));
        self.evict(done);
        let max = self.limits.max_open;
        if self.map.len() > 2 * max {
            let mut by_activity: Vec<(Option<Timestamp>, u64, u64, Key)> = self
                .map
                .iter()
                .map(|(k, e)| (e.conv.end, e.conv.last_frame, e.conv.id, *k))
                .collect();
            let excess = self.map.len() - max;
            by_activity.select_nth_unstable_by_key(excess, |&(end, frame, _, _)| (end, frame));
            let oldest = by_activity[..excess].iter().map(|&(_, _, id, k)| (id, k));
            self.evict(by_id(oldest.collect()));
        }
        // If most of the table is open conversations, the next pass waits
        // for it to grow a good deal: a pass per packet would cost a scan
        // each.
        self.evict_at = (2 * self.map.len()).clamp(max, 2 * max);
    }

    fn evict(&mut self, keys: Vec<Key>) {
        self.evicted_early += keys.len() as u64;
        for key in keys {
            if let Some(entry) = self.map.remove(&key) {
                self.close(entry);
            }
        }
    }

    fn sweep(&mut self) {
        let now = self.now;
        let limits = self.limits;
        let done = in_id_order(self.map.iter().filter(|(_, e)| {
            let linger = match e.conv.state {
                State::Closed | State::Reset | State::Refused => limits.closed_linger,
                State::SynSent => limits.syn_linger,
                _ => return false,
            };
            e.conv.end.is_some_and(|end| now.since(end) > linger)
        }));
        for key in done {
            if let Some(entry) = self.map.remove(&key) {
                self.retire(key, entry);
            }
        }
        self.bury_old(|t, tomb| {
            t.now.since(tomb.conv.end.unwrap_or(t.now)) > t.limits.tombstone_linger
        });
    }

    /// A TCP conversation that lingered out becomes a tombstone: its
    /// streams end now, its row waits (see the module doc).
    fn retire(&mut self, key: Key, mut entry: Entry<H::Conn>) {
        if entry.tcp.is_none() || self.limits.max_tombstones == 0 {
            return self.close(entry);
        }
        self.end_streams(&mut entry);
        self.tombstone_order.push_back((key, entry.conv.id));
        if let Some(older) = self.tombstones.insert(key, entry) {
            self.close(older);
        }
        let max = self.limits.max_tombstones;
        self.bury_old(|t, _| t.tombstones.len() > max);
        if self.tombstone_order.len() > 2 * max {
            let tombstones = &self.tombstones;
            self.tombstone_order
                .retain(|(k, id)| tombstones.get(k).is_some_and(|e| e.conv.id == *id));
        }
    }

    /// Writes out tombstones from the oldest while `done` says so.
    fn bury_old(&mut self, done: impl Fn(&Self, &Entry<H::Conn>) -> bool) {
        while let Some(&(key, id)) = self.tombstone_order.front() {
            match self.tombstones.get(&key) {
                Some(tomb) if tomb.conv.id == id => {
                    if !done(self, tomb) {
                        break;
                    }
                    if let Some(tomb) = self.tombstones.remove(&key) {
                        self.close(tomb);
                    }
                }
                // Rejoined since, or retired again later in the queue.
                _ => {}
            }
            self.tombstone_order.pop_front();
        }
    }

    fn close(&mut self, mut entry: Entry<H::Conn>) {
        self.end_streams(&mut entry);
        let now = self.now;
        self.handler.closed(entry.conv, now);
    }

    /// Ends a conversation's streams (what is buffered goes out behind
    /// gaps) and hands its analyzer back. Idempotent.
    fn end_streams(&mut self, entry: &mut Entry<H::Conn>) {
        if let Some(tcp) = &entry.tcp {
            let held: usize = tcp.halves.iter().map(|h| h.buffered_bytes()).sum();
            self.buffered_total = self.buffered_total.saturating_sub(held);
        }
        let now = self.now;
        let frame = self.last_frame;
        if let Some(tcp) = entry.tcp.as_mut() {
            let mut ended = Ended;
            let sink: &mut dyn StreamSink = match entry.conn.as_deref_mut() {
                Some(conn) => conn,
                None => &mut ended,
            };
            for dir in [Dir::ToServer, Dir::ToClient] {
                tcp.halves[dir.index()].finish(dir, now, frame, sink);
            }
            entry.conv.streams = [tcp.halves[0].stats, tcp.halves[1].stats];
            entry.conv.state = tcp_state(&entry.conv, tcp);
        }
        if let Some(conn) = entry.conn.take() {
            self.handler.streams_ended(&mut entry.conv, *conn, now);
        }
        if let Some(tcp) = entry.tcp.as_mut() {
            tcp.conn_done = true;
            merge_earlier_app(&mut entry.conv, tcp);
        }
    }

    /// Hands every conversation still in the table to the handler, in id
    /// order, and returns the handler.
    pub fn finish(mut self) -> H {
        self.end_run();
        // Keys, not entries: a copy of every entry next to the table
        // would double the peak memory.
        let mut keys: Vec<(u64, bool, Key)> = self
            .map
            .iter()
            .map(|(k, e)| (e.conv.id, false, *k))
            .chain(self.tombstones.iter().map(|(k, e)| (e.conv.id, true, *k)))
            .collect();
        keys.sort_unstable_by_key(|&(id, _, _)| id);
        for (_, tomb, key) in keys {
            let entry = if tomb {
                self.tombstones.remove(&key)
            } else {
                self.map.remove(&key)
            };
            if let Some(entry) = entry {
                self.close(entry);
            }
        }
        self.handler
    }

    /// Counts a UDP datagram. Inlined into the pipeline's frame step, as
    /// `tcp`: a call per packet costs about 2% of an analysis.
    #[inline(always)]
    pub fn udp(&mut self, src: IpAddr, dst: IpAddr, udp: &Udp<'_>, at: FrameMeta) {
        self.advance(at.ts, at.frame);
        self.udp_counted::<false>(src, dst, udp, at);
    }

    /// Counts a UDP datagram as [`FlowTable::udp`] does, for a flow that
    /// may send many in a row: a tunnel's outer flow (a VXLAN datagram per
    /// packet carried). Once two datagrams of one flow without analyzer
    /// come in a row through here, and the handler need not see each
    /// ([`FlowHandler::sees_every_datagram`]), the flow's next ones are
    /// counted in a [`Run`] without a table lookup, until two of another
    /// flow come in a row. The run is added to its conversation before
    /// anything reads it: a sweep, an eviction, the end, or a datagram of
    /// the flow coming through [`FlowTable::udp`]. The cost when flows
    /// never repeat: one compare of the previous flow's key per datagram.
    #[inline(always)]
    pub fn udp_run(&mut self, src: IpAddr, dst: IpAddr, udp: &Udp<'_>, at: FrameMeta) {
        self.advance(at.ts, at.frame);
        if let Some(run) = self.run.as_mut() {
            if run.is(src, dst, (udp.src_port, udp.dst_port)) {
                run.add(&at, udp.payload_len);
                return;
            }
        }
        self.udp_outside_run(src, dst, udp, at);
    }

    #[inline(never)]
    fn udp_outside_run(&mut self, src: IpAddr, dst: IpAddr, udp: &Udp<'_>, at: FrameMeta) {
        self.udp_counted::<true>(src, dst, udp, at);
    }

    /// Adds the run's datagrams to their conversation, and ends it.
    fn end_run(&mut self) {
        if let Some(run) = self.run.take() {
            if let Some(entry) = self.map.get_mut(&run.key) {
                run.settle(&mut entry.conv);
            }
        }
    }

    /// The datagram's conversation, counted, after the table's clock moved.
    /// `RUN`: it came through [`FlowTable::udp_run`].
    #[inline(always)]
    fn udp_counted<const RUN: bool>(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        udp: &Udp<'_>,
        at: FrameMeta,
    ) {
        let FrameMeta {
            ts,
            frame,
            offset,
            orig_len,
        } = at;
        let s = SocketAddr::new(src, udp.src_port);
        let d = SocketAddr::new(dst, udp.dst_port);
        let key = Key::new(Proto::Udp, s, d);
        if self.run.as_ref().is_some_and(|r| r.key == key) {
            // The other way, or through `udp`: the run's count goes first.
            self.end_run();
        }
        // A lookup, and the entry API only for a new flow: `entry` moved
        // the key into the entry on every datagram (and a VXLAN packet is
        // two datagrams' worth of lookups).
        let entry = match self.map.get_mut(&key) {
            Some(entry) => entry,
            None => Self::open_udp(
                &mut self.map,
                &mut self.next_id,
                &mut self.handler,
                (key, s, d),
                udp.payload,
            ),
        };

        let dir = if entry.conv.client == s {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        count(&mut entry.conv, dir, ts, frame, orig_len, udp.payload_len);
        if let Some(conn) = entry.conn.as_deref_mut() {
            let ts = ts.unwrap_or(Timestamp::ZERO);
            self.handler.datagram(conn, dir, ts, frame, udp.payload);
        }
        let info = PacketInfo {
            frame,
            offset,
            ts,
            dir,
            tcp_flags: 0,
            seq: 0,
            ack: 0,
            window: 0,
            window_scale: WindowScale::Unknown,
            window_size: 0,
            payload_len: udp.payload_len,
            orig_len,
            retransmission: false,
        };
        self.handler
            .packet(&entry.conv, entry.conn.as_deref_mut(), &info);
        if RUN && entry.conn.is_none() && !self.handler.sees_every_datagram() {
            // Two in a row one way: a flow answered datagram by datagram
            // (GTP-U's 2152 both ways) would start a run per datagram.
            if self.run_candidate == Some((key, dir)) {
                self.end_run();
                let ports = (udp.src_port, udp.dst_port);
                self.run = Some(Run::new(key, src, dst, ports, dir));
            } else {
                self.run_candidate = Some((key, dir));
            }
        }
    }

    /// A UDP flow's first datagram: its conversation, and the analyzer
    /// that claims it (if one does).
    #[inline(never)]
    fn open_udp<'m>(
        map: &'m mut FxHashMap<Key, Entry<H::Conn>>,
        next_id: &mut u64,
        handler: &mut H,
        (key, s, d): (Key, SocketAddr, SocketAddr),
        payload: &[u8],
    ) -> &'m mut Entry<H::Conn> {
        let conv = new_conversation(next_id, Proto::Udp, s, d, None);
        let dir = if conv.client == s {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let conn = handler.open_udp(&conv, dir, payload).map(Box::new);
        map.entry(key).or_insert(Entry {
            conv,
            tcp: None,
            conn,
        })
    }

    /// Counts a TCP segment and feeds reassembly.
    #[inline(always)]
    pub fn tcp(&mut self, src: IpAddr, dst: IpAddr, tcp: &Tcp<'_>, at: FrameMeta) {
        let FrameMeta {
            ts,
            frame,
            offset,
            orig_len,
        } = at;
        self.advance(ts, frame);
        let s = SocketAddr::new(src, tcp.src_port);
        let d = SocketAddr::new(dst, tcp.dst_port);
        let key = Key::new(Proto::Tcp, s, d);
        let pure_syn = tcp.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN;
        // A SYN with a new sequence number on a known 4-tuple is a new
        // connection reusing the ports (tshark does the same).
        // The same goes for a conversation resting as a tombstone: it is
        // written out, and the packets that follow are the new one's.
        if pure_syn {
            let new = |e: &Entry<H::Conn>| starts_new_connection(e, s, tcp.seq);
            let old = if self.map.get(&key).is_some_and(new) {
                self.map.remove(&key)
            } else if self.tombstones.get(&key).is_some_and(new) {
                self.tombstones.remove(&key)
            } else {
                None
            };
            if let Some(old) = old {
                self.close(old);
            }
        }
        let roles = if pure_syn {
            Some(true)
        } else if tcp.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN | tcp_flags::ACK {
            Some(false)
        } else {
            None
        };
        let limits = self.limits.reassembly;
        let entry = match self.map.entry(key) {
            MapEntry::Occupied(o) => o.into_mut(),
            // A packet of a conversation that lingered out: it joins it
            // again (a new connection's SYN wrote it out above).
            MapEntry::Vacant(v)
                if !self.tombstones.is_empty() && self.tombstones.contains_key(&key) =>
            {
                match self.tombstones.remove(&key) {
                    Some(tomb) => v.insert(tomb),
                    None => return,
                }
            }
            MapEntry::Vacant(v) => {
                let conv = new_conversation(&mut self.next_id, Proto::Tcp, s, d, roles);
                let state = TcpState {
                    halves: [HalfStream::default(), HalfStream::default()],
                    syn_seq: [None; 2],
                    first_seq: [None; 2],
                    syn_ts: None,
                    synack_seen: false,
                    handshake_done: false,
                    scales: Handshake::default(),
                    data_seen: false,
                    reset_live: false,
                    conn_done: false,
                    earlier_app: None,
                };
                v.insert(Entry {
                    conv,
                    tcp: Some(Box::new(state)),
                    conn: None,
                })
            }
        };

        let dir = if entry.conv.client == s {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        count(&mut entry.conv, dir, ts, frame, orig_len, tcp.payload_len);
        let c = &mut entry.conv.dirs[dir.index()];
        if tcp.has(tcp_flags::SYN) {
            c.syn += 1;
        }
        if tcp.has(tcp_flags::FIN) {
            c.fin += 1;
        }
        if tcp.has(tcp_flags::RST) {
            c.rst += 1;
        } else if tcp.window == 0 && !tcp.has(tcp_flags::SYN) {
            c.zero_windows += 1;
        }
        let Some(state) = entry.tcp.as_mut() else {
            return;
        };
        let i = dir.index();
        if state.halves[i].is_reset()
            && state.halves[i].revives(tcp.seq, tcp.has(tcp_flags::SYN), tcp.payload_len)
        {
            // Data or a SYN after this side's RST: the stream goes on (as
            // tshark follows it); a new analyzer takes it up if the last
            // one was already handed back.
            state.halves[i].revive();
            state.reset_live = false;
            if state.conn_done && entry.conn.is_none() {
                state.conn_done = false;
                // An earlier revival's facts first, so none are lost.
                merge_earlier_app(&mut entry.conv, state);
                state.earlier_app = Some(std::mem::take(&mut entry.conv.app));
            }
        }
        if entry.conn.is_none() && !state.conn_done && tcp.payload_len > 0 {
            entry.conn = Some(Box::new(self.handler.open_tcp(&entry.conv)));
        }
        // Once the streams have ended, late packets are still counted (as
        // tshark does) but their bytes go nowhere.
        let mut ended = Ended;
        let conn: &mut dyn StreamSink = match entry.conn.as_deref_mut() {
            Some(conn) => conn,
            None => &mut ended,
        };
        state.first_seq[i].get_or_insert(tcp.seq);
        let tsv = ts.unwrap_or(Timestamp::ZERO);
        if tcp.has(tcp_flags::SYN) {
            state.syn_seq[i].get_or_insert(tcp.seq);
            state.halves[i].syn(tcp.seq);
            state.scales.syn(i, !pure_syn, tcp.window_scale);
            if pure_syn {
                state.syn_ts.get_or_insert(tsv);
            } else {
                state.synack_seen = true;
            }
        } else if !state.handshake_done
            && state.synack_seen
            && dir == Dir::ToServer
            && tcp.has(tcp_flags::ACK)
        {
            state.handshake_done = true;
            if let (Some(syn_ts), Some(t)) = (state.syn_ts, ts) {
                entry.conv.handshake_rtt = Some(t.since(syn_ts));
            }
        }
        let held_before = state.halves[0].buffered_bytes() + state.halves[1].buffered_bytes();
        // The ACK first: it proves the other side's bytes it covers were
        // sent before this segment, so they are delivered before its payload.
        let other = dir.reverse();
        // An ACK from a side that has not answered the other's SYN, before
        // any of the other's bytes, belongs to an older connection (a
        // stale peer's challenge ACK): it says nothing of these bytes.
        let stale_ack = state.syn_seq[i].is_none()
            && state.syn_seq[other.index()].is_some()
            && !state.halves[other.index()].has_bytes();
        if tcp.has(tcp_flags::ACK) && !tcp.has(tcp_flags::RST) && !stale_ack {
            state.halves[other.index()].acked(other, tcp.ack, tsv, frame, conn);
        }
        let before = state.halves[i].stats.retransmissions;
        if tcp.payload_len > 0 {
            state.data_seen = true;
        }
        state.halves[i].segment(
            dir,
            tcp.seq,
            tcp.has(tcp_flags::SYN),
            tcp.has(tcp_flags::FIN),
            tcp.payload,
            tcp.payload_len,
            tsv,
            frame,
            &limits,
            conn,
        );
        let retransmission = state.halves[i].stats.retransmissions > before;
        if tcp.has(tcp_flags::RST) {
            state.reset_live = true;
            state.halves[i].reset(dir, tsv, frame, conn);
        }
        let held_after = state.halves[0].buffered_bytes() + state.halves[1].buffered_bytes();
        self.buffered_total = (self.buffered_total + held_after).saturating_sub(held_before);
        let mine = state.halves[i].buffered_bytes();
        if self.buffered_total > self.limits.max_buffered_total && mine > 0 {
            // The global cap: this conversation gives up on its holes.
            self.buffered_total -= mine;
            self.global_overflows += 1;
            state.halves[i].give_up_holes(dir, tsv, frame, conn);
        }
        entry.conv.state = tcp_state(&entry.conv, state);
        let info = PacketInfo {
            frame,
            offset,
            ts,
            dir,
            tcp_flags: tcp.flags,
            seq: tcp.seq,
            ack: tcp.ack,
            window: tcp.window,
            window_scale: state.scales.scale(i),
            window_size: PacketInfo::calculated_window(
                state.scales.scale(i),
                tcp.window,
                tcp.flags,
            ),
            payload_len: tcp.payload_len,
            orig_len,
            retransmission,
        };
        self.handler
            .packet(&entry.conv, entry.conn.as_deref_mut(), &info);
        if state.halves.iter().all(HalfStream::has_ended) {
            // Let go of the analyzer now: a closed conversation lingers
            // for minutes of capture time, thousands of them at once.
            state.conn_done = true;
            if let Some(conn) = entry.conn.take() {
                self.handler.streams_ended(&mut entry.conv, *conn, tsv);
                merge_earlier_app(&mut entry.conv, state);
            }
        }
    }
}

/// The keys of `entries` by conversation id: conversations that leave
/// together are handed over in the order they began, so the results
/// store appends their rows (in the table's hash order, a sweep of
/// 100,000 SYNs wrote rows at random places in the stored order).
fn in_id_order<'a, C: 'a>(entries: impl Iterator<Item = (&'a Key, &'a Entry<C>)>) -> Vec<Key> {
    by_id(entries.map(|(k, e)| (e.conv.id, *k)).collect())
}

/// Keys with their conversation ids, sorted by id, ids dropped.
fn by_id(mut keyed: Vec<(u64, Key)>) -> Vec<Key> {
    keyed.sort_unstable_by_key(|&(id, _)| id);
    keyed.into_iter().map(|(_, k)| k).collect()
}

/// A conversation revived after a RST had two analyzers: its facts are
/// both's (the first one's protocol when it found one).
fn merge_earlier_app(conv: &mut Conversation, tcp: &mut TcpState) {
    if let Some(earlier) = tcp.earlier_app.take() {
        let later = std::mem::take(&mut conv.app);
        conv.app = AppFacts {
            protocol: if earlier.records == 0 && later.protocol.is_some() {
                later.protocol
            } else {
                earlier.protocol.or(later.protocol)
            },
            records: earlier.records + later.records,
            reversed: earlier.reversed + later.reversed,
            tls: later.tls.or(earlier.tls),
        };
    }
}

/// Whether a pure SYN from `src` with sequence number `seq` opens a new
/// connection on `entry`'s 4-tuple: its sequence number is not the one
/// this side started with (port reuse; tshark splits there too).
fn starts_new_connection<C>(entry: &Entry<C>, src: SocketAddr, seq: u32) -> bool {
    let dir = if entry.conv.client == src {
        Dir::ToServer
    } else {
        Dir::ToClient
    };
    entry.tcp.as_ref().is_some_and(|t| {
        let base = t.syn_seq[dir.index()].or(t.first_seq[dir.index()]);
        base.is_some_and(|b| b != seq)
    })
}

/// Where the bytes of a conversation whose streams have ended go.
struct Ended;

impl StreamSink for Ended {
    fn data(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64, _bytes: &[u8]) {}
    fn gap(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64, _len: u64) {}
    fn fin(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64) {}
    fn reset(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64) {}
}

fn count(
    conv: &mut Conversation,
    dir: Dir,
    ts: Option<Timestamp>,
    frame: u64,
    orig_len: u32,
    payload_len: u32,
) {
    if conv.dirs[0].packets == 0 && conv.dirs[1].packets == 0 {
        conv.first_frame = frame;
    }
    let c = &mut conv.dirs[dir.index()];
    c.packets += 1;
    c.bytes += u64::from(orig_len);
    c.payload_wire += u64::from(payload_len);
    conv.last_frame = frame;
    if let Some(ts) = ts {
        conv.start = Some(conv.start.map_or(ts, |s| s.min(ts)));
        conv.end = Some(conv.end.map_or(ts, |e| e.max(ts)));
    }
}

fn tcp_state(conv: &Conversation, tcp: &TcpState) -> State {
    let [c, s] = conv.dirs;
    if tcp.reset_live {
        if !tcp.data_seen && tcp.syn_seq[0].is_some() && !tcp.synack_seen {
            return State::Refused;
        }
        return State::Reset;
    }
    match (c.fin > 0, s.fin > 0) {
        (true, true) => return State::Closed,
        (true, false) | (false, true) => return State::HalfClosed,
        _ => {}
    }
    if tcp.syn_seq[0].is_none() && tcp.syn_seq[1].is_none() {
        State::NoSyn
    } else if !tcp.synack_seen {
        State::SynSent
    } else {
        State::Open
    }
}

fn new_conversation(
    next_id: &mut u64,
    proto: Proto,
    src: SocketAddr,
    dst: SocketAddr,
    src_is_client: Option<bool>,
) -> Conversation {
    let id = *next_id;
    *next_id += 1;
    let (from_handshake, src_is_client) = match src_is_client {
        Some(c) => (true, c),
        None => (false, !guess_server(src, dst)),
    };
    let (client, server) = if src_is_client {
        (src, dst)
    } else {
        (dst, src)
    };
    Conversation::new(id, proto, client, server, from_handshake)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::pcap::decode::{Tcp, Udp};

    #[derive(Default)]
    struct Gaps(u64);

    impl StreamSink for Gaps {
        fn data(&mut self, _: Dir, _: Timestamp, _: u64, _: &[u8]) {}
        fn gap(&mut self, _: Dir, _: Timestamp, _: u64, len: u64) {
            self.0 += len;
        }
        fn fin(&mut self, _: Dir, _: Timestamp, _: u64) {}
        fn reset(&mut self, _: Dir, _: Timestamp, _: u64) {}
    }

    /// Closed conversations with the gap bytes their streams reported.
    #[derive(Default)]
    struct Closed(Vec<(Conversation, u64)>, Vec<(u64, u64)>);

    impl FlowHandler for Closed {
        type Conn = Gaps;
        fn open_tcp(&mut self, _: &Conversation) -> Gaps {
            Gaps::default()
        }
        fn packet(&mut self, _: &Conversation, _: Option<&mut Gaps>, _: &PacketInfo) {}
        fn streams_ended(&mut self, conv: &mut Conversation, conn: Gaps, _: Timestamp) {
            self.1.push((conv.id, conn.0));
        }
        fn closed(&mut self, conv: Conversation, _: Timestamp) {
            let gaps = self
                .1
                .iter()
                .find(|(id, _)| *id == conv.id)
                .map_or(0, |g| g.1);
            self.0.push((conv, gaps));
        }
    }

    fn seg(port: u16, seq: u32, flags: u8, payload: &[u8]) -> Tcp<'_> {
        Tcp {
            src_port: port,
            dst_port: 80,
            seq,
            ack: 0,
            flags,
            window: 1000,
            window_scale: None,
            payload,
            payload_len: payload.len() as u32,
        }
    }

    /// Client and server addresses of the tests' connections.
    fn hosts() -> (IpAddr, IpAddr) {
        ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap())
    }

    /// Frame `frame`, taken at `frame` microseconds.
    fn at(frame: u64) -> FrameMeta {
        FrameMeta {
            ts: Some(Timestamp::from_nanos(frame as i64 * 1000)),
            frame,
            offset: 0,
            orig_len: 60,
        }
    }

    /// A table with the default limits changed by `limits`.
    fn table_with(limits: impl FnOnce(&mut TableLimits)) -> FlowTable<Closed> {
        let mut l = TableLimits::default();
        limits(&mut l);
        FlowTable::new(Closed::default(), l)
    }

    /// Frame `frame` at `secs` seconds.
    fn at_secs(frame: u64, secs: f64) -> FrameMeta {
        FrameMeta {
            ts: Some(Timestamp::from_nanos((secs * 1e9) as i64)),
            ..at(frame)
        }
    }

    /// A connection on `port` that opens and closes within the first
    /// second: SYN, SYN-ACK, FIN both ways.
    fn open_and_close(table: &mut FlowTable<Closed>, port: u16, t: f64) {
        let (a, b) = hosts();
        let back = |s: Tcp<'static>| Tcp {
            src_port: 80,
            dst_port: port,
            ..s
        };
        table.tcp(a, b, &seg(port, 7, tcp_flags::SYN, b""), at_secs(0, t));
        let synack = back(seg(port, 9, tcp_flags::SYN | tcp_flags::ACK, b""));
        table.tcp(b, a, &synack, at_secs(1, t + 0.1));
        let fin = tcp_flags::FIN | tcp_flags::ACK;
        table.tcp(a, b, &seg(port, 8, fin, b""), at_secs(2, t + 0.2));
        table.tcp(b, a, &back(seg(port, 10, fin, b"")), at_secs(3, t + 0.3));
    }

    /// `Closed`, needing no call per datagram: runs are counted in bulk.
    #[derive(Default)]
    struct Bulk(Closed);

    impl FlowHandler for Bulk {
        type Conn = Gaps;
        fn open_tcp(&mut self, conv: &Conversation) -> Gaps {
            self.0.open_tcp(conv)
        }
        fn packet(&mut self, _: &Conversation, _: Option<&mut Gaps>, _: &PacketInfo) {}
        fn sees_every_datagram(&self) -> bool {
            false
        }
        fn streams_ended(&mut self, conv: &mut Conversation, conn: Gaps, now: Timestamp) {
            self.0.streams_ended(conv, conn, now);
        }
        fn closed(&mut self, conv: Conversation, now: Timestamp) {
            self.0.closed(conv, now);
        }
    }

    /// Ids of the conversations in the order the table handed them over.
    fn handed_over(table: FlowTable<Closed>) -> Vec<u64> {
        table.finish().0.iter().map(|(c, _)| c.id).collect()
    }

    #[test]
    fn conversations_that_leave_together_leave_in_the_order_they_began() {
        let (a, b) = hosts();
        let syns = |table: &mut FlowTable<Closed>, secs_apart: f64| {
            for i in 0..600u16 {
                let t = f64::from(i) * secs_apart;
                let syn = seg(10_000 + i, 7, tcp_flags::SYN, b"");
                table.tcp(a, b, &syn, at_secs(u64::from(i), t));
            }
        };
        // Evicted from a full table, a batch at a time.
        let mut full = table_with(|l| l.max_open = 50);
        syns(&mut full, 0.001);
        assert!(full.evicted_early > 0);
        let order = handed_over(full);
        assert_eq!(order.len(), 600);
        assert!(order.is_sorted(), "{order:?}");
        // Swept after lingering, many per sweep.
        let mut swept = table_with(|l| {
            l.syn_linger = Span::from_nanos(1_000_000_000);
            l.sweep_every = Span::from_nanos(1_000_000_000);
            l.max_tombstones = 0;
        });
        syns(&mut swept, 0.01);
        let order = handed_over(swept);
        assert_eq!(order.len(), 600);
        assert!(order.is_sorted(), "{order:?}");
    }

    #[test]
    fn runs_of_datagrams_count_as_one_by_one() {
        let (a, b) = hosts();
        let c: IpAddr = "10.0.0.3".parse().unwrap();
        // (from, to, source port, seconds): runs of one flow, the other
        // way, another flow in between, sweeps (every 5 s) and a UDP
        // eviction (idle 10 s past a full table) on the way.
        let mut datagrams = vec![];
        for i in 0..6 {
            datagrams.push((a, b, 40_000, f64::from(i) * 0.1));
        }
        datagrams.push((b, a, 4789, 0.7));
        datagrams.push((a, b, 40_000, 0.8));
        datagrams.push((c, b, 40_001, 0.9));
        for i in 0..4 {
            datagrams.push((a, b, 40_000, 1.0 + f64::from(i)));
            datagrams.push((c, b, 40_001, 1.5 + f64::from(i)));
        }
        for i in 0..5 {
            datagrams.push((c, b, 40_001, 6.0 + f64::from(i) * 0.01));
        }
        datagrams.push((a, b, 40_000, 30.0));
        for i in 0..3 {
            datagrams.push((c, b, 40_002 + i, 31.0));
        }
        datagrams.push((a, b, 40_000, 31.5));
        let rows = |convs: Vec<(Conversation, u64)>| -> Vec<String> {
            convs
                .iter()
                .map(|(c, _)| {
                    format!(
                        "{} {} {:?} {:?} {:?} {} {}",
                        c.id, c.client, c.dirs, c.start, c.end, c.first_frame, c.last_frame
                    )
                })
                .collect()
        };
        let limits = |l: &mut TableLimits| l.max_open = 2;
        let mut one_by_one = table_with(limits);
        let mut bulk = FlowTable::new(Bulk::default(), {
            let mut l = TableLimits::default();
            limits(&mut l);
            l
        });
        for (i, &(src, dst, port, t)) in datagrams.iter().enumerate() {
            let (src_port, dst_port) = if src == b {
                (4789, 40_000)
            } else {
                (port, 4789)
            };
            let udp = Udp {
                src_port,
                dst_port,
                payload: b"vx",
                payload_len: 2 + i as u32,
            };
            one_by_one.udp(src, dst, &udp, at_secs(i as u64, t));
            bulk.udp_run(src, dst, &udp, at_secs(i as u64, t));
        }
        assert!(bulk.evicted_early > 0);
        assert_eq!(bulk.evicted_early, one_by_one.evicted_early);
        let want = rows(one_by_one.finish().0);
        assert_eq!(rows(bulk.finish().0 .0), want);
        assert_eq!(want.len(), 5);
    }

    #[test]
    fn a_late_rst_rejoins_the_conversation_that_lingered_out() {
        let mut table = table_with(|_| {});
        let (a, b) = hosts();
        open_and_close(&mut table, 1000, 0.0);
        // Sweeps past the 30 s linger, on another connection's packets.
        for i in 0..20u64 {
            let t = 5.0 * i as f64;
            table.tcp(a, b, &seg(2000, 1, tcp_flags::ACK, b""), at_secs(10 + i, t));
        }
        assert_eq!(
            table.open_conversations(),
            1,
            "the closed one left the table"
        );
        table.tcp(a, b, &seg(1000, 9, tcp_flags::RST, b""), at_secs(40, 100.0));
        let closed = table.finish().0;
        assert_eq!(closed.len(), 2, "no one-packet conversation");
        let c = &closed
            .iter()
            .find(|(c, _)| c.client.port() == 1000)
            .unwrap()
            .0;
        assert_eq!(c.packets(), 5);
        assert_eq!(c.duration(), Span::from_nanos(100_000_000_000));
        assert_eq!(c.state, State::Reset);
    }

    #[test]
    fn new_bytes_after_a_reset_get_a_new_analyzer_when_the_last_one_left() {
        let mut table = table_with(|_| {});
        let (a, b) = hosts();
        let back = |s: Tcp<'static>| Tcp {
            src_port: 80,
            dst_port: 1000,
            ..s
        };
        table.tcp(a, b, &seg(1000, 7, tcp_flags::SYN, b""), at(0));
        let synack = back(seg(1000, 9, tcp_flags::SYN | tcp_flags::ACK, b""));
        table.tcp(b, a, &synack, at(1));
        table.tcp(a, b, &seg(1000, 8, tcp_flags::ACK, b"GET"), at(2));
        let fin = back(seg(1000, 10, tcp_flags::FIN | tcp_flags::ACK, b""));
        table.tcp(b, a, &fin, at(3));
        table.tcp(a, b, &seg(1000, 11, tcp_flags::RST, b""), at(4));
        assert_eq!(table.handler().1.len(), 1, "both streams ended");
        // The client carries on after its RST.
        table.tcp(a, b, &seg(1000, 11, tcp_flags::ACK, b"GET"), at(5));
        let handler = table.finish();
        assert_eq!(handler.1.len(), 2, "a second analyzer took the bytes up");
        assert_eq!(handler.0.len(), 1);
        assert_eq!(handler.0[0].0.state, State::HalfClosed);
    }

    #[test]
    fn a_new_syn_does_not_rejoin_a_tombstone() {
        let mut table = table_with(|_| {});
        let (a, b) = hosts();
        open_and_close(&mut table, 1000, 0.0);
        table.tcp(a, b, &seg(2000, 1, tcp_flags::ACK, b""), at_secs(5, 40.0));
        // A new connection on the same ports, with another ISN.
        table.tcp(a, b, &seg(1000, 500, tcp_flags::SYN, b""), at_secs(6, 50.0));
        let closed = table.finish().0;
        let on_1000: Vec<u64> = closed
            .iter()
            .filter(|(c, _)| c.client.port() == 1000)
            .map(|(c, _)| c.packets())
            .collect();
        assert_eq!(on_1000, [4, 1]);
    }

    #[test]
    fn tombstones_are_bounded_and_each_conversation_is_written_once() {
        let mut table = table_with(|l| l.max_tombstones = 3);
        for port in 0..10u16 {
            open_and_close(&mut table, 1000 + port, f64::from(port) * 40.0);
        }
        assert!(table.tombstones.len() <= 3);
        assert_eq!(table.handler().0.len() + table.tombstones.len() + 1, 10);
        let closed = table.finish().0;
        let mut ids: Vec<u64> = closed.iter().map(|(c, _)| c.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn global_buffer_cap_turns_holes_into_gaps() {
        let mut table = table_with(|l| l.max_buffered_total = 10);
        let (a, b) = hosts();
        // Two connections, each with 8 bytes held behind a 2-byte hole.
        for (i, port) in [1000u16, 1001].into_iter().enumerate() {
            table.tcp(
                a,
                b,
                &seg(port, 100, tcp_flags::SYN, b""),
                at(i as u64 * 10),
            );
            table.tcp(
                a,
                b,
                &seg(port, 103, tcp_flags::ACK, b"hhhhhhhh"),
                at(i as u64 * 10 + 1),
            );
        }
        assert_eq!(
            table.global_overflows, 1,
            "the second connection passes the cap"
        );
        let closed = table.finish().0;
        assert_eq!(closed.len(), 2);
        // Both holes end as 2-byte gaps: the second at once, the first at the end.
        assert!(closed.iter().all(|(_, gaps)| *gaps == 2));
        assert_eq!(closed[1].0.streams[0].buffer_overflows, 1);
    }

    #[test]
    fn a_syn_flood_does_not_grow_the_table_past_its_cap() {
        let mut table = table_with(|l| l.max_open = 100);
        let (a, b) = hosts();
        // 50 real connections stay open throughout...
        for port in 0..50u16 {
            let f = u64::from(port) * 3;
            table.tcp(a, b, &seg(port, 7, tcp_flags::SYN, b""), at(f));
            let mut synack = seg(80, 9, tcp_flags::SYN | tcp_flags::ACK, b"");
            (synack.src_port, synack.dst_port) = (80, port);
            table.tcp(b, a, &synack, at(f + 1));
            table.tcp(a, b, &seg(port, 8, tcp_flags::ACK, b"GET"), at(f + 2));
        }
        // ...while 10,000 spoofed SYNs arrive, each from its own port.
        for i in 0..10_000u64 {
            let port = 1000 + i as u16;
            table.tcp(a, b, &seg(port, 1, tcp_flags::SYN, b""), at(200 + i));
            assert!(
                table.open_conversations() <= 101,
                "table grew to {}",
                table.open_conversations()
            );
        }
        assert!(table.evicted_early >= 9_900);
        assert_eq!(table.conversations_seen(), 10_050);
        let closed = table.finish().0;
        assert_eq!(closed.len(), 10_050, "every conversation is reported once");
        let open = closed
            .iter()
            .filter(|(c, _)| c.state == State::Open)
            .count();
        assert_eq!(open, 50, "the open connections were not evicted");
    }

    #[test]
    fn open_conversations_past_twice_the_cap_leave_least_active_first() {
        let mut table = table_with(|l| l.max_open = 100);
        let (a, b) = hosts();
        for port in 0..1000u16 {
            // Mid-stream data, no SYN: open conversations.
            table.tcp(
                a,
                b,
                &seg(port, 5, tcp_flags::ACK, b"x"),
                at(u64::from(port)),
            );
        }
        assert!(table.open_conversations() <= 200);
        assert!(table.evicted_early >= 800);
        let closed = table.finish().0;
        assert_eq!(closed.len(), 1000, "every conversation is reported once");
        // The last ones seen are the ones that stayed to the end.
        let survivors: Vec<u64> = closed.iter().rev().take(100).map(|(c, _)| c.id).collect();
        assert!(survivors.iter().all(|&id| id >= 800), "{survivors:?}");
    }
}
