//! Each subcommand: through `unipos-client`'s flows, into what it prints.

use std::io::Read;

use serde_json::{json, Value};
use unipos_client::support::SupportReport;
use unipos_client::unipos_protocol::{Email, MAIL_SENDER};
use unipos_client::{open_link, ClientConfig, Flows, OpenedLink, ENV_API_URL, ENV_WEB_BASE};

use crate::cli::{Cli, Command, ReportCommand};
use crate::input::read_passwords;
use crate::output::{
    describe_policy, describe_timeline, describe_user, error_http_line, http_line, whose_link,
    Done, Failure,
};
use crate::{admin, report};

pub async fn run(cli: Cli) -> Result<Done, Failure> {
    let (api, web) = (cli.api_url.as_deref(), cli.web_base.as_deref());
    match cli.command {
        Command::CheckEmail { input } => check_email(&input),
        Command::InspectLink { url } => inspect_link(&url, web),
        Command::Forgot { email } => forgot(&flows(api, web)?, &email).await,
        Command::CheckLink { link } => check_link(&flows(api, web)?, &link.read()?).await,
        Command::Reset {
            link,
            password_stdin,
        } => {
            let url = link.read()?;
            let [password] = read_passwords(password_stdin)?;
            let flows = flows(api, web)?;
            let pending = flows.reset_link(&url)?;
            let done = flows
                .set_password_and_login(&pending, &password, &password)
                .await?;
            Ok(logged_in("Password set. Logged in", done))
        }
        Command::Login {
            email,
            team,
            login_id,
            password_stdin,
        } => {
            let [password] = read_passwords(password_stdin)?;
            let flows = flows(api, web)?;
            let done = match (email, team, login_id) {
                (Some(email), _, _) => flows.login_with_email(&email, &password).await?,
                (None, Some(team), Some(id)) => {
                    flows.login_with_login_id(&team, &id, &password).await?
                }
                _ => {
                    return Err(Failure::Usage(
                        "give --email, or --team and --login-id".into(),
                    ))
                }
            };
            Ok(logged_in("Logged in", done))
        }
        Command::Me => {
            let reply = flows(api, web)?.me().await?;
            Ok(Done {
                human: format!(
                    "{}{}\n",
                    http_line(reply.status, "ok", &reply.request_id),
                    describe_user(&reply.value)
                ),
                json: json!({ "status": reply.status, "request_id": reply.request_id, "user": reply.value }),
            })
        }
        Command::PasswordPolicy => {
            let reply = flows(api, web)?.password_policy().await?;
            Ok(Done {
                human: format!(
                    "{}Password rules: {}.\npasswordrules: {}\n",
                    http_line(reply.status, "ok", &reply.request_id),
                    describe_policy(&reply.value.policy),
                    reply.value.passwordrules
                ),
                json: json!({
                    "status": reply.status,
                    "request_id": reply.request_id,
                    "policy": reply.value.policy,
                    "passwordrules": reply.value.passwordrules,
                }),
            })
        }
        Command::ChangePassword { password_stdin } => {
            let [current, new] = read_passwords(password_stdin)?;
            let done = flows(api, web)?
                .change_password(&current, &new, &new)
                .await?;
            Ok(Done {
                human: format!(
                    "{}Password changed. Your other sessions were logged out; this one was renewed (the keychain holds the new session).\n",
                    http_line(done.status, "ok", &done.request_id)
                ),
                json: json!({ "status": done.status, "request_id": done.request_id }),
            })
        }
        Command::Logout => {
            let flows = flows(api, web)?;
            // Earlier logouts the server could not hear go first (also sent at the app's start).
            let _ = flows.revoke_pending().await;
            let out = flows.logout().await?;
            let human = match &out.remote_error {
                None => format!(
                    "{}Logged out: the session was revoked on the server and removed from the keychain.\n",
                    http_line(out.status.unwrap_or_default(), "ok", out.request_id.as_deref().unwrap_or("-"))
                ),
                Some(e) if out.revoke_pending => format!(
                    "{}Logged out on this device: the session was removed from the keychain. The \
                     server could not be told ({}: {e}); the revocation is kept in the keychain and \
                     sent at the app's next start or the next `unipos logout`.\n",
                    error_http_line(e).unwrap_or_default(),
                    e.code()
                ),
                Some(e) => format!(
                    "{}Logged out on this device: the session was removed from the keychain, but the \
                     server could not revoke it ({}: {e}).\n",
                    error_http_line(e).unwrap_or_default(),
                    e.code()
                ),
            };
            Ok(Done {
                json: serde_json::to_value(&out).unwrap_or_default(),
                human,
            })
        }
        Command::Report {
            command: ReportCommand::Explain { file },
        } => explain_report(&file, api, web),
        Command::Admin { command } => admin::run(&flows(api, web)?, command).await,
        Command::Timeline => {
            let reply = flows(api, web)?.timeline().await?;
            Ok(Done {
                human: format!(
                    "{}{}",
                    http_line(reply.status, "ok", &reply.request_id),
                    describe_timeline(&reply.value)
                ),
                json: json!({ "status": reply.status, "request_id": reply.request_id, "posts": reply.value.posts }),
            })
        }
    }
}

