//! `tracedeck diff BASELINE INCIDENT`: what changed between two captures,
//! most changed first, as a text report or `--json` (README, "Baseline vs
//! incident"); the same content as the web's compare page.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use tracedeck::analysis::diff::text::{self, Table};
use tracedeck::analysis::diff::{self, Capture, Comparison, Tallies};
use tracedeck::analysis::endpoints;
use tracedeck::analysis::{self, Options};
use tracedeck::pcap::Reader;

const EXAMPLES: &str = "\
Examples:
  tracedeck diff yesterday.pcap today.pcap                 what changed, most changed first
  tracedeck diff before.pcap after.pcap --filter 'port 443' --json
  tracedeck diff a.pcap b.pcap --rename '/u/{name}=>/users/{name}' --split '/files/{name}'";

/// Corrections to the inferred URL templates, written as the endpoints
/// page's URL writes them (README, "Endpoints").
#[derive(Args, Debug, Default)]
pub struct TemplateEdits {
    /// Show a template under another name (two renamed alike merge):
    /// `OLD=>NEW`, several joined by `;`.
    #[arg(long, value_name = "OLD=>NEW")]
    rename: Option<String>,
    /// Take a template one step apart (a folded one back to its values, a
    /// typed one to its literal paths); several joined by `;`.
    #[arg(long, value_name = "TEMPLATE")]
    split: Option<String>,
}

impl TemplateEdits {
    pub fn options(&self) -> anyhow::Result<endpoints::Options> {
        endpoints::Options::parse(
            self.rename.as_deref().unwrap_or(""),
            self.split.as_deref().unwrap_or(""),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

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
    #[command(flatten)]
    edits: TemplateEdits,
}

fn read(path: &Path, opts: &Options, edits: &endpoints::Options) -> anyhow::Result<Capture> {
    let name = path.display().to_string();
    let mut reader = Reader::open(path).with_context(|| name.clone())?;
    // The rows are counted as they come, not kept.
    let mut counted = Tallies::without_timeline(edits.clone());
    let summary = analysis::analyze(&mut reader, opts, &mut counted)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    for warning in &summary.warnings {
        eprintln!("tracedeck: {name}: warning: {warning}");
    }
    let t = counted.finish();
    Ok(Capture {
        endpoints: t.endpoints.rows,
        digest: t.digest,
    })
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
    let edits = args.edits.options()?;
    let base = read(&args.baseline, &opts, &edits)?;
    let incident = read(&args.incident, &opts, &edits)?;
    let comparison = diff::compare(&base, &incident);
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
    for t in text::tables(c) {
        table(w, &t)?;
    }
    Ok(())
}

/// A titled table, every column left-aligned (arrows read best that way)
/// and padded to its widest cell; "none" without rows.
fn table(w: &mut impl Write, t: &Table) -> std::io::Result<()> {
    writeln!(w)?;
    writeln!(w, "{}:", t.title)?;
    if t.rows.is_empty() {
        return writeln!(w, "  none");
    }
    let head: Vec<String> = t.headers.iter().map(|h| h.to_string()).collect();
    let rows: Vec<&Vec<String>> = std::iter::once(&head).chain(&t.rows).collect();
    let cols = t.headers.len();
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
