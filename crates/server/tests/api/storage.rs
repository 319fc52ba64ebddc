//! What the database holds: hashes, never a password or a token.

use serde_json::json;

use crate::common::*;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// As in production (no `--dev`): after a forgot → reset → login → change → forgot run, the
/// database holds no password, no session token and no reset token.
#[tokio::test]
async fn in_production_no_password_and_no_token_is_ever_stored_in_the_clear() {
    let mut s = TestServer::start().await;
    let mut secrets: Vec<String> = vec![DEMO_PASSWORD.into()];

    let used = s.reset_token_for(DEMO_EMAIL).await;
    let reset = s
        .post(
            "/password/reset",
            json!({"token": used, "new_password": "Reset-secret-pass-2", "new_password_confirmation": "Reset-secret-pass-2"}),
        )
        .await;
    reset.assert_status(200);
    secrets.extend([
        used,
        reset.session().session.token,
        "Reset-secret-pass-2".into(),
    ]);
    let token = s.session_token(DEMO_EMAIL, "Reset-secret-pass-2").await;
    let change = s
        .put_as(
        "/me/password",
        json!({"current_password": "Reset-secret-pass-2", "new_password": "Changed-secret-pass-3", "new_password_confirmation": "Changed-secret-pass-3"}),
        &token,
    )
    .await
    ;
    change.assert_status(200);
    secrets.extend([
        token,
        change.session().session.token,
        "Changed-secret-pass-3".into(),
    ]);
    // One more reset link stays outstanding (past the per-address interval).
    advance(&s.clock, 61);
    secrets.push(s.reset_token_for(DEMO_EMAIL).await);

    // Shutting down checkpoints the write-ahead log into the main file.
    s.shutdown().await;
    let bytes = stored_bytes(s.dir.path());
    assert!(
        contains(&bytes, "$argon2id$"),
        "the file read is the database"
    );
    for secret in &secrets {
        assert!(
            !contains(&bytes, secret),
            "{secret} is in the database file"
        );
    }
}

/// With `--dev` the dev outbox keeps sent mail with its links (that is what it is for); no
/// password and no session token is stored in the clear.
#[tokio::test]
async fn in_dev_mode_no_password_and_no_session_token_is_stored_in_the_clear() {
    let mut s = TestServer::start_dev().await;
    let mut secrets: Vec<String> = vec![DEMO_PASSWORD.into(), DEMO_LOGIN_ID_PASSWORD.into()];

    s.post(
        "/dev/users",
        json!({"email": "ken@example.com", "password": "Ken-secret-pass-1", "display_name": "Ken", "login_method": "email"}),
    )
    .await
    .assert_status(201);
    secrets.push("Ken-secret-pass-1".into());
    secrets.push(
        s.session_token("ken@example.com", "Ken-secret-pass-1")
            .await,
    );
    secrets.push(s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await);
    s.login(DEMO_EMAIL, "Wrong-secret-guess-1").await;
    secrets.push("Wrong-secret-guess-1".into());

    // A reset: the used token, a superseded one, and one still outstanding.
    let superseded = s.reset_token_for(DEMO_EMAIL).await;
    advance(&s.clock, 61);
    let used = s.reset_token_for(DEMO_EMAIL).await;
    let reset = s
        .post(
            "/password/reset",
            json!({"token": used, "new_password": "Reset-secret-pass-2", "new_password_confirmation": "Reset-secret-pass-2"}),
        )
        .await;
    reset.assert_status(200);
    let _ = superseded;
    secrets.push(reset.session().session.token);
    secrets.push("Reset-secret-pass-2".into());

    // A change.
    let token = s.session_token(DEMO_EMAIL, "Reset-secret-pass-2").await;
    let change = s
        .put_as(
            "/me/password",
            json!({"current_password": "Reset-secret-pass-2", "new_password": "Changed-secret-pass-3", "new_password_confirmation": "Changed-secret-pass-3"}),
            &token,
        )
        .await;
    change.assert_status(200);
    secrets.extend([
        token,
        change.session().session.token,
        "Changed-secret-pass-3".into(),
    ]);

    // Shutting down checkpoints the write-ahead log into the main file.
    s.shutdown().await;
    let bytes = stored_bytes(s.dir.path());
    assert!(
        contains(&bytes, "$argon2id$"),
        "the file read is the database"
    );
    assert!(contains(&bytes, DEMO_EMAIL));
    for secret in &secrets {
        assert!(
            !contains(&bytes, secret),
            "{secret} is in the database file"
        );
    }
}

#[tokio::test]
async fn restarting_on_the_same_file_keeps_everything_and_seeds_nothing_twice() {
    let mut first = TestServer::start().await;
    let token = first.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let change = first
        .put_as(
            "/me/password",
            json!({"current_password": DEMO_PASSWORD, "new_password": "Kept-pass-1", "new_password_confirmation": "Kept-pass-1"}),
            &token,
        )
        .await;
    change.assert_status(200);
    let token = change.session().session.token;
    let posts = first.get_as("/timeline", &token).await.json()["posts"]
        .as_array()
        .unwrap()
        .len();
    first.shutdown().await;

    // Seeding again (as every start of a dev server does) adds nothing.
    let config = unipos_server::Config::for_tests(first.dir.path());
    let second = unipos_server::testing::spawn_with_demo(config)
        .await
        .unwrap();
    let http = http_client().build().unwrap();
    let login = |password: &'static str| {
        http.post(format!("{}/sessions", second.api_url()))
            .json(&json!({ "email": DEMO_EMAIL, "password": password }))
            .send()
    };
    assert_eq!(
        login(DEMO_PASSWORD).await.unwrap().status().as_u16(),
        401,
        "not re-seeded"
    );
    let session: unipos_protocol::SessionResponse =
        login("Kept-pass-1").await.unwrap().json().await.unwrap();
    // The session from before the restart still works; the posts were not seeded again.
    let me = http
        .get(format!("{}/me", second.api_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let timeline: unipos_protocol::Timeline = http
        .get(format!("{}/timeline", second.api_url()))
        .bearer_auth(&session.session.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(timeline.posts.len(), posts);
    second.shutdown().await.unwrap();
}
