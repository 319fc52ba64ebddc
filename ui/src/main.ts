import { hydrate, mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { app, factsInPage, reportStartup } from "./lib/app.svelte";

const target = document.getElementById("app")!;
const facts = factsInPage();
if (facts) {
  // Rust served Log in in the page, with the facts it was chosen by: the same state renders
  // the same markup, which the UI takes over without a call to Rust.
  reportStartup("facts_read");
  app.begin(facts);
  hydrate(App, { target });
  app.shown();
} else {
  // The page as built: the facts are asked for while the shell mounts.
  target.replaceChildren();
  app.prefetchStartup();
  mount(App, { target });
}
