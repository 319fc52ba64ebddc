//! Two servers on one database behave as one: the forgot cooldown, failed logins, sessions,
//! reset links and sent mail are the database's, not a process's.

use serde_json::json;
use unipos_protocol::ErrorCode;

use crate::common::*;

/// A second server on the first one's database file, with its clock, web base (behind one
/// address, the instances' links are the same) and mail folder (a spool both write to).
async fn second_instance(first: &TestServer) -> TestServer {
    let db = database_in(first.dir.path());
    let clock = first.clock.clone();
    let web_base = first.server().web_base().clone();
    let outbox = first.dir.path().join("outbox");
    TestServer::start_with(move |c| {
        c.db = db;
        c.clock = clock;
        c.web_base = Some(web_base);
        c.outbox_dir = Some(outbox);
    })
    .await
}

#[tokio::test]
async fn two_instances_on_one_database_behave_as_one() {
    let a = TestServer::start().await;
    let b = second_instance(&a).await;

    // The cooldown per address is shared, and so is the mail: it goes out once, whichever
    // instance's deliverer takes it.
    a.forgot(DEMO_EMAIL).await.assert_status(202);
    b.forgot(DEMO_EMAIL)
        .await
        .assert_error(ErrorCode::RateLimited);
    let mails = b.wait_for_mails(DEMO_EMAIL, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(a.outbox(Some(DEMO_EMAIL)).await, mails, "sent once");

    // One link, one winner, whichever instance it reaches.
    let token = token_of(&mails[0].links[0]);
    let body = |n| json!({"token": token, "new_password": good_password(n), "new_password_confirmation": good_password(n)});
    a.post("/password/reset", body(1)).await.assert_status(200);
    b.post("/password/reset", body(2))
        .await
        .assert_error(ErrorCode::TokenUsed);

    // Failed logins count across both: five at each lock the account at both.
    for s in [&a, &b, &a, &b, &a, &b, &a, &b, &a] {
        s.login(DEMO_EMAIL, "Wrong-password-1")
            .await
            .assert_error(ErrorCode::InvalidCredentials);
    }
    b.login(DEMO_EMAIL, "Wrong-password-1")
        .await
        .assert_error(ErrorCode::AccountLocked);
    a.login(DEMO_EMAIL, &good_password(1))
        .await
        .assert_error(ErrorCode::AccountLocked);

    // A session revoked at one is refused at the other at once.
    advance(&a.clock, 15 * 60 + 1);
    let session = a.session_token(DEMO_EMAIL, &good_password(1)).await;
    b.get_as("/me", &session).await.assert_status(200);
    b.delete_as("/sessions/current", &session)
        .await
        .assert_status(204);
    a.get_as("/me", &session)
        .await
        .assert_error(ErrorCode::SessionExpired);
}

#[tokio::test]
async fn two_instances_starting_at_once_on_an_empty_database_migrate_and_seed_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = || unipos_server::Config {
        dev: true,
        ..unipos_server::Config::for_tests(dir.path())
    };
    let (a, b) = tokio::join!(
        unipos_server::spawn(config()),
        unipos_server::spawn(config())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let http = http_client().build().unwrap();
    for server in [&a, &b] {
        let login = http
            .post(format!("{}/sessions", server.api_url()))
            .json(&json!({ "email": DEMO_EMAIL, "password": DEMO_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status().as_u16(), 201);
    }
    let members: u32 = query_value(dir.path(), "SELECT COUNT(*) FROM users", &[]);
    let posts: u32 = query_value(dir.path(), "SELECT COUNT(*) FROM posts", &[]);
    assert_eq!(
        (members, posts),
        (4, 5),
        "three members, their admin and five posts"
    );
}
