//! The flows of the app, end to end: the built app, driven as a member would drive it (by the
//! texts and labels on screen), against the real server, at phone (390×844) and desktop
//! (1280×800) sizes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use unipos_client::support::{LOG_RESET_LINK_RECEIVED, LOG_RESET_LINK_VALID};
use unipos_e2e::*;

const NEW_PASSWORD: &str = "Fresh-pass-42";
/// The Timeline greets the signed-in member by name.
const TIMELINE: &str = "Hello, Taro Yamada";
const NEWER_PASSWORD: &str = "Newer-pass-43";

/// Log in → "Reset Password" → types `email` → "Send".
async fn ask_for_reset_mail(app: &App, email: &str) -> Result<()> {
    app.wait_for_screen("Log in").await?;
    app.click("Reset Password").await?;
    app.wait_for_screen("Reset your password").await?;
    app.fill("Email address", email).await?;
    app.click("Send").await?;
    app.wait_for_screen("Check your email").await
}

/// The Reset screen, filled and sent with `password` twice.
async fn set_password_and_login(app: &App, password: &str) -> Result<()> {
    app.wait_for_screen("Set a new password").await?;
    set_password_and_login_as(app, password, TIMELINE).await
}

async fn log_in(app: &App, email: &str, password: &str) -> Result<()> {
    app.wait_for_screen("Log in").await?;
    app.fill("Email address", email).await?;
    app.fill("Password", password).await?;
    app.click("Log in").await?;
    app.wait_for_text(TIMELINE).await
}

/// Opens the menu of the presentation: top left on phones, the member's icon top right on
/// desktops, and checks it sits where the help centre says it does.
async fn open_menu(app: &App) -> Result<()> {
    let (name, left_half) = match app.size {
        Size::Phone => ("Menu", true),
        Size::Desktop => ("Menu of Taro Yamada", false),
    };
    let x = app.center_x(name).await?;
    let (width, _) = app.size.dimensions();
    ensure!(
        (x < f64::from(width) / 2.0) == left_half,
        "{name:?} is at x={x} of {width}"
    );
    app.click(name).await
}

async fn open_account_settings(app: &App) -> Result<()> {
    open_menu(app).await?;
    app.click("Settings").await?;
    app.wait_for_screen("Settings").await?;
    app.click("Account").await?;
    app.wait_for_screen("Account").await
}

#[tokio::test]
async fn the_app_opens_on_log_in_with_reset_password_at_the_bottom() -> Result<()> {
    let backend = Backend::start().await?;
    for size in Size::ALL {
        let app = backend.open_app(size).await?;
        app.wait_for_screen("Log in").await?;
        let below = app.controls_not_above("Reset Password").await?;
        ensure!(
            below.is_empty(),
            "at {size:?} size, Reset Password is not the lowest control of Log in: {below:?}"
        );
        app.close().await?;
    }
    Ok(())
}

/// Whether Rust served the page with Log in already in it (first_page.rs): the start-up facts
/// came with it, and the UI never asked `startup`.
async fn page_came_with_log_in(app: &App) -> Result<bool> {
    Ok(app
        .js(
            "return document.getElementById('startup-facts') !== null",
            serde_json::json!([]),
        )
        .await?
        == serde_json::json!(true))
}

/// Log in is in the page as it loads, in the device's language, and works once the UI has
/// taken it over; a member with a stored session gets the page as built and their Timeline.
#[tokio::test]
async fn log_in_comes_in_the_page_in_the_members_language_and_works_once_taken_over() -> Result<()>
{
    let backend = Backend::start().await?;
    for language in ["en", "ja"] {
        let texts = Texts::load(language)?;
        let mut env = backend.app_env();
        env.retain(|(k, _)| k != "LANG");
        env.push(("LANG".into(), texts.locale().into()));
        let app = App::launch(env, Size::Desktop, &[]).await?;
        app.wait_for_screen(&texts.get("login.title")).await?;
        ensure!(
            page_came_with_log_in(&app).await?,
            "{language}: the page came without Log in in it"
        );
        let lang = app
            .js(
                "return document.documentElement.lang",
                serde_json::json!([]),
            )
            .await?;
        ensure!(lang == language, "{language}: the page says lang={lang}");
        // Taken over: its buttons work.
        app.click(&texts.get("login.reset_password")).await?;
        app.wait_for_screen(&texts.get("forgot.title")).await?;
        app.close().await?;
    }
    let app = backend.open_app(Size::Desktop).await?;
    log_in(&app, DEMO_EMAIL, DEMO_PASSWORD).await?;
    app.close().await?;
    let again = backend.open_app(Size::Desktop).await?;
    again.wait_for_text(TIMELINE).await?;
    ensure!(
        !page_came_with_log_in(&again).await?,
        "a member with a stored session got the prerendered Log in"
    );
    again.close().await?;
    Ok(())
}

