//! The texts a member saw for a code, as the app's screens put them together.

use unipos_client::unipos_protocol::{ErrorCode, MAIL_SENDER};
use unipos_client::ClientErrorCode;

use super::catalogue::text;

/// Where the member met the code: the screen decides which texts they saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// In an alert on the screen that made the call (`ErrorAlert`).
    Alert,
    /// A link that arrived from outside the app (cold start, handover): the link-problem screen.
    LinkScreen,
    /// A link pasted on Check your email: the alert under the field.
    Pasted,
}

/// The texts the member saw for `code`, in order: as `LinkProblem.svelte` shows dead and refused
/// links, and as `ErrorAlert.svelte` shows the rest (with its sentence about waiting). `None` for
/// a code this build does not know.
pub fn member_saw(code: ClientErrorCode, shown: Shown) -> Option<Vec<String>> {
    use ErrorCode::*;
    let name = code.as_str();
    let error = text(&format!("error.{name}"), &[])?;
    let sender = [("sender", MAIL_SENDER)];
    let dead = matches!(code, ClientErrorCode::Protocol(c) if c.is_dead_link());
    let refused_link = name.starts_with("link_");
    // A dead link opens its own screen wherever it was met (the check and the reset alike).
    if dead {
        return Some(vec![
            text(&format!("link.{name}.title"), &[])?,
            text(&format!("link.{name}.body"), &sender)?,
        ]);
    }
    if refused_link && shown == Shown::LinkScreen {
        return Some(vec![
            text("link.refused.title", &[])?,
            text("link.refused.body", &sender)?,
            error,
        ]);
    }
    // The server's wait is not kept in the report: N stands for it.
    let wait = [("seconds", "N"), ("minutes", "N")];
    Some(match code {
        ClientErrorCode::Protocol(ServerBusy) => vec![text("common.busy_retry_in", &wait)?],
        ClientErrorCode::Protocol(Unavailable) => {
            vec![text("common.unavailable_retry_in", &wait)?]
        }
        ClientErrorCode::Protocol(TooManyConnections) => {
            vec![format!("{error} {}", text("common.retry_in", &wait)?)]
        }
        ClientErrorCode::Protocol(AccountLocked) => {
            vec![format!("{error} {}", text("common.locked_for", &wait)?)]
        }
        ClientErrorCode::Protocol(RateLimited) => {
            vec![format!("{error} {}", text("common.retry_in", &wait)?)]
        }
        _ => vec![error],
    })
}

/// Whether [`member_saw`] has an `N` for the wait the server gave.
pub fn shows_a_wait(code: ClientErrorCode) -> bool {
    matches!(
        code,
        ClientErrorCode::Protocol(ErrorCode::ServerBusy)
            | ClientErrorCode::Protocol(ErrorCode::Unavailable)
            | ClientErrorCode::Protocol(ErrorCode::TooManyConnections)
            | ClientErrorCode::Protocol(ErrorCode::AccountLocked)
            | ClientErrorCode::Protocol(ErrorCode::RateLimited)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_link_shows_the_link_screens_title_and_body() {
        let saw = member_saw(
            ClientErrorCode::Protocol(ErrorCode::TokenExpired),
            Shown::Alert,
        )
        .unwrap();
        assert_eq!(
            saw,
            [
                "This link has expired",
                "Reset links work for a limited time. Ask for a new email."
            ]
        );
    }

    #[test]
    fn a_refused_link_shows_the_refusal_screen_unless_it_was_pasted() {
        let code = ClientErrorCode::Protocol(ErrorCode::LinkHost);
        let screen = member_saw(code, Shown::LinkScreen).unwrap();
        assert_eq!(screen[0], "This link can't be opened");
        assert!(screen[1].contains(MAIL_SENDER), "{}", screen[1]);
        let refusal = "This link points to another site, not to Unipos. Copy the whole link from \
                       the email from Unipos again, and paste it.";
        assert_eq!(screen[2], refusal);
        assert_eq!(member_saw(code, Shown::Pasted).unwrap(), [refusal]);
    }

    #[test]
    fn an_unavailable_server_says_so_and_when_to_try_again() {
        let code = ClientErrorCode::Protocol(ErrorCode::Unavailable);
        assert_eq!(
            member_saw(code, Shown::Alert).unwrap(),
            ["Unipos is not available right now. Try again in N s."]
        );
        assert!(shows_a_wait(code));
        let cap = ClientErrorCode::Protocol(ErrorCode::TooManyConnections);
        assert_eq!(
            member_saw(cap, Shown::Alert).unwrap(),
            ["Too many devices on your network are connected to Unipos at once. Try again in N s."]
        );
    }

    #[test]
    fn a_busy_server_says_when_to_try_again_with_the_wait_left_open() {
        let saw = member_saw(
            ClientErrorCode::Protocol(ErrorCode::ServerBusy),
            Shown::Alert,
        )
        .unwrap();
        assert_eq!(
            saw,
            ["The server is busy, so nothing was changed. Try again in N s."]
        );
    }
}
