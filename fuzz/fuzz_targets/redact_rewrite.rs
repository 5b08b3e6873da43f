//! Random frames through both passes of the redaction rewriter, and random
//! bytes, chunks and gaps through the HTTP mask scanner: nothing panics,
//! no frame changes length, and no mask reaches past the bytes scanned.
//! The body lives in the library (`redact::fuzz_both_passes_and_the_scanner`)
//! so that the inputs it found run as unit tests too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tracedeck::redact::fuzz_both_passes_and_the_scanner(data);
});
