import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach } from "vitest";
import { setLanguage } from "../lib/i18n.svelte";
import { resetApp } from "./app";

beforeEach(() => {
  resetApp();
  setLanguage("en");
});

afterEach(() => {
  cleanup();
  clearMocks();
});
