//! The link rules, case by case: what a reset link may look like, and the look-alikes that must
//! never reach the "set a new password" screen.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use unipos_protocol::{AppLink, BaseUrl, ErrorCode, LinkRules};

use ErrorCode::*;

const T: &str = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"; // 44 chars, URL-safe base64

fn rules(web: &str) -> LinkRules {
    LinkRules::new(BaseUrl::parse(web).unwrap())
}

#[derive(Debug, PartialEq)]
enum Want {
    Reset,
    Forgot,
    Login,
    Refused(ErrorCode),
}
use Want::*;

/// `(web base, link, verdict)`; `{T}` stands for a well-formed token.
const CASES: &[(&str, &str, Want)] = &[
    // The links we send.
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token={T}",
        Reset,
    ),
    (
        "https://unipos.me",
        "unipos://reset_password?token={T}",
        Reset,
    ),
    (
        "https://unipos.me",
        "unipos://reset_password/?token={T}",
        Reset,
    ),
    ("https://unipos.me", "unipos://forgot_password", Forgot),
    ("https://unipos.me", "unipos://login", Login),
    ("https://unipos.me", "UNIPOS://Login/", Login),
    (
        "https://unipos.me",
        "unipos://login?next=x",
        Refused(LinkExtraParts),
    ),
    (
        "https://unipos.me",
        "unipos://login#x",
        Refused(LinkExtraParts),
    ),
    (
        "https://unipos.me",
        "unipos://login/timeline",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/login",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "HTTPS://UNIPOS.ME/reset_password?token={T}",
        Reset,
    ),
    (
        "https://unipos.me",
        "UNIPOS://Reset_Password?token={T}",
        Reset,
    ),
    (
        "https://unipos.me",
        "https://unipos.me:443/reset_password?token={T}",
        Reset,
    ),
    (
        "https://unipos.me",
        "  https://unipos.me/reset_password?token={T}\n",
        Reset,
    ), // pasted
    (
        "http://127.0.0.1:8787",
        "http://127.0.0.1:8787/reset_password?token={T}",
        Reset,
    ),
    (
        "https://example.com/unipos/",
        "https://example.com/unipos/reset_password?token={T}",
        Reset,
    ),
    // Schemes.
    (
        "https://unipos.me",
        "http://unipos.me/reset_password?token={T}",
        Refused(LinkScheme),
    ),
    (
        "https://unipos.me",
        "javascript:alert(1)//unipos.me/reset_password",
        Refused(LinkScheme),
    ),
    (
        "https://unipos.me",
        "ftp://unipos.me/reset_password?token={T}",
        Refused(LinkScheme),
    ),
    (
        "https://unipos.me",
        "file:///reset_password?token={T}",
        Refused(LinkScheme),
    ),
    (
        "https://unipos.me",
        "unipos-evil://reset_password?token={T}",
        Refused(LinkScheme),
    ),
    (
        "https://unipos.me",
        "https:unipos.me/reset_password?token={T}",
        Refused(LinkUnparseable),
    ),
    (
        "https://unipos.me",
        "https:///unipos.me/reset_password?token={T}",
        Refused(LinkUnparseable),
    ),
    (
        "http://127.0.0.1:8787",
        "https://127.0.0.1:8787/reset_password?token={T}",
        Refused(LinkScheme),
    ),
    // User-info: the host that counts is after the @.
    (
        "https://unipos.me",
        "https://unipos.me@evil.example/reset_password?token={T}",
        Refused(LinkUserinfo),
    ),
    (
        "https://unipos.me",
        "https://evil.example@unipos.me/reset_password?token={T}",
        Refused(LinkUserinfo),
    ),
    (
        "https://unipos.me",
        "https://user:pass@unipos.me/reset_password?token={T}",
        Refused(LinkUserinfo),
    ),
    (
        "https://unipos.me",
        "unipos://x@reset_password?token={T}",
        Refused(LinkUserinfo),
    ),
    (
        "https://unipos.me",
        "https://unipos.me%40evil.example/reset_password?token={T}",
        Refused(LinkUnparseable),
    ),
    // Other and look-alike hosts.
    (
        "https://unipos.me",
        "https://evil.example/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "https://unipos.me.evil.example/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "https://evil-unipos.me/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "https://www.unipos.me/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "https://unipos.me./reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "https://unip0s.me/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "https://unipоs.me/reset_password?token={T}",
        Refused(LinkHost),
    ), // Cyrillic о
    (
        "https://unipos.me",
        "https://xn--unips-3ve.me/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "https://ｕｎｉｐｏｓ.me/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "https://unipos%2eme/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "http://127.0.0.1:8787",
        "http://2130706433:8787/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "http://[::1]:8787",
        "http://[::1]:8787/reset_password?token={T}",
        Reset,
    ),
    (
        "https://unipos.me",
        "https://3.3.3.3/reset_password?token={T}",
        Refused(LinkHost),
    ),
    (
        "https://unipos.me",
        "unipos://evil.example?token={T}",
        Refused(LinkHost),
    ),
    (
        "http://127.0.0.1:8787",
        "http://localhost:8787/reset_password?token={T}",
        Refused(LinkHost),
    ),
    // Ports.
    (
        "https://unipos.me",
        "https://unipos.me:8443/reset_password?token={T}",
        Refused(LinkPort),
    ),
    (
        "http://127.0.0.1:8787",
        "http://127.0.0.1:8788/reset_password?token={T}",
        Refused(LinkPort),
    ),
    (
        "http://127.0.0.1:8787",
        "http://127.0.0.1/reset_password?token={T}",
        Refused(LinkPort),
    ),
    (
        "https://unipos.me",
        "unipos://reset_password:99?token={T}",
        Refused(LinkPort),
    ),
    // Paths, including the ones the URL parser would quietly resolve.
    (
        "https://unipos.me",
        "https://unipos.me/reset_password/?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/login?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/evil/../reset_password?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/./reset_password?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/evil/%2e%2e/reset_password?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/evil/.%2E/reset_password?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset%5Fpassword?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/RESET_PASSWORD?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me//reset_password?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "https://unipos.me\\reset_password?token={T}",
        Refused(LinkUnparseable),
    ),
    (
        "https://unipos.me",
        "https://unipos.me\\@evil.example/reset_password?token={T}",
        Refused(LinkUnparseable),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_\npassword?token={T}",
        Refused(LinkUnparseable),
    ),
    (
        "https://unipos.me",
        "unipos://reset_password/x?token={T}",
        Refused(LinkPath),
    ),
    (
        "https://unipos.me",
        "unipos://reset_password/../forgot_password",
        Refused(LinkPath),
    ),
    (
        "https://example.com/unipos",
        "https://example.com/reset_password?token={T}",
        Refused(LinkPath),
    ),
    // Extra parts.
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token={T}&next=https://evil.example",
        Refused(LinkExtraParts),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?utm_source=mail&token={T}",
        Refused(LinkExtraParts),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token={T}#frag",
        Refused(LinkExtraParts),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?tok%65n={T}",
        Refused(LinkExtraParts),
    ),
    (
        "https://unipos.me",
        "unipos://forgot_password?email=a@b.c",
        Refused(LinkExtraParts),
    ),
    (
        "https://unipos.me",
        "unipos://reset_password?token={T}#x",
        Refused(LinkExtraParts),
    ),
    // Tokens.
    (
        "https://unipos.me",
        "https://unipos.me/reset_password",
        Refused(LinkTokenMissing),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token=",
        Refused(LinkTokenMissing),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?",
        Refused(LinkTokenMissing),
    ),
    (
        "https://unipos.me",
        "unipos://reset_password",
        Refused(LinkTokenMissing),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token={T}&token={T}",
        Refused(LinkTokenDuplicate),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token=short",
        Refused(LinkTokenMalformed),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token={T}%3D",
        Refused(LinkTokenMalformed),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token=%5A{T}",
        Refused(LinkTokenMalformed),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token={T}+/",
        Refused(LinkTokenMalformed),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token={T}<script>",
        Refused(LinkTokenMalformed),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token={T}{T}{T}",
        Refused(LinkTokenMalformed),
    ),
    (
        "https://unipos.me",
        "https://unipos.me/reset_password?token=…",
        Refused(LinkTokenMalformed),
    ),
    // Not links at all.
    ("https://unipos.me", "", Refused(LinkUnparseable)),
    (
        "https://unipos.me",
        "reset_password?token={T}",
        Refused(LinkUnparseable),
    ),
    (
        "https://unipos.me",
        "unipos.me/reset_password?token={T}",
        Refused(LinkUnparseable),
    ),
];

