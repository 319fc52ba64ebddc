//! `UNIPOS_TRACE_STARTUP=1`: the app prints once, on standard error, how long after its process
//! started each phase of its start-up was reached, so that a slower start points at its phase.
//! Without the variable nothing is kept or printed.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A phase of the start-up, in the order they usually happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `main` runs (the program is loaded).
    Main,
    /// The plugins are initialised (`Builder::build` returned).
    PluginsSetUp,
    /// The window exists (Tauri creates it just before the setup hook runs).
    WindowCreated,
    /// The keychain said whether a session is stored (read while the page loads).
    KeychainAnswered,
    /// The web view asked for the app's page (from here the page waits for the keychain's
    /// first answer, if it has not come yet).
    PageAsked,
    /// The web view was given the page with Log in already in it, and the start-up facts
    /// (first_page.rs).
    LoginServed,
    /// The web view was given the page as built (its UI asks `startup`).
    PageServed,
    /// The page's last byte reached its document (the page's navigation timing; the UI reports
    /// it).
    PageReceived,
    /// The page is parsed and its script has run (the navigation timing's DOMContentLoaded).
    PageParsed,
    /// The page's load event fired (navigation timing).
    LoadEvent,
    /// The web view finished loading the page.
    PageLoaded,
    /// The window is shown (it is made hidden, and shown once its page has loaded).
    WindowShown,
    /// The page asked for the UI's script (at once for the page as built; for the prerendered
    /// Log in, once it has loaded and been painted: ui/src/take-over.ts).
    UiScriptAsked,
    /// The UI's script has arrived and starts to run (its first module).
    UiScriptRunning,
    /// The UI's script has the start-up facts: read from the page, or `startup` answered (the
    /// UI reports it).
    FactsRead,
    /// The UI's script took over the prerendered Log in, or built the shell (the UI reports it).
    UiMounted,
    /// The page's fonts are loaded (`document.fonts.ready`; the UI reports it).
    FontsReady,
    /// The first screen is painted (the UI reports it, on the frame after it rendered).
    FirstScreenShown,
}

/// The phases only the UI sees (reported over IPC once the page has loaded, with the time the
/// page took).
#[derive(Debug, Clone, Copy, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum UiPhase {
    PageReceived,
    PageParsed,
    LoadEvent,
    UiScriptAsked,
    UiScriptRunning,
    FactsRead,
    UiMounted,
    FontsReady,
    FirstScreenShown,
}

impl From<UiPhase> for Phase {
    fn from(phase: UiPhase) -> Phase {
        match phase {
            UiPhase::PageReceived => Phase::PageReceived,
            UiPhase::PageParsed => Phase::PageParsed,
            UiPhase::LoadEvent => Phase::LoadEvent,
            UiPhase::UiScriptAsked => Phase::UiScriptAsked,
            UiPhase::UiScriptRunning => Phase::UiScriptRunning,
            UiPhase::FactsRead => Phase::FactsRead,
            UiPhase::UiMounted => Phase::UiMounted,
            UiPhase::FontsReady => Phase::FontsReady,
            UiPhase::FirstScreenShown => Phase::FirstScreenShown,
        }
    }
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Main => "main",
            Phase::PluginsSetUp => "plugins set up",
            Phase::WindowCreated => "window created",
            Phase::KeychainAnswered => "keychain answered",
            Phase::PageAsked => "page asked for",
            Phase::LoginServed => "page with Log in served",
            Phase::PageServed => "page served as built",
            Phase::PageReceived => "page received",
            Phase::PageParsed => "page parsed",
            Phase::LoadEvent => "load event",
            Phase::PageLoaded => "page loaded",
            Phase::WindowShown => "window shown",
            Phase::UiScriptAsked => "UI script asked for",
            Phase::UiScriptRunning => "UI script running",
            Phase::FactsRead => "facts read",
            Phase::UiMounted => "UI mounted",
            Phase::FontsReady => "fonts ready",
            Phase::FirstScreenShown => "first screen shown",
        }
    }
}

struct Trace {
    main: Instant,
    /// The wall clock at `main`, for the times the page reports.
    main_wall: SystemTime,
    /// How long the process had run when `main` started.
    before_main: Duration,
    reached: Vec<(Phase, Duration)>,
    printed: bool,
}

static TRACE: Mutex<Option<Trace>> = Mutex::new(None);

