// The Japanese catalogue's conventions, checked text by text (the conventions for the app, the
// mails and the reset page: です・ます, full-width punctuation, no space between Japanese and
// Latin letters or digits, one word per concept). A failure names the key and the rule.
import { describe, expect, it } from "vitest";
import en from "./en.json";
import ja from "./ja.json";

const english = en as Record<string, string>;
const japanese = ja as Record<string, string>;

/** Kana, kanji, and the full-width punctuation and forms that go with them. */
const JAPANESE = /[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]/u;
/** Placeholders whose value is an email address or a URL: a half-width space may follow them, so
 *  that a tap selects the address alone (`{hint} が`, `{sender} から`). */
const ADDRESS_PLACEHOLDERS = new Set(["hint", "sender", "fix"]);
/** A literal address or URL in a text (`taro@example.com`, `https://unipos.me`). */
const ADDRESS = /(?:https?:\/\/[\w.:/?=&%-]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)/gu;
const PLACEHOLDER = /\{(\w+)\}/gu;

/** Words of one concept that have a better word, with that word (the glossary's "avoid" column). */
const AVOID: [RegExp, string][] = [
  [/パスワードリセット/u, "パスワードを再設定 / パスワードの再設定"],
  [/新しいメール/u, "再設定メール (もう一度送信, 再送信)"],
  [/Eメール|eメール/u, "メール"],
  [/(?<!メール)アドレス/u, "メールアドレス (or URL)"],
  [/送信元/u, "差出人"],
  [/組織/u, "会社"],
  [/ルール/u, "条件"],
  [/デバイス/u, "端末"],
  [/サーバ(?!ー)/u, "サーバー"],
  [/コンピュータ(?!ー)/u, "コンピューター"],
  [/フィルタ(?!ー)/u, "フィルター"],
  [/フォルダ(?!ー)/u, "フォルダー"],
  [/あなた/u, "(no あなた: leave the member out, or 〇〇さん)"],
  [/ています…$/u, "a busy text as 〜中… (送信中…, 保存中…)"],
  // One politeness level for asking the member to check something.
  [/(?<!ご)確認してください/u, "ご確認ください"],
];

/** Half-width punctuation that Japanese text writes full-width: ：（）？！、「」 and one …. */
const HALF_WIDTH_PUNCTUATION = /[:()?!,"]|\.\.\./u;

/** Every way a Japanese text breaks the conventions, as "key: problem" lines. */
export function problems(ja: Record<string, string>, en: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [key, text] of Object.entries(ja)) {
    const say = (problem: string) => found.push(`${key}: ${problem} in ${JSON.stringify(text)}`);

    // The same placeholders as English. A character's name is the one exception: English names
    // it by its Unicode name, Japanese by the name members know (全角スペース（U+3000）).
    const names = (s: string) => [...s.matchAll(PLACEHOLDER)].map((m) => m[1]).sort();
    const wanted = names(en[key] ?? "").filter(
      (n) => !(key.startsWith("char.") && n === "unicode_name" && !text.includes("{unicode_name}")),
    );
    if (JSON.stringify(names(text)) !== JSON.stringify(wanted)) {
      say(`placeholders ${JSON.stringify(names(text))}, English has ${JSON.stringify(names(en[key] ?? ""))}`);
    }

    if (!JAPANESE.test(text)) continue; // "English", "API URL", "{from} → {to}"

    // No half-width space beside Japanese, except after an address or a URL.
    const spaced = text
      .replace(PLACEHOLDER, (whole, name: string) => (ADDRESS_PLACEHOLDERS.has(name) ? "@@" : whole))
      .replace(ADDRESS, "@@")
      .replace(/@@ /gu, "@@");
    for (const m of spaced.matchAll(/ +/gu)) {
      const before = spaced[m.index - 1] ?? "";
      const after = spaced[m.index + m[0].length] ?? "";
      if (JAPANESE.test(before) || JAPANESE.test(after)) {
        say(`a half-width space between ${JSON.stringify(before)} and ${JSON.stringify(after)}`);
      }
    }

    // Full-width colons, brackets, question marks; 、 not ","; one "…".
    const bare = text.replace(PLACEHOLDER, "X").replace(ADDRESS, "@@");
    const half = bare.match(HALF_WIDTH_PUNCTUATION);
    if (half) say(`half-width ${JSON.stringify(half[0])} (write it full-width: ：（）？！、「」…)`);

    for (const [term, use] of AVOID) {
      const hit = text.match(term);
      if (hit) say(`${JSON.stringify(hit[0])}: use ${use}`);
    }
  }
  return found;
}

describe("the Japanese catalogue follows the conventions", () => {
  it("has no space beside Japanese, full-width punctuation, the glossary's words, English's placeholders", () => {
    expect(problems(japanese, english)).toEqual([]);
  });

  it("catches each kind of slip", () => {
    const slips = {
      "common.retry_in": "{seconds} 秒後にもう一度お試しください。",
      "check.sent": "{hint} がUniposに登録されている場合は、パスワード再設定メールをお送りしました。",
      "login.sso": "SSO でログイン",
      "reset.expires": "このリンクの有効期限: {time}",
      "error.connection_refused": "サーバーが接続を拒否しました。サーバは起動していますか?",
      "cant.spam": "あなたの迷惑メールフォルダーをご確認ください。",
      "forgot.sending": "送信しています…",
      "timeline.hello": "{who}さん、こんにちは",
      "char.ideographic_space": "全角スペース（{code_point}）",
      "error.email_invalid": "taro@example.com のような正しいメールアドレスを入力してください。",
      "error.offline": "インターネットに接続されていません。端末の通信環境を確認してください。",
    };
    const found = problems(slips, english).map((line) => line.split(" in ")[0]);
    expect(found).toEqual([
      'common.retry_in: a half-width space between "}" and "秒"',
      'login.sso: a half-width space between "O" and "で"',
      'reset.expires: half-width ":" (write it full-width: ：（）？！、「」…)',
      'error.connection_refused: half-width "?" (write it full-width: ：（）？！、「」…)',
      'error.connection_refused: "サーバ": use サーバー',
      'cant.spam: "あなた": use (no あなた: leave the member out, or 〇〇さん)',
      'forgot.sending: "ています…": use a busy text as 〜中… (送信中…, 保存中…)',
      'timeline.hello: placeholders ["who"], English has ["name"]',
      'error.offline: "確認してください": use ご確認ください',
    ]);
  });

  it("names the characters the email rules report as members know them, with the code point", () => {
    expect(japanese["char.ideographic_space"]).toBe("全角スペース（{code_point}）");
    expect(japanese["char.zero_width"]).toContain("ゼロ幅スペース");
    expect(japanese["char.fullwidth_at"]).toContain("全角＠");
  });
});
