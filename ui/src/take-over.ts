// The prerendered Log in's script (scripts/prerender.mjs puts it in place of the UI's). It asks
// for the UI's script as soon as the page is parsed, without running it in the page's way: a
// script the page names itself holds the page's load event, and the window's showing
// (src-tauri/src/lib.rs), until it has run; one imported from here holds it only while it is on
// its way. The UI's script then takes Log in over when it arrives (Svelte's hydration), and
// anything typed meanwhile is kept: hydration takes a field's value as the page has it.
performance.mark(UI_SCRIPT_ASKED_MARK); // for the start-up trace
void import("./main");
// The page's language's catalogue, on its way beside the UI's script, which waits for it
// (src/lib/i18n.svelte.ts): the same files, so the same scripts, as the UI asks for.
const catalogues = import.meta.glob("./i18n/*.json");
void catalogues[`./i18n/${document.documentElement.lang}.json`]?.();
