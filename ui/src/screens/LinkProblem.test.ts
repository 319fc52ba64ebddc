import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { app } from "../lib/app.svelte";
import { setLanguage } from "../lib/i18n.svelte";
import { backend, refusal } from "../test/backend";
import type { ClientErrorCode, ErrorDetails } from "../generated/bindings";
import LinkProblem, { isLinkProblem } from "./LinkProblem.svelte";

describe("Link problems", () => {
  const cases: [ClientErrorCode, string][] = [
    ["token_expired", "This link has expired"],
    ["token_used", "This link was already used"],
    ["token_superseded", "A newer email was sent"],
    ["token_invalid", "This link is not valid"],
    ["link_host", "This link can't be opened"],
  ];
  for (const [code, title] of cases) {
    it(`says "${title}" for ${code}, with its code, and offers Send a new email`, async () => {
      backend({});
      render(LinkProblem, { error: refusal(code) });
      expect(screen.getByRole("heading", { level: 1 }).textContent).toBe(title);
      expect(screen.getByText(code)).toBeTruthy();
      await fireEvent.click(screen.getByRole("button", { name: "Send a new email" }));
      expect(app.route.name).toBe("forgot");
    });
  }

  // A Login ID member's dead link (an Account Information form's QR code): no email to ask for.
  const forms: [ClientErrorCode, string, RegExp][] = [
    ["token_expired", "This link has expired", /works for a limited time.*Ask your company's Unipos admin for a new Account Information form/],
    ["token_used", "This link was already used", /sets a password once.*ask your company's Unipos admin for a new Account Information form/],
    ["token_superseded", "A newer Account Information form was printed", /Only the QR code on the newest Account Information form works/],
  ];
  for (const [code, title, body] of forms) {
    it(`for a Login ID member's ${code}, asks for a new Account Information form and offers Back to Log in, not Send a new email`, async () => {
      backend({});
      render(LinkProblem, { error: refusal(code, { status: 410, details: { account: "login_id" } as ErrorDetails }) });
      expect(screen.getByRole("heading", { level: 1 }).textContent).toBe(title);
      expect(screen.getByText(body)).toBeTruthy();
      expect(screen.queryByText(/email/)).toBeNull();
      expect(screen.getByText(code)).toBeTruthy();
      expect(screen.queryByRole("button", { name: "Send a new email" })).toBeNull();
      await fireEvent.click(screen.getByRole("button", { name: "Back to Log in" }));
      expect(app.route.name).toBe("login");
    });
  }

  it("says a link asked for on another device works only there, shows its code, and offers Send a new email from this device", async () => {
    backend({});
    render(LinkProblem, { error: refusal("reset_link_other_device", { status: 403, request_id: "req-9" }) });
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe(
      "This link was asked for on another device",
    );
    expect(
      screen.getByText(
        'A reset link asked for in the Unipos app works only in the Unipos app on the device where "Send" was tapped. ' +
          'Open the link on that device, or tap "Send a new email" to ask for one from this device.',
      ),
    ).toBeTruthy();
    expect(screen.getByText("reset_link_other_device")).toBeTruthy();
    expect(screen.getByText("req-9")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Back to Log in" })).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Send a new email" }));
    expect(app.route.name).toBe("forgot");
  });

  it("says it in Japanese too, naming the buttons as the member sees them", () => {
    setLanguage("ja");
    backend({});
    render(LinkProblem, { error: refusal("reset_link_other_device", { status: 403 }) });
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe(
      "このリンクは別の端末で依頼されたものです",
    );
    expect(screen.getByText(/「送信」をタップした端末のUniposアプリでしか使えません。/)).toBeTruthy();
    expect(screen.getByText(/「再設定メールを再送信」をタップして/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "再設定メールを再送信" })).toBeTruthy();
  });

  it("counts a link asked for on another device as a link problem", () => {
    expect(isLinkProblem("reset_link_other_device")).toBe(true);
    expect(isLinkProblem("offline")).toBe(false);
  });

  it("keeps Send a new email for an email member's expired link", () => {
    backend({});
    render(LinkProblem, { error: refusal("token_expired", { details: { account: "email" } as ErrorDetails }) });
    expect(screen.getByRole("button", { name: "Send a new email" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Back to Log in" })).toBeNull();
  });
});
