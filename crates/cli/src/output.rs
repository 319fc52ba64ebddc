//! What a command prints: the human text or one JSON object, and the exit status.

use std::process::ExitCode;

use serde_json::{json, Value};
use unipos_client::support::ReportError;
use unipos_client::unipos_protocol::{CharReport, EmailError, PasswordPolicy, Timeline, User};
use unipos_client::ClientError;

/// Why a command did not succeed.
pub enum Failure {
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
pub struct Done {
    pub json: Value,
    pub human: String,
}

pub fn http_line(status: u16, code: &str, request_id: &str) -> String {
    format!("HTTP {status} {code} request_id={request_id}\n")
}

/// `HTTP <status|-> <code> request_id=<id>` for errors that came from an HTTP call.
pub fn error_http_line(e: &ClientError) -> Option<String> {
    let id = e.request_id()?;
    let status = e
        .status()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "-".to_owned());
    Some(format!("HTTP {status} {} request_id={id}\n", e.code()))
}

/// `t***@example.com`, or `Login ID j*** of team demo (Unipos Demo)`.
pub fn whose_link(checked: &unipos_client::LinkChecked) -> String {
    match (&checked.email_hint, &checked.login_id) {
        (_, Some(account)) => format!(
            "Login ID {} of team {} ({})",
            account.login_id_hint, account.team, account.team_name
        ),
        (Some(hint), None) => hint.clone(),
        (None, None) => "an unnamed account".to_owned(),
    }
}

pub fn describe_user(u: &User) -> String {
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

pub fn describe_policy(p: &PasswordPolicy) -> String {
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

pub fn describe_timeline(t: &Timeline) -> String {
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

pub fn describe_chars(chars: &[CharReport]) -> String {
    chars.iter().map(|c| format!("  {c}\n")).collect()
}

pub fn report(failure: Failure, json_mode: bool) -> ExitCode {
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
pub fn with_ok(v: Value, ok: bool) -> Value {
    let mut map = match v {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    map.insert("ok".into(), Value::Bool(ok));
    Value::Object(map)
}

pub fn print_json(v: &Value) {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "{\"ok\":false}".into());
    stdout(&format!("{text}\n"));
}

/// Writes to stdout; a closed pipe (`unipos timeline | head -1`) is not an error worth a panic.
pub fn stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

pub fn stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
