//! TCP window scaling (RFC 7323 §2.2-2.3): each side's shift count as its
//! handshake set it, and the calculated window Wireshark shows as
//! `tcp.window_size` (the header's 16-bit field shifted left, never on a
//! SYN). When the handshake was not captured the shift is unknown and the
//! window is shown as sent, as Wireshark does.

/// One side's window scaling, as the handshake settled it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WindowScale {
    /// The handshake was not captured: the shift is unknown and windows
    /// are shown as sent (Wireshark's scale factor -1).
    #[default]
    Unknown,
    /// The handshake was seen and scaling is not in use: one side did not
    /// offer it (Wireshark's -2).
    Off,
    /// Windows are the field shifted left by this many bits (at most 14).
    Shift(u8),
}

/// The largest shift count (RFC 7323 §2.3: a larger one is used as 14).
const MAX_SHIFT: u8 = 14;
/// How [`WindowScale::Unknown`] and [`WindowScale::Off`] are stored in a
/// byte whose other values are shift counts.
const BYTE_UNKNOWN: u8 = 0xff;
const BYTE_OFF: u8 = 0xfe;

impl WindowScale {
    /// The window a segment with this raw field offers, in bytes: a SYN's
    /// is never scaled (RFC 7323 §2.2).
    pub fn window(self, raw: u16, syn: bool) -> u32 {
        match self {
            WindowScale::Shift(s) if !syn => u32::from(raw) << s.min(MAX_SHIFT),
            _ => u32::from(raw),
        }
    }

    /// The multiplier (`1024` for a shift of 10), when scaling is in use.
    pub fn multiplier(self) -> Option<u32> {
        match self {
            WindowScale::Shift(s) => Some(1u32 << s.min(MAX_SHIFT)),
            _ => None,
        }
    }

    /// What the scale means for the windows shown, in words.
    pub fn words(self) -> String {
        match self {
            WindowScale::Unknown => {
                "window scale unknown (the handshake was not captured): windows shown as sent"
                    .into()
            }
            WindowScale::Off => "no window scaling (not agreed in the handshake)".into(),
            WindowScale::Shift(s) => format!(
                "window scale ×{} (shift {}) from the handshake",
                1u32 << s.min(MAX_SHIFT),
                s.min(MAX_SHIFT)
            ),
        }
    }

    /// Wireshark's `tcp.window_size_scalefactor`: the multiplier, -1 when
    /// unknown, -2 when scaling is not in use.
    pub fn factor(self) -> i64 {
        match self {
            WindowScale::Unknown => -1,
            WindowScale::Off => -2,
            WindowScale::Shift(s) => 1i64 << s.min(MAX_SHIFT),
        }
    }

    /// One byte for storage.
    pub fn to_byte(self) -> u8 {
        match self {
            WindowScale::Unknown => BYTE_UNKNOWN,
            WindowScale::Off => BYTE_OFF,
            WindowScale::Shift(s) => s.min(MAX_SHIFT),
        }
    }

    /// The scale [`to_byte`](Self::to_byte) stored (an unknown byte reads
    /// as unknown).
    pub fn from_byte(b: u8) -> WindowScale {
        match b {
            0..=MAX_SHIFT => WindowScale::Shift(b),
            BYTE_OFF => WindowScale::Off,
            _ => WindowScale::Unknown,
        }
    }
}

impl serde::Serialize for WindowScale {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.factor())
    }
}

/// Both sides' scales of one connection, set by its SYN and SYN-ACK.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Handshake {
    /// Per side (a [`Dir`](super::Dir) index): its SYN's shift option, once
    /// its SYN was seen.
    offered: [Option<Option<u8>>; 2],
    scales: [WindowScale; 2],
}

