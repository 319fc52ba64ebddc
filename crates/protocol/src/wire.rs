//! Request and response bodies of every endpoint of the API.
//!
//! Times are RFC 3339 strings in UTC (`2026-11-26T20:00:00Z`), kept as strings so this crate needs
//! no clock or date library.

use serde::{Deserialize, Serialize};

use crate::policy::PasswordPolicy;

/// The rules of [`Email::parse`](crate::Email::parse) as an ECMA-262 pattern, for the OpenAPI
/// document: within [`MAX_EMAIL_OCTETS`](crate::email::MAX_EMAIL_OCTETS) characters, an address
/// the pattern matches is one the API accepts, and every other is answered 422 `email_*`. Local
/// part: 1–64 of the allowed characters; domain: two or more labels of 1–63 letters, digits and
/// inner hyphens, the last not all digits.
#[cfg(any(test, feature = "openapi"))]
const EMAIL_PATTERN: &str = r"^[A-Za-z0-9.!#$%&'*+=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?![0-9]+$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$";

/// Schemas of the OpenAPI document that the derive cannot spell: the real constraints of the
/// strings the server parses, taken from the rules themselves.
#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::schema::{
        AdditionalProperties, ObjectBuilder, OneOfBuilder, SchemaType, Type,
    };
    use utoipa::openapi::{Object, RefOr, Schema};

    use crate::email::MAX_EMAIL_OCTETS;
    use crate::token::{TOKEN_MAX_LEN, TOKEN_MIN_LEN};

    /// An email address as [`crate::Email::parse`] accepts it.
    pub fn email() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_EMAIL_OCTETS))
            .pattern(Some(super::EMAIL_PATTERN))
            .description(Some(
                "Half-width letters, digits and ``.!#$%&'*+=?^_`{|}~-`` (1–64), one `@`, and a \
                 domain of two or more labels of letters, digits and inner hyphens (the last not \
                 all digits); at most 254 characters, no whitespace. Anything else is answered \
                 422 with an `email_*` code, `details.fix` and `details.chars`.",
            ))
            .examples(["member@example.com"])
            .build()
    }

    fn password() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Compared in its NFKC form (full-width typing matches half-width).",
            ))
    }

    /// Serde tries the variants in order, so a body with a string `email` and `password` is a
    /// login by email whatever else it carries, and the by-Login-ID shape takes no other fields:
    /// the two shapes never overlap, as `oneOf` requires.
    impl utoipa::PartialSchema for crate::LoginRequest {
        fn schema() -> RefOr<Schema> {
            let by_email = ObjectBuilder::new()
                .schema_type(Type::Object)
                .title(Some("By email address"))
                .property("email", email())
                .property("password", password())
                .required("email")
                .required("password");
            let by_login_id = ObjectBuilder::new()
                .schema_type(Type::Object)
                .title(Some("By team and Login ID"))
                .description(Some(
                    "No other fields: a body with `email` is a login by email address.",
                ))
                .property(
                    "team",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some("The organisation's slug.")),
                )
                .property("login_id", ObjectBuilder::new().schema_type(Type::String))
                .property("password", password())
                .required("team")
                .required("login_id")
                .required("password")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            OneOfBuilder::new()
                .item(by_email)
                .item(by_login_id)
                .description(Some(
                    "`POST /sessions`: by email address, or by team + Login ID.",
                ))
                .into()
        }
    }

    impl utoipa::ToSchema for crate::LoginRequest {}

    /// A binding's verifier or challenge ([`crate::binding`]); optional, so `null` is as good as
    /// absent (as serde reads it).
    pub fn binding_value() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .min_length(Some(crate::binding::BINDING_LEN))
            .max_length(Some(crate::binding::BINDING_LEN))
            .pattern(Some("^[A-Za-z0-9_-]{43}$"))
            .build()
    }

    /// A reset token as [`crate::ResetToken::parse`] accepts it; any other is `token_invalid`.
    pub fn reset_token() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(TOKEN_MIN_LEN))
            .max_length(Some(TOKEN_MAX_LEN))
            .pattern(Some(format!(
                "^[A-Za-z0-9_-]{{{TOKEN_MIN_LEN},{TOKEN_MAX_LEN}}}$"
            )))
            .description(Some(
                "The `token` of the reset link: URL-safe base64 without padding. A token of \
                 another shape, or one never issued, is answered 404 `token_invalid`.",
            ))
            .build()
    }
}

