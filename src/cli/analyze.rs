//! `tracedeck analyze FILE`: the conversation table (and HTTP exchanges)
//! of a capture, as a readable table or as the JSON document (README,
//! "Quick start" and "What the numbers mean").

use std::cmp::Ordering;
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

use super::spool::Spool;

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

/// What the analysis keeps for the output: every row for `--json`
/// (spooled, so memory does not grow with them), only the rows a table
/// shows otherwise.
enum Keep {
    Json {
        /// By id.
        conversations: Spool<Conversation>,
        /// By request start (response start without a request), then
        /// conversation.
        exchanges: Spool<HttpExchange>,
    },
    /// The conversation table.
    Conversations(Top<Conversation>),
    /// `--http`: the exchanges that pass `--status`.
    Exchanges(Top<ExchangeRow>, Option<StatusFilter>),
}

struct Collect {
    keep: Keep,
    /// Exchanges by status class: 1xx..5xx, then "no response".
    by_class: [u64; 6],
}

impl Output for Collect {
    fn conversation(&mut self, conv: &Conversation) {
        match &mut self.keep {
            Keep::Json { conversations, .. } => conversations.push((0, conv.id), conv.clone()),
            Keep::Conversations(rows) => rows.push(conv.clone()),
            Keep::Exchanges(..) => {}
        }
    }

    fn exchange(&mut self, exchange: HttpExchange) {
        let status = exchange.exchange.status;
        let class = match status {
            Some(s @ 100..=599) => usize::from(s / 100 - 1),
            _ => 5,
        };
        self.by_class[class] += 1;
        match &mut self.keep {
            Keep::Json { exchanges, .. } => {
                let e = &exchange.exchange;
                let start = e.request_start.or(e.response_start);
                let key = (
                    start.map_or(i64::MIN, |t| t.as_nanos()),
                    exchange.conversation,
                );
                exchanges.push(key, exchange);
            }
            Keep::Exchanges(rows, filter) => {
                if filter.as_ref().is_none_or(|f| f.matches(status)) {
                    rows.push(ExchangeRow::from(exchange));
                }
            }
            Keep::Conversations(_) => {}
        }
    }
}

/// The first `limit` rows of a table in its order (all of them when
/// `limit` is 0), without holding the rest.
struct Top<T> {
    limit: usize,
    order: fn(&T, &T) -> Ordering,
    rows: Vec<T>,
    /// Rows pushed, kept or not.
    seen: usize,
}

impl<T> Top<T> {
    fn new(limit: usize, order: fn(&T, &T) -> Ordering) -> Self {
        Top {
            limit,
            order,
            rows: Vec::new(),
            seen: 0,
        }
    }

    fn push(&mut self, row: T) {
        self.seen += 1;
        self.rows.push(row);
        if self.limit > 0 && self.rows.len() >= 2 * self.limit.max(512) {
            self.cut();
        }
    }

    /// Sorts (stable: equal rows keep arrival order) and drops the rest.
    fn cut(&mut self) {
        self.rows.sort_by(self.order);
        if self.limit > 0 {
            self.rows.truncate(self.limit);
        }
    }

    fn into_rows(mut self) -> Vec<T> {
        self.cut();
        self.rows
    }
}

fn conversation_order(sort: SortKey) -> fn(&Conversation, &Conversation) -> Ordering {
    match sort {
        SortKey::Duration => |a, b| b.duration().cmp(&a.duration()).then(a.id.cmp(&b.id)),
        SortKey::Start => |a, b| (a.start, a.id).cmp(&(b.start, b.id)),
        SortKey::Bytes => |a, b| b.bytes().cmp(&a.bytes()).then(a.id.cmp(&b.id)),
        SortKey::Packets => |a, b| b.packets().cmp(&a.packets()).then(a.id.cmp(&b.id)),
        SortKey::Id | SortKey::TotalTime | SortKey::ServerTime | SortKey::Status => {
            |a, b| a.id.cmp(&b.id)
        }
    }
}

