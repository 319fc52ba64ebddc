import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { LinkChecked } from "../generated/bindings";
import { app } from "../lib/app.svelte";
import { setLanguage } from "../lib/i18n.svelte";
import { backend, count, held, info, refuse, taro } from "../test/backend";
import { checklistPasswordRules, checklistPolicy, rustChecklist } from "../test/checklists";
import Reset from "./Reset.svelte";

/** A link this device asked for: Reset goes straight to the password form. */
const checked: LinkChecked = {
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

/** A link this device did not ask for (sent from a web page or a chat, or for another address). */
const notAskedHere: LinkChecked = { ...checked, asked_here: false };

/** An Account Information form's QR code: never asked for in the app. */
const sheetLink: LinkChecked = {
  ...checked,
  email_hint: null,
  login_id: { team: "demo", team_name: "Unipos Demo", login_id_hint: "j***" },
  asked_here: false,
};

/** The `policy_checklist` command, answering as Rust does. */
const checklist = rustChecklist;

function rule(name: string) {
  return document.querySelector(`[data-rule="${name}"]`) as HTMLElement;
}

describe("Reset", () => {
  it("shows the email hint and the server's policy as a live checklist", async () => {
    backend({ check_reset_link: () => checked, policy_checklist: checklist });
    render(Reset);
    expect(await screen.findByText("For t***@example.com")).toBeTruthy();
    await waitFor(() => expect(rule("min_length")).toBeTruthy());
    expect(rule("min_length").textContent).toContain("At least 8 characters");
    expect(rule("min_length").classList.contains("met")).toBe(false);

    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "fresh-pass-42" } });
    await waitFor(() => expect(rule("min_length").classList.contains("met")).toBe(true));
    expect(rule("require_digit").classList.contains("met")).toBe(true);
    expect(rule("require_digit").textContent).toContain("(done)");
  });

  it("gives password managers the policy as Rust words it for passwordrules, on both new-password fields", async () => {
    backend({ check_reset_link: () => checked, policy_checklist: checklist });
    render(Reset);
    await screen.findByText("For t***@example.com");
    for (const label of ["New password", "New password (again)"]) {
      const field = screen.getByLabelText(label);
      expect(field.getAttribute("autocomplete")).toBe("new-password");
      expect(field.getAttribute("passwordrules")).toBe(checklistPasswordRules);
    }
    expect(checklistPasswordRules).toContain("minlength: 8;");
  });

  it("names the team and Login ID, and no email address, for an Account Information form's link", async () => {
    backend({
      check_reset_link: () => ({
        ...checked,
        email_hint: null,
        login_id: { team: "demo", team_name: "Unipos Demo", login_id_hint: "j***" },
      }),
      policy_checklist: checklist,
      set_password_and_login: () => ({
        status: 200,
        request_id: "r",
        user: { ...taro, email: null, login_method: "login_id", login_id: "jiro" },
        expires_at: "x",
      }),
    });
    render(Reset);
    const line = await screen.findByText("For Login ID j*** in team Unipos Demo (demo)");
    expect(line.classList.contains("lead")).toBe(true);
    expect(screen.queryByText(/^For t\*\*\*/)).toBeNull();
    expect(document.body.textContent).not.toContain("@");
    expect(document.body.textContent).not.toContain("null");
    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "fresh-pass-42" } });
    await fireEvent.input(screen.getByLabelText("New password (again)"), { target: { value: "fresh-pass-42" } });
    await fireEvent.click(screen.getByRole("button", { name: "Set password and login" }));
    await waitFor(() => expect(app.route.name).toBe("timeline"));
  });

  it("names the team and Login ID in Japanese", async () => {
    setLanguage("ja");
    backend({
      check_reset_link: () => ({
        ...checked,
        email_hint: null,
        login_id: { team: "demo", team_name: "Unipos Demo", login_id_hint: "j***" },
      }),
      policy_checklist: checklist,
    });
    render(Reset);
    expect(
      await screen.findByText("チーム「Unipos Demo」（demo）のログインID「j***」のパスワードを設定します。"),
    ).toBeTruthy();
  });

  it("shows and hides the password", async () => {
    backend({ check_reset_link: () => checked, policy_checklist: checklist });
    render(Reset);
    const input = (await screen.findByLabelText("New password")) as HTMLInputElement;
    expect(input.type).toBe("password");
    expect(input.getAttribute("autocomplete")).toBe("new-password");
    const [show] = screen.getAllByRole("button", { name: "Show password" });
    await fireEvent.click(show!);
    expect(input.type).toBe("text");
    expect(show!.getAttribute("aria-pressed")).toBe("true");
  });

  it("shows a mismatch on the confirmation field", async () => {
    backend({
      check_reset_link: () => checked,
      policy_checklist: checklist,
      set_password_and_login: () => refuse("password_mismatch", { status: 422 }),
    });
    render(Reset);
    await screen.findByText("For t***@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Set password and login" }));
    const confirm = screen.getByLabelText("New password (again)");
    await waitFor(() => expect(confirm.getAttribute("aria-invalid")).toBe("true"));
    const line = document.getElementById("reset-confirm-error");
    expect(line?.textContent).toContain("The two new passwords are not the same.");
    expect(line?.textContent).toContain("Code: password_mismatch");
    expect(line?.closest("[role=alert]")).not.toBeNull();
  });

  it("names the broken rules when the server refuses the password", async () => {
    backend({
      check_reset_link: () => checked,
      policy_checklist: checklist,
      set_password_and_login: () =>
        refuse("password_policy", { status: 422, details: { failed: ["min_length", "require_digit"] } }),
    });
    render(Reset);
    await screen.findByText("For t***@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Set password and login" }));
    await waitFor(() =>
      expect(document.getElementById("reset-new-error")?.textContent).toContain(
        "Missing: At least 8 characters, A digit",
      ),
    );
  });

  it("ends the checklist with the common-password line, unmet for a common password", async () => {
    backend({ check_reset_link: () => checked, policy_checklist: checklist });
    render(Reset);
    await screen.findByText("For t***@example.com");
    await waitFor(() => expect(rule("common_password")).toBeTruthy());
    const lines = document.querySelectorAll("#reset-rules li");
    expect(lines[lines.length - 1]).toBe(rule("common_password"));
    expect(rule("common_password").textContent).toContain(
      "Not a common password, and not made from your name or email address",
    );
    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "Password123" } });
    await waitFor(() => expect(rule("common_password").classList.contains("met")).toBe(false));
    expect(rule("min_length").classList.contains("met")).toBe(true);
  });

  it("says why a common password is refused, apart from the missing rules", async () => {
    backend({
      check_reset_link: () => checked,
      policy_checklist: checklist,
      set_password_and_login: () =>
        refuse("password_policy", { status: 422, details: { failed: ["min_length", "common_password"] } }),
    });
    render(Reset);
    await screen.findByText("For t***@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Set password and login" }));
    await waitFor(() => expect(document.getElementById("reset-new-error")).not.toBeNull());
    const line = document.getElementById("reset-new-error")!.textContent!;
    expect(line).toContain(
      "The new password does not meet your organisation's rules. Missing: At least 8 characters. " +
        "Common passwords, and passwords made from your name, email address or Login ID, can't be used. " +
        "Choose another password that meets every rule.",
    );
    expect(line).toContain("Code: password_policy");
  });

  it("says in Japanese why a common password is refused", async () => {
    setLanguage("ja");
    backend({
      check_reset_link: () => checked,
      policy_checklist: checklist,
      set_password_and_login: () =>
        refuse("password_policy", {
          status: 422,
          details: { failed: ["min_length", "require_digit", "common_password"] },
        }),
    });
    render(Reset);
    await waitFor(() => expect(rule("common_password")).toBeTruthy());
    expect(rule("common_password").textContent).toContain(
      "よく使われるパスワードや、名前・メールアドレスを含むパスワードは不可",
    );
    await fireEvent.click(screen.getByRole("button", { name: "パスワードを設定してログイン" }));
    await waitFor(() => expect(document.getElementById("reset-new-error")).not.toBeNull());
    expect(document.getElementById("reset-new-error")!.textContent).toContain(
      "新しいパスワードが、会社で定められた条件を満たしていません。" +
        "満たしていない条件：8文字以上、数字を含む。" +
        "よく使われるパスワードや、名前・メールアドレス・ログインIDを含むパスワードは使えません。" +
        "すべての条件を満たす、別のパスワードを入力してください。",
    );
    // The causes first, and one next step: the action is not said twice.
    const said = document.getElementById("reset-new-error")!.textContent!;
    expect(said.match(/ください/g)).toHaveLength(1);
  });

  it("sets the password, logs in and goes to the Timeline", async () => {
    const calls = backend({
      check_reset_link: () => checked,
      policy_checklist: checklist,
      set_password_and_login: () => ({ status: 200, request_id: "r", user: taro, expires_at: "x" }),
    });
    render(Reset);
    await screen.findByText("For t***@example.com");
    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "fresh-pass-42" } });
    await fireEvent.input(screen.getByLabelText("New password (again)"), { target: { value: "fresh-pass-42" } });
    await fireEvent.click(screen.getByRole("button", { name: "Set password and login" }));
    await waitFor(() => expect(app.route.name).toBe("timeline"));
    expect(app.user?.display_name).toBe("Taro Yamada");
    expect(calls.find((c) => c.cmd === "set_password_and_login")?.args).toEqual({
      newPassword: "fresh-pass-42",
      newPasswordConfirmation: "fresh-pass-42",
      language: "en",
    });
  });

  it("sends one request for a double tap on Set password and login", async () => {
    const answer = held<unknown>();
    const calls = backend({
      check_reset_link: () => checked,
      policy_checklist: checklist,
      set_password_and_login: () => answer.promise,
    });
    render(Reset);
    await screen.findByText("For t***@example.com");
    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "fresh-pass-42" } });
    await fireEvent.input(screen.getByLabelText("New password (again)"), { target: { value: "fresh-pass-42" } });
    const button = screen.getByRole("button", { name: "Set password and login" }) as HTMLButtonElement;

    // Two taps before the screen re-renders: the second finds the button still enabled, so only
    // the screen's own guard stops it.
    await Promise.all([fireEvent.click(button), fireEvent.click(button)]);
    expect(count(calls, "set_password_and_login")).toBe(1);
    // The command is still in flight (nothing answered it): the button says so and is disabled.
    expect(button.disabled).toBe(true);
    expect(button.textContent?.trim()).toBe("Setting your password…");
    await fireEvent.click(button);
    expect(count(calls, "set_password_and_login")).toBe(1);

    answer.resolve({ status: 200, request_id: "r", user: taro, expires_at: "x" });
    await waitFor(() => expect(app.route.name).toBe("timeline"));
    expect(count(calls, "set_password_and_login")).toBe(1);
  });

  for (const code of ["token_expired", "token_used", "token_invalid", "token_superseded"] as const) {
    it(`goes to its own screen for a link that is ${code.replace("token_", "")}`, async () => {
      backend({ check_reset_link: () => refuse(code, { status: code === "token_invalid" ? 404 : 410 }) });
      render(Reset);
      await waitFor(() => expect(app.route.name).toBe("link_problem"));
      expect(app.route).toMatchObject({ error: { code } });
    });
  }

  it("goes to the other-device screen when the link was asked for in the app on another device", async () => {
    backend({ check_reset_link: () => refuse("reset_link_other_device", { status: 403 }) });
    render(Reset);
    await waitFor(() => expect(app.route.name).toBe("link_problem"));
    expect(app.route).toMatchObject({ error: { code: "reset_link_other_device" } });
  });

  it("goes to the other-device screen when setting the password is refused for another device", async () => {
    backend({
      check_reset_link: () => checked,
      policy_checklist: checklist,
      set_password_and_login: () => refuse("reset_link_other_device", { status: 403 }),
    });
    render(Reset);
    await fireEvent.input(await screen.findByLabelText("New password"), { target: { value: "fresh-pass-42" } });
    await fireEvent.input(screen.getByLabelText("New password (again)"), { target: { value: "fresh-pass-42" } });
    await fireEvent.click(screen.getByRole("button", { name: "Set password and login" }));
    await waitFor(() => expect(app.route.name).toBe("link_problem"));
    expect(app.route).toMatchObject({ error: { code: "reset_link_other_device" } });
  });

  it("offers to try again when the server cannot be reached", async () => {
    let calls = 0;
    backend({
      check_reset_link: () => (++calls === 1 ? refuse("offline") : checked),
      policy_checklist: checklist,
    });
    render(Reset);
    await fireEvent.click(await screen.findByRole("button", { name: "Try again" }));
    expect(await screen.findByText("For t***@example.com")).toBeTruthy();
  });
});

