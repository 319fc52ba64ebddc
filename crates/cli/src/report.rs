//! `unipos report explain`: a member's support report, told in plain English for support staff.
//!
//! Only what the report holds is printed (it holds no token, password or whole address), and
//! every string from it is printed with its control characters escaped: a report is pasted from
//! a chat, and must not be able to move the terminal's cursor or forge a line.

use std::collections::HashSet;

use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};
use unipos_client::support::{
    known_code, ApiCall, LinkArrival, LinkEvent, ShownError, SupportReport, LINK_OPENED_FORGOT,
    LINK_OPENED_LOGIN, LINK_OPENED_RESET, LINK_VALID,
};
use unipos_client::unipos_protocol::{routes, MAIL_SENDER};
use unipos_client::DEFAULT_BASE;

use crate::explain::{self, Repro, Shown};

/// Where support reproduces: staging's bases, when given (`--api-url`/`--web-base` or the
/// environment); placeholders otherwise.
#[derive(Debug, Default)]
pub struct Staging {
    pub api_url: Option<String>,
    pub web_base: Option<String>,
}

/// The report, explained.
#[derive(Debug, Serialize)]
pub struct Explained {
    #[serde(skip)]
    made_at: OffsetDateTime,
    #[serde(skip)]
    header: Vec<(&'static str, String)>,
    events: Vec<Event>,
    /// Of every failed call and of the last error, first seen first.
    request_ids: Vec<String>,
    /// Shell commands, with a comment line before each.
    reproduce: Vec<String>,
}

/// One thing that happened, with the explanation of its error.
#[derive(Debug, Serialize)]
pub struct Event {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    /// Whether the server answered (a request without an answer may have no line in its log).
    #[serde(skip)]
    answered: bool,
    /// The texts the app showed, in English.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    member_saw: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    means: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

enum Source<'a> {
    Call(&'a ApiCall),
    Link(&'a LinkEvent),
    LastError(&'a ShownError),
}

impl Source<'_> {
    fn at(&self) -> OffsetDateTime {
        match self {
            Source::Call(c) => c.at,
            Source::Link(l) => l.at,
            Source::LastError(e) => e.at,
        }
    }
}

/// Control characters escaped (`\u{1b}`), everything else as it is.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A single-quoted shell word.
fn sh(s: &str) -> String {
    format!("'{}'", clean(s).replace('\'', r"'\''"))
}

fn utc(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(UtcOffset::UTC)
}

fn date_time(at: OffsetDateTime) -> String {
    let at = utc(at);
    format!("{} {}", at.date(), clock(at))
}

fn clock(at: OffsetDateTime) -> String {
    let at = utc(at);
    format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
}

fn is_default(url: &str) -> bool {
    url.trim_end_matches('/') == DEFAULT_BASE
}

/// Whether the URL names the member's own device (a local server): support cannot reach it.
fn is_loopback(url: &str) -> bool {
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn language_name(code: &str) -> Option<&'static str> {
    match code {
        "en" => Some("English"),
        "ja" => Some("Japanese"),
        _ => None,
    }
}

fn arrival(came: LinkArrival) -> &'static str {
    match came {
        LinkArrival::ColdStart => "cold start",
        LinkArrival::Warm => "warm",
        LinkArrival::Paste => "pasted",
        LinkArrival::Scan => "scanned from an Account Information sheet",
    }
}

/// What the call's outcome was, as one line.
fn describe_call(c: &ApiCall) -> String {
    let ms = c.duration_ms;
    let outcome = match (c.status, &c.error_code) {
        (None, Some(code)) => format!("no answer ({}) after {ms} ms", clean(code)),
        (None, None) => format!("no answer after {ms} ms"),
        (Some(status), Some(code)) => format!("HTTP {status} {} after {ms} ms", clean(code)),
        (Some(status), None) => format!("HTTP {status} in {ms} ms"),
    };
    format!("{} {} → {outcome}", clean(&c.method), clean(&c.route))
}

fn describe_link(l: &LinkEvent) -> String {
    let came = arrival(l.came);
    let hint = l
        .token_hint
        .as_deref()
        .map(|h| format!("{} ", clean(h)))
        .unwrap_or_default();
    match l.verdict.as_str() {
        LINK_OPENED_RESET => {
            let checked = match l.checked.as_deref() {
                None => "not checked with the server".to_owned(),
                Some(LINK_VALID) => "the server said it works".to_owned(),
                Some(code) => format!("server said {}", clean(code)),
            };
            format!("link ({came}) {hint}opened Reset; {checked}")
        }
        LINK_OPENED_FORGOT => format!("link ({came}) opened Forgot password"),
        LINK_OPENED_LOGIN => format!("link ({came}) opened Log in"),
        refusal => format!("link ({came}) refused: {}", clean(refusal)),
    }
}

/// The error code of a link event, if it is one: the refusal, or what the server said.
fn link_error(l: &LinkEvent) -> Option<(&str, Shown)> {
    match l.verdict.as_str() {
        LINK_OPENED_RESET => l
            .checked
            .as_deref()
            .filter(|c| *c != LINK_VALID)
            .map(|c| (c, Shown::Alert)),
        LINK_OPENED_FORGOT | LINK_OPENED_LOGIN => None,
        // Pasted or scanned: the refusal is shown where the link was given, not on a screen.
        refusal if matches!(l.came, LinkArrival::Paste | LinkArrival::Scan) => {
            Some((refusal, Shown::Pasted))
        }
        refusal => Some((refusal, Shown::LinkScreen)),
    }
}

struct Explainer<'a> {
    report: &'a SupportReport,
    explained: HashSet<String>,
}

impl Explainer<'_> {
    fn fill(&self, text: &str) -> String {
        text.replace("{api_url}", &clean(&self.report.api.api_url))
            .replace("{web_base}", &clean(&self.report.api.web_base))
            .replace("{sender}", MAIL_SENDER)
    }

