// How the UI names the organisation's password rules: the checklist's lines, and what a
// `password_policy` refusal says on the new password's field. Which rules a password meets is
// decided in Rust; this only words it.
import type { PasswordPolicy, PolicyRule } from "../generated/bindings";
import { errorText, listOf, sentences, t } from "./i18n.svelte";

/** The rules that a password meets by having something (length, a kind of character). */
export type CountedRule = Exclude<PolicyRule, "common_password">;

/** A rule as its checklist line names it, with the policy's numbers ("At least 10 characters"). */
export function ruleLine(rule: PolicyRule, policy: PasswordPolicy): string {
  const n = rule === "min_length" ? policy.min_length : policy.max_length;
  return t(`rule.${rule}`, { n });
}

/** A missing rule inside a sentence: with the policy's numbers when it is known, else short. */
function missingRule(rule: CountedRule, policy: PasswordPolicy | null): string {
  return policy ? ruleLine(rule, policy) : t(`rule.short.${rule}`);
}

/**
 * The code's sentence, then the missing rules, then, when the password is common or built from
 * the member's own name, address or Login ID, that sentence; last, once, what to do.
 */
export function policyRefusal(
  failed: PolicyRule[] | null | undefined,
  policy: PasswordPolicy | null,
): string {
  const rules = failed ?? [];
  const missing = rules.filter((rule): rule is CountedRule => rule !== "common_password");
  const named = missing.map((rule) => missingRule(rule, policy));
  return sentences(
    errorText("password_policy"),
    missing.length > 0 ? t("rule.failed", { rules: listOf(named) }) : "",
    rules.includes("common_password") ? t("rule.failed_common") : "",
    t(rules.includes("common_password") ? "rule.fix_common" : "rule.fix_missing"),
  );
}
