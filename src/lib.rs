//! tracedeck: offline analysis of network captures and strace logs.
//!
//! Data flows one way (README, "Development"):
//!
//! ```text
//! file ─▶ pcap (read, decode) ─▶ flow (conversations, reassembly) ─▶ http ─▶ store ─▶ web / cli
//! strace log ─▶ strace (parse, model) ─▶ store ─▶ web / cli
//! ```
//!
//! The analysis core (`pcap`, `flow`, `http`, `filter`, `strace`) does no
//! I/O beyond reading its input and never depends on `web` or `store`.

pub mod analysis;
pub mod capture;
pub mod filter;
pub mod flow;
pub mod http;
pub mod pcap;
pub mod redact;
pub mod store;
pub mod strace;
pub mod time;
pub mod web;

#[cfg(test)]
mod layers;

pub use time::{Span, Timestamp};
