//! `tracedeck user add|password|remove|list`: the web app's accounts
//! (README, "Accounts and sharing"), passwords from a prompt, a file or
//! stdin.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use tracedeck::store::auth::AuthStore;
use tracedeck::web::fmt::when_text;

/// Passwords shorter than this are refused.
const MIN_PASSWORD: usize = 8;

const EXAMPLES: &str = "\
Examples:
  tracedeck user add ann --data-dir /var/lib/tracedeck          asks for the password twice
  tracedeck user add root --admin --password-file /run/secrets/pw
  tracedeck user password ann                                   ends ann's sessions too
  tracedeck user remove bob                                     with bob's sessions and tokens";

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
    /// Set a new password (every session of the account ends).
    Password {
        name: String,
        /// Read the password from the first line of this file (- for
        /// stdin) instead of asking.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// The server's data directory.
        #[arg(long, default_value = "./tracedeck-data")]
        data_dir: PathBuf,
    },
    /// Remove an account with its sessions and API tokens; its uploads are
    /// then seen by admins only.
    Remove {
        name: String,
        /// The server's data directory.
        #[arg(long, default_value = "./tracedeck-data")]
        data_dir: PathBuf,
    },
    /// List the accounts.
    List {
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

/// Where the CLI's changes are attributed in the audit log.
pub(super) const AUDIT_CLIENT: &str = "command line";

pub(super) fn open(data_dir: &Path) -> anyhow::Result<AuthStore> {
    AuthStore::open(data_dir).with_context(|| format!("data directory {}", data_dir.display()))
}

/// A new password from a file or the prompt, long enough.
fn new_password(name: &str, file: Option<&Path>) -> anyhow::Result<String> {
    let password = match file {
        Some(path) => password_from(path)?,
        None => password_prompt(name)?,
    };
    if password.chars().count() < MIN_PASSWORD {
        bail!("the password is too short: at least {MIN_PASSWORD} characters");
    }
    Ok(password)
}

pub fn run(args: UserArgs) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Add {
            name,
            admin,
            password_file,
            data_dir,
        } => {
            let password = new_password(&name, password_file.as_deref())?;
            let store = open(&data_dir)?;
            store.add_user(&name, &password, admin)?;
            store.audit(
                "user-added",
                Some(&name),
                AUDIT_CLIENT,
                if admin { "admin" } else { "" },
            )?;
            println!(
                "tracedeck: added {}{name}; `tracedeck serve --data-dir {}` now asks to sign in",
                if admin { "admin " } else { "" },
                data_dir.display()
            );
            Ok(())
        }
        UserCommand::Password {
            name,
            password_file,
            data_dir,
        } => {
            let store = open(&data_dir)?;
            if store.user(&name)?.is_none() {
                bail!("no user {name:?}");
            }
            let password = new_password(&name, password_file.as_deref())?;
            store.set_password(&name, &password)?;
            store.audit("password-changed", Some(&name), AUDIT_CLIENT, "")?;
            println!("tracedeck: new password for {name}; their sessions have ended");
            Ok(())
        }
        UserCommand::Remove { name, data_dir } => {
            let store = open(&data_dir)?;
            store.remove_user(&name)?;
            store.audit("user-removed", Some(&name), AUDIT_CLIENT, "")?;
            println!(
                "tracedeck: removed {name} with their sessions and tokens; their uploads stay, \
                 seen by admins only"
            );
            Ok(())
        }
        UserCommand::List { data_dir } => {
            let store = open(&data_dir)?;
            let users = store.users()?;
            if users.is_empty() {
                println!("no accounts: the server is open on loopback (README, \"Accounts and sharing\")");
            }
            for u in users {
                println!(
                    "{}\t{}\tadded {}\t{} live token{}",
                    u.name,
                    if u.admin { "admin" } else { "user" },
                    when_text(u.created),
                    u.tokens,
                    if u.tokens == 1 { "" } else { "s" }
                );
            }
            Ok(())
        }
    }
}
