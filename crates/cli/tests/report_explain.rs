//! `unipos report explain`, run as a subprocess on reports built with the app's own
//! `SupportReport` type. Nothing is sent, so no server is needed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use unipos_client::support::{
    ApiCall, ApiFacts, AppFacts, KeychainFacts, LinkArrival, LinkEvent, ShownError, SupportReport,
    LINK_OPENED_RESET, REPORT_FORMAT,
};
use unipos_client::unipos_protocol::MAIL_SENDER;

/// The app's English texts: the output must quote these, not a copy of them.
fn en(key: &str) -> String {
    let texts: HashMap<String, String> =
        serde_json::from_str(include_str!("../../../ui/src/i18n/en.json")).unwrap();
    texts
        .get(key)
        .unwrap_or_else(|| panic!("{key} not in en.json"))
        .replace("{sender}", MAIL_SENDER)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn unipos(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_unipos"))
        .args(args)
        .env_remove("UNIPOS_API_URL")
        .env_remove("UNIPOS_WEB_BASE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the unipos binary starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `report explain FILE` on the report's text.
fn explain_file(text: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.txt");
    std::fs::write(&path, text).unwrap();
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["report", "explain", path.to_str().unwrap()]);
    unipos(&args, None)
}

fn at(time: &str) -> OffsetDateTime {
    OffsetDateTime::parse(&format!("2026-11-27T{time}Z"), &Rfc3339).unwrap()
}

fn report() -> SupportReport {
    SupportReport {
        format: REPORT_FORMAT.into(),
        made_at: at("23:10:00"),
        app: AppFacts {
            version: "0.1.0".into(),
            build: "1b7c49d release".into(),
            platform: "linux".into(),
            os: "Debian GNU/Linux 12 (bookworm) 64-bit".into(),
            presentation: "desktop".into(),
            window: "1280×800".into(),
            language: "en".into(),
        },
        api: ApiFacts {
            api_url: "https://unipos.me".into(),
            web_base: "https://unipos.me".into(),
        },
        keychain: KeychainFacts {
            answers: true,
            holds_session: false,
            error_code: None,
        },
        api_calls: Vec::new(),
        link_events: Vec::new(),
        last_error: None,
    }
}

fn call(
    time: &str,
    method: &str,
    route: &str,
    status: Option<u16>,
    code: Option<&str>,
    id: &str,
) -> ApiCall {
    ApiCall {
        at: at(time),
        method: method.into(),
        route: route.into(),
        status,
        error_code: code.map(str::to_owned),
        request_id: id.into(),
        duration_ms: 3,
    }
}

fn link(time: &str, came: LinkArrival, verdict: &str, checked: Option<&str>) -> LinkEvent {
    LinkEvent {
        at: at(time),
        came,
        verdict: verdict.into(),
        token_hint: (verdict == LINK_OPENED_RESET).then(|| "PKrgHS…".into()),
        checked: checked.map(str::to_owned),
    }
}

const REFUSED_ID: &str = "0b0d6f7e-7d2c-4a55-9a53-2b1f0f3c9e11";
const BUSY_ID: &str = "5e1c0a42-91d3-4b7e-8f00-6a2d9c3b7e55";
const EXPIRED_ID: &str = "c3a9e5d1-0f2b-4c6d-8e7a-1b2c3d4e5f60";

/// A link refused at a cold start, then a forgot that could not connect (the last error).
fn refused_link_and_connection() -> SupportReport {
    SupportReport {
        link_events: vec![link("23:00:01", LinkArrival::ColdStart, "link_host", None)],
        api_calls: vec![call(
            "23:00:05",
            "POST",
            "/password/forgot",
            None,
            Some("connection_refused"),
            REFUSED_ID,
        )],
        last_error: Some(ShownError {
            at: at("23:00:05"),
            code: "connection_refused".into(),
            status: None,
            request_id: Some(REFUSED_ID.into()),
        }),
        ..report()
    }
}

fn assert_has(out: &str, wanted: &str) {
    assert!(out.contains(wanted), "{wanted:?} missing from:\n{out}");
}

#[test]
fn a_refused_link_and_a_refused_connection_show_the_apps_texts_meaning_next_step_and_request_id() {
    let run = explain_file(&refused_link_and_connection().to_text(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let out = &run.stdout;
    // The header.
    assert_has(out, "2026-11-27 23:10:00 UTC");
    assert_has(out, "0.1.0 (build 1b7c49d release)");
    assert_has(out, "Debian GNU/Linux 12 (bookworm) 64-bit");
    assert_has(out, "https://unipos.me (the default)");
    assert_has(out, "answers; no session for this API URL");
    // The refused link: the link-problem screen as LinkProblem shows it.
    assert_has(out, "23:00:01  link (cold start) refused: link_host");
    for key in ["link.refused.title", "link.refused.body", "error.link_host"] {
        assert_has(out, &en(key));
    }
    assert_has(out, MAIL_SENDER);
    assert_has(
        out,
        "The link points to another host than the app's web base",
    );
    assert_has(out, "nothing in the server log");
    // The forgot that found nothing listening.
    assert_has(
        out,
        "23:00:05  POST /password/forgot → no answer (connection_refused) after 3 ms",
    );
    assert_has(out, &en("error.connection_refused"));
    assert_has(
        out,
        "The app could not reach https://unipos.me: the member's network, or the API is down",
    );
    assert_has(out, &format!("Request id: {REFUSED_ID}"));
    // The last error is the same call: named, not explained twice.
    assert_has(
        out,
        "the app's last error: connection_refused (the call above)",
    );
    assert_eq!(out.matches("The app could not reach").count(), 1, "{out}");
    // The ids to look up and the reproduction.
    let ids = out.split("Request ids to look up").nth(1).unwrap();
    assert_eq!(ids.matches(REFUSED_ID).count(), 1, "{ids}");
    assert_has(ids, "span.request_id");
    assert_has(
        out,
        "unipos --web-base 'https://unipos.me' inspect-link '<the link the member opened>'",
    );
    assert_has(
        out,
        "unipos --api-url 'https://unipos.me' forgot nobody@example.com",
    );
}

#[test]
fn a_changed_api_url_is_named_with_the_way_back_to_the_default() {
    let mut r = refused_link_and_connection();
    r.api.api_url = "https://api.unipos.example".into();
    let out = explain_file(&r.to_text(), &[]).stdout;
    assert_has(
        out.as_str(),
        "https://api.unipos.example (not the default https://unipos.me)",
    );
    assert_has(
        &out,
        "changed it in Settings > Support; set it back with \"Use the default\"",
    );
}

#[test]
fn a_busy_server_shows_its_wait_sentence_the_meaning_and_the_request_id() {
    let r = SupportReport {
        api_calls: vec![call(
            "23:01:00",
            "POST",
            "/sessions",
            Some(503),
            Some("server_busy"),
            BUSY_ID,
        )],
        ..report()
    };
    let run = explain_file(&r.to_text(), &["--api-url", "https://staging.unipos.me"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert_has(out, "POST /sessions → HTTP 503 server_busy after 3 ms");
    assert_has(out, &en("common.busy_retry_in").replace("{seconds}", "N"));
    assert_has(out, "the report does not keep it");
    assert_has(out, "nothing was checked or changed");
    assert_has(out, "One call will not reproduce it");
    assert_has(out, &format!("Request id: {BUSY_ID}\n"));
    assert_has(out.split("Request ids to look up").nth(1).unwrap(), BUSY_ID);
}

#[test]
fn a_server_failure_is_reproduced_with_the_same_call_against_the_staging_api_given() {
    let r = SupportReport {
        api_calls: vec![
            call(
                "23:04:00",
                "POST",
                "/password/reset",
                Some(500),
                Some("internal"),
                "id-500",
            ),
            // Sent, so the server's own refusal: not "refused before sending".
            call(
                "23:04:30",
                "POST",
                "/password/forgot",
                Some(422),
                Some("email_invalid"),
                "id-422",
            ),
        ],
        ..report()
    };
    let run = explain_file(&r.to_text(), &["--api-url", "https://staging.unipos.me"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert_has(out, &en("error.internal"));
    assert_has(out, "escalate to the API's on-call");
    assert_has(
        out,
        "UNIPOS_API_URL='https://staging.unipos.me' UNIPOS_WEB_BASE='<staging web base>' unipos \
         reset '<a link from a staging reset mail>' --password-stdin",
    );
    assert!(!out.contains("nothing in the server log"), "{out}");
    let ids = out.split("Request ids to look up").nth(1).unwrap();
    assert_has(ids, "  id-500\n  id-422\n");
}

#[test]
fn an_expired_link_shows_the_expired_screen_and_its_check_request_id() {
    let r = SupportReport {
        link_events: vec![link(
            "23:02:00",
            LinkArrival::Warm,
            LINK_OPENED_RESET,
            Some("token_expired"),
        )],
        api_calls: vec![call(
            "23:02:01",
            "POST",
            "/password/reset/check",
            Some(410),
            Some("token_expired"),
            EXPIRED_ID,
        )],
        last_error: Some(ShownError {
            at: at("23:02:01"),
            code: "token_expired".into(),
            status: Some(410),
            request_id: Some(EXPIRED_ID.into()),
        }),
        ..report()
    };
    let run = explain_file(&r.to_text(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert_has(
        out,
        "23:02:00  link (warm) PKrgHS… opened Reset; server said token_expired",
    );
    assert_has(out, &en("link.token_expired.title"));
    assert_has(out, &en("link.token_expired.body"));
    assert_has(out, "The reset link's time ran out");
    assert_has(out, "The member taps \"Send a new email\"");
    assert_has(
        out,
        "23:02:01  POST /password/reset/check → HTTP 410 token_expired after 3 ms",
    );
    // Explained once; the call refers to it.
    assert_has(out, "As for token_expired above.");
    assert_has(out, &format!("Request id: {EXPIRED_ID}\n"));
    assert_has(out, "check-link '<the link from the mail>'");
}

#[test]
fn a_report_on_stdin_with_chat_text_around_it_is_read() {
    let pasted = format!(
        "Hi support, here it is:\n\n{}\n\nThanks, Taro",
        refused_link_and_connection().to_text()
    );
    let run = unipos(&["report", "explain", "-"], Some(&pasted));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, explain_file(&pasted, &[]).stdout);
    assert_has(&run.stdout, REFUSED_ID);
    assert_has(&run.stdout, &en("error.link_host"));
}

#[test]
fn events_are_merged_in_time_order_whatever_list_they_came_in() {
    let r = SupportReport {
        api_calls: vec![
            call("23:00:10", "GET", "/me", Some(200), None, "id-me"),
            call(
                "23:00:30",
                "GET",
                "/timeline",
                Some(200),
                None,
                "id-timeline",
            ),
        ],
        link_events: vec![link(
            "23:00:20",
            LinkArrival::Paste,
            "link_token_malformed",
            None,
        )],
        last_error: Some(ShownError {
            at: at("23:00:25"),
            code: "email_fullwidth".into(),
            status: None,
            request_id: None,
        }),
        ..report()
    };
    let out = explain_file(&r.to_text(), &[]).stdout;
    let order: Vec<usize> = [
        "23:00:10  GET /me → HTTP 200 in 3 ms",
        "23:00:20  link (pasted) refused: link_token_malformed",
        "23:00:25  the app showed an error: email_fullwidth",
        "23:00:30  GET /timeline → HTTP 200 in 3 ms",
    ]
    .iter()
    .map(|line| {
        out.find(line)
            .unwrap_or_else(|| panic!("{line:?} missing:\n{out}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}\n{out}");
    // A pasted link's refusal shows under the field, without the link-problem screen.
    assert_has(&out, &en("error.link_token_malformed"));
    assert!(!out.contains(&en("link.refused.title")), "{out}");
    assert_has(&out, &en("error.email_fullwidth"));
    // Refused by the app's own rules: nothing was sent, nothing is in the server log.
    assert_eq!(out.matches("nothing in the server log").count(), 2, "{out}");
    // Nothing failed on the way to the server: no id to look up, none of a success printed.
    assert_has(&out, "none (nothing failed on the way to the server)");
    assert!(!out.contains("id-me"), "{out}");
}

#[test]
fn a_code_this_unipos_does_not_know_is_printed_as_such() {
    let r = SupportReport {
        api_calls: vec![call(
            "23:03:00",
            "POST",
            "/password/forgot",
            Some(422),
            Some("email_quantum"),
            "id-new",
        )],
        ..report()
    };
    let out = explain_file(&r.to_text(), &[]).stdout;
    assert_has(&out, "HTTP 422 email_quantum");
    assert_has(&out, "the app is newer than this tool");
    assert_has(&out, "Update unipos");
    assert_has(&out, "Request id: id-new");
}

#[test]
fn control_characters_from_a_report_are_escaped_not_printed() {
    let mut r = refused_link_and_connection();
    r.app.os = "Linux\u{1b}]0;owned\u{7}\nforged line".into();
    let out = explain_file(&r.to_text(), &[]).stdout;
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert_has(&out, r"Linux\u{1b}]0;owned\u{7}\nforged line");
}

#[test]
fn json_output_is_one_object_with_the_events_and_request_ids() {
    let run = explain_file(&refused_link_and_connection().to_text(), &["--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["request_ids"], serde_json::json!([REFUSED_ID]));
    assert_eq!(v["report"]["format"], REPORT_FORMAT);
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{v}");
    assert_eq!(events[0]["code"], "link_host");
    assert_eq!(events[1]["code"], "connection_refused");
    assert_eq!(events[1]["request_id"], REFUSED_ID);
    assert_eq!(
        events[1]["member_saw"],
        serde_json::json!([en("error.connection_refused")])
    );
}

#[test]
fn a_text_that_is_not_a_report_exits_2_with_its_code_on_stderr() {
    let run = unipos(
        &["report", "explain", "-"],
        Some("The app says request id 0b0d6f7e, can you help?"),
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_has(
        &run.stderr,
        "error: report_not_a_report: this is not a Unipos support report",
    );

    let cut = &refused_link_and_connection().to_text()[..300];
    let run = explain_file(&format!("{cut}}}"), &[]);
    assert_eq!(run.code, 2);
    assert_has(&run.stderr, "error: report_damaged: ");

    let newer = explain_file(r#"{"format": "unipos-support-report/2"}"#, &["--json"]);
    assert_eq!(newer.code, 2);
    let v: Value = serde_json::from_str(&newer.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["code"], "report_unknown_format");

    let missing = unipos(&["report", "explain", "/nonexistent/report.txt"], None);
    assert_eq!(missing.code, 2);
    assert_has(&missing.stderr, "cannot read /nonexistent/report.txt");
}
