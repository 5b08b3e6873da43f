//! The strace charts: the lifetimes of all processes on one time axis, and
//! the calls of one process. However many calls a process made,
//! neighbouring calls that fall on the same pixel are merged, so a chart
//! holds at most a few thousand shapes.

use super::{tick_label, ticks, Pen, Svg};
use crate::strace::TimelineItem;
use crate::time::Span;
use crate::web::fmt::span_text;

/// Drawing width in SVG units (about pixels).
const WIDTH: f64 = 1100.0;
/// Left edge of the plot in the per-process chart.
const PLOT_X: f64 = 16.0;
/// Left gutter for process labels in the lifetime chart.
const GUTTER: f64 = 260.0;
/// Most process lanes drawn.
pub const MAX_LANES: usize = 200;
/// Classes of the charts' root (styled in `static/strace.css`).
const CLASS: &str = "st-chart";

/// A rectangle that links to `href`, or a plain one.
fn linked_rect(pen: &mut Pen, href: Option<&str>, at: [f64; 4], class: &str, title: &str) {
    if let Some(h) = href {
        pen.open_link(h);
    }
    pen.rect(at[0], at[1], at[2], at[3], class, title);
    if href.is_some() {
        pen.close_link();
    }
}

/// Grid lines and labels of a time axis `span` nanoseconds long, drawn
/// from `x0` over `w`, with the labels under `bottom`.
fn axis(pen: &mut Pen, x0: f64, w: f64, span: i64, top: f64, bottom: f64) {
    for t in ticks(span, 5) {
        let x = x0 + t as f64 / span.max(1) as f64 * w;
        pen.line(x, top, x, bottom, "grid");
        let anchor = if t == 0 { "start" } else { "middle" };
        pen.text(x, bottom + 13.0, anchor, "axis", &tick_label(t));
    }
}

/// One lane of the lifetime chart.
pub struct Lane {
    pub label: String,
    pub start_ns: Option<i64>,
    pub end_ns: Option<i64>,
    /// `ok`, `fail`, `killed` or `open`.
    pub class: &'static str,
    pub title: String,
    pub href: String,
}

/// Every process as a bar from its first to its last line, on one axis.
/// `None` when the log has no timestamps.
pub fn lifetimes(lanes: &[Lane]) -> Option<Svg> {
    let t0 = lanes.iter().filter_map(|l| l.start_ns).min()?;
    let t1 = lanes.iter().filter_map(|l| l.end_ns.or(l.start_ns)).max()?;
    let span = (t1 - t0).max(1);
    let lane_h = 20.0;
    let shown = lanes.len().min(MAX_LANES);
    let plot_w = WIDTH - GUTTER - 16.0;
    let bottom = 8.0 + shown as f64 * lane_h;
    let label = format!("lifetimes of {} processes", lanes.len());
    let mut pen = Pen::new(WIDTH, (bottom + 22.0).floor(), CLASS, &label);
    axis(&mut pen, GUTTER, plot_w, span, 4.0, bottom);
    for (i, lane) in lanes.iter().take(shown).enumerate() {
        let y = 8.0 + i as f64 * lane_h;
        let Some(s) = lane.start_ns else { continue };
        let e = lane.end_ns.unwrap_or(t1).max(s);
        let x = GUTTER + (s - t0) as f64 / span as f64 * plot_w;
        let w = ((e - s) as f64 / span as f64 * plot_w).max(2.0);
        let at = [x, y + 3.0, w, lane_h - 6.0];
        linked_rect(&mut pen, Some(&lane.href), at, lane.class, &lane.title);
    }
    for (i, lane) in lanes.iter().take(shown).enumerate() {
        let y = 8.0 + i as f64 * lane_h;
        pen.open_link(&lane.href);
        pen.text(GUTTER - 8.0, y + 13.0, "end", "lane", &lane.label);
        pen.close_link();
    }
    Some(pen.finish())
}

/// A run of calls merged onto the same pixels.
struct Run {
    x1: f64,
    x2: f64,
    calls: u64,
    busy: i64,
    first: usize,
}

fn merge(spans: impl Iterator<Item = (usize, f64, f64, i64)>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (i, x1, x2, busy) in spans {
        match runs.last_mut() {
            Some(r) if x1 <= r.x2 + 0.5 => {
                r.x2 = r.x2.max(x2);
                r.calls += 1;
                r.busy += busy;
            }
            _ => runs.push(Run {
                x1,
                x2,
                calls: 1,
                busy,
                first: i,
            }),
        }
    }
    runs
}

