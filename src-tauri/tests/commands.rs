//! The app's commands as the web view calls them (Tauri's mock runtime, real IPC requests),
//! against the real reference server on an ephemeral loopback port, with an in-memory vault.
//!
//! Every test that starts the app ([`TestApp`]) is also checked, when it ends, for the promise that
//! no token reaches the web view: no response it got may hold a reset token the server mailed
//! or a session token the vault was asked to save (see `impl Drop for TestApp`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};
use unipos_app_lib::state::{AppState, Browser, PreferenceFile};
use unipos_app_lib::ui_values::Preferences;
use unipos_client::testing::MemoryVault;
use unipos_client::{ClientConfig, ClientError, SessionVault, StoredSession};
use unipos_server::dev::{
    DEMO_DISPLAY_NAME, DEMO_EMAIL, DEMO_LOGIN_ID, DEMO_LOGIN_ID_DISPLAY_NAME,
    DEMO_LOGIN_ID_PASSWORD, DEMO_PASSWORD, DEMO_SSO_EMAIL, DEMO_TEAM,
};
use unipos_server::RunningServer;
use unipos_testsupport::{token_of, TestBackend};

const NEW_PASSWORD: &str = "Fresh-pass-42";

#[derive(Default, Clone)]
struct SavedPreferences(Arc<Mutex<Vec<Preferences>>>);

impl PreferenceFile for SavedPreferences {
    fn save(&self, preferences: &Preferences) {
        self.0.lock().unwrap().push(preferences.clone());
    }
}

#[derive(Default, Clone)]
struct OpenedPages(Arc<Mutex<Vec<String>>>);

impl Browser for OpenedPages {
    fn open(&self, url: &str) -> Result<(), String> {
        self.0.lock().unwrap().push(url.to_owned());
        Ok(())
    }
}

/// A vault that remembers every session token it was asked to save: the session tokens the app
/// ever held, for the check that none of them reached the web view.
struct RecordingVault {
    inner: Arc<dyn SessionVault>,
    tokens: Arc<Mutex<Vec<String>>>,
}

impl SessionVault for RecordingVault {
    fn load(&self, account: &str) -> Result<Option<StoredSession>, ClientError> {
        self.inner.load(account)
    }

    fn save(&self, account: &str, session: &StoredSession) -> Result<(), ClientError> {
        self.tokens.lock().unwrap().push(session.token.clone());
        self.inner.save(account, session)
    }

    fn clear(&self, account: &str) -> Result<(), ClientError> {
        self.inner.clear(account)
    }

    fn check_ready(&self, account: &str) -> Result<(), ClientError> {
        self.inner.check_ready(account)
    }
}

/// What the web view got from one command.
struct Response {
    cmd: String,
    ok: bool,
    text: String,
}

/// The app with its real commands, a running reference server, and every response kept. When it
/// is dropped at the end of a test, it checks that no response held a token (a test cannot skip
/// this: the check is in `Drop`).
struct TestApp {
    app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    backend: TestBackend,
    runtime: tokio::runtime::Runtime,
    vault: Arc<dyn SessionVault>,
    saved: SavedPreferences,
    opened: OpenedPages,
    responses: Mutex<Vec<Response>>,
    /// Every session token the vaults of this app (and of its restarts) were asked to save.
    session_tokens: Arc<Mutex<Vec<String>>>,
    /// The reset tokens mailed by a server that has since been stopped.
    mailed_before_stop: Vec<String>,
}

impl TestApp {
    fn start() -> TestApp {
        TestApp::start_with(Preferences::default())
    }

    fn start_with(preferences: Preferences) -> TestApp {
        TestApp::start_with_vault(preferences, Arc::new(MemoryVault::new()))
    }

