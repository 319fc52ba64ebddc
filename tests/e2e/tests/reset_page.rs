//! The reset link's page in a real browser: Debian's chromium, headless, through chromedriver,
//! against the real server, as a member without the app meets it (by the texts on screen, in
//! the page's language). axe-core runs on every state of the page: no serious or critical
//! violation.
//!
//! With `UNIPOS_SCREENSHOTS=DIR` each state is also saved as
//! `DIR/reset-page-<state>-<lang>-<size>.png` (always into `target/e2e-screenshots/`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{ensure, Result};
use serde_json::json;
use unipos_e2e::*;

const NEW_PASSWORD: &str = "Fresh-pass-42";

/// One member's visit: the server, a browser in the member's language, the page's texts.
struct Visit {
    backend: Backend,
    browser: Browser,
    texts: Texts,
}

impl Visit {
    /// A browser of `size` whose languages are `languages` (`Accept-Language`); the page's texts
    /// in `lang`.
    async fn start(size: Size, languages: &str, lang: &str) -> Result<Visit> {
        Ok(Visit {
            backend: Backend::start().await?,
            browser: Browser::open(size, languages).await?,
            texts: Texts::for_reset_page(lang)?,
        })
    }

    fn t(&self, key: &str) -> String {
        self.texts.get(key)
    }

    /// The link of a reset mail asked for outside the app (not bound to it).
    async fn mailed_link(&self) -> Result<String> {
        self.backend.forgot(DEMO_EMAIL).await?;
        self.backend.reset_link(DEMO_EMAIL, 1).await
    }

    /// The page as it is now: axe-core finds nothing serious or critical; saved as a picture.
    async fn look(&self, state: &str) -> Result<AxeReport> {
        let report = self.browser.axe().await?;
        let name = format!(
            "reset-page-{state}-{}-{}",
            self.texts.language(),
            self.browser.size.name()
        );
        println!("{name:<36} {}", report.summary());
        for v in report.serious_or_critical() {
            println!("    {v}");
        }
        self.browser.screenshot(&screenshot_path(&name)).await?;
        if let Some(dir) = std::env::var_os("UNIPOS_SCREENSHOTS").map(PathBuf::from) {
            self.browser
                .screenshot(&dir.join(format!("{name}.png")))
                .await?;
        }
        let serious: Vec<String> = report
            .serious_or_critical()
            .map(|v| v.to_string())
            .collect();
        ensure!(
            serious.is_empty(),
            "{name}: serious or critical violations:\n{}",
            serious.join("\n")
        );
        Ok(report)
    }

    /// Types the new password twice and presses "Set password and login".
    async fn set_password(&self, new: &str, again: &str) -> Result<()> {
        self.browser.fill(&self.t("reset.new"), new).await?;
        self.browser.fill(&self.t("reset.confirm"), again).await?;
        self.browser.click(&self.t("reset.submit")).await
    }

    async fn close(self) -> Result<()> {
        self.browser.close().await
    }
}

fn token_of(link: &str) -> String {
    link.split_once("token=")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_member_without_the_app_sets_the_password_in_the_browser_and_it_logs_in() -> Result<()> {
    for size in Size::ALL {
        let visit = Visit::start(size, "en-US,en", "en").await?;
        let link = visit.mailed_link().await?;
        visit.browser.go(&link).await?;
        visit
            .browser
            .wait_for_screen(&visit.t("reset.title"))
            .await?;
        visit
            .browser
            .wait_for_text(&visit.t("reset.for").replace("{hint}", "t***@example.com"))
            .await?;
        visit.browser.wait_for_text(&visit.t("reset.rules")).await?;
        visit.look("form").await?;

        visit.set_password(NEW_PASSWORD, NEW_PASSWORD).await?;
        visit
            .browser
            .wait_for_screen(&visit.t("page.done.title"))
            .await?;
        visit.browser.control(&visit.t("page.done.open")).await?;
        visit.look("done").await?;
        // Set as by the app: the new password logs in over the API, the old one no longer.
        ensure!(
            visit
                .backend
                .password_works(DEMO_EMAIL, NEW_PASSWORD)
                .await?,
            "the new password does not log in"
        );
        ensure!(
            !visit
                .backend
                .password_works(DEMO_EMAIL, DEMO_PASSWORD)
                .await?,
            "the old password still logs in"
        );
        visit.close().await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_token_leaves_the_address_bar_as_the_page_loads() -> Result<()> {
    let visit = Visit::start(Size::Desktop, "en-US,en", "en").await?;
    let link = visit.mailed_link().await?;
    let token = token_of(&link);
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("reset.title"))
        .await?;
    let shown = visit.browser.url().await?;
    let page = format!(
        "{}/reset_password",
        visit.backend.api_url().trim_end_matches('/')
    );
    ensure!(shown == page, "the address bar shows {shown}");
    // Replaced, not added: no entry of the history holds the token.
    let entries = visit.browser.history_length().await?;
    ensure!(entries <= 2, "{entries} entries in the history");
    visit.browser.back().await?;
    let before = visit.browser.url().await?;
    ensure!(
        !before.contains(&token),
        "the entry before the page is {before}"
    );
    // The form carries the token in its body: the password is set.
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("reset.title"))
        .await?;
    visit.set_password(NEW_PASSWORD, NEW_PASSWORD).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("page.done.title"))
        .await?;
    let done = visit.browser.url().await?;
    ensure!(!done.contains(&token), "the done page's address is {done}");
    ensure!(
        visit
            .backend
            .password_works(DEMO_EMAIL, NEW_PASSWORD)
            .await?,
        "the new password does not log in"
    );
    visit.close().await
}

