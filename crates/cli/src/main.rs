//! `unipos`: the Unipos account app's flows from a terminal, for support staff and scripts.
//!
//! Every subcommand goes through `unipos-client`, the same code the app runs: the same rules,
//! the same error codes, the same keychain item. Exit status: 0 done/accepted, 1 refused or
//! failed, 2 usage error (or, for `report explain`, a text that is not a support report).

mod admin;
mod explain;
mod report;

use std::io::{BufRead, Read};
use std::process::ExitCode;

use clap::{ArgGroup, Parser, Subcommand};
use serde_json::{json, Value};
use unipos_client::support::{ReportError, SupportReport};
use unipos_client::unipos_protocol::{
    CharReport, Email, EmailError, PasswordPolicy, Timeline, User, APP_IDENTIFIER, MAIL_SENDER,
    RESET_MAIL_SUBJECT,
};
use unipos_client::{
    open_link, ClientConfig, ClientError, Flows, OpenedLink, ENV_API_URL, ENV_WEB_BASE,
};

const JSON_FIELDS: &str = "\
Exit status: 0 done (or accepted), 1 refused or failed, 2 usage error (or, for report explain,
a text that is not a support report).

Human output: each call to the API prints `HTTP <status> <code> request_id=<id>` (status `-`
when no answer came: offline, connection_refused, timeout, tls), then what it found.

