import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import en from "../i18n/en.json";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ResetRequested } from "../generated/bindings";
import { app } from "../lib/app.svelte";
import { setLanguage } from "../lib/i18n.svelte";
import { backend, count, refuse } from "../test/backend";
import CheckEmail from "./CheckEmail.svelte";

// As Rust answers `request_reset`: the subject of the mail sent, in the language it asked for.
const sent: ResetRequested = {
  status: 202,
  request_id: "r1",
  email_hint: "t***@example.com",
  resend_after_s: 60,
  mail_language: "en",
  mail_subject: "【Unipos】Password reset",
};
const sentInJapanese: ResetRequested = { ...sent, mail_language: "ja", mail_subject: "【Unipos】パスワード再設定" };

describe("Check your email", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setInterval", "Date"] });
    app.drafts.forgotEmail = "taro@example.com";
    app.sent = { ...sent, at: Date.now() };
  });
  afterEach(() => vi.useRealTimers());

  it("names the email's title and sender to look for", () => {
    backend({});
    render(CheckEmail);
    const subject = screen.getByText("【Unipos】Password reset");
    expect(subject.getAttribute("lang")).toBe("en");
    expect(screen.getByText("no-reply@mail.unipos.me")).toBeTruthy();
    expect(screen.getByText(/If t\*\*\*@example\.com is registered/)).toBeTruthy();
  });

  it("names the Japanese subject, marked Japanese, when the mail was sent in Japanese", () => {
    setLanguage("ja");
    app.sent = { ...sentInJapanese, at: Date.now() };
    backend({});
    render(CheckEmail);
    const subject = screen.getByText("【Unipos】パスワード再設定");
    expect(subject.tagName).toBe("DD");
    expect(subject.getAttribute("lang")).toBe("ja");
    expect(screen.queryByText("【Unipos】Password reset")).toBeNull();
  });

  it("shows the subject of the mail sent, in its language, after the app changed language", () => {
    // Sent in Japanese, then the member switched the app to English: the mail is still Japanese.
    app.sent = { ...sentInJapanese, at: Date.now() };
    backend({});
    render(CheckEmail);
    expect(screen.getByText("【Unipos】パスワード再設定").getAttribute("lang")).toBe("ja");
  });

  it("asks for the mail again in the language shown, and shows the new mail's subject", async () => {
    setLanguage("ja");
    app.sent = { ...sent, resend_after_s: 0, at: Date.now() };
    const calls = backend({ request_reset: () => sentInJapanese });
    render(CheckEmail);
    expect(screen.getByText("【Unipos】Password reset").getAttribute("lang")).toBe("en");
    await fireEvent.click(screen.getByRole("button", { name: "再設定メールを再送信" }));
    await waitFor(() => expect(count(calls, "request_reset")).toBe(1));
    expect(calls[0]?.args).toEqual({ email: "taro@example.com", language: "ja" });
    expect((await screen.findByText("【Unipos】パスワード再設定")).getAttribute("lang")).toBe("ja");
  });

  it("counts down from the server's interval before Send again is offered", async () => {
    const calls = backend({ request_reset: () => ({ ...sent, request_id: "r2" }) });
    render(CheckEmail);
    const button = screen.getByRole("button", { name: "Send again (60 s)" });
    expect(button).toHaveProperty("disabled", true);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(screen.getByRole("button", { name: "Send again (1 s)" })).toBeTruthy();
    await vi.advanceTimersByTimeAsync(1_000);
    const ready = screen.getByRole("button", { name: "Send again" });
    expect(ready).toHaveProperty("disabled", false);
    await fireEvent.click(ready);
    await waitFor(() => expect(count(calls, "request_reset")).toBe(1));
    expect(calls[0]?.args).toEqual({ email: "taro@example.com", language: "en" });
    expect(await screen.findByText(/We sent the email again/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Send again (60 s)" })).toBeTruthy();
  });

  it("restarts the countdown from the server's retry-after when it refuses", async () => {
    backend({ request_reset: () => refuse("rate_limited", { retry_after_s: 120, status: 429 }) });
    app.sent = { ...sent, resend_after_s: 0, at: Date.now() };
    render(CheckEmail);
    await fireEvent.click(screen.getByRole("button", { name: "Send again" }));
    expect(await screen.findByRole("button", { name: "Send again (120 s)" })).toBeTruthy();
    expect(screen.getByText("rate_limited")).toBeTruthy();
  });

  it("counts down from a busy server's retry-after too", async () => {
    backend({ request_reset: () => refuse("server_busy", { retry_after_s: 5, status: 503 }) });
    app.sent = { ...sent, resend_after_s: 0, at: Date.now() };
    render(CheckEmail);
    await fireEvent.click(screen.getByRole("button", { name: "Send again" }));
    expect(await screen.findByRole("button", { name: "Send again (5 s)" })).toBeTruthy();
    expect(screen.getByText("server_busy")).toBeTruthy();
    expect(screen.getByText(/The server is busy, so nothing was changed\. Try again in 5 s\./)).toBeTruthy();
  });

  it("opens a pasted reset link on the Reset screen", async () => {
    const calls = backend({ open_link: () => ({ kind: "reset", token_hint: "AbCdEf…" }) });
    render(CheckEmail);
    const link = "https://unipos.me/reset_password?token=" + "a".repeat(43);
    await fireEvent.input(screen.getByLabelText("Link from the email"), { target: { value: link } });
    await fireEvent.click(screen.getByRole("button", { name: "Open the link" }));
    await waitFor(() => expect(app.route.name).toBe("reset"));
    expect(calls[0]?.args).toEqual({ url: link });
  });

  it("shows why a pasted link is refused", async () => {
    backend({ open_link: () => refuse("link_host") });
    render(CheckEmail);
    await fireEvent.click(screen.getByRole("button", { name: "Open the link" }));
    expect(await screen.findByText(en["error.link_host"])).toBeTruthy();
    expect(screen.getByText("link_host")).toBeTruthy();
    expect(app.route.name).not.toBe("reset");
  });

  it("leads to the page for members who can't receive the email", async () => {
    backend({});
    render(CheckEmail);
    await fireEvent.click(screen.getByRole("button", { name: "I can't receive the email" }));
    expect(app.route.name).toBe("cant_receive");
  });
});
