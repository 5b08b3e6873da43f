//! Reading the values strace prints inside a call: splitting an argument
//! list at its top-level commas, C-style quoted strings (escapes, octal and
//! hex bytes, `"..."...` truncation), string arrays (`["ls", "-l", ...]`)
//! and the `-y`/`-yy` fd annotations (`3</etc/hosts>`,
//! `5<TCP:[127.0.0.1:5->127.0.0.1:8080]>`, `1</dev/null<char 1:3>>`).
//!
//! Everything here works on bytes, never panics, and tolerates garbage
//! (program output spliced into a trace line): a value it cannot read is
//! `None`, not an error.

/// Splits an argument list at its top-level commas, honouring quotes,
/// `()`, `[]`, `{}`, `/* comments */` and fd annotations. Each piece is
/// trimmed of surrounding spaces.
pub(crate) fn split_args(args: &[u8]) -> SplitArgs<'_> {
    SplitArgs { rest: args }
}

pub(crate) struct SplitArgs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SplitArgs<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let s = self.rest;
        let end = top_level_comma(s);
        let piece = &s[..end];
        self.rest = if end < s.len() { &s[end + 1..] } else { &[] };
        Some(trim(piece))
    }
}

/// Index of the first comma at nesting depth 0, or `s.len()`.
fn top_level_comma(s: &[u8]) -> usize {
    let mut depth: i32 = 0;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'"' => {
                i = skip_string(s, i);
                continue;
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                i = match find(&s[i + 2..], b"*/") {
                    Some(p) => i + 2 + p + 2,
                    None => s.len(),
                };
                continue;
            }
            b'<' if i > 0 && (s[i - 1].is_ascii_alphanumeric()) => {
                i = skip_annotation(s, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth <= 0 => return i,
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// `s[start]` is `"`; returns the index just past the closing quote (or
/// `s.len()` when the string never closes).
pub(crate) fn skip_string(s: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    s.len()
}

/// `s[start]` is the `<` of an fd annotation; returns the index just past
/// its closing `>`. Brackets and nested `<...>` inside are balanced, so the
/// `->` of a socket pair does not end it.
pub(crate) fn skip_annotation(s: &[u8], start: usize) -> usize {
    let mut angle = 0i32;
    let mut square = 0i32;
    let mut i = start;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 1,
            b'<' => angle += 1,
            b'[' => square += 1,
            b']' => square -= 1,
            b'>' if square <= 0 => {
                angle -= 1;
                if angle == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    s.len()
}

pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// A C string as strace prints it: `"a\nb\303\251"` with an optional `...`
/// after the closing quote when `-s` cut it short. Returns the bytes and
/// whether it was truncated.
pub(crate) fn unquote(arg: &[u8]) -> Option<(Vec<u8>, bool)> {
    let arg = trim(arg);
    if arg.first() != Some(&b'"') {
        return None;
    }
    let end = skip_string(arg, 0);
    if end < 2 || arg.get(end - 1) != Some(&b'"') {
        return None;
    }
    let body = &arg[1..end - 1];
    let truncated = arg[end..].starts_with(b"...");
    Some((unescape(body), truncated))
}

/// [`unquote`] that borrows when the string has no escapes.
pub(crate) fn unquote_cow(arg: &[u8]) -> Option<(std::borrow::Cow<'_, [u8]>, bool)> {
    let arg = trim(arg);
    if arg.first() != Some(&b'"') {
        return None;
    }
    let end = skip_string(arg, 0);
    if end < 2 || arg.get(end - 1) != Some(&b'"') {
        return None;
    }
    let body = &arg[1..end - 1];
    let truncated = arg[end..].starts_with(b"...");
    if memchr::memchr(b'\\', body).is_none() {
        Some((std::borrow::Cow::Borrowed(body), truncated))
    } else {
        Some((std::borrow::Cow::Owned(unescape(body)), truncated))
    }
}

/// Decodes C escapes: `\n \t \r \v \f \a \b \\ \" \' \ooo \xHH`.
pub(crate) fn unescape(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = body.get(i + 1) else {
            out.push(b'\\');
            break;
        };
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'f' => out.push(0x0c),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 {
                    match body.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                            n += 1;
                        }
                        None => break,
                    }
                }
                out.push(v as u8);
            }
            b'0'..=b'7' => {
                let mut v: u32 = (e - b'0') as u32;
                let mut n = 1;
                while n < 3 {
                    match body.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    out
}

/// `["ls", "-l", ...]`: the strings of an array, and whether strace cut
/// the array short. Stops after `max_items`.
pub(crate) fn string_array(arg: &[u8], max_items: usize) -> Option<(Vec<Vec<u8>>, bool)> {
    let arg = trim(arg);
    let inner = arg.strip_prefix(b"[")?;
    let inner = inner.strip_suffix(b"]").unwrap_or(inner);
    let mut items = Vec::new();
    let mut truncated = false;
    for piece in split_args(inner) {
        if piece == b"..." {
            truncated = true;
            break;
        }
        if items.len() >= max_items {
            truncated = true;
            break;
        }
        match unquote(piece) {
            Some((s, _)) => items.push(s),
            None => break,
        }
    }
    Some((items, truncated))
}

/// The text inside an fd annotation: `3</etc/hosts>` gives `/etc/hosts`,
/// `AT_FDCWD</tmp>` gives `/tmp`, `1</dev/null<char 1:3>>` gives
/// `/dev/null<char 1:3>`. Octal escapes (`\74` for `<`) are decoded.
pub(crate) fn annotation(arg: &[u8]) -> Option<Vec<u8>> {
    let arg = trim(arg);
    let lt = memchr::memchr(b'<', arg)?;
    if lt == 0 || !arg[lt - 1].is_ascii_alphanumeric() {
        return None;
    }
    let head = &arg[..lt];
    if !(head.iter().all(|b| b.is_ascii_digit()) || head == b"AT_FDCWD") {
        return None;
    }
    let end = skip_annotation(arg, lt);
    if end <= lt + 1 || arg.get(end - 1) != Some(&b'>') {
        return None;
    }
    Some(unescape(&arg[lt + 1..end - 1]))
}

/// Parses a decimal integer (optionally negative) spanning all of `s`.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

pub(crate) fn parse_u32(s: &[u8]) -> Option<u32> {
    parse_i64(s).and_then(|v| u32::try_from(v).ok())
}

/// Parses `SECS.FRACTION` (any number of fraction digits, extra digits past
/// nanoseconds ignored) into nanoseconds.
pub(crate) fn parse_decimal_ns(s: &[u8]) -> Option<i64> {
    let mut secs: i64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if i >= 10 {
            return None;
        }
        secs = secs * 10 + (s[i] - b'0') as i64;
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut nanos: i64 = 0;
    let mut digits = 0;
    if i < s.len() {
        if s[i] != b'.' {
            return None;
        }
        for &d in &s[i + 1..] {
            if !d.is_ascii_digit() {
                return None;
            }
            if digits < 9 {
                nanos = nanos * 10 + (d - b'0') as i64;
                digits += 1;
            }
        }
    }
    while digits < 9 {
        nanos *= 10;
        digits += 1;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Lossy UTF-8, capped at `max` bytes (cut on a character boundary).
pub(crate) fn lossy(s: &[u8], max: usize) -> String {
    let s = if s.len() > max { &s[..max] } else { s };
    let mut out = String::from_utf8_lossy(s).into_owned();
    if out.len() > max {
        let mut cut = max;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    fn pieces(s: &str) -> Vec<String> {
        split_args(s.as_bytes())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    #[test]
    fn splits_at_top_level_commas_only() {
        assert_eq!(
            pieces(r#"AT_FDCWD, "/a,b\",c", O_RDONLY|O_CLOEXEC"#),
            vec!["AT_FDCWD", r#""/a,b\",c""#, "O_RDONLY|O_CLOEXEC"]
        );
        assert_eq!(
            pieces("3, {st_mode=S_IFREG|0644, st_size=1, ...}, [1, 2], 0x3 /* a, b */"),
            vec![
                "3",
                "{st_mode=S_IFREG|0644, st_size=1, ...}",
                "[1, 2]",
                "0x3 /* a, b */"
            ]
        );
        assert_eq!(
            pieces("5<TCP:[127.0.0.1:5->127.0.0.1:8080]>, \"x\", 1"),
            vec!["5<TCP:[127.0.0.1:5->127.0.0.1:8080]>", "\"x\"", "1"]
        );
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            unquote(br#""a\nb\303\251\x41\"""#),
            Some((b"a\nb\xc3\xa9A\"".to_vec(), false))
        );
        assert_eq!(unquote(br#""abc"..."#), Some((b"abc".to_vec(), true)));
        assert_eq!(unquote(b"NULL"), None);
        assert_eq!(unquote(b"\"open"), None);
    }

    #[test]
    fn arrays_and_annotations() {
        let (items, cut) = string_array(br#"["ls", "-l", ...]"#, 10).unwrap();
        assert_eq!(items, vec![b"ls".to_vec(), b"-l".to_vec()]);
        assert!(cut);
        assert_eq!(annotation(b"3</etc/hosts>"), Some(b"/etc/hosts".to_vec()));
        assert_eq!(annotation(b"AT_FDCWD</tmp>"), Some(b"/tmp".to_vec()));
        assert_eq!(
            annotation(b"1</dev/null<char 1:3>>"),
            Some(b"/dev/null<char 1:3>".to_vec())
        );
        assert_eq!(
            annotation(b"4<TCP:[127.0.0.1:5->127.0.0.1:80]>"),
            Some(b"TCP:[127.0.0.1:5->127.0.0.1:80]".to_vec())
        );
        assert_eq!(annotation(br"3</tmp/a\74b>"), Some(b"/tmp/a<b".to_vec()));
        assert_eq!(annotation(b"x<y>"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_decimal_ns(b"0.000123"), Some(123_000));
        assert_eq!(parse_decimal_ns(b"1.5"), Some(1_500_000_000));
        assert_eq!(parse_decimal_ns(b"0.000287867"), Some(287_867));
        assert_eq!(parse_decimal_ns(b"1.x"), None);
        // Found by fuzzing: ten digits of seconds overflowed.
        assert_eq!(parse_decimal_ns(b"9999999999.1"), None);
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"99999999999999999999"), None);
        assert_eq!(lossy("é".as_bytes(), 1), "");
    }
}
