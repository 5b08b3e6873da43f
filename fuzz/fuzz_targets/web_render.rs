#![no_main]
//! Capture bytes as the conversation page shows them: whatever the bytes,
//! rendering never panics, the text view never lets a control character
//! or an invisible (bidi, zero-width) character through unescaped, and the
//! hex dump has one line per 16 bytes.
use libfuzzer_sys::fuzz_target;
use tracedeck::web::fmt::{hex_lines, text_pieces};

fuzz_target!(|data: &[u8]| {
    for p in text_pieces(data) {
        if !p.esc {
            assert!(p
                .text
                .chars()
                .all(|c| c == '\n' || c == '\t' || !c.is_control()));
            assert!(!p.text.contains('\u{202e}') && !p.text.contains('\u{200b}'));
        }
    }
    assert_eq!(hex_lines(data, 0).len(), data.len().div_ceil(16));
    let _ = tracedeck::web::svg::esc(&String::from_utf8_lossy(data));
});
