// Generates the app's permissions (one `allow-<command>` per command) and reads the capabilities
// from the top-level `capabilities/` folder.

include!("src/command_names.rs");

fn main() {
    println!("cargo:rerun-if-changed=../capabilities");
    println!("cargo:rerun-if-changed=permissions");
    println!("cargo:rerun-if-changed=src/command_names.rs");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("../capabilities/**/*.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMAND_NAMES));
    tauri_build::try_build(attributes).expect("the Tauri build step failed");
}
