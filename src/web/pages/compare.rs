//! Baseline vs incident in the browser: `/compare?base=ID&incident=ID`
//! and its JSON twin `/api/compare` (README, "Baseline vs incident").
//! Both captures must be ones the viewer may see (another user's is "not
//! found", as everywhere); the comparison itself is
//! [`crate::analysis::diff`], over the endpoint rows and digests the
//! analysis stored (endpoints made again from the exchanges only when the
//! URL renames or splits templates).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::Json;

use crate::analysis::diff::text::{self, Table};
use crate::analysis::diff::{self, Capture, Comparison, EndpointChange, EndpointOrder};
use crate::analysis::endpoints::Options;
use crate::store::{CaptureId, CaptureMeta, Status, Store};
use crate::web::auth::Viewer;
use crate::web::error::Error;
use crate::web::extract::{Checked, FromQuery};
use crate::web::kit::{PageResult, Query};
use crate::web::pages::endpoints::{all_endpoints, http_href, options};
use crate::web::params::{ParamError, Params};
use crate::web::{blocking, AppState};

/// What `/compare` and `/api/compare` read from the query string.
pub struct CompareParams {
    base: String,
    incident: String,
    sort: EndpointOrder,
    /// Renames and splits of templates, as on the endpoints page.
    options: Options,
    /// `rename` and `split` as typed, for the links.
    typed: [(&'static str, String); 2],
}

impl FromQuery for CompareParams {
    const NAMES: &'static [&'static str] = &["base", "incident", "sort", "rename", "split"];
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        let id = |name: &str| {
            p.get(name).map(str::to_string).ok_or_else(|| {
                ParamError(format!(
                    "{name}= is missing: base=ID&incident=ID name the two captures"
                ))
            })
        };
        let sort = match p.get("sort") {
            None => EndpointOrder::default(),
            Some(s) => EndpointOrder::parse(s).ok_or_else(|| {
                let names: Vec<&str> = EndpointOrder::ALL.iter().map(|o| o.name()).collect();
                ParamError(format!("sort= takes one of {}", names.join(", ")))
            })?,
        };
        let typed = ["rename", "split"].map(|k| (k, p.get(k).unwrap_or("").to_string()));
        Ok(CompareParams {
            base: id("base")?,
            incident: id("incident")?,
            sort,
            options: options(p)?,
            typed,
        })
    }
}

/// A capture named by the query string, if the viewer may see it.
async fn visible(viewer: &Viewer, text: &str) -> Result<CaptureId, Error> {
    let not_found = || Error::NotFound("capture".into());
    let id: CaptureId = text.parse().map_err(|_| not_found())?;
    if viewer.may_see(&id).await {
        Ok(id)
    } else {
        Err(not_found())
    }
}

/// What the comparison reads of one analyzed capture.
fn capture(s: &dyn Store, id: &CaptureId, options: &Options) -> crate::store::Result<Capture> {
    Ok(Capture {
        endpoints: all_endpoints(s, id, options)?,
        digest: s.compare_digest(id)?,
    })
}

/// The two captures and their comparison.
struct Compared {
    base: CaptureMeta,
    incident: CaptureMeta,
    comparison: Comparison,
}

async fn compared(state: &AppState, viewer: &Viewer, p: &CompareParams) -> Result<Compared, Error> {
    let base = visible(viewer, &p.base).await?;
    let incident = visible(viewer, &p.incident).await?;
    let sort = p.sort;
    let options = p.options.clone();
    let (base, incident, comparison) = blocking(state, move |s| {
        let (b, i) = (s.capture(&base)?, s.capture(&incident)?);
        if b.status != Status::Done || i.status != Status::Done {
            return Ok((b, i, None));
        }
        let mut c = diff::compare(&capture(s, &b.id, &options)?, &capture(s, &i.id, &options)?);
        c.sort_endpoints(sort);
        Ok((b, i, Some(c)))
    })
    .await?;
    let Some(comparison) = comparison else {
        let pending = if base.status != Status::Done {
            &base
        } else {
            &incident
        };
        return Err(Error::Conflict(format!(
            "capture {} is {}: compare it once its analysis is done",
            pending.name, pending.status
        )));
    };
    Ok(Compared {
        base,
        incident,
        comparison,
    })
}

