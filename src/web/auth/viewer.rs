//! The [`Viewer`]: who a request comes from, as the guard established it,
//! and what they may see.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{csrf, Auth, Mode};
use crate::store::auth::{Scope, User};
use crate::store::teams::Access;
use crate::store::{Id, IdKind};
use crate::web::{off_thread, Error};

/// How a user proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// A session cookie: its secret (the CSRF token is bound to it).
    Session(String),
    /// An API token of this scope.
    Token(Scope),
    /// A trusted reverse proxy's header.
    Proxy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Who {
    /// Nobody signed in, on a server in the open mode: sees everything.
    Local,
    /// Nobody signed in, on a server that needs accounts.
    Anonymous,
    User(User, Via),
}

/// Who a request comes from. Every request through the router has one.
#[derive(Clone)]
pub struct Viewer {
    pub(crate) who: Who,
    pub(crate) client: IpAddr,
    pub(crate) auth: Arc<Auth>,
}

impl Viewer {
    /// The signed-in user's name.
    pub fn name(&self) -> Option<&str> {
        match &self.who {
            Who::User(u, _) => Some(&u.name),
            _ => None,
        }
    }

    /// The reader of a share link's views (`web/share`), which opens only
    /// the upload its link names: sees that one without signing in.
    pub(crate) fn share_reader(auth: Arc<Auth>, client: IpAddr) -> Viewer {
        Viewer {
            who: Who::Local,
            client,
            auth,
        }
    }

    /// Sees every upload: the local user of an open server, or an admin.
    pub fn sees_all(&self) -> bool {
        match &self.who {
            Who::Local => true,
            Who::Anonymous => false,
            Who::User(u, _) => u.admin,
        }
    }

    pub(crate) fn is_admin(&self) -> bool {
        match &self.who {
            Who::User(u, Via::Token(scope)) => u.admin && *scope == Scope::Admin,
            Who::User(u, _) => u.admin,
            Who::Local => true,
            Who::Anonymous => false,
        }
    }

    /// The CSRF token forms of this viewer's pages carry.
    pub(crate) fn csrf_token(&self) -> String {
        let bound_to = match &self.who {
            Who::User(_, Via::Session(secret)) => secret.as_str(),
            Who::User(u, _) => u.name.as_str(),
            Who::Local | Who::Anonymous => "",
        };
        csrf::token(&self.auth.csrf_key, bound_to)
    }

    /// What this viewer may do with upload `id`: the one place that
    /// decides (the ID extractor asks it for reading; the guard for
    /// changing, deleting and sharing). Those who see all manage every
    /// upload; anyone else manages their own and reads their teams'; an
    /// upload with no owner (made while the server was open) is for those
    /// who see all.
    pub async fn access<K: IdKind>(&self, id: &Id<K>) -> Access {
        self.access_to(K::NOUN, id.to_string()).await
    }

    /// [`Viewer::access`] by kind and ID text.
    pub(crate) async fn access_to(&self, kind: &'static str, id: String) -> Access {
        if self.sees_all() {
            return Access::Manage;
        }
        let Some(name) = self.name().map(str::to_string) else {
            return Access::None;
        };
        let found = off_thread(self.auth.store.clone(), move |s| {
            s.access(kind, &id, &name)
                .map_err(|e| Error::Internal(e.to_string()))
        })
        .await;
        found.unwrap_or_else(|e| {
            tracing::error!("looking up who may see an upload: {e}");
            Access::None
        })
    }

    /// Whether this viewer may read upload `id` ([`Viewer::access`]).
    pub async fn may_see<K: IdKind>(&self, id: &Id<K>) -> bool {
        self.access(id).await >= Access::Read
    }

    /// The teams this viewer may give an upload to: every team for an
    /// admin, their own for a user, none for the local user of an open
    /// server (whose uploads have no owner) or anyone not signed in.
    pub(crate) async fn teams_to_pick(&self) -> Result<Vec<String>, Error> {
        let Some(name) = self.name().map(str::to_string) else {
            return Ok(Vec::new());
        };
        let all = self.sees_all();
        off_thread(self.auth.store.clone(), move |s| {
            if all {
                s.teams().map(|t| t.into_iter().map(|t| t.name).collect())
            } else {
                s.teams_of(&name)
            }
            .map_err(|e| Error::Internal(e.to_string()))
        })
        .await
    }

    /// The banner an open server started with `--open` shows.
    pub(crate) fn shows_open_banner(&self) -> bool {
        self.auth.mode == (Mode::Open { banner: true })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        // Only a request that skipped the guard has none, and none does
        // through the router.
        parts.extensions.get::<Viewer>().cloned().ok_or_else(|| {
            Error::Internal(format!(
                "{} reached a handler without the guard",
                parts.uri.path()
            ))
        })
    }
}
