//! One function per view type, for the share view (README, "Redacted
//! sharing"): the web layer loads what the owner would see, passes it
//! through the function for its view with the share link's [`Redactor`],
//! and renders the result with the same templates and JSON.
//!
//! - conversation table: [`conversation_row`] on every row;
//! - HTTP exchange table: [`exchange_row`] on every row;
//! - followed stream (text and base64): [`stream`] on the whole view;
//! - hex of a packet, and any per-packet bytes: [`conversation_packets`];
//! - per-conversation pcap download: [`export_pcap`], or [`ExportScan`]
//!   over a store walked twice;
//! - DNS lookup table: [`dns_row`] on every row;
//! - the capture summary of the overview: [`capture_doc`];
//! - free text that may name addresses (warnings, tunnel endpoints,
//!   verdicts): [`text`].
//!
//! Rows keep every number (lengths, times, statuses, verdicts), so sorting
//! and filtering by them answer as for the owner. Filters by address or
//! URI must be applied to the original rows, before redaction, or they
//! would let a viewer probe for the real values: a share view should offer
//! only the owner's saved filter (the link's URL state).

use std::io::Write;
use std::net::SocketAddr;

use super::http_mask::{mask_query, HttpMasker};
use super::rewrite::{Masks, Scanner};
use super::{Redactor, FILL};
use crate::analysis::follow::{self, ChunkKind, PcapExport, StreamView};
use crate::analysis::report::{CaptureDoc, ConversationRow, DnsRow, ExchangeRow};
use crate::flow::PacketInfo;
use crate::pcap::at_offset::RecordFile;
use crate::pcap::LinkType;

/// A conversation row: client and server addresses pseudonymised (ports
/// kept); every count and time unchanged.
pub fn conversation_row(r: &Redactor, row: &mut ConversationRow) {
    row.client = r.socket(row.client);
    row.server = r.socket(row.server);
    if let Some(tunnel) = row.tunnel.as_mut() {
        *tunnel = r.tunnel_path(tunnel);
    }
}

/// A DNS lookup row: the asking and answering sockets, the addresses in
/// the answers and the address a reverse (`in-addr.arpa`, `ip6.arpa`)
/// name spells, pseudonymised like every other address; counts, codes and
/// times unchanged.
pub fn dns_row(r: &Redactor, row: &mut DnsRow) {
    row.client = r.socket(row.client);
    row.server = r.socket(row.server);
    row.answers = text(r, &row.answers);
    if r.profile().pseudonymise_addresses {
        row.name = reverse_name(r, &row.name);
    }
}

/// A reverse-lookup name with its address pseudonymised (IPv4), or its
/// nibbles masked (IPv6, and anything unreadable under those zones).
fn reverse_name(r: &Redactor, name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('.');
    if let Some(spelled) = trimmed.strip_suffix(".in-addr.arpa") {
        let mut octets: Vec<&str> = spelled.split('.').collect();
        octets.reverse();
        if let Ok(ip) = octets.join(".").parse::<std::net::Ipv4Addr>() {
            let o = match r.ip(ip.into()) {
                std::net::IpAddr::V4(v4) => v4.octets(),
                std::net::IpAddr::V6(_) => return mask_labels(name, ".in-addr.arpa"),
            };
            return format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]);
        }
        return mask_labels(name, ".in-addr.arpa");
    }
    if trimmed.ends_with(".ip6.arpa") {
        return mask_labels(name, ".ip6.arpa");
    }
    name.to_string()
}

/// `name` with everything before `zone` masked, lengths kept.
fn mask_labels(name: &str, zone: &str) -> String {
    let keep = name.to_ascii_lowercase().rfind(zone).unwrap_or(name.len());
    let masked: String = name[..keep]
        .chars()
        .map(|c| if c == '.' { '.' } else { char::from(FILL) })
        .collect();
    format!("{masked}{}", &name[keep..])
}

/// The capture summary of the overview and its JSON: warnings may quote
/// addresses; every count, time and histogram bucket is kept.
pub fn capture_doc(r: &Redactor, doc: &mut CaptureDoc) {
    for w in &mut doc.capture.warnings {
        *w = text(r, w);
    }
}

/// Free text with every IP address (and `address:port`) in it shown as
/// the redactor shows addresses.
pub fn text(r: &Redactor, s: &str) -> String {
    if !r.profile().pseudonymise_addresses {
        return s.to_string();
    }
    let is_addr_char = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(is_addr_char) {
        out.push_str(&rest[..start]);
        let run_len = rest[start..]
            .find(|c: char| !is_addr_char(c))
            .unwrap_or(rest.len() - start);
        let run = &rest[start..start + run_len];
        out.push_str(&address_run(r, run).unwrap_or_else(|| run.to_string()));
        rest = &rest[start + run_len..];
    }
    out.push_str(rest);
    out
}