/// `GET /api/compare?base=ID&incident=ID[&sort=…]`: the comparison as JSON.
pub async fn api_compare(
    State(state): State<AppState>,
    viewer: Viewer,
    Checked(p): Checked<CompareParams>,
) -> Result<Json<Comparison>, Error> {
    Ok(Json(compared(&state, &viewer, &p).await?.comparison))
}

/// One capture of the comparison, as the page names it.
pub struct Named {
    pub id: String,
    pub name: String,
}

impl From<&CaptureMeta> for Named {
    fn from(m: &CaptureMeta) -> Self {
        Named {
            id: m.id.to_string(),
            name: m.name.clone(),
        }
    }
}

/// A row of a list; an endpoint's links to its exchanges in the incident
/// (the baseline, for a vanished one).
pub struct LinkedRow {
    pub href: Option<String>,
    pub cells: Vec<String>,
}

/// One list of the page.
pub struct ListView {
    pub title: &'static str,
    /// Its anchor; the table's id is `ID-table`.
    pub id: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<LinkedRow>,
    /// Whether the sort links go above it.
    pub sortable: bool,
}

impl ListView {
    fn new(id: &'static str, t: Table, links: Vec<Option<String>>) -> ListView {
        let links = links.into_iter().chain(std::iter::repeat(None));
        ListView {
            title: t.title,
            id,
            headers: t.headers,
            rows: t
                .rows
                .into_iter()
                .zip(links)
                .map(|(cells, href)| LinkedRow { href, cells })
                .collect(),
            sortable: id == "endpoints",
        }
    }
}

/// A sort link above the endpoint table.
pub struct SortLink {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "compare.html")]
pub struct ComparePage {
    base: Named,
    incident: Named,
    top: Vec<diff::TopChange>,
    lists: Vec<ListView>,
    sorts: Vec<SortLink>,
    json: String,
    /// The renames and splits of the address, in words (empty: none).
    edits: String,
}

/// The HTTP view of an endpoint's exchanges in `capture`.
fn exchanges_href(capture: &str, e: &EndpointChange, keep: &Query) -> String {
    http_href(
        &format!("/c/{capture}"),
        e.key.method.as_deref(),
        e.key.host.as_deref(),
        &e.key.template,
        keep,
    )
}

/// `GET /compare?base=ID&incident=ID[&sort=…]`: the comparison page.
pub async fn compare_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Checked(p): Checked<CompareParams>,
) -> PageResult<ComparePage> {
    let Compared {
        base,
        incident,
        comparison: c,
    } = compared(&state, &viewer, &p).await?;
    let mut q = Query::default();
    q.push("base", base.id.to_string());
    q.push("incident", incident.id.to_string());
    let mut keep = Query::default();
    for (k, v) in &p.typed {
        q.push(k, v.as_str());
        keep.push(k, v.as_str());
    }
    let sorts = EndpointOrder::ALL
        .into_iter()
        .map(|o| SortLink {
            label: o.label(),
            href: if o == EndpointOrder::default() {
                q.href("/compare", &[])
            } else {
                q.href("/compare", &[("sort", o.name())])
            },
            active: o == p.sort,
        })
        .collect();
    let links = c
        .endpoints
        .iter()
        .map(|e| {
            let on = match e.presence {
                diff::Presence::Vanished => &base.id,
                _ => &incident.id,
            };
            Some(exchanges_href(&on.to_string(), e, &keep))
        })
        .collect();
    let [endpoints, statuses, failures, network] = text::tables(&c);
    let lists = vec![
        ListView::new("endpoints", endpoints, links),
        ListView::new("statuses", statuses, Vec::new()),
        ListView::new("failures", failures, Vec::new()),
        ListView::new("network", network, Vec::new()),
    ];
    let mut json = q.clone();
    if p.sort != EndpointOrder::default() {
        json.push("sort", p.sort.name());
    }
    Ok(ComparePage {
        base: Named::from(&base),
        incident: Named::from(&incident),
        top: c.top,
        lists,
        sorts,
        json: json.href("/api/compare", &[]),
        edits: p
            .typed
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("; "),
    })
}
