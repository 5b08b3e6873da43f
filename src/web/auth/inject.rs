//! What the guard adds to every page, so that no page has to know who is
//! looking: the open-server banner or the signed-in user's bar, the CSRF
//! token in the action of every form that posts, and bidi controls of
//! user-given names (file names, user names) made inert.

use super::csrf;
use super::Viewer;

/// Bidi embedding, override and isolate controls (U+202A–U+202E,
/// U+2066–U+2069): in a name they can make `gpj.exe` read `exe.jpg`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with each bidi control shown as U+FFFD instead of obeyed.
pub(crate) fn neutralise_bidi(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(is_bidi_control) {
        text.chars()
            .map(|c| if is_bidi_control(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// The page `html` as `viewer` gets it.
pub(crate) fn page(html: &str, viewer: &Viewer) -> String {
    let html = neutralise_bidi(html);
    let with_bar = match html.find("<body>") {
        Some(i) => {
            let at = i + "<body>".len();
            format!("{}{}{}", &html[..at], bar(viewer), &html[at..])
        }
        None => html.into_owned(),
    };
    with_csrf(&with_bar, &viewer.csrf_token())
}

/// The banner of an open server, or who is signed in.
fn bar(viewer: &Viewer) -> String {
    if viewer.shows_open_banner() {
        return "\n<div class=\"open-banner\" role=\"alert\">This server was started with \
                --open: anyone who can reach it sees, uploads and deletes every capture.</div>"
            .into();
    }
    let Some(name) = viewer.name() else {
        return String::new();
    };
    let audit = if viewer.is_admin() {
        " · <a href=\"/admin/audit\">Audit log</a>"
    } else {
        ""
    };
    format!(
        "\n<div class=\"account-bar\"><span>Signed in as <strong>{name}</strong>{audit}</span> \
         <form method=\"post\" action=\"/logout\" class=\"inline-form\">\
         <button type=\"submit\" id=\"sign-out\">Sign out</button></form></div>"
    )
}

/// `html` with `csrf=TOKEN` added to the action of every `<form>` whose
/// method is post.
fn with_csrf(html: &str, token: &str) -> String {
    let mut out = String::with_capacity(html.len() + 128);
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + len];
        out.push_str(&rest[..start]);
        out.push_str(&post_form_tag(tag, token).unwrap_or_else(|| tag.to_string()));
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// A `<form …` tag (without its `>`) that posts, with the token in its
/// action.
fn post_form_tag(tag: &str, token: &str) -> Option<String> {
    if !tag.to_ascii_lowercase().contains("method=\"post\"") {
        return None;
    }
    let at = tag.find("action=\"")? + "action=\"".len();
    let end = at + tag[at..].find('"')?;
    let action = &tag[at..end];
    let sep = if action.contains('?') { "&amp;" } else { "?" };
    Some(format!(
        "{}{action}{sep}{}={token}{}",
        &tag[..at],
        csrf::PARAM,
        &tag[end..]
    ))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn post_forms_get_the_token() {
        let html = r#"<form method="get" action="/x"></form><form action="/c/1/delete" method="post"><form method="post" action="/a?b=1">"#;
        let out = with_csrf(html, "T");
        assert_eq!(
            out,
            r#"<form method="get" action="/x"></form><form action="/c/1/delete?csrf=T" method="post"><form method="post" action="/a?b=1&amp;csrf=T">"#
        );
        assert_eq!(with_csrf("<p>no form", "T"), "<p>no form");
        assert_eq!(
            with_csrf("<form method=\"post\"", "T"),
            "<form method=\"post\""
        );
    }

    #[test]
    fn bidi_controls_are_inert() {
        assert_eq!(
            neutralise_bidi("evil\u{202E}gpj.exe"),
            "evil\u{FFFD}gpj.exe"
        );
        assert_eq!(neutralise_bidi("a\u{2066}b\u{2069}"), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(neutralise_bidi("plain.pcap"), "plain.pcap");
    }
}
