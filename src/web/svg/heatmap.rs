//! The endpoint charts (README, "Endpoints"): the status × latency heatmap
//! (capture time across, log-scale total-time rows up, colour by count,
//! errors in red apart from the rest) and the p50/p99 lines of the busiest
//! endpoints. Drawn 360 units wide with 11-unit text, so a phone (390 px)
//! shows the text at 11 px or more.

use std::fmt::Write;

use super::{clip, esc, tick_label, ticks, Pen, Svg};
use crate::analysis::endpoints::{Heatmap, Series};
use crate::time::Span;
use crate::web::fmt::span_text;

const W: f64 = 360.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 8.0;

/// Blues for ordinary exchanges, reds for errors, light to dark.
const OK_SHADES: [&str; 5] = ["#dbe6f7", "#a9c2ec", "#6f95d8", "#3d6fc4", "#1f4a94"];
const ERROR_SHADES: [&str; 5] = ["#f8d4d4", "#f0a3a3", "#e06666", "#c93535", "#8f1d1d"];

/// Line colours: p50 and p99 of one endpoint share one; p99 is dashed.
const LINE_COLOURS: [&str; 6] = [
    "#2f6fde", "#c47a1c", "#2e9b57", "#9b3fc4", "#d64545", "#4a5563",
];

/// Endpoints one lines chart draws at most.
pub const LINES: usize = LINE_COLOURS.len();

/// The shade of a count among counts up to `max` (a log scale, so one
/// exchange is visible next to a thousand).
fn shade(count: u32, max: u32, shades: &[&'static str; 5]) -> &'static str {
    let f = ((count as f64).ln_1p() / (max.max(1) as f64).ln_1p()).clamp(0.0, 1.0);
    shades[((f * 4.0).round() as usize).min(4)]
}

/// A rectangle filled with one of the constant colours above (a colour
/// attribute, not a style: the CSP forbids inline styles).
fn filled(pen: &mut Pen, x: f64, y: f64, w: f64, h: f64, fill: &'static str, title: &str) {
    let _ = write!(
        pen.out,
        r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{}</title></rect>"#,
        w.max(0.0),
        h.max(0.0),
        esc(title)
    );
}

/// Short labels of round latencies: `100µs`, `5ms`, `2s` (others as
/// [`span_text`] writes them).
fn edge_label(ns: i64) -> String {
    match ns {
        n if n >= 1_000_000_000 && n % 1_000_000_000 == 0 => format!("{}s", n / 1_000_000_000),
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}ms", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}µs", n / 1_000),
        n => span_text(Span::from_nanos(n)).replace(' ', ""),
    }
}

/// The time axis under a plot from `x0` to `x1` over `range_ns`.
fn time_axis(pen: &mut Pen, x0: f64, x1: f64, y: f64, range_ns: i64) {
    pen.line(x0, y, x1, y, "axis");
    let marks = ticks(range_ns, 4);
    for t in marks {
        let x = x0 + (x1 - x0) * t as f64 / range_ns.max(1) as f64;
        pen.line(x, y, x, y + 3.0, "axis");
        // A label near the right edge ends there, so it is not cut off.
        let anchor = if x1 - x < 24.0 { "end" } else { "middle" };
        pen.text(x, y + 14.0, anchor, "tick", &tick_label(t));
    }
    pen.text(x1, y + 27.0, "end", "axis-label", "capture time");
}

