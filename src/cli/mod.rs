//! Argument parsing and dispatch to one module per subcommand.

use clap::{Parser, Subcommand};

mod analyze;

/// Exit status for a bad input file (usage errors exit 2 through clap).
pub const EXIT_BAD_INPUT: i32 = 1;

#[derive(Parser)]
#[command(
    name = "tracedeck",
    version,
    about = "Read network captures and strace logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze a capture: conversations (and HTTP exchanges) like tshark's statistics.
    Analyze(analyze::AnalyzeArgs),
}

pub fn run() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("tracedeck: {err:#}");
            EXIT_BAD_INPUT
        }
    }
}
