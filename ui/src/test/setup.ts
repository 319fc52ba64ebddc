import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach } from "vitest";
import { loadCatalogue, setLanguage } from "../lib/i18n.svelte";
import { resetApp } from "./app";

// Both catalogues in before any test: a test's `setLanguage` then shows its language at once,
// as the app's does once the member's catalogue is in.
await Promise.all([loadCatalogue("en"), loadCatalogue("ja")]);

beforeEach(() => {
  resetApp();
  setLanguage("en");
});

afterEach(() => {
  cleanup();
  clearMocks();
});
