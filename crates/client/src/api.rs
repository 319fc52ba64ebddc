//! One method per endpoint of the hosted API, over one shared connection pool.
//!
//! Every call sends a fresh `X-Request-Id`, which comes back in the [`Reply`] and in every
//! [`ClientError`] that an HTTP exchange produced. State-changing calls are never retried; the
//! reads (`GET /me`, `GET /timeline`, `POST /password/reset/check`, which by contract does not use
//! the token up) are retried once when the connection could not be made.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use unipos_protocol::{
    routes, AddMemberRequest, AdminMember, AdminMembers, AdminPasswordReset, ChangePasswordRequest,
    Email, ErrorCode, ErrorEnvelope, ForgotAccepted, ForgotRequest, Language, LoginRequest,
    PasswordPolicyResponse, ResetCheckRequest, ResetCheckResponse, ResetRequest, ResetToken,
    SessionResponse, Timeline, User, API_PREFIX, PDF_MEDIA_TYPE, REQUEST_ID_HEADER,
};

use crate::support::{ApiCall, CallLog};
use crate::{ClientConfig, ClientError};

/// Used when a 429 says neither in its body nor in `Retry-After` how long to wait.
const DEFAULT_RETRY_AFTER_S: u32 = 60;
/// Pause before the one retry of a read whose connection failed.
const READ_RETRY_DELAY: Duration = Duration::from_millis(250);
/// The largest Account Information sheet taken (a one-page PDF with a subset of a Japanese font
/// is far smaller).
const MAX_SHEET_BYTES: usize = 8 * 1024 * 1024;

/// A route of the API: its pattern, which the call log keeps, and the path asked for, with its
/// values filled in.
struct Route {
    pattern: &'static str,
    path: String,
}

impl From<&'static str> for Route {
    fn from(pattern: &'static str) -> Route {
        Route {
            pattern,
            path: pattern.to_owned(),
        }
    }
}

/// One path segment, percent-encoded (a member id typed by hand must stay one segment).
fn segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An Account Information sheet as the API answered it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountSheet {
    /// The PDF.
    pub pdf: Vec<u8>,
}

impl std::fmt::Debug for AccountSheet {
    // The bytes hold a live reset link (in the QR code).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccountSheet({} bytes)", self.pdf.len())
    }
}

/// A successful answer: the HTTP status, the request id, and the decoded body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply<T> {
    pub status: u16,
    pub request_id: String,
    #[serde(flatten)]
    pub value: T,
}

/// The body of a `204 No Content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NoContent {}

/// The API client. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    calls: CallLog,
    /// The language the mails caused by this client's requests are written in (their `lang`).
    language: Language,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("api_base", &self.config.api_base.as_str())
            .finish()
    }
}

/// Whether a call may be repeated after a failed connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    OnConnectFailure,
    Never,
}

impl ApiClient {
    pub fn new(config: ClientConfig) -> Result<ApiClient, ClientError> {
        let tls_failed = |cause: String| ClientError::Tls {
            host: config
                .api_base
                .url()
                .host_str()
                .unwrap_or_default()
                .to_owned(),
            request_id: String::new(),
            cause,
        };
        install_tls_provider();
        #[cfg(target_os = "android")]
        android_verifier().map_err(tls_failed)?;
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A redirect is never part of the contract; following one could turn a POST into a
            // GET or leave https. It is reported as `bad_response` instead.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!config.api_base.is_loopback())
            .build()
            // Only the TLS setup can fail here.
            .map_err(|e| tls_failed(chain(&e)))?;
        Ok(ApiClient {
            http,
            config: Arc::new(config),
            calls: CallLog::default(),
            language: Language::default(),
        })
    }

    /// Sends `language` as the `lang` of the requests that cause a mail (forgot, reset, change
    /// password) and as every request's `Accept-Language` (an admin's reset has no body): the
    /// mail comes in the language the member uses. English unless set.
    pub fn with_language(mut self, language: Language) -> ApiClient {
        self.language = language;
        self
    }

    /// The language the mails this client causes are written in.
    pub fn language(&self) -> Language {
        self.language
    }

