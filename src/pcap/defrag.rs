//! IPv4 and IPv6 fragment reassembly, bounded: enough to recover the
//! transport header and payload of a fragmented datagram. Like tshark, the
//! datagram belongs to the frame that completes it.

use std::collections::HashMap;
use std::net::IpAddr;

use super::decode::{Fragment, Packet};
use crate::time::{Span, Timestamp};

/// The largest datagram (IPv4 total length is 16 bits).
const MAX_DATAGRAM: u32 = 65_535;
/// Datagrams waiting for fragments at once.
const MAX_PENDING: usize = 4096;
/// Bytes all pending datagrams may hold together (4096 hostile 64 KiB
/// datagrams would otherwise take 256 MiB).
const MAX_HELD: usize = 16 << 20;
/// A datagram whose fragments stop coming is dropped after this long.
const TIMEOUT: Span = Span::from_nanos(30_000_000_000);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    protocol: u8,
}

struct Datagram {
    data: Vec<u8>,
    /// Covered byte ranges, unsorted, possibly overlapping.
    have: Vec<(u32, u32)>,
    total: Option<u32>,
    first_seen: Timestamp,
}

impl Datagram {
    fn is_complete(&self) -> bool {
        let Some(total) = self.total else {
            return false;
        };
        let mut ranges = self.have.clone();
        ranges.sort_unstable();
        let mut covered = 0;
        for (s, e) in ranges {
            if s > covered {
                return false;
            }
            covered = covered.max(e);
        }
        covered >= total
    }
}

/// Pending fragmented datagrams.
#[derive(Default)]
pub struct Defragmenter {
    pending: HashMap<Key, Datagram>,
    /// Bytes held by `pending`.
    held: usize,
    /// Datagrams dropped for a cap or a timeout.
    pub dropped: u64,
}

impl Defragmenter {
    /// Adds one fragment (its captured bytes after the IP header, and
    /// their length per the IP header). Returns the whole
    /// transport-layer datagram when this fragment completes it.
    pub fn push(&mut self, packet: &Packet<'_>, frag: Fragment, ts: Timestamp) -> Option<Vec<u8>> {
        let (src, dst, protocol) = (packet.src, packet.dst, packet.protocol);
        let (payload, len) = (packet.l4, packet.l4_len);
        let end = frag.offset.checked_add(len)?;
        if end > MAX_DATAGRAM || (payload.len() as u32) < len {
            // Beyond any datagram, or cut by the snaplen: cannot complete.
            return None;
        }
        let key = Key {
            src,
            dst,
            id: frag.id,
            protocol,
        };
        if !self.pending.contains_key(&key) && self.pending.len() >= MAX_PENDING {
            self.expire(ts);
            if self.pending.len() >= MAX_PENDING {
                return None;
            }
        }
        let have = self.pending.get(&key).map_or(0, |d| d.data.len());
        let growth = (end as usize).saturating_sub(have);
        if self.held + growth > MAX_HELD {
            self.expire(ts);
            if self.held + growth > MAX_HELD {
                self.dropped += 1;
                return None;
            }
        }
        self.held += growth;
        let dg = self.pending.entry(key).or_insert_with(|| Datagram {
            data: Vec::new(),
            have: Vec::new(),
            total: None,
            first_seen: ts,
        });
        if dg.data.len() < end as usize {
            dg.data.resize(end as usize, 0);
        }
        let at = frag.offset as usize;
        dg.data[at..end as usize].copy_from_slice(&payload[..len as usize]);
        if dg.have.len() < 1024 {
            dg.have.push((frag.offset, end));
        }
        if !frag.more {
            dg.total = Some(end);
        }
        if dg.is_complete() {
            let mut done = self.pending.remove(&key)?;
            self.held = self.held.saturating_sub(done.data.len());
            let total = done.total.unwrap_or(0) as usize;
            done.data.truncate(total);
            return Some(done.data);
        }
        None
    }

    fn expire(&mut self, now: Timestamp) {
        let before = self.pending.len();
        let mut freed = 0;
        self.pending.retain(|_, d| {
            let keep = now.since(d.first_seen) < TIMEOUT;
            if !keep {
                freed += d.data.len();
            }
            keep
        });
        self.held = self.held.saturating_sub(freed);
        self.dropped += (before - self.pending.len()) as u64;
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::pcap::Transport;

    fn packet<'a>(src: &str, data: &'a [u8], len: u32) -> Packet<'a> {
        let addr: IpAddr = src.parse().unwrap();
        Packet {
            src: addr,
            dst: addr,
            ip: data,
            fragment: None,
            protocol: 6,
            l4: data,
            l4_len: len,
            transport: Transport::Fragment {
                protocol: 6,
                payload: data,
            },
            shim: None,
        }
    }

    #[test]
    fn out_of_order_fragments_complete_on_the_last_arrival() {
        let mut d = Defragmenter::default();
        let f = |offset, more| Fragment {
            id: 7,
            offset,
            more,
        };
        assert!(d
            .push(
                &packet("10.0.0.1", b"world!!!", 8),
                f(8, false),
                Timestamp::ZERO
            )
            .is_none());
        let cut = d.push(
            &packet("10.0.0.1", b"hello, ", 8),
            f(0, true),
            Timestamp::ZERO,
        );
        assert!(cut.is_none(), "7 captured bytes of 8 cannot complete");
        let whole = d
            .push(
                &packet("10.0.0.1", b"hello, w", 8),
                f(0, true),
                Timestamp::ZERO,
            )
            .unwrap();
        assert_eq!(whole, b"hello, wworld!!!");
    }

    #[test]
    fn held_bytes_are_capped() {
        let mut d = Defragmenter::default();
        let chunk = vec![0u8; 60_000];
        let mut refused = 0;
        for id in 0..1000 {
            let frag = Fragment {
                id,
                offset: 0,
                more: true,
            };
            d.push(&packet("10.0.0.9", &chunk, 60_000), frag, Timestamp::ZERO);
            if d.dropped > refused {
                refused = d.dropped;
            }
        }
        assert!(d.held <= MAX_HELD, "{}", d.held);
        assert!(refused > 0);
    }

    #[test]
    fn absurd_offsets_are_refused() {
        let mut d = Defragmenter::default();
        let frag = Fragment {
            id: 1,
            offset: 65_528,
            more: false,
        };
        assert!(d
            .push(&packet("::1", &[0; 16], 16), frag, Timestamp::ZERO)
            .is_none());
    }
}
