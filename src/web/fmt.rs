//! Values as the pages show them, the one place the web UI formats a size
//! or a duration (capture and strace pages alike): human units with three
//! significant digits (`812 µs`, `1.23 ms`, `13.5 ms`, `2.003 s`,
//! `5.00 kB`) with the exact value kept for a `title` attribute, so
//! hovering shows full precision; and capture bytes as text (non-printable
//! bytes escaped) or as a hex dump.

use std::fmt::{self, Display};

use crate::time::{Span, Timestamp};

/// A value shown in human units, with its exact form for hovering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Human {
    pub text: String,
    pub full: String,
}

impl Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn sig3(v: f64) -> String {
    if v >= 99.95 {
        format!("{v:.0}")
    } else if v >= 9.995 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A duration: `850 ns`, `812 µs`, `13.5 ms`, `2.003 s`, `3 min 20 s`.
pub fn span_text(s: Span) -> String {
    let ns = s.as_nanos();
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs();
    let body = if a == 0 {
        "0".to_string()
    } else if a < 1_000 {
        format!("{a} ns")
    } else if a < 1_000_000 {
        format!("{} µs", sig3(a as f64 / 1e3))
    } else if a < 1_000_000_000 {
        format!("{} ms", sig3(a as f64 / 1e6))
    } else if a < 60_000_000_000 {
        format!("{:.3} s", a as f64 / 1e9)
    } else if a < 3_600_000_000_000 {
        let secs = a / 1_000_000_000;
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else {
        let mins = a / 60_000_000_000;
        format!("{} h {:02} min", mins / 60, mins % 60)
    };
    format!("{sign}{body}")
}

/// Seconds with every digit: `2.003128512 s`.
pub fn span_full(s: Span) -> String {
    let ns = s.as_nanos();
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs();
    format!("{sign}{}.{:09} s", a / 1_000_000_000, a % 1_000_000_000)
}

/// A duration, or a dash when unknown.
pub fn dur(s: &Option<Span>) -> Human {
    match s {
        Some(s) => span(s),
        None => Human {
            text: "–".into(),
            full: "not seen".into(),
        },
    }
}

pub fn span(s: &Span) -> Human {
    Human {
        text: span_text(*s),
        full: span_full(*s),
    }
}

/// A whole number with thin-space thousands separators: `1 234 567`.
pub fn count(n: &u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// `n` (at least `base`) in the largest of `units` (each `base` times the
/// one before, the first `base` bytes) that keeps it under `carry`, the
/// value that would print as `base` once rounded.
fn scaled(n: u64, base: f64, carry: f64, units: &[&'static str]) -> (f64, &'static str) {
    let mut v = n as f64 / base;
    let mut u = 0;
    while v >= carry && u + 1 < units.len() {
        v /= base;
        u += 1;
    }
    (v, units[u])
}

/// A size: `512 B`, `21.6 kB`, `1.35 MB` (powers of 1000), exact on hover.
pub fn bytes(n: &u64) -> Human {
    let n = *n;
    let text = if n < 1000 {
        format!("{n} B")
    } else {
        let (v, unit) = scaled(n, 1000.0, 999.5, &["kB", "MB", "GB", "TB", "PB", "EB"]);
        format!("{} {unit}", sig3(v))
    };
    Human {
        text,
        full: format!("{} bytes", count(&n)),
    }
}

/// A byte count as the kernel returns it (powers of 1024, as `ls -h`
/// and strace users count): `812 B`, `203.6 KiB`, `1.4 MiB`; the exact
/// count on hover.
pub fn kib(n: u64) -> Human {
    let text = if n < 1024 {
        format!("{n} B")
    } else {
        let (v, unit) = scaled(
            n,
            1024.0,
            1023.95,
            &["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"],
        );
        format!("{v:.1} {unit}")
    };
    Human {
        text,
        full: format!("{n} bytes"),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `2024-05-01 12:34:56 UTC`.
pub fn when_text(t: Timestamp) -> String {
    let ns = t.as_nanos();
    let secs = ns.div_euclid(1_000_000_000);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A moment: date and time (UTC) shown, nanoseconds and epoch seconds on hover.
pub fn when(t: &Option<Timestamp>) -> Human {
    match t {
        Some(t) => {
            let ns = t.as_nanos().rem_euclid(1_000_000_000);
            let text = when_text(*t);
            let full = format!("{}.{ns:09} UTC (epoch {t})", text.trim_end_matches(" UTC"));
            Human { text, full }
        }
        None => Human {
            text: "–".into(),
            full: "no timestamp".into(),
        },
    }
}

/// A moment relative to `base`: `+1.234 s`.
pub fn rel(t: &Option<Timestamp>, base: &Option<Timestamp>) -> Human {
    match (t, base) {
        (Some(t), Some(b)) => {
            let s = t.since(*b);
            Human {
                text: format!("+{}", span_text(s)),
                full: format!(
                    "+{} after the start ({})",
                    span_full(s),
                    when(&Some(*t)).full
                ),
            }
        }
        _ => dur(&None),
    }
}

/// A piece of followed-stream text: plain, or an escape for bytes that
/// are not printable (`\x00`, `\r`, invisible Unicode).
pub struct Piece {
    pub text: String,
    pub esc: bool,
}

fn push(out: &mut Vec<Piece>, text: &str, esc: bool) {
    match out.last_mut() {
        Some(p) if p.esc == esc => p.text.push_str(text),
        _ => out.push(Piece {
            text: text.to_string(),
            esc,
        }),
    }
}

/// Characters that change how text around them is shown (bidirectional
/// overrides, zero-width characters): escaped so a capture cannot disguise
/// what it contains.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{00ad}')
}

/// Bytes as text: UTF-8 shown as is, CR LF as a line break, other control
/// characters, invalid bytes and invisible characters as escapes.
pub fn text_pieces(bytes: &[u8]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4];
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut chars = valid.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\n' | '\t' => push(&mut out, c.encode_utf8(&mut buf), false),
                '\r' if chars.peek() == Some(&'\n') => {}
                '\r' => push(&mut out, "\\r", true),
                c if c.is_control() => push(&mut out, &format!("\\x{:02x}", c as u32), true),
                c if is_invisible(c) => push(&mut out, &format!("\\u{{{:04x}}}", c as u32), true),
                c => push(&mut out, c.encode_utf8(&mut buf), false),
            }
        }
        for b in chunk.invalid() {
            push(&mut out, &format!("\\x{b:02x}"), true);
        }
    }
    out
}

/// Bytes as a hex dump: offset, 16 bytes in hex, the printable ASCII.
pub fn hex_lines(bytes: &[u8], start: usize) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, row)| {
            let mut hex = String::with_capacity(50);
            for (j, b) in row.iter().enumerate() {
                if j == 8 {
                    hex.push(' ');
                }
                hex.push_str(&format!("{b:02x} "));
            }
            let ascii: String = row
                .iter()
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            format!("{:08x}  {hex:<49} {ascii}", start + i * 16)
        })
        .collect()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn byte_counts_in_binary_units() {
        assert_eq!(kib(812).text, "812 B");
        assert_eq!(kib(208_486).text, "203.6 KiB");
        assert_eq!(kib(208_486).full, "208486 bytes");
        assert_eq!(kib(1024 * 1024).text, "1.0 MiB");
    }

    fn shown(bytes: &[u8]) -> String {
        text_pieces(bytes)
            .iter()
            .map(|p| {
                if p.esc {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn stream_text_escapes_what_is_not_printable() {
        assert_eq!(
            shown(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            "GET / HTTP/1.1\nHost: a\n\n"
        );
        assert_eq!(
            shown(b"a\x00\x01b\rc\xff\xfe"),
            "a[\\x00\\x01]b[\\r]c[\\xff\\xfe]"
        );
        assert_eq!(shown("x\u{202e}y é".as_bytes()), "x[\\u{202e}]y é");
        assert_eq!(
            shown(b"<script>"),
            "<script>",
            "markup is text; askama escapes it"
        );
    }

    #[test]
    fn hex_dump() {
        let lines = hex_lines(b"GET / HTTP/1.1\r\nHost", 0);
        assert_eq!(
            lines[0],
            "00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1.."
        );
        assert!(lines[1].starts_with("00000010  48 6f 73 74"));
        assert!(lines[1].ends_with(" Host"));
    }

    #[test]
    fn human_units() {
        let s = |ns: i64| span_text(Span::from_nanos(ns));
        assert_eq!(s(850), "850 ns");
        assert_eq!(s(812_400), "812 µs");
        assert_eq!(s(1_234_000), "1.23 ms");
        assert_eq!(s(13_512_345), "13.5 ms");
        assert_eq!(s(2_003_128_512), "2.003 s");
        assert_eq!(s(200_000_000_000), "3 min 20 s");
        assert_eq!(span_full(Span::from_nanos(2_003_128_512)), "2.003128512 s");
        assert_eq!(bytes(&27_544).text, "27.5 kB");
        assert_eq!(bytes(&27_544).full, "27\u{2009}544 bytes");
        assert_eq!(bytes(&999).text, "999 B");
        assert_eq!(bytes(&999_999).text, "1.00 MB");
        assert_eq!(count(&1_234_567), "1\u{2009}234\u{2009}567");
        assert_eq!(count(&12), "12");
    }

    #[test]
    fn dates() {
        let t = Timestamp::from_nanos(1_714_566_896_123_456_789);
        assert_eq!(when_text(t), "2024-05-01 12:34:56 UTC");
        assert_eq!(
            when(&Some(t)).full,
            "2024-05-01 12:34:56.123456789 UTC (epoch 1714566896.123456789)"
        );
        assert_eq!(
            when_text(Timestamp::from_nanos(0)),
            "1970-01-01 00:00:00 UTC"
        );
        assert_eq!(
            when_text(Timestamp::from_nanos(951_782_400 * 1_000_000_000)),
            "2000-02-29 00:00:00 UTC"
        );
    }
}
