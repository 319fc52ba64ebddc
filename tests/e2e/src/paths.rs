//! Where things are: the checkout, the app and CLI under test, screenshots and driver logs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// The top of the checkout.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The app under test: `UNIPOS_E2E_APP`, else the debug build with production assets.
pub fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("UNIPOS_E2E_APP") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("target/debug/unipos-app"),
    };
    if !path.is_file() {
        bail!(
            "{} is missing: build it with production assets (scripts/e2e.sh does)",
            path.display()
        );
    }
    Ok(path)
}

/// Support staff's CLI, `unipos` (scripts/e2e.sh builds it).
pub fn cli_binary() -> Result<PathBuf> {
    let path = repo_root().join("target/debug/unipos");
    if !path.is_file() {
        bail!("{} is missing: cargo build -p unipos-cli", path.display());
    }
    Ok(path)
}

/// Where the tests leave screenshots of what they saw: `target/e2e-screenshots/NAME.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    repo_root().join(format!("target/e2e-screenshots/{name}.png"))
}

/// What WebKitWebDriver and the app print: `target/e2e-logs/driver-PORT.log`.
pub(crate) fn driver_log(port: u16) -> Result<std::fs::File> {
    let dir = repo_root().join("target/e2e-logs");
    std::fs::create_dir_all(&dir)?;
    Ok(std::fs::File::create(
        dir.join(format!("driver-{port}.log")),
    )?)
}
