//! Following a conversation for the web: the store lists its packets and
//! names the capture file, the analysis ([`crate::analysis::follow`])
//! reads the bytes back and rebuilds the stream or writes the pcap. Kept
//! here so the store stays persistence only.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use crate::analysis::follow::{self, Ends, PcapExport, StreamBuilder, StreamView};
use crate::analysis::tls::KeyLog;
use crate::flow::Dir;
use crate::pcap::at_offset::RecordFile;
use crate::store::{self, CaptureId, Store};

/// A follow failure as the store's callers see it.
fn store_err(e: follow::Error) -> store::Error {
    match e {
        follow::Error::Write(source) => store::Error::Io {
            context: "writing pcap".into(),
            source,
        },
        other => store::Error::Corrupt(other.to_string()),
    }
}

fn record_file(store: &dyn Store, id: &CaptureId) -> store::Result<RecordFile> {
    let path = store.capture_file(id)?;
    RecordFile::open(&path).map_err(|e| store_err(e.into()))
}

/// Packets one part of a stream reads at most (each is a read of the
/// capture file, most of them bare ACKs on a bulk transfer).
pub(crate) const STREAM_PACKETS_MAX: u64 = 50_000;

/// Packets read before a part to decrypt it, at most: a part of a TLS
/// stream that starts later than this is shown as raw records, with a
/// note saying why.
pub(crate) const WARM_UP_PACKETS_MAX: u64 = 1_000_000;

/// One part of a conversation's stream: the view of the packets
/// `from..next`.
#[derive(serde::Serialize)]
pub(crate) struct StreamPart {
    #[serde(flatten)]
    pub view: StreamView,
    /// The conversation's packet this part starts at (0: the first).
    pub from: u64,
    /// Where the next part starts, when there is more.
    pub next: Option<u64>,
}

/// Both directions of a conversation reassembled from its `from`th packet
/// on, at most `max_per_dir` bytes each way. The read stops before the
/// packet that would take either direction past `max_per_dir`, or after
/// [`STREAM_PACKETS_MAX`] packets, so the work is bounded by what one part
/// shows, however long the conversation is; `next` says where to go on.
///
/// With `keys`, a TCP part that starts after the first packet is decrypted
/// too: the packets before it are read first to warm the decryptor up
/// (bounded by [`WARM_UP_PACKETS_MAX`]; past that, the part shows the
/// records as sent and its `tls_note` says why).
pub(crate) fn stream(
    store: &dyn Store,
    id: &CaptureId,
    conv: u64,
    from: u64,
    max_per_dir: usize,
    keys: Option<Arc<KeyLog>>,
) -> store::Result<StreamPart> {
    if let Some((real, r)) = store.redacting() {
        // A shared stream is never decrypted: what the key log opens stays
        // with the owner (README, "Share links").
        let mut part = stream(real, id, conv, from, max_per_dir, None)?;
        crate::redact::views::stream_part(r, &mut part.view, from);
        return Ok(part);
    }
    let row = store.conversation(id, conv)?;
    let ends = Ends {
        client: row.client,
        server: row.server,
    };
    let mut builder =
        StreamBuilder::new(record_file(store, id)?, conv, row.proto, ends, max_per_dir);
    let mut tls_note = None;
    let mut warm_up = 0;
    if let Some(keys) = keys {
        let tcp = row.proto == crate::flow::Proto::Tcp;
        if from > WARM_UP_PACKETS_MAX && tcp {
            tls_note = Some(format!(
                "This part starts {from} packets into the conversation; decrypting it \
                 would mean reading them first (at most {WARM_UP_PACKETS_MAX} are read), \
                 so its TLS records are shown as sent. The pcap download has them all."
            ));
        } else {
            builder = builder.decrypting(keys);
            if tcp {
                warm_up = from;
            }
        }
    }
    let mut fed = [0u64; 2];
    let mut read = 0u64;
    let mut more = false;
    // The stored direction of each packet read: a part that starts after
    // the handshake is rebuilt as if the capture began there, and the
    // rebuild may then take the sides the other way round.
    let mut stored_dir: HashMap<u64, Dir> = HashMap::new();
    let mut at = from - warm_up;
    builder.warming(warm_up > 0);
    store.each_packet(id, conv, from - warm_up, &mut |p| {
        if at < from {
            at += 1;
            builder.packet(p);
            return true;
        }
        if at == from && warm_up > 0 {
            builder.warming(false);
        }
        at += 1;
        let d = p.dir.index();
        let payload = u64::from(p.payload_len);
        if read >= STREAM_PACKETS_MAX || (fed[d] > 0 && fed[d] + payload > max_per_dir as u64) {
            more = true;
            return false;
        }
        fed[d] += payload;
        read += 1;
        stored_dir.insert(p.frame, p.dir);
        builder.packet(p)
    })?;
    if read == 0 {
        builder.warming(false);
    }
    let mut view = builder.finish();
    view.tls_note = tls_note;
    if from > 0 {
        let flipped = view
            .chunks
            .iter()
            .find_map(|c| stored_dir.get(&c.frame).map(|&d| d != c.dir))
            .unwrap_or(false);
        if flipped {
            for c in &mut view.chunks {
                c.dir = c.dir.reverse();
            }
            std::mem::swap(&mut view.bytes_c2s, &mut view.bytes_s2c);
        }
    }
    Ok(StreamPart {
        view,
        from,
        next: more.then_some(from + read),
    })
}

