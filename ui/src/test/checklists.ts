// What Rust's `policy_checklist` answers for the passwords the screen tests type, generated
// beside the bindings by a Rust test (src-tauri/src/lib.rs): a stand-in for the command that
// answers with it shows Rust's rules, in Rust's order, with Rust's verdicts.
import type { PasswordPolicy, RuleCheck } from "../generated/bindings";
import generated from "../generated/checklists.json";

/** The policy the answers are for (the default one). */
export const checklistPolicy: PasswordPolicy = generated.policy;

/** The `policy_checklist` command, as Rust answers it. */
export function rustChecklist({ password }: Record<string, unknown>): RuleCheck[] {
  const answers: Record<string, RuleCheck[]> = generated.answers as Record<string, RuleCheck[]>;
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
