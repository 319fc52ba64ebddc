//! `unipos admin …`: what a team admin does for a member (Team Admin > Member > Members), from a
//! terminal, with the admin's session from the keychain (`unipos login` as the admin first).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;
use unipos_client::unipos_protocol::{AddMemberRequest, AdminMember, ContinueWith};
use unipos_client::Flows;

use crate::output::{http_line, Done, Failure};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// List the members of your team, or find them by name, email address or Login ID.
    Members {
        /// Only members whose display name, address or Login ID contains this text.
        query: Option<String>,
    },
    /// Add a Login ID member (no password yet: print their Account Information sheet next).
    AddMember {
        /// Your team (its slug, as members type it at login).
        #[arg(long)]
        team: String,
        #[arg(long)]
        login_id: String,
        /// The member's display name.
        #[arg(long)]
        name: String,
    },
    /// Reset a member's password: every session logged out, every reset link ended, the password
    /// no longer works. An email member gets a reset email; for a Login ID member, print a new
    /// Account Information sheet.
    ResetPassword {
        /// The member's id, email address or Login ID.
        #[arg(allow_hyphen_values = true)]
        member: String,
    },
    /// Save a Login ID member's Account Information sheet (a PDF to print and hand over). Each
    /// sheet has a new QR code: earlier sheets' codes stop working.
    AccountSheet {
        /// The member's id or Login ID.
        #[arg(allow_hyphen_values = true)]
        member: String,
        /// Where to save the PDF (written readable by you only: its QR code is a live link).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// The sheet's language: en or ja.
        #[arg(long, default_value = "en", value_parser = ["en", "ja"])]
        lang: String,
    },
}

pub async fn run(flows: &Flows, command: AdminCommand) -> Result<Done, Failure> {
    match command {
        AdminCommand::Members { query } => {
            let reply = flows
                .admin_members(query.as_deref().unwrap_or_default())
                .await?;
            let members = &reply.value.members;
            let mut human = http_line(reply.status, "ok", &reply.request_id);
            if members.is_empty() {
                human.push_str("No members found.\n");
            }
            for m in members {
                human.push_str(&format!("{}\n", describe(m)));
            }
            Ok(Done {
                json: json!({ "status": reply.status, "request_id": reply.request_id, "members": members }),
                human,
            })
        }
        AdminCommand::AddMember {
            team,
            login_id,
            name,
        } => {
            let request = AddMemberRequest {
                team,
                login_id,
                display_name: name,
            };
            let reply = flows.admin_add_member(&request).await?;
            let m = &reply.value;
            Ok(Done {
                human: format!(
                    "{}Added {}.\nNext: save their Account Information sheet and hand it over; its QR \
                     code is how they set a password:\n  unipos admin account-sheet {} -o sheet.pdf --lang ja\n",
                    http_line(reply.status, "ok", &reply.request_id),
                    describe(m),
                    m.id
                ),
                json: json!({ "status": reply.status, "request_id": reply.request_id, "member": m }),
            })
        }
        AdminCommand::ResetPassword { member } => {
            let member = find(flows, &member).await?;
            let reply = flows.admin_reset_password(&member.id).await?;
            let done = &reply.value;
            let next = match done.continue_with {
                ContinueWith::Email => {
                    "Next: a reset email is on its way to them; they set a new password with its link.\n"
                        .to_owned()
                }
                ContinueWith::AccountSheet => format!(
                    "Next: save their new Account Information sheet and hand it over; they scan its \
                     QR code and set a new password:\n  unipos admin account-sheet {} -o sheet.pdf --lang ja\n",
                    done.member.id
                ),
            };
            Ok(Done {
                human: format!(
                    "{}Password reset for {}: {} logged out, {} ended; the old password no longer works.\n{next}",
                    http_line(reply.status, "ok", &reply.request_id),
                    describe(&done.member),
                    plural(done.sessions_revoked, "session"),
                    plural(done.links_ended, "reset link"),
                ),
                json: serde_json::to_value(&reply).unwrap_or_default(),
            })
        }
        AdminCommand::AccountSheet {
            member,
            output,
            lang,
        } => {
            let member = find(flows, &member).await?;
            let reply = flows.admin_account_sheet(&member.id, &lang).await?;
            let bytes = reply.value.pdf.len();
            save_private(&output, &reply.value.pdf)
                .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", output.display())))?;
            Ok(Done {
                human: format!(
                    "{}Saved {} ({bytes} bytes): the Account Information sheet of {}.\nIts QR code \
                     works once, until the time printed on it; earlier sheets' codes no longer work. \
                     Print it, hand it over, then delete the file.\n",
                    http_line(reply.status, "ok", &reply.request_id),
                    output.display(),
                    describe(&member),
                ),
                json: json!({
                    "status": reply.status,
                    "request_id": reply.request_id,
                    "file": output.display().to_string(),
                    "bytes": bytes,
                    "member": member,
                }),
            })
        }
    }
}

/// The member `given` names: their id, or exactly their email address or Login ID.
async fn find(flows: &Flows, given: &str) -> Result<AdminMember, Failure> {
    let given = given.trim();
    let found = flows.admin_members(given).await?.value.members;
    let exact: Vec<AdminMember> = found
        .into_iter()
        .filter(|m| {
            m.id == given
                || m.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(given))
                || m.login_id
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(given))
        })
        .collect();
    match exact.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failure::Usage(format!(
            "no member of your team is {given:?}: give their id, email address or Login ID \
             (unipos admin members lists them)"
        ))),
        many => Err(Failure::Usage(format!(
            "{given:?} names {} members; give one of their ids:\n{}",
            many.len(),
            many.iter()
                .map(|m| format!("  {}", describe(m)))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
    }
}

/// `Jiro Suzuki <Login ID jiro> (login_id login, member, no password, id …)`.
fn describe(m: &AdminMember) -> String {
    let who = match (&m.email, &m.login_id) {
        (Some(email), _) => email.clone(),
        (None, Some(id)) => format!("Login ID {id}"),
        (None, None) => "no email".to_owned(),
    };
    format!(
        "{} <{who}> ({} login, {}, {}, id {})",
        m.display_name,
        m.login_method.as_str(),
        m.role.as_str(),
        if m.has_password {
            "password set"
        } else {
            "no password"
        },
        m.id
    )
}

fn plural(n: u32, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Writes `bytes` to `path`, readable and writable by this user only.
fn save_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An existing file keeps its mode through open(): set it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}
