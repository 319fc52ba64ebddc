//! Properties of the email, link and token rules, on generated inputs (proptest). The generators
//! start from well-formed addresses and links and damage them the ways members and attackers do
//! (IME spaces and full-width forms; other hosts, ports and paths behind user-info, percent and
//! case tricks), so the interesting cases come up in most runs rather than by luck.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use proptest::prelude::*;
use proptest::sample::select;
use unipos_protocol::{AppLink, BaseUrl, Email, ErrorCode, LinkRules, ResetToken};

/// Every character with the Unicode White_Space property (checked below against the standard
/// library's `char::is_whitespace`).
const WHITE_SPACE: &[char] = &[
    '\t', '\n', '\u{0B}', '\u{0C}', '\r', ' ', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}',
    '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}',
    '\u{2009}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
];
/// Zero-width characters the email rules treat as whitespace too.
const INVISIBLE: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];
/// Characters outside the rules' alphabet that are not whitespace or full-width forms.
const OTHER_UNICODE: &[char] = &[
    'é',
    'ß',
    'た',
    '例',
    'ﬁ',
    '\u{212A}',
    '①',
    '\u{0301}',
    '\u{00AD}',
    '\u{0}',
    '\u{7F}',
    '\u{FE6B}',
    '\u{FE52}',
    '\u{FF00}',
    '\u{FF5F}',
    '\u{FF61}',
    '\u{FFE0}',
    '\u{1F600}',
];