    fn start_with_vault(preferences: Preferences, vault: Arc<dyn SessionVault>) -> TestApp {
        let session_tokens = Arc::new(Mutex::new(Vec::new()));
        let vault: Arc<dyn SessionVault> = Arc::new(RecordingVault {
            inner: vault,
            tokens: session_tokens.clone(),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let backend = runtime.block_on(TestBackend::start());
        let server = backend.server();
        // The server's web base is its own address: links in its mails point there.
        let config =
            ClientConfig::with_bases(server.base_url().as_str(), server.web_base().as_str())
                .unwrap();
        let saved = SavedPreferences::default();
        let opened = OpenedPages::default();
        let state = AppState::with_config(
            config,
            preferences,
            vault.clone(),
            Box::new(saved.clone()),
            Box::new(opened.clone()),
        )
        .unwrap();
        let specta = unipos_app_lib::specta_builder::<MockRuntime>();
        let app = mock_builder()
            .invoke_handler(specta.invoke_handler())
            .manage(state)
            .build(mock_context(noop_assets()))
            .unwrap();
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        TestApp {
            app,
            window,
            backend,
            runtime,
            vault,
            saved,
            opened,
            responses: Mutex::new(Vec::new()),
            session_tokens,
            mailed_before_stop: Vec::new(),
        }
    }

    /// Calls a command as the web view does; `Err` carries the serialized error.
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.call_in(&self.window, cmd, args)
    }

    /// Calls a command in `window` (this app's, or a restart's), keeping what the web view got.
    fn call_in(
        &self,
        window: &WebviewWindow<MockRuntime>,
        cmd: &str,
        args: Value,
    ) -> Result<Value, Value> {
        let response = get_ipc_response(window, request(cmd, args))
            .map(|body| body.deserialize::<Value>().unwrap());
        let (ok, text) = match &response {
            Ok(v) => (true, v.to_string()),
            Err(v) => (false, v.to_string()),
        };
        self.responses.lock().unwrap().push(Response {
            cmd: cmd.to_owned(),
            ok,
            text,
        });
        response
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// The error code of a command that must fail.
    fn refused(&self, cmd: &str, args: Value) -> Value {
        match self.call(cmd, args) {
            Ok(v) => panic!("{cmd} succeeded with {v}"),
            Err(e) => e,
        }
    }

    /// The link of reset mail #`nth` to `to`, once it is there.
    fn reset_link(&self, to: &str, nth: usize) -> String {
        self.runtime.block_on(self.backend.reset_link(to, nth))
    }

    /// The same app started again (a new process would find the same keychain). Call its
    /// commands with [`TestApp::call_in`], so that they are checked too.
    fn restart(
        &self,
        vault: Arc<dyn SessionVault>,
    ) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
        let vault = Arc::new(RecordingVault {
            inner: vault,
            tokens: self.session_tokens.clone(),
        });
        let server = self.server();
        let config =
            ClientConfig::with_bases(server.base_url().as_str(), server.web_base().as_str())
                .unwrap();
        let state = AppState::with_config(
            config,
            Preferences::default(),
            vault,
            Box::new(SavedPreferences::default()),
            Box::new(OpenedPages::default()),
        )
        .unwrap();
        // As the app's setup does: the keychain is read before the first screen asks.
        state.check_session_early();
        let app = mock_builder()
            .invoke_handler(unipos_app_lib::specta_builder::<MockRuntime>().invoke_handler())
            .manage(state)
            .build(mock_context(noop_assets()))
            .unwrap();
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        (app, window)
    }

    fn server(&self) -> &RunningServer {
        self.backend.server()
    }

    /// Stops the server, keeping the reset tokens it mailed for the final check.
    fn stop_server(&mut self) {
        let mailed = self.mailed_tokens();
        self.mailed_before_stop.extend(mailed);
        self.runtime.block_on(self.backend.shutdown());
    }

    /// The reset tokens in the running server's outbox, once every reset mail the app asked for
    /// has been sent (mail goes out in the background).
    fn mailed_tokens(&self) -> Vec<String> {
        let Some(server) = self.backend.running() else {
            return Vec::new();
        };
        let asked = self
            .responses
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.cmd == "request_reset" && r.ok)
            .count();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let outbox = server.outbox();
            let resets = outbox
                .iter()
                .filter(|m| m.links.iter().any(|l| l.contains("token=")))
                .count();
            if resets >= asked {
                return outbox
                    .iter()
                    .flat_map(|m| &m.links)
                    .filter(|l| l.contains("token="))
                    .map(|l| token_of(l))
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "the app asked for {asked} reset mails and {resets} were sent: the check for \
                 leaked tokens needs every reset token"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every token the web view must never get: the reset tokens the server mailed and the
    /// session tokens the vault was asked to save.
    fn secrets(&self) -> Vec<String> {
        let mut secrets = self.mailed_tokens();
        secrets.extend(self.mailed_before_stop.iter().cloned());
        secrets.extend(self.session_tokens.lock().unwrap().iter().cloned());
        for secret in &secrets {
            // An empty "token" is in every response; a short one could be there by chance.
            assert!(secret.len() >= 32, "not a token: {secret:?}");
        }
        secrets
    }

    /// Asserts that no response so far contained `secret`.
    fn assert_never_sent(&self, secret: &str) {
        for response in self.responses.lock().unwrap().iter() {
            assert!(
                !response.text.contains(secret),
                "a token reached the web view through {}: {}",
                response.cmd,
                response.text
            );
        }
    }

    fn session_token(&self) -> Option<String> {
        self.vault
            .load(self.server().base_url().as_str())
            .unwrap()
            .map(|s| s.token)
    }

    fn log_in(&self) -> Value {
        self.ok(
            "login_with_email",
            json!({"email": DEMO_EMAIL, "password": DEMO_PASSWORD}),
        )
    }
}

impl Drop for TestApp {
    /// The check every test gets: no response held a token. (Skipped when the test already
    /// failed: a second panic would abort and hide the first.)
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        for secret in self.secrets() {
            self.assert_never_sent(&secret);
        }
    }
}

fn request(cmd: &str, args: Value) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: tauri::ipc::InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: tauri::test::INVOKE_KEY.to_string(),
    }
}