/// 1. A trailing space, and a trailing ideographic space, are refused with the message and the
///    one-tap fix; then Send goes through.
#[tokio::test]
async fn a_trailing_space_is_refused_with_a_one_tap_fix_then_send_works() -> Result<()> {
    for size in Size::ALL {
        for typed in [format!("{DEMO_EMAIL} "), format!("{DEMO_EMAIL}\u{3000}")] {
            let backend = Backend::start().await?;
            let app = backend.open_app(size).await?;
            app.wait_for_screen("Log in").await?;
            app.click("Reset Password").await?;
            app.fill("Email address", &typed).await?;
            app.click("Send").await?;
            let alert = app
                .alert_with(&Texts::load("en")?.get("error.email_trailing_whitespace"))
                .await?;
            ensure!(alert.contains("email_trailing_whitespace"), "{alert}");
            ensure!(
                app.value_of("Email address").await? == typed,
                "the typed text was kept"
            );
            app.click("Remove the space").await?;
            ensure!(app.value_of("Email address").await? == DEMO_EMAIL);
            app.click("Send").await?;
            app.wait_for_screen("Check your email").await?;
            backend.mails_to(DEMO_EMAIL, 1).await?;
            app.close().await?;
        }
    }
    Ok(())
}

/// 2. The mail's link, given to a second launch, brings the running app to the Reset screen;
///    and a cold launch with the link lands there too.
#[tokio::test]
async fn the_reset_link_opens_the_reset_screen_warm_and_cold() -> Result<()> {
    for size in Size::ALL {
        let backend = Backend::start().await?;
        let app = backend.open_app(size).await?;
        ask_for_reset_mail(&app, DEMO_EMAIL).await?;
        let link = backend.reset_link(DEMO_EMAIL, 1).await?;
        let app_link = link.replacen(&format!("{}/", backend.api_url()), "unipos://", 1);

        backend.launch_again_with(&app_link)?;
        app.wait_for_screen("Set a new password").await?;
        app.wait_for_text("t***@example.com").await?;
        // The lines support (and scripts/package-test.sh) read: the link came, and it works.
        let token = link.split_once("token=").context("the link's token")?.1;
        let hint = &token[..6];
        let log = backend.app_log()?;
        for line in [LOG_RESET_LINK_RECEIVED, LOG_RESET_LINK_VALID] {
            ensure!(
                log.contains(&format!("{line} ({hint}")),
                "no {line:?} in {log}"
            );
        }
        app.screenshot(&screenshot_path(&format!(
            "reset-warm-link-{}",
            size.name()
        )))
        .await?;
        app.close().await?;

        let cold = backend.open_app_with_link(size, &app_link).await?;
        cold.wait_for_screen("Set a new password").await?;
        cold.wait_for_text("t***@example.com").await?;
        cold.close().await?;
    }
    Ok(())
}

/// 3. Mismatched passwords are refused; "Set password and login" → Timeline; the old password
///    no longer logs in; the session is in the keychain.
#[tokio::test]
async fn set_password_and_login_lands_on_the_timeline_with_the_session_in_the_keychain(
) -> Result<()> {
    for size in Size::ALL {
        let backend = Backend::start().await?;
        let app = backend.open_app(size).await?;
        ask_for_reset_mail(&app, DEMO_EMAIL).await?;
        let link = backend.reset_link(DEMO_EMAIL, 1).await?;
        app.fill("Link from the email", &link).await?;
        app.click("Open the link").await?;
        app.wait_for_screen("Set a new password").await?;

        app.fill("New password", NEW_PASSWORD).await?;
        app.fill("New password (again)", "Something-else-1").await?;
        app.click("Set password and login").await?;
        let alert = app.alert_with("password_mismatch").await?;
        ensure!(!alert.is_empty());
        ensure!(!backend.session_in_keychain()?);

        set_password_and_login(&app, NEW_PASSWORD).await?;
        app.wait_for_text("Taro Yamada").await?;
        ensure!(
            backend.session_in_keychain()?,
            "the session is in the keychain"
        );
        ensure!(!backend.password_works(DEMO_EMAIL, DEMO_PASSWORD).await?);
        ensure!(backend.password_works(DEMO_EMAIL, NEW_PASSWORD).await?);
        app.close().await?;

        // The next start restores the session from the keychain.
        let again = backend.open_app(size).await?;
        again.wait_for_text(TIMELINE).await?;
        again.close().await?;
    }
    Ok(())
}

