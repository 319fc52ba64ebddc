//! What each error code means to support staff, what to do next, and how to reproduce it with
//! this CLI. [`advice_for`] is an exhaustive `match`: a new code does not compile until it is
//! explained here.

use std::sync::LazyLock;

use serde::Serialize;
use unipos_client::unipos_protocol::{ErrorCode, APP_IDENTIFIER};
use unipos_client::{ClientErrorCode, ClientOnlyCode};

/// What to do about `keychain_unavailable`: it names the keychain item (the app's identifier).
static KEYCHAIN_NEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Ask the member to unlock the keychain (on Linux: a desktop session with the keyring \
         unlocked; `secret-tool search service {APP_IDENTIFIER}` answers) and try again."
    )
});

/// How support staff reproduce a code with this CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Repro {
    /// Nothing to reproduce: the API or the device answered as designed.
    None,
    /// `unipos check-email` with the address exactly as typed (nothing is sent).
    CheckEmail,
    /// `unipos inspect-link` with the member's web base (nothing is sent).
    InspectLink,
    /// `unipos check-link` with the member's link against the member's API (does not use it up).
    CheckLink,
    /// A harmless call to the member's API URL from support's network.
    ReachApi,
    /// The same call against staging.
    SameCall,
}

/// What a code means and what support staff do about it. `{api_url}`, `{web_base}`, `{sender}`
/// are filled from the report.
#[derive(Debug, Clone, Copy)]
pub struct Advice {
    pub means: &'static str,
    pub next: &'static str,
    pub repro: Repro,
    /// Whether a changed API URL (Settings > Support) is a likely cause.
    pub api_url_matters: bool,
}

const fn advice(
    means: &'static str,
    next: &'static str,
    repro: Repro,
    api_url_matters: bool,
) -> Advice {
    Advice {
        means,
        next,
        repro,
        api_url_matters,
    }
}

const NOT_SENT: &str =
    "The app refused it before sending anything: there is no request and nothing in the server log.";

