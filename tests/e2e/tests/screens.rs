//! Every screen of the app at both sizes, as a member reaches them: axe-core, run in the web
//! view, finds no serious or critical accessibility violation on any of them.
//!
//! The same tour makes `docs/screenshots/` (`scripts/screenshots.sh`): with
//! `UNIPOS_SCREENSHOTS=DIR` each screen is also saved as `DIR/<screen>-<size>.png`, and with
//! `UNIPOS_SCREENSHOTS_LANGUAGE=ja` the tour runs in Japanese (`<screen>-ja-<size>.png`).
//! Screens are reached by what a member sees (texts, labels) in the language of the run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{ensure, Result};
use unipos_e2e::*;
use unipos_protocol::PasswordPolicy;

const NEW_PASSWORD: &str = "Fresh-pass-42";
/// A token of the right shape that the server never issued.
const UNKNOWN_TOKEN: &str = "Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_";

/// One size, one language: where the tour is, what axe found, and where pictures go.
struct Tour {
    backend: Backend,
    size: Size,
    texts: Texts,
    pictures: Option<PathBuf>,
    /// Screen → axe's summary, in the order they were visited.
    checked: Vec<(String, AxeReport)>,
}

impl Tour {
    fn picture_name(&self, screen: &str) -> String {
        match self.texts.language() {
            "en" => format!("{screen}-{}", self.size.name()),
            lang => format!("{screen}-{lang}-{}", self.size.name()),
        }
    }

    /// The screen as it is now: checked with axe, and photographed when asked to.
    async fn screen(&mut self, app: &App, screen: &str) -> Result<()> {
        let picture = self.picture_name(screen);
        self.screen_as(app, screen, &picture).await
    }

    /// [`Tour::screen`], photographed as `<picture>.png`.
    async fn screen_as(&mut self, app: &App, screen: &str, picture: &str) -> Result<()> {
        let report = app.axe().await?;
        println!(
            "{:<28} {:<7} {}",
            screen,
            self.size.name(),
            report.summary()
        );
        for v in report.serious_or_critical() {
            println!("    {v}");
        }
        if let Some(dir) = &self.pictures {
            app.screenshot(&dir.join(format!("{picture}.png"))).await?;
        }
        self.checked.push((screen.to_owned(), report));
        Ok(())
    }

    async fn launch(&self, args: &[String]) -> Result<App> {
        // The OS language of a member of this language, whatever the machine's is.
        let locale = self.texts.locale();
        let mut env = self.backend.app_env();
        env.retain(|(k, _)| k != "LANG");
        for name in ["LANG", "LC_ALL", "LC_MESSAGES"] {
            env.push((name.into(), locale.into()));
        }
        App::launch(env, self.size, args).await
    }

    fn t(&self, key: &str) -> String {
        self.texts.get(key)
    }

    /// Opens the menu of the presentation and picks `item`.
    async fn menu(&mut self, app: &App, item: &str, shot: bool) -> Result<()> {
        match self.size {
            Size::Phone => app.click(&self.t("nav.menu")).await?,
            Size::Desktop => {
                let name = self
                    .t("nav.account_menu")
                    .replace("{name}", DEMO_DISPLAY_NAME);
                app.click(&name).await?
            }
        }
        app.control(&self.t(item)).await?;
        if shot {
            self.screen(app, "menu").await?;
        }
        app.click(&self.t(item)).await
    }

    /// On phones, back from a settings section to the list of sections.
    async fn back_to_sections(&self, app: &App) -> Result<()> {
        if self.size == Size::Phone {
            app.click(&format!("‹ {}", self.t("common.back"))).await?;
        }
        Ok(())
    }

