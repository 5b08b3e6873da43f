//! `tracedeck token create --user NAME --scope upload|read|admin`: an API
//! token for the CLI and the capture agent, printed once (only its hash
//! is kept).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use tracedeck::capture::parse_duration;
use tracedeck::store::auth::{AuthStore, Scope};

const EXAMPLES: &str = "\
Examples:
  tracedeck token create --user ann --scope upload > agent.token
  tracedeck capture -i eth0 -w out.pcap --upload https://deck.example --token-file agent.token";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token and print it (it cannot be shown again).
    Create {
        /// The user the token acts as.
        #[arg(long)]
        user: String,
        /// upload: only create uploads (the capture agent); read: only
        /// read; admin: everything the user may do.
        #[arg(long, value_parser = scope)]
        scope: Scope,
        /// Stop accepting the token after this long: 90d, 12h [default: never]
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires: Option<Duration>,
        /// The server's data directory.
        #[arg(long, default_value = "./tracedeck-data")]
        data_dir: PathBuf,
    },
}

fn scope(text: &str) -> Result<Scope, String> {
    Scope::parse(text).ok_or_else(|| format!("{text:?}: the scope is upload, read or admin"))
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create {
            user,
            scope,
            expires,
            data_dir,
        } => {
            let store = AuthStore::open(&data_dir)
                .with_context(|| format!("data directory {}", data_dir.display()))?;
            let secret = store.create_token(&user, scope, expires)?;
            println!("{secret}");
            eprintln!(
                "tracedeck: {} token for {user}; send it as `Authorization: Bearer TOKEN` \
                 (capture --upload URL --token-file FILE). It is not shown again.",
                scope.as_str()
            );
            Ok(())
        }
    }
}
