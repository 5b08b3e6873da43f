//! Human sizes and durations on the command line (`100MB`, `1GiB`, `500k`,
//! `30s`, `5m`, `1h`) and their display in messages and the status line.

use std::fmt;
use std::time::Duration;

/// Why a size or duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(
        "{input:?} is not a size: expected a number and an optional unit (k, M, G, KiB, MiB, GiB)"
    )]
    BadSize { input: String },
    #[error("{input:?} is not a duration: expected a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 1h")]
    BadDuration { input: String },
    #[error("{input:?} is too large")]
    Overflow { input: String },
}

/// Splits `"100MB"` into `("100", "MB")`; the number may have a fraction.
fn split_number(input: &str) -> (&str, &str) {
    let end = input
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(input.len());
    (&input[..end], input[end..].trim())
}

/// Parses a byte count. Decimal units are powers of 1000 (`k`, `M`, `G`, `T`,
/// with or without `B`), binary units powers of 1024 (`Ki`, `Mi`, `Gi`, `Ti`,
/// with or without `B`); a bare number is bytes. Units are case-insensitive
/// except that `b` alone still means bytes (there are no bit units).
pub fn parse_size(input: &str) -> Result<u64, Error> {
    let bad = || Error::BadSize {
        input: input.to_string(),
    };
    let (num, unit) = split_number(input.trim());
    if num.is_empty() || num == "." {
        return Err(bad());
    }
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        "ti" | "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = (value * mult as f64).round();
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(Error::Overflow {
            input: input.to_string(),
        });
    }
    Ok(bytes as u64)
}

/// Parses a duration: a number and a unit `ms`, `s`, `m`, `h` or `d`
/// (`30s`, `5m`, `1.5h`); a bare number is seconds.
pub fn parse_duration(input: &str) -> Result<Duration, Error> {
    let bad = || Error::BadDuration {
        input: input.to_string(),
    };
    let (num, unit) = split_number(input.trim());
    if num.is_empty() || num == "." {
        return Err(bad());
    }
    let secs_per_unit: f64 = match unit.to_ascii_lowercase().as_str() {
        "ms" => 0.001,
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(bad()),
    };
    let value: f64 = num.parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(value * secs_per_unit).map_err(|_| Error::Overflow {
        input: input.to_string(),
    })
}

/// A byte count for people: `812 B`, `12.3 kB`, `100 MB`, `1.07 GB` (powers of 1000,
/// as `--max-size 100MB` is written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        const UNITS: [(u64, &str); 4] = [
            (1_000_000_000_000, "TB"),
            (1_000_000_000, "GB"),
            (1_000_000, "MB"),
            (1_000, "kB"),
        ];
        for (size, name) in UNITS {
            if n >= size {
                let v = n as f64 / size as f64;
                return if v >= 100.0 || (v.fract() == 0.0) {
                    write!(f, "{v:.0} {name}")
                } else if v >= 10.0 {
                    write!(f, "{v:.1} {name}")
                } else {
                    write!(f, "{v:.2} {name}")
                };
            }
        }
        write!(f, "{n} B")
    }
}

/// Elapsed time as `h:mm:ss`.
#[derive(Clone, Copy, Debug)]
pub struct Clock(pub Duration);

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        write!(f, "{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("100mb"), Ok(100_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("500k"), Ok(500_000));
        assert_eq!(parse_size("8KiB"), Ok(8192));
        assert_eq!(parse_size("1.5M"), Ok(1_500_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size(" 12 kB "), Ok(12_000));
        assert!(parse_size("MB").is_err());
        assert!(parse_size("10 parsecs").is_err());
        assert!(parse_size("-5k").is_err());
        assert!(parse_size("1.2.3k").is_err());
        assert!(matches!(
            parse_size("99999999999T"),
            Err(Error::Overflow { .. })
        ));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5 fortnights").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn display() {
        assert_eq!(Bytes(812).to_string(), "812 B");
        assert_eq!(Bytes(12_345).to_string(), "12.3 kB");
        assert_eq!(Bytes(100_000_000).to_string(), "100 MB");
        assert_eq!(Bytes(1_073_741_824).to_string(), "1.07 GB");
        assert_eq!(Bytes(5_000).to_string(), "5 kB");
        assert_eq!(Clock(Duration::from_secs(3725)).to_string(), "1:02:05");
    }
}