/// A run of address characters as the redactor shows it, when it is an
/// address (`10.0.0.1`, `10.0.0.1:80`, `fe80::1`; a sentence's full stop
/// or colon after it stays).
fn address_run(r: &Redactor, run: &str) -> Option<String> {
    let body = run.trim_end_matches(['.', ':']);
    let tail = &run[body.len()..];
    let looks_like = body.bytes().any(|b| b.is_ascii_digit())
        && (body.matches('.').count() == 3 || body.matches(':').count() >= 2);
    if !looks_like {
        return None;
    }
    if let Ok(ip) = body.parse() {
        return Some(format!("{}{tail}", r.ip(ip)));
    }
    if let Ok(sock) = body.parse::<SocketAddr>() {
        return Some(format!("{}{tail}", r.socket(sock)));
    }
    None
}

/// A part of a followed stream that starts at the conversation's `from`th
/// packet: from the first packet it is masked as [`stream`] masks it;
/// from a later one the HTTP framing is unknown, so a profile that masks
/// payload masks all of it.
pub fn stream_part(r: &Redactor, view: &mut StreamView, from: u64) {
    if from == 0 {
        return stream(r, view);
    }
    if r.profile().touches_payload() {
        for chunk in &mut view.chunks {
            chunk.bytes.fill(FILL);
        }
    }
}

/// An exchange row: addresses pseudonymised, query values masked, and a
/// Host naming an IP address pseudonymised like the address columns.
pub fn exchange_row(r: &Redactor, row: &mut ExchangeRow) {
    row.client = r.socket(row.client);
    row.server = r.socket(row.server);
    if r.profile().mask_query {
        if let Some(uri) = row.uri.as_mut() {
            *uri = mask_query(uri, FILL);
        }
    }
    if let Some(host) = row.host.as_mut() {
        if let Some(pseudonym) = host_pseudonym(r, host) {
            *host = pseudonym;
        }
    }
    row.verdict = text(r, &row.verdict);
}

/// An endpoint row: a Host naming an IP address pseudonymised like the
/// exchanges' (templates come from paths, which exchange rows keep).
pub fn endpoint_row(r: &Redactor, row: &mut crate::analysis::report::EndpointRow) {
    if let Some(host) = row.host.as_mut() {
        if let Some(pseudonym) = host_pseudonym(r, host) {
            *host = pseudonym;
        }
    }
}

/// The endpoints' heatmap and lines: the lines' hosts as in [`endpoint_row`].
pub fn endpoint_timeline(r: &Redactor, timeline: &mut crate::analysis::endpoints::Timeline) {
    for series in &mut timeline.series {
        if let Some(host) = series.host.as_mut() {
            if let Some(pseudonym) = host_pseudonym(r, host) {
                *host = pseudonym;
            }
        }
    }
}

/// A Host value that names an IP address, as the redactor shows it.
fn host_pseudonym(r: &Redactor, host: &str) -> Option<String> {
    if !r.profile().pseudonymise_addresses {
        return None;
    }
    if let Ok(ip) = host.parse() {
        return Some(r.ip(ip).to_string());
    }
    if let Ok(sock) = host.parse::<SocketAddr>() {
        return Some(r.socket(sock).to_string());
    }
    let inner = host.strip_prefix('[')?.strip_suffix(']')?;
    let ip = inner.parse::<std::net::Ipv6Addr>().ok()?;
    Some(format!("[{}]", r.ip(ip.into())))
}

/// A followed stream: HTTP heads and bodies masked in place, same length,
/// both directions scanned in delivery order; after a gap a direction is
/// masked whole (its framing is lost).
pub fn stream(r: &Redactor, view: &mut StreamView) {
    let profile = r.profile();
    if !profile.touches_payload() {
        return;
    }
    let mut masker = HttpMasker::default();
    for chunk in &view.chunks {
        match chunk.kind {
            ChunkKind::Data => masker.data(profile, chunk.dir, &chunk.bytes),
            ChunkKind::Gap => masker.gap(profile, chunk.dir, chunk.len),
            ChunkKind::Fin | ChunkKind::Reset => {}
        }
    }
    let mut offsets = [0u64; 2];
    for chunk in &mut view.chunks {
        let at = &mut offsets[chunk.dir.index()];
        match chunk.kind {
            ChunkKind::Data => {
                masker.masks(chunk.dir).apply(*at, &mut chunk.bytes, FILL);
                *at += chunk.bytes.len() as u64;
            }
            ChunkKind::Gap => *at += chunk.len,
            ChunkKind::Fin | ChunkKind::Reset => {}
        }
    }
}

