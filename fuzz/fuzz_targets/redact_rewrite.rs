//! Random frames through both passes of the redaction rewriter, and random
//! bytes, chunks and gaps through the HTTP mask scanner: nothing panics,
//! no frame changes length, and no mask reaches past the bytes scanned.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::flow::Dir;
use tracedeck::pcap::LinkType;
use tracedeck::redact::rewrite::Scanner;
use tracedeck::redact::{HttpMasker, Profile, ProfileName, Redactor};

const LINKS: [u32; 6] = [1, 101, 113, 276, 228, 229];
const PROFILES: [ProfileName; 3] = [
    ProfileName::Strict,
    ProfileName::Headers,
    ProfileName::Addresses,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let profile = Profile::named(PROFILES[usize::from(selector) % PROFILES.len()]);
    let link = LinkType(LINKS[usize::from(selector >> 2) % LINKS.len()]);
    let redactor = Redactor::new(profile.clone(), &[selector; 32]);

    // Frames: a length byte, then that many bytes.
    let mut frames = Vec::new();
    let mut input = rest;
    while let [len, tail @ ..] = input {
        let n = usize::from(*len).min(tail.len());
        frames.push(tail[..n].to_vec());
        input = &tail[n..];
    }
    let mut scanner = Scanner::new(&redactor);
    for f in &frames {
        scanner.frame(link, f);
    }
    let mut masks = scanner.finish();
    for f in &frames {
        let mut copy = f.clone();
        masks.redact_frame(link, &mut copy);
        assert_eq!(copy.len(), f.len());
    }

    // The same bytes as two streams, with gaps.
    let mut masker = HttpMasker::default();
    for (i, chunk) in rest.chunks(7).enumerate() {
        let dir = if chunk[0] & 1 == 0 { Dir::ToServer } else { Dir::ToClient };
        if i % 11 == 10 {
            masker.gap(&profile, dir, u64::from(chunk[0]));
        } else {
            masker.data(&profile, dir, chunk);
        }
    }
    for dir in [Dir::ToServer, Dir::ToClient] {
        let end = masker.offset(dir);
        assert!(masker.masks(dir).ranges().iter().all(|r| r.end <= end));
    }
});
