import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import en from "../i18n/en.json";
import { describe, expect, it } from "vitest";
import type { EmailError } from "../generated/bindings";
import { app } from "../lib/app.svelte";
import { setLanguage } from "../lib/i18n.svelte";
import { backend, count, held, info, refuse } from "../test/backend";
import Forgot from "./Forgot.svelte";

const trailingSpace: EmailError = {
  code: "email_trailing_whitespace",
  message: "Remove the space at the end of the email address.",
  fix: "taro@example.com",
  chars: [{ char: "\u3000", code_point: "U+3000", name: "IDEOGRAPHIC SPACE", kind: "ideographic_space", position: 17 }],
};

const sent = {
  status: 202,
  request_id: "req-1",
  email_hint: "t***@example.com",
  resend_after_s: 60,
  mail_language: "en",
  mail_subject: "【Unipos】Password reset",
};

/**
 * The rules' verdicts, keyed by input, as the core answers them: `check_address` with the verdict,
 * and `request_reset` with the same verdict as the client's error (its fix and characters in
 * `details`) before anything is sent, or with `sent`.
 */
function rules(verdicts: Record<string, EmailError>) {
  return {
    check_address: ({ input }: Record<string, unknown>) => verdicts[input as string] ?? null,
    request_reset: ({ email }: Record<string, unknown>) => {
      const verdict = verdicts[email as string];
      if (!verdict) return sent;
      const { code, message, fix, chars } = verdict;
      return refuse(code, { message, details: { fix, chars } });
    },
  };
}

function field() {
  return screen.getByLabelText("Email address") as HTMLInputElement;
}

