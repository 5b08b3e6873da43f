//! Endpoints: HTTP exchanges grouped by (method, host, URL template), with
//! their error classes, percentiles, bytes and verdict mix (README,
//! "Endpoints"). Feed exchange rows to a [`Builder`] as they come (or call
//! [`endpoints`] on a slice); [`Builder::finish`] folds the templates (see
//! [`template`]) and answers one [`EndpointRow`] per endpoint, most
//! exchanges first.
//!
//! ```
//! use tracedeck::analysis::endpoints::{endpoints, Options};
//! use tracedeck::analysis::report::ExchangeRow;
//!
//! let rows: Vec<ExchangeRow> = (1..=3)
//!     .map(|id| ExchangeRow {
//!         method: Some("GET".into()),
//!         uri: Some(format!("/users/{id}?full=1")),
//!         status: Some(200),
//!         ..ExchangeRow::default()
//!     })
//!     .collect();
//! let set = endpoints(&rows, &Options::default());
//! assert_eq!(set.rows.len(), 1);
//! assert_eq!(set.rows[0].template, "/users/{id}");
//! assert_eq!(set.rows[0].query_keys, "full");
//! assert_eq!(set.rows[0].count, 3);
//! ```

mod latency;
pub mod template;
pub mod timeline;

pub use latency::{nearest_rank, Latencies, EXACT_LIMIT, SKETCH_ALPHA};
pub use template::{
    keys_of_query, query_keys, shape_of, write_shape, Fold, Placeholder, Shape, FOLD_BETWEEN,
    FOLD_LAST,
};
pub use timeline::{series_in, timeline, Heatmap, Sample, Series, Timeline};

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use crate::analysis::report::endpoints::precision;
pub use crate::analysis::report::EndpointRow;
use crate::analysis::report::ExchangeRow;
use crate::http::Wait;
use crate::time::{Span, Timestamp};

/// A user's corrections to the inferred templates, carried in the page's
/// URL (`&rename=OLD=>NEW`, `&split=TEMPLATE`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Templates shown under another name; two renamed to one merge.
    pub rename: Vec<(String, String)>,
    /// Templates taken one step apart: a folded one back to the values its
    /// `{name}`s replaced, an unfolded one back to its literal paths.
    pub split: Vec<String>,
}

