//! Teams (issue 17, "a capture or strace log belongs to its uploader and
//! optionally a team"), against the real server: members of a team read
//! each other's team uploads everywhere, only the owner (or an admin)
//! changes, deletes or shares them, anyone else gets the same 404 as for
//! an upload that does not exist, and a member taken out of the team
//! loses access at their next request. The CLI's team commands round trip.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tracedeck::capture::{upload_file_with, RetryPolicy, UploadAccess};
use tracedeck::store::auth::AuthStore;

use crate::auth::{add_user, create_token, send, sign_in};
use crate::support::serve::{fresh_dir, Reply, Server};
use crate::support::wait::wait_until;
use crate::support::webdriver::Browser;

fn sample_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/api/http-loopback.pcap")
}

fn team_cli(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .arg("team")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs `tracedeck team ARGS`, which must succeed: its stdout.
fn team_ok(data: &Path, args: &[&str]) -> String {
    let out = team_cli(data, args);
    assert!(
        out.status.success(),
        "team {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// ann, bob and cat, the admin root, and team ops of ann and bob.
fn three_users_and_a_team(name: &str) -> (std::path::PathBuf, Server) {
    let data = fresh_dir(name);
    for user in ["ann", "bob", "cat"] {
        add_user(&data, user, false);
    }
    add_user(&data, "root", true);
    team_ok(&data, &["add", "ops"]);
    team_ok(&data, &["member", "add", "ops", "ann"]);
    team_ok(&data, &["member", "add", "ops", "bob"]);
    let s = Server::start(&data, &[]);
    (data, s)
}

/// Uploads the sample capture as `cookie` through the API, with
/// `?team=` when given: the new ID, once analysed.
fn upload_capture(s: &Server, cookie: &str, team: Option<&str>) -> String {
    let path = match team {
        Some(t) => format!("/api/captures?name=t.pcap&team={t}"),
        None => "/api/captures?name=t.pcap".to_string(),
    };
    let pcap = std::fs::read(sample_path()).unwrap();
    let r = send(
        s,
        "POST",
        &path,
        &[("Cookie", cookie)],
        Some(("application/vnd.tcpdump.pcap", &pcap)),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    wait_until("the analysis", Duration::from_secs(60), || {
        let r = send(
            s,
            "GET",
            &format!("/api/captures/{id}"),
            &[("Cookie", cookie)],
            None,
        );
        r.json()["status"] == "done"
    });
    id
}

/// Uploads a one-line strace log as a multipart form whose `team` field
/// comes first, as the upload form sends it.
fn upload_strace(s: &Server, cookie: &str, team: &str) -> Reply {
    let boundary = "----tracedeck-teams-7f2a";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"team\"\r\n\r\n{team}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"app.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n100 12:00:00.000001 getpid() = 100 <0.000001>\n\r\n\
         --{boundary}--\r\n"
    );
    let ctype = format!("multipart/form-data; boundary={boundary}");
    send(
        s,
        "POST",
        "/api/straces",
        &[("Cookie", cookie)],
        Some((&ctype, body.as_bytes())),
    )
}

/// Every reading path of capture `id` and strace log `strace`.
fn reading_paths(id: &str, strace: &str) -> Vec<String> {
    [
        "/c/{id}",
        "/c/{id}/conversations",
        "/c/{id}/conversations/1",
        "/c/{id}/http",
        "/c/{id}/dns",
        "/c/{id}/endpoints",
        "/c/{id}/keylog",
        "/api/captures/{id}",
        "/api/captures/{id}/conversations",
        "/api/captures/{id}/conversations/1",
        "/api/captures/{id}/conversations/1/packets",
        "/api/captures/{id}/conversations/1/stream",
        "/api/captures/{id}/conversations/1/pcap",
        "/api/captures/{id}/http",
        "/api/captures/{id}/dns",
        "/api/captures/{id}/endpoints",
        "/compare?base={id}&incident={id}",
        "/api/compare?base={id}&incident={id}",
        "/s/{strace}",
        "/s/{strace}/syscalls",
        "/s/{strace}/files",
        "/s/{strace}/processes",
        "/api/straces/{strace}",
        "/api/straces/{strace}/syscalls",
        "/api/straces/{strace}/summary",
    ]
    .iter()
    .map(|p| p.replace("{id}", id).replace("{strace}", strace))
    .collect()
}

fn status(s: &Server, method: &str, path: &str, auth: (&str, &str)) -> u16 {
    let body = (method == "POST").then_some(("application/json", &b"{}"[..]));
    send(s, method, path, &[auth], body).status
}

fn listed(s: &Server, auth: (&str, &str), what: &str) -> Vec<String> {
    let r = send(s, "GET", &format!("/api/{what}"), &[auth], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let items = r.json()["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn members_read_team_uploads_and_everyone_else_gets_404() {
    let (data, s) = three_users_and_a_team("teams-members");
    let (ann, bob, cat) = (sign_in(&s, "ann"), sign_in(&s, "bob"), sign_in(&s, "cat"));
    let (ann, bob, cat) = (("Cookie", &*ann), ("Cookie", &*bob), ("Cookie", &*cat));
    let shared = upload_capture(&s, ann.1, Some("ops"));
    let private = upload_capture(&s, ann.1, None);
    let r = upload_strace(&s, bob.1, "ops");
    assert_eq!(r.status, 201, "{}", r.text());
    let strace = r.json()["id"].as_str().unwrap().to_string();
    wait_until("the strace log's parse", Duration::from_secs(60), || {
        let r = send(&s, "GET", &format!("/api/straces/{strace}"), &[bob], None);
        r.json()["status"] == "done"
    });

    // Lists: the members see the team's uploads, cat sees nothing.
    assert_eq!(listed(&s, bob, "captures"), [shared.as_str()]);
    let mut anns = listed(&s, ann, "captures");
    anns.sort();
    let mut both = vec![shared.clone(), private.clone()];
    both.sort();
    assert_eq!(anns, both);
    assert_eq!(listed(&s, ann, "straces"), [strace.as_str()]);
    assert!(listed(&s, cat, "captures").is_empty());
    assert!(listed(&s, cat, "straces").is_empty());
    let home = send(&s, "GET", "/", &[bob], None).text();
    assert!(home.contains(&shared) && !home.contains(&private), "{home}");
    let home = send(&s, "GET", "/", &[cat], None).text();
    assert!(!home.contains(&shared), "{home}");

    // Every reading path: members read, cat gets the 404 of a missing upload.
    let missing = "0123456789abcdef0123456789abcdef";
    let gone = send(&s, "GET", &format!("/c/{missing}"), &[cat], None);
    for path in reading_paths(&shared, &strace) {
        for who in [ann, bob] {
            let r = send(&s, "GET", &path, &[who], None);
            assert_eq!(r.status, 200, "{} reads {path}: {}", who.1, r.text());
        }
        let r = send(&s, "GET", &path, &[cat], None);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        if path.starts_with("/c/") {
            assert_eq!(
                r.text(),
                gone.text(),
                "{path} says no more than a missing one"
            );
        }
    }
    for path in reading_paths(&private, &strace)
        .iter()
        .filter(|p| !p.contains(&strace))
    {
        assert_eq!(status(&s, "GET", path, bob), 404, "{path} is ann's alone");
    }

    // Members read; only the owner (or an admin) deletes, shares or moves.
    let owners = [
        ("DELETE", format!("/api/captures/{shared}")),
        ("POST", format!("/api/captures/{shared}/shares")),
        ("GET", format!("/api/captures/{shared}/shares")),
        ("POST", format!("/api/captures/{shared}/team?team=")),
        ("GET", format!("/api/captures/{shared}/team")),
        ("DELETE", format!("/api/straces/{strace}")),
    ];
    for (method, path) in &owners {
        let member = if path.contains("straces") { ann } else { bob };
        assert_eq!(status(&s, method, path, member), 403, "{method} {path}");
        assert_eq!(status(&s, method, path, cat), 404, "{method} {path}");
    }
    let ownership = send(
        &s,
        "GET",
        &format!("/api/captures/{shared}/team"),
        &[ann],
        None,
    );
    assert_eq!(ownership.json()["owner"], "ann", "{}", ownership.text());
    assert_eq!(ownership.json()["team"], "ops");
    // A filtered view is a reading: a member may ask for it.
    let r = send(
        &s,
        "POST",
        &format!("/api/captures/{shared}/analyses"),
        &[bob],
        Some(("application/json", br#"{"filter":"tcp"}"#)),
    );
    assert!(r.status < 300, "{}: {}", r.status, r.text());

    // A read token of a member reads the team's upload.
    let token = format!("Bearer {}", create_token(&data, "bob", "read"));
    let bearer = ("Authorization", token.as_str());
    assert_eq!(
        status(&s, "GET", &format!("/api/captures/{shared}"), bearer),
        200
    );
    assert_eq!(listed(&s, bearer, "captures"), [shared.as_str()]);

    // Nobody uploads into a team they are not in.
    let pcap = std::fs::read(sample_path()).unwrap();
    let r = send(
        &s,
        "POST",
        "/api/captures?team=ops",
        &[cat],
        Some(("application/vnd.tcpdump.pcap", &pcap)),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(upload_strace(&s, cat.1, "ops").status, 400);
    assert!(listed(&s, cat, "captures").is_empty(), "nothing was kept");

    // Out of the team: access ends at the next request.
    team_ok(&data, &["member", "remove", "ops", "bob"]);
    for path in reading_paths(&shared, &strace) {
        if path.contains(&strace) {
            continue; // bob's own
        }
        assert_eq!(status(&s, "GET", &path, bob), 404, "{path}");
        assert_eq!(status(&s, "GET", &path, bearer), 404, "{path}");
    }
    assert!(listed(&s, bob, "captures").is_empty());
    assert_eq!(
        status(&s, "GET", &format!("/s/{strace}"), ann),
        200,
        "bob's log is still in ops, which ann is in"
    );

    // The admin sees and moves everything; the move is audited.
    let root = sign_in(&s, "root");
    let root = ("Cookie", root.as_str());
    let r = send(
        &s,
        "POST",
        &format!("/api/captures/{private}/team?team=ops"),
        &[root],
        Some(("application/json", b"")),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["team"], "ops");
    let audit = send(&s, "GET", "/admin/audit", &[root], None).text();
    assert!(audit.contains("team-changed"), "{audit}");
    assert!(
        audit.contains(&format!("capture {private} to team ops")),
        "{audit}"
    );
}

#[test]
fn the_owner_moves_an_upload_with_the_team_form_and_the_agent_uploads_to_a_team() {
    let (data, s) = three_users_and_a_team("teams-form");
    let ann = sign_in(&s, "ann");
    let bob = sign_in(&s, "bob");
    let id = upload_capture(&s, &ann, None);
    assert_eq!(
        status(&s, "GET", &format!("/c/{id}"), ("Cookie", &bob)),
        404
    );

    let page = send(
        &s,
        "GET",
        &format!("/c/{id}/team"),
        &[("Cookie", &ann)],
        None,
    );
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.text();
    assert!(
        page.contains("<option value=\"ops\">ops</option>"),
        "{page}"
    );
    let action = page
        .split("action=\"")
        .find(|a| a.starts_with(&format!("/c/{id}/team?csrf=")))
        .and_then(|a| a.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in the team form: {page}"))
        .replace("&amp;", "&");
    let form = ("application/x-www-form-urlencoded", &b"team=ops"[..]);
    let forged = send(
        &s,
        "POST",
        &format!("/c/{id}/team"),
        &[("Cookie", &ann)],
        Some(form),
    );
    assert_eq!(forged.status, 403, "no CSRF token: {}", forged.text());
    let r = send(&s, "POST", &action, &[("Cookie", &ann)], Some(form));
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        status(&s, "GET", &format!("/c/{id}"), ("Cookie", &bob)),
        200,
        "bob reads it as a member of ops"
    );
    let page = send(
        &s,
        "GET",
        &format!("/c/{id}/team"),
        &[("Cookie", &ann)],
        None,
    )
    .text();
    assert!(
        page.contains("<strong id=\"team-current\">ops</strong>"),
        "{page}"
    );

    // The capture agent's upload lands in the team its token's user chose.
    let token = create_token(&data, "ann", "upload");
    let access = UploadAccess {
        token: Some(token),
        team: Some("ops".into()),
        ..UploadAccess::default()
    };
    let once = RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    };
    let up = upload_file_with(&s.base, &sample_path(), &access, &once, &mut |_, _, _| {}).unwrap();
    let r = send(
        &s,
        "GET",
        &format!("/api/captures/{}/team", up.id),
        &[("Cookie", &ann)],
        None,
    );
    assert_eq!(r.json()["team"], "ops", "{}", r.text());
    assert_eq!(
        status(
            &s,
            "GET",
            &format!("/api/captures/{}", up.id),
            ("Cookie", &bob)
        ),
        200
    );

    // Removing the team leaves the uploads with their owner, in no team.
    team_ok(&data, &["remove", "ops"]);
    assert_eq!(
        status(&s, "GET", &format!("/c/{id}"), ("Cookie", &bob)),
        404
    );
    assert_eq!(
        status(&s, "GET", &format!("/c/{id}"), ("Cookie", &ann)),
        200
    );
}

#[test]
fn team_commands_round_trip() {
    let data = fresh_dir("teams-cli");
    add_user(&data, "ann", false);
    add_user(&data, "bob", false);
    assert!(team_ok(&data, &["list"]).contains("no teams"));
    team_ok(&data, &["add", "ops"]);
    team_ok(&data, &["add", "web"]);
    team_ok(&data, &["member", "add", "ops", "bob"]);
    team_ok(&data, &["member", "add", "ops", "ann"]);
    team_ok(
        &data,
        &["member", "add", "ops", "sso@example.com", "--external"],
    );
    let list = team_ok(&data, &["list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].starts_with("ops\t") && lines[0].ends_with("ann, bob, sso@example.com"));
    assert!(lines[1].starts_with("web\t") && lines[1].ends_with("(no members)"));

    for (args, says) in [
        (&["add", "ops"][..], "already exists"),
        (&["add", "bad name"][..], "not a usable"),
        (&["member", "add", "ops", "ann"][..], "already in team"),
        (&["member", "add", "ops", "nobody"][..], "--external"),
        (&["member", "add", "nope", "ann"][..], "no team"),
        (&["member", "remove", "web", "ann"][..], "not in team"),
        (&["remove", "nope"][..], "no team"),
    ] {
        let out = team_cli(&data, args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    team_ok(&data, &["member", "remove", "ops", "bob"]);
    team_ok(&data, &["remove", "web"]);
    let list = team_ok(&data, &["list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.ends_with("ann, sso@example.com\n"), "{list}");

    let audit = AuthStore::open(&data).unwrap().audit_log(100).unwrap();
    let events: Vec<&str> = audit.iter().rev().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events.iter().filter(|e| e.starts_with("team")).count(),
        7,
        "{events:?}"
    );
    assert!(audit
        .iter()
        .any(|e| e.event == "team-member-removed" && e.user.as_deref() == Some("bob")));
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn a_person_picks_the_team_on_the_upload_form() {
    let (_data, s) = three_users_and_a_team("teams-browser");
    let b = Browser::start();
    b.goto(&s.url("/login"));
    b.find("#name").send_keys("ann");
    b.find("#password").send_keys("ann-password");
    b.find("#sign-in").click();
    b.wait_until("signed in", Duration::from_secs(20), |b| {
        b.page_text().contains("Signed in as ann")
    });
    b.goto(&s.url("/"));
    let options: Vec<String> = b
        .find_all("#upload-team option")
        .iter()
        .map(|o| o.text())
        .collect();
    assert_eq!(options, ["none (only you)", "ops"]);
    b.find("#upload-team option[value=ops]").click();
    b.find("#file").send_keys(sample_path().to_str().unwrap());
    b.wait_until("the capture's page", Duration::from_secs(30), |b| {
        b.url().contains("/c/")
    });
    let id = b
        .url()
        .split("/c/")
        .nth(1)
        .map(|rest| rest.chars().take(32).collect::<String>())
        .unwrap();
    let bob = sign_in(&s, "bob");
    assert_eq!(listed(&s, ("Cookie", &bob), "captures"), [id.as_str()]);
    let cat = sign_in(&s, "cat");
    assert_eq!(
        status(&s, "GET", &format!("/c/{id}"), ("Cookie", &cat)),
        404
    );
}
