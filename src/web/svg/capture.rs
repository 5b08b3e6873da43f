//! The capture charts: the latency histogram, the conversation timeline,
//! a conversation's ladder diagram and an exchange's waterfall.

use super::{clip, tick_label, ticks, Pen, Svg};
use crate::analysis::report::ConversationRow;
use crate::flow::State;
use crate::store::{Bucket, ExchangeRow};
use crate::time::{Span, Timestamp};
use crate::web::fmt::{span_full, span_text};

/// A count in at most four characters: `987`, `12k`, `1.2M`.
fn compact(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// A bucket edge in its unit with just the digits it has: `500 µs`,
/// `2 s`, `2.02 s`, `2.0021 s` (edges chosen from the data are round
/// steps, so this stays short and neighbouring edges never read alike).
fn edge_text(s: Span) -> String {
    let ns = s.as_nanos();
    let (unit, name) = match ns {
        1_000_000_000.. => (1_000_000_000, "s"),
        1_000_000.. => (1_000_000, "ms"),
        1_000.. => (1_000, "µs"),
        _ => return format!("{ns} ns"),
    };
    let (mut digits, mut place) = (0usize, unit);
    while ns % place != 0 && digits < 6 {
        place /= 10;
        digits += 1;
    }
    format!("{:.*} {name}", digits, ns as f64 / unit as f64)
}

/// Latency histogram of HTTP exchanges (`total_time`). Each bar links to
/// exactly the exchanges it counts (`min_total_time` at its lower edge,
/// `max_total_time` at its upper one, which it excludes), slowest first.
pub fn histogram(buckets: &[Bucket], http_url: &str) -> Svg {
    let first = buckets.iter().position(|b| b.count > 0);
    let last = buckets.iter().rposition(|b| b.count > 0);
    let (Some(first), Some(last)) = (first, last) else {
        return Svg::default();
    };
    let shown = &buckets[first..=last];
    let max = shown.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let (w, h, top, bottom, left) = (640.0, 190.0, 18.0, 38.0, 8.0);
    let slot = (w - 2.0 * left) / shown.len() as f64;
    let mut pen = Pen::new(
        w,
        h,
        "chart histogram",
        "histogram of HTTP exchange times (request start to last response byte)",
    );
    let plot = h - top - bottom;
    pen.line(left, h - bottom, w - left, h - bottom, "axis");
    let lower_edge = |i: usize| {
        (first + i)
            .checked_sub(1)
            .and_then(|j| buckets.get(j))
            .and_then(|p| p.below)
    };
    let labels: Vec<String> = shown
        .iter()
        .enumerate()
        .map(|(i, b)| match b.below {
            Some(hi) => format!("< {}", edge_text(hi)),
            None => format!("≥ {}", lower_edge(i).map_or(String::new(), edge_text)),
        })
        .collect();
    // Label every `every`-th bar, so that the widest label (about 6.5 units
    // a character at the tick size) and a gap fit: "<100 ms<200 ms" must
    // never run together.
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let every = ((widest as f64 * 6.5 + 10.0) / slot).ceil().max(1.0) as usize;
    for (i, b) in shown.iter().enumerate() {
        let lo = lower_edge(i);
        let x = left + i as f64 * slot;
        let bh = if b.count == 0 {
            0.0
        } else {
            (b.count as f64 / max as f64 * plot).max(2.0)
        };
        let range = match (lo, b.below) {
            (None, Some(hi)) => format!("under {}", edge_text(hi)),
            (Some(lo), Some(hi)) => format!("{} to {}", edge_text(lo), edge_text(hi)),
            (Some(lo), None) => format!("{} or more", edge_text(lo)),
            (None, None) => "all".into(),
        };
        let title = format!(
            "{} exchange{} took {range}",
            b.count,
            if b.count == 1 { "" } else { "s" }
        );
        let slow = lo.is_some_and(|l| l.as_nanos() >= 1_000_000_000);
        let class = if slow { "bar slow" } else { "bar" };
        let sep = if http_url.contains('?') { '&' } else { '?' };
        let mut href = format!(
            "{http_url}{sep}sort=total_time&min_total_time={}",
            lo.map_or(0.0, Span::as_secs_f64)
        );
        if let Some(hi) = b.below {
            href.push_str(&format!("&max_total_time={}", hi.as_secs_f64()));
        }
        pen.open_link(&href);
        pen.rect(x + 2.0, top, slot - 4.0, plot, "hit", &title);
        pen.rect(x + 2.0, h - bottom - bh, slot - 4.0, bh, class, &title);
        if b.count > 0 {
            pen.text(
                x + slot / 2.0,
                h - bottom - bh - 4.0,
                "middle",
                "count",
                &compact(b.count),
            );
        }
        pen.close_link();
        if i % every == 0 {
            pen.text(
                x + slot / 2.0,
                h - bottom + 15.0,
                "middle",
                "tick",
                &labels[i],
            );
        }
    }
    pen.text(
        w / 2.0,
        h - 4.0,
        "middle",
        "axis-label",
        "time from request start to last response byte",
    );
    pen.finish()
}

/// An HTTP exchange that failed (4xx, 5xx, no response), marked on its
/// conversation's row of the timeline.
pub struct ErrorMark {
    pub conversation: u64,
    pub at: Timestamp,
    /// `s5`, `s4` or `s0` (no response), as the status badges.
    pub class: &'static str,
    pub title: String,
}

/// How bad a timeline class is: the worst one colours the bar.
fn severity(class: &str) -> u8 {
    match class {
        "s5" => 4,
        "reset" => 3,
        "s4" => 2,
        "s0" => 1,
        _ => 0,
    }
}

/// Which width a chart is drawn for. A page carries both drawings of the
/// timeline and the ladder and shows one by its width (style.css, the
/// phone rules): on a phone the labels stay on screen at 11 px instead of
/// a wide drawing scrolling them away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    Wide,
    /// About 320 px: a phone's width less the page's and the panel's margins.
    Phone,
}

