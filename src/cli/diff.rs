//! `tracedeck diff BASELINE INCIDENT`: what changed between two captures,
//! most changed first, as a text report or `--json` (README, "Baseline vs
//! incident"); the same content as the web's compare page.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use tracedeck::analysis::diff::{self, words, Comparison, Side};
use tracedeck::analysis::report::{ConversationRow, ExchangeRow};
use tracedeck::analysis::{self, HttpExchange, Options, Output, OutputError};
use tracedeck::flow::Conversation;
use tracedeck::pcap::Reader;
use tracedeck::Span;

const EXAMPLES: &str = "\
Examples:
  tracedeck diff yesterday.pcap today.pcap                 what changed, most changed first
  tracedeck diff before.pcap after.pcap --filter 'port 443' --json";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct DiffArgs {
    /// The capture of normal times (pcap or pcapng, optionally gzip-compressed).
    baseline: PathBuf,
    /// The capture of the incident.
    incident: PathBuf,
    /// Only packets matching this pcap-filter expression count, in both captures.
    #[arg(long, short = 'f', value_name = "EXPR")]
    filter: Option<String>,
    /// Print the comparison as one JSON object.
    #[arg(long)]
    json: bool,
}

/// The rows of one capture, all of them.
#[derive(Default)]
struct Rows {
    exchanges: Vec<ExchangeRow>,
    conversations: Vec<ConversationRow>,
}

impl Output for Rows {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        self.conversations.push(ConversationRow::from(conv));
        Ok(())
    }

    fn exchange(&mut self, exchange: HttpExchange) -> Result<(), OutputError> {
        self.exchanges.push(ExchangeRow::from(exchange));
        Ok(())
    }
}

fn read(path: &Path, opts: &Options) -> anyhow::Result<Rows> {
    let name = path.display().to_string();
    let mut reader = Reader::open(path).with_context(|| name.clone())?;
    let mut rows = Rows::default();
    let summary = analysis::analyze(&mut reader, opts, &mut rows)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    for warning in &summary.warnings {
        eprintln!("tracedeck: {name}: warning: {warning}");
    }
    Ok(rows)
}

pub fn run(args: DiffArgs) -> anyhow::Result<()> {
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
    let base = read(&args.baseline, &opts)?;
    let incident = read(&args.incident, &opts)?;
    let comparison = diff::compare(
        Side {
            exchanges: &base.exchanges,
            conversations: &base.conversations,
        },
        Side {
            exchanges: &incident.exchanges,
            conversations: &incident.conversations,
        },
        &diff::EndpointOptions::default(),
    );
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer(&mut w, &comparison)?;
        writeln!(w)?;
    } else {
        let names = (
            args.baseline.display().to_string(),
            args.incident.display().to_string(),
        );
        write_report(&mut w, &names, &comparison)?;
    }
    w.flush()?;
    Ok(())
}

/// `before → after`, or one value when they are equal.
fn arrow(before: String, after: String) -> String {
    if before == after {
        before
    } else {
        format!("{before} → {after}")
    }
}

fn opt_span(s: Option<Span>) -> String {
    words::span(s)
}

/// The text report: the top changes, then each list as a table.
fn write_report(
    w: &mut impl Write,
    (base, incident): &(String, String),
    c: &Comparison,
) -> std::io::Result<()> {
    writeln!(w, "baseline {base}, incident {incident}")?;
    writeln!(w)?;
    writeln!(w, "Top changes:")?;
    if c.top.is_empty() {
        writeln!(w, "  none: nothing changed notably")?;
    }
    for (i, t) in c.top.iter().enumerate() {
        writeln!(w, "  {}. {}", i + 1, t.sentence)?;
    }
    let mut rows = vec![[
        "endpoint", "host", "in", "requests", "errors", "p50", "p99", "p99 ×", "score",
    ]
    .map(String::from)
    .to_vec()];
    for e in &c.endpoints {
        let side = |s: Option<&diff::EndpointSide>| s.cloned().unwrap_or_default();
        let (b, i) = (side(e.base.as_ref()), side(e.incident.as_ref()));
        rows.push(vec![
            e.key.label(),
            e.key.host.clone().unwrap_or_else(|| "–".into()),
            e.presence.as_str().to_string(),
            arrow(b.count.to_string(), i.count.to_string()),
            arrow(words::percent(b.error_rate), words::percent(i.error_rate)),
            arrow(opt_span(b.p50), opt_span(i.p50)),
            arrow(opt_span(b.p99), opt_span(i.p99)),
            e.p99_ratio.map_or_else(|| "–".into(), words::ratio),
            format!("{:.2}", e.score),
        ]);
    }
    table(w, "Endpoints", &rows)?;
    let mut rows = vec![["status", "baseline", "incident", "share", "change"]
        .map(String::from)
        .to_vec()];
    for s in &c.statuses {
        let change = if s.appeared() {
            "appeared"
        } else if s.vanished() {
            "vanished"
        } else {
            ""
        };
        rows.push(vec![
            s.label(),
            s.base.to_string(),
            s.incident.to_string(),
            arrow(
                words::percent(s.base_share),
                words::percent(s.incident_share),
            ),
            change.to_string(),
        ]);
    }
    table(w, "Status codes", &rows)?;
    let mut rows = vec![["server", "refused", "reset", "no response"]
        .map(String::from)
        .to_vec()];
    for f in &c.failures {
        let (b, i) = (f.base, f.incident);
        rows.push(vec![
            f.server.to_string(),
            arrow(b.refused.to_string(), i.refused.to_string()),
            arrow(b.reset.to_string(), i.reset.to_string()),
            arrow(b.no_response.to_string(), i.no_response.to_string()),
        ]);
    }
    table(w, "Failed conversations", &rows)?;
    let mut rows = vec![[
        "server",
        "conversations",
        "RTT p50",
        "RTT p90",
        "retransmissions",
        "score",
    ]
    .map(String::from)
    .to_vec()];
    for n in &c.network {
        let side = |s: Option<&diff::NetworkSide>| s.cloned().unwrap_or_default();
        let (b, i) = (side(n.base.as_ref()), side(n.incident.as_ref()));
        rows.push(vec![
            n.server.to_string(),
            arrow(b.conversations.to_string(), i.conversations.to_string()),
            arrow(opt_span(b.rtt_p50), opt_span(i.rtt_p50)),
            arrow(opt_span(b.rtt_p90), opt_span(i.rtt_p90)),
            arrow(
                words::percent(b.retransmission_rate),
                words::percent(i.retransmission_rate),
            ),
            format!("{:.2}", n.score),
        ]);
    }
    table(w, "Network, per server", &rows)
}

/// A titled table, columns padded to their widest cell (the first left-aligned,
/// the rest too: arrows read best that way); "none" without rows.
fn table(w: &mut impl Write, title: &str, rows: &[Vec<String>]) -> std::io::Result<()> {
    writeln!(w)?;
    writeln!(w, "{title}:")?;
    if rows.len() < 2 {
        return writeln!(w, "  none");
    }
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:<width$}"))
            .collect();
        writeln!(w, "  {}", line.join("  ").trim_end())?;
    }
    Ok(())
}
