//! Capture time: a `Timestamp` is nanoseconds since the Unix epoch.
//!
//! Nanoseconds in an `i64` cover the years 1678..2262, enough for any
//! capture, and keep arithmetic exact (tshark prints 9 decimals too).
//! Differences are signed because captures are not always in time order.

use std::fmt;

/// A point in time, nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A signed span between two timestamps, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(i64);

impl Timestamp {
    /// The wall clock now (the epoch if the clock is before it).
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_nanos(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    pub const ZERO: Timestamp = Timestamp(0);

    pub const fn from_nanos(nanos: i64) -> Self {
        Timestamp(nanos)
    }

    /// Seconds and a fraction expressed in units of `10^-exp` (or `2^-exp`
    /// when `binary`), as pcapng's `if_tsresol` describes them.
    pub fn from_parts(secs: i64, frac: u64, units_per_sec: u64) -> Self {
        let units = units_per_sec.max(1);
        let frac_nanos = (frac as u128 * 1_000_000_000u128 / units as u128) as i64;
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(frac_nanos),
        )
    }

    pub fn from_secs_f64(secs: f64) -> Self {
        Timestamp((secs * 1e9).round() as i64)
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as a JSON-friendly float (µs precision survives).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    pub fn since(self, earlier: Timestamp) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }
}

impl Span {
    pub const ZERO: Span = Span(0);

    pub const fn from_nanos(nanos: i64) -> Self {
        Span(nanos)
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl fmt::Display for Timestamp {
    /// `seconds.nanoseconds`, as tshark's `frame.time_epoch`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000);
        write!(f, "{secs}.{nanos:09}")
    }
}

impl fmt::Display for Span {
    /// Human units: `812 µs`, `12.3 ms`, `2.003 s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let abs = ns.unsigned_abs();
        let sign = if ns < 0 { "-" } else { "" };
        if abs < 1_000 {
            write!(f, "{sign}{abs} ns")
        } else if abs < 1_000_000 {
            write!(f, "{sign}{:.0} µs", abs as f64 / 1e3)
        } else if abs < 1_000_000_000 {
            write!(f, "{sign}{:.1} ms", abs as f64 / 1e6)
        } else {
            write!(f, "{sign}{:.3} s", abs as f64 / 1e9)
        }
    }
}

impl serde::Serialize for Timestamp {
    /// Seconds since the epoch as a JSON number (README, "What the numbers mean").
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_secs_f64())
    }
}

impl serde::Serialize for Span {
    /// Seconds as a JSON number.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_secs_f64())
    }
}

/// Seconds as a JSON number, back to nanoseconds (rounded: the JSON
/// holds microsecond precision at least).
fn secs_from<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let secs = <f64 as serde::Deserialize>::deserialize(d)?;
    if !secs.is_finite() || secs.abs() > 9.2e9 {
        return Err(serde::de::Error::custom(format!(
            "{secs} is not a time in seconds"
        )));
    }
    Ok((secs * 1e9).round() as i64)
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        secs_from(d).map(Timestamp)
    }
}

impl<'de> serde::Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        secs_from(d).map(Span)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parts_at_every_resolution() {
        assert_eq!(
            Timestamp::from_parts(1, 5, 1_000_000).as_nanos(),
            1_000_005_000
        );
        assert_eq!(
            Timestamp::from_parts(1, 5, 1_000_000_000).as_nanos(),
            1_000_000_005
        );
        // 2^-10 resolution: 512/1024 s = 0.5 s
        assert_eq!(Timestamp::from_parts(0, 512, 1024).as_nanos(), 500_000_000);
    }

    #[test]
    fn display() {
        assert_eq!(
            Timestamp::from_nanos(1_500_000_001).to_string(),
            "1.500000001"
        );
        assert_eq!(Span::from_nanos(2_003_000_000).to_string(), "2.003 s");
        assert_eq!(Span::from_nanos(12_300_000).to_string(), "12.3 ms");
        assert_eq!(Span::from_nanos(812_000).to_string(), "812 µs");
    }
}
