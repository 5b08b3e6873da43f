//! One function per view type, for the share view (README, "Redacted
//! sharing"): the web layer loads what the owner would see, passes it
//! through the function for its view with the share link's [`Redactor`],
//! and renders the result with the same templates and JSON.
//!
//! - conversation table: [`conversation_row`] on every row;
//! - HTTP exchange table: [`exchange_row`] on every row;
//! - followed stream (text and base64): [`stream`] on the whole view;
//! - hex of a packet, and any per-packet bytes: [`conversation_packets`];
//! - per-conversation pcap download: [`export_pcap`].
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
use crate::analysis::report::{ConversationRow, ExchangeRow};
use crate::flow::PacketInfo;
use crate::pcap::at_offset::RecordFile;
use crate::pcap::LinkType;

/// A conversation row: client and server addresses pseudonymised (ports
/// kept); every count and time unchanged.
pub fn conversation_row(r: &Redactor, row: &mut ConversationRow) {
    row.client = r.socket(row.client);
    row.server = r.socket(row.server);
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
pub fn export_pcap(
    r: &Redactor,
    file: RecordFile,
    packets: &[PacketInfo],
    out: &mut dyn Write,
) -> follow::Result<()> {
    let mut masks = scan(r, &file, packets);
    let mut export = PcapExport::new(file, out);
    for p in packets {
        export.packet_edited(p, &mut |link, bytes| masks.redact_frame(link, bytes))?;
    }
    export.finish()
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
        };
        stream(&redactor(ProfileName::Strict), &mut view);
        let text: Vec<&[u8]> = view.chunks.iter().map(|c| &c.bytes[..]).collect();
        assert_eq!(text[0], b"GET / HTTP/1.1\r\nCookie: xxx");
        assert_eq!(text[1], b"xxxxxxxxxxxx\r\n\r\n");
        assert!(text[2].ends_with(b"\r\n\r\nxx"));
    }
}
