//! Timelines drawn on the server as SVG: the lifetimes of all processes on
//! one time axis, and the calls of one process. Shapes are computed here
//! as plain values and written out by a template (so every text is
//! escaped); however many calls a process made, neighbouring calls that
//! fall on the same pixel are merged, so a chart holds at most a few
//! thousand shapes.

use crate::strace::TimelineItem;
use crate::time::Span;

/// Drawing width in SVG units (about pixels).
const WIDTH: f64 = 1100.0;
/// Left edge of the plot in the per-process chart.
const PLOT_X: f64 = 16.0;
/// Left gutter for process labels in the lifetime chart.
const GUTTER: f64 = 260.0;
/// Most process lanes drawn.
pub const MAX_LANES: usize = 200;

/// A rectangle, optionally a link.
#[derive(Clone, Debug)]
pub struct Rect {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub class: &'static str,
    pub title: String,
    pub href: Option<String>,
}

/// A text, optionally a link.
#[derive(Clone, Debug)]
pub struct Text {
    pub x: String,
    pub y: String,
    pub text: String,
    pub class: &'static str,
    pub anchor: &'static str,
    pub href: Option<String>,
}

/// A vertical grid line.
#[derive(Clone, Debug)]
pub struct Tick {
    pub x: String,
    pub y1: String,
    pub y2: String,
}

/// A chart ready for the template.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub rects: Vec<Rect>,
    pub texts: Vec<Text>,
    pub ticks: Vec<Tick>,
    /// A one-line description for screen readers.
    pub label: String,
}

fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// Tick positions: about five round steps over `span` nanoseconds.
fn steps(span: i64) -> Vec<i64> {
    if span <= 0 {
        return vec![0];
    }
    let raw = span as f64 / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0) as i64;
    (0..=span / step).map(|i| i * step).collect()
}