#[test]
fn forgot_password_by_email_ends_on_the_timeline_and_no_token_reaches_the_web_view() {
    let t = TestApp::start();

    // Forgot password: a trailing ideographic space is refused locally, with the one-tap fix.
    let refusal = t.ok(
        "check_address",
        json!({"input": "taro@example.com\u{3000}"}),
    );
    assert_eq!(refusal["code"], "email_trailing_whitespace");
    assert_eq!(refusal["fix"], DEMO_EMAIL);
    assert_eq!(refusal["chars"][0]["code_point"], "U+3000");
    assert_eq!(
        t.ok("check_address", json!({"input": DEMO_EMAIL})),
        Value::Null
    );

    // Send, from the app shown in Japanese: the mail and its subject are Japanese.
    let sent = t.ok(
        "request_reset",
        json!({"email": DEMO_EMAIL, "language": "ja"}),
    );
    assert_eq!(sent["email_hint"], "t***@example.com");
    assert_eq!(sent["resend_after_s"], 60);
    assert_eq!(sent["mail_language"], "ja");
    assert_eq!(
        sent["mail_subject"],
        unipos_client::unipos_protocol::RESET_MAIL_SUBJECT_JA
    );

    // The link from the email arrives from the OS; the UI learns where it leads, not the token.
    let link = t.reset_link(DEMO_EMAIL, 1);
    let token = token_of(&link);
    unipos_app_lib::arrival::deliver_link(t.app.handle(), &link);
    let incoming = t.ok("take_incoming_link", json!({}));
    assert_eq!(incoming["status"], "opened");
    assert_eq!(incoming["target"]["kind"], "reset");
    assert_eq!(
        t.ok("take_incoming_link", json!({})),
        Value::Null,
        "a link is taken once"
    );

    // Reset: the email hint and the server's policy as a live checklist.
    let checked = t.ok("check_reset_link", json!({}));
    assert_eq!(checked["email_hint"], "t***@example.com");
    assert_eq!(checked["policy"]["min_length"], 8);
    let checklist = t.ok("policy_checklist", json!({"password": "abc"}));
    assert_eq!(checklist[0], json!({"rule": "min_length", "met": false}));
    let checklist = t.ok("policy_checklist", json!({"password": NEW_PASSWORD}));
    assert!(checklist
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["met"] == true));
    assert_eq!(
        checklist.as_array().unwrap().last(),
        Some(&json!({"rule": "common_password", "met": true})),
        "the common-password rule is the checklist's last line"
    );
    // A common password meets every other rule, and fails the last one (in any width).
    for common in [
        "password123",
        "\u{FF50}\u{FF41}\u{FF53}\u{FF53}\u{FF57}\u{FF4F}\u{FF52}\u{FF44}\u{FF11}\u{FF12}\u{FF13}",
    ] {
        let checklist = t.ok("policy_checklist", json!({"password": common}));
        let unmet: Vec<&Value> = checklist
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["met"] == false)
            .map(|c| &c["rule"])
            .collect();
        assert_eq!(unmet, [&json!("common_password")], "{common}");
    }

    // A mismatch is refused and the link still works; then "Set password and login".
    let mismatch = t.refused(
        "set_password_and_login",
        json!({"newPassword": NEW_PASSWORD, "newPasswordConfirmation": "Fresh-pass-43", "language": "ja"}),
    );
    assert_eq!(mismatch["code"], "password_mismatch");
    assert_eq!(mismatch["status"], 422);
    let signed_in = t.ok(
        "set_password_and_login",
        json!({"newPassword": NEW_PASSWORD, "newPasswordConfirmation": NEW_PASSWORD, "language": "ja"}),
    );
    assert_eq!(signed_in["user"]["display_name"], DEMO_DISPLAY_NAME);
    let reset_mail = &t.server().outbox()[0];
    assert_eq!(reset_mail.subject, sent["mail_subject"].as_str().unwrap());
    let session = t.session_token().expect("the session is in the keychain");

    // Timeline.
    assert_eq!(
        t.ok("restore_session", json!({}))["display_name"],
        DEMO_DISPLAY_NAME
    );
    assert!(!t.ok("timeline", json!({}))["posts"]
        .as_array()
        .unwrap()
        .is_empty());

    // The link is used up: opening it again says so.
    t.ok("open_link", json!({"url": link}));
    assert_eq!(
        t.refused("check_reset_link", json!({}))["code"],
        "token_used"
    );

    // Checked here by name, and again (with every other token) when `t` is dropped.
    t.assert_never_sent(&token);
    t.assert_never_sent(&session);
    let secrets = t.secrets();
    assert!(
        secrets.contains(&token),
        "the final check knows the reset token"
    );
    assert!(
        secrets.contains(&session),
        "the final check knows the session token"
    );
}

