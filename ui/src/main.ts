// First, so that it runs before the rest of the script: the start-up trace's mark.
import "./lib/running";
import { hydrate, mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { app, catalogueFor, factsInPage, reportStartup } from "./lib/app.svelte";
import { loadCatalogue } from "./lib/i18n.svelte";

// Not top-level await: a script that awaits at its top makes the bundler move every module it
// shares with the later screens' script into a third one, which the page would then wait for.
async function takeOver(target: HTMLElement): Promise<void> {
  const facts = factsInPage();
  if (facts) {
    // Rust served Log in in the page, with the facts it was chosen by: the same state renders
    // the same markup, which the UI takes over without a call to Rust. Its language's catalogue
    // was asked for beside this script (src/take-over.ts).
    await catalogueFor(facts);
    app.begin(facts);
    // After `begin`: the trace's reports go once the facts say whether it is on.
    reportStartup("facts_read");
    hydrate(App, { target });
    app.shown();
  } else {
    // The page as built: the facts are asked for while the shell mounts.
    target.replaceChildren();
    app.prefetchStartup();
    // The status line while they come is English: the language is one of the facts.
    await loadCatalogue("en");
    mount(App, { target });
  }
  // The page's controls answer from here on (tests wait for it; the bench times it).
  performance.mark(UI_READY_MARK);
}

void takeOver(document.getElementById("app")!);
