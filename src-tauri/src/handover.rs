//! A second launch on Linux (the OS opening a link while the app runs) hands its arguments to
//! the running app over D-Bus and leaves, before any of Tauri, GTK or WebKit starts: faster than
//! building the whole app first, and it leaves no threads behind to race the exit. The protocol
//! is `unipos-handover`'s, which the installed desktop entry's `unipos-open` speaks too, without
//! loading this program's libraries at all.

pub use unipos_handover::to_running_app;

#[cfg(test)]
mod tests {
    #[test]
    fn the_identifier_and_the_program_are_tauri_conf_jsons() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(config["identifier"], unipos_handover::IDENTIFIER);
        assert_eq!(config["mainBinaryName"], unipos_handover::APP_BINARY);
    }
}
