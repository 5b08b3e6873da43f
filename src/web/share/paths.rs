//! The addresses of a shared view, both ways: a path under
//! `/share/TOKEN` to the page or JSON twin of a capture or strace log it
//! shows ([`Kind`]), and, on the way out, every link of that answer back
//! under `/share/TOKEN` (the upload's ID never leaves), with the forms
//! that change something or would probe real values taken out of its
//! pages.

use crate::analysis::report::NO_HOST;
use crate::redact::{Profile, ProfileName};

/// Query parameters a viewer of a shared capture may not set: each
/// filters by a value the redaction hides (an address, a URI, a host or
/// DNS name, a TLS name), so a viewer could probe for the real one
/// (README, "Share links"). Sort, order, page and status filters are fine.
pub(super) const REFUSED_PARAMS: [&str; 6] = ["filter", "host", "path", "name", "sni", "ja4"];

/// What stands for the upload's ID where an answer names it outside a
/// link (`"id"` of the JSON status).
const ID_STAND_IN: &str = "shared";

/// What differs between the kinds of upload a link shares: where their
/// pages and JSON twins live and which of them a link reaches.
#[derive(Debug)]
pub(crate) struct Kind {
    /// The upload's [`crate::store::IdKind::NOUN`], as links store it.
    pub noun: &'static str,
    /// Pages live under `{page}/ID`, JSON twins under `{api}/ID`.
    pub page: &'static str,
    pub api: &'static str,
    /// The path under a link of the upload's first page.
    pub front: &'static str,
    /// Query parameters a viewer may not set.
    pub refused: &'static [&'static str],
    /// The views a link reaches, as [`Kind::target`] answers.
    views: fn(&[&str]) -> Reach,
}

/// What a path under a link (split at `/`, without the front page) is.
#[derive(Debug, PartialEq, Eq)]
enum Reach {
    Page,
    Api,
    Capture,
    No,
}

/// A capture: its pages, JSON twins and the whole redacted file. Only
/// reading views are listed, so nothing that deletes, uploads or shares
/// is reachable.
pub(super) static CAPTURE: Kind = Kind {
    noun: "capture",
    page: "/c",
    api: "/api/captures",
    front: "/overview",
    refused: &REFUSED_PARAMS,
    views: |parts| match parts {
        ["conversations" | "http" | "dns" | "endpoints"] => Reach::Page,
        ["conversations", n] if is_number(n) => Reach::Page,
        ["capture.pcap"] => Reach::Capture,
        ["api"] => Reach::Api,
        ["api", "conversations" | "http" | "dns" | "endpoints"] => Reach::Api,
        ["api", "conversations", n] if is_number(n) => Reach::Api,
        ["api", "conversations", n, "packets" | "stream" | "pcap"] if is_number(n) => Reach::Api,
        _ => Reach::No,
    },
};

/// An strace upload: its pages and JSON twins. Its model is redacted
/// whole, so a filter or search runs over redacted text: no parameter
/// needs refusing.
pub(super) static STRACE: Kind = Kind {
    noun: "strace log",
    page: "/s",
    api: "/api/straces",
    front: "/summary",
    refused: &[],
    views: |parts| match parts {
        ["syscalls" | "files" | "processes" | "pauses" | "timeline"] => Reach::Page,
        ["api"] => Reach::Api,
        ["api", "summary" | "syscalls" | "files" | "processes" | "pauses" | "timeline" | "unparsed"] => {
            Reach::Api
        }
        _ => Reach::No,
    },
};

