import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { setLanguage } from "../lib/i18n.svelte";
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

  it("shows a code from a newer server with the generic text, and the code itself", () => {
    render(ErrorAlert, { error: { code: "quantum_flux", message: "?" } });
    expect(screen.getByRole("alert").textContent).toContain("Something went wrong.");
    expect(screen.getByText("quantum_flux")).toBeTruthy();
  });

  it("speaks Japanese when the app does", () => {
    setLanguage("ja");
    render(ErrorAlert, { error: { code: "email_trailing_whitespace", message: "" } });
    expect(screen.getByRole("alert").textContent).toContain("メールアドレスの末尾のスペースを削除してください。");
    expect(screen.getByRole("alert").textContent).toContain("コード: email_trailing_whitespace");
  });

  it("stays in the page, empty, when there is nothing to say", () => {
    render(ErrorAlert, { error: null });
    expect(screen.getByRole("alert").textContent?.trim()).toBe("");
  });
});
