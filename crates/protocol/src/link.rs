//! Which URLs may open the app, and where they lead.
//!
//! Accepted, and nothing else:
//! - `{web}/reset_password?token=T` — the link in the reset email (web base from configuration);
//! - `unipos://reset_password?token=T` — "Open in the Unipos app" on the web page;
//! - `unipos://forgot_password` — from the help pages;
//! - `unipos://login` — "Open the Unipos app" on the web page once it set a new password.
//!
//! Scheme, host (exact, case-insensitive), port, path and token shape must all match. User-info,
//! other or look-alike hosts, dot segments, backslashes, extra parameters and fragments are refused,
//! each with its own `link_*` code, because a link that merely *looks* like ours must never reach
//! a screen that asks for a new password.

use thiserror::Error;
use url::Url;

use crate::{BaseUrl, ErrorCode, ResetToken, APP_SCHEME};

/// Longer than any link the service sends, with room to spare.
pub const MAX_LINK_LEN: usize = 2048;
const RESET_PATH: &str = "/reset_password";
const APP_RESET_HOST: &str = "reset_password";
const APP_FORGOT_HOST: &str = "forgot_password";
const APP_LOGIN_HOST: &str = "login";

/// A link that opens the Reset screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetLink {
    pub token: ResetToken,
}

/// Where an accepted link leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppLink {
    Reset(ResetLink),
    Forgot,
    /// Log in (the Timeline when logged in): it carries nothing.
    Login,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    #[error("this is not a link")]
    Unparseable,
    #[error("links must start with {expected}:// or unipos://")]
    Scheme { expected: String },
    #[error("the link hides another address before an @")]
    Userinfo,
    #[error("the link points to {found}, not to {expected}")]
    Host { found: String, expected: String },
    #[error("the link points to another port")]
    Port,
    #[error("the link does not lead to the password reset page")]
    Path,
    #[error("the link has parts a reset link never has")]
    ExtraParts,
    #[error("the link has no token")]
    TokenMissing,
    #[error("the link has more than one token")]
    TokenDuplicate,
    #[error("the link's token is damaged (copy the whole link from the email)")]
    TokenMalformed,
    #[error("the link is too long")]
    TooLong,
}

impl LinkError {
    pub fn code(&self) -> ErrorCode {
        match self {
            LinkError::Unparseable => ErrorCode::LinkUnparseable,
            LinkError::Scheme { .. } => ErrorCode::LinkScheme,
            LinkError::Userinfo => ErrorCode::LinkUserinfo,
            LinkError::Host { .. } => ErrorCode::LinkHost,
            LinkError::Port => ErrorCode::LinkPort,
            LinkError::Path => ErrorCode::LinkPath,
            LinkError::ExtraParts => ErrorCode::LinkExtraParts,
            LinkError::TokenMissing => ErrorCode::LinkTokenMissing,
            LinkError::TokenDuplicate => ErrorCode::LinkTokenDuplicate,
            LinkError::TokenMalformed => ErrorCode::LinkTokenMalformed,
            LinkError::TooLong => ErrorCode::LinkTooLong,
        }
    }
}

/// The link rules for one configured web base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRules {
    web: BaseUrl,
}

impl LinkRules {
    pub fn new(web: BaseUrl) -> LinkRules {
        LinkRules { web }
    }

    pub fn web_base(&self) -> &BaseUrl {
        &self.web
    }

    /// `{web}/reset_password?token=T`, the link the reset email carries.
    pub fn reset_url(&self, token: &str) -> String {
        format!("{}?token={token}", self.web.join(RESET_PATH))
    }

    /// `unipos://reset_password?token=T`, the link that opens the app.
    pub fn app_reset_url(token: &str) -> String {
        format!("{APP_SCHEME}://{APP_RESET_HOST}?token={token}")
    }

    /// `unipos://login`, the link that opens the app on Log in.
    pub fn app_login_url() -> String {
        format!("{APP_SCHEME}://{APP_LOGIN_HOST}")
    }

