//! `/admin/audit`: the latest entries of the audit log, for admins.

use askama::Template;
use askama_web::WebTemplate;

use super::Viewer;
use crate::store::auth::AuditEntry;
use crate::web::extract::{Checked, NoParams};
use crate::web::fmt::{self, Human};
use crate::web::kit::PageResult;
use crate::web::{off_thread, Error};

/// Entries shown.
const SHOWN: u32 = 500;

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    entries: Vec<(Human, AuditEntry)>,
}

/// `GET /admin/audit`: 404 for anyone but an admin (its existence is
/// not disclosed either).
pub async fn page(viewer: Viewer, _: Checked<NoParams>) -> PageResult<AuditPage> {
    if !viewer.is_admin() {
        return Err(Error::NotFound("page".into()).into());
    }
    let entries = off_thread(viewer.auth.store.clone(), |s| {
        s.audit_log(SHOWN)
            .map_err(|e| Error::Internal(e.to_string()))
    })
    .await?;
    Ok(AuditPage {
        entries: entries
            .into_iter()
            .map(|e| (fmt::when(&Some(e.at)), e))
            .collect(),
    })
}