/// Conversations on the capture's time axis: one row each (in start
/// order), a bar from start to end. Colour is what went wrong, not how
/// long it took (the bar's length says that): a conversation with a 5xx,
/// reset or refused, with a 4xx, with an unanswered request, or none of
/// these; each failed exchange is a tick at its request's start. Each
/// bar opens its conversation. Wide, each row's label is left of its
/// bar; on a phone it is above it and the bars take the whole width.
pub fn timeline(
    convs: &[ConversationRow],
    errors: &[ErrorMark],
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    conv_url: &dyn Fn(u64) -> String,
    fit: Fit,
) -> Svg {
    let (Some(t0), Some(t1)) = (first, last) else {
        return Svg::default();
    };
    if convs.is_empty() {
        return Svg::default();
    }
    let mut rows: Vec<&ConversationRow> = convs.iter().collect();
    rows.sort_by_key(|c| (c.start.map(Timestamp::as_nanos), c.id));
    // The axis covers the capture and every bar (a summary and its rows
    // could disagree; a bar must never fall off the chart).
    let t0 = rows
        .iter()
        .filter_map(|c| c.start)
        .fold(t0, |a, b| a.min(b));
    let t1 = rows.iter().filter_map(|c| c.end).fold(t1, |a, b| a.max(b));
    let range = t1.since(t0).as_nanos().max(1);
    // (width, plot's left edge, right margin, row height, label band
    // above the bar, widest label, ticks, class)
    let (w, left, right, row_h, above, label_chars, tick_count, class) = match fit {
        Fit::Wide => (1100.0, 300.0, 24.0, 16.0, 0.0, 40, 6, "chart timeline"),
        Fit::Phone => (318.0, 6.0, 18.0, 30.0, 14.0, 44, 3, "chart timeline phone"),
    };
    let top = 22.0;
    let h = top + rows.len() as f64 * row_h + 8.0;
    let plot = w - left - right;
    let x_of = |t: Timestamp| left + (t.since(t0).as_nanos() as f64 / range as f64) * plot;
    let mut pen = Pen::new(
        w,
        h,
        class,
        "timeline of the longest conversations over the capture, coloured by what failed",
    );
    for t in ticks(range, tick_count) {
        let x = left + t as f64 / range as f64 * plot;
        pen.line(x, top - 4.0, x, h - 6.0, "grid");
        pen.text(x, top - 8.0, "middle", "tick", &tick_label(t));
    }
    for (i, c) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let marks: Vec<&ErrorMark> = errors.iter().filter(|m| m.conversation == c.id).collect();
        let ended_badly = matches!(c.state, State::Reset | State::Refused).then_some("reset");
        let worst = marks
            .iter()
            .map(|m| m.class)
            .chain(ended_badly)
            .max_by_key(|class| severity(class))
            .unwrap_or("ok");
        let (x1, x2) = match (c.start, c.end) {
            (Some(s), Some(e)) => (x_of(s), x_of(e)),
            _ => (left, left),
        };
        let failed = match marks.len() {
            0 => String::new(),
            1 => ", 1 failed exchange".to_string(),
            n => format!(", {n} failed exchanges"),
        };
        let title = format!(
            "conversation {}: {} → {}, {} ({}), {}{failed}",
            c.id,
            c.client,
            c.server,
            span_text(c.duration),
            span_full(c.duration),
            c.state
        );
        pen.open_link(&conv_url(c.id));
        pen.rect(0.0, y, w, row_h, "hit", &title);
        let label = clip(&format!("{} → {}", c.client, c.server), label_chars);
        if fit == Fit::Phone {
            pen.text(left, y + above - 3.0, "start", "label", &label);
        } else {
            pen.text(left - 8.0, y + row_h - 4.5, "end", "label", &label);
        }
        let bar_h = row_h - above;
        pen.rect(
            x1,
            y + above + 3.0,
            (x2 - x1).max(2.5),
            bar_h - 6.0,
            &format!("bar {worst}"),
            &title,
        );
        for m in &marks {
            pen.rect(
                x_of(m.at) - 1.5,
                y + above + 1.0,
                3.0,
                bar_h - 2.0,
                &format!("mark {}", m.class),
                &m.title,
            );
        }
        pen.close_link();
    }
    pen.finish()
}