    /// Records this client's calls in `calls` (shared with the clients before it, so the support
    /// report keeps them when the app is pointed at another API).
    pub fn with_call_log(mut self, calls: CallLog) -> ApiClient {
        self.calls = calls;
        self
    }

    /// The last calls, for the support report.
    pub fn call_log(&self) -> &CallLog {
        &self.calls
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// `POST /password/forgot`. Takes a parsed [`Email`]: an invalid address cannot be sent.
    /// `code_challenge` binds the mailed link to this app (see `unipos_protocol::binding`).
    pub async fn forgot(
        &self,
        email: &Email,
        code_challenge: Option<&str>,
    ) -> Result<Reply<ForgotAccepted>, ClientError> {
        let body = ForgotRequest {
            email: email.as_str().to_owned(),
            code_challenge: code_challenge.map(str::to_owned),
            lang: Some(self.language),
        };
        self.call_json(
            Method::POST,
            routes::FORGOT,
            Some(&body),
            None,
            Retry::Never,
        )
        .await
    }

    /// `POST /password/reset/check`: the email hint, expiry and password policy. Does not use
    /// the token up.
    pub async fn reset_check(
        &self,
        token: &ResetToken,
        code_verifier: Option<&str>,
    ) -> Result<Reply<ResetCheckResponse>, ClientError> {
        let body = ResetCheckRequest {
            token: token.expose().to_owned(),
            code_verifier: code_verifier.map(str::to_owned),
        };
        self.call_json(
            Method::POST,
            routes::RESET_CHECK,
            Some(&body),
            None,
            Retry::OnConnectFailure,
        )
        .await
    }

    /// `POST /password/reset` — "Set password and login".
    pub async fn reset(
        &self,
        token: &ResetToken,
        new_password: &str,
        new_password_confirmation: &str,
        code_verifier: Option<&str>,
    ) -> Result<Reply<SessionResponse>, ClientError> {
        let body = ResetRequest {
            token: token.expose().to_owned(),
            new_password: new_password.to_owned(),
            new_password_confirmation: new_password_confirmation.to_owned(),
            code_verifier: code_verifier.map(str::to_owned),
            lang: Some(self.language),
        };
        self.call_json(Method::POST, routes::RESET, Some(&body), None, Retry::Never)
            .await
    }

    /// `POST /sessions`, by email or by team + Login ID.
    pub async fn login(
        &self,
        request: &LoginRequest,
    ) -> Result<Reply<SessionResponse>, ClientError> {
        self.call_json(
            Method::POST,
            routes::SESSIONS,
            Some(request),
            None,
            Retry::Never,
        )
        .await
    }

    /// `DELETE /sessions/current`
    pub async fn logout(&self, session_token: &str) -> Result<Reply<NoContent>, ClientError> {
        self.call_empty(
            Method::DELETE,
            routes::CURRENT_SESSION,
            None::<&()>,
            Some(session_token),
            Retry::Never,
        )
        .await
    }

    /// `GET /me`
    pub async fn me(&self, session_token: &str) -> Result<Reply<User>, ClientError> {
        self.call_json(
            Method::GET,
            routes::ME,
            None::<&()>,
            Some(session_token),
            Retry::OnConnectFailure,
        )
        .await
    }

    /// `GET /me/password_policy`: the rules of the member's organisation.
    pub async fn password_policy(
        &self,
        session_token: &str,
    ) -> Result<Reply<PasswordPolicyResponse>, ClientError> {
        self.call_json(
            Method::GET,
            routes::ME_PASSWORD_POLICY,
            None::<&()>,
            Some(session_token),
            Retry::OnConnectFailure,
        )
        .await
    }

    /// `PUT /me/password`: every session of the member ends, this one included; the answer is
    /// the new session for this device.
    pub async fn change_password(
        &self,
        session_token: &str,
        current_password: &str,
        new_password: &str,
        new_password_confirmation: &str,
    ) -> Result<Reply<SessionResponse>, ClientError> {
        let body = ChangePasswordRequest {
            current_password: current_password.to_owned(),
            new_password: new_password.to_owned(),
            new_password_confirmation: new_password_confirmation.to_owned(),
            lang: Some(self.language),
        };
        self.call_json(
            Method::PUT,
            routes::ME_PASSWORD,
            Some(&body),
            Some(session_token),
            Retry::Never,
        )
        .await
    }

    /// `GET /timeline`
    pub async fn timeline(&self, session_token: &str) -> Result<Reply<Timeline>, ClientError> {
        self.call_json(
            Method::GET,
            routes::TIMELINE,
            None::<&()>,
            Some(session_token),
            Retry::OnConnectFailure,
        )
        .await
    }

    /// `GET /admin/members?query=…`: the admin's team, or its members matching `query`.
    pub async fn admin_members(
        &self,
        session_token: &str,
        query: &str,
    ) -> Result<Reply<AdminMembers>, ClientError> {
        let query: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let route = Route {
            pattern: routes::ADMIN_MEMBERS,
            path: format!("{}?query={query}", routes::ADMIN_MEMBERS),
        };
        self.call_json(
            Method::GET,
            route,
            None::<&()>,
            Some(session_token),
            Retry::OnConnectFailure,
        )
        .await
    }

    /// `POST /admin/members`: a Login ID member without a password.
    pub async fn admin_add_member(
        &self,
        session_token: &str,
        member: &AddMemberRequest,
    ) -> Result<Reply<AdminMember>, ClientError> {
        self.call_json(
            Method::POST,
            routes::ADMIN_MEMBERS,
            Some(member),
            Some(session_token),
            Retry::Never,
        )
        .await
    }

    /// `POST /admin/members/{member_id}/password_reset`
    pub async fn admin_reset_password(
        &self,
        session_token: &str,
        member_id: &str,
    ) -> Result<Reply<AdminPasswordReset>, ClientError> {
        let route = Route {
            pattern: routes::ADMIN_PASSWORD_RESET,
            path: routes::for_member(routes::ADMIN_PASSWORD_RESET, &segment(member_id)),
        };
        self.call_json(
            Method::POST,
            route,
            None::<&()>,
            Some(session_token),
            Retry::Never,
        )
        .await
    }

    /// `GET /admin/members/{member_id}/account_sheet?lang=…`: the PDF. Each sheet has a new QR
    /// code (earlier sheets' codes stop working), so this is never retried.
    pub async fn admin_account_sheet(
        &self,
        session_token: &str,
        member_id: &str,
        lang: &str,
    ) -> Result<Reply<AccountSheet>, ClientError> {
        let route = Route {
            pattern: routes::ADMIN_ACCOUNT_SHEET,
            path: format!(
                "{}?lang={}",
                routes::for_member(routes::ADMIN_ACCOUNT_SHEET, &segment(member_id)),
                segment(lang)
            ),
        };
        let raw = self
            .call(
                Method::GET,
                route,
                None::<&()>,
                Some(session_token),
                Retry::Never,
                MAX_SHEET_BYTES,
            )
            .await?;
        let is_pdf = raw
            .content_type
            .as_deref()
            .is_some_and(|t| t.split(';').next().unwrap_or_default().trim() == PDF_MEDIA_TYPE);
        if !is_pdf || !raw.body.starts_with(b"%PDF-") {
            return Err(ClientError::bad_response(
                Some(raw.status),
                &raw.request_id,
                "the answer is not a PDF".to_owned(),
            ));
        }
        Ok(Reply {
            status: raw.status,
            request_id: raw.request_id,
            value: AccountSheet { pdf: raw.body },
        })
    }

    async fn call_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        route: impl Into<Route>,
        body: Option<&B>,
        bearer: Option<&str>,
        retry: Retry,
    ) -> Result<Reply<T>, ClientError> {
        let max = self.config.max_body_bytes;
        let raw = self
            .call(method, route.into(), body, bearer, retry, max)
            .await?;
        match serde_json::from_slice::<T>(&raw.body) {
            Ok(value) => Ok(Reply {
                status: raw.status,
                request_id: raw.request_id,
                value,
            }),
            Err(e) => Err(ClientError::bad_response(
                Some(raw.status),
                &raw.request_id,
                if looks_like_json(&raw.body) {
                    // Where, not what: serde's message quotes the offending value, and a broken
                    // server's value may be a secret that must not reach the UI.
                    format!(
                        "unexpected JSON: {} at line {} column {}",
                        match e.classify() {
                            serde_json::error::Category::Data => "a field of the wrong shape",
                            serde_json::error::Category::Syntax => "a syntax error",
                            serde_json::error::Category::Eof => "the answer ends early",
                            serde_json::error::Category::Io => "a read error",
                        },
                        e.line(),
                        e.column()
                    )
                } else {
                    "not JSON".to_owned()
                },
            )),
        }
    }