fn axis(chart: &mut Chart, x0: f64, w: f64, span: i64, top: f64, bottom: f64) {
    for t in steps(span) {
        let x = x0 + t as f64 / span.max(1) as f64 * w;
        chart.ticks.push(Tick {
            x: n(x),
            y1: n(top),
            y2: n(bottom),
        });
        chart.texts.push(Text {
            x: n(x),
            y: n(bottom + 13.0),
            text: if t == 0 {
                "0".to_string()
            } else {
                format!("+{}", Span::from_nanos(t))
            },
            class: "axis",
            anchor: if t == 0 { "start" } else { "middle" },
            href: None,
        });
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
pub fn lifetimes(lanes: &[Lane]) -> Option<Chart> {
    let t0 = lanes.iter().filter_map(|l| l.start_ns).min()?;
    let t1 = lanes.iter().filter_map(|l| l.end_ns.or(l.start_ns)).max()?;
    let span = (t1 - t0).max(1);
    let lane_h = 20.0;
    let shown = lanes.len().min(MAX_LANES);
    let plot_w = WIDTH - GUTTER - 16.0;
    let bottom = 8.0 + shown as f64 * lane_h;
    let mut chart = Chart {
        width: WIDTH as u32,
        height: (bottom + 22.0) as u32,
        label: format!("lifetimes of {} processes", lanes.len()),
        ..Chart::default()
    };
    axis(&mut chart, GUTTER, plot_w, span, 4.0, bottom);
    for (i, lane) in lanes.iter().take(shown).enumerate() {
        let y = 8.0 + i as f64 * lane_h;
        chart.texts.push(Text {
            x: n(GUTTER - 8.0),
            y: n(y + 13.0),
            text: lane.label.clone(),
            class: "lane",
            anchor: "end",
            href: Some(lane.href.clone()),
        });
        let Some(s) = lane.start_ns else { continue };
        let e = lane.end_ns.unwrap_or(t1).max(s);
        let x = GUTTER + (s - t0) as f64 / span as f64 * plot_w;
        let w = ((e - s) as f64 / span as f64 * plot_w).max(2.0);
        chart.rects.push(Rect {
            x: n(x),
            y: n(y + 3.0),
            w: n(w),
            h: n(lane_h - 6.0),
            class: lane.class,
            title: lane.title.clone(),
            href: Some(lane.href.clone()),
        });
    }
    Some(chart)
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
pub fn process_timeline(items: &[TimelineItem], link: impl Fn(u32) -> String) -> Option<Chart> {
    let end = items
        .iter()
        .map(|i| i.offset.as_nanos() + i.duration.map_or(0, |d| d.as_nanos()))
        .max()?;
    let span = end.max(1);
    let plot_w = WIDTH - 2.0 * PLOT_X;
    let x_of = |ns: i64| PLOT_X + ns as f64 / span as f64 * plot_w;
    let (labels_y, calls_y, calls_h, failed_y, bottom) = (18.0, 26.0, 34.0, 66.0, 80.0);
    let mut chart = Chart {
        width: WIDTH as u32,
        height: (bottom + 22.0) as u32,
        label: format!("{} calls over {}", items.len(), Span::from_nanos(span)),
        ..Chart::default()
    };
    axis(&mut chart, PLOT_X, plot_w, span, 6.0, bottom);
    chart.rects.push(Rect {
        x: n(PLOT_X),
        y: n(calls_y),
        w: n(plot_w),
        h: n(calls_h),
        class: "user",
        title: "running in user space (between calls)".into(),
        href: None,
    });
    let calls = items.iter().enumerate().map(|(i, it)| {
        let off = it.offset.as_nanos();
        let dur = it.duration.map_or(0, |d| d.as_nanos());
        let x1 = x_of(off);
        (i, x1, x_of(off + dur).max(x1 + 1.0), dur)
    });
    for r in merge(calls) {
        let first = &items[r.first];
        let title = if r.calls == 1 {
            format!(
                "{} at +{} for {} (line {})",
                first.syscall,
                first.offset,
                first.duration.map_or("?".into(), |d| d.to_string()),
                first.line
            )
        } else {
            format!(
                "{} calls from line {}, {} in the kernel",
                r.calls,
                first.line,
                Span::from_nanos(r.busy)
            )
        };
        chart.rects.push(Rect {
            x: n(r.x1),
            y: n(calls_y),
            w: n(r.x2 - r.x1),
            h: n(calls_h),
            class: "call",
            title,
            href: Some(link(first.line)),
        });
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
        let first = &items[r.first];
        chart.rects.push(Rect {
            x: n(r.x1),
            y: n(failed_y),
            w: n(r.x2 - r.x1),
            h: n(8.0),
            class: "failed",
            title: if r.calls == 1 {
                format!("{} failed (line {})", first.syscall, first.line)
            } else {
                format!("{} failed calls from line {}", r.calls, first.line)
            },
            href: Some(link(first.line)),
        });
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
        let text = format!("{} {}", it.syscall, Span::from_nanos(dur));
        let mid = x_of(it.offset.as_nanos() + dur / 2);
        let half = text.chars().count() as f64 * 3.3;
        let (a, b) = (mid - half, mid + half);
        if a < 0.0 || b > WIDTH || taken.iter().any(|(x, y)| a < *y + 6.0 && b > *x - 6.0) {
            continue;
        }
        taken.push((a, b));
        chart.texts.push(Text {
            x: n(mid),
            y: n(labels_y),
            text,
            class: "label",
            anchor: "middle",
            href: Some(link(it.line)),
        });
    }
    Some(chart)
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
        let chart = process_timeline(&items, |l| format!("#{l}")).unwrap();
        let calls = chart.rects.iter().filter(|r| r.class == "call").count();
        assert!((1..=1100).contains(&calls), "{calls} call rects");
        // The 2 s call dominates the 2.1 s span and is labelled.
        assert!(
            chart.texts.iter().any(|t| t.text == "read 2.000 s"),
            "{:?}",
            chart.texts.iter().map(|t| &t.text).collect::<Vec<_>>()
        );
        let failed = chart.rects.iter().filter(|r| r.class == "failed").count();
        assert!((1..=100).contains(&failed), "{failed}");
        assert!(process_timeline(&[], |l| l.to_string()).is_none());
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(steps(10_000), vec![0, 2000, 4000, 6000, 8000, 10_000]);
        assert_eq!(steps(2_100_000_000).len(), 5, "0 to 2 s by 0.5 s");
    }

    #[test]
    fn lifetimes_need_timestamps() {
        let lane = |s: Option<i64>, e: Option<i64>| Lane {
            label: "1 ls".into(),
            start_ns: s,
            end_ns: e,
            class: "ok",
            title: String::new(),
            href: String::new(),
        };
        assert!(lifetimes(&[lane(None, None)]).is_none());
        let c = lifetimes(&[lane(Some(0), Some(10)), lane(Some(5), None)]).unwrap();
        assert_eq!(c.rects.len(), 2);
    }
}