    /// Decides whether `input` may open the app, and where.
    pub fn parse(&self, input: &str) -> Result<AppLink, LinkError> {
        let input = input.trim_matches(|c: char| c.is_ascii_whitespace());
        if input.len() > MAX_LINK_LEN {
            return Err(LinkError::TooLong);
        }
        // The URL parser quietly drops tabs and newlines and reads `\` as `/`; a link carrying
        // them was not copied from our email, so refuse before the parser can tidy it up.
        if input
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return Err(LinkError::Unparseable);
        }
        let url = Url::parse(input).map_err(|_| LinkError::Unparseable)?;
        let scheme = url.scheme();
        let web_scheme = self.web.url().scheme();
        if scheme != APP_SCHEME && scheme != web_scheme {
            return Err(LinkError::Scheme {
                expected: web_scheme.to_owned(),
            });
        }
        // Insist on `scheme://host`: the parser also accepts `https:host` and `https:///host`.
        let rest = match input[scheme.len()..].strip_prefix("://") {
            Some(rest) if !rest.starts_with('/') => rest,
            _ => return Err(LinkError::Unparseable),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(LinkError::Userinfo);
        }
        if has_dot_segment(rest) {
            return Err(LinkError::Path);
        }
        // The host as written, not as the parser normalised it: IDNA mapping would turn
        // full-width `ｕｎｉｐｏｓ.me`, `unipos%2eme` or `2130706433` into a host that matches.
        let host = raw_host(rest).to_ascii_lowercase();
        if scheme == APP_SCHEME {
            if url.port().is_some() {
                return Err(LinkError::Port);
            }
            // Some platforms append a slash to custom-scheme URLs; nothing else may follow.
            if !matches!(url.path(), "" | "/") {
                return Err(LinkError::Path);
            }
            if url.fragment().is_some() {
                return Err(LinkError::ExtraParts);
            }
            return match host.as_str() {
                APP_RESET_HOST => reset_from_query(url.query()),
                APP_FORGOT_HOST if url.query().is_none() => Ok(AppLink::Forgot),
                APP_FORGOT_HOST => Err(LinkError::ExtraParts),
                APP_LOGIN_HOST if url.query().is_none() => Ok(AppLink::Login),
                APP_LOGIN_HOST => Err(LinkError::ExtraParts),
                _ => Err(LinkError::Host {
                    found: host,
                    expected: APP_RESET_HOST.to_owned(),
                }),
            };
        }
        let base = self.web.url();
        let expected_host = base.host_str().unwrap_or_default().to_ascii_lowercase();
        if host != expected_host {
            return Err(LinkError::Host {
                found: host,
                expected: expected_host,
            });
        }
        if url.port_or_known_default() != base.port_or_known_default() {
            return Err(LinkError::Port);
        }
        if url.path() != format!("{}{RESET_PATH}", self.web.path_prefix()) {
            return Err(LinkError::Path);
        }
        if url.fragment().is_some() {
            return Err(LinkError::ExtraParts);
        }
        reset_from_query(url.query())
    }
}

/// Reads the token from the raw query, undecoded: a percent-encoded token is not one we sent.
fn reset_from_query(query: Option<&str>) -> Result<AppLink, LinkError> {
    let mut token = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("token", value)) => {
                if token.replace(value).is_some() {
                    return Err(LinkError::TokenDuplicate);
                }
            }
            _ => return Err(LinkError::ExtraParts),
        }
    }
    match token {
        None | Some("") => Err(LinkError::TokenMissing),
        Some(raw) => ResetToken::parse(raw)
            .map(|token| AppLink::Reset(ResetLink { token }))
            .map_err(|_| LinkError::TokenMalformed),
    }
}

/// The host of `rest` (everything after `scheme://`), exactly as written.
fn raw_host(rest: &str) -> &str {
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.starts_with('[') {
        return &authority[..authority.find(']').map_or(authority.len(), |i| i + 1)];
    }
    &authority[..authority.find(':').unwrap_or(authority.len())]
}

/// Whether the path of `rest` (everything after `scheme://`) has `.` or `..` segments, plain or
/// percent-encoded, which the URL parser would silently resolve.
fn has_dot_segment(rest: &str) -> bool {
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let path = match rest[..end].find('/') {
        Some(start) => &rest[start..end],
        None => return false,
    };
    path.split('/').any(|segment| {
        let s = segment.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    })
}
