//! The HTTP/2 frames of a conversation's first bytes as ladder labels,
//! one per packet that completes frames, the way Wireshark's Info column
//! names them: "SETTINGS[0], WINDOW_UPDATE[0], HEADERS[1]",
//! "RST_STREAM[3] CANCEL", "DATA[1] END_STREAM".

use crate::flow::Dir;
use crate::time::Timestamp;

use super::frame::{error_name, flag, At, Frame, Framer, Kind, PREFACE};

/// Longest label (the ladder's arrows are 400 px wide).
const MAX_LABEL: usize = 60;

/// One packet's frames, from one side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameLabel {
    pub dir: Dir,
    /// The packet that completed the frames.
    pub ts: Timestamp,
    pub frame: u64,
    pub label: String,
}

/// Reads the bytes each side sent, in capture order (a gap ends the
/// reading of its direction), and labels the packets that complete
/// frames; at most `max` labels.
#[derive(Default)]
pub struct Labeller {
    framers: [Framer; 2],
    /// Client preface bytes still to skip, per direction; `None` once
    /// the direction's first bytes were seen.
    preface: [Option<usize>; 2],
    stopped: [bool; 2],
    pub labels: Vec<FrameLabel>,
}

impl Labeller {
    pub fn bytes(&mut self, dir: Dir, ts: Timestamp, frame: u64, mut bytes: &[u8], max: usize) {
        let d = dir.index();
        if self.stopped[d] || self.labels.len() >= max {
            return;
        }
        let have = *self.preface[d].get_or_insert_with(|| {
            let n = bytes.len().min(PREFACE.len());
            if bytes[..n] == PREFACE[..n] {
                0
            } else {
                PREFACE.len()
            }
        });
        if have < PREFACE.len() {
            let take = (PREFACE.len() - have).min(bytes.len());
            if bytes[..take] != PREFACE[have..have + take] {
                self.stopped[d] = true;
                return;
            }
            self.preface[d] = Some(have + take);
            if have + take == PREFACE.len() {
                self.push(dir, At { ts, frame }, "Magic".into(), max);
            }
            bytes = &bytes[take..];
        }
        let mut framer = std::mem::take(&mut self.framers[d]);
        let mut done: Vec<(At, String)> = Vec::new();
        framer.push(At { ts, frame }, bytes, &mut |f| {
            if f.complete {
                done.push((f.last, label(&f)));
            }
        });
        self.framers[d] = framer;
        for (at, label) in done {
            self.push(dir, at, label, max);
        }
    }

    /// A gap: the frame boundaries of that direction are lost.
    pub fn gap(&mut self, dir: Dir) {
        self.stopped[dir.index()] = true;
    }

    fn push(&mut self, dir: Dir, at: At, label: String, max: usize) {
        let count = self.labels.len();
        if let Some(last) = self
            .labels
            .last_mut()
            .filter(|l| l.frame == at.frame && l.dir == dir)
        {
            // A packet of many frames: the first few name it.
            if last.label.len() + label.len() > MAX_LABEL {
                if !last.label.ends_with('…') {
                    last.label.push_str(", …");
                }
            } else {
                last.label.push_str(", ");
                last.label.push_str(&label);
            }
        } else if count < max {
            self.labels.push(FrameLabel {
                dir,
                ts: at.ts,
                frame: at.frame,
                label,
            });
        }
    }
}

fn label(f: &Frame<'_>) -> String {
    let h = f.header;
    let name = match h.kind {
        Kind::Data => "DATA",
        Kind::Headers => "HEADERS",
        Kind::Priority => "PRIORITY",
        Kind::RstStream => "RST_STREAM",
        Kind::Settings => "SETTINGS",
        Kind::PushPromise => "PUSH_PROMISE",
        Kind::Ping => "PING",
        Kind::GoAway => "GOAWAY",
        Kind::WindowUpdate => "WINDOW_UPDATE",
        Kind::Continuation => "CONTINUATION",
        Kind::Other(t) => return format!("Unknown type ({t})[{}]", h.stream),
    };
    let code = |at: usize| {
        f.payload
            .get(at..at + 4)
            .map(|b| error_name(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    };
    let extra = match h.kind {
        Kind::RstStream => code(0),
        Kind::GoAway => code(4),
        Kind::Settings | Kind::Ping if h.has(flag::ACK) => Some("ACK".to_string()),
        Kind::Data | Kind::Headers if h.has(flag::END_STREAM) => Some("END_STREAM".to_string()),
        _ => None,
    };
    match extra {
        Some(extra) => format!("{name}[{}] {extra}", h.stream),
        None => format!("{name}[{}]", h.stream),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    use crate::analysis::http2::frame::encode as frame;

    #[test]
    fn packets_are_labelled_like_wiresharks_info_column() {
        let at = |n: i64| Timestamp::from_nanos(n);
        let mut l = Labeller::default();
        let mut hello = PREFACE.to_vec();
        hello.extend(frame(4, 0, 0, b""));
        hello.extend(frame(1, 0x5, 1, b"\x82"));
        l.bytes(Dir::ToServer, at(0), 0, &hello[..10], 10);
        l.bytes(Dir::ToServer, at(1), 1, &hello[10..], 10);
        let data = frame(0, 0x1, 1, &[7; 20]);
        l.bytes(Dir::ToClient, at(2), 2, &data[..12], 10);
        l.bytes(Dir::ToClient, at(3), 3, &data[12..], 10);
        l.bytes(
            Dir::ToClient,
            at(4),
            4,
            &frame(3, 0, 3, &8u32.to_be_bytes()),
            10,
        );
        let labels: Vec<(u64, &str)> = l
            .labels
            .iter()
            .map(|f| (f.frame, f.label.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                (1, "Magic, SETTINGS[0], HEADERS[1] END_STREAM"),
                (3, "DATA[1] END_STREAM"),
                (4, "RST_STREAM[3] CANCEL"),
            ]
        );
        assert_eq!(l.labels[1].dir, Dir::ToClient);
    }

    #[test]
    fn labels_stop_at_the_cap_and_after_a_gap() {
        let mut l = Labeller::default();
        let ping = frame(6, 0, 0, &[0; 8]);
        for n in 0..5 {
            l.bytes(Dir::ToClient, Timestamp::from_nanos(n), n as u64, &ping, 3);
        }
        assert_eq!(l.labels.len(), 3);
        let mut l = Labeller::default();
        l.gap(Dir::ToClient);
        l.bytes(Dir::ToClient, Timestamp::from_nanos(0), 0, &ping, 3);
        assert!(l.labels.is_empty());
    }
}
