//! Decrypted application data of one conversation, for the followed
//! stream (README, "TLS"): the conversation's TCP streams go through the
//! same TLS analyzer the analysis used, and each decrypted record's
//! plaintext comes back with where its record was (stream offset, length,
//! the segments that carried its first and last bytes) instead of going to
//! the HTTP analyzers.

use std::sync::Arc;

use serde::Serialize;

use crate::flow::{Dir, StreamSink};
use crate::time::Timestamp;

use super::analyzer::Tls;
use super::framing::RecordEvent;
use super::keylog::KeyLog;

/// The TLS records a run of decrypted bytes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RecordSpan {
    /// Records in the run.
    pub records: u64,
    /// Stream offset (in its direction, TLS bytes) of the first record's
    /// header, and of the end of the last record.
    pub offset: u64,
    pub end: u64,
    /// Capture time and frame of the segment that carried the first
    /// record's first byte, and of the one that completed the last record.
    pub ts: Timestamp,
    pub frame: u64,
    pub end_ts: Timestamp,
    pub end_frame: u64,
}

impl RecordSpan {
    pub(super) fn of(rec: &RecordEvent<'_>) -> RecordSpan {
        RecordSpan {
            records: 1,
            offset: rec.offset,
            end: rec.offset + super::framing::HEADER_LEN as u64 + rec.len as u64,
            ts: rec.ts,
            frame: rec.frame,
            end_ts: rec.end_ts,
            end_frame: rec.end_frame,
        }
    }

    /// The run grows by the records of `next` (which follow it).
    pub fn extend(&mut self, next: &RecordSpan) {
        self.records += next.records;
        self.end = next.end;
        self.end_ts = next.end_ts;
        self.end_frame = next.end_frame;
    }
}

/// One decrypted record's plaintext.
#[derive(Clone, Debug)]
pub struct PlainPiece {
    pub dir: Dir,
    pub record: RecordSpan,
    pub bytes: Vec<u8>,
}

/// Decrypts one conversation's TLS streams, fed in delivery order.
pub struct StreamDecryptor {
    tls: Tls,
    keys: Arc<KeyLog>,
}

impl StreamDecryptor {
    pub fn new(keys: Arc<KeyLog>) -> StreamDecryptor {
        let mut tls = Tls::default();
        tls.tap = Some(Vec::new());
        StreamDecryptor { tls, keys }
    }

    /// The plaintext decrypted since the last call.
    pub fn take(&mut self) -> Vec<PlainPiece> {
        self.tls
            .tap
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Records decrypted so far.
    pub fn records(&self) -> u64 {
        self.tls.decrypted_records()
    }
}

impl StreamSink for StreamDecryptor {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        self.tls.data(dir, ts, frame, bytes);
        // The analysis looks the keys up between packets, as here.
        self.tls.look_up_keys(&self.keys);
    }

    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        self.tls.gap(dir, ts, frame, len);
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.tls.fin(dir, ts, frame);
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.tls.reset(dir, ts, frame);
    }
}
