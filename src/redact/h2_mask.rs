//! HTTP/2 frames (RFC 9113 §4) in one direction of a connection: which
//! payload bytes a profile masks. Every frame header (and so every length,
//! type, flag and stream id) is kept, and so are the pad length, priority
//! and promised stream fields.
//!
//! A header block is HPACK-compressed (RFC 7541): a value cannot be masked
//! alone in place (literals are often Huffman-coded, and the dynamic table
//! carries them into later blocks), so a profile that masks header values
//! masks the whole block (HEADERS, PUSH_PROMISE and CONTINUATION fragments
//! and their padding). Under `addresses` a block is masked whole when one
//! of its literal fields names an IP address (`:authority` or `host` like
//! a Host header, or an address header), or when it cannot be read. DATA
//! payload follows the body policy with no known content type; GOAWAY's
//! debug data and extension frames are other payload.

use std::ops::Range;

use crate::analysis::{hpack_integer, hpack_string};

use super::http_mask::is_ip_literal;
use super::mask_set::MaskSet;
use super::profile::Profile;

/// Length of a frame header.
const FRAME_HEADER_LEN: usize = 9;
/// Frame types (RFC 9113 §6).
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const PRIORITY: u8 = 2;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PUSH_PROMISE: u8 = 5;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;
const CONTINUATION: u8 = 9;
/// Frame flags.
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;
/// GOAWAY's last stream id and error code, before its debug data.
const GOAWAY_FIXED_LEN: u64 = 8;
/// Header block bytes gathered to look for addresses; a longer block is
/// masked whole.
const MAX_BLOCK: usize = 256 * 1024;

/// The scan of one direction's frames.
#[derive(Clone, Debug, Default)]
pub(super) struct H2Scan {
    /// Bytes of the client preface still to pass (kept).
    preface_left: u64,
    header: Vec<u8>,
    frame: Option<FrameScan>,
    /// A header block gathered under `addresses`: its bytes and where
    /// they sit in the stream.
    block: Vec<u8>,
    block_at: Vec<Range<u64>>,
    block_too_long: bool,
}

#[derive(Clone, Copy, Debug)]
struct FrameScan {
    kind: u8,
    flags: u8,
    len: u64,
    pos: u64,
    /// Bytes before a block fragment or DATA: pad length, priority,
    /// promised stream id.
    fixed: u64,
    pad: u64,
}

impl H2Scan {
    /// A scan starting after `preface_left` more bytes of the client
    /// preface (0 for a server, or once the preface was read).
    pub(super) fn new(preface_left: u64) -> H2Scan {
        H2Scan {
            preface_left,
            ..H2Scan::default()
        }
    }

    /// Scans `bytes`, which start at stream offset `offset`.
    pub(super) fn data(&mut self, p: &Profile, mut offset: u64, bytes: &[u8], masks: &mut MaskSet) {
        for &b in bytes {
            self.step(p, offset, b, masks);
            offset += 1;
        }
    }

