//! The `unipos-server` binary: flags and environment variables, and the first stdout line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_where_it_listens_first_and_its_logs_carry_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--listen", "127.0.0.1:0", "--reset-token-ttl", "120"])
        .arg("--db")
        .arg(crate::common::database_in(dir.path()).as_arg())
        .env("UNIPOS_OUTBOX", dir.path().join("mail"))
        .env("UNIPOS_DEV", "1")
        .env("UNIPOS_WEB_BASE", "https://unipos.example")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let banner = unipos_server::dev::banner();
    let rest: Vec<String> = stdout
        .lines()
        .take(banner.len())
        .map(Result::unwrap)
        .collect();
    assert_eq!(rest, banner);

    let http = crate::common::http_client().build().unwrap();
    let res = http
        .post(format!("{base}/api/v1/password/forgot"))
        .json(&serde_json::json!({ "email": "taro@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    // The flags and variables took: the mail lands in the outbox folder with the web base.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let outbox = loop {
        let res = http
            .get(format!("{base}/api/v1/dev/outbox"))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        if !body["messages"].as_array().unwrap().is_empty() {
            break body;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let link = outbox["messages"][0]["links"][0].as_str().unwrap();
    assert!(
        link.starts_with("https://unipos.example/reset_password?token="),
        "{link}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("mail")).unwrap().count(),
        1
    );
    let token = link.split_once("token=").unwrap().1;
    let check = http
        .post(format!("{base}/api/v1/password/reset/check"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    let check: serde_json::Value = check.json().await.unwrap();
    let left = crate::common::seconds_from_now(check["expires_at"].as_str().unwrap());
    assert!(
        (100..=120).contains(&left),
        "--reset-token-ttl took: {left}"
    );

    // The debug log saw the request, the mail and the check, and none of their secrets.
    drop(child);
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("mail sent"), "{log}");
    assert!(
        log.contains("t***@example.com"),
        "the hint is logged: {log}"
    );
    let mut secrets = vec![
        token.to_owned(),
        "taro@example.com".to_owned(),
        unipos_server::dev::DEMO_PASSWORD.to_owned(),
    ];
    // On PostgreSQL, the database's password too.
    if let unipos_server::DbLocation::Postgres(db) = crate::common::database_in(dir.path()) {
        secrets.extend(url::Url::parse(&db).unwrap().password().map(str::to_owned));
    }
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "{secret} is in the log");
    }
}

#[test]
fn the_binary_refuses_an_insecure_web_base() {
    let out = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--web-base", "http://unipos.example", "--db", ":memory:"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("https"));
}

#[test]
fn the_binary_refuses_dev_mode_on_a_network_address() {
    let out = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--dev", "--listen", "0.0.0.0:0", "--db", ":memory:"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");
}

#[tokio::test]
async fn outside_dev_mode_mail_goes_to_disk_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_database(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--listen", "127.0.0.1:0", "--db", &db.as_arg()])
        .current_dir(dir.path())
        .env_remove("UNIPOS_OUTBOX")
        .env_remove("UNIPOS_DEV")
        .env_remove("UNIPOS_SMTP_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--outbox"), "{stderr}");
    assert!(!dir.path().join(".data").exists(), "nothing written");

    // With --outbox it starts, and a reset mail lands there as an .eml file whose link works.
    let mail = dir.path().join("mail");
    let (_child, base) = start(&db, &["--outbox", mail.to_str().unwrap()]);
    let http = crate::common::http_client().build().unwrap();
    let res = http
        .post(format!("{base}/api/v1/password/forgot"))
        .json(&serde_json::json!({ "email": unipos_server::dev::DEMO_EMAIL }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let mails = mail_in(&mail, 1).await;
    assert_eq!(mails[0].to, unipos_server::dev::DEMO_EMAIL);
    let token = crate::common::token_of(&mails[0].links[0]);
    let check = http
        .post(format!("{base}/api/v1/password/reset/check"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status().as_u16(), 200);
}

/// The database of the tests in `dir`, holding the demo organisation, for a server started
/// as in production.
fn seeded_database(dir: &std::path::Path) -> unipos_server::DbLocation {
    let db = crate::common::database_in(dir);
    unipos_server::testing::seed_demo(&db, &unipos_server::Clock::system()).unwrap();
    db
}

/// Waits until `count` mails are in the `.eml` files of `dir`, and answers them, oldest first.
async fn mail_in(dir: &std::path::Path, count: usize) -> Vec<unipos_server::SentMail> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let mails = unipos_server::testing::read_outbox(dir);
        if mails.len() >= count {
            return mails;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{count} mails did not arrive in {}: {mails:?}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts the binary as in production (no `--dev`) on `db` with `args`, its log on stderr at
/// `log` when given; answers the child and its base URL.
fn start_logging(
    db: &unipos_server::DbLocation,
    args: &[&str],
    log: Option<&std::path::Path>,
) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--listen", "127.0.0.1:0", "--mail-lease", "2"])
        .arg("--db")
        .arg(db.as_arg())
        .args(args)
        .env_remove("UNIPOS_DEV")
        .env_remove("UNIPOS_OUTBOX")
        .env_remove("UNIPOS_SMTP_URL")
        .stdout(Stdio::piped())
        .stderr(match log {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        })
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let base = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    (Child(child), base)
}

fn start(db: &unipos_server::DbLocation, args: &[&str]) -> (Child, String) {
    start_logging(db, args, None)
}

#[tokio::test]
async fn a_server_killed_right_after_answering_202_still_gets_the_mail_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_database(dir.path());
    // A relay that takes the connection and never answers: the mail is in flight when the
    // server dies.
    let relay = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp = format!("smtp://{}", relay.local_addr().unwrap());
    let (mut first, base) = start(&db, &["--smtp-url", &smtp]);
    let http = crate::common::http_client().build().unwrap();
    let res = http
        .post(format!("{base}/api/v1/password/forgot"))
        .json(&serde_json::json!({ "email": "taro@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();

    // The next start (here with mail to files) delivers it once the dead one's lease ends.
    let mail_dir = dir.path().join("mail");
    let (_second, base) = start(&db, &["--outbox", mail_dir.to_str().unwrap()]);
    let mails = mail_in(&mail_dir, 1).await;
    // Give a second delivery the time to show, should there be one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(unipos_server::testing::read_outbox(&mail_dir).len(), 1);
    assert_eq!(mails[0].to, "taro@example.com");
    // Its link works.
    let token = crate::common::token_of(&mails[0].links[0]);
    let check = http
        .post(format!("{base}/api/v1/password/reset/check"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status().as_u16(), 200);
    drop(relay);
}

#[tokio::test]
async fn a_whole_run_at_debug_level_logs_no_token_password_or_whole_address() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let db = seeded_database(dir.path());
    let mail = dir.path().join("mail");
    let child = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--listen", "127.0.0.1:0", "--db", &db.as_arg()])
        .arg("--outbox")
        .arg(&mail)
        .env_remove("UNIPOS_DEV")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let api = format!(
        "{}/api/v1",
        first.trim_end().strip_prefix("listening on ").unwrap()
    );
    let http = crate::common::http_client().build().unwrap();
    let post =
        |path: &str, body: serde_json::Value| http.post(format!("{api}{path}")).json(&body).send();
    let email = unipos_server::dev::DEMO_EMAIL;
    let (reset_pw, changed_pw) = ("Reset-secret-pass-2", "Changed-secret-pass-3");

    // Forgot → the link from the mail → Set password and login.
    assert_eq!(
        post("/password/forgot", serde_json::json!({ "email": email }))
            .await
            .unwrap()
            .status(),
        202
    );
    let link = mail_in(&mail, 1).await[0].links[0].clone();
    let reset_token = crate::common::token_of(&link);
    let reset: serde_json::Value = post(
        "/password/reset",
        serde_json::json!({ "token": reset_token, "new_password": reset_pw, "new_password_confirmation": reset_pw }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let reset_session = reset["session"]["token"].as_str().unwrap().to_owned();
    // Log in → change → log out.
    let login: serde_json::Value = post(
        "/sessions",
        serde_json::json!({ "email": email, "password": reset_pw }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let session = login["session"]["token"].as_str().unwrap().to_owned();
    let change = http
        .put(format!("{api}/me/password"))
        .bearer_auth(&session)
        .json(&serde_json::json!({ "current_password": reset_pw, "new_password": changed_pw, "new_password_confirmation": changed_pw }))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), 200);
    let change: serde_json::Value = change.json().await.unwrap();
    let renewed = change["session"]["token"].as_str().unwrap().to_owned();
    let logout = http
        .delete(format!("{api}/sessions/current"))
        .bearer_auth(&renewed)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);

    // The mails go out beside the requests: the log is read once it has seen them (or after
    // ten seconds, to say what it lacks).
    let done = ["password reset", "password changed", "mail sent"];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap();
        if done.iter().all(|d| log.contains(d)) || std::time::Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    drop(child);
    for done in done {
        assert!(log.contains(done), "the log saw \"{done}\": {log}");
    }
    for secret in [
        reset_token.as_str(),
        reset_session.as_str(),
        session.as_str(),
        renewed.as_str(),
        reset_pw,
        changed_pw,
        unipos_server::dev::DEMO_PASSWORD,
        email,
    ] {
        assert!(!log.contains(secret), "{secret} is in the server's log");
    }
}

/// `--log-format json`: one object per request that support can find by the request id the app
/// showed, with the route, the status, the error code, the time taken and only the address's hint.
#[tokio::test]
async fn the_json_log_has_one_line_per_request_with_its_id_route_code_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let child = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--db")
        .arg(seeded_database(dir.path()).as_arg())
        .env_remove("UNIPOS_DEV")
        .env("UNIPOS_OUTBOX", dir.path().join("mail"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let base = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();

    let http = reqwest::Client::new();
    let send = |id: &'static str, path: &'static str, email: &'static str| {
        http.post(format!("{base}{path}"))
            .header("X-Request-Id", id)
            .json(&serde_json::json!({ "email": email }))
            .send()
    };
    assert_eq!(
        send("support-1", "/api/v1/password/forgot", "taro@example.com")
            .await
            .unwrap()
            .status()
            .as_u16(),
        202
    );
    assert_eq!(
        send("support-2", "/api/v1/password/forgot", "taro@")
            .await
            .unwrap()
            .status()
            .as_u16(),
        422
    );
    assert_eq!(
        send("support-3", "/api/v1/no-such-thing", "taro@example.com")
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    drop(child);

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request = |id: &str| {
        let found: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| l["message"] == "request" && l["span"]["request_id"] == id)
            .collect();
        assert_eq!(found.len(), 1, "one line for {id} in {log}");
        found[0].clone()
    };
    let sent = request("support-1");
    assert_eq!(sent["route"], "/api/v1/password/forgot");
    assert_eq!(sent["status"], 202);
    assert_eq!(sent["error_code"], "-");
    assert_eq!(sent["email"], "t***@example.com");
    assert!(
        sent["latency_ms"].is_u64() && sent["timestamp"].is_string(),
        "{sent}"
    );
    let refused = request("support-2");
    assert_eq!(refused["status"], 422);
    assert_eq!(refused["error_code"], "email_invalid");
    assert_eq!(refused["email"], "-");
    let unknown = request("support-3");
    assert_eq!(
        (unknown["route"].as_str(), unknown["error_code"].as_str()),
        (Some("-"), Some("not_found"))
    );
    assert!(
        !log.contains("taro@example.com"),
        "no whole address in {log}"
    );
}

/// Runs the binary and answers its exit status and stderr, or fails when it is still running
/// after `secs` seconds (it started and serves).
fn exit_within(command: &mut Command, secs: u64) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr");
    let child = command
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return (status, std::fs::read_to_string(&log).unwrap());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after {secs} s: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reset mails carry live links: over `smtp://` without STARTTLS required, they would cross the
/// network in clear (or be stripped of STARTTLS on the way).
#[test]
fn the_binary_refuses_to_send_mail_in_clear_to_a_relay_off_this_machine() {
    for url in [
        "smtp://mail.example.com:25",
        "smtp://mail.example.com:587?tls=opportunistic",
        "smtp://relay-user:relay-secret@10.1.2.3",
    ] {
        let (status, stderr) = exit_within(
            Command::new(env!("CARGO_BIN_EXE_unipos-server"))
                .args(["--listen", "127.0.0.1:0", "--db", ":memory:"])
                .args(["--smtp-url", url])
                .env_remove("UNIPOS_DEV")
                .env_remove("UNIPOS_OUTBOX"),
            20,
        );
        assert!(!status.success(), "{url}: {stderr}");
        for what_to_give in ["smtps://", "tls=required"] {
            assert!(stderr.contains(what_to_give), "{url}: {stderr}");
        }
        assert!(!stderr.contains("relay-secret"), "{stderr}");
    }
}