    /// The event's explanation for `code`; a code already explained above is referred to.
    /// `sent`: whether a request was made (a refusal by the app's own rules makes none).
    fn explain(&mut self, mut event: Event, code: &str, shown: Shown, sent: bool) -> Event {
        let first_time = self.explained.insert(code.to_owned());
        event.code = Some(clean(code));
        let Some(known) = known_code(code) else {
            event.member_saw =
                vec!["(the app's text for this code, which this unipos does not have)".into()];
            if first_time {
                event.means = Some(explain::UNKNOWN_MEANS.to_owned());
                event.next = Some(explain::UNKNOWN_NEXT.to_owned());
            }
            return event;
        };
        event.member_saw = explain::member_saw(known, shown).unwrap_or_default();
        if explain::shows_a_wait(known) {
            event
                .member_saw
                .push("(N: the wait the server gave; the report does not keep it)".into());
        }
        if !first_time {
            event.means = Some(format!("As for {code} above."));
            return event;
        }
        let advice = explain::advice_for(known);
        let mut means = self.fill(advice.means);
        if let Some(not_sent) = explain::not_sent(known).filter(|_| !sent) {
            means = format!("{means} {not_sent}");
        }
        let mut next = self.fill(advice.next);
        if advice.api_url_matters && is_loopback(&self.report.api.api_url) {
            next.push_str(
                " The API URL is on the member's own device: a local server (not started?), \
                 not the Unipos API.",
            );
        }
        if advice.api_url_matters && !is_default(&self.report.api.api_url) {
            next.push_str(&format!(
                " The app's API URL is {}, not the default {DEFAULT_BASE}: unless support asked \
                 for it, the member (or someone) changed it in Settings > Support; set it back \
                 with \"Use the default\".",
                clean(&self.report.api.api_url)
            ));
        }
        event.means = Some(means);
        event.next = Some(next);
        event
    }
}