/// Writes the conversation's packets as a pcap file.
pub(crate) fn conversation_pcap(
    store: &dyn Store,
    id: &CaptureId,
    conv: u64,
    out: &mut dyn Write,
) -> store::Result<()> {
    if let Some((real, r)) = store.redacting() {
        // Two walks of the stored packet list (what to mask, then the
        // file), so a long conversation is never held in memory.
        let mut scan = crate::redact::views::ExportScan::new(r, record_file(real, id)?);
        real.each_packet(id, conv, 0, &mut |p| {
            scan.packet(p);
            true
        })?;
        let mut export = scan.export(out);
        try_each_packet(real, id, conv, &mut |p| export.packet(p))?;
        return export.finish().map_err(store_err);
    }
    let mut export = PcapExport::new(record_file(store, id)?, out);
    try_each_packet(store, id, conv, &mut |p| export.packet(p))?;
    export.finish().map_err(store_err)
}

/// Walks a conversation's stored packets with `f`, stopping at its first
/// error.
fn try_each_packet(
    store: &dyn Store,
    id: &CaptureId,
    conv: u64,
    f: &mut dyn FnMut(&crate::flow::PacketInfo) -> follow::Result<()>,
) -> store::Result<()> {
    let mut failed = None;
    store.each_packet(id, conv, 0, &mut |p| match f(p) {
        Ok(()) => true,
        Err(e) => {
            failed = Some(e);
            false
        }
    })?;
    failed.map_or(Ok(()), |e| Err(store_err(e)))
}

#[cfg(test)]
mod test {
    use std::path::Path;

    use crate::analysis::{self, Options};
    use crate::flow::PacketInfo;
    use crate::pcap::Reader;
    use crate::store::{CaptureId, NewCapture, SqliteStore, Store};

    /// A pcap of one TCP conversation: handshake, then `segments` segments
    /// of 10 bytes from the client.
    fn one_conversation(segments: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let client = [10, 0, 0, 1];
        let server = [10, 0, 0, 2];
        let mut frame = |n: u32, from_client: bool, seq: u32, ack: u32, flags: u8, len: u16| {
            let (src, dst, sport, dport) = if from_client {
                (client, server, 40000u16, 80u16)
            } else {
                (server, client, 80, 40000)
            };
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
            f.extend_from_slice(&(40 + len).to_be_bytes());
            f.extend_from_slice(&[0, 0, 0, 0, 64, 6, 0, 0]);
            f.extend_from_slice(&src);
            f.extend_from_slice(&dst);
            f.extend_from_slice(&sport.to_be_bytes());
            f.extend_from_slice(&dport.to_be_bytes());
            f.extend_from_slice(&seq.to_be_bytes());
            f.extend_from_slice(&ack.to_be_bytes());
            f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
            f.resize(f.len() + usize::from(len), b'x');
            for v in [1_700_000_000 + n / 1000, (n % 1000) * 1000, 0, 0] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            let at = out.len() - 8;
            out[at..at + 4].copy_from_slice(&(f.len() as u32).to_le_bytes());
            out[at + 4..at + 8].copy_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(&f);
        };
        frame(0, true, 100, 0, 0x02, 0);
        frame(1, false, 500, 101, 0x12, 0);
        frame(2, true, 101, 501, 0x10, 0);
        for i in 0..segments {
            frame(3 + i, true, 101 + i * 10, 501, 0x18, 10);
        }
        out
    }