impl Options {
    /// The corrections as the URL and the CLI write them:
    /// `OLD=>NEW;OLD2=>NEW2` and `T1;T2`.
    pub fn parse(rename: &str, split: &str) -> Result<Options, String> {
        let list = |v: &str| -> Vec<String> {
            v.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let mut o = Options::default();
        for pair in list(rename) {
            let Some((old, new)) = pair.split_once("=>") else {
                return Err(format!(
                    "rename {pair:?}: write OLD=>NEW (several joined by ;)"
                ));
            };
            let (old, new) = (old.trim(), new.trim());
            if old.is_empty() || new.is_empty() {
                return Err(format!("rename {pair:?}: a template on each side of =>"));
            }
            o.rename.push((old.to_string(), new.to_string()));
        }
        o.split = list(split);
        Ok(o)
    }

    /// The inferred templates that show as `shown` once renamed (itself,
    /// unless renamed away, and every `OLD` renamed to it). Without
    /// splits, the endpoints named `shown` are those of these templates.
    pub fn templates_shown_as(&self, shown: &str) -> Vec<String> {
        let mut out: Vec<String> = std::iter::once(shown)
            .chain(self.rename.iter().map(|(old, _)| old.as_str()))
            .filter(|t| self.renamed(t).unwrap_or(t) == shown)
            .map(str::to_string)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    fn renamed<'a>(&'a self, template: &'a str) -> Option<&'a str> {
        self.rename
            .iter()
            .find(|(old, _)| old == template)
            .map(|(_, new)| new.as_str())
    }

    fn splits(&self, template: &str) -> bool {
        self.split.iter().any(|s| s == template)
    }
}

/// The template of an exchange without a request target (a response whose
/// request the capture missed).
pub const NO_TARGET: &str = "(no request)";

/// What an exchange is grouped by before templates fold, made once per
/// group (each exchange is looked up by its [`key_bytes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
struct GroupKey {
    method: Option<String>,
    /// Lower-cased.
    host: Option<String>,
    shape: Shape,
    /// The path as sent, kept only when a split may need it.
    raw: Option<String>,
}

/// (method, host, template): what an endpoint is.
type EndpointKey = (Option<String>, Option<String>, String);

/// The running totals of one group.
#[derive(Debug, Default)]
struct Totals {
    count: u64,
    status_4xx: u64,
    status_5xx: u64,
    no_response: u64,
    reset: u64,
    request_bytes: u64,
    response_bytes: u64,
    /// Indexed by [`wait_index`].
    waits: [u64; 5],
    first_seen: Option<Timestamp>,
    last_seen: Option<Timestamp>,
    server: Latencies,
    total: Latencies,
    query_keys: BTreeSet<String>,
    rules: BTreeSet<String>,
}

fn wait_index(wait: Wait) -> usize {
    match wait {
        Wait::Server => 0,
        Wait::Network => 1,
        Wait::Client => 2,
        Wait::Transfer => 3,
        Wait::Unknown => 4,
    }
}

/// The exchange was cut by a TCP reset or an HTTP/2 RST_STREAM. The
/// verdict names the reset (`connection reset by the server`); the
/// exchange rows carry no other trace of it.
pub fn is_reset(row: &ExchangeRow) -> bool {
    row.interrupted
        && (row.verdict.contains("reset")
            || row
                .stream_end
                .as_deref()
                .is_some_and(|e| e.starts_with("RST_STREAM")))
}

/// A 4xx, a 5xx, no response, or a reset: what an endpoint counts as
/// its errors.
pub fn is_error(row: &ExchangeRow) -> bool {
    is_reset(row) || row.status.is_none_or(|s| s >= 400)
}

impl Totals {
    /// Counts an exchange; `query` is its target's query.
    fn add(&mut self, row: &ExchangeRow, query: Option<&str>) {
        self.count += 1;
        if is_reset(row) {
            self.reset += 1;
        } else {
            match row.status {
                None => self.no_response += 1,
                Some(400..=499) => self.status_4xx += 1,
                Some(500..=599) => self.status_5xx += 1,
                Some(_) => {}
            }
        }
        self.request_bytes += row.request_body_bytes;
        self.response_bytes += row.response_body_bytes;
        self.waits[wait_index(row.wait)] += 1;
        if let Some(at) = row.request_start.or(row.response_start) {
            self.first_seen = Some(self.first_seen.map_or(at, |f| f.min(at)));
            self.last_seen = Some(self.last_seen.map_or(at, |l| l.max(at)));
        }
        if let Some(s) = row.server_time {
            self.server.push(s);
        }
        if let Some(t) = row.total_time {
            self.total.push(t);
        }
        for key in keys_of_query(query) {
            if !self.query_keys.contains(key) {
                self.query_keys.insert(key.to_string());
            }
        }
    }

    fn merge(&mut self, o: Totals) {
        self.count += o.count;
        self.status_4xx += o.status_4xx;
        self.status_5xx += o.status_5xx;
        self.no_response += o.no_response;
        self.reset += o.reset;
        self.request_bytes += o.request_bytes;
        self.response_bytes += o.response_bytes;
        for (a, b) in self.waits.iter_mut().zip(o.waits) {
            *a += b;
        }
        self.first_seen = min_some(self.first_seen, o.first_seen, std::cmp::min);
        self.last_seen = min_some(self.last_seen, o.last_seen, std::cmp::max);
        self.server.merge(o.server);
        self.total.merge(o.total);
        self.query_keys.extend(o.query_keys);
        self.rules.extend(o.rules);
    }

    fn into_row(
        mut self,
        method: Option<String>,
        host: Option<String>,
        template: String,
    ) -> EndpointRow {
        let server = self.server.percentiles();
        let total = self.total.percentiles();
        let exact = self.server.is_exact() && self.total.is_exact();
        let rule = if self.rules.is_empty() {
            "literal".to_string()
        } else {
            self.rules.into_iter().collect::<Vec<_>>().join("; ")
        };
        EndpointRow {
            method,
            host,
            template,
            rule,
            query_keys: self.query_keys.into_iter().collect::<Vec<_>>().join(","),
            count: self.count,
            status_4xx: self.status_4xx,
            status_5xx: self.status_5xx,
            no_response: self.no_response,
            reset: self.reset,
            errors: self.status_4xx + self.status_5xx + self.no_response + self.reset,
            server_p50: server.p50,
            server_p90: server.p90,
            server_p99: server.p99,
            server_max: server.max,
            total_p50: total.p50,
            total_p90: total.p90,
            total_p99: total.p99,
            total_max: total.max,
            percentiles: if exact {
                precision::EXACT
            } else {
                precision::SKETCH
            }
            .to_string(),
            request_bytes: self.request_bytes,
            response_bytes: self.response_bytes,
            wait_server: self.waits[0],
            wait_network: self.waits[1],
            wait_client: self.waits[2],
            wait_transfer: self.waits[3],
            wait_unknown: self.waits[4],
            first_seen: self.first_seen,
            last_seen: self.last_seen,
        }
    }
}

fn min_some<T: Copy>(a: Option<T>, b: Option<T>, pick: fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// Groups exchanges as they come; [`Builder::finish`] makes the endpoints.
#[derive(Debug, Default)]
pub struct Builder {
    options: Options,
    /// Each group's place in `groups`, by its [`key_bytes`].
    index: FxHashMap<Box<[u8]>, GroupId>,
    groups: Vec<(GroupKey, Totals)>,
    /// The key of the exchange being added (reused: no allocation per
    /// exchange once its group exists).
    key: Vec<u8>,
}

/// The group an exchange went to as it was added ([`Builder::add`]);
/// [`EndpointSet::endpoint_of_group`] says which endpoint it ended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GroupId(pub u32);

/// The endpoints of a set of exchanges, and which endpoint each exchange
/// went to.
#[derive(Debug, Default)]
pub struct EndpointSet {
    /// Most exchanges first (then method, host, template).
    pub rows: Vec<EndpointRow>,
    /// Each group by its [`key_bytes`].
    index: FxHashMap<Box<[u8]>, GroupId>,
    /// By [`GroupId`]: the endpoint.
    by_group: Vec<usize>,
    keep_raw: bool,
}

impl EndpointSet {
    /// The index in `rows` of the endpoint an exchange belongs to (an
    /// exchange of the set that was built, or one like them).
    pub fn endpoint_of(&self, row: &ExchangeRow) -> Option<usize> {
        let mut key = Vec::new();
        key_bytes(row, self.keep_raw, &mut key);
        let group = self.index.get(&key[..])?;
        self.endpoint_of_group(*group)
    }

    /// Every group of the builder, with the index in `rows` of the
    /// endpoint it ended in.
    pub fn groups(&self) -> impl Iterator<Item = (GroupId, usize)> + '_ {
        self.by_group
            .iter()
            .enumerate()
            .map(|(g, &e)| (GroupId(u32::try_from(g).unwrap_or(u32::MAX)), e))
    }

    /// The index in `rows` of the endpoint a group of the builder ended in.
    pub fn endpoint_of_group(&self, group: GroupId) -> Option<usize> {
        self.by_group.get(group.0 as usize).copied()
    }
}

/// Appends an optional text to a key: absent, or its length and bytes
/// (lower-cased with `lower`).
fn put_text(out: &mut Vec<u8>, text: Option<&str>, lower: bool) {
    let Some(t) = text else {
        out.push(0);
        return;
    };
    out.push(1);
    out.extend_from_slice(&(t.len() as u64).to_le_bytes());
    if lower {
        out.extend(t.bytes().map(|b| b.to_ascii_lowercase()));
    } else {
        out.extend_from_slice(t.as_bytes());
    }
}

/// The path as sent, without query or fragment.
fn raw_path(uri: &str) -> &str {
    uri.split(['?', '#']).next().unwrap_or(uri)
}

/// Writes into `out` (cleared first) the bytes of an exchange's
/// [`GroupKey`]: equal bytes, equal keys. Method, lower-cased host and,
/// when kept, the raw path each as [`put_text`]; then the shape as
/// [`write_shape`] writes it. Answers the target's query.
fn key_bytes<'r>(row: &'r ExchangeRow, keep_raw: bool, out: &mut Vec<u8>) -> Option<&'r str> {
    out.clear();
    put_text(out, row.method.as_deref(), false);
    put_text(out, host_of(row), true);
    if keep_raw {
        put_text(out, row.uri.as_deref().map(raw_path), false);
    }
    write_shape(row.uri.as_deref().unwrap_or(NO_TARGET), out)
}

