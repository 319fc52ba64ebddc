//! The email rules, case by case: what members actually type, on desktops and through Japanese IMEs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use unipos_protocol::{CharKind, Email, ErrorCode};

use ErrorCode::*;

/// `(input, expected verdict, expected one-tap fix)`; `None` as verdict means accepted.
const CASES: &[(&str, Option<ErrorCode>, Option<&str>)] = &[
    // Accepted, exactly as typed.
    ("taro@example.com", None, None),
    ("Taro.Yamada@Example.CO.JP", None, None),
    ("taro+unipos@example.com", None, None),
    ("t@e.jp", None, None),
    ("o'brien@example.ie", None, None),
    ("a.b-c_d@sub-domain.example.com", None, None),
    ("!#$%&'*+=?^_`{|}~-@example.com", None, None),
    ("123456@example.com", None, None),
    ("taro..yamada.@docomo.ne.jp", None, None), // legacy carrier address, still deliverable
    ("taro@xn--eckwd4c7c.xn--zckzah", None, None), // IDN in its ASCII form
    // Nothing typed.
    ("", Some(EmailEmpty), None),
    (" ", Some(EmailEmpty), None),
    ("\u{3000}\u{3000}", Some(EmailEmpty), None),
    ("\u{200B}", Some(EmailEmpty), None),
    // Whitespace at the ends: the seed's "space at the end" case and its IME variants.
    (
        "taro@example.com ",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example.com\u{3000}",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example.com\t",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example.com\n",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example.com\r\n",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example.com\u{00A0}",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example.com\u{2003}",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example.com\u{200B}",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example.com\u{FEFF}",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    (
        " taro@example.com",
        Some(EmailLeadingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "\u{3000}taro@example.com",
        Some(EmailLeadingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "\u{FEFF}taro@example.com",
        Some(EmailLeadingWhitespace),
        Some("taro@example.com"),
    ),
    (
        "\u{2060}taro@example.com",
        Some(EmailLeadingWhitespace),
        Some("taro@example.com"),
    ),
    (
        " taro@example.com ",
        Some(EmailLeadingWhitespace),
        Some("taro@example.com"),
    ),
    // Whitespace inside.
    (
        "taro @example.com",
        Some(EmailInnerWhitespace),
        Some("taro@example.com"),
    ),
    (
        "taro@example\u{3000}.com",
        Some(EmailInnerWhitespace),
        Some("taro@example.com"),
    ),
    (
        "ta\u{200D}ro@example.com",
        Some(EmailInnerWhitespace),
        Some("taro@example.com"),
    ),
    (
        "ta\u{200C}ro@example.com",
        Some(EmailInnerWhitespace),
        Some("taro@example.com"),
    ),
    ("taro example.com", Some(EmailInnerWhitespace), None), // no @ to recover
    // Full-width forms from an IME left in full-width mode.
    (
        "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        Some(EmailFullwidth),
        Some("taro@example.com"),
    ),
    (
        "taro＠example.com",
        Some(EmailFullwidth),
        Some("taro@example.com"),
    ),
    (
        "taro@example．com",
        Some(EmailFullwidth),
        Some("taro@example.com"),
    ),
    (
        "ＴＡＲＯ１２３@example.com",
        Some(EmailFullwidth),
        Some("TARO123@example.com"),
    ),
    (
        "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ\u{3000}",
        Some(EmailTrailingWhitespace),
        Some("taro@example.com"),
    ),
    ("ｔａｒｏ＠＠example.com", Some(EmailFullwidth), None), // folds to two @
    // Too long.
    (concat!("a", "@example.com"), None, None),
    (
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com",
        Some(EmailTooLong),
        None,
    ), // 65-octet local part
    // Everything else.
    ("taro", Some(EmailInvalid), None),
    ("taro@", Some(EmailInvalid), None),
    ("@example.com", Some(EmailInvalid), None),
    ("taro@@example.com", Some(EmailInvalid), None),
    ("taro@hanako@example.com", Some(EmailInvalid), None),
    ("taro@localhost", Some(EmailInvalid), None),
    ("taro@example..com", Some(EmailInvalid), None),
    ("taro@.example.com", Some(EmailInvalid), None),
    ("taro@example.com.", Some(EmailInvalid), None),
    ("taro@-example.com", Some(EmailInvalid), None),
    ("taro@example-.com", Some(EmailInvalid), None),
    ("taro@127.0.0.1", Some(EmailInvalid), None),
    ("taro@[127.0.0.1]", Some(EmailInvalid), None),
    ("\"taro\"@example.com", Some(EmailInvalid), None),
    ("taro(comment)@example.com", Some(EmailInvalid), None),
    ("taro,hanako@example.com", Some(EmailInvalid), None),
    ("taro;@example.com", Some(EmailInvalid), None),
    ("<taro@example.com>", Some(EmailInvalid), None),
    ("taro@exa_mple.com", Some(EmailInvalid), None),
    ("たろう@example.com", Some(EmailInvalid), None), // hiragana from an IME
    ("taro@例え.jp", Some(EmailInvalid), None),       // IDN in Unicode form
    ("tarō@example.com", Some(EmailInvalid), None),
    ("taro\u{00AD}@example.com", Some(EmailInvalid), None), // soft hyphen
    ("taro@example.com\u{0000}x", Some(EmailInvalid), None),
];

#[test]
fn every_case_gets_its_verdict_and_fix() {
    println!("{} email cases", CASES.len());
    assert!(CASES.len() >= 60, "keep the table broad");
    let mut failures = Vec::new();
    for &(input, want_code, want_fix) in CASES {
        let got = Email::parse(input);
        let (code, fix) = match &got {
            Ok(_) => (None, None),
            Err(e) => (Some(e.code()), e.fix()),
        };
        if code != want_code || fix != want_fix {
            failures.push(format!(
                "{input:?}: want {want_code:?} fix {want_fix:?}, got {code:?} fix {fix:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn an_accepted_address_is_kept_exactly_as_typed() {
    let email = Email::parse("Taro.Yamada@Example.CO.JP").unwrap();
    assert_eq!(email.as_str(), "Taro.Yamada@Example.CO.JP");
    assert_eq!(email.normalized(), "taro.yamada@example.co.jp");
}

#[test]
fn the_whole_address_is_capped_at_254_octets() {
    let label = "a".repeat(63);
    let domain = format!("{label}.{label}.{label}.{}", "a".repeat(57)); // 249 octets
    let at_limit = format!("abcd@{domain}"); // 254
    assert_eq!(at_limit.len(), 254);
    assert!(Email::parse(&at_limit).is_ok());
    let over = format!("abcde@{domain}");
    assert_eq!(
        Email::parse(&over).unwrap_err().code(),
        ErrorCode::EmailTooLong
    );
}

#[test]
fn a_trailing_ideographic_space_is_located_by_position_and_name() {
    let err = Email::parse("taro@example.com\u{3000}").unwrap_err();
    let chars: Vec<String> = err.chars().iter().map(|c| c.to_string()).collect();
    assert_eq!(chars, ["U+3000 IDEOGRAPHIC SPACE at 17"]);
    assert_eq!(
        err.message(),
        "Remove the space at the end of the email address."
    );
}

#[test]
fn invisible_and_control_characters_are_named_too() {
    let err = Email::parse("\u{200B}taro@example.com\t").unwrap_err();
    let chars: Vec<String> = err.chars().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        chars,
        [
            "U+200B ZERO WIDTH SPACE at 1",
            "U+0009 CHARACTER TABULATION at 18"
        ]
    );
}

#[test]
fn full_width_characters_are_each_reported() {
    let err = Email::parse("taro＠example．com").unwrap_err();
    let chars: Vec<String> = err.chars().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        chars,
        [
            "U+FF20 FULLWIDTH COMMERCIAL AT at 5",
            "U+FF0E FULLWIDTH FULL STOP at 13"
        ]
    );
}

#[test]
fn the_refusal_serializes_with_code_message_fix_and_chars() {
    let err = Email::parse("taro@example.com ").unwrap_err();
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["code"], "email_trailing_whitespace");
    assert_eq!(json["fix"], "taro@example.com");
    assert_eq!(json["chars"][0]["code_point"], "U+0020");
    assert_eq!(json["chars"][0]["name"], "SPACE");
    assert_eq!(json["chars"][0]["kind"], "space");
    assert_eq!(json["chars"][0]["position"], 17);
}

#[test]
fn each_refused_character_has_the_kind_a_member_would_name_it_by() {
    let kinds = |input: &str| -> Vec<CharKind> {
        let err = Email::parse(input).unwrap_err();
        err.chars().iter().map(|c| c.kind).collect()
    };
    use CharKind::*;
    assert_eq!(kinds("taro@example.com\u{3000}"), [IdeographicSpace]);
    assert_eq!(kinds(" taro@example.com"), [Space]);
    assert_eq!(kinds("taro@example.com\u{A0}"), [OtherSpace]);
    assert_eq!(
        kinds("\u{200B}taro\u{FEFF}@example.com\u{2060}"),
        [ZeroWidth, ZeroWidth, ZeroWidth]
    );
    assert_eq!(kinds("taro@example.com\t"), [Tab]);
    assert_eq!(kinds("taro@example.com\r\n"), [LineBreak, LineBreak]);
    assert_eq!(
        kinds("ｔａｒｏ１＠example．com"),
        [
            FullwidthAlphanumeric,
            FullwidthAlphanumeric,
            FullwidthAlphanumeric,
            FullwidthAlphanumeric,
            FullwidthAlphanumeric,
            FullwidthAt,
            FullwidthSymbol
        ]
    );
    assert_eq!(kinds("太郎@example.com"), [Other, Other]);
}

#[test]
fn the_hint_shows_only_the_first_letter_and_the_domain() {
    assert_eq!(
        Email::parse("taro@example.com").unwrap().hint(),
        "t***@example.com"
    );
    assert_eq!(Email::parse("t@e.jp").unwrap().hint(), "t***@e.jp");
}

#[test]
fn no_input_makes_the_rules_panic() {
    // Every prefix of awkward multi-byte input, so that slicing by bytes would have been caught.
    let nasty = "ｔ\u{3000}@\u{200B}例え.jp\u{FEFF}\r\n\u{0}@@..--";
    for end in (0..=nasty.len()).filter(|&i| nasty.is_char_boundary(i)) {
        let _ = Email::parse(&nasty[..end]);
    }
}