/// What a path under `/share/TOKEN` opens.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// A page or JSON twin, at this path of the server.
    Inner(String),
    /// The whole capture, redacted, as a file.
    Capture,
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Kind {
    /// The link kind stored as `noun`.
    pub(super) fn of(noun: &str) -> Option<&'static Kind> {
        [&CAPTURE, &STRACE].into_iter().find(|k| k.noun == noun)
    }

    /// A link to a capture (its views, filter and pcap downloads), not to
    /// an strace log. Kinds differ by the noun links store.
    pub(super) fn is_capture(&self) -> bool {
        self.noun == CAPTURE.noun
    }

    /// What the path after `/share/TOKEN` (`/overview`, `/http`,
    /// `/api/conversations/3/stream`, …) opens for upload `id`, or None.
    pub(super) fn target(&self, rest: &str, id: &str) -> Option<Target> {
        let parts: Vec<&str> = rest.strip_prefix('/')?.split('/').collect();
        if rest == self.front {
            return Some(Target::Inner(format!("{}/{id}", self.page)));
        }
        match (self.views)(&parts) {
            Reach::Page => Some(Target::Inner(format!("{}/{id}{rest}", self.page))),
            Reach::Api => Some(Target::Inner(format!(
                "{}/{id}{}",
                self.api,
                &rest["/api".len()..]
            ))),
            Reach::Capture => Some(Target::Capture),
            Reach::No => None,
        }
    }

    /// The table columns whose values a link with this profile hides (a
    /// strace log's model is redacted whole: sorting it tells nothing).
    pub(super) fn hidden_columns(&self, profile: ProfileName) -> Vec<&'static str> {
        if self.is_capture() {
            Profile::named(profile).hidden_columns()
        } else {
            Vec::new()
        }
    }

    /// The first parameter of `query` a viewer may not set. `host=(no
    /// host)` probes no hidden value (the rows without a host), so the
    /// link of an endpoint without one still opens in a shared view.
    pub(super) fn refused_param(&self, query: Option<&str>) -> Option<String> {
        let q = query?;
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, v)| self.refused.contains(&k.as_ref()) && !(k == "host" && v == NO_HOST))
            .map(|(k, _)| k.into_owned())
    }

    /// Why `query` is refused in a view whose `hidden` columns are
    /// redacted: a parameter that filters by a hidden value, or a sort by
    /// a hidden column (its order is the real values' order).
    pub(super) fn refusal(&self, query: Option<&str>, hidden: &[&str]) -> Option<String> {
        if let Some(p) = self.refused_param(query) {
            return Some(format!(
                "a shared view cannot be filtered by {p}: the link hides those values"
            ));
        }
        form_urlencoded::parse(query?.as_bytes())
            .find(|(k, v)| k == "sort" && hidden.contains(&v.trim_start_matches('-')))
            .map(|(_, v)| {
                format!("a shared view cannot be sorted by {v}: the link hides its values")
            })
    }

    /// The view a link saves, from the address the owner was at (a page
    /// or its JSON twin, `/c/ID/http?status=5xx` or
    /// `/api/captures/ID/http?status=5xx`): the path under the link with
    /// the query parameters a viewer may set (none that
    /// [`Kind::refusal`] refuses with these `hidden` columns). None when
    /// it is no shared view of upload `id`.
    pub(super) fn saved_view(&self, at: &str, id: &str, hidden: &[&str]) -> Option<String> {
        let (path, query) = at.split_once('?').unwrap_or((at, ""));
        let rest = [format!("{}/{id}", self.api), format!("{}/{id}", self.page)]
            .iter()
            .find_map(|prefix| path.strip_prefix(prefix.as_str()).map(str::to_string))?;
        let rest = match rest.as_str() {
            "" | "/" => self.front.to_string(),
            r if r.starts_with('/') => r.to_string(),
            _ => return None,
        };
        match self.target(&rest, id)? {
            Target::Inner(_) if !rest.starts_with("/api") => {}
            _ => return None,
        }
        let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, v)| {
                let pair = form_urlencoded::Serializer::new(String::new())
                    .append_pair(k, v)
                    .finish();
                // The owner's pcap filter is kept, applied to every view of
                // the link and never shown ([`saved_filter`]).
                let owners_filter = k == "filter" && self.is_capture();
                !v.is_empty() && (owners_filter || self.refusal(Some(&pair), hidden).is_none())
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            return Some(rest);
        }
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        Some(format!("{rest}?{}", q.finish()))
    }

    /// `body` with every link to upload `id` put under `/share/TOKEN` and
    /// any other mention of its ID replaced.
    pub(super) fn outward(&self, body: &str, token: &str, id: &str) -> String {
        let share = format!("/share/{token}");
        body.replace(&format!("{}/{id}", self.api), &format!("{share}/api"))
            .replace(&format!("{}/{id}/", self.page), &format!("{share}/"))
            .replace(
                &format!("{}/{id}", self.page),
                &format!("{share}{}", self.front),
            )
            .replace(id, ID_STAND_IN)
    }

    /// A page of a shared view without what a viewer may not use: forms
    /// that post (delete, share), links to deletion, to the key log and to
    /// the owner's link list, the pcap-filter box and the filter inputs of
    /// the refused parameters.
    pub(super) fn strip_page(&self, html: &str, hidden: &[&str]) -> String {
        let html = remove_elements(html, "form", |e| {
            e.contains("method=\"post\"") || e.contains("id=\"pcap-filter\"")
        });
        let html = remove_elements(&html, "details", |e| e.contains("class=\"share-box\""));
        let html = remove_elements(&html, "a", |e| {
            e.contains("/delete\"")
                || e.contains("/shares\"")
                || e.contains("/keylog\"")
                || e.contains("/team\"")
        });
        // A link that filters by a hidden value (an endpoint's host and
        // path) or sorts by a hidden column would answer 400 in a shared
        // view: its text stays, the link goes.
        let html = unwrap_elements(&html, "a", |e| {
            href_query(e).is_some_and(|q| self.refusal(Some(&q), hidden).is_some())
        });
        remove_elements(&html, "label", |e| {
            self.refused
                .iter()
                .any(|p| e.contains(&format!("name=\"{p}\"")))
        })
    }
}

