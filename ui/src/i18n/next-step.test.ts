// One rule both languages share: every error text says the cause, then what to do next. A text of
// one sentence is a refusal without a way out, the slip this catches. The next step is a sentence
// of its own after the cause; in Japanese it asks (〜してください) or says what can be done.
import { describe, expect, it } from "vitest";
import en from "./en.json";
import ja from "./ja.json";

/** Error texts whose next step the screen adds, with where it comes from. */
const EXEMPT: Record<string, string> = {
  "error.password_policy":
    "Reset, Account and the reset page follow it with the rules still missing (rule.failed), why a common password is refused (rule.failed_common), and then once what to do (rule.fix_missing or rule.fix_common)",
  "error.rate_limited":
    "the API always sends retry_after_s with it, and ErrorAlert adds when to try again (common.retry_in)",
  "error.too_many_connections":
    "the API always sends retry_after_s with it (the client supplies one if a proxy drops it), and ErrorAlert adds when to try again (common.retry_in)",
};

function sentencesOf(text: string, lang: "en" | "ja"): string[] {
  const parts =
    lang === "ja"
      ? text.split(/(?<=。)/u)
      : // A sentence ends at . ! ? followed by a space and a capital, a quote or a digit.
        text.split(/(?<=[.!?])\s+(?=[A-Z"(\d])/u);
  return parts.map((s) => s.trim()).filter(Boolean);
}

/** Every error text of `catalogue` that gives no next step, as "key: text" lines. */
export function withoutNextStep(catalogue: Record<string, string>, lang: "en" | "ja"): string[] {
  const found: string[] = [];
  for (const [key, text] of Object.entries(catalogue)) {
    if (!key.startsWith("error.") || key in EXEMPT) continue;
    const [, ...after] = sentencesOf(text, lang);
    const acts =
      lang === "ja"
        ? after.some((s) => /(ください|できます)（?[^。]*）?。$/u.test(s))
        : after.length > 0;
    if (!acts) found.push(`${key}: ${JSON.stringify(text)}`);
  }
  return found;
}

describe("every error text says what to do next", () => {
  it("in English", () => {
    expect(withoutNextStep(en as Record<string, string>, "en")).toEqual([]);
  });

  it("in Japanese", () => {
    expect(withoutNextStep(ja as Record<string, string>, "ja")).toEqual([]);
  });

  it("only exempts texts that exist, each with its reason", () => {
    for (const [key, reason] of Object.entries(EXEMPT)) {
      expect(key in en && key in ja, key).toBe(true);
      expect(reason.length).toBeGreaterThan(20);
    }
  });

  it("catches a refusal that gives only the cause", () => {
    expect(
      withoutNextStep({ "error.link_port": "This link points to another port, not to Unipos." }, "en"),
    ).toHaveLength(1);
    expect(withoutNextStep({ "error.link_host": "Unipos以外のサイトへのリンクです。" }, "ja")).toHaveLength(1);
    // A second sentence that only adds to the cause is no next step in Japanese either.
    expect(
      withoutNextStep({ "error.link_userinfo": "別のサイトのURLが隠されたリンクです。Uniposのリンクではありません。" }, "ja"),
    ).toHaveLength(1);
    expect(
      withoutNextStep({ "error.link_host": "Unipos以外のサイトのリンクです。メールのリンクを貼り付けてください。" }, "ja"),
    ).toEqual([]);
  });
});
