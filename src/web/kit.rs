//! The page kit: what capture pages and strace pages share. The error
//! page, the header above a page ([`Head`]), links that keep a page's
//! state ([`Query`]), sort marks of column headers ([`sort_mark`]),
//! previous/next links ([`Pager`]), filter chips ([`Chip`]) and the
//! pcap-filter box ([`FilterBox`]).

use std::fmt::Display;

use askama::Template;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::Error;
use super::fmt;
use crate::store::Order;

/// A page that failed: the error's status and message as HTML.
pub struct PageError(Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = ErrorPage {
            status: status.as_u16(),
            message: self.0.public_message(),
        };
        match page.render() {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(_) => status.into_response(),
        }
    }
}

pub(crate) type PageResult<T> = Result<T, PageError>;

/// What the header of every page of one upload shows; `more` is what a
/// kind of upload adds (nothing for a capture).
pub struct Head<X = ()> {
    pub id: String,
    pub name: String,
    /// Which tab is open.
    pub tab: &'static str,
    /// The JSON twin of the page.
    pub json: String,
    /// The query string the tabs keep (`?filter=…`, or nothing), so a
    /// filter applied on one view holds on the others.
    pub keep: String,
    pub more: X,
}

/// The header of a capture page.
pub type CapHead = Head<()>;

impl Head<()> {
    pub fn new(id: &impl Display, name: &str, tab: &'static str, json: String) -> Head<()> {
        Head::with(id, name, tab, json, ())
    }
}

impl<X> Head<X> {
    pub fn with(id: &impl Display, name: &str, tab: &'static str, json: String, more: X) -> Self {
        Head {
            id: id.to_string(),
            name: name.to_string(),
            tab,
            json,
            keep: String::new(),
            more,
        }
    }

    /// The tabs keep `filter` (a pcap-filter expression; empty for none).
    pub fn keeping(mut self, filter: &str) -> Self {
        let mut q = Query::default();
        q.push("filter", filter.trim());
        self.keep = q.href("", &[]);
        self
    }
}

