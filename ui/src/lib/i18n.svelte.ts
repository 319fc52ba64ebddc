// The catalogues and the current language. Every string the screens show comes from here;
// error codes map to `error.<code>`.
import type en from "../i18n/en.json";
import type { ClientErrorCode, Language } from "../generated/bindings";

export type Key = keyof typeof en;
export type Catalogue = Record<Key, string>;

// Each language's catalogue is a script of its own, asked for when the language is first shown:
// the first page carries only the member's (both were two fifths of Log in's script). The UI's
// first script waits for it before it renders (src/main.ts); src/take-over.ts asks for it beside
// that script.
const loaders: Record<Language, () => Promise<Catalogue>> = {
  en: async () => (await import("../i18n/en.json")).default,
  // A Japanese catalogue that misses or adds a key fails the type check.
  ja: async () => (await import("../i18n/ja.json")).default satisfies Catalogue,
};
const catalogues: Partial<Record<Language, Catalogue>> = {};

let current = $state<Language>("en");
/** The language last asked for, which a catalogue that arrives late must not undo. */
let wanted: Language = "en";

/** Brings a language's catalogue in (once); `setLanguage` then shows it at once. */
export async function loadCatalogue(language: Language): Promise<void> {
  catalogues[language] ??= await loaders[language]();
}

/** The language shown: the member's choice, else the device's (which Rust reads from the OS). */
export function languageFor(choice: Language | null, device: Language): Language {
  return choice ?? device;
}

/** Shows `language`: at once when its catalogue is in, else as soon as it is (a switch in
 *  Settings, a few milliseconds); until then the language shown stays, never a key. */
export function setLanguage(language: Language): void {
  wanted = language;
  if (catalogues[language]) return show(language);
  // The catalogue is a file of the app's own: it fails to load only in a broken build, and then
  // the language shown stays as it is.
  loadCatalogue(language).then(
    () => {
      if (wanted === language) show(language);
    },
    () => undefined,
  );
}

function show(language: Language): void {
  current = language;
  if (typeof document !== "undefined") document.documentElement.lang = language;
}

export function language(): Language {
  return current;
}

/** The text for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = catalogues[current]?.[key] ?? catalogues.en?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

/**
 * The text for `key` split around its `{name}` placeholder, for a value shown in its own element
 * (a code beside its label): "Code: {code}" → ["Code: ", ""], "エラーコード：{code}" → ["エラーコード：", ""].
 * The label's punctuation comes from the catalogue, never from the template.
 */
export function around(key: Key, name: string): [string, string] {
  const text = t(key);
  const at = text.indexOf(`{${name}}`);
  if (at < 0) return [text, ""];
  return [text.slice(0, at), text.slice(at + name.length + 2)];
}

/** The locale of the language shown, for `Intl`. */
function locale(): string {
  return current === "ja" ? "ja-JP" : "en-GB";
}

/** Items as one list in the current language: "A, B, C" / "A、B、C". */
export function listOf(items: string[]): string {
  return new Intl.ListFormat(locale(), { type: "conjunction", style: "narrow" }).format(items);
}

/** Messages joined as the current language joins them: a space in English, nothing after 。. */
export function sentences(...parts: string[]): string {
  return parts.filter((p) => p !== "").join(current === "ja" ? "" : " ");
}

/** The localized sentence for an error code. Every code of the generated union has one: a code
 * added in Rust without its text fails the type check here. */
export function errorText(code: ClientErrorCode): string {
  const key: Key = `error.${code}`;
  // Outside the union only through a UI and a core of different builds: the generic text.
  return key in (catalogues[current] ?? {}) ? t(key) : t("error.unknown");
}

/** A date and time from the API (RFC 3339), in the current language. */
export function dateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), {
    dateStyle: "medium",
    timeStyle: "short",
  }).format(date);
}
