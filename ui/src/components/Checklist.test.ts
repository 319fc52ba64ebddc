import { render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { setLanguage } from "../lib/i18n.svelte";
import { checklistPolicy, rustChecklist } from "../test/checklists";
import Checklist from "./Checklist.svelte";

const policy = checklistPolicy;

/** What `policy_checklist` answers for "password123": every rule met but the last. */
const items = rustChecklist({ password: "password123" });

function lines(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>("#rules li")];
}

describe("checklist", () => {
  it("ends with the common-password line, unmet for a common password", () => {
    render(Checklist, { id: "rules", items, policy });
    const last = lines().at(-1)!;
    expect(lines().length).toBe(5);
    expect(last.dataset.rule).toBe("common_password");
    expect(last.textContent).toContain(
      "Not a common password, and not made from your name or email address",
    );
    expect(last.textContent).toContain("(not yet)");
    expect(last.classList.contains("met")).toBe(false);
    expect(lines()[0]!.textContent).toContain("At least 8 characters");
  });

  it("shows the line met, in Japanese", () => {
    setLanguage("ja");
    const met = items.map((item) => ({ ...item, met: true }));
    render(Checklist, { id: "rules", items: met, policy });
    const last = lines().at(-1)!;
    expect(document.querySelector("#rules .checklist-title")?.textContent).toBe("新しいパスワードの条件");
    expect(last.textContent).toContain("よく使われるパスワードや、名前・メールアドレスを含むパスワードは不可");
    expect(last.textContent).toContain("（条件を満たしています）");
    expect(last.classList.contains("met")).toBe(true);
    expect(lines()[0]!.textContent).toContain("8文字以上");
  });
});
