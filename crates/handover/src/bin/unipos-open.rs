//! `unipos-open [LINK]`: what the installed desktop entry runs, for a unipos: link and for the
//! menu alike. With the app running, the arguments go to it over D-Bus and this program leaves
//! (a few milliseconds, without loading GTK or WebKit); otherwise it becomes the app (`exec`),
//! with the same arguments.

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    if unipos_handover::to_running_app() {
        return ExitCode::SUCCESS;
    }
    let app = match std::env::current_exe() {
        Ok(me) => me.with_file_name(unipos_handover::APP_BINARY),
        Err(e) => {
            eprintln!("unipos-open: cannot tell where the Unipos app is installed ({e}); start it from {}", unipos_handover::APP_BINARY);
            return ExitCode::FAILURE;
        }
    };
    let mut command = std::process::Command::new(&app);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    let error = {
        use std::os::unix::process::CommandExt;
        command.exec()
    };
    #[cfg(not(unix))]
    let error = match command.status() {
        Ok(status) => return ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => e,
    };
    eprintln!(
        "unipos-open: could not start the Unipos app at {} ({error}); reinstall the app, or start {} directly",
        app.display(),
        unipos_handover::APP_BINARY
    );
    ExitCode::FAILURE
}