/// The meaning and next step of every code.
pub fn advice_for(code: ClientErrorCode) -> Advice {
    use Repro::*;
    match code {
        ClientErrorCode::Protocol(code) => match code {
            ErrorCode::EmailEmpty => advice(
                "Forgot or Log in was sent with no email address.",
                "Ask the member to type the address registered with Unipos.",
                None,
                false,
            ),
            ErrorCode::EmailLeadingWhitespace => advice(
                "A space or an invisible character before the address (often copied along with it).",
                "Ask the member to delete it, or to tap the fix the app offers under the field. \
                 `unipos check-email` with the address as typed names the character and its position.",
                CheckEmail,
                false,
            ),
            ErrorCode::EmailTrailingWhitespace => advice(
                "A space or an invisible character after the address (a Japanese IME's U+3000 \
                 IDEOGRAPHIC SPACE is common).",
                "Ask the member to delete it, or to tap \"Remove the space\" under the field. \
                 `unipos check-email` with the address as typed names the character and its position.",
                CheckEmail,
                false,
            ),
            ErrorCode::EmailInnerWhitespace => advice(
                "Whitespace inside the address.",
                "Ask the member to delete it, or to tap \"Remove the space\" under the field.",
                CheckEmail,
                false,
            ),
            ErrorCode::EmailFullwidth => advice(
                "Full-width characters in the address (＠, ａ–ｚ, ０–９), typed with a Japanese IME.",
                "Ask the member to switch the IME to half-width input, or to tap \"Use half-width \
                 characters\" under the field.",
                CheckEmail,
                false,
            ),
            ErrorCode::EmailTooLong => advice(
                "The address is over 254 characters (or over 64 before the @): no registered \
                 address is that long.",
                "Ask which address is registered with Unipos; something else was pasted.",
                CheckEmail,
                false,
            ),
            ErrorCode::EmailInvalid => advice(
                "The address breaks the email rules (no @, two @, a malformed domain, a character \
                 an address cannot hold).",
                "Ask for the address exactly as typed and check it with `unipos check-email`: the \
                 refusal names what is wrong.",
                CheckEmail,
                false,
            ),
            ErrorCode::TokenInvalid => advice(
                "The server knows no such reset token: the link was cut off or changed when copied, \
                 or it comes from another environment's mail (a staging mail against production).",
                "Ask the member to tap the link in the newest mail from {sender} (not to copy it by \
                 hand), or to send a new email from this screen.",
                CheckLink,
                true,
            ),
            ErrorCode::TokenExpired => advice(
                "The reset link's time ran out (an hour by default; the server's \
                 --reset-token-ttl). Nothing is broken.",
                "The member taps \"Send a new email\" and uses the new link within its time.",
                CheckLink,
                false,
            ),
            ErrorCode::TokenUsed => advice(
                "The link already set a password once; a link works once.",
                "If the member set that password, they log in with it. If they did not, someone \
                 else used the link: treat it as a possible account takeover (escalate as for a \
                 security incident) and have the member send a new email.",
                CheckLink,
                false,
            ),
            ErrorCode::TokenSuperseded => advice(
                "A newer reset email was requested after this one; only the newest link works.",
                "Ask the member to open the link in the newest mail from {sender} (mail can arrive \
                 out of order), or to send a new email and use only that one.",
                CheckLink,
                false,
            ),
            ErrorCode::ResetLinkOtherDevice => advice(
                "The link was asked for in the Unipos app on another device (or another app on \
                 this one), and only that app holds the key that lets it set a password. A link \
                 caught by an impostor app is useless the same way.",
                "The member opens the link on the device where they tapped Send, or sends a new \
                 email from this device (\"Send a new email\" on the screen) and uses that one.",
                CheckLink,
                false,
            ),
            ErrorCode::PasswordMismatch => advice(
                "The new password and its confirmation differ.",
                "Ask the member to type the same password twice (\"Show password\" helps).",
                None,
                false,
            ),
            ErrorCode::PasswordPolicy => advice(
                "The new password breaks the organisation's password policy; the screen's \
                 checklist marks the rules not yet met.",
                "Walk the member through the checklist on the screen: length, letters, digits, \
                 symbols, and not a common password or one made from their name or address.",
                None,
                false,
            ),
            ErrorCode::CurrentPasswordIncorrect => advice(
                "Settings > Account: the current password given to the change is wrong (it counts \
                 toward the account's lock).",
                "If the member does not know it, they log out and use \"Forgot your password?\".",
                None,
                false,
            ),
            ErrorCode::InvalidCredentials => advice(
                "Unknown account or wrong password; the server never says which.",
                "Check that the member logs in the way their organisation uses (email address, or \
                 team + Login ID; SSO members use \"Log in with SSO\"), else \"Forgot your \
                 password?\". Repeated failures lock the account (account_locked).",
                None,
                false,
            ),
            ErrorCode::PasswordResetByAdmin => advice(
                "The company's Unipos admin reset the member's password: every session was logged \
                 out and the old password stopped working (the member typed the old one, or was \
                 logged in).",
                "A Login ID member scans the QR code of the new Account Information sheet their \
                 admin prints (`unipos admin account-sheet`); an email member uses the link in the \
                 reset email sent at the reset. Then Set password and login.",
                None,
                false,
            ),
            ErrorCode::AdminRequired => advice(
                "A Team Admin request was made with the session of someone who is not an admin of \
                 that team.",
                "Log in as an admin of the member's team (`unipos login`) and try again.",
                None,
                false,
            ),
            ErrorCode::MemberNotFound => advice(
                "The admin's team has no member with that id (another team's member is answered \
                 the same).",
                "List the team's members with `unipos admin members` and use the id shown there.",
                None,
                false,
            ),
            ErrorCode::MemberUsesSso => advice(
                "The member logs in with SSO: the company's identity provider keeps the password, \
                 so there is nothing to reset or print here.",
                "The member uses \"Log in with SSO\"; password problems go to the company's IT.",
                None,
                false,
            ),
            ErrorCode::MemberUsesEmail => advice(
                "An Account Information sheet was asked for an email member; they get reset mail \
                 instead.",
                "Reset the password (`unipos admin reset-password`): a reset email goes to them.",
                None,
                false,
            ),
            ErrorCode::LoginIdTaken => advice(
                "The team already has a member with this Login ID (case aside).",
                "Choose another Login ID, or find the existing member with `unipos admin members`.",
                None,
                false,
            ),
            ErrorCode::LoginIdInvalid => advice(
                "A Login ID is 1–64 half-width letters, digits and . _ - @.",
                "Choose a Login ID of those characters.",
                None,
                false,
            ),
            ErrorCode::DisplayNameInvalid => advice(
                "A display name is 1–100 characters, not only spaces.",
                "Give the member's name.",
                None,
                false,
            ),
            ErrorCode::AccountSheetUnavailable => advice(
                "The server cannot make Account Information sheets: it found no font with Japanese \
                 glyphs (it warned about this at start).",
                "The server's operator installs fonts-noto-cjk or gives --sheet-font FILE, and \
                 restarts it.",
                None,
                true,
            ),
            ErrorCode::AccountLocked => advice(
                "Too many failed logins: the account is locked for a while (the app said how long).",
                "Ask the member to wait for the time shown or to reset the password by email, and \
                 not to keep trying.",
                None,
                false,
            ),
            ErrorCode::SsoRequired => advice(
                "The address is in an email domain whose organisation signs in with SSO: there is \
                 no Unipos password to use (the server says so for the domain, member or not).",
                "The member uses \"Log in with SSO\"; password problems go to their company's IT.",
                None,
                false,
            ),
            ErrorCode::SsoManaged => advice(
                "The password is managed by the company's SSO and cannot be set in Unipos.",
                "Refer the member to their company's IT (the SSO provider's password reset).",
                None,
                false,
            ),
            ErrorCode::SessionExpired => advice(
                "The session ended: it expired, or a password change or logout elsewhere revoked it.",
                "The member logs in again. If it repeats right after each login, look at the \
                 keychain line above and find the request ids in the server log.",
                None,
                false,
            ),
            ErrorCode::RateLimited => advice(
                "Too many requests from this device or address within the server's window; the app \
                 said how long to wait. Offices behind one address share the limit \
                 (--client-rate-limit).",
                "Ask the member to wait for the time shown and try once. If several members report \
                 it at once, tell the API's on-call with the request ids.",
                None,
                false,
            ),
            ErrorCode::BadRequest => advice(
                "The server could not read what the app sent: a bug in the app, or a proxy that \
                 changed the request.",
                "Find the request id in the server log and report it to the developers with the \
                 app version and build above.",
                SameCall,
                true,
            ),
            ErrorCode::PayloadTooLarge => advice(
                "The request was larger than the server accepts (16 KiB): far longer than any real \
                 address or password.",
                "Ask what the member entered (a whole document pasted?); otherwise report it to the \
                 developers with the request id.",
                None,
                false,
            ),
            ErrorCode::UnsupportedMediaType => advice(
                "The server refused the request's content type: a bug in the app, or a proxy that \
                 changed the request.",
                "Find the request id in the server log and report it to the developers with the \
                 app version and build above.",
                SameCall,
                true,
            ),
            ErrorCode::RequestTimeout => advice(
                "The request did not reach the server in time (a slow or interrupted network), or \
                 the server took too long to answer it.",
                "Find the request id in the server log (latency_ms says how long the server took). \
                 Ask the member to try again on a steadier connection.",
                None,
                false,
            ),
            ErrorCode::NotFound => advice(
                "The server at {api_url} does not know this endpoint: the API URL does not point at \
                 the Unipos API (or at a different version of it).",
                "Check the API URL above.",
                ReachApi,
                true,
            ),
            ErrorCode::MethodNotAllowed => advice(
                "The server at {api_url} does not take this request: the API URL does not point at \
                 the Unipos API (or at a different version of it).",
                "Check the API URL above.",
                ReachApi,
                true,
            ),
            ErrorCode::HostNotAllowed => advice(
                "A development server (--dev) was reached by a name other than a loopback name \
                 (localhost, 127.0.0.1, [::1]): it refuses such requests, as a web page that pointed its own \
                 name at 127.0.0.1 (DNS rebinding) would send them.",
                "Use http://127.0.0.1:PORT (or localhost) with the server's port as the API URL.",
                ReachApi,
                true,
            ),
            ErrorCode::Internal => advice(
                "The server failed while answering.",
                "Find the request id in the server log (its lines say why) and escalate to the \
                 API's on-call with it. The member can try again later.",
                SameCall,
                false,
            ),
            ErrorCode::ServerBusy => advice(
                "The server was at its bound of password checks (or database connections) and \
                 refused at once; nothing was checked or changed.",
                "The member tries again after the seconds shown. If many members see it, tell the \
                 API's on-call with the request ids (the server may need more --hash-workers, \
                 --hash-queue or --db-connections). One call will not reproduce it: it needs load.",
                None,
                false,
            ),
            ErrorCode::Unavailable => advice(
                "A part the API depends on was down: its database could not be reached (or, on a \
                 single-file database, its disk was full). Nothing was checked or changed; the \
                 server stays up and serves again by itself once the part is back.",
                "The member tries again after the seconds shown. Tell the API's on-call with the \
                 request ids: the server's log names the part (database unreachable, disk full), \
                 and its /readyz answers 503 while the database is gone.",
                SameCall,
                false,
            ),
            ErrorCode::TooManyConnections => advice(
                "The member's network address (often a whole office behind one NAT or proxy) had \
                 as many connections open to the API as it allows one address; the connection \
                 was answered and closed.",
                "The member tries again after the seconds shown. If a large office meets it \
                 often, tell the API's operator the office's public address: they raise \
                 --max-connections-per-client, or list the office's proxy with --trusted-proxy.",
                None,
                false,
            ),
            ErrorCode::LinkUnparseable => advice(
                "What reached the app was not a URL: a partial copy, or white space or line breaks \
                 inside it.",
                "Ask the member to tap the link in the newest mail from {sender} rather than copy \
                 it, or to copy it whole.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkScheme => advice(
                "The link starts neither like the app's web base ({web_base}) nor with unipos: \
                 (http: where https: is required counts).",
                "Ask where the link came from: only the mail from {sender} and the web page's \
                 \"Open in the Unipos app\" are Unipos links.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkUserinfo => advice(
                "The link hides another host behind a user name (https://unipos.me@evil.example/): \
                 a phishing pattern.",
                "The member must not use it: pass it to security. The real link is in the mail \
                 from {sender}.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkHost => advice(
                "The link points to another host than the app's web base ({web_base}).",
                "Ask where the link came from. If it is the mail from {sender}, the mail and the \
                 app are of different environments (a staging mail, or a web base that is not the \
                 default); otherwise it is not a Unipos link (phishing?): the member uses the \
                 newest mail from {sender}.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkPort => advice(
                "The link points to another port than the app's web base ({web_base}).",
                "As for another host: ask where the link came from; the real one is in the mail \
                 from {sender}.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkPath => advice(
                "The link leads to another page than the reset page (a help page opened in the \
                 app, or a damaged copy).",
                "Ask the member to use the link in the newest mail from {sender}.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkExtraParts => advice(
                "The link carries query parameters besides the token, or a fragment: often a mail \
                 scanner or tracker rewrote it.",
                "Ask the member to open the link from the mail unchanged. If every link arrives \
                 rewritten, the company's mail gateway adds to it: their IT should leave mail from \
                 {sender} alone.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkTokenMissing => advice(
                "The link has no token (cut off at \"?token=\").",
                "Ask the member to tap the link in the mail, or to copy all of it.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkTokenDuplicate => advice(
                "The token appears more than once (a link pasted twice, or rewritten).",
                "Ask the member to paste the link once, from the newest mail.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkTokenMalformed => advice(
                "The token is not 32–128 URL-safe characters: the copy lost or gained characters \
                 (a line break in the mail?).",
                "Ask the member to tap the link rather than copy it, or to send a new email.",
                InspectLink,
                false,
            ),
            ErrorCode::LinkTooLong => advice(
                "Longer than any link Unipos sends: more than a link was pasted.",
                "Ask the member to paste only the link.",
                InspectLink,
                false,
            ),
            ErrorCode::BaseUrlInvalid => advice(
                "An API URL typed in Settings > Support is not an absolute https URL; it was \
                 refused and the previous one kept.",
                "Unless support gave the member another URL, they tap \"Use the default\" in \
                 Settings > Support.",
                None,
                true,
            ),
            ErrorCode::BaseUrlInsecure => advice(
                "An API URL typed in Settings > Support uses http: for a host other than the \
                 device itself; it was refused and the previous one kept.",
                "Unless support gave the member another URL, they tap \"Use the default\" in \
                 Settings > Support.",
                None,
                true,
            ),
            ErrorCode::Unknown => advice(
                "The server sent a code this app does not know: the server is newer than the app.",
                "Find the request id in the server log for the real code; the member should update \
                 the app.",
                None,
                false,
            ),
        },
        ClientErrorCode::Client(code) => match code {
            ClientOnlyCode::Offline => advice(
                "No network, or the API's host name ({api_url}) does not resolve on the member's \
                 network.",
                "Ask the member whether other sites open; a company DNS, VPN or firewall may block \
                 the name. Check the API's health.",
                ReachApi,
                true,
            ),
            ClientOnlyCode::ConnectionRefused => advice(
                "The host of {api_url} answered, but nothing listened on its port.",
                "The app could not reach {api_url}: the member's network, or the API is down; check \
                 the status page / the API's health.",
                ReachApi,
                true,
            ),
            ClientOnlyCode::Timeout => advice(
                "No (complete) answer from {api_url} in the app's time (5 s to connect, 15 s in all).",
                "Check the API's health, and find the request id in the server log: a line with a \
                 long latency_ms means the server was slow; no line, that the request was lost on \
                 the way. Ask the member to try again on another network.",
                ReachApi,
                true,
            ),
            ClientOnlyCode::Tls => advice(
                "The secure connection to {api_url} could not be verified: a Wi-Fi sign-in page, a \
                 company proxy that inspects TLS without its root certificate on the device, or a \
                 wrong clock.",
                "Ask the member to sign in to the Wi-Fi or use another network, and to check the \
                 device's date and time. On a company network, its IT installs its root \
                 certificate in the OS (the app trusts what the OS trusts).",
                ReachApi,
                true,
            ),
            ClientOnlyCode::ServerError => advice(
                "An HTTP 5xx without the API's error body: a proxy or load balancer in front of the \
                 API answered, or the API failed.",
                "Find the request id in the server log: no line means the request never reached the \
                 API (a proxy answered); a line says why. Escalate to the API's on-call.",
                ReachApi,
                true,
            ),
            ClientOnlyCode::BadResponse => advice(
                "The answer was not the API's: a Wi-Fi sign-in page, a proxy or another server \
                 answered at {api_url}.",
                "Ask whether the member's Wi-Fi needs a sign-in; find the request id in the server \
                 log.",
                ReachApi,
                true,
            ),
            ClientOnlyCode::KeychainUnavailable => advice(
                "The device's keychain (Keychain, Credential Manager, the Android store, or on \
                 Linux the Secret Service: GNOME Keyring or KWallet) cannot be used, so no session \
                 can be kept.",
                KEYCHAIN_NEXT.as_str(),
                None,
                false,
            ),
            ClientOnlyCode::NotLoggedIn => advice(
                "A screen needed a session and the keychain holds none for {api_url} (sessions are \
                 kept per API URL).",
                "The member logs in again.",
                None,
                true,
            ),
        },
    }
}

/// Advice for a code this build of unipos does not know (a newer app).
pub const UNKNOWN_MEANS: &str =
    "This version of unipos does not know this code: the app is newer than this tool.";
pub const UNKNOWN_NEXT: &str =
    "Update unipos to the app's version for the explanation. Meanwhile, \
     find the request id in the server log: its lines name the code.";

/// The sentence added to a refusal by the app's own rules: nothing reached the server.
pub fn not_sent(code: ClientErrorCode) -> Option<&'static str> {
    let name = code.as_str();
    ["email_", "link_", "base_url_"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        .then_some(NOT_SENT)
}
