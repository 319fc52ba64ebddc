// After `vite build`: writes the prerendered Log in pages into dist/ (src/prerender.ts says
// what and why), from a server build of the screens made for it into .prerender/ (removed
// after). Each page is dist/index.html with its language, its presentation and Log in's markup,
// and with the script that lets the page load before the UI takes it over (src/take-over.ts) in
// place of the UI's.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(ui, "dist");
const server = join(ui, ".prerender");

const page = readFileSync(join(dist, "index.html"), "utf8");
const root = '<html lang="en">';
const app = '<div id="app"></div>';
if (!page.includes(root) || !page.includes(app)) {
  throw new Error(`dist/index.html lacks ${root} or ${app}`);
}

const script = /<script type="module" crossorigin src="(\/assets\/main-[^"]+\.js)"><\/script>/;
const uiScript = page.match(script)?.[1];
const takeOver = readdirSync(join(dist, "assets")).filter((f) => /^take-over-.+\.js$/.test(f));
if (!uiScript || takeOver.length !== 1) {
  throw new Error(`dist/ lacks the UI's script in index.html (${uiScript}) or one take-over script (${takeOver})`);
}

const { prerenderLogins } = await import(pathToFileURL(join(server, "prerender.js")).href);
const pages = await prerenderLogins();
for (const { file, language, presentation, body } of pages) {
  if (!body.includes("<h1")) throw new Error(`${file}: no heading rendered`);
  const html = page
    .replace(root, `<html lang="${language}" data-presentation="${presentation}">`)
    .replace(app, `<div id="app">${body}</div>`)
    .replace(uiScript, `/assets/${takeOver[0]}`);
  mkdirSync(dirname(join(dist, file)), { recursive: true });
  writeFileSync(join(dist, file), html);
}
rmSync(server, { recursive: true, force: true });
console.log(`prerendered ${pages.length} Log in pages into dist/`);
