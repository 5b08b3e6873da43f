//! The stream waterfall of one HTTP/2 connection (README "HTTP/2"): each
//! stream a bar on the connection's time axis (request headers sent →
//! first response byte → last), so concurrency and the stream that held
//! the others up show at a glance. Drawn narrow (340 units, 11 px text)
//! so that it stays readable on a 390 px phone screen.

use super::{clip, tick_label, ticks, Pen, Svg};
use crate::analysis::report::ExchangeRow;
use crate::time::Timestamp;
use crate::web::fmt::span_text;

/// Streams drawn; a longer list is cut (its exchanges stay listed).
pub const MAX_STREAMS: usize = 60;

const WIDTH: f64 = 340.0;
const LEFT: f64 = 4.0;
const RIGHT: f64 = 8.0;
const AXIS: f64 = 18.0;
const ROW: f64 = 28.0;

/// The response bar's look: the status class (green for 2xx/3xx,
/// orange for 4xx, red for 5xx, a gRPC error or a stream that got no
/// response).
fn response_class(x: &ExchangeRow) -> &'static str {
    let grpc_failed = x.grpc_status.is_some_and(|s| s != 0);
    match x.status {
        _ if grpc_failed => "bar slow",
        None => "bar slow",
        Some(500..) => "bar slow",
        Some(400..=499) => "bar notable",
        Some(_) => "seg recv",
    }
}

/// The waterfall of the HTTP/2 streams among `rows` (`(id, row)`: the id
/// links a bar to its exchange on the page, `#xID`); empty when there is
/// none.
pub fn streams<'a>(rows: impl IntoIterator<Item = (u64, &'a ExchangeRow)>) -> Svg {
    let rows: Vec<(u64, &ExchangeRow)> = rows
        .into_iter()
        .filter(|(_, x)| x.stream_id.is_some())
        .take(MAX_STREAMS)
        .collect();
    let times = |x: &ExchangeRow| {
        [
            x.request_start,
            x.request_end,
            x.response_start,
            x.response_end,
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<Timestamp>>()
    };
    let all: Vec<Timestamp> = rows.iter().flat_map(|(_, x)| times(x)).collect();
    let (Some(&t0), Some(&t1)) = (all.iter().min(), all.iter().max()) else {
        return Svg::default();
    };
    let range = t1.since(t0).as_nanos().max(1);
    let plot = WIDTH - LEFT - RIGHT;
    let x_of = |t: Timestamp| LEFT + t.since(t0).as_nanos() as f64 / range as f64 * plot;
    let height = AXIS + ROW * rows.len() as f64 + 4.0;
    let mut pen = Pen::new(
        WIDTH,
        height,
        "chart waterfall streams",
        "HTTP/2 streams on the connection's time axis",
    );
    for tick in ticks(range, 3) {
        let x = LEFT + tick as f64 / range as f64 * plot;
        pen.line(x, AXIS - 4.0, x, height, "grid");
        let anchor = if tick == 0 { "start" } else { "middle" };
        pen.text(x, 11.0, anchor, "tick", &tick_label(tick));
    }
    for (i, (id, x)) in rows.iter().enumerate() {
        let top = AXIS + ROW * i as f64;
        let status = match (x.status, &x.grpc_status_name) {
            (Some(s), Some(g)) => format!("{s} {g}"),
            (Some(s), None) => s.to_string(),
            (None, _) => "no response".into(),
        };
        let label = format!(
            "{} {} {} → {status}",
            x.stream_id.unwrap_or(0),
            x.method.as_deref().unwrap_or("?"),
            x.uri.as_deref().unwrap_or("")
        );
        let title = format!(
            "stream {}: {}",
            x.stream_id.unwrap_or(0),
            if x.verdict.is_empty() {
                "no verdict"
            } else {
                &x.verdict
            }
        );
        pen.open_link(&format!("#x{id}"));
        pen.text(LEFT, top + 11.0, "start", "label", &clip(&label, 48));
        let bar = |pen: &mut Pen, a: Option<Timestamp>, b: Option<Timestamp>, class: &str| {
            if let (Some(a), Some(b)) = (a, b) {
                let (x1, x2) = (x_of(a), x_of(b));
                let what = format!("{title} ({})", span_text(b.since(a)));
                pen.rect(x1, top + 15.0, (x2 - x1).max(1.5), 8.0, class, &what);
            }
        };
        bar(&mut pen, x.request_start, x.request_end, "seg send");
        bar(&mut pen, x.request_end, x.response_start, "seg wait");
        let response_end = x.response_end.or(x.response_start);
        if x.response_start.is_some() {
            bar(&mut pen, x.response_start, response_end, response_class(x));
        } else if let Some(end) = x.request_end {
            // No response: a thin red mark where the stream stopped.
            bar(&mut pen, Some(end), Some(end), "bar slow");
        }
        pen.close_link();
    }
    pen.finish()
}

#[cfg(test)]
mod test {
    use super::*;

    fn row(stream: u32, start_ms: i64, end_ms: i64, status: Option<u16>) -> ExchangeRow {
        let t = |ms: i64| Some(Timestamp::from_nanos(ms * 1_000_000));
        ExchangeRow {
            stream_id: Some(stream),
            method: Some("GET".into()),
            uri: Some("/<x>".into()),
            status,
            request_start: t(start_ms),
            request_end: t(start_ms),
            response_start: status.and(t(start_ms + 1)),
            response_end: status.and(t(end_ms)),
            ..ExchangeRow::default()
        }
    }

    #[test]
    fn one_bar_per_stream_coloured_by_status() {
        let a = row(1, 0, 100, Some(200));
        let b = row(3, 10, 50, Some(503));
        let mut c = row(5, 20, 30, Some(200));
        c.grpc_status = Some(14);
        c.grpc_status_name = Some("UNAVAILABLE".into());
        let d = row(7, 20, 30, None);
        let http1 = ExchangeRow::default();
        let svg = streams([(1, &a), (2, &b), (3, &c), (4, &d), (5, &http1)]).to_string();
        assert_eq!(svg.matches("<a href=").count(), 4, "HTTP/1 rows left out");
        assert!(svg.contains("href=\"#x2\""));
        assert!(svg.contains("3 GET /&lt;x&gt; → 503"), "escaped label");
        assert!(svg.contains("→ 200 UNAVAILABLE"));
        assert_eq!(svg.matches("class=\"bar slow\"").count(), 3);
        assert!(svg.contains("viewBox=\"0 0 340 "));
        assert!(streams([(5, &http1)]).is_empty());
    }
}