#[test]
fn a_pasted_link_that_only_looks_like_ours_is_refused_with_its_code() {
    let t = TestApp::start();
    let token = "Zz9-_".repeat(9);
    let web = t.server().web_base().as_str().to_owned();
    let host = t.server().web_base().url().host_str().unwrap().to_owned();
    let cases = [
        (
            format!("{web}/reset_password?token={token}&utm=1"),
            "link_extra_parts",
        ),
        (
            format!("{web}/reset_password?token=short"),
            "link_token_malformed",
        ),
        (
            format!("https://evil.example/reset_password?token={token}"),
            "link_scheme",
        ),
        (
            web.replace(&host, "localhost") + &format!("/reset_password?token={token}"),
            "link_host",
        ),
        ("not a link".to_owned(), "link_unparseable"),
    ];
    for (url, code) in cases {
        let e = t.refused("open_link", json!({"url": url}));
        assert_eq!(e["code"], code, "{url}");
    }
    // Nothing is held: "Set password and login" has no link to use.
    let e = t.refused(
        "set_password_and_login",
        json!({"newPassword": NEW_PASSWORD, "newPasswordConfirmation": NEW_PASSWORD, "language": "en"}),
    );
    assert_eq!(e["code"], "link_token_missing");
}

#[test]
fn expired_superseded_and_unknown_links_each_get_their_own_code() {
    let t = TestApp::start();
    let web = t.server().web_base().as_str().to_owned();

    t.ok(
        "open_link",
        json!({"url": format!("{web}/reset_password?token={}", "Zz9-_".repeat(9))}),
    );
    let unknown = t.refused("check_reset_link", json!({}));
    assert_eq!(unknown["code"], "token_invalid");
    assert_eq!(unknown["status"], 404);

    t.ok(
        "request_reset",
        json!({"email": DEMO_EMAIL, "language": "en"}),
    );
    let first = t.reset_link(DEMO_EMAIL, 1);
    t.backend.clock.advance(Duration::from_secs(61));
    t.ok(
        "request_reset",
        json!({"email": DEMO_EMAIL, "language": "en"}),
    );
    let second = t.reset_link(DEMO_EMAIL, 2);
    t.ok("open_link", json!({"url": first}));
    assert_eq!(
        t.refused("check_reset_link", json!({}))["code"],
        "token_superseded"
    );

    t.ok("open_link", json!({"url": second}));
    t.ok("check_reset_link", json!({}));
    t.backend.clock.advance(Duration::from_secs(2 * 3600));
    let expired = t.refused("check_reset_link", json!({}));
    assert_eq!(expired["code"], "token_expired");
    assert_eq!(expired["status"], 410);
}

