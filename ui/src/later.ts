// Every screen but Log in, and the logged-in screens' bar: a script of their own (App.svelte
// asks for it once Log in answers), so that the first script is Log in's part and arrives and
// runs sooner.
export { default as TopBar } from "./components/TopBar.svelte";
export { default as CantReceive } from "./screens/CantReceive.svelte";
export { default as CheckEmail } from "./screens/CheckEmail.svelte";
export { default as Forgot } from "./screens/Forgot.svelte";
export { default as LinkProblem } from "./screens/LinkProblem.svelte";
export { default as Reset } from "./screens/Reset.svelte";
export { default as Settings } from "./screens/Settings.svelte";
export { default as Support } from "./screens/Support.svelte";
export { default as Timeline } from "./screens/Timeline.svelte";