describe("Reset: a link this device did not ask for", () => {
  it("asks whose account it is before the password form, naming t***@example.com", async () => {
    const calls = backend({ check_reset_link: () => notAskedHere, policy_checklist: checklist });
    render(Reset);
    expect(await screen.findByRole("heading", { level: 1, name: "Check the account" })).toBeTruthy();
    const whose = screen.getByText("This link is for t***@example.com.");
    // Read out as it appears.
    expect(whose.closest("[role=status]")).not.toBeNull();
    expect(screen.getByText(/A link someone else sent you could be for their account/)).toBeTruthy();
    expect(screen.queryByLabelText("New password")).toBeNull();
    expect(screen.queryByRole("button", { name: "Set password and login" })).toBeNull();
    expect(count(calls, "set_password_and_login")).toBe(0);
  });

  it("Continue leads to the password form for the same account", async () => {
    backend({ check_reset_link: () => notAskedHere, policy_checklist: checklist });
    render(Reset);
    await fireEvent.click(await screen.findByRole("button", { name: "Continue" }));
    expect(screen.getByRole("heading", { level: 1, name: "Set a new password" })).toBeTruthy();
    expect(document.activeElement?.id).toBe("reset-title");
    expect(screen.getByText("For t***@example.com")).toBeTruthy();
    expect(screen.getByLabelText("New password")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Set password and login" })).toBeTruthy();
    expect(screen.queryByText("This link is for t***@example.com.")).toBeNull();
  });

  it("This is not my account goes to Log in and sets no password", async () => {
    const calls = backend({ check_reset_link: () => notAskedHere, policy_checklist: checklist });
    render(Reset);
    await fireEvent.click(await screen.findByRole("button", { name: "This is not my account" }));
    expect(app.route.name).toBe("login");
    expect(count(calls, "set_password_and_login")).toBe(0);
  });

  it("names the team and Login ID of an Account Information form's link, and no email address", async () => {
    backend({ check_reset_link: () => sheetLink, policy_checklist: checklist });
    render(Reset);
    expect(
      await screen.findByText("This link is for Login ID j*** in team Unipos Demo (demo)."),
    ).toBeTruthy();
    expect(document.body.textContent).not.toContain("@");
    await fireEvent.click(screen.getByRole("button", { name: "Continue" }));
    expect(screen.getByText("For Login ID j*** in team Unipos Demo (demo)")).toBeTruthy();
  });

  it("asks in Japanese, with the address as it is", async () => {
    setLanguage("ja");
    backend({ check_reset_link: () => notAskedHere, policy_checklist: checklist });
    render(Reset);
    expect(await screen.findByRole("heading", { name: "アカウントをご確認ください" })).toBeTruthy();
    expect(
      screen.getByText("このリンクで設定するのは、t***@example.com のアカウントのパスワードです。"),
    ).toBeTruthy();
    expect(screen.getByRole("button", { name: "続ける" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "自分のアカウントではない" })).toBeTruthy();
  });

  it("goes straight to the password form for a link this device asked for", async () => {
    backend({ check_reset_link: () => checked, policy_checklist: checklist });
    render(Reset);
    expect(await screen.findByLabelText("New password")).toBeTruthy();
    expect(screen.getByRole("heading", { level: 1, name: "Set a new password" })).toBeTruthy();
    expect(screen.queryByText("Check the account")).toBeNull();
    expect(screen.queryByRole("button", { name: "Continue" })).toBeNull();
    expect(screen.queryByRole("button", { name: "This is not my account" })).toBeNull();
  });
});

describe("Reset while an API chosen in Support is used", () => {
  it("says Connected to the host while checking, on the account check and on the form", async () => {
    app.info = { ...info, chosen_api_host: "api.staging.example" };
    const answer = held<LinkChecked>();
    backend({ check_reset_link: () => answer.promise, policy_checklist: checklist });
    render(Reset);
    const line = () => document.querySelector(".connected-to")?.textContent ?? "";
    expect(screen.getByText("Checking the link…")).toBeTruthy();
    expect(line()).toContain("Connected to api.staging.example");
    answer.resolve(notAskedHere);
    await screen.findByRole("heading", { name: "Check the account" });
    expect(line()).toContain("Connected to api.staging.example");
    await fireEvent.click(screen.getByRole("button", { name: "Continue" }));
    expect(screen.getByLabelText("New password")).toBeTruthy();
    expect(line()).toContain("Connected to api.staging.example");
    expect(line()).toContain("Your password and reset links go to this server");
  });

  it("has no Connected to line with the built-in API", async () => {
    app.info = { ...info, chosen_api_host: null };
    backend({ check_reset_link: () => checked, policy_checklist: checklist });
    render(Reset);
    await screen.findByLabelText("New password");
    expect(screen.queryByText(/Connected to/)).toBeNull();
    expect(document.querySelector(".connected-to")).toBeNull();
  });
});
