import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import App from "./App.svelte";
import type { ApiUrlChange, LinkChecked, LoggedOut, Startup } from "./generated/bindings";
import { app } from "./lib/app.svelte";
import { setLanguage } from "./lib/i18n.svelte";
import { checklistPasswordRules, checklistPolicy } from "./test/checklists";
import {
  backend,
  count,
  held,
  info,
  jiro,
  linkArrives,
  loggedOut,
  noPreferences,
  refusal,
  refuse,
  taro,
} from "./test/backend";

function startup(overrides: Partial<Startup> = {}): () => Startup {
  return () => ({
    info,
    preferences: noPreferences,
    has_session: false,
    incoming_link: null,
    keychain_error: null,
    ...overrides,
  });
}

const never = () => new Promise(() => {});

/** A link this device asked for: Reset goes straight to the password form. */
const checkedLink: LinkChecked = {
  status: 200,
  request_id: "r",
  email_hint: "t***@example.com",
  login_id: null,
  expires_at: "2030-01-01T09:00:00Z",
  policy: checklistPolicy,
  passwordrules: checklistPasswordRules,
  token_hint: "AbCdEf…",
  asked_here: true,
};

/** A link this device did not ask for: someone sent it, or it is for another address. */
const sentLink: LinkChecked = { ...checkedLink, email_hint: "h***@example.net", asked_here: false };

describe("App start", () => {
  it("shows Log in when no session is stored", async () => {
    backend({ startup: startup() });
    render(App);
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
  });

  it("shows the Timeline at once for a stored session, without waiting for the network", async () => {
    backend({ startup: startup({ has_session: true }), restore_session: never, timeline: never });
    render(App);
    expect(await screen.findByRole("heading", { name: "Timeline" })).toBeTruthy();
    expect(screen.getByText("Loading the timeline…")).toBeTruthy();
  });

  it("puts the member's name and posts on the Timeline once the server answers", async () => {
    backend({
      startup: startup({ has_session: true }),
      restore_session: () => taro,
      timeline: () => ({
        posts: [
          { id: "p1", from: "Hanako Sato", to: "Taro Yamada", message: "Thanks for the review!", points: 40, created_at: "2030-01-01T00:00:00Z" },
        ],
      }),
    });
    render(App);
    expect(await screen.findByRole("heading", { name: "Timeline" })).toBeTruthy();
    expect(await screen.findByText("Hello, Taro Yamada")).toBeTruthy();
    expect(await screen.findByText("Thanks for the review!")).toBeTruthy();
  });

  it("goes back to Log in when the stored session has ended", async () => {
    backend({
      startup: startup({ has_session: true }),
      restore_session: () => refuse("session_expired", { status: 401 }),
      timeline: never,
    });
    render(App);
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
    expect(screen.getByText("Your login has ended. Log in again.")).toBeTruthy();
  });

  it("goes back to Log in, signed out, with the form's QR code as the way on, when the admin reset a Login ID member's password", async () => {
    const timeline = held<void>();
    backend({
      startup: startup({ has_session: true }),
      restore_session: () => jiro,
      timeline: () => timeline.promise.then(() => refuse("password_reset_by_admin", { status: 401 })),
    });
    render(App);
    await screen.findByText("Hello, Jiro Suzuki");
    timeline.resolve();
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
    const notice = screen.getByText(
      "Your company's Unipos admin reset your password, so you were logged out. " +
        "Scan the QR code on the new Account Information form from your admin to set a new password.",
    );
    expect(notice.closest("[role=status]")).not.toBeNull();
    expect(app.hasSession).toBe(false);
    expect(app.user).toBeNull();
  });

  it("goes back to Log in with the reset email as the way on, when the admin reset an email member's password", async () => {
    backend({
      startup: startup({ has_session: true, preferences: { ...noPreferences, last_login_method: "email" } }),
      restore_session: () => refuse("password_reset_by_admin", { status: 401 }),
      timeline: never,
    });
    render(App);
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
    expect(
      screen.getByText(
        "Your company's Unipos admin reset your password, so you were logged out. " +
          "Open the link in the reset email we sent you to set a new password.",
      ),
    ).toBeTruthy();
    expect(app.hasSession).toBe(false);
  });

  it("follows the OS language, Japanese here", async () => {
    backend({ startup: startup({ info: { ...info, locale: "ja-JP", device_language: "ja" } }) });
    render(App);
    expect(await screen.findByRole("heading", { name: "ログイン" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "パスワードを再設定" })).toBeTruthy();
  });

  it("opens the Reset screen for the link the app was started with", async () => {
    backend({
      startup: startup({ incoming_link: { status: "opened", target: { kind: "reset", token_hint: "AbCdEf…" } } }),
      check_reset_link: never,
    });
    render(App);
    expect(await screen.findByRole("heading", { name: "Set a new password" })).toBeTruthy();
  });

  it("sends the forgot-password link to the Timeline with a note when logged in", async () => {
    backend({
      startup: startup({
        has_session: true,
        incoming_link: { status: "opened", target: { kind: "forgot", logged_in: true } },
      }),
      restore_session: () => taro,
      timeline: () => ({ posts: [] }),
    });
    render(App);
    expect(
      await screen.findByText("You are logged in. To change your password, go to Settings > Account."),
    ).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Open Settings > Account" }));
    expect(app.route).toEqual({ name: "settings", section: "account" });
  });

  it("opens Log in for the link the reset page offers once the password is set", async () => {
    backend({
      startup: startup({ incoming_link: { status: "opened", target: { kind: "login", logged_in: false } } }),
    });
    render(App);
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
    expect(app.route).toEqual({ name: "login" });
  });

  it("takes a link handed over while running", async () => {
    backend({
      startup: startup(),
      take_incoming_link: () => ({ status: "refused", error: { code: "link_userinfo", message: "x" } }),
    });
    render(App);
    await screen.findByRole("heading", { name: "Log in" });
    await linkArrives();
    expect(await screen.findByRole("heading", { name: "This link can't be opened" })).toBeTruthy();
    expect(screen.getByText("link_userinfo")).toBeTruthy();
  });
});