/// Exchanges: the table's key first, then request start (the JSON order).
fn exchange_order(sort: SortKey) -> fn(&ExchangeRow, &ExchangeRow) -> Ordering {
    fn by_start(a: &ExchangeRow, b: &ExchangeRow) -> Ordering {
        let key = |e: &ExchangeRow| (e.request_start.or(e.response_start), e.conversation);
        key(a).cmp(&key(b))
    }
    fn nanos(s: Option<tracedeck::Span>) -> i64 {
        s.map(|s| s.as_nanos()).unwrap_or(i64::MIN)
    }
    match sort {
        SortKey::Duration | SortKey::TotalTime => |a, b| {
            nanos(b.total_time)
                .cmp(&nanos(a.total_time))
                .then(by_start(a, b))
        },
        SortKey::ServerTime => |a, b| {
            nanos(b.server_time)
                .cmp(&nanos(a.server_time))
                .then(by_start(a, b))
        },
        SortKey::Bytes => |a, b| {
            b.response_body_bytes
                .cmp(&a.response_body_bytes)
                .then(by_start(a, b))
        },
        SortKey::Status => |a, b| a.status.cmp(&b.status).then(by_start(a, b)),
        SortKey::Start | SortKey::Id | SortKey::Packets => by_start,
    }
}

#[derive(Serialize)]
struct CaptureOnly {
    capture: CaptureRow,
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
    let status = match args.status.as_deref() {
        Some(list) => Some(
            list.parse::<StatusFilter>()
                .map_err(|e| anyhow::anyhow!("--status: {e}"))?,
        ),
        None => None,
    };
    let opts = Options {
        filter,
        ..Options::default()
    };
    let keep = if args.json {
        let spooling = "starting the JSON writer";
        Keep::Json {
            conversations: Spool::start(|c: Conversation| ConversationRow::from(&c))
                .context(spooling)?,
            exchanges: Spool::start(ExchangeRow::from).context(spooling)?,
        }
    } else if args.http {
        Keep::Exchanges(Top::new(args.limit, exchange_order(args.sort)), status)
    } else {
        Keep::Conversations(Top::new(args.limit, conversation_order(args.sort)))
    };
    let mut out = Collect {
        keep,
        by_class: [0; 6],
    };
    let summary = analysis::analyze(&mut reader, &opts, &mut out)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let conversations = match out.keep {
        Keep::Json {
            conversations,
            exchanges,
        } => {
            let spooled = "writing the JSON rows";
            let conversations = conversations.finish().context(spooled)?;
            let exchanges = exchanges.finish().context(spooled)?;
            // The `--json` document (README, "Quick start"), the rows copied in as they
            // were serialized: `{"capture":…,"conversations":[…],"http":[…]}`.
            let head = serde_json::to_vec(&CaptureOnly {
                capture: CaptureRow::from(&summary),
            })?;
            w.write_all(&head[..head.len() - 1])?;
            w.write_all(b",\"conversations\":[")?;
            conversations.write_to(&mut w)?;
            w.write_all(b"],\"http\":[")?;
            exchanges.write_to(&mut w)?;
            w.write_all(b"]}\n")?;
            w.flush()?;
            return Ok(());
        }
        Keep::Exchanges(rows, _) => {
            let all = out.by_class.iter().sum();
            return print_http(&mut w, &name, rows, all, summary.first_ts);
        }
        Keep::Conversations(rows) => rows,
    };
    let total = conversations.seen;
    let convs = conversations.into_rows();
    let first = summary.first_ts;
    writeln!(
        w,
        "{name}: {} packets, {} conversations, {} ({}, {})",
        summary.packets,
        total,
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
    let http_total: u64 = out.by_class.iter().sum();
    if http_total > 0 {
        let names = ["1xx", "2xx", "3xx", "4xx", "5xx", "no response"];
        let parts: Vec<String> = names
            .iter()
            .zip(out.by_class)
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
    let shown = convs.len();
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
    if shown < total {
        writeln!(w, "... {} more (use --limit 0 for all)", total - shown)?;
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
    rows: Top<ExchangeRow>,
    all: u64,
    first: Option<Timestamp>,
) -> anyhow::Result<()> {
    let matched = rows.seen;
    let rows = rows.into_rows();
    writeln!(
        w,
        "{name}: {all} HTTP exchanges, {matched} shown after filters"
    )?;
    let shown = rows.len();
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
    if shown < matched {
        writeln!(w, "... {} more (use --limit 0 for all)", matched - shown)?;
    }
    Ok(())
}
