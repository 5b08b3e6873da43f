//! One line of strace output, classified: the prefix (`PID `, `[pid N] `,
//! `-Y` `PID<comm> `, `-t/-tt/-ttt/-r` timestamps, `-n` syscall numbers,
//! `-i` instruction pointers) and the body (a call, an unfinished or
//! resumed half, a signal, an exit, an `strace:` message, a `-k` stack
//! frame, a hex dump line, ...).
//!
//! This layer holds no state: pairing unfinished halves, joining spliced
//! lines and reading `-c` tables happen in the builder.

use super::text::{self, parse_decimal_ns, parse_i64, parse_u32};

/// The timestamp column of a line, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ts {
    None,
    /// `-t`/`-tt`: nanoseconds since midnight (the log carries no date).
    TimeOfDay(i64),
    /// `-ttt`: nanoseconds since the epoch.
    Epoch(i64),
    /// `-r`: nanoseconds since the previous line.
    Relative(i64),
}

#[derive(Debug)]
pub(crate) struct Line<'a> {
    pub pid: Option<u32>,
    pub ts: Ts,
    pub body: Body<'a>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Body<'a> {
    /// `name(args...) = ret` or `name(args... <unfinished ...>`.
    Call {
        name: &'a [u8],
        args: &'a [u8],
        end: End<'a>,
    },
    /// `<... name resumed>args...) = ret`.
    Resumed {
        name: &'a [u8],
        args: &'a [u8],
        end: End<'a>,
    },
    /// A call that stops before its result: something was spliced into it.
    Incomplete,
    /// `--- SIGCHLD {...} ---`.
    Signal {
        sig: &'a [u8],
    },
    /// `--- stopped by SIGSTOP ---`.
    Stopped {
        sig: &'a [u8],
    },
    /// `+++ exited with N +++`.
    Exited(i32),
    /// `+++ killed by SIG [(core dumped)] +++`.
    Killed {
        sig: &'a [u8],
        core: bool,
    },
    /// `+++ superseded by execve in pid N +++`.
    Superseded(u32),
    /// `strace: Process N attached [with M threads]`.
    Attached {
        pid: u32,
    },
    /// `strace: Process N detached`.
    Detached {
        pid: u32,
    },
    /// Any other `strace: ...` message.
    Note,
    /// `[ Process PID=N runs in 32 bit mode. ]`.
    Personality,
    /// `-k`: ` > /lib/libc.so.6(open+0x12) [0x1234]`.
    Stack,
    /// `-e read=/-e write=` hex dump: ` | 00000  68 65 ...  he.. |`.
    Dump,
    Blank,
    Unknown,
}

#[derive(Debug, PartialEq)]
pub(crate) enum End<'a> {
    Return(Ret<'a>),
    Unfinished,
    /// ` <detached ...>`: strace let go of the process mid-call.
    Detached,
}

/// What a call returned.
#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) struct Ret<'a> {
    pub value: RetVal,
    /// `ENOENT`, `ERESTARTSYS`, ... or empty.
    pub errno: &'a [u8],
    /// The text after `= `, without the `<duration>`.
    pub tail: &'a [u8],
    /// `-T` duration in nanoseconds.
    pub duration: Option<i64>,
    pub injected: bool,
}

#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) enum RetVal {
    /// `= ?`: the call did not return (exit, kill, exec).
    Unknown,
    Num(i64),
    Hex(u64),
    /// Something else (`SIGCHLD` from rt_sigtimedwait, ...).
    Other,
}

impl Ret<'_> {
    /// True when strace saw the call return (what `strace -c` counts).
    pub fn returned(&self) -> bool {
        self.value != RetVal::Unknown || !self.errno.is_empty()
    }
}

pub(crate) fn parse(line: &[u8]) -> Line<'_> {
    let mut s = line;
    if let [rest @ .., b'\r'] = s {
        s = rest;
    }
    let mut pid = None;
    if let Some(rest) = s.strip_prefix(b"[pid") {
        if let Some((p, after)) = bracket_pid(rest) {
            pid = Some(p);
            s = after;
        }
    } else if s.first().is_some_and(u8::is_ascii_digit) {
        let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
        match s.get(n) {
            Some(b' ') => {
                if let Some(p) = parse_u32(&s[..n]) {
                    pid = Some(p);
                    s = skip_spaces(&s[n..]);
                }
            }
            Some(b'<') => {
                // -Y: `PID<comm> `
                if let (Some(p), Some(gt)) = (parse_u32(&s[..n]), memchr::memchr(b'>', &s[n..])) {
                    pid = Some(p);
                    s = skip_spaces(&s[n + gt + 1..]);
                }
            }
            _ => {}
        }
    }
    let (ts, after) = timestamp(s);
    s = after;
    s = skip_numbers_and_ip(s);
    Line {
        pid,
        ts,
        body: body(s),
    }
}

