// The app's screens, once: each route's name and parameters, and what the shell does around it
// (the bar, the Support link, what an ended session does). The tables are keyed by every route
// name, so a new route without its entry does not compile. Which component draws a route is
// App.svelte's `SCREENS`, keyed the same way (the screens import the app model, which reads this
// file: the components stay out of it, so nothing imports back up).
import type { ClientError } from "../generated/bindings";
import type { Key } from "./i18n.svelte";

/** Settings' sections, in the order its list shows them. */
export const SETTINGS_SECTIONS = ["account", "language", "support"] as const;
/** A section, or the list of them (the phone's first Settings screen). */
export type SettingsSection = "menu" | (typeof SETTINGS_SECTIONS)[number];

export type Route =
  | { name: "starting" }
  | { name: "login" }
  | { name: "forgot" }
  | { name: "check_email" }
  | { name: "cant_receive" }
  /** `account_checked`: the token hint of the link whose account the member already confirmed
   *  (Reset asks once, not again after logging out for it). */
  | { name: "reset"; account_checked?: string }
  | { name: "link_problem"; error: ClientError }
  | { name: "timeline"; note?: "forgot_while_logged_in" }
  | { name: "settings"; section: SettingsSection };

export type RouteName = Route["name"];

export type RouteFacts = {
  /** A screen of a logged-in member: the bar with the menu above it, and when the session ends
   *  (expired, or the password reset by the admin) the member goes back to Log in. */
  loggedIn: boolean;
  /** Above the screen: the bar with the menu, the app's name alone, or nothing yet. */
  chrome: "menu_bar" | "name_bar" | "none";
  /** A logged-out screen where a member who is stuck looks for help: Support is linked under it. */
  supportLink: boolean;
};

const loggedOut: RouteFacts = { loggedIn: false, chrome: "name_bar", supportLink: true };
const loggedIn: RouteFacts = { loggedIn: true, chrome: "menu_bar", supportLink: false };

export const ROUTES: { readonly [N in RouteName]: RouteFacts } = {
  starting: { loggedIn: false, chrome: "none", supportLink: false },
  login: loggedOut,
  forgot: loggedOut,
  check_email: loggedOut,
  cant_receive: loggedOut,
  reset: loggedOut,
  link_problem: loggedOut,
  timeline: loggedIn,
  settings: loggedIn,
};

/** Whether `route` is a logged-in member's screen. */
export function isLoggedIn(route: Route): boolean {
  return ROUTES[route.name].loggedIn;
}

/** The logged-in menu (the phone's drawer, the desktop's account menu), in its order. */
export const MENU: readonly { label: Key; to: Route | "logout" }[] = [
  { label: "nav.timeline", to: { name: "timeline" } },
  { label: "nav.settings", to: { name: "settings", section: "menu" } },
  { label: "nav.logout", to: "logout" },
];
