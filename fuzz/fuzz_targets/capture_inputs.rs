//! What `tracedeck capture` reads from outside: sizes and durations typed
//! by the user, and the upload server's answer. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::capture::{parse_answer, parse_duration, parse_size, Bytes};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(n) = parse_size(text) {
        let _ = Bytes(n).to_string();
    }
    let _ = parse_duration(text);
    let _ = parse_answer("http://127.0.0.1:8080/prefix", text);
});