/// The exchange's host as its endpoint has it: an empty Host header is
/// none, as an absent one (`host=(no host)` shows both, README
/// "Endpoints").
fn host_of(row: &ExchangeRow) -> Option<&str> {
    row.host.as_deref().filter(|h| !h.is_empty())
}

/// The key of a new group, made once.
fn group_key(row: &ExchangeRow, keep_raw: bool) -> GroupKey {
    let (shape, raw) = match row.uri.as_deref() {
        Some(uri) => (shape_of(uri).0, keep_raw.then(|| raw_path(uri).to_string())),
        None => (shape_of(NO_TARGET).0, None),
    };
    GroupKey {
        method: row.method.clone(),
        host: host_of(row).map(str::to_ascii_lowercase),
        shape,
        raw,
    }
}

impl Builder {
    pub fn new(options: Options) -> Builder {
        Builder {
            options,
            index: FxHashMap::default(),
            groups: Vec::new(),
            key: Vec::new(),
        }
    }

    /// Counts one exchange; answers the group it went to.
    pub fn add(&mut self, row: &ExchangeRow) -> GroupId {
        let keep_raw = !self.options.split.is_empty();
        let query = key_bytes(row, keep_raw, &mut self.key);
        let id = match self.index.get(&self.key[..]) {
            Some(id) => *id,
            None => {
                let id = GroupId(u32::try_from(self.groups.len()).unwrap_or(u32::MAX));
                self.index.insert(self.key.as_slice().into(), id);
                self.groups
                    .push((group_key(row, keep_raw), Totals::default()));
                id
            }
        };
        if let Some((_, totals)) = self.groups.get_mut(id.0 as usize) {
            totals.add(row, query);
        }
        id
    }

