// The plugins' commands the screens call directly (clipboard, share sheet, camera) by their
// invoke strings: each must be granted by a capability, or it fails only on the device that
// needs it. The app's own commands are typed bindings and granted as a set (checked in Rust).
import { describe, expect, it } from "vitest";
import api from "./api.ts?raw";

const capabilities = import.meta.glob<{ permissions: string[] }>("../../../capabilities/*.json", {
  eager: true,
  import: "default",
});
const granted = new Set(Object.values(capabilities).flatMap((c) => c.permissions));

/** `plugin:sharekit|share_text` → `sharekit:allow-share-text`, as Tauri names the permission. */
function permissionOf(invoked: string): string {
  const [, plugin = "", command = ""] = /^plugin:([\w-]+)\|(\w+)$/.exec(invoked) ?? [];
  return `${plugin}:allow-${command.replaceAll("_", "-")}`;
}

describe("the plugin commands the screens call", () => {
  const invoked = [...api.matchAll(/"(plugin:[\w-]+\|\w+)"/g)].map((m) => m[1] ?? "");

  it("are found in api.ts, and the capabilities with them", () => {
    expect(invoked).toContain("plugin:sharekit|share_text");
    expect(invoked).toContain("plugin:clipboard-manager|write_text");
    expect(Object.keys(capabilities).length).toBeGreaterThanOrEqual(4);
  });

  it("are each granted by a capability", () => {
    expect(invoked.map(permissionOf).filter((p) => !granted.has(p))).toEqual([]);
  });
});
