//! Charts drawn as inline SVG on the server, one way for every page:
//! a [`Pen`] collects shapes and gives a finished [`Svg`]; [`ticks`] puts
//! round marks on an axis. `capture.rs` draws the capture charts (latency
//! histogram, conversation timeline, ladder, waterfall), `heatmap.rs` the
//! endpoint ones (status × latency heatmap, p50/p99 lines), `strace.rs` the
//! strace ones (process lifetimes, one process's calls).
//!
//! [`Svg`] can only be made here, and every piece of text that goes into
//! it (addresses, URIs, anything from a capture or a log) passes through
//! [`esc`]; that is what lets templates print an `Svg` without escaping it
//! again. Colours come from classes styled in `static/` (the CSP forbids
//! inline styles).

mod capture;
mod heatmap;
mod strace;
mod waterfall;

pub use capture::{histogram, ladder, timeline, waterfall, ErrorMark, Fit, Rung};
pub use heatmap::{endpoint_lines, heatmap, LINES};
pub use strace::{lifetimes, process_timeline, Lane, MAX_LANES};
pub use waterfall::streams;

use std::fmt::{self, Display, Write};

use super::fmt::span_text;
use crate::time::Span;

/// Finished SVG markup whose text content is escaped.
#[derive(Clone, Debug, Default)]
pub struct Svg(String);

impl Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Svg {}

impl Svg {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Escapes text for XML/HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Shortens text to `max` characters with an ellipsis.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Collects elements; every text argument is escaped on the way in.
pub struct Pen {
    out: String,
}

impl Pen {
    /// A drawing `w` by `h` units; `class` is the root's classes (the
    /// page's stylesheet styles the chart by them), `label` its
    /// description for screen readers. The drawing's natural size is one
    /// CSS pixel a unit: pages may let a chart grow past it but never
    /// shrink it (its box scrolls instead), so text drawn at 11 units is
    /// never read smaller than 11 px, on a phone too.
    pub fn new(w: f64, h: f64, class: &str, label: &str) -> Pen {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="{}" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-label="{}" preserveAspectRatio="xMinYMin meet">"#,
            esc(class),
            esc(label)
        );
        Pen { out }
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, title: &str) {
        let _ = write!(
            self.out,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" class="{}">"#,
            w.max(0.0),
            h.max(0.0),
            esc(class)
        );
        if !title.is_empty() {
            let _ = write!(self.out, "<title>{}</title>", esc(title));
        }
        self.out.push_str("</rect>");
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" class="{}"/>"#,
            esc(class)
        );
    }

    pub fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) {
        let _ = write!(
            self.out,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{}" class="{}">{}</text>"#,
            esc(anchor),
            esc(class),
            esc(text)
        );
    }

    /// An arrow from (x1, y1) to (x2, y2) with its head at the end.
    pub fn arrow(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str, title: &str) {
        let _ = write!(self.out, r#"<g class="{}">"#, esc(class));
        if !title.is_empty() {
            let _ = write!(self.out, "<title>{}</title>", esc(title));
        }
        self.line(x1, y1, x2, y2, "shaft");
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let (bx, by) = (x2 - ux * 9.0, y2 - uy * 9.0);
        let (px, py) = (-uy * 4.5, ux * 4.5);
        let _ = write!(
            self.out,
            r#"<path d="M{x2:.1} {y2:.1} L{:.1} {:.1} L{:.1} {:.1} Z" class="head"/></g>"#,
            bx + px,
            by + py,
            bx - px,
            by - py
        );
    }

    pub fn open_link(&mut self, href: &str) {
        let _ = write!(self.out, r#"<a href="{}">"#, esc(href));
    }

    pub fn close_link(&mut self) {
        self.out.push_str("</a>");
    }

    pub fn finish(mut self) -> Svg {
        self.out.push_str("</svg>");
        Svg(self.out)
    }
}

/// Round marks for an axis from 0 to `range` (nanoseconds, or a count):
/// about `about` of them, a step of 1, 2 or 5 times a power of ten.
pub fn ticks(range: i64, about: i64) -> Vec<i64> {
    if range <= 0 {
        return vec![0];
    }
    let raw = (range / about.max(1)).max(1);
    let mut p = 1i64;
    while p.saturating_mul(10) <= raw {
        p *= 10;
    }
    let step = [1, 2, 5, 10]
        .into_iter()
        .map(|m| p.saturating_mul(m))
        .find(|&s| s >= raw)
        .unwrap_or(p.saturating_mul(10));
    (0..=range / step).map(|i| i * step).collect()
}

/// The label of a mark on a time axis: `0`, `+500 ms`, `+1.000 s`.
pub fn tick_label(ns: i64) -> String {
    if ns == 0 {
        "0".to_string()
    } else {
        format!("+{}", span_text(Span::from_nanos(ns)))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<script>\"'&\u{7}"),
            "&lt;script&gt;&quot;&#39;&amp;\u{fffd}"
        );
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(1_000, 6), vec![0, 200, 400, 600, 800, 1000]);
        assert_eq!(ticks(10_000, 5), vec![0, 2000, 4000, 6000, 8000, 10_000]);
        assert_eq!(ticks(2_100_000_000, 5).len(), 5, "0 to 2 s by 0.5 s");
        assert_eq!(ticks(6_000_000_000, 6)[1], 1_000_000_000);
        assert_eq!(ticks(1, 6), vec![0, 1]);
        assert_eq!(ticks(0, 6), vec![0]);
        assert_eq!(tick_label(0), "0");
        assert_eq!(tick_label(500_000_000), "+500 ms");
    }
}
