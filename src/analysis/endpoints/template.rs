//! URL templates: from a request target to the endpoint it calls (README,
//! "Endpoints"). Two steps. Each path segment is typed on its own
//! ([`shape_of`]): numbers become `{id}`, UUIDs `{uuid}`, hex or
//! base64-looking tokens `{hash}` (also inside a file name:
//! `app.3f9a2b1c.js` → `app.{hash}.js`), dates `{date}`, e-mail addresses
//! `{email}`; the query string is dropped (its keys are kept apart). Then,
//! over all the shapes of one host, segments that vary a lot at the same
//! position become `{name}` ([`fold`]).
//!
//! The folding rule, for the literal values seen at one position under one
//! prefix (the segments before it) and with one suffix (the segments after
//! it):
//! - followed by a suffix holding a literal segment (`/users/X/orders`):
//!   folded when there are at least [`FOLD_BETWEEN`] distinct values;
//! - otherwise (the last segment, or only placeholders after it): folded
//!   when there are at least [`FOLD_LAST`] distinct values and they repeat
//!   little (distinct values are at least half the exchanges), so a small
//!   API's `/api/users`, `/api/orders`, `/api/health` stay apart;
//! - a version segment (`v1`, `v2`) is never folded, so `/api/v1/users` and
//!   `/api/v2/users` stay two endpoints.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What a placeholder stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Placeholder {
    Id,
    Uuid,
    Hash,
    Date,
    Email,
    /// A literal segment with many values at its position (folded).
    Name,
}

impl Placeholder {
    /// The placeholder as it appears in a template (`{id}`).
    pub fn text(self) -> &'static str {
        match self {
            Placeholder::Id => "{id}",
            Placeholder::Uuid => "{uuid}",
            Placeholder::Hash => "{hash}",
            Placeholder::Date => "{date}",
            Placeholder::Email => "{email}",
            Placeholder::Name => "{name}",
        }
    }

    /// The rule that puts it in a template, in a few words.
    pub fn rule(self) -> &'static str {
        match self {
            Placeholder::Id => "{id}: a number",
            Placeholder::Uuid => "{uuid}: a UUID",
            Placeholder::Hash => "{hash}: a hex or base64 token",
            Placeholder::Date => "{date}: a date",
            Placeholder::Email => "{email}: an e-mail address",
            Placeholder::Name => "{name}: many values at one position",
        }
    }
}

/// Distinct values followed by a literal segment that fold into `{name}`.
pub const FOLD_BETWEEN: usize = 3;
/// Distinct values in the last position (or before placeholders only) that
/// fold into `{name}`, when they repeat little.
pub const FOLD_LAST: usize = 20;

/// A request target taken apart: the typed path segments and the query's
/// keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape {
    /// The path's segments with typed values replaced (`["users", "{id}"]`).
    /// A path that is not a path (`*`, CONNECT's `host:port`) is one segment
    /// holding it, with `absolute` false.
    pub segments: Vec<String>,
    /// The path starts with `/` (origin-form or absolute-form targets).
    pub absolute: bool,
    /// Placeholders the typing put in (not `{name}`).
    pub placeholders: BTreeSet<Placeholder>,
}

impl Shape {
    /// The template text: `/users/{id}/orders`.
    pub fn path(&self) -> String {
        if !self.absolute {
            return self.segments.join("/");
        }
        let mut out = String::with_capacity(self.segments.iter().map(|s| s.len() + 1).sum());
        for s in &self.segments {
            out.push('/');
            out.push_str(s);
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// A target's path (scheme and authority dropped) and its query (fragment
/// dropped).
fn split_target(target: &str) -> (&str, Option<&str>) {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q.split_once('#').map_or(q, |(q, _)| q))),
        None => (target, None),
    };
    let path = path.split_once('#').map_or(path, |(p, _)| p);
    (strip_scheme_and_authority(path), query)
}

/// The keys of a target's query, in order, repeats included.
pub fn query_keys(target: &str) -> impl Iterator<Item = &str> {
    keys_of_query(split_target(target).1)
}

/// The keys of a query (as [`write_shape`] answers it).
pub fn keys_of_query(query: Option<&str>) -> impl Iterator<Item = &str> {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
}

