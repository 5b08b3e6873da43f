//! `tracedeck team add|remove|list` and `team member add|remove`: teams of
//! the web app's users (README, "Teams"). Members of an upload's team read
//! it; removing a member or a team ends that access at the next request.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::user::{open, AUDIT_CLIENT};
use tracedeck::web::fmt::when_text;

const EXAMPLES: &str = "\
Examples:
  tracedeck team add ops --data-dir /var/lib/tracedeck
  tracedeck team member add ops ann
  tracedeck team member add ops carol@example.com --external   signed in by a proxy
  tracedeck team list
  tracedeck team member remove ops ann                         ann loses access at once
  tracedeck team remove ops                                    uploads stay with their owners";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct TeamArgs {
    #[command(subcommand)]
    command: TeamCommand,
    /// The server's data directory.
    #[arg(long, global = true, default_value = "./tracedeck-data")]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum TeamCommand {
    /// Add a team (then add members, and choose it when uploading).
    Add {
        /// Letters, digits, '.', '_', '-', '@', '+'.
        name: String,
    },
    /// Remove a team; its uploads stay with their owners, in no team.
    Remove { name: String },
    /// List the teams and their members.
    List,
    /// Add or remove a team's members.
    Member(MemberArgs),
}

#[derive(Args)]
struct MemberArgs {
    #[command(subcommand)]
    command: MemberCommand,
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Put a user in a team: they read its uploads from their next request.
    Add {
        team: String,
        user: String,
        /// The user has no account here: a trusted proxy signs them in
        /// (serve --auth-header).
        #[arg(long)]
        external: bool,
    },
    /// Take a user out of a team: their access to its uploads ends at once.
    Remove { team: String, user: String },
}

pub fn run(args: TeamArgs) -> anyhow::Result<()> {
    let store = open(&args.data_dir)?;
    match args.command {
        TeamCommand::Add { name } => {
            store.add_team(&name)?;
            store.audit("team-added", None, AUDIT_CLIENT, &format!("team {name}"))?;
            println!(
                "tracedeck: added team {name}; `tracedeck team member add {name} USER` fills it"
            );
        }
        TeamCommand::Remove { name } => {
            store.remove_team(&name)?;
            store.audit("team-removed", None, AUDIT_CLIENT, &format!("team {name}"))?;
            println!("tracedeck: removed team {name}; its uploads stay with their owners");
        }
        TeamCommand::List => {
            let teams = store.teams()?;
            if teams.is_empty() {
                println!("no teams (tracedeck team add NAME)");
            }
            for t in teams {
                let members = if t.members.is_empty() {
                    "(no members)".to_string()
                } else {
                    t.members.join(", ")
                };
                println!("{}\tadded {}\t{members}", t.name, when_text(t.created));
            }
        }
        TeamCommand::Member(MemberArgs { command }) => match command {
            MemberCommand::Add {
                team,
                user,
                external,
            } => {
                if !external && store.user(&user)?.is_none() {
                    bail!(
                        "no user {user:?} (`tracedeck user list`); for a user a trusted proxy \
                         signs in, pass --external"
                    );
                }
                store.add_member(&team, &user)?;
                store.audit(
                    "team-member-added",
                    Some(&user),
                    AUDIT_CLIENT,
                    &format!("team {team}"),
                )?;
                println!("tracedeck: {user} is in team {team}");
            }
            MemberCommand::Remove { team, user } => {
                store.remove_member(&team, &user)?;
                store.audit(
                    "team-member-removed",
                    Some(&user),
                    AUDIT_CLIENT,
                    &format!("team {team}"),
                )?;
                println!("tracedeck: {user} is no longer in team {team}");
            }
        },
    }
    Ok(())
}
