//! A large file read from disk and its gzip-compressed copy hand out the
//! same frames, across many buffer refills.

use std::io::Write;
use std::path::Path;

use tracedeck::pcap::Reader;

fn frames(mut r: Reader) -> (u64, u64, Vec<String>) {
    let mut n = 0;
    let mut bytes = 0;
    while let Some(f) = r.next_frame().unwrap() {
        n += 1;
        bytes += f.data.len() as u64 + f.offset % 7;
    }
    (
        n,
        bytes,
        r.warnings().iter().map(|w| w.to_string()).collect(),
    )
}

#[test]
fn direct_streamed_and_gzip_readers_agree() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/keepalive-mixed.pcap");
    let bytes = std::fs::read(&sample).unwrap();
    let (header, records) = bytes.split_at(24);
    // Many times the reader's buffer; cut the last record in half so the
    // truncation warning comes at the end of a long read.
    let dir = std::env::temp_dir().join(format!("tracedeck-reader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.pcap");
    let mut f = std::fs::File::create(&big).unwrap();
    f.write_all(header).unwrap();
    let copies = (66 << 20) / records.len() + 1;
    for _ in 0..copies {
        f.write_all(records).unwrap();
    }
    f.write_all(&records[..40]).unwrap();
    drop(f);
    let direct = frames(Reader::open(&big).unwrap());
    let streamed =
        frames(Reader::new(std::io::BufReader::new(std::fs::File::open(&big).unwrap())).unwrap());
    assert_eq!(direct, streamed);
    assert_eq!(direct.0, copies as u64 * 73, "{}", direct.0);
    assert_eq!(direct.2.len(), 1, "{:?}", direct.2);
    assert!(direct.2[0].contains("cut short"));

    let gz = dir.join("big.pcap.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&big).unwrap()).unwrap();
    enc.finish().unwrap();
    // The compressed file is small: streamed. Offsets are the same (decompressed).
    let inflated = frames(Reader::open(&gz).unwrap());
    assert_eq!(inflated, direct);
    std::fs::remove_dir_all(&dir).unwrap();
}
