//! The web application: the JSON API (README, "The web app"), the HTML pages, and
//! the background analysis workers behind them.
//!
//! [`router`] builds every route over an [`AppState`]; [`Server`] binds it
//! to an address. Handlers extract (IDs, checked query strings, the
//! filtered view: `extract.rs`), make one store call through
//! `spawn_blocking`, and answer; all storage is behind [`crate::store::Store`].
//! Uploads of either kind go through one [`Pipeline`].

mod api;
pub mod auth;
mod deadline;
mod error;
mod extract;
pub mod fmt;
mod follow;
pub mod keylog;
mod kit;
mod listen;
mod lists;
mod pages;
pub mod params;
pub mod pipeline;
mod reanalysis;
mod share;
pub mod strace;
pub mod svg;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::Error;
pub use listen::{raise_open_file_limit, ConnLimits};
pub use pipeline::{Pipeline, Progress};

use pipeline::{capture::Analysis, strace::Parse};

use crate::store::auth::AuthStore;
use crate::store::{self, CaptureId, SqliteStore, SqliteStraces, Store, StraceStore};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Capture uploads and their analysis threads.
    pub captures: Arc<Pipeline<Analysis>>,
    pub strace_store: Arc<dyn StraceStore>,
    /// strace uploads and their parser threads.
    pub straces: Arc<Pipeline<Parse>>,
    /// Largest upload accepted, bytes.
    pub max_upload: u64,
    /// The slowest an upload body may arrive.
    pub upload_pace: pipeline::Pace,
    /// Accounts, sessions and owners; the guard's configuration.
    pub auth: Arc<auth::Auth>,
    /// The captures' TLS key logs, kept apart from them.
    pub keylogs: Arc<keylog::KeyLogs>,
}

/// How to run the server.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub max_upload: u64,
    /// The slowest an upload body may arrive.
    pub upload_pace: pipeline::Pace,
    /// Most bytes a gzip upload (capture, or strace logs together) may
    /// inflate to.
    pub max_capture: u64,
    /// Most result rows (conversations, HTTP exchanges and DNS lookups
    /// together) one capture's analysis stores.
    pub max_results: u64,
    /// Analyses that may run at once.
    pub workers: usize,
    pub conn: ConnLimits,
    pub auth: auth::AuthConfig,
}

/// A listening socket on `addr` whose queue of connections not yet
/// accepted holds every connection the server may serve at once: with
/// the standard 128, a burst of 200 clients connecting together (a team
/// opening a shared link) lost a third of its SYNs, each client then
/// waiting a second for its retransmission (issue 19's load bench: p99
/// 1.2 s, all in the first second). The kernel caps it at
/// `net.core.somaxconn` (4096 by default).
fn bind_listener(
    addr: SocketAddr,
    limits: &ConnLimits,
) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let backlog = u32::try_from(limits.max_connections.max(1024)).unwrap_or(u32::MAX);
    socket.listen(backlog)
}

/// Runs `f` over `on` (a store) on the blocking pool: every store call
/// of a handler goes through here.
pub(crate) async fn off_thread<S, T, F>(on: Arc<S>, f: F) -> Result<T, Error>
where
    S: ?Sized + Send + Sync + 'static,
    T: Send + 'static,
    F: FnOnce(&S) -> Result<T, Error> + Send + 'static,
{
    tokio::task::spawn_blocking(move || f(&on))
        .await
        .map_err(|e| Error::Internal(format!("blocking task: {e}")))?
}

/// Runs a capture store call on the blocking pool, stopped at the
/// request's deadline or when its client goes away ([`deadline`]).
pub(crate) async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> store::Result<T> + Send + 'static,
{
    deadline::bounded(state.store.clone(), f).await
}