    async fn run(&mut self) -> Result<()> {
        let texts = self.texts.clone();
        let t = |key: &str| texts.get(key);
        let email = DEMO_EMAIL;

        // Logged out: Log in, Forgot, Check your email, Reset, then the logged-in screens.
        let app = self.launch(&[]).await?;
        app.wait_for_screen(&t("login.title")).await?;
        self.screen(&app, "login").await?;
        app.click(&t("login.tab_login_id")).await?;
        app.fill(&t("login.team"), DEMO_TEAM).await?;
        app.fill(&t("login.login_id"), DEMO_LOGIN_ID).await?;
        self.screen(&app, "login-id").await?;
        app.click(&t("login.tab_email")).await?;

        // Support without logging in: the quiet link under Log in, and Back.
        app.click(&t("support.link")).await?;
        app.wait_for_screen(&t("support.title")).await?;
        app.wait_until(
            "the support report",
            "const box = document.getElementById('support-report');
             return box && box.value.startsWith('{')",
        )
        .await?;
        self.screen(&app, "support-from-login").await?;
        app.click(&format!("‹ {}", t("common.back"))).await?;
        app.wait_for_screen(&t("login.title")).await?;

        app.click(&t("login.reset_password")).await?;
        app.wait_for_screen(&t("forgot.title")).await?;
        self.screen(&app, "forgot").await?;
        // The ideographic space a Japanese IME types after the address.
        app.fill(&t("forgot.email"), &format!("{email}\u{3000}"))
            .await?;
        app.click(&t("forgot.send")).await?;
        app.control(&t("forgot.fix_space")).await?;
        self.screen(&app, "forgot-error").await?;
        app.click(&t("forgot.fix_space")).await?;
        app.click(&t("forgot.send")).await?;
        app.wait_for_screen(&t("check.title")).await?;
        self.screen(&app, "check-email").await?;

        app.click(&t("check.cant_receive")).await?;
        app.wait_for_screen(&t("cant.title")).await?;
        self.screen(&app, "cant-receive").await?;
        app.click(&t("common.back")).await?;

        let link = self.backend.reset_link(email, 1).await?;
        app.fill(&t("check.paste_label"), &link).await?;
        app.click(&t("check.paste_open")).await?;
        app.wait_for_screen(&t("reset.title")).await?;
        app.fill(&t("reset.new"), "fresh-pass").await?;
        app.wait_until(
            "the checklist's length rule to be met",
            "return document.querySelector('li.met[data-rule=min_length]') !== null",
        )
        .await?;
        self.screen(&app, "reset").await?;
        app.fill(&t("reset.new"), NEW_PASSWORD).await?;
        app.fill(&t("reset.confirm"), NEW_PASSWORD).await?;
        app.click(&t("reset.submit")).await?;
        let hello = t("timeline.hello").replace("{name}", DEMO_DISPLAY_NAME);
        app.wait_for_text(&hello).await?;
        app.wait_until(
            "the posts",
            "return document.querySelector('li.post') !== null",
        )
        .await?;
        self.screen(&app, "timeline").await?;

        self.menu(&app, "nav.settings", true).await?;
        app.wait_for_screen(&t("settings.title")).await?;
        if self.size == Size::Phone {
            self.screen(&app, "settings").await?;
            app.click(&t("settings.account")).await?;
            app.control(&t("account.change")).await?;
            self.screen(&app, "settings-account").await?;
            app.click(&t("account.change")).await?;
        } else {
            app.field(&t("account.current")).await?;
            self.screen(&app, "settings-account").await?;
        }
        app.fill(&t("account.current"), "not-my-password-1").await?;
        app.fill(&t("account.new"), "Brand-new-pass-7").await?;
        app.fill(&t("account.confirm"), "Brand-new-pass-7").await?;
        app.click(&t("account.save")).await?;
        app.alert_with(&t("error.current_password_incorrect"))
            .await?;
        self.screen(&app, "settings-account-change").await?;

        self.back_to_sections(&app).await?;
        app.click(&t("settings.support")).await?;
        app.wait_for_screen(&t("support.title")).await?;
        self.screen(&app, "settings-support").await?;
        self.back_to_sections(&app).await?;
        app.click(&t("settings.language")).await?;
        app.wait_for_screen(&t("language.title")).await?;
        if self.texts.language() == "en" {
            // The Japanese catalogue, chosen here, then back to the device's language.
            let ja = Texts::load("ja")?;
            app.pick(&t("language.ja")).await?;
            app.wait_for_screen(&ja.get("settings.title")).await?;
            self.screen(&app, "settings-language-ja").await?;
            app.pick(&ja.get("language.system")).await?;
            app.wait_for_screen(&t("settings.title")).await?;
        } else {
            // Not `settings-language`: its picture would take the English tour's name.
            self.screen(&app, "settings-language-device").await?;
        }
        app.close().await?;

        // The forgot-password link while logged in: the Timeline, pointing to Settings > Account.
        let app = self.launch(&["unipos://forgot_password".into()]).await?;
        app.wait_for_text(&t("timeline.forgot_note")).await?;
        app.wait_until(
            "the posts",
            "return document.querySelector('li.post') !== null",
        )
        .await?;
        self.screen(&app, "timeline-forgot-note").await?;
        self.menu(&app, "nav.logout", false).await?;
        app.wait_for_text(&t("session.logged_out")).await?;
        self.screen(&app, "logged-out").await?;
        app.close().await?;

        // Links the app is opened with: used, unknown, a look-alike host, expired.
        let api = self.backend.api_url().trim_end_matches('/').to_owned();
        let problems = [
            ("link-used", link.clone(), "link.token_used.title"),
            (
                "link-invalid",
                format!("{api}/reset_password?token={UNKNOWN_TOKEN}"),
                "link.token_invalid.title",
            ),
            (
                "link-refused",
                format!("http://unipos.me@evil.example/reset_password?token={UNKNOWN_TOKEN}"),
                "link.refused.title",
            ),
        ];
        for (screen, url, title) in problems {
            let app = self.launch(&[url]).await?;
            app.wait_for_screen(&t(title)).await?;
            self.screen(&app, screen).await?;
            app.close().await?;
        }
        // A new reset mail after the ones so far, once "Send again" is allowed.
        let mailed = self.backend.reset_links(email).len();
        self.backend.clock.advance(Duration::from_secs(3600));
        self.backend.forgot(email).await?;
        let expired = self.backend.reset_link(email, mailed + 1).await?;
        self.backend.clock.advance(Duration::from_secs(2 * 3600));
        let app = self.launch(&[expired]).await?;
        app.wait_for_screen(&t("link.token_expired.title")).await?;
        self.screen(&app, "link-expired").await?;
        app.close().await?;

        // A Login ID member: the admin's Account Information sheet, and Reset from its QR code
        // (the phone's camera app hands the link over), naming the team and the Login ID.
        let sheet = self
            .backend
            .account_sheet(DEMO_LOGIN_ID, self.texts.language())
            .await?;
        let page = pdf_tools::render_page_png(&sheet, 150);
        let qr = pdf_tools::decode_qr_in_quarter(&page, pdf_tools::Quarter::LowerRight)
            .ok_or_else(|| anyhow::anyhow!("no QR code in the sheet's lower right quarter"))?;
        if let Some(dir) = &self.pictures {
            // The sheet is the same at every size: one picture per language.
            let name = match self.texts.language() {
                "en" => "account-sheet.png".to_owned(),
                lang => format!("account-sheet-{lang}.png"),
            };
            let small = pdf_tools::render_page_png(&sheet, 72);
            std::fs::copy(small.path(), dir.join(name))?;
        }
        let app = self.launch(&[qr]).await?;
        // Asked for by no app on this device: whose account it is, first.
        app.wait_for_screen(&t("reset.check_title")).await?;
        self.screen(&app, "reset-account-check").await?;
        app.click(&t("reset.check_continue")).await?;
        app.wait_for_screen(&t("reset.title")).await?;
        let line = t("reset.for_login_id")
            .replace("{login_id}", "j***")
            .replace("{team_name}", "Unipos Demo")
            .replace("{team}", DEMO_TEAM);
        app.wait_for_text(&line).await?;
        self.screen(&app, "reset-login-id").await?;
        app.close().await
    }
}

