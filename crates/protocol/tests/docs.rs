//! The docs' tables of error codes say what `ErrorCode` says: DEEPLINKS.md's refusals are every
//! `link_*` code and its dead links every `ErrorCode::DEAD_LINK`, and each code the server
//! README's endpoint tables name exists, with the status it is named with.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::collections::BTreeSet;
use std::path::Path;

use unipos_protocol::ErrorCode;

fn doc(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the section under `heading` (up to the next heading of its level or above).
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = text.lines().skip_while(|l| l.trim_end() != heading);
    assert!(lines.next().is_some(), "no section {heading:?}");
    lines
        .take_while(|l| {
            let hashes = l.chars().take_while(|c| *c == '#').count();
            hashes == 0 || hashes > level || !l[hashes..].starts_with(' ')
        })
        .collect()
}

/// The `backticked` words of a piece of text.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn codes(filter: impl Fn(&ErrorCode) -> bool) -> BTreeSet<String> {
    ErrorCode::ALL
        .iter()
        .filter(|c| filter(c))
        .map(|c| c.as_str().to_owned())
        .collect()
}

#[test]
fn deeplinks_refusals_table_lists_every_link_code_and_no_other() {
    let text = doc("DEEPLINKS.md");
    let listed: BTreeSet<String> = section(&text, "## Refusals")
        .into_iter()
        .filter(|l| l.starts_with("| `"))
        .map(|l| backticked(l)[0].to_owned())
        .collect();
    assert_eq!(
        listed,
        codes(|c| c.as_str().starts_with("link_")),
        "DEEPLINKS.md, Refusals: the table's codes (left) and ErrorCode's link_* codes (right)"
    );
}

#[test]
fn deeplinks_dead_links_are_errorcode_dead_link() {
    let text = doc("DEEPLINKS.md");
    let (_, after) = text
        .split_once("each has its own screen:")
        .expect("DEEPLINKS.md: the sentence naming the dead links (\"each has its own screen:\")");
    let list = after.split_once(".\n").map_or(after, |(list, _)| list);
    let listed: BTreeSet<String> = backticked(list).into_iter().map(str::to_owned).collect();
    assert_eq!(
        listed,
        codes(|c| c.is_dead_link()),
        "DEEPLINKS.md's dead links (left) and ErrorCode::DEAD_LINK (right)"
    );
}

/// `404 `token_invalid``, `410 `token_expired` / `token_used``, `422 `email_*``: each code named
/// after a status, with that status.
fn codes_with_status(cell: &str) -> Vec<(u16, String)> {
    let mut found = Vec::new();
    let mut status = None;
    for (i, part) in cell.split('`').enumerate() {
        if i % 2 == 1 {
            let code_like = part
                .trim_end_matches('*')
                .chars()
                .enumerate()
                .all(|(i, c)| {
                    c.is_ascii_lowercase() || (i > 0 && (c == '_' || c.is_ascii_digit()))
                });
            match status {
                Some(status) if code_like && !part.is_empty() => {
                    found.push((status, part.to_owned()))
                }
                // A body (`{session, user}`), a media type: not a code, and no code follows.
                _ => status = None,
            }
            continue;
        }
        let trimmed = part.trim();
        status = match trimmed.rsplit(' ').next().unwrap_or("").parse::<u16>() {
            Ok(n) if (100..600).contains(&n) => Some(n),
            // "`token_expired` / `token_used`": the same status goes on.
            _ if trimmed == "/" => status,
            _ => None,
        };
    }
    found
}

#[test]
fn the_server_readmes_endpoint_tables_name_real_codes_with_their_status() {
    let text = doc("crates/server/README.md");
    let mut named = 0;
    for line in section(&text, "## Endpoints") {
        if !line.starts_with('|') {
            continue;
        }
        for (status, code) in codes_with_status(line) {
            named += 1;
            if let Some(prefix) = code.strip_suffix('*') {
                let family = codes(|c| c.as_str().starts_with(prefix));
                assert!(
                    !family.is_empty()
                        && family
                            .iter()
                            .all(|c| c.parse::<ErrorCode>().unwrap().http_status() == status),
                    "crates/server/README.md names {status} `{code}`: {family:?}"
                );
                continue;
            }
            let known: ErrorCode = code.parse().unwrap_or_else(|_| {
                panic!("crates/server/README.md names {status} `{code}`, which ErrorCode lacks")
            });
            assert_eq!(
                known.http_status(),
                status,
                "crates/server/README.md names `{code}` with {status}"
            );
        }
    }
    assert!(
        named > 30,
        "only {named} codes found in the endpoint tables"
    );
}