/// Starts the trace when `UNIPOS_TRACE_STARTUP=1`; call first thing in `main`.
pub fn start() {
    if std::env::var_os("UNIPOS_TRACE_STARTUP").is_some_and(|v| v == "1") {
        let before_main = process_age().unwrap_or_default();
        let mut trace = TRACE.lock().unwrap_or_else(|p| p.into_inner());
        *trace = Some(Trace {
            main: Instant::now(),
            main_wall: SystemTime::now(),
            before_main,
            reached: vec![(Phase::Main, before_main)],
            printed: false,
        });
    }
}

/// Whether the trace is on (`UNIPOS_TRACE_STARTUP=1`).
pub fn is_on() -> bool {
    TRACE.lock().unwrap_or_else(|p| p.into_inner()).is_some()
}

/// Notes that `phase` was reached now (the first time only); at the first screen, prints them
/// all.
pub fn reached(phase: Phase) {
    reached_at(phase, None);
}

/// Notes that `phase` was reached at `at` (a time the page took, `Date.now()`'s milliseconds),
/// or now.
pub fn reached_at(phase: Phase, at: Option<f64>) {
    let mut trace = TRACE.lock().unwrap_or_else(|p| p.into_inner());
    let Some(trace) = trace.as_mut() else {
        return;
    };
    if trace.reached.iter().any(|(p, _)| *p == phase) {
        return;
    }
    let since_main = at
        .map(|ms| UNIX_EPOCH + Duration::from_secs_f64(ms.max(0.0) / 1000.0))
        .and_then(|wall| wall.duration_since(trace.main_wall).ok())
        .unwrap_or_else(|| trace.main.elapsed());
    let at = trace.before_main + since_main;
    trace.reached.push((phase, at));
    if phase == Phase::FirstScreenShown {
        trace.printed = true;
        trace.reached.sort_by_key(|(_, at)| *at);
        eprintln!("{}", report(&trace.reached));
    } else if trace.printed {
        // After the first screen (fonts that came later): a line of its own.
        eprintln!("  {:<23} {:>7.1}", phase.label(), at.as_secs_f64() * 1000.0);
    }
}

fn report(reached: &[(Phase, Duration)]) -> String {
    let mut lines = vec!["start-up trace (ms since the process started):".to_owned()];
    let mut previous = Duration::ZERO;
    for (phase, at) in reached {
        lines.push(format!(
            "  {:<23} {:>7.1}  (+{:.1})",
            phase.label(),
            at.as_secs_f64() * 1000.0,
            at.saturating_sub(previous).as_secs_f64() * 1000.0
        ));
        previous = *at;
    }
    lines.join("\n")
}

/// How long this process has run: its start time from /proc (in clock ticks since boot,
/// 100 per second on Linux) against the system's uptime. Elsewhere unknown, and the trace counts
/// from `main`.
fn process_age() -> Option<Duration> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 22, counted after the command's closing parenthesis (which is field 2).
    let ticks: f64 = stat[stat.rfind(')')? + 2..]
        .split(' ')
        .nth(19)?
        .parse()
        .ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    Some(Duration::from_secs_f64((uptime - ticks / 100.0).max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_each_phase_with_its_time_and_the_step_from_the_last() {
        let ms = Duration::from_millis;
        let text = report(&[
            (Phase::Main, ms(12)),
            (Phase::PluginsSetUp, ms(40)),
            (Phase::FirstScreenShown, ms(300)),
        ]);
        assert_eq!(
            text,
            "start-up trace (ms since the process started):\n  \
             main                       12.0  (+12.0)\n  \
             plugins set up             40.0  (+28.0)\n  \
             first screen shown        300.0  (+260.0)"
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_process_knows_how_long_it_has_run() {
        let before = process_age().expect("Linux has /proc");
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(300));
        let after = process_age().expect("Linux has /proc");
        let waited = started.elapsed();
        // /proc counts in hundredths of a second: the age grew by the time waited, to within
        // a tick or two at each end.
        let grew = after.saturating_sub(before);
        let tolerance = Duration::from_millis(30);
        assert!(
            grew + tolerance >= waited && grew <= waited + tolerance,
            "the age grew by {grew:?} while {waited:?} passed"
        );
        // And it counts from the process's start, which was before this test's.
        assert!(after >= waited, "{after:?}");
        assert!(after < Duration::from_secs(3600), "{after:?}");
    }
}