fn cfg(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn is_fullwidth(c: char) -> bool {
    ('\u{FF01}'..='\u{FF5E}').contains(&c)
}

fn fullwidth_of(c: char) -> Option<char> {
    ('!'..='~')
        .contains(&c)
        .then(|| char::from_u32(c as u32 + 0xFEE0).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Email addresses

fn valid_email() -> impl Strategy<Value = String> {
    let local = r"[a-zA-Z0-9.!#$%&'*+=?^_`{|}~-]{1,20}";
    let label = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?";
    let tld = "[a-zA-Z][a-zA-Z0-9]{1,5}";
    (local, prop::collection::vec(label, 1..4), tld)
        .prop_map(|(local, labels, tld)| format!("{local}@{}.{tld}", labels.join(".")))
}

fn blank() -> impl Strategy<Value = char> {
    prop_oneof![select(WHITE_SPACE), select(INVISIBLE)]
}

/// One way an IME or a paste damages an address.
#[derive(Debug, Clone)]
enum Damage {
    /// A whitespace or invisible character inserted at this fraction of the length.
    Insert(char, prop::sample::Index),
    Prepend(char),
    Append(char),
    /// The character at this index folded to its full-width form.
    Widen(prop::sample::Index),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (blank(), any::<prop::sample::Index>()).prop_map(|(c, i)| Damage::Insert(c, i)),
        blank().prop_map(Damage::Prepend),
        blank().prop_map(Damage::Append),
        any::<prop::sample::Index>().prop_map(Damage::Widen),
        any::<prop::sample::Index>().prop_map(Damage::Widen),
    ]
}

fn apply(address: &str, damages: &[Damage]) -> String {
    let mut chars: Vec<char> = address.chars().collect();
    for d in damages {
        match d {
            Damage::Insert(c, i) => chars.insert(i.index(chars.len() + 1), *c),
            Damage::Prepend(c) => chars.insert(0, *c),
            Damage::Append(c) => chars.push(*c),
            Damage::Widen(_) if chars.is_empty() => {}
            Damage::Widen(i) => {
                let i = i.index(chars.len());
                if let Some(w) = fullwidth_of(chars[i]) {
                    chars[i] = w;
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// A well-formed address and the same address damaged by IME spaces and full-width forms.
fn damaged_email() -> impl Strategy<Value = (String, String)> {
    (valid_email(), prop::collection::vec(damage(), 1..5))
        .prop_map(|(ok, damages)| {
            let bad = apply(&ok, &damages);
            (ok, bad)
        })
        .prop_filter("damage changed nothing", |(ok, bad)| ok != bad)
}

/// Text made of the characters that matter to the email rules, in any order.
fn email_soup() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        4 => select(&b"abcXYZ019.!#$%&'*+=?^_`{|}~-"[..]).prop_map(char::from),
        2 => Just('@'),
        2 => Just('.'),
        1 => select(WHITE_SPACE),
        1 => select(INVISIBLE),
        2 => proptest::char::range('\u{FF01}', '\u{FF5E}'),
        1 => select(OTHER_UNICODE),
    ];
    prop::collection::vec(c, 0..30).prop_map(|v| v.into_iter().collect())
}

#[test]
fn the_white_space_table_is_every_unicode_white_space() {
    let all: Vec<char> = (0..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
        .collect();
    assert_eq!(all, WHITE_SPACE);
}

proptest! {
    #![proptest_config(cfg(512))]

    /// (a) Whenever a refusal offers a fix, the fix is accepted.
    #[test]
    fn an_offered_fix_is_always_accepted(
        input in prop_oneof![damaged_email().prop_map(|(_, bad)| bad), email_soup()]
    ) {
        if let Err(err) = Email::parse(&input) {
            if let Some(fix) = err.fix() {
                prop_assert_ne!(fix, input.as_str());
                let again = Email::parse(fix);
                prop_assert!(again.is_ok(), "fix {:?} of {:?} refused: {:?}", fix, input, again);
            }
        }
    }

    /// (a) An address damaged only by whitespace and full-width forms is refused with exactly
    /// the original as its fix.
    #[test]
    fn an_ime_damaged_address_gets_the_original_as_its_fix((ok, bad) in damaged_email()) {
        prop_assert!(Email::parse(&ok).is_ok(), "generator: {:?}", ok);
        let err = Email::parse(&bad).unwrap_err();
        prop_assert_eq!(err.fix(), Some(ok.as_str()), "{:?}: {:?}", bad, err.code());
    }

    /// (b) Nothing with whitespace (any Unicode White_Space, or zero-width) or a full-width form
    /// is ever accepted, and the refusal names the right problem.
    #[test]
    fn whitespace_and_full_width_forms_are_never_accepted(
        base in prop_oneof![valid_email(), email_soup()],
        bad in prop_oneof![blank(), proptest::char::range('\u{FF01}', '\u{FF5E}')],
        at in any::<prop::sample::Index>(),
        more in prop::collection::vec(damage(), 0..3),
    ) {
        let mut chars: Vec<char> = apply(&base, &more).chars().collect();
        chars.insert(at.index(chars.len() + 1), bad);
        let input: String = chars.into_iter().collect();
        let blank_inside = input.chars().any(|c| c.is_whitespace() || INVISIBLE.contains(&c));
        match Email::parse(&input) {
            Ok(_) => prop_assert!(false, "accepted {:?}", input),
            Err(err) if blank_inside => prop_assert!(
                matches!(
                    err.code(),
                    ErrorCode::EmailEmpty
                        | ErrorCode::EmailLeadingWhitespace
                        | ErrorCode::EmailTrailingWhitespace
                        | ErrorCode::EmailInnerWhitespace
                ),
                "{:?}: {:?}", input, err.code()
            ),
            Err(err) => {
                prop_assert!(input.contains(is_fullwidth));
                prop_assert_eq!(err.code(), ErrorCode::EmailFullwidth, "{:?}", input);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Links

const BASES: &[&str] = &[
    "https://unipos.me",
    "https://example.com/unipos",
    "https://app.example.co.jp:8443/a/b",
    "http://127.0.0.1:8787",
    "http://localhost:1420",
    "http://[::1]:8787",
];

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{32,128}"
}

/// A link taken apart: `{scheme}://{userinfo@}{host}{:port}{path}?token={token}`.
#[derive(Debug, Clone)]
struct Parts {
    scheme: String,
    userinfo: Option<String>,
    host: String,
    port: Option<String>,
    path: String,
    token: String,
}

impl Parts {
    fn genuine(web: &BaseUrl, token: String) -> Parts {
        let url = web.url();
        Parts {
            scheme: url.scheme().to_owned(),
            userinfo: None,
            host: url.host_str().unwrap().to_owned(),
            port: url.port().map(|p| p.to_string()),
            path: format!("{}/reset_password", web.path_prefix()),
            token,
        }
    }

    fn link(&self) -> String {
        let userinfo = self
            .userinfo
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let port = self
            .port
            .as_ref()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        format!(
            "{}://{userinfo}{}{port}{}?token={}",
            self.scheme, self.host, self.path, self.token
        )
    }
}

fn base() -> impl Strategy<Value = BaseUrl> {
    select(BASES).prop_map(|b| BaseUrl::parse(b).unwrap())
}

/// Flips the ASCII case of the letters picked by `mask`.
fn recase(s: &str, mask: u128) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if (mask >> (i % 128)) & 1 == 1 {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

fn percent_encode_at(s: &str, i: usize, upper: bool) -> String {
    let (head, tail) = s.split_at(i);
    let mut rest = tail.chars();
    let c = rest.next().unwrap();
    let mut buf = [0; 4];
    let encoded: String = c
        .encode_utf8(&mut buf)
        .bytes()
        .map(|b| {
            if upper {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            }
        })
        .collect();
    format!("{head}{encoded}{}", rest.as_str())
}

fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а', // Cyrillic
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'c' => 'с',
        'i' => 'і',
        'x' => 'х',
        'l' => '1',
        '0' => 'o',
        '1' => 'l',
        _ => return None,
    })
}

/// A host that is written differently from `host` (other than in ASCII case), whether or not
/// the URL parser would normalise it back to `host`.
fn other_host(host: String) -> impl Strategy<Value = String> {
    let h = host.clone();
    let ip_forms: Vec<&'static str> = match host.as_str() {
        "127.0.0.1" => vec![
            "2130706433",
            "0x7f000001",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "127.1",
            "127.0.0.01",
            "127.0.0.1.",
            "localhost",
            "[::ffff:127.0.0.1]",
            "127.0.0.2",
        ],
        "[::1]" => vec![
            "[0:0:0:0:0:0:0:1]",
            "[::0001]",
            "[0::1]",
            "127.0.0.1",
            "localhost",
            "[::2]",
        ],
        "localhost" => vec!["127.0.0.1", "[::1]", "localhost.", "localhost.localdomain"],
        _ => vec!["3.3.3.3", "127.0.0.1", "[::1]"],
    };
    let evil = "[a-z][a-z0-9-]{0,10}\\.[a-z]{2,6}";
    let n = host.chars().count();
    prop_oneof![
        evil.prop_map(|e| e.to_owned()),
        (evil, Just(h.clone())).prop_map(|(e, h)| format!("{h}.{e}")),
        (evil, Just(h.clone())).prop_map(|(e, h)| format!("{e}.{h}")),
        ("[a-z0-9]{1,8}", Just(h.clone())).prop_map(|(e, h)| format!("{e}-{h}")),
        Just(format!("{h}.")),
        (0..n, any::<bool>()).prop_map({
            let h = h.clone();
            move |(i, upper)| percent_encode_at(&h, h.char_indices().nth(i).unwrap().0, upper)
        }),
        (0..n).prop_map({
            let h = h.clone();
            move |i| {
                h.chars()
                    .enumerate()
                    .map(|(j, c)| {
                        if j == i {
                            fullwidth_of(c).unwrap_or(c)
                        } else {
                            c
                        }
                    })
                    .collect()
            }
        }),
        (0..n).prop_map({
            let h = h.clone();
            move |i| {
                h.chars()
                    .enumerate()
                    .map(|(j, c)| if j == i { lookalike(c).unwrap_or(c) } else { c })
                    .collect()
            }
        }),
        (0..n).prop_map({
            let h = h.clone();
            move |i| {
                h.chars()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, c)| c)
                    .collect()
            }
        }),
        select(ip_forms).prop_map(str::to_owned),
    ]
    .prop_filter("same host", move |o| !o.eq_ignore_ascii_case(&host))
}

/// A port other than `port` (the base's, `None` for the scheme's default), as written in a link.
fn other_port(port: Option<u16>, default: u16) -> impl Strategy<Value = Option<String>> {
    let actual = port.unwrap_or(default);
    prop_oneof![
        any::<u16>().prop_map(|p| Some(p.to_string())),
        select(vec![80u16, 443, 8080, 8443, 8787, 8788, 1]).prop_map(|p| Some(p.to_string())),
        Just(None),
    ]
    .prop_filter("same port", move |p| match p {
        Some(p) => p.parse::<u16>().ok() != Some(actual),
        None => default != actual,
    })
}

/// A path other than `path`, by the tricks that make it look or resolve like it.
fn other_path(path: String) -> impl Strategy<Value = String> {
    let p = path.clone();
    let n = path.len();
    let dot = prop_oneof![
        Just("."),
        Just(".."),
        Just("%2e"),
        Just("%2E%2e"),
        Just(".%2E"),
        Just("%2e.")
    ];
    let slashes: Vec<usize> = path.match_indices('/').map(|(i, _)| i).collect();
    prop_oneof![
        "/[a-z_]{1,15}".prop_map(|s| s.to_owned()),
        Just(format!("{p}/")),
        Just(format!("{p}/x")),
        Just(format!("{p};x")),
        Just(format!("{p}%2F")),
        Just(p.to_uppercase()),
        Just(format!("/{p}")),
        (0..n, any::<bool>()).prop_map({
            let p = p.clone();
            move |(i, upper)| {
                // a percent-encoded character (the parser keeps it encoded)
                let i = if i == 0 { 1 } else { i };
                percent_encode_at(&p, i, upper)
            }
        }),
        (select(slashes.clone()), dot, "[a-z]{0,5}").prop_map({
            let p = p.clone();
            move |(at, dot, seg)| {
                // a dot segment the URL parser would resolve away
                let (head, tail) = p.split_at(at);
                if dot.to_ascii_lowercase().replace("%2e", ".") == ".." {
                    format!("{head}/{seg}x/{dot}{tail}")
                } else {
                    format!("{head}/{dot}{tail}")
                }
            }
        }),
        select(slashes).prop_map({
            let p = p.clone();
            move |at| format!("{}/{}", &p[..at], &p[at..])
        }),
        Just("/reset_password".to_owned()),
    ]
    .prop_filter("same path", move |o| *o != path)
}

/// User-info of every kind, including one that names our own host.
fn userinfo(host: String) -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(":".to_owned()),
        Just(host.clone()),
        Just(format!("{host}:")),
        "[a-z]{1,8}(:[a-z0-9]{0,8})?".prop_map(|s| s.to_owned()),
        "[a-z]{1,8}%40[a-z]{1,8}".prop_map(|s| s.to_owned()),
    ]
}

/// A link to the web base's page that differs in host, port or path (or hides behind
/// user-info), with case tricks on the scheme and host on top.
fn foreign_link() -> impl Strategy<Value = (BaseUrl, String)> {
    (base(), token(), 0u8..4, any::<u128>()).prop_flat_map(|(web, token, what, mask)| {
        let genuine = Parts::genuine(&web, token);
        let url = web.url().clone();
        let parts: BoxedStrategy<Parts> = match what {
            0 => other_host(genuine.host.clone())
                .prop_map({
                    let g = genuine.clone();
                    move |host| Parts { host, ..g.clone() }
                })
                .boxed(),
            1 => other_port(url.port(), url.port_or_known_default().unwrap())
                .prop_map({
                    let g = genuine.clone();
                    move |port| Parts { port, ..g.clone() }
                })
                .boxed(),
            2 => other_path(genuine.path.clone())
                .prop_map({
                    let g = genuine.clone();
                    move |path| Parts { path, ..g.clone() }
                })
                .boxed(),
            _ => (
                userinfo(genuine.host.clone()),
                prop::option::of(other_host(genuine.host.clone())),
            )
                .prop_map({
                    let g = genuine.clone();
                    move |(userinfo, host)| Parts {
                        userinfo: Some(userinfo),
                        host: host.unwrap_or_else(|| g.host.clone()),
                        ..g.clone()
                    }
                })
                .boxed(),
        };
        (
            Just(web),
            parts.prop_map(move |p| {
                Parts {
                    scheme: recase(&p.scheme, mask),
                    host: recase(&p.host, mask >> 8),
                    ..p
                }
                .link()
            }),
        )
    })
}

proptest! {
    #![proptest_config(cfg(768))]

    /// (c) No link to another host, port or path is ever accepted, however it is dressed up.
    #[test]
    fn a_link_to_another_host_port_or_path_is_never_accepted((web, link) in foreign_link()) {
        let verdict = LinkRules::new(web.clone()).parse(&link);
        prop_assert!(verdict.is_err(), "{} accepted {:?}: {:?}", web, link, verdict);
    }

    /// (c) The genuine link with any well-formed token is always accepted, whatever the case of
    /// its scheme and host, with the scheme's default port written out, or pasted with spaces.
    #[test]
    fn the_genuine_link_is_always_accepted(
        web in base(),
        token in token(),
        mask in any::<u128>(),
        explicit_port in any::<bool>(),
        pad in "[ \t\r\n]{0,3}",
    ) {
        let rules = LinkRules::new(web.clone());
        let mut parts = Parts::genuine(&web, token.clone());
        parts.scheme = recase(&parts.scheme, mask);
        parts.host = recase(&parts.host, mask >> 8);
        if explicit_port && parts.port.is_none() {
            parts.port = web.url().port_or_known_default().map(|p| p.to_string());
        }
        let app = format!(
            "{}://{}?token={token}",
            recase("unipos", mask >> 40),
            recase("reset_password", mask >> 50)
        );
        for link in [rules.reset_url(&token), parts.link(), app] {
            let pasted = format!("{pad}{link}{pad}");
            match rules.parse(&pasted) {
                Ok(AppLink::Reset(reset)) => prop_assert_eq!(reset.token.expose(), token.as_str()),
                other => prop_assert!(false, "{} refused {:?}: {:?}", web, pasted, other),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn token_candidate() -> impl Strategy<Value = String> {
    let bad = prop_oneof![
        select(&b"=+/%.~ !*&?#\\\"'<>"[..]).prop_map(char::from),
        select(WHITE_SPACE),
        select(INVISIBLE),
        select(OTHER_UNICODE),
        proptest::char::range('\u{FF01}', '\u{FF5E}'),
    ];
    prop_oneof![
        // around the lower and the upper bound, and anywhere
        "[A-Za-z0-9_-]{28,36}",
        "[A-Za-z0-9_-]{124,132}",
        "[A-Za-z0-9_-]{0,200}",
        // the right length with one character that does not belong
        ("[A-Za-z0-9_-]{32,128}", bad, any::<prop::sample::Index>()).prop_map(|(t, c, i)| {
            let mut chars: Vec<char> = t.chars().collect();
            let i = i.index(chars.len());
            chars[i] = c;
            chars.into_iter().collect()
        }),
        ".{0,140}",
    ]
}

proptest! {
    #![proptest_config(cfg(1024))]

    /// (d) `ResetToken::parse` accepts exactly 32–128 characters of URL-safe base64.
    #[test]
    fn a_token_is_exactly_32_to_128_url_safe_base64_characters(s in token_candidate()) {
        let oracle = (32..=128).contains(&s.chars().count())
            && s.bytes().all(|b| TOKEN_ALPHABET.contains(&b));
        match ResetToken::parse(&s) {
            Ok(token) => {
                prop_assert!(oracle, "accepted {:?}", s);
                prop_assert_eq!(token.expose(), s.as_str());
            }
            Err(_) => prop_assert!(!oracle, "refused {:?}", s),
        }
    }
}
