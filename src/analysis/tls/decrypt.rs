//! Record decryption: TLS 1.3's three suites (RFC 8446
//! §5.2, §7.1–7.3), and TLS 1.2's AES-GCM (RFC 5288), ChaCha20-Poly1305
//! (RFC 7905) and AES-CBC with HMAC-SHA1/SHA256/SHA384 suites (RFC 5246
//! §6.2.3.2, with or without encrypt-then-MAC, RFC 7366) with keys from
//! the master secret (RFC 5246 §5, §6.3). TLS 1.0 and 1.1 (RFC 2246, RFC
//! 4346) decrypt their AES-CBC suites the same way but for the PRF (MD5 and
//! SHA-1 halves, §5) and the IV: 1.1 sends it in each record as 1.2 does,
//! 1.0 chains it (the key block's, then each record's last ciphertext
//! block). A [`RecordKeys`] decrypts one direction's records in order,
//! counting sequence numbers. The AEADs (AES-GCM, ChaCha20-Poly1305) are
//! ring's (assembly with aggregated GHASH: RustCrypto's GHASH, one block
//! at a time, cost half the instructions of a decrypting run); AES-CBC,
//! HMAC, HKDF and the PRF are RustCrypto's.

use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use hkdf::Hkdf;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use ring::aead::{LessSafeKey, UnboundKey, AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// The AEAD of a suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    /// TLS 1.2 AES-CBC with the HMAC of this hash.
    Aes128Cbc(MacHash),
    Aes256Cbc(MacHash),
}

/// The HMAC of a CBC suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacHash {
    Sha1,
    Sha256,
    Sha384,
}

impl MacHash {
    fn len(self) -> usize {
        match self {
            MacHash::Sha1 => 20,
            MacHash::Sha256 => 32,
            MacHash::Sha384 => 48,
        }
    }

    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
        fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
            let mut m = <M as Mac>::new_from_slice(key).ok()?;
            for p in parts {
                m.update(p);
            }
            Some(m.finalize().into_bytes().to_vec())
        }
        match self {
            MacHash::Sha1 => run::<Hmac<Sha1>>(key, parts),
            MacHash::Sha256 => run::<Hmac<Sha256>>(key, parts),
            MacHash::Sha384 => run::<Hmac<Sha384>>(key, parts),
        }
    }
}

/// The hash of a suite's key schedule (HKDF in 1.3, the PRF in 1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    pub fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }
}

impl Aead {
    fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm | Aead::Aes128Cbc(_) => 16,
            Aead::Aes256Gcm | Aead::ChaCha20Poly1305 | Aead::Aes256Cbc(_) => 32,
        }
    }
}

/// A suite this module decrypts: its AEAD and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    pub aead: Aead,
    pub hash: Hash,
}

/// The suite of an IANA id, if it is one decrypted here.
pub fn suite(id: u16) -> Option<Suite> {
    let (aead, hash) = match id {
        0x1301 => (Aead::Aes128Gcm, Hash::Sha256),
        0x1302 => (Aead::Aes256Gcm, Hash::Sha384),
        0x1303 => (Aead::ChaCha20Poly1305, Hash::Sha256),
        // TLS 1.2 AES-GCM: ECDHE-ECDSA, ECDHE-RSA, RSA, DHE-RSA.
        0xc02b | 0xc02f | 0x009c | 0x009e => (Aead::Aes128Gcm, Hash::Sha256),
        0xc02c | 0xc030 | 0x009d | 0x009f => (Aead::Aes256Gcm, Hash::Sha384),
        0xcca8..=0xccaa => (Aead::ChaCha20Poly1305, Hash::Sha256),
        // TLS 1.2 AES-CBC (the PRF is SHA-256 unless the MAC is SHA-384).
        0xc013 | 0xc009 | 0x002f | 0x0033 => (Aead::Aes128Cbc(MacHash::Sha1), Hash::Sha256),
        0xc014 | 0xc00a | 0x0035 | 0x0039 => (Aead::Aes256Cbc(MacHash::Sha1), Hash::Sha256),
        0xc027 | 0xc023 | 0x003c | 0x0067 => (Aead::Aes128Cbc(MacHash::Sha256), Hash::Sha256),
        0x003d | 0x006b => (Aead::Aes256Cbc(MacHash::Sha256), Hash::Sha256),
        0xc028 | 0xc024 => (Aead::Aes256Cbc(MacHash::Sha384), Hash::Sha384),
        _ => return None,
    };
    Some(Suite { aead, hash })
}

