//! strace records redacted for sharing (README, "Redacted sharing"): what
//! a call's arguments may hold that is secret, masked in place (each
//! masked byte of the shown text becomes one fill byte, quotes and
//! separators kept), whatever the profile:
//!
//! - `execve`/`execveat`: every environment value (names kept), and the
//!   argv values of secret-looking options (`--password X`,
//!   `--token=X`, `-p X`) and of `KEY=value` arguments whose key looks
//!   secret (PASSWORD, TOKEN, SECRET, KEY, AUTH, COOKIE); the program's
//!   path and other arguments are kept;
//! - under a profile that masks other payload (`strict`): the strings of
//!   `read`/`write`-like calls on sockets (or on an fd whose kind strace
//!   did not show: `-y` tells) and of every `send`/`recv` call.
//!
//! Paths (`openat`, `stat`, fd annotations) are kept. Under a profile that
//! pseudonymises addresses, every IP address in the shown text (sockaddr
//! arguments such as `sin_addr=inet_addr("10.0.0.1")` and
//! `inet_pton(AF_INET6, "fe80::1", …)`, `-y` socket annotations, argv
//! values) is shown as [`super::views::text`] shows it, ports kept.
//!
//! [`trace`] applies all of it to a whole parsed log, so every view
//! computed from the result (syscall table and its text search, summary,
//! files, process tree, pauses) shows only redacted text and every count
//! and duration of the original.

use super::views::text;
use super::{Redactor, FILL};
use crate::strace::text::{annotation, skip_string, split_args, unquote};
use crate::strace::{Exec, Trace};

/// A parsed log as a share link shows it: each call's arguments and
/// result text, each execve's argv, signal and note text with secrets
/// masked and addresses pseudonymised ([`syscall_args`], [`exec`]); each
/// line the parser did not understand masked whole (what it holds cannot
/// be told); the log files named by [`input_name`]. Records, times,
/// durations, return values and counts are the original's.
pub fn trace(r: &Redactor, t: &Trace) -> Trace {
    let mut out = Trace {
        arena: String::new(),
        ..t.clone()
    };
    let mut arena = String::with_capacity(t.arena.len());
    for rec in &mut out.recs {
        let args = text(r, &syscall_args(r, t.name(rec.name), t.rec_args(rec)));
        let tail = text(r, t.rec_tail(rec));
        rec.text = arena.len() as u64;
        rec.args_len = u32::try_from(args.len()).unwrap_or(u32::MAX);
        rec.tail_len = u32::try_from(tail.len()).unwrap_or(u32::MAX);
        arena.push_str(&args);
        arena.push_str(&tail);
    }
    out.arena = arena;
    for (i, input) in out.inputs.iter_mut().enumerate() {
        input.name = input_name(i, &input.name);
    }
    for p in &mut out.processes {
        for e in &mut p.execs {
            exec(r, e);
        }
    }
    for s in &mut out.signals {
        s.signal = text(r, &s.signal);
    }
    for u in &mut out.unparsed {
        u.text = mask_text(&u.text, 0);
    }
    for n in &mut out.notes {
        *n = text(r, n);
    }
    for p in &mut out.paths {
        *p = text(r, p);
    }
    out
}

/// The name a shared view gives the `index`th log file: `log1`, `log2`, …
/// (a file name may name a host or a customer), keeping the `.PID` suffix
/// of `strace -ff` files, which tells whose lines they hold.
pub fn input_name(index: usize, original: &str) -> String {
    let pid = original
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_digit()));
    match pid {
        Some(pid) => format!("log{}.{pid}", index + 1),
        None => format!("log{}", index + 1),
    }
}

/// Substrings (upper case) of an option or variable name that say its
/// value is secret.
const SECRET_WORDS: [&str; 8] = [
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "SECRET",
    "KEY",
    "AUTH",
    "COOKIE",
    "CREDENTIAL",
];
/// Short options whose next argument is a password (`mysql -p`, `sshpass -p`).
const SECRET_SHORT_OPTIONS: [&str; 1] = ["-p"];
/// Calls whose strings are socket payload whatever the fd.
const SOCKET_CALLS: [&str; 8] = [
    "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
];
/// Calls whose strings are payload of the fd in their first argument.
const FD_IO_CALLS: [&str; 6] = ["read", "write", "readv", "writev", "pread64", "pwrite64"];
/// fd annotations (`-y`) that are not sockets.
const NOT_SOCKET: [&str; 3] = ["/", "pipe:", "anon_inode:"];