/// After `[pid`: `  123] ` or ` 123<comm>] `.
fn bracket_pid(rest: &[u8]) -> Option<(u32, &[u8])> {
    let rest = skip_spaces(rest);
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let pid = parse_u32(&rest[..n])?;
    let close = memchr::memchr(b']', &rest[n..])? + n;
    if rest[n] != b']' && rest[n] != b'<' {
        return None;
    }
    Some((pid, skip_one_space(&rest[close + 1..])))
}

fn skip_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| **b == b' ').count();
    &s[n..]
}

fn skip_one_space(s: &[u8]) -> &[u8] {
    s.strip_prefix(b" ").unwrap_or(s)
}

/// Reads `HH:MM:SS[.frac] `, `SECS.frac ` or a padded `-r` value, plus the
/// `(+ 0.000123) ` that `-r` adds next to an absolute time.
fn timestamp(s: &[u8]) -> (Ts, &[u8]) {
    let lead = s.iter().take_while(|b| **b == b' ').count();
    let t = &s[lead..];
    if !t.first().is_some_and(u8::is_ascii_digit) {
        return (Ts::None, s);
    }
    let Some(sp) = memchr::memchr(b' ', t) else {
        return (Ts::None, s);
    };
    let field = &t[..sp];
    let mut rest = &t[sp + 1..];
    let ts = if field.get(2) == Some(&b':') {
        match time_of_day(field) {
            Some(ns) => Ts::TimeOfDay(ns),
            None => return (Ts::None, s),
        }
    } else {
        let Some(ns) = parse_decimal_ns(field) else {
            return (Ts::None, s);
        };
        let int_len = memchr::memchr(b'.', field).unwrap_or(field.len());
        // A plain number is only a timestamp with a fraction; epoch
        // seconds have at least 9 digits, `-r` deltas fewer.
        if int_len == field.len() {
            return (Ts::None, s);
        }
        if int_len >= 9 {
            Ts::Epoch(ns)
        } else {
            Ts::Relative(ns)
        }
    };
    if let Some(r) = rest.strip_prefix(b"(+") {
        if let Some(close) = memchr::memchr(b')', r) {
            rest = skip_one_space(&r[close + 1..]);
        }
    }
    (ts, rest)
}

fn time_of_day(f: &[u8]) -> Option<i64> {
    if f.len() < 8 || f[5] != b':' || !f[6].is_ascii_digit() || !f[7].is_ascii_digit() {
        return None;
    }
    let h = parse_i64(&f[0..2])?;
    let m = parse_i64(&f[3..5])?;
    let s = parse_decimal_ns(&f[6..])?;
    if h > 23 || m > 59 || s >= 61_000_000_000 {
        return None;
    }
    Some((h * 3600 + m * 60) * 1_000_000_000 + s)
}

/// `-n` prints `[  59] `, `-i` prints `[00007f...] `.
fn skip_numbers_and_ip(mut s: &[u8]) -> &[u8] {
    while s.first() == Some(&b'[') {
        let Some(close) = memchr::memchr(b']', s) else {
            break;
        };
        let inner = &s[1..close];
        if inner.is_empty()
            || !inner
                .iter()
                .all(|b| *b == b' ' || *b == b'?' || b.is_ascii_hexdigit())
        {
            break;
        }
        s = skip_one_space(&s[close + 1..]);
    }
    s
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn body(s: &[u8]) -> Body<'_> {
    if text::trim(s).is_empty() {
        return Body::Blank;
    }
    match s[0] {
        b'+' if s.starts_with(b"+++ ") => return exit_line(s),
        b'-' if s.starts_with(b"--- ") => return signal_line(s),
        b'<' if s.starts_with(b"<... ") => return resumed(s),
        b's' if s.starts_with(b"strace: ") => return strace_message(&s[8..]),
        b' ' | b'>' => {
            let t = skip_spaces(s);
            if t.starts_with(b"> ") {
                return Body::Stack;
            }
            if s.starts_with(b" | ")
                && s.get(3..8)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
            {
                return Body::Dump;
            }
            return Body::Unknown;
        }
        b'[' if s.starts_with(b"[ Process PID=") => return Body::Personality,
        _ => {}
    }
    let n = s.iter().take_while(|b| is_ident(**b)).count();
    if n == 0 || n > 64 || s.get(n) != Some(&b'(') {
        return Body::Unknown;
    }
    let name = &s[..n];
    match call_end(&s[n + 1..]) {
        Some((args, end)) => Body::Call { name, args, end },
        None => Body::Incomplete,
    }
}

