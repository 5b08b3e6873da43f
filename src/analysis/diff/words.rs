//! How the comparison's sentences write numbers: durations in human units
//! (as [`Span`] displays them), ratios as `11×`, rates as `4.1%`.

use crate::time::Span;

/// `12.0 ms`, `2.003 s`, or `–` without a value.
pub fn span(s: Option<Span>) -> String {
    s.map_or_else(|| "–".to_string(), |s| s.to_string())
}

/// `2.5×` under ten, `11×` from ten on.
pub fn ratio(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.0}×")
    }
}

/// A fraction as a percentage: `0%`, `4.1%` under ten, `25%` from ten on.
pub fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p == 0.0 {
        "0%".to_string()
    } else if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// `1 request`, `3 requests`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