enum Cipher {
    /// AES-128/256-GCM or ChaCha20-Poly1305.
    Aead(Box<LessSafeKey>),
    /// AES-CBC: the key, the MAC key and whether the MAC covers the
    /// ciphertext (encrypt-then-MAC).
    Cbc {
        key: Vec<u8>,
        mac: MacHash,
        mac_key: Vec<u8>,
        encrypt_then_mac: bool,
        /// TLS 1.0: the next record's IV (it sends none).
        chained_iv: Option<[u8; 16]>,
    },
}

/// How the nonce and the additional data of a record are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// TLS 1.3: nonce = iv XOR seq; AAD = the record header; the
    /// plaintext ends with its real content type.
    Tls13,
    /// TLS 1.2 AES-GCM: nonce = 4-byte salt ‖ 8-byte explicit nonce sent
    /// in the record; AAD = seq ‖ type ‖ version ‖ length.
    Tls12ExplicitNonce,
    /// TLS 1.2 ChaCha20-Poly1305: nonce = iv XOR seq; AAD as above.
    Tls12,
}

/// One direction's keys and its record sequence number.
pub struct RecordKeys {
    cipher: Cipher,
    iv: [u8; 12],
    seq: u64,
    framing: Framing,
    /// TLS 1.3: the traffic secret, for key updates.
    secret: Vec<u8>,
    suite: Suite,
}

impl std::fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecordKeys({:?}, seq {})", self.suite, self.seq)
    }
}

/// A record that was decrypted: its content type and plaintext.
#[derive(Debug, PartialEq, Eq)]
pub struct Plain {
    pub content_type: u8,
    pub data: Vec<u8>,
}

