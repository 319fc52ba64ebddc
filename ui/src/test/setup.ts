import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach } from "vitest";
import { app } from "../lib/app.svelte";
import { setLanguage } from "../lib/i18n.svelte";

beforeEach(() => {
  app.reset();
  setLanguage("en");
});

afterEach(() => {
  cleanup();
  clearMocks();
});
