// `npm run tauri -- <command>`: the Tauri CLI pointed at ../src-tauri and at this folder, from
// wherever it is started (the CLI would otherwise look for the app below the current folder).
import { createRequire } from "node:module";
import { resolve } from "node:path";

const cli = createRequire(import.meta.url)("@tauri-apps/cli");
const ui = resolve(import.meta.dirname, "..");
process.env.TAURI_APP_PATH ??= resolve(ui, "../src-tauri");
process.env.TAURI_FRONTEND_PATH ??= ui;

cli.run(process.argv.slice(2), "npm run tauri").catch((error) => {
  cli.logError(error.message);
  process.exit(1);
});
