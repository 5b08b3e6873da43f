//! Redaction for sharing (README, "Redacted sharing"): a [`Profile`] says
//! what to hide, a keyed [`Redactor`] hides it, and one function per view
//! applies it to that view's data ([`views`]) or to a whole capture file
//! ([`rewrite`]).
//!
//! Two rules hold everywhere. Masking keeps lengths: a masked byte is
//! replaced by one fill byte, so every length, offset, sequence number and
//! timing stays true and every number a redacted view shows equals the
//! owner's. Addresses are pseudonymised with Crypto-PAn under the
//! redactor's key (one key per share link, so two links cannot be joined)
//! and ports are kept.
//!
//! Part of the analysis layer: it never imports `store` or `web`.

pub mod cryptopan;
mod h2_mask;
pub mod http_mask;
mod ip_header;
mod mask_set;
pub mod packet;
pub mod profile;
mod query;
pub mod rewrite;
pub mod strace;
pub mod views;
mod writer;

use std::net::{IpAddr, SocketAddr};

use crate::flow::Dir;
use crate::pcap::LinkType;

pub use cryptopan::CryptoPan;
pub use http_mask::{HttpMasker, MaskSet};
pub use profile::{BodyPolicy, Profile, ProfileName, FILL};

/// A profile with its key: what a share link redacts with.
#[derive(Clone, Debug)]
pub struct Redactor {
    profile: Profile,
    pan: CryptoPan,
}

impl Redactor {
    /// A redactor with this key. The web layer keeps one random key per
    /// share link (see [`Redactor::random_key`]) so that the same link
    /// always shows the same pseudonyms.
    pub fn new(profile: Profile, key: &[u8; cryptopan::KEY_LEN]) -> Redactor {
        Redactor {
            profile,
            pan: CryptoPan::new(key),
        }
    }