/// Pass one over a conversation's packets (in capture order): what to
/// mask in them. Unreadable records are skipped, as the stream view does.
fn scan<'r>(r: &'r Redactor, file: &RecordFile, packets: &[PacketInfo]) -> Masks<'r> {
    let mut scanner = Scanner::new(r);
    let mut buf = Vec::new();
    for p in packets {
        if let Ok(rec) = file.read_at(p.offset, &mut buf) {
            scanner.frame(rec.link_type, &buf[..rec.caplen]);
        }
    }
    scanner.finish()
}

/// Every packet of a conversation, redacted, handed to `each` in capture
/// order with its link type (for a hex view or a packet list with bytes).
/// A record that cannot be read back is an error, as for the owner.
pub fn conversation_packets(
    r: &Redactor,
    file: &RecordFile,
    packets: &[PacketInfo],
    each: &mut dyn FnMut(&PacketInfo, LinkType, &[u8]),
) -> follow::Result<()> {
    let mut masks = scan(r, file, packets);
    let mut buf = Vec::new();
    for p in packets {
        let rec = file.read_at(p.offset, &mut buf)?;
        let bytes = &mut buf[..rec.caplen];
        masks.redact_frame(rec.link_type, bytes);
        each(p, rec.link_type, bytes);
    }
    Ok(())
}

/// The per-conversation pcap download, redacted: the same file as
/// `PcapExport` writes, with every packet rewritten by the redactor
/// (addresses, masked payload, fixed checksums; lengths and times kept).
/// For packets already in memory; [`ExportScan`] walks them twice instead.
pub fn export_pcap(
    r: &Redactor,
    file: RecordFile,
    packets: &[PacketInfo],
    out: &mut dyn Write,
) -> follow::Result<()> {
    let mut scan = ExportScan::new(r, file);
    for p in packets {
        scan.packet(p);
    }
    let mut export = scan.export(out);
    for p in packets {
        export.packet(p)?;
    }
    export.finish()
}

/// The redacted per-conversation pcap without holding the conversation's
/// packet list: pass one hands every packet (in capture order) to
/// [`ExportScan::packet`], pass two the same packets again to
/// [`RedactedPcap::packet`], so a caller walks its store twice.
pub struct ExportScan<'r> {
    scanner: Scanner<'r>,
    file: RecordFile,
    buf: Vec<u8>,
}

impl<'r> ExportScan<'r> {
    pub fn new(r: &'r Redactor, file: RecordFile) -> ExportScan<'r> {
        ExportScan {
            scanner: Scanner::new(r),
            file,
            buf: Vec::new(),
        }
    }

    /// Pass one: what to mask in this packet (an unreadable record is
    /// skipped here and is an error in pass two, as for the owner).
    pub fn packet(&mut self, p: &PacketInfo) {
        if let Ok(rec) = self.file.read_at(p.offset, &mut self.buf) {
            self.scanner.frame(rec.link_type, &self.buf[..rec.caplen]);
        }
    }

    /// Pass two's writer, to `out`.
    pub fn export(self, out: &mut dyn Write) -> RedactedPcap<'r, '_> {
        RedactedPcap {
            masks: self.scanner.finish(),
            export: PcapExport::new(self.file, out),
        }
    }
}

/// Pass two of [`ExportScan`]: writes each packet redacted.
pub struct RedactedPcap<'r, 'w> {
    masks: Masks<'r>,
    export: PcapExport<'w>,
}

impl RedactedPcap<'_, '_> {
    pub fn packet(&mut self, p: &PacketInfo) -> follow::Result<()> {
        let masks = &mut self.masks;
        self.export
            .packet_edited(p, &mut |link, bytes| masks.redact_frame(link, bytes))
    }

    pub fn finish(self) -> follow::Result<()> {
        self.export.finish()
    }
}

#[cfg(test)]
mod test {
    use super::super::{Profile, ProfileName};
    use super::*;
    use crate::analysis::follow::StreamChunk;
    use crate::flow::Dir;
    use crate::time::Timestamp;

    fn redactor(name: ProfileName) -> Redactor {
        Redactor::new(Profile::named(name), &[3; 32])
    }

