#![no_main]
//! Reading records back by offset from a damaged stored capture: an error
//! or a record, never a panic or a huge allocation.
use libfuzzer_sys::fuzz_target;
use tracedeck::pcap::at_offset::RecordFile;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (offsets, file) = data.split_at(8);
    let path = std::env::temp_dir().join(format!("tracedeck-fuzz-record-at-{}", std::process::id()));
    if std::fs::write(&path, file).is_err() {
        return;
    }
    if let Ok(rf) = RecordFile::open(&path) {
        let mut buf = Vec::new();
        for pair in offsets.chunks(2) {
            let off = u64::from(u16::from_le_bytes([pair[0], pair[1]]));
            if let Ok(rec) = rf.read_at(off, &mut buf) {
                assert_eq!(rec.caplen, buf.len());
            }
        }
    }
});
