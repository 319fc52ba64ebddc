//! The API's routes, under [`crate::API_PREFIX`] of the API base: the paths the client calls,
//! the CLI's support report names, and the server serves (its tests hold its router and its
//! `openapi.json` to [`ALL`]). A route with a member's id has it as `{member_id}`.

pub const FORGOT: &str = "/password/forgot";
pub const RESET_CHECK: &str = "/password/reset/check";
pub const RESET: &str = "/password/reset";
pub const SESSIONS: &str = "/sessions";
pub const CURRENT_SESSION: &str = "/sessions/current";
pub const ME: &str = "/me";
pub const ME_PASSWORD: &str = "/me/password";
pub const ME_PASSWORD_POLICY: &str = "/me/password_policy";
pub const TIMELINE: &str = "/timeline";
/// Team Admin's: the CLI's (`unipos admin`), never the app's.
pub const ADMIN_MEMBERS: &str = "/admin/members";
pub const ADMIN_PASSWORD_RESET: &str = "/admin/members/{member_id}/password_reset";
pub const ADMIN_ACCOUNT_SHEET: &str = "/admin/members/{member_id}/account_sheet";

/// The routes a member's app calls.
pub const MEMBER: [&str; 9] = [
    FORGOT,
    RESET_CHECK,
    RESET,
    SESSIONS,
    CURRENT_SESSION,
    ME,
    ME_PASSWORD,
    ME_PASSWORD_POLICY,
    TIMELINE,
];

/// Team Admin's routes.
pub const ADMIN: [&str; 3] = [ADMIN_MEMBERS, ADMIN_PASSWORD_RESET, ADMIN_ACCOUNT_SHEET];

/// Every route of the API (not the `/dev` ones, which only `--dev` serves).
pub fn all() -> impl Iterator<Item = &'static str> {
    MEMBER.into_iter().chain(ADMIN)
}

/// `route` with its `{member_id}` filled (percent-encoded by the caller).
pub fn for_member(route: &str, member_id: &str) -> String {
    route.replace("{member_id}", member_id)
}