fn flows(api: Option<&str>, web: Option<&str>) -> Result<Flows, Failure> {
    let config = ClientConfig::resolve(api, web)?.app("unipos-cli", env!("CARGO_PKG_VERSION"));
    Ok(Flows::with_keychain(config)?)
}

fn check_email(input: &str) -> Result<Done, Failure> {
    let email = Email::parse(input).map_err(Failure::EmailCheck)?;
    Ok(Done {
        human: format!("accepted: {email}\n"),
        json: json!({ "email": email.as_str() }),
    })
}

fn inspect_link(url: &str, web: Option<&str>) -> Result<Done, Failure> {
    let web_base = ClientConfig::resolve_web_base(web)?;
    let rules = unipos_client::unipos_protocol::LinkRules::new(web_base.clone());
    match open_link(&rules, url)? {
        OpenedLink::Reset(pending) => Ok(Done {
            human: format!(
                "accepted: reset link (opens \"Set password and login\"), token {}\n",
                pending.token_hint()
            ),
            json: json!({ "kind": "reset", "token_hint": pending.token_hint(), "web_base": web_base.as_str() }),
        }),
        OpenedLink::Forgot => Ok(Done {
            human: "accepted: forgot-password link (opens \"Forgot password\")\n".to_owned(),
            json: json!({ "kind": "forgot", "web_base": web_base.as_str() }),
        }),
        OpenedLink::Login => Ok(Done {
            human: "accepted: login link (opens \"Log in\")\n".to_owned(),
            json: json!({ "kind": "login", "web_base": web_base.as_str() }),
        }),
    }
}

async fn forgot(flows: &Flows, email: &str) -> Result<Done, Failure> {
    let sent = flows.request_reset(email).await?;
    Ok(Done {
        human: format!(
            "{}If {} belongs to a member who signs in by email, a reset mail is on its way \
             (\"{}\" from {MAIL_SENDER}). You can ask again in {} s.\n",
            http_line(sent.status, "accepted", &sent.request_id),
            sent.email_hint,
            sent.mail_subject,
            sent.resend_after_s
        ),
        json: serde_json::to_value(&sent).unwrap_or_default(),
    })
}

async fn check_link(flows: &Flows, url: &str) -> Result<Done, Failure> {
    let (_, checked) = flows.check_link(url).await?;
    Ok(Done {
        human: format!(
            "{}The link for {} works until {} (token {}).\nPassword rules: {}.\n",
            http_line(checked.status, "ok", &checked.request_id),
            whose_link(&checked),
            checked.expires_at,
            checked.token_hint,
            describe_policy(&checked.policy)
        ),
        json: serde_json::to_value(&checked).unwrap_or_default(),
    })
}

fn explain_report(file: &str, api: Option<&str>, web: Option<&str>) -> Result<Done, Failure> {
    let mut bytes = Vec::new();
    let read = if file == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| Failure::Usage(format!("cannot read {file}: {e}")))?;
    let report =
        SupportReport::from_text(&String::from_utf8_lossy(&bytes)).map_err(Failure::Report)?;
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let staging = report::Staging {
        api_url: api.map(str::to_owned).or_else(|| from_env(ENV_API_URL)),
        web_base: web.map(str::to_owned).or_else(|| from_env(ENV_WEB_BASE)),
    };
    let explained = report::explain(&report, &staging);
    let mut json = serde_json::to_value(&explained).unwrap_or_default();
    if let Value::Object(map) = &mut json {
        map.insert(
            "report".into(),
            serde_json::to_value(&report).unwrap_or_default(),
        );
    }
    Ok(Done {
        human: explained.human(),
        json,
    })
}

fn logged_in(what: &str, done: unipos_client::LoggedIn) -> Done {
    Done {
        human: format!(
            "{}{what} as {}. The session is in the keychain until {}.\n",
            http_line(done.status, "ok", &done.request_id),
            describe_user(&done.user),
            done.expires_at
        ),
        json: json!({
            "status": done.status,
            "request_id": done.request_id,
            "user": done.user,
            "expires_at": done.expires_at,
        }),
    }
}