    /// Stores the analysis of `pcap` the way serve's worker does.
    fn analyzed(dir: &Path, pcap: &[u8]) -> (SqliteStore, CaptureId) {
        let store = SqliteStore::open(dir).unwrap();
        let staged = store.staging_path().unwrap();
        std::fs::write(&staged, pcap).unwrap();
        let meta = store
            .add_capture(
                &staged,
                NewCapture {
                    name: "one.pcap".into(),
                    size: pcap.len() as u64,
                    sha256: String::new(),
                    gzip: false,
                },
            )
            .unwrap();
        let work = store.begin_analysis(&meta.id).unwrap();
        let mut writer = work.writer;
        let mut reader = Reader::new(work.input).unwrap();
        let opts = Options {
            packets: true,
            ..Options::default()
        };
        let summary = analysis::analyze(&mut reader, &opts, writer.as_mut()).unwrap();
        writer.commit(&summary).unwrap();
        (store, meta.id)
    }

    /// Records decoded for the last page of a conversation of `segments`.
    fn last_page_work(segments: u32) -> (u64, Vec<PacketInfo>) {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = analyzed(dir.path(), &one_conversation(segments));
        let total = u64::from(segments) + 3;
        let (items, decoded) = store.packet_page_work(&id, 0, 50, total - 50).unwrap();
        let page = store.packets(&id, 0, 50, total - 50).unwrap();
        assert_eq!(page.total, total);
        assert_eq!(page.items.len(), 50);
        (decoded, items)
    }

    #[test]
    fn a_deep_page_of_packets_decodes_only_that_page() {
        let (small_work, small) = last_page_work(3_000);
        let (large_work, large) = last_page_work(60_000);
        // The same page as the first of a full scan would give.
        assert_eq!(small.last().unwrap().frame, 3_002);
        assert_eq!(large.last().unwrap().frame, 60_002);
        assert_eq!(large[0].frame, 60_002 - 49);
        assert!(large.windows(2).all(|w| w[1].frame == w[0].frame + 1));
        // The work is the page's, however long the conversation.
        assert_eq!(small_work, 50);
        assert_eq!(large_work, 50);
    }

    #[test]
    fn every_packet_is_listed_once_in_order_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let segments = 5_000;
        let (store, id) = analyzed(dir.path(), &one_conversation(segments));
        let total = u64::from(segments) + 3;
        let mut frames = Vec::new();
        let mut offset = 0;
        while offset < total {
            let page = store.packets(&id, 0, 777, offset).unwrap();
            frames.extend(page.items.iter().map(|p| p.frame));
            offset += 777;
        }
        assert_eq!(frames, (0..total).collect::<Vec<_>>());
    }

    #[test]
    fn a_long_stream_comes_in_parts_that_read_only_what_they_show() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = analyzed(dir.path(), &one_conversation(60_000));
        let first = super::stream(&store, &id, 0, 0, 1000, None).unwrap();
        // Handshake, then 100 segments of 10 bytes fill the 1000 bytes.
        assert_eq!(first.next, Some(103));
        assert_eq!(first.view.bytes_c2s, 1000);
        let second = super::stream(&store, &id, 0, 103, 1000, None).unwrap();
        assert_eq!(second.from, 103);
        assert_eq!(second.next, Some(203));
        let data: Vec<_> = second
            .view
            .chunks
            .iter()
            .filter(|c| c.kind == crate::analysis::follow::ChunkKind::Data)
            .collect();
        assert!(!data.is_empty());
        // The sides stay the stored ones, mid-connection too.
        assert!(data.iter().all(|c| c.dir == crate::flow::Dir::ToServer));
        let bytes: u64 = data.iter().map(|c| c.len).sum();
        assert_eq!(bytes, 1000);
        // The last part ends the stream.
        let last = super::stream(&store, &id, 0, 60_003 - 50, 1000, None).unwrap();
        assert_eq!(last.next, None);
    }
}