/// `POST /password/forgot`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForgotRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::email))]
    pub email: String,
    /// The app's binding (RFC 7636 `S256`): base64url(SHA-256(verifier)), the verifier kept in
    /// the app's keychain. The mailed link then sets a password only with that verifier. Absent
    /// from a request made elsewhere (a browser, support), whose link is not bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::binding_value))]
    pub code_challenge: Option<String>,
    /// The language of the mail this request causes ([`crate::Language::for_request`]):
    /// absent, the request's `Accept-Language`, else English. The app sends the language it
    /// shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<crate::Language>,
}

/// `202` from `POST /password/forgot`: the same for every well-formed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForgotAccepted {
    /// Always `"accepted"`.
    pub status: String,
    /// Seconds before the app should offer to send again.
    pub resend_after_s: u32,
}

/// `POST /password/reset/check`
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetCheckRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::reset_token))]
    pub token: String,
    /// The verifier of the app's binding, if it holds one; a bound link answers 403
    /// `reset_link_other_device` without the right one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::binding_value))]
    pub code_verifier: Option<String>,
}

/// `200` from `POST /password/reset/check`. Checking never uses the token up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetCheckResponse {
    /// Whose link it is, for an email member: the address it was sent to, redacted
    /// (`t***@example.com`). Absent for Login ID members, who have no address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_hint: Option<String>,
    /// Whose link it is, for a Login ID member (the link of an Account Information sheet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<LoginIdAccount>,
    /// When the link stops working (RFC 3339, UTC).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub expires_at: String,
    pub policy: PasswordPolicy,
}

/// The account a Login ID member's reset link is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LoginIdAccount {
    /// The team's slug, as the member types it at login.
    pub team: String,
    /// The team's name.
    pub team_name: String,
    /// The Login ID, mostly hidden (`j***`; see [`crate::member::login_id_hint`]).
    pub login_id_hint: String,
}

/// `POST /password/reset` — "Set password and login".
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::reset_token))]
    pub token: String,
    /// Must meet the organisation's policy (`policy` of `POST /password/reset/check`; 8–128
    /// characters by default), counted in its NFKC form; else 422 `password_policy`.
    pub new_password: String,
    /// The same password again (compared in NFKC form); else 422 `password_mismatch`.
    pub new_password_confirmation: String,
    /// The verifier of the app's binding; a bound link sets a password only with it (else 403
    /// `reset_link_other_device`, and the link is not used up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::binding_value))]
    pub code_verifier: Option<String>,
    /// The language of the "password changed" notice this request causes (see `lang` of
    /// `POST /password/forgot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<crate::Language>,
}

/// `POST /sessions`: by email address, or by team + Login ID. Its OpenAPI schema is written out
/// by hand (`mod schema` above): a derive cannot say that a body with `email` is read as `Email`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Compared in its NFKC form; a wrong one is 422 `current_password_incorrect` and counts
    /// toward the account's lock.
    pub current_password: String,
    /// Must meet the organisation's policy (8–128 characters by default), counted in its NFKC
    /// form; else 422 `password_policy`.
    pub new_password: String,
    /// The same password again (compared in NFKC form); else 422 `password_mismatch`.
    pub new_password_confirmation: String,
    /// The language of the "password changed" notice this request causes (see `lang` of
    /// `POST /password/forgot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<crate::Language>,
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
redacted_debug!(ResetCheckRequest {} hides { token, code_verifier });
redacted_debug!(ResetRequest { lang } hides { token, new_password, new_password_confirmation, code_verifier });
redacted_debug!(ChangePasswordRequest { lang } hides { current_password, new_password, new_password_confirmation });
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
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub expires_at: String,
}

/// How a member signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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

/// `200` from `GET /me/password_policy`: the rules a new password of the logged-in member must
/// meet (their organisation's), for the checklist of Settings > Account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PasswordPolicyResponse {
    pub policy: PasswordPolicy,
    /// The policy as the `passwordrules` attribute of a new-password field
    /// (<https://developer.apple.com/password-rules/>), for password managers that suggest
    /// passwords: [`PasswordPolicy::passwordrules`].
    pub passwordrules: String,
}

