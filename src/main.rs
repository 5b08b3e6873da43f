//! The `tracedeck` command line: parses arguments, calls the library,
//! prints, and picks the exit status (0 ok, 1 bad input, 2 bad usage).

mod cli;

fn main() {
    std::process::exit(cli::run());
}