    fn step(&mut self, p: &Profile, offset: u64, b: u8, masks: &mut MaskSet) {
        if self.preface_left > 0 {
            self.preface_left -= 1;
            return;
        }
        let Some(mut f) = self.frame else {
            self.header.push(b);
            if self.header.len() == FRAME_HEADER_LEN {
                let h = &self.header;
                let len = u64::from(u32::from_be_bytes([0, h[0], h[1], h[2]]));
                let (kind, flags) = (h[3], h[4]);
                self.header.clear();
                let fixed = match kind {
                    HEADERS | DATA | PUSH_PROMISE => {
                        let mut n = u64::from(flags & PADDED != 0);
                        if kind == HEADERS && flags & PRIORITY_FLAG != 0 {
                            n += 5;
                        }
                        if kind == PUSH_PROMISE {
                            n += 4;
                        }
                        n
                    }
                    _ => 0,
                };
                let frame = FrameScan {
                    kind,
                    flags,
                    len,
                    pos: 0,
                    fixed,
                    pad: 0,
                };
                if len == 0 {
                    self.frame_done(p, frame, masks);
                } else {
                    self.frame = Some(frame);
                }
            }
            return;
        };
        let pos = f.pos;
        f.pos += 1;
        if pos == 0 && f.flags & PADDED != 0 && matches!(f.kind, HEADERS | DATA | PUSH_PROMISE) {
            f.pad = u64::from(b);
        }
        let past_fixed = pos >= f.fixed;
        let in_fragment = past_fixed && pos < f.len.saturating_sub(f.pad);
        let masked = match f.kind {
            HEADERS | PUSH_PROMISE | CONTINUATION => {
                if in_fragment && !p.mask_headers && p.pseudonymise_addresses {
                    self.gather(offset, b);
                }
                past_fixed && p.mask_headers
            }
            DATA => past_fixed && p.masks_body(None),
            GOAWAY => pos >= GOAWAY_FIXED_LEN && p.mask_other_payload,
            PRIORITY | RST_STREAM | SETTINGS | PING | WINDOW_UPDATE => false,
            _ => p.mask_other_payload,
        };
        if masked {
            masks.push(offset..offset + 1);
        }
        if f.pos >= f.len {
            self.frame = None;
            self.frame_done(p, f, masks);
        } else {
            self.frame = Some(f);
        }
    }

    fn gather(&mut self, offset: u64, b: u8) {
        if self.block.len() >= MAX_BLOCK {
            self.block_too_long = true;
        } else {
            self.block.push(b);
        }
        match self.block_at.last_mut() {
            Some(r) if r.end == offset => r.end += 1,
            _ => self.block_at.push(offset..offset + 1),
        }
    }

    /// A header block ends with the frame that carries END_HEADERS: under
    /// `addresses` it is masked whole when it names an address.
    fn frame_done(&mut self, p: &Profile, f: FrameScan, masks: &mut MaskSet) {
        let ends_block =
            matches!(f.kind, HEADERS | PUSH_PROMISE | CONTINUATION) && f.flags & END_HEADERS != 0;
        if !ends_block || self.block_at.is_empty() {
            return;
        }
        if self.block_too_long || block_names_address(p, &self.block) != Some(false) {
            for r in self.block_at.drain(..) {
                masks.push(r);
            }
        }
        self.block.clear();
        self.block_at.clear();
        self.block_too_long = false;
    }
}