#[test]
fn send_twice_within_the_interval_is_rate_limited_with_the_seconds_to_wait() {
    let t = TestApp::start();
    let first = Instant::now();
    t.ok(
        "request_reset",
        json!({"email": DEMO_EMAIL, "language": "en"}),
    );
    let e = t.refused(
        "request_reset",
        json!({"email": DEMO_EMAIL, "language": "en"}),
    );
    let between = first.elapsed().as_secs();
    assert_eq!(e["code"], "rate_limited");
    assert_eq!(e["status"], 429);
    // The 60 s interval less the whole seconds that passed between the two requests (and one
    // more for the rounding of the server's clock against this one).
    let wait = e["retry_after_s"].as_u64().unwrap();
    let least = 59u64.saturating_sub(between);
    assert!(
        (least..=60).contains(&wait),
        "{wait} s to wait, {between} s after the first request"
    );
    // A refused address never reaches the server, so it is never rate limited.
    let e = t.refused(
        "request_reset",
        json!({"email": " taro@example.com", "language": "en"}),
    );
    assert_eq!(e["code"], "email_leading_whitespace");
    assert_eq!(e["details"]["fix"], DEMO_EMAIL);
}

#[test]
fn logging_in_by_login_id_remembers_the_tab_and_a_wrong_password_leaves_its_request_id_in_the_support_report(
) {
    let t = TestApp::start();
    let wrong = t.refused(
        "login_with_login_id",
        json!({"team": DEMO_TEAM, "loginId": DEMO_LOGIN_ID, "password": "nope-nope-1"}),
    );
    assert_eq!(wrong["code"], "invalid_credentials");
    let request_id = wrong["request_id"].as_str().unwrap().to_owned();
    let view = json!({"view": {
        "presentation": "phone", "forced": false, "width": 390, "height": 844, "language": "ja"
    }});
    let report = t.ok("support_report", view);
    let report: Value = serde_json::from_str(report.as_str().unwrap()).unwrap();
    assert_eq!(report["last_error"]["request_id"], request_id);
    assert_eq!(report["last_error"]["code"], "invalid_credentials");
    assert_eq!(report["app"]["window"], "390×844");
    let call = report["api_calls"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(call["route"], "/sessions");
    assert_eq!(call["request_id"], request_id);
    assert!(!report.to_string().contains("nope-nope-1"));

    let signed_in = t.ok(
        "login_with_login_id",
        json!({"team": DEMO_TEAM, "loginId": DEMO_LOGIN_ID, "password": DEMO_LOGIN_ID_PASSWORD}),
    );
    assert_eq!(
        signed_in["user"]["display_name"],
        DEMO_LOGIN_ID_DISPLAY_NAME
    );
    assert_eq!(signed_in["user"]["login_method"], "login_id");
    let last = t.saved.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        serde_json::to_value(last.last_login_method).unwrap(),
        "login_id"
    );
}

#[test]
fn an_sso_member_is_sent_to_sso_and_the_sso_page_opens_in_the_browser() {
    let t = TestApp::start();
    let e = t.refused(
        "login_with_email",
        json!({"email": DEMO_SSO_EMAIL, "password": "anything-1"}),
    );
    assert_eq!(e["code"], "sso_required");
    assert_eq!(t.ok("open_sso", json!({})), true);
    assert_eq!(
        t.ok(
            "open_help",
            json!({"topic": "cant_receive_email", "language": "en"})
        ),
        true
    );
    assert_eq!(
        t.ok(
            "open_help",
            json!({"topic": "cant_receive_email", "language": "ja"})
        ),
        true
    );
    let opened = t.opened.0.lock().unwrap().clone();
    assert_eq!(
        opened,
        [
            format!("{}/login/sso", t.server().web_base().as_str()),
            "https://help.unipos.me/hc/en-us/search?query=I+can%27t+receive+a+password+reset+email"
                .to_owned(),
            // 「パスワード再設定メールが届かない」 on the Japanese help centre.
            "https://help.unipos.me/hc/ja/search?query=%E3%83%91%E3%82%B9%E3%83%AF%E3%83%BC%E3%83%89%E5%86%8D%E8%A8%AD%E5%AE%9A%E3%83%A1%E3%83%BC%E3%83%AB%E3%81%8C%E5%B1%8A%E3%81%8B%E3%81%AA%E3%81%84"
                .to_owned(),
        ]
    );
}

