//! The integration tests, one module per area, in one test binary: each
//! binary links the whole library, so one crate instead of one per file
//! is what keeps `cargo test --release` short (see README, Development).
//!
//! Tests that need root, tshark, tcpdump, strace, network namespaces or
//! Chromium are `#[ignore = "needs ..."]`; `cargo test --release --
//! --include-ignored` runs them (CI does), and they fail when what they
//! need is missing.

mod support;

mod api;
mod api_vs_analyze;
mod auth;
mod auth_browser;
mod auth_tls;
mod browser;
mod browser_harness;
mod capture;
mod capture_seam;
mod cli;
mod cli_tcpdump;
mod corpus;
mod diff;
mod diff_browser;
mod dns;
mod endpoints;
mod filter_bpf;
mod filter_conformance;
mod filter_errors;
mod firsthour;
mod http2;
mod http_stream;
mod http_vs_tshark;
mod limits;
mod reader_paths;
mod redact;
mod share;
mod share_strace;
mod sticky;
mod strace;
mod strace_api;
mod strace_browser;
mod strace_shared;
mod tcp_edges;
mod teams;
mod tls;
mod tls_web;
mod tunnels;
