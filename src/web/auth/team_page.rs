//! Which team an upload belongs to (README, "Teams"): `GET /c/ID/team`
//! (`/s/ID/team` for an strace log) shows it with a form that changes it,
//! `POST /api/captures/ID/team?team=NAME` is the API's twin (an empty or
//! absent `team` takes the upload out of its team). The guard lets only
//! the upload's owner or an admin reach these.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::Redirect;
use axum::{Form, Json};
use serde::Deserialize;

use super::upload_team::checked_team;
use super::Viewer;
use crate::store::auth;
use crate::store::teams::Ownership;
use crate::store::{Id, IdKind};
use crate::web::extract::{Checked, FromQuery, NoParams};
use crate::web::kit::PageResult;
use crate::web::params::{ParamError, Params};
use crate::web::pipeline::Routes;
use crate::web::{off_thread, Error};

#[derive(Template, WebTemplate)]
#[template(path = "team.html")]
pub struct TeamPage {
    noun: &'static str,
    /// The upload's page.
    back: String,
    /// Where the form posts.
    action: String,
    ownership: Ownership,
    /// The teams the viewer may move it to.
    choices: Vec<String>,
}

/// The form's field: the team's name, empty for none.
#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    team: String,
}

/// `?team=` of the API.
pub struct TeamParam(String);

impl FromQuery for TeamParam {
    const NAMES: &'static [&'static str] = &["team"];
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(TeamParam(p.get("team").unwrap_or("").to_string()))
    }
}

fn store_error(e: auth::Error) -> Error {
    match e {
        auth::Error::NoTeam(_) => Error::BadRequest(e.to_string()),
        auth::Error::NoOwner(_) => Error::Conflict(e.to_string()),
        e => Error::Internal(e.to_string()),
    }
}

async fn ownership<K: IdKind>(viewer: &Viewer, id: &Id<K>) -> Result<Ownership, Error> {
    let id = id.to_string();
    off_thread(viewer.auth.store.clone(), move |s| {
        s.ownership(K::NOUN, &id).map_err(store_error)
    })
    .await?
    .ok_or_else(|| {
        Error::Conflict(format!(
            "this {} has no owner (it was uploaded while the server was open)",
            K::NOUN
        ))
    })
}

/// Moves upload `id` to `team` (empty: none), audited.
async fn change<K: IdKind>(viewer: &Viewer, id: &Id<K>, team: &str) -> Result<Ownership, Error> {
    let now = ownership(viewer, id).await?;
    // Keeping the current team is no change (the page offers it even to
    // an owner who has since left it).
    if now.team.as_deref().unwrap_or("") == team {
        return Ok(now);
    }
    let team = checked_team(viewer, team).await?;
    let (text, chosen) = (id.to_string(), team.clone());
    off_thread(viewer.auth.store.clone(), move |s| {
        s.set_team(K::NOUN, &text, chosen.as_deref())
            .map_err(store_error)
    })
    .await?;
    let detail = match &team {
        Some(team) => format!("{} {id} to team {team}", K::NOUN),
        None => format!("{} {id} to no team", K::NOUN),
    };
    let user = viewer.name().map(str::to_string);
    viewer
        .auth
        .audit("team-changed", user, viewer.client, detail)
        .await;
    ownership(viewer, id).await
}

/// `GET /c/ID/team`, `GET /s/ID/team`.
pub async fn page<K: Routes>(
    viewer: Viewer,
    id: Id<K::Of>,
    _: Checked<NoParams>,
) -> PageResult<TeamPage> {
    let ownership = ownership(&viewer, &id).await?;
    let mut choices = viewer.teams_to_pick().await?;
    // The current team stays listed, chosen, even for an owner who has
    // since left it.
    if let Some(team) = &ownership.team {
        if !choices.contains(team) {
            choices.insert(0, team.clone());
        }
    }
    Ok(TeamPage {
        noun: K::Of::NOUN,
        back: format!("{}/{id}", K::PAGES),
        action: format!("{}/{id}/team", K::PAGES),
        ownership,
        choices,
    })
}

/// `POST /c/ID/team`, `POST /s/ID/team`: back to the team page.
pub async fn form_set<K: Routes>(
    viewer: Viewer,
    id: Id<K::Of>,
    Form(form): Form<TeamForm>,
) -> PageResult<Redirect> {
    change(&viewer, &id, &form.team).await?;
    Ok(Redirect::to(&format!("{}/{id}/team", K::PAGES)))
}

/// `GET /api/captures/ID/team`: its owner and team.
pub async fn api_get<K: Routes>(
    viewer: Viewer,
    id: Id<K::Of>,
    _: Checked<NoParams>,
) -> Result<Json<Ownership>, Error> {
    Ok(Json(ownership(&viewer, &id).await?))
}

/// `POST /api/captures/ID/team?team=NAME`: its owner and new team.
pub async fn api_set<K: Routes>(
    viewer: Viewer,
    id: Id<K::Of>,
    Checked(TeamParam(team)): Checked<TeamParam>,
) -> Result<Json<Ownership>, Error> {
    Ok(Json(change(&viewer, &id, &team).await?))
}
