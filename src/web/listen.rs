//! The accept loop (README, "The web app", Limits): HTTP/1 connections
//! served by hyper with a header read timeout (which also closes idle
//! keep-alive connections: hyper starts the clock whenever a connection
//! waits for a request), at most `max_connections` at once and
//! `max_per_client` from one address, and a graceful shutdown that stops
//! accepting and lets the requests in flight (uploads) finish, for at most
//! `shutdown_grace`. A connection whose last request came with a body
//! ends with a lingering close ([`linger`]), so an answer given before
//! the body was read reaches a client still sending it; one closed idle
//! (its keep-alive timed out, or at shutdown between requests) has
//! nothing unread and is closed at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
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
    /// Connections served at once from one IP address; more are answered
    /// 429 and closed.
    pub max_per_client: usize,
    /// At shutdown, the most time requests in flight get to finish.
    pub shutdown_grace: Duration,
}

/// Open connections per client address.
#[derive(Default)]
struct PerClient {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; uncounted when dropped.
struct ClientSlot {
    of: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    /// Counts a connection from `ip`, unless it already has `max` open.
    fn admit(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let mut open = crate::store::lock(&self.open);
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            of: self.clone(),
            ip,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = crate::store::lock(&self.of.open);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Most time spent telling a refused client why, before closing.
const REFUSAL_WRITE: Duration = Duration::from_secs(1);
/// Most time a closing connection reads (and drops) what its client
/// still sends ([`linger`]).
const LINGER: Duration = Duration::from_secs(2);
/// Most bytes read meanwhile.
const LINGER_DRAIN: usize = 1 << 20;

/// Closes a connection so that its client can read the answer: our side
/// is shut down (the client sees the end), then what the client still
/// sends (the rest of a body answered early: 413, 507, 429) is read and
/// dropped until it closes too, for at most [`LINGER`] and
/// [`LINGER_DRAIN`] bytes. Closing with bytes unread would reset the
/// connection, and a client still writing its body would see the reset
/// instead of the answer (nginx's lingering close).
async fn linger(mut stream: TcpStream) {
    let drain = async {
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut left = LINGER_DRAIN;
        while left > 0 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n);
        }
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// Answers 429 on a connection over its client's cap, and closes it.
async fn refuse_over_cap(mut stream: TcpStream, max: usize) {
    let body = format!(
        "{{\"error\":\"too many connections from this address: at most {max} at once \
         (--max-connections-per-client)\"}}"
    );
    let answer = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // One bound for the whole refusal, as it holds no connection slot.
    let _ = tokio::time::timeout(REFUSAL_WRITE, async {
        if stream.write_all(answer.as_bytes()).await.is_ok() {
            linger(stream).await;
        }
    })
    .await;
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for
/// the open connections to finish their requests, at most
/// `limits.shutdown_grace`.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = Arc::new(PerClient::default());
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
        let Some(client_slot) = per_client.admit(peer.ip(), limits.max_per_client) else {
            drop(slot);
            tracing::debug!("{}: over --max-connections-per-client, refused", peer.ip());
            tokio::spawn(refuse_over_cap(stream, limits.max_per_client));
            continue;
        };
        // The peer's address, for the auth guard (trusted proxies, rate limits).
        let app = TowerToHyperService::new(AddExtension::new(app.clone(), ConnectInfo(peer)));
        // Whether the last request came with a body: one the answer may
        // have left unread (413, 507), for `linger` to drain.
        let with_body = Arc::new(AtomicBool::new(false));
        let saw_body = with_body.clone();
        // Boxed, so that the connection can be polled without hyper's
        // shutdown of the socket and handed back for `linger`.
        let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
            let has_body = !hyper::body::Body::is_end_stream(req.body());
            saw_body.store(has_body, Ordering::Relaxed);
            Box::pin(hyper::service::Service::call(&app, req))
        });
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let _slots = (slot, client_slot);
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let mut conn = builder.serve_connection(TokioIo::new(stream), service);
            let ended = tokio::select! {
                r = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => Some(r),
                _ = closed.wait_for(|c| *c) => None,
            };
            let ended = match ended {
                Some(r) => r,
                None => {
                    std::pin::Pin::new(&mut conn).graceful_shutdown();
                    std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)).await
                }
            };
            // Timed out waiting for a request's headers: the body before
            // them, if any, was read.
            let idle = ended.as_ref().is_err_and(hyper::Error::is_timeout);
            let mut stream = conn.into_parts().io.into_inner();
            if with_body.load(Ordering::Relaxed) && !idle {
                linger(stream).await;
            } else {
                let _ = stream.shutdown().await;
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    // Every connection holds a slot until it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let finished = tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all)).await;
    if finished.is_err() {
        let open = limits.max_connections - slots.available_permits();
        tracing::warn!(
            "{open} connections still open {:.0} s after shutdown began: closed",
            limits.shutdown_grace.as_secs_f64()
        );
    }
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