/// The shape of a request target and its query keys (sorted, distinct).
/// An absolute-form target (`http://host/path`) is read from its path.
pub fn shape_of(target: &str) -> (Shape, Vec<String>) {
    let mut keys: Vec<String> = query_keys(target).map(str::to_string).collect();
    keys.sort_unstable();
    keys.dedup();
    let (path, _) = split_target(target);
    let mut placeholders = BTreeSet::new();
    let Some(rest) = path.strip_prefix('/') else {
        let shape = Shape {
            segments: vec![path.to_string()],
            absolute: false,
            placeholders,
        };
        return (shape, keys);
    };
    let segments = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('/')
            .map(|seg| {
                let mut out = String::with_capacity(seg.len());
                type_segment(seg, &mut out, &mut |p| {
                    placeholders.insert(p);
                });
                out
            })
            .collect()
    };
    let shape = Shape {
        segments,
        absolute: true,
        placeholders,
    };
    (shape, keys)
}

/// Writes the shape of a target as bytes, without allocating beyond
/// `out`'s growth: whether it is absolute, the placeholders the typing put
/// in (one bit each), then each typed segment followed by `/`. Two targets
/// write the same bytes exactly when [`shape_of`] gives them the same
/// [`Shape`] (a segment never holds `/`; a relative target is one segment).
/// Answers the target's query, for [`keys_of_query`].
pub fn write_shape<'t>(target: &'t str, out: &mut Vec<u8>) -> Option<&'t str> {
    let (path, query) = split_target(target);
    let Some(rest) = path.strip_prefix('/') else {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(path.as_bytes());
        out.push(b'/');
        return query;
    };
    let flags = out.len();
    out.extend_from_slice(&[1, 0]);
    let mut mask = 0u8;
    if !rest.is_empty() {
        for seg in rest.split('/') {
            type_segment(seg, out, &mut |p| mask |= 1 << (p as u8));
            out.push(b'/');
        }
    }
    if let Some(m) = out.get_mut(flags + 1) {
        *m = mask;
    }
    query
}

/// Where [`type_segment`] writes: a segment's `String` or a key's bytes.
trait Sink {
    fn put(&mut self, s: &str);
}

impl Sink for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

/// `http://host:8080/a/b` → `/a/b`; other targets unchanged.
fn strip_scheme_and_authority(target: &str) -> &str {
    if target.starts_with('/') {
        // Origin-form, the usual case: no scheme (one would not hold `/`).
        return target;
    }
    let Some((scheme, rest)) = target.split_once("://") else {
        return target;
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+')
    {
        return target;
    }
    rest.find('/').map_or("/", |at| &rest[at..])
}

/// One segment with its typed values replaced, written to `out`; each
/// placeholder put in goes to `found` too.
fn type_segment(seg: &str, out: &mut impl Sink, found: &mut impl FnMut(Placeholder)) {
    if let Some(p) = whole_segment(seg) {
        found(p);
        out.put(p.text());
        return;
    }
    // A file name: typed parts before the extension (`app.3f9a2b1c.js`,
    // `main-3f9a2b1c.css`, `123.json`).
    let Some((stem, ext)) = seg.rsplit_once('.') else {
        out.put(seg);
        return;
    };
    if stem.is_empty() || ext.is_empty() {
        out.put(seg);
        return;
    }
    for part in stem.split('.') {
        if let Some(p) =
            whole_segment(part).filter(|p| matches!(p, Placeholder::Id | Placeholder::Hash))
        {
            found(p);
            out.put(p.text());
        } else if let Some((head, _)) = part
            .rsplit_once(['-', '_'])
            .filter(|(_, t)| is_short_hash(t))
        {
            found(Placeholder::Hash);
            out.put(head);
            out.put(&part[head.len()..head.len() + 1]);
            out.put(Placeholder::Hash.text());
        } else {
            out.put(part);
        }
        out.put(".");
    }
    out.put(ext);
}

/// The placeholder a whole segment becomes, if any.
fn whole_segment(seg: &str) -> Option<Placeholder> {
    if seg.is_empty() {
        return None;
    }
    let b = seg.as_bytes();
    if b.iter().all(u8::is_ascii_digit) {
        return Some(Placeholder::Id);
    }
    if is_uuid(b) {
        return Some(Placeholder::Uuid);
    }
    if is_date(b) {
        return Some(Placeholder::Date);
    }
    if is_email(seg) {
        return Some(Placeholder::Email);
    }
    if is_hex_token(b, 8) || is_base64_token(b) {
        return Some(Placeholder::Hash);
    }
    None
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `2024-01-31`, optionally followed by a time (`T10:00:00Z`).
fn is_date(b: &[u8]) -> bool {
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b.len() == 10 || b[10] == b'T' || b[10] == b't')
}

/// `local@domain.tld`, the `@` plain or percent-encoded.
fn is_email(seg: &str) -> bool {
    if !seg.bytes().any(|b| b == b'@' || b == b'%') {
        return false;
    }
    let (local, domain) = match seg.rsplit_once('@') {
        Some(parts) => parts,
        None => match seg.rsplit_once("%40") {
            Some(parts) => parts,
            None => return false,
        },
    };
    let ok = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    !local.is_empty()
        && local.chars().all(ok)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// Hex of at least `min` characters holding both a digit and a letter
/// (`deadbeef` alone is a word, `12345678` a number).
fn is_hex_token(b: &[u8], min: usize) -> bool {
    b.len() >= min
        && b.iter().all(u8::is_ascii_hexdigit)
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_alphabetic)
}

/// base64 or base64url of at least 16 characters mixing digits, upper and
/// lower case (a word or a camelCase name rarely holds all three).
fn is_base64_token(b: &[u8]) -> bool {
    b.len() >= 16
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'=' | b'~'))
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
}