/// 4. An expired link and a used link show their own screens; "Send a new email" works.
#[tokio::test]
async fn expired_and_used_links_say_so_and_send_a_new_email() -> Result<()> {
    for size in Size::ALL {
        let backend = Backend::start().await?;
        let app = backend.open_app(size).await?;
        ask_for_reset_mail(&app, DEMO_EMAIL).await?;
        let expired = backend.reset_link(DEMO_EMAIL, 1).await?;
        backend.clock.advance(Duration::from_secs(2 * 3600));
        app.fill("Link from the email", &expired).await?;
        app.click("Open the link").await?;
        app.wait_for_screen("This link has expired").await?;
        app.wait_for_text("token_expired").await?;

        app.click("Send a new email").await?;
        app.wait_for_screen("Reset your password").await?;
        app.fill("Email address", DEMO_EMAIL).await?;
        app.click("Send").await?;
        app.wait_for_screen("Check your email").await?;
        let fresh = backend.reset_link(DEMO_EMAIL, 2).await?;
        ensure!(fresh != expired, "a new link was sent");
        app.fill("Link from the email", &fresh).await?;
        app.click("Open the link").await?;
        set_password_and_login(&app, NEW_PASSWORD).await?;
        app.close().await?;

        let again = backend.open_app_with_link(size, &fresh).await?;
        again.wait_for_screen("This link was already used").await?;
        again.wait_for_text("token_used").await?;
        again.control("Send a new email").await?;
        again.close().await?;
    }
    Ok(())
}

/// 5. Change the password through the presentation's own path, after a wrong current password.
#[tokio::test]
async fn change_password_through_each_presentations_own_path() -> Result<()> {
    for size in Size::ALL {
        let backend = Backend::start().await?;
        let app = backend.open_app(size).await?;
        log_in(&app, DEMO_EMAIL, DEMO_PASSWORD).await?;
        open_account_settings(&app).await?;
        if size == Size::Phone {
            // The fields stay hidden until "Change".
            app.click("Change").await?;
        }
        app.fill("Current password", "not-the-password-1").await?;
        app.fill("New password", NEWER_PASSWORD).await?;
        app.fill("New password (again)", NEWER_PASSWORD).await?;
        app.click("Save").await?;
        app.alert_with("current_password_incorrect").await?;
        ensure!(
            app.value_of("New password").await? == NEWER_PASSWORD,
            "typed text kept"
        );

        app.fill("Current password", DEMO_PASSWORD).await?;
        app.click("Save").await?;
        app.wait_for_text("Your password was changed.").await?;
        ensure!(backend.password_works(DEMO_EMAIL, NEWER_PASSWORD).await?);
        ensure!(!backend.password_works(DEMO_EMAIL, DEMO_PASSWORD).await?);
        app.close().await?;
    }
    Ok(())
}

/// 6. `unipos://forgot_password` while logged in goes to the Timeline with a note pointing to
///    Settings > Account.
#[tokio::test]
async fn the_forgot_link_while_logged_in_goes_to_the_timeline_with_a_note() -> Result<()> {
    for size in Size::ALL {
        let backend = Backend::start().await?;
        let app = backend.open_app(size).await?;
        log_in(&app, DEMO_EMAIL, DEMO_PASSWORD).await?;
        backend.launch_again_with("unipos://forgot_password")?;
        app.wait_for_text("To change your password, go to Settings > Account.")
            .await?;
        app.wait_for_text(TIMELINE).await?;
        app.close().await?;
    }
    Ok(())
}

/// A reset link while logged in asks before the session is replaced, and logs out first.
#[tokio::test]
async fn a_reset_link_while_logged_in_asks_before_replacing_the_session() -> Result<()> {
    for size in Size::ALL {
        let backend = Backend::start().await?;
        let app = backend.open_app(size).await?;
        log_in(&app, DEMO_EMAIL, DEMO_PASSWORD).await?;
        backend.forgot(DEMO_EMAIL).await?;
        let link = backend.reset_link(DEMO_EMAIL, 1).await?;

        backend.launch_again_with(&link)?;
        // Asked for elsewhere (another device of the member's): whose account it is, first.
        confirm_the_account(&app, "This link is for t***@example.com.").await?;
        app.wait_for_screen("Open the reset link?").await?;
        app.wait_for_text("You are logged in as Taro Yamada.")
            .await?;
        app.click("Stay logged in").await?;
        app.wait_for_text(TIMELINE).await?;
        ensure!(backend.session_in_keychain()?, "staying keeps the session");

        backend.launch_again_with(&link)?;
        confirm_the_account(&app, "This link is for t***@example.com.").await?;
        app.click("Log out and open the link").await?;
        app.wait_for_screen("Set a new password").await?;
        ensure!(!backend.session_in_keychain()?, "the old session is gone");
        set_password_and_login(&app, NEW_PASSWORD).await?;
        ensure!(backend.session_in_keychain()?);
        app.close().await?;
    }
    Ok(())
}

