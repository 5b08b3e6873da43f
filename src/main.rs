//! The `tracedeck` command line: parses arguments, calls the library,
//! prints, and picks the exit status (0 ok, 1 bad input, 2 bad usage).

mod alloc;
mod cli;

/// The analysis hands rows to other threads, which free them; glibc's
/// malloc makes those cross-thread frees contend for its arena lock
/// (measured: a futex wake per few frees). mimalloc frees them without it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    alloc::purge_at_once();
    std::process::exit(cli::run());
}
