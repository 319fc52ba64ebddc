import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import en from "../i18n/en.json";
import { describe, expect, it } from "vitest";
import { app } from "../lib/app.svelte";
import { setLanguage } from "../lib/i18n.svelte";
import { backend, count, info, refuse, taro } from "../test/backend";
import Login from "./Login.svelte";

describe("Log in", () => {
  it("has Email address and Login ID tabs, Log in with SSO, and Reset Password at the bottom", async () => {
    backend({});
    render(Login);
    const tabs = screen.getAllByRole("tab").map((t) => t.textContent?.trim());
    expect(tabs).toEqual(["Email address", "Login ID"]);
    expect(screen.getByRole("button", { name: "Log in with SSO" })).toBeTruthy();
    const buttons = screen.getAllByRole("button");
    expect(buttons.at(-1)?.textContent?.trim()).toBe("Reset Password");
    await fireEvent.click(screen.getByRole("button", { name: "Reset Password" }));
    expect(app.route.name).toBe("forgot");
  });

  it("gives password managers their hints", async () => {
    backend({});
    render(Login);
    expect(screen.getByLabelText("Email address", { selector: "input" }).getAttribute("autocomplete")).toBe("username");
    expect(screen.getByLabelText("Password").getAttribute("autocomplete")).toBe("current-password");
    await fireEvent.click(screen.getByRole("tab", { name: "Login ID" }));
    expect(screen.getByLabelText("Login ID", { selector: "input" }).getAttribute("autocomplete")).toBe("username");
    expect(screen.getByLabelText("Team").getAttribute("autocomplete")).toBe("organization");
  });

  it("moves between the tabs with the arrow keys", async () => {
    backend({});
    render(Login);
    await fireEvent.keyDown(screen.getByRole("tab", { name: "Email address" }), { key: "ArrowRight" });
    expect(screen.getByRole("tab", { name: "Login ID" }).getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement?.id).toBe("tab-login_id");
  });

  it("logs in by email and lands on the Timeline", async () => {
    const calls = backend({
      login_with_email: () => ({ status: 201, request_id: "r", user: taro, expires_at: "2030-01-01T00:00:00Z" }),
    });
    render(Login);
    await fireEvent.input(screen.getByLabelText("Email address", { selector: "input" }), { target: { value: "taro@example.com" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "Unipos-demo-1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(app.route.name).toBe("timeline"));
    expect(app.user?.display_name).toBe("Taro Yamada");
    expect(calls[0]?.args).toEqual({ email: "taro@example.com", password: "Unipos-demo-1" });
  });

  it("logs in by team and Login ID", async () => {
    const calls = backend({
      login_with_login_id: () => ({ status: 201, request_id: "r", user: { ...taro, login_method: "login_id" }, expires_at: "x" }),
    });
    render(Login);
    await fireEvent.click(screen.getByRole("tab", { name: "Login ID" }));
    await fireEvent.input(screen.getByLabelText("Team"), { target: { value: "demo" } });
    await fireEvent.input(screen.getByLabelText("Login ID", { selector: "input" }), { target: { value: "jiro" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "Unipos-demo-2" } });
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(app.route.name).toBe("timeline"));
    expect(calls[0]).toEqual({
      cmd: "login_with_login_id",
      args: { team: "demo", loginId: "jiro", password: "Unipos-demo-2" },
    });
  });

  it("shows a wrong password as a localized alert with its code", async () => {
    backend({ login_with_email: () => refuse("invalid_credentials", { status: 401, request_id: "req-7" }) });
    render(Login);
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    const text = await screen.findByText(en["login.invalid_credentials_email"]);
    expect(text.closest("[role=alert]")).not.toBeNull();
    expect(screen.getByText("invalid_credentials")).toBeTruthy();
    expect(screen.getByText("req-7")).toBeTruthy();
  });

  it("names what a Login ID member typed when it is wrong, and their way back through the admin", async () => {
    backend({ login_with_login_id: () => refuse("invalid_credentials", { status: 401, request_id: "req-8" }) });
    render(Login);
    await fireEvent.click(screen.getByRole("tab", { name: "Login ID" }));
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    const text = await screen.findByText(en["login.invalid_credentials_login_id"]);
    expect(text.textContent).toContain("team, Login ID or password");
    expect(text.textContent).not.toContain("email address");
    expect(text.textContent).toContain("Account Information form");
  });

  it("sends SSO members to their organisation's page", async () => {
    const calls = backend({
      login_with_email: () => refuse("sso_required", { status: 403 }),
      open_sso: () => true,
    });
    render(Login);
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByText("sso_required");
    const ssoButtons = screen.getAllByRole("button", { name: "Log in with SSO" });
    await fireEvent.click(ssoButtons[0]!);
    expect(calls.map((c) => c.cmd)).toContain("open_sso");
  });

  it("says for how long an account is locked", async () => {
    backend({ login_with_email: () => refuse("account_locked", { status: 423, retry_after_s: 900 }) });
    render(Login);
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByText(/locked for a while after too many failed logins\. To log in now, reset your password .*You can try again in 15 min\./)).toBeTruthy();
  });
});

describe("Log in after the company's Unipos admin reset the password", () => {
  it("points a Login ID member to the form's QR code and an email member to the reset email", async () => {
    backend({
      login_with_login_id: () => refuse("password_reset_by_admin", { status: 401, request_id: "req-9" }),
      login_with_email: () => refuse("password_reset_by_admin", { status: 401 }),
    });
    render(Login);
    await fireEvent.click(screen.getByRole("tab", { name: "Login ID" }));
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    const loginId = await screen.findByText(
      "Your company's Unipos admin reset your password, so this password no longer works. " +
        "Scan the QR code on the new Account Information form from your admin to set a new password.",
    );
    const alert = loginId.closest("[role=alert]")!;
    expect(alert).not.toBeNull();
    expect(alert.textContent).toContain("password_reset_by_admin");
    expect(alert.textContent).not.toContain("reset email");

    await fireEvent.click(screen.getByRole("tab", { name: "Email address" }));
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    const email = await screen.findByText(
      "Your company's Unipos admin reset your password, so this password no longer works. " +
        "Open the link in the reset email we sent you to set a new password.",
    );
    expect(email.closest("[role=alert]")!.textContent).not.toContain("Account Information form");
    // The reset email may be lost or expired: Reset Password sends another, from the alert too.
    const resets = screen.getAllByRole("button", { name: "Reset Password" });
    expect(resets[0]?.closest("[role=alert]")).not.toBeNull();
  });
});

describe("Log in > Login ID: the Account Information form's QR code", () => {
  const SCAN = "Scan the QR code on your Account Information form";

  /** The iOS or Android app. */
  function phone(platform: "ios" | "android" = "ios") {
    app.info = { ...info, platform, mobile: true };
  }

  async function loginIdTab() {
    render(Login);
    await fireEvent.click(screen.getByRole("tab", { name: "Login ID" }));
  }

  const scanned = (content: string) => () => ({ content, format: "QR_CODE" });

  it("offers the scan button on the Login ID tab of the phone app, and not on the email tab", async () => {
    phone();
    backend({});
    render(Login);
    expect(screen.queryByRole("button", { name: SCAN })).toBeNull();
    await fireEvent.click(screen.getByRole("tab", { name: "Login ID" }));
    expect(screen.getByRole("button", { name: SCAN })).toBeTruthy();
    expect(
      screen.getByText(
        "Ask your company's Unipos admin for your Account Information form, then scan the QR code in its lower right corner.",
      ),
    ).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Forgot your password, or new to Unipos?" })).toBeTruthy();
  });

  it("offers the scan in Japanese too", async () => {
    setLanguage("ja");
    phone();
    backend({});
    render(Login);
    await fireEvent.click(screen.getByRole("tab", { name: "ログインID" }));
    expect(screen.getByRole("button", { name: "アカウント情報の用紙のQRコードを読み取る" })).toBeTruthy();
  });

  it("has no scan button on a desktop, and says to scan with the phone or paste the link instead", async () => {
    backend({});
    await loginIdTab();
    expect(screen.queryByRole("button", { name: SCAN })).toBeNull();
    expect(
      screen.getByText(
        "Ask your company's Unipos admin for your Account Information form. Scan the QR code in its lower " +
          "right corner with your phone's camera, or paste the link it holds under " +
          '"Have a link from a reset email or an Account Information form?" below.',
      ),
    ).toBeTruthy();
    // The disclosure the guidance names is there, by that name.
    expect(
      screen.getByText("Have a link from a reset email or an Account Information form?", { selector: "summary" }),
    ).toBeTruthy();
  });

  it("when the camera is refused, scans nothing, says how to allow it, and Open Settings opens the app's settings", async () => {
    phone("ios");
    const calls = backend({
      "plugin:barcode-scanner|check_permissions": () => ({ camera: "denied" }),
      "plugin:barcode-scanner|open_app_settings": () => null,
    });
    await loginIdTab();
    await fireEvent.click(screen.getByRole("button", { name: SCAN }));
    const message = await screen.findByText(
      "Unipos is not allowed to use the camera, so it can't read the QR code. " +
        "Allow it in Settings > Unipos > Camera, then scan again.",
    );
    expect(message.closest("[role=alert]")).not.toBeNull();
    expect(count(calls, "plugin:barcode-scanner|scan")).toBe(0);
    expect(count(calls, "plugin:barcode-scanner|request_permissions")).toBe(0);

    await fireEvent.click(screen.getByRole("button", { name: "Open Settings" }));
    await waitFor(() => expect(count(calls, "plugin:barcode-scanner|open_app_settings")).toBe(1));
    expect(count(calls, "plugin:barcode-scanner|scan")).toBe(0);
  });

  it("names Android's own settings path when the camera is refused there", async () => {
    phone("android");
    backend({ "plugin:barcode-scanner|check_permissions": () => ({ camera: "denied" }) });
    await loginIdTab();
    await fireEvent.click(screen.getByRole("button", { name: SCAN }));
    expect(await screen.findByText(/Settings > Apps > Unipos > Permissions > Camera/)).toBeTruthy();
  });

  it("says why the camera is needed, then asks for it before scanning", async () => {
    phone();
    const calls = backend({
      "plugin:barcode-scanner|check_permissions": () => ({ camera: "prompt" }),
      "plugin:barcode-scanner|request_permissions": () => ({ camera: "granted" }),
      "plugin:barcode-scanner|scan": () => refuse("unknown", { message: "cancelled" }),
    });
    await loginIdTab();
    await fireEvent.click(screen.getByRole("button", { name: SCAN }));
    const why = await screen.findByText(/To read the QR code, Unipos needs to use the camera\./);
    expect(why.closest("[role=status]")).not.toBeNull();
    // The OS's dialog only after the member read why.
    expect(count(calls, "plugin:barcode-scanner|request_permissions")).toBe(0);
    expect(count(calls, "plugin:barcode-scanner|scan")).toBe(0);

    await fireEvent.click(screen.getByRole("button", { name: "Continue" }));
    await waitFor(() => expect(count(calls, "plugin:barcode-scanner|scan")).toBe(1));
    const order = calls.map((c) => c.cmd).filter((c) => c.startsWith("plugin:barcode-scanner|"));
    expect(order).toEqual([
      "plugin:barcode-scanner|check_permissions",
      "plugin:barcode-scanner|request_permissions",
      "plugin:barcode-scanner|scan",
    ]);
  });

  it("shows the link rules' refusal of a QR code that is not a Unipos link under the button, and stays on Log in", async () => {
    phone();
    app.go({ name: "login" });
    backend({
      "plugin:barcode-scanner|check_permissions": () => ({ camera: "granted" }),
      "plugin:barcode-scanner|scan": scanned("https://coffee-shop.example.com/menu"),
      open_scanned_link: () => refuse("link_host", { status: null }),
    });
    await loginIdTab();
    const button = screen.getByRole("button", { name: SCAN });
    await fireEvent.click(button);
    const refusal = await screen.findByText(en["error.link_host"]);
    const alert = refusal.closest("[role=alert]")!;
    expect(alert).not.toBeNull();
    expect(alert.textContent).toContain("link_host");
    expect(alert.textContent).toContain(
      "Scan the QR code at the lower right of the Account Information form from your company's Unipos admin.",
    );
    // Right under the button.
    expect(button.compareDocumentPosition(alert) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(app.route.name).toBe("login");
  });

  it("opens Reset for the QR code of an Account Information form, passing what the camera read unchanged", async () => {
    phone();
    const read = "https://unipos.me/reset_password?token=AbCdEfGhIjKlMnOp ";
    const calls = backend({
      "plugin:barcode-scanner|check_permissions": () => ({ camera: "granted" }),
      "plugin:barcode-scanner|scan": scanned(read),
      open_scanned_link: () => ({ kind: "reset", token_hint: "AbCdEf…" }),
    });
    await loginIdTab();
    await fireEvent.click(screen.getByRole("button", { name: SCAN }));
    await waitFor(() => expect(app.route.name).toBe("reset"));
    expect(calls.find((c) => c.cmd === "plugin:barcode-scanner|scan")?.args).toEqual({
      formats: ["QR_CODE"],
      windowed: false,
    });
    expect(calls.find((c) => c.cmd === "open_scanned_link")?.args).toEqual({ url: read });
  });

  it("does nothing when the member cancels the scan", async () => {
    phone();
    app.go({ name: "login" });
    const calls = backend({
      "plugin:barcode-scanner|check_permissions": () => ({ camera: "granted" }),
      "plugin:barcode-scanner|scan": () => {
        throw "cancelled";
      },
    });
    await loginIdTab();
    await fireEvent.click(screen.getByRole("button", { name: SCAN }));
    await waitFor(() => expect(count(calls, "plugin:barcode-scanner|scan")).toBe(1));
    await waitFor(() => expect((screen.getByRole("button", { name: SCAN }) as HTMLButtonElement).disabled).toBe(false));
    expect(count(calls, "open_scanned_link")).toBe(0);
    expect(document.querySelector(".alert")).toBeNull();
    expect(app.route.name).toBe("login");
  });

  it("keeps the team and Login ID typed across a scan", async () => {
    phone();
    backend({
      "plugin:barcode-scanner|check_permissions": () => ({ camera: "granted" }),
      "plugin:barcode-scanner|scan": scanned("https://coffee-shop.example.com/"),
      open_scanned_link: () => refuse("link_host"),
    });
    await loginIdTab();
    await fireEvent.input(screen.getByLabelText("Team"), { target: { value: "demo" } });
    await fireEvent.input(screen.getByLabelText("Login ID", { selector: "input" }), { target: { value: "jiro" } });
    await fireEvent.click(screen.getByRole("button", { name: SCAN }));
    await screen.findByText("link_host");
    expect((screen.getByLabelText("Team") as HTMLInputElement).value).toBe("demo");
    expect(app.drafts.loginId).toBe("jiro");
  });
});

describe("Log in while an API chosen in Support is used", () => {
  const host = "api.staging.example";

  it("says Connected to the host under the title, on both tabs and after a failed login, with nothing to dismiss it", async () => {
    app.info = { ...info, chosen_api_host: host };
    backend({ login_with_email: () => refuse("invalid_credentials", { status: 401 }) });
    render(Login);
    const line = document.querySelector(".connected-to") as HTMLElement;
    expect(line.textContent).toContain(`Connected to ${host}`);
    expect(line.querySelector("strong")?.textContent).toBe(host);
    expect(line.textContent).toContain("Your password and reset links go to this server, chosen in Support.");
    expect(line.querySelector("button")).toBeNull();
    // Near the top: right under the title.
    expect(screen.getByRole("heading", { level: 1, name: "Log in" }).nextElementSibling).toBe(line);

    await fireEvent.click(screen.getByRole("tab", { name: "Login ID" }));
    expect(document.querySelector(".connected-to")?.textContent).toContain(`Connected to ${host}`);
    await fireEvent.click(screen.getByRole("tab", { name: "Email address" }));
    await fireEvent.input(screen.getByLabelText("Email address", { selector: "input" }), { target: { value: "taro@example.com" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "wrong-pass-1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByText("invalid_credentials");
    expect(document.querySelector(".connected-to")?.textContent).toContain(`Connected to ${host}`);
  });

  it("says it in Japanese as 接続先：host", () => {
    setLanguage("ja");
    app.info = { ...info, chosen_api_host: host };
    backend({});
    render(Login);
    const line = document.querySelector(".connected-to") as HTMLElement;
    expect(line.querySelector(".connected-host")?.textContent).toBe(`接続先：${host}`);
    expect(line.textContent).toContain("サポートで「既定に戻す」を選んでください。");
  });

  it("has no Connected to line with the built-in API", () => {
    app.info = { ...info, chosen_api_host: null };
    backend({});
    render(Login);
    expect(document.querySelector(".connected-to")).toBeNull();
    expect(document.body.textContent).not.toContain("Connected to");
  });
});
