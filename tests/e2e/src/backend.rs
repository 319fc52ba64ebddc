//! The member's world: the reference server with its demo organisation, mail and keychain,
//! and the app's own home folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde_json::{json, Value};
use unipos_server::SentMail;
use unipos_testsupport::TestBackend;

use unipos_protocol::APP_IDENTIFIER;

use crate::*;

/// The member's world: the reference server with its demo organisation, and a home folder of
/// the app's own (store, WebKit data) that lives as long as the test.
pub struct Backend {
    /// The server, its folder and its clock (tests move it forward instead of waiting).
    backend: TestBackend,
    home: tempfile::TempDir,
    api_url: String,
}

impl std::ops::Deref for Backend {
    type Target = TestBackend;
    fn deref(&self) -> &TestBackend {
        &self.backend
    }
}

impl Backend {
    pub async fn start() -> Result<Backend> {
        let backend = TestBackend::start().await;
        Ok(Backend {
            api_url: backend.server().base_url().as_str().to_owned(),
            backend,
            home: tempfile::tempdir()?,
        })
    }

    /// A backend whose API address refuses connections (the server is down), held so that
    /// nothing else takes it; [`Backend::start_server_at`] brings the server up there later.
    pub fn down() -> Result<(HeldPort, tempfile::TempDir)> {
        Ok((HeldPort::new(), tempfile::tempdir()?))
    }

