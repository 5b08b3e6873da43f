//! One conversation's page: its numbers, the ladder diagram and waterfall
//! of its HTTP exchanges with their verdicts, the packet list, and the
//! followed stream (text with non-printable bytes escaped, or hex).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;

use super::status_class;
use crate::analysis::follow::{ChunkKind, StreamChunk};
use crate::analysis::report::ConversationRow;
use crate::flow::{Dir, PacketInfo, WindowScale};
use crate::store::{CaptureId, ExchangeRow, HttpQuery};
use crate::time::Timestamp;
use crate::web::error::Error;
use crate::web::extract::{Checked, ConvNumber, Filtered, FromQuery};
use crate::web::fmt::{self, hex_lines, text_pieces, Human, Piece};
use crate::web::kit::{self, CapHead, Pager, Query};
use crate::web::lists::wait_word;
use crate::web::params::{ParamError, Params};
use crate::web::svg::{self, Rung, Svg};
use crate::web::{blocking, AppState};

/// Bytes of each direction the page shows at most (the pcap has all).
const PAGE_STREAM_MAX: usize = 256 << 10;
/// A data run longer than this shows its start and folds the rest.
const FOLD_AFTER: usize = 2048;
/// Packets per page of the packet list.
const PACKETS_PER_PAGE: u32 = 200;
/// Exchanges shown on the page.
const EXCHANGES_SHOWN: u32 = 100;

/// One run of the followed stream.
pub struct ChunkView {
    /// c2s, s2c, gap, fin, reset.
    pub class: &'static str,
    pub head: String,
    pub when: Human,
    pub text: Vec<Piece>,
    pub hex: Vec<String>,
    /// What is folded away: text pieces or hex lines, and its size.
    pub more_text: Vec<Piece>,
    pub more_hex: Vec<String>,
    pub more: Option<Human>,
}

fn chunk_view(c: &StreamChunk, start: Option<Timestamp>, hex: bool) -> ChunkView {
    let (side, class) = match c.dir {
        Dir::ToServer => ("client → server", "c2s"),
        Dir::ToClient => ("server → client", "s2c"),
    };
    let who = match c.dir {
        Dir::ToServer => "client",
        Dir::ToClient => "server",
    };
    let when = fmt::rel(&Some(c.ts), &start);
    let frame = c.frame + 1;
    let mut v = ChunkView {
        class,
        head: String::new(),
        when,
        text: Vec::new(),
        hex: Vec::new(),
        more_text: Vec::new(),
        more_hex: Vec::new(),
        more: None,
    };
    match c.kind {
        ChunkKind::Data => {
            v.head = format!("{side} · {} · frame {frame}", fmt::bytes(&c.len));
            if let Some(r) = &c.tls {
                v.head.push_str(&format!(
                    " · decrypted from {} TLS record{} (stream offset {}–{}, frames {}–{}, \
                     last at {})",
                    r.records,
                    if r.records == 1 { "" } else { "s" },
                    r.offset,
                    r.end,
                    r.frame + 1,
                    r.end_frame + 1,
                    fmt::rel(&Some(r.end_ts), &start),
                ));
            }
            let (head, rest) = if c.bytes.len() > FOLD_AFTER {
                // Fold at a line end near the limit when there is one.
                let cut = c.bytes[..FOLD_AFTER]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .filter(|&p| p > FOLD_AFTER / 2)
                    .map_or(FOLD_AFTER, |p| p + 1);
                c.bytes.split_at(cut)
            } else {
                (&c.bytes[..], &[][..])
            };
            if hex {
                v.hex = hex_lines(head, 0);
                v.more_hex = hex_lines(rest, head.len());
            } else {
                v.text = text_pieces(head);
                v.more_text = text_pieces(rest);
            }
            if !rest.is_empty() {
                v.more = Some(fmt::bytes(&(rest.len() as u64)));
            }
            if (c.bytes.len() as u64) < c.len {
                v.head.push_str(&format!(
                    " · only the first {} kept",
                    fmt::bytes(&(c.bytes.len() as u64))
                ));
            }
        }
        ChunkKind::Gap => {
            v.class = "gap";
            v.head = format!(
                "{side} · {} missing from the capture · frame {frame}",
                fmt::bytes(&c.len)
            );
        }
        ChunkKind::Fin => {
            v.class = "fin";
            v.head = format!("{who} closed its side (FIN) · frame {frame}");
        }
        ChunkKind::Reset => {
            v.class = "reset";
            v.head = format!("{who} reset the connection (RST) · frame {frame}");
        }
    }
    v
}

