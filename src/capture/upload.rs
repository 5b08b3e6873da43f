//! Upload of a finished capture file to a tracedeck server:
//! `POST {base}/api/captures` with the raw file as body (streamed from
//! disk, with its Content-Length), answered by `201 {"id", "url"}`.
//! Failures that may pass (no connection, 5xx, 408, 429) are retried with
//! exponential backoff; the local file is never touched. Over `https://`
//! the server's certificate is checked against the webpki roots, or a
//! private CA's; an API token goes as `Authorization: Bearer` (README,
//! "Accounts and sharing").

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{parse_pem, Certificate, PemItem, RootCerts, TlsConfig};

/// The media type of a classic pcap file.
pub const CONTENT_TYPE: &str = "application/vnd.tcpdump.pcap";

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{url:?} is not a server address: expected http://host:port or https://host")]
    BadUrl { url: String },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("CA file {}: {reason}", path.display())]
    Ca { path: PathBuf, reason: String },
    #[error("the server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("{0}")]
    Transport(String),
    #[error("the server's answer has no capture link: {0}")]
    BadAnswer(String),
    #[error("gave up after {attempts} tries; last error: {last}")]
    GaveUp { attempts: u32, last: Box<Error> },
}

impl Error {
    /// Whether trying again may help.
    fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) => true,
            Error::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            _ => false,
        }
    }
}

/// How often and how patiently to try.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    /// Wait before the second try; doubled before each further one.
    pub first_delay: Duration,
    /// Limit on each whole request.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(600),
        }
    }
}

/// How to reach the server beyond its address.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// An API token (`tracedeck token create --scope upload`).
    pub token: Option<String>,
    /// PEM certificates of a private CA to trust instead of the webpki
    /// roots.
    pub ca_file: Option<PathBuf>,
    /// The team the uploads belong to (`capture --team`): the server's
    /// `team=` parameter.
    pub team: Option<String>,
}

/// The roots a TLS connection trusts: the CA file's certificates, or the
/// webpki roots.
fn roots(ca_file: Option<&Path>) -> Result<RootCerts, Error> {
    let Some(path) = ca_file else {
        return Ok(RootCerts::WebPki);
    };
    let ca = |reason: String| Error::Ca {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    for item in parse_pem(&pem) {
        if let PemItem::Certificate(c) = item.map_err(|e| ca(e.to_string()))? {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err(ca("no PEM certificate in it".into()));
    }
    Ok(RootCerts::Specific(Arc::new(certs)))
}

/// A stored capture on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    pub id: String,
    /// The full link to open: the server's origin and its `url`.
    pub link: String,
}

/// `http://host:port/prefix/` -> `http://host:port/prefix` (checked to be http or https).
fn base_of(url: &str) -> Result<&str, Error> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| Error::BadUrl {
            url: url.to_string(),
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Error::BadUrl {
            url: url.to_string(),
        });
    }
    Ok(trimmed)
}

/// `http://host:port/prefix` -> `http://host:port`.
fn origin_of(base: &str) -> &str {
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    }
}

/// Joins the server's `url` (a path, or already absolute) to the address it was reached at.
fn link_for(base: &str, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else if url.starts_with('/') {
        format!("{}{url}", origin_of(base))
    } else {
        format!("{base}/{url}")
    }
}

/// Reads the server's `201` body `{"id", "url"}`; `base` is the address it was reached at.
pub fn parse_answer(base: &str, body: &str) -> Result<Uploaded, Error> {
    let bad = || Error::BadAnswer(body.chars().take(200).collect());
    let v: serde_json::Value = serde_json::from_str(body).map_err(|_| bad())?;
    let id = v
        .get("id")
        .and_then(|x| x.as_str())
        .ok_or_else(bad)?
        .to_string();
    let url = v.get("url").and_then(|x| x.as_str()).ok_or_else(bad)?;
    Ok(Uploaded {
        id,
        link: link_for(base, url),
    })
}