fn exit_line(s: &[u8]) -> Body<'_> {
    let inner = text::trim(s.strip_prefix(b"+++ ").unwrap_or(s));
    let Some(inner) = inner.strip_suffix(b"+++") else {
        return Body::Unknown;
    };
    let inner = text::trim(inner);
    if let Some(code) = inner.strip_prefix(b"exited with ") {
        return parse_i64(code).map_or(Body::Unknown, |c| Body::Exited(c as i32));
    }
    if let Some(rest) = inner.strip_prefix(b"killed by ") {
        let (sig, core) = match rest.strip_suffix(b" (core dumped)") {
            Some(sig) => (sig, true),
            None => (rest, false),
        };
        return Body::Killed { sig, core };
    }
    if let Some(pid) = inner.strip_prefix(b"superseded by execve in pid ") {
        return parse_u32(pid).map_or(Body::Unknown, Body::Superseded);
    }
    Body::Unknown
}

fn signal_line(s: &[u8]) -> Body<'_> {
    let inner = &s[4..];
    if !text::trim(inner).ends_with(b"---") {
        return Body::Unknown;
    }
    if let Some(rest) = inner.strip_prefix(b"stopped by ") {
        let n = rest.iter().take_while(|b| is_ident(**b)).count();
        return Body::Stopped { sig: &rest[..n] };
    }
    let n = inner.iter().take_while(|b| is_ident(**b)).count();
    if n == 0 {
        return Body::Unknown;
    }
    Body::Signal { sig: &inner[..n] }
}

fn resumed(s: &[u8]) -> Body<'_> {
    let rest = &s[5..];
    let n = rest.iter().take_while(|b| is_ident(**b)).count();
    let Some(after) = rest[n..].strip_prefix(b" resumed>") else {
        return Body::Unknown;
    };
    if n == 0 {
        return Body::Unknown;
    }
    match call_end(after) {
        Some((args, end)) => Body::Resumed {
            name: &rest[..n],
            args,
            end,
        },
        None => Body::Incomplete,
    }
}

fn strace_message(s: &[u8]) -> Body<'_> {
    if let Some(rest) = s.strip_prefix(b"Process ") {
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if let Some(pid) = parse_u32(&rest[..n]) {
            let what = &rest[n..];
            if what.starts_with(b" attached") {
                return Body::Attached { pid };
            }
            if what.starts_with(b" detached") {
                return Body::Detached { pid };
            }
        }
    }
    Body::Note
}