/// 7. Log out clears the keychain entry and returns to Log in.
#[tokio::test]
async fn log_out_clears_the_keychain_and_returns_to_log_in() -> Result<()> {
    for size in Size::ALL {
        let backend = Backend::start().await?;
        let app = backend.open_app(size).await?;
        log_in(&app, DEMO_EMAIL, DEMO_PASSWORD).await?;
        ensure!(backend.session_in_keychain()?);
        open_menu(&app).await?;
        app.click("Log out").await?;
        app.wait_for_screen("Log in").await?;
        ensure!(
            !backend.session_in_keychain()?,
            "the keychain entry is gone"
        );
        app.close().await?;
    }
    Ok(())
}

/// The app's log file (tauri-plugin-log, in the app's log folder) after a whole forgot → reset →
/// log in → change → log out run holds no reset token, no session token, no password and no
/// whole email address (the email hint and the token hint are allowed). The log does not depend
/// on the presentation, so one size is enough.
#[tokio::test]
async fn the_apps_log_holds_no_token_password_or_email_address() -> Result<()> {
    const MISMATCH: &str = "Something-else-1";
    const WRONG_CURRENT: &str = "not-the-password-1";
    let backend = Backend::start().await?;
    let app = backend.open_app(Size::Desktop).await?;
    let mut sessions = Vec::new();
    let mut session_now = || -> Result<()> {
        let token = backend.session_token_in_keychain()?;
        sessions.push(token.ok_or_else(|| anyhow::anyhow!("no session in the keychain"))?);
        Ok(())
    };

    // Forgot password; the mail's link handed to the running app, as the OS does.
    ask_for_reset_mail(&app, DEMO_EMAIL).await?;
    let link = backend.reset_link(DEMO_EMAIL, 1).await?;
    backend.launch_again_with(&link)?;
    // Reset: a mismatch first, then "Set password and login".
    app.wait_for_screen("Set a new password").await?;
    app.fill("New password", NEW_PASSWORD).await?;
    app.fill("New password (again)", MISMATCH).await?;
    app.click("Set password and login").await?;
    app.alert_with("password_mismatch").await?;
    set_password_and_login(&app, NEW_PASSWORD).await?;
    session_now()?;

    // Log out, and log in again with the new password.
    open_menu(&app).await?;
    app.click("Log out").await?;
    log_in(&app, DEMO_EMAIL, NEW_PASSWORD).await?;
    session_now()?;

    // Change the password, after a wrong current one.
    open_account_settings(&app).await?;
    app.fill("Current password", WRONG_CURRENT).await?;
    app.fill("New password", NEWER_PASSWORD).await?;
    app.fill("New password (again)", NEWER_PASSWORD).await?;
    app.click("Save").await?;
    app.alert_with("current_password_incorrect").await?;
    app.fill("Current password", NEW_PASSWORD).await?;
    app.click("Save").await?;
    app.wait_for_text("Your password was changed.").await?;
    session_now()?;

    // Log out.
    open_menu(&app).await?;
    app.click("Log out").await?;
    app.wait_for_screen("Log in").await?;
    ensure!(
        !backend.session_in_keychain()?,
        "log out cleared the keychain"
    );
    app.close().await?;

    let log = backend.app_log()?;
    // It is this run's log: the lines the flow must have left are there, with hints only.
    let reset_token = link
        .split_once("token=")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default();
    for line in [
        format!(
            "reset link received ({})",
            unipos_protocol::redact_token(&reset_token)
        ),
        "command failed: password_mismatch".to_owned(),
        "command failed: current_password_incorrect".to_owned(),
    ] {
        ensure!(log.contains(&line), "the log lacks {line:?}:\n{log}");
    }
    let mut secrets = backend.mailed_tokens();
    ensure!(
        secrets.contains(&reset_token),
        "the outbox has the reset token"
    );
    secrets.extend(sessions);
    for secret in &secrets {
        ensure!(secret.len() >= 32, "not a token: {secret:?}");
        ensure!(
            !log.contains(secret.as_str()),
            "a token is in the app's log:\n{log}"
        );
    }
    for password in [
        DEMO_PASSWORD,
        NEW_PASSWORD,
        NEWER_PASSWORD,
        MISMATCH,
        WRONG_CURRENT,
    ] {
        ensure!(
            !log.contains(password),
            "the password {password:?} is in the app's log:\n{log}"
        );
    }
    ensure!(
        !log.to_lowercase().contains(&DEMO_EMAIL.to_lowercase()),
        "the whole email address is in the app's log:\n{log}"
    );
    Ok(())
}