fn try_once(
    endpoint: &str,
    base: &str,
    path: &Path,
    timeout: Duration,
    token: Option<&str>,
    roots: &RootCerts,
) -> Result<Uploaded, Error> {
    let file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .tls_config(TlsConfig::builder().root_certs(roots.clone()).build())
        .build()
        .into();
    let mut request = agent.post(endpoint).header("Content-Type", CONTENT_TYPE);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut resp = request
        .send(file)
        .map_err(|e| Error::Transport(e.to_string()))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .map_err(|e| Error::Transport(e.to_string()))?;
    if status != 201 && status != 200 {
        return Err(Error::Status {
            status,
            body: body.trim().chars().take(200).collect(),
        });
    }
    parse_answer(base, &body)
}

/// Uploads `path` to the tracedeck server at `server` (e.g.
/// `http://host:8080`). `on_retry(attempt, error, wait)` is called
/// before each wait so the caller can tell the user.
pub fn upload_file(
    server: &str,
    path: &Path,
    policy: &RetryPolicy,
    on_retry: &mut dyn FnMut(u32, &Error, Duration),
) -> Result<Uploaded, Error> {
    upload_file_with(server, path, &Access::default(), policy, on_retry)
}

/// [`upload_file`] with a token and a private CA.
pub fn upload_file_with(
    server: &str,
    path: &Path,
    access: &Access,
    policy: &RetryPolicy,
    on_retry: &mut dyn FnMut(u32, &Error, Duration),
) -> Result<Uploaded, Error> {
    let base = base_of(server)?;
    let roots = roots(access.ca_file.as_deref())?;
    let endpoint = match &access.team {
        Some(team) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("team", team)
                .finish();
            format!("{base}/api/captures?{query}")
        }
        None => format!("{base}/api/captures"),
    };
    let attempts = policy.attempts.max(1);
    let mut delay = policy.first_delay;
    let mut attempt = 1;
    loop {
        match try_once(
            &endpoint,
            base,
            path,
            policy.timeout,
            access.token.as_deref(),
            &roots,
        ) {
            Ok(up) => return Ok(up),
            Err(err) if !err.is_transient() => return Err(err),
            Err(err) if attempt >= attempts => {
                return Err(Error::GaveUp {
                    attempts,
                    last: Box::new(err),
                })
            }
            Err(err) => {
                on_retry(attempt, &err, delay);
                std::thread::sleep(delay);
                delay = delay.saturating_mul(2);
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(base_of("http://h:8080/").unwrap(), "http://h:8080");
        assert_eq!(base_of("http://h:8080/td").unwrap(), "http://h:8080/td");
        assert!(base_of("h:8080").is_err());
        assert!(base_of("http://").is_err());
        assert_eq!(link_for("http://h:8080", "/c/abc"), "http://h:8080/c/abc");
        assert_eq!(
            link_for("http://h:8080/td", "/td/c/abc"),
            "http://h:8080/td/c/abc"
        );
        assert_eq!(link_for("http://h:8080", "https://x/c/1"), "https://x/c/1");
    }

    #[test]
    fn answers() {
        let up = parse_answer("http://h:1", r#"{"id":"abc","url":"/c/abc"}"#).unwrap();
        assert_eq!(
            up,
            Uploaded {
                id: "abc".into(),
                link: "http://h:1/c/abc".into()
            }
        );
        assert!(matches!(
            parse_answer("http://h:1", "<html>"),
            Err(Error::BadAnswer(_))
        ));
        assert!(matches!(
            parse_answer("http://h:1", r#"{"id":"x"}"#),
            Err(Error::BadAnswer(_))
        ));
    }

    #[test]
    fn transient() {
        assert!(Error::Status {
            status: 503,
            body: String::new()
        }
        .is_transient());
        assert!(Error::Status {
            status: 429,
            body: String::new()
        }
        .is_transient());
        assert!(!Error::Status {
            status: 413,
            body: String::new()
        }
        .is_transient());
        assert!(Error::Transport("refused".into()).is_transient());
    }
}
