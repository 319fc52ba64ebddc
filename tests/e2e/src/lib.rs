//! Drives the real, built app through WebDriver (tauri-driver in front of WebKitWebDriver) against
//! the real reference server, the way a member would: by the labels and button texts on screen.
//! A [`Browser`] (headless chromium through chromedriver) speaks the same [`Session`] to the
//! pages the server shows in a browser.
//!
//! Needs a display, a D-Bus session with an unlocked Secret Service, `tauri-driver` and
//! `WebKitWebDriver`, and the app built with production assets; for the browser, `chromium` and
//! `chromedriver`. `scripts/test.sh` provides all of them (`scripts/e2e.sh` runs just these
//! tests); outside them every test fails and says why.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use base64::Engine;
use serde_json::{json, Value};
use unipos_protocol::APP_IDENTIFIER;
use unipos_server::{Clock, Config, RunningServer, SentMail};

pub use unipos_server::dev::{
    DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_DISPLAY_NAME, DEMO_EMAIL, DEMO_LOGIN_ID,
    DEMO_LOGIN_ID_DISPLAY_NAME, DEMO_LOGIN_ID_PASSWORD, DEMO_PASSWORD, DEMO_TEAM,
};

/// A PDF's page as pixels (poppler) and the QR codes in its quarters (zbarimg), as a phone's
/// camera reads a printed Account Information sheet.
#[path = "../../../crates/server/src/account_sheet/pdf_tools.rs"]
pub mod pdf_tools;

mod browser;
pub use browser::{Browser, ForeignSite};

/// How long a screen may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(15);
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The two window sizes every flow is checked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 390×844: phone presentation.
    Phone,
    /// 1280×800: desktop presentation.
    Desktop,
}

impl Size {
    pub const ALL: [Size; 2] = [Size::Phone, Size::Desktop];

    pub fn dimensions(self) -> (u32, u32) {
        match self {
            Size::Phone => (390, 844),
            Size::Desktop => (1280, 800),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Size::Phone => "phone",
            Size::Desktop => "desktop",
        }
    }
}

/// The top of the checkout.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The app under test: `UNIPOS_E2E_APP`, else the debug build with production assets.
pub fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("UNIPOS_E2E_APP") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("target/debug/unipos-app"),
    };
    if !path.is_file() {
        bail!(
            "{} is missing: build it with production assets (scripts/e2e.sh does)",
            path.display()
        );
    }
    Ok(path)
}

/// Support staff's CLI, `unipos` (scripts/e2e.sh builds it).
pub fn cli_binary() -> Result<PathBuf> {
    let path = repo_root().join("target/debug/unipos");
    if !path.is_file() {
        bail!("{} is missing: cargo build -p unipos-cli", path.display());
    }
    Ok(path)
}

/// Where the tests leave screenshots of what they saw: `target/e2e-screenshots/NAME.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    repo_root().join(format!("target/e2e-screenshots/{name}.png"))
}

/// What tauri-driver, WebKitWebDriver and the app print: `target/e2e-logs/driver-PORT.log`.
fn driver_log(port: u16) -> Result<std::fs::File> {
    let dir = repo_root().join("target/e2e-logs");
    std::fs::create_dir_all(&dir)?;
    Ok(std::fs::File::create(
        dir.join(format!("driver-{port}.log")),
    )?)
}

/// A loopback port held for a process that listens on it later, so that nothing else can take
/// it in between: a socket bound to it with `SO_REUSEADDR` that does not listen.
///
/// While it is held, the kernel gives the port to no one else (no `bind` to port 0, no outgoing
/// connection's local port), connections to it are refused, and a listener that also sets
/// `SO_REUSEADDR` can bind and listen on it: tokio's (the server, tauri-driver) and GLib's
/// (WebKitWebDriver) do. There is no gap in which the port is free, unlike binding port 0,
/// reading the port and closing the socket before the real listener binds it. Dropping it frees
/// the port. (The server cannot be handed a listener: `unipos_server::spawn` binds
/// `config.listen` itself; nor can tauri-driver and WebKitWebDriver, which take a port number.)
pub struct HeldPort {
    _socket: socket2::Socket,
    addr: SocketAddr,
}