/// The calls of one process: where it waited in the kernel (dark), where
/// calls failed (red ticks), and the longest calls labelled, each a link
/// (`link(line)`) to its line in the syscall table.
pub fn process_timeline(items: &[TimelineItem], link: impl Fn(u32) -> String) -> Option<Svg> {
    let end = items
        .iter()
        .map(|i| i.offset.as_nanos() + i.duration.map_or(0, |d| d.as_nanos()))
        .max()?;
    let span = end.max(1);
    let plot_w = WIDTH - 2.0 * PLOT_X;
    let x_of = |ns: i64| PLOT_X + ns as f64 / span as f64 * plot_w;
    let (labels_y, calls_y, calls_h, failed_y, bottom) = (18.0, 26.0, 34.0, 66.0, 80.0);
    let label = format!(
        "{} calls over {}",
        items.len(),
        span_text(Span::from_nanos(span))
    );
    let mut pen = Pen::new(WIDTH, bottom + 22.0, CLASS, &label);
    axis(&mut pen, PLOT_X, plot_w, span, 6.0, bottom);
    pen.rect(
        PLOT_X,
        calls_y,
        plot_w,
        calls_h,
        "user",
        "running in user space (between calls)",
    );
    let calls = items.iter().enumerate().map(|(i, it)| {
        let off = it.offset.as_nanos();
        let dur = it.duration.map_or(0, |d| d.as_nanos());
        let x1 = x_of(off);
        (i, x1, x_of(off + dur).max(x1 + 1.0), dur)
    });
    for r in merge(calls) {
        let Some(first) = items.get(r.first) else {
            continue;
        };
        let title = if r.calls == 1 {
            format!(
                "{} at +{} for {} (line {})",
                first.syscall,
                span_text(first.offset),
                first.duration.map_or("?".into(), span_text),
                first.line
            )
        } else {
            format!(
                "{} calls from line {}, {} in the kernel",
                r.calls,
                first.line,
                span_text(Span::from_nanos(r.busy))
            )
        };
        let at = [r.x1, calls_y, r.x2 - r.x1, calls_h];
        linked_rect(&mut pen, Some(&link(first.line)), at, "call", &title);
    }
    let failed = items
        .iter()
        .enumerate()
        .filter(|(_, it)| it.failed)
        .map(|(i, it)| {
            let x = x_of(it.offset.as_nanos());
            (i, x, x + 1.5, 0)
        });
    for r in merge(failed) {
        let Some(first) = items.get(r.first) else {
            continue;
        };
        let title = if r.calls == 1 {
            format!("{} failed (line {})", first.syscall, first.line)
        } else {
            format!("{} failed calls from line {}", r.calls, first.line)
        };
        let at = [r.x1, failed_y, r.x2 - r.x1, 8.0];
        linked_rect(&mut pen, Some(&link(first.line)), at, "failed", &title);
    }
    // Label the longest calls where there is room.
    let mut longest: Vec<&TimelineItem> = items.iter().filter(|i| i.duration.is_some()).collect();
    longest.sort_by_key(|i| std::cmp::Reverse(i.duration));
    let mut taken: Vec<(f64, f64)> = Vec::new();
    for it in longest.into_iter().take(8) {
        let dur = it.duration.map_or(0, |d| d.as_nanos());
        if (dur as f64) < span as f64 * 0.02 {
            break;
        }
        let text = format!("{} {}", it.syscall, span_text(Span::from_nanos(dur)));
        let mid = x_of(it.offset.as_nanos() + dur / 2);
        let half = text.chars().count() as f64 * 3.3;
        let (a, b) = (mid - half, mid + half);
        if a < 0.0 || b > WIDTH || taken.iter().any(|(x, y)| a < *y + 6.0 && b > *x - 6.0) {
            continue;
        }
        taken.push((a, b));
        pen.open_link(&link(it.line));
        pen.text(mid, labels_y, "middle", "label", &text);
        pen.close_link();
    }
    Some(pen.finish())
}

#[cfg(test)]
mod test {
    use super::*;

    fn item(off_us: i64, dur_us: Option<i64>, line: u32, failed: bool) -> TimelineItem {
        TimelineItem {
            offset: Span::from_nanos(off_us * 1000),
            duration: dur_us.map(|d| Span::from_nanos(d * 1000)),
            syscall: "read".into(),
            line,
            failed,
        }
    }

    #[test]
    fn many_calls_merge_into_few_shapes() {
        let mut items: Vec<TimelineItem> = (0..100_000)
            .map(|i| item(i, Some(1), i as u32 + 1, i % 1000 == 0))
            .collect();
        items.push(item(100_000, Some(2_000_000), 100_001, false));
        let chart = process_timeline(&items, |l| format!("#{l}"))
            .unwrap()
            .to_string();
        let calls = chart.matches("class=\"call\"").count();
        assert!((1..=1100).contains(&calls), "{calls} call rects");
        // The 2 s call dominates the 2.1 s span and is labelled.
        assert!(chart.contains(">read 2.000 s</text>"), "{chart}");
        let failed = chart.matches("class=\"failed\"").count();
        assert!((1..=100).contains(&failed), "{failed}");
        assert!(process_timeline(&[], |l| l.to_string()).is_none());
    }

    #[test]
    fn lifetimes_need_timestamps() {
        let lane = |s: Option<i64>, e: Option<i64>| Lane {
            label: "1 <ls>".into(),
            start_ns: s,
            end_ns: e,
            class: "ok",
            title: String::new(),
            href: String::new(),
        };
        assert!(lifetimes(&[lane(None, None)]).is_none());
        let c = lifetimes(&[lane(Some(0), Some(10)), lane(Some(5), None)])
            .unwrap()
            .to_string();
        assert_eq!(c.matches("class=\"ok\"").count(), 2);
        assert!(c.contains("1 &lt;ls&gt;") && !c.contains("<ls>"));
    }
}
