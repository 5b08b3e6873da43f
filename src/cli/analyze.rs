//! `tracedeck analyze FILE`: the conversation table (and HTTP exchanges)
//! of a capture, as a readable table or as the JSON of INTERFACES.md.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Serialize;

use tracedeck::analysis::report::{CaptureRow, ConversationRow, ExchangeRow};
use tracedeck::analysis::{self, HttpExchange, Options, Output};
use tracedeck::flow::Conversation;
use tracedeck::pcap::Reader;
use tracedeck::store::StatusFilter;
use tracedeck::Timestamp;

#[derive(Args)]
pub struct AnalyzeArgs {
    /// The capture: pcap or pcapng, optionally gzip-compressed.
    file: PathBuf,
    /// Print the whole analysis as one JSON object.
    #[arg(long)]
    json: bool,
    /// Sort the conversation table by this column (descending, except id and start).
    #[arg(long, value_enum, default_value_t = SortKey::Duration)]
    sort: SortKey,
    /// Only packets matching this pcap-filter expression count, as with
    /// `tcpdump -r FILE EXPR` (e.g. "port 8080", "host 10.0.0.1 and not port 22").
    #[arg(long, short = 'f', value_name = "EXPR")]
    filter: Option<String>,
    /// Print the HTTP exchange table instead of the conversations.
    #[arg(long)]
    http: bool,
    /// With --http: only these statuses: codes (404), classes (5xx),
    /// ranges (500-599), `none` (no response), comma-separated.
    #[arg(long, value_name = "LIST")]
    status: Option<String>,
    /// Rows of the table to print (0 = all).
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SortKey {
    /// Conversations: duration; exchanges: total time.
    Duration,
    Start,
    /// Conversations: bytes both ways; exchanges: response body bytes.
    Bytes,
    Packets,
    Id,
    /// Exchanges: request start to last response byte.
    TotalTime,
    /// Exchanges: request complete to first response byte.
    ServerTime,
    Status,
}

#[derive(Default)]
struct Collect {
    conversations: Vec<Conversation>,
    /// Whether to keep every exchange (JSON and the HTTP table need them;
    /// the conversation table only counts them by status class).
    keep_exchanges: bool,
    exchanges: Vec<ExchangeRow>,
    /// Exchanges by status class: 1xx..5xx, then "no response".
    by_class: [u64; 6],
}

impl Output for Collect {
    fn conversation(&mut self, conv: &Conversation) {
        self.conversations.push(conv.clone());
    }

    fn exchange(&mut self, exchange: &HttpExchange) {
        let class = match exchange.exchange.status {
            Some(s @ 100..=599) => usize::from(s / 100 - 1),
            _ => 5,
        };
        self.by_class[class] += 1;
        if self.keep_exchanges {
            self.exchanges.push(ExchangeRow::from(exchange));
        }
    }
}

#[derive(Serialize)]
struct Document<'a> {
    capture: CaptureRow,
    conversations: Vec<ConversationRow>,
    http: &'a [ExchangeRow],
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    let name = args.file.display().to_string();
    let mut reader = Reader::open(&args.file).with_context(|| name.clone())?;
    let filter = match args.filter.as_deref() {
        Some(expr) => Some(
            tracedeck::filter::parse(expr)
                .map_err(|e| anyhow::anyhow!("bad filter {expr:?}: {e}"))?,
        ),
        None => None,
    };
    let opts = Options {
        filter,
        ..Options::default()
    };
    let mut out = Collect {
        keep_exchanges: args.json || args.http,
        ..Collect::default()
    };
    let summary = analysis::analyze(&mut reader, &opts, &mut out)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let out_by_class = out.by_class;
    let mut convs = out.conversations;
    convs.sort_by_key(|c| c.id);
    let mut exchanges = out.exchanges;
    exchanges.sort_by_key(|e| (e.request_start.or(e.response_start), e.conversation));
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if args.json {
        let doc = Document {
            capture: CaptureRow::from(&summary),
            conversations: convs.iter().map(ConversationRow::from).collect(),
            http: &exchanges,
        };
        serde_json::to_writer(&mut w, &doc)?;
        writeln!(w)?;
        return Ok(());
    }
    match args.sort {
        SortKey::Duration => {
            convs.sort_by(|a, b| b.duration().cmp(&a.duration()).then(a.id.cmp(&b.id)))
        }
        SortKey::Start => convs.sort_by_key(|c| (c.start, c.id)),
        SortKey::Bytes => convs.sort_by(|a, b| b.bytes().cmp(&a.bytes()).then(a.id.cmp(&b.id))),
        SortKey::Packets => {
            convs.sort_by(|a, b| b.packets().cmp(&a.packets()).then(a.id.cmp(&b.id)))
        }
        SortKey::Id | SortKey::TotalTime | SortKey::ServerTime | SortKey::Status => {}
    }
    let first = summary.first_ts;
    if args.http {
        let status = match args.status.as_deref() {
            Some(list) => Some(
                list.parse::<StatusFilter>()
                    .map_err(|e| anyhow::anyhow!("--status: {e}"))?,
            ),
            None => None,
        };
        return print_http(
            &mut w, &name, exchanges, status, args.sort, args.limit, first,
        );
    }
    writeln!(
        w,
        "{name}: {} packets, {} conversations, {} ({}, {})",
        summary.packets,
        convs.len(),
        summary.duration(),
        match (summary.format, summary.compressed) {
            (tracedeck::pcap::Format::Pcap, false) => "pcap",
            (tracedeck::pcap::Format::Pcap, true) => "gzip-compressed pcap",
            (tracedeck::pcap::Format::Pcapng, false) => "pcapng",
            (tracedeck::pcap::Format::Pcapng, true) => "gzip-compressed pcapng",
        },
        summary
            .link_types
            .iter()
            .map(|&l| format!("{} ({l})", tracedeck::pcap::LinkType(l).name()))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if let (Some(matched), Some(expr)) = (summary.matched, args.filter.as_deref()) {
        writeln!(
            w,
            "filter {expr:?} matched {matched} of {} packets",
            summary.packets
        )?;
    }
    let http_total: u64 = out_by_class.iter().sum();
    if http_total > 0 {
        let names = ["1xx", "2xx", "3xx", "4xx", "5xx", "no response"];
        let parts: Vec<String> = names
            .iter()
            .zip(out_by_class)
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        writeln!(
            w,
            "HTTP: {http_total} exchanges ({}); --http lists them",
            parts.join(", ")
        )?;
    }
    for warning in &summary.warnings {
        writeln!(w, "warning: {warning}")?;
    }
    let shown = if args.limit == 0 {
        convs.len()
    } else {
        args.limit.min(convs.len())
    };
    let aw = convs[..shown]
        .iter()
        .map(|c| c.client.to_string().len().max(c.server.to_string().len()))
        .max()
        .unwrap_or(6)
        .max(6);
    let header = [
        "id", "proto", "client", "server", "start", "duration", "pkts>", "<pkts", "bytes>",
        "<bytes", "state", "http",
    ];
    print_row(&mut w, aw, header.map(String::from))?;
    for c in &convs[..shown] {
        let rel = match (c.start, first) {
            (Some(s), Some(f)) => format!("{:.6}", s.since(f).as_secs_f64()),
            _ => "-".into(),
        };
        let row = [
            c.id.to_string(),
            c.proto.as_str().to_string(),
            c.client.to_string(),
            c.server.to_string(),
            rel,
            format!("{:.6}", c.duration().as_secs_f64()),
            c.dirs[0].packets.to_string(),
            c.dirs[1].packets.to_string(),
            c.dirs[0].bytes.to_string(),
            c.dirs[1].bytes.to_string(),
            c.state.as_str().to_string(),
            c.http_exchanges.to_string(),
        ];
        print_row(&mut w, aw, row)?;
    }
    if shown < convs.len() {
        writeln!(
            w,
            "... {} more (use --limit 0 for all)",
            convs.len() - shown
        )?;
    }
    Ok(())
}

fn print_row(w: &mut impl Write, aw: usize, c: [String; 12]) -> std::io::Result<()> {
    writeln!(
        w,
        "{:>5} {:<5} {:<aw$} {:<aw$} {:>10} {:>10} {:>7} {:>7} {:>10} {:>10} {:<11} {:>4}",
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]
    )
}

