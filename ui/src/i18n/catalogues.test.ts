import { describe, expect, it } from "vitest";
import {
  ERROR_CODES,
  type CharKind,
  type ClientErrorCode,
  type PolicyRule,
} from "../generated/bindings";
import en from "./en.json";
import ja from "./ja.json";
import { dateTime, errorText, languageFor, listOf, setLanguage, t } from "../lib/i18n.svelte";

describe("catalogues", () => {
  it("English and Japanese have exactly the same keys", () => {
    expect(Object.keys(ja).sort()).toEqual(Object.keys(en).sort());
  });

  it("every error code from Rust has a text in both languages", () => {
    for (const code of ERROR_CODES) {
      expect(en, code).toHaveProperty([`error.${code}`]);
      expect(ja, code).toHaveProperty([`error.${code}`]);
    }
  });

  it("every rule of the checklist has a line in both languages", () => {
    // Exhaustive: a rule added in Rust fails the type check here until it is listed.
    const rules = {
      min_length: true,
      max_length: true,
      require_lower: true,
      require_upper: true,
      require_digit: true,
      require_symbol: true,
      common_password: true,
    } satisfies Record<PolicyRule, true>;
    for (const rule of Object.keys(rules)) {
      expect(en, rule).toHaveProperty([`rule.${rule}`]);
      expect(ja, rule).toHaveProperty([`rule.${rule}`]);
    }
  });

  it("every kind of character the email rules report has a name in both languages", () => {
    // Exhaustive: a kind added in Rust fails the type check here until it is listed.
    const kinds = {
      ideographic_space: true,
      space: true,
      other_space: true,
      zero_width: true,
      tab: true,
      line_break: true,
      fullwidth_alphanumeric: true,
      fullwidth_at: true,
      fullwidth_symbol: true,
      other: true,
    } satisfies Record<CharKind, true>;
    for (const kind of Object.keys(kinds)) {
      expect(en, kind).toHaveProperty([`char.${kind}`]);
      expect(ja, kind).toHaveProperty([`char.${kind}`]);
    }
  });

  it("no text is empty, and placeholders match between the languages", () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, text] of Object.entries(en)) {
      const other = (ja as Record<string, string>)[key] ?? "";
      expect(text.trim(), key).not.toBe("");
      expect(other.trim(), key).not.toBe("");
      // A character's Japanese name (全角スペース（U+3000）) may stand in for its Unicode name.
      const compared = (s: string) =>
        placeholders(s).filter((p) => !(key.startsWith("char.") && p === "unicode_name"));
      expect(compared(other), key).toEqual(compared(text));
    }
  });

  it("keeps the help centre's English button texts exactly", () => {
    expect(en["login.reset_password"]).toBe("Reset Password");
    expect(en["forgot.send"]).toBe("Send");
    expect(en["reset.submit"]).toBe("Set password and login");
    expect(en["nav.settings"]).toBe("Settings");
    expect(en["settings.account"]).toBe("Account");
    expect(en["account.change"]).toBe("Change");
    expect(en["account.save"]).toBe("Save");
  });

  it("follows the device's language unless one was chosen", () => {
    expect(languageFor(null, "ja")).toBe("ja");
    expect(languageFor(null, "en")).toBe("en");
    expect(languageFor("en", "ja")).toBe("en");
  });

  it("formats dates and lists with Intl for the language shown", () => {
    const noon = "2030-01-02T12:00:00Z"; // the 2nd in every time zone
    setLanguage("ja");
    expect(listOf(["英小文字を含む", "数字を含む", "記号を含む"])).toBe("英小文字を含む、数字を含む、記号を含む");
    expect(dateTime(noon)).toMatch(/^2030\/01\/02 \d\d:\d\d$/);
    setLanguage("en");
    expect(listOf(["a digit", "a symbol"])).toBe("a digit, a symbol");
    expect(dateTime(noon)).toMatch(/^2 Jan 2030, \d\d:\d\d$/);
    expect(dateTime("not a date")).toBe("not a date");
  });

  it("fills placeholders and falls back for codes from a newer server", () => {
    setLanguage("ja");
    expect(t("timeline.hello", { name: "太郎" })).toBe("太郎さん、こんにちは");
    expect(errorText("quantum_flux" as ClientErrorCode)).toBe(ja["error.unknown"]);
    setLanguage("en");
    expect(errorText("token_expired")).toBe(en["error.token_expired"]);
  });
});