/// The hash in a file name after `-` or `_` (`main-3f9a2b1c`,
/// `chunk_Ab3dE9xZ`): hex of 8 or more, or 8 or more letters and digits
/// holding both.
fn is_short_hash(t: &str) -> bool {
    let b = t.as_bytes();
    is_hex_token(b, 8)
        || (b.len() >= 8
            && b.iter().all(u8::is_ascii_alphanumeric)
            && b.iter().any(u8::is_ascii_digit)
            && b.iter().any(u8::is_ascii_alphabetic))
}

/// `v1`, `v2`, `V10`: an API version, never folded.
fn is_version(seg: &str) -> bool {
    let b = seg.as_bytes();
    b.len() >= 2 && (b[0] == b'v' || b[0] == b'V') && b[1..].iter().all(u8::is_ascii_digit)
}

fn is_placeholder(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

/// A `{name}` fold: what it replaced and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    /// Segment index (0 is the first segment after `/`).
    pub position: usize,
    /// The distinct values it replaced.
    pub values: usize,
}

impl Fold {
    /// The rule in words: `{name}: 5 values at segment 2`.
    pub fn rule(&self) -> String {
        format!(
            "{{name}}: {} values at segment {}",
            self.values,
            self.position + 1
        )
    }
}

/// Shapes that folded: each one's folded form and the folds that made it.
pub type Folded = BTreeMap<Shape, (Shape, Vec<Fold>)>;

/// Folds high-cardinality segments of one host's shapes. `shapes` holds
/// each distinct shape and how many exchanges had it; the answer maps
/// every shape that changed to its folded form and the folds that made it.
/// Repeats until nothing folds, so a fold can open the way to the next
/// (`/a/X/b/Y/c`).
pub fn fold(shapes: &BTreeMap<Shape, u64>) -> Folded {
    let mut current: Folded = shapes
        .keys()
        .map(|s| (s.clone(), (s.clone(), Vec::new())))
        .collect();
    let max_depth = shapes.keys().map(|s| s.segments.len()).max().unwrap_or(0);
    // Each round folds at least one position of some shape into a
    // placeholder, so the rounds are bounded by the deepest path.
    for _ in 0..=max_depth {
        let mut counts: BTreeMap<Shape, u64> = BTreeMap::new();
        for (orig, (now, _)) in &current {
            *counts.entry(now.clone()).or_default() += shapes.get(orig).copied().unwrap_or(0);
        }
        let decided = fold_once(&counts);
        if decided.is_empty() {
            break;
        }
        for (now, folds) in current.values_mut() {
            // Matched against the shape as it was before this round, so
            // two folds decided together both apply.
            let before = now.clone();
            for (slot, values) in decided.iter().filter(|(slot, _)| slot.matches(&before)) {
                if let Some(seg) = now.segments.get_mut(slot.position) {
                    *seg = Placeholder::Name.text().to_string();
                    folds.push(Fold {
                        position: slot.position,
                        values: *values,
                    });
                }
            }
        }
    }
    current.retain(|orig, (now, _)| orig != now);
    current
}

