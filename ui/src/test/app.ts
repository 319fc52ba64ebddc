// The app's one model, put back as it starts: each screen test begins from there.
import { app, initialState } from "../lib/app.svelte";

export function resetApp(): void {
  Object.assign(app, initialState());
}
