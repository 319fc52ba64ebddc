//! What the commands send to the web view, and the TypeScript shapes the bindings give them.
//!
//! Values of the client and protocol crates travel exactly as those crates serialize them: each
//! is wrapped in a newtype whose `Serialize` is the inner value's own, and whose TypeScript type
//! is described by a shape in [`shapes`]. The tests at the bottom check every shape against real
//! values, so a field added to a client type makes them fail instead of drifting silently.
//!
//! Nothing here carries a session token or a reset token.

use serde::{Deserialize, Serialize, Serializer};
use specta::Type;
use unipos_client::unipos_protocol::policy::RuleCheck;
use unipos_client::unipos_protocol::{EmailError, Timeline, User};
use unipos_client::{
    ClientError, LinkChecked, LoggedIn, LoggedOut, PasswordChanged, ResetRequested,
};

/// A newtype that serializes as its inner value and is typed in TypeScript by a shape.
macro_rules! pass_through {
    ($(#[$doc:meta])* $name:ident($inner:ty) as $shape:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub $inner);

        impl Type for $name {
            fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
                <$shape as Type>::definition(types)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }
    };
}

pass_through! {
    /// A failed command: the client's error exactly as it serializes,
    /// `{code, message, status?, request_id?, retry_after_s?, details?}`.
    AppError(ClientError) as shapes::AppError
}

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> Self {
        AppError(e)
    }
}

pass_through! {
    /// Why the protocol's rules refuse an address: `{code, message, fix?, chars}`.
    EmailRefusal(EmailError) as shapes::EmailRefusal
}
pass_through! {
    /// "Send" went through (the same answer for every well-formed address).
    ResetSent(ResetRequested) as shapes::ResetSent
}
pass_through! {
    /// What the Reset screen shows before a password is typed.
    ResetLinkChecked(LinkChecked) as shapes::ResetLinkChecked
}
pass_through! {
    /// The rules of the organisation's policy, each with whether the password meets it.
    Checklist(Vec<RuleCheck>) as Vec<shapes::RuleCheck>
}
pass_through! {
    /// A new session is in the keychain; this is what the UI may know about it.
    SignedIn(LoggedIn) as shapes::SignedIn
}
pass_through! {
    /// The signed-in member.
    Member(User) as shapes::User
}
pass_through! {
    /// The recognition posts, newest first.
    Posts(Timeline) as shapes::Timeline
}
pass_through! {
    /// Settings > Account > Save went through.
    PasswordSaved(PasswordChanged) as shapes::PasswordSaved
}
pass_through! {
    /// The session is gone from this device; whether the server revoked it too.
    SignedOut(LoggedOut) as shapes::SignedOut
}

/// The interface language, when the member chose one (otherwise the OS language is used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    En,
    Ja,
}

/// The Log in tab used last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum LoginTab {
    Email,
    LoginId,
}

/// A presentation forced from Settings > Support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Presentation {
    Phone,
    Desktop,
}

/// The non-secret preferences kept in the app's store file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Preferences {
    pub language: Option<Language>,
    pub last_login_method: Option<LoginTab>,
    pub presentation: Option<Presentation>,
    /// An API base chosen in Settings > Support (https, or http on a loopback address).
    pub api_url: Option<String>,
}

/// Facts for Settings > Support and for choosing the presentation and language.
#[derive(Debug, Clone, Serialize, Type)]
pub struct AppInfo {
    pub version: String,
    /// `linux`, `macos`, `windows`, `ios`, `android`.
    pub platform: String,
    /// Whether this is the iOS or Android app.
    pub mobile: bool,
    /// The OS language as a BCP 47 tag (`ja-JP`), when the OS tells.
    pub locale: Option<String>,
    pub api_url: String,
    pub web_base: String,
    /// The request id of the last failed call, for support.
    pub last_error_request_id: Option<String>,
}

/// Everything the first screen needs, read locally (no network).
#[derive(Debug, Serialize, Type)]
pub struct Startup {
    pub info: AppInfo,
    pub preferences: Preferences,
    /// Whether the keychain holds a session for this API (the server may have ended it).
    pub has_session: bool,
    /// A link the app was opened with, not yet shown.
    pub incoming_link: Option<IncomingLink>,
    /// Set when the keychain could not be read.
    pub keychain_error: Option<AppError>,
}

/// Where an accepted link leads. The reset token stays in Rust.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkTarget {
    /// The Reset screen; `token_hint` is the token's first characters, for support.
    Reset { token_hint: String },
    /// The Forgot screen, or the Timeline with a note when a session exists.
    Forgot { logged_in: bool },
}

/// A link the OS handed to the app (cold or warm start), as the UI learns of it.
#[derive(Debug, Serialize, Type)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IncomingLink {
    Opened { target: LinkTarget },
    Refused { error: AppError },
}

