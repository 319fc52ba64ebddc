//! `LinkRules::parse` on any text, against several web bases. Input: `LINK`, or `WEB_BASE\nLINK`
//! to try one more web base (any text; used when `BaseUrl::parse` accepts it).
//!
//! Beyond "does not panic", for every accepted link:
//! - the token re-parses with `ResetToken::parse` and is exactly the query's one `token=` value;
//! - a web link's scheme, host (as written, case aside), port and path are the web base's, it
//!   has no user-info or fragment, and it is the link `reset_url` builds for that token;
//! - an app link is `unipos://reset_password`, `unipos://forgot_password` or `unipos://login`,
//!   nothing more;
//! - surrounding ASCII whitespace (a paste) does not change the verdict;
//! - and the genuine links for the accepted token are accepted too.
//!
//! Shared by the fuzz target (`fuzz/fuzz_targets/link.rs`) and the replay of the committed
//! seeds in the test command (`crates/protocol/tests/fuzz_seeds.rs`).

use unipos_protocol::link::MAX_LINK_LEN;
use unipos_protocol::{AppLink, BaseUrl, LinkRules, ResetToken};
use url::Url;

const BASES: [&str; 4] = [
    "https://unipos.me",
    "http://127.0.0.1:8787",
    "https://example.com/unipos",
    "http://[::1]:8787",
];

/// `authority` split into the host as written and the port text, if any.
fn host_and_port(authority: &str) -> (&str, Option<&str>) {
    let split = if authority.starts_with('[') {
        authority.find(']').map(|i| i + 1)
    } else {
        authority.find(':')
    };
    match split {
        Some(i) if i < authority.len() => {
            let port = authority[i..].strip_prefix(':');
            (&authority[..i], port.or(Some(&authority[i..])))
        }
        _ => (authority, None),
    }
}

fn check_with(rules: &LinkRules, input: &str) {
    let verdict = rules.parse(input);
    let pasted = format!(" \t{input}\r\n");
    assert_eq!(rules.parse(&pasted), verdict, "a paste changes the verdict");
    let link = match verdict {
        Err(err) => {
            let _ = (err.code(), err.to_string());
            return;
        }
        Ok(link) => link,
    };
    let trimmed = input.trim_matches(|c: char| c.is_ascii_whitespace());
    assert!(trimmed.len() <= MAX_LINK_LEN);
    assert!(!trimmed.contains('\\'), "accepted {trimmed:?}");
    let url = Url::parse(trimmed).expect("an accepted link parses");
    assert!(url.username().is_empty() && url.password().is_none());
    assert!(url.fragment().is_none(), "accepted a fragment: {trimmed:?}");
    let (scheme, rest) = trimmed.split_once("://").expect("scheme://");
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    assert!(
        !rest[..authority_end].contains('@'),
        "user-info in {trimmed:?}"
    );
    let (host, port) = host_and_port(&rest[..authority_end]);
    let path_end = rest[authority_end..]
        .find(['?', '#'])
        .map_or(rest.len(), |i| authority_end + i);
    let raw_path = &rest[authority_end..path_end];
    let is_app = scheme.eq_ignore_ascii_case("unipos");

    let token = match link {
        AppLink::Forgot => {
            assert!(is_app, "forgot_password from {trimmed:?}");
            assert!(host.eq_ignore_ascii_case("forgot_password"), "{trimmed:?}");
            assert!(matches!(port, None | Some("")), "{trimmed:?}");
            assert!(matches!(raw_path, "" | "/"), "{trimmed:?}");
            assert!(url.query().is_none(), "{trimmed:?}");
            return;
        }
        AppLink::Login => {
            assert!(is_app, "login from {trimmed:?}");
            assert!(host.eq_ignore_ascii_case("login"), "{trimmed:?}");
            assert!(matches!(port, None | Some("")), "{trimmed:?}");
            assert!(matches!(raw_path, "" | "/"), "{trimmed:?}");
            assert!(url.query().is_none(), "{trimmed:?}");
            return;
        }
        AppLink::Reset(reset) => reset.token,
    };
    let t = token.expose();
    assert_eq!(ResetToken::parse(t).as_ref(), Ok(&token), "token re-parses");
    let pairs: Vec<&str> = url
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(pairs, [format!("token={t}")], "query of {trimmed:?}");

    if is_app {
        assert!(host.eq_ignore_ascii_case("reset_password"), "{trimmed:?}");
        assert!(matches!(port, None | Some("")), "{trimmed:?}");
        assert!(matches!(raw_path, "" | "/"), "{trimmed:?}");
    } else {
        let web = rules.web_base();
        let base = web.url();
        assert!(scheme.eq_ignore_ascii_case(base.scheme()), "{trimmed:?}");
        assert_eq!(
            host.to_ascii_lowercase(),
            base.host_str().unwrap().to_ascii_lowercase(),
            "host of {trimmed:?} as written"
        );
        assert_eq!(url.port_or_known_default(), base.port_or_known_default());
        let want_path = format!("{}/reset_password", web.path_prefix());
        assert_eq!(url.path(), want_path, "path of {trimmed:?}");
        // As written, too, unless it holds characters the URL parser percent-encodes.
        if raw_path
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"<>`{}".contains(&b))
        {
            assert_eq!(raw_path, want_path, "path of {trimmed:?} as written");
        }
        let mut ours = Url::parse(&rules.reset_url(t)).unwrap();
        let mut theirs = url.clone();
        ours.set_query(None);
        theirs.set_query(None);
        assert_eq!(theirs, ours, "{trimmed:?} is not our link");
    }
    // The genuine links for this token are accepted, with the same token.
    for genuine in [rules.reset_url(t), LinkRules::app_reset_url(t)] {
        match rules.parse(&genuine) {
            Ok(AppLink::Reset(r)) => assert_eq!(r.token, token),
            other => panic!("{genuine:?} refused: {other:?}"),
        }
    }
}

/// Checks one input; panics when an oracle above does not hold.
pub fn check(input: &str) {
    let (extra_base, link) = match input.split_once('\n') {
        Some((base, link)) => (BaseUrl::parse(base).ok(), link),
        None => (None, input),
    };
    for base in BASES {
        check_with(&LinkRules::new(BaseUrl::parse(base).unwrap()), link);
    }
    if let Some(base) = extra_base {
        check_with(&LinkRules::new(base), link);
    }
}