#[tokio::test]
async fn two_different_passwords_or_a_weak_one_get_the_apps_texts_and_the_next_try_works(
) -> Result<()> {
    let visit = Visit::start(Size::Phone, "en-US,en", "en").await?;
    let link = visit.mailed_link().await?;
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("reset.title"))
        .await?;

    visit.set_password(NEW_PASSWORD, "Fresh-pass-43").await?;
    let alert = visit
        .browser
        .alert_with(&visit.t("error.password_mismatch"))
        .await?;
    ensure!(alert.contains("password_mismatch"), "{alert}");
    visit.look("mismatch").await?;

    visit.set_password("password", "password").await?;
    let alert = visit
        .browser
        .alert_with(&visit.t("error.password_policy"))
        .await?;
    let digit = visit
        .t("rule.failed")
        .replace("{rules}", &visit.t("rule.require_digit"));
    ensure!(alert.contains(&digit), "{alert}");
    ensure!(alert.contains(&visit.t("rule.failed_common")), "{alert}");
    visit.look("policy").await?;

    visit.set_password(NEW_PASSWORD, NEW_PASSWORD).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("page.done.title"))
        .await?;
    ensure!(
        visit
            .backend
            .password_works(DEMO_EMAIL, NEW_PASSWORD)
            .await?,
        "the new password does not log in"
    );
    visit.close().await
}

#[tokio::test]
async fn a_used_link_says_so_and_offers_a_new_email() -> Result<()> {
    let visit = Visit::start(Size::Phone, "en-US,en", "en").await?;
    let link = visit.mailed_link().await?;
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("reset.title"))
        .await?;
    visit.set_password(NEW_PASSWORD, NEW_PASSWORD).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("page.done.title"))
        .await?;

    // The mail's link again, as a member who opens it twice.
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("link.token_used.title"))
        .await?;
    visit
        .browser
        .wait_for_text(&visit.t("link.token_used.body"))
        .await?;
    let href = visit.browser.href_of(&visit.t("link.send_new")).await?;
    ensure!(href == "unipos://forgot_password", "{href}");
    visit.look("used").await?;
    visit.close().await
}

#[tokio::test]
async fn an_expired_link_says_so() -> Result<()> {
    let visit = Visit::start(Size::Phone, "en-US,en", "en").await?;
    let link = visit.mailed_link().await?;
    visit.backend.clock.advance(Duration::from_secs(3601));
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("link.token_expired.title"))
        .await?;
    visit
        .browser
        .wait_for_text(&visit.t("link.token_expired.body"))
        .await?;
    visit.look("expired").await?;
    visit.close().await
}

