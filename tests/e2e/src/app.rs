//! One running app, driven through a WebDriver session, at one of the two sizes; and the app
//! processes found through /proc.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use serde_json::json;

use crate::*;

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

/// One running app, driven through a WebDriver session.
pub struct App {
    /// The app's binary: tells its processes apart from other programs'.
    binary: PathBuf,
    driver: Child,
    /// WebKitWebDriver's port, held for as long as it runs.
    _port: HeldPort,
    /// The app's HOME: tells its processes apart from other apps'.
    home: String,
    session: Session,
}

/// WebKitGTK's WebDriver server (Debian's webkit2gtk-driver).
const WEBKIT_WEBDRIVER: &str = "/usr/bin/WebKitWebDriver";

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

    /// Starts WebKitWebDriver for `binary`, and waits until it answers; no session, so no app,
    /// yet. Directly, not through tauri-driver: on Linux that only renames the capabilities
    /// (below) and passes each request on, and its hop to WebKitWebDriver (hyper's client,
    /// without `TCP_NODELAY`) held a command's answer about 40 ms now and then (Nagle's
    /// algorithm waiting on a delayed ACK), in about one command of three near an app's start.
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
        let held = HeldPort::new();
        let port = held.port();
        let mut command = Command::new(WEBKIT_WEBDRIVER);
        command
            .arg(format!("--port={port}"))
            .arg("--host=127.0.0.1")
            .envs(env)
            // Tauri's web view lets WebDriver automate it only when this is set.
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .stdout(Stdio::null())
            .stderr(driver_log(port)?);
        // Its own process group, so that ending the test ends the driver and the app together.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().with_context(|| {
            format!("{WEBKIT_WEBDRIVER} is needed (apt-get install webkit2gtk-driver)")
        })?;
        let app = App {
            binary,
            driver,
            _port: held,
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
            "webkitgtk:browserOptions": {"binary": self.binary, "args": args},
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
        app.wait_for_ui().await?;
        let (width, height) = app.size.dimensions();
        app.cmd(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await?;
        Ok(())
    }

    /// Waits until the UI's script has taken the page over: the prerendered Log in shows a
    /// moment before, and a tap before is lost.
    pub async fn wait_for_ui(&self) -> Result<()> {
        self.wait_js(
            "the UI to take the page over",
            "return performance.getEntriesByName(arguments[0]).length > 0",
            json!([UI_READY_MARK]),
        )
        .await
        .map(drop)
    }

    /// The app's process (the web view's processes are its children), once it runs.
    pub fn pid(&self) -> Option<i32> {
        apps(&self.binary, Some(&self.home)).first().copied()
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
pub(crate) async fn end_apps(binary: &Path, home: Option<&str>) -> Result<()> {
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
