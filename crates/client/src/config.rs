//! Where the API and the web pages live, how long to wait for them, and who is asking.

use std::time::Duration;

use unipos_protocol::{BaseUrl, LinkRules};

use crate::ClientError;

/// The hosted service; both bases default to it.
pub const DEFAULT_BASE: &str = "https://unipos.me";
/// Overrides the API base (e.g. `http://127.0.0.1:8787` for a local server).
pub const ENV_API_URL: &str = "UNIPOS_API_URL";
/// Overrides the web base that reset links must point to.
pub const ENV_WEB_BASE: &str = "UNIPOS_WEB_BASE";

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Responses larger than this are refused as `bad_response` (the API's largest is a few KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything the client needs to know before its first request.
///
/// Both base URLs are [`BaseUrl`]s: `https`, or `http` on a loopback address only; trailing
/// slashes are dropped. Precedence, highest first: the caller (`--api-url`, the app's support
/// settings), the environment ([`ENV_API_URL`], [`ENV_WEB_BASE`]), [`DEFAULT_BASE`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub api_base: BaseUrl,
    /// The base of the links in reset emails; the link rules accept only links under it.
    pub web_base: BaseUrl,
    pub connect_timeout: Duration,
    /// The whole request, from connecting to the last byte of the body.
    pub request_timeout: Duration,
    /// Cap on a response body; larger answers are `bad_response`.
    pub max_body_bytes: usize,
    /// The calling product, first in the `User-Agent` (e.g. `UniposAccount`, `unipos-cli`).
    pub app_name: String,
    pub app_version: String,
}

