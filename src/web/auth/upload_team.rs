//! The team a new upload is for (README, "Teams"): `team=` in the query,
//! checked by the guard before the body is read, or the multipart field
//! `team` of the upload form, checked by the upload's receiver as it
//! reads it. Either way the choice lands in the request's [`UploadTeam`],
//! which the guard reads when it records the new upload's owner.

use std::sync::{Arc, Mutex};

use axum::extract::Request;

use super::Viewer;
use crate::store::lock;
use crate::web::Error;

/// The team chosen for the upload a request makes; shared between the
/// guard (which records it) and the receiver of the body.
#[derive(Clone, Default)]
pub(crate) struct UploadTeam(Arc<Mutex<Option<String>>>);

impl UploadTeam {
    /// Records `team` as the choice if `viewer` may give an upload to it;
    /// an empty `team` chooses none.
    pub(crate) async fn choose(&self, viewer: &Viewer, team: &str) -> Result<(), Error> {
        *lock(&self.0) = checked_team(viewer, team).await?;
        Ok(())
    }

    pub(crate) fn chosen(&self) -> Option<String> {
        lock(&self.0).clone()
    }
}

/// `team` if `viewer` may give an upload to it (None for an empty
/// `team`: no team). A user chooses among their teams, an admin among all.
pub(crate) async fn checked_team(viewer: &Viewer, team: &str) -> Result<Option<String>, Error> {
    let team = team.trim();
    if team.is_empty() {
        return Ok(None);
    }
    if !viewer.teams_to_pick().await?.iter().any(|t| t == team) {
        // Which teams exist is not disclosed either.
        return Err(Error::BadRequest(format!(
            "team={team}: you are not in a team of that name"
        )));
    }
    Ok(Some(team.to_string()))
}

/// What the receiver of an upload's multipart body needs to take its
/// `team` field: who is uploading and where the choice goes.
pub(crate) struct TeamField {
    viewer: Viewer,
    slot: UploadTeam,
}

impl TeamField {
    /// The multipart field that names the team.
    pub(crate) const NAME: &'static str = "team";
    /// Longest value read (team names are at most 64 bytes).
    pub(crate) const MAX_LEN: u64 = 256;

    /// The team field of upload request `req` (None for a request that
    /// did not pass the guard's upload path, which records no owner).
    pub(crate) fn of(req: &Request) -> Option<TeamField> {
        Some(TeamField {
            viewer: req.extensions().get::<Viewer>()?.clone(),
            slot: req.extensions().get::<UploadTeam>()?.clone(),
        })
    }

    /// Takes the field's value: a team the uploader may choose, or empty.
    pub(crate) async fn choose(&self, value: &[u8]) -> Result<(), Error> {
        let team = std::str::from_utf8(value)
            .map_err(|_| Error::BadRequest("the team field is not UTF-8 text".into()))?;
        self.slot.choose(&self.viewer, team).await
    }
}
