//! TLS key logs: the NSS key log format that SSLKEYLOGFILE writes (RFC
//! 9850): `CLIENT_RANDOM` for TLS ≤ 1.2 and the TLS 1.3 traffic secrets,
//! each keyed by the ClientHello's random. Read from a file given with the
//! capture or from a pcapng Decryption Secrets Block. The secrets are never
//! shown: not in `Debug`, not in a warning.

use std::collections::HashMap;
use std::fmt;

/// Most sessions kept from key logs; further lines are ignored (with a
/// warning), so a huge key log cannot take the memory.
pub const MAX_SESSIONS: usize = 1 << 20;
/// Most warnings kept (one per bad line, then a count).
const MAX_WARNINGS: usize = 20;

/// The secrets of one session (one ClientHello random).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS ≤ 1.2: the 48-byte master secret.
    pub master: Option<Vec<u8>>,
    pub client_handshake: Option<Vec<u8>>,
    pub server_handshake: Option<Vec<u8>>,
    /// TLS 1.3: the first application traffic secrets.
    pub client_traffic: Option<Vec<u8>>,
    pub server_traffic: Option<Vec<u8>>,
}

/// Secrets by client random, from any number of key logs.
#[derive(Clone, Default)]
pub struct KeyLog {
    sessions: HashMap<[u8; 32], Secrets>,
    warnings: Vec<String>,
    bad_lines: u64,
}

impl fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material stays out of logs and panics.
        f.debug_struct("KeyLog")
            .field("sessions", &self.sessions.len())
            .field("warnings", &self.warnings.len())
            .finish()
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// `0x3f2a…` text to bytes, `None` unless it is all hex digits, whole bytes.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

impl KeyLog {
    /// Reads a key log's text; `source` names it in warnings (`keys.txt`).
    pub fn parse(text: &str, source: &str) -> KeyLog {
        let mut log = KeyLog::default();
        log.add(text, source);
        log
    }

    /// Adds the lines of another key log. A line that is not a key log
    /// line gets a warning naming `source` and its number; the rest are
    /// used.
    pub fn add(&mut self, text: &str, source: &str) {
        for (i, line) in text.lines().enumerate() {
            // A Decryption Secrets Block pads its text with NULs.
            let line = line.trim_matches(|c: char| c == '\0' || c.is_whitespace());
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Err(why) = self.line(line) {
                self.bad_lines += 1;
                if self.warnings.len() < MAX_WARNINGS {
                    self.warnings
                        .push(format!("{source} line {}: {why}; line ignored", i + 1));
                }
            }
        }
    }

    fn line(&mut self, line: &str) -> Result<(), &'static str> {
        let mut words = line.split_ascii_whitespace();
        let (Some(label), Some(random), Some(secret), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err("not LABEL CLIENT_RANDOM SECRET");
        };
        if label == "RSA" {
            // `RSA <encrypted pre-master, first 8 bytes> <pre-master>`
            // (NSS, curl): the CLIENT_RANDOM line SSLKEYLOGFILE writes for
            // the same session is what decryption here uses.
            return Ok(());
        }
        let random: [u8; 32] = unhex(random)
            .and_then(|r| r.try_into().ok())
            .ok_or("the client random is not 32 bytes of hex")?;
        let secret = unhex(secret).ok_or("the secret is not hex")?;
        if self.sessions.len() >= MAX_SESSIONS && !self.sessions.contains_key(&random) {
            return Err("too many sessions in the key logs");
        }
        let slot: fn(&mut Secrets) -> &mut Option<Vec<u8>> = match label {
            "CLIENT_RANDOM" => {
                if secret.len() != 48 {
                    return Err("a CLIENT_RANDOM master secret is 48 bytes");
                }
                |s: &mut Secrets| &mut s.master
            }
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => |s: &mut Secrets| &mut s.client_handshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => |s: &mut Secrets| &mut s.server_handshake,
            "CLIENT_TRAFFIC_SECRET_0" => |s: &mut Secrets| &mut s.client_traffic,
            "SERVER_TRAFFIC_SECRET_0" => |s: &mut Secrets| &mut s.server_traffic,
            // Known labels that decryption here does not need.
            "EXPORTER_SECRET" | "EARLY_EXPORTER_SECRET" | "CLIENT_EARLY_TRAFFIC_SECRET" => {
                return Ok(())
            }
            _ => return Err("unknown label"),
        };
        if !matches!(secret.len(), 32 | 48) {
            return Err("a secret is 32 or 48 bytes");
        }
        *slot(self.sessions.entry(random).or_default()) = Some(secret);
        Ok(())
    }

    /// The secrets of the session whose ClientHello had this random.
    pub fn get(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.sessions.get(client_random)
    }

    /// Sessions known.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Secrets known, over all sessions (one per key log line used).
    pub fn secrets(&self) -> usize {
        self.sessions
            .values()
            .map(|s| {
                [
                    &s.master,
                    &s.client_handshake,
                    &s.server_handshake,
                    &s.client_traffic,
                    &s.server_traffic,
                ]
                .iter()
                .filter(|x| x.is_some())
                .count()
            })
            .sum()
    }

    /// What was wrong with the key logs, one line per bad line (the first
    /// few), then how many more.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = self.warnings.clone();
        let more = self.bad_lines.saturating_sub(self.warnings.len() as u64);
        if more > 0 {
            out.push(format!("{more} more key log line(s) ignored"));
        }
        out
    }
}