/// 8. A link to another host shows the refusal screen, and nothing is opened.
#[tokio::test]
async fn a_link_to_another_host_is_refused_with_a_clear_screen() -> Result<()> {
    for size in Size::ALL {
        let backend = Backend::start().await?;
        let app = backend.open_app(size).await?;
        app.wait_for_screen("Log in").await?;
        let token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";
        let api = backend.api_url().to_owned();
        backend.launch_again_with(&format!("{api}@evil.example/reset_password?token={token}"))?;
        app.wait_for_screen("This link can't be opened").await?;
        // An address before the @: the user-info rule refuses it, whatever the host after it.
        app.wait_for_text("link_userinfo").await?;
        app.close().await?;
    }
    Ok(())
}

/// 9. With the server down, the error is shown, nothing typed is lost, and the retry works once
///    the server is back.
#[tokio::test]
async fn with_the_server_down_the_error_shows_the_typing_stays_and_retry_works() -> Result<()> {
    for size in Size::ALL {
        let (port, home) = Backend::down()?;
        let env = app_env(home.path(), &format!("http://{}", port.addr()));
        let app = App::launch(env, size, &[]).await?;
        app.wait_for_screen("Log in").await?;
        app.click("Reset Password").await?;
        app.fill("Email address", DEMO_EMAIL).await?;
        app.click("Send").await?;
        let alert = app.alert_with("connection_refused").await?;
        ensure!(!alert.is_empty());
        ensure!(app.value_of("Email address").await? == DEMO_EMAIL);

        let backend = Backend::start_server_at(port, home).await?;
        app.click("Send").await?;
        app.wait_for_screen("Check your email").await?;
        backend.mails_to(DEMO_EMAIL, 1).await?;
        app.close().await?;
    }
    Ok(())
}

