//! What the `#[ignore = "needs ..."]` tests need, checked where they
//! start: when a privilege or a tool is missing the test fails and says
//! what to install, instead of passing without testing (`.ci/run`
//! installs everything and runs them with `--include-ignored`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Fails unless the tests run as root (capture needs CAP_NET_RAW, a
/// network namespace, a tmpfs mount).
pub fn root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "this test needs root (CI runs as root)");
}

/// A `Command` for `program`, after checking that it runs at all (asking
/// its version), so a missing tool fails with its name rather than with
/// "No such file or directory" somewhere below.
pub fn tool(program: &str) -> Command {
    let version_flag = if program == "ip" { "-V" } else { "--version" };
    let runs = Command::new(program)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        runs,
        "this test needs {program} on PATH (`.ci/run` installs it: apt-get install {})",
        debian_package(program)
    );
    Command::new(program)
}

fn debian_package(program: &str) -> &str {
    match program {
        "ip" => "iproute2",
        "chromedriver" => "chromium-driver",
        "script" | "setpriv" | "mount" => "util-linux",
        other => other,
    }
}

/// Debian's headless Chromium and its WebDriver, which the browser tests drive.
pub fn chromium() -> (PathBuf, PathBuf) {
    let browser = Path::new("/usr/bin/chromium");
    let driver = Path::new("/usr/bin/chromedriver");
    for (path, package) in [(browser, "chromium"), (driver, "chromium-driver")] {
        assert!(
            path.exists(),
            "this test needs {} (`.ci/run` installs it: apt-get install {package})",
            path.display()
        );
    }
    (browser.to_path_buf(), driver.to_path_buf())
}

/// `tshark -T fields` output: one line per packet, fields tab-separated.
pub fn tshark_fields(path: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = tool("tshark");
    cmd.args(["-n", "-r"])
        .arg(path)
        .args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}
