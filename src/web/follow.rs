//! Following a conversation for the web: the store lists its packets and
//! names the capture file, the analysis ([`crate::analysis::follow`])
//! reads the bytes back and rebuilds the stream or writes the pcap. Kept
//! here so the store stays persistence only.

use std::io::Write;

use crate::analysis::follow::{self, Ends, PcapExport, StreamBuilder, StreamView};
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

/// Both directions of a conversation reassembled, at most `max_per_dir`
/// bytes each way.
pub(crate) fn stream(
    store: &dyn Store,
    id: &CaptureId,
    conv: u64,
    max_per_dir: usize,
) -> store::Result<StreamView> {
    let row = store.conversation(id, conv)?;
    let ends = Ends {
        client: row.client,
        server: row.server,
    };
    let mut builder =
        StreamBuilder::new(record_file(store, id)?, conv, row.proto, ends, max_per_dir);
    store.each_packet(id, conv, &mut |p| builder.packet(p))?;
    Ok(builder.finish())
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
    store.each_packet(id, conv, &mut |p| match export.packet(p) {
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