/// One packet of the list.
pub struct PacketRow {
    pub n: String,
    pub time: Human,
    pub delta: Human,
    pub arrow: &'static str,
    pub class: String,
    pub flags: String,
    pub seq: String,
    pub ack: String,
    pub seq_full: String,
    pub len: String,
    pub size: String,
    /// The calculated window (Wireshark's `tcp.window_size`).
    pub win: String,
    /// How it was calculated: the raw field and the scale, in words.
    pub win_title: String,
    pub note: String,
}

/// How a packet's shown window came from its header, for hover text.
fn window_title(p: &PacketInfo) -> String {
    match (p.window_scale.multiplier(), p.tcp_flags & 0x02 != 0) {
        (Some(m), false) => format!("window field {} × scale {m}", p.window),
        (_, true) => format!("window field {}: a SYN's window is never scaled", p.window),
        (None, false) => format!("window field {}; {}", p.window, p.window_scale.words()),
    }
}

/// Each side's window scale, in words, as the conversation's facts show
/// it: from the last of `packets` each side sent.
fn window_scales(packets: &[PacketInfo]) -> String {
    let last = |dir: Dir| {
        packets
            .iter()
            .rev()
            .find(|p| p.dir == dir)
            .map(|p| p.window_scale)
    };
    match (last(Dir::ToServer), last(Dir::ToClient)) {
        (Some(c), Some(s)) if c == s && c.multiplier().is_none() => c.words(),
        (c, s) => {
            let side = |name: &str, w: Option<WindowScale>| match w {
                Some(w) => match w.multiplier() {
                    Some(m) => format!("{name} ×{m}"),
                    None => format!("{name}: {}", w.words()),
                },
                None => format!("{name}: sent nothing"),
            };
            format!("{} · {}", side("client", c), side("server", s))
        }
    }
}