#[cfg(test)]
mod test {
    use super::*;

    const RANDOM: &str = "3f2a000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn every_label_lands_in_its_slot() {
        let text = format!(
            "# comment\n\
             CLIENT_RANDOM {RANDOM} {m}\n\
             CLIENT_HANDSHAKE_TRAFFIC_SECRET {RANDOM} {s}\n\
             SERVER_HANDSHAKE_TRAFFIC_SECRET {RANDOM} {s}\n\
             CLIENT_TRAFFIC_SECRET_0 {RANDOM} {s}\n\
             SERVER_TRAFFIC_SECRET_0 {RANDOM} {s}\n\
             EXPORTER_SECRET {RANDOM} {s}\n\
             RSA 73138d27d1b8e017 {m}\n",
            m = "11".repeat(48),
            s = "22".repeat(32)
        );
        let log = KeyLog::parse(&text, "keys.txt");
        assert!(log.warnings().is_empty(), "{:?}", log.warnings());
        let mut random = [0u8; 32];
        random[0] = 0x3f;
        random[1] = 0x2a;
        random[31] = 1;
        let s = log.get(&random).unwrap();
        assert_eq!(s.master.as_deref(), Some(&[0x11; 48][..]));
        assert!(s.client_handshake.is_some() && s.server_traffic.is_some());
        assert_eq!((log.len(), log.secrets()), (1, 5));
    }

    #[test]
    fn garbage_lines_are_warned_about_by_number_and_the_rest_used() {
        let secret = "ab".repeat(48);
        let text = format!(
            "garbage\nCLIENT_RANDOM zz {secret}\nCLIENT_RANDOM {RANDOM} {secret}\nNOPE {RANDOM} {secret}\n\u{0}\u{1}\n"
        );
        let log = KeyLog::parse(&text, "keys.txt");
        assert_eq!(log.len(), 1);
        let w = log.warnings();
        assert_eq!(w.len(), 4, "{w:?}");
        assert_eq!(
            w[0],
            "keys.txt line 1: not LABEL CLIENT_RANDOM SECRET; line ignored"
        );
        assert!(w[1].starts_with("keys.txt line 2: the client random"));
        assert!(w[2].starts_with("keys.txt line 4: unknown label"));
        // No secret in any warning, nor in Debug.
        assert!(w.iter().all(|l| !l.contains("abab")));
        assert!(!format!("{log:?}").contains("abab"));
    }

    #[test]
    fn warnings_are_capped() {
        let text = "x\n".repeat(1000);
        let w = KeyLog::parse(&text, "k").warnings();
        assert_eq!(w.len(), MAX_WARNINGS + 1);
        assert_eq!(w[MAX_WARNINGS], "980 more key log line(s) ignored");
    }
}
