//! Crypto-PAn: keyed, prefix-preserving pseudonymisation of IP addresses
//! (Xu, Fan, Ammar, Moon, "Prefix-Preserving IP Address Anonymization",
//! ICNP 2002), for IPv4 as the paper defines it and for IPv6 by the same
//! construction over 128 bits.
//!
//! The 32-byte key is split in two: the first half keys AES-128, the second
//! half, encrypted once, is the pad. Bit `i` of the output is bit `i` of the
//! input XOR the top bit of `AES(first i input bits ‖ pad bits i..128)`, so
//! two addresses sharing a `k`-bit prefix map to two addresses sharing
//! exactly a `k`-bit prefix, and nobody without the key can invert it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;

/// Key length in bytes: 16 for AES-128, 16 for the pad.
pub const KEY_LEN: usize = 32;

/// A keyed Crypto-PAn mapping. Deterministic: the same key maps the same
/// address to the same pseudonym.
#[derive(Clone)]
pub struct CryptoPan {
    cipher: Aes128,
    pad: u128,
}

impl std::fmt::Debug for CryptoPan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.write_str("CryptoPan { .. }")
    }
}

impl CryptoPan {
    pub fn new(key: &[u8; KEY_LEN]) -> CryptoPan {
        let (aes_key, pad_seed) = key.split_at(16);
        let cipher = Aes128::new(GenericArray::from_slice(aes_key));
        let mut block = GenericArray::clone_from_slice(pad_seed);
        cipher.encrypt_block(&mut block);
        let pad = u128::from_be_bytes(block.into());
        CryptoPan { cipher, pad }
    }

    /// The top bit of AES over a 128-bit block.
    fn prf_bit(&self, block: u128) -> u128 {
        let mut b = GenericArray::from(block.to_be_bytes());
        self.cipher.encrypt_block(&mut b);
        u128::from(b[0] >> 7)
    }

    /// Pseudonymises the top `bits` bits of `addr` (the rest must be zero
    /// and stays so); the block fed to AES always carries the pad below
    /// the original prefix, as the paper's IPv4 construction does.
    fn map_bits(&self, addr: u128, bits: u32) -> u128 {
        let mut otp = 0u128;
        for pos in 0..bits {
            let keep_high = if pos == 0 {
                0
            } else {
                u128::MAX << (128 - pos)
            };
            let block = (addr & keep_high) | (self.pad & !keep_high);
            otp |= self.prf_bit(block) << (127 - pos);
        }
        addr ^ otp
    }

    pub fn ipv4(&self, addr: Ipv4Addr) -> Ipv4Addr {
        let wide = u128::from(u32::from(addr)) << 96;
        Ipv4Addr::from((self.map_bits(wide, 32) >> 96) as u32)
    }

    pub fn ipv6(&self, addr: Ipv6Addr) -> Ipv6Addr {
        Ipv6Addr::from(self.map_bits(u128::from(addr), 128))
    }

    pub fn ip(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(a) => IpAddr::V4(self.ipv4(a)),
            IpAddr::V6(a) => IpAddr::V6(self.ipv6(a)),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// The key of the paper's reference distribution: its sample run
    /// anonymises a trace with these 32 bytes.
    const PAPER_KEY: [u8; 32] = [
        21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131,
        121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
    ];

    /// (original, pseudonym) pairs of the reference distribution's sample
    /// trace under `PAPER_KEY`.
    const PAPER_PAIRS: [(&str, &str); 8] = [
        ("128.11.68.132", "135.242.180.132"),
        ("129.118.74.4", "134.136.186.123"),
        ("130.132.252.244", "133.68.164.234"),
        ("141.223.7.43", "141.167.8.160"),
        ("141.233.145.108", "141.129.237.235"),
        ("152.163.225.39", "151.140.114.167"),
        ("156.29.3.236", "147.225.12.42"),
        ("165.247.96.84", "162.9.99.234"),
    ];

    #[test]
    fn ipv4_matches_the_reference_sample() {
        let pan = CryptoPan::new(&PAPER_KEY);
        for (orig, want) in PAPER_PAIRS {
            let got = pan.ipv4(orig.parse().unwrap());
            assert_eq!(got.to_string(), want, "pseudonym of {orig}");
        }
    }

    fn common_prefix(a: u128, b: u128) -> u32 {
        (a ^ b).leading_zeros()
    }

    /// A small deterministic generator, so the property runs on many
    /// addresses without a dependency.
    fn xorshift(state: &mut u128) -> u128 {
        let mut x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        x
    }

    #[test]
    fn ipv4_preserves_exactly_the_common_prefix() {
        let pan = CryptoPan::new(&PAPER_KEY);
        let mut s = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834u128;
        for _ in 0..300 {
            let a = xorshift(&mut s) as u32;
            // Share a random-length prefix with `a`.
            let keep = (xorshift(&mut s) % 33) as u32;
            let mask = if keep == 0 {
                0
            } else {
                u32::MAX << (32 - keep)
            };
            let b = (a & mask) | (xorshift(&mut s) as u32 & !mask);
            let (pa, pb) = (
                u32::from(pan.ipv4(Ipv4Addr::from(a))),
                u32::from(pan.ipv4(Ipv4Addr::from(b))),
            );
            let before = common_prefix(u128::from(a) << 96, u128::from(b) << 96).min(32);
            let after = common_prefix(u128::from(pa) << 96, u128::from(pb) << 96).min(32);
            assert_eq!(before, after, "{a:#x} {b:#x}");
        }
    }

    #[test]
    fn ipv6_preserves_exactly_the_common_prefix() {
        let pan = CryptoPan::new(&PAPER_KEY);
        let mut s = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
        for _ in 0..100 {
            let a = xorshift(&mut s);
            let keep = (xorshift(&mut s) % 129) as u32;
            let mask = if keep == 0 {
                0
            } else {
                u128::MAX << (128 - keep)
            };
            let b = (a & mask) | (xorshift(&mut s) & !mask);
            let pa = u128::from(pan.ipv6(Ipv6Addr::from(a)));
            let pb = u128::from(pan.ipv6(Ipv6Addr::from(b)));
            assert_eq!(common_prefix(a, b), common_prefix(pa, pb));
        }
    }

    #[test]
    fn the_mapping_is_keyed_and_one_to_one() {
        let pan = CryptoPan::new(&PAPER_KEY);
        let mut other_key = PAPER_KEY;
        other_key[0] ^= 1;
        let other = CryptoPan::new(&other_key);
        let a: Ipv4Addr = "10.1.2.3".parse().unwrap();
        assert_ne!(pan.ipv4(a), a);
        assert_ne!(pan.ipv4(a), other.ipv4(a));
        assert_eq!(pan.ipv4(a), CryptoPan::new(&PAPER_KEY).ipv4(a));
        // One-to-one on a whole /24 (a bijection on every prefix).
        let mut seen = std::collections::HashSet::new();
        for last in 0..=255u8 {
            assert!(seen.insert(pan.ipv4(Ipv4Addr::new(10, 1, 2, last))));
        }
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_ne!(pan.ipv6(v6), v6);
        assert_eq!(format!("{pan:?}"), "CryptoPan { .. }");
    }
}
