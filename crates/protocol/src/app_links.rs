//! Which app may open the web's reset links directly (Android App Links, iOS universal links):
//! the IDs the mobile apps are built and signed with, which the server publishes in
//! `/.well-known/assetlinks.json` and `/.well-known/apple-app-site-association`. This is the one
//! place they are written down; the server's flags only override them (for a staging build).

/// The Android application ID: the app's identifier in `src-tauri/tauri.conf.json` (a test of the
/// app keeps them equal), which `tauri android` makes the package name.
pub const ANDROID_PACKAGE: &str = "me.unipos.account";

/// SHA-256 fingerprints (`AA:BB:…`, upper case) of the certificates the Android app is signed
/// with: the upload key and, with Play App Signing, the key Google Play signs with (Play Console >
/// App integrity). None yet: they exist once the release keystore does
/// (`keytool -list -v -keystore upload.jks`). Until then Android asks which app opens a link.
pub const ANDROID_CERT_SHA256: &[&str] = &[];

/// The Apple Developer team ID (ten characters, Membership details in the developer account), the
/// prefix of the app ID. A placeholder until the team exists; the iOS build takes the real one
/// from `APPLE_DEVELOPMENT_TEAM`.
pub const APPLE_TEAM_ID: &str = "TEAMID";

/// The iOS bundle ID: the same identifier.
pub const APPLE_BUNDLE_ID: &str = ANDROID_PACKAGE;

/// `TEAMID.bundle.id`, as `apple-app-site-association` names the app.
pub fn apple_app_id() -> String {
    format!("{APPLE_TEAM_ID}.{APPLE_BUNDLE_ID}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_sha256_in_the_colon_separated_form_assetlinks_needs() {
        for fp in ANDROID_CERT_SHA256 {
            let bytes: Vec<&str> = fp.split(':').collect();
            assert_eq!(bytes.len(), 32, "{fp}");
            assert!(bytes.iter().all(|b| b.len() == 2
                && b.chars()
                    .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))));
        }
    }

    #[test]
    fn the_apple_app_id_is_the_team_then_the_bundle_id() {
        assert_eq!(apple_app_id(), "TEAMID.me.unipos.account");
        assert!(APPLE_TEAM_ID.len() == 10 || APPLE_TEAM_ID == "TEAMID");
    }
}
