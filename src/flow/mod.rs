//! Conversations (the TCP and UDP flow table) and TCP reassembly.

mod stream;

pub use stream::{Dir, StreamSink};