/// The heatmap; empty when nothing was timed.
pub fn heatmap(h: &Heatmap) -> Svg {
    let rows = h.rows();
    let (used_lo, used_hi) = {
        let used = |r: usize| (0..h.columns).any(|c| cell(h, c, r).0 + cell(h, c, r).1 > 0);
        match ((0..rows).find(|&r| used(r)), (0..rows).rfind(|&r| used(r))) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => return Svg::default(),
        }
    };
    let shown = used_hi - used_lo + 1;
    let row_h = (150.0 / shown as f64).clamp(9.0, 18.0);
    let plot_h = row_h * shown as f64;
    let legend_y = TOP + plot_h + 34.0;
    let height = legend_y + 26.0;
    let mut pen = Pen::new(
        W,
        height,
        "chart heatmap",
        "heatmap of HTTP exchanges: capture time across, total time up, errors in red",
    );
    let col_w = (W - LEFT - RIGHT) / h.columns.max(1) as f64;
    let max_ok = h.ok.iter().flatten().copied().max().unwrap_or(0);
    let max_err = h.errors.iter().flatten().copied().max().unwrap_or(0);
    for r in used_lo..=used_hi {
        let y = TOP + (used_hi - r) as f64 * row_h;
        let label = row_label(h, r);
        // Every row is labelled when there is room; else every other.
        if row_h >= 12.0 || (used_hi - r) % 2 == 0 {
            pen.text(LEFT - 4.0, y + row_h * 0.5 + 4.0, "end", "tick", &label);
        }
        for c in 0..h.columns {
            let (ok, err) = cell(h, c, r);
            if ok + err == 0 {
                continue;
            }
            let x = LEFT + c as f64 * col_w;
            let from = h.start_ns + c as i64 * h.step_ns;
            let when = tick_label(from - h.start_ns);
            if err > 0 {
                let title = format!("{when}, {label}: {err} errors, {ok} ok");
                filled(
                    &mut pen,
                    x,
                    y,
                    col_w,
                    row_h,
                    shade(err, max_err, &ERROR_SHADES),
                    &title,
                );
            } else {
                let title = format!("{when}, {label}: {ok} exchanges");
                filled(
                    &mut pen,
                    x,
                    y,
                    col_w,
                    row_h,
                    shade(ok, max_ok, &OK_SHADES),
                    &title,
                );
            }
        }
    }
    pen.line(LEFT, TOP, LEFT, TOP + plot_h, "axis");
    time_axis(
        &mut pen,
        LEFT,
        W - RIGHT,
        TOP + plot_h,
        h.step_ns.saturating_mul(h.columns as i64),
    );
    // Legend: a few of each scale, light to dark.
    let mut x = LEFT;
    pen.text(4.0, legend_y + 9.0, "start", "axis-label", "count");
    for (shades, word) in [(&OK_SHADES, "ok"), (&ERROR_SHADES, "errors")] {
        for s in shades.iter() {
            filled(&mut pen, x, legend_y, 10.0, 10.0, s, word);
            x += 11.0;
        }
        pen.text(x + 3.0, legend_y + 9.0, "start", "axis-label", word);
        x += 48.0;
    }
    pen.text(
        W - RIGHT,
        legend_y + 9.0,
        "end",
        "axis-label",
        "y: total time",
    );
    pen.finish()
}

fn cell(h: &Heatmap, c: usize, r: usize) -> (u32, u32) {
    let get = |m: &Vec<Vec<u32>>| m.get(c).and_then(|col| col.get(r)).copied().unwrap_or(0);
    (get(&h.ok), get(&h.errors))
}

/// `<100ms`, `≥60s`, `no resp.`.
fn row_label(h: &Heatmap, r: usize) -> String {
    match h.edges_ns.get(r) {
        Some(&e) => format!("<{}", edge_label(e)),
        None if r == h.edges_ns.len() => {
            format!(
                "≥{}",
                h.edges_ns.last().map_or(String::new(), |&e| edge_label(e))
            )
        }
        None => "no resp.".to_string(),
    }
}

