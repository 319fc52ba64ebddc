//! Request and response bodies of every endpoint of the API.
//!
//! Times are RFC 3339 strings in UTC (`2026-11-26T20:00:00Z`), kept as strings so this crate needs
//! no clock or date library.

use serde::{Deserialize, Serialize};

use crate::policy::PasswordPolicy;

/// `POST /password/forgot`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForgotRequest {
    pub email: String,
}

/// `202` from `POST /password/forgot`: the same for every well-formed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForgotAccepted {
    /// Always `"accepted"`.
    pub status: String,
    /// Seconds before the app should offer to send again.
    pub resend_after_s: u64,
}

/// `POST /password/reset/check`
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetCheckRequest {
    pub token: String,
}

/// `200` from `POST /password/reset/check`. Checking never uses the token up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetCheckResponse {
    /// The address the link was sent to, redacted (`t***@example.com`).
    pub email_hint: String,
    /// When the link stops working (RFC 3339, UTC).
    pub expires_at: String,
    pub policy: PasswordPolicy,
}

/// `POST /password/reset` — "Set password and login".
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetRequest {
    pub token: String,
    pub new_password: String,
    pub new_password_confirmation: String,
}

/// `POST /sessions`: by email address, or by team + Login ID.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum LoginRequest {
    Email {
        email: String,
        password: String,
    },
    LoginId {
        team: String,
        login_id: String,
        password: String,
    },
}

/// `PUT /me/password`
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
    pub new_password_confirmation: String,
}

// Request bodies carry passwords and tokens: their Debug output must never show them, so a stray
// `{:?}` in a log line cannot leak a secret.
macro_rules! redacted_debug {
    ($ty:ident { $($shown:ident),* } hides { $($hidden:ident),* }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &"<redacted>"))*
                    .finish()
            }
        }
    };
}
redacted_debug!(ResetCheckRequest {} hides { token });
redacted_debug!(ResetRequest {} hides { token, new_password, new_password_confirmation });
redacted_debug!(ChangePasswordRequest {} hides { current_password, new_password, new_password_confirmation });
redacted_debug!(Session { expires_at } hides { token });

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoginRequest::Email { email, .. } => f
                .debug_struct("LoginRequest::Email")
                .field("email", email)
                .field("password", &"<redacted>")
                .finish(),
            LoginRequest::LoginId { team, login_id, .. } => f
                .debug_struct("LoginRequest::LoginId")
                .field("team", team)
                .field("login_id", login_id)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// An opaque bearer token and when it stops working.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub token: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

/// How a member signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LoginMethod {
    Email,
    LoginId,
    Sso,
}

impl LoginMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Email => "email",
            LoginMethod::LoginId => "login_id",
            LoginMethod::Sso => "sso",
        }
    }
}

/// `GET /me`, and the `user` of a new session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub display_name: String,
    /// `None` for Login-ID members, who have no address.
    pub email: Option<String>,
    pub login_method: LoginMethod,
    pub team: String,
    /// Present for Login-ID members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
}

/// `201` from `POST /sessions`, `200` from `POST /password/reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionResponse {
    pub session: Session,
    pub user: User,
}

/// One recognition post on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Post {
    pub id: String,
    /// Display name of the member who sent the recognition.
    pub from: String,
    /// Display name of the member who received it.
    pub to: String,
    pub message: String,
    pub points: u32,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// `GET /timeline`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timeline {
    pub posts: Vec<Post>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_request_takes_either_shape() {
        let by_email: LoginRequest =
            serde_json::from_str(r#"{"email":"taro@example.com","password":"pw"}"#).unwrap();
        assert!(matches!(by_email, LoginRequest::Email { .. }));
        let by_id: LoginRequest =
            serde_json::from_str(r#"{"team":"acme","login_id":"t001","password":"pw"}"#).unwrap();
        assert!(matches!(by_id, LoginRequest::LoginId { .. }));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let req = ResetRequest {
            token: "SECRET-TOKEN".into(),
            new_password: "SECRET-PW-1".into(),
            new_password_confirmation: "SECRET-PW-2".into(),
        };
        let login = LoginRequest::Email {
            email: "taro@example.com".into(),
            password: "SECRET-PW-3".into(),
        };
        let session = Session {
            token: "SECRET-SESSION".into(),
            expires_at: "2026-12-01T00:00:00Z".into(),
        };
        let check = ResetCheckRequest {
            token: "SECRET-CHECK".into(),
        };
        let shown = format!("{req:?} {login:?} {session:?} {check:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("taro@example.com"));
    }

    #[test]
    fn login_method_uses_the_contract_strings() {
        assert_eq!(
            serde_json::to_string(&LoginMethod::LoginId).unwrap(),
            "\"login_id\""
        );
    }
}
