//! The app against a bare Tauri app with the same plugins, measured in one run: time to the
//! first screen and memory after idling (alternating runs), binary size. The bare app runs twice
//! per round: as built (the goals' measure), and like for like, without WebKitGTK's accelerated
//! compositing, which this app turns off on Linux; and for the app alone,
//! a link opened while it runs until "Set a new password" shows, and memory after 50 rounds of
//! forgot → "Check your email" → back. `scripts/bench.sh` builds both apps and runs this under
//! Xvfb (1280×800) beside a throw-away keyring:
//!
//!   bench --app PATH --baseline PATH [--runs N] [--idle-secs S] [--loops N]
//!
//! Every figure is printed as it is measured; the table follows, and its last line is the
//! summary.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde_json::json;
use unipos_e2e::*;

/// The app's first screen is up: its window is shown (it is made hidden, and shown once its page
/// has loaded) and the "Log in" heading is in it.
const APP_READY: &str = "return document.visibilityState === 'visible'
    && [...document.querySelectorAll('h1,h2')]
        .some(h => h.offsetParent !== null && h.textContent.trim() === 'Log in')";
/// The bare app's first screen is up: its button is shown (its README's `//button[@id='greet']`).
const BASELINE_READY: &str = "const b = document.getElementById('greet');
    return document.visibilityState === 'visible' && !!(b && b.offsetParent !== null)";

struct Args {
    app: PathBuf,
    baseline: PathBuf,
    runs: usize,
    idle: Duration,
    loops: usize,
}

fn args() -> Result<Args> {
    let mut args = Args {
        app: PathBuf::new(),
        baseline: PathBuf::new(),
        runs: 7,
        idle: Duration::from_secs(5),
        loops: 50,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--app" => args.app = value()?.into(),
            "--baseline" => args.baseline = value()?.into(),
            "--runs" => args.runs = value()?.parse()?,
            "--idle-secs" => args.idle = Duration::from_secs(value()?.parse()?),
            "--loops" => args.loops = value()?.parse()?,
            _ => bail!("unknown argument {flag}"),
        }
    }
    if !args.app.is_file() || !args.baseline.is_file() {
        bail!("--app and --baseline must name the two built binaries");
    }
    Ok(args)
}

/// Proportional set size of `pid` and every process below it (the web view's), in KiB.
fn pss_of_tree(pid: i32) -> Result<u64> {
    Ok(pss_by_process(pid)?.iter().map(|(_, kib)| kib).sum())
}

