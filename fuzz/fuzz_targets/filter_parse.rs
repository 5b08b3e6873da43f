//! Any string: parsing never panics; errors point inside the input (or
//! just past it); a parsed filter compiles or says why not.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracedeck::filter::{bpf, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match parse(s) {
        Ok(f) => {
            assert_eq!(f.source(), s);
            for t in [bpf::Target::Ethernet, bpf::Target::Cooked] {
                if let Ok(prog) = bpf::compile(&f, t) {
                    assert!(!prog.is_empty() && prog.len() <= bpf::MAX_INSNS);
                }
            }
        }
        Err(e) => {
            assert!(
                e.column >= 1 && e.column <= s.chars().count() + 1,
                "{e} for {s:?}"
            );
            assert!(!e.message.is_empty());
        }
    }
});