/// One execve of the process view: secret argv values masked, addresses
/// in the others pseudonymised.
pub fn exec(r: &Redactor, exec: &mut Exec) {
    let masks = argv_masks(exec.argv.iter().map(|a| a.as_bytes()));
    for (arg, from) in exec.argv.iter_mut().zip(masks) {
        *arg = match from {
            Some(from) => text(r, &mask_text(arg, from)),
            None => text(r, arg),
        };
    }
}

/// For each argv element, where its masked part starts (None: kept).
fn argv_masks<'a>(argv: impl Iterator<Item = &'a [u8]>) -> Vec<Option<usize>> {
    let mut mask_next = false;
    argv.map(|arg| {
        let secret = argv_secret(arg);
        let from = match secret {
            _ if mask_next => Some(0),
            Secret::Value(at) => Some(at),
            _ => None,
        };
        mask_next = secret == Secret::Next;
        from
    })
    .collect()
}

/// The arguments of call `name` (as strace printed them) for sharing.
pub fn syscall_args(r: &Redactor, name: &str, args: &str) -> String {
    let mut bytes = args.as_bytes().to_vec();
    let name = name.strip_suffix("_time64").unwrap_or(name);
    match name {
        "execve" | "execveat" => {
            let pieces: Vec<&[u8]> = split_args(args.as_bytes()).collect();
            // execveat's first argument is a directory fd.
            let path = usize::from(name == "execveat");
            if let Some(argv) = pieces.get(path + 1) {
                mask_argv(&mut bytes, offset_in(args.as_bytes(), argv), argv);
            }
            if let Some(envp) = pieces.get(path + 2) {
                mask_envp(&mut bytes, offset_in(args.as_bytes(), envp), envp);
            }
        }
        _ if r.profile().mask_other_payload && is_socket_payload(name, args.as_bytes()) => {
            mask_all_strings(&mut bytes);
        }
        _ => {}
    }
    // Masked runs start and end at ASCII quotes or `=`: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn is_socket_payload(name: &str, args: &[u8]) -> bool {
    if SOCKET_CALLS.contains(&name) {
        return true;
    }
    if !FD_IO_CALLS.contains(&name) {
        return false;
    }
    let Some(fd) = split_args(args).next() else {
        return false;
    };
    match annotation(fd) {
        Some(kind) => !NOT_SOCKET.iter().any(|k| kind.starts_with(k.as_bytes())),
        // No `-y`: what the fd is cannot be told, so it counts as one.
        None => true,
    }
}

/// What an argv element says about secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Secret {
    None,
    /// `--password=X`, `TOKEN=X`: the value from this byte on.
    Value(usize),
    /// `--password`, `-p`: the next element.
    Next,
}

fn argv_secret(arg: &[u8]) -> Secret {
    let (name, value_at) = match memchr::memchr(b'=', arg) {
        Some(eq) => (&arg[..eq], Some(eq + 1)),
        None => (arg, None),
    };
    let upper = name.to_ascii_uppercase();
    let secret_name = SECRET_WORDS
        .iter()
        .any(|w| upper.windows(w.len()).any(|s| s == w.as_bytes()));
    let is_option = name.starts_with(b"-");
    match value_at {
        Some(at) if secret_name => Secret::Value(at),
        None if is_option
            && (secret_name || SECRET_SHORT_OPTIONS.iter().any(|o| o.as_bytes() == name)) =>
        {
            Secret::Next
        }
        _ => Secret::None,
    }
}

/// `["prog", "--token", "X", ...]` at `at` in `bytes`.
fn mask_argv(bytes: &mut [u8], at: usize, array: &[u8]) {
    let elements: Vec<(usize, &[u8], Vec<u8>)> = array_elements(array)
        .into_iter()
        .map_while(|(elem_at, elem)| unquote(elem).map(|(text, _)| (elem_at, elem, text)))
        .collect();
    let masks = argv_masks(elements.iter().map(|(_, _, text)| text.as_slice()));
    for ((elem_at, elem, text), from) in elements.iter().zip(masks) {
        if let Some(from) = from {
            mask_string(bytes, at + elem_at, elem, from, text);
        }
    }
}

/// `["HOME=/root", "TOKEN=X"]` (`-v`) at `at`: every value masked. The
/// default `0x7ffc... /* 9 vars */` shows none.
fn mask_envp(bytes: &mut [u8], at: usize, array: &[u8]) {
    for (elem_at, elem) in array_elements(array) {
        let Some((text, _)) = unquote(elem) else {
            continue;
        };
        let from = memchr::memchr(b'=', &text).map_or(0, |eq| eq + 1);
        mask_string(bytes, at + elem_at, elem, from, &text);
    }
}

