// Where the member is, what the app knows about them, and what they typed. Decisions about
// addresses, links, passwords and sessions come from the commands; this only routes.
import type {
  ClientError,
  AppInfo,
  IncomingLink,
  LinkTarget,
  Preferences,
  ResetRequested,
  Startup,
  UiPhase,
  User,
} from "../generated/bindings";
import { tick } from "svelte";
import { attempt, commands } from "./api";
import { languageFor, loadCatalogue, setLanguage, type Key } from "./i18n.svelte";
import { isLoggedIn, type Route } from "./routes";

export type { Route, SettingsSection } from "./routes";

/** A message shown once on the next screen. */
export type Notice = { key: Key; tone: "info" | "error" };

const emptyPreferences: Preferences = {
  language: null,
  last_login_method: null,
  presentation: null,
  api_url: null,
};

/** The model's fields as the app starts, before start-up answers. */
export function initialState() {
  return {
    route: { name: "starting" } as Route,
    supportOpen: false,
    info: null as AppInfo | null,
    preferences: { ...emptyPreferences } as Preferences,
    hasSession: false,
    user: null as User | null,
    restoreError: null as ClientError | null,
    notice: null as Notice | null,
    sent: null as (ResetRequested & { at: number }) | null,
    drafts: { forgotEmail: "", loginEmail: "", team: "", loginId: "" },
  };
}

class AppModel {
  route = $state<Route>(initialState().route);
  /** Support, opened from a logged-out screen: it shows over the screen, which stays as it was
   *  (what was typed, the error shown) for when the member comes back. */
  supportOpen = $state(initialState().supportOpen);
  info = $state<AppInfo | null>(initialState().info);
  preferences = $state<Preferences>(initialState().preferences);
  /** A session is stored; `user` fills in once `GET /me` answers. */
  hasSession = $state(initialState().hasSession);
  user = $state<User | null>(initialState().user);
  /** Why the stored session could not be restored (offline, …), while it is kept. */
  restoreError = $state<ClientError | null>(initialState().restoreError);
  notice = $state<Notice | null>(initialState().notice);
  /** The last "Send" that went through, for Check your email. */
  sent = $state<(ResetRequested & { at: number }) | null>(initialState().sent);
  /** What the member typed, kept across errors, Back and failed requests. */
  drafts = $state(initialState().drafts);

  go(route: Route, notice: Notice | null = null): void {
    this.notice = notice;
    this.route = route;
    this.supportOpen = false;
  }

  /** After Support pointed the app at another API: that API's session, or none. */
  afterApiChange(hasSession: boolean): void {
    const loggedIn = isLoggedIn(this.route);
    this.hasSession = hasSession;
    if (hasSession) {
      void this.restore();
      if (!loggedIn) this.go({ name: "timeline" });
    } else {
      this.signedOut();
      if (loggedIn) this.go({ name: "login" });
    }
  }

  applyPreferences(preferences: Preferences): void {
    this.preferences = preferences;
    setLanguage(languageFor(preferences.language, this.info?.device_language ?? "en"));
  }

  private startupFacts: ReturnType<typeof askStartup> | null = null;

  /** Asks for the start-up facts before the screens are built, so the answer is on its way
   *  while they mount. */
  prefetchStartup(): void {
    this.startupFacts ??= askStartup();
  }

  /** The first screen, from the start-up facts `startup` answers (a page without them). */
  async start(): Promise<void> {
    const started = await (this.startupFacts ?? askStartup());
    this.startupFacts = null;
    reportStartup("facts_read");
    if (started.ok) {
      await catalogueFor(started.value);
      this.begin(started.value);
    } else this.go({ name: "login" });
    this.shown();
  }

  /**
   * The first screen, from local facts only (the page's, or `startup`'s answer); the session is
   * checked with the server after. The build renders Log in from the same call
   * (src/prerender.ts), so the page's markup is what the UI would render.
   */
  begin(s: Startup): void {
    this.info = s.info;
    this.applyPreferences(s.preferences);
    this.hasSession = s.has_session;
    if (s.incoming_link) this.openIncoming(s.incoming_link);
    else if (s.has_session) this.go({ name: "timeline" });
    else this.go({ name: "login" });
    // Without a keychain nobody can stay logged in: say so before they try.
    if (s.keychain_error) this.notice = { key: "error.keychain_unavailable", tone: "error" };
    if (s.has_session) void this.restore();
  }

  /** For the start-up trace: the UI runs, and (on the frame after it rendered) the first screen
   *  shows; and when the page's fonts are in. */
  shown(): void {
    reportStartup("ui_mounted");
    void tick().then(() => requestAnimationFrame(() => reportStartup("first_screen_shown")));
    void document.fonts?.ready.then(() => reportStartup("fonts_ready"));
    afterLoad(reportPageTiming);
  }

  /** `GET /me` for the stored session: an ended session goes back to Log in. */
  async restore(): Promise<void> {
    const me = await attempt(commands.restoreSession());
    if (me.ok) {
      this.user = me.value;
      this.restoreError = null;
    } else if (!this.sessionEnded(me.error)) {
      this.restoreError = me.error;
    }
  }

  /**
   * Whether a refusal says the session is over: it expired, or the company's Unipos admin reset
   * the password. If so, the member is signed out and a logged-in screen goes back to Log in,
   * saying why (and, after an admin's reset, the way to a new password for how they log in).
   */
  sessionEnded(error: ClientError): boolean {
    // Read before signing out, which forgets the member.
    const notice = this.endedNotice(error.code);
    if (notice === null) return false;
    this.signedOut();
    if (isLoggedIn(this.route)) {
      this.go({ name: "login" }, { key: notice, tone: "info" });
    }
    return true;
  }

