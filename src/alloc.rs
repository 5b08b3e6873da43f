//! The allocator's settings: mimalloc returns freed memory to the system at
//! once instead of after its purge delay (1 s by default in mimalloc 3),
//! so `serve`'s resident memory falls back between bursts of requests
//! (bench/load.py reports the peak).

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (libmimalloc-sys
/// has no constant for it): milliseconds before freed memory is purged.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets the purge delay to 0, unless `MIMALLOC_PURGE_DELAY` in the
/// environment sets it (mimalloc reads that itself).
pub fn purge_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mi_option_set only stores an option's value; it is called
    // with an option of mimalloc's own enumeration.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

/// The purge delay in force, milliseconds.
#[cfg(test)]
fn purge_delay() -> std::os::raw::c_long {
    // SAFETY: reads an option's value.
    unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn freed_memory_is_purged_at_once() {
        let before = purge_delay();
        purge_at_once();
        match std::env::var_os("MIMALLOC_PURGE_DELAY") {
            None => {
                // mimalloc's default: the option is the one this sets.
                assert_eq!(before, 1000);
                assert_eq!(purge_delay(), 0);
            }
            Some(_) => assert_eq!(purge_delay(), before, "the environment's value stays"),
        }
    }
}