/// 10. A member who cannot log in asks for help: a link the rules refuse, the server down on
///     Send and on Log in, then a dead link once it is back. Support, reached from the link's
///     screen without logging in, shows a report that tells all of it, and "Copy support report"
///     and "Copy details" put it on the clipboard. The report never holds a token, a password or
///     a whole email address.
#[tokio::test]
async fn the_support_report_tells_what_happened_and_holds_no_token_password_or_address(
) -> Result<()> {
    const PASSWORD: &str = "Typed-secret-pass-9";
    let refused_token = "Rr7-_".repeat(9);
    let dead_token = "Dd5-_".repeat(9);

    let (port, home) = Backend::down()?;
    let api = format!("http://{}", port.addr());
    let env = app_env(home.path(), &api);
    let refused = format!("http://unipos.me@evil.example/reset_password?token={refused_token}");
    let app = App::launch(env, Size::Desktop, &[refused]).await?;
    app.wait_for_screen("This link can't be opened").await?;

    app.click("Send a new email").await?;
    app.wait_for_screen("Reset your password").await?;
    app.fill("Email address", DEMO_EMAIL).await?;
    app.click("Send").await?;
    app.alert_with("connection_refused").await?;
    app.click("Copy details").await?;
    let details = app.clipboard_with("connection_refused").await?;
    let lines: Vec<&str> = details.lines().collect();
    ensure!(lines.len() == 3, "code, request id, time: {details:?}");
    ensure!(lines[0] == "Code: connection_refused", "{details}");
    let forgot_id = lines[1]
        .strip_prefix("Request ID: ")
        .with_context(|| format!("no request id: {details}"))?
        .to_owned();
    ensure!(lines[2].starts_with("Time: 20"), "{details}");

    app.click("Back to Log in").await?;
    app.wait_for_screen("Log in").await?;
    app.fill("Email address", DEMO_EMAIL).await?;
    app.fill("Password", PASSWORD).await?;
    app.click("Log in").await?;
    app.alert_with("connection_refused").await?;

    let backend = Backend::start_server_at(port, home).await?;
    backend.launch_again_with(&format!("{api}/reset_password?token={dead_token}"))?;
    app.wait_for_screen("This link is not valid").await?;
    app.click("Support").await?;
    app.wait_for_screen("Support").await?;
    app.wait_until(
        "the support report",
        "const box = document.getElementById('support-report');
         return box && box.value.startsWith('{')",
    )
    .await?;
    app.screenshot(&screenshot_path("support-report-after-errors"))
        .await?;
    let text = app.value_of("Support report").await?;
    let saved = repo_root().join("target/e2e-logs/support-report.json");
    std::fs::create_dir_all(saved.parent().unwrap())?;
    std::fs::write(&saved, &text)?;

    // Nothing secret, nothing whole: not the tokens, not the password, not the address.
    for secret in [&refused_token, &dead_token, PASSWORD, DEMO_EMAIL] {
        ensure!(
            !text.contains(secret),
            "the report holds {secret:?}:\n{text}"
        );
    }
    ensure!(!text.contains('@'), "an address in the report:\n{text}");
    ensure!(text.len() < 20 * 1024, "{} bytes", text.len());

    let report: serde_json::Value = serde_json::from_str(&text)?;
    ensure!(report["format"] == "unipos-support-report/1");
    ensure!(report["api"]["api_url"].as_str() == Some(api.as_str()));
    ensure!(report["app"]["window"] == "1280×800", "{}", report["app"]);
    ensure!(report["keychain"]["answers"] == true && report["keychain"]["holds_session"] == false);
    let links = report["link_events"].as_array().context("link_events")?;
    ensure!(links.len() == 2, "{links:?}");
    ensure!(links[0]["came"] == "cold_start" && links[0]["verdict"] == "link_userinfo");
    ensure!(
        links[0]["token_hint"].is_null(),
        "a refused link leaves no hint"
    );
    ensure!(links[1]["came"] == "warm" && links[1]["verdict"] == "opened_reset");
    ensure!(links[1]["checked"] == "token_invalid", "{}", links[1]);
    let hint = links[1]["token_hint"]
        .as_str()
        .context("the dead link's hint")?;
    ensure!(dead_token.starts_with(hint.trim_end_matches('…')) && hint.len() < 12);

    let calls = report["api_calls"].as_array().context("api_calls")?;
    let call = |route: &str, code: &str| {
        calls
            .iter()
            .find(|c| c["route"] == route && c["error_code"] == code)
            .cloned()
            .with_context(|| format!("no {route} call failing with {code}: {calls:?}"))
    };
    let forgot = call("/password/forgot", "connection_refused")?;
    ensure!(forgot["request_id"] == forgot_id.as_str() && forgot["status"].is_null());
    call("/sessions", "connection_refused")?;
    let check = call("/password/reset/check", "token_invalid")?;
    ensure!(check["status"] == 404 && check["method"] == "POST");
    ensure!(report["last_error"]["code"] == "token_invalid");
    ensure!(report["last_error"]["request_id"] == check["request_id"]);

    app.click("Copy support report").await?;
    let copied = app.clipboard_with("unipos-support-report/1").await?;
    ensure!(
        copied == text,
        "the clipboard holds another text:\n{copied}"
    );
    app.close().await?;

    // Support staff read it in one step: what the member saw, and the request ids to look up.
    let explained = std::process::Command::new(cli_binary()?)
        .args(["report", "explain"])
        .arg(&saved)
        .output()?;
    let out = String::from_utf8(explained.stdout)?;
    ensure!(explained.status.success(), "{out}");
    for shown in [
        "This link can't be opened",
        "The server refused the connection. Is it running?",
        "This link is not valid",
        &forgot_id,
        check["request_id"].as_str().unwrap_or("?"),
    ] {
        ensure!(out.contains(shown), "no {shown:?} in:\n{out}");
    }
    Ok(())
}

