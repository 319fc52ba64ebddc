import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { backend } from "../test/backend";
import { describe, expect, it, vi } from "vitest";
import { setLanguage } from "../lib/i18n.svelte";
import type { ClientErrorCode } from "../generated/bindings";
import ErrorAlert from "./ErrorAlert.svelte";

describe("error alert", () => {
  it("announces the localized message with the code beside it", () => {
    render(ErrorAlert, { error: { code: "token_expired", message: "The link expired", request_id: "req-3" } });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("This link has expired. Ask for a new email.");
    expect(alert.textContent).toContain("Code: token_expired");
    expect(alert.textContent).toContain("Request ID: req-3");
    expect(alert.textContent).not.toContain("The link expired");
  });

  it("shows a code outside this build's union with the generic text, and the code itself", () => {
    // The core turns a newer server's code into `unknown`; only a mismatched build sends this.
    const code = "quantum_flux" as ClientErrorCode;
    render(ErrorAlert, { error: { code, message: "?" } });
    expect(screen.getByRole("alert").textContent).toContain("Something went wrong.");
    expect(screen.getByText("quantum_flux")).toBeTruthy();
  });

  it("speaks Japanese when the app does", () => {
    setLanguage("ja");
    render(ErrorAlert, { error: { code: "email_trailing_whitespace", message: "" } });
    render(ErrorAlert, { error: { code: "token_used", message: "", request_id: "req-8" } });
    const [space, used] = screen.getAllByRole("alert");
    expect(space!.textContent).toContain("メールアドレスの末尾に空白（スペース）があります。削除してください。");
    expect(space!.textContent).toContain("エラーコード：email_trailing_whitespace");
    expect(used!.textContent).toContain("この再設定リンクは使用済みです。再設定メールをもう一度送信してください。");
    expect(used!.textContent).toContain("リクエストID：req-8");
  });

  it("Copy details copies the code, the request id and the time the error was shown", async () => {
    const calls = backend({ "plugin:clipboard-manager|write_text": () => null });
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(new Date("2026-11-28T09:00:00Z"));
      render(ErrorAlert, { error: { code: "connection_refused", message: "", request_id: "req-9" } });
      // The member copies five minutes later, while chatting with support.
      vi.setSystemTime(new Date("2026-11-28T09:05:00Z"));
      await fireEvent.click(screen.getByRole("button", { name: "Copy details" }));
      expect(await screen.findByText("Copied")).toBeTruthy();
    } finally {
      vi.useRealTimers();
    }
    const text = calls.find((c) => c.cmd === "plugin:clipboard-manager|write_text")?.args.text;
    expect(text).toBe("Code: connection_refused\nRequest ID: req-9\nTime: 2026-11-28T09:00:00.000Z");
  });

  it("stays in the page, empty, when there is nothing to say", () => {
    render(ErrorAlert, { error: null });
    expect(screen.getByRole("alert").textContent?.trim()).toBe("");
  });

  it("says a busy server changed nothing, and when to try again", () => {
    render(ErrorAlert, {
      error: { code: "server_busy", message: "busy", status: 503, retry_after_s: 2, request_id: "req-5" },
    });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("The server is busy, so nothing was changed. Try again in 2 s.");
    expect(alert.textContent).toContain("Code: server_busy");
    expect(alert.textContent).toContain("Request ID: req-5");
  });

  it("says to wait a few seconds when a busy server gives no time, in both languages", () => {
    render(ErrorAlert, { error: { code: "server_busy", message: "busy", status: 503 } });
    expect(screen.getByRole("alert").textContent).toContain(
      "The server is busy, so nothing was changed. Wait a few seconds and try again.",
    );
    cleanup();
    setLanguage("ja");
    render(ErrorAlert, { error: { code: "server_busy", message: "busy", status: 503, retry_after_s: 1 } });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain(
      "サーバーが混み合っているため、処理できませんでした。何も変更されていません。1秒後にもう一度お試しください。",
    );
    expect(alert.textContent).toContain("server_busy");
  });

  it("says Unipos is not available and when to try again, not that something went wrong, in both languages", () => {
    render(ErrorAlert, {
      error: { code: "unavailable", message: "down", status: 503, retry_after_s: 5, request_id: "req-6" },
    });
    let alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("Unipos is not available right now. Try again in 5 s.");
    expect(alert.textContent).not.toContain("failed");
    expect(alert.textContent).toContain("Code: unavailable");
    cleanup();
    setLanguage("ja");
    render(ErrorAlert, { error: { code: "unavailable", message: "down", status: 503, retry_after_s: 5 } });
    alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("現在Uniposを利用できません。5秒後にもう一度お試しください。");
    expect(alert.textContent).toContain("unavailable");
  });

  it("says a network's connections are at the cap, and when to try again", () => {
    render(ErrorAlert, {
      error: { code: "too_many_connections", message: "cap", status: 503, retry_after_s: 2 },
    });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain(
      "Too many devices on your network are connected to Unipos at once. Try again in 2 s.",
    );
    expect(alert.textContent).toContain("Code: too_many_connections");
  });

  it("asks to check the connection when the request did not arrive in time", () => {
    render(ErrorAlert, { error: { code: "request_timeout", message: "slow", status: 408 } });
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("Check your connection and try again.");
    expect(alert.textContent).toContain("Code: request_timeout");
  });

  it("joins the wait to the message without a space in Japanese", () => {
    setLanguage("ja");
    render(ErrorAlert, { error: { code: "rate_limited", message: "", retry_after_s: 42 } });
    expect(screen.getByRole("alert").textContent).toContain(
      "短時間に操作が繰り返されたため、一時的に受け付けを制限しています。42秒後にもう一度お試しください。",
    );
  });
});
