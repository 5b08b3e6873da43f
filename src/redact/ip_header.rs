//! Every address an IP header holds, pseudonymised in place: the source
//! and destination, the addresses of IPv4 route and timestamp options
//! (RFC 791 §3.1: loose and strict source route, record route, timestamp
//! with addresses), and those of IPv6 routing headers (RFC 8200 §4.4 type
//! 0, RFC 6275 type 2, RFC 8754 segment routing) and of a Home Address
//! destination option (RFC 6275 §6.3). A routing header of another type
//! (RPL's compressed addresses, RFC 6554) is masked past its fixed part.
//! Nothing changes length; the caller fixes the checksums.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Redactor, FILL};
use crate::pcap::wire::ipv4_options::{self, LSRR, RECORD_ROUTE, SSRR, TIMESTAMP};
use crate::pcap::wire::ipv6::{self, ExtHeader};

/// Timestamp option flags (RFC 791): each timestamp preceded by the
/// address that wrote it, or by a prespecified address.
const TS_WITH_ADDRESS: u8 = 1;
const TS_PRESPECIFIED: u8 = 3;

/// IPv6 routing header types with plain addresses.
const ROUTING_TYPE_0: u8 = 0;
const ROUTING_TYPE_2: u8 = 2;
const SEGMENT_ROUTING: u8 = 4;
/// Routing headers' fixed part (next header, length, type, segments left
/// and four type-specific bytes): addresses follow it.
const ROUTING_FIXED_LEN: usize = 8;
/// Destination options: Pad1, and the Home Address option.
const PAD1: u8 = 0;
const HOME_ADDRESS: u8 = 201;

const V4: usize = 4;
const V6: usize = 16;

/// Pseudonymises the addresses of the IP header(s) at the start of
/// `header`: an IPv4 header with its options, or an IPv6 header with its
/// extension headers, as far as they were captured.
pub(super) fn pseudonymise(r: &Redactor, header: &mut [u8]) {
    match header.first().map(|b| b >> 4) {
        Some(4) => {
            map_v4(r, header, 12);
            map_v4(r, header, 16);
            let options_end = usize::from(header[0] & 0x0f) * 4;
            if let Some(options) = header.get_mut(20..options_end) {
                ipv4_options(r, options);
            }
        }
        Some(6) => {
            map_v6(r, header, 8);
            map_v6(r, header, 24);
            if let Some(&next) = header.get(6) {
                ipv6_extensions(r, header, next);
            }
        }
        _ => {}
    }
}

/// The destination of an IPv6 packet's transport pseudo-header (RFC 8200
/// §8.1): the final one of its routing header while segments are left,
/// else the header's own.
pub(super) fn ipv6_final_destination(header: &[u8]) -> Option<Ipv6Addr> {
    let mut final_dst = header.get(24..40).map(v6_at)?;
    let mut next = *header.get(6)?;
    let mut at = ipv6::HEADER_LEN;
    while ipv6::is_extension(next) && next != ipv6::FRAGMENT {
        let ext = ExtHeader::new_checked(header.get(at..)?, next).ok()?;
        let len = ext.header_len();
        let body = header.get(at..at + len)?;
        if next == ipv6::ROUTING && body.get(3).is_some_and(|&left| left > 0) {
            let slot = match body[2] {
                ROUTING_TYPE_0 | ROUTING_TYPE_2 => Some(len - V6),
                // Segment 0 is the last one visited (RFC 8754 §2).
                SEGMENT_ROUTING => Some(ROUTING_FIXED_LEN),
                _ => None,
            };
            if let Some(addr) = slot.and_then(|s| body.get(s..s + V6)) {
                final_dst = v6_at(addr);
            }
        }
        next = ext.next_header();
        at += len;
    }
    Some(final_dst)
}

fn ipv4_options(r: &Redactor, list: &mut [u8]) {
    // At most 40 bytes of options: the ranges are gathered first so the
    // list can be written while they are visited.
    let found: Vec<(u8, std::ops::Range<usize>)> = ipv4_options::options(list).collect();
    for (kind, range) in found {
        ipv4_option(r, kind, &mut list[range]);
    }
}