/// The elements of a `[...]` array with their offsets in it.
fn array_elements(array: &[u8]) -> Vec<(usize, &[u8])> {
    let Some(inner) = array.strip_prefix(b"[") else {
        return Vec::new();
    };
    split_args(inner)
        .map(|e| (offset_in(array, e), e))
        .collect()
}

/// Masks the quoted string `elem` (at `at` in `bytes`) from the shown
/// byte that encodes its `from`-th value byte; `value` is its unquoted
/// value. Escapes before that point are walked so `\"` and `\n` count
/// once.
fn mask_string(bytes: &mut [u8], at: usize, elem: &[u8], from: usize, value: &[u8]) {
    let end = skip_string(elem, 0);
    let body_end = if elem.get(end.wrapping_sub(1)) == Some(&b'"') && end >= 2 {
        end - 1
    } else {
        end
    };
    let mut shown = 1;
    for _ in 0..from.min(value.len()) {
        shown += escaped_len(elem, shown);
    }
    let mut start = at + shown.min(body_end);
    // Not inside a character (a `\` before a multi-byte one counts 2).
    while bytes.get(start).is_some_and(|b| b & 0xc0 == 0x80) && start < at + body_end {
        start += 1;
    }
    if let Some(slot) = bytes.get_mut(start..at + body_end) {
        slot.fill(FILL);
    }
}

/// Shown bytes of the value byte that starts at `i`: `\n` is 2, `\303`
/// is 4, `\x41` is 4.
fn escaped_len(s: &[u8], i: usize) -> usize {
    match (s.get(i), s.get(i + 1)) {
        (Some(b'\\'), Some(b'x')) => 4,
        (Some(b'\\'), Some(d)) if d.is_ascii_digit() => {
            1 + s[i + 1..]
                .iter()
                .take(3)
                .take_while(|c| c.is_ascii_digit())
                .count()
        }
        (Some(b'\\'), Some(_)) => 2,
        _ => 1,
    }
}

/// Every quoted string's body in `bytes` masked.
fn mask_all_strings(bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let end = skip_string(bytes, i);
            let body_end = if end >= i + 2 && bytes.get(end - 1) == Some(&b'"') {
                end - 1
            } else {
                end
            };
            bytes[i + 1..body_end].fill(FILL);
            i = end;
        } else {
            i += 1;
        }
    }
}

/// `text` with its bytes from `from` on masked (a char boundary: after
/// `=` or at 0).
fn mask_text(text: &str, from: usize) -> String {
    let kept = text.get(..from).unwrap_or(text);
    let masked = text.len() - kept.len();
    format!("{kept}{}", char::from(FILL).to_string().repeat(masked))
}

fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

#[cfg(test)]
mod test {
    use super::super::{Profile, ProfileName};
    use super::*;

    fn redactor(name: ProfileName) -> Redactor {
        Redactor::new(Profile::named(name), &[2; 32])
    }

    #[test]
    fn execve_environment_values_and_secret_arguments_are_masked() {
        let r = redactor(ProfileName::Headers);
        // From /work/shared/strace-samples/ (app__f.txt): nothing secret.
        let plain = r#""/usr/bin/python3", ["/usr/bin/python3", "/tmp/demo/work/app.py"], 0x7ffdb9c77be0 /* 9 vars */"#;
        assert_eq!(syscall_args(&r, "execve", plain), plain);
        let args = r#""/usr/bin/mysql", ["mysql", "-u", "root", "-p", "hunter2", "--token=abc\"d", "DB_PASSWORD=pw", "--password", "s e", "x=1"], ["HOME=/root", "API_TOKEN=tok\n", "EMPTY"]"#;
        let want = r#""/usr/bin/mysql", ["mysql", "-u", "root", "-p", "xxxxxxx", "--token=xxxxxx", "DB_PASSWORD=xx", "--password", "xxx", "x=1"], ["HOME=xxxxx", "API_TOKEN=xxxxx", "xxxxx"]"#;
        assert_eq!(syscall_args(&r, "execve", args), want);
        let at = r#"3</usr/bin>, "env", ["env", "--secret", "v"], ["K=v"], 0"#;
        let want = r#"3</usr/bin>, "env", ["env", "--secret", "x"], ["K=x"], 0"#;
        assert_eq!(syscall_args(&r, "execveat", at), want);
    }