impl HeldPort {
    pub fn new() -> Result<HeldPort> {
        use socket2::{Domain, Protocol, Socket, Type};
        // Close-on-exec (socket2 sets it): the drivers and the app must not inherit the hold.
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        let addr = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| anyhow!("a loopback socket without an address"))?;
        Ok(HeldPort {
            _socket: socket,
            addr,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// The member's world: the reference server with its demo organisation, and a home folder of
/// the app's own (store, WebKit data) that lives as long as the test.
pub struct Backend {
    pub server: RunningServer,
    /// The server's clock: tests move it forward instead of waiting.
    pub clock: Clock,
    _server_dir: tempfile::TempDir,
    home: tempfile::TempDir,
    api_url: String,
}

impl Backend {
    pub async fn start() -> Result<Backend> {
        let server_dir = tempfile::tempdir()?;
        let config = Config::for_tests(server_dir.path());
        let clock = config.clock.clone();
        let server = unipos_server::testing::spawn_with_demo(config).await?;
        let api_url = server.base_url().as_str().to_owned();
        Ok(Backend {
            server,
            clock,
            _server_dir: server_dir,
            home: tempfile::tempdir()?,
            api_url,
        })
    }

    /// A backend whose API address refuses connections (the server is down), held so that
    /// nothing else takes it; [`Backend::start_server_at`] brings the server up there later.
    pub fn down() -> Result<(HeldPort, tempfile::TempDir)> {
        Ok((HeldPort::new()?, tempfile::tempdir()?))
    }

    /// Starts the server on `port`, which stays held until the server listens on it.
    pub async fn start_server_at(port: HeldPort, home: tempfile::TempDir) -> Result<Backend> {
        let server_dir = tempfile::tempdir()?;
        let mut config = Config::for_tests(server_dir.path());
        config.listen = port.addr();
        let clock = config.clock.clone();
        let server = unipos_server::testing::spawn_with_demo(config).await?;
        drop(port);
        Ok(Backend {
            api_url: server.base_url().as_str().to_owned(),
            server,
            clock,
            _server_dir: server_dir,
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
        let deadline = Instant::now() + PATIENCE;
        loop {
            let mails: Vec<SentMail> = self
                .server
                .outbox()
                .into_iter()
                .filter(|m| m.to.eq_ignore_ascii_case(to))
                .collect();
            if mails.len() >= count {
                return Ok(mails);
            }
            if Instant::now() > deadline {
                bail!("mail #{count} to {to} did not arrive");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The link of the newest reset mail to `to`, once mail #`nth` has arrived.
    pub async fn reset_link(&self, to: &str, nth: usize) -> Result<String> {
        let mails = self.mails_to(to, nth).await?;
        mails
            .iter()
            .rev()
            .find(|m| m.subject == unipos_protocol::RESET_MAIL_SUBJECT)
            .and_then(|m| m.links.first().cloned())
            .ok_or_else(|| anyhow!("no reset mail to {to}"))
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
        self.server
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
        let port = self.server.addr().port();
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
fn files_under(dir: &Path) -> Vec<PathBuf> {
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

/// A W3C WebDriver session over one keep-alive connection: what driving the app (through
/// tauri-driver) and driving a browser (chromium through chromedriver) share.
pub struct Session {
    http: reqwest::Client,
    base: String,
    pub size: Size,
}

impl Session {
    /// A driver that answers at `driver` (`http://127.0.0.1:PORT`); no session yet.
    fn new(driver: String, size: Size) -> Result<Session> {
        // One keep-alive connection pool: closing the connection after each command makes
        // WebKitWebDriver reset connections now and then.
        let http = http_client()
            .pool_idle_timeout(None)
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Session {
            http,
            base: driver,
            size,
        })
    }

    /// Waits until the driver answers; `log` says where its output is.
    async fn wait_for_driver(&self, log: &str) -> Result<()> {
        let deadline = Instant::now() + PATIENCE;
        while self
            .http
            .get(format!("{}/status", self.base))
            .send()
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("the WebDriver server did not answer (see {log})");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Asks the driver for a session with `capabilities`, trying for `patience`; commands go to
    /// that session from then on.
    async fn open(&mut self, capabilities: &Value, patience: Duration) -> Result<()> {
        let deadline = Instant::now() + patience;
        let session = loop {
            match self.raw("POST", "/session", Some(capabilities)).await {
                Ok(v) => break v,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => return Err(e.context("no WebDriver session (see target/e2e-logs/)")),
            }
        };
        let id = session["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session id in {session}"))?;
        self.base = format!("{}/session/{id}", self.base);
        Ok(())
    }
}

/// One running app, driven through a WebDriver session.
pub struct App {
    /// The app's binary: tells its processes apart from other programs'.
    binary: PathBuf,
    driver: Child,
    /// tauri-driver's and WebKitWebDriver's ports, held for as long as they run.
    _ports: [HeldPort; 2],
    /// The app's HOME: tells its processes apart from other apps'.
    home: String,
    session: Session,
}

impl std::ops::Deref for App {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl App {
    pub async fn launch(env: Vec<(String, String)>, size: Size, args: &[String]) -> Result<App> {
        let mut app = App::start_driver(app_binary()?, env, size).await?;
        app.open_session(args, PATIENCE).await?;
        app.check_window().await?;
        Ok(app)
    }

    /// Starts tauri-driver (and through it WebKitWebDriver) for `binary`, and waits until it
    /// answers; no session, so no app, yet.
    pub async fn start_driver(
        binary: PathBuf,
        env: Vec<(String, String)>,
        size: Size,
    ) -> Result<App> {
        let binary = binary.canonicalize()?;
        let home = env
            .iter()
            .find(|(k, _)| k == "HOME")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        // An app left running by an earlier test would take this launch over through
        // single-instance (one app per D-Bus session), and the new session would wait for a
        // window that never comes.
        end_apps(&binary, None).await?;
        let (held, native_held) = (HeldPort::new()?, HeldPort::new()?);
        let (port, native_port) = (held.port(), native_held.port());
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            .envs(env)
            .stdout(Stdio::null())
            .stderr(driver_log(port)?);
        // Its own process group, so that ending the test ends the driver, WebKitWebDriver and
        // the app together.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .spawn()
            .context("tauri-driver is needed (cargo install tauri-driver --locked)")?;
        let app = App {
            binary,
            driver,
            _ports: [held, native_held],
            home,
            session: Session::new(format!("http://127.0.0.1:{port}"), size)?,
        };
        app.wait_for_driver(&format!("target/e2e-logs/driver-{port}.log"))
            .await?;
        Ok(app)
    }

    /// Asks the driver for a session, which launches the app with `args`.
    pub async fn open_session(&mut self, args: &[String], patience: Duration) -> Result<()> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": self.binary, "args": args},
        }}});
        self.session.open(&capabilities, patience).await
    }

    /// Sets the window to the app's size and checks it shows its own screens.
    async fn check_window(&mut self) -> Result<()> {
        let app = self;
        // A plain `cargo build` makes a dev build that loads the Vite dev server instead of its
        // own screens; say so rather than fail on a blank page.
        let origin = app
            .wait_js(
                "the app's first page (a dev build, which loads the Vite dev server instead, \
                 shows \"Could not connect to localhost\": scripts/e2e.sh builds the app right)",
                "return location.href === 'about:blank' ? null : location.href",
                json!([]),
            )
            .await?;
        ensure!(
            origin.as_str().is_some_and(|o| o.starts_with("tauri:")),
            "the app under test loads {origin}, not its own screens: it is a dev build; \
             build it with production assets (scripts/e2e.sh does)"
        );
        // The window is made hidden and shown once its page has loaded; nothing in it can be
        // tapped before, and WebKitWebDriver resizing it while hidden leaves its web view
        // unpainted.
        app.wait_js(
            "the window to be shown",
            "return document.visibilityState === 'visible'",
            json!([]),
        )
        .await?;
        let (width, height) = app.size.dimensions();
        app.cmd(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await?;
        Ok(())
    }

    /// The app's process (the web view's processes are its children), once it runs.
    pub fn pid(&self) -> Option<i32> {
        apps(&self.binary, Some(&self.home)).first().copied()
    }
}

impl Session {
    async fn raw(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.cloned().unwrap_or(json!({})).to_string()),
        };
        let response = request.send().await?;
        let status = response.status();
        let body: Value = serde_json::from_slice(&response.bytes().await?)?;
        if !status.is_success() {
            bail!("{method} {path}: {status} {}", body["value"]);
        }
        Ok(body["value"].clone())
    }

    async fn cmd(&self, method: &str, path: &str, body: Value) -> Result<Value> {
        self.raw(method, path, Some(&body)).await
    }

    /// Runs `script` in the web view; `arguments[i]` are `args`.
    pub async fn js(&self, script: &str, args: Value) -> Result<Value> {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Waits until `script` returns an element (or a truthy value) and returns it.
    async fn wait_js(&self, what: &str, script: &str, args: Value) -> Result<Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = self.js(script, args.clone()).await?;
            if !(found.is_null() || found == json!(false)) {
                return Ok(found);
            }
            if Instant::now() > deadline {
                let text = self.page_text().await.unwrap_or_default();
                bail!(
                    "{what} did not appear at {:?} size; the screen shows:\n{text}",
                    self.size
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Everything the screen shows, as text.
    pub async fn page_text(&self) -> Result<String> {
        Ok(self
            .js("return document.body.innerText", json!([]))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Waits until `text` is shown.
    pub async fn wait_for_text(&self, text: &str) -> Result<()> {
        self.wait_js(
            &format!("the text {text:?}"),
            "return document.body.innerText.includes(arguments[0])",
            json!([text]),
        )
        .await
        .map(drop)
    }

    /// Waits until a heading reads `title`.
    pub async fn wait_for_screen(&self, title: &str) -> Result<()> {
        self.wait_js(
            &format!("the screen {title:?}"),
            "return [...document.querySelectorAll('h1,h2')]
                .some(h => h.offsetParent !== null && h.textContent.trim() === arguments[0])",
            json!([title]),
        )
        .await
        .map(drop)
    }

    /// The visible button or link whose text (or accessible name) is exactly `name`.
    pub async fn control(&self, name: &str) -> Result<Element> {
        let found = self
            .wait_js(
                &format!("a button or link {name:?}"),
                // The name a screen reader reads: aria-label, else the text without the parts
                // hidden from assistive technology (chevrons and other decoration).
                "const name = e => {
                    if (e.getAttribute('aria-label')) return e.getAttribute('aria-label');
                    const copy = e.cloneNode(true);
                    copy.querySelectorAll('[aria-hidden=true]').forEach(h => h.remove());
                    return copy.textContent.trim();
                 };
                 return [...document.querySelectorAll('button,a,[role=tab],[role=menuitem]')]
                    .find(e => e.offsetParent !== null && name(e) === arguments[0]) || null",
                json!([name]),
            )
            .await?;
        Element::from(found)
    }

    /// The visible controls of the screen that holds the control `name` (buttons, links, fields,
    /// tabs, disclosures) that are not wholly above it: empty when `name` is the screen's
    /// lowest control.
    pub async fn controls_not_above(&self, name: &str) -> Result<Vec<String>> {
        let control = self.control(name).await?;
        let found = self
            .js(
                "const me = arguments[0];
                 const screen = me.closest('section') || document.body;
                 const top = me.getBoundingClientRect().top;
                 return [...screen.querySelectorAll('button,a,input,select,textarea,summary,[role=tab]')]
                    .filter(e => e !== me)
                    // Shown: not in a folded disclosure (its summary aside), and with a box.
                    .filter(e => { const d = e.closest('details'); return !d || d.open || e.closest('summary'); })
                    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })
                    .filter(e => e.getBoundingClientRect().bottom > top + 0.5)
                    .map(e => (e.getAttribute('aria-label') || e.textContent || e.id || e.tagName).trim())",
                json!([control.reference()]),
            )
            .await?;
        let names = found
            .as_array()
            .ok_or_else(|| anyhow!("not a list of controls: {found}"))?;
        names
            .iter()
            .map(|n| {
                n.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("not a control's name: {n}"))
            })
            .collect()
    }

    /// The horizontal centre of the control `name`, in CSS pixels from the window's left edge.
    pub async fn center_x(&self, name: &str) -> Result<f64> {
        let control = self.control(name).await?;
        let x = self
            .js(
                "const r = arguments[0].getBoundingClientRect(); return r.left + r.width / 2",
                json!([control.reference()]),
            )
            .await?;
        x.as_f64()
            .ok_or_else(|| anyhow!("no position for {name:?}: {x}"))
    }

    /// The visible form field labelled `label`.
    pub async fn field(&self, label: &str) -> Result<Element> {
        let found = self
            .wait_js(
                &format!("a field labelled {label:?}"),
                "const visible = e => e && e.offsetParent !== null;
                 const byLabel = [...document.querySelectorAll('label')]
                    .filter(l => visible(l.control) && l.textContent.trim() === arguments[0])
                    .map(l => l.control);
                 const byAria = [...document.querySelectorAll('input,textarea')]
                    .filter(e => visible(e) && e.getAttribute('aria-label') === arguments[0]);
                 return byLabel[0] || byAria[0] || null",
                json!([label]),
            )
            .await?;
        Element::from(found)
    }

    pub async fn click(&self, name: &str) -> Result<()> {
        let button = self.control(name).await?;
        self.wait_js(
            &format!("{name:?} to be enabled"),
            "return !arguments[0].disabled",
            json!([button.reference()]),
        )
        .await?;
        self.cmd("POST", &format!("/element/{}/click", button.0), json!({}))
            .await
            .map(drop)
    }

    /// Replaces the content of the field labelled `label` with `text`, typed key by key.
    pub async fn fill(&self, label: &str, text: &str) -> Result<()> {
        let field = self.field(label).await?;
        self.cmd("POST", &format!("/element/{}/clear", field.0), json!({}))
            .await?;
        self.cmd(
            "POST",
            &format!("/element/{}/value", field.0),
            json!({"text": text}),
        )
        .await
        .map(drop)
    }

    /// The current value of the field labelled `label`.
    pub async fn value_of(&self, label: &str) -> Result<String> {
        let field = self.field(label).await?;
        Ok(self
            .js("return arguments[0].value", json!([field.reference()]))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// What the app wrote to the clipboard (the X server's CLIPBOARD selection, read with
    /// xclip), once it holds text containing `expected`.
    pub async fn clipboard_with(&self, expected: &str) -> Result<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let out = Command::new("xclip")
                .args(["-o", "-selection", "clipboard"])
                .output()
                .context("xclip (scripts/setup.sh installs it)")?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.contains(expected) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                bail!("the clipboard holds no {expected:?} but {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for a visible `role="alert"` region holding `text`, and returns all its text.
    pub async fn alert_with(&self, text: &str) -> Result<String> {
        let found = self
            .wait_js(
                &format!("an alert saying {text:?}"),
                "return [...document.querySelectorAll('[role=alert]')]
                    .map(a => a.innerText)
                    .find(t => t.includes(arguments[0])) || null",
                json!([text]),
            )
            .await?;
        Ok(found.as_str().unwrap_or_default().to_owned())
    }

    /// Runs `script` in the page until it calls its last argument (its callback), for at most
    /// `patience`, and returns what it was called with.
    pub async fn js_async(&self, script: &str, args: Value, patience: Duration) -> Result<Value> {
        let ms = u64::try_from(patience.as_millis()).unwrap_or(u64::MAX);
        self.cmd("POST", "/timeouts", json!({"script": ms})).await?;
        self.cmd(
            "POST",
            "/execute/async",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Clicks the visible field labelled `label` (a radio button or a checkbox).
    pub async fn pick(&self, label: &str) -> Result<()> {
        let field = self.field(label).await?;
        self.cmd("POST", &format!("/element/{}/click", field.0), json!({}))
            .await
            .map(drop)
    }

    /// Waits until `script` returns something truthy.
    pub async fn wait_until(&self, what: &str, script: &str) -> Result<()> {
        self.wait_js(what, script, json!([])).await.map(drop)
    }

    /// Runs axe-core (WCAG 2 A and AA rules, and best practices) over the screen as it is now.
    pub async fn axe(&self) -> Result<AxeReport> {
        // Injected once per page: the screens are one page, so this is once per app.
        let loaded = self
            .js("return typeof window.axe === 'object'", json!([]))
            .await?;
        if loaded != json!(true) {
            self.js(&format!("{};\nreturn true", axe_source()?), json!([]))
                .await?;
        }
        let found = self
            .cmd(
                "POST",
                "/execute/async",
                json!({
                    "script": "const done = arguments[arguments.length - 1];
                               axe.run(document, {resultTypes: ['violations']})
                                 .then(r => done({
                                   passes: r.passes.length,
                                   violations: r.violations.map(v => ({
                                     rule: v.id, impact: v.impact || 'minor', help: v.help,
                                     targets: v.nodes.map(n => n.target.join(' ')),
                                   })),
                                 }))
                                 .catch(e => done({error: String(e)}));",
                    "args": [],
                }),
            )
            .await?;
        if let Some(error) = found.get("error") {
            bail!("axe-core failed: {error}");
        }
        // An answer of another shape is an error, never "no violation".
        let text = |v: &Value, key: &str| -> Result<String> {
            v[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("axe-core answered a violation without {key:?}: {v}"))
        };
        let violations = found["violations"]
            .as_array()
            .ok_or_else(|| anyhow!("axe-core answered no list of violations: {found}"))?
            .iter()
            .map(|v| -> Result<AxeViolation> {
                let targets = v["targets"]
                    .as_array()
                    .ok_or_else(|| anyhow!("axe-core answered a violation without targets: {v}"))?
                    .iter()
                    .map(|t| {
                        t.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| anyhow!("not a target: {t}"))
                    })
                    .collect::<Result<_>>()?;
                Ok(AxeViolation {
                    rule: text(v, "rule")?,
                    impact: text(v, "impact")?,
                    help: text(v, "help")?,
                    targets,
                })
            })
            .collect::<Result<_>>()?;
        let passes = found["passes"]
            .as_u64()
            .ok_or_else(|| anyhow!("axe-core answered no count of passed rules: {found}"))?;
        // A run that checked nothing (an empty page, a context that matched no element) passed
        // no rule: that is not a screen without violations.
        ensure!(
            passes > 0,
            "axe-core passed no rule on this screen: {found}"
        );
        Ok(AxeReport {
            violations,
            passes: passes as usize,
        })
    }

    /// Saves what the window shows as a PNG.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        // WebKitGTK paints after the DOM changes, and under Xvfb its snapshot can lag behind by
        // a few frames: wait for two frames, then a little more, so the picture is of this
        // screen and not the last one. WebKitWebDriver takes the picture at the next paint,
        // which a still page without compositing never makes: for two seconds an empty pixel
        // comes and goes in a corner, which repaints the same pixels.
        self.cmd(
            "POST",
            "/execute/async",
            json!({
                "script": "const done = arguments[arguments.length - 1];
                           const dot = document.createElement('div');
                           dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px';
                           let ticks = 0;
                           const blink = setInterval(() => {
                               if (dot.isConnected) dot.remove(); else document.body.append(dot);
                               if (++ticks > 40) { clearInterval(blink); dot.remove(); }
                           }, 50);
                           requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                "args": [],
            }),
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let encoded = self.raw("GET", "/screenshot", None).await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(())
    }
}

impl App {
    /// Ends the session, which closes the app, and waits until the app has really gone.
    pub async fn close(mut self) -> Result<()> {
        let result = self.raw("DELETE", "", None).await.map(drop);
        self.stop_driver();
        end_apps(&self.binary, Some(&self.home)).await?;
        result
    }

    fn stop_driver(&mut self) {
        // SAFETY: signals the process group this App started; no memory is touched.
        unsafe {
            libc::kill(-(self.driver.id() as i32), libc::SIGTERM);
        }
        let _ = self.driver.wait();
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            self.stop_driver();
        }
    }
}

/// The running processes of `binary`, or only those started with `HOME=home` (found through
/// /proc).
pub fn apps(binary: &Path, home: Option<&str>) -> Vec<i32> {
    let wanted = home.map(|h| format!("HOME={h}"));
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == *binary)
                && wanted.as_ref().is_none_or(|wanted| {
                    std::fs::read(format!("/proc/{pid}/environ"))
                        .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == wanted.as_bytes()))
                })
        })
        .collect()
}

/// Waits up to five seconds for the apps (of `home`, or all) to end, then ends them.
async fn end_apps(binary: &Path, home: Option<&str>) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pids = apps(binary, home);
        if pids.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            for pid in &pids {
                // SAFETY: signals a process of this test's own app; no memory is touched.
                unsafe {
                    libc::kill(*pid, libc::SIGKILL);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            ensure!(
                apps(binary, home).is_empty(),
                "the app {pids:?} would not end"
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The texts of the app's catalogue in one language (`ui/src/i18n/<lang>.json`), for reaching
/// screens by what a member sees in that language.
#[derive(Clone)]
pub struct Texts {
    language: String,
    catalogue: serde_json::Map<String, Value>,
}

impl Texts {
    pub fn load(language: &str) -> Result<Texts> {
        let path = repo_root().join(format!("ui/src/i18n/{language}.json"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("no catalogue at {}", path.display()))?;
        let catalogue = match serde_json::from_str(&text)? {
            Value::Object(map) => map,
            _ => bail!("{} is not a catalogue", path.display()),
        };
        Ok(Texts {
            language: language.to_owned(),
            catalogue,
        })
    }

    pub fn language(&self) -> &str {
        &self.language
    }

    /// The OS locale a member of this language has (`LANG`).
    pub fn locale(&self) -> &'static str {
        match self.language.as_str() {
            "ja" => "ja_JP.UTF-8",
            _ => "en_US.UTF-8",
        }
    }

    /// The text of `key`; a key the catalogue lacks is a mistake in the test.
    pub fn get(&self, key: &str) -> String {
        match self.catalogue.get(key).and_then(Value::as_str) {
            Some(text) => text.to_owned(),
            None => panic!("{key} is not in the {} catalogue", self.language),
        }
    }
}

/// axe-core, from the UI's npm packages (installed by `npm ci` in `ui/`).
fn axe_source() -> Result<String> {
    let path = repo_root().join("ui/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .with_context(|| format!("axe-core is needed at {} (npm ci in ui/)", path.display()))
}

/// One rule axe-core found broken, and where.
#[derive(Debug, Clone)]
pub struct AxeViolation {
    pub rule: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    pub help: String,
    /// CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

impl std::fmt::Display for AxeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {} ({})",
            self.impact,
            self.rule,
            self.help,
            self.targets.join(", ")
        )
    }
}

/// What axe-core found on one screen.
#[derive(Debug, Clone, Default)]
pub struct AxeReport {
    pub violations: Vec<AxeViolation>,
    /// How many rules applied and passed.
    pub passes: usize,
}

impl AxeReport {
    pub fn serious_or_critical(&self) -> impl Iterator<Item = &AxeViolation> {
        self.violations
            .iter()
            .filter(|v| v.impact == "serious" || v.impact == "critical")
    }

    /// `0 violations, 31 rules passed`, or the count by impact and the rules.
    pub fn summary(&self) -> String {
        let count = |impact: &str| {
            self.violations
                .iter()
                .filter(|v| v.impact == impact)
                .count()
        };
        let rules: Vec<String> = self
            .violations
            .iter()
            .map(|v| format!("{}:{}", v.impact, v.rule))
            .collect();
        format!(
            "critical {} serious {} moderate {} minor {}, {} rules passed{}",
            count("critical"),
            count("serious"),
            count("moderate"),
            count("minor"),
            self.passes,
            if rules.is_empty() {
                String::new()
            } else {
                format!(" [{}]", rules.join(" "))
            }
        )
    }
}

/// A WebDriver element reference.
pub struct Element(String);

impl Element {
    fn from(value: Value) -> Result<Element> {
        value[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_owned()))
            .ok_or_else(|| anyhow!("not an element: {value}"))
    }

    fn reference(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

/// A reqwest client builder for plain HTTP on loopback. In a workspace build reqwest carries TLS
/// without a crypto provider (the app's client installs ring), so ring is installed here too.
fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