fn cipher(aead: Aead, key: &[u8]) -> Option<Cipher> {
    let algorithm = match aead {
        Aead::Aes128Gcm => &AES_128_GCM,
        Aead::Aes256Gcm => &AES_256_GCM,
        Aead::ChaCha20Poly1305 => &CHACHA20_POLY1305,
        // Made by `RecordKeys::tls12`, which has the MAC key.
        Aead::Aes128Cbc(_) | Aead::Aes256Cbc(_) => return None,
    };
    let key = UnboundKey::new(algorithm, key).ok()?;
    Some(Cipher::Aead(Box::new(LessSafeKey::new(key))))
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
fn expand_label(hash: Hash, secret: &[u8], label: &str, len: usize) -> Option<Vec<u8>> {
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let mut out = vec![0u8; len];
    match hash {
        Hash::Sha256 => Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        Hash::Sha384 => Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
    }
    Some(out)
}

/// P_hash of the TLS 1.2 PRF (RFC 5246 §5).
fn p_hash<M: Mac + KeyInit + Clone>(secret: &[u8], seed: &[u8], len: usize) -> Option<Vec<u8>> {
    let base = <M as Mac>::new_from_slice(secret).ok()?;
    let mut out = Vec::with_capacity(len);
    let mut a = {
        let mut m = base.clone();
        m.update(seed);
        m.finalize().into_bytes().to_vec()
    };
    while out.len() < len {
        let mut m = base.clone();
        m.update(&a);
        m.update(seed);
        out.extend_from_slice(&m.finalize().into_bytes());
        let mut next = base.clone();
        next.update(&a);
        a = next.finalize().into_bytes().to_vec();
    }
    out.truncate(len);
    Some(out)
}

/// The TLS 1.0/1.1 PRF: P_MD5 over the secret's first half XOR P_SHA1
/// over its second (the halves share the middle byte of an odd length).
fn prf_tls10(secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut full = label.to_vec();
    full.extend_from_slice(seed);
    let half = secret.len().div_ceil(2);
    let md5 = p_hash::<Hmac<md5::Md5>>(&secret[..half], &full, len)?;
    let sha1 = p_hash::<Hmac<Sha1>>(&secret[secret.len() - half..], &full, len)?;
    Some(md5.iter().zip(sha1).map(|(a, b)| a ^ b).collect())
}

/// The TLS 1.2 PRF with the suite's hash.
fn prf(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut full = label.to_vec();
    full.extend_from_slice(seed);
    match hash {
        Hash::Sha256 => p_hash::<Hmac<Sha256>>(secret, &full, len),
        Hash::Sha384 => p_hash::<Hmac<Sha384>>(secret, &full, len),
    }
}

impl RecordKeys {
    /// TLS 1.3 keys from a traffic secret (handshake or application).
    pub fn tls13(suite: Suite, secret: &[u8]) -> Option<RecordKeys> {
        let key = expand_label(suite.hash, secret, "key", suite.aead.key_len())?;
        let iv = expand_label(suite.hash, secret, "iv", 12)?;
        Some(RecordKeys {
            cipher: cipher(suite.aead, &key)?,
            iv: iv.try_into().ok()?,
            seq: 0,
            framing: Framing::Tls13,
            secret: secret.to_vec(),
            suite,
        })
    }

    /// TLS 1.0–1.2 keys of both directions (client's, server's) from the
    /// master secret and the hellos' randoms; `version` is the
    /// ServerHello's (before 1.2 only the AES-CBC suites exist, and SSL 3.0
    /// is not decrypted).
    pub fn tls12(
        suite: Suite,
        version: u16,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        encrypt_then_mac: bool,
    ) -> Option<(RecordKeys, RecordKeys)> {
        if let Aead::Aes128Cbc(mac) | Aead::Aes256Cbc(mac) = suite.aead {
            return Self::tls12_cbc(
                suite,
                mac,
                version,
                master,
                (client_random, server_random),
                encrypt_then_mac,
            );
        }
        if version != 0x0303 {
            return None;
        }
        let (key_len, iv_len, framing) = match suite.aead {
            Aead::ChaCha20Poly1305 => (32, 12, Framing::Tls12),
            aead => (aead.key_len(), 4, Framing::Tls12ExplicitNonce),
        };
        let mut seed = server_random.to_vec();
        seed.extend_from_slice(client_random);
        let block = prf(
            suite.hash,
            master,
            b"key expansion",
            &seed,
            2 * (key_len + iv_len),
        )?;
        let (client_key, rest) = block.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        let make = |key: &[u8], iv: &[u8]| {
            let mut full = [0u8; 12];
            full[..iv.len()].copy_from_slice(iv);
            Some(RecordKeys {
                cipher: cipher(suite.aead, key)?,
                iv: full,
                seq: 0,
                framing,
                secret: Vec::new(),
                suite,
            })
        };
        Some((make(client_key, client_iv)?, make(server_key, server_iv)?))
    }

    /// AES-CBC: MAC keys, then keys, then (TLS 1.0's first) IVs; 1.1 and
    /// 1.2 records carry their own IV.
    fn tls12_cbc(
        suite: Suite,
        mac: MacHash,
        version: u16,
        master: &[u8],
        (client_random, server_random): (&[u8; 32], &[u8; 32]),
        encrypt_then_mac: bool,
    ) -> Option<(RecordKeys, RecordKeys)> {
        let (m, k) = (mac.len(), suite.aead.key_len());
        let mut seed = server_random.to_vec();
        seed.extend_from_slice(client_random);
        let len = 2 * (m + k + 16);
        let block = match version {
            0x0303 => prf(suite.hash, master, b"key expansion", &seed, len)?,
            0x0301 | 0x0302 => prf_tls10(master, b"key expansion", &seed, len)?,
            _ => return None,
        };
        let ivs = &block[2 * (m + k)..];
        let first_iv = |i: usize| -> Option<[u8; 16]> {
            (version == 0x0301)
                .then(|| ivs[16 * i..16 * (i + 1)].try_into().ok())
                .flatten()
        };
        let make = |mac_key: &[u8], key: &[u8], chained_iv| RecordKeys {
            cipher: Cipher::Cbc {
                key: key.to_vec(),
                mac,
                mac_key: mac_key.to_vec(),
                encrypt_then_mac,
                chained_iv,
            },
            iv: [0; 12],
            seq: 0,
            framing: Framing::Tls12,
            secret: Vec::new(),
            suite,
        };
        Some((
            make(&block[..m], &block[2 * m..2 * m + k], first_iv(0)),
            make(
                &block[m..2 * m],
                &block[2 * m + k..2 * (m + k)],
                first_iv(1),
            ),
        ))
    }

    /// An AES-CBC record: IV (TLS ≥ 1.1), ciphertext, MAC (checked).
    fn open_cbc(&mut self, content_type: u8, version: u16, body: &[u8]) -> Option<Plain> {
        let Cipher::Cbc {
            key,
            mac,
            mac_key,
            encrypt_then_mac,
            chained_iv,
        } = &mut self.cipher
        else {
            return None;
        };
        let (m, seq) = (mac.len(), self.seq.to_be_bytes());
        let header = |len: usize| {
            let mut h = vec![content_type];
            h.extend_from_slice(&version.to_be_bytes());
            h.extend_from_slice(&(len as u16).to_be_bytes());
            h
        };
        let sealed = if *encrypt_then_mac {
            let (sealed, tag) = body.split_at(body.len().checked_sub(m)?);
            if mac.hmac(mac_key, &[&seq, &header(sealed.len()), sealed])? != tag {
                return None;
            }
            sealed
        } else {
            body
        };
        let least = if chained_iv.is_some() { 16 } else { 32 };
        if sealed.len() < least || sealed.len() % 16 != 0 {
            return None;
        }
        let (iv, ciphertext) = match chained_iv {
            Some(chained) => {
                let iv = *chained;
                // The next record chains from this one's last block, whether
                // or not this one authenticates.
                chained.copy_from_slice(&sealed[sealed.len() - 16..]);
                (iv, sealed)
            }
            None => (sealed[..16].try_into().ok()?, &sealed[16..]),
        };
        let iv = &iv[..];
        let mut buf = ciphertext.to_vec();
        let decrypted = match key.len() {
            16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .ok()?
                .decrypt_padded_mut::<NoPadding>(&mut buf)
                .is_ok(),
            _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .ok()?
                .decrypt_padded_mut::<NoPadding>(&mut buf)
                .is_ok(),
        };
        if !decrypted {
            return None;
        }
        let pad = usize::from(*buf.last()?);
        let unpadded = buf.len().checked_sub(pad + 1)?;
        if buf[unpadded..].iter().any(|&b| usize::from(b) != pad) {
            return None;
        }
        buf.truncate(unpadded);
        if !*encrypt_then_mac {
            let data_len = buf.len().checked_sub(m)?;
            let tag = buf.split_off(data_len);
            if mac.hmac(mac_key, &[&seq, &header(data_len), &buf])? != tag {
                return None;
            }
        }
        self.seq += 1;
        Some(Plain {
            content_type,
            data: buf,
        })
    }

    /// The first record after a gap, whose sequence number is unknown:
    /// tries the next `most` numbers (TLS 1.2 AES-GCM: the explicit nonce
    /// first, which OpenSSL, NSS and Go set to the sequence number). On
    /// success the numbering goes on from the one that fit, and the
    /// records skipped are returned. TLS 1.0 chains the IV from the record
    /// before, which was lost: its first record after a gap fails, and the
    /// next one chains from it.
    pub fn open_after_gap(
        &mut self,
        content_type: u8,
        version: u16,
        body: &[u8],
        most: u64,
    ) -> Option<(Plain, u64)> {
        let start = self.seq;
        let chained = match &self.cipher {
            Cipher::Cbc { chained_iv, .. } => *chained_iv,
            _ => None,
        };
        let explicit = (self.framing == Framing::Tls12ExplicitNonce)
            .then(|| body.get(..8)?.try_into().ok().map(u64::from_be_bytes))
            .flatten()
            .filter(|n| (start..=start.saturating_add(most)).contains(n));
        for seq in explicit
            .into_iter()
            .chain(start..=start.saturating_add(most))
        {
            self.seq = seq;
            if let Cipher::Cbc { chained_iv, .. } = &mut self.cipher {
                *chained_iv = chained;
            }
            if let Some(plain) = self.open(content_type, version, body) {
                return Some((plain, seq - start));
            }
        }
        self.seq = start;
        if let Cipher::Cbc {
            chained_iv: Some(iv),
            mac,
            encrypt_then_mac,
            ..
        } = &mut self.cipher
        {
            let sealed_len =
                body.len()
                    .saturating_sub(if *encrypt_then_mac { mac.len() } else { 0 });
            if let Some(last) = body[..sealed_len].rchunks_exact(16).next() {
                iv.copy_from_slice(last);
            }
        }
        None
    }

    /// TLS 1.3 KeyUpdate: the next generation of this direction's keys.
    pub fn updated(&self) -> Option<RecordKeys> {
        let next = expand_label(
            self.suite.hash,
            &self.secret,
            "traffic upd",
            self.suite.hash.len(),
        )?;
        RecordKeys::tls13(self.suite, &next)
    }

    fn seq_nonce(&self) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// Decrypts one record (`content_type` and `version` from its header,
    /// `body` its payload). `None` when it does not authenticate: the
    /// sequence number is then left as it was.
    pub fn open(&mut self, content_type: u8, version: u16, body: &[u8]) -> Option<Plain> {
        if matches!(self.cipher, Cipher::Cbc { .. }) {
            return self.open_cbc(content_type, version, body);
        }
        let (nonce, aad, ciphertext): ([u8; 12], Vec<u8>, &[u8]) = match self.framing {
            Framing::Tls13 => {
                let mut aad = vec![content_type];
                aad.extend_from_slice(&version.to_be_bytes());
                aad.extend_from_slice(&(body.len() as u16).to_be_bytes());
                (self.seq_nonce(), aad, body)
            }
            Framing::Tls12ExplicitNonce | Framing::Tls12 => {
                let (nonce, ciphertext) = if self.framing == Framing::Tls12 {
                    (self.seq_nonce(), body)
                } else {
                    let explicit = body.get(..8)?;
                    let mut nonce = self.iv;
                    nonce[4..].copy_from_slice(explicit);
                    (nonce, &body[8..])
                };
                let plain_len = ciphertext.len().checked_sub(16)?;
                let mut aad = self.seq.to_be_bytes().to_vec();
                aad.push(content_type);
                aad.extend_from_slice(&version.to_be_bytes());
                aad.extend_from_slice(&(plain_len as u16).to_be_bytes());
                (nonce, aad, ciphertext)
            }
        };
        let Cipher::Aead(key) = &self.cipher else {
            return None;
        };
        // A copy: ring leaves the buffer garbled when the tag does not
        // match, and `open_after_gap` tries the same body again.
        let mut buf = ciphertext.to_vec();
        let plain_len = key
            .open_in_place(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::from(&aad),
                &mut buf,
            )
            .ok()?
            .len();
        buf.truncate(plain_len);
        self.seq += 1;
        if self.framing != Framing::Tls13 {
            return Some(Plain {
                content_type,
                data: buf,
            });
        }
        // TLSInnerPlaintext: content, the real type, zero padding.
        let end = buf.iter().rposition(|&b| b != 0)?;
        let inner = buf[end];
        buf.truncate(end);
        Some(Plain {
            content_type: inner,
            data: buf,
        })
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn tls13_traffic_keys_of_rfc_8448() {
        // RFC 8448 §3, "Simple 1-RTT Handshake": the server handshake
        // traffic secret and the key and iv derived from it.
        let secret = unhex(
            "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
        );
        let suite = suite(0x1301).unwrap();
        assert_eq!(
            expand_label(suite.hash, &secret, "key", 16).unwrap(),
            unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(
            expand_label(suite.hash, &secret, "iv", 12).unwrap(),
            unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30")
        );
    }

    #[test]
    fn suites_not_decrypted_are_none() {
        assert_eq!(suite(0x000a), None, "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
        assert_eq!(suite(0x1304), None, "TLS_AES_128_CCM_SHA256");
        assert!(suite(0xc014).is_some() && suite(0x1303).is_some());
    }

    #[test]
    fn a_record_that_does_not_authenticate_is_refused() {
        let suite = suite(0x1301).unwrap();
        let mut keys = RecordKeys::tls13(suite, &[7; 32]).unwrap();
        assert_eq!(keys.open(23, 0x0303, &[0; 40]), None);
        assert_eq!(keys.seq, 0, "the sequence number stays");
        assert_eq!(keys.open(23, 0x0303, &[0; 3]), None, "shorter than a tag");
    }

    /// A TLS 1.3 record of `seq` sealed with ring (the key and IV derived
    /// from `secret` as RecordKeys does).
    fn sealed(suite: Suite, secret: &[u8], seq: u64, inner: &[u8]) -> Vec<u8> {
        let key = expand_label(suite.hash, secret, "key", suite.aead.key_len()).unwrap();
        let iv: [u8; 12] = expand_label(suite.hash, secret, "iv", 12)
            .unwrap()
            .try_into()
            .unwrap();
        let Some(Cipher::Aead(key)) = cipher(suite.aead, &key) else {
            panic!("an AEAD suite");
        };
        let mut nonce = iv;
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        let len = (inner.len() + 16) as u16;
        let aad = [23, 3, 3, (len >> 8) as u8, len as u8];
        let mut buf = inner.to_vec();
        key.seal_in_place_append_tag(
            ring::aead::Nonce::assume_unique_for_key(nonce),
            ring::aead::Aad::from(aad),
            &mut buf,
        )
        .unwrap();
        buf
    }

    #[test]
    fn each_tls13_aead_opens_after_a_gap_from_the_same_body() {
        for id in [0x1301, 0x1302, 0x1303] {
            let suite = suite(id).unwrap();
            let secret = [id as u8; 48][..suite.hash.len()].to_vec();
            let body = sealed(suite, &secret, 2, b"GET / HTTP/1.1\r\n\r\n\x17\0\0");
            let mut keys = RecordKeys::tls13(suite, &secret).unwrap();
            // Sequence numbers 0 and 1 fail on the same body before 2 fits:
            // a failed open must not have garbled it.
            let (plain, skipped) = keys.open_after_gap(23, 0x0303, &body, 4).unwrap();
            assert_eq!(skipped, 2, "suite {id:#x}");
            assert_eq!(plain.content_type, 23);
            assert_eq!(plain.data, b"GET / HTTP/1.1\r\n\r\n");
            assert_eq!(keys.seq, 3);
        }
    }
}