    /// A fresh key from the operating system's random source.
    pub fn random_key() -> Result<[u8; cryptopan::KEY_LEN], getrandom::Error> {
        let mut key = [0u8; cryptopan::KEY_LEN];
        getrandom::fill(&mut key)?;
        Ok(key)
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The address as the redacted views show it.
    pub fn ip(&self, addr: IpAddr) -> IpAddr {
        if self.profile.pseudonymise_addresses {
            self.pan.ip(addr)
        } else {
            addr
        }
    }

    /// The socket address as the redacted views show it: port kept.
    pub fn socket(&self, addr: SocketAddr) -> SocketAddr {
        SocketAddr::new(self.ip(addr.ip()), addr.port())
    }

    /// A conversation's `tunnel` text (`vxlan vni 42 192.0.2.1→192.0.2.2 /
    /// 4in4 10.8.0.1→10.8.0.2`, as `pcap::tunnel::Path` shows it) with each
    /// hop's endpoints as the redacted views show them; kinds and ids kept.
    pub fn tunnel_path(&self, text: &str) -> String {
        text.split(' ')
            .map(|word| match word.split_once('→') {
                Some((src, dst)) => match (src.parse(), dst.parse()) {
                    (Ok(src), Ok(dst)) => format!("{}→{}", self.ip(src), self.ip(dst)),
                    _ => word.to_string(),
                },
                None => word.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The body of fuzz/fuzz_targets/redact_rewrite.rs, here so that its
/// regressions run as unit tests too: random frames through both passes
/// of the rewriter (no frame changes length), and the same bytes as two
/// streams with gaps through the HTTP mask scanner.
#[doc(hidden)]
pub fn fuzz_both_passes_and_the_scanner(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let names = [
        ProfileName::Strict,
        ProfileName::Headers,
        ProfileName::Addresses,
    ];
    let profile = Profile::named(names[usize::from(selector) % 3]);
    let links = [1, 101, 113, 276, 228, 229];
    let link = LinkType(links[usize::from(selector >> 2) % links.len()]);
    let redactor = Redactor::new(profile.clone(), &[selector; 32]);
    let mut frames = Vec::new();
    let mut input = rest;
    while let [len, tail @ ..] = input {
        let n = usize::from(*len).min(tail.len());
        frames.push(tail[..n].to_vec());
        input = &tail[n..];
    }
    let mut scanner = rewrite::Scanner::new(&redactor);
    for f in &frames {
        scanner.frame(link, f);
    }
    let mut masks = scanner.finish();
    for f in &frames {
        let mut copy = f.clone();
        masks.redact_frame(link, &mut copy);
        assert_eq!(copy.len(), f.len());
    }
    let mut masker = HttpMasker::default();
    for (i, chunk) in rest.chunks(7).enumerate() {
        let dir = if chunk[0] & 1 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        if i % 11 == 10 {
            masker.gap(&profile, dir, u64::from(chunk[0]));
        } else {
            masker.data(&profile, dir, chunk);
        }
    }
    for dir in [Dir::ToServer, Dir::ToClient] {
        let end = masker.offset(dir);
        assert!(masker
            .masks(dir)
            .ranges()
            .iter()
            .all(|r| r.end <= end || r.end == u64::MAX));
    }
}

/// The body of fuzz/fuzz_targets/redact_strace.rs: a call name chosen by
/// the first byte, the rest as its argument text, through the strace
/// redactor under every profile.
#[doc(hidden)]
pub fn fuzz_strace_redactor(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let names = [
        "execve", "execveat", "write", "read", "sendto", "recvmsg", "openat",
    ];
    let name = names[usize::from(selector) % names.len()];
    let args = String::from_utf8_lossy(rest);
    for profile in [
        ProfileName::Strict,
        ProfileName::Headers,
        ProfileName::Addresses,
    ] {
        let r = Redactor::new(Profile::named(profile), &[selector; 32]);
        let out = strace::syscall_args(&r, name, &args);
        assert_eq!(out.len(), args.len(), "{name}({args})");
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn tunnel_paths_show_pseudonyms_and_keep_kinds_and_ids() {
        let r = Redactor::new(Profile::named(ProfileName::Strict), &[1; 32]);
        let text =
            "vxlan vni 9 192.0.2.1→192.0.2.2 / gre 10.9.0.1→10.9.0.2 / 6in6 fd00::1→fd00::2 / …";
        let ip = |s: &str| r.ip(s.parse().unwrap()).to_string();
        let want = format!(
            "vxlan vni 9 {}→{} / gre {}→{} / 6in6 {}→{} / …",
            ip("192.0.2.1"),
            ip("192.0.2.2"),
            ip("10.9.0.1"),
            ip("10.9.0.2"),
            ip("fd00::1"),
            ip("fd00::2")
        );
        assert_eq!(r.tunnel_path(text), want);
        let keep = Redactor::new(Profile::named(ProfileName::Headers), &[1; 32]);
        assert_eq!(keep.tunnel_path(text), text);
    }

    /// A `\\` before a multi-byte character in an envp value: the mask
    /// started inside the character. Found by fuzz/fuzz_targets/redact_strace.rs.
    #[test]
    fn a_strace_mask_never_starts_inside_a_character() {
        fuzz_strace_redactor(&[
            0x2a, 0xc9, 0x26, 0x2c, 0x2c, 0x5b, 0x22, 0x2c, 0x00, 0x21, 0x00, 0x2b, 0xe8, 0xff,
            0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf5,
            0xf5, 0xf5, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5c, 0x32, 0x39, 0xf5,
            0xf5, 0xf5, 0xf5, 0x00, 0x00, 0x00, 0x00, 0x29, 0xf5, 0xf5, 0xf5, 0x2c, 0x2c, 0x2c,
            0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0xe9, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c,
            0x40, 0x00, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x21, 0xf5, 0x00, 0x00, 0x00, 0x00, 0x29, 0xf5, 0xf5, 0xf5, 0x2c,
            0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0xe9, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c, 0x2c,
            0x2c, 0x2c, 0x40, 0x00, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0xf5, 0xf5, 0x10, 0x00, 0x00, 0x50, 0x41, 0x53, 0x00, 0xe0, 0x3d, 0xe8, 0x99,
            0x2f, 0x2f, 0x2a, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, 0x00,
        ]);
    }

    /// A transport header cut before its checksum field, with link-layer
    /// bytes after the datagram: found by fuzz/fuzz_targets/redact_rewrite.rs.
    #[test]
    fn a_checksum_field_past_the_captured_header_is_left_alone() {
        fuzz_both_passes_and_the_scanner(&[
            0x05, 0x00, 0x00, 0x05, 0x00, 0x60, 0x60, 0x9e, 0x60, 0x60, 0x60, 0x60, 0x43, 0x48,
            0x2d, 0x60, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x25, 0x8c, 0x00, 0x00, 0x00, 0x8d,
            0x25, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x2a, 0x2b, 0x00, 0x2b, 0x2b, 0x2b, 0x2b,
            0x2b, 0x01, 0x00, 0x0a, 0x20, 0x2b, 0x2b, 0x2b, 0x3a, 0x2a, 0x2b, 0x2b, 0x2b, 0x2b,
            0x2b, 0x2b, 0x02, 0x00, 0x25, 0x00, 0x2b, 0x00, 0x32, 0x50, 0x2f, 0x4a, 0x08,
        ]);
    }
}
