//! Capture hints: what the log shows about how it was captured (no `-f`,
//! no timestamps, no `-T`, no `-y`, an `-e open` filter that modern glibc
//! never hits) and the command that would have captured more.

use serde::{Deserialize, Serialize};

use super::model::{TimeBase, Trace};

/// One piece of advice about the capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hint {
    /// Stable identifier: `no_follow`, `no_timestamps`, `seconds_only`,
    /// `relative_only`, `no_durations`, `no_fd_paths`, `open_filter`.
    pub code: String,
    pub message: String,
    /// A better command line.
    pub command: String,
}

/// The command we recommend, for a program started under strace or (`-p`)
/// one attached to.
pub fn better_command(attached: bool) -> String {
    if attached {
        "strace -f -tt -T -y -o out.txt -p PID".to_string()
    } else {
        "strace -f -tt -T -y -o out.txt PROG".to_string()
    }
}

pub(crate) fn finish(mut t: Trace) -> Trace {
    t.hints = compute(&t);
    t
}

fn compute(t: &Trace) -> Vec<Hint> {
    let f = &t.features;
    let cmd = better_command(f.attached_first);
    let mut out = Vec::new();
    let mut add = |code: &str, message: String| {
        out.push(Hint {
            code: code.to_string(),
            message,
            command: cmd.clone(),
        })
    };
    let ff = t.inputs.iter().any(|i| i.pid_from_name.is_some());
    if f.untraced_children > 0 && !ff {
        add(
            "no_follow",
            format!(
                "{} child process(es) were started but never traced: capture with -f to follow children",
                f.untraced_children
            ),
        );
    }
    if t.syscall_count == 0 && f.exit_lines > 0 {
        add(
            "open_filter",
            "the log holds exits but no system calls: a filter such as `-e open` matches nothing on \
             modern glibc, which opens files with openat; use `-e trace=%file` or `-e trace=open,openat`"
                .to_string(),
        );
    } else if f.open_calls == 0
        && f.openat_calls == 0
        && t.syscall_count > 0
        && t.names
            .iter()
            .all(|n| matches!(n.as_str(), "open" | "creat" | "execve"))
    {
        add(
            "open_filter",
            "only open/creat/execve were traced and no openat: modern glibc opens files with openat, \
             so `-e open` misses them; use `-e trace=%file`"
                .to_string(),
        );
    }
    if t.syscall_count > 0 {
        if !f.timestamps {
            add(
                "no_timestamps",
                "no timestamps: capture with -tt (or -ttt) to see when calls ran and where the pauses are"
                    .to_string(),
            );
        } else if f.time_of_day_seconds_only {
            add(
                "seconds_only",
                "timestamps have whole seconds only (-t): capture with -tt for microseconds"
                    .to_string(),
            );
        } else if t.time_base == TimeBase::Relative {
            add(
                "relative_only",
                "only relative timestamps (-r): capture with -tt to line calls up with other logs"
                    .to_string(),
            );
        }
        if !f.durations {
            add(
                "no_durations",
                "no call durations: capture with -T to see how long each call took".to_string(),
            );
        }
        if !f.fd_annotations && f.unannotated_fd {
            add(
                "no_fd_paths",
                "file descriptors are bare numbers: capture with -y (or -yy for sockets) to see which \
                 file or connection each fd is"
                    .to_string(),
            );
        }
    }
    out
}
