// Phone or desktop presentation: iOS/Android and narrow windows are phones, unless Settings >
// Support forces one (support staff reproducing a phone on a laptop).
import { PHONE_MAX_WIDTH, type Presentation } from "../generated/bindings";

export function presentationFor(facts: {
  mobile: boolean;
  width: number;
  forced: Presentation | null;
}): Presentation {
  if (facts.forced) return facts.forced;
  if (facts.mobile) return "phone";
  return facts.width <= PHONE_MAX_WIDTH ? "phone" : "desktop";
}
