//! Base URLs of the API and of the web pages: how they are written in configuration and checked.

use std::net::IpAddr;

use thiserror::Error;
use url::{Host, Url};

use crate::ErrorCode;

/// An absolute `https` URL (or `http` on a loopback address, for local runs and tests), with no
/// user-info, query or fragment, kept without a trailing slash so paths can be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    url: Url,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BaseUrlError {
    #[error("{0:?} is not an absolute http(s) URL without user name, query or fragment")]
    Invalid(String),
    #[error("{0:?} uses http for a host that is not a loopback address; use https")]
    Insecure(String),
}

impl BaseUrlError {
    pub fn code(&self) -> ErrorCode {
        match self {
            BaseUrlError::Invalid(_) => ErrorCode::BaseUrlInvalid,
            BaseUrlError::Insecure(_) => ErrorCode::BaseUrlInsecure,
        }
    }
}

impl BaseUrl {
    pub fn parse(input: &str) -> Result<BaseUrl, BaseUrlError> {
        let invalid = || BaseUrlError::Invalid(input.to_owned());
        let mut url = Url::parse(input.trim()).map_err(|_| invalid())?;
        let clean = url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        if !clean {
            return Err(invalid());
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(BaseUrlError::Insecure(input.to_owned())),
            _ => return Err(invalid()),
        }
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        Ok(BaseUrl { url })
    }

    /// `https://unipos.me`, `http://127.0.0.1:8787/sub` — never a trailing slash.
    pub fn as_str(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The base followed by `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.as_str())
    }

    /// The base's own path without a trailing slash (`""` for a bare host).
    pub fn path_prefix(&self) -> &str {
        self.url.path().trim_end_matches('/')
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.url)
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = BaseUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BaseUrl::parse(s)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_are_dropped() {
        assert_eq!(
            BaseUrl::parse("https://unipos.me/").unwrap().as_str(),
            "https://unipos.me"
        );
        assert_eq!(
            BaseUrl::parse("https://example.com/unipos//")
                .unwrap()
                .join("/reset_password"),
            "https://example.com/unipos/reset_password"
        );
    }

    #[test]
    fn http_is_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8787",
            "http://localhost:1/",
            "http://[::1]:80",
            "http://127.9.9.9",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://unipos.me",
            "http://10.0.0.1",
            "http://localhost.evil.example",
        ] {
            assert!(
                matches!(BaseUrl::parse(bad), Err(BaseUrlError::Insecure(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn user_info_query_fragment_and_other_schemes_are_refused() {
        for bad in [
            "https://u:p@unipos.me",
            "https://unipos.me/?a=1",
            "https://unipos.me/#x",
            "ftp://unipos.me",
            "unipos.me",
            "",
        ] {
            assert!(
                matches!(BaseUrl::parse(bad), Err(BaseUrlError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
