//! The addresses of a shared view, both ways: a path under
//! `/share/TOKEN` to the capture page or JSON twin it shows, and, on the
//! way out, every link of that answer back under `/share/TOKEN` (the
//! capture's ID never leaves), with the forms that change something or
//! would probe real values taken out of its pages.

/// Query parameters a share viewer may not set: each filters by a value
/// the redaction hides (an address, a URI, a host or DNS name, a TLS
/// name), so a viewer could probe for the real one (README, "Share
/// links"). Sort, order, page and status filters are fine.
pub(super) const REFUSED_PARAMS: [&str; 6] = ["filter", "host", "path", "name", "sni", "ja4"];

/// What a path under `/share/TOKEN` opens.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// A capture page or JSON twin, at this path of the server.
    Inner(String),
    /// The whole capture, redacted, as a file.
    Capture,
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The views a share link reaches, as the path after `/share/TOKEN`
/// (`/overview`, `/http`, `/api/conversations/3/stream`, …): what it opens
/// for `capture`, or None. Only reading views are listed, so nothing that
/// deletes, uploads or shares is reachable.
pub(super) fn target(rest: &str, capture: &str) -> Option<Target> {
    let parts: Vec<&str> = rest.strip_prefix('/')?.split('/').collect();
    let page = |tail: &str| Some(Target::Inner(format!("/c/{capture}{tail}")));
    let api = |tail: &str| Some(Target::Inner(format!("/api/captures/{capture}{tail}")));
    match parts.as_slice() {
        ["overview"] => page(""),
        ["conversations" | "http" | "dns" | "endpoints"] => page(rest),
        ["conversations", n] if is_number(n) => page(rest),
        ["capture.pcap"] => Some(Target::Capture),
        ["api"] => api(""),
        ["api", "conversations" | "http" | "dns" | "endpoints"] => api(&rest["/api".len()..]),
        ["api", "conversations", n] if is_number(n) => api(&rest["/api".len()..]),
        ["api", "conversations", n, "packets" | "stream" | "pcap"] if is_number(n) => {
            api(&rest["/api".len()..])
        }
        _ => None,
    }
}

/// The first parameter of `query` a share viewer may not set.
pub(super) fn refused_param(query: Option<&str>) -> Option<String> {
    let q = query?;
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, _)| k.into_owned())
        .find(|k| REFUSED_PARAMS.contains(&k.as_str()))
}

/// The view a link saves, from the address the owner was at (a capture
/// page or its JSON twin, `/c/ID/http?status=5xx` or
/// `/api/captures/ID/http?status=5xx`): the path under the link with the
/// query parameters a viewer may set. None when it is no shared view of
/// `capture`.
pub(super) fn saved_view(at: &str, capture: &str) -> Option<String> {
    let (path, query) = at.split_once('?').unwrap_or((at, ""));
    let rest = [format!("/api/captures/{capture}"), format!("/c/{capture}")]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix.as_str()).map(str::to_string))?;
    let rest = match rest.as_str() {
        "" | "/" => "/overview".to_string(),
        r if r.starts_with('/') => r.to_string(),
        _ => return None,
    };
    match target(&rest, capture)? {
        Target::Inner(_) if !rest.starts_with("/api") => {}
        _ => return None,
    }
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, v)| !REFUSED_PARAMS.contains(&k.as_ref()) && !v.is_empty())
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

/// What stands for the capture's ID where an answer names it outside a
/// link (`"id"` of the JSON status).
const ID_STAND_IN: &str = "shared";

/// `body` with every link to the capture put under `/share/TOKEN` and any
/// other mention of its ID replaced.
pub(super) fn outward(body: &str, token: &str, capture: &str) -> String {
    let share = format!("/share/{token}");
    body.replace(&format!("/api/captures/{capture}"), &format!("{share}/api"))
        .replace(&format!("/c/{capture}/"), &format!("{share}/"))
        .replace(&format!("/c/{capture}"), &format!("{share}/overview"))
        .replace(capture, ID_STAND_IN)
}