/// Splits what follows `name(` (or `resumed>`) into the argument text and
/// how the call ended; `None` when the line stops before its result.
fn call_end(rest: &[u8]) -> Option<(&[u8], End<'_>)> {
    let t = trim_end(rest);
    if let Some(args) = t.strip_suffix(b"<unfinished ...>") {
        return Some((trim_end(args), End::Unfinished));
    }
    if let Some(args) = t.strip_suffix(b"<detached ...>") {
        return Some((trim_end(args), End::Detached));
    }
    let (body, duration) = split_duration(t);
    let (args, tail) = split_result(body)?;
    Some((args, End::Return(parse_ret(tail, duration))))
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

/// Strips a trailing ` <0.000123>`.
fn split_duration(t: &[u8]) -> (&[u8], Option<i64>) {
    if t.last() == Some(&b'>') {
        if let Some(lt) = memchr::memrchr(b'<', t) {
            if lt > 0 && t[lt - 1] == b' ' {
                if let Some(ns) = parse_decimal_ns(&t[lt + 1..t.len() - 1]) {
                    return (trim_end(&t[..lt]), Some(ns));
                }
            }
        }
    }
    (t, None)
}

/// Finds the rightmost `)  = ` and splits there.
fn split_result(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut end = body.len();
    while let Some(p) = memchr::memrchr(b'=', &body[..end]) {
        end = p;
        if p == 0 || body[p - 1] != b' ' || body.get(p + 1) != Some(&b' ') {
            continue;
        }
        let mut q = p - 1;
        while q > 0 && body[q - 1] == b' ' {
            q -= 1;
        }
        if q > 0 && body[q - 1] == b')' {
            return Some((&body[..q - 1], &body[p + 2..]));
        }
    }
    None
}

fn parse_ret(tail: &[u8], duration: Option<i64>) -> Ret<'_> {
    let tail = text::trim(tail);
    let n = tail
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'?' || **b == b'_')
        .count();
    let tok = &tail[..n];
    let value = if tok == b"?" {
        RetVal::Unknown
    } else if let Some(hex) = tok.strip_prefix(b"0x") {
        std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .map_or(RetVal::Other, RetVal::Hex)
    } else {
        parse_i64(tok).map_or(RetVal::Other, RetVal::Num)
    };
    let mut rest = &tail[n..];
    if rest.first() == Some(&b'<') {
        // -y annotation on the returned fd: skip it (read via text::annotation).
        rest = &rest[text::skip_annotation(rest, 0)..];
    }
    let rest = text::trim(rest);
    let e = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let errno = if e > 1 && rest[0] == b'E' && rest[..e].iter().all(|b| !b.is_ascii_lowercase()) {
        &rest[..e]
    } else {
        &b""[..]
    };
    let injected = rest.ends_with(b"(INJECTED)");
    Ret {
        value,
        errno,
        tail,
        duration,
        injected,
    }
}