describe("Menus", () => {
  const loggedIn = {
    startup: startup({ has_session: true }),
    restore_session: () => taro,
    timeline: () => ({ posts: [] }),
    logout: (): LoggedOut => loggedOut,
  };

  it("on a phone, the menu button at the top left opens a drawer with Settings and Log out", async () => {
    const calls = backend({
      ...loggedIn,
      startup: startup({ has_session: true, preferences: { ...noPreferences, presentation: "phone" } }),
    });
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    const menu = screen.getByRole("button", { name: "Menu" });
    expect(menu.closest("header")?.firstElementChild).toBe(menu);
    await fireEvent.click(menu);
    const drawer = screen.getByRole("dialog", { name: "Menu" });
    const navigation = within(within(drawer).getByRole("navigation", { name: "Menu" }));
    expect(navigation.getAllByRole("button").map((b) => b.textContent)).toEqual([
      "Timeline",
      "Settings",
      "Log out",
    ]);
    expect(document.activeElement?.textContent).toBe("Timeline");
    await fireEvent.click(within(drawer).getByRole("button", { name: "Settings" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: /Account/ }));
    expect(screen.getByRole("button", { name: "Change" })).toBeTruthy();

    // Log out is in the drawer, and logs out.
    await fireEvent.click(screen.getByRole("button", { name: "Menu" }));
    const again = screen.getByRole("dialog", { name: "Menu" });
    await fireEvent.click(within(again).getByRole("button", { name: "Log out" }));
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
    expect(screen.getByText("You are logged out.")).toBeTruthy();
    expect(calls.filter((c) => c.cmd === "logout")).toHaveLength(1);
  });

  it("on a desktop, the member's icon at the top right opens a menu; Escape closes it", async () => {
    backend(loggedIn);
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    const icon = screen.getByRole("button", { name: "Menu of Taro Yamada" });
    // The initials are drawn (CSS), so the button's only name is its label.
    expect(icon.querySelector("[data-initials]")?.getAttribute("data-initials")).toBe("TY");
    await fireEvent.click(icon);
    expect(screen.getAllByRole("menuitem").map((m) => m.textContent)).toEqual([
      "Timeline",
      "Settings",
      "Log out",
    ]);
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(icon);
    await fireEvent.click(icon);
    await fireEvent.click(screen.getByRole("menuitem", { name: "Settings" }));
    expect(screen.getByLabelText("Current password")).toBeTruthy();
  });

  it("logs out from the menu and says so on Log in", async () => {
    backend(loggedIn);
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    await fireEvent.click(screen.getByRole("button", { name: "Menu of Taro Yamada" }));
    await fireEvent.click(screen.getByRole("menuitem", { name: "Log out" }));
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
    expect(screen.getByText("You are logged out.")).toBeTruthy();
    await waitFor(() => expect(app.hasSession).toBe(false));
  });

  /** Logged out offline: the revocation is kept in the keychain and sent at the next start. */
  const offline: LoggedOut = {
    remote_revoked: false,
    revoke_pending: true,
    status: null,
    request_id: null,
    remote_error: refusal("offline"),
  };

  async function logOutFromTheMenu() {
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    await fireEvent.click(screen.getByRole("button", { name: "Menu of Taro Yamada" }));
    await fireEvent.click(screen.getByRole("menuitem", { name: "Log out" }));
    await screen.findByRole("heading", { name: /Log in|ログイン/ });
  }

  it("after logging out offline, says the server will be told the next time the app starts with a connection", async () => {
    backend({ ...loggedIn, logout: () => offline });
    await logOutFromTheMenu();
    const notice = screen.getByText(
      "You are logged out on this device. The server could not be reached, so it will be told the next time Unipos starts with a connection.",
    );
    expect(notice.closest("[role=status]")).not.toBeNull();
    expect(screen.queryByText(/ends on its own/)).toBeNull();
    expect(app.hasSession).toBe(false);
  });

  it("says it in Japanese too", async () => {
    backend({
      ...loggedIn,
      startup: startup({ has_session: true, preferences: { ...noPreferences, language: "ja" } }),
      logout: () => offline,
    });
    render(App);
    await screen.findByText("Taro Yamadaさん、こんにちは");
    await fireEvent.click(screen.getByRole("button", { name: "Taro Yamadaさんのメニュー" }));
    await fireEvent.click(screen.getByRole("menuitem", { name: "ログアウト" }));
    expect(
      await screen.findByText(
        "この端末ではログアウトしました。サーバーに接続できなかったため、次にインターネットに接続した状態でUniposを起動したときに、サーバー側のセッションも終了します。",
      ),
    ).toBeTruthy();
  });

  it("says the session there ends on its own only when nothing is kept to send later", async () => {
    backend({
      ...loggedIn,
      logout: (): LoggedOut => ({ ...offline, revoke_pending: false, status: 401, remote_error: refusal("session_expired") }),
    });
    await logOutFromTheMenu();
    expect(
      screen.getByText("You are logged out on this device. The server could not be told; the session there ends on its own."),
    ).toBeTruthy();
    expect(screen.queryByText(/next time Unipos starts/)).toBeNull();
  });
});

