// The commands, with their results in one shape. Framework failures (a command the capability
// does not grant, a bad argument) arrive as plain strings; they become `unknown` errors here.
import { invoke } from "@tauri-apps/api/core";
import { commands, type ClientError, type ClientErrorCode } from "../generated/bindings";

export { commands };
export type { ClientError, ClientErrorCode };

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ClientError };

export function asClientError(error: unknown): ClientError {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    return error as ClientError;
  }
  return { code: "unknown", message: String(error) };
}

/** Runs a command that can fail and never throws. */
export async function attempt<T>(
  call: Promise<{ status: "ok"; data: T } | { status: "error"; error: ClientError }>,
): Promise<Outcome<T>> {
  try {
    const result = await call;
    return result.status === "ok"
      ? { ok: true, value: result.data }
      : { ok: false, error: asClientError(result.error) };
  } catch (error) {
    return { ok: false, error: asClientError(error) };
  }
}

/** Runs a plugin command that answers nothing, and says whether it worked. */
async function succeeds(command: string, args: Record<string, unknown>): Promise<boolean> {
  try {
    await invoke(command, args);
    return true;
  } catch {
    return false;
  }
}

/** Writes text to the clipboard (the clipboard plugin; the web view may write, never read). */
export const copyText = (text: string) => succeeds("plugin:clipboard-manager|write_text", { text });

/** Hands text to the system's share sheet (iOS and Android). */
export const shareText = (text: string) => succeeds("plugin:sharekit|share_text", { text });

/** Whether the app may use the camera (the barcode-scanner plugin's permission states). */
export type CameraPermission = "granted" | "denied" | "prompt" | "prompt-with-rationale";

/** Runs a plugin command and answers what it answers, or `null` when it failed. */
async function answer<T>(command: string, args: Record<string, unknown> = {}): Promise<T | null> {
  try {
    return await invoke<T>(command, args);
  } catch {
    return null;
  }
}

/** The camera permission as it stands (iOS and Android); `null` when the plugin could not tell. */
export const cameraPermission = async (): Promise<CameraPermission | null> =>
  (await answer<{ camera: CameraPermission }>("plugin:barcode-scanner|check_permissions"))?.camera ??
  null;

/** Asks the OS for the camera (its own dialog); the state after, or `null` when that failed. */
export const requestCamera = async (): Promise<CameraPermission | null> =>
  (await answer<{ camera: CameraPermission }>("plugin:barcode-scanner|request_permissions"))?.camera ??
  null;

/** Opens the app's page in the system settings, where a refused camera can be allowed. */
export const openAppSettings = () => succeeds("plugin:barcode-scanner|open_app_settings", {});

/** Reads one QR code with the camera, full screen: its text as read, or `null` when the member
 *  cancelled (or the camera failed). The text is the link rules' to judge, never the UI's. */
export const scanQrCode = async (): Promise<string | null> =>
  (
    await answer<{ content: string; format: string }>("plugin:barcode-scanner|scan", {
      formats: ["QR_CODE"],
      windowed: false,
    })
  )?.content ?? null;
