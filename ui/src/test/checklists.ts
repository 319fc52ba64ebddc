// What Rust's `policy_checklist` answers for the passwords the screen tests type, and what
// `account_password_policy` and `account_policy_checklist` answer for a member of an organisation
// with rules of its own, generated beside the bindings by a Rust test (src-tauri/src/lib.rs): a
// stand-in for a command that answers with it shows Rust's rules, in Rust's order, with Rust's
// verdicts.
import type { PasswordPolicy, PasswordPolicyResponse, RuleCheck } from "../generated/bindings";
import generated from "../generated/checklists.json";

/** The policy the answers are for (the default one). */
export const checklistPolicy: PasswordPolicy = generated.policy;

/** The default policy as Rust writes it for `passwordrules`. */
export const checklistPasswordRules: string = generated.passwordrules;

/** What `account_password_policy` answers: an organisation's own rules (12 characters, …). */
export const accountPolicy: PasswordPolicyResponse = generated.account.policy_response;

function answerOf(answers: Record<string, RuleCheck[]>, password: unknown): RuleCheck[] {
  const answer = answers[password as string];
  if (!answer) {
    throw new Error(
      `no checklist from Rust for ${JSON.stringify(password)}: add it to the passwords of ` +
        "the_checklists_beside_the_bindings_are_up_to_date (src-tauri/src/lib.rs), then run " +
        "UNIPOS_WRITE_BINDINGS=1 cargo test -p unipos-app --lib bindings",
    );
  }
  return answer;
}

/** The `policy_checklist` command, as Rust answers it. */
export function rustChecklist({ password }: Record<string, unknown>): RuleCheck[] {
  return answerOf(generated.answers as Record<string, RuleCheck[]>, password);
}

/** The `account_policy_checklist` command, as Rust answers it under `accountPolicy`. */
export function rustAccountChecklist({ password }: Record<string, unknown>): RuleCheck[] {
  return answerOf(generated.account.answers as Record<string, RuleCheck[]>, password);
}
