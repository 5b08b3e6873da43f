//! Axum extractors shared by the JSON API and the pages: an upload's ID
//! and a conversation number from the path, a query string checked against
//! the names an endpoint takes, and the results a `?filter=` view reads.
//! An upload's ID resolves only for a viewer who may see that upload.
//!
//! A rejection answers as the request was made: an HTML error page under
//! `/c/` and `/s/`, a JSON error under `/api/`.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::{FromRequestParts, OriginalUri, RawPathParams};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::Viewer;
use super::error::Error;
use super::kit::Suggestion;
use super::kit::{Compute, FilterBox, PageError, Query};
use super::params::{self, ParamError, Params};
use super::{fmt, view, AppState, View};
use crate::analysis::report::{ConversationRow, SortKey};
use crate::store::{CaptureId, ConvQuery, DnsQuery, HttpQuery, Id, IdKind};

/// An extractor's refusal, as JSON or as a page.
pub struct Rejected {
    error: Error,
    page: bool,
}

impl Rejected {
    fn new(parts: &Parts, error: Error) -> Rejected {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(parts.uri.path(), |u| u.0.path());
        Rejected {
            error,
            page: !path.starts_with("/api/"),
        }
    }
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        if self.page {
            PageError::from(self.error).into_response()
        } else {
            self.error.into_response()
        }
    }
}

/// The path parameter `name`.
async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<String, Rejected> {
    let all = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| Rejected::new(parts, Error::Internal(format!("path: {e}"))))?;
    let value = all.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
    Ok(value.unwrap_or("").to_string())
}

/// `{id}` of the path, of an upload the viewer may see: anything
/// malformed, and another user's upload, is "not found" (404, so that its
/// existence is not disclosed). Every handler that names an upload reads
/// it through here, so this is where ownership is checked.
impl<S: Send + Sync, K: IdKind> FromRequestParts<S> for Id<K> {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejected> {
        let text = path_param(parts, state, "id").await?;
        let not_found = |parts: &Parts| Rejected::new(parts, Error::NotFound(K::NOUN.to_string()));
        let id: Id<K> = text.parse().map_err(|_| not_found(parts))?;
        let visible = match parts.extensions.get::<Viewer>() {
            Some(viewer) => viewer.may_see(&id).await,
            None => false,
        };
        if visible {
            Ok(id)
        } else {
            Err(not_found(parts))
        }
    }
}

/// `{n}` of the path: a conversation number (404 if it is not one).
pub struct ConvNumber(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for ConvNumber {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejected> {
        let text = path_param(parts, state, "n").await?;
        let not_found = || Error::NotFound("conversation".to_string());
        if text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Rejected::new(parts, not_found()));
        }
        text.parse()
            .map(ConvNumber)
            .map_err(|_| Rejected::new(parts, not_found()))
    }
}

/// What an endpoint reads from its query string.
pub trait FromQuery: Sized {
    /// The parameter names it takes; any other is a 400.
    const NAMES: &'static [&'static str];
    fn from_params(p: &Params) -> Result<Self, ParamError>;
}

/// The query string, parsed strictly into `T` (400 with the reason).
pub struct Checked<T>(pub T);

impl<S: Send + Sync, T: FromQuery> FromRequestParts<S> for Checked<T> {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejected> {
        Params::parse(parts.uri.query(), T::NAMES)
            .and_then(|p| T::from_params(&p))
            .map(Checked)
            .map_err(|e| Rejected::new(parts, e.into()))
    }
}

impl FromQuery for ConvQuery {
    const NAMES: &'static [&'static str] = params::CONV_PARAMS;
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        params::conv_query(p)
    }
}

impl FromQuery for HttpQuery {
    const NAMES: &'static [&'static str] = params::HTTP_PARAMS;
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        params::http_query(p)
    }
}

impl FromQuery for DnsQuery {
    const NAMES: &'static [&'static str] = params::DNS_PARAMS;
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        params::dns_query(p)
    }
}

/// An endpoint that takes no parameter.
pub struct NoParams;

impl FromQuery for NoParams {
    const NAMES: &'static [&'static str] = &[];
    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(NoParams)
    }
}

/// `limit` (default `DEFAULT`) and `offset` of a list.
pub struct Paged<const DEFAULT: u32> {
    pub limit: u32,
    pub offset: u64,
}

impl<const DEFAULT: u32> FromQuery for Paged<DEFAULT> {
    const NAMES: &'static [&'static str] = &["limit", "offset"];
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        let (limit, offset) = p.page(DEFAULT)?;
        Ok(Paged { limit, offset })
    }
}

/// An endpoint that takes only `filter` (read by [`Resolved`]).
pub struct FilterOnly;

impl FromQuery for FilterOnly {
    const NAMES: &'static [&'static str] = &["filter"];
    fn from_params(_: &Params) -> Result<Self, ParamError> {
        Ok(FilterOnly)
    }
}

/// `limit` (default 1000) and `offset` of a packet list, and `filter`.
pub struct PacketPage {
    pub limit: u32,
    pub offset: u64,
}

impl FromQuery for PacketPage {
    const NAMES: &'static [&'static str] = &["limit", "offset", "filter"];
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        let (limit, offset) = p.page(1000)?;
        Ok(PacketPage { limit, offset })
    }
}

/// The capture whose results an API request reads: the one in the path,
/// or its analysis with the `?filter=` expression. While that analysis
/// runs the request is answered 202 with its progress; if it failed, or
/// was never asked for (a GET does not start it), 409 saying so.
/// Put it after the extractors of the path (`CaptureId` first, so a bad ID
/// is a 404 before anything else) and the one that checks the query
/// string: the filtered analysis starts only for a request that is sound.
pub struct Resolved(pub CaptureId);