    #[test]
    fn socket_payload_is_masked_under_strict_and_paths_are_kept() {
        let strict = redactor(ProfileName::Strict);
        // From /work/shared/strace-samples/ (-y): a socket and a file.
        let send = r#"5<TCP:[127.0.0.1:53052->127.0.0.1:18765]>, "GET / HTTP/1.1\r\nHost: 127.0.0.1:"..., 79, MSG_NOSIGNAL, NULL, 0"#;
        let got = syscall_args(&strict, "sendto", send);
        assert_eq!(got.len(), send.len());
        assert!(got.starts_with(r#"5<TCP:[127.0.0.1:53052->127.0.0.1:18765]>, "xxxx"#));
        assert!(got.ends_with(r#"x"..., 79, MSG_NOSIGNAL, NULL, 0"#));
        let file = r#"3</etc/hostname>, "myhost\n", 4096"#;
        assert_eq!(syscall_args(&strict, "read", file), file);
        let bare = r#"3, "secret", 6"#;
        assert_eq!(syscall_args(&strict, "write", bare), r#"3, "xxxxxx", 6"#);
        let open = r#"AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC"#;
        assert_eq!(syscall_args(&strict, "openat", open), open);
        // `headers` keeps payload (it masks only what looks secret).
        assert_eq!(
            syscall_args(&redactor(ProfileName::Headers), "sendto", send),
            send
        );
    }

    #[test]
    fn exec_rows_lose_secret_values() {
        let r = redactor(ProfileName::Addresses);
        let mut e = Exec {
            path: "/usr/bin/curl".into(),
            argv: ["curl", "-H", "X=1", "--token", "t0k", "AUTH_KEY=k"]
                .map(String::from)
                .to_vec(),
            ..Exec::default()
        };
        exec(&r, &mut e);
        assert_eq!(
            e.argv,
            ["curl", "-H", "X=1", "--token", "xxx", "AUTH_KEY=x"]
        );
    }

    #[test]
    fn a_whole_trace_keeps_its_numbers_and_loses_its_secrets() {
        let log = r#"100 10:00:00.000100 execve("/usr/bin/python3", ["python3", "c.py", "--password", "SECRET7", "10.1.2.3"], 0x7ffc /* 9 vars */) = 0 <0.000300>
100 10:00:00.001000 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3 <0.000010>
100 10:00:00.002000 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0 <0.000050>
100 10:00:00.002500 connect(4, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED (Connection refused) <0.000020>
100 10:00:00.003000 sendto(3, "token=SECRET8", 13, 0, NULL, 0) = 13 <0.000020>
100 10:00:00.004000 this is no syscall SECRET9 127.0.0.1
100 10:00:00.005000 +++ exited with 0 +++
"#;
        let original = crate::strace::parse_str("prod-db.4990", log).unwrap();
        let shared = trace(&redactor(ProfileName::Strict), &original);
        let all = crate::strace::Query::default();
        let (before, after) = (original.syscalls(&all), shared.syscalls(&all));
        assert_eq!(before.total, after.total);
        let shown = serde_json::to_string(&(&after.items, &shared)).unwrap();
        for secret in ["SECRET", "127.0.0.1", "10.1.2.3", "\"::1\"", "prod-db"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        for (b, a) in before.items.iter().zip(&after.items) {
            assert_eq!(
                (&b.syscall, b.duration, b.retval, &b.errno, b.ts),
                (&a.syscall, a.duration, a.retval, &a.errno, a.ts)
            );
        }
        assert!(shown.contains("sin_port=htons(8080)"), "ports kept");
        assert!(after.items[0].args.contains(r#""--password", "xxxxxxx""#));
        assert_eq!(shared.inputs[0].name, "log1.4990");
        assert_eq!(shared.unparsed.len(), original.unparsed.len());
        // `headers` keeps addresses and payload; secrets in argv still go.
        let kept = trace(&redactor(ProfileName::Headers), &original);
        let shown = serde_json::to_string(&kept.syscalls(&all).items).unwrap();
        assert!(shown.contains("127.0.0.1") && !shown.contains("SECRET7"));
    }

    #[test]
    fn odd_arguments_never_panic() {
        let r = redactor(ProfileName::Strict);
        for args in [
            "",
            "\"",
            "[\"",
            "\"a\", [\"--password\", \"\\",
            "\"a\", [\"-p\"], [\"\\x4",
            "3<>, \"\\\"",
        ] {
            for name in ["execve", "execveat", "write", "sendmsg"] {
                let _ = syscall_args(&r, name, args);
            }
        }
    }
}
