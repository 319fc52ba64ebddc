import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { app } from "../lib/app.svelte";
import { setLanguage } from "../lib/i18n.svelte";
import { backend, count, held, info, jiro, refuse, taro } from "../test/backend";
import { accountPolicy, rustAccountChecklist } from "../test/checklists";
import Settings from "./Settings.svelte";

function fill(label: string, value: string) {
  return fireEvent.input(screen.getByLabelText(label), { target: { value } });
}

describe("Settings > Account", () => {
  it("on a phone, shows the password row with Change, which reveals the fields and Save", async () => {
    app.user = taro;
    backend({});
    render(Settings, { section: "account", presentation: "phone" });
    expect(screen.queryByLabelText("Current password")).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Change" }));
    expect(screen.getByLabelText("Current password").getAttribute("autocomplete")).toBe("current-password");
    expect(screen.getByLabelText("New password").getAttribute("autocomplete")).toBe("new-password");
    expect(screen.getByLabelText("New password (again)")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Save" })).toBeTruthy();
  });

  it("on a desktop, shows the fields directly", () => {
    app.user = taro;
    backend({});
    render(Settings, { section: "account", presentation: "desktop" });
    expect(screen.queryByRole("button", { name: "Change" })).toBeNull();
    expect(screen.getByLabelText("Current password")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Save" })).toBeTruthy();
  });

  it("shows a wrong current password on its field", async () => {
    app.user = taro;
    backend({ change_password: () => refuse("current_password_incorrect", { status: 422 }) });
    render(Settings, { section: "account", presentation: "desktop" });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() =>
      expect(screen.getByLabelText("Current password").getAttribute("aria-invalid")).toBe("true"),
    );
    const line = document.getElementById("account-current-error");
    expect(line?.textContent).toContain("The current password is not correct.");
    expect(line?.textContent).toContain("Code: current_password_incorrect");
    expect(line?.closest("[role=alert]")).not.toBeNull();
  });

  it("shows a mismatch on the confirmation and policy failures on the new password", async () => {
    app.user = taro;
    let answer = refuse.bind(null, "password_mismatch", { status: 422 });
    backend({ change_password: () => answer() });
    render(Settings, { section: "account", presentation: "desktop" });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(document.getElementById("account-confirm-error")).not.toBeNull());

    answer = refuse.bind(null, "password_policy", { status: 422, details: { failed: ["require_digit"] } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() =>
      expect(document.getElementById("account-new-error")?.textContent).toContain("Missing: a digit"),
    );
    expect(document.getElementById("account-confirm-error")).toBeNull();
  });

  it("lists the conditions a new password misses as conditions, in Japanese", async () => {
    setLanguage("ja");
    app.user = taro;
    backend({
      change_password: () =>
        refuse("password_policy", { status: 422, details: { failed: ["min_length", "require_digit"] } }),
    });
    render(Settings, { section: "account", presentation: "desktop" });
    await fireEvent.click(screen.getByRole("button", { name: "保存" }));
    await waitFor(() => expect(document.getElementById("account-new-error")).not.toBeNull());
    const line = document.getElementById("account-new-error")!.textContent!;
    // The cause, the conditions missing, then what to do.
    expect(line).toContain(
      "満たしていない条件：必要な文字数、数字を含む。すべての条件を満たすパスワードを入力してください。",
    );
    expect(line).toContain("エラーコード：password_policy");
  });

  it("says why a common password or one made from the member's name is refused", async () => {
    app.user = taro;
    backend({
      change_password: () =>
        refuse("password_policy", { status: 422, details: { failed: ["common_password"] } }),
    });
    render(Settings, { section: "account", presentation: "desktop" });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(document.getElementById("account-new-error")).not.toBeNull());
    const line = document.getElementById("account-new-error")!.textContent!;
    expect(line).toContain(
      "The new password does not meet your organisation's rules. Common passwords, and passwords " +
        "made from your name, email address or Login ID, can't be used. Choose another password that " +
        "meets every rule.",
    );
    expect(line).not.toContain("Missing");
    expect(line).toContain("Code: password_policy");
  });

  it("shows a busy server's answer with its code, and keeps the typing", async () => {
    app.user = taro;
    backend({ change_password: () => refuse("server_busy", { status: 503, retry_after_s: 1 }) });
    render(Settings, { section: "account", presentation: "desktop" });
    await fill("New password", "Fresh-pass-42");
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(
      await screen.findByText("The server is busy, so nothing was changed. Try again in 1 s."),
    ).toBeTruthy();
    expect(screen.getByText("server_busy")).toBeTruthy();
    expect((screen.getByLabelText("New password") as HTMLInputElement).value).toBe("Fresh-pass-42");
  });

  it("saves, clears the fields and says the other devices were logged out", async () => {
    app.user = taro;
    const calls = backend({ change_password: () => ({ status: 204, request_id: "r" }) });
    render(Settings, { section: "account", presentation: "phone" });
    await fireEvent.click(screen.getByRole("button", { name: "Change" }));
    await fill("Current password", "Unipos-demo-1");
    await fill("New password", "Fresh-pass-42");
    await fill("New password (again)", "Fresh-pass-42");
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText(/Your password was changed/)).toBeTruthy();
    expect(calls.find((c) => c.cmd === "change_password")?.args).toEqual({
      currentPassword: "Unipos-demo-1",
      newPassword: "Fresh-pass-42",
      newPasswordConfirmation: "Fresh-pass-42",
      // The notice mail comes in the language the app shows.
      language: "en",
    });
    expect(screen.queryByLabelText("Current password")).toBeNull();
  });

  it("sends one request for a double tap on Save", async () => {
    app.user = taro;
    const answer = held<unknown>();
    const calls = backend({ change_password: () => answer.promise });
    render(Settings, { section: "account", presentation: "desktop" });
    await fill("Current password", "Unipos-demo-1");
    await fill("New password", "Fresh-pass-42");
    await fill("New password (again)", "Fresh-pass-42");
    const save = screen.getByRole("button", { name: "Save" }) as HTMLButtonElement;

    // Two taps before the screen re-renders: the second finds Save still enabled, so only the
    // screen's own guard stops it.
    await Promise.all([fireEvent.click(save), fireEvent.click(save)]);
    expect(count(calls, "change_password")).toBe(1);
    // Still in flight (nothing answered it): Save says so and is disabled.
    expect(save.disabled).toBe(true);
    expect(save.textContent?.trim()).toBe("Saving…");
    await fireEvent.click(save);
    expect(count(calls, "change_password")).toBe(1);

    answer.resolve({ status: 204, request_id: "r" });
    expect(await screen.findByText(/Your password was changed/)).toBeTruthy();
    expect(count(calls, "change_password")).toBe(1);
  });

  it("tells SSO members their password is managed by SSO", () => {
    app.user = { ...taro, login_method: "sso" };
    backend({});
    render(Settings, { section: "account", presentation: "desktop" });
    expect(screen.getByText(/managed by your company's SSO/)).toBeTruthy();
    expect(screen.queryByLabelText("Current password")).toBeNull();
  });
});

/** The organisation's rules, as Rust answers them (12 to 64 characters, an upper-case letter, …). */
const rulesFromRust = {
  account_password_policy: () => accountPolicy,
  account_policy_checklist: rustAccountChecklist,
};

function line(rule: string) {
  return document.querySelector(`#account-rules [data-rule="${rule}"]`) as HTMLElement;
}

function metRules(): string[] {
  return [...document.querySelectorAll("#account-rules li.met")].map((li) => li.getAttribute("data-rule")!);
}

describe("Settings > Account's checklist of the organisation's rules", () => {
  it("shows the rules from the command under the new password, and ticks them as the member types", async () => {
    app.user = taro;
    const calls = backend(rulesFromRust);
    render(Settings, { section: "account", presentation: "desktop" });
    await waitFor(() => expect(line("min_length")).toBeTruthy());
    // The organisation's own numbers and rules, not the default policy's.
    expect(accountPolicy.policy.min_length).toBe(12);
    expect(line("min_length").textContent).toContain("At least 12 characters");
    expect(line("max_length").textContent).toContain("At most 64 characters");
    expect(line("require_upper").textContent).toContain("An upper-case letter");
    expect(line("require_symbol")).toBeNull();
    expect(document.querySelector("#account-rules .checklist-title, #account-rules p")?.textContent).toBe(
      "Your new password needs",
    );
    expect(metRules()).toEqual(["max_length", "common_password"]);
    // Under the new password, and read with it.
    const field = screen.getByLabelText("New password");
    expect(field.getAttribute("aria-describedby")).toContain("account-rules");
    const rules = document.getElementById("account-rules")!;
    expect(field.compareDocumentPosition(rules) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(rules.compareDocumentPosition(screen.getByLabelText("New password (again)")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();

    await fill("New password", "fresh");
    await waitFor(() => expect(metRules()).toEqual(["max_length", "require_lower", "common_password"]));
    await fill("New password", "fresh-pass-42");
    await waitFor(() => expect(line("min_length").classList.contains("met")).toBe(true));
    expect(line("require_upper").classList.contains("met")).toBe(false);
    expect(line("require_upper").textContent).toContain("(not yet)");
    await fill("New password", "Fresh-pass-42");
    await waitFor(() => expect(line("require_upper").classList.contains("met")).toBe(true));
    expect(document.querySelectorAll("#account-rules li:not(.met)").length).toBe(0);
    expect(calls.filter((c) => c.cmd === "account_policy_checklist").map((c) => c.args.password)).toEqual([
      "",
      "fresh",
      "fresh-pass-42",
      "Fresh-pass-42",
    ]);
    expect(count(calls, "policy_checklist")).toBe(0);
  });

  it("gives password managers the rules on both new-password fields, and not on the current one", async () => {
    app.user = taro;
    backend(rulesFromRust);
    render(Settings, { section: "account", presentation: "desktop" });
    await waitFor(() =>
      expect(screen.getByLabelText("New password").getAttribute("passwordrules")).toBe(accountPolicy.passwordrules),
    );
    expect(accountPolicy.passwordrules).toContain("minlength: 12; maxlength: 64;");
    expect(screen.getByLabelText("New password (again)").getAttribute("passwordrules")).toBe(accountPolicy.passwordrules);
    expect(screen.getByLabelText("New password (again)").getAttribute("autocomplete")).toBe("new-password");
    expect(screen.getByLabelText("Current password").hasAttribute("passwordrules")).toBe(false);
  });

  it("on a phone in Japanese, shows the checklist once Change reveals the fields", async () => {
    setLanguage("ja");
    app.user = taro;
    backend(rulesFromRust);
    render(Settings, { section: "account", presentation: "phone" });
    expect(document.getElementById("account-rules")).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "変更" }));
    await waitFor(() => expect(line("min_length")).toBeTruthy());
    expect(document.getElementById("account-rules")!.textContent).toContain("新しいパスワードの条件");
    expect(line("min_length").textContent).toContain("12文字以上");
    expect(line("require_upper").textContent).toContain("英大文字を含む");
    expect(line("min_length").textContent).toContain("（まだ満たしていません）");
    await fill("新しいパスワード", "Fresh-pass-42");
    await waitFor(() => expect(line("min_length").textContent).toContain("（条件を満たしています）"));
  });

  it("without the rules (no connection), says they are checked on Save and keeps the form", async () => {
    app.user = taro;
    backend({ account_password_policy: () => refuse("offline") });
    render(Settings, { section: "account", presentation: "desktop" });
    expect(
      await screen.findByText(
        "The rules for a new password could not be loaded. They are checked when you save, so you can still change your password.",
      ),
    ).toBeTruthy();
    expect(document.getElementById("account-rules")).toBeNull();
    expect(screen.getByRole("button", { name: "Save" })).toBeTruthy();
  });

  it("an ended session while fetching the rules leads to Log in", async () => {
    app.user = taro;
    app.hasSession = true;
    app.go({ name: "settings", section: "account" });
    backend({ account_password_policy: () => refuse("session_expired", { status: 401 }) });
    render(Settings, { section: "account", presentation: "desktop" });
    await waitFor(() => expect(app.route.name).toBe("login"));
    expect(app.notice).toEqual({ key: "session.expired", tone: "info" });
  });

  it("asks no rules for an SSO member, who has no password here", async () => {
    app.user = { ...taro, login_method: "sso" };
    const calls = backend(rulesFromRust);
    render(Settings, { section: "account", presentation: "desktop" });
    await new Promise((r) => setTimeout(r, 20));
    expect(count(calls, "account_password_policy")).toBe(0);
    expect(document.getElementById("account-rules")).toBeNull();
  });
});

describe("Settings > Account after the admin's reset", () => {
  it("a Save answered password_reset_by_admin signs the Login ID member out and says to scan the new form", async () => {
    app.user = jiro;
    app.hasSession = true;
    app.go({ name: "settings", section: "account" });
    backend({ change_password: () => refuse("password_reset_by_admin", { status: 401 }) });
    render(Settings, { section: "account", presentation: "desktop" });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(app.route.name).toBe("login"));
    expect(app.notice).toEqual({ key: "session.reset_by_admin_login_id", tone: "info" });
    expect(app.hasSession).toBe(false);
    expect(app.user).toBeNull();
  });
});