    /// Starts the server on `port`, which stays held until the server listens on it.
    pub async fn start_server_at(port: HeldPort, home: tempfile::TempDir) -> Result<Backend> {
        let backend = TestBackend::start_with(|config| config.listen = port.addr()).await;
        drop(port);
        Ok(Backend {
            api_url: backend.server().base_url().as_str().to_owned(),
            backend,
            home,
        })
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The environment the app runs in: its own home, pointed at this server.
    pub fn app_env(&self) -> Vec<(String, String)> {
        app_env(self.home.path(), &self.api_url)
    }

    pub async fn open_app(&self, size: Size) -> Result<App> {
        App::launch(self.app_env(), size, &[]).await
    }

    /// A cold start: the app launched with `url` as its argument, as the OS does for a link.
    pub async fn open_app_with_link(&self, size: Size, url: &str) -> Result<App> {
        App::launch(self.app_env(), size, &[url.to_owned()]).await
    }

    /// A second launch with `url`, as the OS does when a link is opened while the app runs:
    /// single-instance hands the URL to the running app and this process ends.
    pub fn launch_again_with(&self, url: &str) -> Result<()> {
        let status = Command::new(app_binary()?)
            .arg(url)
            .envs(self.app_env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        // It must hand over and leave, not open a second window.
        if !status.success() {
            bail!("the second launch exited with {status}");
        }
        Ok(())
    }

    /// Mails sent to `to`, oldest first, waiting until there are at least `count`.
    pub async fn mails_to(&self, to: &str, count: usize) -> Result<Vec<SentMail>> {
        Ok(self.backend.wait_for_mails(to, count).await)
    }

    /// The link of reset mail #`nth` to `to`, once it is there.
    pub async fn reset_link(&self, to: &str, nth: usize) -> Result<String> {
        Ok(self.backend.reset_link(to, nth).await)
    }

    /// What the team's admin does for a Login ID member, over the API: log in, reset the
    /// member's password, make their Account Information sheet in `lang`. Answers the PDF.
    pub async fn account_sheet(&self, login_id: &str, lang: &str) -> Result<Vec<u8>> {
        let http = http_client().build()?;
        let api = format!("{}/api/v1", self.api_url.trim_end_matches('/'));
        let login = http
            .post(format!("{api}/sessions"))
            .header("content-type", "application/json")
            .body(json!({ "email": DEMO_ADMIN_EMAIL, "password": DEMO_ADMIN_PASSWORD }).to_string())
            .send()
            .await?;
        ensure!(
            login.status().as_u16() == 201,
            "the admin's login answered {}",
            login.status()
        );
        let login: Value = serde_json::from_slice(&login.bytes().await?)?;
        let token = login["session"]["token"]
            .as_str()
            .context("no session")?
            .to_owned();
        let found = http
            .get(format!("{api}/admin/members?query={login_id}"))
            .bearer_auth(&token)
            .send()
            .await?;
        let found: Value = serde_json::from_slice(&found.bytes().await?)?;
        let id = found["members"][0]["id"]
            .as_str()
            .with_context(|| format!("no member {login_id}: {found}"))?
            .to_owned();
        let reset = http
            .post(format!("{api}/admin/members/{id}/password_reset"))
            .bearer_auth(&token)
            .send()
            .await?;
        ensure!(
            reset.status().is_success(),
            "the reset answered {}",
            reset.status()
        );
        let sheet = http
            .get(format!(
                "{api}/admin/members/{id}/account_sheet?lang={lang}"
            ))
            .bearer_auth(&token)
            .send()
            .await?;
        ensure!(
            sheet.status().is_success(),
            "the sheet answered {}",
            sheet.status()
        );
        Ok(sheet.bytes().await?.to_vec())
    }

    /// Asks for a reset mail over the API directly (as another device of the member would).
    pub async fn forgot(&self, email: &str) -> Result<()> {
        let status = http_client()
            .build()?
            .post(format!("{}/api/v1/password/forgot", self.api_url))
            .header("content-type", "application/json")
            .body(json!({ "email": email }).to_string())
            .send()
            .await?
            .status();
        ensure!(status.as_u16() == 202, "forgot answered {status}");
        Ok(())
    }

    /// The session token the app keeps in the keychain for this server, if any (`secret-tool`).
    pub fn session_token_in_keychain(&self) -> Result<Option<String>> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", APP_IDENTIFIER])
            .args(["username", &self.api_url])
            .output()
            .context("secret-tool (libsecret-tools) is needed")?;
        if !out.status.success() || out.stdout.is_empty() {
            return Ok(None);
        }
        let secret: Value = serde_json::from_slice(&out.stdout)
            .context("the keychain item is not the app's session")?;
        let token = secret["token"]
            .as_str()
            .ok_or_else(|| anyhow!("no token in the keychain item"))?;
        Ok(Some(token.to_owned()))
    }

    /// Every reset token the server has mailed so far.
    pub fn mailed_tokens(&self) -> Vec<String> {
        self.server()
            .outbox()
            .iter()
            .flat_map(|m| &m.links)
            .filter_map(|l| l.split_once("token=").map(|(_, t)| t.to_owned()))
            .collect()
    }

    /// Where the app writes its log: tauri-plugin-log's `LogDir` target, the app's log folder
    /// (`$XDG_DATA_HOME/<identifier>/logs` on Linux) in this backend's home.
    pub fn app_log_dir(&self) -> PathBuf {
        self.home
            .path()
            .join(".local/share")
            .join(APP_IDENTIFIER)
            .join("logs")
    }

    /// Everything the app logged (`Unipos.log`, and any file the plugin rotated out), also
    /// copied to `target/e2e-logs/app-PORT.log`.
    pub fn app_log(&self) -> Result<String> {
        let dir = self.app_log_dir();
        let current = dir.join("Unipos.log");
        ensure!(
            current.is_file(),
            "the app wrote no log at {}; its home holds: {:?}",
            current.display(),
            files_under(self.home.path())
        );
        let mut log = String::new();
        for entry in std::fs::read_dir(&dir)? {
            log += &std::fs::read_to_string(entry?.path())?;
        }
        // Kept beside the drivers' logs: `target/e2e-logs/app-PORT.log`.
        let port = self.server().addr().port();
        let copy = repo_root().join(format!("target/e2e-logs/app-{port}.log"));
        std::fs::create_dir_all(copy.parent().unwrap_or(&dir))?;
        std::fs::write(copy, &log)?;
        Ok(log)
    }

    /// Whether `secret-tool` finds the app's session in the keychain for this server.
    pub fn session_in_keychain(&self) -> Result<bool> {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", APP_IDENTIFIER])
            .args(["username", &self.api_url])
            .output()
            .context("secret-tool (libsecret-tools) is needed")?;
        let listing = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        Ok(listing.contains(&format!("attribute.service = {APP_IDENTIFIER}")))
    }

    /// Logs in over the API directly (not through the app), to check a password.
    pub async fn password_works(&self, email: &str, password: &str) -> Result<bool> {
        let status = http_client()
            .build()?
            .post(format!("{}/api/v1/sessions", self.api_url))
            .header("content-type", "application/json")
            .body(json!({ "email": email, "password": password }).to_string())
            .send()
            .await?
            .status();
        Ok(status.as_u16() == 201)
    }
}

/// The files under `dir`, for messages.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// The environment of an app with its own home, pointed at `api_url`.
pub fn app_env(home: &Path, api_url: &str) -> Vec<(String, String)> {
    let sub = |name: &str| home.join(name).to_string_lossy().into_owned();
    vec![
        ("HOME".into(), home.to_string_lossy().into_owned()),
        ("XDG_DATA_HOME".into(), sub(".local/share")),
        ("XDG_CONFIG_HOME".into(), sub(".config")),
        ("XDG_CACHE_HOME".into(), sub(".cache")),
        ("UNIPOS_API_URL".into(), api_url.to_owned()),
        ("UNIPOS_WEB_BASE".into(), api_url.to_owned()),
        ("LANG".into(), "en_US.UTF-8".into()),
    ]
}