/// A position among shapes of the same length, prefix and suffix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Slot {
    absolute: bool,
    len: usize,
    position: usize,
    prefix: Vec<String>,
    suffix: Vec<String>,
}

impl Slot {
    fn of(shape: &Shape, position: usize) -> Slot {
        Slot {
            absolute: shape.absolute,
            len: shape.segments.len(),
            position,
            prefix: shape.segments[..position].to_vec(),
            suffix: shape.segments[position + 1..].to_vec(),
        }
    }

    fn matches(&self, shape: &Shape) -> bool {
        shape.absolute == self.absolute
            && shape.segments.len() == self.len
            && shape.segments[..self.position] == self.prefix[..]
            && shape.segments[self.position + 1..] == self.suffix[..]
            && !is_placeholder(&shape.segments[self.position])
    }
}

/// What one round sees at a slot.
#[derive(Default)]
struct SlotValues<'a> {
    /// Literal values and their exchanges.
    values: BTreeMap<&'a str, u64>,
    /// A shape already has `{name}` there.
    has_name: bool,
}

/// The slots that fold in one round, with the distinct values of each. A
/// literal beside a `{name}` at its slot joins it (an earlier fold decided
/// that the position varies).
fn fold_once(counts: &BTreeMap<Shape, u64>) -> Vec<(Slot, usize)> {
    let name = Placeholder::Name.text();
    let mut slots: BTreeMap<Slot, SlotValues<'_>> = BTreeMap::new();
    for (shape, n) in counts {
        for (position, seg) in shape.segments.iter().enumerate() {
            if seg == name {
                slots.entry(Slot::of(shape, position)).or_default().has_name = true;
                continue;
            }
            if seg.is_empty() || is_placeholder(seg) || is_version(seg) {
                continue;
            }
            *slots
                .entry(Slot::of(shape, position))
                .or_default()
                .values
                .entry(seg.as_str())
                .or_default() += n;
        }
    }
    slots
        .into_iter()
        .filter(|(slot, seen)| {
            let distinct = seen.values.len();
            let exchanges: u64 = seen.values.values().sum();
            let literal_after = slot
                .suffix
                .iter()
                .any(|s| !s.is_empty() && !is_placeholder(s));
            if distinct == 0 {
                false
            } else if seen.has_name {
                true
            } else if literal_after {
                distinct >= FOLD_BETWEEN
            } else {
                distinct >= FOLD_LAST && distinct as u64 * 2 >= exchanges
            }
        })
        .map(|(slot, seen)| {
            let n = seen.values.len();
            (slot, n)
        })
        .collect()
}

#[cfg(test)]
mod test {
    use super::*;

    fn typed(target: &str) -> String {
        shape_of(target).0.path()
    }

    #[test]
    fn segments_are_typed_one_by_one() {
        let table = [
            ("/", "/"),
            ("/api/v1/users/42", "/api/v1/users/{id}"),
            ("/api/v1/users/42/", "/api/v1/users/{id}/"),
            (
                "/orders/123e4567-e89b-12d3-a456-426614174000/items",
                "/orders/{uuid}/items",
            ),
            ("/reports/2024-01-31/daily", "/reports/{date}/daily"),
            ("/logs/2024-01-31T10:00:00Z", "/logs/{date}"),
            ("/users/alice@example.com/prefs", "/users/{email}/prefs"),
            ("/users/bob%40example.org", "/users/{email}"),
            (
                "/commits/9fceb02d0ae598e95dc970b74767f19372d61af8",
                "/commits/{hash}",
            ),
            ("/blobs/3f9a2b1c", "/blobs/{hash}"),
            ("/s/aGVsbG8gd29ybGQ9PT0xMjM0", "/s/{hash}"),
            ("/static/js/app.3f9a2b1c.js", "/static/js/app.{hash}.js"),
            (
                "/static/css/main-8d2f1a0e.css",
                "/static/css/main-{hash}.css",
            ),
            (
                "/assets/chunk-vendors.5e6f7a8b9c.js",
                "/assets/chunk-vendors.{hash}.js",
            ),
            ("/static/favicon.ico", "/static/favicon.ico"),
            ("/items/123.json", "/items/{id}.json"),
            ("/graphql", "/graphql"),
            ("/search?q=shoes&page=2&sort=price", "/search"),
            ("/api/getUserProfile", "/api/getUserProfile"),
            ("/deadbeef", "/deadbeef"),
            ("http://example.com:8080/a/7?x=1", "/a/{id}"),
            ("http://example.com", "/"),
            ("*", "*"),
            ("example.com:443", "example.com:443"),
        ];
        for (target, want) in table {
            assert_eq!(typed(target), want, "{target}");
        }
    }

