//! What the database holds: hashes, never a password or a token.

use std::path::Path;

use serde_json::json;

use crate::common::*;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The reset tokens in the `.eml` files of `dir` (bodies are base64), in the order written.
fn tokens_in_mail(dir: &Path) -> Vec<String> {
    use base64::Engine;
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
    let mut tokens = Vec::new();
    for file in files {
        let raw = std::fs::read_to_string(&file).unwrap();
        // The text part: the base64 lines after its headers.
        let encoded: String = raw
            .split("\r\n\r\n")
            .skip(2)
            .take(1)
            .flat_map(|part| part.lines())
            .take_while(|l| !l.starts_with("--"))
            .collect();
        let text = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .unwrap(),
        )
        .unwrap();
        if let Some((_, rest)) = text.split_once("token=") {
            let token: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            tokens.push(token);
        }
    }
    tokens
}

/// As in production (no `--dev`): after a forgot → reset → login → change → forgot run, the
/// database file holds no password, no session token and no reset token.
#[tokio::test]
async fn in_production_no_password_and_no_token_is_ever_stored_in_the_clear() {
    // Seed the demo members with one dev start, then serve without --dev on the same file.
    let mut seeding = TestServer::start().await;
    seeding.shutdown().await;
    let dir = seeding.dir;
    let mail = dir.path().join("outbox");
    let config = unipos_server::Config {
        dev: false,
        ..unipos_server::Config::for_tests(dir.path())
    };
    let clock = config.clock.clone();
    let server = unipos_server::spawn(config).await.unwrap();
    let api = server.api_url();
    let http = http_client().build().unwrap();
    let post =
        |path: &str, body: serde_json::Value| http.post(format!("{api}{path}")).json(&body).send();
    let mut secrets: Vec<String> = vec![DEMO_PASSWORD.into()];

    let forgot = |n: usize| {
        let post = &post;
        let mail = &mail;
        async move {
            let status = post("/password/forgot", json!({ "email": DEMO_EMAIL }))
                .await
                .unwrap()
                .status();
            assert_eq!(status, 202);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let tokens = tokens_in_mail(mail);
                if tokens.len() >= n {
                    return tokens[n - 1].clone();
                }
                assert!(std::time::Instant::now() < deadline, "no reset mail");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    };
    let used = forgot(1).await;
    let reply = post(
        "/password/reset",
        json!({"token": used, "new_password": "Reset-secret-pass-2", "new_password_confirmation": "Reset-secret-pass-2"}),
    )
    .await
    .unwrap();
    assert_eq!(reply.status(), 200);
    let session: unipos_protocol::SessionResponse = reply.json().await.unwrap();
    secrets.extend([
        used,
        session.session.token.clone(),
        "Reset-secret-pass-2".into(),
    ]);
    let login: unipos_protocol::SessionResponse = post(
        "/sessions",
        json!({ "email": DEMO_EMAIL, "password": "Reset-secret-pass-2" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let change = http
        .put(format!("{api}/me/password"))
        .bearer_auth(&login.session.token)
        .json(&json!({"current_password": "Reset-secret-pass-2", "new_password": "Changed-secret-pass-3", "new_password_confirmation": "Changed-secret-pass-3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), 200);
    let renewed: unipos_protocol::SessionResponse = change.json().await.unwrap();
    secrets.extend([
        login.session.token,
        renewed.session.token,
        "Changed-secret-pass-3".into(),
    ]);
    // One more reset link stays outstanding (past the per-address interval).
    clock.advance(std::time::Duration::from_secs(61));
    secrets.push(forgot(2).await);

    server.shutdown().await.unwrap();
    let bytes = stored_bytes(dir.path());
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
    let mut s = TestServer::start().await;
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

    let config = unipos_server::Config::for_tests(first.dir.path());
    let second = unipos_server::spawn(config).await.unwrap();
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