/// 11. "Log in with SSO" opens the organisation's page with the system's opener, in the
///     environment the app was started with: what the app set for its own web view (no
///     compositing, no JIT) would make a WebKit browser slow.
#[tokio::test]
async fn log_in_with_sso_opens_the_browser_without_the_web_views_own_settings() -> Result<()> {
    use std::os::unix::fs::PermissionsExt;

    let backend = Backend::start().await?;
    // A stand-in xdg-open first on PATH: it writes down what it was asked to open, and its
    // environment.
    let bin = tempfile::tempdir()?;
    let opened = bin.path().join("opened.txt");
    let opener = bin.path().join("xdg-open");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\n{{ echo \"$@\"; env; }} > '{}.part' && mv '{0}.part' '{0}'\n",
            opened.display()
        ),
    )?;
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755))?;
    let mut env = backend.app_env();
    let path = std::env::var("PATH").unwrap_or_default();
    env.push(("PATH".into(), format!("{}:{path}", bin.path().display())));

    let app = App::launch(env, Size::Desktop, &[]).await?;
    app.wait_for_screen("Log in").await?;
    app.click("Log in with SSO").await?;
    let deadline = std::time::Instant::now() + PATIENCE;
    while !opened.exists() {
        ensure!(
            std::time::Instant::now() < deadline,
            "the app opened no browser"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = std::fs::read_to_string(&opened)?;
    let sso = format!("{}/login/sso", backend.api_url().trim_end_matches('/'));
    ensure!(seen.lines().next() == Some(sso.as_str()), "{seen}");
    for name in ["JSC_useJIT=", "WEBKIT_DISABLE_COMPOSITING_MODE="] {
        ensure!(
            !seen.lines().any(|l| l.starts_with(name)),
            "the browser got {name}"
        );
    }
    ensure!(seen.lines().any(|l| l.starts_with("UNIPOS_API_URL=")));
    app.close().await
}

/// The admin's part, at the admin's own computer (a D-Bus session and keychain of its own, so
/// the admin's session never mixes with the member's): log in, reset Jiro's password, save his
/// Account Information sheet. Answers the link in the sheet's QR code, read off the rendered
/// page (poppler) in its lower right quarter, as a phone's camera would. (On a blocking thread:
/// the server answering the CLI runs on this test's runtime.)
async fn admin_resets_jiro_and_prints_his_sheet(
    backend: &Backend,
    sheet: &std::path::Path,
) -> Result<String> {
    let script = r#"set -e
step() { echo "$ unipos $*"; "$UNIPOS" "$@"; }
printf '%s\n' "$ADMIN_PASSWORD" | step login --email admin@example.com --password-stdin
step admin reset-password jiro
step admin account-sheet jiro -o "$SHEET" --lang ja
"#;
    let mut command = std::process::Command::new(repo_root().join("scripts/with-keyring.sh"));
    command
        .args(["sh", "-c", script])
        .env("UNIPOS", cli_binary()?)
        .env("ADMIN_PASSWORD", "Unipos-admin-1")
        .env("SHEET", sheet)
        .env("UNIPOS_API_URL", backend.api_url())
        .env("UNIPOS_WEB_BASE", backend.api_url());
    let out = tokio::task::spawn_blocking(move || command.output()).await??;
    let transcript = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{transcript}");
    ensure!(
        out.status.success(),
        "the admin's commands failed:\n{transcript}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(
        transcript.contains("Password reset for Jiro Suzuki"),
        "{transcript}"
    );
    let pdf = std::fs::read(sheet)?;
    let png = pdf_tools::render_page_png(&pdf, 150);
    pdf_tools::decode_qr_in_quarter(&png, pdf_tools::Quarter::LowerRight)
        .context("no QR code in the lower right quarter of the sheet")
}

async fn log_in_with_login_id(app: &App, password: &str) -> Result<()> {
    app.wait_for_screen("Log in").await?;
    app.click("Login ID").await?;
    app.fill("Team", "demo").await?;
    app.fill("Login ID", "jiro").await?;
    app.fill("Password", password).await?;
    app.click("Log in").await
}

/// 12. A Login ID member's way back, as Unipos documents it: Jiro forgets his password; the
///     admin resets it with the CLI and saves his Account Information sheet; the QR code read
///     off the printed page opens the app on Reset, which names his team and Login ID; "Set
///     password and login" lands on the Timeline, and the new password logs in. After a second
///     reset his session ends at the next start with a message, his old password gets the
///     guidance, and the first sheet's QR code gets the dead-link screen.
#[tokio::test]
async fn a_login_id_member_sets_a_new_password_from_the_admins_account_sheet() -> Result<()> {
    let backend = Backend::start().await?;
    let papers = tempfile::tempdir()?;
    let app = backend.open_app(Size::Phone).await?;

    // 1. Jiro forgets his password: the Login ID tab says what to do.
    app.wait_for_screen("Log in").await?;
    app.click("Login ID").await?;
    app.wait_for_text("Account Information form").await?;

    // 2–3. The admin resets it and prints the sheet; the phone's camera app hands its link over.
    let first =
        admin_resets_jiro_and_prints_his_sheet(&backend, &papers.path().join("jiro.pdf")).await?;
    ensure!(first.contains("/reset_password?token="), "{first}");
    backend.launch_again_with(&first)?;

    // 4–5. Reset names the team and the Login ID (asked for by no app: it asks whose account it
    // is first); set the password.
    confirm_the_account(
        &app,
        "This link is for Login ID j*** in team Unipos Demo (demo).",
    )
    .await?;
    app.wait_for_screen("Set a new password").await?;
    app.wait_for_text("For Login ID j*** in team Unipos Demo (demo)")
        .await?;
    ensure!(
        !app.page_text().await?.contains('@'),
        "no email hint for a Login ID member"
    );
    app.screenshot(&screenshot_path("login-id-reset-from-sheet"))
        .await?;
    set_password_and_login_as(&app, NEW_PASSWORD, "Hello, Jiro Suzuki").await?;

    // 6. Log out, and log in with the team, the Login ID and the new password.
    open_menu_of(&app, "Jiro Suzuki").await?;
    app.click("Log out").await?;
    log_in_with_login_id(&app, NEW_PASSWORD).await?;
    app.wait_for_text("Hello, Jiro Suzuki").await?;

    // 7. A second reset while he is logged in: the next start logs him out, and says why.
    let second_sheet = papers.path().join("jiro-again.pdf");
    admin_resets_jiro_and_prints_his_sheet(&backend, &second_sheet).await?;
    app.close().await?;
    let app = backend.open_app(Size::Phone).await?;
    app.wait_for_screen("Log in").await?;
    app.wait_for_text("reset your password").await?;
    // The password he set is now the old one: it gets the guidance, not "wrong password".
    log_in_with_login_id(&app, NEW_PASSWORD).await?;
    let alert = app.alert_with("password_reset_by_admin").await?;
    ensure!(alert.contains("Account Information"), "{alert}");
    // The first sheet's QR code is dead: its own screen, pointing back to the admin.
    backend.launch_again_with(&first)?;
    app.wait_for_screen("This link was already used").await?;
    app.control("Back to Log in").await?;
    app.close().await
}

/// A link this device did not ask for: Reset names whose account it is, and goes on only when
/// the member says it is theirs.
async fn confirm_the_account(app: &App, whose: &str) -> Result<()> {
    app.wait_for_screen("Check the account").await?;
    app.wait_for_text(whose).await?;
    app.click("Continue").await
}

/// The Reset screen, filled and sent with `password` twice, landing on `timeline`.
async fn set_password_and_login_as(app: &App, password: &str, timeline: &str) -> Result<()> {
    app.fill("New password", password).await?;
    app.fill("New password (again)", password).await?;
    app.click("Set password and login").await?;
    app.wait_for_text(timeline).await
}

/// Opens the menu of the presentation for the member `name`.
async fn open_menu_of(app: &App, name: &str) -> Result<()> {
    match app.size {
        Size::Phone => app.click("Menu").await,
        Size::Desktop => app.click(&format!("Menu of {name}")).await,
    }
}

/// A script in the web view cannot hear links: it may listen to no event (the screens hear of a
/// link on a channel of their own), so the deep-link plugin's `deep-link://new-url`, which
/// carries the raw URL with its token, reaches no script.
#[tokio::test]
async fn no_script_in_the_web_view_can_listen_for_the_raw_link() -> Result<()> {
    let backend = Backend::start().await?;
    let app = backend.open_app(Size::Desktop).await?;
    app.wait_for_screen("Log in").await?;
    let refused = app
        .js_async(
            "const done = arguments[arguments.length - 1];
             const t = window.__TAURI_INTERNALS__;
             window.__heard = [];
             t.invoke('plugin:event|listen', {
                 event: 'deep-link://new-url',
                 target: { kind: 'Any' },
                 handler: t.transformCallback(e => window.__heard.push(e)),
             }).then(() => done('listening'), e => done('refused: ' + e));",
            serde_json::json!([]),
            Duration::from_secs(5),
        )
        .await?;
    ensure!(
        refused.as_str().is_some_and(|r| r.starts_with("refused")),
        "the web view could listen: {refused}"
    );
    backend.forgot(DEMO_EMAIL).await?;
    let link = backend.reset_link(DEMO_EMAIL, 1).await?;
    backend.launch_again_with(&link)?;
    // Reset has it (its first step names whose link it is).
    app.wait_for_text("t***@example.com").await?;
    let heard = app
        .js(
            "return JSON.stringify(window.__heard)",
            serde_json::json!([]),
        )
        .await?;
    ensure!(heard == "[]", "a script heard the link: {heard}");
    app.close().await
}
