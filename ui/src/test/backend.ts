// A fake Rust side for screen tests: each command answers from a handler; a handler that throws
// an error object makes the command fail with it, as a refusal from Rust does.
import { mockIPC } from "@tauri-apps/api/mocks";
import type { Channel } from "@tauri-apps/api/core";
import type {
  ClientError,
  ClientErrorCode,
  AppInfo,
  LinkWaiting,
  LoggedOut,
  Preferences,
  User,
} from "../generated/bindings";

export type Call = { cmd: string; args: Record<string, unknown> };
type Handler = (args: Record<string, unknown>) => unknown;

/** The channel the app gave `watch_links`: where Rust says a link arrived. */
let linkChannel: Channel<LinkWaiting> | null = null;

/** Commands every screen test answers alike, unless it says otherwise. */
const defaults: Record<string, Handler> = {
  // The start-up trace's reports: the app answers nothing.
  startup_reached: () => null,
  watch_links: ({ onLink }) => {
    linkChannel = onLink as Channel<LinkWaiting>;
    return null;
  },
};

/** The OS hands the running app a link: Rust says so on the app's channel. */
export async function linkArrives(): Promise<void> {
  if (!linkChannel) throw new Error("the app is not watching for links");
  linkChannel.onmessage({});
  await Promise.resolve();
}

export function backend(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  mockIPC(
    async (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      const handler = handlers[cmd] ?? defaults[cmd];
      if (!handler) throw `no handler for ${cmd}`;
      return await handler(args);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** A command's refusal, shaped like the client's error. */
export function refusal(code: ClientErrorCode, extra: Partial<ClientError> = {}): ClientError {
  return { code, message: `(${code} in English)`, ...extra };
}

export function refuse(code: ClientErrorCode, extra: Partial<ClientError> = {}): never {
  throw refusal(code, extra);
}

/**
 * A command answer the test settles itself: a handler returning `promise` keeps the command in
 * flight, however long the test takes, until the test calls `resolve`.
 */
export function held<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const taro: User = {
  id: "u1",
  display_name: "Taro Yamada",
  email: "taro@example.com",
  login_method: "email",
  team: "demo",
};

/** A member who logs in with team and Login ID: no email address. */
export const jiro: User = {
  id: "u2",
  display_name: "Jiro Suzuki",
  email: null,
  login_method: "login_id",
  team: "demo",
  login_id: "jiro",
};

export const info: AppInfo = {
  version: "0.1.0",
  platform: "linux",
  mobile: false,
  locale: "en-US",
  device_language: "en",
  api_url: "http://127.0.0.1:8787",
  web_base: "http://127.0.0.1:8787",
  chosen_api_host: null,
  trace_startup: false,
};

/** What logging out answers when the server revoked the session. */
export const loggedOut: LoggedOut = {
  remote_revoked: true,
  revoke_pending: false,
  status: 204,
  request_id: "r-logout",
  remote_error: null,
};

export const noPreferences: Preferences = {
  language: null,
  last_login_method: null,
  presentation: null,
  api_url: null,
};

export const count = (calls: Call[], cmd: string) => calls.filter((c) => c.cmd === cmd).length;
