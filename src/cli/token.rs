//! `tracedeck token create|list|revoke`: API tokens for the CLI and the
//! capture agent. A new token is printed once (only its hash is kept);
//! lists show an ID (the start of that hash), never a secret.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use tracedeck::capture::parse_duration;
use tracedeck::store::auth::{AuthStore, Scope};
use tracedeck::web::fmt::when_text;

const EXAMPLES: &str = "\
Examples:
  tracedeck token create --user ann --scope upload > agent.token
  tracedeck capture -i eth0 -w out.pcap --upload https://deck.example --token-file agent.token
  tracedeck token list --user ann
  tracedeck token revoke 3f9a1c0b2e7d";

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
    /// List tokens (ID, user, scope, created, expires, last used).
    List {
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
        /// The server's data directory.
        #[arg(long, default_value = "./tracedeck-data")]
        data_dir: PathBuf,
    },
    /// Revoke a token by its ID (from `token list`; 6 or more of its hex digits).
    Revoke {
        id: String,
        /// The server's data directory.
        #[arg(long, default_value = "./tracedeck-data")]
        data_dir: PathBuf,
    },
}

fn scope(text: &str) -> Result<Scope, String> {
    Scope::parse(text).ok_or_else(|| format!("{text:?}: the scope is upload, read or admin"))
}

/// Where the CLI's changes are attributed in the audit log.
const AUDIT_CLIENT: &str = "command line";

fn open(data_dir: &std::path::Path) -> anyhow::Result<AuthStore> {
    AuthStore::open(data_dir).with_context(|| format!("data directory {}", data_dir.display()))
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create {
            user,
            scope,
            expires,
            data_dir,
        } => {
            let store = open(&data_dir)?;
            let secret = store.create_token(&user, scope, expires)?;
            let id = AuthStore::token_id(&secret);
            store.audit(
                "token-created",
                Some(&user),
                AUDIT_CLIENT,
                &format!("{id} {}", scope.as_str()),
            )?;
            println!("{secret}");
            eprintln!(
                "tracedeck: {} token {id} for {user}; send it as `Authorization: Bearer TOKEN` \
                 (capture --upload URL --token-file FILE). It is not shown again; \
                 `tracedeck token revoke {id}` ends it.",
                scope.as_str()
            );
            Ok(())
        }
        TokenCommand::List { user, data_dir } => {
            let store = open(&data_dir)?;
            let tokens = store.tokens(user.as_deref())?;
            if tokens.is_empty() {
                eprintln!("tracedeck: no tokens");
            }
            let now = tracedeck::time::Timestamp::now();
            for t in tokens {
                let expires = match t.expires {
                    Some(e) if e <= now => format!("expired {}", when_text(e)),
                    Some(e) => format!("expires {}", when_text(e)),
                    None => "never expires".to_string(),
                };
                let used = t.last_used.map_or_else(
                    || "never used".to_string(),
                    |u| format!("used {}", when_text(u)),
                );
                println!(
                    "{}\t{}\t{}\tcreated {}\t{expires}\t{used}",
                    t.id,
                    t.user,
                    t.scope.as_str(),
                    when_text(t.created)
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id, data_dir } => {
            let store = open(&data_dir)?;
            let gone = store.revoke_token(&id)?;
            store.audit("token-revoked", Some(&gone.user), AUDIT_CLIENT, &gone.id)?;
            println!(
                "tracedeck: revoked {} token {} of {}",
                gone.scope.as_str(),
                gone.id,
                gone.user
            );
            Ok(())
        }
    }
}
