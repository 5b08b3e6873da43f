//! The accept loop (README, "The web app", Limits): HTTP/1 connections
//! served by hyper with a header read timeout (which also closes idle
//! keep-alive connections: hyper starts the clock whenever a connection
//! waits for a request), at most `max_connections` at once, and a graceful
//! shutdown that waits for the connections in flight.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower_http::add_extension::AddExtension;

/// How long to wait before accepting again after accept failed (out of
/// file descriptors, most likely): the connections in flight free some.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Linux's default ceiling on open files per process (`fs.nr_open`).
const NR_OPEN: libc::rlim_t = 1 << 20;

/// The limits on connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// Time a client has to send a request's headers; also the most a
    /// keep-alive connection stays idle.
    pub header_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for
/// the open connections to finish their requests.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closed) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("accept error: {e}");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // The peer's address, for the auth guard (trusted proxies, rate limits).
        let service = TowerToHyperService::new(AddExtension::new(app.clone(), ConnectInfo(peer)));
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = closed.wait_for(|c| *c) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = closing.send(true);
    // Every connection holds a slot until it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// Raises the soft limit on open files to the hard limit, so that
/// connections, staging files and databases do not run out of file
/// descriptors; returns the soft limit in force afterwards, or the one
/// still in force and why it could not be raised.
pub fn raise_open_file_limit() -> Result<u64, (u64, String)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        let why = format!(
            "reading the open-file limit: {}",
            std::io::Error::last_os_error()
        );
        // The usual default soft limit.
        return Err((1024, why));
    }
    // An unlimited hard limit still stops at the kernel's nr_open.
    let target = lim.rlim_max.min(NR_OPEN);
    if lim.rlim_cur >= target {
        return Ok(lim.rlim_cur);
    }
    let was = lim.rlim_cur;
    lim.rlim_cur = target;
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        let why = format!(
            "raising the open-file limit from {was} to {target}: {}",
            std::io::Error::last_os_error()
        );
        return Err((was, why));
    }
    Ok(lim.rlim_cur)
}