/// One option's addresses. A route's pointer (1-based, into the option)
/// marks the next slot: a record route's slots from there on are not yet
/// written, a source route's are all addresses.
fn ipv4_option(r: &Redactor, kind: u8, option: &mut [u8]) {
    let pointer = option.get(2).map_or(0, |&p| usize::from(p));
    let (first, step, end) = match kind {
        LSRR | SSRR => (3, V4, option.len()),
        RECORD_ROUTE => (3, V4, pointer.saturating_sub(1).min(option.len())),
        TIMESTAMP => match option.get(3).map(|b| b & 0x0f) {
            Some(TS_WITH_ADDRESS) => (4, 2 * V4, pointer.saturating_sub(1).min(option.len())),
            Some(TS_PRESPECIFIED) => (4, 2 * V4, option.len()),
            _ => return,
        },
        _ => return,
    };
    let mut at = first;
    while at + V4 <= end {
        map_v4(r, option, at);
        at += step;
    }
}

fn ipv6_extensions(r: &Redactor, header: &mut [u8], mut next: u8) {
    let mut at = ipv6::HEADER_LEN;
    // After a fragment header the rest is the fragment's payload.
    while ipv6::is_extension(next) && next != ipv6::FRAGMENT {
        let Ok(ext) = ExtHeader::new_checked(header.get(at..).unwrap_or(&[]), next) else {
            return;
        };
        let (len, following) = (ext.header_len(), ext.next_header());
        let end = (at + len).min(header.len());
        let body = &mut header[at..end];
        match next {
            ipv6::ROUTING => routing_header(r, body),
            ipv6::DESTINATION_OPTIONS => destination_options(r, body),
            _ => {}
        }
        next = following;
        at += len;
    }
}

fn routing_header(r: &Redactor, body: &mut [u8]) {
    let Some(&kind) = body.get(2) else {
        return;
    };
    let addresses_end = match kind {
        ROUTING_TYPE_0 | ROUTING_TYPE_2 => body.len(),
        // Segments (last entry + 1 of them), then TLVs.
        SEGMENT_ROUTING => body.get(4).map_or(0, |&last| {
            (ROUTING_FIXED_LEN + (usize::from(last) + 1) * V6).min(body.len())
        }),
        _ => {
            if let Some(rest) = body.get_mut(ROUTING_FIXED_LEN..) {
                rest.fill(FILL);
            }
            return;
        }
    };
    let mut at = ROUTING_FIXED_LEN;
    while at + V6 <= addresses_end {
        map_v6(r, body, at);
        at += V6;
    }
}

/// Options are type, length, value; Pad1 is one byte alone.
fn destination_options(r: &Redactor, body: &mut [u8]) {
    let mut at = 2;
    while let Some(&kind) = body.get(at) {
        if kind == PAD1 {
            at += 1;
            continue;
        }
        let Some(len) = body.get(at + 1).map(|&l| usize::from(l)) else {
            return;
        };
        if kind == HOME_ADDRESS && len == V6 {
            map_v6(r, body, at + 2);
        }
        at += 2 + len;
    }
}

fn map_v4(r: &Redactor, bytes: &mut [u8], at: usize) {
    if let Some(slot) = bytes.get_mut(at..at + V4) {
        let addr = Ipv4Addr::new(slot[0], slot[1], slot[2], slot[3]);
        if let IpAddr::V4(mapped) = r.ip(addr.into()) {
            slot.copy_from_slice(&mapped.octets());
        }
    }
}

fn map_v6(r: &Redactor, bytes: &mut [u8], at: usize) {
    if let Some(slot) = bytes.get_mut(at..at + V6) {
        if let IpAddr::V6(mapped) = r.ip(v6_at(slot).into()) {
            slot.copy_from_slice(&mapped.octets());
        }
    }
}

