// Log in as the first page shows it, rendered at build time (scripts/prerender.mjs) for every
// language, Log in tab and kind of device Rust can serve it for (PRERENDERED_LOGINS, from
// src-tauri/src/first_page.rs), from the facts Rust chose it by. The UI hydrates it from the
// same facts, so the markup is what it would render itself.
import { render } from "svelte/server";
import App from "./App.svelte";
import { PRERENDERED_LOGINS, type Startup } from "./generated/bindings";
import { app, catalogueFor } from "./lib/app.svelte";
import { language } from "./lib/i18n.svelte";
import { presentationFor } from "./lib/presentation";

export type Prerendered = {
  file: string;
  /** `lang` of the page. */
  language: string;
  /** `data-presentation` of the page. */
  presentation: string;
  /** What goes in `<div id="app">`. */
  body: string;
};

export async function prerenderLogins(): Promise<Prerendered[]> {
  await Promise.all(PRERENDERED_LOGINS.map(({ facts }) => catalogueFor(facts as Startup)));
  return PRERENDERED_LOGINS.map(({ file, facts }) => {
    app.begin(facts as Startup);
    const body = render(App).body;
    if (app.route.name !== "login") throw new Error(`${file}: the facts lead to ${app.route.name}`);
    return {
      file,
      language: language(),
      presentation: presentationFor({ mobile: facts.info.mobile, width: Infinity, forced: null }),
      body,
    };
  });
}
