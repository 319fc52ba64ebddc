// First, so that it runs before the rest of the script: the start-up trace's mark.
import "./lib/running";
import { hydrate, mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { app, factsInPage, reportStartup } from "./lib/app.svelte";

const target = document.getElementById("app")!;
const facts = factsInPage();
if (facts) {
  // Rust served Log in in the page, with the facts it was chosen by: the same state renders
  // the same markup, which the UI takes over without a call to Rust.
  app.begin(facts);
  // After `begin`: the trace's reports go once the facts say whether it is on.
  reportStartup("facts_read");
  hydrate(App, { target });
  app.shown();
} else {
  // The page as built: the facts are asked for while the shell mounts.
  target.replaceChildren();
  app.prefetchStartup();
  mount(App, { target });
}
// The page's controls answer from here on (tests wait for it; the bench times it).
performance.mark(UI_READY_MARK);