fn expand(link: &str) -> String {
    link.replace("{T}", T)
}

#[test]
fn every_case_gets_its_verdict() {
    println!("{} link cases", CASES.len());
    assert!(CASES.len() >= 70, "keep the table broad");
    let mut failures = Vec::new();
    for (web, link, want) in CASES {
        let link = expand(link);
        let got = match rules(web).parse(&link) {
            Ok(AppLink::Reset(reset)) => {
                assert_eq!(reset.token.expose(), T);
                Reset
            }
            Ok(AppLink::Forgot) => Forgot,
            Ok(AppLink::Login) => Login,
            Err(e) => Refused(e.code()),
        };
        if &got != want {
            failures.push(format!("{web} {link:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn an_overlong_link_is_refused_before_parsing() {
    let link = format!(
        "https://unipos.me/reset_password?token={}",
        "a".repeat(3000)
    );
    assert_eq!(
        rules("https://unipos.me").parse(&link).unwrap_err().code(),
        LinkTooLong
    );
}

#[test]
fn the_links_we_build_are_the_links_we_accept() {
    for web in [
        "https://unipos.me",
        "http://127.0.0.1:8787/",
        "https://example.com/unipos",
    ] {
        let r = rules(web);
        for link in [r.reset_url(T), LinkRules::app_reset_url(T)] {
            assert!(
                matches!(r.parse(&link), Ok(AppLink::Reset(_))),
                "{web}: {link}"
            );
        }
    }
    assert_eq!(
        rules("https://unipos.me/").reset_url(T),
        format!("https://unipos.me/reset_password?token={T}")
    );
}

#[test]
fn a_refusal_names_the_host_it_saw() {
    let err = rules("https://unipos.me")
        .parse(&expand(
            "https://unipos.me.evil.example/reset_password?token={T}",
        ))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the link points to unipos.me.evil.example, not to unipos.me"
    );
}

#[test]
fn no_input_makes_the_rules_panic() {
    let nasty = "unipos://reset_password:?tok\u{3000}en=%%%&&==#\u{FEFF}例/../";
    let r = rules("https://unipos.me");
    for end in (0..=nasty.len()).filter(|&i| nasty.is_char_boundary(i)) {
        let _ = r.parse(&nasty[..end]);
    }
}