/// Which results a request reads: the capture's own, or those of its
/// analysis with a pcap-filter expression.
pub(crate) enum View {
    Ready(CaptureId),
    /// The filtered analysis is queued or running.
    Pending(Box<api::CaptureStatus>),
    /// The filtered analysis failed, with the reason.
    Failed(String),
    /// No one has asked for this filtered analysis yet: a POST computes it
    /// (README, "Filtered views"); a GET never starts one.
    NotComputed,
}

/// Resolves `filter` for capture `id`: what is stored for it, never
/// starting an analysis.
pub(crate) async fn view(
    state: &AppState,
    id: CaptureId,
    filter: Option<String>,
) -> Result<View, Error> {
    let Some(f) = filter else {
        return Ok(View::Ready(id));
    };
    let Some(meta) = blocking(state, move |s| s.find_filtered(&id, &f)).await? else {
        return Ok(View::NotComputed);
    };
    Ok(match meta.status {
        store::Status::Done => View::Ready(meta.id),
        store::Status::Failed => View::Failed(
            meta.error
                .clone()
                .unwrap_or_else(|| "the filtered analysis failed".into()),
        ),
        _ => View::Pending(Box::new(api::with_progress(state, meta))),
    })
}

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/captures",
            post(pipeline::api_upload::<Analysis>)
                .layer(DefaultBodyLimit::disable())
                .get(api::list),
        )
        .route(
            "/captures/{id}",
            get(api::status).delete(pipeline::api_delete::<Analysis>),
        )
        .route("/captures/{id}/conversations", get(api::conversations))
        .route("/captures/{id}/conversations/{n}", get(api::conversation))
        .route(
            "/captures/{id}/conversations/{n}/packets",
            get(api::packets),
        )
        .route("/captures/{id}/conversations/{n}/stream", get(api::stream))
        .route("/captures/{id}/conversations/{n}/pcap", get(api::pcap))
        .route("/captures/{id}/http", get(api::http))
        .route("/captures/{id}/dns", get(api::dns))
        .route("/captures/{id}/analyses", post(reanalysis::compute))
        .route(
            "/captures/{id}/shares",
            post(share::api_create::<store::id::Capture>)
                .get(share::api_list::<store::id::Capture>),
        )
        .route("/captures/{id}/endpoints", get(pages::endpoints_api))
        .route("/compare", get(pages::api_compare))
        .fallback(api::not_found);
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    Router::new()
        .route("/", get(pages::home))
        .route(
            "/upload",
            post(pipeline::form_upload::<Analysis>).layer(DefaultBodyLimit::disable()),
        )
        .route("/compare", get(pages::compare_page))
        .route("/c/{id}", get(pages::capture))
        .route("/c/{id}/conversations", get(lists::conversations))
        .route("/c/{id}/conversations/{n}", get(pages::conversation))
        .route("/c/{id}/http", get(lists::http))
        .route("/c/{id}/dns", get(lists::dns))
        .route("/c/{id}/analyses", post(reanalysis::form_compute))
        .route("/c/{id}/endpoints", get(pages::endpoints))
        .route(
            "/c/{id}/delete",
            get(pages::delete_confirm).post(pipeline::form_delete::<Analysis>),
        )
        .route("/static/{file}", get(pages::static_file))
        .merge(strace::router())
        .merge(keylog::router())
        .merge(share::router())
        .nest("/api", api)
        .merge(auth::router())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .layer(header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        // Capture links must not leak to other sites.
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(header(header::CACHE_CONTROL, "no-store"))
        .with_state(state)
}