/// The same, per process: its name and PSS in KiB.
fn pss_by_process(pid: i32) -> Result<Vec<(String, u64)>> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(child) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The fields after the command's closing parenthesis: state, then the parent's pid.
        let after = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
        if let Some(parent) = after.split(' ').nth(1).and_then(|p| p.parse::<i32>().ok()) {
            parents.push((child, parent));
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    let mut sizes = Vec::new();
    for pid in tree {
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .with_context(|| format!("reading the memory of process {pid}"))?;
        let pss = rollup
            .lines()
            .find_map(|l| l.strip_prefix("Pss:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        sizes.push((name.trim().to_owned(), pss));
    }
    Ok(sizes)
}

/// "unipos-app 88.1, WebKitWebProces 104.9 MiB".
fn by_process(sizes: &[(String, u64)]) -> String {
    let parts: Vec<String> = sizes
        .iter()
        .map(|(name, kib)| format!("{name} {:.1}", mib(*kib as f64)))
        .collect();
    format!("{} MiB", parts.join(", "))
}

/// An app started cold, side by side with the others.
struct Contender {
    name: &'static str,
    binary: PathBuf,
    /// Script that answers true once its first screen shows.
    ready: &'static str,
    /// Set for its launches only.
    env: Vec<(&'static str, &'static str)>,
    first_screen_ms: Vec<f64>,
    pss_mib: Vec<f64>,
}

impl Contender {
    fn new(
        name: &'static str,
        binary: &Path,
        ready: &'static str,
        env: Vec<(&'static str, &'static str)>,
    ) -> Contender {
        Contender {
            name,
            binary: binary.to_owned(),
            ready,
            env,
            first_screen_ms: Vec::new(),
            pss_mib: Vec::new(),
        }
    }
}

/// One cold start of a contender in a new home: from the session request (which launches it) until
/// `ready` holds; then, after `idle`, the memory of the app and its web view.
async fn start_once(
    contender: &Contender,
    api_url: &str,
    idle: Duration,
) -> Result<(Duration, u64)> {
    let (binary, ready) = (&contender.binary, contender.ready);
    let home = tempfile::tempdir()?;
    let mut env = app_env(home.path(), api_url);
    env.extend(
        contender
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut app = App::start_driver(binary.to_owned(), env, Size::Desktop).await?;
    let started = Instant::now();
    app.open_session(&[], PATIENCE).await?;
    loop {
        if app.js(ready, json!([])).await? == json!(true) {
            break;
        }
        if started.elapsed() > PATIENCE {
            bail!("{} showed no first screen", binary.display());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first_screen = started.elapsed();
    tokio::time::sleep(idle).await;
    let pid = app.pid().context("the app's process")?;
    let pss = pss_of_tree(pid)?;
    app.close().await?;
    Ok((first_screen, pss))
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The app running on Log in; a reset link opened (a second launch with the link, as the OS does)
/// until "Set a new password" shows, timed by the page itself.
async fn warm_link_once(backend: &Backend, binary: &Path, nth: usize) -> Result<Duration> {
    let home = tempfile::tempdir()?;
    let env = app_env(home.path(), backend.api_url());
    let mut app = App::start_driver(binary.to_owned(), env.clone(), Size::Desktop).await?;
    app.open_session(&[], PATIENCE).await?;
    app.wait_for_screen("Log in").await?;
    backend.forgot(DEMO_EMAIL).await?;
    let link = backend.reset_link(DEMO_EMAIL, nth).await?;
    app.js(
        "window.__resetShown = null;
         const shown = () => [...document.querySelectorAll('h1,h2')].some(h =>
             h.offsetParent !== null && h.textContent.trim() === 'Set a new password');
         new MutationObserver(() => {
             if (window.__resetShown === null && shown())
                 window.__resetShown = performance.timeOrigin + performance.now();
         }).observe(document.documentElement,
             {subtree: true, childList: true, characterData: true, attributes: true});
         return true",
        json!([]),
    )
    .await?;
    let launched = epoch_ms();
    let status = std::process::Command::new(binary)
        .arg(&link)
        .envs(env)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("the second launch exited with {status}");
    }
    let deadline = Instant::now() + PATIENCE;
    let shown = loop {
        let shown = app.js("return window.__resetShown", json!([])).await?;
        if let Some(at) = shown.as_f64() {
            break at;
        }
        if Instant::now() > deadline {
            bail!("the link did not reach \"Set a new password\"");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    app.close().await?;
    Ok(Duration::from_secs_f64(
        ((shown - launched) / 1000.0).max(0.0),
    ))
}

/// Rounds of forgot → "Check your email" → "Use another email address" (each to a new address,
/// so no cooldown answers), run inside the page as a member's taps would: WebDriver's own
/// polling would otherwise allocate in the page for every step and be counted as the app's.
const FORGOT_ROUNDS: &str = "const [rounds, done] = [arguments[0], arguments[arguments.length - 1]];
    const shown = title => [...document.querySelectorAll('h1')]
        .some(h => h.offsetParent !== null && h.textContent.trim() === title);
    const until = async title => {
        const deadline = Date.now() + 10000;
        while (!shown(title)) {
            if (Date.now() > deadline) throw new Error(`no screen ${title}`);
            await new Promise(r => setTimeout(r, 5));
        }
    };
    const button = name => [...document.querySelectorAll('button')]
        .find(b => b.offsetParent !== null && b.textContent.trim() === name);
    const email = () => document.getElementById(
        [...document.querySelectorAll('label')].find(l => l.textContent.trim() === 'Email address').htmlFor);
    (async () => {
        for (let i = 0; i < rounds; i++) {
            await until('Reset your password');
            const field = email();
            field.value = `bench-${Date.now()}-${i}@example.com`;
            field.dispatchEvent(new Event('input', {bubbles: true}));
            button('Send').click();
            await until('Check your email');
            button('Use another email address').click();
        }
        await until('Reset your password');
        done(true);
    })().catch(e => done(String(e)));";

/// PSS after idling on Log in, after one round (every screen of the loop seen once), and after
/// `loops` more rounds, each after `idle`.
async fn loops_memory(
    backend: &Backend,
    binary: &Path,
    loops: usize,
    idle: Duration,
) -> Result<[u64; 3]> {
    let home = tempfile::tempdir()?;
    let env = app_env(home.path(), backend.api_url());
    let mut app = App::start_driver(binary.to_owned(), env, Size::Desktop).await?;
    app.open_session(&[], PATIENCE).await?;
    app.wait_for_screen("Log in").await?;
    tokio::time::sleep(idle).await;
    let pid = app.pid().context("the app's process")?;
    let mut sizes = vec![pss_by_process(pid)?];
    app.click("Reset Password").await?;
    for rounds in [1, loops] {
        let outcome = app
            .js_async(FORGOT_ROUNDS, json!([rounds]), Duration::from_secs(600))
            .await?;
        if outcome != json!(true) {
            bail!("the forgot rounds stopped: {outcome}");
        }
        tokio::time::sleep(idle).await;
        sizes.push(pss_by_process(pid)?);
    }
    println!(
        "forgot rounds, by process: idle on Log in {}; after 1 round {}; after {loops} more {}",
        by_process(&sizes[0]),
        by_process(&sizes[1]),
        by_process(&sizes[2])
    );
    app.close().await?;
    let total = |sizes: &[(String, u64)]| sizes.iter().map(|(_, kib)| kib).sum();
    Ok([total(&sizes[0]), total(&sizes[1]), total(&sizes[2])])
}

fn stripped_size(binary: &Path) -> Result<u64> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("stripped");
    let status = std::process::Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(binary)
        .status()
        .context("strip (binutils)")?;
    if !status.success() {
        bail!("strip {} failed", binary.display());
    }
    Ok(std::fs::metadata(out)?.len())
}

/// Median, and the smallest and largest.
fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let backend = Backend::start().await?;
    // The bare app as built (the goals' measure), the same painting without accelerated
    // compositing as this app chooses (like for like), and this app.
    let mut contenders = [
        Contender::new("bare Tauri app", &args.baseline, BASELINE_READY, vec![]),
        Contender::new(
            "bare, no AC",
            &args.baseline,
            BASELINE_READY,
            vec![("WEBKIT_DISABLE_COMPOSITING_MODE", "1")],
        ),
        Contender::new("app", &args.app, APP_READY, vec![]),
    ];
    let n = contenders.len();
    for run in 0..args.runs {
        // Alternating, each run starting with the next one, so none always goes first.
        for k in 0..n {
            let contender = &mut contenders[(run + k) % n];
            let (ms, pss) = start_once(contender, backend.api_url(), args.idle).await?;
            println!(
                "run {}/{}: {:<14} first screen {:>6.1} ms, PSS {:>6.1} MiB",
                run + 1,
                args.runs,
                contender.name,
                ms.as_secs_f64() * 1000.0,
                mib(pss as f64)
            );
            contender.first_screen_ms.push(ms.as_secs_f64() * 1000.0);
            contender.pss_mib.push(mib(pss as f64));
        }
    }
    let mut link_ms = Vec::new();
    for run in 0..args.runs {
        // A new mail each time: an address may ask once a minute and five times an hour (of
        // the server's clock, which the bench moves on).
        backend.clock.advance(Duration::from_secs(12 * 60 + 1));
        let ms = warm_link_once(&backend, &args.app, run + 1).await?;
        println!(
            "run {}/{}: warm link → \"Set a new password\" {:>6.1} ms",
            run + 1,
            args.runs,
            ms.as_secs_f64() * 1000.0
        );
        link_ms.push(ms.as_secs_f64() * 1000.0);
    }
    let [before, warmed, after] = loops_memory(&backend, &args.app, args.loops, args.idle).await?;
    let growth = (after as f64 / before as f64 - 1.0) * 100.0;
    let steady = (after as f64 / warmed as f64 - 1.0) * 100.0;
    println!(
        "{} forgot loops: PSS {:.1} → {:.1} MiB ({growth:+.1} %); from after the first round {:.1} MiB ({steady:+.1} %)",
        args.loops,
        mib(before as f64),
        mib(after as f64),
        mib(warmed as f64)
    );
    let sizes = [
        (
            std::fs::metadata(&args.baseline)?.len(),
            stripped_size(&args.baseline)?,
        ),
        (
            std::fs::metadata(&args.app)?.len(),
            stripped_size(&args.app)?,
        ),
    ];

    let mb = |b: u64| b as f64 / 1e6;
    let [bare, like, app] = &contenders;
    let (b_ms, a_ms) = (spread(&bare.first_screen_ms), spread(&app.first_screen_ms));
    let (b_pss, a_pss) = (spread(&bare.pss_mib), spread(&app.pss_mib));
    let (l_ms, l_pss) = (spread(&like.first_screen_ms), spread(&like.pss_mib));
    let link = spread(&link_ms);
    let ratios = [
        a_ms.0 / b_ms.0,
        a_pss.0 / b_pss.0,
        sizes[1].1 as f64 / sizes[0].1 as f64,
    ];
    println!();
    println!(
        "| median of {} (min–max) | bare Tauri app | this app | ratio | goal |",
        args.runs
    );
    println!("|---|---|---|---|---|");
    println!(
        "| first screen | {:.0} ms ({:.0}–{:.0}) | {:.0} ms ({:.0}–{:.0}) | {:.2}× | ≤ 1.05× |",
        b_ms.0, b_ms.1, b_ms.2, a_ms.0, a_ms.1, a_ms.2, ratios[0]
    );
    println!(
        "| memory (PSS after {} s idle) | {:.0} MiB ({:.0}–{:.0}) | {:.0} MiB ({:.0}–{:.0}) | {:.2}× | ≤ 1.05× |",
        args.idle.as_secs(),
        b_pss.0,
        b_pss.1,
        b_pss.2,
        a_pss.0,
        a_pss.1,
        a_pss.2,
        ratios[1]
    );
    println!(
        "| like for like: the bare app without accelerated compositing, as this app paints | {:.0} ms ({:.0}–{:.0}), {:.0} MiB ({:.0}–{:.0}) | | {:.2}×, {:.2}× | |",
        l_ms.0,
        l_ms.1,
        l_ms.2,
        l_pss.0,
        l_pss.1,
        l_pss.2,
        a_ms.0 / l_ms.0,
        a_pss.0 / l_pss.0
    );
    println!(
        "| binary, stripped (as built) | {:.1} MB ({:.1}) | {:.1} MB ({:.1}) | {:.2}× | ≤ 1.10× |",
        mb(sizes[0].1),
        mb(sizes[0].0),
        mb(sizes[1].1),
        mb(sizes[1].0),
        ratios[2]
    );
    println!(
        "| warm link → \"Set a new password\" | | {:.0} ms ({:.0}–{:.0}) | | ≤ 100 ms |",
        link.0, link.1, link.2
    );
    println!(
        "| PSS after {} forgot loops (idle on Log in → after) | | {:.0} → {:.0} MiB ({growth:+.1} %) | | ≤ +5 % |",
        args.loops,
        mib(before as f64),
        mib(after as f64)
    );
    println!(
        "| the same, from after the first round (each screen seen once) | | {:.0} → {:.0} MiB ({steady:+.1} %) | | |",
        mib(warmed as f64),
        mib(after as f64)
    );
    let met = [
        ratios[0] <= 1.05,
        ratios[1] <= 1.05,
        ratios[2] <= 1.10,
        link.0 <= 100.0,
        growth <= 5.0,
    ]
    .iter()
    .filter(|m| **m)
    .count();
    println!();
    println!(
        "bench: first screen {:.2}×, memory {:.2}×, binary {:.2}×, warm link {:.0} ms, loops {growth:+.1} %: {met} of 5 goals met (like for like: first screen {:.2}×, memory {:.2}×)",
        ratios[0],
        ratios[1],
        ratios[2],
        link.0,
        a_ms.0 / l_ms.0,
        a_pss.0 / l_pss.0
    );
    Ok(())
}