impl From<PasswordPolicy> for PasswordPolicyResponse {
    fn from(policy: PasswordPolicy) -> Self {
        PasswordPolicyResponse {
            passwordrules: policy.passwordrules(),
            policy,
        }
    }
}

/// `GET /me`, and the `user` of a new session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Post {
    pub id: String,
    /// Display name of the member who sent the recognition.
    pub from: String,
    /// Display name of the member who received it.
    pub to: String,
    pub message: String,
    pub points: u32,
    /// RFC 3339, UTC.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
}

/// `GET /timeline`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Timeline {
    pub posts: Vec<Post>,
}

/// A member as their team's admin sees them (`/admin/members`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminMember {
    pub id: String,
    pub display_name: String,
    /// `None` for Login ID members.
    pub email: Option<String>,
    /// Present for Login ID members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
    pub login_method: LoginMethod,
    pub role: crate::member::Role,
    /// Whether the member has a password: `false` for a member added by an admin who has not
    /// set one yet, after an admin's reset until the member sets a new one, and for SSO members.
    pub has_password: bool,
}

/// `200` from `GET /admin/members`: the admin's team, ordered by display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminMembers {
    pub members: Vec<AdminMember>,
}

/// `POST /admin/members`: a Login ID member, without a password; they set one with the QR code of
/// their Account Information sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The team's slug: the admin's own team.
    pub team: String,
    /// 1–64 half-width letters, digits and `.`, `_`, `-`, `@`; unique in the team (case aside).
    pub login_id: String,
    /// 1–100 characters.
    pub display_name: String,
}

/// How a member whose password an admin reset sets a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContinueWith {
    /// A reset mail is on its way to the member's address.
    Email,
    /// Print the member's Account Information sheet (`GET …/account_sheet`) and hand it over.
    AccountSheet,
}

/// `200` from `POST /admin/members/{member_id}/password_reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminPasswordReset {
    pub member: AdminMember,
    pub continue_with: ContinueWith,
    /// Sessions of the member that were logged out.
    pub sessions_revoked: u32,
    /// Reset links of the member (mails, sheets) that stopped working.
    pub links_ended: u32,
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
            code_verifier: Some("SECRET-VERIFIER".into()),
            lang: Some(crate::Language::Ja),
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
            code_verifier: Some("SECRET-VERIFIER-2".into()),
        };
        let shown = format!("{req:?} {login:?} {session:?} {check:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("taro@example.com"));
    }

    /// The OpenAPI document promises that an address matching its pattern is accepted: every
    /// address drawn from the pattern must pass `Email::parse`, and the only ones refused are
    /// those the pattern's look-ahead (an all-digit last label) or the length limit leave out.
    #[test]
    fn every_address_the_documented_pattern_describes_is_accepted() {
        use proptest::test_runner::{Config, TestRunner};
        // proptest draws neither anchors nor look-ahead: draw without them (the whole string is
        // drawn, as the anchors say) and check what the look-ahead would refuse.
        let drawable = EMAIL_PATTERN
            .replace("(?![0-9]+$)", "")
            .trim_start_matches('^')
            .trim_end_matches('$')
            .to_owned();
        assert_eq!(
            drawable.len() + 2 + "(?![0-9]+$)".len(),
            EMAIL_PATTERN.len()
        );
        let addresses = proptest::string::string_regex(&drawable).unwrap();
        let mut runner = TestRunner::new(Config {
            cases: 2000,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&addresses, |address| {
                let last_label = address.rsplit('.').next().unwrap_or_default();
                let described = address.len() <= crate::email::MAX_EMAIL_OCTETS
                    && !last_label.bytes().all(|b| b.is_ascii_digit());
                let accepted = crate::Email::parse(&address).is_ok();
                proptest::prop_assert_eq!(accepted, described, "{:?}", address);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn login_method_uses_the_contract_strings() {
        assert_eq!(
            serde_json::to_string(&LoginMethod::LoginId).unwrap(),
            "\"login_id\""
        );
    }
}
