//! Where a request comes from: the Host allow-list (a DNS-rebinding page
//! reaches the server under its own name, which is not on the list) and
//! the check that a write comes from this server's own pages, not from a
//! page of another origin (another port of localhost counts as one).

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};

/// The host part of a `Host` header or an origin's authority, lowercase,
/// without port or IPv6 brackets.
fn host_name(authority: &str) -> String {
    let a = authority.trim();
    let host = if let Some(rest) = a.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        a.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(a, |(h, _)| h)
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

const LOCAL_NAMES: &[&str] = &["localhost", "localhost.localdomain"];

/// Whether the server answers to `Host: host`: the address it listens on
/// (any address of the machine when it listens on all), the localhost
/// names, and the `--public-host` names. A request without Host is not a
/// browser's and passes.
pub(crate) fn is_host_allowed(headers: &HeaderMap, listen: SocketAddr, public: &[String]) -> bool {
    let Some(value) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let name = host_name(text);
    if LOCAL_NAMES.contains(&name.as_str()) || name.ends_with(".localhost") {
        return true;
    }
    if public.iter().any(|p| host_name(p) == name) {
        return true;
    }
    match name.parse::<IpAddr>() {
        // A rebinding page always reaches us under a name, never an
        // address: any address is one of ours or a proxy's.
        Ok(ip) => listen.ip().is_unspecified() || ip == listen.ip() || ip.is_loopback(),
        Err(_) => false,
    }
}

/// Why a write is refused as cross-site, if it is: `Sec-Fetch-Site` says
/// another site or origin made it, or (from a browser without it)
/// `Origin` is not this server's.
/// Requests with neither header come from programs (curl, the capture
/// agent), which no other site can drive.
pub(crate) fn cross_site_write(headers: &HeaderMap) -> Option<String> {
    // A browser that sends Sec-Fetch-Site says exactly where the request
    // came from; its Origin may be "null" on our own pages' form posts
    // (Referrer-Policy: no-referrer makes Chromium send that).
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        return match site {
            "same-origin" | "none" => None,
            _ => Some(format!("a write from a {site} page")),
        };
    }
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("null");
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    match authority {
        Some(a) if a.eq_ignore_ascii_case(host) => None,
        _ => Some(format!("a write from origin {origin}")),
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn hosts() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let public = vec!["deck.example.com".to_string()];
        let ok = |h: &'static str, at| is_host_allowed(&headers(&[("host", h)]), at, &public);
        assert!(ok("127.0.0.1:8080", lo));
        assert!(ok("localhost:8080", lo));
        assert!(ok("[::1]:8080", lo));
        assert!(ok("deck.example.com", lo));
        assert!(ok("DECK.example.com.:443", lo));
        assert!(!ok("attacker.example", lo));
        assert!(!ok("attacker.example:8080", any));
        assert!(!ok("10.1.2.3:8080", lo));
        assert!(ok("10.1.2.3:8080", any));
        assert!(is_host_allowed(&HeaderMap::new(), lo, &public));
    }

    #[test]
    fn writes() {
        assert_eq!(cross_site_write(&headers(&[("host", "127.0.0.1:1")])), None);
        assert_eq!(
            cross_site_write(&headers(&[
                ("host", "127.0.0.1:1"),
                ("origin", "http://127.0.0.1:1"),
                ("sec-fetch-site", "same-origin")
            ])),
            None
        );
        assert!(cross_site_write(&headers(&[
            ("host", "127.0.0.1:1"),
            ("origin", "http://127.0.0.1:2")
        ]))
        .is_some());
        assert!(cross_site_write(&headers(&[
            ("host", "127.0.0.1:1"),
            ("sec-fetch-site", "same-site")
        ]))
        .is_some());
        assert!(
            cross_site_write(&headers(&[("host", "127.0.0.1:1"), ("origin", "null")])).is_some()
        );
        assert_eq!(
            cross_site_write(&headers(&[
                ("host", "127.0.0.1:1"),
                ("origin", "null"),
                ("sec-fetch-site", "same-origin")
            ])),
            None
        );
        assert!(cross_site_write(&headers(&[
            ("host", "127.0.0.1:1"),
            ("origin", "http://127.0.0.1:1"),
            ("sec-fetch-site", "cross-site")
        ]))
        .is_some());
    }
}