/// What one row of the ladder shows.
#[derive(Clone)]
pub enum Rung {
    /// A packet-level event (SYN, FIN, RST) from one side.
    Packet {
        at: Timestamp,
        from_client: bool,
        label: String,
    },
    /// One HTTP exchange.
    Exchange(Box<ExchangeRow>),
}

impl Rung {
    fn at(&self) -> Option<Timestamp> {
        match self {
            Rung::Packet { at, .. } => Some(*at),
            Rung::Exchange(e) => e.row.request_start.or(e.row.response_start),
        }
    }
}

/// The ladder diagram of one conversation: client and server columns,
/// arrows between them in time order (evenly spaced; times at the left),
/// and for each exchange the server's wait drawn as a bar with its length.
/// On a phone the lanes close in and long labels are cut shorter.
pub fn ladder(
    client: &str,
    server: &str,
    start: Option<Timestamp>,
    mut rungs: Vec<Rung>,
    anchor: &dyn Fn(u64) -> String,
    fit: Fit,
) -> Svg {
    if rungs.is_empty() {
        return Svg::default();
    }
    rungs.sort_by_key(|r| r.at().map(Timestamp::as_nanos));
    // (width, client lane, server lane, left edge of the times, longest
    // address, longest label between the lanes, class)
    let (w, cx, sx, tx, addr_chars, label_chars, class) = match fit {
        Fit::Wide => (720.0, 200.0, 600.0, 8.0, 40, 56, "chart ladder"),
        Fit::Phone => (318.0, 68.0, 222.0, 2.0, 20, 24, "chart ladder phone"),
    };
    let top = 44.0;
    // Rows: a packet takes one, an exchange three (request, wait, response).
    let rows: f64 = rungs
        .iter()
        .map(|r| match r {
            Rung::Packet { .. } => 1.0,
            Rung::Exchange(_) => 3.0,
        })
        .sum();
    let step = 26.0;
    let h = top + rows * step + 20.0;
    let mut pen = Pen::new(w, h, class, "ladder diagram of the conversation");
    pen.text(cx, 16.0, "middle", "side", "client");
    pen.text(cx, 32.0, "middle", "addr", &clip(client, addr_chars));
    pen.text(sx, 16.0, "middle", "side", "server");
    pen.text(sx, 32.0, "middle", "addr", &clip(server, addr_chars));
    pen.line(cx, top, cx, h - 8.0, "lane");
    pen.line(sx, top, sx, h - 8.0, "lane");
    let rel = |t: Option<Timestamp>| -> String {
        match (t, start) {
            (Some(t), Some(s)) => format!("+{}", span_text(t.since(s))),
            _ => String::new(),
        }
    };
    let mut y = top + 10.0;
    let slant = 14.0;
    for r in &rungs {
        match r {
            Rung::Packet {
                at,
                from_client,
                label,
            } => {
                let (a, b) = if *from_client { (cx, sx) } else { (sx, cx) };
                pen.text(tx, y + 9.0, "start", "time", &rel(Some(*at)));
                pen.arrow(a, y, b, y + slant, "arrow packet", label);
                pen.text(
                    (cx + sx) / 2.0,
                    y + 2.0,
                    "middle",
                    "plabel",
                    // Proportional type: narrower than the mono labels.
                    &clip(label, label_chars + 8),
                );
                y += step;
            }
            Rung::Exchange(e) => {
                let x = &e.row;
                pen.open_link(&anchor(e.id));
                let line = format!(
                    "{} {} {}",
                    x.method.as_deref().unwrap_or("?"),
                    x.uri.as_deref().unwrap_or("?"),
                    x.version.as_deref().unwrap_or("")
                );
                pen.text(tx, y + 9.0, "start", "time", &rel(x.request_start));
                pen.arrow(cx, y, sx, y + slant, "arrow request", &line);
                pen.text(
                    (cx + sx) / 2.0,
                    y + 2.0,
                    "middle",
                    "rlabel",
                    &clip(line.trim(), label_chars),
                );
                y += step;
                let wait = x.server_time.map(span_text).unwrap_or_default();
                let wclass = match x.wait {
                    crate::http::Wait::Server => "wait server",
                    _ => "wait",
                };
                pen.rect(
                    sx - 3.0,
                    y - step + slant,
                    6.0,
                    step - slant + 6.0,
                    wclass,
                    "",
                );
                if !wait.is_empty() {
                    pen.text(
                        sx + 10.0,
                        y + 6.0,
                        "start",
                        "wlabel",
                        &format!("server {wait}"),
                    );
                }
                y += 6.0;
                if x.response_start.is_some() {
                    let status = format!(
                        "{} {}",
                        x.status.map(|s| s.to_string()).unwrap_or_default(),
                        x.reason.as_deref().unwrap_or("")
                    );
                    let class = match x.status {
                        Some(s) if s >= 500 => "arrow response s5",
                        Some(s) if s >= 400 => "arrow response s4",
                        _ => "arrow response",
                    };
                    pen.text(tx, y + 9.0, "start", "time", &rel(x.response_start));
                    pen.arrow(sx, y, cx, y + slant, class, status.trim());
                    pen.text(
                        (cx + sx) / 2.0,
                        y + 2.0,
                        "middle",
                        "rlabel",
                        &clip(
                            &format!(
                                "{} · {} body bytes{}",
                                status.trim(),
                                x.response_body_bytes,
                                if x.interrupted { " · cut short" } else { "" }
                            ),
                            label_chars,
                        ),
                    );
                } else {
                    pen.text(sx - 10.0, y + 9.0, "end", "wlabel", "no response seen");
                }
                y += 2.0 * step - 6.0;
                pen.close_link();
            }
        }
    }
    pen.finish()
}