/// The pcap filter a saved view applies (its `filter=`), if any.
pub(super) fn saved_filter(view: &str) -> Option<String> {
    let (_, query) = view.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k == "filter" && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

/// A saved view as a viewer is sent to it: without its filter.
pub(super) fn without_filter(view: &str) -> String {
    let Some((path, query)) = view.split_once('?') else {
        return view.to_string();
    };
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "filter")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        return path.to_string();
    }
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &kept {
        q.append_pair(k, v);
    }
    format!("{path}?{}", q.finish())
}

/// What a shared view says in place of the owner's filter.
pub(super) const FILTER_STAND_IN: &str = "filtered by the link's owner";

/// `body` (a page, JSON or a `Location`) with the owner's `filter` taken
/// out of every link (in the encodings the pages and the API write it)
/// and in place of its text in JSON.
pub(super) fn hide_filter(body: &str, filter: &str) -> String {
    let form: String = form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    let mut out = body.to_string();
    for enc in [form.clone(), form.replace('+', "%20")] {
        let param = format!("filter={enc}");
        for (from, to) in [
            (format!("?{param}&amp;"), "?"),
            (format!("?{param}&"), "?"),
            (format!("&amp;{param}"), ""),
            (format!("&{param}"), ""),
            (format!("?{param}"), ""),
        ] {
            out = out.replace(&from, to);
        }
    }
    // As the templates wrote it: askama's own escaping.
    let html = match askama::filters::escape(filter, askama::filters::Html) {
        Ok(escaped) => escaped.to_string(),
        Err(never) => match never {},
    };
    out = out
        .replace(&format!("<code>{html}</code>"), FILTER_STAND_IN)
        .replace(&format!("value=\"{html}\""), "value=\"\"");
    if let Ok(json) = serde_json::to_string(filter) {
        let stand_in = format!("\"{FILTER_STAND_IN}\"");
        out = out
            .replace(
                &format!("\"filter\":{json}"),
                &format!("\"filter\":{stand_in}"),
            )
            .replace(
                &format!("\"filter\": {json}"),
                &format!("\"filter\": {stand_in}"),
            );
    }
    out
}

/// The query of the first `href` in an element's opening tag, with HTML's
/// `&amp;` read back.
fn href_query(element: &str) -> Option<String> {
    let tag_end = element.find('>')?;
    let open = &element[..tag_end];
    let href = open.split("href=\"").nth(1)?.split('"').next()?;
    let (_, query) = href.split_once('?')?;
    Some(query.replace("&amp;", "&"))
}

/// `html` without each `<tag …>…</tag>` element (not nested in one of its
/// kind) for which `drop` is true.
fn remove_elements(html: &str, tag: &str, drop: impl Fn(&str) -> bool) -> String {
    edit_elements(html, tag, drop, false)
}

/// `html` with each `tag` element that `unwrap` picks replaced by its
/// content.
fn unwrap_elements(html: &str, tag: &str, unwrap: impl Fn(&str) -> bool) -> String {
    edit_elements(html, tag, unwrap, true)
}