--json prints exactly one JSON object on stdout:
  success  {\"ok\": true, ...fields of the subcommand}
  failure  {\"ok\": false, \"code\", \"message\", \"status\"?, \"request_id\"?,
            \"retry_after_s\"?, \"details\"?}
           code: a stable snake_case error code (the API's, or offline, connection_refused,
           timeout, tls, server_error, bad_response, keychain_unavailable, not_logged_in,
           email_*, link_*, base_url_*, usage). status: the HTTP status, when the server
           answered. request_id: the X-Request-Id of the call (quote it to support).
           retry_after_s: seconds to wait (rate_limited, account_locked). details: the API's
           details (password_policy: {\"failed\": [rules]}), an email refusal's
           {\"fix\"?, \"chars\"}, a network fault's {\"cause\"}.
Fields per subcommand:
  check-email      {\"ok\": true, \"email\"} | {\"ok\": false, \"code\", \"message\", \"fix\"?,
                   \"chars\": [{\"char\", \"code_point\", \"name\", \"kind\", \"position\"}]}
  inspect-link     {\"ok\": true, \"kind\": \"reset\"|\"forgot\"|\"login\", \"token_hint\"?,
                   \"web_base\"}
  forgot           {\"ok\": true, \"status\", \"request_id\", \"email_hint\", \"resend_after_s\"}
  check-link       {\"ok\": true, \"status\", \"request_id\", \"email_hint\", \"expires_at\",
                   \"policy\", \"token_hint\"}
  reset, login     {\"ok\": true, \"status\", \"request_id\", \"user\", \"expires_at\"}
  me               {\"ok\": true, \"status\", \"request_id\", \"user\"}
  change-password  {\"ok\": true, \"status\", \"request_id\"}
  logout           {\"ok\": true, \"remote_revoked\", \"revoke_pending\", \"status\", \"request_id\",
                   \"remote_error\"}
  timeline         {\"ok\": true, \"status\", \"request_id\", \"posts\": [{\"id\", \"from\", \"to\",
                   \"message\", \"points\", \"created_at\"}]}
  admin members    {\"ok\": true, \"status\", \"request_id\", \"members\": [member]}
  admin add-member {\"ok\": true, \"status\", \"request_id\", \"member\"}
  admin reset-password
                   {\"ok\": true, \"status\", \"request_id\", \"member\", \"continue_with\":
                   \"email\"|\"account_sheet\", \"sessions_revoked\", \"links_ended\"}
  admin account-sheet
                   {\"ok\": true, \"status\", \"request_id\", \"file\", \"bytes\", \"member\"}
  report explain   {\"ok\": true, \"report\", \"events\": [{\"at\", \"what\", \"code\"?,
                   \"request_id\"?, \"member_saw\"?, \"means\"?, \"next\"?}], \"request_ids\",
                   \"reproduce\"}; a text that is not a report exits 2 with code report_*
  user is {\"id\", \"display_name\", \"email\", \"login_method\", \"team\", \"login_id\"?}.
  member is {\"id\", \"display_name\", \"email\", \"login_id\"?, \"login_method\", \"role\",
  \"has_password\"}. The admin subcommands use the session of a team admin (unipos login).
  check-link's email_hint is absent for a Login ID member's link, which has
  login_id: {\"team\", \"team_name\", \"login_id_hint\"} instead.
A reset token is only ever shown redacted (token_hint: its first 6 characters and `…`).
";

/// The long help's end: exit status, output, every subcommand's `--json` fields, the keychain
/// item and the environment.
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
struct Cli {
    /// Print exactly one JSON object on stdout (fields: see --help).
    #[arg(long, global = true)]
    json: bool,
    /// API base URL (https, or http on loopback). Default: $UNIPOS_API_URL, else https://unipos.me.
    #[arg(long, global = true, value_name = "URL")]
    api_url: Option<String>,
    /// Web base of reset links. Default: $UNIPOS_WEB_BASE, else https://unipos.me.
    #[arg(long, global = true, value_name = "URL")]
    web_base: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
enum ReportCommand {
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
struct LinkArg {
    /// The link, or `-` to read it from stdin.
    #[arg(allow_hyphen_values = true)]
    url: Option<String>,
    /// Read the link from the first line of stdin: a live token then never appears in the
    /// process list (/proc/PID/cmdline) or the shell history.
    #[arg(long)]
    link_stdin: bool,
}

impl LinkArg {
    fn read(self) -> Result<String, Failure> {
        match self.url {
            Some(url) if url != "-" => Ok(url),
            _ => {
                let [link] = read_lines::<1>("the link")?;
                Ok(link)
            }
        }
    }
}

/// Why a command did not succeed.
enum Failure {
    Client(ClientError),
    /// `check-email` refusals have their own JSON shape (`fix` and `chars` at the top).
    EmailCheck(EmailError),
    /// `report explain` was given a text that is not a report (exit 2, like a usage error).
    Report(ReportError),
    Usage(String),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::Client(e)
    }
}

/// What a successful command prints.
struct Done {
    json: Value,
    human: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if std::env::args_os().any(|a| a == "--json") {
                let message = e.kind().as_str().unwrap_or("invalid usage").to_owned();
                print_json(&json!({ "ok": false, "code": "usage", "message": message }));
            }
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let json_mode = cli.json;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            stderr(&format!("error: cannot start: {e}\n"));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(done) => {
            if json_mode {
                print_json(&with_ok(done.json, true));
            } else {
                stdout(&done.human);
            }
            ExitCode::SUCCESS
        }
        Err(failure) => report(failure, json_mode),
    }
}

async fn run(cli: Cli) -> Result<Done, Failure> {
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
             (\"{RESET_MAIL_SUBJECT}\" from {MAIL_SENDER}). You can ask again in {} s.\n",
            http_line(sent.status, "accepted", &sent.request_id),
            sent.email_hint,
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

/// Reads `N` passwords, one per line of stdin. Only the line ending is stripped, so a password
/// may start or end with spaces. Passwords never come from argv.
fn read_passwords<const N: usize>(password_stdin: bool) -> Result<[String; N], Failure> {
    if !password_stdin {
        return Err(Failure::Usage(
            "--password-stdin is required: passwords are read from stdin, never from the command line"
                .into(),
        ));
    }
    read_lines(if N > 1 {
        "the passwords"
    } else {
        "the password"
    })
}

/// Reads the next `N` lines of stdin (`what` they are, for the message when they are missing).
/// Only the line ending is stripped.
fn read_lines<const N: usize>(what: &str) -> Result<[String; N], Failure> {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (i, slot) in out.iter_mut().enumerate() {
        let mut line = String::new();
        match lock.read_line(&mut line) {
            Ok(0) => {
                return Err(Failure::Usage(format!(
                    "expected {N} line(s) on stdin, got {i} ({what} must come on stdin)"
                )))
            }
            Ok(_) => {}
            Err(e) => return Err(Failure::Usage(format!("cannot read stdin: {e}"))),
        }
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        *slot = line;
    }
    Ok(out)
}

fn http_line(status: u16, code: &str, request_id: &str) -> String {
    format!("HTTP {status} {code} request_id={request_id}\n")
}

/// `HTTP <status|-> <code> request_id=<id>` for errors that came from an HTTP call.
fn error_http_line(e: &ClientError) -> Option<String> {
    let id = e.request_id()?;
    let status = e
        .status()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "-".to_owned());
    Some(format!("HTTP {status} {} request_id={id}\n", e.code()))
}

/// `t***@example.com`, or `Login ID j*** of team demo (Unipos Demo)`.
fn whose_link(checked: &unipos_client::LinkChecked) -> String {
    match (&checked.email_hint, &checked.login_id) {
        (_, Some(account)) => format!(
            "Login ID {} of team {} ({})",
            account.login_id_hint, account.team, account.team_name
        ),
        (Some(hint), None) => hint.clone(),
        (None, None) => "an unnamed account".to_owned(),
    }
}

fn describe_user(u: &User) -> String {
    let who = match (&u.email, &u.login_id) {
        (Some(email), _) => email.clone(),
        (None, Some(id)) => format!("Login ID {id}"),
        (None, None) => "no email".to_owned(),
    };
    format!(
        "{} <{who}> (team {}, {} login, id {})",
        u.display_name,
        u.team,
        u.login_method.as_str(),
        u.id
    )
}

fn describe_policy(p: &PasswordPolicy) -> String {
    let mut rules = vec![format!("{}–{} characters", p.min_length, p.max_length)];
    for (required, what) in [
        (p.require_lower, "a lower-case letter"),
        (p.require_upper, "an upper-case letter"),
        (p.require_digit, "a digit"),
        (p.require_symbol, "a symbol"),
    ] {
        if required {
            rules.push(what.to_owned());
        }
    }
    rules.join(", ")
}

fn describe_timeline(t: &Timeline) -> String {
    if t.posts.is_empty() {
        return "No posts yet.\n".to_owned();
    }
    t.posts
        .iter()
        .map(|p| {
            format!(
                "{}  {} → {}  +{}  {}\n",
                p.created_at, p.from, p.to, p.points, p.message
            )
        })
        .collect()
}

fn describe_chars(chars: &[CharReport]) -> String {
    chars.iter().map(|c| format!("  {c}\n")).collect()
}

fn report(failure: Failure, json_mode: bool) -> ExitCode {
    match failure {
        Failure::Usage(message) => {
            if json_mode {
                print_json(&json!({ "ok": false, "code": "usage", "message": message }));
            }
            stderr(&format!("error: {message}\n"));
            ExitCode::from(2)
        }
        Failure::Report(e) => {
            if json_mode {
                print_json(&json!({ "ok": false, "code": e.code(), "message": e.to_string() }));
            }
            stderr(&format!("error: {}: {e}\n", e.code()));
            ExitCode::from(2)
        }
        Failure::EmailCheck(e) => {
            if json_mode {
                print_json(&with_ok(
                    serde_json::to_value(&e).unwrap_or_default(),
                    false,
                ));
            } else {
                let mut out = format!("refused: {} — {}\n", e.code(), e.message());
                out.push_str(&describe_chars(e.chars()));
                if let Some(fix) = e.fix() {
                    out.push_str(&format!("fix: {fix}\n"));
                }
                stdout(&out);
            }
            ExitCode::from(1)
        }
        Failure::Client(e) => {
            if json_mode {
                print_json(&with_ok(
                    serde_json::to_value(&e).unwrap_or_default(),
                    false,
                ));
            } else {
                let mut out = error_http_line(&e).unwrap_or_default();
                out.push_str(&format!("error: {}: {e}\n", e.code()));
                if let ClientError::Email(email) = &e {
                    out.push_str(&describe_chars(email.chars()));
                    if let Some(fix) = email.fix() {
                        out.push_str(&format!("fix: {fix}\n"));
                    }
                } else if let Some(details) = e.details() {
                    out.push_str(&format!("details: {details}\n"));
                }
                if let Some(secs) = e.retry_after_s() {
                    out.push_str(&format!("retry after: {secs} s\n"));
                }
                stderr(&out);
            }
            ExitCode::from(1)
        }
    }
}

/// The object with `"ok"` added (an object in every case).
fn with_ok(v: Value, ok: bool) -> Value {
    let mut map = match v {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    map.insert("ok".into(), Value::Bool(ok));
    Value::Object(map)
}

fn print_json(v: &Value) {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "{\"ok\":false}".into());
    stdout(&format!("{text}\n"));
}

/// Writes to stdout; a closed pipe (`unipos timeline | head -1`) is not an error worth a panic.
fn stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
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
