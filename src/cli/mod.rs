//! Argument parsing and dispatch to one module per subcommand.

use clap::{CommandFactory, Parser, Subcommand};

mod analyze;
mod capture;
mod diff;
mod interfaces;
mod progress;
mod redact;
mod serve;
mod spool;
mod strace;
mod team;
mod text_table;
mod token;
mod user;

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
    /// Serve the web application: upload captures, analyze them in the background, browse the results.
    Serve(serve::ServeArgs),
    /// Capture packets to a pcap file safely (Linux; root or CAP_NET_RAW)
    Capture(capture::CaptureArgs),
    /// Summarize strace logs: syscalls, processes, files, pauses
    Strace(strace::Args),
    /// Manage the web app's accounts
    User(user::UserArgs),
    /// Manage API tokens (for the CLI and the capture agent)
    Token(token::TokenArgs),
    /// Manage teams: groups of users who read each other's team uploads
    Team(team::TeamArgs),
    /// Compare a baseline capture with an incident's: what changed, most changed first
    Diff(diff::DiffArgs),
    /// Write a redacted copy of a capture: header values, bodies and addresses hidden, lengths and times kept
    Redact(redact::RedactArgs),
}

/// A usage error found after parsing: printed with the subcommand's
/// usage line, and the process exits 2 as clap's own errors do.
fn usage_error(subcommand: &str, message: String) -> ! {
    let mut cmd = Cli::command();
    let sub = cmd.find_subcommand_mut(subcommand).map(|s| s.clone());
    let mut cmd = match sub {
        Some(sub) => sub.bin_name(format!("tracedeck {subcommand}")),
        None => cmd,
    };
    cmd.error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

pub fn run() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => match args.resolve() {
            Ok(request) => analyze::run(request),
            Err(message) => usage_error("analyze", message),
        },
        Command::Serve(args) => serve::run(args),
        Command::Capture(args) => capture::run(args),
        Command::Strace(args) => strace::run(args),
        Command::User(args) => user::run(args),
        Command::Token(args) => token::run(args),
        Command::Team(args) => team::run(args),
        Command::Redact(args) => redact::run(args),
        Command::Diff(args) => diff::run(args),
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("tracedeck: {err:#}");
            EXIT_BAD_INPUT
        }
    }
}
