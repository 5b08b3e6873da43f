//! `tracedeck analyze FILE`: the conversation table (and HTTP exchanges,
//! DNS lookups)
//! of a capture, as a readable table or as the JSON document (README,
//! "Quick start" and "What the numbers mean").

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fs::File;
use std::io::{IsTerminal, Stderr, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Serialize;

use tracedeck::analysis::endpoints;
use tracedeck::analysis::report::{
    CaptureRow, Cell, ConvWhere, ConversationRow, DnsRow, EndpointRow, ExchangeRow, Order, Row,
    StatusFilter,
};
use tracedeck::analysis::tls::KeyLog;
use tracedeck::analysis::{self, HttpExchange, Options, Output, OutputError};
use tracedeck::flow::Conversation;
use tracedeck::pcap::Reader;
use tracedeck::Timestamp;

use super::progress::{Counted, ProgressLine};
use super::spool::Spool;
use super::text_table::{self, Align, Look, TextCol};

const EXAMPLES: &str = "\
Examples:
  tracedeck analyze -r out.pcap port 8080 and host 10.0.0.2  the slowest conversations
  tracedeck analyze out.pcap.gz --http --status 5xx         the failed HTTP exchanges
  tracedeck analyze out.pcap --endpoints --sort total-p99    endpoints, slowest p99 first";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct AnalyzeArgs {
    /// The capture (pcap or pcapng, optionally gzip-compressed), as with
    /// `tcpdump -r FILE`.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    read: Option<PathBuf>,
    /// `FILE [EXPR...]`, or only `EXPR...` after `-r FILE`: a trailing
    /// pcap-filter expression works as in `tcpdump -r FILE EXPR`.
    #[arg(value_name = "FILE] [EXPR")]
    operands: Vec<String>,
    /// Print the whole analysis as one JSON object.
    #[arg(long)]
    json: bool,
    /// Sort the table by this column (largest first; id, start and status ascending).
    /// Conversations: duration (default), start, bytes, packets, id.
    /// With --http: total-time (default), server-time, status, start, bytes.
    /// With --dns: time (response time, default), start, name, rcode, retransmits.
    /// With --endpoints: any column of the endpoint table (count, default;
    /// total-p99, server-p50, errors, status-5xx, template, ...).
    #[arg(long, value_name = "COLUMN")]
    sort: Option<String>,
    /// Only packets matching this pcap-filter expression count, as with
    /// `tcpdump -r FILE EXPR` (e.g. "port 8080", "host 10.0.0.1 and not port 22").
    #[arg(long, short = 'f', value_name = "EXPR")]
    filter: Option<String>,
    /// Print the HTTP exchange table instead of the conversations.
    #[arg(long, conflicts_with = "dns")]
    http: bool,
    /// Print the endpoints instead of the conversations: the HTTP exchanges
    /// grouped by method, host and URL template, with their errors and
    /// percentiles (README, "Endpoints"); with --json, as `endpoints`.
    #[arg(long, conflicts_with_all = ["dns", "http"])]
    endpoints: bool,
    /// With --endpoints: `--rename OLD=>NEW` and `--split TEMPLATE`, as in
    /// the endpoints page's URL.
    #[command(flatten)]
    edits: super::diff::TemplateEdits,
    /// Print the DNS lookup table instead of the conversations; with
    /// --json, add the `dns` list to the document.
    #[arg(long)]
    dns: bool,
    /// With --dns: only these response codes (NXDOMAIN, SERVFAIL, ...),
    /// `none` for lookups without a response, comma-separated.
    #[arg(long, value_name = "LIST", requires = "dns")]
    rcode: Option<String>,
    /// With --http: only these statuses: codes (404), classes (5xx),
    /// ranges (500-599), `none` (no response), comma-separated.
    #[arg(long, value_name = "LIST")]
    status: Option<String>,
    /// Rows of the table to print (0 = all).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// A TLS key log (the NSS format SSLKEYLOGFILE writes) to decrypt
    /// TLS conversations with; bad lines are warnings, the rest is used.
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
}

/// `--sort` for the conversation table.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConvSort {
    Duration,
    Start,
    /// Bytes both ways.
    Bytes,
    Packets,
    Id,
}

/// `--sort` for the HTTP exchange table (`--http`).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HttpSort {
    /// Request start to last response byte.
    TotalTime,
    /// Request complete to first response byte.
    ServerTime,
    Status,
    Start,
    /// Response body bytes.
    Bytes,
}

/// `--sort` for the DNS lookup table (`--dns`).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DnsSort {
    /// Query to response, slowest first.
    Time,
    /// When the query was sent.
    Start,
    Name,
    Rcode,
    Retransmits,
}

/// Which table `--sort` orders, and by what.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Conversations(ConvSort),
    Exchanges(HttpSort),
    Lookups(DnsSort),
    /// A sortable column of the endpoint table.
    Endpoints(&'static str),
}

/// The tables `analyze` prints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Conversations,
    Http,
    Dns,
}