#[tokio::test]
async fn a_japanese_member_gets_the_page_in_japanese_with_english_one_link_away() -> Result<()> {
    let english = Texts::for_reset_page("en")?;
    for size in Size::ALL {
        let visit = Visit::start(size, "ja,en-US;q=0.8", "ja").await?;
        let link = visit.mailed_link().await?;
        visit.browser.go(&link).await?;
        visit
            .browser
            .wait_for_screen(&visit.t("reset.title"))
            .await?;
        visit
            .browser
            .wait_for_text(&visit.t("reset.for").replace("{hint}", "t***@example.com"))
            .await?;
        visit.look("form").await?;

        // English is one link away, and Japanese one link back.
        visit.browser.click("English").await?;
        visit
            .browser
            .wait_for_screen(&english.get("reset.title"))
            .await?;
        visit.browser.click("日本語").await?;
        visit
            .browser
            .wait_for_screen(&visit.t("reset.title"))
            .await?;

        visit.set_password(NEW_PASSWORD, "Fresh-pass-43").await?;
        visit
            .browser
            .alert_with(&visit.t("error.password_mismatch"))
            .await?;
        visit.look("mismatch").await?;
        visit.set_password(NEW_PASSWORD, NEW_PASSWORD).await?;
        visit
            .browser
            .wait_for_screen(&visit.t("page.done.title"))
            .await?;
        visit
            .browser
            .wait_for_text(&visit.t("page.done.body"))
            .await?;
        visit.look("done").await?;
        ensure!(
            visit
                .backend
                .password_works(DEMO_EMAIL, NEW_PASSWORD)
                .await?,
            "the new password does not log in"
        );
        visit.close().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_and_changes_nothing() -> Result<()> {
    let visit = Visit::start(Size::Phone, "en-US,en", "en").await?;
    let link = visit.mailed_link().await?;
    let token = token_of(&link);
    // The member has the page open (so the browser holds its cookie), and the other page even
    // knows the page's secret.
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("reset.title"))
        .await?;
    let secret = visit
        .browser
        .js(
            "return document.querySelector('input[name=form_secret]').value",
            json!([]),
        )
        .await?;
    let action = format!(
        "{}/reset_password",
        visit.backend.api_url().trim_end_matches('/')
    );
    let attack = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>Prize</title></head><body><main>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <input type=\"hidden\" name=\"form_secret\" value=\"{}\">\
         <input type=\"hidden\" name=\"new_password\" value=\"Attacker-pass-1\">\
         <input type=\"hidden\" name=\"new_password_confirmation\" value=\"Attacker-pass-1\">\
         <button type=\"submit\">Claim your prize</button></form></main></body></html>",
        secret.as_str().unwrap_or_default()
    );
    // Another site (another loopback address), and another origin of the same site (another
    // port of the server's address).
    for ip in [Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::LOCALHOST] {
        let site = ForeignSite::serve(IpAddr::V4(ip), attack.clone()).await?;
        visit.browser.go(&site.url()).await?;
        visit.browser.click("Claim your prize").await?;
        visit
            .browser
            .wait_for_screen(&visit.t("page.refused.title"))
            .await?;
        if ip != Ipv4Addr::LOCALHOST {
            visit.look("refused").await?;
        }
    }
    ensure!(
        !visit
            .backend
            .password_works(DEMO_EMAIL, "Attacker-pass-1")
            .await?,
        "the other site set the password"
    );
    ensure!(
        visit
            .backend
            .password_works(DEMO_EMAIL, DEMO_PASSWORD)
            .await?,
        "the member's password changed"
    );
    // The link was not used up: the member's own page still sets the password.
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("reset.title"))
        .await?;
    visit.set_password(NEW_PASSWORD, NEW_PASSWORD).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("page.done.title"))
        .await?;
    ensure!(
        visit
            .backend
            .password_works(DEMO_EMAIL, NEW_PASSWORD)
            .await?,
        "the new password does not log in"
    );
    visit.close().await
}

#[tokio::test]
async fn a_link_the_app_asked_for_offers_only_the_app() -> Result<()> {
    let visit = Visit::start(Size::Phone, "en-US,en", "en").await?;
    visit.backend.forgot_in_the_app(DEMO_EMAIL).await?;
    let link = visit.backend.reset_link(DEMO_EMAIL, 1).await?;
    visit.browser.go(&link).await?;
    visit
        .browser
        .wait_for_screen(&visit.t("reset.title"))
        .await?;
    let href = visit.browser.href_of(&visit.t("page.bound.open")).await?;
    ensure!(
        href == format!("unipos://reset_password?token={}", token_of(&link)),
        "{href}"
    );
    let fields = visit
        .browser
        .js(
            "return document.querySelectorAll('input, form').length",
            json!([]),
        )
        .await?;
    ensure!(fields == 0, "the page has a form: {fields} fields");
    visit.look("bound").await?;
    visit.close().await
}
