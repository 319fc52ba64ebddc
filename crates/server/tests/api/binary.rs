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
        .arg(dir.path().join("db.sqlite3"))
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
    let rest: Vec<String> = stdout.lines().take(5).map(Result::unwrap).collect();
    assert_eq!(rest, unipos_server::dev::banner());

    let http = reqwest::Client::new();
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

#[test]
fn outside_dev_mode_mail_goes_to_disk_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--listen", "127.0.0.1:0", "--db", ":memory:"])
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

    // With --outbox it starts (and prints where it listens first).
    let child = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--listen", "127.0.0.1:0", "--db", ":memory:", "--outbox"])
        .arg(dir.path().join("mail"))
        .env_remove("UNIPOS_DEV")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let mut first = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first}"
    );
}
