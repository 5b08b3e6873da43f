//! `tracedeck user add NAME`: an account for the web app (README,
//! "Accounts and sharing"), its password from a prompt, a file or stdin.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use tracedeck::store::auth::AuthStore;

/// Passwords shorter than this are refused.
const MIN_PASSWORD: usize = 8;

const EXAMPLES: &str = "\
Examples:
  tracedeck user add ann --data-dir /var/lib/tracedeck          asks for the password twice
  tracedeck user add root --admin --password-file /run/secrets/pw";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account (the server then requires signing in).
    Add {
        /// The name to sign in with: letters, digits, '.', '_', '-', '@', '+'.
        name: String,
        /// May see every upload and the audit log.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of this file (- for
        /// stdin) instead of asking.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// The server's data directory.
        #[arg(long, default_value = "./tracedeck-data")]
        data_dir: PathBuf,
    },
}

/// The first line of `path` (or stdin for `-`), without its line end.
fn password_from(path: &Path) -> anyhow::Result<String> {
    let mut line = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
    } else {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the password from {}", path.display()))?;
        line = text.lines().next().unwrap_or("").to_string();
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Asks twice on the terminal (without echo), or reads a line of stdin.
fn password_prompt(name: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        return password_from(Path::new("-"));
    }
    let first = rpassword::prompt_password(format!("Password for {name}: "))
        .context("reading the password")?;
    let again = rpassword::prompt_password("Again: ").context("reading the password")?;
    if first != again {
        bail!("the two passwords differ");
    }
    Ok(first)
}

pub fn run(args: UserArgs) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Add {
            name,
            admin,
            password_file,
            data_dir,
        } => {
            let password = match &password_file {
                Some(path) => password_from(path)?,
                None => password_prompt(&name)?,
            };
            if password.chars().count() < MIN_PASSWORD {
                bail!("the password is too short: at least {MIN_PASSWORD} characters");
            }
            let store = AuthStore::open(&data_dir)
                .with_context(|| format!("data directory {}", data_dir.display()))?;
            store.add_user(&name, &password, admin)?;
            println!(
                "tracedeck: added {}{name}; `tracedeck serve --data-dir {}` now asks to sign in",
                if admin { "admin " } else { "" },
                data_dir.display()
            );
            Ok(())
        }
    }
}