/// p50 (solid) and p99 (dashed) of total time per time column for the
/// endpoints of `series` (`which`: which ones, for the chart's
/// description), on a log scale; `hrefs[i]` is where the legend entry of
/// `series[i]` leads.
pub fn endpoint_lines(h: &Heatmap, series: &[Series], hrefs: &[String], which: &str) -> Svg {
    let lines: Vec<(&Series, Option<&String>)> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.p50_ns.iter().any(Option::is_some))
        .take(LINE_COLOURS.len())
        .map(|(i, s)| (s, hrefs.get(i)))
        .collect();
    let values = lines
        .iter()
        .flat_map(|(s, _)| s.p50_ns.iter().chain(&s.p99_ns).flatten().copied());
    let (lo, hi) = values.fold((i64::MAX, 0i64), |(lo, hi), v| {
        (lo.min(v.max(1)), hi.max(v))
    });
    if lines.is_empty() || hi == 0 {
        return Svg::default();
    }
    // Whole decades around the values.
    let lo_exp = (lo as f64).log10().floor() as i32;
    let hi_exp = ((hi as f64).log10().ceil() as i32).max(lo_exp + 1);
    let plot_h = 150.0;
    let legend_y = TOP + plot_h + 58.0;
    let height = legend_y + lines.len() as f64 * 15.0 + 4.0;
    let mut pen = Pen::new(
        W,
        height,
        "chart lines",
        &format!("p50 and p99 of total time over capture time, for {which}"),
    );
    let x_of = |c: usize| LEFT + (c as f64 + 0.5) * (W - LEFT - RIGHT) / h.columns.max(1) as f64;
    let y_of = |ns: i64| {
        let f = ((ns.max(1) as f64).log10() - lo_exp as f64) / (hi_exp - lo_exp) as f64;
        TOP + plot_h * (1.0 - f.clamp(0.0, 1.0))
    };
    for e in lo_exp..=hi_exp {
        let ns = 10f64.powi(e) as i64;
        let y = y_of(ns);
        pen.line(LEFT, y, W - RIGHT, y, "grid");
        pen.text(LEFT - 4.0, y + 4.0, "end", "tick", &edge_label(ns));
    }
    pen.line(LEFT, TOP, LEFT, TOP + plot_h, "axis");
    time_axis(
        &mut pen,
        LEFT,
        W - RIGHT,
        TOP + plot_h,
        h.step_ns.saturating_mul(h.columns as i64),
    );
    for (i, (s, href)) in lines.iter().enumerate() {
        let colour = LINE_COLOURS[i % LINE_COLOURS.len()];
        for (values, dash) in [(&s.p50_ns, ""), (&s.p99_ns, r#" stroke-dasharray="4 3""#)] {
            let mut d = String::new();
            let mut pen_down = false;
            for (c, v) in values.iter().enumerate() {
                match v {
                    Some(v) => {
                        let _ = write!(
                            d,
                            "{}{:.1} {:.1} ",
                            if pen_down { "L" } else { "M" },
                            x_of(c),
                            y_of(*v)
                        );
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            let _ = write!(
                pen.out,
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>"#,
                d.trim_end()
            );
        }
        // Dots too: a column alone (one exchange, or gaps around it) has
        // no line to draw. p50 filled, p99 hollow.
        for (values, fill) in [(&s.p50_ns, colour), (&s.p99_ns, "#fff")] {
            for (c, v) in values.iter().enumerate() {
                if let Some(v) = v {
                    let _ = write!(
                        pen.out,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{fill}" stroke="{colour}" stroke-width="1.2"/>"#,
                        x_of(c),
                        y_of(*v)
                    );
                }
            }
        }
        let y = legend_y + i as f64 * 15.0;
        let name = format!("{} {}", s.method.as_deref().unwrap_or("-"), s.template);
        if let Some(href) = href {
            pen.open_link(href);
        }
        let _ = write!(
            pen.out,
            r#"<line x1="4" y1="{:.1}" x2="22" y2="{:.1}" stroke="{colour}" stroke-width="2.5"/>"#,
            y - 4.0,
            y - 4.0
        );
        pen.text(27.0, y, "start", "label", &clip(&name, 50));
        if href.is_some() {
            pen.close_link();
        }
    }
    pen.text(
        4.0,
        legend_y - 12.0,
        "start",
        "axis-label",
        "p50: solid line, filled dot; p99: dashed, hollow",
    );
    pen.finish()
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::analysis::endpoints::{timeline, Sample};
    use crate::time::Timestamp;

    fn samples() -> Vec<Sample> {
        (0..100)
            .map(|i| {
                Sample::new(
                    (i % 2) as u32,
                    Timestamp::from_nanos(i * 100_000_000),
                    (i != 7).then_some(Span::from_nanos(1_000_000 * (1 + i))),
                    i % 10 == 7,
                )
            })
            .collect()
    }

    #[test]
    fn the_heatmap_has_axes_a_legend_and_red_errors() {
        let t = timeline(&samples(), 2);
        let svg = heatmap(&t.heatmap).to_string();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("capture time"));
        assert!(svg.contains("no resp."));
        assert!(svg.contains("errors"));
        assert!(ERROR_SHADES
            .iter()
            .any(|s| svg.contains(&format!("fill=\"{s}\""))));
        assert!(svg.contains("viewBox=\"0 0 360 "));
        assert!(heatmap(&Heatmap::default()).is_empty());
    }

    #[test]
    fn lines_have_one_path_per_percentile_and_a_legend() {
        let mut t = timeline(&samples(), 2);
        t.series[1].method = Some("GET".into());
        t.series[1].template = "/b <x>".into();
        let hrefs = vec!["/x?a=1&b=2".to_string(), "/y".to_string()];
        let svg =
            endpoint_lines(&t.heatmap, &t.series, &hrefs, "the busiest endpoints").to_string();
        assert_eq!(svg.matches("<path").count(), 4);
        assert!(svg.contains("GET /b &lt;x&gt;"));
        assert!(svg.contains("href=\"/x?a=1&amp;b=2\""));
        assert!(endpoint_lines(&t.heatmap, &[], &hrefs, "none").is_empty());
    }
}