/// A page's state as query parameters in a fixed order; links made from
/// it change some and keep the rest, so every link is a share link.
#[derive(Clone, Debug, Default)]
pub struct Query(pub Vec<(&'static str, String)>);

impl Query {
    /// Adds a parameter unless its value is empty.
    pub fn push(&mut self, k: &'static str, v: impl Into<String>) {
        let v = v.into();
        if !v.is_empty() {
            self.0.push((k, v));
        }
    }

    /// `path?…` with `set` replacing (or, with an empty value, removing)
    /// parameters.
    pub fn href(&self, path: &str, set: &[(&'static str, &str)]) -> String {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !set.iter().any(|(sk, _)| sk == k) {
                ser.append_pair(k, v);
            }
        }
        for (k, v) in set {
            if !v.is_empty() {
                ser.append_pair(k, v);
            }
        }
        let q = ser.finish();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    }
}

/// `1 zero window`, `2 zero windows`: a count and its noun (plural with
/// an `s`), the count as [`fmt::count`] writes it.
pub fn plural(n: impl std::borrow::Borrow<u64>, noun: &str) -> String {
    let n = *n.borrow();
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", fmt::count(&n))
}

/// Sorting marks for a header: (mark, order a click asks for).
pub fn sort_mark(active: bool, order: Order, default: Order) -> (&'static str, &'static str) {
    let name = |o: Order| match o {
        Order::Asc => "asc",
        Order::Desc => "desc",
    };
    if active {
        match order {
            Order::Asc => ("▲", "desc"),
            Order::Desc => ("▼", "asc"),
        }
    } else {
        ("", name(default))
    }
}

/// Previous/next links of a paged table, and where the page is.
pub struct Pager {
    /// Rows `from`–`to` of `total` (1-based; 0 when nothing is shown).
    pub from: u64,
    pub to: u64,
    pub total: u64,
    /// `12–61 of 1 234`.
    pub text: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// The pager of a page whose state is `q`, at `path`: the other pages
    /// keep every parameter but `offset`.
    pub fn new(q: &Query, path: &str, offset: u64, limit: u32, shown: usize, total: u64) -> Pager {
        Pager::linked(offset, limit, shown, total, |off| {
            let off = if off == 0 {
                String::new()
            } else {
                off.to_string()
            };
            q.href(path, &[("offset", &off)])
        })
    }

    /// The pager of a page of `shown` rows from `offset`, `limit` a page;
    /// `link(offset)` is the address of another page.
    pub fn linked(
        offset: u64,
        limit: u32,
        shown: usize,
        total: u64,
        link: impl Fn(u64) -> String,
    ) -> Pager {
        let shown = shown as u64;
        let (from, to) = if shown == 0 {
            (0, offset)
        } else {
            (offset + 1, offset + shown)
        };
        let text = if shown == 0 {
            format!("0 of {}", fmt::count(&total))
        } else {
            format!(
                "{}–{} of {}",
                fmt::count(&from),
                fmt::count(&to),
                fmt::count(&total)
            )
        };
        Pager {
            from,
            to,
            total,
            text,
            prev: (offset > 0).then(|| link(offset.saturating_sub(u64::from(limit)))),
            next: (offset + shown < total).then(|| link(offset + u64::from(limit))),
        }
    }
}

/// A filter chip: a link that is on or off.
pub struct Chip {
    pub label: String,
    pub href: String,
    pub on: bool,
    /// CSS class (a status class on the HTTP page; empty elsewhere).
    pub class: &'static str,
}

/// The "Compute" button of a filtered view not analyzed yet: the form's
/// action, and the page (with its state) it returns to.
#[derive(Default)]
pub struct Compute {
    pub action: String,
    pub back: String,
}

/// The pcap-filter box of a page and the state of its filtered analysis.
#[derive(Default)]
pub struct FilterBox {
    /// The expression as typed.
    pub text: String,
    /// Why it cannot be used (bad syntax, or the filtered analysis failed).
    pub error: Option<String>,
    /// The filtered analysis is running: its progress, in words.
    pub pending: Option<String>,
    /// The filtered analysis was never asked for: the form that starts it.
    pub compute: Option<Compute>,
    /// `73 of 120 packets match`.
    pub matched: String,
    /// The same view without the filter.
    pub clear: String,
    /// Hidden fields that keep the rest of the page's state on submit.
    pub keep: Vec<(&'static str, String)>,
    /// What the capture has, when the filter matches nothing.
    pub suggest: Vec<Suggestion>,
}

impl FilterBox {
    /// The filter other views keep: the expression, unless it cannot be
    /// used (a broken filter is fixed where it is shown, not carried on).
    pub fn kept(&self) -> &str {
        if self.error.is_some() {
            ""
        } else {
            self.text.trim()
        }
    }
}

/// A filter to try instead of one that matched nothing.
pub struct Suggestion {
    /// `port 8080`, `host 10.0.0.2`.
    pub filter: String,
    /// The same page with that filter.
    pub href: String,
    /// How much of the capture it covers (`1 234 packets`).
    pub title: String,
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn pager_links_keep_the_state() {
        let mut q = Query::default();
        q.push("sort", "bytes");
        q.push("offset", "50");
        let p = Pager::new(&q, "/c/x/conversations", 50, 50, 50, 120);
        assert_eq!(p.text, "51–100 of 120");
        assert_eq!((p.from, p.to, p.total), (51, 100, 120));
        assert_eq!(p.prev.as_deref(), Some("/c/x/conversations?sort=bytes"));
        assert_eq!(
            p.next.as_deref(),
            Some("/c/x/conversations?sort=bytes&offset=100")
        );
        let empty = Pager::linked(0, 10, 0, 0, |o| o.to_string());
        assert_eq!((empty.text.as_str(), empty.from), ("0 of 0", 0));
        assert!(empty.prev.is_none() && empty.next.is_none());
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "zero window"), "1 zero window");
        assert_eq!(plural(0, "byte"), "0 bytes");
        assert_eq!(plural(1234, "byte"), "1\u{2009}234 bytes");
    }
}
