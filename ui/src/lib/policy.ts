// What a `password_policy` refusal says on the new password's field. The rules a password lacks
// are listed; `common_password` is not something a password lacks, so it gets its own sentence.
import type { PolicyRule } from "../generated/bindings";
import { errorText, listOf, sentences, t } from "./i18n.svelte";

/** The rules that a password meets by having something (length, a kind of character). */
export type CountedRule = Exclude<PolicyRule, "common_password">;

/**
 * The code's sentence, then the missing rules (each named by `name`), then, when the password is
 * common or built from the member's own name, address or Login ID, that sentence.
 */
export function policyRefusal(
  failed: PolicyRule[] | null | undefined,
  name: (rule: CountedRule) => string,
): string {
  const rules = failed ?? [];
  const missing = rules.filter((rule): rule is CountedRule => rule !== "common_password");
  return sentences(
    errorText("password_policy"),
    missing.length > 0 ? t("rule.failed", { rules: listOf(missing.map(name)) }) : "",
    rules.includes("common_password") ? t("rule.failed_common") : "",
  );
}
