//! Following a conversation for the web: the store lists its packets and
//! names the capture file, the analysis ([`crate::analysis::follow`])
//! reads the bytes back and rebuilds the stream or writes the pcap. Kept
//! here so the store stays persistence only.

use std::collections::HashMap;
use std::io::Write;

use crate::analysis::follow::{self, PcapExport, StreamBuilder, StreamView};
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
pub(crate) fn stream(
    store: &dyn Store,
    id: &CaptureId,
    conv: u64,
    from: u64,
    max_per_dir: usize,
) -> store::Result<StreamPart> {
    let proto = store.conversation(id, conv)?.proto;
    let mut builder = StreamBuilder::new(record_file(store, id)?, conv, proto, max_per_dir);
    let mut fed = [0u64; 2];
    let mut read = 0u64;
    let mut more = false;
    // The stored direction of each packet read: a part that starts after
    // the handshake is rebuilt as if the capture began there, and the
    // rebuild may then take the sides the other way round.
    let mut stored_dir: HashMap<u64, Dir> = HashMap::new();
    store.each_packet(id, conv, from, &mut |p| {
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
    let mut view = builder.finish();
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
    let mut export = PcapExport::new(record_file(store, id)?, out);
    let mut failed = None;
    store.each_packet(id, conv, 0, &mut |p| match export.packet(p) {
        Ok(()) => true,
        Err(e) => {
            failed = Some(e);
            false
        }
    })?;
    if let Some(e) = failed {
        return Err(store_err(e));
    }
    export.finish().map_err(store_err)
}