    /// Folds the templates, applies the options and makes the rows.
    pub fn finish(self) -> EndpointSet {
        let keep_raw = !self.options.split.is_empty();
        let options = self.options;
        // Fold per host, over the shapes of every method.
        let mut by_host: BTreeMap<Option<String>, BTreeMap<Shape, u64>> = BTreeMap::new();
        for (key, totals) in &self.groups {
            *by_host
                .entry(key.host.clone())
                .or_default()
                .entry(key.shape.clone())
                .or_default() += totals.count;
        }
        let folded: BTreeMap<Option<String>, template::Folded> = by_host
            .into_iter()
            .map(|(host, shapes)| (host, template::fold(&shapes)))
            .collect();

        let mut merged: BTreeMap<EndpointKey, (Totals, Vec<usize>)> = BTreeMap::new();
        let groups = self.groups.len();
        for (group, (key, mut totals)) in self.groups.into_iter().enumerate() {
            let (shape, folds) = folded
                .get(&key.host)
                .and_then(|m| m.get(&key.shape))
                .map_or((&key.shape, &[][..]), |(s, f)| (s, &f[..]));
            let mut template = shape.path();
            let mut rules: Vec<String> = key
                .shape
                .placeholders
                .iter()
                .map(|p| p.rule().to_string())
                .collect();
            rules.extend(folds.iter().map(Fold::rule));
            if options.splits(&template) {
                if !folds.is_empty() {
                    template = key.shape.path();
                    rules.retain(|r| !r.starts_with(Placeholder::Name.text()));
                    rules.push("split".to_string());
                }
                if options.splits(&template) || folds.is_empty() {
                    if let Some(raw) = &key.raw {
                        template = raw.clone();
                        rules = vec!["split".to_string()];
                    }
                }
            }
            if let Some(new) = options.renamed(&template) {
                rules.push(format!("renamed from {template}"));
                template = new.to_string();
            }
            totals.rules.extend(rules);
            let slot = merged.entry((key.method, key.host, template)).or_default();
            slot.0.merge(totals);
            slot.1.push(group);
        }

        let mut made: Vec<(EndpointRow, Vec<usize>)> = merged
            .into_iter()
            .map(|((method, host, template), (totals, keys))| {
                (totals.into_row(method, host, template), keys)
            })
            .collect();
        made.sort_by(|(a, _), (b, _)| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.method.cmp(&b.method))
                .then_with(|| a.host.cmp(&b.host))
                .then_with(|| a.template.cmp(&b.template))
        });
        let mut set = EndpointSet {
            rows: Vec::with_capacity(made.len()),
            index: self.index,
            by_group: vec![0; groups],
            keep_raw,
        };
        for (i, (row, groups)) in made.into_iter().enumerate() {
            set.rows.push(row);
            for group in groups {
                if let Some(slot) = set.by_group.get_mut(group) {
                    *slot = i;
                }
            }
        }
        set
    }
}