#[test]
fn change_password_reports_a_wrong_current_password_a_mismatch_and_the_policy() {
    let t = TestApp::start();
    t.log_in();
    let change = |current: &str, new: &str, confirmation: &str| {
        t.call(
            "change_password",
            json!({"currentPassword": current, "newPassword": new, "newPasswordConfirmation": confirmation, "language": "en"}),
        )
    };
    let e = change("wrong-pass-1", NEW_PASSWORD, NEW_PASSWORD).unwrap_err();
    assert_eq!(e["code"], "current_password_incorrect");
    let e = change(DEMO_PASSWORD, NEW_PASSWORD, "Fresh-pass-43").unwrap_err();
    assert_eq!(e["code"], "password_mismatch");
    let e = change(DEMO_PASSWORD, "short", "short").unwrap_err();
    assert_eq!(e["code"], "password_policy");
    assert_eq!(
        e["details"]["failed"],
        json!(["min_length", "require_digit"])
    );
    // The server also refuses what the checklist cannot know: a password made from the name.
    let e = change(DEMO_PASSWORD, "Yamada-2024", "Yamada-2024").unwrap_err();
    assert_eq!(e["code"], "password_policy");
    assert_eq!(e["details"]["failed"], json!(["common_password"]));
    let e = change(DEMO_PASSWORD, "password123", "password123").unwrap_err();
    assert_eq!(e["details"]["failed"], json!(["common_password"]));
    let before = t.session_token().unwrap();
    let saved = change(DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD).unwrap();
    assert_eq!(saved["status"], 200);
    // The change renewed the session: the keychain holds the new one, never the web view.
    let session = t.session_token().unwrap();
    assert_ne!(session, before);
    let out = t.ok("logout", json!({}));
    assert_eq!(out["remote_revoked"], true);
    t.assert_never_sent(&session);
}

#[test]
fn the_first_screen_reads_only_local_facts_and_log_out_clears_the_session() {
    let mut t = TestApp::start();
    let start = t.ok("startup", json!({}));
    assert_eq!(start["has_session"], false);
    assert_eq!(start["info"]["api_url"], t.server().base_url().as_str());
    assert_eq!(start["info"]["mobile"], false);

    t.log_in();
    assert_eq!(t.ok("startup", json!({}))["has_session"], true);

    // With the server gone, the first screen still gets everything it needs.
    t.stop_server();
    let start = t.ok("startup", json!({}));
    assert_eq!(start["has_session"], true);
    assert_eq!(
        t.refused("restore_session", json!({}))["code"],
        "connection_refused"
    );

    // Log out clears the session here even when the server cannot be told.
    let out = t.ok("logout", json!({}));
    assert_eq!(out["remote_revoked"], false);
    assert_eq!(out["remote_error"]["code"], "connection_refused");
    assert_eq!(t.ok("startup", json!({}))["has_session"], false);
    assert_eq!(t.refused("logout", json!({}))["code"], "not_logged_in");
}

#[test]
fn the_forgot_link_while_logged_in_says_so_so_the_ui_shows_the_timeline() {
    let t = TestApp::start();
    unipos_app_lib::arrival::deliver_link(t.app.handle(), "unipos://forgot_password");
    let incoming = t.ok("take_incoming_link", json!({}));
    assert_eq!(
        incoming["target"],
        json!({"kind": "forgot", "logged_in": false})
    );
    t.log_in();
    assert_eq!(
        t.ok("open_link", json!({"url": "unipos://forgot_password"})),
        json!({"kind": "forgot", "logged_in": true})
    );
}

