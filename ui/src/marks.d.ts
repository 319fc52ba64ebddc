// The page's performance marks (vite.config.ts's `define` writes them in).

/** The prerendered Log in asked for the UI's script (src/take-over.ts). */
declare const UI_SCRIPT_ASKED_MARK: string;
/** The UI's script has arrived and starts to run (src/lib/running.ts). */
declare const UI_SCRIPT_RUNNING_MARK: string;
/** The UI has taken the page over and its controls answer (src/main.ts). */
declare const UI_READY_MARK: string;
