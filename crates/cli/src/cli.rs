//! The command line: its flags, subcommands and `--help` (the JSON fields are in help.txt).

use clap::{ArgGroup, Parser, Subcommand};
use unipos_client::unipos_protocol::APP_IDENTIFIER;

use crate::admin;
use crate::input::read_lines;
use crate::output::Failure;

/// What `--help` prints after the flags: exit statuses, the output formats, each subcommand's
/// JSON fields.
const JSON_FIELDS: &str = include_str!("help.txt");

/// The long help's end: the JSON fields, the keychain item and the environment.
fn after_long_help() -> String {
    format!(
        "{JSON_FIELDS}Sessions are kept in the OS keychain (service {APP_IDENTIFIER}, account = \
         the API base).\n\nEnvironment: UNIPOS_API_URL, UNIPOS_WEB_BASE (the flags win); both \
         default to https://unipos.me."
    )
}

/// The Unipos account app's flows from a terminal.
#[derive(Parser, Debug)]
#[command(
    name = "unipos",
    version,
    about = "The Unipos account app's flows from a terminal: check addresses and links, reset \
             and change passwords, log in and out, explain a member's support report.",
    after_long_help = after_long_help()
)]
pub struct Cli {
    /// Print exactly one JSON object on stdout (fields: see --help).
    #[arg(long, global = true)]
    pub json: bool,
    /// API base URL (https, or http on loopback). Default: $UNIPOS_API_URL, else https://unipos.me.
    #[arg(long, global = true, value_name = "URL")]
    pub api_url: Option<String>,
    /// Web base of reset links. Default: $UNIPOS_WEB_BASE, else https://unipos.me.
    #[arg(long, global = true, value_name = "URL")]
    pub web_base: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check an email address with the app's rules (nothing is sent). Exit 0 accepted, 1 refused.
    CheckEmail {
        /// The address exactly as typed (quote it to keep spaces).
        #[arg(allow_hyphen_values = true)]
        input: String,
    },
    /// Decide whether a link may open the app (nothing is sent). Exit 0 accepted, 1 refused.
    InspectLink {
        #[arg(allow_hyphen_values = true)]
        url: String,
    },
    /// Request a password-reset email ("Forgot password" → Send).
    Forgot {
        #[arg(allow_hyphen_values = true)]
        email: String,
    },
    /// Check a reset link with the server (does not use it up). For a member's real link, give
    /// it on stdin (`-` or --link-stdin): on the command line it is in the process list and the
    /// shell history.
    CheckLink {
        #[command(flatten)]
        link: LinkArg,
    },
    /// "Set password and login" with a reset link; the new password is read from stdin (after
    /// the link, when the link comes from stdin too).
    Reset {
        #[command(flatten)]
        link: LinkArg,
        /// Read the new password from the next line of stdin (required).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Log in by email, or by team + Login ID; the password is read from stdin.
    #[command(group(ArgGroup::new("who").required(true).args(["email", "team"])))]
    Login {
        #[arg(long, conflicts_with_all = ["team", "login_id"])]
        email: Option<String>,
        #[arg(long, requires = "login_id")]
        team: Option<String>,
        #[arg(long, requires = "team")]
        login_id: Option<String>,
        /// Read the password from the first line of stdin (required).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Show the logged-in member.
    Me,
    /// Show the rules of the logged-in member's organisation for a new password (what Settings >
    /// Account's checklist shows), and them as Apple's passwordrules attribute.
    PasswordPolicy,
    /// Change the password: stdin line 1 is the current password, line 2 the new one. Every
    /// other session is logged out; this one is renewed in the keychain.
    ChangePassword {
        /// Read both passwords from stdin (required).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Log out: revoke the session on the server and remove it from the keychain.
    Logout,
    /// Show the recognition timeline.
    Timeline,
    /// Read a support report a member copied from the app (Settings > Support).
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// What a team admin does for members: list, add, reset a password, print an Account
    /// Information sheet (log in as the team's admin first).
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Explain a report for support staff. Exit 0 read, 2 not a report.
    ///
    /// Prints the app and device, then each API call, link and error in time order; for each
    /// error what the member saw (the app's English text), what it means and what to do next;
    /// then the request ids to find in the server log and how to reproduce with this CLI.
    /// Chat text around the report is ignored; nothing is sent. --api-url/--web-base (or
    /// $UNIPOS_API_URL/$UNIPOS_WEB_BASE) name the staging API the reproduction runs against.
    Explain {
        /// The file holding the report, or - for stdin.
        #[arg(allow_hyphen_values = true, value_name = "FILE|-")]
        file: String,
    },
}

/// A reset link: on the command line, or (the way for real links) the first line of stdin.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct LinkArg {
    /// The link, or `-` to read it from stdin.
    #[arg(allow_hyphen_values = true)]
    url: Option<String>,
    /// Read the link from the first line of stdin: a live token then never appears in the
    /// process list (/proc/PID/cmdline) or the shell history.
    #[arg(long)]
    link_stdin: bool,
}

impl LinkArg {
    pub fn read(self) -> Result<String, Failure> {
        match self.url {
            Some(url) if url != "-" => Ok(url),
            _ => {
                let [link] = read_lines::<1>("the link")?;
                Ok(link)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_help_documents_the_json_fields() {
        let help = Cli::command().render_long_help().to_string();
        for field in [
            "\"ok\"",
            "request_id",
            "retry_after_s",
            "token_hint",
            "chars",
            "fix",
        ] {
            assert!(help.contains(field), "{field} missing from --help");
        }
    }
}
