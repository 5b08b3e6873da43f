//! The lists of uploads a viewer may see: all of them for the local user
//! of an open server and for admins, their own and their teams' for
//! everyone else.

use std::sync::Arc;

use super::Viewer;
use crate::store::auth::AuthStore;
use crate::store::id::{Capture, Strace};
use crate::store::{self, CaptureMeta, IdKind, Page, StraceMeta};
use crate::web::{off_thread, AppState, Error};

/// A page of `K` uploads `viewer` may see, newest first: `all` lists
/// every one, `one` reads one by ID.
async fn visible<K, M, All, One>(
    viewer: &Viewer,
    limit: u32,
    offset: u64,
    all: All,
    one: One,
) -> Result<Page<M>, Error>
where
    K: IdKind,
    M: Send + 'static,
    All: FnOnce(u32, u64) -> store::Result<Page<M>> + Send + 'static,
    One: Fn(&str) -> store::Result<M> + Send + 'static,
{
    if viewer.sees_all() {
        return off_thread(Arc::new(()), move |_| {
            all(limit, offset).map_err(Error::from)
        })
        .await;
    }
    let Some(user) = viewer.name().map(str::to_string) else {
        return Ok(Page {
            total: 0,
            items: Vec::new(),
        });
    };
    off_thread(viewer.auth.store.clone(), move |auth: &AuthStore| {
        let (total, ids) = auth
            .visible_ids(K::NOUN, &user, limit, offset)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let mut items = Vec::with_capacity(ids.len());
        for id in &ids {
            match one(id) {
                Ok(m) => items.push(m),
                // Deleted meanwhile.
                Err(store::Error::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Page { total, items })
    })
    .await
}

/// The captures `viewer` may see.
pub(crate) async fn visible_captures(
    state: &AppState,
    viewer: &Viewer,
    limit: u32,
    offset: u64,
) -> Result<Page<CaptureMeta>, Error> {
    let (all, one) = (state.store.clone(), state.store.clone());
    visible::<Capture, _, _, _>(
        viewer,
        limit,
        offset,
        move |l, o| all.captures(l, o),
        move |id| {
            let id = id
                .parse()
                .map_err(|_| store::Error::NotFound(format!("capture {id}")))?;
            one.capture(&id)
        },
    )
    .await
}

/// The strace uploads `viewer` may see.
pub(crate) async fn visible_straces(
    state: &AppState,
    viewer: &Viewer,
    limit: u32,
    offset: u64,
) -> Result<Page<StraceMeta>, Error> {
    let (all, one) = (state.strace_store.clone(), state.strace_store.clone());
    visible::<Strace, _, _, _>(
        viewer,
        limit,
        offset,
        move |l, o| all.straces(l, o),
        move |id| {
            let id = id
                .parse()
                .map_err(|_| store::Error::NotFound(format!("strace log {id}")))?;
            one.strace(&id)
        },
    )
    .await
}