/// `SYN ACK`-style names of TCP flags.
pub fn flag_names(f: u8) -> String {
    const NAMES: [(u8, &str); 8] = [
        (0x02, "SYN"),
        (0x10, "ACK"),
        (0x08, "PSH"),
        (0x01, "FIN"),
        (0x04, "RST"),
        (0x20, "URG"),
        (0x40, "ECE"),
        (0x80, "CWR"),
    ];
    NAMES
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Packet rows with relative times, deltas and relative sequence numbers
/// (from each side's first sequence number, as Wireshark shows them).
fn packet_rows(
    items: &[PacketInfo],
    start: Option<Timestamp>,
    tcp: bool,
    isn: [Option<u32>; 2],
    mut prev: Option<Timestamp>,
) -> Vec<PacketRow> {
    let mut out = Vec::with_capacity(items.len());
    // Per side: its last window was zero (the next one reopening it is
    // noted, as Wireshark's "TCP Window Update").
    let mut closed = [false; 2];
    for p in items {
        let d = p.dir.index();
        let delta = match (p.ts, prev) {
            (Some(t), Some(q)) => fmt::span(&t.since(q)),
            _ => fmt::dur(&None),
        };
        prev = p.ts.or(prev);
        let c2s = p.dir == Dir::ToServer;
        let mut class = String::from(if c2s { "c2s" } else { "s2c" });
        let f = p.tcp_flags;
        let mut note = String::new();
        if tcp {
            if f & 0x04 != 0 {
                class.push_str(" rst");
            } else if f & 0x02 != 0 {
                class.push_str(" syn");
            } else if f & 0x01 != 0 {
                class.push_str(" fin");
            }
        }
        if p.retransmission {
            class.push_str(" retrans");
            note = "retransmission".into();
        } else if tcp && p.window == 0 && f & 0x04 == 0 {
            note = "zero window: the receiver can take no more".into();
            closed[d] = true;
        } else if tcp && f & 0x04 == 0 && std::mem::take(&mut closed[d]) {
            note = format!("window open again: {} bytes", p.window_size);
        }
        let rel = |v: u32, base: Option<u32>| base.map_or(v, |b| v.wrapping_sub(b));
        let (seq, ack) = if tcp {
            (
                rel(p.seq, isn[d]).to_string(),
                if f & 0x10 != 0 {
                    rel(p.ack, isn[1 - d]).to_string()
                } else {
                    String::new()
                },
            )
        } else {
            (String::new(), String::new())
        };
        out.push(PacketRow {
            // A frame number is a name, as in Wireshark: "1422", no separator.
            n: (p.frame + 1).to_string(),
            time: fmt::rel(&p.ts, &start),
            delta,
            arrow: if c2s { "→" } else { "←" },
            class,
            flags: if tcp { flag_names(f) } else { "UDP".into() },
            seq,
            ack,
            seq_full: if tcp {
                format!("raw seq {} ack {}", p.seq, p.ack)
            } else {
                String::new()
            },
            len: fmt::count(&u64::from(p.payload_len)),
            size: fmt::count(&u64::from(p.orig_len)),
            win: if tcp {
                p.window_size.to_string()
            } else {
                String::new()
            },
            win_title: if tcp { window_title(p) } else { String::new() },
            note,
        });
    }
    out
}

/// One exchange of the conversation, with its waterfall and verdict.
pub struct ExchangeView {
    pub e: ExchangeRow,
    pub line: String,
    pub status: String,
    pub status_class: &'static str,
    pub wait: &'static str,
    pub waterfall: Svg,
    pub at: Human,
    pub total: Human,
    pub server: Human,
    pub req_body: Human,
    pub resp_body: Human,
    pub notes: Vec<String>,
}

fn exchange_view(e: ExchangeRow, start: Option<Timestamp>) -> ExchangeView {
    let x = &e.row;
    let line = format!(
        "{} {} {}",
        x.method.as_deref().unwrap_or("(no request seen)"),
        x.uri.as_deref().unwrap_or(""),
        x.version.as_deref().unwrap_or("")
    )
    .trim()
    .to_string();
    let status = match x.status {
        Some(s) => format!("{s} {}", x.reason.as_deref().unwrap_or(""))
            .trim()
            .to_string(),
        None => "no response".into(),
    };
    let mut notes = Vec::new();
    if !x.interim.is_empty() {
        let codes: Vec<String> = x.interim.iter().map(u16::to_string).collect();
        notes.push(format!("interim responses: {}", codes.join(", ")));
    }
    if x.interrupted {
        notes.push("cut short: a message ended before its framing said it would".into());
    }
    if x.has_gap {
        notes.push("bytes are missing from the capture in this exchange".into());
    }
    let frames = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if a != b => format!("frames {}–{}", a + 1, b + 1),
        (Some(a), _) => format!("frame {}", a + 1),
        _ => String::new(),
    };
    let rf = frames(x.request_first_frame, x.request_last_frame);
    let sf = frames(x.response_first_frame, x.response_last_frame);
    if !rf.is_empty() || !sf.is_empty() {
        notes.push(format!(
            "request in {}; response in {}",
            if rf.is_empty() { "–".into() } else { rf },
            if sf.is_empty() { "–".into() } else { sf }
        ));
    }
    ExchangeView {
        waterfall: svg::waterfall(x),
        at: fmt::rel(&x.request_start, &start),
        total: fmt::dur(&x.total_time),
        server: fmt::dur(&x.server_time),
        req_body: fmt::bytes(&x.request_body_bytes),
        resp_body: fmt::bytes(&x.response_body_bytes),
        status_class: status_class(x.status),
        wait: wait_word(x.wait, x.total_time),
        line,
        status,
        notes,
        e,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "conversation.html")]