impl FromRequestParts<AppState> for Resolved {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let id = CaptureId::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let refuse = |parts: &Parts, e: Error| Rejected::new(parts, e).into_response();
        let p = Params::only(parts.uri.query(), &["filter"]);
        let filter = params::filter_param(&p).map_err(|e| refuse(parts, e.into()))?;
        match view(state, id, filter).await {
            Ok(View::Ready(v)) => Ok(Resolved(v)),
            Ok(View::Pending(st)) => Err((StatusCode::ACCEPTED, Json(*st)).into_response()),
            Ok(View::Failed(message)) => Err(refuse(parts, Error::Conflict(message))),
            Ok(View::NotComputed) => Err(refuse(parts, Error::Conflict(not_computed(&id)))),
            Err(e) => Err(refuse(parts, e)),
        }
    }
}

/// Why a filtered view has no results to read yet.
fn not_computed(id: &CaptureId) -> String {
    format!(
        "not computed: this capture has not been analyzed with this filter; \
         POST /api/captures/{id}/analyses with {{\"filter\": \"...\"}} to compute it"
    )
}

/// What a page with a pcap-filter box reads: the results to query, if
/// they are ready, and the box to show (with the filter's error or the
/// progress of its analysis instead of an error page).
pub struct Filtered {
    pub results: Option<CaptureId>,
    pub fbox: FilterBox,
}

impl FromRequestParts<AppState> for Filtered {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Rejected> {
        let id = CaptureId::from_request_parts(parts, state).await?;
        let p = Params::only(parts.uri.query(), &["filter"]);
        let (results, mut fbox) = filtered_view(state, id, &p, parts.uri.path())
            .await
            .map_err(|e| Rejected::new(parts, e))?;
        if let (Some(c), Some(here)) = (&mut fbox.compute, parts.uri.path_and_query()) {
            c.back = here.to_string();
        }
        Ok(Filtered { results, fbox })
    }
}

/// What a filtered page at `path` reads: the results to query, if they
/// are ready, and the filter box to show.
pub(crate) async fn filtered_view(
    state: &AppState,
    id: CaptureId,
    p: &Params,
    path: &str,
) -> Result<(Option<CaptureId>, FilterBox), Error> {
    let mut f = FilterBox {
        text: p.get("filter").unwrap_or("").to_string(),
        ..FilterBox::default()
    };
    let filter = match params::filter_param(p) {
        Ok(x) => x,
        Err(e) => {
            f.error = Some(e.0);
            return Ok((None, f));
        }
    };
    let filtered = filter.is_some();
    match view(state, id, filter).await? {
        View::Ready(v) => {
            if filtered {
                let meta = super::blocking(state, move |s| s.capture(&v)).await?;
                let c = meta.summary.as_ref().map(|s| &s.capture);
                let all = c.map_or(0, |c| c.packets);
                let matched = c.and_then(|c| c.matched).unwrap_or(all);
                f.matched = format!(
                    "{} of {} packets match",
                    fmt::count(&matched),
                    fmt::count(&all)
                );
                if matched == 0 {
                    let q = ConvQuery::sorted(SortKey::of("packets"), SUGGEST_FROM);
                    let convs = super::blocking(state, move |s| s.conversations(&id, &q)).await?;
                    f.suggest = suggestions(&convs.items, path);
                }
            }
            Ok((Some(v), f))
        }
        View::Pending(st) => {
            f.pending = Some(format!(
                "Analyzing the capture with this filter: {:.0}% read, {} packets so far. \
                 This page refreshes itself.",
                st.progress * 100.0,
                fmt::count(&st.packets)
            ));
            Ok((None, f))
        }
        View::Failed(message) => {
            f.error = Some(message);
            Ok((None, f))
        }
        View::NotComputed => {
            let mut back = Query::default();
            back.push("filter", f.text.trim());
            f.compute = Some(Compute {
                action: format!("/c/{id}/analyses"),
                back: back.href(path, &[]),
            });
            Ok((None, f))
        }
    }
}

/// Conversations (the most packets first) a filter that matches nothing
/// draws its suggestions from.
const SUGGEST_FROM: u32 = 300;
/// Ports and hosts suggested, each.
const SUGGESTED: usize = 5;

/// What the capture has, for a filter that matched nothing: the server
/// ports and the hosts with the most packets, each a filter of `path`.
fn suggestions(convs: &[ConversationRow], path: &str) -> Vec<Suggestion> {
    let mut ports: HashMap<u16, u64> = HashMap::new();
    let mut hosts: HashMap<IpAddr, u64> = HashMap::new();
    for c in convs {
        *ports.entry(c.server.port()).or_default() += c.packets();
        for ip in [c.client.ip(), c.server.ip()] {
            *hosts.entry(ip).or_default() += c.packets();
        }
    }
    let top = |m: HashMap<String, u64>| {
        let mut v: Vec<(String, u64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(SUGGESTED);
        v
    };
    let ports = top(ports
        .into_iter()
        .filter(|(p, _)| *p != 0)
        .map(|(p, n)| (format!("port {p}"), n))
        .collect());
    let hosts = top(hosts
        .into_iter()
        .map(|(h, n)| (format!("host {h}"), n))
        .collect());
    ports
        .into_iter()
        .chain(hosts)
        .map(|(filter, packets)| {
            let mut q = Query::default();
            q.push("filter", filter.as_str());
            Suggestion {
                href: q.href(path, &[]),
                title: format!("{} packets", fmt::count(&packets)),
                filter,
            }
        })
        .collect()
}
