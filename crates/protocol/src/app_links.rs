//! Which app may open the web's reset links directly (Android App Links, iOS universal links):
//! the IDs the mobile apps are built and signed with, which the server publishes in
//! `/.well-known/assetlinks.json` and `/.well-known/apple-app-site-association`.
//!
//! The IDs here are placeholders until the release keystore and the Apple team exist; the real
//! ones come from configuration: the server's `--android-cert-sha256` and `--apple-app-id`
//! flags, and, for the app, the build-time settings `UNIPOS_ANDROID_CERT_SHA256` and
//! `UNIPOS_APPLE_TEAM_ID` (else Tauri's `APPLE_DEVELOPMENT_TEAM`). While an ID is a placeholder
//! the server answers its association file 404 and warns at start, and a mobile release build
//! of the app stops ([`check_mobile_release`], called by `src-tauri/build.rs`).
//!
//! This file has no dependencies: the app's build script includes it as it is.

/// The app's identifier: the one spelling of it for the Rust code (the keychain's service, the
/// single-instance bus name, the data folder the app's log is in, the mobile IDs below).
/// `src-tauri/tauri.conf.json` says it again for Tauri, and the scripts read it there; a test of
/// the app keeps the two equal.
pub const APP_IDENTIFIER: &str = "me.unipos.account";

/// The Android application ID: the app's identifier, which `tauri android` makes the package
/// name.
pub const ANDROID_PACKAGE: &str = APP_IDENTIFIER;

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
pub const APPLE_BUNDLE_ID: &str = APP_IDENTIFIER;

/// `TEAMID.bundle.id`, as `apple-app-site-association` names the app.
pub fn apple_app_id() -> String {
    format!("{APPLE_TEAM_ID}.{APPLE_BUNDLE_ID}")
}

/// A real Apple team ID: ten upper-case letters and digits (the placeholder is not one).
pub fn is_team_id(id: &str) -> bool {
    id.len() == 10
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A SHA-256 certificate fingerprint as `assetlinks.json` writes it: 32 upper-case hex bytes
/// joined by colons (`keytool -list -v` prints them so).
pub fn is_cert_fingerprint(fingerprint: &str) -> bool {
    let bytes: Vec<&str> = fingerprint.split(':').collect();
    bytes.len() == 32
        && bytes.iter().all(|b| {
            b.len() == 2
                && b.bytes()
                    .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
        })
}

/// The team ID of an iOS app ID (`TEAMID.bundle.id`); `None` when it has no bundle part.
pub fn team_of_app_id(app_id: &str) -> Option<&str> {
    app_id
        .split_once('.')
        .filter(|(team, bundle)| !team.is_empty() && !bundle.is_empty())
        .map(|(team, _)| team)
}

/// Fingerprints as a setting or flag lists them: comma-separated, blanks ignored.
pub fn cert_fingerprints(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether a build of the app for `target_os` (`CARGO_CFG_TARGET_OS`) in `profile` (`PROFILE`)
/// may go ahead with these IDs: a release for iOS needs a real team ID, a release for Android
/// at least one real signing-certificate fingerprint (each given one well-formed), or the
/// platform could not verify the web's reset links as the app's. `None` settings fall back to
/// the constants above. Debug and desktop builds always may.
pub fn check_mobile_release(
    target_os: &str,
    profile: &str,
    team_id: Option<&str>,
    cert_fingerprints_setting: Option<&str>,
) -> Result<(), String> {
    if profile != "release" {
        return Ok(());
    }
    match target_os {
        "ios" => {
            let team = team_id.map(str::trim).unwrap_or(APPLE_TEAM_ID);
            if is_team_id(team) {
                Ok(())
            } else {
                Err(format!(
                    "an iOS release needs the Apple team ID its universal links are verified \
                     with, and {team:?} is not one (ten upper-case letters and digits): set \
                     UNIPOS_APPLE_TEAM_ID (or APPLE_DEVELOPMENT_TEAM), and serve the same ID \
                     with the server's --apple-app-id <team ID>.{APPLE_BUNDLE_ID}"
                ))
            }
        }
        "android" => {
            let given = match cert_fingerprints_setting {
                Some(list) => cert_fingerprints(list),
                None => ANDROID_CERT_SHA256
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            };
            match given.iter().find(|f| !is_cert_fingerprint(f)) {
                _ if given.is_empty() => Err(
                    "an Android release needs the SHA-256 fingerprint of the certificate its \
                     App Links are verified with, and none is set: set \
                     UNIPOS_ANDROID_CERT_SHA256 to the upload key's (and Play App Signing's) \
                     fingerprints, AA:BB:…, comma-separated (keytool -list -v), and serve the \
                     same with the server's --android-cert-sha256"
                        .to_owned(),
                ),
                Some(bad) => Err(format!(
                    "UNIPOS_ANDROID_CERT_SHA256: {bad:?} is not a SHA-256 fingerprint \
                     (32 upper-case hex bytes joined by colons, as keytool -list -v prints)"
                )),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
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
        assert_eq!(
            team_of_app_id("ABCDE12345.me.unipos.account"),
            Some("ABCDE12345")
        );
        assert_eq!(team_of_app_id("me"), None);
    }

    const REAL_TEAM: &str = "ABCDE12345";
    const REAL_FINGERPRINT: &str = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:\
                                    42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";

    #[test]
    fn the_placeholders_are_not_real_ids() {
        assert!(!is_team_id(APPLE_TEAM_ID));
        assert!(is_team_id(REAL_TEAM));
        assert!(!is_team_id("abcde12345") && !is_team_id("ABCDE1234"));
        assert!(ANDROID_CERT_SHA256.iter().all(|f| is_cert_fingerprint(f)));
        assert!(is_cert_fingerprint(REAL_FINGERPRINT));
        assert!(!is_cert_fingerprint(&REAL_FINGERPRINT.to_lowercase()));
        assert!(!is_cert_fingerprint("AA:BB"));
        assert!(!is_cert_fingerprint(&REAL_FINGERPRINT.replace(':', "")));
    }

    #[test]
    fn a_mobile_release_build_stops_while_its_ids_are_placeholders() {
        // What src-tauri/build.rs is given by cargo and the build's settings.
        let ios = |team| check_mobile_release("ios", "release", team, None);
        let android = |certs| check_mobile_release("android", "release", None, certs);
        assert!(ios(None).unwrap_err().contains("UNIPOS_APPLE_TEAM_ID"));
        assert!(ios(Some("TEAMID")).is_err());
        assert_eq!(ios(Some(REAL_TEAM)), Ok(()));
        assert!(android(None)
            .unwrap_err()
            .contains("UNIPOS_ANDROID_CERT_SHA256"));
        assert!(android(Some(" , ")).is_err());
        assert!(android(Some("AA:BB")).unwrap_err().contains("\"AA:BB\""));
        assert_eq!(android(Some(REAL_FINGERPRINT)), Ok(()));
        assert!(android(Some(&format!("{REAL_FINGERPRINT},AA:BB"))).is_err());
    }

    #[test]
    fn debug_and_desktop_builds_are_unaffected() {
        for os in ["ios", "android"] {
            assert_eq!(check_mobile_release(os, "debug", None, None), Ok(()));
        }
        for os in ["linux", "macos", "windows"] {
            assert_eq!(check_mobile_release(os, "release", None, None), Ok(()));
        }
    }
}
