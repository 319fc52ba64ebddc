//! The reset form's guard against posting from another site.
//!
//! Stateless, so that every instance behind a load balancer agrees without sharing anything:
//! the page sets a random secret as a cookie (`HttpOnly`, `SameSite=Strict`, only for the
//! reset page's path, `Secure` on https) and puts the same secret in a hidden field. A post is
//! taken only when the two are equal (a page on another site can neither read the cookie nor
//! the field), and, when the browser says where the post comes from, only from this page's own
//! origin: `Sec-Fetch-Site: same-origin`, or an `Origin` equal to the web base's. (Under
//! `Referrer-Policy: no-referrer` browsers send `Origin: null` with the page's own posts, so
//! `null` tells nothing and is left to the other checks.)

use axum::http::{header, HeaderMap, HeaderValue};

use crate::secrets::new_token;

/// The cookie's name; its value is the page's secret.
pub const COOKIE: &str = "unipos_reset_form";
/// The hidden field that repeats it.
pub const FIELD: &str = "form_secret";

/// How long the cookie lives: as long as a mailed link (an Account Information sheet's page is
/// filled in at once too).
const MAX_AGE_S: u64 = 3600;

/// 32 random bytes as URL-safe base64, as [`new_token`] makes them.
fn well_formed(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The value of the cookie `name` among the request's cookies.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
}

/// The secret for a page being served: the one the browser already holds (so that two tabs of
/// the page both work), else a new one.
pub fn secret_for(headers: &HeaderMap) -> String {
    cookie(headers, COOKIE)
        .filter(|v| well_formed(v))
        .map_or_else(new_token, str::to_owned)
}

/// The `Set-Cookie` value that hands the secret to the browser, for the reset page's `path`.
#[allow(
    clippy::expect_used,
    reason = "the secret is base64url and the path the page's own: a valid header value"
)]
pub fn set_cookie(secret: &str, path: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={secret}; Path={path}; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("a cookie of URL-safe characters is a valid header")
}

/// Why a post was refused (for the log; the member sees one page for all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Sec-Fetch-Site` other than `same-origin`.
    FromAnotherSite,
    /// An `Origin` other than the web base's.
    FromAnotherOrigin,
    /// No cookie, or no field: the page was not opened in this browser (or cookies are off).
    NoSecret,
    /// The field is not the cookie's secret.
    WrongSecret,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::FromAnotherSite => "sec-fetch-site is not same-origin",
            Refusal::FromAnotherOrigin => "origin is not the web base's",
            Refusal::NoSecret => "no form secret cookie or field",
            Refusal::WrongSecret => "the form secret field is not the cookie's",
        }
    }
}

/// Whether a post of the form may be taken: `field` is the hidden field's value, `origin` the
/// web base's origin (`https://unipos.me`).
pub fn check(headers: &HeaderMap, field: Option<&str>, origin: &str) -> Result<(), Refusal> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        if site != "same-origin" {
            return Err(Refusal::FromAnotherSite);
        }
    }
    if let Some(from) = header("origin") {
        if from != "null" && from != origin {
            return Err(Refusal::FromAnotherOrigin);
        }
    }
    let (Some(cookie), Some(field)) = (cookie(headers, COOKIE), field) else {
        return Err(Refusal::NoSecret);
    };
    if !well_formed(cookie) {
        return Err(Refusal::NoSecret);
    }
    // Compared in constant time: how long it took says nothing about how close a guess was.
    let same = cookie.len() == field.len()
        && cookie
            .bytes()
            .zip(field.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(Refusal::WrongSecret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://unipos.me";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_pages_own_post_passes() {
        let secret = new_token();
        let cookie = format!("other=1; {COOKIE}={secret}");
        for from in [
            vec![("cookie", cookie.as_str())],
            vec![("cookie", &cookie), ("sec-fetch-site", "same-origin")],
            vec![("cookie", &cookie), ("origin", "null")],
            vec![("cookie", &cookie), ("origin", ORIGIN)],
        ] {
            assert_eq!(
                check(&headers(&from), Some(&secret), ORIGIN),
                Ok(()),
                "{from:?}"
            );
        }
    }

    #[test]
    fn a_post_from_elsewhere_or_without_the_secret_is_refused() {
        let secret = new_token();
        let cookie = format!("{COOKIE}={secret}");
        let with = |extra: (&str, &str)| headers(&[("cookie", &cookie), extra]);
        assert_eq!(
            check(
                &with(("sec-fetch-site", "cross-site")),
                Some(&secret),
                ORIGIN
            ),
            Err(Refusal::FromAnotherSite)
        );
        // Another port of the same host is the same site, but not the same origin.
        assert_eq!(
            check(
                &with(("sec-fetch-site", "same-site")),
                Some(&secret),
                ORIGIN
            ),
            Err(Refusal::FromAnotherSite)
        );
        assert_eq!(
            check(
                &with(("origin", "https://evil.example")),
                Some(&secret),
                ORIGIN
            ),
            Err(Refusal::FromAnotherOrigin)
        );
        assert_eq!(
            check(&headers(&[]), Some(&secret), ORIGIN),
            Err(Refusal::NoSecret)
        );
        assert_eq!(
            check(&headers(&[("cookie", &cookie)]), None, ORIGIN),
            Err(Refusal::NoSecret)
        );
        assert_eq!(
            check(&headers(&[("cookie", &cookie)]), Some(&new_token()), ORIGIN),
            Err(Refusal::WrongSecret)
        );
        // A cookie set to anything but a secret of ours (by a careless subdomain, say).
        let short = format!("{COOKIE}=x");
        assert_eq!(
            check(&headers(&[("cookie", &short)]), Some("x"), ORIGIN),
            Err(Refusal::NoSecret)
        );
    }

    #[test]
    fn a_browser_keeps_its_secret_across_pages_and_gets_one_otherwise() {
        let secret = new_token();
        let cookie = format!("{COOKIE}={secret}");
        assert_eq!(secret_for(&headers(&[("cookie", &cookie)])), secret);
        let fresh = secret_for(&headers(&[]));
        assert!(well_formed(&fresh) && fresh != secret);
        let set = set_cookie(&secret, "/reset_password", true);
        assert_eq!(
            set.to_str().unwrap(),
            format!(
                "{COOKIE}={secret}; Path=/reset_password; Max-Age=3600; HttpOnly; \
                 SameSite=Strict; Secure"
            )
        );
    }
}
