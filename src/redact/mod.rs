//! Redaction (README, "Redacted sharing").

pub mod cryptopan;