/// The valid values of a `--sort` enum, for messages.
fn sort_names<T: ValueEnum>() -> String {
    T::value_variants()
        .iter()
        .filter_map(|v| v.to_possible_value())
        .map(|v| v.get_name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `--sort` for the chosen table; a value of the other table (or
/// none at all) is a usage error naming the valid ones.
fn parse_sort(value: Option<&str>, table: Table) -> Result<Sort, String> {
    let (name, valid) = match table {
        Table::Http => ("the --http table", sort_names::<HttpSort>()),
        Table::Dns => ("the --dns table", sort_names::<DnsSort>()),
        Table::Conversations => ("the conversation table", sort_names::<ConvSort>()),
    };
    let Some(value) = value else {
        return Ok(match table {
            Table::Http => Sort::Exchanges(HttpSort::TotalTime),
            Table::Dns => Sort::Lookups(DnsSort::Time),
            Table::Conversations => Sort::Conversations(ConvSort::Duration),
        });
    };
    let sort = match table {
        Table::Http => HttpSort::from_str(value, true).map(Sort::Exchanges),
        Table::Dns => DnsSort::from_str(value, true).map(Sort::Lookups),
        Table::Conversations => ConvSort::from_str(value, true).map(Sort::Conversations),
    };
    let table = name;
    sort.map_err(|_| format!("--sort {value:?} does not fit {table}: use one of {valid}"))
}

/// `--sort` for the endpoint table: a sortable column of its definition,
/// `-` or `_` between words (`total-p99`); by exchanges when not given.
fn endpoint_sort(value: Option<&str>) -> Result<Sort, String> {
    let Some(value) = value else {
        return Ok(Sort::Endpoints("count"));
    };
    let name = value.replace('-', "_").to_ascii_lowercase();
    match EndpointRow::column(&name) {
        Some((_, col)) if col.is_sortable() => Ok(Sort::Endpoints(col.name)),
        _ => {
            let valid: Vec<String> = EndpointRow::COLUMNS
                .iter()
                .filter(|c| c.is_sortable())
                .map(|c| c.name.replace('_', "-"))
                .collect();
            Err(format!(
                "--sort {value:?} does not fit the --endpoints table: use one of {}",
                valid.join(", ")
            ))
        }
    }
}

/// What `analyze` was asked to do, its operands sorted out.
pub struct Request {
    file: PathBuf,
    /// `--filter`, or the trailing expression.
    filter: Option<String>,
    sort: Sort,
    args: AnalyzeArgs,
}

impl AnalyzeArgs {
    /// Sorts out the file, the filter expression and `--sort`; the error
    /// is a usage error (exit 2).
    pub fn resolve(mut self) -> Result<Request, String> {
        let mut operands = std::mem::take(&mut self.operands).into_iter();
        let file = match self.read.take() {
            Some(file) => file,
            None => operands
                .next()
                .map(PathBuf::from)
                .ok_or_else(|| "the capture is missing: give `-r FILE` or `FILE`".to_string())?,
        };
        let words: Vec<String> = operands.collect();
        let filter = match (words.is_empty(), self.filter.take()) {
            (true, filter) => filter,
            (false, None) => Some(words.join(" ")),
            (false, Some(_)) => {
                return Err(format!(
                    "a filter is given twice, as --filter and as the trailing expression {:?}: keep one",
                    words.join(" ")
                ))
            }
        };
        let table = if self.http {
            Table::Http
        } else if self.dns {
            Table::Dns
        } else {
            Table::Conversations
        };
        let sort = if self.endpoints {
            endpoint_sort(self.sort.as_deref())?
        } else {
            parse_sort(self.sort.as_deref(), table)?
        };
        Ok(Request {
            file,
            filter,
            sort,
            args: self,
        })
    }
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
        /// With `--dns`: by query time, then conversation.
        lookups: Option<Spool<DnsRow>>,
    },
    /// The conversation table.
    Conversations(Top<ConversationRow>),
    /// `--http`: the exchanges that pass `--status`.
    Exchanges(Top<ExchangeRow>, Option<StatusFilter>),
    /// `--dns`: the lookups that pass `--rcode`.
    Lookups(Top<DnsRow>, Option<RcodeFilter>),
    /// `--endpoints`: every exchange counted into its endpoint.
    Endpoints(Box<endpoints::Builder>),
}

/// `--rcode NXDOMAIN,SERVFAIL,none`: any of the codes (`none`: no response).
struct RcodeFilter(Vec<String>);

impl RcodeFilter {
    fn parse(list: &str) -> anyhow::Result<RcodeFilter> {
        let codes: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        if let Some(bad) = codes
            .iter()
            .find(|c| !c.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            anyhow::bail!("--rcode: {bad:?} is not a response code such as NXDOMAIN");
        }
        Ok(RcodeFilter(codes))
    }

    fn matches(&self, rcode: Option<&str>) -> bool {
        self.0.iter().any(|c| rcode.unwrap_or("NONE") == c)
    }
}

/// What a failed `Spool::push` was doing.
const SPOOLING: &str = "spooling the JSON rows";

/// The row predicates of the filter expression (`tls`, `sni NAME`, ...):
/// facts of a conversation known when it ends, after its exchanges and
/// lookups ended. `--json` spools every row as it comes and writes those
/// of the conversations in `passed`; the tables hold, per open
/// conversation, its counts and the rows that could still make the table
/// (at most `--limit`), which join the table when it passes: bounded
/// however many exchanges one conversation has. Not `--endpoints`: it
/// holds every exchange of each open conversation until the conversation
/// ends, as the grouping needs them all (README, "Row predicates").
struct HeldForRows {
    keep: ConvWhere,
    /// The conversations that passed, by id (`--json`).
    passed: IdSet,
    /// What each open conversation holds (the tables).
    open: HashMap<u64, Held>,
    /// Rows held at once at most (for the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    most_held: usize,
    held: usize,
}

/// What an open conversation holds for a table until it ends.
#[derive(Default)]
struct Held {
    /// Exchanges by status class, as [`Collect::by_class`].
    by_class: [u64; 6],
    lookups: u64,
    /// `--http`: its exchanges that could make the table.
    exchanges: Option<Top<ExchangeRow>>,
    /// `--dns`: its lookups that could make the table.
    dns: Option<Top<DnsRow>>,
    /// `--endpoints`: every exchange (the grouping needs them all).
    endpoint_rows: Vec<ExchangeRow>,
}

impl Held {
    fn rows(&self) -> usize {
        self.exchanges.as_ref().map_or(0, |t| t.rows.len())
            + self.dns.as_ref().map_or(0, |t| t.rows.len())
            + self.endpoint_rows.len()
    }
}

/// A set of conversation ids (dense from 0, as the flow table numbers
/// them): one bit each.
#[derive(Default)]
struct IdSet(Vec<u64>);

impl IdSet {
    fn insert(&mut self, id: u64) {
        let (word, bit) = ((id / 64) as usize, id % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn contains(&self, id: u64) -> bool {
        let (word, bit) = ((id / 64) as usize, id % 64);
        self.0.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }
}

fn status_class(status: Option<u16>) -> usize {
    match status {
        Some(s @ 100..=599) => usize::from(s / 100 - 1),
        _ => 5,
    }
}

struct Collect {
    keep: Keep,
    rows: Option<HeldForRows>,
    /// DNS lookups seen (with `--dns`).
    lookups: u64,
    /// Exchanges by status class: 1xx..5xx, then "no response".
    by_class: [u64; 6],
    progress: ProgressLine<Stderr>,
}

/// Opens the capture, counting the bytes read from the file for the
/// progress line (drawn only when stderr is a terminal).
fn open_with_progress(
    path: &Path,
) -> Result<(Reader, ProgressLine<Stderr>), tracedeck::pcap::Error> {
    let io_err = |source| tracedeck::pcap::Error::Io { offset: 0, source };
    let file = File::open(path).map_err(io_err)?;
    let total_len = file.metadata().map_err(io_err)?.len();
    let (counted, read) = Counted::new(file);
    let reader = Reader::new(counted)?;
    let stderr = std::io::stderr();
    let enabled = stderr.is_terminal();
    let line = ProgressLine::new(stderr, enabled, path.display().to_string(), total_len, read);
    Ok((reader, line))
}

impl Output for Collect {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        if let Some(rows) = &mut self.rows {
            let held = rows.open.remove(&conv.id);
            if let Some(h) = &held {
                rows.held -= h.rows();
            }
            if !rows.keep.matches(&ConversationRow::from(conv)) {
                return Ok(());
            }
            rows.passed.insert(conv.id);
            if let Some(h) = held {
                self.join(h);
            }
        }
        match &mut self.keep {
            Keep::Json { conversations, .. } => conversations
                .push((0, conv.id), conv.clone())
                .map_err(|e| OutputError::new(SPOOLING, e))?,
            Keep::Conversations(rows) => rows.push(ConversationRow::from(conv)),
            Keep::Exchanges(..) | Keep::Lookups(..) | Keep::Endpoints(_) => {}
        }
        Ok(())
    }

    fn progress(&mut self, _bytes: u64, records: u64) -> Result<bool, OutputError> {
        self.progress.update(records, Instant::now());
        Ok(true)
    }

    fn exchange(&mut self, exchange: HttpExchange) -> Result<(), OutputError> {
        let Some(rows) = self.rows.as_mut().filter(|_| !self.keep.is_json()) else {
            // `--json` writes the passing conversations' rows at the end.
            return self.take_exchange(exchange);
        };
        let h = rows.open.entry(exchange.conversation).or_default();
        let before = h.rows();
        let status = exchange.exchange.status;
        h.by_class[status_class(status)] += 1;
        match &self.keep {
            Keep::Exchanges(top, filter) if filter.as_ref().is_none_or(|f| f.matches(status)) => {
                h.exchanges
                    .get_or_insert_with(|| top.fresh())
                    .push(ExchangeRow::from(exchange));
            }
            Keep::Endpoints(_) => h.endpoint_rows.push(ExchangeRow::from(exchange)),
            _ => {}
        }
        let after = h.rows();
        rows.count_held(before, after);
        Ok(())
    }

    fn dns(&mut self, lookup: DnsRow) -> Result<(), OutputError> {
        let Some(rows) = self.rows.as_mut().filter(|_| !self.keep.is_json()) else {
            return self.take_dns(lookup);
        };
        let Keep::Lookups(top, filter) = &self.keep else {
            return Ok(());
        };
        let h = rows.open.entry(lookup.conversation).or_default();
        let before = h.rows();
        h.lookups += 1;
        if filter
            .as_ref()
            .is_none_or(|f| f.matches(lookup.rcode.as_deref()))
        {
            h.dns.get_or_insert_with(|| top.fresh()).push(lookup);
        }
        let after = h.rows();
        rows.count_held(before, after);
        Ok(())
    }
}

impl HeldForRows {
    /// Nothing held yet, keeping the conversations `keep` passes.
    fn new(keep: ConvWhere) -> HeldForRows {
        HeldForRows {
            keep,
            passed: IdSet::default(),
            open: HashMap::new(),
            most_held: 0,
            held: 0,
        }
    }

    fn count_held(&mut self, before: usize, after: usize) {
        self.held = self.held + after - before;
        self.most_held = self.most_held.max(self.held);
    }
}

impl Keep {
    fn is_json(&self) -> bool {
        matches!(self, Keep::Json { .. })
    }
}

impl Collect {
    /// A passing conversation's held counts and rows join the table.
    fn join(&mut self, h: Held) {
        for (all, n) in self.by_class.iter_mut().zip(h.by_class) {
            *all += n;
        }
        match &mut self.keep {
            Keep::Exchanges(top, _) => {
                if let Some(rows) = h.exchanges {
                    top.merge(rows);
                }
            }
            Keep::Lookups(top, _) => {
                self.lookups += h.lookups;
                if let Some(rows) = h.dns {
                    top.merge(rows);
                }
            }
            Keep::Endpoints(builder) => {
                for row in &h.endpoint_rows {
                    builder.add(row);
                }
            }
            Keep::Json { .. } | Keep::Conversations(_) => {}
        }
    }

    fn take_exchange(&mut self, exchange: HttpExchange) -> Result<(), OutputError> {
        let status = exchange.exchange.status;
        self.by_class[status_class(status)] += 1;
        match &mut self.keep {
            Keep::Json { exchanges, .. } => {
                let e = &exchange.exchange;
                let start = e.request_start.or(e.response_start);
                let key = (
                    start.map_or(i64::MIN, |t| t.as_nanos()),
                    exchange.conversation,
                );
                exchanges
                    .push(key, exchange)
                    .map_err(|e| OutputError::new(SPOOLING, e))?;
            }
            Keep::Exchanges(rows, filter) => {
                if filter.as_ref().is_none_or(|f| f.matches(status)) {
                    rows.push(ExchangeRow::from(exchange));
                }
            }
            Keep::Endpoints(builder) => {
                builder.add(&ExchangeRow::from(exchange));
            }
            Keep::Conversations(_) | Keep::Lookups(..) => {}
        }
        Ok(())
    }

    fn take_dns(&mut self, lookup: DnsRow) -> Result<(), OutputError> {
        match &mut self.keep {
            Keep::Json {
                lookups: Some(lookups),
                ..
            } => {
                self.lookups += 1;
                let key = (
                    lookup.query_time.map_or(i64::MIN, |t| t.as_nanos()),
                    lookup.conversation,
                );
                lookups
                    .push(key, lookup)
                    .map_err(|e| OutputError::new(SPOOLING, e))?;
            }
            Keep::Lookups(rows, filter) => {
                self.lookups += 1;
                if filter
                    .as_ref()
                    .is_none_or(|f| f.matches(lookup.rcode.as_deref()))
                {
                    rows.push(lookup);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// How a table's rows are ordered (shared with the rows each open
/// conversation holds).
type RowOrder<T> = Rc<dyn Fn(&T, &T) -> Ordering>;

/// The first `limit` rows of a table in its order (all of them when
/// `limit` is 0), without holding the rest.
struct Top<T> {
    limit: usize,
    order: RowOrder<T>,
    rows: Vec<T>,
    /// Rows pushed, kept or not.
    seen: usize,
}

impl<T> Top<T> {
    fn new(limit: usize, order: RowOrder<T>) -> Self {
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
        self.rows.sort_by(|a, b| (self.order)(a, b));
        if self.limit > 0 {
            self.rows.truncate(self.limit);
        }
    }

    fn into_rows(mut self) -> Vec<T> {
        self.cut();
        self.rows
    }

    /// An empty table in the same order, with the same limit.
    fn fresh(&self) -> Top<T> {
        Top::new(self.limit, Rc::clone(&self.order))
    }

    /// Adds the rows of `other` (counting the rows it saw).
    fn merge(&mut self, other: Top<T>) {
        let seen = self.seen + other.seen;
        for row in other.into_rows() {
            self.push(row);
        }
        self.seen = seen;
    }
}

/// The column of the table's definition a `--sort` value sorts on
/// (`None`: the table's own order).
fn sort_column(sort: Sort) -> Option<&'static str> {
    match sort {
        Sort::Conversations(ConvSort::Duration) => Some("duration"),
        Sort::Conversations(ConvSort::Start) => Some("start"),
        Sort::Conversations(ConvSort::Bytes) => Some("bytes"),
        Sort::Conversations(ConvSort::Packets) => Some("packets"),
        Sort::Conversations(ConvSort::Id) => None,
        Sort::Exchanges(HttpSort::TotalTime) => Some("total_time"),
        Sort::Exchanges(HttpSort::ServerTime) => Some("server_time"),
        Sort::Exchanges(HttpSort::Bytes) => Some("response_body_bytes"),
        Sort::Exchanges(HttpSort::Status) => Some("status"),
        Sort::Exchanges(HttpSort::Start) => None,
        Sort::Lookups(DnsSort::Time) => Some("response_time"),
        Sort::Lookups(DnsSort::Start) => None,
        Sort::Lookups(DnsSort::Name) => Some("name"),
        Sort::Lookups(DnsSort::Rcode) => Some("rcode"),
        Sort::Lookups(DnsSort::Retransmits) => Some("retransmits"),
        Sort::Endpoints(column) => Some(column),
    }
}

/// Cells in the order the store sorts them: missing values first.
fn cmp_cells(a: &Cell<'_>, b: &Cell<'_>) -> Ordering {
    match (a, b) {
        (Cell::Null, Cell::Null) => Ordering::Equal,
        (Cell::Null, _) => Ordering::Less,
        (_, Cell::Null) => Ordering::Greater,
        (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
        _ => a.as_int().cmp(&b.as_int()),
    }
}

/// Rows by the column `--sort` names, in that column's default order,
/// then by `tie` (the table's own order).
fn row_order<R: Row>(column: Option<&str>, tie: fn(&R, &R) -> Ordering) -> RowOrder<R> {
    match column.and_then(|name| R::column(name)) {
        Some((_, col)) => {
            let get = col.get;
            let desc = col.sort == Some(Order::Desc);
            Rc::new(move |a, b| {
                let o = cmp_cells(&get(a), &get(b));
                if desc { o.reverse() } else { o }.then_with(|| tie(a, b))
            })
        }
        None => Rc::new(tie),
    }
}

/// Exchanges in the JSON's order: request start (response start without a
/// request), then conversation.
fn by_start(a: &ExchangeRow, b: &ExchangeRow) -> Ordering {
    let key = |e: &ExchangeRow| (e.request_start.or(e.response_start), e.conversation);
    key(a).cmp(&key(b))
}

/// Lookups in the JSON's order: query time (responses without a query
/// last), then conversation.
fn by_query_time(a: &DnsRow, b: &DnsRow) -> Ordering {
    let key = |d: &DnsRow| (d.query_time.is_none(), d.query_time, d.conversation);
    key(a).cmp(&key(b))
}

#[derive(Serialize)]
struct CaptureOnly {
    capture: CaptureRow,
}

pub fn run(request: Request) -> anyhow::Result<()> {
    let Request {
        file,
        filter: expr,
        sort,
        args,
    } = request;
    let name = file.display().to_string();
    let (mut reader, progress) = open_with_progress(&file).with_context(|| name.clone())?;
    let split = tracedeck::filter::split(expr.as_deref().unwrap_or(""))
        .map_err(|e| anyhow::anyhow!("bad filter {:?}: {e}", expr.as_deref().unwrap_or("")))?;
    let filter = match split.packets.as_deref() {
        Some(packets) => Some(
            tracedeck::filter::parse(packets)
                .map_err(|e| anyhow::anyhow!("bad filter {packets:?}: {e}"))?,
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
    let keylog = match &args.keylog {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading the key log {}", path.display()))?;
            let source = path.display().to_string();
            Some(std::sync::Arc::new(KeyLog::parse(
                &String::from_utf8_lossy(&bytes),
                &source,
            )))
        }
        None => None,
    };
    let opts = Options {
        filter,
        keylog,
        ..Options::default()
    };
    let keep = if args.endpoints {
        Keep::Endpoints(Box::new(endpoints::Builder::new(args.edits.options()?)))
    } else if args.json {
        let spooling = "starting the JSON writer";
        Keep::Json {
            conversations: Spool::start(|c: Conversation| ConversationRow::from(&c))
                .context(spooling)?,
            exchanges: Spool::start(ExchangeRow::from).context(spooling)?,
            lookups: if args.dns {
                Some(Spool::start(|d: DnsRow| d).context(spooling)?)
            } else {
                None
            },
        }
    } else if args.dns {
        let rcodes = args.rcode.as_deref().map(RcodeFilter::parse).transpose()?;
        let order = row_order(sort_column(sort), by_query_time);
        Keep::Lookups(Top::new(args.limit, order), rcodes)
    } else if args.http {
        let order = row_order(sort_column(sort), by_start);
        Keep::Exchanges(Top::new(args.limit, order), status)
    } else {
        let order = row_order(sort_column(sort), |a: &ConversationRow, b| a.id.cmp(&b.id));
        Keep::Conversations(Top::new(args.limit, order))
    };
    let mut out = Collect {
        keep,
        rows: split
            .rows
            .map(|rows| HeldForRows::new(ConvWhere::of(&rows))),
        lookups: 0,
        by_class: [0; 6],
        progress,
    };
    let summary = analysis::analyze(&mut reader, &opts, &mut out);
    out.progress.clear();
    let summary = summary.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    // Warnings go to stderr in every mode: stdout holds only the table or
    // the JSON, ready for a pipe.
    for warning in &summary.warnings {
        eprintln!("tracedeck: {name}: warning: {warning}");
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let conversations = match out.keep {
        Keep::Json {
            conversations,
            exchanges,
            lookups,
        } => {
            let spooled = "writing the JSON rows";
            let conversations = conversations.finish().context(spooled)?;
            let exchanges = exchanges.finish().context(spooled)?;
            // With row predicates, only the rows of the conversations
            // that passed (an exchange's or lookup's key ends with its
            // conversation).
            let passed =
                |key: super::spool::Key| out.rows.as_ref().is_none_or(|r| r.passed.contains(key.1));
            // The `--json` document (README, "Quick start"), the rows copied in as they
            // were serialized: `{"capture":…,"conversations":[…],"http":[…]}`.
            let head = serde_json::to_vec(&CaptureOnly {
                capture: CaptureRow::from(&summary),
            })?;
            w.write_all(&head[..head.len() - 1])?;
            w.write_all(b",\"conversations\":[")?;
            conversations.write_to(&mut w)?;
            w.write_all(b"],\"http\":[")?;
            exchanges.write_where(&mut w, &passed)?;
            if let Some(lookups) = lookups {
                // Only with `--dns`: the document stays as it was without.
                let lookups = lookups.finish().context(spooled)?;
                w.write_all(b"],\"dns\":[")?;
                lookups.write_where(&mut w, &passed)?;
            }
            w.write_all(b"]}\n")?;
            w.flush()?;
            return Ok(());
        }
        Keep::Exchanges(rows, _) => {
            let all: u64 = out.by_class.iter().sum();
            let heading = format!("{name}: {all} HTTP exchanges");
            return print_records(&mut w, &heading, HTTP_TEXT, rows, summary.first_ts);
        }
        Keep::Lookups(rows, _) => {
            let heading = format!("{name}: {} DNS lookups", out.lookups);
            return print_records(&mut w, &heading, DNS_TEXT, rows, summary.first_ts);
        }
        Keep::Endpoints(builder) => {
            let set = builder.finish();
            if args.json {
                #[derive(Serialize)]
                struct EndpointsDoc {
                    capture: CaptureRow,
                    endpoints: Vec<EndpointRow>,
                }
                let doc = EndpointsDoc {
                    capture: CaptureRow::from(&summary),
                    endpoints: set.rows,
                };
                serde_json::to_writer(&mut w, &doc)?;
                w.write_all(b"\n")?;
                w.flush()?;
                return Ok(());
            }
            let all: u64 = out.by_class.iter().sum();
            // `set.rows` come most exchanges first: the tie order.
            let mut rows = Top::new(
                args.limit,
                row_order(sort_column(sort), |_, _| Ordering::Equal),
            );
            for row in set.rows {
                rows.push(row);
            }
            let heading = format!("{name}: {all} HTTP exchanges in {} endpoints", rows.seen);
            return print_records(&mut w, &heading, ENDPOINT_TEXT, rows, summary.first_ts);
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
    if let (Some(matched), Some(expr)) = (summary.matched, expr.as_deref()) {
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
    let shown = convs.len();
    // The tunnel column (the last) only when a conversation has one.
    let cols = if convs.iter().any(|c| c.tunnel.is_some()) {
        CONV_TEXT
    } else {
        &CONV_TEXT[..CONV_TEXT.len() - 1]
    };
    text_table::print(&mut w, cols, &convs, first)?;
    if shown < total {
        writeln!(w, "... {} more (use --limit 0 for all)", total - shown)?;
    }
    Ok(())
}

/// The conversation table's columns (of the definition in
/// src/analysis/report/conversations.rs).
const CONV_TEXT: &[TextCol<ConversationRow>] = &[
    TextCol::new("id", 5, Align::Right).sep(""),
    TextCol::new("proto", 5, Align::Left),
    TextCol::new("client", 0, Align::Left).fit(),
    TextCol::new("server", 0, Align::Left).fit(),
    TextCol::new("start", 10, Align::Right).look(Look::Relative),
    TextCol::new("duration", 10, Align::Right).look(Look::Seconds),
    TextCol::new("packets_c2s", 7, Align::Right),
    TextCol::new("packets_s2c", 7, Align::Right),
    TextCol::new("bytes_c2s", 10, Align::Right),
    TextCol::new("bytes_s2c", 10, Align::Right),
    TextCol::new("state", 11, Align::Left),
    TextCol::new("http_exchanges", 4, Align::Right),
    TextCol::new("tunnel", 0, Align::Left).sep("  "),
];

/// The HTTP table's columns (of the definition in
/// src/analysis/report/exchanges.rs).
const HTTP_TEXT: &[TextCol<ExchangeRow>] = &[
    TextCol::new("request_start", 10, Align::Right)
        .look(Look::Own(exchange_start))
        .sep(""),
    TextCol::new("client", 0, Align::Left).fit(),
    TextCol::new("method", 7, Align::Left),
    TextCol::new("uri", 40, Align::Left).look(Look::Own(short_uri)),
    TextCol::new("status", 6, Align::Right),
    TextCol::new("server_time", 10, Align::Right).look(Look::Human),
    TextCol::new("total_time", 10, Align::Right).look(Look::Human),
    TextCol::new("verdict", 0, Align::Left).sep("  "),
];

/// When the exchange started: its request, or its response when no
/// request was seen.
fn exchange_start(e: &ExchangeRow, first: Option<Timestamp>) -> String {
    match (e.request_start.or(e.response_start), first) {
        (Some(s), Some(f)) => format!("{:.6}", s.since(f).as_secs_f64()),
        _ => "-".into(),
    }
}

/// The URI without control characters, cut to 40 characters.
fn short_uri(e: &ExchangeRow, _: Option<Timestamp>) -> String {
    let mut uri: String = e
        .uri
        .as_deref()
        .unwrap_or("-")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if uri.chars().count() > 40 {
        uri = uri.chars().take(39).collect::<String>() + "…";
    }
    uri
}

/// A table of records (HTTP exchanges, DNS lookups), `all` of them seen,
/// the filtered ones in `rows`.
fn print_records<R: Row>(
    w: &mut impl Write,
    heading: &str,
    columns: &[TextCol<R>],
    rows: Top<R>,
    first: Option<Timestamp>,
) -> anyhow::Result<()> {
    let matched = rows.seen;
    let rows = rows.into_rows();
    writeln!(w, "{heading}, {matched} shown after filters")?;
    let shown = rows.len();
    text_table::print(w, columns, &rows, first)?;
    if shown < matched {
        writeln!(w, "... {} more (use --limit 0 for all)", matched - shown)?;
    }
    Ok(())
}

/// The DNS table's columns (of the definition in
/// src/analysis/report/dns.rs).
const DNS_TEXT: &[TextCol<DnsRow>] = &[
    TextCol::new("query_time", 10, Align::Right)
        .look(Look::Relative)
        .sep(""),
    TextCol::new("transport", 4, Align::Left),
    TextCol::new("client", 0, Align::Left).fit(),
    TextCol::new("name", 0, Align::Left).fit(),
    TextCol::new("qtype", 6, Align::Left),
    TextCol::new("rcode", 9, Align::Left),
    TextCol::new("response_time", 10, Align::Right).look(Look::Human),
    TextCol::new("retransmits", 4, Align::Right),
    TextCol::new("status", 10, Align::Left),
    TextCol::new("answers", 0, Align::Left).sep("  "),
];

/// The endpoint table's columns (of the definition in
/// src/analysis/report/endpoints.rs).
const ENDPOINT_TEXT: &[TextCol<EndpointRow>] = &[
    TextCol::new("method", 7, Align::Left).sep(""),
    TextCol::new("host", 0, Align::Left).fit(),
    TextCol::new("template", 0, Align::Left).fit(),
    TextCol::new("count", 7, Align::Right),
    TextCol::new("errors", 6, Align::Right),
    TextCol::new("status_5xx", 5, Align::Right),
    TextCol::new("server_p50", 10, Align::Right).look(Look::Human),
    TextCol::new("total_p50", 10, Align::Right).look(Look::Human),
    TextCol::new("total_p90", 10, Align::Right).look(Look::Human),
    TextCol::new("total_p99", 10, Align::Right).look(Look::Human),
    TextCol::new("total_max", 10, Align::Right).look(Look::Human),
    TextCol::new("percentiles", 0, Align::Left).sep("  "),
];

#[cfg(test)]
mod test {
    use super::*;

    /// A pcap of one keep-alive TCP conversation carrying `n` HTTP
    /// exchanges (GET, then 200 with an empty body).
    fn keep_alive(n: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let mut at = 0u32;
        let mut frame = |from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]| {
            let (src, dst, sport, dport) = if from_client {
                (client, server, 40000u16, 80u16)
            } else {
                (server, client, 80, 40000)
            };
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
            f.extend_from_slice(&(40 + payload.len() as u16).to_be_bytes());
            f.extend_from_slice(&[0, 0, 0, 0, 64, 6, 0, 0]);
            f.extend_from_slice(&src);
            f.extend_from_slice(&dst);
            f.extend_from_slice(&sport.to_be_bytes());
            f.extend_from_slice(&dport.to_be_bytes());
            f.extend_from_slice(&seq.to_be_bytes());
            f.extend_from_slice(&ack.to_be_bytes());
            f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
            f.extend_from_slice(payload);
            at += 1;
            let len = f.len() as u32;
            for v in [1_700_000_000 + at / 1000, (at % 1000) * 1000, len, len] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&f);
        };
        let req = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        let (mut c, mut s) = (100u32, 500u32);
        frame(true, c, 0, 0x02, &[]);
        frame(false, s, c + 1, 0x12, &[]);
        (c, s) = (c + 1, s + 1);
        frame(true, c, s, 0x10, &[]);
        for _ in 0..n {
            frame(true, c, s, 0x18, req);
            c += req.len() as u32;
            frame(false, s, c, 0x18, resp);
            s += resp.len() as u32;
        }
        out
    }

    fn collect(keep: Keep, expr: &str) -> Collect {
        let rows = tracedeck::filter::split(expr).unwrap().rows;
        Collect {
            keep,
            rows: rows.map(|rows| HeldForRows::new(ConvWhere::of(&rows))),
            lookups: 0,
            by_class: [0; 6],
            progress: ProgressLine::new(
                std::io::stderr(),
                false,
                String::new(),
                0,
                std::sync::Arc::default(),
            ),
        }
    }

    fn run_on(pcap: Vec<u8>, out: &mut Collect) {
        let mut reader = Reader::new(std::io::Cursor::new(pcap)).unwrap();
        analysis::analyze(&mut reader, &Options::default(), out).unwrap();
    }

    #[test]
    fn a_long_conversation_with_row_predicates_holds_at_most_a_table() {
        let n = 20_000;
        let order = row_order(sort_column(Sort::Exchanges(HttpSort::TotalTime)), by_start);
        let mut out = collect(Keep::Exchanges(Top::new(10, order), None), "not tls");
        run_on(keep_alive(n), &mut out);
        let held = out.rows.as_ref().unwrap().most_held;
        // Not every exchange: what a 10-row table can use, cut as it goes.
        assert!(held <= 2 * 512, "held {held} rows of {n}");
        assert_eq!(out.by_class[1], u64::from(n));
        let Keep::Exchanges(top, _) = out.keep else {
            panic!("the --http table")
        };
        assert_eq!(top.seen, n as usize);
        assert_eq!(top.into_rows().len(), 10);

        // A conversation that fails the predicates leaves nothing.
        let order = row_order(None, by_start);
        let mut out = collect(Keep::Exchanges(Top::new(10, order), None), "tls");
        run_on(keep_alive(n), &mut out);
        assert_eq!(out.by_class, [0; 6]);
        assert!(out.rows.as_ref().unwrap().open.is_empty());
        let Keep::Exchanges(top, _) = out.keep else {
            panic!("the --http table")
        };
        assert_eq!(top.seen, 0);
    }

    #[test]
    fn json_rows_are_written_for_the_passing_conversations_only() {
        let spool = || Spool::start(ExchangeRow::from).unwrap();
        for (expr, want) in [("not tls", 300), ("tls", 0)] {
            let keep = Keep::Json {
                conversations: Spool::start(|c: Conversation| ConversationRow::from(&c)).unwrap(),
                exchanges: spool(),
                lookups: None,
            };
            let mut out = collect(keep, expr);
            run_on(keep_alive(300), &mut out);
            let rows = out.rows.as_ref().unwrap();
            assert_eq!(rows.most_held, 0, "--json holds nothing");
            let Keep::Json { exchanges, .. } = out.keep else {
                panic!("--json")
            };
            let mut text = Vec::new();
            let passed = |key: super::super::spool::Key| rows.passed.contains(key.1);
            exchanges
                .finish()
                .unwrap()
                .write_where(&mut text, &passed)
                .unwrap();
            let doc: Vec<serde_json::Value> =
                serde_json::from_slice(&[b"[", &text[..], b"]"].concat()).unwrap();
            assert_eq!(doc.len(), want, "{expr}");
        }
    }

    #[test]
    fn id_sets() {
        let mut s = IdSet::default();
        for id in [0, 63, 64, 1000] {
            s.insert(id);
        }
        assert!(s.contains(0) && s.contains(63) && s.contains(64) && s.contains(1000));
        assert!(!s.contains(1) && !s.contains(999) && !s.contains(1 << 40));
    }
}