fn event(at: OffsetDateTime, what: String) -> Event {
    Event {
        at,
        what,
        code: None,
        request_id: None,
        answered: true,
        member_saw: Vec::new(),
        means: None,
        next: None,
    }
}

/// Explains `report`; `staging` fills the reproduction's bases.
pub fn explain(report: &SupportReport, staging: &Staging) -> Explained {
    let mut sources: Vec<Source> = report
        .api_calls
        .iter()
        .map(Source::Call)
        .chain(report.link_events.iter().map(Source::Link))
        .chain(report.last_error.iter().map(Source::LastError))
        .collect();
    // Stable: at the same instant, calls before links before the error they led to.
    sources.sort_by_key(Source::at);

    let mut explainer = Explainer {
        report,
        explained: HashSet::new(),
    };
    let mut events = Vec::new();
    let mut repros: Vec<(Repro, Option<String>)> = Vec::new();
    let mut note_repro = |code: &str, route: Option<&str>| {
        if let Some(known) = known_code(code) {
            let repro = explain::advice_for(known).repro;
            let key = (
                repro,
                (repro == Repro::SameCall).then(|| route.unwrap_or("").to_owned()),
            );
            if repro != Repro::None && !repros.contains(&key) {
                repros.push(key);
            }
        }
    };
    for source in &sources {
        match source {
            Source::Call(c) => {
                let e = event(c.at, describe_call(c));
                match &c.error_code {
                    Some(code) => {
                        let mut e = explainer.explain(e, code, Shown::Alert, true);
                        e.request_id = Some(clean(&c.request_id));
                        e.answered = c.status.is_some();
                        note_repro(code, Some(&c.route));
                        events.push(e);
                    }
                    None => events.push(e),
                }
            }
            Source::Link(l) => {
                let e = event(l.at, describe_link(l));
                match link_error(l) {
                    Some((code, shown)) => {
                        note_repro(code, None);
                        // A refusal sent nothing; a check's answer came from a request.
                        let sent = l.verdict == LINK_OPENED_RESET;
                        events.push(explainer.explain(e, code, shown, sent));
                    }
                    None => events.push(e),
                }
            }
            Source::LastError(err) => {
                let status = err
                    .status
                    .map(|s| format!(", HTTP {s}"))
                    .unwrap_or_default();
                let code = clean(&err.code);
                let of_a_call = err
                    .request_id
                    .as_ref()
                    .is_some_and(|id| report.api_calls.iter().any(|c| &c.request_id == id));
                let of_a_link = err.request_id.is_none()
                    && report.link_events.iter().any(|l| l.verdict == err.code);
                if of_a_call || of_a_link {
                    let which = if of_a_call { "call" } else { "link" };
                    events.push(event(
                        err.at,
                        format!("the app's last error: {code}{status} (the {which} above)"),
                    ));
                    continue;
                }
                let mut e = explainer.explain(
                    event(err.at, format!("the app showed an error: {code}{status}")),
                    &err.code,
                    Shown::Alert,
                    err.request_id.is_some(),
                );
                e.request_id = err.request_id.as_deref().map(clean);
                note_repro(&err.code, None);
                events.push(e);
            }
        }
    }

    let mut request_ids: Vec<String> = Vec::new();
    let failed = report
        .api_calls
        .iter()
        .filter(|c| c.error_code.is_some())
        .map(|c| c.request_id.as_str());
    let last = report
        .last_error
        .iter()
        .filter_map(|e| e.request_id.as_deref());
    for id in failed.chain(last).map(clean) {
        if !request_ids.contains(&id) {
            request_ids.push(id);
        }
    }

    Explained {
        made_at: report.made_at,
        header: header(report),
        events,
        request_ids,
        reproduce: reproduce(report, staging, &repros),
    }
}