pub struct ConversationPage {
    head: CapHead,
    r: ConversationRow,
    start: Human,
    duration: Human,
    rtt: Human,
    /// ClientHello → server Finished (the TLS section).
    tls_handshake: Human,
    bytes_c2s: Human,
    bytes_s2c: Human,
    payload_c2s: Human,
    payload_s2c: Human,
    pcap: String,
    exchanges: Vec<ExchangeView>,
    exchanges_total: u64,
    exchanges_href: String,
    /// The pcap-filter expression of the analysis shown, if any.
    filter: String,
    unfiltered: String,
    filtered_list: String,
    ladder: Svg,
    /// The same ladder drawn for a phone's width.
    ladder_phone: Svg,
    /// Each side's window scale, in words (empty for UDP).
    window_scale: String,
    /// The HTTP/2 streams' waterfall (empty for HTTP/1).
    streams: Svg,
    packets: Vec<PacketRow>,
    packets_pager: Pager,
    chunks: Vec<ChunkView>,
    hex: bool,
    text_href: String,
    hex_href: String,
    stream_note: String,
    /// The next part of a stream too long for one page, if any.
    stream_next: String,
    /// The other way to see a TLS stream: (link, label), decrypted or raw.
    tls_switch: Option<(String, &'static str)>,
}

/// The names the page takes (read after the filtered view is resolved,
/// so a running analysis is answered before a bad page number).
pub struct PageParams(Params);

impl FromQuery for PageParams {
    const NAMES: &'static [&'static str] = &["offset", "limit", "view", "filter", "stream", "tls"];
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(PageParams(p.clone()))
    }
}

