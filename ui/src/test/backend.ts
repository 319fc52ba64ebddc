// A fake Rust side for screen tests: each command answers from a handler; a handler that throws
// an error object makes the command fail with it, as a refusal from Rust does.
import { mockIPC } from "@tauri-apps/api/mocks";
import type { AppError, AppInfo, Preferences, User } from "../generated/bindings";

export type Call = { cmd: string; args: Record<string, unknown> };
type Handler = (args: Record<string, unknown>) => unknown;

export function backend(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  mockIPC(
    async (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      const handler = handlers[cmd];
      if (!handler) throw `no handler for ${cmd}`;
      return await handler(args);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** A command's refusal, shaped like the client's error. */
export function refusal(code: string, extra: Partial<AppError> = {}): AppError {
  return { code, message: `(${code} in English)`, ...extra };
}

export function refuse(code: string, extra: Partial<AppError> = {}): never {
  throw refusal(code, extra);
}

/** Resolves after `ms`, so a test can hold a command "in flight". */
export function later<T>(value: T, ms = 30): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

export const taro: User = {
  id: "u1",
  display_name: "Taro Yamada",
  email: "taro@example.com",
  login_method: "email",
  team: "demo",
};

export const info: AppInfo = {
  version: "0.1.0",
  platform: "linux",
  mobile: false,
  locale: "en-US",
  api_url: "http://127.0.0.1:8787",
  web_base: "http://127.0.0.1:8787",
  last_error_request_id: null,
};

export const noPreferences: Preferences = {
  language: null,
  last_login_method: null,
  presentation: null,
  api_url: null,
};

export const count = (calls: Call[], cmd: string) => calls.filter((c) => c.cmd === cmd).length;