impl Handshake {
    /// A SYN (`synack`: with ACK) from side `side` carrying the window
    /// scale option `shift` (or none). Scaling is in use only when both
    /// SYNs offered it; a SYN-ACK whose SYN was not captured sets its own
    /// side only.
    pub(crate) fn syn(&mut self, side: usize, synack: bool, shift: Option<u8>) {
        let other = 1 - (side & 1);
        let side = side & 1;
        if !synack && self.offered[other].is_some() {
            // A retransmitted SYN after the answer: the handshake decided.
            return;
        }
        self.offered[side] = Some(shift);
        let scale =
            |s: Option<u8>| s.map_or(WindowScale::Off, |s| WindowScale::Shift(s.min(MAX_SHIFT)));
        if !synack {
            // Until the answer, the offer is the best guess (Wireshark
            // scales the client's segments by it).
            self.scales[side] = shift.map_or(WindowScale::Unknown, |s| {
                WindowScale::Shift(s.min(MAX_SHIFT))
            });
            return;
        }
        match (self.offered[other], shift) {
            (Some(Some(theirs)), Some(mine)) => {
                self.scales[other] = scale(Some(theirs));
                self.scales[side] = scale(Some(mine));
            }
            (None, Some(mine)) => self.scales[side] = scale(Some(mine)),
            _ => self.scales = [WindowScale::Off; 2],
        }
    }

    /// Side `side`'s scale.
    pub(crate) fn scale(&self, side: usize) -> WindowScale {
        self.scales[side & 1]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn both_sides_offering_scale_each_by_its_own_shift() {
        let mut h = Handshake::default();
        assert_eq!(h.scale(0), WindowScale::Unknown);
        h.syn(0, false, Some(10));
        h.syn(1, true, Some(7));
        assert_eq!(h.scale(0), WindowScale::Shift(10));
        assert_eq!(h.scale(1), WindowScale::Shift(7));
        assert_eq!(h.scale(0).window(64, false), 65536);
        assert_eq!(
            h.scale(0).window(65495, true),
            65495,
            "a SYN is never scaled"
        );
        assert_eq!(h.scale(1).multiplier(), Some(128));
    }

    #[test]
    fn one_side_without_the_option_turns_scaling_off_for_both() {
        for (syn, synack) in [(Some(10), None), (None, Some(10)), (None, None)] {
            let mut h = Handshake::default();
            h.syn(0, false, syn);
            h.syn(1, true, synack);
            assert_eq!(h.scale(0), WindowScale::Off, "{syn:?} {synack:?}");
            assert_eq!(h.scale(1), WindowScale::Off);
            assert_eq!(h.scale(0).window(64, false), 64);
        }
    }

    #[test]
    fn a_retransmitted_syn_after_the_answer_changes_nothing() {
        let mut h = Handshake::default();
        h.syn(0, false, Some(10));
        h.syn(1, true, None);
        h.syn(0, false, Some(10));
        assert_eq!(h.scale(0), WindowScale::Off);
        assert_eq!(h.scale(1), WindowScale::Off);
    }

    #[test]
    fn a_syn_ack_without_its_syn_sets_its_own_side_only() {
        let mut h = Handshake::default();
        h.syn(1, true, Some(9));
        assert_eq!(h.scale(1), WindowScale::Shift(9));
        assert_eq!(h.scale(0), WindowScale::Unknown);
    }

    #[test]
    fn shifts_over_14_are_14_and_bytes_round_trip() {
        let mut h = Handshake::default();
        h.syn(0, false, Some(20));
        h.syn(1, true, Some(14));
        assert_eq!(h.scale(0), WindowScale::Shift(14));
        assert_eq!(h.scale(0).window(u16::MAX, false), 65535 << 14);
        for s in [
            WindowScale::Unknown,
            WindowScale::Off,
            WindowScale::Shift(0),
            WindowScale::Shift(14),
        ] {
            assert_eq!(WindowScale::from_byte(s.to_byte()), s);
        }
        assert!(WindowScale::Unknown.words().contains("not captured"));
    }
}
