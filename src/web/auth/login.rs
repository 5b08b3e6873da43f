//! Signing in and out: the login page, the password check (rate-limited
//! per client and per user, audited either way) and the session cookie.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Form;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::guard::{cookie, SESSION_COOKIE};
use super::{Viewer, SESSION_TTL};
use crate::web::extract::{Checked, FromQuery};
use crate::web::params::{ParamError, Params};
use crate::web::{off_thread, Error};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    next: String,
    name: String,
    error: String,
}

/// `?next=`: where to go once signed in.
pub struct Next(String);

impl FromQuery for Next {
    const NAMES: &'static [&'static str] = &["next"];
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Next(p.get("next").unwrap_or("/").to_string()))
    }
}

/// `next` if it is a path of this server, else `/` (never another site).
fn local_path(next: &str) -> &str {
    let ok = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if ok {
        next
    } else {
        "/"
    }
}

/// `GET /login`.
pub async fn page(Checked(Next(next)): Checked<Next>) -> LoginPage {
    LoginPage {
        next: local_path(&next).to_string(),
        name: String::new(),
        error: String::new(),
    }
}

#[derive(Deserialize)]
pub struct Credentials {
    name: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: on to `next` with a session cookie, or the page again
/// with the reason.
pub async fn submit(viewer: Viewer, headers: HeaderMap, Form(c): Form<Credentials>) -> Response {
    let auth = viewer.auth.clone();
    let client = viewer.client;
    let again = |status: StatusCode, error: String| {
        (
            status,
            LoginPage {
                next: local_path(&c.next).to_string(),
                name: c.name.clone(),
                error,
            },
        )
            .into_response()
    };
    if let Err(wait) = auth.limiter.check(client, &c.name) {
        auth.audit(
            "login-refused",
            Some(c.name.clone()),
            client,
            "too many failed sign-ins".into(),
        )
        .await;
        let minutes = wait.as_secs().div_ceil(60);
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed sign-ins: try again in {minutes} min."),
        );
    }
    let (name, password) = (c.name.clone(), c.password.clone());
    let checked = off_thread(auth.store.clone(), move |s| {
        let user = s
            .check_password(&name, &password)
            .map_err(|e| Error::Internal(e.to_string()))?;
        user.map(|u| {
            s.create_session(&u.name, SESSION_TTL)
                .map_err(|e| Error::Internal(e.to_string()))
        })
        .transpose()
    })
    .await;
    let secret = match checked {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            auth.limiter.failed(client, &c.name);
            auth.audit("login-failed", Some(c.name.clone()), client, String::new())
                .await;
            return again(StatusCode::UNAUTHORIZED, "Wrong name or password.".into());
        }
        Err(e) => return crate::web::kit::PageError::from(e).into_response(),
    };
    auth.limiter.succeeded(&c.name);
    auth.audit("login", Some(c.name.clone()), client, String::new())
        .await;
    let secure = if behind_tls(&viewer, &headers) {
        "; Secure"
    } else {
        ""
    };
    let set = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    );
    let mut resp = Redirect::to(local_path(&c.next)).into_response();
    if let Ok(v) = HeaderValue::from_str(&set) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// Whether the browser reached us over TLS: a trusted proxy says so.
pub(crate) fn behind_tls(viewer: &Viewer, headers: &HeaderMap) -> bool {
    viewer.auth.is_trusted_proxy(viewer.client)
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// `POST /logout`: ends the session; on to the login page.
pub async fn logout(viewer: Viewer, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE).map(str::to_string) {
        let ended = off_thread(viewer.auth.store.clone(), move |s| {
            s.end_session(&secret)
                .map_err(|e| Error::Internal(e.to_string()))
        })
        .await;
        if let Err(e) = ended {
            return crate::web::kit::PageError::from(e).into_response();
        }
    }
    let mut resp = Redirect::to("/login").into_response();
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod test {
    use super::local_path;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(local_path("/c/abc?x=1"), "/c/abc?x=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
    }
}