impl Default for ClientConfig {
    #[allow(
        clippy::expect_used,
        reason = "DEFAULT_BASE is a constant, and a test parses it"
    )]
    fn default() -> Self {
        let base = BaseUrl::parse(DEFAULT_BASE).expect("the default base is valid");
        ClientConfig {
            api_base: base.clone(),
            web_base: base,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            app_name: "unipos-client".to_owned(),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

impl ClientConfig {
    /// Defaults overridden by `UNIPOS_API_URL` / `UNIPOS_WEB_BASE` when they are set.
    pub fn from_env() -> Result<ClientConfig, ClientError> {
        ClientConfig::resolve(None, None)
    }

    /// Caller's values first, then the environment, then the defaults. An empty value counts as
    /// unset.
    pub fn resolve(api: Option<&str>, web: Option<&str>) -> Result<ClientConfig, ClientError> {
        let env = |name: &str| std::env::var(name).ok();
        ClientConfig::resolve_from(api, web, env)
    }

    fn resolve_from(
        api: Option<&str>,
        web: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ClientConfig, ClientError> {
        Ok(ClientConfig {
            api_base: pick_base(api, ENV_API_URL, &env)?,
            web_base: pick_base(web, ENV_WEB_BASE, &env)?,
            ..ClientConfig::default()
        })
    }

    /// Only the web base (for the link rules, which need no API): caller, environment, default.
    pub fn resolve_web_base(web: Option<&str>) -> Result<BaseUrl, ClientError> {
        pick_base(web, ENV_WEB_BASE, &|name: &str| std::env::var(name).ok())
    }

    /// A config for the given bases, other settings at their defaults.
    pub fn with_bases(api_base: &str, web_base: &str) -> Result<ClientConfig, ClientError> {
        Ok(ClientConfig {
            api_base: BaseUrl::parse(api_base)?,
            web_base: BaseUrl::parse(web_base)?,
            ..ClientConfig::default()
        })
    }

    pub fn app(mut self, name: &str, version: &str) -> ClientConfig {
        self.app_name = name.to_owned();
        self.app_version = version.to_owned();
        self
    }

    pub fn request_timeout(mut self, timeout: Duration) -> ClientConfig {
        self.request_timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> ClientConfig {
        self.connect_timeout = timeout;
        self
    }

    pub fn max_body_bytes(mut self, max: usize) -> ClientConfig {
        self.max_body_bytes = max;
        self
    }

    /// The protocol's link rules for this config's web base.
    pub fn link_rules(&self) -> LinkRules {
        LinkRules::new(self.web_base.clone())
    }

    /// `UniposAccount/1.2.0 (ios; aarch64) unipos-client/0.1.0`
    pub fn user_agent(&self) -> String {
        format!(
            "{}/{} ({}; {}) unipos-client/{}",
            self.app_name,
            self.app_version,
            std::env::consts::OS,
            std::env::consts::ARCH,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// The caller's value, else the environment's, else [`DEFAULT_BASE`]; empty counts as unset.
fn pick_base(
    given: Option<&str>,
    var: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<BaseUrl, ClientError> {
    let chosen = given
        .map(str::to_owned)
        .or_else(|| env(var))
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE.to_owned());
    Ok(BaseUrl::parse(&chosen)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn both_bases_default_to_unipos_me() {
        let c = ClientConfig::resolve_from(None, None, env_of(&[])).unwrap();
        assert_eq!(c.api_base.as_str(), "https://unipos.me");
        assert_eq!(c.web_base.as_str(), "https://unipos.me");
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.request_timeout, Duration::from_secs(15));
    }

    #[test]
    fn the_environment_overrides_the_defaults_and_the_caller_overrides_the_environment() {
        let env = env_of(&[
            (ENV_API_URL, "https://staging.unipos.me/"),
            (ENV_WEB_BASE, "https://web.staging.unipos.me//"),
        ]);
        let c = ClientConfig::resolve_from(None, None, &env).unwrap();
        assert_eq!(c.api_base.as_str(), "https://staging.unipos.me");
        assert_eq!(c.web_base.as_str(), "https://web.staging.unipos.me");
        let c = ClientConfig::resolve_from(Some("http://127.0.0.1:9/x/"), None, &env).unwrap();
        assert_eq!(c.api_base.as_str(), "http://127.0.0.1:9/x");
        assert_eq!(c.web_base.as_str(), "https://web.staging.unipos.me");
    }

    #[test]
    fn an_empty_variable_counts_as_unset() {
        let c = ClientConfig::resolve_from(None, None, env_of(&[(ENV_API_URL, " ")])).unwrap();
        assert_eq!(c.api_base.as_str(), "https://unipos.me");
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        let err =
            ClientConfig::resolve_from(Some("http://unipos.me"), None, env_of(&[])).unwrap_err();
        assert_eq!(err.code(), "base_url_insecure");
        let err =
            ClientConfig::resolve_from(None, None, env_of(&[(ENV_WEB_BASE, "http://10.0.0.1")]))
                .unwrap_err();
        assert_eq!(err.code(), "base_url_insecure");
        let err = ClientConfig::resolve_from(Some("unipos.me"), None, env_of(&[])).unwrap_err();
        assert_eq!(err.code(), "base_url_invalid");
        assert!(
            ClientConfig::resolve_from(Some("http://localhost:8787/"), None, env_of(&[])).is_ok()
        );
    }

    #[test]
    fn the_link_rules_use_the_web_base() {
        let c = ClientConfig::with_bases("http://127.0.0.1:1", "http://127.0.0.1:2/web/").unwrap();
        let token = "a".repeat(43);
        let url = c.link_rules().reset_url(&token);
        assert_eq!(
            url,
            format!("http://127.0.0.1:2/web/reset_password?token={token}")
        );
        assert!(c.link_rules().parse(&url).is_ok());
        assert!(c
            .link_rules()
            .parse(&format!("https://unipos.me/reset_password?token={token}"))
            .is_err());
    }

    #[test]
    fn the_user_agent_names_the_app_its_version_and_the_platform() {
        let ua = ClientConfig::default()
            .app("UniposAccount", "1.2.0")
            .user_agent();
        assert!(ua.starts_with("UniposAccount/1.2.0 ("), "{ua}");
        assert!(ua.contains(std::env::consts::OS), "{ua}");
        assert!(ua.contains("unipos-client/"), "{ua}");
    }
}
