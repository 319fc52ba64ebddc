//! `unipos`: the Unipos account app's flows from a terminal, for support staff and scripts.
//!
//! Every subcommand goes through `unipos-client`, the same code the app runs: the same rules,
//! the same error codes, the same keychain item. Exit status: 0 done/accepted, 1 refused or
//! failed, 2 usage error (or, for `report explain`, a text that is not a support report).

mod admin;
mod cli;
mod explain;
mod input;
mod output;
mod report;
mod run;

use std::process::ExitCode;

use clap::Parser;
use serde_json::json;

use crate::cli::Cli;
use crate::output::{print_json, report, stderr, stdout, with_ok};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if std::env::args_os().any(|a| a == "--json") {
                let message = e.kind().as_str().unwrap_or("invalid usage").to_owned();
                print_json(&json!({ "ok": false, "code": "usage", "message": message }));
            }
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let json_mode = cli.json;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            stderr(&format!("error: cannot start: {e}\n"));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run::run(cli)) {
        Ok(done) => {
            if json_mode {
                print_json(&with_ok(done.json, true));
            } else {
                stdout(&done.human);
            }
            ExitCode::SUCCESS
        }
        Err(failure) => report(failure, json_mode),
    }
}
