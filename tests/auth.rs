//! Accounts, ownership and the protection of state changes (issue 17),
//! against the real server: two users see only their own uploads, token
//! scopes hold, bad credentials are refused and audited, sign-in is
//! rate-limited, a proxy's header counts only from a trusted address,
//! another origin cannot write, and a non-loopback address needs auth.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::serve::{fresh_dir, reply, Reply, Server};

fn sample() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/api/http-loopback.pcap"),
    )
    .unwrap()
}

fn tracedeck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Adds user `name` (password `NAME-password`) to the data directory.
pub(crate) fn add_user(data: &Path, name: &str, admin: bool) {
    let pw = data.with_extension(format!("{name}.pw"));
    std::fs::write(&pw, format!("{name}-password\n")).unwrap();
    let mut args = vec!["user", "add", name, "--password-file"];
    let pw_text = pw.to_str().unwrap().to_string();
    args.push(&pw_text);
    args.extend(["--data-dir", data.to_str().unwrap()]);
    if admin {
        args.push("--admin");
    }
    let out = tracedeck(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn create_token(data: &Path, user: &str, scope: &str) -> String {
    let out = tracedeck(&[
        "token",
        "create",
        "--user",
        user,
        "--scope",
        scope,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// One request with extra headers; `body` makes it a POST (or `method`).
pub(crate) fn send(
    s: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> Reply {
    let url = s.url(path);
    let a = agent();
    let result = match (method, body) {
        ("GET", _) => {
            let mut r = a.get(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        ("DELETE", _) => {
            let mut r = a.delete(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        (_, body) => {
            let mut r = a.post(&url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            let (ctype, bytes) = body.unwrap_or(("application/octet-stream", b""));
            r.header("Content-Type", ctype).send(bytes)
        }
    };
    reply(result)
}

/// Signs in and returns the `Cookie` header value.
pub(crate) fn sign_in(s: &Server, name: &str) -> String {
    let form = format!("name={name}&password={name}-password&next=%2F");
    let r = send(
        s,
        "POST",
        "/login",
        &[],
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let set = r
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    assert!(!set.contains("Secure"), "not behind TLS: {set}");
    set.split(';').next().unwrap().to_string()
}

/// Uploads the sample through the API with `auth` headers: the new ID.
fn upload_as(s: &Server, auth: (&str, &str)) -> String {
    let pcap = sample();
    let r = send(
        s,
        "POST",
        "/api/captures?name=mine.pcap",
        &[auth],
        Some(("application/vnd.tcpdump.pcap", &pcap)),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

fn audit_log(s: &Server, admin_cookie: &str) -> String {
    let r = send(s, "GET", "/admin/audit", &[("Cookie", admin_cookie)], None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

fn accounts_server(name: &str) -> (PathBuf, Server) {
    let data = fresh_dir(name);
    add_user(&data, "ann", false);
    add_user(&data, "bob", false);
    add_user(&data, "root", true);
    let s = Server::start(&data, &[]);
    (data, s)
}

#[test]
fn two_users_see_only_their_own_uploads() {
    let (_data, s) = accounts_server("auth-two-users");
    let ann = sign_in(&s, "ann");
    let bob = sign_in(&s, "bob");
    let id = upload_as(&s, ("Cookie", &ann));
    let strace = {
        let log = b"100 12:00:00.000001 getpid() = 100 <0.000001>\n";
        let r = send(
            &s,
            "POST",
            "/api/straces?name=app.txt",
            &[("Cookie", &ann)],
            Some(("text/plain", log)),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    };
    crate::support::wait::wait_until("the upload's analysis", Duration::from_secs(60), || {
        let r = send(
            &s,
            "GET",
            &format!("/api/captures/{id}"),
            &[("Cookie", &ann)],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["status"] == "done"
    });

    let list = send(&s, "GET", "/api/captures", &[("Cookie", &bob)], None);
    assert_eq!(list.json()["total"], 0, "{}", list.text());
    let list = send(&s, "GET", "/api/straces", &[("Cookie", &bob)], None);
    assert_eq!(list.json()["total"], 0, "{}", list.text());
    for page in ["/", "/straces"] {
        let r = send(&s, "GET", page, &[("Cookie", &bob)], None);
        assert_eq!(r.status, 200);
        assert!(!r.text().contains(&id) && !r.text().contains(&strace));
        assert!(r.text().contains("Signed in as <strong>bob</strong>"));
    }
    let ann_home = send(&s, "GET", "/", &[("Cookie", &ann)], None).text();
    assert!(ann_home.contains(&id), "the owner lists it");
    let hidden = [
        format!("/c/{id}"),
        format!("/c/{id}/conversations"),
        format!("/c/{id}/conversations/1"),
        format!("/c/{id}/http"),
        format!("/c/{id}/delete"),
        format!("/api/captures/{id}"),
        format!("/api/captures/{id}/conversations"),
        format!("/api/captures/{id}/conversations/1"),
        format!("/api/captures/{id}/conversations/1/stream"),
        format!("/api/captures/{id}/conversations/1/pcap"),
        format!("/api/captures/{id}/http"),
        format!("/api/captures/{id}?filter=port%2080"),
        format!("/s/{strace}"),
        format!("/api/straces/{strace}"),
        format!("/api/straces/{strace}/syscalls"),
    ];
    for path in &hidden {
        let r = send(&s, "GET", path, &[("Cookie", &bob)], None);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        let owner = send(&s, "GET", path, &[("Cookie", &ann)], None);
        assert_ne!(owner.status, 404, "{path} is the owner's");
    }
    let r = send(
        &s,
        "DELETE",
        &format!("/api/captures/{id}"),
        &[("Cookie", &bob)],
        None,
    );
    assert_eq!(r.status, 404);
    // The admin sees every upload.
    let root = sign_in(&s, "root");
    let list = send(&s, "GET", "/api/captures", &[("Cookie", &root)], None);
    assert_eq!(list.json()["total"], 1);
    // Not signed in: pages lead to the login page, the API answers 401.
    let r = send(&s, "GET", &format!("/c/{id}"), &[], None);
    assert_eq!(r.status, 303);
    assert!(r
        .header("location")
        .unwrap()
        .starts_with("/login?next=%2Fc%2F"));
    assert_eq!(send(&s, "GET", "/api/captures", &[], None).status, 401);
    // Deleting is the owner's, and audited.
    let r = send(
        &s,
        "DELETE",
        &format!("/api/captures/{id}"),
        &[("Cookie", &ann)],
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let log = audit_log(&s, &root);
    assert!(log.contains(&format!("capture {id}")));
    assert!(
        log.contains("<td>upload</td>") && log.contains("<td>delete</td>"),
        "{log}"
    );
    // Only admins have an audit log.
    assert_eq!(
        send(&s, "GET", "/admin/audit", &[("Cookie", &ann)], None).status,
        404
    );
}

#[test]
fn an_upload_token_cannot_read() {
    let (data, s) = accounts_server("auth-scopes");
    let upload = create_token(&data, "ann", "upload");
    let read = create_token(&data, "ann", "read");
    let bearer = format!("Bearer {upload}");
    let id = upload_as(&s, ("Authorization", &bearer));
    for path in [
        "/api/captures".to_string(),
        format!("/api/captures/{id}"),
        format!("/api/captures/{id}/conversations"),
        format!("/c/{id}"),
    ] {
        let r = send(&s, "GET", &path, &[("Authorization", &bearer)], None);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
    }
    let reader = format!("Bearer {read}");
    let r = send(
        &s,
        "GET",
        &format!("/api/captures/{id}"),
        &[("Authorization", &reader)],
        None,
    );
    assert_eq!(r.status, 200, "the upload is ann's: {}", r.text());
    let r = send(
        &s,
        "DELETE",
        &format!("/api/captures/{id}"),
        &[("Authorization", &reader)],
        None,
    );
    assert_eq!(r.status, 403, "a read token changes nothing");
    let ann = sign_in(&s, "ann");
    let list = send(&s, "GET", "/api/captures", &[("Cookie", &ann)], None);
    assert_eq!(list.json()["total"], 1, "{}", list.text());
    // Tokens are kept hashed.
    let db = std::fs::read(data.join("auth.db")).unwrap();
    assert!(!db.windows(upload.len()).any(|w| w == upload.as_bytes()));
}

#[test]
fn wrong_passwords_hit_the_rate_limit() {
    let (_data, s) = accounts_server("auth-rate");
    let wrong = b"name=ann&password=guess&next=%2F";
    for _ in 0..5 {
        let r = send(
            &s,
            "POST",
            "/login",
            &[],
            Some(("application/x-www-form-urlencoded", wrong)),
        );
        assert_eq!(r.status, 401, "{}", r.text());
        assert!(r.text().contains("Wrong name or password"));
    }
    let right = b"name=ann&password=ann-password&next=%2F";
    let r = send(
        &s,
        "POST",
        "/login",
        &[],
        Some(("application/x-www-form-urlencoded", right)),
    );
    assert_eq!(r.status, 429, "the limit holds even for the right password");
    assert!(r.header("set-cookie").is_none());
    let root = sign_in(&s, "root");
    let log = audit_log(&s, &root);
    assert_eq!(log.matches("<td>login-failed</td>").count(), 5, "{log}");
    assert!(log.contains("<td>login-refused</td>"));
}

#[test]
fn forged_expired_and_tampered_credentials_are_refused_and_audited() {
    let (data, s) = accounts_server("auth-forged");
    let ann = sign_in(&s, "ann");
    let tampered = {
        let mut c = ann.clone();
        let last = c.pop().unwrap();
        c.push(if last == '0' { '1' } else { '0' });
        c
    };
    let expired = {
        let store = tracedeck::store::auth::AuthStore::open(&data).unwrap();
        let secret = store.create_session("ann", Duration::ZERO).unwrap();
        format!("tracedeck_session={secret}")
    };
    // A cookie from another server (same name, its own secret).
    let foreign =
        "tracedeck_session=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    for cookie in [tampered.as_str(), expired.as_str(), foreign] {
        let r = send(&s, "GET", "/api/captures", &[("Cookie", cookie)], None);
        assert_eq!(r.status, 401, "{cookie}");
        let r = send(&s, "GET", "/", &[("Cookie", cookie)], None);
        assert_eq!(r.status, 303, "{cookie}");
        assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    }
    let expired_token = {
        let store = tracedeck::store::auth::AuthStore::open(&data).unwrap();
        let scope = tracedeck::store::auth::Scope::Read;
        let t = store
            .create_token("ann", scope, Some(Duration::ZERO))
            .unwrap();
        format!("Bearer {t}")
    };
    let tampered_token = {
        let mut t = format!("Bearer {}", create_token(&data, "ann", "read"));
        let last = t.pop().unwrap();
        t.push(if last == '0' { '1' } else { '0' });
        t
    };
    for token in [
        "Bearer tdk_0000",
        "Bearer ",
        "Basic YW5uOmFubi1wYXNzd29yZA==",
        &expired_token,
        &tampered_token,
    ] {
        let r = send(
            &s,
            "GET",
            "/api/captures",
            &[("Authorization", token)],
            None,
        );
        assert_eq!(r.status, 401, "{token}");
    }
    // Signing out ends the session on the server, not just in the browser.
    let r = send(&s, "POST", "/logout", &[("Cookie", &ann)], None);
    assert_eq!(
        r.status, 403,
        "a browser's form post without its CSRF token"
    );
    let root = sign_in(&s, "root");
    let log = audit_log(&s, &root);
    assert!(
        log.matches("unknown or expired session cookie").count() >= 6,
        "{log}"
    );
    assert!(
        log.matches("unknown or expired API token").count() >= 5,
        "{log}"
    );
    assert!(
        !log.contains(&ann["tracedeck_session=".len()..]),
        "no secret in the log"
    );
}

#[test]
fn a_proxy_header_counts_only_from_a_trusted_address() {
    let data = fresh_dir("auth-proxy-untrusted");
    let s = Server::start(
        &data,
        &[
            "--auth-header",
            "X-Forwarded-Email",
            "--trusted-proxy",
            "10.9.9.9",
        ],
    );
    let spoofed = [("X-Forwarded-Email", "mallory@example.com")];
    let r = send(&s, "GET", "/api/captures", &spoofed, None);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(send(&s, "GET", "/api/captures", &[], None).status, 401);
    drop(s);

    let data = fresh_dir("auth-proxy-trusted");
    add_user(&data, "ann", false);
    let s = Server::start(
        &data,
        &[
            "--auth-header",
            "X-Forwarded-Email",
            "--trusted-proxy",
            "127.0.0.0/8",
        ],
    );
    let carol = [("X-Forwarded-Email", "carol@example.com")];
    let id = upload_as(&s, carol[0]);
    let r = send(&s, "GET", &format!("/api/captures/{id}"), &carol, None);
    assert_eq!(r.status, 200);
    let dave = [("X-Forwarded-Email", "dave@example.com")];
    let r = send(&s, "GET", &format!("/api/captures/{id}"), &dave, None);
    assert_eq!(r.status, 404, "carol's, not dave's");
    // Behind a trusted TLS-terminating proxy the session cookie is Secure.
    let form = b"name=ann&password=ann-password&next=%2F";
    let r = send(
        &s,
        "POST",
        "/login",
        &[("X-Forwarded-Proto", "https")],
        Some(("application/x-www-form-urlencoded", form)),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));
}

/// A loopback server with no accounts (today's one-command start): the
/// Origin of a write must be its own, a browser's form post carries the
/// page's CSRF token, and Host must be one of its names.
#[test]
fn another_origin_cannot_write() {
    let data = fresh_dir("auth-origin");
    let s = Server::start(&data, &[]);
    let own = s.base.clone();
    let host = own.trim_start_matches("http://").to_string();
    let port: u16 = host.rsplit(':').next().unwrap().parse().unwrap();
    let other = format!("http://127.0.0.1:{}", port.wrapping_add(1));
    let id = upload_as(&s, ("X-Test", "1"));
    s.wait(&id);

    // A page on another local port: a form post and a text/plain fetch.
    let cross = [("Origin", other.as_str()), ("Sec-Fetch-Site", "same-site")];
    let r = send(
        &s,
        "POST",
        &format!("/c/{id}/delete"),
        &cross,
        Some(("application/x-www-form-urlencoded", b"")),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let r = send(
        &s,
        "POST",
        "/api/captures",
        &cross,
        Some(("text/plain", b"planted")),
    );
    assert_eq!(r.status, 403);
    let r = send(
        &s,
        "POST",
        "/upload",
        &[("Origin", other.as_str())],
        Some(("text/plain", b"planted")),
    );
    assert_eq!(r.status, 403);
    assert_eq!(s.get("/api/captures").json()["total"], 1, "nothing planted");
    assert_eq!(
        s.get(&format!("/api/captures/{id}")).status,
        200,
        "nothing deleted"
    );

    // Our own page: without the form's token refused, with it done.
    let same = [("Origin", own.as_str()), ("Sec-Fetch-Site", "same-origin")];
    let r = send(
        &s,
        "POST",
        &format!("/c/{id}/delete"),
        &same,
        Some(("application/x-www-form-urlencoded", b"")),
    );
    assert_eq!(r.status, 403);
    let page = s.get(&format!("/c/{id}/delete")).text();
    let action = page
        .split("action=\"")
        .find(|a| a.starts_with(&format!("/c/{id}/delete?csrf=")))
        .and_then(|a| a.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in the form: {page}"))
        .to_string();
    let r = send(
        &s,
        "POST",
        &action,
        &same,
        Some(("application/x-www-form-urlencoded", b"")),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(s.get(&format!("/api/captures/{id}")).status, 404);

    // DNS rebinding: another name for our address.
    let r = send(&s, "GET", "/", &[("Host", "attacker.example")], None);
    assert_eq!(r.status, 403);
    let r = send(
        &s,
        "GET",
        "/",
        &[("Host", &format!("localhost:{port}"))],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert!(
        !r.text().contains("open-banner"),
        "no banner on a loopback start"
    );
}

#[test]
fn bidi_controls_in_names_are_inert() {
    let data = fresh_dir("auth-bidi");
    let s = Server::start(&data, &[]);
    let r = s.post_raw("/api/captures?name=invoice%E2%80%AEgpj.pcap", &sample());
    assert_eq!(r.status, 201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    for page in ["/".to_string(), format!("/c/{id}")] {
        let html = s.get(&page).text();
        assert!(html.contains("invoice\u{FFFD}gpj.pcap"), "{page}");
        assert!(!html.contains('\u{202E}'), "{page}");
    }
}

#[test]
fn a_non_loopback_address_needs_auth() {
    let data = fresh_dir("auth-exposed");
    let out = tracedeck(&[
        "serve",
        "--addr",
        "0.0.0.0:0",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to serve 0.0.0.0:0 without authentication"),
        "{err}"
    );
    assert!(
        err.contains("tracedeck user add") && err.contains("--open"),
        "{err}"
    );

    // --open serves anyway, with a banner on every page.
    let s = Server::start(&data, &["--open"]);
    let home = s.get("/").text();
    assert!(home.contains("class=\"open-banner\""), "{home}");
}

#[test]
fn revoked_tokens_changed_passwords_and_removed_users_open_nothing() {
    let (data, s) = accounts_server("auth-manage");
    let dir = data.to_str().unwrap();
    let token = create_token(&data, "ann", "read");
    let bearer = format!("Bearer {token}");
    let get = |auth: (&str, &str)| send(&s, "GET", "/api/captures", &[auth], None).status;
    assert_eq!(get(("Authorization", &bearer)), 200);

    // The list names the token by an ID, never by its secret, and shows its use.
    let list = tracedeck(&["token", "list", "--user", "ann", "--data-dir", dir]);
    assert!(list.status.success());
    let text = String::from_utf8(list.stdout).unwrap();
    assert!(!text.contains(&token), "{text}");
    assert!(!text.contains(token.trim_start_matches("tdk_")), "{text}");
    assert!(
        text.contains("\tann\tread\t") && text.contains("used "),
        "{text}"
    );
    let id = text.split('\t').next().unwrap().to_string();

    let bad = tracedeck(&["token", "revoke", "zz", "--data-dir", dir]);
    assert_eq!(bad.status.code(), Some(1), "a garbage ID is an error");
    let out = tracedeck(&["token", "revoke", &id, "--data-dir", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(get(("Authorization", &bearer)), 401, "a revoked token");

    // A new password ends the account's sessions.
    let cookie = sign_in(&s, "bob");
    assert_eq!(get(("Cookie", &cookie)), 200);
    let pw = data.with_extension("bob.new");
    std::fs::write(&pw, "a much better password\n").unwrap();
    let out = tracedeck(&[
        "user",
        "password",
        "bob",
        "--password-file",
        pw.to_str().unwrap(),
        "--data-dir",
        dir,
    ]);
    assert!(out.status.success());
    assert_eq!(get(("Cookie", &cookie)), 401, "the old session ended");

    // Removing an account ends its tokens and sessions.
    let ann_cookie = sign_in(&s, "ann");
    let second = create_token(&data, "ann", "read");
    let out = tracedeck(&["user", "remove", "ann", "--data-dir", dir]);
    assert!(out.status.success());
    assert_eq!(get(("Cookie", &ann_cookie)), 401);
    assert_eq!(get(("Authorization", &format!("Bearer {second}"))), 401);
    let users = tracedeck(&["user", "list", "--data-dir", dir]);
    let users = String::from_utf8(users.stdout).unwrap();
    assert!(
        !users.contains("ann") && users.contains("root\tadmin"),
        "{users}"
    );

    let root = sign_in(&s, "root");
    let log = audit_log(&s, &root);
    for event in ["token-revoked", "password-changed", "user-removed"] {
        assert!(log.contains(event), "{event} audited: {log}");
    }
}
