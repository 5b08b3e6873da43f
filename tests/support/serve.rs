//! A running `tracedeck serve` for integration tests: the real binary on
//! 127.0.0.1:0 with a data directory of its own, killed when dropped, and
//! a small blocking HTTP client for it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::wait::wait_until;

/// A fresh, empty directory under the system temp dir.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracedeck-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running server, killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    pub data: PathBuf,
    agent: ureq::Agent,
}

/// An answer: status, headers, body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("request failed");
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

impl Server {
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Server::start_with(data, extra, Stdio::null())
    }

    /// [`Server::start`], its log (stderr) written to `log`.
    pub fn start_logged(data: &Path, extra: &[&str], log: &Path) -> Server {
        Server::start_with(data, extra, std::fs::File::create(log).unwrap().into())
    }

    fn start_with(data: &Path, extra: &[&str], stderr: Stdio) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Server {
            child,
            base: format!("http://{addr}"),
            data: data.to_path_buf(),
            agent,
        }
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Reply {
        reply(self.agent.get(format!("{}{path}", self.base)).call())
    }

    pub fn delete(&self, path: &str) -> Reply {
        reply(self.agent.delete(format!("{}{path}", self.base)).call())
    }

    pub fn post_raw(&self, path: &str, body: &[u8]) -> Reply {
        reply(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Content-Type", "application/octet-stream")
                .send(body),
        )
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        reply(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Content-Type", "application/json")
                .send(body.to_string().as_bytes()),
        )
    }

    /// A form post (`application/x-www-form-urlencoded`, `body` encoded).
    pub fn post_form(&self, path: &str, body: &str) -> Reply {
        reply(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(body.as_bytes()),
        )
    }

    /// A multipart body with one `file` field per (name, content).
    pub fn post_files(&self, path: &str, files: &[(&str, &[u8])]) -> Reply {
        let boundary = "----tracedeck-test-boundary-51c3";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n")
                .as_bytes(),
        );
        for (name, content) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                     filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        reply(
            self.agent
                .post(format!("{}{path}", self.base))
                .header(
                    "Content-Type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .send(&body[..]),
        )
    }

    /// Polls a capture's status until it is no longer queued or analyzing.
    /// Uploads the capture at `path` as `name`, waits for its analysis and
    /// returns its id; panics unless it is done.
    pub fn analyzed(&self, name: &str, path: &std::path::Path) -> String {
        let body = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let r = self.post_raw(&format!("/api/captures?name={name}"), &body);
        let id = r.json()["id"].as_str().expect("an id").to_string();
        assert_eq!(self.wait(&id)["status"], "done", "{name}");
        id
    }

    pub fn wait(&self, id: &str) -> Value {
        self.wait_finished(&format!("/api/captures/{id}"))
    }

    /// Polls the status document at `path` (a capture's or an strace
    /// upload's) until its `status` is `done` or `failed`; returns it.
    pub fn wait_finished(&self, path: &str) -> Value {
        let mut last = Value::Null;
        wait_until(
            &format!("{path} to be done or failed"),
            Duration::from_secs(60),
            || {
                last = self.get(path).json();
                matches!(last["status"].as_str(), Some("done" | "failed"))
            },
        );
        last
    }

    /// Sends the server SIGTERM (its graceful shutdown).
    pub fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill takes no pointers; the child is ours and not reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }

    /// Whether the server process has exited, waiting at most `within`.
    pub fn exits_within(&mut self, within: Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Whether no upload is left half-received in the staging directory.
    pub fn staging_is_empty(&self) -> bool {
        std::fs::read_dir(self.data.join("staging"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