describe("Forgot password", () => {
  it("shows the refusal, its code and a one-tap fix when Send meets a trailing space", async () => {
    const calls = backend(rules({ "taro@example.com\u3000": trailingSpace }));
    render(Forgot);
    await fireEvent.input(field(), { target: { value: "taro@example.com\u3000" } });
    expect(screen.queryByText(en["error.email_trailing_whitespace"])).toBeNull();

    await fireEvent.click(screen.getByRole("button", { name: "Send" }));

    const alert = await screen.findByText(en["error.email_trailing_whitespace"]);
    expect(alert.closest("[role=alert]")).not.toBeNull();
    expect(screen.getByText("email_trailing_whitespace")).toBeTruthy();
    expect(screen.getByText("Character 17: U+3000 IDEOGRAPHIC SPACE")).toBeTruthy();
    expect(field().getAttribute("aria-invalid")).toBe("true");
    // One trip: the rules answered inside `request_reset`, and nothing was sent.
    expect(count(calls, "request_reset")).toBe(1);
    expect(count(calls, "check_address")).toBe(0);

    await fireEvent.click(screen.getByRole("button", { name: "Remove the space" }));
    expect(field().value).toBe("taro@example.com");
    await waitFor(() => expect(screen.queryByText(en["error.email_trailing_whitespace"])).toBeNull());
  });

  it("names the characters in Japanese, with their code points", async () => {
    setLanguage("ja");
    const typed = "ｔaro\u200B@example.com\u3000";
    backend(
      rules({
        [typed]: {
          ...trailingSpace,
          chars: [
            { char: "ｔ", code_point: "U+FF54", name: "FULLWIDTH LATIN SMALL LETTER T", kind: "fullwidth_alphanumeric", position: 1 },
            { char: "\u200B", code_point: "U+200B", name: "ZERO WIDTH SPACE", kind: "zero_width", position: 5 },
            { char: "太", code_point: "U+592A", name: "CJK UNIFIED IDEOGRAPH-592A", kind: "other", position: 6 },
            { char: "\u3000", code_point: "U+3000", name: "IDEOGRAPHIC SPACE", kind: "ideographic_space", position: 18 },
          ],
        },
      }),
    );
    render(Forgot);
    await fireEvent.input(screen.getByLabelText("メールアドレス"), { target: { value: typed } });
    await fireEvent.click(screen.getByRole("button", { name: "送信" }));
    await screen.findByText("メールアドレスの末尾に空白（スペース）があります。削除してください。");
    expect(screen.getByText("1文字目：全角英数字（U+FF54）")).toBeTruthy();
    expect(screen.getByText("5文字目：ゼロ幅スペース（見えない文字、U+200B）")).toBeTruthy();
    expect(screen.getByText("6文字目：CJK UNIFIED IDEOGRAPH-592A（U+592A）")).toBeTruthy();
    expect(screen.getByText("18文字目：全角スペース（U+3000）")).toBeTruthy();
    expect(screen.getByText("エラーコード：", { exact: false })).toBeTruthy();
    expect(screen.getByRole("button", { name: "空白を削除" })).toBeTruthy();
    expect(screen.getByText("修正後：taro@example.com")).toBeTruthy();
  });

  it("offers half-width characters for a full-width address", async () => {
    backend(
      rules({
        "ｔａｒｏ@example.com": {
          code: "email_fullwidth",
          message: "Use half-width (single-byte) characters in the email address.",
          fix: "taro@example.com",
          chars: [],
        },
      }),
    );
    render(Forgot);
    await fireEvent.input(field(), { target: { value: "ｔａｒｏ@example.com" } });
    await fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await fireEvent.click(await screen.findByRole("button", { name: "Use half-width characters" }));
    expect(field().value).toBe("taro@example.com");
  });

  it("validates as the member types, but only after the first Send", async () => {
    const calls = backend(rules({ "taro@": { code: "email_invalid", message: "", chars: [] } }));
    render(Forgot);
    await fireEvent.input(field(), { target: { value: "taro@" } });
    expect(count(calls, "check_address")).toBe(0);

    await fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await screen.findByText("email_invalid");
    await fireEvent.input(field(), { target: { value: "taro@example.com" } });
    await waitFor(() => expect(screen.queryByText("email_invalid")).toBeNull());
    expect(count(calls, "check_address")).toBe(1);
  });

  it("sends one request for a double tap, with Send disabled while it is in flight", async () => {
    const answer = held<typeof sent>();
    const calls = backend({ check_address: () => null, request_reset: () => answer.promise });
    render(Forgot);
    await fireEvent.input(field(), { target: { value: "taro@example.com" } });
    const send = screen.getByRole("button", { name: "Send" }) as HTMLButtonElement;
    // Two taps before the screen re-renders: only the screen's own guard stops the second.
    await Promise.all([fireEvent.click(send), fireEvent.click(send)]);
    await waitFor(() => expect(count(calls, "request_reset")).toBe(1));
    // The request is in flight until the test answers it: Send says so and is disabled.
    expect(send.disabled).toBe(true);
    expect(send.textContent?.trim()).toBe("Sending…");
    await fireEvent.click(send);
    answer.resolve(sent);
    await waitFor(() => expect(app.route.name).toBe("check_email"));
    // One round trip for Send: the rules are applied inside `request_reset`.
    expect(count(calls, "check_address")).toBe(0);
    expect(count(calls, "request_reset")).toBe(1);
    expect(app.sent?.email_hint).toBe("t***@example.com");
  });

  it("keeps what was typed when the request fails, and shows the code with its request id", async () => {
    backend({
      check_address: () => null,
      request_reset: () => refuse("offline", { request_id: "req-9" }),
    });
    render(Forgot);
    await fireEvent.input(field(), { target: { value: "taro@example.com" } });
    await fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await screen.findByText("No connection. Check that the device is online.");
    expect(screen.getByText("offline")).toBeTruthy();
    expect(screen.getByText("req-9")).toBeTruthy();
    expect(field().value).toBe("taro@example.com");
    expect(app.route.name).not.toBe("check_email");
  });

  it("says how long to wait when the server rate-limits", async () => {
    backend({
      check_address: () => null,
      request_reset: () => refuse("rate_limited", { retry_after_s: 42, status: 429 }),
    });
    render(Forgot);
    await fireEvent.input(field(), { target: { value: "taro@example.com" } });
    await fireEvent.click(screen.getByRole("button", { name: "Send" }));
    expect(await screen.findByText(/Too many attempts\. Try again in 42 s\./)).toBeTruthy();
  });

  it("keeps the typed address when the member goes back and returns", async () => {
    backend({ check_address: () => null });
    const first = render(Forgot);
    await fireEvent.input(field(), { target: { value: "taro@example.com" } });
    await fireEvent.click(screen.getByRole("button", { name: "Back to Log in" }));
    expect(app.route.name).toBe("login");
    first.unmount();
    render(Forgot);
    expect(field().value).toBe("taro@example.com");
  });

  it("has notes for Login-ID and SSO members that open the help pages", async () => {
    const calls = backend({ open_help: () => true });
    render(Forgot);
    await fireEvent.click(screen.getByRole("button", { name: /with Login ID/ }));
    await fireEvent.click(screen.getByRole("button", { name: /\(with SSO\)/ }));
    expect(calls.filter((c) => c.cmd === "open_help").map((c) => c.args.topic)).toEqual([
      "login_id_password",
      "sso_login",
    ]);
  });

  it("opened while logged in, goes to the Timeline with a note", () => {
    app.hasSession = true;
    backend({});
    render(Forgot);
    expect(app.route).toEqual({ name: "timeline", note: "forgot_while_logged_in" });
  });

  it("gives Login ID members the steps to a new password: their admin, the new form, its QR code, Set password and login", async () => {
    const calls = backend({ open_help: () => null });
    render(Forgot);
    const title = screen.getByRole("heading", { name: "Do you log in with a Login ID?" });
    const steps = title.parentElement!.querySelector("ol")!;
    expect([...steps.querySelectorAll("li")].map((li) => li.textContent)).toEqual([
      "Ask your company's Unipos admin to reset your password.",
      "Your admin gives you a new Account Information form.",
      "Scan the QR code in its lower right corner with your phone.",
      'Enter a new password twice and tap "Set password and login".',
    ]);
    await fireEvent.click(
      screen.getByRole("button", { name: "I forgot / want to reset my password (with Login ID)" }),
    );
    expect(calls.find((c) => c.cmd === "open_help")?.args).toEqual({
      topic: "login_id_password",
      language: "en",
    });
  });

  it("opens the help pages in the language the app shows", async () => {
    setLanguage("ja");
    const calls = backend({ open_help: () => true });
    render(Forgot);
    await fireEvent.click(
      screen.getByRole("button", { name: "パスワードを忘れた・再設定したい（ログインID）" }),
    );
    expect(calls.find((c) => c.cmd === "open_help")?.args).toEqual({
      topic: "login_id_password",
      language: "ja",
    });
  });
});

describe("Forgot password while an API chosen in Support is used", () => {
  it("says Connected to the host under the title, and still after a failed Send", async () => {
    app.info = { ...info, chosen_api_host: "api.staging.example" };
    backend({ check_address: () => null, request_reset: () => refuse("offline") });
    render(Forgot);
    const line = document.querySelector(".connected-to") as HTMLElement;
    expect(line.textContent).toContain("Connected to api.staging.example");
    expect(screen.getByRole("heading", { level: 1, name: "Reset your password" }).nextElementSibling).toBe(line);
    await fireEvent.input(field(), { target: { value: "taro@example.com" } });
    await fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await screen.findByText("offline");
    expect(document.querySelector(".connected-to")?.textContent).toContain("Connected to api.staging.example");
  });

  it("has no Connected to line with the built-in API", () => {
    app.info = { ...info, chosen_api_host: null };
    backend({});
    render(Forgot);
    expect(document.querySelector(".connected-to")).toBeNull();
    expect(document.body.textContent).not.toContain("Connected to");
  });
});