    async fn call_empty<B: Serialize>(
        &self,
        method: Method,
        route: impl Into<Route>,
        body: Option<&B>,
        bearer: Option<&str>,
        retry: Retry,
    ) -> Result<Reply<NoContent>, ClientError> {
        let max = self.config.max_body_bytes;
        let raw = self
            .call(method, route.into(), body, bearer, retry, max)
            .await?;
        Ok(Reply {
            status: raw.status,
            request_id: raw.request_id,
            value: NoContent {},
        })
    }

    /// Sends one request (see [`ApiClient::exchange`]) and records it in the call log: route,
    /// status, code, request id and time taken, nothing of what was sent.
    async fn call<B: Serialize>(
        &self,
        method: Method,
        route: Route,
        body: Option<&B>,
        bearer: Option<&str>,
        retry: Retry,
        max_body: usize,
    ) -> Result<RawReply, ClientError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let at = crate::support::now();
        let started = std::time::Instant::now();
        let method_name = method.as_str().to_owned();
        let result = self
            .exchange(
                method,
                &route.path,
                body,
                bearer,
                retry,
                &request_id,
                max_body,
            )
            .await;
        let (status, error_code, request_id) = match &result {
            Ok(raw) => (Some(raw.status), None, raw.request_id.clone()),
            Err(e) => (
                e.status(),
                Some(e.code().to_owned()),
                e.request_id().unwrap_or(&request_id).to_owned(),
            ),
        };
        self.calls.record(ApiCall {
            at,
            method: method_name,
            route: route.pattern.to_owned(),
            status,
            error_code,
            request_id,
            duration_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        });
        result
    }

    /// Sends one request (twice at most, for a read whose connection failed), and turns every
    /// answer that is not a 2xx into a [`ClientError`].
    #[allow(clippy::too_many_arguments)]
    async fn exchange<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        bearer: Option<&str>,
        retry: Retry,
        request_id: &str,
        max_body: usize,
    ) -> Result<RawReply, ClientError> {
        let request_id = request_id.to_owned();
        let url = self.config.api_base.join(&format!("{API_PREFIX}{path}"));
        let body = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| {
                ClientError::bad_response(None, &request_id, format!("request not encodable: {e}"))
            })?),
            None => None,
        };
        let bearer = match bearer {
            Some(token) => Some(bearer_header(token).ok_or(ClientError::NotLoggedIn)?),
            None => None,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header(REQUEST_ID_HEADER, &request_id)
                .header(ACCEPT, "application/json")
                // For a request without a body that causes a mail (an admin's reset).
                .header(ACCEPT_LANGUAGE, self.language.code());
            if let Some(b) = &body {
                req = req.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            if let Some(auth) = &bearer {
                req = req.header(reqwest::header::AUTHORIZATION, auth.clone());
            }
            match req.send().await {
                Ok(response) => return self.finish(response, &request_id, max_body).await,
                Err(e) => {
                    let err = self.transport_error(&e, &request_id);
                    // Nothing reached the server: no connection (refused, no route, DNS). A TLS
                    // failure or a timeout would only fail again.
                    let connect_failed = e.is_connect()
                        && matches!(
                            err,
                            ClientError::ConnectionRefused { .. } | ClientError::Offline { .. }
                        );
                    if retry == Retry::OnConnectFailure && connect_failed && attempt == 1 {
                        tokio::time::sleep(READ_RETRY_DELAY).await;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Reads the (capped) body and decides success or failure from the status.
    async fn finish(
        &self,
        mut response: reqwest::Response,
        sent_id: &str,
        max_body: usize,
    ) -> Result<RawReply, ClientError> {
        let status = response.status();
        let request_id = response
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 200)
            .unwrap_or(sent_id)
            .to_owned();
        let headers = response.headers().clone();
        let body = self
            .read_capped(&mut response, status, &request_id, max_body)
            .await?;
        let code = status.as_u16();
        if status.is_success() {
            return Ok(RawReply {
                status: code,
                request_id,
                content_type: headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                body,
            });
        }
        let envelope = serde_json::from_slice::<ErrorEnvelope>(&body).ok();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let (from_body, details) = envelope
                .map(|e| (e.error.retry_after_s, e.error.details))
                .unwrap_or_default();
            return Err(ClientError::RateLimited {
                retry_after_s: from_body
                    .or_else(|| retry_after_header(&headers))
                    .unwrap_or(DEFAULT_RETRY_AFTER_S),
                status: code,
                request_id,
                details,
            });
        }
        // A server at its bound, or without a part it needs (a font for sheets), says so with a
        // code of its own; the caller may retry after the wait.
        if let Some(ErrorEnvelope { error }) =
            envelope.as_ref().filter(|e| e.error.code.is_unavailable())
        {
            return Err(ClientError::Api {
                code: error.code,
                message: error.message.clone(),
                status: code,
                request_id,
                retry_after_s: error
                    .retry_after_s
                    .or_else(|| retry_after_header(&headers))
                    .or(matches!(
                        error.code,
                        ErrorCode::ServerBusy
                            | ErrorCode::Unavailable
                            | ErrorCode::TooManyConnections
                    )
                    .then_some(DEFAULT_RETRY_AFTER_S)),
                details: error.details.clone(),
            });
        }
        if status.is_server_error() {
            return Err(ClientError::ServerError {
                status: code,
                request_id,
                server_code: envelope.map(|e| e.error.code),
            });
        }
        match envelope {
            Some(ErrorEnvelope { error }) if status.is_client_error() => Err(ClientError::Api {
                code: error.code,
                message: error.message,
                status: code,
                request_id,
                retry_after_s: error.retry_after_s,
                details: error.details,
            }),
            _ => Err(ClientError::bad_response(
                Some(code),
                &request_id,
                if status.is_redirection() {
                    format!("unexpected redirect (HTTP {code})")
                } else {
                    format!("HTTP {code} without an error body")
                },
            )),
        }
    }

    async fn read_capped(
        &self,
        response: &mut reqwest::Response,
        status: StatusCode,
        request_id: &str,
        cap: usize,
    ) -> Result<Vec<u8>, ClientError> {
        let too_large = || {
            ClientError::bad_response(
                Some(status.as_u16()),
                request_id,
                format!("body larger than {cap} bytes"),
            )
        };
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > cap {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => {
                    return Err(match self.transport_error(&e, request_id) {
                        // A body cut off mid-way is the server's fault unless time ran out.
                        err @ ClientError::Timeout { .. } => err,
                        _ => ClientError::bad_response(
                            Some(status.as_u16()),
                            request_id,
                            format!("body cut off: {}", chain(&e)),
                        ),
                    });
                }
            }
        }
    }

    /// Sorts a failure without an HTTP answer into the client's network codes.
    fn transport_error(&self, e: &reqwest::Error, request_id: &str) -> ClientError {
        let host = self
            .config
            .api_base
            .url()
            .host_str()
            .unwrap_or_default()
            .to_owned();
        let request_id = request_id.to_owned();
        let cause = chain(e);
        if e.is_timeout() {
            let after = if e.is_connect() {
                self.config.connect_timeout
            } else {
                self.config.request_timeout
            };
            return ClientError::Timeout {
                after,
                request_id,
                cause,
            };
        }
        if has_tls_error(e) {
            return ClientError::Tls {
                host,
                request_id,
                cause,
            };
        }
        if io_kind(e) == Some(std::io::ErrorKind::ConnectionRefused) {
            return ClientError::ConnectionRefused {
                host,
                request_id,
                cause,
            };
        }
        if e.is_connect() || is_network_io(e) {
            // DNS failures ("dns error"), unreachable networks and hosts, dropped connections.
            return ClientError::Offline {
                host,
                request_id,
                cause,
            };
        }
        // The server accepted the connection and closed it without a (complete) answer.
        ClientError::bad_response(None, &request_id, format!("no complete answer: {cause}"))
    }
}

/// Makes ring the TLS crypto provider of the process, unless one is installed already. reqwest is
/// built without a provider of its own (its default, aws-lc-rs, is a C library with its own build
/// tooling); with this one it checks certificates with rustls-platform-verifier, against the OS's
/// trust store (on Linux the system's CA bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set).
/// Every reqwest client of the process needs it, not only this crate's: the app installs it
/// first thing.
pub fn install_tls_provider() {
    // An error only says a provider is installed already; that one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Gives rustls-platform-verifier the JVM and the application Context, once per process. The
/// APK must carry the verifier's Kotlin component (README: Building for Android and iOS).
#[cfg(target_os = "android")]
fn android_verifier() -> Result<(), String> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let android = ndk_context::android_context();
        // SAFETY: ndk-context holds the process's JavaVM and a global reference to the
        // application Context, recorded by the app's entry point before any command runs.
        let vm =
            unsafe { jni::JavaVM::from_raw(android.vm().cast()) }.map_err(|e| e.to_string())?;
        let mut env = vm.attach_current_thread().map_err(|e| e.to_string())?;
        // SAFETY: as above; the verifier takes its own global reference.
        let context = unsafe { jni::objects::JObject::from_raw(android.context().cast()) };
        rustls_platform_verifier::android::init_with_env(&mut env, context)
            .map_err(|e| format!("the Android certificate verifier could not start: {e}"))
    })
    .clone()
}

