//! A real browser beside the app: Debian's `chromium`, headless, driven through `chromedriver`
//! (W3C WebDriver, the same [`Session`] as the app), for the pages the server shows in a browser.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{driver_log, repo_root, HeldPort, Session, Size, Texts, PATIENCE};

/// Where Debian's `chromium` and `chromium-driver` put them (scripts/setup.sh installs both).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Chromium with a new, empty profile, driven through its own chromedriver.
pub struct Browser {
    session: Session,
    driver: Child,
    /// chromedriver's port, held for as long as it runs.
    _port: HeldPort,
    /// The profile (`--user-data-dir`): new for every browser, gone with it.
    _profile: tempfile::TempDir,
}

impl std::ops::Deref for Browser {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl Browser {
    /// A headless chromium whose window is `size` and whose languages (`Accept-Language`) are
    /// `languages`, e.g. `ja,en`.
    pub async fn open(size: Size, languages: &str) -> Result<Browser> {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            anyhow::ensure!(
                Path::new(path).is_file(),
                "{path} is missing: install Debian's {package} (scripts/setup.sh does)"
            );
        }
        let port = HeldPort::new();
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={}", port.port()))
            .stdout(Stdio::null())
            .stderr(driver_log(port.port())?);
        // Its own process group, so that ending the test ends chromedriver and chromium together.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().context("starting chromedriver")?;
        let profile = tempfile::tempdir()?;
        let mut browser = Browser {
            session: Session::new(format!("http://127.0.0.1:{}", port.port()), size)?,
            driver,
            _port: port,
            _profile: profile,
        };
        browser
            .session
            .wait_for_driver(&format!(
                "target/e2e-logs/driver-{}.log",
                browser._port.port()
            ))
            .await?;
        let (width, height) = size.dimensions();
        // Headless and quiet: no first-run pages, no updates, no sync, no traffic of its own.
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", browser._profile.path().display()),
            format!("--window-size={width},{height}"),
            format!("--lang={}", languages.split(',').next().unwrap_or("en")),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": {"intl.accept_languages": languages},
            },
        }}});
        browser.session.open(&capabilities, PATIENCE).await?;
        browser.set_viewport(width, height).await?;
        Ok(browser)
    }

    /// Makes the page's viewport `width`×`height` CSS pixels (the window around it is bigger).
    async fn set_viewport(&self, width: u32, height: u32) -> Result<()> {
        self.cmd(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await?;
        let inner = self
            .js("return [window.innerWidth, window.innerHeight]", json!([]))
            .await?;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(0),
            inner[1].as_u64().unwrap_or(0),
        );
        if (w, h) != (u64::from(width), u64::from(height)) {
            let outer = (
                i64::from(width) + i64::from(width) - w as i64,
                i64::from(height) + i64::from(height) - h as i64,
            );
            self.cmd(
                "POST",
                "/window/rect",
                json!({"width": outer.0, "height": outer.1}),
            )
            .await?;
        }
        Ok(())
    }

    /// Opens `url` as if typed into the address bar.
    pub async fn go(&self, url: &str) -> Result<()> {
        self.cmd("POST", "/url", json!({ "url": url }))
            .await
            .map(drop)
    }

    /// What the address bar shows.
    pub async fn url(&self) -> Result<String> {
        Ok(self
            .raw("GET", "/url", None)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Where the visible link `name` leads, as its `href` is written.
    pub async fn href_of(&self, name: &str) -> Result<String> {
        let link = self.control(name).await?;
        let href = self
            .js(
                "return arguments[0].getAttribute('href')",
                json!([link.reference()]),
            )
            .await?;
        Ok(href.as_str().unwrap_or_default().to_owned())
    }

    /// How many entries this tab's history holds.
    pub async fn history_length(&self) -> Result<u64> {
        Ok(self
            .js("return history.length", json!([]))
            .await?
            .as_u64()
            .unwrap_or_default())
    }

    /// The browser's back button.
    pub async fn back(&self) -> Result<()> {
        self.cmd("POST", "/back", json!({})).await.map(drop)
    }

    /// Ends the session and the browser.
    pub async fn close(mut self) -> Result<()> {
        let result = self.raw("DELETE", "", None).await.map(drop);
        self.stop_driver();
        result
    }

    fn stop_driver(&mut self) {
        // SAFETY: signals the process group this Browser started; no memory is touched.
        unsafe {
            libc::kill(-(self.driver.id() as i32), libc::SIGTERM);
        }
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            self.stop_driver();
        }
    }
}

/// A page of another site: a small HTTP server on `ip` (another loopback address is another
/// site; another port of the same address is the same site, another origin) that answers every
/// request with `html`.
pub struct ForeignSite {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ForeignSite {
    pub async fn serve(ip: IpAddr, html: String) -> Result<ForeignSite> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let html = html.clone();
                tokio::spawn(async move {
                    // The request head is all there is (GET); its content does not matter.
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{html}",
                        html.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Ok(ForeignSite { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for ForeignSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Texts {
    /// The reset page's texts in `language`: the app's catalogue, which the page shares, and the
    /// page's own (`crates/server/src/reset_page/<language>.json`).
    pub fn for_reset_page(language: &str) -> Result<Texts> {
        let mut texts = Texts::load(language)?;
        let path = repo_root().join(format!("crates/server/src/reset_page/{language}.json"));
        let own: serde_json::Map<String, Value> = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("no catalogue at {}", path.display()))?,
        )?;
        texts.catalogue.extend(own);
        Ok(texts)
    }
}

impl crate::Backend {
    /// Asks for a reset mail as the app does: with the challenge of a verifier the app keeps, so
    /// that the mailed link is bound to the app.
    pub async fn forgot_in_the_app(&self, email: &str) -> Result<()> {
        let challenge =
            unipos_protocol::binding::code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let status = crate::http_client()
            .build()?
            .post(format!("{}/api/v1/password/forgot", self.api_url()))
            .header("content-type", "application/json")
            .body(json!({ "email": email, "code_challenge": challenge }).to_string())
            .send()
            .await?
            .status();
        anyhow::ensure!(status.as_u16() == 202, "forgot answered {status}");
        Ok(())
    }
}
