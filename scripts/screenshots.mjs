// Drives the built app (target/debug/unipos-app, production assets) through every screen with
// WebDriver (tauri-driver + WebKitWebDriver) and saves docs/screenshots/<screen>-<size>.png, then
// the main screens again with the OS language set to Japanese: docs/screenshots/<screen>-ja-<size>.png.
// Run it through scripts/screenshots.sh, which builds the app and provides Xvfb, a private D-Bus
// session, an unlocked throwaway keyring and a throwaway HOME.
//
// Each size gets its own reference server (--dev, ephemeral loopback port, reset links that
// expire after LINK_TTL_S seconds) so the flows start from the same demo data.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const root = resolve(import.meta.dirname, "..");
const APP = join(root, "target/debug/unipos-app");
const SERVER = join(root, "target/debug/unipos-server");
const OUT = join(root, "docs/screenshots");
const LINK_TTL_S = 45;
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };
const UNKNOWN_TOKEN = "Zz9-_".repeat(9);
const NEW_PASSWORD = "Fresh-pass-42";
/** The Japanese texts the app shows, from its own catalogue. */
const JA = JSON.parse(readFileSync(join(root, "ui/src/i18n/ja.json"), "utf8"));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Starts a reference server and resolves with its base URL. */
function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "unipos-shots-"));
  const child = spawn(
    SERVER,
    [
      "--dev",
      "--listen", "127.0.0.1:0",
      "--db", join(dir, "db.sqlite3"),
      "--outbox", join(dir, "outbox"),
      "--reset-token-ttl", String(LINK_TTL_S),
    ],
    // Not the app's UNIPOS_* settings of an earlier run: the server reads UNIPOS_WEB_BASE too.
    { stdio: ["ignore", "pipe", "inherit"], env: { PATH: process.env.PATH, HOME: process.env.HOME, RUST_LOG: "warn" } },
  );
  children.push(child);
  return new Promise((ok, fail) => {
    child.once("exit", (code) => fail(new Error(`unipos-server exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = line.match(/^listening on (http:\/\/\S+)/);
      if (m) ok({ base: m[1], child });
    });
  });
}

async function api(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** The newest reset link mailed to `to`. */
async function resetLink(base, to) {
  for (let i = 0; i < 100; i++) {
    const { json } = await api(base, "GET", "/api/v1/dev/outbox");
    const mails = (json?.messages ?? []).filter(
      (m) => m.to === to && m.subject === "【Unipos】Password reset",
    );
    const link = mails.at(-1)?.links?.find((l) => l.includes("/reset_password?token="));
    if (link) return link;
    await sleep(100);
  }
  throw new Error(`no reset mail to ${to}`);
}

// --- WebDriver (W3C) over one keep-alive connection --------------------------------------------

class Driver {
  constructor(url) {
    this.url = url;
  }

  async call(method, path, body) {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { "content-type": "application/json", connection: "keep-alive" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (json.value && json.value.error) {
      throw new Error(`${method} ${path}: ${json.value.error}: ${json.value.message}`);
    }
    return json.value;
  }

  async open(args, env) {
    const value = await this.call("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "wry",
          "tauri:options": { application: APP, args },
        },
      },
    });
    this.session = value.sessionId;
    this.env = env;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  async close() {
    if (!this.session) return;
    await this.call("DELETE", this.s("")).catch(() => {});
    this.session = null;
    await sleep(500);
  }

  async size({ width, height }) {
    await this.call("POST", this.s("/window/rect"), { x: 0, y: 0, width, height });
    await sleep(300);
  }

  async find(xpath, timeout = 10000) {
    const until = Date.now() + timeout;
    for (;;) {
      try {
        const el = await this.call("POST", this.s("/element"), { using: "xpath", value: xpath });
        return Object.values(el)[0];
      } catch (e) {
        if (Date.now() > until) throw new Error(`not found: ${xpath} (${e.message})`);
        await sleep(150);
      }
    }
  }

  async click(xpath) {
    const id = await this.find(xpath);
    await this.call("POST", this.s(`/element/${id}/click`), {});
    await sleep(250);
  }

  async type(xpath, text, { clear = true } = {}) {
    const id = await this.find(xpath);
    if (clear) await this.call("POST", this.s(`/element/${id}/clear`), {});
    await this.call("POST", this.s(`/element/${id}/value`), { text });
    await sleep(200);
  }

  async script(source, args = []) {
    return this.call("POST", this.s("/execute/sync"), { script: source, args });
  }

  async shot(name) {
    await sleep(400);
    // Nothing focused: no caret or focus ring left over from the last click.
    await this.script("document.activeElement && document.activeElement.blur && document.activeElement.blur()");
    await sleep(150);
    const png = await this.call("GET", this.s("/screenshot"));
    const file = join(OUT, `${name}.png`);
    writeFileSync(file, Buffer.from(png, "base64"));
    console.log(`  ${file.slice(root.length + 1)}`);
  }
}

const button = (text) => `//button[normalize-space()=${JSON.stringify(text)}]`;
const buttonStarting = (text) => `//button[starts-with(normalize-space(), ${JSON.stringify(text)})]`;
const input = (id) => `//input[@id=${JSON.stringify(id)}]`;
const heading = (text) => `//h1[normalize-space()=${JSON.stringify(text)}]`;

async function run(size) {
  const dims = SIZES[size];
  const name = (screen) => `${screen}-${size}`;
  const { base, child } = await startServer();
  process.env.UNIPOS_API_URL = base;
  process.env.UNIPOS_WEB_BASE = base;
  console.log(`${size}: ${dims.width}×${dims.height}, server ${base}`);

  // A link that will have expired by the end of the run.
  await api(base, "POST", "/api/v1/dev/users", {
    email: "yuki@example.com",
    password: "Unipos-demo-3",
    display_name: "Yuki Tanaka",
    login_method: "email",
  });
  await api(base, "POST", "/api/v1/password/forgot", { email: "yuki@example.com" });
  const expiredLink = await resetLink(base, "yuki@example.com");
  const expiresAt = Date.now() + LINK_TTL_S * 1000;

  const port = await freePort();
  const driver = startDriver(port, "en_GB.UTF-8");
  await sleep(1000);
  const d = new Driver(`http://127.0.0.1:${port}`);

  try {
    // Logged out: Log in, Forgot, Check your email, Reset, then the logged-in screens.
    await d.open([]);
    await d.size(dims);
    await d.find(heading("Log in"));
    await d.shot(name("login"));
    await d.click(`//button[@role="tab"][normalize-space()="Login ID"]`);
    await d.type(input("login-team"), "demo");
    await d.type(input("login-id"), "jiro");
    await d.shot(name("login-id"));
    await d.click(`//button[@role="tab"][normalize-space()="Email address"]`);

    await d.click(button("Reset Password"));
    await d.find(heading("Reset your password"));
    await d.shot(name("forgot"));
    await d.type(input("forgot-email"), "taro@example.com\u3000");
    await d.click(button("Send"));
    await d.find(button("Remove the space"));
    await d.shot(name("forgot-error"));
    await d.click(button("Remove the space"));
    await d.click(button("Send"));
    await d.find(heading("Check your email"));
    await d.shot(name("check-email"));

    await d.click(button("I can't receive the email"));
    await d.find(heading("I can't receive the email"));
    await d.shot(name("cant-receive"));
    await d.click(button("Back"));

    const link = await resetLink(base, "taro@example.com");
    await d.type(input("paste-link"), link);
    await d.click(button("Open the link"));
    await d.find(heading("Set a new password"));
    await d.find("//p[starts-with(normalize-space(), 'For t***@example.com')]", 20000);
    await d.type(input("reset-new"), "fresh-pass");
    await d.find(`//li[@data-rule="min_length"][contains(@class, "met")]`);
    await d.shot(name("reset"));
    await d.type(input("reset-new"), NEW_PASSWORD);
    await d.type(input("reset-confirm"), NEW_PASSWORD);
    await d.click(button("Set password and login"));
    await d.find(heading("Timeline"));
    await d.find("//p[normalize-space()='Hello, Taro Yamada']");
    await d.find(`//li[@class="post"]`);
    await d.shot(name("timeline"));

    if (size === "phone") {
      await d.click(`//button[@aria-label="Menu"]`);
      await d.find(`//div[@role="dialog"]`);
      await d.shot(name("menu"));
      await d.click(`//div[@role="dialog"]//button[normalize-space()="Settings"]`);
      await d.find(heading("Settings"));
      await d.shot(name("settings"));
      await d.click(buttonStarting("Account"));
      await d.find(button("Change"));
      await d.shot(name("settings-account"));
      await d.click(button("Change"));
    } else {
      await d.click(`//button[@aria-label="Menu of Taro Yamada"]`);
      await d.find(`//ul[@role="menu"]`);
      await d.shot(name("menu"));
      await d.click(`//button[@role="menuitem"][normalize-space()="Settings"]`);
      await d.find(heading("Settings"));
      await d.find(input("account-current"));
      await d.shot(name("settings-account"));
    }
    await d.type(input("account-current"), "not-my-password-1");
    await d.type(input("account-new"), "Brand-new-pass-7");
    await d.type(input("account-confirm"), "Brand-new-pass-7");
    await d.click(button("Save"));
    await d.find(`//p[@id="account-current-error"]`);
    await d.shot(name("settings-account-change"));

    if (size === "phone") await d.click(buttonStarting("‹"));
    await d.click(buttonStarting("Support"));
    await d.find(`//h2[normalize-space()="Support"]`);
    await d.shot(name("settings-support"));
    if (size === "phone") await d.click(buttonStarting("‹"));
    await d.click(buttonStarting("Language"));
    await d.click(`//label[normalize-space()="日本語"]`);
    await d.find(heading("設定"));
    await d.shot(name("settings-language-ja"));
    await d.click(`//label[normalize-space()="端末の設定に合わせる"]`);
    await d.find(heading("Settings"));
    await d.close();

    // The forgot-password link while logged in: the Timeline, pointing to Settings > Account.
    await d.open(["unipos://forgot_password"]);
    await d.size(dims);
    await d.find("//*[contains(text(), 'To change your password, go to Settings > Account')]");
    await d.find(`//li[@class="post"]`);
    await d.shot(name("timeline-forgot-note"));
    if (size === "phone") {
      await d.click(`//button[@aria-label="Menu"]`);
      await d.click(`//div[@role="dialog"]//button[normalize-space()="Log out"]`);
    } else {
      await d.click(`//button[@aria-label="Menu of Taro Yamada"]`);
      await d.click(`//button[@role="menuitem"][normalize-space()="Log out"]`);
    }
    await d.find("//p[normalize-space()='You are logged out.']");
    await d.shot(name("logged-out"));
    await d.close();

    // Links the app is opened with: used, unknown, a look-alike host, expired.
    const problems = [
      ["link-used", link, "This link was already used"],
      ["link-invalid", `${base}/reset_password?token=${UNKNOWN_TOKEN}`, "This link is not valid"],
      ["link-refused", `http://unipos.me@evil.example/reset_password?token=${UNKNOWN_TOKEN}`, "This link can't be opened"],
    ];
    for (const [screen, url, title] of problems) {
      await d.open([url]);
      await d.size(dims);
      await d.find(heading(title));
      await d.shot(name(screen));
      await d.close();
    }
    const wait = expiresAt - Date.now() + 1500;
    if (wait > 0) await sleep(wait);
    await d.open([expiredLink]);
    await d.size(dims);
    await d.find(heading("This link has expired"));
    await d.shot(name("link-expired"));
    await d.close();
  } catch (e) {
    // Leave a picture of where it stopped, for whoever re-runs this.
    if (d.session) {
      const png = await d.call("GET", d.s("/screenshot")).catch(() => null);
      if (png) writeFileSync(join(tmpdir(), `unipos-screenshots-failed-${size}.png`), Buffer.from(png, "base64"));
      console.error(`stopped here: ${join(tmpdir(), `unipos-screenshots-failed-${size}.png`)}`);
    }
    throw e;
  } finally {
    await d.close();
    driver.kill();
    child.kill();
  }
}

/** tauri-driver, and through it WebKitWebDriver and the app, with the OS language `lang`. */
function startDriver(port, lang) {
  const driver = spawn("tauri-driver", ["--port", String(port), "--native-driver", "/usr/bin/WebKitWebDriver"], {
    stdio: "ignore",
    env: { ...process.env, LANG: lang, LC_ALL: lang, LC_MESSAGES: lang, LANGUAGE: lang.split(".")[0] },
  });
  children.push(driver);
  return driver;
}

/** The main screens in Japanese, as a member whose phone is set to Japanese sees them. */
async function runJapanese(size) {
  const dims = SIZES[size];
  const name = (screen) => `${screen}-ja-${size}`;
  const { base, child } = await startServer();
  process.env.UNIPOS_API_URL = base;
  process.env.UNIPOS_WEB_BASE = base;
  console.log(`${size}, Japanese: ${dims.width}×${dims.height}, server ${base}`);

  const port = await freePort();
  const driver = startDriver(port, "ja_JP.UTF-8");
  await sleep(1000);
  const d = new Driver(`http://127.0.0.1:${port}`);
  const menu = size === "phone" ? `//button[@aria-label=${JSON.stringify(JA["nav.menu"])}]` : null;

  try {
    await d.open([]);
    await d.size(dims);
    await d.find(heading(JA["login.title"]));
    await d.shot(name("login"));

    await d.click(button(JA["login.reset_password"]));
    await d.find(heading(JA["forgot.title"]));
    // The full-width space a Japanese IME types after the address.
    await d.type(input("forgot-email"), "taro@example.com\u3000");
    await d.click(button(JA["forgot.send"]));
    await d.find(button(JA["forgot.fix_space"]));
    await d.shot(name("forgot-error"));
    await d.click(button(JA["forgot.fix_space"]));
    await d.click(button(JA["forgot.send"]));
    await d.find(heading(JA["check.title"]));
    await d.shot(name("check-email"));

    const link = await resetLink(base, "taro@example.com");
    await d.type(input("paste-link"), link);
    await d.click(button(JA["check.paste_open"]));
    await d.find(heading(JA["reset.title"]));
    await d.find("//p[starts-with(normalize-space(), 't***@example.com')]", 20000);
    await d.type(input("reset-new"), "fresh-pass");
    await d.find(`//li[@data-rule="min_length"][contains(@class, "met")]`);
    await d.shot(name("reset"));
    await d.type(input("reset-new"), NEW_PASSWORD);
    await d.type(input("reset-confirm"), NEW_PASSWORD);
    await d.click(button(JA["reset.submit"]));
    await d.find(heading(JA["timeline.title"]));

    if (menu) {
      await d.click(menu);
      await d.click(`//div[@role="dialog"]//button[normalize-space()=${JSON.stringify(JA["nav.settings"])}]`);
      await d.find(heading(JA["settings.title"]));
      await d.click(buttonStarting(JA["settings.account"]));
      await d.click(button(JA["account.change"]));
    } else {
      await d.click(`//button[@aria-label=${JSON.stringify(JA["nav.account_menu"].replace("{name}", "Taro Yamada"))}]`);
      await d.click(`//button[@role="menuitem"][normalize-space()=${JSON.stringify(JA["nav.settings"])}]`);
      await d.find(heading(JA["settings.title"]));
    }
    await d.type(input("account-current"), "not-my-password-1");
    await d.type(input("account-new"), "Brand-new-pass-7");
    await d.type(input("account-confirm"), "Brand-new-pass-7");
    await d.click(button(JA["account.save"]));
    await d.find(`//p[@id="account-current-error"]`);
    await d.shot(name("settings-account"));
    await d.close();

    // The link again, now used up.
    await d.open([link]);
    await d.size(dims);
    await d.find(heading(JA["link.token_used.title"]));
    await d.shot(name("link-used"));
    await d.close();
  } catch (e) {
    if (d.session) {
      const png = await d.call("GET", d.s("/screenshot")).catch(() => null);
      if (png) writeFileSync(join(tmpdir(), `unipos-screenshots-failed-ja-${size}.png`), Buffer.from(png, "base64"));
      console.error(`stopped here: ${join(tmpdir(), `unipos-screenshots-failed-ja-${size}.png`)}`);
    }
    throw e;
  } finally {
    await d.close();
    driver.kill();
    child.kill();
  }
}

// scripts/screenshots.sh [phone|desktop] [en|ja]: both sizes in English and the phone in
// Japanese by default.
mkdirSync(OUT, { recursive: true });
const args = process.argv.slice(2);
const sizes = Object.keys(SIZES).filter((size) => !args.some((a) => a in SIZES) || args.includes(size));
const languages = args.some((a) => a === "en" || a === "ja") ? args : ["en", "ja"];
try {
  if (languages.includes("en")) for (const size of sizes) await run(size);
  if (languages.includes("ja")) {
    for (const size of args.some((a) => a in SIZES) ? sizes : ["phone"]) await runJapanese(size);
  }
} finally {
  for (const c of children) c.kill();
}