describe("Settings", () => {
  it("on a phone, lists Account, Language and Support, and Back returns to the list", async () => {
    app.user = taro;
    backend({});
    render(Settings, { section: "menu", presentation: "phone" });
    expect(screen.getAllByRole("button").map((b) => b.textContent?.replace("›", "").trim())).toEqual([
      "Account",
      "Language",
      "Support",
    ]);
    await fireEvent.click(screen.getByRole("button", { name: /Account/ }));
    expect(app.route).toEqual({ name: "settings", section: "account" });
  });

  it("switches the language to Japanese", async () => {
    const calls = backend({
      set_language: ({ language }) => ({ language, last_login_method: null, presentation: null, api_url: null }),
    });
    const view = render(Settings, { section: "language", presentation: "desktop" });
    await fireEvent.click(screen.getByLabelText("日本語"));
    await waitFor(() => expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("設定"));
    expect(calls[0]?.args).toEqual({ language: "ja" });
    view.unmount();
  });

  it("Support shows the report Rust writes for this view, and Copy support report writes it to the clipboard", async () => {
    const report = '{\n  "format": "unipos-support-report/1"\n}';
    const calls = backend({
      support_report: () => report,
      "plugin:clipboard-manager|write_text": () => null,
      set_presentation: ({ presentation }) => ({ language: null, last_login_method: null, presentation, api_url: null }),
    });
    render(Settings, { section: "support", presentation: "desktop" });
    const box = screen.getByLabelText("Support report") as HTMLTextAreaElement;
    await waitFor(() => expect(box.value).toBe(report));
    expect(box.readOnly).toBe(true);
    expect(calls.find((c) => c.cmd === "support_report")?.args).toEqual({
      view: { presentation: "desktop", forced: false, width: window.innerWidth, height: window.innerHeight, language: "en" },
    });
    expect(screen.queryByRole("button", { name: "Share" })).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Copy support report" }));
    expect(await screen.findByText("Copied. Paste it into your message to support.")).toBeTruthy();
    expect(calls.find((c) => c.cmd === "plugin:clipboard-manager|write_text")?.args).toEqual({ text: report });

    await fireEvent.click(screen.getByLabelText("Phone"));
    await waitFor(() => expect(app.preferences.presentation).toBe("phone"));
    expect(calls.find((c) => c.cmd === "set_presentation")?.args).toEqual({ presentation: "phone" });
    // A forced presentation is a new report that says so.
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "support_report").at(-1)?.args).toMatchObject({ view: { forced: true } }),
    );
  });

  it("Support on a phone app offers Share, which hands the report to the share sheet", async () => {
    app.info = { ...info, mobile: true };
    const calls = backend({
      support_report: () => "the report",
      "plugin:sharekit|share_text": () => null,
    });
    render(Settings, { section: "support", presentation: "phone" });
    const share = screen.getByRole("button", { name: "Share" });
    await waitFor(() => expect((share as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(share);
    await waitFor(() =>
      expect(calls.find((c) => c.cmd === "plugin:sharekit|share_text")?.args).toEqual({ text: "the report" }),
    );
    app.info = null;
  });

  it("Support says so when the clipboard refuses, and the report stays in its box to select", async () => {
    backend({
      support_report: () => "the report",
      "plugin:clipboard-manager|write_text": () => {
        throw "clipboard unavailable";
      },
    });
    render(Settings, { section: "support", presentation: "desktop" });
    await waitFor(() => expect((screen.getByLabelText("Support report") as HTMLTextAreaElement).value).toBe("the report"));
    await fireEvent.click(screen.getByRole("button", { name: "Copy support report" }));
    expect(
      await screen.findByText("The report could not be copied. Select the text in the box and copy it."),
    ).toBeTruthy();
  });

  it("Support refuses an API URL the client's rules refuse, with the code", async () => {
    backend({
      support_report: () => "the report",
      set_api_url: () => refuse("base_url_insecure"),
    });
    render(Settings, { section: "support", presentation: "desktop" });
    await fill("Use another API URL", "http://staging.example");
    await fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(await screen.findByText("base_url_insecure")).toBeTruthy();
  });
});