/// Splits a line at a spliced `strace: Process N attached|detached`
/// message: `(head, message)`.
pub(crate) fn split_spliced(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let p = memchr::memmem::rfind(line, b"strace: Process ")?;
    if p == 0 {
        return None;
    }
    let msg = &line[p..];
    if msg
        .windows(9)
        .any(|w| w == b" attached" || w == b" detached")
    {
        Some((&line[..p], msg))
    } else {
        None
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn prefixes() {
        let l = parse(b"25970 05:12:21.061241 brk(NULL)  = 0x556ddac77000 <0.000009>");
        assert_eq!(l.pid, Some(25970));
        assert_eq!(
            l.ts,
            Ts::TimeOfDay((5 * 3600 + 12 * 60 + 21) * 1_000_000_000 + 61_241_000)
        );
        let Body::Call { name, args, end } = l.body else {
            panic!()
        };
        assert_eq!(name, b"brk");
        assert_eq!(args, b"NULL");
        let End::Return(r) = end else { panic!() };
        assert_eq!(r.value, RetVal::Hex(0x556ddac77000));
        assert_eq!(r.duration, Some(9_000));

        let l = parse(b"[pid  4674] 1795756340.404544 exit_group(0) = ?");
        assert_eq!(l.pid, Some(4674));
        assert_eq!(l.ts, Ts::Epoch(1_795_756_340_404_544_000));
        let l = parse(b"25951      0.000204 brk(NULL) = 0");
        assert_eq!((l.pid, l.ts), (Some(25951), Ts::Relative(204_000)));
        let l = parse(b"     0.000204 brk(NULL) = 0");
        assert_eq!((l.pid, l.ts), (None, Ts::Relative(204_000)));
        let l = parse(b"26003 05:12:21.949518 (+     0.000359) brk(NULL) = 0");
        assert!(matches!(l.body, Body::Call { .. }));
        let l = parse(b"26336<sh> brk(NULL) = 0");
        assert_eq!(l.pid, Some(26336));
        let l = parse(b"[  59] [00007feee86f2ad7] execve(\"/bin/true\", [\"/bin/true\"], 0x7ff /* 9 vars */) = 0");
        assert!(matches!(
            l.body,
            Body::Call {
                name: b"execve",
                ..
            }
        ));
        let l = parse(b"25908 05:12:19 brk(NULL) = 0");
        assert_eq!(
            l.ts,
            Ts::TimeOfDay((5 * 3600 + 12 * 60 + 19) * 1_000_000_000)
        );
    }

    #[test]
    fn results() {
        let l = parse(br#"openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory) <0.000010>"#);
        let Body::Call {
            end: End::Return(r),
            args,
            ..
        } = l.body
        else {
            panic!()
        };
        assert_eq!(args, br#"AT_FDCWD, "/x", O_RDONLY"#);
        assert_eq!((r.value, r.errno), (RetVal::Num(-1), &b"ENOENT"[..]));
        let l = parse(b"read(0,  <unfinished ...>");
        assert!(matches!(
            l.body,
            Body::Call {
                end: End::Unfinished,
                ..
            }
        ));
        let l = parse(b"<... clone3 resumed> => {parent_tid=[26232]}, 88) = 26232");
        assert!(matches!(
            l.body,
            Body::Resumed {
                name: b"clone3",
                end: End::Return(Ret {
                    value: RetVal::Num(26232),
                    ..
                }),
                ..
            }
        ));
        let l = parse(b"<... read resumed> <unfinished ...>) = ?");
        assert!(matches!(
            l.body,
            Body::Resumed {
                end: End::Return(Ret {
                    value: RetVal::Unknown,
                    ..
                }),
                ..
            }
        ));
        let l = parse(
            b"clock_nanosleep(X, 0, {}, NULL) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        );
        let Body::Call {
            end: End::Return(r),
            ..
        } = l.body
        else {
            panic!()
        };
        assert!(r.returned());
        assert_eq!(r.errno, b"ERESTART_RESTARTBLOCK");
        let l =
            parse(b"openat(AT_FDCWD</tmp>, \"a\", O_RDONLY) = 3</dev/null<char 1:3>> <0.000011>");
        let Body::Call {
            end: End::Return(r),
            ..
        } = l.body
        else {
            panic!()
        };
        assert_eq!(
            (r.value, r.errno, r.duration),
            (RetVal::Num(3), &b""[..], Some(11_000))
        );
        let l =
            parse(b"getdents64(3, 0x5, 32768) = -1 EIO (Input/output error) (INJECTED) <0.000007>");
        let Body::Call {
            end: End::Return(r),
            ..
        } = l.body
        else {
            panic!()
        };
        assert!(r.injected);
        let l = parse(br#"write(1, ") = 5", 5) = 5"#);
        let Body::Call { args, .. } = l.body else {
            panic!()
        };
        assert_eq!(args, br#"1, ") = 5", 5"#);
        let l = parse(b"wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 4675");
        assert!(matches!(
            l.body,
            Body::Call {
                end: End::Return(Ret {
                    value: RetVal::Num(4675),
                    ..
                }),
                ..
            }
        ));
    }

    #[test]
    fn other_bodies() {
        assert_eq!(parse(b"+++ exited with 3 +++").body, Body::Exited(3));
        assert_eq!(
            parse(b"[pid 5] +++ killed by SIGABRT (core dumped) +++").body,
            Body::Killed {
                sig: b"SIGABRT",
                core: true
            }
        );
        assert_eq!(
            parse(b"1 +++ superseded by execve in pid 7 +++").body,
            Body::Superseded(7)
        );
        assert_eq!(
            parse(b"--- SIGCHLD {si_signo=SIGCHLD} ---").body,
            Body::Signal { sig: b"SIGCHLD" }
        );
        assert_eq!(
            parse(b"--- stopped by SIGSTOP ---").body,
            Body::Stopped { sig: b"SIGSTOP" }
        );
        assert_eq!(
            parse(b"strace: Process 9 attached with 3 threads").body,
            Body::Attached { pid: 9 }
        );
        assert_eq!(
            parse(b"strace: Process 9 detached").body,
            Body::Detached { pid: 9 }
        );
        assert_eq!(
            parse(b" > /lib/libc.so.6(open+0x1) [0x2]").body,
            Body::Stack
        );
        assert_eq!(parse(b" | 00000  68 65  he |").body, Body::Dump);
        assert_eq!(
            parse(b"write(1, \"hello\\n\", 6hello").body,
            Body::Incomplete
        );
        assert_eq!(parse(b") = 6").body, Body::Unknown);
        assert_eq!(parse(b"hello world").body, Body::Unknown);
        assert_eq!(
            split_spliced(b"pause(strace: Process 4677 attached"),
            Some((&b"pause("[..], &b"strace: Process 4677 attached"[..]))
        );
    }
}