impl Tour {
    /// Settings > Account of a member whose organisation has rules of its own: the checklist
    /// under the new password, ticked as they type, and the same rules for password managers.
    /// Photographed as `account-checklist-<language>-<size>.png`.
    async fn account_checklist(&mut self) -> Result<()> {
        let texts = self.texts.clone();
        let t = |key: &str| texts.get(key);
        let policy = PasswordPolicy {
            min_length: 10,
            max_length: 64,
            require_upper: true,
            ..PasswordPolicy::default()
        };
        self.backend.server().store().set_team(serde_json::json!({
            "slug": DEMO_TEAM, "name": "Unipos Demo", "policy": policy
        }))?;

        let app = self.launch(&[]).await?;
        app.wait_for_screen(&t("login.title")).await?;
        app.fill(&t("login.email"), DEMO_EMAIL).await?;
        app.fill(&t("login.password"), DEMO_PASSWORD).await?;
        app.click(&t("login.submit")).await?;
        let hello = t("timeline.hello").replace("{name}", DEMO_DISPLAY_NAME);
        app.wait_for_text(&hello).await?;
        self.menu(&app, "nav.settings", false).await?;
        app.wait_for_screen(&t("settings.title")).await?;
        if self.size == Size::Phone {
            app.click(&t("settings.account")).await?;
            app.click(&t("account.change")).await?;
        }
        app.wait_until(
            "the organisation's rules",
            "return document.querySelector('#account-rules li[data-rule=require_upper]') !== null",
        )
        .await?;
        let min_line = t("rule.min_length").replace("{n}", "10");
        app.wait_for_text(&min_line).await?;
        // Long enough, lower case and a digit, no upper-case letter yet.
        app.fill(&t("account.new"), "fresh-pass-42").await?;
        app.wait_until(
            "the length rule to be met",
            "return document.querySelector('#account-rules li.met[data-rule=min_length]') !== null",
        )
        .await?;
        let state = app
            .js(
                "const rules = document.getElementById('account-rules');
                 const confirm = document.querySelector('label[for=account-confirm]');
                 const field = document.getElementById('account-new').closest('.field');
                 return {
                   unmet: [...rules.querySelectorAll('li:not(.met)')].map(li => li.dataset.rule),
                   new_rules: document.getElementById('account-new').getAttribute('passwordrules'),
                   confirm_rules: document.getElementById('account-confirm').getAttribute('passwordrules'),
                   below_field: rules.getBoundingClientRect().top >= field.getBoundingClientRect().bottom - 1,
                   above_confirm: rules.getBoundingClientRect().bottom <= confirm.getBoundingClientRect().top + 1,
                   fits: document.documentElement.scrollWidth <= window.innerWidth,
                 };",
                serde_json::json!([]),
            )
            .await?;
        ensure!(
            state["unmet"] == serde_json::json!(["require_upper"]),
            "{state}"
        );
        let rules = policy.passwordrules();
        ensure!(state["new_rules"] == rules.as_str(), "{state}");
        ensure!(state["confirm_rules"] == rules.as_str(), "{state}");
        ensure!(
            state["below_field"] == true && state["above_confirm"] == true,
            "the checklist overlaps a field: {state}"
        );
        ensure!(
            state["fits"] == true,
            "the screen scrolls sideways: {state}"
        );
        let picture = format!(
            "account-checklist-{}-{}",
            self.texts.language(),
            self.size.name()
        );
        self.screen_as(&app, "account-checklist", &picture).await?;
        app.close().await
    }
}

