// Phone or desktop presentation: iOS/Android and narrow windows are phones, unless Settings >
// Support forces one (support staff reproducing a phone on a laptop).
import type { Presentation } from "../generated/bindings";

/** Windows narrower than this many CSS pixels get the phone presentation. */
export const PHONE_MAX_WIDTH = 599;

export function presentationFor(facts: {
  mobile: boolean;
  width: number;
  forced: Presentation | null;
}): Presentation {
  if (facts.forced) return facts.forced;
  if (facts.mobile) return "phone";
  return facts.width <= PHONE_MAX_WIDTH ? "phone" : "desktop";
}
