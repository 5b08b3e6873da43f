//! Per-packet rows, packed: each packet of a conversation is a fixed-size
//! 45-byte record, and a conversation's records are stored as a few BLOB
//! chunks rather than one database row each, so millions of packets cost
//! little more than their bytes and one conversation's list is a handful
//! of reads.

use crate::flow::{Dir, PacketInfo, WindowScale};
use crate::time::Timestamp;

/// Bytes of one packed record.
pub const RECORD_LEN: usize = 45;

const NO_TS: i64 = i64::MIN;
const BIT_TO_CLIENT: u8 = 1;
const BIT_RETRANSMISSION: u8 = 2;

/// Appends `p` to `out` as one record: laid out in a fixed array and
/// appended once (eleven appends, each checking capacity, took 180
/// instructions a packet).
pub fn encode(p: &PacketInfo, out: &mut Vec<u8>) {
    let mut r = [0u8; RECORD_LEN];
    r[0..8].copy_from_slice(&p.frame.to_le_bytes());
    r[8..16].copy_from_slice(&p.offset.to_le_bytes());
    r[16..24].copy_from_slice(&p.ts.map_or(NO_TS, Timestamp::as_nanos).to_le_bytes());
    r[24..28].copy_from_slice(&p.seq.to_le_bytes());
    r[28..32].copy_from_slice(&p.ack.to_le_bytes());
    r[32..36].copy_from_slice(&p.payload_len.to_le_bytes());
    r[36..40].copy_from_slice(&p.orig_len.to_le_bytes());
    r[40..42].copy_from_slice(&p.window.to_le_bytes());
    r[42] = p.tcp_flags;
    let mut bits = 0;
    if p.dir == Dir::ToClient {
        bits |= BIT_TO_CLIENT;
    }
    if p.retransmission {
        bits |= BIT_RETRANSMISSION;
    }
    r[43] = bits;
    r[44] = p.window_scale.to_byte();
    out.extend_from_slice(&r);
}

/// Reads the records of a chunk; `None` if its length is not a whole
/// number of records.
pub fn decode(chunk: &[u8]) -> Option<impl Iterator<Item = PacketInfo> + '_> {
    if !chunk.len().is_multiple_of(RECORD_LEN) {
        return None;
    }
    Some(chunk.chunks_exact(RECORD_LEN).map(decode_one))
}

fn decode_one(r: &[u8]) -> PacketInfo {
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&r[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let u32_at = |i: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&r[i..i + 4]);
        u32::from_le_bytes(b)
    };
    let ts = u64_at(16) as i64;
    let bits = r[43];
    let window = u16::from_le_bytes([r[40], r[41]]);
    let scale = WindowScale::from_byte(r[44]);
    PacketInfo {
        frame: u64_at(0),
        offset: u64_at(8),
        ts: (ts != NO_TS).then(|| Timestamp::from_nanos(ts)),
        seq: u32_at(24),
        ack: u32_at(28),
        payload_len: u32_at(32),
        orig_len: u32_at(36),
        window,
        tcp_flags: r[42],
        dir: if bits & BIT_TO_CLIENT != 0 {
            Dir::ToClient
        } else {
            Dir::ToServer
        },
        retransmission: bits & BIT_RETRANSMISSION != 0,
        window_scale: scale,
        window_size: PacketInfo::calculated_window(scale, window, r[42]),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn round_trip() {
        let a = PacketInfo {
            frame: 1 << 40,
            offset: 123_456_789_012,
            ts: Some(Timestamp::from_nanos(1_700_000_000_123_456_789)),
            dir: Dir::ToClient,
            tcp_flags: 0x18,
            seq: 0xdead_beef,
            ack: 7,
            window: 65535,
            window_scale: WindowScale::Shift(7),
            window_size: 65535 << 7,
            payload_len: 1448,
            orig_len: 1514,
            retransmission: true,
        };
        let b = PacketInfo {
            ts: None,
            dir: Dir::ToServer,
            retransmission: false,
            window_scale: WindowScale::Unknown,
            ..a
        };
        let mut buf = Vec::new();
        encode(&a, &mut buf);
        encode(&b, &mut buf);
        assert_eq!(buf.len(), 2 * RECORD_LEN);
        let back: Vec<PacketInfo> = decode(&buf).unwrap().collect();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].frame, 1 << 40);
        assert_eq!(back[0].ts, a.ts);
        assert_eq!(back[0].dir, Dir::ToClient);
        assert!(back[0].retransmission);
        assert_eq!(back[0].seq, 0xdead_beef);
        assert_eq!(back[0].window, 65535);
        assert_eq!(back[0].window_size, 65535 << 7);
        assert_eq!(back[1].window_scale, WindowScale::Unknown);
        assert_eq!(back[1].ts, None);
        assert_eq!(back[1].dir, Dir::ToServer);
        assert!(decode(&buf[..50]).is_none());
    }
}