    #[test]
    fn rows_keep_numbers_and_lose_addresses_and_query_values() {
        let r = redactor(ProfileName::Strict);
        let mut row = ConversationRow::example();
        let before = row.clone();
        conversation_row(&r, &mut row);
        assert_ne!(row.client.ip(), before.client.ip());
        assert_eq!(row.client.port(), before.client.port());
        assert_eq!(row.server, r.socket(before.server));
        assert_eq!(
            (row.bytes(), row.duration),
            (before.bytes(), before.duration)
        );

        let mut ex = ExchangeRow {
            uri: Some("/login?token=SECRET".into()),
            host: Some("10.1.2.3:8080".into()),
            status: Some(200),
            ..ExchangeRow::default()
        };
        exchange_row(&r, &mut ex);
        assert_eq!(ex.uri.as_deref(), Some("/login?token=xxxxxx"));
        let want = r.socket("10.1.2.3:8080".parse().unwrap()).to_string();
        assert_eq!(ex.host.as_deref(), Some(want.as_str()));
        assert_eq!(ex.status, Some(200));

        let mut named = ExchangeRow {
            host: Some("example.com".into()),
            ..ExchangeRow::default()
        };
        exchange_row(&redactor(ProfileName::Headers), &mut named);
        assert_eq!(named.host.as_deref(), Some("example.com"));
    }

    #[test]
    fn dns_rows_and_text_lose_addresses() {
        let r = redactor(ProfileName::Strict);
        let mut row = DnsRow {
            client: "10.0.0.1:5353".parse().unwrap(),
            server: "10.0.0.53:53".parse().unwrap(),
            name: "4.3.2.1.in-addr.arpa".into(),
            answers: "A 10.9.8.7; AAAA fd00::7; CNAME www.example.com".into(),
            response_time: Some(crate::time::Span::from_nanos(1234)),
            ..DnsRow::default()
        };
        dns_row(&r, &mut row);
        let text_of = |ip: &str| r.ip(ip.parse().unwrap()).to_string();
        assert_eq!(row.server.port(), 53);
        assert_ne!(row.server.ip().to_string(), "10.0.0.53");
        let o = text_of("1.2.3.4");
        let rev: Vec<&str> = o.split('.').rev().collect();
        assert_eq!(row.name, format!("{}.in-addr.arpa", rev.join(".")));
        assert_eq!(
            row.answers,
            format!(
                "A {}; AAAA {}; CNAME www.example.com",
                text_of("10.9.8.7"),
                text_of("fd00::7")
            )
        );
        assert_eq!(row.response_time, Some(crate::time::Span::from_nanos(1234)));

        let said = text(&r, "gre 10.1.1.1 → [fd00::1]:80, then 10.1.1.2:443.");
        assert!(
            !said.contains("10.1.1.") && !said.contains("fd00::1"),
            "{said}"
        );
        assert!(said.ends_with(":443."), "{said}");
        assert_eq!(
            text(&r, "retransmitted 3 of 10 (1.5 s), ::"),
            "retransmitted 3 of 10 (1.5 s), ::"
        );
        let kept = redactor(ProfileName::Headers);
        assert_eq!(text(&kept, "10.1.1.1"), "10.1.1.1");
        assert_eq!(
            mask_labels("1.0.0.f.ip6.arpa", ".ip6.arpa"),
            "x.x.x.x.ip6.arpa"
        );
    }

    #[test]
    fn streams_are_masked_in_place_across_chunks() {
        let chunk = |dir, bytes: &[u8]| StreamChunk {
            kind: ChunkKind::Data,
            dir,
            ts: Timestamp::ZERO,
            frame: 0,
            len: bytes.len() as u64,
            bytes: bytes.to_vec(),
            tls: None,
        };
        let mut view = StreamView {
            conversation: 1,
            max_bytes_per_dir: 1 << 20,
            bytes_c2s: 0,
            bytes_s2c: 0,
            truncated: false,
            unreadable_packets: 0,
            chunks: vec![
                chunk(Dir::ToServer, b"GET / HTTP/1.1\r\nCookie: ses"),
                chunk(Dir::ToServer, b"sion=SECRET2\r\n\r\n"),
                chunk(
                    Dir::ToClient,
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                ),
            ],
            decrypted_records: None,
            tls_note: None,
        };
        stream(&redactor(ProfileName::Strict), &mut view);
        let text: Vec<&[u8]> = view.chunks.iter().map(|c| &c.bytes[..]).collect();
        assert_eq!(text[0], b"GET / HTTP/1.1\r\nCookie: xxx");
        assert_eq!(text[1], b"xxxxxxxxxxxx\r\n\r\n");
        assert!(text[2].ends_with(b"\r\n\r\nxx"));
    }
}