/// One exchange's waterfall: request sent, waiting for the first response
/// byte, response transfer, on the exchange's own time scale. Narrow
/// enough for a phone; the legend under the bars gives each part's length
/// (so labels never overlap however short a part is) and wraps.
pub fn waterfall(x: &crate::analysis::report::ExchangeRow) -> Svg {
    let Some(t0) = x.request_start else {
        return Svg::default();
    };
    let end = x
        .response_end
        .or(x.response_start)
        .or(x.request_end)
        .unwrap_or(t0);
    let total = end.since(t0).as_nanos().max(1) as f64;
    let (w, left, right, line_h) = (300.0, 4.0, 4.0, 17.0);
    let plot = w - left - right;
    let x_of = |t: Timestamp| left + t.since(t0).as_nanos() as f64 / total * plot;
    let parts: Vec<(Timestamp, Timestamp, &str, &str, String)> = [
        (x.request_start, x.request_end, "seg send", "request"),
        (
            x.request_end,
            x.response_start,
            "seg wait",
            "waiting for the first byte",
        ),
        (x.response_start, x.response_end, "seg recv", "response"),
    ]
    .into_iter()
    .filter_map(|(a, b, class, what)| {
        let (a, b) = (a?, b?);
        let d = b.since(a);
        // A bare "0" would read as a number ("request 0").
        let len = if d.as_nanos() == 0 {
            "0 s".to_string()
        } else {
            span_text(d)
        };
        Some((a, b, class, what, format!("{what} {len}")))
    })
    .collect();
    // Legend entries left to right, a new line when one would not fit
    // (about 7 units a character at 12.5 px).
    let mut at = Vec::with_capacity(parts.len());
    let (mut lx, mut ly) = (left, 31.0);
    for (_, _, _, _, label) in &parts {
        let width = 14.0 + 7.0 * label.chars().count() as f64;
        if lx > left && lx + width > w {
            lx = left;
            ly += line_h;
        }
        at.push((lx, ly));
        lx += width + 14.0;
    }
    let mut pen = Pen::new(
        w,
        ly + line_h,
        "chart waterfall",
        "where the exchange's time went",
    );
    for ((a, b, class, what, label), (lx, ly)) in parts.iter().zip(at) {
        let d = b.since(*a);
        let title = format!("{what}: {} ({})", span_text(d), span_full(d));
        let (x1, x2) = (x_of(*a), x_of(*b));
        pen.rect(x1, 4.0, (x2 - x1).max(2.0), 16.0, class, &title);
        pen.rect(lx, ly, 10.0, 10.0, class, "");
        pen.text(lx + 14.0, ly + 9.0, "start", "seglabel", label);
    }
    pen.finish()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        let x = crate::analysis::report::ExchangeRow {
            method: Some("GET".into()),
            uri: Some("/<script>alert(1)</script>".into()),
            request_start: Some(Timestamp::from_nanos(1_000)),
            request_end: Some(Timestamp::from_nanos(2_000)),
            response_start: Some(Timestamp::from_nanos(2_000_000_000)),
            response_end: Some(Timestamp::from_nanos(2_000_100_000)),
            server_time: Some(Span::from_nanos(1_999_998_000)),
            ..Default::default()
        };
        let svg = ladder(
            "1.1.1.1:1",
            "<b>",
            x.request_start,
            vec![Rung::Exchange(Box::new(ExchangeRow {
                id: 3,
                row: x.clone(),
            }))],
            &|id| format!("#x{id}\"><script>"),
            Fit::Wide,
        )
        .to_string();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("/&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("server 2.000 s"));
        let wf = waterfall(&x).to_string();
        assert!(wf.contains("waiting for the first byte 2.000 s"), "{wf}");
    }

    /// Every bucket of the histogram, each holding `count` exchanges.
    fn buckets_of(count: u64) -> Vec<Bucket> {
        crate::store::HISTOGRAM_EDGES_NS
            .iter()
            .map(|&e| Some(Span::from_nanos(e)))
            .chain([None])
            .map(|below| Bucket { below, count })
            .collect()
    }

    #[test]
    fn histogram_trims_empty_ends_and_labels_bars() {
        let mut buckets = buckets_of(0);
        buckets[3].count = 5; // 500 µs .. 1 ms
        buckets[13].count = 3; // 1 s .. 2 s
        let svg = histogram(&buckets, "/c/x/http").to_string();
        assert!(svg.contains("5 exchanges took 500 µs to 1 ms"), "{svg}");
        assert!(svg.contains("3 exchanges took 1 s to 2 s"));
        assert!(
            svg.contains("min_total_time=1&amp;max_total_time=2\""),
            "a bar opens exactly its bucket: {svg}"
        );
        assert!(
            !svg.contains("&lt;100 µs"),
            "leading empty buckets are trimmed"
        );
        assert_eq!(svg.matches("class=\"bar").count(), 11);
        assert!(histogram(&[], "/").is_empty());
    }

    #[test]
    fn a_histogram_of_equal_times_is_one_narrow_bar() {
        // Every exchange took 2.002 s: the stored edges follow the data.
        let edges = crate::analysis::report::histogram_edges(2_002_000_000, 2_002_000_000);
        let buckets: Vec<Bucket> = edges
            .iter()
            .enumerate()
            .map(|(i, &e)| Bucket {
                below: Some(Span::from_nanos(e)),
                count: if i == 0 { 0 } else { 4 },
            })
            .collect();
        let svg = histogram(&buckets, "/c/x/http").to_string();
        assert_eq!(svg.matches("class=\"bar").count(), 1, "{svg}");
        assert!(svg.contains("4 exchanges took 2 s to 2.02 s"), "{svg}");
        assert!(svg.contains("&lt; 2.02 s"), "{svg}");
        assert_eq!(edge_text(Span::from_nanos(2_002_100_000)), "2.0021 s");
        assert_eq!(edge_text(Span::from_nanos(500_000)), "500 µs");
        assert!(!svg.contains("5 s"), "{svg}");
    }

    #[test]
    fn histogram_labels_never_run_together() {
        let buckets = buckets_of(1);
        let svg = histogram(&buckets, "/c/x/http?filter=tcp").to_string();
        let labels = svg.matches("&lt; ").count() + svg.matches("≥ ").count();
        assert!(labels > 1 && labels < buckets.len(), "{labels} labels");
        assert!(!svg.contains("filter=tcp?"), "{svg}");
        assert!(svg.contains("sort=total_time"), "{svg}");
    }
}
