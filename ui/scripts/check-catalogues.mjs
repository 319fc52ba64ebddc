// Checks that the English and Japanese catalogues have the same keys, that neither has an empty
// text, and that every error code Rust exports (ERROR_CODES in the generated bindings) has a text.
import { readFileSync } from "node:fs";

const read = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));
const en = read("../src/i18n/en.json");
const ja = read("../src/i18n/ja.json");
const bindings = readFileSync(new URL("../src/generated/bindings.ts", import.meta.url), "utf8");
const codes = JSON.parse(bindings.match(/export const ERROR_CODES = (\[[^\]]*\])/)?.[1] ?? "[]");

const problems = [];
for (const key of Object.keys(en)) if (!(key in ja)) problems.push(`ja.json lacks ${key}`);
for (const key of Object.keys(ja)) if (!(key in en)) problems.push(`en.json lacks ${key}`);
for (const [name, catalogue] of [["en", en], ["ja", ja]]) {
  for (const [key, text] of Object.entries(catalogue)) {
    if (typeof text !== "string" || text.trim() === "") problems.push(`${name}.json: ${key} is empty`);
  }
  for (const code of codes) {
    if (!(`error.${code}` in catalogue)) problems.push(`${name}.json has no text for error code ${code}`);
  }
}
if (codes.length === 0) problems.push("no ERROR_CODES found in src/generated/bindings.ts");

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`catalogues: ${Object.keys(en).length} keys in en and ja, ${codes.length} error codes translated`);
