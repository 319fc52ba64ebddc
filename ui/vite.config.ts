import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The web view loads only these files: no CDN, no remote fonts, no inline scripts (the CSP in
// src-tauri/tauri.conf.json forbids them).
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  // The page's performance marks, written into both of its scripts (src/take-over.ts, the UI's):
  // the start-up trace reads the first; the tests wait for the second, and the bench times it
  // (tests/e2e/src/lib.rs).
  define: {
    UI_SCRIPT_ASKED_MARK: JSON.stringify("ui-script-asked"),
    UI_SCRIPT_RUNNING_MARK: JSON.stringify("ui-script-running"),
    UI_READY_MARK: JSON.stringify("ui-ready"),
  },
  server: { port: 5173, strictPort: true, host: "localhost" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Nothing to preload ahead: the later screens are asked for once Log in answers.
    modulePreload: false,
    cssCodeSplit: false,
    sourcemap: false,
    // The page as built, and the prerendered Log in's script (src/take-over.ts).
    rollupOptions: {
      input: {
        index: "index.html",
        "take-over": "src/take-over.ts",
      },
    },
  },
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
}));