/// Help-centre pages the app opens in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum HelpTopic {
    /// "I forgot / want to reset my password (with Login ID)"
    LoginIdPassword,
    /// "How to sign up / log in / log out (with SSO)"
    SsoLogin,
    /// "I can't receive a password reset email"
    CantReceiveEmail,
}

/// Sent when the OS hands the app a link; the UI then calls `take_incoming_link`.
#[derive(Debug, Clone, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct LinkArrived {}

/// TypeScript shapes of values serialized by the client and protocol crates. They exist only to
/// describe those values to the bindings; the tests below keep them honest.
pub mod shapes {
    use serde::{Deserialize, Serialize};
    use specta::Type;

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct AppError {
        /// A stable snake_case code: one of `ERROR_CODES`.
        pub code: String,
        /// English, for logs; the UI shows its own translation of `code`.
        pub message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub request_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub retry_after_s: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[specta(type = Option<ErrorDetails>)]
        pub details: Option<serde_json::Value>,
    }

    /// Extra facts of an error, by kind; the server may add others.
    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct ErrorDetails {
        /// `password_policy`: the rules the new password breaks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub failed: Option<Vec<PolicyRule>>,
        /// An email refusal: the corrected address, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fix: Option<String>,
        /// An email refusal: the offending characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub chars: Option<Vec<CharReport>>,
        /// Network and keychain faults: the technical cause.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cause: Option<String>,
        /// `bad_response`: what was wrong with the answer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reason: Option<String>,
        /// `server_error`: the server's own code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub server_code: Option<String>,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct CharReport {
        pub char: String,
        pub code_point: String,
        /// The Unicode name, e.g. `IDEOGRAPHIC SPACE`.
        pub name: String,
        pub kind: CharKind,
        pub position: u32,
    }