/// Endpoints and their timeline, from exchanges as they come.
#[derive(Debug, Default)]
pub struct Tally {
    builder: Builder,
    /// Per timed exchange: its group (its endpoint once the groups fold)
    /// and what the timeline needs.
    samples: Vec<Sample>,
    /// No samples are kept: the timeline comes out empty.
    no_timeline: bool,
}

impl Tally {
    pub fn new(options: Options) -> Tally {
        Tally {
            builder: Builder::new(options),
            samples: Vec::new(),
            no_timeline: false,
        }
    }

    /// The endpoints only: [`Tally::finish`] answers an empty timeline.
    pub fn without_timeline(options: Options) -> Tally {
        Tally {
            no_timeline: true,
            ..Tally::new(options)
        }
    }

    /// Counts an exchange; answers the group it went to.
    pub fn add(&mut self, row: &ExchangeRow) -> GroupId {
        let group = self.builder.add(row);
        if self.no_timeline {
            return group;
        }
        if let Some(at) = row.request_start.or(row.response_start) {
            self.samples
                .push(Sample::new(group.0, at, row.total_time, is_error(row)));
        }
        group
    }

    /// The endpoints, and their heatmap and lines.
    pub fn finish(self) -> (EndpointSet, Timeline) {
        let t = self.finish_all();
        (t.set, t.timeline)
    }

    /// [`Tally::finish`], keeping what the line of any endpoint is made
    /// from ([`Tallied::lines`]).
    pub fn finish_all(self) -> Tallied {
        let set = self.builder.finish();
        let mut samples = self.samples;
        for s in &mut samples {
            let endpoint = set.endpoint_of_group(GroupId(s.endpoint));
            s.endpoint = endpoint.map_or(u32::MAX, |e| u32::try_from(e).unwrap_or(u32::MAX));
        }
        let mut timeline = timeline(&samples, set.rows.len());
        for s in &mut timeline.series {
            name_line(s, &set);
        }
        Tallied {
            set,
            timeline,
            samples,
        }
    }
}

/// A finished [`Tally`]: the endpoints, their timeline, and each timed
/// exchange's time and endpoint, for the line of any endpoint.
#[derive(Debug, Default)]
pub struct Tallied {
    pub set: EndpointSet,
    pub timeline: Timeline,
    /// Their `endpoint`: the index in `set.rows`.
    samples: Vec<Sample>,
}

impl Tallied {
    /// The lines of `endpoints` (indexes in `set.rows`), in that order, in
    /// the heatmap's columns: for the busiest the ones the timeline has,
    /// for any other made alike. One pass over the exchanges.
    pub fn lines(&self, endpoints: &[usize]) -> Vec<Series> {
        let mut times: Vec<Vec<(Timestamp, Span)>> = vec![Vec::new(); endpoints.len()];
        let slot: FxHashMap<usize, usize> = endpoints
            .iter()
            .enumerate()
            .map(|(slot, &e)| (e, slot))
            .collect();
        for s in &self.samples {
            let Some(total) = s.total() else { continue };
            if let Some(&k) = slot.get(&(s.endpoint as usize)) {
                times[k].push((s.at, total));
            }
        }
        endpoints
            .iter()
            .zip(times)
            .map(|(&e, times)| {
                let mut line = series_in(&self.timeline.heatmap, e, times);
                name_line(&mut line, &self.set);
                line
            })
            .collect()
    }
}

/// Gives a line its endpoint's method, host and template.
fn name_line(line: &mut Series, set: &EndpointSet) {
    if let Some(row) = set.rows.get(line.endpoint) {
        line.method.clone_from(&row.method);
        line.host.clone_from(&row.host);
        line.template.clone_from(&row.template);
    }
}

/// The endpoints of a set of exchange rows.
pub fn endpoints<'a>(
    rows: impl IntoIterator<Item = &'a ExchangeRow>,
    options: &Options,
) -> EndpointSet {
    let mut b = Builder::new(options.clone());
    for row in rows {
        b.add(row);
    }
    b.finish()
}

#[cfg(test)]
mod tests;
