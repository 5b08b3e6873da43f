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
pub mod http_mask;
mod mask_set;
pub mod packet;
pub mod profile;
mod query;
pub mod rewrite;
pub mod views;
mod writer;

use std::net::{IpAddr, SocketAddr};

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
}
