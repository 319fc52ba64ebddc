// After `vite build`: writes the prerendered Log in pages into dist/ (src/prerender.ts says
// what and why), from a server build of the screens made for it into .prerender/ (removed
// after). Each page is dist/index.html with its language, its presentation and Log in's markup.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

const { prerenderLogins } = await import(pathToFileURL(join(server, "prerender.js")).href);
const pages = prerenderLogins();
for (const { file, language, presentation, body } of pages) {
  if (!body.includes("<h1")) throw new Error(`${file}: no heading rendered`);
  const html = page
    .replace(root, `<html lang="${language}" data-presentation="${presentation}">`)
    .replace(app, `<div id="app">${body}</div>`);
  mkdirSync(dirname(join(dist, file)), { recursive: true });
  writeFileSync(join(dist, file), html);
}
rmSync(server, { recursive: true, force: true });
console.log(`prerendered ${pages.length} Log in pages into dist/`);