/// `GET /c/ID/conversations/N`.
pub async fn conversation(
    State(state): State<AppState>,
    id: CaptureId,
    ConvNumber(n): ConvNumber,
    Checked(PageParams(p)): Checked<PageParams>,
    Filtered { results, fbox }: Filtered,
) -> Result<axum::response::Response, kit::PageError> {
    let Some(v) = results else {
        if fbox.compute.is_some() || fbox.pending.is_some() {
            return Ok(crate::web::reanalysis::waiting_page(&id, n, fbox));
        }
        let why = fbox
            .error
            .or(fbox.pending)
            .unwrap_or_else(|| "the filtered analysis is not ready".into());
        return Err(Error::Conflict(why).into());
    };
    let filter = fbox.text.trim().to_string();
    let (limit, offset) = p.page(PACKETS_PER_PAGE).map_err(Error::from)?;
    let hex = match p.get("view") {
        None | Some("text") => false,
        Some("hex") => true,
        Some(_) => return Err(Error::BadRequest("view must be 'text' or 'hex'".into()).into()),
    };
    let stream_from = p
        .whole("stream", 0, i64::MAX as u64)
        .map_err(Error::from)?
        .unwrap_or(0);
    let raw_tls = crate::web::keylog::raw_records(&p).map_err(Error::from)?;
    let keys = crate::web::keylog::for_follow(&state, id, (v, n), raw_tls).await?;
    let (meta, r, http, packets, first_packets, stream) = blocking(&state, move |s| {
        let meta = s.capture(&id)?;
        let id = v;
        let r = s.conversation(&id, n)?;
        let http = s.exchanges(
            &id,
            &HttpQuery {
                limit: EXCHANGES_SHOWN,
                ..HttpQuery::default()
            }
            .equal_to("conversation", n),
        )?;
        // The page of the list; the packet before it (for the first delta);
        // and the first packets, for sequence bases and the ladder.
        let page = s.packets(&id, n, limit.saturating_add(1), offset.saturating_sub(1))?;
        let first = if offset == 0 {
            page.items.clone()
        } else {
            s.packets(&id, n, 64, 0)?.items
        };
        let stream = crate::web::follow::stream(s, &id, n, stream_from, PAGE_STREAM_MAX, keys)?;
        Ok((meta, r, http, page, first, stream))
    })
    .await?;
    let start = r.start;
    let tcp = r.proto == crate::flow::Proto::Tcp;
    let mut isn = [None, None];
    for p in &first_packets {
        let d = p.dir.index();
        if isn[d].is_none()
            && (p.tcp_flags & 0x02 != 0 || p.payload_len > 0 || p.tcp_flags & 0x10 != 0)
        {
            isn[d] = Some(p.seq);
        }
    }
    let (before, page_items): (Option<Timestamp>, &[PacketInfo]) = if offset > 0 {
        match packets.items.split_first() {
            Some((b, rest)) => (b.ts, &rest[..rest.len().min(limit as usize)]),
            None => (None, &[][..]),
        }
    } else {
        (
            None,
            &packets.items[..packets.items.len().min(limit as usize)],
        )
    };
    let base = format!("/c/{id}");
    let path = format!("{base}/conversations/{n}");
    let mut q = Query::default();
    q.push("filter", filter.as_str());
    if hex {
        q.push("view", "hex");
    }
    if limit != PACKETS_PER_PAGE {
        q.push("limit", limit.to_string());
    }
    if offset > 0 {
        q.push("offset", offset.to_string());
    }
    if stream_from > 0 {
        q.push("stream", stream_from.to_string());
    }
    if raw_tls {
        q.push("tls", "raw");
    }
    let packets_pager = Pager::new(&q, &path, offset, limit, page_items.len(), packets.total);
    let mut rungs: Vec<Rung> = Vec::new();
    if tcp {
        // The first of each kind per side: RST, SYN, FIN, a zero window,
        // and the window opening again after it.
        let mut seen = [[false; 5]; 2];
        let mut closed = [false; 2];
        for p in &first_packets {
            let f = p.tcp_flags;
            let d = p.dir.index();
            let kind = if f & 0x04 != 0 {
                Some((0, "RST".to_string()))
            } else if f & 0x02 != 0 {
                let syn = if f & 0x10 != 0 { "SYN ACK" } else { "SYN" };
                Some((
                    1,
                    match p.window_scale.multiplier() {
                        // As Wireshark's "WS=1024": the scale of the
                        // side's later segments, not of this window.
                        Some(m) => format!("{syn} · win {} · WS ×{m}", p.window_size),
                        None => format!("{syn} · win {}", p.window_size),
                    },
                ))
            } else if f & 0x01 != 0 {
                Some((2, "FIN".to_string()))
            } else if p.window_size == 0 {
                closed[d] = true;
                Some((3, "zero window · win 0".to_string()))
            } else if std::mem::take(&mut closed[d]) {
                Some((4, format!("window open · win {}", p.window_size)))
            } else {
                None
            };
            if let (Some((k, label)), Some(at)) = (kind, p.ts) {
                if !seen[d][k] {
                    seen[d][k] = true;
                    rungs.push(Rung::Packet {
                        at,
                        from_client: p.dir == Dir::ToServer,
                        label,
                    });
                }
            }
        }
    }
    if http.items.iter().any(|e| e.row.stream_id.is_some()) {
        rungs.extend(http2_frames(&stream.view.chunks));
    }
    for e in &http.items {
        rungs.push(Rung::Exchange(Box::new(e.clone())));
    }
    let draw = |fit| {
        svg::ladder(
            &r.client.to_string(),
            &r.server.to_string(),
            start,
            rungs.clone(),
            &|x| format!("#x{x}"),
            fit,
        )
    };
    let (ladder, ladder_phone) = (draw(svg::Fit::Wide), draw(svg::Fit::Phone));
    let stream_next = match stream.next {
        Some(next) => q.href(&path, &[("stream", &next.to_string())]) + "#stream",
        None => String::new(),
    };
    let stream = stream.view;
    let chunks = stream
        .chunks
        .iter()
        .map(|c| chunk_view(c, start, hex))
        .collect();
    let mut stream_note = String::new();
    let tls_switch = if raw_tls {
        Some((q.href(&path, &[("tls", "")]) + "#stream", "decrypted"))
    } else if let Some(n) = stream.decrypted_records {
        stream_note = format!("Decrypted with the capture's key log ({n} TLS records). ");
        Some((
            q.href(&path, &[("tls", "raw")]) + "#stream",
            "raw TLS records",
        ))
    } else {
        None
    };
    if let Some(why) = &stream.tls_note {
        stream_note.push_str(why);
        stream_note.push(' ');
    }
    if stream_from > 0 {
        stream_note.push_str(&format!(
            "From packet {} of the conversation. ",
            stream_from + 1
        ));
    }
    if stream.truncated {
        stream_note = format!(
            "Only the first {} of each direction are shown; the pcap has everything.",
            fmt::bytes(&(PAGE_STREAM_MAX as u64))
        );
    }
    if stream.unreadable_packets > 0 {
        stream_note.push_str(&format!(
            " {} packets could not be read back from the stored capture.",
            stream.unreadable_packets
        ));
    }
    Ok(ConversationPage {
        head: CapHead::new(
            &id,
            &meta.name,
            "conversation",
            q.href(
                &format!("/api/captures/{id}/conversations/{n}"),
                &[("view", ""), ("limit", ""), ("offset", ""), ("stream", "")],
            ),
        )
        .keeping(&filter),
        window_scale: if tcp {
            window_scales(&first_packets)
        } else {
            String::new()
        },
        start: fmt::when(&start),
        duration: fmt::span(&r.duration),
        rtt: fmt::dur(&r.handshake_rtt),
        tls_handshake: fmt::dur(&r.tls_handshake),
        bytes_c2s: fmt::bytes(&r.bytes_c2s),
        bytes_s2c: fmt::bytes(&r.bytes_s2c),
        payload_c2s: fmt::bytes(&r.payload_c2s),
        payload_s2c: fmt::bytes(&r.payload_s2c),
        pcap: q.href(
            &format!("/api/captures/{id}/conversations/{n}/pcap"),
            &[("view", ""), ("limit", ""), ("offset", ""), ("stream", "")],
        ),
        unfiltered: format!("{base}/conversations"),
        filtered_list: q.href(
            &format!("{base}/conversations"),
            &[("view", ""), ("limit", ""), ("offset", ""), ("stream", "")],
        ),
        filter,
        exchanges_total: http.total,
        exchanges_href: q.href(
            &format!("{base}/http"),
            &[
                ("view", ""),
                ("limit", ""),
                ("offset", ""),
                ("stream", ""),
                ("conversation", &n.to_string()),
            ],
        ),
        streams: svg::streams(http.items.iter().map(|e| (e.id, &e.row))),
        exchanges: http
            .items
            .into_iter()
            .map(|e| exchange_view(e, start))
            .collect(),
        ladder,
        ladder_phone,
        packets: packet_rows(page_items, start, tcp, isn, before),
        packets_pager,
        chunks,
        text_href: q.href(&path, &[("view", "")]) + "#stream",
        hex_href: q.href(&path, &[("view", "hex")]) + "#stream",
        hex,
        stream_note: stream_note.trim().to_string(),
        stream_next,
        tls_switch,
        r,
    }
    .into_response())
}

/// Frames on the ladder: an HTTP/2 conversation's packets that complete
/// frames, labelled as in Wireshark's Info column.
fn http2_frames(chunks: &[crate::analysis::follow::StreamChunk]) -> Vec<Rung> {
    use crate::analysis::follow::ChunkKind;
    const SHOWN: usize = 40;
    let mut labeller = crate::analysis::Http2Labeller::default();
    for c in chunks {
        match c.kind {
            ChunkKind::Data => labeller.bytes(c.dir, c.ts, c.frame, &c.bytes, SHOWN),
            ChunkKind::Gap => labeller.gap(c.dir),
            ChunkKind::Fin | ChunkKind::Reset => {}
        }
    }
    labeller
        .labels
        .into_iter()
        .map(|f| Rung::Packet {
            at: f.ts,
            from_client: f.dir == Dir::ToServer,
            label: f.label,
        })
        .collect()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn flags() {
        assert_eq!(flag_names(0x12), "SYN ACK");
        assert_eq!(flag_names(0x19), "ACK PSH FIN");
        assert_eq!(flag_names(0), "");
    }
}
