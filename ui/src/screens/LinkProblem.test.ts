import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { app } from "../lib/app.svelte";
import { backend, refusal } from "../test/backend";
import type { ClientErrorCode } from "../generated/bindings";
import LinkProblem from "./LinkProblem.svelte";

describe("Link problems", () => {
  const cases: [ClientErrorCode, string][] = [
    ["token_expired", "This link has expired"],
    ["token_used", "This link was already used"],
    ["token_superseded", "A newer email was sent"],
    ["token_invalid", "This link is not valid"],
    ["link_host", "This link can't be opened"],
  ];
  for (const [code, title] of cases) {
    it(`says "${title}" for ${code}, with its code, and offers Send a new email`, async () => {
      backend({});
      render(LinkProblem, { error: refusal(code) });
      expect(screen.getByRole("heading", { level: 1 }).textContent).toBe(title);
      expect(screen.getByText(code)).toBeTruthy();
      await fireEvent.click(screen.getByRole("button", { name: "Send a new email" }));
      expect(app.route.name).toBe("forgot");
    });
  }
});
