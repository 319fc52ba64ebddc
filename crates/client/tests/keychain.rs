//! The session in the real OS keychain: on Linux, the Secret Service (gnome-keyring), checked
//! from outside with `secret-tool` in the same D-Bus session.
//!
//! Run inside `scripts/with-keyring.sh`, which provides a throwaway unlocked keyring and sets
//! `UNIPOS_REQUIRE_KEYCHAIN=1`: then an unreachable keychain FAILS these tests. Without that
//! variable they skip (with a note) when no keychain answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]
#![cfg(target_os = "linux")]

mod support;

use std::process::Command;
use std::sync::Arc;

use support::*;
use unipos_client::{KeyringVault, SessionVault, StoredSession, VAULT_SERVICE};

/// `secret-tool lookup service me.unipos.account username <api base>`: the stored secret, if any.
fn secret_tool_lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", VAULT_SERVICE, "username", account])
        .output()
        .expect("secret-tool runs (apt-get install libsecret-tools)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `secret-tool search --all service me.unipos.account username <api base>`: the items' listing.
fn secret_tool_search(account: &str) -> String {
    let out = Command::new("secret-tool")
        .args([
            "search",
            "--all",
            "service",
            VAULT_SERVICE,
            "username",
            account,
        ])
        .output()
        .expect("secret-tool runs (apt-get install libsecret-tools)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn login_puts_the_session_in_the_secret_service_and_logout_takes_it_out() {
    let Some(vault) = keychain() else { return };
    let t = TestServer::start().await;
    let account = t.api_base();
    let flows = t.flows_with(vault.clone());

    let logged_in = flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();

    let listing = secret_tool_search(&account);
    assert!(
        listing.contains(&format!("attribute.service = {VAULT_SERVICE}")),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("attribute.username = {account}")),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("label = Unipos session ({account})")),
        "{listing}"
    );
    let secret = secret_tool_lookup(&account).expect("the item exists after login");
    let stored: serde_json::Value = serde_json::from_str(&secret).unwrap();
    assert_eq!(stored["expires_at"], logged_in.expires_at.as_str());
    assert!(stored["token"].as_str().is_some_and(|t| t.len() >= 32));
    assert_eq!(
        stored.as_object().unwrap().len(),
        2,
        "only the token and its expiry: {stored}"
    );

    // A new vault (as after an app restart) finds the session and uses it.
    let restarted = t.flows_with(Arc::new(KeyringVault::new()));
    assert_eq!(
        restarted.me().await.unwrap().value.display_name,
        DEMO_DISPLAY_NAME
    );

    let out = restarted.logout().await.unwrap();
    assert!(out.remote_revoked);
    assert_eq!(
        secret_tool_lookup(&account),
        None,
        "the item is gone after logout"
    );
    assert!(!secret_tool_search(&account).contains("attribute.service"));
    assert_eq!(flows.me().await.unwrap_err().code(), "not_logged_in");
}

#[tokio::test]
async fn sessions_of_two_api_bases_do_not_clash() {
    let Some(vault) = keychain() else { return };
    let (a, b) = (TestServer::start().await, TestServer::start().await);
    let (flows_a, flows_b) = (a.flows_with(vault.clone()), b.flows_with(vault.clone()));
    flows_a
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    flows_b
        .login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD)
        .await
        .unwrap();
    assert!(secret_tool_lookup(&a.api_base()).is_some());
    assert!(secret_tool_lookup(&b.api_base()).is_some());

    flows_a.logout().await.unwrap();
    assert_eq!(secret_tool_lookup(&a.api_base()), None);
    assert_eq!(
        flows_b.me().await.unwrap().value.display_name,
        DEMO_LOGIN_ID_DISPLAY_NAME
    );
    flows_b.logout().await.unwrap();
    assert_eq!(secret_tool_lookup(&b.api_base()), None);
}

#[test]
fn an_item_that_is_not_a_session_is_treated_as_no_session_and_removed() {
    let Some(vault) = keychain() else { return };
    let account = "http://127.0.0.1:1/damaged";
    let status = Command::new("sh")
        .args([
            "-c",
            &format!(
                "printf 'not json' | secret-tool store --label=damaged service {VAULT_SERVICE} username {account}"
            ),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(vault.load(account).unwrap(), None);
    assert_eq!(secret_tool_lookup(account), None);

    let session = StoredSession {
        token: "t".repeat(43),
        expires_at: "2030-01-01T00:00:00Z".into(),
    };
    vault.save(account, &session).unwrap();
    vault.save(account, &session).unwrap();
    assert_eq!(vault.load(account).unwrap(), Some(session));
    vault.clear(account).unwrap();
    vault.clear(account).unwrap();
    assert_eq!(vault.load(account).unwrap(), None);
}

#[tokio::test]
async fn send_keeps_the_binding_in_the_secret_service_beside_the_session_and_a_reset_removes_it() {
    let Some(vault) = keychain() else { return };
    let t = TestServer::start().await;
    let account = t.api_base();
    let binding_item = format!("{account}#reset-binding");
    let flows = t.flows_with(vault.clone());

    flows.request_reset(DEMO_EMAIL).await.unwrap();
    let secret = secret_tool_lookup(&binding_item).expect("the binding is in the keychain");
    let stored: serde_json::Value = serde_json::from_str(&secret).unwrap();
    assert_eq!(stored["email_hint"], "t***@example.com");
    assert_eq!(stored["verifier"].as_str().map(str::len), Some(43));
    assert!(secret_tool_lookup(&account).is_none(), "no session yet");

    let link = t.reset_link(DEMO_EMAIL, 1).await;
    let (pending, checked) = flows.check_link(&link).await.unwrap();
    assert!(checked.asked_here);
    flows
        .set_password_and_login(&pending, "Fresh-pass-42", "Fresh-pass-42")
        .await
        .unwrap();
    assert!(secret_tool_lookup(&account).is_some(), "the session");
    assert!(
        secret_tool_lookup(&binding_item).is_none(),
        "the used binding is gone"
    );
}
