import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { ApiUrlChange, AppInfo } from "../generated/bindings";
import { app } from "../lib/app.svelte";
import { setLanguage } from "../lib/i18n.svelte";
import { backend, count, info, noPreferences } from "../test/backend";
import Support from "./Support.svelte";

const url = "https://api.staging.example";
const host = "api.staging.example";

/** What a release build answers: another API's host must be confirmed by name first. */
function releaseBuild({ apiUrl, confirmedHost }: Record<string, unknown>): ApiUrlChange {
  if (apiUrl === null) return { status: "applied", info };
  const asked = new URL(apiUrl as string).host;
  if (confirmedHost !== asked) return { status: "confirm", host: asked };
  const chosen: AppInfo = { ...info, api_url: apiUrl as string, web_base: apiUrl as string, chosen_api_host: asked };
  return { status: "applied", info: chosen };
}

const startup = () => ({
  info,
  preferences: noPreferences,
  has_session: false,
  incoming_link: null,
  keychain_error: null,
});

async function apply(value: string) {
  await fireEvent.input(screen.getByLabelText("Use another API URL"), { target: { value } });
  await fireEvent.click(screen.getByRole("button", { name: "Apply" }));
}

describe("Support > another API URL", () => {
  it("asks to confirm another API by its host, saying what would go there, and changes nothing yet", async () => {
    app.info = info;
    const calls = backend({ support_report: () => "the report", set_api_url: releaseBuild, startup });
    render(Support, { presentation: "desktop" });
    await apply(url);
    const title = await screen.findByRole("heading", { name: `Connect to ${host}?` });
    const dialog = title.closest(".confirm-api") as HTMLElement;
    expect(dialog.closest("[role=alert]")).not.toBeNull();
    expect(dialog.textContent).toContain(
      `Everything you type in the app, your password included, would go to ${host}, and so would your password reset links.`,
    );
    expect(dialog.textContent).toContain("Connect only if Unipos support asked you to and gave you this address.");
    await waitFor(() => expect(document.activeElement).toBe(title));
    expect(screen.getByRole("button", { name: `Connect to ${host}` })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Cancel" })).toBeTruthy();
    // Nothing changed yet: the app still talks to the built-in API.
    expect(calls.find((c) => c.cmd === "set_api_url")?.args).toEqual({ apiUrl: url, confirmedHost: null });
    expect(app.info?.chosen_api_host).toBeNull();
    expect(app.preferences.api_url).toBeNull();
    expect(count(calls, "startup")).toBe(0);
  });

  it("Connect to HOST asks again with the host confirmed, and the app uses that API", async () => {
    app.info = info;
    const calls = backend({ support_report: () => "the report", set_api_url: releaseBuild, startup });
    render(Support, { presentation: "desktop" });
    await apply(url);
    await fireEvent.click(await screen.findByRole("button", { name: `Connect to ${host}` }));
    await waitFor(() => expect(app.info?.chosen_api_host).toBe(host));
    expect(calls.filter((c) => c.cmd === "set_api_url").map((c) => c.args)).toEqual([
      { apiUrl: url, confirmedHost: null },
      { apiUrl: url, confirmedHost: host },
    ]);
    expect(app.preferences.api_url).toBe(url);
    await waitFor(() => expect(count(calls, "startup")).toBe(1));
    expect(screen.queryByRole("heading", { name: `Connect to ${host}?` })).toBeNull();
  });

  it("Cancel changes nothing: no second call, the built-in API, and the field shows it again", async () => {
    app.info = info;
    const calls = backend({ support_report: () => "the report", set_api_url: releaseBuild, startup });
    render(Support, { presentation: "desktop" });
    await apply(url);
    await fireEvent.click(await screen.findByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("heading", { name: `Connect to ${host}?` })).toBeNull();
    expect(screen.queryByRole("button", { name: `Connect to ${host}` })).toBeNull();
    expect(count(calls, "set_api_url")).toBe(1);
    expect(count(calls, "startup")).toBe(0);
    expect(app.info).toEqual(info);
    expect(app.preferences.api_url).toBeNull();
    const field = screen.getByLabelText("Use another API URL") as HTMLInputElement;
    expect(field.value).toBe("");
    expect(document.activeElement).toBe(field);
  });

  it("applies at once where Rust asks nothing (the built-in API, a debug build)", async () => {
    app.info = info;
    const calls = backend({
      support_report: () => "the report",
      set_api_url: (): ApiUrlChange => ({ status: "applied", info: { ...info, chosen_api_host: "127.0.0.1" } }),
      startup,
    });
    render(Support, { presentation: "desktop" });
    await apply("http://127.0.0.1:9999");
    await waitFor(() => expect(app.info?.chosen_api_host).toBe("127.0.0.1"));
    expect(count(calls, "set_api_url")).toBe(1);
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();
  });

  it("asks in Japanese, naming the host", async () => {
    setLanguage("ja");
    app.info = info;
    backend({ support_report: () => "the report", set_api_url: releaseBuild, startup });
    render(Support, { presentation: "desktop" });
    await fireEvent.input(screen.getByLabelText("別のAPI URLを使う"), { target: { value: url } });
    await fireEvent.click(screen.getByRole("button", { name: "適用" }));
    expect(await screen.findByRole("heading", { name: `「${host}」に接続しますか？` })).toBeTruthy();
    expect(screen.getByRole("button", { name: `「${host}」に接続` })).toBeTruthy();
    expect(screen.getByRole("button", { name: "キャンセル" })).toBeTruthy();
  });

  it("says in the field's help that reset links move with the API URL", () => {
    backend({ support_report: () => "the report" });
    render(Support, { presentation: "desktop" });
    const help = document.getElementById("support-api-hint")?.textContent ?? "";
    expect(help).toContain("Use it only when Unipos support asks you to.");
    expect(help).toContain("Reset links move with it");
    expect(help).toContain(
      'a link in an email from the usual Unipos server is refused until you choose "Use the default"',
    );
  });
});
