//! The app's catalogue in one language, for reaching screens by what a member sees.

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::*;

/// The texts of the app's catalogue in one language (`ui/src/i18n/<lang>.json`), for reaching
/// screens by what a member sees in that language.
#[derive(Clone)]
pub struct Texts {
    language: String,
    pub(crate) catalogue: serde_json::Map<String, Value>,
}

impl Texts {
    pub fn load(language: &str) -> Result<Texts> {
        let path = repo_root().join(format!("ui/src/i18n/{language}.json"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("no catalogue at {}", path.display()))?;
        let catalogue = match serde_json::from_str(&text)? {
            Value::Object(map) => map,
            _ => bail!("{} is not a catalogue", path.display()),
        };
        Ok(Texts {
            language: language.to_owned(),
            catalogue,
        })
    }

    pub fn language(&self) -> &str {
        &self.language
    }

    /// The OS locale a member of this language has (`LANG`).
    pub fn locale(&self) -> &'static str {
        match self.language.as_str() {
            "ja" => "ja_JP.UTF-8",
            _ => "en_US.UTF-8",
        }
    }

    /// The text of `key`; a key the catalogue lacks is a mistake in the test.
    pub fn get(&self, key: &str) -> String {
        match self.catalogue.get(key).and_then(Value::as_str) {
            Some(text) => text.to_owned(),
            None => panic!("{key} is not in the {} catalogue", self.language),
        }
    }
}