/// A bound, not yet serving, server.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
    conn: ConnLimits,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory {dir}: {source}")]
    Store { dir: PathBuf, source: store::Error },
    /// The address is reachable from other machines and no way to sign
    /// in is set up.
    #[error("{0}")]
    Unprotected(String),
    #[error("accounts in {dir}: {source}")]
    Accounts {
        dir: PathBuf,
        source: store::auth::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl Server {
    /// Opens the data directory, re-queues interrupted analyses and
    /// parses, starts the workers and binds the address.
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        let dir = config.data_dir.clone();
        let accounts = tokio::task::spawn_blocking(move || -> store::auth::Result<_> {
            let s = AuthStore::open(&dir)?;
            let has_users = s.has_users()?;
            Ok((s, has_users))
        })
        .await
        .map_err(|e| StartError::Store {
            dir: config.data_dir.clone(),
            source: store::Error::Corrupt(e.to_string()),
        })?;
        let (accounts, has_users) = accounts.map_err(|source| StartError::Accounts {
            dir: config.data_dir.clone(),
            source,
        })?;
        let mode = auth::choose_mode(config.addr, &config.auth, has_users)
            .map_err(StartError::Unprotected)?;
        let (dir, workers, max_capture, max_results) = (
            config.data_dir.clone(),
            config.workers,
            config.max_capture,
            config.max_results,
        );
        let opened = tokio::task::spawn_blocking(move || -> store::Result<_> {
            let sqlite = SqliteStore::open(&dir)?;
            sqlite.set_max_capture(max_capture);
            sqlite.set_max_results(max_results);
            let store: Arc<dyn Store> = Arc::new(sqlite);
            let strace_store: Arc<dyn StraceStore> = Arc::new(SqliteStraces::open(&dir)?);
            let keylogs = Arc::new(keylog::KeyLogs::open(&dir)?);
            let limits = pipeline::ReworkLimits::default();
            let captures = Pipeline::start(
                Analysis::new(store.clone(), keylogs.clone()),
                workers,
                limits,
            )?;
            let straces = Pipeline::start(
                Parse::new(strace_store.clone(), max_capture),
                workers,
                limits,
            )?;
            Ok((store, captures, strace_store, straces, keylogs))
        })
        .await
        .map_err(|e| StartError::Store {
            dir: config.data_dir.clone(),
            source: store::Error::Corrupt(e.to_string()),
        })?;
        let (store, captures, strace_store, straces, keylogs) =
            opened.map_err(|source| StartError::Store {
                dir: config.data_dir.clone(),
                source,
            })?;
        let listener =
            bind_listener(config.addr, &config.conn).map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        let listen = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
        let auth = auth::Auth::new(Arc::new(accounts), mode, config.auth.clone(), listen).map_err(
            |source| StartError::Bind {
                addr: config.addr,
                source,
            },
        )?;
        Ok(Server {
            listener,
            state: AppState {
                store,
                captures,
                strace_store,
                straces,
                max_upload: config.max_upload,
                upload_pace: config.upload_pace,
                auth: Arc::new(auth),
                keylogs,
            },
            conn: config.conn,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        listen::serve(self.listener, router(self.state), self.conn, shutdown).await
    }
}

#[cfg(test)]
mod listener_test {
    use super::*;

    /// 300 clients connecting while nothing is accepted yet all complete
    /// their handshake (with the standard backlog of 128, the rest wait a
    /// second for a SYN retransmission).
    #[tokio::test]
    async fn a_burst_of_connections_waits_in_the_queue_not_for_a_retransmission() {
        let limits = ConnLimits {
            header_timeout: std::time::Duration::from_secs(1),
            max_connections: 512,
            max_per_client: 64,
            shutdown_grace: std::time::Duration::from_secs(1),
        };
        let listener = bind_listener("127.0.0.1:0".parse().unwrap(), &limits).unwrap();
        let addr = listener.local_addr().unwrap();
        let started = std::time::Instant::now();
        let connects: Vec<_> = (0..300)
            .map(|_| tokio::spawn(tokio::net::TcpStream::connect(addr)))
            .collect();
        let mut streams = Vec::new();
        for c in connects {
            streams.push(c.await.unwrap().unwrap());
        }
        assert!(
            started.elapsed() < std::time::Duration::from_millis(900),
            "{:?} for 300 connections",
            started.elapsed()
        );
        drop(listener);
    }
}