/// Whether a header block has a literal field naming an IP address: a
/// value that is one, or a value of an address header (`x-forwarded-for`
/// and the others the profile masks). None when the block cannot be read.
/// Names and values an index refers to come from earlier blocks, whose
/// literals were looked at there.
fn block_names_address(p: &Profile, block: &[u8]) -> Option<bool> {
    let (mut at, mut name, mut value) = (0, Vec::new(), Vec::new());
    while let Some(&first) = block.get(at) {
        // Indexed field, literal with indexing, size update, literal
        // without indexing or never indexed (RFC 7541 §6).
        let (prefix, has_literal) = match first {
            b if b & 0x80 != 0 => (7, false),
            b if b & 0xc0 == 0x40 => (6, true),
            b if b & 0xe0 == 0x20 => (5, false),
            _ => (4, true),
        };
        let (index, used) = hpack_integer(block.get(at..)?, prefix).ok()?;
        at += used;
        if !has_literal {
            continue;
        }
        name.clear();
        if index == 0 {
            at += hpack_string(block.get(at..)?, &mut name).ok()?;
        }
        value.clear();
        at += hpack_string(block.get(at..)?, &mut value).ok()?;
        // `:authority` and `host` (static entries 1 and 38) count, like
        // a Host header, when their value is an address: so does any.
        let address_name = index == 0 && p.masks_header(&name);
        if address_name || is_ip_literal(value.trim_ascii()) {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod test {
    use super::super::profile::{ProfileName, FILL};
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut f = len.to_be_bytes()[1..].to_vec();
        f.extend_from_slice(&[kind, flags]);
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn masked(p: &Profile, preface: u64, stream: &[u8]) -> Vec<u8> {
        let mut scan = H2Scan::new(preface);
        let mut masks = MaskSet::default();
        // Split everywhere: the scan does not depend on segmentation.
        let mut at = 0;
        for chunk in stream.chunks(5) {
            scan.data(p, at, chunk, &mut masks);
            at += chunk.len() as u64;
        }
        let mut out = stream.to_vec();
        masks.apply(0, &mut out, FILL);
        out
    }

    /// RFC 7541 C.3.1: GET http://www.example.com/ (no Huffman).
    const BLOCK: &[u8] = b"\x82\x86\x84\x41\x0fwww.example.com";
    /// The same with :authority 10.1.2.3:8443.
    const IP_BLOCK: &[u8] = b"\x82\x86\x84\x41\x0d10.1.2.3:8443";

    fn connection(block: &[u8]) -> Vec<u8> {
        let mut s = frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
        // A padded HEADERS split into a CONTINUATION.
        let mut payload = vec![2];
        payload.extend_from_slice(&block[..4]);
        payload.extend_from_slice(&[0, 0]);
        s.extend(frame(HEADERS, PADDED, 1, &payload));
        s.extend(frame(CONTINUATION, END_HEADERS, 1, &block[4..]));
        s.extend(frame(DATA, PADDED, 1, b"\x01secret\x00"));
        s.extend(frame(GOAWAY, 0, 0, b"\0\0\0\x01\0\0\0\0debug"));
        s
    }

    #[test]
    fn strict_masks_blocks_and_data_and_keeps_every_frame_header() {
        let s = connection(BLOCK);
        let out = masked(&Profile::named(ProfileName::Strict), 0, &s);
        assert_eq!(out.len(), s.len());
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("example") && !text.contains("secret") && !text.contains("debug"));
        // SETTINGS kept whole; each frame header and pad length kept.
        assert_eq!(out[..15], s[..15]);
        assert_eq!(out[15..25], s[15..25]);
        let x = |r: Range<usize>| out[r].iter().all(|&b| b == FILL);
        assert!(x(25..31) && x(40..56) && x(66..73) && x(90..95));
        for r in [31..40, 56..66, 73..90] {
            assert_eq!(out[r.clone()], s[r]);
        }
        let addresses = masked(&Profile::named(ProfileName::Addresses), 0, &s);
        assert_eq!(addresses, s, "a block naming no address is kept");
    }

    #[test]
    fn an_ip_authority_masks_its_whole_block_under_addresses() {
        let s = connection(IP_BLOCK);
        let out = masked(&Profile::named(ProfileName::Addresses), 0, &s);
        assert!(!String::from_utf8_lossy(&out).contains("10.1.2.3"));
        assert!(
            String::from_utf8_lossy(&out).contains("secret"),
            "DATA kept"
        );
        // A Huffman-coded :authority (RFC 7541 C.4.1) is read too.
        let huff = b"\x82\x86\x84\x41\x8c\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff";
        assert_eq!(
            block_names_address(&Profile::named(ProfileName::Addresses), huff),
            Some(false)
        );
        let named = b"\x82\x86\x84\x40\x09x-real-ip\x01a";
        assert_eq!(
            block_names_address(&Profile::named(ProfileName::Addresses), named),
            Some(true)
        );
        let plain = b"\x82\x86\x84\x40\x06accept\x03*/*";
        assert_eq!(
            block_names_address(&Profile::named(ProfileName::Addresses), plain),
            Some(false)
        );
        assert_eq!(
            block_names_address(&Profile::named(ProfileName::Addresses), b"\x40\x7f"),
            None
        );
    }
}