/// The HTTP exchange table: one row per request, slowest first by default.
fn print_http(
    w: &mut impl Write,
    name: &str,
    mut rows: Vec<ExchangeRow>,
    status: Option<StatusFilter>,
    sort: SortKey,
    limit: usize,
    first: Option<Timestamp>,
) -> anyhow::Result<()> {
    let all = rows.len();
    if let Some(filter) = &status {
        rows.retain(|e| filter.matches(e.status));
    }
    let secs = |s: Option<tracedeck::Span>| s.map(|s| s.as_nanos()).unwrap_or(i64::MIN);
    match sort {
        SortKey::Duration | SortKey::TotalTime => {
            rows.sort_by_key(|e| std::cmp::Reverse(secs(e.total_time)))
        }
        SortKey::ServerTime => rows.sort_by_key(|e| std::cmp::Reverse(secs(e.server_time))),
        SortKey::Bytes => rows.sort_by_key(|e| std::cmp::Reverse(e.response_body_bytes)),
        SortKey::Status => rows.sort_by_key(|e| e.status),
        SortKey::Start | SortKey::Id | SortKey::Packets => {}
    }
    writeln!(
        w,
        "{name}: {} HTTP exchanges, {} shown after filters",
        all,
        rows.len()
    )?;
    let shown = if limit == 0 {
        rows.len()
    } else {
        limit.min(rows.len())
    };
    let cw = rows[..shown]
        .iter()
        .map(|e| e.client.len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        w,
        "{:>10} {:<cw$} {:<7} {:<40} {:>6} {:>10} {:>10}  where the time went",
        "start", "client", "method", "uri", "status", "server", "total"
    )?;
    for e in &rows[..shown] {
        let rel = match (e.request_start.or(e.response_start), first) {
            (Some(s), Some(f)) => format!("{:.6}", s.since(f).as_secs_f64()),
            _ => "-".into(),
        };
        let mut uri: String = e
            .uri
            .clone()
            .unwrap_or_else(|| "-".into())
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        if uri.chars().count() > 40 {
            uri = uri.chars().take(39).collect::<String>() + "…";
        }
        let span =
            |s: Option<tracedeck::Span>| s.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        writeln!(
            w,
            "{:>10} {:<cw$} {:<7} {:<40} {:>6} {:>10} {:>10}  {}",
            rel,
            e.client,
            e.method.as_deref().unwrap_or("-"),
            uri,
            e.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            span(e.server_time),
            span(e.total_time),
            e.verdict
        )?;
    }
    if shown < rows.len() {
        writeln!(w, "... {} more (use --limit 0 for all)", rows.len() - shown)?;
    }
    Ok(())
}
