//! axe-core over the screen as it is now: WCAG 2 A and AA rules, and best practices.

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde_json::{json, Value};

use crate::*;

impl Session {
    /// Runs axe-core (WCAG 2 A and AA rules, and best practices) over the screen as it is now.
    pub async fn axe(&self) -> Result<AxeReport> {
        // Injected once per page: the screens are one page, so this is once per app.
        let loaded = self
            .js("return typeof window.axe === 'object'", json!([]))
            .await?;
        if loaded != json!(true) {
            self.js(&format!("{};\nreturn true", axe_source()?), json!([]))
                .await?;
        }
        let found = self
            .cmd(
                "POST",
                "/execute/async",
                json!({
                    "script": "const done = arguments[arguments.length - 1];
                               axe.run(document, {resultTypes: ['violations']})
                                 .then(r => done({
                                   passes: r.passes.length,
                                   violations: r.violations.map(v => ({
                                     rule: v.id, impact: v.impact || 'minor', help: v.help,
                                     targets: v.nodes.map(n => n.target.join(' ')),
                                   })),
                                 }))
                                 .catch(e => done({error: String(e)}));",
                    "args": [],
                }),
            )
            .await?;
        if let Some(error) = found.get("error") {
            bail!("axe-core failed: {error}");
        }
        // An answer of another shape is an error, never "no violation".
        let text = |v: &Value, key: &str| -> Result<String> {
            v[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("axe-core answered a violation without {key:?}: {v}"))
        };
        let violations = found["violations"]
            .as_array()
            .ok_or_else(|| anyhow!("axe-core answered no list of violations: {found}"))?
            .iter()
            .map(|v| -> Result<AxeViolation> {
                let targets = v["targets"]
                    .as_array()
                    .ok_or_else(|| anyhow!("axe-core answered a violation without targets: {v}"))?
                    .iter()
                    .map(|t| {
                        t.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| anyhow!("not a target: {t}"))
                    })
                    .collect::<Result<_>>()?;
                Ok(AxeViolation {
                    rule: text(v, "rule")?,
                    impact: text(v, "impact")?,
                    help: text(v, "help")?,
                    targets,
                })
            })
            .collect::<Result<_>>()?;
        let passes = found["passes"]
            .as_u64()
            .ok_or_else(|| anyhow!("axe-core answered no count of passed rules: {found}"))?;
        // A run that checked nothing (an empty page, a context that matched no element) passed
        // no rule: that is not a screen without violations.
        ensure!(
            passes > 0,
            "axe-core passed no rule on this screen: {found}"
        );
        Ok(AxeReport {
            violations,
            passes: passes as usize,
        })
    }
}

/// axe-core, from the UI's npm packages (installed by `npm ci` in `ui/`).
pub(crate) fn axe_source() -> Result<String> {
    let path = repo_root().join("ui/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .with_context(|| format!("axe-core is needed at {} (npm ci in ui/)", path.display()))
}

/// One rule axe-core found broken, and where.
#[derive(Debug, Clone)]
pub struct AxeViolation {
    pub rule: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    pub help: String,
    /// CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

impl std::fmt::Display for AxeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {} ({})",
            self.impact,
            self.rule,
            self.help,
            self.targets.join(", ")
        )
    }
}

/// What axe-core found on one screen.
#[derive(Debug, Clone, Default)]
pub struct AxeReport {
    pub violations: Vec<AxeViolation>,
    /// How many rules applied and passed.
    pub passes: usize,
}

impl AxeReport {
    pub fn serious_or_critical(&self) -> impl Iterator<Item = &AxeViolation> {
        self.violations
            .iter()
            .filter(|v| v.impact == "serious" || v.impact == "critical")
    }

    /// `0 violations, 31 rules passed`, or the count by impact and the rules.
    pub fn summary(&self) -> String {
        let count = |impact: &str| {
            self.violations
                .iter()
                .filter(|v| v.impact == impact)
                .count()
        };
        let rules: Vec<String> = self
            .violations
            .iter()
            .map(|v| format!("{}:{}", v.impact, v.rule))
            .collect();
        format!(
            "critical {} serious {} moderate {} minor {}, {} rules passed{}",
            count("critical"),
            count("serious"),
            count("moderate"),
            count("minor"),
            self.passes,
            if rules.is_empty() {
                String::new()
            } else {
                format!(" [{}]", rules.join(" "))
            }
        )
    }
}