  private endedNotice(code: ClientError["code"]): Key | null {
    if (code === "session_expired" || code === "not_logged_in") return "session.expired";
    if (code !== "password_reset_by_admin") return null;
    // Before `GET /me` answered, the way they logged in last time.
    const method = this.user?.login_method ?? this.preferences.last_login_method;
    if (method === "login_id") return "session.reset_by_admin_login_id";
    if (method === "email") return "session.reset_by_admin_email";
    return "error.password_reset_by_admin";
  }

  signedIn(user: User): void {
    this.hasSession = true;
    this.user = user;
    this.restoreError = null;
  }

  signedOut(): void {
    this.hasSession = false;
    this.user = null;
  }

  /** Where a link leads: the Reset screen (which asks before replacing a logged-in member's
   *  session), the Forgot screen or Log in, or the Timeline when logged in. */
  follow(target: LinkTarget): void {
    if (target.kind === "reset") this.go({ name: "reset" });
    else if (target.kind === "login") this.go(target.logged_in ? { name: "timeline" } : { name: "login" });
    else if (target.logged_in) this.go({ name: "timeline", note: "forgot_while_logged_in" });
    else this.go({ name: "forgot" });
  }

  openIncoming(link: IncomingLink): void {
    if (link.status === "opened") this.follow(link.target);
    else this.go({ name: "link_problem", error: link.error });
  }

  /** A link the OS handed over while the app runs. */
  async takeIncoming(): Promise<void> {
    const taken = await attempt(commands.takeIncomingLink());
    if (taken.ok && taken.value) this.openIncoming(taken.value);
  }

  async logout(): Promise<void> {
    const notice = await this.signOut();
    this.go({ name: "login" }, { key: notice, tone: "info" });
  }

  /** A working reset link arrived while logged in and the member chose to use it: log out first,
   *  so the new password's session never mixes with another member's. `accountChecked`: the
   *  token hint of the link whose account the member confirmed on Reset. */
  async logoutForReset(accountChecked?: string): Promise<void> {
    const notice = await this.signOut();
    const route: Route = accountChecked
      ? { name: "reset", account_checked: accountChecked }
      : { name: "reset" };
    this.go(route, { key: notice, tone: "info" });
  }

  /** Logs out; the notice says whether the server was told, or will be at the next start. */
  private async signOut(): Promise<Key> {
    const out = await attempt(commands.logout());
    this.signedOut();
    if (!out.ok || out.value.remote_revoked) return "session.logged_out";
    return out.value.revoke_pending ? "session.logged_out_pending" : "session.logged_out_locally";
  }
}

export const app = new AppModel();

function askStartup() {
  return attempt(commands.startup());
}

/** Brings in the catalogue of the language the facts show, which `begin` shows at once: the
 *  first screen is never drawn in another language while it comes. */
export async function catalogueFor(s: Startup): Promise<void> {
  await loadCatalogue(languageFor(s.preferences.language, s.info.device_language));
}

/** The start-up facts the first page carries, when Rust served it with Log in in it
 *  (src-tauri/src/first_page.rs); else null, and the UI asks `startup`. */
export function factsInPage(): Startup | null {
  const block = document.getElementById("startup-facts");
  if (!block?.textContent) return null;
  try {
    return JSON.parse(block.textContent) as Startup;
  } catch {
    return null;
  }
}

/**
 * Runs `f` once the page has loaded. WebKit holds the page's load event while a request to Rust
 * started before it is in flight, and the window shows once the page has loaded: a call that
 * the first screen does not need waits for this.
 */
export function afterLoad(f: () => void): void {
  if (typeof document === "undefined") return;
  if (document.readyState === "complete") f();
  else addEventListener("load", () => setTimeout(f), { once: true });
}

/** For the start-up trace: when the page was received, parsed and loaded (the page's own
 *  navigation timing), and when it asked for the UI's script (read once it has loaded). */
function reportPageTiming(): void {
  if (!tracing()) return;
  const [nav] = (performance.getEntriesByType?.("navigation") ?? []) as PerformanceNavigationTiming[];
  if (!nav) return;
  const at = (ms: number) => performance.timeOrigin + ms;
  // Marked by the page (the web view keeps no resource timing for the app's own scheme).
  const mark = (name: string) => performance.getEntriesByName?.(name)[0]?.startTime ?? 0;
  const phases: [UiPhase, number][] = [
    ["page_received", nav.responseEnd],
    ["page_parsed", nav.domContentLoadedEventStart],
    ["load_event", nav.loadEventStart],
    ["ui_script_asked", mark(UI_SCRIPT_ASKED_MARK)],
    ["ui_script_running", mark(UI_SCRIPT_RUNNING_MARK)],
  ];
  for (const [phase, ms] of phases) {
    if (ms > 0) void commands.startupReached(phase, at(ms)).catch(() => undefined);
  }
}

/** For the start-up trace (UNIPOS_TRACE_STARTUP=1): the phase and when the page reached it, sent
 *  once the page has loaded. Nothing waits for it, and a failure is no one's concern. */
export function reportStartup(phase: UiPhase): void {
  const at = Date.now();
  afterLoad(() => {
    if (tracing()) void commands.startupReached(phase, at).catch(() => undefined);
  });
}

/** Whether Rust keeps a start-up trace (known once the facts are in; the reports wait for the
 *  load, by which time they are). */
function tracing(): boolean {
  return app.info?.trace_startup === true;
}
