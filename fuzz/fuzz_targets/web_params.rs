#![no_main]
//! Query strings as a hostile client sends them: parsing must answer a
//! value or a message, never panic.
use libfuzzer_sys::fuzz_target;
use tracedeck::web::params::{self, Params};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = Params::parse(Some(&text), params::CONV_PARAMS) {
        let _ = params::conv_query(&p);
        let _ = params::filter_param(&p);
    }
    if let Ok(p) = Params::parse(Some(&text), params::HTTP_PARAMS) {
        let _ = params::http_query(&p);
    }
    let _ = text.parse::<tracedeck::store::StatusFilter>();
    let _ = text.parse::<tracedeck::store::CaptureId>();
});