#[test]
fn a_refused_link_from_the_os_is_reported_once_with_its_code() {
    let t = TestApp::start();
    let token = "Zz9-_".repeat(9);
    // Our own link in every part but the host, written in full-width digits (which the URL
    // parser would quietly map to our host).
    let web = t.server().web_base().as_str().to_owned();
    let host = t.server().web_base().url().host_str().unwrap().to_owned();
    let look_alike = web.replace(&host, "\u{FF11}\u{FF12}\u{FF17}.\u{FF10}.\u{FF10}.\u{FF11}");
    assert_ne!(look_alike, web);
    unipos_app_lib::arrival::deliver_link(
        t.app.handle(),
        &format!("{look_alike}/reset_password?token={token}"),
    );
    let start = t.ok("startup", json!({}));
    assert_eq!(start["incoming_link"]["status"], "refused");
    assert_eq!(start["incoming_link"]["error"]["code"], "link_host");
    assert_eq!(t.ok("take_incoming_link", json!({})), Value::Null);
}

#[test]
fn the_api_url_preference_takes_only_what_the_client_rules_allow() {
    let t = TestApp::start();
    let e = t.refused(
        "set_api_url",
        json!({"apiUrl": "http://staging.unipos.example"}),
    );
    assert_eq!(e["code"], "base_url_insecure");
    let e = t.refused("set_api_url", json!({"apiUrl": "unipos.me"}));
    assert_eq!(e["code"], "base_url_invalid");

    let change = t.ok(
        "set_api_url",
        json!({"apiUrl": "https://staging.unipos.example/"}),
    );
    // A debug build asks for no confirmation (see the state's test of the release rule).
    assert_eq!(change["status"], "applied");
    let info = &change["info"];
    assert_eq!(info["api_url"], "https://staging.unipos.example");
    assert_eq!(info["web_base"], "https://staging.unipos.example");
    assert_eq!(info["chosen_api_host"], "staging.unipos.example");
    let saved = t.saved.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        saved.api_url.as_deref(),
        Some("https://staging.unipos.example/")
    );

    // Back to the configured API: the environment's or the default, as at a fresh start.
    let info = t.ok("set_api_url", json!({"apiUrl": null}))["info"].clone();
    let configured = ClientConfig::resolve(None, None).unwrap();
    assert_eq!(info["api_url"], configured.api_base.as_str());
    assert_eq!(info["chosen_api_host"], Value::Null);
    let saved = t.saved.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!(saved.api_url, None);
}

/// Someone posing as support talks a member into entering their own API URL. The links' web
/// base moves with it, so a genuine mail's link no longer opens the app: its token is never
/// sent to that API (nor to the real one through it).
#[test]
fn a_chosen_api_url_is_the_links_base_too_so_a_genuine_mails_token_never_goes_there() {
    let t = TestApp::start();
    t.ok(
        "request_reset",
        json!({"email": DEMO_EMAIL, "language": "en"}),
    );
    let genuine = t.reset_link(DEMO_EMAIL, 1);
    // The "support" server: another real server, on another port.
    let dir = tempfile::tempdir().unwrap();
    let other = t
        .runtime
        .block_on(unipos_server::spawn(unipos_server::Config::for_tests(
            dir.path(),
        )))
        .unwrap();
    let other_url = other.base_url().as_str().to_owned();
    let change = t.ok("set_api_url", json!({"apiUrl": other_url}));
    assert_eq!(change["info"]["web_base"], other_url.as_str());

    let e = t.refused("open_link", json!({"url": genuine}));
    assert_eq!(e["code"], "link_port", "{e}");
    assert_eq!(t.ok("take_incoming_link", json!({})), Value::Null);
    let e = t.refused("check_reset_link", json!({}));
    assert_eq!(e["code"], "link_token_missing", "nothing is held: {e}");
    // The genuine link still works, at the real API.
    t.ok("set_api_url", json!({"apiUrl": null}));
    let configured = t.server().base_url().as_str().to_owned();
    t.ok("set_api_url", json!({"apiUrl": configured}));
    t.ok("open_link", json!({"url": genuine}));
    t.ok("check_reset_link", json!({}));
}

#[test]
fn language_and_presentation_preferences_are_saved() {
    let t = TestApp::start();
    let prefs = t.ok("set_language", json!({"language": "ja"}));
    assert_eq!(prefs["language"], "ja");
    let prefs = t.ok("set_presentation", json!({"presentation": "phone"}));
    assert_eq!(prefs["presentation"], "phone");
    assert_eq!(prefs["language"], "ja");
    let prefs: Preferences = serde_json::from_value(prefs).unwrap();
    let saved = t.saved.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!(saved, prefs, "what was saved is what the UI was told");
    assert_eq!(
        t.app.state::<AppState>().preferences(),
        prefs,
        "and what the app now holds"
    );
    assert_eq!(t.saved.0.lock().unwrap().len(), 2, "saved once per change");
}

