//! The `strace -c` / `-C` summary table, read as a summary (never as
//! system calls): the default layout (`% time  seconds  usecs/call  calls
//! errors syscall`), `-w`, and custom `-U` column sets, with or without the
//! errors column filled in.

use serde::{Deserialize, Serialize};

/// One `strace -c` table found in the input.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SummaryTable {
    /// Input file index and line of the header.
    pub input: u16,
    pub line: u32,
    /// `System call usage summary for 32 bit mode:` when strace printed one.
    pub title: Option<String>,
    pub rows: Vec<TableRow>,
    pub total: Option<TableRow>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TableRow {
    pub syscall: String,
    pub calls: u64,
    pub errors: u64,
    /// The `seconds` column, in nanoseconds.
    pub seconds_ns: Option<i64>,
    pub percent: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Col {
    Percent,
    Seconds,
    UsecsPerCall,
    Calls,
    Errors,
    Syscall,
    Other,
}

/// Reads a header line into its columns.
pub(crate) fn header(line: &[u8]) -> Option<Vec<Col>> {
    let s = std::str::from_utf8(line).ok()?;
    let toks: Vec<&str> = s.split_whitespace().collect();
    if !toks.contains(&"calls") || !toks.contains(&"syscall") {
        return None;
    }
    let mut cols = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let c = match toks[i] {
            "%" if toks.get(i + 1) == Some(&"time") => {
                i += 1;
                Col::Percent
            }
            "seconds" => Col::Seconds,
            "usecs/call" => Col::UsecsPerCall,
            "calls" => Col::Calls,
            "errors" => Col::Errors,
            "syscall" => Col::Syscall,
            "shortest" | "longest" => Col::Other,
            _ => return None,
        };
        cols.push(c);
        i += 1;
    }
    Some(cols)
}

pub(crate) fn is_title(line: &[u8]) -> bool {
    line.starts_with(b"System call usage summary for")
}

pub(crate) fn is_separator(line: &[u8]) -> bool {
    let t = super::text::trim(line);
    !t.is_empty() && t.iter().all(|b| *b == b'-' || *b == b' ')
}

/// Reads a row under `cols`. A blank errors cell is allowed.
pub(crate) fn row(cols: &[Col], line: &[u8]) -> Option<TableRow> {
    let s = std::str::from_utf8(line).ok()?;
    let toks: Vec<&str> = s.split_whitespace().collect();
    let mut name = None;
    let mut nums = Vec::new();
    for t in &toks {
        if t.parse::<f64>().is_ok() {
            nums.push(*t);
        } else if name.is_none() {
            name = Some(*t);
        } else {
            return None;
        }
    }
    let name = name?;
    let numeric: Vec<Col> = cols
        .iter()
        .copied()
        .filter(|c| *c != Col::Syscall)
        .collect();
    let skip_errors = match nums.len() {
        n if n == numeric.len() => false,
        n if n + 1 == numeric.len() && numeric.contains(&Col::Errors) => true,
        _ => return None,
    };
    let mut out = TableRow {
        syscall: name.to_string(),
        ..TableRow::default()
    };
    let mut it = nums.into_iter();
    for c in numeric {
        if c == Col::Errors && skip_errors {
            continue;
        }
        let v = it.next()?;
        match c {
            Col::Percent => out.percent = v.parse().ok(),
            Col::Seconds => out.seconds_ns = super::text::parse_decimal_ns(v.as_bytes()),
            Col::Calls => out.calls = v.parse().ok()?,
            Col::Errors => out.errors = v.parse().ok()?,
            _ => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn default_and_custom_layouts() {
        let cols = header(b"% time     seconds  usecs/call     calls    errors syscall").unwrap();
        assert_eq!(cols.len(), 6);
        let r = row(
            &cols,
            b"  0.00    0.000000           0        34        13 openat",
        )
        .unwrap();
        assert_eq!((r.syscall.as_str(), r.calls, r.errors), ("openat", 34, 13));
        let r = row(
            &cols,
            b" 50.11    0.203235      203235         1           read",
        )
        .unwrap();
        assert_eq!((r.calls, r.errors, r.seconds_ns), (1, 0, Some(203_235_000)));
        let r = row(
            &cols,
            b"100.00    0.000140           0       145        19 total",
        )
        .unwrap();
        assert_eq!((r.syscall.as_str(), r.calls), ("total", 145));

        let cols = header(b"syscall              calls    errors     seconds shortest  longest  usecs/call % time")
            .unwrap();
        let r = row(&cols, b"rt_sigaction            66              0.000154 0.000002 0.000004           2  13.91")
            .unwrap();
        assert_eq!((r.calls, r.errors, r.percent), (66, 0, Some(13.91)));
        let r = row(&cols, b"newfstatat             109        18    0.000231 0.000000 0.000008           2  20.87")
            .unwrap();
        assert_eq!((r.calls, r.errors), (109, 18));
        assert!(header(b"execve(\"x\") = 0").is_none());
        assert!(is_separator(b"------ ----------- -----------"));
    }
}
