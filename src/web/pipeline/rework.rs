//! Re-analyses of stored uploads (a capture analyzed again with a pcap
//! filter): started only by an explicit POST, run from a queue of their
//! own by one worker of their own, so an upload never waits behind them;
//! each user and each upload may have only a few pending at once.

use std::sync::Mutex;

use crate::store::{lock, Id, IdKind};
use crate::web::error::Error;

/// How many re-analyses may be pending (queued or running) at once.
#[derive(Clone, Copy, Debug)]
pub struct ReworkLimits {
    /// Per user (a signed-in user's name, else the client's address).
    pub per_user: usize,
    /// Per upload they re-analyze.
    pub per_upload: usize,
}

impl Default for ReworkLimits {
    fn default() -> ReworkLimits {
        ReworkLimits {
            per_user: 2,
            per_upload: 4,
        }
    }
}

/// One pending re-analysis: who asked, of what, and (once created) which.
struct Claim<K: IdKind> {
    serial: u64,
    user: String,
    of: Id<K>,
    view: Option<Id<K>>,
}

/// The pending re-analyses of one kind of upload.
pub(super) struct Claims<K: IdKind> {
    limits: ReworkLimits,
    pending: Mutex<(u64, Vec<Claim<K>>)>,
}

impl<K: IdKind> Claims<K> {
    pub(super) fn new(limits: ReworkLimits) -> Claims<K> {
        Claims {
            limits,
            pending: Mutex::new((0, Vec::new())),
        }
    }

    /// Reserves a place for `user`'s re-analysis of `of`, or says why
    /// there is none (429). The place is given back when the ticket is
    /// dropped unless [`Ticket::bind`] kept it for a queued job.
    pub(super) fn claim(&self, user: &str, of: Id<K>) -> Result<Ticket<'_, K>, Error> {
        let mut guard = lock(&self.pending);
        let (serial, claims) = &mut *guard;
        let by_user = claims.iter().filter(|c| c.user == user).count();
        if by_user >= self.limits.per_user {
            return Err(Error::TooManyRequests(format!(
                "you have {by_user} filtered analyses pending (at most {} per user): \
                 wait for one to finish, then ask again",
                self.limits.per_user
            )));
        }
        let by_upload = claims.iter().filter(|c| c.of == of).count();
        if by_upload >= self.limits.per_upload {
            return Err(Error::TooManyRequests(format!(
                "this capture has {by_upload} filtered analyses pending (at most {}): \
                 wait for one to finish, then ask again",
                self.limits.per_upload
            )));
        }
        *serial += 1;
        claims.push(Claim {
            serial: *serial,
            user: user.to_string(),
            of,
            view: None,
        });
        Ok(Ticket {
            claims: self,
            serial: *serial,
            bound: false,
        })
    }

    /// The re-analysis `view` ended: its place is free.
    pub(super) fn finished(&self, view: &Id<K>) {
        lock(&self.pending)
            .1
            .retain(|c| c.view.as_ref() != Some(view));
    }

    fn release(&self, serial: u64) {
        lock(&self.pending).1.retain(|c| c.serial != serial);
    }
}

/// A reserved place for one re-analysis.
pub(super) struct Ticket<'a, K: IdKind> {
    claims: &'a Claims<K>,
    serial: u64,
    bound: bool,
}

impl<K: IdKind> Ticket<'_, K> {
    /// Keeps the place for the re-analysis `view`, until it ends.
    pub(super) fn bind(mut self, view: Id<K>) {
        let mut guard = lock(&self.claims.pending);
        if let Some(c) = guard.1.iter_mut().find(|c| c.serial == self.serial) {
            c.view = Some(view);
        }
        self.bound = true;
    }
}

impl<K: IdKind> Drop for Ticket<'_, K> {
    fn drop(&mut self) {
        if !self.bound {
            self.claims.release(self.serial);
        }
    }
}

/// Lowers the calling thread's CPU priority (nice 10), so the upload
/// workers' analyses get the cores first. Linux only; elsewhere a no-op.
pub(super) fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take no pointers; on Linux a nice
    // value set for a thread ID is that thread's alone.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, 10) != 0 {
            tracing::debug!(
                "cannot lower the re-analysis worker's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::store::id::Capture;

    fn id(n: u8) -> Id<Capture> {
        Id::from_bytes([n; 16])
    }

    #[test]
    fn places_per_user_and_per_upload_are_bounded_and_given_back() {
        let claims = Claims::<Capture>::new(ReworkLimits::default());
        let a = claims.claim("ann", id(1)).unwrap();
        a.bind(id(10));
        let b = claims.claim("ann", id(2)).unwrap();
        b.bind(id(11));
        let refused = claims.claim("ann", id(3)).err().unwrap();
        assert!(matches!(refused, Error::TooManyRequests(_)));
        assert!(refused.to_string().contains("per user"), "{refused}");
        for user in ["bob", "cy", "dee"] {
            claims.claim(user, id(1)).unwrap().bind(id(12));
        }
        // ann 1 + bob, cy, dee: capture 1 has four pending.
        let full = claims.claim("eve", id(1)).err().unwrap();
        assert!(full.to_string().contains("this capture"), "{full}");
        // A ticket dropped unbound gives its place back at once.
        drop(claims.claim("eve", id(2)).unwrap());
        claims.finished(&id(10));
        assert!(claims.claim("ann", id(3)).is_ok());
    }
}