/// The address in a 16-byte slot.
fn v6_at(slot: &[u8]) -> Ipv6Addr {
    let mut octets = [0u8; V6];
    octets.copy_from_slice(&slot[..V6]);
    Ipv6Addr::from(octets)
}

#[cfg(test)]
mod test {
    use super::super::{Profile, ProfileName};
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(Profile::named(ProfileName::Addresses), &[4; 32])
    }

    fn mapped4(r: &Redactor, a: [u8; 4]) -> [u8; 4] {
        match r.ip(Ipv4Addr::from(a).into()) {
            IpAddr::V4(m) => m.octets(),
            IpAddr::V6(_) => unreachable!(),
        }
    }

    #[test]
    fn ipv4_routes_and_timestamps_lose_every_address() {
        let r = redactor();
        // IHL 15: NOP, LSRR through 10.0.0.254 to 172.16.0.2, record
        // route with one slot written and one free, timestamp with one
        // address, end of list.
        let mut h = vec![0x4f, 0, 0, 60, 0, 0, 0, 0, 64, 6, 0, 0];
        h.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 254]);
        h.extend_from_slice(&[1, 131, 11, 4, 10, 0, 0, 254, 172, 16, 0, 2]);
        h.extend_from_slice(&[7, 11, 8, 10, 0, 0, 9, 0, 0, 0, 0]);
        h.extend_from_slice(&[68, 12, 13, 1, 10, 0, 0, 7, 0, 0, 1, 0]);
        h.extend_from_slice(&[0; 5]);
        assert_eq!(h.len(), 60);
        let mut out = h.clone();
        pseudonymise(&r, &mut out);
        assert_eq!(out[12..16], mapped4(&r, [10, 0, 0, 1]));
        assert_eq!(out[16..20], mapped4(&r, [10, 0, 0, 254]));
        assert_eq!(out[24..28], mapped4(&r, [10, 0, 0, 254]));
        assert_eq!(out[28..32], mapped4(&r, [172, 16, 0, 2]));
        assert_eq!(out[35..39], mapped4(&r, [10, 0, 0, 9]));
        assert_eq!(out[39..43], [0, 0, 0, 0], "a free slot stays free");
        assert_eq!(out[47..51], mapped4(&r, [10, 0, 0, 7]));
        assert_eq!(out[51..], h[51..], "the timestamp itself is kept");
        // Every cut of the header is safe.
        for len in 0..h.len() {
            pseudonymise(&r, &mut h[..len].to_vec());
        }
    }

    #[test]
    fn ipv6_routing_headers_and_home_addresses_are_mapped() {
        let r = redactor();
        let a = |last: u8| {
            let mut b = [0u8; 16];
            b[0] = 0xfd;
            b[15] = last;
            b
        };
        let mut h = vec![0x60, 0, 0, 0, 0, 64, 43, 64];
        h.extend_from_slice(&a(1));
        h.extend_from_slice(&a(2));
        // Segment routing: two segments left, segment 0 is final.
        h.extend_from_slice(&[60, 4, 4, 1, 1, 0, 0, 0]);
        h.extend_from_slice(&a(9));
        h.extend_from_slice(&a(2));
        // Destination options: Pad1, PadN, Home Address.
        h.extend_from_slice(&[6, 2, 0, 1, 0, 201, 16]);
        h.extend_from_slice(&a(5));
        h.push(0);
        let final_dst = ipv6_final_destination(&h).unwrap();
        assert_eq!(final_dst, Ipv6Addr::from(a(9)));
        let mut out = h.clone();
        pseudonymise(&r, &mut out);
        for (at, addr) in [(8, a(1)), (24, a(2)), (48, a(9)), (64, a(2)), (87, a(5))] {
            let want = r.ip(Ipv6Addr::from(addr).into());
            assert_eq!(IpAddr::from(v6_at(&out[at..])), want, "at {at}");
        }
        for len in 0..h.len() {
            pseudonymise(&r, &mut h[..len].to_vec());
            let _ = ipv6_final_destination(&h[..len]);
        }
    }
}