fn edit_elements(html: &str, tag: &str, pick: impl Fn(&str) -> bool, keep_content: bool) -> String {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = rest[start + open.len()..].chars().next();
        let is_tag = matches!(after, Some(' ' | '>' | '\n' | '\t'));
        let end = rest[start..].find(&close).map(|e| start + e + close.len());
        match end {
            Some(end) if is_tag && pick(&rest[start..end]) => {
                out.push_str(&rest[..start]);
                if keep_content {
                    let element = &rest[start..end];
                    if let Some(open_end) = element.find('>') {
                        out.push_str(&element[open_end + 1..element.len() - close.len()]);
                    }
                }
                rest = &rest[end..];
            }
            _ => {
                let next = start + open.len();
                out.push_str(&rest[..next]);
                rest = &rest[next..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod test {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn links_filtering_by_hidden_values_keep_only_their_text() {
        let html = r#"<td><a href="/share/T/http?method=GET&amp;host=10.0.0.1&amp;path=%2Fa">/a/{id}</a></td><td><a href="/share/T/http?status=5xx">5xx</a></td><th><a href="/share/T/http?sort=client&amp;order=asc">Client</a></th><th><a href="/share/T/http?sort=total_time">Total</a></th>"#;
        assert_eq!(
            CAPTURE.strip_page(html, &["client"]),
            r#"<td>/a/{id}</td><td><a href="/share/T/http?status=5xx">5xx</a></td><th>Client</th><th><a href="/share/T/http?sort=total_time">Total</a></th>"#
        );
        assert!(CAPTURE
            .refusal(Some("sort=-client"), &["client"])
            .is_some_and(|why| why.contains("sorted by -client")));
        assert_eq!(CAPTURE.refusal(Some("sort=client"), &[]), None);
    }

    #[test]
    fn only_reading_views_are_reached() {
        let inner = |s: &str| Some(Target::Inner(s.replace("ID", ID)));
        assert_eq!(CAPTURE.target("/overview", ID), inner("/c/ID"));
        assert_eq!(CAPTURE.target("/http", ID), inner("/c/ID/http"));
        assert_eq!(
            CAPTURE.target("/conversations/12", ID),
            inner("/c/ID/conversations/12")
        );
        assert_eq!(CAPTURE.target("/api", ID), inner("/api/captures/ID"));
        assert_eq!(
            CAPTURE.target("/api/conversations/3/stream", ID),
            inner("/api/captures/ID/conversations/3/stream")
        );
        assert_eq!(CAPTURE.target("/capture.pcap", ID), Some(Target::Capture));
        for no in [
            "",
            "/",
            "/delete",
            "/shares",
            "/conversations/x",
            "/conversations/1/delete",
            "/api/shares",
            "/api/conversations/1/../../x",
            "/../c",
        ] {
            assert_eq!(CAPTURE.target(no, ID), None, "{no}");
        }
    }

    #[test]
    fn saved_views_keep_safe_parameters() {
        let at = |s: &str| s.replace("ID", ID);
        assert_eq!(
            CAPTURE
                .saved_view(&at("/api/captures/ID"), ID, &[])
                .as_deref(),
            Some("/overview")
        );
        assert_eq!(
            CAPTURE
                .saved_view(
                    &at("/api/captures/ID/http?status=5xx&host=a&filter=port+80&sort=client"),
                    ID,
                    &["client"]
                )
                .as_deref(),
            Some("/http?status=5xx&filter=port+80")
        );
        assert_eq!(
            CAPTURE
                .saved_view(&at("/c/ID/conversations/4"), ID, &[])
                .as_deref(),
            Some("/conversations/4")
        );
        assert_eq!(CAPTURE.saved_view(&at("/c/ID/delete"), ID, &[]), None);
        assert_eq!(
            CAPTURE.saved_view("/c/ffffffffffffffffffffffffffffffff/http", ID, &[]),
            None
        );
        assert_eq!(CAPTURE.saved_view(&at("/c/IDx"), ID, &[]), None);
    }

    #[test]
    fn answers_name_the_link_not_the_capture() {
        let body = at_id(
            r#"<a href="/c/ID">o</a><a href="/c/ID/http?x=1">h</a> {"id":"ID","url":"/api/captures/ID/dns"}"#,
        );
        assert_eq!(
            CAPTURE.outward(&body, "TOK", ID),
            r#"<a href="/share/TOK/overview">o</a><a href="/share/TOK/http?x=1">h</a> {"id":"shared","url":"/share/TOK/api/dns"}"#
        );
        assert_eq!(
            CAPTURE.refused_param(Some("sort=a&host=b")).as_deref(),
            Some("host")
        );
        assert_eq!(CAPTURE.refused_param(Some("sort=a&status=5xx")), None);
        assert_eq!(
            CAPTURE.refused_param(Some("host=%28no+host%29&template=%2Fa")),
            None
        );
        assert_eq!(
            CAPTURE
                .refused_param(Some("host=%28no+host%29x"))
                .as_deref(),
            Some("host")
        );
    }

    #[test]
    fn strace_links_reach_the_log_views_only() {
        let inner = |s: &str| Some(Target::Inner(s.replace("ID", ID)));
        assert_eq!(STRACE.target("/summary", ID), inner("/s/ID"));
        assert_eq!(STRACE.target("/syscalls", ID), inner("/s/ID/syscalls"));
        assert_eq!(
            STRACE.target("/api/pauses", ID),
            inner("/api/straces/ID/pauses")
        );
        for no in [
            "/overview",
            "/delete",
            "/shares",
            "/capture.pcap",
            "/http",
            "/api/shares",
        ] {
            assert_eq!(STRACE.target(no, ID), None, "{no}");
        }
        assert_eq!(
            STRACE
                .saved_view(&at_id("/api/straces/ID/syscalls?pid=4&q=x"), ID, &[])
                .as_deref(),
            Some("/syscalls?pid=4&q=x")
        );
        assert_eq!(
            STRACE.saved_view(&at_id("/s/ID"), ID, &[]).as_deref(),
            Some("/summary")
        );
        assert_eq!(STRACE.saved_view(&at_id("/c/ID"), ID, &[]), None);
        assert_eq!(
            STRACE.outward(
                &at_id(
                    r#"<a href="/s/ID">s</a><a href="/s/ID/files">f</a> "/api/straces/ID/files" ID"#
                ),
                "T",
                ID
            ),
            r#"<a href="/share/T/summary">s</a><a href="/share/T/files">f</a> "/share/T/api/files" shared"#
        );
        assert_eq!(Kind::of("strace log").map(|k| k.page), Some("/s"));
        assert_eq!(STRACE.refused_param(Some("path=%2Fetc")), None);
    }

    #[test]
    fn the_owners_filter_is_kept_and_never_shown() {
        let view = CAPTURE
            .saved_view(
                &at_id("/c/ID/http?filter=host+10.0.0.1&status=5xx"),
                ID,
                &[],
            )
            .unwrap();
        assert_eq!(saved_filter(&view).as_deref(), Some("host 10.0.0.1"));
        assert_eq!(without_filter(&view), "/http?status=5xx");
        assert_eq!(without_filter("/http?filter=x"), "/http");
        let page = r#"<a href="/share/T/http?filter=host+10.0.0.1">a</a><a href="/share/T/http?filter=host+10.0.0.1&amp;sort=x">b</a><a href="/share/T/dns?sort=x&amp;filter=host%2010.0.0.1">c</a> {"filter":"host 10.0.0.1"} <code>host 10.0.0.1</code>"#;
        assert_eq!(
            hide_filter(page, "host 10.0.0.1"),
            r#"<a href="/share/T/http">a</a><a href="/share/T/http?sort=x">b</a><a href="/share/T/dns?sort=x">c</a> {"filter":"filtered by the link's owner"} filtered by the link's owner"#
        );
    }

    #[test]
    fn a_filter_with_html_characters_is_hidden_as_the_templates_write_it() {
        #[derive(askama::Template)]
        #[template(
            source = "<code>{{ f }}</code> <input value=\"{{ f }}\">",
            ext = "html"
        )]
        struct Shown<'a> {
            f: &'a str,
        }
        let f = "tcp[13] & 2 != 0 and len > 100 and host \"10.0.0.1\" or 'x' < y";
        let page = askama::Template::render(&Shown { f }).unwrap();
        assert_eq!(
            hide_filter(&page, f),
            r#"filtered by the link's owner <input value="">"#
        );
    }

    fn at_id(s: &str) -> String {
        s.replace("ID", ID)
    }

    #[test]
    fn pages_lose_what_a_viewer_may_not_use() {
        let page = r#"<p><a href="/x/delete" class="button">Delete</a></p>
<form method="get" action="/x" class="filters pcap-filter" id="pcap-filter"><input name="filter"></form>
<form method="get" action="/x/http" id="filters"><label>status <input name="status"></label><label>host <input name="host"></label></form>
<details class="share-box"><summary>Share</summary><form method="post" action="/c/1/shares"></form></details>
<abbr>kept</abbr><a href="/x/http">kept</a>"#;
        let out = CAPTURE.strip_page(page, &[]);
        assert_eq!(
            out,
            r#"<p></p>

<form method="get" action="/x/http" id="filters"><label>status <input name="status"></label></form>

<abbr>kept</abbr><a href="/x/http">kept</a>"#
        );
    }
}