    #[test]
    fn query_keys_are_kept_sorted_and_distinct() {
        let (shape, keys) = shape_of("/search?q=a&page=2&sort=&q=b&flag#frag");
        assert_eq!(shape.path(), "/search");
        assert_eq!(keys, ["flag", "page", "q", "sort"]);
        assert!(shape_of("/x?").1.is_empty());
    }

    fn fold_all(paths: &[(&str, u64)]) -> BTreeMap<String, String> {
        let mut shapes = BTreeMap::new();
        for (p, n) in paths {
            *shapes.entry(shape_of(p).0).or_insert(0) += n;
        }
        let folded = fold(&shapes);
        shapes
            .keys()
            .map(|s| {
                let now = folded.get(s).map_or_else(|| s.path(), |(f, _)| f.path());
                (s.path(), now)
            })
            .collect()
    }

    #[test]
    fn names_between_literals_fold_from_three_values() {
        let got = fold_all(&[
            ("/users/alice/orders", 1),
            ("/users/bob/orders", 4),
            ("/users/carol/orders", 1),
            ("/api/v1/users", 10),
            ("/api/v2/users", 10),
            ("/api/users", 5),
            ("/api/orders", 5),
            ("/api/health", 5),
        ]);
        assert_eq!(got["/users/alice/orders"], "/users/{name}/orders");
        assert_eq!(got["/users/carol/orders"], "/users/{name}/orders");
        assert_eq!(got["/api/v1/users"], "/api/v1/users");
        assert_eq!(got["/api/v2/users"], "/api/v2/users");
        assert_eq!(got["/api/users"], "/api/users");
        assert_eq!(got["/api/health"], "/api/health");
    }

    #[test]
    fn two_names_do_not_fold() {
        let got = fold_all(&[("/users/alice/orders", 1), ("/users/bob/orders", 1)]);
        assert_eq!(got["/users/alice/orders"], "/users/alice/orders");
    }

    #[test]
    fn last_segments_fold_only_when_many_and_rarely_repeated() {
        let many: Vec<(String, u64)> = (0..25)
            .map(|i| (format!("/wiki/Page_{}x", (b'a' + i) as char), 1))
            .collect();
        let refs: Vec<(&str, u64)> = many.iter().map(|(p, n)| (p.as_str(), *n)).collect();
        let got = fold_all(&refs);
        assert!(got.values().all(|t| t == "/wiki/{name}"), "{got:?}");
        // The same 25 pages hit 10 times each: a fixed set, not folded.
        let hot: Vec<(&str, u64)> = many.iter().map(|(p, _)| (p.as_str(), 10)).collect();
        let got = fold_all(&hot);
        assert_eq!(got["/wiki/Page_ax"], "/wiki/Page_ax");
    }

    #[test]
    fn a_fold_opens_the_next() {
        let got = fold_all(&[
            ("/orgs/acme/repos/web/issues", 1),
            ("/orgs/acme/repos/api/issues", 1),
            ("/orgs/acme/repos/cli/issues", 1),
            ("/orgs/initech/repos/web/issues", 1),
            ("/orgs/globex/repos/web/issues", 1),
        ]);
        for (path, template) in &got {
            assert_eq!(template, "/orgs/{name}/repos/{name}/issues", "{path}");
        }
    }
}
