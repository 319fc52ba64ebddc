//! A database an older server left, at each earlier step of its store's schema (SQLite here,
//! PostgreSQL under `scripts/api-postgres.sh`), is migrated when a server starts on it, and its
//! members, sessions, reset links, failed logins and posts work as they did, and the mail it
//! had queued goes out (in English, as that server would have sent it).

use argon2::password_hash::{PasswordHasher, SaltString};
use serde_json::json;
use sha2::{Digest, Sha256};
use unipos_protocol::{
    ErrorCode, Timeline, PASSWORD_CHANGED_MAIL_SUBJECT, PASSWORD_CHANGED_MAIL_SUBJECT_JA,
};
use unipos_server::sql::{Conn, DbError};

use crate::common::*;

const OLD_PASSWORD: &str = "Old-password-1";
const OLD_SESSION: &str = "a-session-token-an-older-server-handed-out";
const OLD_LINK: &str = "OldLinkOldLinkOldLinkOldLinkOldLinkOldLink1";

fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// What an older server had stored for Ken of `acme`: his team, his password's hash (as typed:
/// the form of the oldest servers), a session, a mailed reset link, a failed login and a post.
/// Only the columns every step has; a "password changed" notice waiting in the outbox where the
/// step has one (`has_outbox`).
fn older_servers_rows(c: &mut Conn<'_>, now: i64, has_outbox: bool) -> Result<(), DbError> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(OLD_PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    c.execute(
        "INSERT INTO teams (slug, name, min_length, max_length, require_lower, require_upper, \
         require_digit, require_symbol, created_at) VALUES ('acme', 'Acme', 8, 128, ?1, ?2, ?1, ?2, ?3)",
        &[Arg::Bool(true), Arg::Bool(false), Arg::Int(now)],
    )?;
    let team: i64 = c.value("SELECT id FROM teams WHERE slug = 'acme'", &[])?;
    c.execute(
        "INSERT INTO users (id, team_id, email, email_normalized, display_name, login_method, \
         password_hash, created_at) VALUES ('ken', ?1, 'ken@acme.example', 'ken@acme.example', \
         'Ken', 'email', ?2, ?3)",
        &[Arg::Int(team), Arg::Text(&hash), Arg::Int(now)],
    )?;
    c.execute(
        "INSERT INTO sessions (user_id, token_hash, created_at, expires_at) \
         VALUES ('ken', ?1, ?2, ?3)",
        &[
            Arg::Bytes(&sha256(OLD_SESSION)),
            Arg::Int(now),
            Arg::Int(now + 86_400_000),
        ],
    )?;
    c.execute(
        "INSERT INTO reset_tokens (user_id, token_hash, created_at, expires_at) \
         VALUES ('ken', ?1, ?2, ?3)",
        &[
            Arg::Bytes(&sha256(OLD_LINK)),
            Arg::Int(now),
            Arg::Int(now + 3_600_000),
        ],
    )?;
    c.execute(
        "INSERT INTO login_failures (login_key, failed_at) VALUES ('email:ken@acme.example', ?1)",
        &[Arg::Int(now)],
    )?;
    c.execute(
        "INSERT INTO posts (id, team_id, from_name, to_name, message, points, created_at) \
         VALUES ('p1', ?1, 'Mika', 'Ken', 'Thanks for the release!', 20, ?2)",
        &[Arg::Int(team), Arg::Int(now)],
    )?;
    if has_outbox {
        c.execute(
            "INSERT INTO mail_outbox (kind, to_addr, display_name, request_id, created_at, \
             not_before) VALUES ('password_changed', 'ken@acme.example', 'Ken', 'old-request', ?1, ?1)",
            &[Arg::Int(now)],
        )?;
    }
    Ok(())
}

#[tokio::test]
async fn a_database_at_each_earlier_schema_step_is_upgraded_at_start_and_used() {
    for step in 1.. {
        let dir = tempfile::tempdir().unwrap();
        let db = database_in(dir.path());
        let steps = unipos_server::testing::schema_steps(&db);
        if step == steps {
            assert!(steps >= 2, "{steps}");
            break;
        }
        let clock = unipos_server::Clock::system();
        let now = clock.now_ms();
        // SQLite has had an outbox since its step 3, PostgreSQL since its first.
        let has_outbox = match &db {
            unipos_server::DbLocation::Sqlite(_) => step >= 3,
            unipos_server::DbLocation::Postgres(_) => true,
        };
        unipos_server::testing::at_schema_step(&db, step, |c| {
            older_servers_rows(c, now, has_outbox)
        })
        .unwrap_or_else(|e| panic!("a database at step {step}: {e:#}"));

        let s = TestServer::start_with(|c| c.db = db).await;
        if has_outbox {
            // Queued before the mail had a language: English, as the older server wrote it.
            let mails = s.wait_for_mails("ken@acme.example", 1).await;
            assert_eq!(
                mails[0].subject, PASSWORD_CHANGED_MAIL_SUBJECT,
                "step {step}"
            );
        }
        // The session from before still works, and so does the mailed link.
        let me = s.get_as("/me", OLD_SESSION).await;
        me.assert_status(200);
        assert_eq!(me.json()["email"], "ken@acme.example", "step {step}");
        let check = s
            .post("/password/reset/check", json!({ "token": OLD_LINK }))
            .await;
        check.assert_status(200);
        assert_eq!(check.json()["email_hint"], "k***@acme.example");
        // The team's posts are its timeline.
        let timeline: Timeline =
            serde_json::from_slice(&s.get_as("/timeline", OLD_SESSION).await.body).unwrap();
        let messages: Vec<&str> = timeline.posts.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages, ["Thanks for the release!"], "step {step}");
        // The failed login still counts: nine more lock the address.
        for _ in 0..8 {
            s.login("ken@acme.example", "Wrong-password-1")
                .await
                .assert_error(ErrorCode::InvalidCredentials);
        }
        s.login("ken@acme.example", "Wrong-password-1")
            .await
            .assert_error(ErrorCode::AccountLocked);
        advance(&s.clock, 15 * 60 + 1);
        // The old password logs in; the link sets a new one, and the team takes new members.
        s.login("ken@acme.example", OLD_PASSWORD)
            .await
            .assert_status(201);
        let p = good_password(step as u32);
        s.post(
            "/password/reset",
            json!({ "token": OLD_LINK, "new_password": p, "new_password_confirmation": p, "lang": "ja" }),
        )
        .await
        .assert_status(200);
        // The notice of a change made after the upgrade is in the language its request asked for.
        let before = usize::from(has_outbox);
        let mails = s.wait_for_mails("ken@acme.example", before + 1).await;
        assert_eq!(
            mails[before].subject, PASSWORD_CHANGED_MAIL_SUBJECT_JA,
            "step {step}"
        );
        s.login("ken@acme.example", &p).await.assert_status(201);
        s.store()
            .add_member(json!({"email": "mika@acme.example", "team": "acme", "password": "Blue-river-88", "display_name": "Mika", "login_method": "email"}))
            .unwrap_or_else(|e| panic!("step {step}: {e:#}"));
        s.login("mika@acme.example", "Blue-river-88")
            .await
            .assert_status(201);
    }
}
