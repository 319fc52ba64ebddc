//! `BaseUrl::parse` on any text. Beyond "does not panic":
//! - an accepted base is `https`, or `http` on a loopback host, with a host and no user-info,
//!   query or fragment, and is written without a trailing slash;
//! - `parse(as_str())` gives the same base back (what is written to configuration reads back);
//! - `Insecure` is said only of `http` on a host that is not loopback;
//! - the reset link built on an accepted base is accepted by the link rules for that base.
//!
//! Shared by the fuzz target (`fuzz/fuzz_targets/base_url.rs`) and the replay of the committed
//! seeds in the test command (`crates/protocol/tests/fuzz_seeds.rs`).

use unipos_protocol::link::MAX_LINK_LEN;
use unipos_protocol::{AppLink, BaseUrl, BaseUrlError, LinkRules};
use url::{Host, Url};

const T: &str = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";

fn loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.octets()[0] == 127,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Checks one input; panics when an oracle above does not hold.
pub fn check(input: &str) {
    let base = match BaseUrl::parse(input) {
        Ok(base) => base,
        Err(err) => {
            let _ = (err.code(), err.to_string());
            if let BaseUrlError::Insecure(_) = err {
                let url = Url::parse(input.trim()).expect("Insecure is said of URLs");
                assert_eq!(url.scheme(), "http", "{input:?}");
                assert!(!loopback_host(&url), "{input:?} is loopback");
            }
            return;
        }
    };
    let url = base.url();
    match url.scheme() {
        "https" => {}
        "http" => assert!(base.is_loopback() && loopback_host(url), "{input:?}"),
        other => panic!("{input:?} accepted with scheme {other}"),
    }
    assert!(url.host().is_some(), "{input:?}");
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{input:?}"
    );
    assert!(
        url.query().is_none() && url.fragment().is_none(),
        "{input:?}"
    );

    let written = base.as_str();
    assert!(!written.ends_with('/'), "{written:?}");
    assert!(!base.path_prefix().ends_with('/'));
    assert_eq!(base.to_string(), written);
    assert_eq!(base.join("/x"), format!("{written}/x"));
    match BaseUrl::parse(written) {
        Ok(again) => {
            assert_eq!(again, base, "{input:?} → {written:?}");
            assert_eq!(again.as_str(), written);
        }
        Err(err) => panic!("{input:?} → {written:?} does not read back: {err}"),
    }

    let rules = LinkRules::new(base.clone());
    let link = rules.reset_url(T);
    if link.len() <= MAX_LINK_LEN {
        match rules.parse(&link) {
            Ok(AppLink::Reset(reset)) => assert_eq!(reset.token.expose(), T),
            other => panic!("{input:?}: our own link {link:?} is refused: {other:?}"),
        }
    }
}