/// Settings > Account shows the organisation's own rules as a live checklist under the new
/// password: on a phone in Japanese, on a desktop in English (with `UNIPOS_SCREENSHOTS`, the
/// pictures `account-checklist-ja-phone.png` and `account-checklist-en-desktop.png`).
#[tokio::test]
async fn settings_account_shows_the_organisations_rules_as_a_live_checklist() -> Result<()> {
    for (size, language) in [(Size::Phone, "ja"), (Size::Desktop, "en")] {
        let mut tour = Tour {
            backend: Backend::start().await?,
            size,
            texts: Texts::load(language)?,
            pictures: std::env::var_os("UNIPOS_SCREENSHOTS").map(PathBuf::from),
            checked: Vec::new(),
        };
        tour.account_checklist().await?;
        for (screen, report) in &tour.checked {
            let serious: Vec<String> = report
                .serious_or_critical()
                .map(|v| v.to_string())
                .collect();
            ensure!(
                serious.is_empty(),
                "{screen} ({language}, {}): {}",
                size.name(),
                serious.join("\n")
            );
        }
    }
    Ok(())
}

async fn tour(size: Size, texts: Texts) -> Result<Vec<(String, AxeReport)>> {
    let mut tour = Tour {
        backend: Backend::start().await?,
        size,
        texts,
        pictures: std::env::var_os("UNIPOS_SCREENSHOTS").map(PathBuf::from),
        checked: Vec::new(),
    };
    tour.run().await?;
    Ok(tour.checked)
}

#[tokio::test]
async fn every_screen_at_both_sizes_has_no_serious_or_critical_accessibility_violation(
) -> Result<()> {
    let language = std::env::var("UNIPOS_SCREENSHOTS_LANGUAGE").unwrap_or_else(|_| "en".into());
    // `UNIPOS_TOUR_SIZE=phone` (or `desktop`): one size, for pictures of one size only.
    let only = std::env::var("UNIPOS_TOUR_SIZE")
        .ok()
        .filter(|s| !s.is_empty());
    let sizes: Vec<Size> = Size::ALL
        .into_iter()
        .filter(|s| only.as_deref().is_none_or(|o| o == s.name()))
        .collect();
    ensure!(
        !sizes.is_empty(),
        "UNIPOS_TOUR_SIZE is neither phone nor desktop"
    );
    let mut failures = Vec::new();
    let mut screens = 0;
    for &size in &sizes {
        for (screen, report) in tour(size, Texts::load(&language)?).await? {
            screens += 1;
            for v in report.serious_or_critical() {
                failures.push(format!("{screen} ({}): {v}", size.name()));
            }
        }
    }
    ensure!(
        screens >= 15 * sizes.len(),
        "only {screens} screens were checked"
    );
    ensure!(
        failures.is_empty(),
        "serious or critical violations:\n{}",
        failures.join("\n")
    );
    Ok(())
}