/// The app's real configuration and capabilities (the ACL tauri-build resolved from
/// `capabilities/`), over the mock runtime.
fn app_with_real_capabilities(label: &str) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let state = AppState::with_config(
        ClientConfig::with_bases("http://127.0.0.1:9", "https://unipos.me").unwrap(),
        Preferences::default(),
        Arc::new(MemoryVault::new()),
        Box::new(SavedPreferences::default()),
        Box::new(OpenedPages::default()),
    )
    .unwrap();
    let context = tauri::generate_context!("tauri.conf.json", test = true);
    let app = mock_builder()
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        .invoke_handler(unipos_app_lib::specta_builder::<MockRuntime>().invoke_handler())
        .manage(state)
        .build(context)
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, label, Default::default())
        .build()
        .unwrap();
    (app, window)
}

#[test]
fn the_capabilities_let_the_main_window_call_the_screens_commands_and_write_text_only() {
    let (_app, main) = app_with_real_capabilities("main");
    let call = |cmd: &str, args: Value| {
        get_ipc_response(&main, request(cmd, args)).map(|b| b.deserialize::<Value>().unwrap())
    };
    let refusal = call("check_address", json!({"input": " taro@example.com"})).unwrap();
    assert_eq!(refusal["code"], "email_leading_whitespace");

    // "Copy support report" and "Copy details" write text to the clipboard (a machine without a
    // display may have no clipboard, but the permission is not what stops it).
    if let Err(e) = call(
        "plugin:clipboard-manager|write_text",
        json!({"text": "Code: offline"}),
    ) {
        assert!(!e.to_string().contains("not allowed"), "{e}");
    }
    // The web view gets no store, no opener and no OS plugin: Rust uses them on its behalf. It
    // never reads what else the member copied.
    for (cmd, args) in [
        ("plugin:store|load", json!({"path": "preferences.json"})),
        (
            "plugin:opener|open_url",
            json!({"url": "https://evil.example"}),
        ),
        ("plugin:os|locale", json!({})),
        ("plugin:clipboard-manager|read_text", json!({})),
        ("plugin:clipboard-manager|read_image", json!({})),
        ("plugin:clipboard-manager|clear", json!({})),
        (
            "plugin:sharekit|share_file",
            json!({"url": "file:///etc/passwd"}),
        ),
    ] {
        let denied = call(cmd, args).unwrap_err();
        assert!(
            denied.to_string().contains("not allowed"),
            "{cmd} was not refused: {denied}"
        );
    }
}

#[test]
fn another_window_gets_no_command_at_all() {
    let (_app, other) = app_with_real_capabilities("other");
    let denied =
        get_ipc_response(&other, request("check_address", json!({"input": "x"}))).unwrap_err();
    assert!(denied.to_string().contains("not allowed"), "{denied}");
}

#[test]
fn the_session_is_kept_in_the_os_keychain_and_restored_at_the_next_start() {
    use unipos_client::KeyringVault;
    if let Err(e) = KeyringVault::new().probe() {
        assert!(
            std::env::var_os("UNIPOS_REQUIRE_KEYCHAIN").is_none(),
            "no keychain: {e}"
        );
        eprintln!(
            "skipped: no keychain here ({}); scripts/with-keyring.sh provides one",
            e.code()
        );
        return;
    }
    let t = TestApp::start_with_vault(Preferences::default(), Arc::new(KeyringVault::new()));
    t.log_in();
    let token = t.session_token().expect("the session is in the keychain");

    let (_again, window) = t.restart(Arc::new(KeyringVault::new()));
    let call = |cmd: &str| {
        t.call_in(&window, cmd, json!({}))
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    };
    assert_eq!(call("startup")["has_session"], true);
    let me = call("restore_session");
    assert_eq!(me["display_name"], DEMO_DISPLAY_NAME);
    assert_eq!(call("logout")["remote_revoked"], true);
    // The early answer served the first screen once; later ones read the keychain again.
    assert_eq!(call("startup")["has_session"], false);
    t.assert_never_sent(&token);
    assert_eq!(
        t.session_token(),
        None,
        "log out removed it from the keychain"
    );
}