/// A page of a shared view without what a viewer may not use: forms that
/// post (delete, share), links to deletion, to the key log, to the team and to the owner's link list,
/// the pcap-filter box and the filter inputs of [`REFUSED_PARAMS`].
pub(super) fn strip_page(html: &str) -> String {
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
    // A link that filters by a hidden value (an endpoint's host and path)
    // would answer 400 in a shared view: its text stays, the link goes.
    let html = unwrap_elements(&html, "a", |e| {
        href_query(e).is_some_and(|q| refused_param(Some(&q)).is_some())
    });
    remove_elements(&html, "label", |e| {
        REFUSED_PARAMS
            .iter()
            .any(|p| e.contains(&format!("name=\"{p}\"")))
    })
}

/// `html` without each `<tag …>…</tag>` element (not nested in one of its
/// kind) for which `drop` is true.
/// The query of the first `href` in an element's opening tag, with HTML's
/// `&amp;` read back.
fn href_query(element: &str) -> Option<String> {
    let tag_end = element.find('>')?;
    let open = &element[..tag_end];
    let href = open.split("href=\"").nth(1)?.split('"').next()?;
    let (_, query) = href.split_once('?')?;
    Some(query.replace("&amp;", "&"))
}

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
        let html = r#"<td><a href="/share/T/http?method=GET&amp;host=10.0.0.1&amp;path=%2Fa">/a/{id}</a></td><td><a href="/share/T/http?status=5xx">5xx</a></td>"#;
        assert_eq!(
            strip_page(html),
            r#"<td>/a/{id}</td><td><a href="/share/T/http?status=5xx">5xx</a></td>"#
        );
    }

    #[test]
    fn only_reading_views_are_reached() {
        let inner = |s: &str| Some(Target::Inner(s.replace("ID", ID)));
        assert_eq!(target("/overview", ID), inner("/c/ID"));
        assert_eq!(target("/http", ID), inner("/c/ID/http"));
        assert_eq!(
            target("/conversations/12", ID),
            inner("/c/ID/conversations/12")
        );
        assert_eq!(target("/api", ID), inner("/api/captures/ID"));
        assert_eq!(
            target("/api/conversations/3/stream", ID),
            inner("/api/captures/ID/conversations/3/stream")
        );
        assert_eq!(target("/capture.pcap", ID), Some(Target::Capture));
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
            assert_eq!(target(no, ID), None, "{no}");
        }
    }

    #[test]
    fn saved_views_keep_safe_parameters() {
        let at = |s: &str| s.replace("ID", ID);
        assert_eq!(
            saved_view(&at("/api/captures/ID"), ID).as_deref(),
            Some("/overview")
        );
        assert_eq!(
            saved_view(
                &at("/api/captures/ID/http?status=5xx&host=a&filter=port+80"),
                ID
            )
            .as_deref(),
            Some("/http?status=5xx")
        );
        assert_eq!(
            saved_view(&at("/c/ID/conversations/4"), ID).as_deref(),
            Some("/conversations/4")
        );
        assert_eq!(saved_view(&at("/c/ID/delete"), ID), None);
        assert_eq!(
            saved_view("/c/ffffffffffffffffffffffffffffffff/http", ID),
            None
        );
        assert_eq!(saved_view(&at("/c/IDx"), ID), None);
    }

    #[test]
    fn answers_name_the_link_not_the_capture() {
        let body = at_id(
            r#"<a href="/c/ID">o</a><a href="/c/ID/http?x=1">h</a> {"id":"ID","url":"/api/captures/ID/dns"}"#,
        );
        assert_eq!(
            outward(&body, "TOK", ID),
            r#"<a href="/share/TOK/overview">o</a><a href="/share/TOK/http?x=1">h</a> {"id":"shared","url":"/share/TOK/api/dns"}"#
        );
        assert_eq!(
            refused_param(Some("sort=a&host=b")).as_deref(),
            Some("host")
        );
        assert_eq!(refused_param(Some("sort=a&status=5xx")), None);
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
        let out = strip_page(page);
        assert_eq!(
            out,
            r#"<p></p>

<form method="get" action="/x/http" id="filters"><label>status <input name="status"></label></form>

<abbr>kept</abbr><a href="/x/http">kept</a>"#
        );
    }
}