    /// What a refused character is, for the UI to name it (`char.<kind>` in the catalogues).
    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(rename_all = "snake_case")]
    pub enum CharKind {
        IdeographicSpace,
        Space,
        OtherSpace,
        ZeroWidth,
        Tab,
        LineBreak,
        FullwidthAlphanumeric,
        FullwidthAt,
        FullwidthSymbol,
        Other,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct EmailRefusal {
        pub code: String,
        pub message: String,
        /// The corrected address, offered as a one-tap fix.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fix: Option<String>,
        pub chars: Vec<CharReport>,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct ResetSent {
        pub status: u16,
        pub request_id: String,
        pub email_hint: String,
        pub resend_after_s: u32,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct PasswordPolicy {
        pub min_length: u32,
        pub max_length: u32,
        pub require_lower: bool,
        pub require_upper: bool,
        pub require_digit: bool,
        pub require_symbol: bool,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(rename_all = "snake_case")]
    pub enum PolicyRule {
        MinLength,
        MaxLength,
        RequireLower,
        RequireUpper,
        RequireDigit,
        RequireSymbol,
        // Not a common (breached) password, nor built from the member's email address, name or
        // Login ID; always the last line of a checklist. (A `//` comment: a doc comment would
        // land in the middle of the TypeScript union.)
        CommonPassword,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct RuleCheck {
        pub rule: PolicyRule,
        pub met: bool,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct ResetLinkChecked {
        pub status: u16,
        pub request_id: String,
        pub email_hint: String,
        pub expires_at: String,
        pub policy: PasswordPolicy,
        pub token_hint: String,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(rename_all = "snake_case")]
    pub enum LoginMethod {
        Email,
        LoginId,
        Sso,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct User {
        pub id: String,
        pub display_name: String,
        pub email: Option<String>,
        pub login_method: LoginMethod,
        pub team: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub login_id: Option<String>,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct SignedIn {
        pub status: u16,
        pub request_id: String,
        pub user: User,
        pub expires_at: String,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct Post {
        pub id: String,
        pub from: String,
        pub to: String,
        pub message: String,
        pub points: u32,
        pub created_at: String,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct Timeline {
        pub posts: Vec<Post>,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct PasswordSaved {
        pub status: u16,
        pub request_id: String,
    }

    #[derive(Debug, Serialize, Deserialize, Type)]
    #[serde(deny_unknown_fields)]
    pub struct SignedOut {
        pub remote_revoked: bool,
        pub status: Option<u16>,
        pub request_id: Option<String>,
        /// Why the server could not revoke it (the session left this device all the same).
        pub remote_error: Option<AppError>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use unipos_client::unipos_protocol::{
        Email, ErrorCode, LinkError, LoginMethod, PasswordPolicy, Post,
    };

    /// `value` serializes to JSON that the shape `S` reads without loss and writes back unchanged.
    fn fits<S: Serialize + DeserializeOwned>(value: &impl Serialize) {
        let json = serde_json::to_value(value).unwrap();
        let shaped: S = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("{json} does not fit its TypeScript shape: {e}"));
        assert_eq!(serde_json::to_value(shaped).unwrap(), json);
    }

    fn user(method: LoginMethod) -> User {
        User {
            id: "u1".into(),
            display_name: "Jiro Suzuki".into(),
            email: None,
            login_method: method,
            team: "demo".into(),
            login_id: Some("jiro".into()),
        }
    }

    #[test]
    fn every_kind_of_client_error_fits_the_app_error_shape() {
        let errors = vec![
            ClientError::Api {
                code: ErrorCode::PasswordPolicy,
                message: "policy".into(),
                status: 422,
                request_id: "r1".into(),
                retry_after_s: Some(3),
                details: Some(serde_json::json!({"failed": ["min_length"]})),
            },
            ClientError::RateLimited {
                retry_after_s: 60,
                status: 429,
                request_id: "r2".into(),
                details: None,
            },
            ClientError::Offline {
                host: "unipos.me".into(),
                request_id: "r3".into(),
                cause: "dns".into(),
            },
            ClientError::Api {
                code: ErrorCode::ServerBusy,
                message: "busy".into(),
                status: 503,
                request_id: "r4".into(),
                retry_after_s: Some(1),
                details: None,
            },
            ClientError::Api {
                code: ErrorCode::RequestTimeout,
                message: "too slow".into(),
                status: 408,
                request_id: "r5".into(),
                retry_after_s: None,
                details: None,
            },
            ClientError::NotLoggedIn,
            ClientError::Email(Email::parse("taro@example.com\u{3000}").unwrap_err()),
            ClientError::Link(LinkError::TokenMalformed),
        ];
        for e in errors {
            fits::<shapes::AppError>(&AppError(e));
        }
        let policy =
            serde_json::json!({"failed": ["min_length", "require_digit", "common_password"]});
        let email = ClientError::Email(Email::parse("ｔａｒｏ@example.com").unwrap_err()).details();
        fits::<shapes::ErrorDetails>(&policy);
        fits::<shapes::ErrorDetails>(&email.unwrap());
    }

    #[test]
    fn an_email_refusal_fits_its_shape_with_the_fix_and_the_characters() {
        for input in [
            "taro@example.com\u{3000}",
            "ｔａｒｏ@example.com",
            "",
            "taro",
            // One character of every kind.
            "\u{3000} \u{A0}\u{200B}\t\nｔ＠．太@example.com",
        ] {
            fits::<shapes::EmailRefusal>(&EmailRefusal(Email::parse(input).unwrap_err()));
        }
    }

    #[test]
    fn the_flow_results_fit_their_shapes() {
        fits::<shapes::ResetSent>(&ResetSent(ResetRequested {
            status: 202,
            request_id: "r".into(),
            email_hint: "t***@example.com".into(),
            resend_after_s: 60,
        }));
        let strict = PasswordPolicy {
            require_upper: true,
            require_symbol: true,
            ..PasswordPolicy::default()
        };
        fits::<shapes::ResetLinkChecked>(&ResetLinkChecked(LinkChecked {
            status: 200,
            request_id: "r".into(),
            email_hint: "t***@example.com".into(),
            expires_at: "2030-01-01T00:00:00Z".into(),
            policy: strict.clone(),
            token_hint: "abcdef…".into(),
        }));
        // Every rule of the strictest policy, `common_password` last.
        let every_rule = strict.checklist("a");
        assert_eq!(
            every_rule.last().map(|c| c.rule),
            Some(unipos_client::unipos_protocol::PolicyRule::CommonPassword)
        );
        fits::<Vec<shapes::RuleCheck>>(&Checklist(every_rule));
        fits::<Vec<shapes::RuleCheck>>(&Checklist(strict.checklist("password123")));
        for method in [LoginMethod::Email, LoginMethod::LoginId, LoginMethod::Sso] {
            fits::<shapes::SignedIn>(&SignedIn(LoggedIn {
                status: 201,
                request_id: "r".into(),
                user: user(method),
                expires_at: "2030-01-01T00:00:00Z".into(),
            }));
        }
        fits::<shapes::User>(&Member(User {
            email: Some("taro@example.com".into()),
            login_id: None,
            ..user(LoginMethod::Email)
        }));
        fits::<shapes::Timeline>(&Posts(Timeline {
            posts: vec![Post {
                id: "p1".into(),
                from: "Hanako".into(),
                to: "Taro".into(),
                message: "Thanks!".into(),
                points: 40,
                created_at: "2030-01-01T00:00:00Z".into(),
            }],
        }));
        fits::<shapes::PasswordSaved>(&PasswordSaved(PasswordChanged {
            status: 204,
            request_id: "r".into(),
        }));
        fits::<shapes::SignedOut>(&SignedOut(LoggedOut {
            remote_revoked: false,
            status: None,
            request_id: Some("r".into()),
            remote_error: Some(ClientError::ConnectionRefused {
                host: "127.0.0.1".into(),
                request_id: "r".into(),
                cause: "refused".into(),
            }),
        }));
    }
}