describe("Links while the app runs", () => {
  it("starts the Reset screen afresh for a second link", async () => {
    let checks = 0;
    backend({
      startup: startup({ incoming_link: { status: "opened", target: { kind: "reset", token_hint: "AAAAAA…" } } }),
      check_reset_link: () => {
        checks += 1;
        return checks === 1 ? refuse("offline") : never();
      },
      take_incoming_link: () => ({ status: "opened", target: { kind: "reset", token_hint: "BBBBBB…" } }),
    });
    render(App);
    await screen.findByText("offline");
    await linkArrives();
    await waitFor(() => expect(checks).toBe(2));
    expect(screen.queryByText("offline")).toBeNull();
    expect(screen.getByText("Checking the link…")).toBeTruthy();
  });

  it("asks before a reset link replaces a logged-in member's session, and logs out first", async () => {
    const calls = backend({
      startup: startup({ has_session: true }),
      restore_session: () => taro,
      timeline: () => ({ posts: [] }),
      take_incoming_link: () => ({ status: "opened", target: { kind: "reset", token_hint: "AbCdEf…" } }),
      logout: (): LoggedOut => loggedOut,
      check_reset_link: () => checkedLink,
      policy_checklist: () => [],
    });
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    await linkArrives();
    expect(await screen.findByRole("heading", { name: "Open the reset link?" })).toBeTruthy();
    expect(screen.getByText(/You are logged in as Taro Yamada/)).toBeTruthy();
    expect(calls.some((c) => c.cmd === "logout")).toBe(false);
    await fireEvent.click(screen.getByRole("button", { name: "Log out and open the link" }));
    expect(await screen.findByRole("heading", { name: "Set a new password" })).toBeTruthy();
    expect(await screen.findByText("For t***@example.com")).toBeTruthy();
    await waitFor(() => expect(calls.some((c) => c.cmd === "policy_checklist")).toBe(true));
    expect(calls.filter((c) => c.cmd === "logout")).toHaveLength(1);
    expect(app.hasSession).toBe(false);
  });

  it("does not log anyone out for a link that no longer works", async () => {
    const calls = backend({
      startup: startup({ has_session: true }),
      restore_session: () => taro,
      timeline: () => ({ posts: [] }),
      take_incoming_link: () => ({ status: "opened", target: { kind: "reset", token_hint: "AbCdEf…" } }),
      check_reset_link: () => refuse("token_used", { status: 410 }),
    });
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    await linkArrives();
    expect(await screen.findByRole("heading", { name: "This link was already used" })).toBeTruthy();
    expect(calls.some((c) => c.cmd === "logout")).toBe(false);
    expect(app.hasSession).toBe(true);
  });

  it("keeps the session when the member stays logged in", async () => {
    const calls = backend({
      startup: startup({ has_session: true }),
      restore_session: () => taro,
      timeline: () => ({ posts: [] }),
      take_incoming_link: () => ({ status: "opened", target: { kind: "reset", token_hint: "AbCdEf…" } }),
      check_reset_link: () => checkedLink,
      policy_checklist: () => [],
    });
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    await linkArrives();
    await fireEvent.click(await screen.findByRole("button", { name: "Stay logged in" }));
    expect(await screen.findByText("Hello, Taro Yamada")).toBeTruthy();
    expect(calls.some((c) => c.cmd === "logout")).toBe(false);
    expect(app.hasSession).toBe(true);
  });

  it("asks whose account a link this device did not ask for is first, then before replacing the session, and not again after logging out", async () => {
    const calls = backend({
      startup: startup({ has_session: true }),
      restore_session: () => taro,
      timeline: () => ({ posts: [] }),
      take_incoming_link: () => ({ status: "opened", target: { kind: "reset", token_hint: "AbCdEf…" } }),
      logout: (): LoggedOut => loggedOut,
      check_reset_link: () => sentLink,
      policy_checklist: () => [],
    });
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    await linkArrives();
    expect(await screen.findByRole("heading", { name: "Check the account" })).toBeTruthy();
    expect(screen.getByText("This link is for h***@example.net.")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Continue" }));
    expect(screen.getByRole("heading", { name: "Open the reset link?" })).toBeTruthy();
    expect(count(calls, "logout")).toBe(0);
    await fireEvent.click(screen.getByRole("button", { name: "Log out and open the link" }));
    // The same link, checked again after logging out: the member already said whose it is.
    await waitFor(() => expect(count(calls, "check_reset_link")).toBe(2));
    expect(await screen.findByLabelText("New password")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Set a new password" })).toBeTruthy();
    expect(screen.queryByText("Check the account")).toBeNull();
    expect(app.route).toEqual({ name: "reset", account_checked: "AbCdEf…" });
    expect(count(calls, "logout")).toBe(1);
  });

  it("asks whose account again for another link that arrives after logging out", async () => {
    let checks = 0;
    backend({
      startup: startup({ has_session: true }),
      restore_session: () => taro,
      timeline: () => ({ posts: [] }),
      take_incoming_link: () => ({ status: "opened", target: { kind: "reset", token_hint: "AbCdEf…" } }),
      logout: (): LoggedOut => loggedOut,
      // After the logout, Rust holds another link (its token hint differs).
      check_reset_link: () => (++checks === 1 ? sentLink : { ...sentLink, token_hint: "ZyXwVu…" }),
      policy_checklist: () => [],
    });
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    await linkArrives();
    await fireEvent.click(await screen.findByRole("button", { name: "Continue" }));
    await fireEvent.click(screen.getByRole("button", { name: "Log out and open the link" }));
    await waitFor(() => expect(checks).toBe(2));
    expect(await screen.findByRole("heading", { name: "Check the account" })).toBeTruthy();
    expect(screen.queryByLabelText("New password")).toBeNull();
  });

  it("keeps a logged-in member's session when the link is not their account", async () => {
    const calls = backend({
      startup: startup({ has_session: true }),
      restore_session: () => taro,
      timeline: () => ({ posts: [] }),
      take_incoming_link: () => ({ status: "opened", target: { kind: "reset", token_hint: "AbCdEf…" } }),
      check_reset_link: () => sentLink,
      policy_checklist: () => [],
    });
    render(App);
    await screen.findByText("Hello, Taro Yamada");
    await linkArrives();
    await fireEvent.click(await screen.findByRole("button", { name: "This is not my account" }));
    expect(await screen.findByText("Hello, Taro Yamada")).toBeTruthy();
    expect(count(calls, "logout")).toBe(0);
    expect(app.hasSession).toBe(true);
  });

  it("opens a link pasted on the Log in screen", async () => {
    const calls = backend({
      startup: startup(),
      open_link: () => ({ kind: "reset", token_hint: "AbCdEf…" }),
      check_reset_link: never,
    });
    render(App);
    await screen.findByRole("heading", { name: "Log in" });
    await fireEvent.click(screen.getByText("Have a link from a reset email or an Account Information form?"));
    const field = screen.getByLabelText("Link from the email");
    await fireEvent.input(field, { target: { value: "unipos://reset_password?token=x" } });
    await fireEvent.click(screen.getByRole("button", { name: "Open the link" }));
    expect(await screen.findByText("Checking the link…")).toBeTruthy();
    expect(calls.find((c) => c.cmd === "open_link")?.args).toEqual({ url: "unipos://reset_password?token=x" });
  });

  it("offers Support from Log in without logging in, and Back returns to Log in as it was", async () => {
    backend({
      startup: startup(),
      support_report: () => "the report",
      login_with_email: () => refuse("invalid_credentials", { request_id: "req-7" }),
    });
    render(App);
    await screen.findByRole("heading", { name: "Log in" });
    await fireEvent.input(screen.getByRole("textbox", { name: "Email address" }), { target: { value: "taro@example.com" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "typed-secret-1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await screen.findByText("req-7");
    await fireEvent.click(screen.getByRole("button", { name: "Support" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Support" })).toBeTruthy();
    expect(screen.queryByRole("heading", { name: "Log in" })).toBeNull();
    await waitFor(() => expect((screen.getByLabelText("Support report") as HTMLTextAreaElement).value).toBe("the report"));
    expect(screen.queryByRole("button", { name: "Support" })).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "‹ Back" }));
    // The screen as it was: what was typed, and the error the member went to ask about.
    expect(await screen.findByRole("heading", { name: "Log in" })).toBeTruthy();
    expect((screen.getByRole("textbox", { name: "Email address" }) as HTMLInputElement).value).toBe("taro@example.com");
    expect((screen.getByLabelText("Password") as HTMLInputElement).value).toBe("typed-secret-1");
    expect(screen.getByText("req-7")).toBeTruthy();
    await waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe("Support"));
  });

  it("offers Support from a link-problem screen, and Back returns to it", async () => {
    backend({
      startup: startup({
        incoming_link: { status: "refused", error: refusal("link_host") },
      }),
      support_report: () => "the report",
    });
    render(App);
    await screen.findByRole("heading", { name: "This link can't be opened" });
    await fireEvent.click(screen.getByRole("button", { name: "Support" }));
    await screen.findByRole("heading", { level: 1, name: "Support" });
    await fireEvent.click(screen.getByRole("button", { name: "‹ Back" }));
    expect(await screen.findByRole("heading", { name: "This link can't be opened" })).toBeTruthy();
  });

  it("offers Support on Reset too, and the passwords typed are still there after Back", async () => {
    backend({
      startup: startup({ incoming_link: { status: "opened", target: { kind: "reset", token_hint: "AbCdEf…" } } }),
      check_reset_link: () => checkedLink,
      policy_checklist: () => [],
      support_report: () => "the report",
    });
    render(App);
    await fireEvent.input(await screen.findByLabelText("New password"), { target: { value: "Fresh-pass-42" } });
    await fireEvent.click(screen.getByRole("button", { name: "Support" }));
    await screen.findByRole("heading", { level: 1, name: "Support" });
    await fireEvent.click(screen.getByRole("button", { name: "‹ Back" }));
    await screen.findByRole("heading", { name: "Set a new password" });
    expect((screen.getByLabelText("New password") as HTMLInputElement).value).toBe("Fresh-pass-42");
  });

  it("Support on a logged-out screen, pointed at an API where a session is stored, opens the Timeline", async () => {
    backend({
      startup: (() => {
        let first = true;
        return () => {
          const s = startup({ has_session: !first })();
          first = false;
          return s;
        };
      })(),
      support_report: () => "the report",
      set_api_url: (): ApiUrlChange => ({ status: "applied", info }),
      restore_session: () => taro,
      timeline: () => ({ posts: [] }),
    });
    render(App);
    await screen.findByRole("heading", { name: "Log in" });
    await fireEvent.click(screen.getByRole("button", { name: "Support" }));
    await fireEvent.input(await screen.findByLabelText("Use another API URL"), { target: { value: "http://127.0.0.1:9999" } });
    await fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(await screen.findByText("Hello, Taro Yamada")).toBeTruthy();
  });

  it("after Support connects to another API, Log in says Connected to its host, and Cancel leaves no such line", async () => {
    const release = ({ apiUrl, confirmedHost }: Record<string, unknown>): ApiUrlChange =>
      confirmedHost === "api.staging.example"
        ? { status: "applied", info: { ...info, api_url: apiUrl as string, web_base: apiUrl as string, chosen_api_host: "api.staging.example" } }
        : { status: "confirm", host: "api.staging.example" };
    backend({ startup: startup(), support_report: () => "the report", set_api_url: release });
    render(App);
    await screen.findByRole("heading", { name: "Log in" });
    expect(document.querySelector(".connected-to")).toBeNull();

    await fireEvent.click(screen.getByRole("button", { name: "Support" }));
    await fireEvent.input(await screen.findByLabelText("Use another API URL"), { target: { value: "https://api.staging.example" } });
    await fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    await fireEvent.click(await screen.findByRole("button", { name: "Cancel" }));
    await fireEvent.click(screen.getByRole("button", { name: "‹ Back" }));
    await screen.findByRole("heading", { name: "Log in" });
    expect(document.querySelector(".connected-to")).toBeNull();

    await fireEvent.click(screen.getByRole("button", { name: "Support" }));
    await fireEvent.input(await screen.findByLabelText("Use another API URL"), { target: { value: "https://api.staging.example" } });
    await fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    await fireEvent.click(await screen.findByRole("button", { name: "Connect to api.staging.example" }));
    await waitFor(() => expect(app.info?.chosen_api_host).toBe("api.staging.example"));
    await fireEvent.click(screen.getByRole("button", { name: "‹ Back" }));
    await screen.findByRole("heading", { name: "Log in" });
    expect(document.querySelector(".connected-to")?.textContent).toContain("Connected to api.staging.example");
    await fireEvent.click(screen.getByRole("button", { name: "Reset Password" }));
    await screen.findByRole("heading", { name: "Reset your password" });
    expect(document.querySelector(".connected-to")?.textContent).toContain("Connected to api.staging.example");
  });

  it("says at once when the keychain cannot keep a session", async () => {
    backend({ startup: startup({ keychain_error: refusal("keychain_unavailable") }) });
    render(App);
    await screen.findByRole("heading", { name: "Log in" });
    expect(screen.getByText(/The device's keychain cannot be used/)).toBeTruthy();
  });
});
