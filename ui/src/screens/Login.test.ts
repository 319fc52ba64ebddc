import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { app } from "../lib/app.svelte";
import { backend, refuse, taro } from "../test/backend";
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
    const text = await screen.findByText("The email address, Login ID or password is not correct.");
    expect(text.closest("[role=alert]")).not.toBeNull();
    expect(screen.getByText("invalid_credentials")).toBeTruthy();
    expect(screen.getByText("req-7")).toBeTruthy();
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
    expect(await screen.findByText(/locked after too many failed logins\. Try again in 15 min/)).toBeTruthy();
  });
});
