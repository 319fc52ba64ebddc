//! A W3C WebDriver session over one keep-alive connection, and its elements.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use serde_json::{json, Value};

use crate::*;

/// The key of an element reference in WebDriver's answers.
pub(crate) const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A W3C WebDriver session over one keep-alive connection: what driving the app (through
/// WebKitWebDriver) and driving a browser (chromium through chromedriver) share.
pub struct Session {
    http: reqwest::Client,
    base: String,
    pub size: Size,
}

impl Session {
    /// A driver that answers at `driver` (`http://127.0.0.1:PORT`); no session yet.
    pub(crate) fn new(driver: String, size: Size) -> Result<Session> {
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
    pub(crate) async fn wait_for_driver(&self, log: &str) -> Result<()> {
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
    pub(crate) async fn open(&mut self, capabilities: &Value, patience: Duration) -> Result<()> {
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

impl Session {
    pub(crate) async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
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

    pub(crate) async fn cmd(&self, method: &str, path: &str, body: Value) -> Result<Value> {
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
    pub(crate) async fn wait_js(&self, what: &str, script: &str, args: Value) -> Result<Value> {
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

    /// Whether the element at `xpath` is there and displayed, as WebDriver itself judges it
    /// (Find Element, then Is Element Displayed: no script of the caller's in the page).
    pub async fn displayed(&self, xpath: &str) -> Result<bool> {
        let Ok(found) = self
            .cmd(
                "POST",
                "/element",
                json!({"using": "xpath", "value": xpath}),
            )
            .await
        else {
            return Ok(false);
        };
        let element = Element::from(found)?;
        let shown = self
            .raw("GET", &format!("/element/{}/displayed", element.0), None)
            .await;
        // Gone again between the two requests (the page replaced it): not displayed yet.
        Ok(shown.is_ok_and(|v| v == json!(true)))
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

/// A WebDriver element reference.
pub struct Element(String);

impl Element {
    fn from(value: Value) -> Result<Element> {
        value[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_owned()))
            .ok_or_else(|| anyhow!("not an element: {value}"))
    }

    pub(crate) fn reference(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

/// A reqwest client builder for plain HTTP on loopback. In a workspace build reqwest carries TLS
/// without a crypto provider (the app's client installs ring), so ring is installed here too.
pub(crate) fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Each command is one small request and its answer: sent at once, not held for an ACK.
    reqwest::Client::builder().tcp_nodelay(true)
}
