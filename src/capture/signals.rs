//! SIGINT and SIGTERM during a capture: the handler only records the
//! signal; the capture loop sees it (its `poll` returns EINTR), stops,
//! flushes and closes the file. The handlers are one-shot (SA_RESETHAND):
//! a second Ctrl+C kills the process as usual.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    RECEIVED.store(sig, Ordering::SeqCst);
}

/// Handlers installed for the life of a capture; dropping it restores the old ones.
pub struct Guard {
    old: [(libc::c_int, libc::sigaction); 2],
}

/// Installs the handlers and clears any signal recorded earlier.
pub fn install() -> io::Result<Guard> {
    RECEIVED.store(0, Ordering::SeqCst);
    let mut old: [(libc::c_int, libc::sigaction); 2] =
        // SAFETY: sigaction is plain old data; all-zero is a valid value.
        [(libc::SIGINT, unsafe { std::mem::zeroed() }), (libc::SIGTERM, unsafe { std::mem::zeroed() })];
    for (sig, slot) in old.iter_mut() {
        // SAFETY: we pass a valid handler and valid pointers to sigaction structs we own.
        let rc = unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            act.sa_flags = libc::SA_RESETHAND; // no SA_RESTART: poll() must return EINTR
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(*sig, &act, slot)
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(Guard { old })
}

/// The signal received since `install`, by name.
pub fn received() -> Option<&'static str> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        libc::SIGINT => Some("SIGINT"),
        libc::SIGTERM => Some("SIGTERM"),
        _ => Some("a signal"),
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for (sig, act) in &self.old {
            // SAFETY: restoring the action sigaction gave us.
            unsafe { libc::sigaction(*sig, act, std::ptr::null_mut()) };
        }
    }
}
