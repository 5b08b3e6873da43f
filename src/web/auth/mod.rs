//! Who may do what on the server (README, "Accounts and sharing").
//!
//! The mode comes from where the server listens ([`choose_mode`]): on a
//! loopback address with no accounts it stays open for the one local
//! user; anywhere else it needs accounts, a trusted reverse proxy, or an
//! explicit `--open`. One middleware ([`guard`]) checks every request
//! (Host, credentials, a token's scope, cross-site writes, CSRF), puts the
//! [`Viewer`] in the request, lets only an upload's owner (or an admin)
//! change, delete or share it, records owners and teams, and audits; the
//! extractor of an upload's ID asks the viewer whether it may see that
//! upload ([`Viewer::access`] is the one place that decides).

mod audit_page;
mod csrf;
mod guard;
mod inject;
mod limiter;
mod lists;
mod login;
mod origin;
mod team_page;
mod upload_team;
mod viewer;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderName;
use axum::routing::{get, post};
use axum::Router;
use ipnet::IpNet;

pub(crate) use guard::guard;
pub(crate) use lists::{visible_captures, visible_straces};
pub(crate) use login::behind_tls;
pub(crate) use upload_team::TeamField;
pub use viewer::Viewer;

use super::pipeline::capture::Analysis;
use super::pipeline::strace::Parse;
use super::AppState;
use crate::store::auth::AuthStore;
use limiter::Limiter;

/// How the server is told to authenticate (`tracedeck serve` options).
#[derive(Clone, Debug, Default)]
pub struct AuthConfig {
    /// `--open`: serve everyone without accounts, whatever the address.
    pub open: bool,
    /// `--auth-header`: the header a trusted proxy names the user in.
    pub auth_header: Option<HeaderName>,
    /// `--trusted-proxy`: the only peers whose `auth_header` and
    /// `X-Forwarded-Proto` count.
    pub trusted_proxies: Vec<IpNet>,
    /// `--public-host`: host names the server answers to besides its
    /// address and the localhost names.
    pub public_hosts: Vec<String>,
    /// `--share-max-days`: the longest a share link may live (None: 30).
    pub share_max_days: Option<u32>,
}

/// Whether requests need a signed-in user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Everyone is the one local user; `banner` when that was asked for
    /// with `--open` (every page then says so).
    Open { banner: bool },
    /// Accounts (sessions, tokens) or a trusted proxy's header.
    Accounts,
}

/// How long a sign-in lasts.
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// The mode for a server listening on `addr`, or why it must not start.
pub fn choose_mode(addr: SocketAddr, config: &AuthConfig, has_users: bool) -> Result<Mode, String> {
    if config.auth_header.is_some() && config.trusted_proxies.is_empty() {
        return Err(
            "--auth-header needs --trusted-proxy: the addresses of the proxies \
                    allowed to set it"
                .into(),
        );
    }
    if has_users || config.auth_header.is_some() {
        return Ok(Mode::Accounts);
    }
    if config.open {
        return Ok(Mode::Open { banner: true });
    }
    if addr.ip().is_loopback() {
        return Ok(Mode::Open { banner: false });
    }
    Err(format!(
        "refusing to serve {addr} without authentication: anyone who can reach it would see \
         every capture. Add an account first (tracedeck user add NAME --data-dir DIR), or sign \
         users in at a reverse proxy (--auth-header X-Forwarded-Email --trusted-proxy ADDR), \
         or listen on 127.0.0.1, or pass --open to serve everyone anyway"
    ))
}

/// What the guard and the sign-in pages share.
pub struct Auth {
    pub(crate) store: Arc<AuthStore>,
    pub(crate) mode: Mode,
    pub(crate) config: AuthConfig,
    /// The address the server listens on (its Host is allowed).
    pub(crate) listen: SocketAddr,
    /// Signs CSRF tokens; new at each start.
    csrf_key: [u8; 32],
    pub(crate) limiter: Limiter,
}

impl Auth {
    pub fn new(
        store: Arc<AuthStore>,
        mode: Mode,
        config: AuthConfig,
        listen: SocketAddr,
    ) -> std::io::Result<Auth> {
        let mut csrf_key = [0u8; 32];
        getrandom::fill(&mut csrf_key).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Auth {
            store,
            mode,
            config,
            listen,
            csrf_key,
            limiter: Limiter::default(),
        })
    }

    /// Whether `peer` is a proxy whose forwarded headers count.
    pub(crate) fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        self.config
            .trusted_proxies
            .iter()
            .any(|n| n.contains(&peer))
    }

    /// Writes an audit line, logging (not failing) if it cannot.
    pub(crate) async fn audit(
        self: &Arc<Self>,
        event: &'static str,
        user: Option<String>,
        client: IpAddr,
        detail: String,
    ) {
        let store = self.store.clone();
        let written = tokio::task::spawn_blocking(move || {
            store.audit(event, user.as_deref(), &client.to_string(), &detail)
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("audit log: {e}"),
            Err(e) => tracing::error!("audit log: {e}"),
        }
    }
}

/// The sign-in routes and the audit page.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/admin/audit", get(audit_page::page))
        .route(
            "/c/{id}/team",
            get(team_page::page::<Analysis>).post(team_page::form_set::<Analysis>),
        )
        .route(
            "/s/{id}/team",
            get(team_page::page::<Parse>).post(team_page::form_set::<Parse>),
        )
        .route(
            "/api/captures/{id}/team",
            get(team_page::api_get::<Analysis>).post(team_page::api_set::<Analysis>),
        )
        .route(
            "/api/straces/{id}/team",
            get(team_page::api_get::<Parse>).post(team_page::api_set::<Parse>),
        )
}

#[cfg(test)]
mod test {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_alone_stays_open() {
        let none = AuthConfig::default();
        assert_eq!(
            choose_mode(at("127.0.0.1:8080"), &none, false),
            Ok(Mode::Open { banner: false })
        );
        assert_eq!(
            choose_mode(at("[::1]:8080"), &none, false),
            Ok(Mode::Open { banner: false })
        );
        let refused = choose_mode(at("0.0.0.0:8080"), &none, false).unwrap_err();
        assert!(refused.contains("tracedeck user add"), "{refused}");
        assert!(choose_mode(at("192.168.1.2:80"), &none, false).is_err());
    }

    #[test]
    fn accounts_or_open_elsewhere() {
        let none = AuthConfig::default();
        assert_eq!(
            choose_mode(at("0.0.0.0:8080"), &none, true),
            Ok(Mode::Accounts)
        );
        assert_eq!(
            choose_mode(at("127.0.0.1:8080"), &none, true),
            Ok(Mode::Accounts)
        );
        let open = AuthConfig {
            open: true,
            ..AuthConfig::default()
        };
        assert_eq!(
            choose_mode(at("0.0.0.0:8080"), &open, false),
            Ok(Mode::Open { banner: true })
        );
        let proxy = AuthConfig {
            auth_header: Some(HeaderName::from_static("x-forwarded-email")),
            ..AuthConfig::default()
        };
        assert!(choose_mode(at("0.0.0.0:8080"), &proxy, false).is_err());
        let proxy = AuthConfig {
            trusted_proxies: vec!["10.0.0.1/32".parse().unwrap()],
            ..proxy
        };
        assert_eq!(
            choose_mode(at("0.0.0.0:8080"), &proxy, false),
            Ok(Mode::Accounts)
        );
    }
}
