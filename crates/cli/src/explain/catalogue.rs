//! The app's own English catalogue, `ui/src/i18n/en.json`, embedded so that there is one copy
//! of every text a member saw.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The app's English texts, as the screens show them.
const EN_JSON: &str = include_str!("../../../../ui/src/i18n/en.json");

#[allow(
    clippy::expect_used,
    reason = "en.json is compiled in, and the catalogue check keeps it a flat object"
)]
fn catalogue() -> &'static HashMap<String, String> {
    static CATALOGUE: OnceLock<HashMap<String, String>> = OnceLock::new();
    CATALOGUE.get_or_init(|| serde_json::from_str(EN_JSON).expect("en.json is a flat object"))
}

/// The app's English text for `key`, with `{placeholders}` filled as `t()` fills them; a
/// placeholder without a value stays as written.
pub fn text(key: &str, vars: &[(&str, &str)]) -> Option<String> {
    let mut out = catalogue().get(key)?.clone();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    Some(out)
}