fn header(r: &SupportReport) -> Vec<(&'static str, String)> {
    let default_note = |url: &str| {
        if is_default(url) {
            " (the default)".to_owned()
        } else {
            format!(" (not the default {DEFAULT_BASE})")
        }
    };
    let language = match language_name(&r.app.language) {
        Some("English") => "English".to_owned(),
        Some(name) => {
            format!("{name} (the member saw the {name} texts; the English ones are quoted below)")
        }
        None => clean(&r.app.language),
    };
    let keychain = match (&r.keychain, r.keychain.answers) {
        (k, true) if k.holds_session => "answers; holds a session for this API URL".to_owned(),
        (_, true) => "answers; no session for this API URL".to_owned(),
        (k, false) => format!(
            "does not answer ({})",
            clean(k.error_code.as_deref().unwrap_or("no reason given"))
        ),
    };
    vec![
        ("Made at", format!("{} UTC", date_time(r.made_at))),
        (
            "App",
            format!("{} (build {})", clean(&r.app.version), clean(&r.app.build)),
        ),
        (
            "Platform",
            format!("{}, {}", clean(&r.app.platform), clean(&r.app.os)),
        ),
        (
            "Shown as",
            format!(
                "{}, window {}",
                clean(&r.app.presentation),
                clean(&r.app.window)
            ),
        ),
        ("Language", language),
        (
            "API URL",
            format!("{}{}", clean(&r.api.api_url), default_note(&r.api.api_url)),
        ),
        (
            "Web base",
            format!(
                "{}{}",
                clean(&r.api.web_base),
                default_note(&r.api.web_base)
            ),
        ),
        ("Keychain", keychain),
    ]
}

/// For each route of the API the app calls (the member's, not Team Admin's), the CLI command
/// that makes the same call.
const SAME_CALL: [(&str, &str); 9] = [
    (routes::FORGOT, "forgot '<address of a staging account>'"),
    (
        routes::RESET_CHECK,
        "check-link '<a link from a staging reset mail>'",
    ),
    (
        routes::RESET,
        "reset '<a link from a staging reset mail>' --password-stdin",
    ),
    (
        routes::SESSIONS,
        "login --email '<address of a staging account>' --password-stdin",
    ),
    (routes::CURRENT_SESSION, "logout"),
    (routes::ME, "me"),
    (routes::ME_PASSWORD, "change-password --password-stdin"),
    (routes::ME_PASSWORD_POLICY, "password-policy"),
    (routes::TIMELINE, "timeline"),
];

/// The CLI command that makes the same call as the app's call to `route`.
fn command_for(route: &str) -> Option<&'static str> {
    SAME_CALL
        .iter()
        .find(|(r, _)| *r == route)
        .map(|(_, command)| *command)
}

fn reproduce(
    r: &SupportReport,
    staging: &Staging,
    repros: &[(Repro, Option<String>)],
) -> Vec<String> {
    let api = sh(&r.api.api_url);
    let web = sh(&r.api.web_base);
    let staging_env = format!(
        "UNIPOS_API_URL={} UNIPOS_WEB_BASE={}",
        staging
            .api_url
            .as_deref()
            .map(sh)
            .unwrap_or_else(|| "'<staging API URL>'".into()),
        staging
            .web_base
            .as_deref()
            .map(sh)
            .unwrap_or_else(|| "'<staging web base>'".into()),
    );
    let mut out = Vec::new();
    for (repro, route) in repros {
        let (why, command) = match repro {
            Repro::None => continue,
            Repro::CheckEmail => (
                "the address as the member typed it (ask for it; nothing is sent)".to_owned(),
                "unipos check-email '<the address exactly as typed>'".to_owned(),
            ),
            Repro::InspectLink => (
                "the link as the member opened it, with the app's web base (nothing is sent)"
                    .to_owned(),
                format!("unipos --web-base {web} inspect-link '<the link the member opened>'"),
            ),
            Repro::CheckLink => (
                "the member's link against the member's API (does not use the link up)".to_owned(),
                format!(
                    "unipos --api-url {api} --web-base {web} check-link '<the link from the mail>'"
                ),
            ),
            // Support's loopback is not the member's.
            Repro::ReachApi if is_loopback(&r.api.api_url) => continue,
            Repro::ReachApi => (
                "whether the member's API URL answers from here (HTTP 202: it does; the same code: \
                 it does not, for anyone)"
                    .to_owned(),
                format!("unipos --api-url {api} forgot nobody@example.com"),
            ),
            Repro::SameCall => {
                let route = route.as_deref().unwrap_or("");
                let Some(command) = command_for(route) else {
                    continue;
                };
                (
                    format!("the same call ({}) against staging", clean(route)),
                    format!("{staging_env} unipos {command}"),
                )
            }
        };
        out.push(format!("# {why}\n{command}"));
    }
    out
}

