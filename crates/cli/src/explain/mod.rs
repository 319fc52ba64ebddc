//! What each error code means to support staff: the text the member saw (the app's own English
//! catalogue), what it means, what to do next, and how to reproduce it with this CLI.

mod advice;
mod catalogue;
mod member_saw;

pub use advice::{advice_for, not_sent, Repro, UNKNOWN_MEANS, UNKNOWN_NEXT};
pub use member_saw::{member_saw, shows_a_wait, Shown};

#[cfg(test)]
mod tests {
    use unipos_client::ClientErrorCode;

    use super::*;

    #[test]
    fn every_code_has_the_apps_text_and_an_explanation() {
        for code in ClientErrorCode::all() {
            for shown in [Shown::Alert, Shown::LinkScreen, Shown::Pasted] {
                let saw = member_saw(code, shown).unwrap_or_else(|| panic!("no text for {code:?}"));
                assert!(
                    saw.iter().all(|t| !t.is_empty() && !t.contains("{sender}")),
                    "{saw:?}"
                );
            }
            let a = advice_for(code);
            assert!(a.means.ends_with('.') && a.next.ends_with('.'), "{code:?}");
        }
    }
}
