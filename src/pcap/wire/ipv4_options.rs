//! IPv4 options (RFC 791 §3.1): a walk over the option list ([`options`])
//! and, on it, the final destination of a loose or strict source route
//! (LSRR, SSRR).

use std::net::Ipv4Addr;
use std::ops::Range;

pub const END_OF_LIST: u8 = 0;
pub const NO_OPERATION: u8 = 1;
pub const RECORD_ROUTE: u8 = 7;
pub const TIMESTAMP: u8 = 68;
pub const LSRR: u8 = 131;
pub const SSRR: u8 = 137;
/// Type, length and pointer bytes before a route's addresses.
const ROUTE_HEAD_LEN: usize = 3;
const ADDR_LEN: usize = 4;

/// The options of a list with a length byte, as (type, the whole option's
/// bytes in the list), in order, up to End of List or the first option
/// whose length is short or runs past the list.
pub fn options(list: &[u8]) -> Options<'_> {
    Options { list, at: 0 }
}

/// The walk of [`options`].
pub struct Options<'a> {
    list: &'a [u8],
    at: usize,
}

impl Iterator for Options<'_> {
    type Item = (u8, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let kind = *self.list.get(self.at)?;
            match kind {
                END_OF_LIST => return None,
                NO_OPERATION => self.at += 1,
                _ => {
                    let len = usize::from(*self.list.get(self.at + 1)?);
                    let range = self.at..self.at + len;
                    if len < 2 || range.end > self.list.len() {
                        self.at = self.list.len();
                        return None;
                    }
                    self.at = range.end;
                    return Some((kind, range));
                }
            }
        }
    }
}

/// The destination a source-routed datagram is finally going to: the last
/// address of an LSRR or SSRR option whose route is not yet complete
/// (the header's destination is then only the next hop). `None` without
/// such an option, or when the list is malformed before reaching one.
pub fn final_destination(list: &[u8]) -> Option<Ipv4Addr> {
    let (_, route) = options(list).find(|(kind, _)| matches!(*kind, LSRR | SSRR))?;
    route_end(&list[route])
}

/// The last address of a route option, while its pointer (1-based, into
/// the option) still points inside the list.
fn route_end(option: &[u8]) -> Option<Ipv4Addr> {
    let pointer = usize::from(*option.get(2)?);
    let addrs = option.get(ROUTE_HEAD_LEN..)?;
    if addrs.len() < ADDR_LEN || pointer > option.len() {
        return None;
    }
    let last = addrs.len() / ADDR_LEN * ADDR_LEN;
    let b: [u8; ADDR_LEN] = addrs.get(last - ADDR_LEN..last)?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn loose_and_strict_routes() {
        // NOP, then LSRR through 10.0.0.254 to 172.16.0.2, pointer at the first.
        let lsrr = [1, 131, 11, 4, 10, 0, 0, 254, 172, 16, 0, 2, 0];
        assert_eq!(final_destination(&lsrr), Some(Ipv4Addr::new(172, 16, 0, 2)));
        let mut ssrr = lsrr;
        ssrr[1] = 137;
        assert_eq!(final_destination(&ssrr), Some(Ipv4Addr::new(172, 16, 0, 2)));
        // Route complete: the header's destination is final.
        let mut done = lsrr;
        done[3] = 12;
        assert_eq!(final_destination(&done), None);
    }

    #[test]
    fn other_and_malformed_lists() {
        assert_eq!(final_destination(&[]), None);
        assert_eq!(final_destination(&[0, 131, 7, 4, 1, 2, 3, 4]), None);
        // Record route (7) is not a source route.
        assert_eq!(final_destination(&[7, 7, 4, 1, 2, 3, 4, 0]), None);
        for bad in [
            &[131][..],
            &[131, 1][..],
            &[131, 200, 4][..],
            &[7, 0, 0, 0][..],
        ] {
            assert_eq!(final_destination(bad), None, "{bad:?}");
        }
    }
}