impl Explained {
    /// The explanation for a terminal.
    pub fn human(&self) -> String {
        let mut out = String::from("Unipos support report\n");
        for (label, value) in &self.header {
            out.push_str(&format!("  {label:<10} {value}\n"));
        }
        out.push_str("\nWhat happened (oldest first, times in UTC):\n");
        if self.events.is_empty() {
            out.push_str("  nothing: no API call, link or error since the app started\n");
        }
        for e in &self.events {
            // The time alone on the report's day, the date too before it.
            let at = if utc(e.at).date() == utc(self.made_at).date() {
                clock(e.at)
            } else {
                date_time(e.at)
            };
            out.push_str(&format!("\n{at}  {}\n", e.what));
            if !e.member_saw.is_empty() {
                out.push_str("  What the member saw:\n");
                for line in &e.member_saw {
                    out.push_str(&format!("    {line}\n"));
                }
            }
            if let Some(means) = &e.means {
                out.push_str(&format!("  What it means: {means}\n"));
            }
            if let Some(next) = &e.next {
                out.push_str(&format!("  What to do next: {next}\n"));
            }
            match &e.request_id {
                Some(id) if e.answered => out.push_str(&format!("  Request id: {id}\n")),
                Some(id) => out.push_str(&format!(
                    "  Request id: {id} (no answer came: the server log has it only if the \
                     request reached the server)\n"
                )),
                None => {}
            }
        }
        out.push_str("\nRequest ids to look up in the server log:\n");
        if self.request_ids.is_empty() {
            out.push_str("  none (nothing failed on the way to the server)\n");
        } else {
            for id in &self.request_ids {
                out.push_str(&format!("  {id}\n"));
            }
            out.push_str(
                "  (unipos-server --log-format json writes each as span.request_id: \
                 jq -c 'select(.span.request_id == \"<id>\")' server.log)\n",
            );
        }
        if !self.reproduce.is_empty() {
            out.push_str("\nReproduce with the CLI:\n");
            for r in &self.reproduce {
                for line in r.lines() {
                    out.push_str(&format!("  {line}\n"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table names every route of the member's API, as the server serves it, and nothing
    /// else: a route the app calls has a command that reproduces it, and no command names a
    /// route that is gone.
    #[test]
    fn the_reproduction_table_covers_the_servers_member_routes() {
        let doc = serde_json::to_value(unipos_server::openapi()).unwrap();
        let mut served: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, operations)| {
                // Team Admin's routes are the CLI's own (`unipos admin`), never the app's.
                !operations.as_object().unwrap().values().any(|op| {
                    op["tags"]
                        .as_array()
                        .is_some_and(|tags| tags.iter().any(|t| t == "admin"))
                })
            })
            .map(|(path, _)| {
                path.strip_prefix(unipos_client::unipos_protocol::API_PREFIX)
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let mut table: Vec<String> = SAME_CALL.iter().map(|(r, _)| (*r).to_owned()).collect();
        served.sort();
        table.sort();
        assert_eq!(table, served);
    }
}
