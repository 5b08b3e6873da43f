//! Random call names and argument texts through the strace redactor:
//! nothing panics, and a masked argument list keeps its length in bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tracedeck::redact::fuzz_strace_redactor(data);
});