struct RawReply {
    status: u16,
    request_id: String,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// `Bearer <token>`, or `None` when the stored token could not be a header value.
fn bearer_header(token: &str) -> Option<HeaderValue> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// `Retry-After` as delta-seconds or as an HTTP date.
fn retry_after_header(headers: &HeaderMap) -> Option<u32> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs = match raw.parse::<u64>() {
        Ok(secs) => secs,
        Err(_) => {
            let when = httpdate::parse_http_date(raw).ok()?;
            let wait = when
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        }
    };
    // Seconds travel as u32 (136 years); a longer wait is as good as forever.
    Some(u32::try_from(secs).unwrap_or(u32::MAX))
}

fn looks_like_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok()
}

/// The error and its causes, joined: `error sending request: … : dns error: …`.
fn chain(e: &dyn StdError) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// Every error in the chain, including the ones wrapped inside `io::Error`s (whose `source()`
/// skips the wrapped error itself).
fn causes<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        out.push(err);
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            out.push(inner as &(dyn StdError + 'static));
            cur = inner.source();
        } else {
            cur = err.source();
        }
    }
    out
}

fn has_tls_error(e: &reqwest::Error) -> bool {
    causes(e).iter().any(|c| {
        c.downcast_ref::<rustls::Error>().is_some() || {
            // rustls' alerts and handshake failures also surface as text from hyper-rustls.
            let text = c.to_string().to_ascii_lowercase();
            text.contains("invalid peer certificate") || text.contains("tls handshake")
        }
    })
}

fn io_kind(e: &reqwest::Error) -> Option<std::io::ErrorKind> {
    causes(e)
        .iter()
        .find_map(|c| c.downcast_ref::<std::io::Error>().map(|io| io.kind()))
}

fn is_network_io(e: &reqwest::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        io_kind(e),
        Some(
            ConnectionReset
                | ConnectionAborted
                | NetworkUnreachable
                | HostUnreachable
                | NetworkDown
                | AddrNotAvailable
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("17"));
        assert_eq!(retry_after_header(&h), Some(17));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let secs = retry_after_header(&h).unwrap();
        assert!((118..=121).contains(&secs), "{secs}");
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after_header(&h), None);
    }

    #[test]
    fn a_stored_token_that_cannot_be_a_header_is_not_sent() {
        assert!(bearer_header("abc.DEF-123_~").is_some());
        assert!(bearer_header("").is_none());
        assert!(bearer_header("a b").is_none());
        assert!(bearer_header("a\r\nX-Evil: 1").is_none());
        assert!(bearer_header("トークン").is_none());
    }
}
